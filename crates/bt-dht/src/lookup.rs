//! The iterative lookup of BEP 5 (Kademlia's node lookup), as a plain state machine.
//!
//! A lookup walks towards a target id: it asks the closest nodes it knows (at most [`ALPHA`]
//! queries in flight), learns closer nodes from their answers, and asks those in turn. It ends
//! when each of the [`K`] closest nodes it knows (leaving out those that failed) has answered,
//! that is when no answer brings a closer node worth asking; or after [`MAX_QUERIES`] queries.
//! `find_node` and `get_peers` lookups walk the same way; the caller decides which query to
//! send and what to do with the answers.
//!
//! A lookup may also start from bare addresses whose ids are unknown (bootstrap routers, or
//! nodes from a saved table): those *seeds* are asked first and join the candidates under the
//! id they answer with.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::net::SocketAddr;

use crate::compact::{NodeInfo, is_usable};
use crate::id::{Distance, NodeId};
use crate::table::K;

/// Queries in flight at once (Kademlia's α).
pub const ALPHA: usize = 3;
/// Queries one lookup sends at most, whatever the answers say.
pub const MAX_QUERIES: usize = 128;
/// Candidates kept; the farthest beyond this are forgotten.
pub const MAX_CANDIDATES: usize = 64;

/// Someone to ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Contact {
    /// A node whose id we know.
    Node(NodeInfo),
    /// An address whose id we will learn from its answer.
    Seed(SocketAddr),
}

impl Contact {
    /// Where to send the query.
    pub fn addr(&self) -> SocketAddr {
        match self {
            Contact::Node(info) => info.addr,
            Contact::Seed(addr) => *addr,
        }
    }
}

/// Where a candidate stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CandidateState {
    /// Not asked yet.
    Waiting,
    /// Asked; no answer yet.
    Asked,
    /// Answered.
    Answered,
    /// Did not answer, or answered with an error.
    Failed,
}

/// A node the lookup knows of.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// Its id and address.
    pub info: NodeInfo,
    /// Whether it was asked and how that went.
    pub state: CandidateState,
    /// The token of its `get_peers` answer, for `announce_peer`.
    pub token: Option<Vec<u8>>,
}

/// One lookup in progress.
#[derive(Clone, Debug)]
pub struct Lookup {
    target: NodeId,
    /// Our own id: never a candidate.
    own: NodeId,
    candidates: BTreeMap<Distance, Candidate>,
    seeds: VecDeque<SocketAddr>,
    /// Addresses asked already (a node is asked once, whatever id it claims).
    contacted: HashSet<SocketAddr>,
    in_flight: usize,
    /// Of `in_flight`, the queries to seeds.
    seeds_in_flight: usize,
    queries_sent: usize,
}

impl Lookup {
    /// A lookup of `target`, starting from `nodes` (usually the closest in our table) and
    /// `seeds`.
    pub fn new(
        target: NodeId,
        own: NodeId,
        nodes: impl IntoIterator<Item = NodeInfo>,
        seeds: impl IntoIterator<Item = SocketAddr>,
    ) -> Self {
        let mut lookup = Self {
            target,
            own,
            candidates: BTreeMap::new(),
            seeds: seeds.into_iter().filter(is_usable).collect(),
            contacted: HashSet::new(),
            in_flight: 0,
            seeds_in_flight: 0,
            queries_sent: 0,
        };
        for node in nodes {
            lookup.add_candidate(node, CandidateState::Waiting);
        }
        lookup
    }

    /// The id sought.
    pub fn target(&self) -> NodeId {
        self.target
    }

    /// Queries sent so far.
    pub fn queries_sent(&self) -> usize {
        self.queries_sent
    }

    /// Whom to ask now, marked as asked: seeds first, then the closest candidates not yet
    /// asked among the [`K`] closest that have not failed; never more than [`ALPHA`] in flight.
    pub fn next_queries(&mut self) -> Vec<Contact> {
        let mut out = Vec::new();
        while self.in_flight < ALPHA && self.queries_sent < MAX_QUERIES {
            let contact = if let Some(seed) = self.next_seed() {
                self.seeds_in_flight += 1;
                Contact::Seed(seed)
            } else if let Some(candidate) = self.next_candidate() {
                candidate.state = CandidateState::Asked;
                Contact::Node(candidate.info)
            } else {
                break;
            };
            self.contacted.insert(contact.addr());
            self.in_flight += 1;
            self.queries_sent += 1;
            out.push(contact);
        }
        out
    }

    /// `contact` answered as node `responder`, naming `nodes` close to the target, and perhaps
    /// a token (`get_peers`).
    pub fn on_response(
        &mut self,
        contact: &Contact,
        responder: NodeInfo,
        nodes: &[NodeInfo],
        token: Option<Vec<u8>>,
    ) {
        self.settle(contact);
        if let Contact::Node(asked) = contact
            && asked.id != responder.id
        {
            // Not the node we were told of: the old entry is wrong, the answer still counts.
            self.set_state(&asked.id, CandidateState::Failed);
        }
        self.add_candidate(responder, CandidateState::Answered);
        if let Some(candidate) = self.candidate_mut(&responder.id)
            && candidate.info.addr == responder.addr
        {
            candidate.state = CandidateState::Answered;
            candidate.token = token;
        }
        for node in nodes {
            if !self.contacted.contains(&node.addr) {
                self.add_candidate(*node, CandidateState::Waiting);
            }
        }
        self.trim();
    }

    /// `contact` did not answer (after retries) or answered with an error.
    pub fn on_failure(&mut self, contact: &Contact) {
        self.settle(contact);
        if let Contact::Node(asked) = contact {
            self.set_state(&asked.id, CandidateState::Failed);
        }
    }

    /// One query fewer in flight.
    fn settle(&mut self, contact: &Contact) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if let Contact::Seed(_) = contact {
            self.seeds_in_flight = self.seeds_in_flight.saturating_sub(1);
        }
    }

    /// Whether the lookup is over: nothing in flight among the closest, nobody left worth
    /// asking (or the query budget spent). Queries still in flight to nodes outside the
    /// closest [`K`] are not waited for.
    pub fn is_done(&self) -> bool {
        if self.queries_sent >= MAX_QUERIES {
            return self.in_flight == 0;
        }
        self.seeds.is_empty()
            && self.seeds_in_flight == 0
            && self
                .closest_live()
                .all(|candidate| candidate.state == CandidateState::Answered)
    }

    /// The closest nodes that answered, with their tokens, closest first.
    pub fn closest_answered(&self, count: usize) -> Vec<&Candidate> {
        self.candidates
            .values()
            .filter(|candidate| candidate.state == CandidateState::Answered)
            .take(count)
            .collect()
    }

    /// The [`K`] closest candidates that have not failed.
    fn closest_live(&self) -> impl Iterator<Item = &Candidate> {
        self.candidates
            .values()
            .filter(|candidate| candidate.state != CandidateState::Failed)
            .take(K)
    }

    fn next_seed(&mut self) -> Option<SocketAddr> {
        while let Some(seed) = self.seeds.pop_front() {
            if !self.contacted.contains(&seed) {
                return Some(seed);
            }
        }
        None
    }

    fn next_candidate(&mut self) -> Option<&mut Candidate> {
        self.candidates
            .values_mut()
            .filter(|candidate| candidate.state != CandidateState::Failed)
            .take(K)
            .find(|candidate| candidate.state == CandidateState::Waiting)
    }

    fn add_candidate(&mut self, info: NodeInfo, state: CandidateState) {
        if info.id == self.own || !is_usable(&info.addr) {
            return;
        }
        self.candidates
            .entry(info.id.distance(&self.target))
            .or_insert(Candidate {
                info,
                state,
                token: None,
            });
    }

    fn candidate_mut(&mut self, id: &NodeId) -> Option<&mut Candidate> {
        self.candidates.get_mut(&id.distance(&self.target))
    }

    fn set_state(&mut self, id: &NodeId, state: CandidateState) {
        if let Some(candidate) = self.candidate_mut(id) {
            candidate.state = state;
        }
    }

    /// Forgets the farthest candidates beyond [`MAX_CANDIDATES`] (never one in flight).
    fn trim(&mut self) {
        while self.candidates.len() > MAX_CANDIDATES {
            let farthest = self
                .candidates
                .iter()
                .rev()
                .find(|(_, candidate)| candidate.state != CandidateState::Asked)
                .map(|(distance, _)| *distance);
            match farthest {
                Some(distance) => self.candidates.remove(&distance),
                None => break,
            };
        }
    }
}

#[cfg(test)]
mod tests;
