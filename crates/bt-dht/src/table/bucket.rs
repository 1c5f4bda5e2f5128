//! One k-bucket: at most [`K`] nodes, their liveness, and a cache of replacements.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::compact::NodeInfo;
use crate::id::NodeId;

/// Nodes per bucket (BEP 5: K = 8).
pub const K: usize = 8;

/// How long a node stays good after it last answered us, or after it last queried us once it
/// has answered us at least once (BEP 5: 15 minutes).
pub const GOOD_FOR: Duration = Duration::from_secs(15 * 60);

/// Unanswered queries in a row that make a node bad (BEP 5: "fails to respond to multiple
/// queries in a row"; a ping is tried once more before the node is given up).
pub const MAX_FAILURES: u32 = 2;

/// A node's standing (BEP 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeStatus {
    /// Answered one of our queries in the last 15 minutes, or has answered us before and sent
    /// us a query in the last 15 minutes.
    Good,
    /// Neither good nor known to be bad: worth a ping before it is replaced.
    Questionable,
    /// Failed to answer [`MAX_FAILURES`] queries in a row.
    Bad,
}

/// A node in the table and what we know of its liveness.
#[derive(Clone, Debug)]
pub struct NodeEntry {
    /// Its id and address.
    pub info: NodeInfo,
    /// When it last answered one of our queries (every entry has, once).
    pub last_response: Instant,
    /// When it last sent us a query.
    pub last_query: Option<Instant>,
    /// Our queries it failed to answer since its last answer.
    pub failures: u32,
}

impl NodeEntry {
    /// A node that just answered us.
    pub fn answered(info: NodeInfo, now: Instant) -> Self {
        Self {
            info,
            last_response: now,
            last_query: None,
            failures: 0,
        }
    }

    /// Its standing at `now`.
    pub fn status(&self, now: Instant) -> NodeStatus {
        let recent = |at: Instant| now.saturating_duration_since(at) < GOOD_FOR;
        if self.failures >= MAX_FAILURES {
            NodeStatus::Bad
        } else if recent(self.last_response) || self.last_query.is_some_and(recent) {
            NodeStatus::Good
        } else {
            NodeStatus::Questionable
        }
    }

    /// When we last heard from it at all.
    pub fn last_seen(&self) -> Instant {
        self.last_query
            .map_or(self.last_response, |query| query.max(self.last_response))
    }
}

/// A k-bucket: the nodes of one range of the id space, and nodes waiting to replace them.
#[derive(Clone, Debug)]
pub struct Bucket {
    /// At most [`K`].
    pub nodes: Vec<NodeEntry>,
    /// Nodes that answered us while the bucket was full of nodes not yet known to be bad;
    /// newest last, at most [`K`]. One takes the place of the first node to go bad.
    pub replacements: VecDeque<NodeEntry>,
    /// When a node was last added, answered us or queried us (BEP 5's "last changed"); a
    /// bucket unchanged for 15 minutes is refreshed with a lookup.
    pub last_changed: Instant,
}

impl Bucket {
    /// An empty bucket, changed `now`.
    pub fn new(now: Instant) -> Self {
        Self {
            nodes: Vec::with_capacity(K),
            replacements: VecDeque::new(),
            last_changed: now,
        }
    }

    /// The position of the node with this id.
    pub fn position(&self, id: &NodeId) -> Option<usize> {
        self.nodes.iter().position(|entry| entry.info.id == *id)
    }

    /// Keeps `entry` as a replacement (replacing an older copy of the same node; dropping the
    /// oldest replacement when there are [`K`]).
    pub fn add_replacement(&mut self, entry: NodeEntry) {
        self.replacements
            .retain(|waiting| waiting.info.id != entry.info.id);
        if self.replacements.len() == K {
            self.replacements.pop_front();
        }
        self.replacements.push_back(entry);
    }

    /// The index of a bad node, if any.
    pub fn bad_position(&self, now: Instant) -> Option<usize> {
        self.nodes
            .iter()
            .position(|entry| entry.status(now) == NodeStatus::Bad)
    }

    /// The questionable node heard from least recently: the one BEP 5 pings before letting a
    /// new node in.
    pub fn stalest_questionable(&self, now: Instant) -> Option<&NodeEntry> {
        self.nodes
            .iter()
            .filter(|entry| entry.status(now) == NodeStatus::Questionable)
            .min_by_key(|entry| entry.last_seen())
    }
}
