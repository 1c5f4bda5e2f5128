//! Lookups as the node runs them: starting one, sending what it asks for, the announce that
//! ends an announce lookup, and its outcome.
//!
//! A lookup moves on at each answer or failure (`client` calls [`Dht::advance`]); when it
//! converges, an announce lookup sends `announce_peer` with each token to the closest nodes
//! that answered, and the outcome is queued once they all replied or timed out. A lookup out
//! of time ends with what it found.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Instant;

use bt_proto::InfoHash;

use super::client::Purpose;
use super::{Dht, LookupId, LookupOutcome};
use crate::compact::NodeInfo;
use crate::id::NodeId;
use crate::krpc::Method;
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
    pub(super) fn info_hash(&self) -> Option<InfoHash> {
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
    pub(super) kind: LookupKind,
    pub(super) lookup: Lookup,
    started: Instant,
    pub(super) peers: Vec<SocketAddr>,
    pub(super) seen_peers: HashSet<SocketAddr>,
    /// `announce_peer` queries in flight, once the search is over.
    announcing: Option<usize>,
    pub(super) announced_to: usize,
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
    pub(super) fn advance(&mut self, id: LookupId, now: Instant) {
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
    pub(super) fn finish(&mut self, id: LookupId, timed_out: bool) {
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

    /// One `announce_peer` of the lookup got its answer (or none).
    pub(super) fn announce_settled(&mut self, lookup: LookupId, now: Instant) {
        if let Some(task) = self.lookups.get_mut(&lookup)
            && let Some(outstanding) = task.announcing.as_mut()
        {
            *outstanding = outstanding.saturating_sub(1);
            self.advance(lookup, now);
        }
    }
}
