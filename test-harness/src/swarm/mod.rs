//! [`Swarm`]: a mock tracker plus seeders and leechers, each an engine [`Session`] of its
//! own in this process, on loopback.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use std::time::Duration;
//! use bt_test_harness::{PayloadSpec, Swarm, TrackerKind};
//!
//! let swarm = Swarm::builder()
//!     .payload(PayloadSpec::single_file("f.bin", 1 << 20), 7)
//!     .seeders(1)
//!     .leechers(2)
//!     .tracker(TrackerKind::Http)
//!     .build()
//!     .await?;
//! swarm.wait_complete(Duration::from_secs(20)).await?;
//! swarm.check_leecher_files()?;
//! swarm.shutdown().await?; // fails if any actor outlives its session
//! # Ok(())
//! # }
//! ```
//!
//! Every member gets its own session (own peer id, own listening port on `127.0.0.1:0`, own
//! worker Arbiters), a configuration tuned for tests ([`Swarm::test_config`]: rechoke every
//! 200 ms, re-announce every 500 ms, short time-outs) unless the builder gives it its own
//! ([`SwarmBuilder::seeder_config`], [`SwarmBuilder::leecher_config`]: heterogeneous upload
//! and download limits, free riders, other strategies; [`SwarmBuilder::strategies`]: an
//! embedder's own choker or picker), and its own directory: seeders read
//! the payload's own directory, leechers each get an empty temporary one. Sessions must run
//! inside an actix `System` (`#[actix::test]`).
//!
//! # Layout
//! - this module: [`SwarmBuilder`], [`Swarm`], [`TrackerKind`].
//! - `member`: [`SwarmMember`], [`Role`], waits on a member's events.
//! - `files`: [`assert_same_tree`].
//! - `matrix`: [`TransferMatrix`], who sent how many bytes to whom.

mod files;
mod matrix;
mod member;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, anyhow};
use bt_engine::{EngineConfig, Session, Strategies};
use bt_proto::metainfo::Metainfo;

pub use files::assert_same_tree;
pub use matrix::TransferMatrix;
pub use member::{Role, SwarmMember, wait_for_stats};

use crate::{MockTracker, MockTrackerConfig, Payload, PayloadSpec};

/// How long a member's shutdown may take before its leftover actors count as a leak.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Which tracker transport the torrent names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrackerKind {
    /// `http://127.0.0.1:PORT/announce` (BEP 3).
    #[default]
    Http,
    /// `udp://127.0.0.1:PORT` (BEP 15).
    Udp,
}

/// Builds a [`Swarm`]; see the module docs.
#[derive(Debug)]
pub struct SwarmBuilder {
    spec: PayloadSpec,
    seed: u64,
    seeders: usize,
    leechers: usize,
    tracker: TrackerKind,
    tracker_config: MockTrackerConfig,
    config: EngineConfig,
    seeder_config: Option<EngineConfig>,
    leecher_configs: BTreeMap<usize, EngineConfig>,
    strategies: Strategies,
}

impl SwarmBuilder {
    /// The payload to share, generated from `seed`.
    pub fn payload(mut self, spec: PayloadSpec, seed: u64) -> Self {
        self.spec = spec;
        self.seed = seed;
        self
    }

    /// How many members start with the whole payload.
    pub fn seeders(mut self, n: usize) -> Self {
        self.seeders = n;
        self
    }

    /// How many members start empty.
    pub fn leechers(mut self, n: usize) -> Self {
        self.leechers = n;
        self
    }

    /// The tracker transport the torrent names.
    pub fn tracker(mut self, kind: TrackerKind) -> Self {
        self.tracker = kind;
        self
    }

    /// The mock tracker's settings (its mode at start, its interval, ...).
    pub fn tracker_config(mut self, config: MockTrackerConfig) -> Self {
        self.tracker_config = config;
        self
    }

    /// The configuration of every member (default: [`Swarm::test_config`]).
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// A different configuration for the seeders (fewer upload slots, say).
    pub fn seeder_config(mut self, config: EngineConfig) -> Self {
        self.seeder_config = Some(config);
        self
    }

    /// A configuration of its own for leecher `index` (0 for the first leecher; leechers
    /// start in index order): its own rate limits (`upload_limit`, `peer.upload_limit`,
    /// ...), a free rider's choker (`choke.strategy = FreeRider`: it uploads nothing), another
    /// piece order. Leechers without one get the swarm's configuration.
    pub fn leecher_config(mut self, index: usize, config: EngineConfig) -> Self {
        self.leecher_configs.insert(index, config);
        self
    }

    /// The embedder's choker or picker for every member (default: the configured ones).
    pub fn strategies(mut self, strategies: Strategies) -> Self {
        self.strategies = strategies;
        self
    }

    /// Starts the tracker, generates the payload, and starts the seeders, then the
    /// leechers. Must run inside an actix `System`.
    pub async fn build(self) -> anyhow::Result<Swarm> {
        let tracker = MockTracker::start_with(self.tracker_config)?;
        let url = match self.tracker {
            TrackerKind::Http => tracker.http_announce_url(),
            TrackerKind::Udp => tracker.udp_announce_url(),
        };
        let payload = Payload::generate(&self.spec.clone().with_trackers([url]), self.seed)?;
        let mut swarm = Swarm {
            metainfo: payload.torrent.clone(),
            tracker,
            payload,
            members: Vec::new(),
            config: self.config.clone(),
            strategies: self.strategies.clone(),
        };
        let seeder_config = self.seeder_config.unwrap_or_else(|| self.config.clone());
        for _ in 0..self.seeders {
            swarm.add_seeder(seeder_config.clone()).await?;
        }
        for index in 0..self.leechers {
            let config = self.leecher_configs.get(&index).unwrap_or(&self.config);
            swarm.add_leecher_with(config.clone()).await?;
        }
        Ok(swarm)
    }
}

/// A running swarm; see the module docs. Call [`Swarm::shutdown`] at the end to check that
/// every actor stopped.
#[derive(Debug)]
pub struct Swarm {
    /// The tracker every member announces to.
    pub tracker: MockTracker,
    /// The shared content; seeders read its directory.
    pub payload: Payload,
    /// The torrent.
    pub metainfo: Metainfo,
    /// The members, seeders first, in the order they started.
    pub members: Vec<SwarmMember>,
    /// The configuration of new leechers.
    config: EngineConfig,
    /// The strategies of every member.
    strategies: Strategies,
}

impl Swarm {
    /// A swarm with no members yet: configure it, then [`SwarmBuilder::build`].
    pub fn builder() -> SwarmBuilder {
        SwarmBuilder {
            spec: PayloadSpec::single_file("payload.bin", 256 * 1024),
            seed: 1,
            seeders: 1,
            leechers: 1,
            tracker: TrackerKind::Http,
            tracker_config: MockTrackerConfig::default(),
            config: Self::test_config(),
            seeder_config: None,
            leecher_configs: BTreeMap::new(),
            strategies: Strategies::default(),
        }
    }

    /// A configuration for loopback tests: an OS-chosen port, two worker Arbiters (so
    /// connections really move between runtimes), two disk threads, and every interval and time-out shrunk so swarms settle in well under a
    /// second.
    pub fn test_config() -> EngineConfig {
        let mut config = EngineConfig {
            listen: "127.0.0.1:0".parse().expect("a literal address"),
            arbiters: 2,
            disk_threads: 2,
            connect_timeout_ms: 2_000,
            handshake_timeout_ms: 2_000,
            redial_interval_ms: 200,
            stats_interval_ms: 50,
            ..EngineConfig::default()
        };
        config.peer.tick_ms = 50;
        config.choke.rechoke_interval_ms = 200;
        config.choke.optimistic_interval_ms = 600;
        config.announcer.interval_floor_ms = 500;
        config.announcer.min_interval_ms = 500;
        config.announcer.backoff_base_ms = 200;
        config.announcer.stop_timeout_ms = 2_000;
        config.announcer.udp_retransmit_ms = 500;
        config
    }

    /// Starts a member with the whole payload (reading the payload's directory).
    pub async fn add_seeder(&mut self, config: EngineConfig) -> anyhow::Result<usize> {
        let dir = self.payload.data_dir().to_path_buf();
        self.add_member(Role::Seeder, config, dir, None).await
    }

    /// Starts a member whose torrent's files are in `dir` (whatever they hold: a partial copy,
    /// a corrupt one); `temp` is kept alive with the member. Returns its index.
    pub async fn add_member(
        &mut self,
        role: Role,
        config: EngineConfig,
        dir: std::path::PathBuf,
        temp: Option<tempfile::TempDir>,
    ) -> anyhow::Result<usize> {
        let strategies = self.strategies.clone();
        let member =
            SwarmMember::start_with(role, config, strategies, &self.metainfo, dir, temp).await?;
        self.members.push(member);
        Ok(self.members.len() - 1)
    }

    /// Starts a member holding only the first `len` bytes of a single-file payload (so the
    /// pieces they cover, a partial seeder); returns its index.
    pub async fn add_partial_seeder(
        &mut self,
        len: u64,
        config: EngineConfig,
    ) -> anyhow::Result<usize> {
        let bytes = std::fs::read(&self.payload.root).with_context(|| {
            format!(
                "reading {} (a single-file payload)",
                self.payload.root.display()
            )
        })?;
        let prefix = bytes
            .get(..usize::try_from(len)?)
            .ok_or_else(|| anyhow!("the payload is shorter than {len} bytes"))?;
        let temp = tempfile::Builder::new().prefix("bt-partial-").tempdir()?;
        std::fs::write(temp.path().join(&self.metainfo.info.name), prefix)?;
        let dir = temp.path().to_path_buf();
        self.add_member(Role::Seeder, config, dir, Some(temp)).await
    }

    /// Starts a member with an empty temporary directory and the swarm's configuration.
    pub async fn add_leecher(&mut self) -> anyhow::Result<usize> {
        self.add_leecher_with(self.config.clone()).await
    }

    /// Starts a member with an empty temporary directory and `config`.
    pub async fn add_leecher_with(&mut self, config: EngineConfig) -> anyhow::Result<usize> {
        let temp = tempfile::Builder::new().prefix("bt-leecher-").tempdir()?;
        let dir = temp.path().to_path_buf();
        self.add_member(Role::Leecher, config, dir, Some(temp))
            .await
    }

    /// Stops member `index` and starts it again with the same directory and configuration
    /// (a new session: new port, new peer id), as a restarted client would.
    pub async fn restart(&mut self, index: usize, config: EngineConfig) -> anyhow::Result<()> {
        let member = self
            .members
            .get_mut(index)
            .ok_or_else(|| anyhow!("no member {index}"))?;
        member.stop(STOP_TIMEOUT).await?;
        let temp = member.take_dir();
        let dir = member.dir.clone();
        let role = member.role;
        let strategies = self.strategies.clone();
        *member =
            SwarmMember::start_with(role, config, strategies, &self.metainfo, dir, temp).await?;
        Ok(())
    }

    /// The leechers.
    pub fn leechers(&self) -> impl Iterator<Item = &SwarmMember> {
        self.members.iter().filter(|m| m.role == Role::Leecher)
    }

    /// The seeders.
    pub fn seeders(&self) -> impl Iterator<Item = &SwarmMember> {
        self.members.iter().filter(|m| m.role == Role::Seeder)
    }

    /// Waits until every leecher has every piece.
    pub async fn wait_complete(&self, timeout: Duration) -> anyhow::Result<()> {
        for (i, leecher) in self.leechers().enumerate() {
            leecher
                .wait_complete(timeout)
                .await
                .with_context(|| format!("leecher {i}"))?;
        }
        Ok(())
    }

    /// Fails unless every leecher's files equal the payload's, byte for byte.
    pub fn check_leecher_files(&self) -> anyhow::Result<()> {
        let name = &self.metainfo.info.name;
        for leecher in self.leechers() {
            assert_same_tree(&self.payload.root, &leecher.dir.join(name))?;
        }
        Ok(())
    }

    /// Who sent how many payload bytes to whom so far, from every member's per-peer totals
    /// (ended connections included), by member index. A stopped member has no statistics
    /// left: its row is empty, but what the others exchanged with it still counts.
    pub async fn transfers(&self) -> anyhow::Result<TransferMatrix> {
        let mut members = Vec::with_capacity(self.members.len());
        for (i, member) in self.members.iter().enumerate() {
            let totals = if member.is_stopped() {
                Vec::new()
            } else {
                member
                    .stats()
                    .await
                    .with_context(|| format!("statistics of member {i}"))?
                    .peer_totals
            };
            members.push((member.peer_id(), totals));
        }
        Ok(TransferMatrix::from_totals(&members))
    }

    /// Every member's session.
    pub fn sessions(&self) -> impl Iterator<Item = &Session> {
        self.members.iter().map(|m| &m.session)
    }

    /// Shuts every member down (concurrently) and fails if any actor outlives its session.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let stops: Vec<_> = self.members.iter().map(|m| m.stop(STOP_TIMEOUT)).collect();
        let mut failures = Vec::new();
        for (i, stop) in stops.into_iter().enumerate() {
            if let Err(e) = stop.await {
                failures.push(format!("member {i}: {e:#}"));
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(anyhow!(failures.join("; ")))
        }
    }
}
