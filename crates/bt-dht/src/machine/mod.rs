//! [`Dht`]: one DHT node as a sans-IO state machine.
//!
//! It owns the routing table, the token secrets, the peer store, the rate limiter, the queries
//! in flight and the lookups, and it does no I/O: the caller hands it each datagram that
//! arrives ([`Dht::handle`]) and calls [`Dht::tick`] now and then (every 100 ms or so); it
//! queues the datagrams to send ([`Dht::poll_transmit`]) and the lookups that finished
//! ([`Dht::poll_outcome`]). Time is always passed in, so tests drive whole networks of these in
//! memory, and the actor around it stays thin.
//!
//! # Layout
//! - this module: [`Dht`], [`DhtSettings`], [`DhtStats`], [`LookupOutcome`], the public calls.
//! - `serve`: answering queries (ping, find_node, get_peers, announce_peer; errors 203, 204).
//! - `client`: our queries: transaction ids, time-outs and retries, answers.
//! - `lookups`: running lookups, and the announce that follows a `get_peers` lookup.

mod client;
mod lookups;
mod serve;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bt_proto::InfoHash;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::compact::NodeInfo;
use crate::id::NodeId;
use crate::peer_store::{PeerStore, PeerStoreLimits};
use crate::rate::{RateLimiter, RateLimits};
use crate::state::SavedState;
use crate::table::{Insertion, NodeStatus, RoutingTable};
use crate::token::{self, TokenSecrets};

use client::Pending;
use lookups::{LookupKind, LookupTask};

/// The tunables of a [`Dht`]; the defaults follow BEP 5 where it gives a number.
#[derive(Clone, Debug)]
pub struct DhtSettings {
    /// How long a query waits for its answer before it is sent again or given up.
    pub query_timeout: Duration,
    /// How many times a query is sent again after a time-out before the node counts as not
    /// answering.
    pub query_retries: u32,
    /// How long a lookup may run in all; it then ends with what it found.
    pub lookup_timeout: Duration,
    /// How often the token secret changes (BEP 5: 5 minutes).
    pub token_rotation: Duration,
    /// A bucket unchanged this long is refreshed with a lookup (BEP 5: 15 minutes).
    pub bucket_refresh: Duration,
    /// While the table is empty, how often the bootstrap nodes are asked again.
    pub bootstrap_retry: Duration,
    /// Peers in one `get_peers` answer at most (libtorrent's `dht_max_peers_reply` is 100).
    pub max_peers_reply: usize,
    /// Peers one lookup collects at most.
    pub max_peers_per_lookup: usize,
    /// Queries of ours in flight at once; beyond it, new queries count as failed at once.
    pub max_pending: usize,
    /// Limits on the queries we serve.
    pub rate: RateLimits,
    /// Limits of the store of announced peers.
    pub peers: PeerStoreLimits,
}

impl Default for DhtSettings {
    fn default() -> Self {
        Self {
            query_timeout: Duration::from_secs(3),
            query_retries: 1,
            lookup_timeout: Duration::from_secs(60),
            token_rotation: token::ROTATION,
            bucket_refresh: Duration::from_secs(15 * 60),
            bootstrap_retry: Duration::from_secs(30),
            max_peers_reply: 100,
            max_peers_per_lookup: 1000,
            max_pending: 1024,
            rate: RateLimits::default(),
            peers: PeerStoreLimits::default(),
        }
    }
}

/// Identifies a lookup started by [`Dht::get_peers`], [`Dht::announce`] or
/// [`Dht::find_node`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LookupId(pub u64);

/// What a finished lookup found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupOutcome {
    /// Which lookup.
    pub id: LookupId,
    /// The info-hash, for `get_peers` and announce lookups.
    pub info_hash: Option<InfoHash>,
    /// The peers the nodes named (`get_peers`), without duplicates.
    pub peers: Vec<SocketAddr>,
    /// The nodes closest to the target that answered, closest first.
    pub closest: Vec<NodeInfo>,
    /// How many of them acknowledged our `announce_peer` (announce lookups).
    pub announced_to: usize,
    /// Queries the lookup sent.
    pub queries: usize,
    /// Whether it ran out of time rather than converging.
    pub timed_out: bool,
}

/// A datagram to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// The destination.
    pub to: SocketAddr,
    /// The bencoded message.
    pub bytes: Vec<u8>,
}

/// Counters and sizes, for `Stats` and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DhtStats {
    /// Our node id.
    pub node_id: Option<NodeId>,
    /// Nodes in the routing table.
    pub nodes: usize,
    /// Of those, good ones.
    pub good_nodes: usize,
    /// Buckets the table has split into.
    pub buckets: usize,
    /// Info-hashes other nodes announced to us.
    pub torrents: usize,
    /// Peers other nodes announced to us.
    pub peers: usize,
    /// Lookups running.
    pub lookups: usize,
    /// Our queries awaiting an answer.
    pub pending_queries: usize,
    /// Queries received (served or not).
    pub queries_received: u64,
    /// Queries dropped by the rate limits.
    pub queries_rate_limited: u64,
    /// Answers received to our queries.
    pub responses_received: u64,
    /// Error replies received to our queries.
    pub errors_received: u64,
    /// Our queries that got no answer after their retries.
    pub timeouts: u64,
    /// Datagrams that were not KRPC (or not well-formed), or answers we did not ask for.
    pub dropped: u64,
    /// Datagrams queued for sending.
    pub sent: u64,
}

/// One DHT node, sans I/O. See the module docs.
#[derive(Debug)]
pub struct Dht {
    settings: DhtSettings,
    id: NodeId,
    table: RoutingTable,
    tokens: TokenSecrets,
    store: PeerStore,
    limiter: RateLimiter,
    rng: StdRng,
    /// Our queries in flight, by transaction id.
    pending: HashMap<u16, Pending>,
    next_transaction: u16,
    lookups: HashMap<LookupId, LookupTask>,
    next_lookup: u64,
    /// Addresses to bootstrap from when the table is (nearly) empty.
    bootstrap: Vec<SocketAddr>,
    last_bootstrap: Option<Instant>,
    /// Nodes we are pinging, so that one is not pinged twice at once.
    pinging: HashSet<SocketAddr>,
    last_housekeeping: Instant,
    outbox: VecDeque<Transmit>,
    outcomes: VecDeque<LookupOutcome>,
    stats: DhtStats,
}

impl Dht {
    /// A node with id `id`, an empty table, and its own random generator seeded by `seed`.
    pub fn new(id: NodeId, settings: DhtSettings, now: Instant, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        Self {
            tokens: TokenSecrets::new(settings.token_rotation, now, &mut rng),
            store: PeerStore::new(settings.peers),
            limiter: RateLimiter::new(settings.rate, now),
            table: RoutingTable::new(id, now),
            id,
            rng,
            pending: HashMap::new(),
            next_transaction: (seed & 0xffff) as u16,
            lookups: HashMap::new(),
            next_lookup: 0,
            bootstrap: Vec::new(),
            last_bootstrap: None,
            pinging: HashSet::new(),
            last_housekeeping: now,
            outbox: VecDeque::new(),
            outcomes: VecDeque::new(),
            stats: DhtStats::default(),
            settings,
        }
    }

    /// Our node id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The routing table (to save it, or to look).
    pub fn table(&self) -> &RoutingTable {
        &self.table
    }

    /// What to save between runs: our id and the nodes of the table that are not bad.
    pub fn saved_state(&self, now: Instant) -> SavedState {
        let nodes = self
            .table
            .entries()
            .filter(|entry| entry.status(now) != NodeStatus::Bad)
            .map(|entry| entry.info)
            .collect();
        SavedState { id: self.id, nodes }
    }

    /// Whether there are bootstrap addresses to use.
    pub fn has_bootstrap(&self) -> bool {
        !self.bootstrap.is_empty()
    }

    /// Sets the addresses to bootstrap from (the routers of the config), used whenever the
    /// table holds fewer than K nodes.
    pub fn set_bootstrap(&mut self, addrs: Vec<SocketAddr>) {
        self.bootstrap = addrs;
    }

    /// Joins the network: a `find_node` lookup of our own id (BEP 5), starting from `known`
    /// (nodes of a saved table, not yet verified), the table, and the bootstrap addresses.
    pub fn bootstrap(&mut self, known: &[NodeInfo], now: Instant) -> LookupId {
        self.last_bootstrap = Some(now);
        let target = self.id;
        let mut nodes = self.table.closest(&target, crate::table::K, now);
        nodes.extend_from_slice(known);
        let seeds = self.bootstrap.clone();
        self.start_lookup(LookupKind::FindNode, target, nodes, seeds, now)
    }

    /// Starts a `get_peers` lookup for `info_hash`.
    pub fn get_peers(&mut self, info_hash: InfoHash, now: Instant) -> LookupId {
        self.start_search(LookupKind::GetPeers { info_hash }, info_hash.into(), now)
    }

    /// Starts a `get_peers` lookup for `info_hash`, then announces our peer (TCP `port`, or
    /// the UDP source port with `implied_port`) to the closest nodes that answered.
    pub fn announce(
        &mut self,
        info_hash: InfoHash,
        port: u16,
        implied_port: bool,
        now: Instant,
    ) -> LookupId {
        let kind = LookupKind::Announce {
            info_hash,
            port,
            implied_port,
        };
        self.start_search(kind, info_hash.into(), now)
    }

    /// Starts a `find_node` lookup of `target`.
    pub fn find_node(&mut self, target: NodeId, now: Instant) -> LookupId {
        self.start_search(LookupKind::FindNode, target, now)
    }

    /// Pings `addr` (BEP 5: a peer's `port` message names its DHT node); if it answers, it
    /// joins the table.
    pub fn ping(&mut self, addr: SocketAddr, now: Instant) {
        let known = self.table.entries().find(|entry| entry.info.addr == addr);
        let id = known.map(|entry| entry.info.id);
        self.send_ping(addr, id, now);
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.outbox.pop_front()
    }

    /// The next finished lookup.
    pub fn poll_outcome(&mut self) -> Option<LookupOutcome> {
        self.outcomes.pop_front()
    }

    /// Counters and sizes at `now`.
    pub fn stats(&self, now: Instant) -> DhtStats {
        DhtStats {
            node_id: Some(self.id),
            nodes: self.table.len(),
            good_nodes: self.table.good_len(now),
            buckets: self.table.bucket_count(),
            torrents: self.store.torrent_count(),
            peers: self.store.peer_count(),
            lookups: self.lookups.len(),
            pending_queries: self.pending.len(),
            ..self.stats.clone()
        }
    }

    /// Timers: query time-outs and retries, lookups out of time, token rotation, expiry of
    /// announced peers, pings of questionable nodes, bucket refreshes, bootstrap retries.
    pub fn tick(&mut self, now: Instant) {
        self.expire_queries(now);
        self.expire_lookups(now);
        self.tokens.rotate_if_due(now, &mut self.rng);
        if now.saturating_duration_since(self.last_housekeeping) >= Duration::from_secs(1) {
            self.last_housekeeping = now;
            self.store.expire(now);
            self.limiter.prune(now);
        }
        for node in self.table.nodes_to_ping(now) {
            self.send_ping(node.addr, Some(node.id), now);
        }
        if !self.table.is_empty() {
            let targets =
                self.table
                    .refresh_targets(self.settings.bucket_refresh, now, &mut self.rng);
            for target in targets {
                self.find_node(target, now);
            }
        }
        let bootstrap_due = self
            .last_bootstrap
            .is_none_or(|at| now.saturating_duration_since(at) >= self.settings.bootstrap_retry);
        if self.table.is_empty() && !self.bootstrap.is_empty() && bootstrap_due {
            self.bootstrap(&[], now);
        }
    }

    /// A node answered us or was verified: into the table it goes.
    fn learn(&mut self, node: NodeInfo, now: Instant) -> Insertion {
        self.table.on_response(node, now)
    }
}
