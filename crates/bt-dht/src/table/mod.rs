//! The routing table (BEP 5): k-buckets over the id space, detailed near our own id.
//!
//! The table starts as one bucket covering the whole space. A full bucket that covers our own
//! id splits in two; any other full bucket never splits, so the table knows many nodes close to
//! us and few far away. Because our id never changes, the buckets are easiest held by depth:
//! bucket `i` (for all but the last) holds the nodes whose ids share exactly `i` leading bits
//! with ours, and the last bucket, the one that covers our id, holds everything deeper.
//! Splitting it moves the nodes that share more bits into a new last bucket.
//!
//! Only nodes that answered one of our queries are added, so every node enters good. When a
//! node's bucket is full: if a node there is bad, the newcomer takes its place; if some are
//! questionable, the newcomer waits in the bucket's replacement cache and the caller pings the
//! questionable node heard from least recently ([`RoutingTable::nodes_to_ping`]); a node that
//! fails [`MAX_FAILURES`] queries in a row turns bad and the newest replacement takes its
//! place. A bucket full of good nodes drops the newcomer.
//!
//! Time is passed in (`now`), so everything here is plain and testable.
//!
//! # Layout
//! - `bucket`: [`Bucket`], [`NodeEntry`], [`NodeStatus`] and the constants of BEP 5.

mod bucket;
#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use rand::Rng;

pub use bucket::{Bucket, GOOD_FOR, K, MAX_FAILURES, NodeEntry, NodeStatus};

use crate::compact::{NodeInfo, is_usable};
use crate::id::{ID_LEN, NodeId};

/// The most buckets: one per bit of the id space.
const MAX_BUCKETS: usize = ID_LEN * 8;

/// What became of a node offered to the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insertion {
    /// A new entry (perhaps in place of a bad node).
    Added,
    /// It was already there: its liveness was refreshed.
    Refreshed,
    /// The bucket is full but holds questionable nodes: the node waits as a replacement until
    /// one of them fails its pings.
    Waiting,
    /// The bucket is full of good nodes: dropped (BEP 5).
    Full,
    /// Not admissible: our own id, an unusable address, or a known id at another address.
    Refused,
}

/// The routing table of one node.
#[derive(Clone, Debug)]
pub struct RoutingTable {
    own: NodeId,
    /// Never empty; the last bucket covers `own`.
    buckets: Vec<Bucket>,
}

impl RoutingTable {
    /// An empty table around our id.
    pub fn new(own: NodeId, now: Instant) -> Self {
        Self {
            own,
            buckets: vec![Bucket::new(now)],
        }
    }

    /// Our own id.
    pub fn own_id(&self) -> NodeId {
        self.own
    }

    /// Nodes in the table.
    pub fn len(&self) -> usize {
        self.buckets.iter().map(|bucket| bucket.nodes.len()).sum()
    }

    /// Whether the table holds no node.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Nodes that are good at `now`.
    pub fn good_len(&self, now: Instant) -> usize {
        self.entries()
            .filter(|entry| entry.status(now) == NodeStatus::Good)
            .count()
    }

    /// How many buckets the table has split into.
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    /// The buckets, shallowest first.
    pub fn buckets(&self) -> &[Bucket] {
        &self.buckets
    }

    /// Every node in the table.
    pub fn entries(&self) -> impl Iterator<Item = &NodeEntry> {
        self.buckets.iter().flat_map(|bucket| bucket.nodes.iter())
    }

    /// The entry of the node with this id, if it is in the table.
    pub fn get(&self, id: &NodeId) -> Option<&NodeEntry> {
        let bucket = self.buckets.get(self.bucket_index(id))?;
        bucket.nodes.iter().find(|entry| entry.info.id == *id)
    }

    /// The node answered one of our queries: add it or refresh it.
    pub fn on_response(&mut self, info: NodeInfo, now: Instant) -> Insertion {
        if info.id == self.own || !is_usable(&info.addr) {
            return Insertion::Refused;
        }
        loop {
            let index = self.bucket_index(&info.id);
            let can_split = index + 1 == self.buckets.len() && self.buckets.len() < MAX_BUCKETS;
            let Some(bucket) = self.buckets.get_mut(index) else {
                return Insertion::Refused;
            };
            if let Some(at) = bucket.position(&info.id) {
                let entry = &mut bucket.nodes[at];
                if entry.info.addr != info.addr {
                    // Keep the address we verified; a node that really moved comes back once
                    // the old entry has gone bad.
                    return Insertion::Refused;
                }
                entry.last_response = now;
                entry.failures = 0;
                bucket.last_changed = now;
                return Insertion::Refreshed;
            }
            if bucket.nodes.len() < K {
                bucket.nodes.push(NodeEntry::answered(info, now));
                bucket.last_changed = now;
                return Insertion::Added;
            }
            if can_split {
                self.split_last(now);
                continue;
            }
            if let Some(bad) = bucket.bad_position(now) {
                bucket.nodes[bad] = NodeEntry::answered(info, now);
                bucket.last_changed = now;
                return Insertion::Added;
            }
            if bucket.stalest_questionable(now).is_some() {
                bucket.add_replacement(NodeEntry::answered(info, now));
                return Insertion::Waiting;
            }
            return Insertion::Full;
        }
    }

    /// The node sent us a query. A node in the table counts as heard from (and its bucket as
    /// changed); returns whether it is in the table.
    pub fn on_query(&mut self, info: &NodeInfo, now: Instant) -> bool {
        let index = self.bucket_index(&info.id);
        let Some(bucket) = self.buckets.get_mut(index) else {
            return false;
        };
        let Some(at) = bucket.position(&info.id) else {
            return false;
        };
        if bucket.nodes[at].info.addr != info.addr {
            return false;
        }
        bucket.nodes[at].last_query = Some(now);
        bucket.last_changed = now;
        true
    }

    /// Whether a node with this id would get a place (or a replacement slot) if it answered
    /// us: worth a ping to find out when it first queries us.
    pub fn would_accept(&self, id: &NodeId, now: Instant) -> bool {
        if *id == self.own {
            return false;
        }
        let index = self.bucket_index(id);
        let Some(bucket) = self.buckets.get(index) else {
            return false;
        };
        bucket.position(id).is_none()
            && (bucket.nodes.len() < K
                || index + 1 == self.buckets.len() && self.buckets.len() < MAX_BUCKETS
                || bucket.bad_position(now).is_some()
                || bucket.stalest_questionable(now).is_some())
    }

    /// One of our queries to this node went unanswered. When that makes it bad and its bucket
    /// has a replacement waiting, the replacement takes its place and is returned.
    pub fn on_timeout(&mut self, info: &NodeInfo, now: Instant) -> Option<NodeInfo> {
        let index = self.bucket_index(&info.id);
        let bucket = self.buckets.get_mut(index)?;
        let at = bucket.position(&info.id)?;
        if bucket.nodes[at].info.addr != info.addr {
            return None;
        }
        bucket.nodes[at].failures += 1;
        if bucket.nodes[at].status(now) != NodeStatus::Bad {
            return None;
        }
        let replacement = bucket.replacements.pop_back()?;
        let promoted = replacement.info;
        bucket.nodes[at] = replacement;
        bucket.last_changed = now;
        Some(promoted)
    }

    /// Up to `count` nodes closest to `target`: good nodes first (BEP 5 answers with the closest
    /// good nodes), then, if there are too few, questionable ones; never bad ones.
    pub fn closest(&self, target: &NodeId, count: usize, now: Instant) -> Vec<NodeInfo> {
        let mut good = Vec::new();
        let mut questionable = Vec::new();
        for entry in self.entries() {
            match entry.status(now) {
                NodeStatus::Good => good.push(entry.info),
                NodeStatus::Questionable => questionable.push(entry.info),
                NodeStatus::Bad => {}
            }
        }
        for list in [&mut good, &mut questionable] {
            list.sort_by_key(|info| info.id.distance(target));
        }
        good.extend(questionable);
        good.truncate(count);
        good
    }

    /// Per bucket with replacements waiting, its questionable node heard from least recently:
    /// the nodes to ping (again) so that a bad one can make room.
    pub fn nodes_to_ping(&self, now: Instant) -> Vec<NodeInfo> {
        self.buckets
            .iter()
            .filter(|bucket| !bucket.replacements.is_empty())
            .filter_map(|bucket| bucket.stalest_questionable(now))
            .map(|entry| entry.info)
            .collect()
    }

    /// Random targets in each bucket unchanged for `interval` (BEP 5: 15 minutes), for refresh
    /// lookups; those buckets count as changed from now on, so each is refreshed once per
    /// interval.
    pub fn refresh_targets(
        &mut self,
        interval: Duration,
        now: Instant,
        rng: &mut impl Rng,
    ) -> Vec<NodeId> {
        let own = self.own;
        let mut targets = Vec::new();
        for (depth, bucket) in self.buckets.iter_mut().enumerate() {
            if now.saturating_duration_since(bucket.last_changed) >= interval {
                bucket.last_changed = now;
                // For the last bucket this falls inside it too: it shares at least `depth` bits.
                targets.push(own.random_with_prefix(depth, rng));
            }
        }
        targets
    }

    /// The bucket that covers `id`.
    fn bucket_index(&self, id: &NodeId) -> usize {
        self.own
            .common_prefix_len(id)
            .min(self.buckets.len().saturating_sub(1))
    }

    /// Splits the last bucket (the one covering our id) in two.
    fn split_last(&mut self, now: Instant) {
        let depth = self.buckets.len() - 1;
        let own = self.own;
        let deeper = |entry: &NodeEntry| own.common_prefix_len(&entry.info.id) > depth;
        let mut next = Bucket::new(now);
        if let Some(last) = self.buckets.last_mut() {
            let (moved, kept): (Vec<_>, Vec<_>) = last.nodes.drain(..).partition(deeper);
            last.nodes = kept;
            next.nodes = moved;
            let (moved, kept): (Vec<_>, Vec<_>) = last.replacements.drain(..).partition(deeper);
            last.replacements = kept.into();
            next.replacements = moved.into();
            next.last_changed = last.last_changed;
        }
        self.buckets.push(next);
    }
}
