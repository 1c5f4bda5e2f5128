//! Answering queries (BEP 5).
//!
//! - `ping`: our id.
//! - `find_node`: the K closest good nodes we know to the target (of the asker's address
//!   family: `nodes` for IPv4, `nodes6` for IPv6; or, with a BEP 32 `want`, the lists it
//!   names, each written even when empty: a node bound to IPv4 answers a lone `n6` with an
//!   empty `nodes6`).
//! - `get_peers`: a token for the asker's IP, and the peers announced for the info-hash
//!   (`values`), or, if we have none, the closest nodes (as for `find_node`, `want` included).
//! - `announce_peer`: with a valid token for the asker's IP, stores the asker's IP with the
//!   given port (or the UDP source port, with `implied_port`); otherwise error 203.
//! - anything else: error 204; an unreadable query: error 203.
//!
//! Every query first passes the rate limits, and a query over them is dropped without a word.
//! A querying node we do not know, whose bucket has room for it, is pinged: if it answers,
//! it joins the table (only nodes that answered us are added). Nodes that say they are
//! read-only (BEP 43) are not pinged.

use std::net::SocketAddr;
use std::time::Instant;

use super::Dht;
use crate::compact::{NodeInfo, is_usable};
use crate::id::NodeId;
use crate::krpc::{self, Body, ErrorReply, Message, Method, Query, Response, Want, code};
use crate::table::K;

impl Dht {
    /// A datagram arrived from `from`.
    pub fn handle(&mut self, bytes: &[u8], from: SocketAddr, now: Instant) {
        let message = match krpc::decode(bytes) {
            Ok(message) => message,
            Err(failure) => {
                self.stats.dropped += 1;
                if let Some(transaction) = failure.query_transaction {
                    self.stats.queries_received += 1;
                    if self.limiter.allow(from.ip(), now) {
                        let text = format!("protocol error: {}", failure.error);
                        self.reply_error(from, transaction, code::PROTOCOL, text);
                    } else {
                        self.stats.queries_rate_limited += 1;
                    }
                }
                return;
            }
        };
        match message.body {
            Body::Query(query) => {
                self.serve(message.transaction, query, message.read_only, from, now);
            }
            Body::Response(response) => {
                self.on_response(&message.transaction, response, from, now);
            }
            Body::Error(error) => self.on_error(&message.transaction, error, from, now),
        }
    }

    fn serve(
        &mut self,
        transaction: Vec<u8>,
        query: Query,
        read_only: bool,
        from: SocketAddr,
        now: Instant,
    ) {
        self.stats.queries_received += 1;
        if !self.limiter.allow(from.ip(), now) {
            self.stats.queries_rate_limited += 1;
            return;
        }
        if query.id == self.id {
            // Our own id from elsewhere: a node that copies ids, or our own echo.
            self.stats.dropped += 1;
            return;
        }
        let sender = NodeInfo {
            id: query.id,
            addr: from,
        };
        if !read_only
            && !self.table.on_query(&sender, now)
            && self.table.would_accept(&sender.id, now)
            && is_usable(&from)
        {
            self.send_ping(from, Some(sender.id), now);
        }
        let want = query.want;
        let response = match query.method {
            Method::Ping => Response::id_only(self.id),
            Method::FindNode { target } => Response {
                nodes: self.closest_for(&target, from, want, now),
                node_lists: want,
                ..Response::id_only(self.id)
            },
            Method::GetPeers { info_hash } => {
                let max = self.settings.max_peers_reply;
                let values = self.store.peers(&info_hash, max, now, &mut self.rng);
                let (nodes, node_lists) = if values.is_empty() {
                    (self.closest_for(&info_hash.into(), from, want, now), want)
                } else {
                    (Vec::new(), None)
                };
                Response {
                    id: self.id,
                    nodes,
                    node_lists,
                    values,
                    token: Some(self.tokens.token_for(from.ip()).to_vec()),
                }
            }
            Method::AnnouncePeer {
                info_hash,
                port,
                implied_port,
                token,
            } => {
                if !self.tokens.is_valid(&token, from.ip()) {
                    let text = "bad token".to_owned();
                    return self.reply_error(from, transaction, code::PROTOCOL, text);
                }
                let port = if implied_port { from.port() } else { port };
                let peer = SocketAddr::new(from.ip(), port);
                if !is_usable(&peer) {
                    let text = "invalid port".to_owned();
                    return self.reply_error(from, transaction, code::PROTOCOL, text);
                }
                if !self.store.announce(info_hash, peer, now) {
                    let text = "peer store full".to_owned();
                    return self.reply_error(from, transaction, code::SERVER, text);
                }
                Response::id_only(self.id)
            }
            Method::Unknown(_) => {
                let text = "method unknown".to_owned();
                return self.reply_error(from, transaction, code::METHOD_UNKNOWN, text);
            }
        };
        self.reply(from, transaction, Body::Response(response));
    }

    /// The K closest nodes to `target` of each address family the asker wants (BEP 32
    /// `want`), or of its own family.
    fn closest_for(
        &self,
        target: &NodeId,
        asker: SocketAddr,
        want: Option<Want>,
        now: Instant,
    ) -> Vec<NodeInfo> {
        let want = want.unwrap_or(Want::family(asker.is_ipv6()));
        let nodes = self.table.closest(target, 2 * K, now);
        let (v6, v4): (Vec<NodeInfo>, Vec<NodeInfo>) =
            nodes.into_iter().partition(|node| node.addr.is_ipv6());
        let mut wanted = Vec::new();
        for (family, is_v6) in [(v4, false), (v6, true)] {
            if want.wants(is_v6) {
                wanted.extend(family.into_iter().take(K));
            }
        }
        wanted
    }

    fn reply_error(&mut self, to: SocketAddr, transaction: Vec<u8>, code: i64, message: String) {
        self.reply(to, transaction, Body::Error(ErrorReply { code, message }));
    }

    fn reply(&mut self, to: SocketAddr, transaction: Vec<u8>, body: Body) {
        let message = Message {
            transaction,
            version: None,
            read_only: false,
            body,
        };
        self.transmit(to, message.encode());
    }
}
