//! Our side of KRPC: queries in flight (two-byte transaction ids, time-outs, retries) and the
//! answers to them, which feed the table and the lookups (`lookups`).
//!
//! An answer counts only if it comes from the address the query went to and carries a
//! transaction id we have in flight; anything else is dropped. A node that answers enters the
//! routing table (it is good by definition); one that does not, after its retries, gets a
//! failure in the table (two in a row make it bad).

use std::net::SocketAddr;
use std::time::Instant;

use super::{Dht, LookupId, Transmit};
use crate::compact::{NodeInfo, is_usable};
use crate::id::NodeId;
use crate::krpc::{Body, ErrorReply, Message, Method, Query, Response};
use crate::lookup::Contact;

/// Why a query was sent.
#[derive(Clone, Copy, Debug)]
pub(super) enum Purpose {
    /// A step of a lookup.
    Lookup { lookup: LookupId, contact: Contact },
    /// An `announce_peer` at the end of an announce lookup.
    Announce { lookup: LookupId },
    /// A ping: to verify a node that queried us, or one of the table's questionable nodes.
    Ping,
}

/// A query in flight.
#[derive(Debug)]
pub(super) struct Pending {
    to: SocketAddr,
    /// The id we believe the node has, if we know it.
    node: Option<NodeId>,
    bytes: Vec<u8>,
    sent_at: Instant,
    retries_left: u32,
    purpose: Purpose,
}

impl Dht {
    /// Sends a query; false if too many are in flight already.
    pub(super) fn send_query(
        &mut self,
        to: SocketAddr,
        node: Option<NodeId>,
        method: Method,
        purpose: Purpose,
        now: Instant,
    ) -> bool {
        if self.pending.len() >= self.settings.max_pending {
            return false;
        }
        let mut transaction = self.next_transaction;
        while self.pending.contains_key(&transaction) {
            transaction = transaction.wrapping_add(1);
        }
        self.next_transaction = transaction.wrapping_add(1);
        let message = Message {
            transaction: transaction.to_be_bytes().to_vec(),
            version: None,
            read_only: false,
            // No `want`: the nodes of our own address family are what we can use.
            body: Body::Query(Query {
                id: self.id,
                method,
                want: None,
            }),
        };
        let bytes = message.encode();
        self.transmit(to, bytes.clone());
        self.pending.insert(
            transaction,
            Pending {
                to,
                node,
                bytes,
                sent_at: now,
                retries_left: self.settings.query_retries,
                purpose,
            },
        );
        true
    }

    /// Pings `addr` unless a ping to it is in flight already.
    pub(super) fn send_ping(&mut self, addr: SocketAddr, node: Option<NodeId>, now: Instant) {
        if is_usable(&addr)
            && self.pinging.insert(addr)
            && !self.send_query(addr, node, Method::Ping, Purpose::Ping, now)
        {
            self.pinging.remove(&addr);
        }
    }

    pub(super) fn transmit(&mut self, to: SocketAddr, bytes: Vec<u8>) {
        self.stats.sent += 1;
        self.outbox.push_back(Transmit { to, bytes });
    }

    /// Takes the query in flight that `transaction` from `from` answers.
    fn take_pending(&mut self, transaction: &[u8], from: SocketAddr) -> Option<Pending> {
        let key = u16::from_be_bytes(transaction.try_into().ok()?);
        if self.pending.get(&key)?.to != from {
            return None;
        }
        let pending = self.pending.remove(&key)?;
        if let Purpose::Ping = pending.purpose {
            self.pinging.remove(&pending.to);
        }
        Some(pending)
    }

    /// An answer to one of our queries.
    pub(super) fn on_response(
        &mut self,
        transaction: &[u8],
        response: Response,
        from: SocketAddr,
        now: Instant,
    ) {
        let Some(pending) = self.take_pending(transaction, from) else {
            self.stats.dropped += 1;
            return;
        };
        self.stats.responses_received += 1;
        let responder = NodeInfo {
            id: response.id,
            addr: from,
        };
        if let Some(expected) = pending.node
            && expected != response.id
        {
            // The address now answers under another id: the old entry is stale.
            self.fail_node(expected, from, now);
        }
        self.learn(responder, now);
        match pending.purpose {
            Purpose::Lookup { lookup, contact } => {
                let Some(task) = self.lookups.get_mut(&lookup) else {
                    return;
                };
                task.lookup
                    .on_response(&contact, responder, &response.nodes, response.token);
                if task.kind.info_hash().is_some() {
                    let room = self.settings.max_peers_per_lookup;
                    for peer in response.values.into_iter().filter(is_usable) {
                        if task.peers.len() < room && task.seen_peers.insert(peer) {
                            task.peers.push(peer);
                        }
                    }
                }
                self.advance(lookup, now);
            }
            Purpose::Announce { lookup } => {
                if let Some(task) = self.lookups.get_mut(&lookup) {
                    task.announced_to += 1;
                }
                self.announce_settled(lookup, now);
            }
            Purpose::Ping => {}
        }
    }

    /// An error reply to one of our queries: the node is alive, but the query failed.
    pub(super) fn on_error(
        &mut self,
        transaction: &[u8],
        _error: ErrorReply,
        from: SocketAddr,
        now: Instant,
    ) {
        let Some(pending) = self.take_pending(transaction, from) else {
            self.stats.dropped += 1;
            return;
        };
        self.stats.errors_received += 1;
        self.query_failed(pending.purpose, now);
    }

    /// Resends or gives up the queries whose time is up.
    pub(super) fn expire_queries(&mut self, now: Instant) {
        let timeout = self.settings.query_timeout;
        let due: Vec<u16> = self
            .pending
            .iter()
            .filter(|(_, p)| now.saturating_duration_since(p.sent_at) >= timeout)
            .map(|(key, _)| *key)
            .collect();
        for key in due {
            let Some(pending) = self.pending.get_mut(&key) else {
                continue;
            };
            if pending.retries_left > 0 {
                pending.retries_left -= 1;
                pending.sent_at = now;
                let (to, bytes) = (pending.to, pending.bytes.clone());
                self.transmit(to, bytes);
                continue;
            }
            let Some(pending) = self.pending.remove(&key) else {
                continue;
            };
            self.stats.timeouts += 1;
            if let Purpose::Ping = pending.purpose {
                self.pinging.remove(&pending.to);
            }
            if let Some(node) = pending.node {
                self.fail_node(node, pending.to, now);
            }
            self.query_failed(pending.purpose, now);
        }
    }

    fn query_failed(&mut self, purpose: Purpose, now: Instant) {
        match purpose {
            Purpose::Lookup { lookup, contact } => {
                if let Some(task) = self.lookups.get_mut(&lookup) {
                    task.lookup.on_failure(&contact);
                    self.advance(lookup, now);
                }
            }
            Purpose::Announce { lookup } => self.announce_settled(lookup, now),
            Purpose::Ping => {}
        }
    }

    /// The node did not answer: a failure in the table, where a replacement may take its place.
    fn fail_node(&mut self, id: NodeId, addr: SocketAddr, now: Instant) {
        self.table.on_timeout(&NodeInfo { id, addr }, now);
    }
}
