//! Our side of KRPC: queries in flight (two-byte transaction ids, time-outs, retries), the
//! answers to them, and the lookups they serve.
//!
//! An answer counts only if it comes from the address the query went to and carries a
//! transaction id we have in flight; anything else is dropped. A node that answers enters the
//! routing table (it is good by definition); one that does not, after its retries, gets a
//! failure in the table (two in a row make it bad). A lookup moves on at each answer or
//! failure; when it converges, an announce lookup sends `announce_peer` with each token to the
//! closest nodes that answered, and the outcome is queued once they all replied or timed out.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Instant;

use bt_proto::InfoHash;

use super::{Dht, LookupId, LookupOutcome, Transmit};
use crate::compact::{NodeInfo, is_usable};
use crate::id::NodeId;
use crate::krpc::{Body, ErrorReply, Message, Method, Query, Response};
use crate::lookup::{Contact, Lookup};
use crate::table::K;

/// What a lookup is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LookupKind {
    /// `find_node` (bootstrap, bucket refresh).
    FindNode,
    /// `get_peers`.
    GetPeers { info_hash: InfoHash },
    /// `get_peers`, then `announce_peer` to the closest.
    Announce {
        info_hash: InfoHash,
        port: u16,
        implied_port: bool,
    },
}

impl LookupKind {
    fn info_hash(&self) -> Option<InfoHash> {
        match self {
            LookupKind::FindNode => None,
            LookupKind::GetPeers { info_hash } | LookupKind::Announce { info_hash, .. } => {
                Some(*info_hash)
            }
        }
    }
}

/// A lookup and what it collected.
#[derive(Debug)]
pub(super) struct LookupTask {
    kind: LookupKind,
    lookup: Lookup,
    started: Instant,
    peers: Vec<SocketAddr>,
    seen_peers: HashSet<SocketAddr>,
    /// `announce_peer` queries in flight, once the search is over.
    announcing: Option<usize>,
    announced_to: usize,
}

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
    /// Starts a lookup from the closest nodes of the table (and the bootstrap addresses while
    /// the table is short of K nodes).
    pub(super) fn start_search(
        &mut self,
        kind: LookupKind,
        target: NodeId,
        now: Instant,
    ) -> LookupId {
        let nodes = self.table.closest(&target, K, now);
        let seeds = if self.table.len() < K {
            self.bootstrap.clone()
        } else {
            Vec::new()
        };
        self.start_lookup(kind, target, nodes, seeds, now)
    }

    pub(super) fn start_lookup(
        &mut self,
        kind: LookupKind,
        target: NodeId,
        nodes: Vec<NodeInfo>,
        seeds: Vec<SocketAddr>,
        now: Instant,
    ) -> LookupId {
        let id = LookupId(self.next_lookup);
        self.next_lookup += 1;
        let task = LookupTask {
            kind,
            lookup: Lookup::new(target, self.id, nodes, seeds),
            started: now,
            peers: Vec::new(),
            seen_peers: HashSet::new(),
            announcing: None,
            announced_to: 0,
        };
        self.lookups.insert(id, task);
        self.advance(id, now);
        id
    }

    /// Sends what the lookup wants sent next, and finishes it when it is over.
    fn advance(&mut self, id: LookupId, now: Instant) {
        let Some(task) = self.lookups.get_mut(&id) else {
            return;
        };
        if let Some(outstanding) = task.announcing {
            if outstanding == 0 {
                self.finish(id, false);
            }
            return;
        }
        let contacts = task.lookup.next_queries();
        let method = match task.kind {
            LookupKind::FindNode => Method::FindNode {
                target: task.lookup.target(),
            },
            LookupKind::GetPeers { info_hash } | LookupKind::Announce { info_hash, .. } => {
                Method::GetPeers { info_hash }
            }
        };
        let mut refused = false;
        for contact in contacts {
            let node = match contact {
                Contact::Node(info) => Some(info.id),
                Contact::Seed(_) => None,
            };
            let purpose = Purpose::Lookup {
                lookup: id,
                contact,
            };
            if !self.send_query(contact.addr(), node, method.clone(), purpose, now)
                && let Some(task) = self.lookups.get_mut(&id)
            {
                // Too many queries in flight: that contact counts as failed, and the lookup
                // moves on to the next (each failure removes a candidate, so this ends).
                task.lookup.on_failure(&contact);
                refused = true;
            }
        }
        if refused {
            return self.advance(id, now);
        }
        let Some(task) = self.lookups.get_mut(&id) else {
            return;
        };
        if !task.lookup.is_done() {
            return;
        }
        match task.kind {
            LookupKind::Announce {
                info_hash,
                port,
                implied_port,
            } => self.send_announces(id, info_hash, port, implied_port, now),
            _ => self.finish(id, false),
        }
    }

    /// `announce_peer` to the closest nodes that gave us a token.
    fn send_announces(
        &mut self,
        id: LookupId,
        info_hash: InfoHash,
        port: u16,
        implied_port: bool,
        now: Instant,
    ) {
        let Some(task) = self.lookups.get(&id) else {
            return;
        };
        let targets: Vec<(NodeInfo, Vec<u8>)> = task
            .lookup
            .closest_answered(K)
            .into_iter()
            .filter_map(|c| Some((c.info, c.token.clone()?)))
            .collect();
        let mut sent = 0;
        for (node, token) in targets {
            let method = Method::AnnouncePeer {
                info_hash,
                port,
                implied_port,
                token,
            };
            let purpose = Purpose::Announce { lookup: id };
            if self.send_query(node.addr, Some(node.id), method, purpose, now) {
                sent += 1;
            }
        }
        if let Some(task) = self.lookups.get_mut(&id) {
            task.announcing = Some(sent);
        }
        self.advance(id, now);
    }

    /// Queues the lookup's outcome and forgets it (answers still on their way only feed the
    /// table).
    fn finish(&mut self, id: LookupId, timed_out: bool) {
        let Some(task) = self.lookups.remove(&id) else {
            return;
        };
        self.outcomes.push_back(LookupOutcome {
            id,
            info_hash: task.kind.info_hash(),
            closest: task
                .lookup
                .closest_answered(K)
                .into_iter()
                .map(|c| c.info)
                .collect(),
            peers: task.peers,
            announced_to: task.announced_to,
            queries: task.lookup.queries_sent(),
            timed_out,
        });
    }

    /// Sends a query; false if too many are in flight already.
    fn send_query(
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
            body: Body::Query(Query {
                id: self.id,
                method,
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

    /// Ends the lookups that ran out of time, with what they found.
    pub(super) fn expire_lookups(&mut self, now: Instant) {
        let limit = self.settings.lookup_timeout;
        let late: Vec<LookupId> = self
            .lookups
            .iter()
            .filter(|(_, task)| now.saturating_duration_since(task.started) >= limit)
            .map(|(id, _)| *id)
            .collect();
        for id in late {
            self.finish(id, true);
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

    /// One `announce_peer` of the lookup got its answer (or none).
    fn announce_settled(&mut self, lookup: LookupId, now: Instant) {
        if let Some(task) = self.lookups.get_mut(&lookup)
            && let Some(outstanding) = task.announcing.as_mut()
        {
            *outstanding = outstanding.saturating_sub(1);
            self.advance(lookup, now);
        }
    }

    /// The node did not answer: a failure in the table, where a replacement may take its place.
    fn fail_node(&mut self, id: NodeId, addr: SocketAddr, now: Instant) {
        self.table.on_timeout(&NodeInfo { id, addr }, now);
    }
}
