//! The swarm lab: one seeder and about fifty leechers in this process, heterogeneous upload
//! capacities and free riders, one run per combination of choker and piece order.
//!
//! Every peer is an engine `Session` of the test harness on loopback. A peer's *upload
//! capacity* is its session-wide upload limit (a token bucket); every leecher has the same
//! *download capacity* (its session-wide download limit), so classes differ only in what they
//! give. A *free rider* runs the `free-rider` choker: it never unchokes anyone, so it uploads
//! nothing, whatever choker the others run. Classes are assigned to leechers by a seeded
//! shuffle; the payload comes from the same seed, and so do the random draws of every peer's
//! choker and picker (peer `i` gets [`ExperimentConfig::member_seed`], passed to the engine
//! with `Strategies::with_seed`). Timing on a shared machine is not seeded, so two runs agree
//! in shape, not to the millisecond.
//!
//! The choker's clock runs [`ExperimentConfig::time_scale`] (40) times faster than mainline's:
//! rechoke every 250 ms (10 s), optimistic unchoke every 750 ms (30 s), snubbed after 1.5 s
//! (60 s), and the rates it ranks peers by averaged over 500 ms (20 s). Payload and rates are
//! scaled down, not the peer count, so a run takes seconds; the scale is chosen so that a
//! download still spans some fifty rechoke periods, and a piece is one 16 KiB block, so that
//! the payload has 256 pieces and peers nearly always have pieces the others want.
//!
//! How peers leave is part of a [`Scenario`]: leechers leave as soon as they complete
//! ([`ExperimentConfig::leave_on_complete`]) or seed until the end; the seeder leaves once it
//! has uploaded so many copies ([`ExperimentConfig::seeder_leaves_after`]) or stays. A run
//! ends when every leecher is complete, when a piece is lost (held by nobody left in the
//! swarm), when no piece was verified for [`ExperimentConfig::stall_timeout`], or at
//! [`ExperimentConfig::timeout`].
//!
//! # Layout
//! - this module: [`ExperimentConfig`], [`PeerClass`], class assignment and each member's
//!   engine configuration.
//! - `spec`: [`RunSpec`], a run's choker and picker (by name or the embedder's own).
//! - `scenario`: [`Scenario`], the lab's preset experiments.
//! - `run`: [`run_experiment`], one run from start to shutdown.
//! - `record`: [`Recorder`], what a run measures, as a plain struct fed events and samples.
//! - `report`: [`RunResult`] to CSV, the summary tables.
//! - `pooled`: free riders against contributors over repetitions under several seeds.
//! - `plot`: the SVG plots.
//! - `output`: [`write_outputs`], every file of a set of runs; [`load_outputs`] reads them back.

mod output;
mod plot;
mod pooled;
mod record;
mod report;
mod run;
mod scenario;
mod spec;

use std::fmt;
use std::time::Duration;

use bt_engine::EngineConfig;
use bt_engine::config::ChokeStrategySetting;
use bt_test_harness::Swarm;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

pub use output::{RAREST_HEADER, RUNS_HEADER, load_outputs, write_outputs};
pub use plot::{plot_completion, plot_rarest};
pub use pooled::{PooledFreeRiders, pool_free_riders, pooled_table};
pub use record::{PeerRecord, RarestSample, Recorder};
pub use report::{CSV_HEADER, ClassSummary, RunEnd, RunResult, summary_table, write_csv};
pub use run::run_experiment;
pub use scenario::{SCENARIOS, Scenario};
pub use spec::{CustomStrategies, RunSpec, choker_name, parse_choker, parse_picker, picker_name};

const KIB: u64 = 1024;

/// What a peer is in the experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PeerClass {
    /// Starts with everything.
    Seeder,
    /// A leecher with a large upload capacity.
    Fast,
    /// A leecher with a medium upload capacity.
    Medium,
    /// A leecher with a small upload capacity.
    Slow,
    /// A leecher that uploads nothing.
    FreeRider,
}

impl PeerClass {
    /// Every class, in table order.
    pub const ALL: [PeerClass; 5] = [
        PeerClass::Seeder,
        PeerClass::Fast,
        PeerClass::Medium,
        PeerClass::Slow,
        PeerClass::FreeRider,
    ];

    /// The name in tables and CSVs.
    pub fn name(self) -> &'static str {
        match self {
            PeerClass::Seeder => "seeder",
            PeerClass::Fast => "fast",
            PeerClass::Medium => "medium",
            PeerClass::Slow => "slow",
            PeerClass::FreeRider => "free-rider",
        }
    }
}

impl fmt::Display for PeerClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything a run is made of but its choker and picker.
#[derive(Debug, Clone)]
pub struct ExperimentConfig {
    /// Leechers, free riders included.
    pub leechers: usize,
    /// Share of the leechers that ride free.
    pub free_riders: f64,
    /// Shares of the contributing leechers that are fast, medium and slow (normalised).
    pub shares: [f64; 3],
    /// Upload capacities of fast, medium and slow leechers, bytes per second.
    pub uploads: [u64; 3],
    /// The seeder's upload capacity, bytes per second.
    pub seeder_upload: u64,
    /// Every leecher's download capacity, bytes per second.
    pub download: u64,
    /// Payload size, bytes.
    pub payload_len: u64,
    /// Piece length, bytes.
    pub piece_len: u32,
    /// Connections per peer at most: each peer sees part of the swarm, as on the Internet.
    pub max_peers: usize,
    /// Seeds the class assignment, the payload and every member's choker and picker.
    pub seed: u64,
    /// How often the lab samples connection counters and piece copies.
    pub sample_interval: Duration,
    /// A run that has not completed by then stops and reports the stragglers as incomplete.
    pub timeout: Duration,
    /// How many times faster than mainline the choker's clock runs (40): the engine's rechoke
    /// interval (10 s), optimistic interval (30 s), snub time-out (60 s) and the window of
    /// the rates peers are ranked by (20 s) are divided by it.
    pub time_scale: u32,
    /// Replaces the scaled rate window (the engine's 20 s over `time_scale`).
    pub rate_window: Option<Duration>,
    /// A leecher leaves the swarm (pauses its torrent) as soon as it completes, instead of
    /// seeding until the run ends: then only the seeder and the leechers still downloading
    /// serve the others.
    pub leave_on_complete: bool,
    /// The seeder leaves the swarm once it has uploaded this many copies of the payload
    /// (checked every sample, so it overshoots a little); `None`: it stays.
    pub seeder_leaves_after: Option<f64>,
    /// A run in which no leecher verified a piece for this long ends as stalled.
    pub stall_timeout: Duration,
}

impl Default for ExperimentConfig {
    fn default() -> Self {
        Self {
            leechers: 50,
            free_riders: 0.1,
            shares: [0.2, 0.6, 0.2],
            uploads: [1024 * KIB, 384 * KIB, 128 * KIB],
            seeder_upload: 1024 * KIB,
            download: 2048 * KIB,
            payload_len: 4 << 20,
            piece_len: 16 * 1024,
            max_peers: 20,
            seed: 1,
            sample_interval: Duration::from_millis(250),
            timeout: Duration::from_secs(120),
            time_scale: 40,
            rate_window: None,
            leave_on_complete: false,
            seeder_leaves_after: None,
            stall_timeout: Duration::from_secs(10),
        }
    }
}

impl ExperimentConfig {
    /// The class of each leecher, in start order: the counts from the shares (rounded, the
    /// remainder to medium), shuffled by the seed.
    pub fn leecher_classes(&self) -> Vec<PeerClass> {
        let n = self.leechers;
        let free = ((n as f64) * self.free_riders).round() as usize;
        let contributing = n.saturating_sub(free);
        let total: f64 = self.shares.iter().sum();
        let count = |share: f64| ((contributing as f64) * share / total).round() as usize;
        let fast = count(self.shares[0]).min(contributing);
        let slow = count(self.shares[2]).min(contributing - fast);
        let medium = contributing - fast - slow;
        let mut classes: Vec<PeerClass> = [
            (PeerClass::Fast, fast),
            (PeerClass::Medium, medium),
            (PeerClass::Slow, slow),
            (PeerClass::FreeRider, free.min(n)),
        ]
        .into_iter()
        .flat_map(|(class, k)| std::iter::repeat_n(class, k))
        .collect();
        classes.shuffle(&mut StdRng::seed_from_u64(self.seed));
        classes
    }

    /// A class's upload capacity (0 for free riders, who upload nothing anyway).
    pub fn upload_of(&self, class: PeerClass) -> u64 {
        match class {
            PeerClass::Seeder => self.seeder_upload,
            PeerClass::Fast => self.uploads[0],
            PeerClass::Medium => self.uploads[1],
            PeerClass::Slow => self.uploads[2],
            PeerClass::FreeRider => 0,
        }
    }

    /// The seed of member `index`'s choker and picker (the seeder is 0): distinct per member,
    /// the same in every run of the experiment's seed.
    pub fn member_seed(&self, index: usize) -> u64 {
        (self.seed << 16) ^ index as u64
    }

    /// `default` (an engine duration in ms) over the time scale.
    fn scaled(&self, default: u64) -> u64 {
        (default / u64::from(self.time_scale.max(1))).max(1)
    }

    /// The window of the rates the chokers rank peers by.
    pub fn choker_rate_window(&self) -> Duration {
        let default = EngineConfig::default().peer.rate_window_ms;
        self.rate_window
            .unwrap_or_else(|| Duration::from_millis(self.scaled(default)))
    }

    /// The engine configuration of a member of `class` in the run `spec`.
    pub fn member_config(&self, class: PeerClass, spec: &RunSpec) -> EngineConfig {
        let mut config = Swarm::test_config();
        // Fifty-one sessions share the machine: one network thread and one disk thread each.
        config.arbiters = 1;
        config.disk_threads = 1;
        config.max_peers_per_torrent = self.max_peers;
        config.stats_interval_ms = 200;
        config.redial_interval_ms = 500;
        config.peer.tick_ms = 100;
        let mainline = EngineConfig::default();
        config.choke.rechoke_interval_ms = self.scaled(mainline.choke.rechoke_interval_ms);
        config.choke.optimistic_interval_ms = self.scaled(mainline.choke.optimistic_interval_ms);
        config.choke.snub_timeout_ms = self.scaled(mainline.choke.snub_timeout_ms);
        config.peer.snub_timeout_ms = self.scaled(mainline.peer.snub_timeout_ms);
        config.peer.rate_window_ms =
            u64::try_from(self.choker_rate_window().as_millis()).unwrap_or(u64::MAX);
        config.announcer.numwant = 50;
        config.choke.strategy = match class {
            PeerClass::FreeRider => ChokeStrategySetting::FreeRider,
            _ => spec.choker,
        };
        if class == PeerClass::FreeRider {
            // BEP 6 allowed-fast pieces are served to choked peers: a free rider offers none.
            config.extensions.allowed_fast_count = 0;
        }
        config.picker.order = spec.picker;
        config.upload_limit = self.upload_of(class);
        if class != PeerClass::Seeder {
            config.download_limit = self.download;
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bt_engine::config::PieceOrderSetting;

    #[test]
    fn classes_follow_the_shares_and_the_seed() {
        let config = ExperimentConfig::default();
        let classes = config.leecher_classes();
        let count = |c| classes.iter().filter(|k| **k == c).count();
        assert_eq!(classes.len(), 50);
        assert_eq!(count(PeerClass::FreeRider), 5);
        assert_eq!(count(PeerClass::Fast), 9);
        assert_eq!(count(PeerClass::Slow), 9);
        assert_eq!(count(PeerClass::Medium), 27);
        assert_eq!(
            classes,
            config.leecher_classes(),
            "the same seed, the same order"
        );
        let other = ExperimentConfig {
            seed: 2,
            ..config.clone()
        };
        assert_ne!(classes, other.leecher_classes());
    }

    #[test]
    fn free_riders_upload_nothing_whatever_the_run() {
        let config = ExperimentConfig::default();
        let spec = RunSpec::new(ChokeStrategySetting::UnchokeAll, PieceOrderSetting::Random);
        let free = config.member_config(PeerClass::FreeRider, &spec);
        assert_eq!(free.choke.strategy, ChokeStrategySetting::FreeRider);
        assert_eq!(free.extensions.allowed_fast_count, 0);
        let fast = config.member_config(PeerClass::Fast, &spec);
        assert_eq!(fast.choke.strategy, ChokeStrategySetting::UnchokeAll);
        assert_eq!(fast.picker.order, PieceOrderSetting::Random);
        assert_eq!(fast.upload_limit, 1024 * KIB);
        assert_eq!(fast.download_limit, free.download_limit);
    }

    #[test]
    fn the_chokers_clock_and_rate_window_follow_the_time_scale() {
        let config = ExperimentConfig::default();
        let spec = RunSpec::new(
            ChokeStrategySetting::TitForTat,
            PieceOrderSetting::RarestFirst,
        );
        let member = config.member_config(PeerClass::Medium, &spec);
        assert_eq!(member.choke.rechoke_interval_ms, 250);
        assert_eq!(member.choke.optimistic_interval_ms, 750);
        assert_eq!(member.choke.snub_timeout_ms, 1_500);
        assert_eq!(member.peer.snub_timeout_ms, 1_500);
        assert_eq!(member.peer.rate_window_ms, 500, "20 s over 40");
        let slower = ExperimentConfig {
            time_scale: 10,
            ..config.clone()
        };
        let member = slower.member_config(PeerClass::Medium, &spec);
        assert_eq!(member.choke.rechoke_interval_ms, 1_000);
        assert_eq!(member.peer.rate_window_ms, 2_000);
        let fixed = ExperimentConfig {
            rate_window: Some(Duration::from_secs(20)),
            ..config
        };
        let member = fixed.member_config(PeerClass::Medium, &spec);
        assert_eq!(member.peer.rate_window_ms, 20_000, "the override wins");
    }

    #[test]
    fn member_seeds_differ_by_member_and_repeat_by_seed() {
        let config = ExperimentConfig::default();
        let seeds: std::collections::BTreeSet<u64> = (0..=config.leechers)
            .map(|i| config.member_seed(i))
            .collect();
        assert_eq!(seeds.len(), config.leechers + 1);
        let other = ExperimentConfig {
            seed: 2,
            ..config.clone()
        };
        assert_eq!(config.member_seed(3), config.clone().member_seed(3));
        assert_ne!(config.member_seed(3), other.member_seed(3));
    }
}
