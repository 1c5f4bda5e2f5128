//! The swarm lab: one seeder and about fifty leechers in this process, heterogeneous upload
//! capacities and free riders, one run per combination of choker and piece order.
//!
//! Every peer is an engine `Session` of the test harness's [`Swarm`](bt_test_harness::Swarm)
//! on loopback. A peer's *upload capacity* is its session-wide upload limit (a token bucket);
//! every leecher has the same *download capacity* (its session-wide download limit), so
//! classes differ only in what they give. A *free rider* runs the `free-rider` choker: it
//! never unchokes anyone, so it uploads nothing, whatever choker the others run. Classes are
//! assigned to leechers by a seeded shuffle; the payload comes from the same seed. Timing on a
//! shared machine is not seeded, so two runs agree in shape, not to the millisecond.
//!
//! The choker's time is shrunk by 20: rechoke every 500 ms (10 s in mainline), optimistic
//! unchoke every 1.5 s (30 s), snubbed after 3 s (60 s). The window of the rates it ranks by
//! stays the engine's 20 s unless [`ExperimentConfig::rate_window`] shrinks it too. Payload
//! and rates are scaled down, not the peer count, so a run takes seconds. Leechers keep
//! seeding once complete, unless [`ExperimentConfig::leave_on_complete`].
//!
//! # Layout
//! - this module: [`ExperimentConfig`], [`PeerClass`], [`RunSpec`], class assignment and
//!   each member's engine configuration.
//! - `run`: [`run_experiment`], one run from start to shutdown.
//! - `record`: [`Recorder`], what a run measures, as a plain struct fed events and samples.
//! - `report`: [`RunResult`] to CSV, the summary table.
//! - `plot`: the SVG plots.
//! - `output`: [`write_outputs`], every file of a set of runs; [`load_outputs`] reads them back.

mod output;
mod plot;
mod record;
mod report;
mod run;

use std::fmt;
use std::time::Duration;

use bt_engine::EngineConfig;
use bt_engine::config::{ChokeStrategySetting, PieceOrderSetting};
use bt_test_harness::Swarm;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

pub use output::{RAREST_HEADER, load_outputs, write_outputs};
pub use plot::{plot_completion, plot_rarest};
pub use record::{PeerRecord, RarestSample, Recorder};
pub use report::{CSV_HEADER, ClassSummary, RunResult, summary_table, write_csv};
pub use run::run_experiment;

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

/// One combination to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunSpec {
    /// The choker of the seeder and of every contributing leecher.
    pub choker: ChokeStrategySetting,
    /// The piece order of every leecher.
    pub picker: PieceOrderSetting,
}

impl RunSpec {
    /// `choker_picker`, for file names and tables.
    pub fn name(&self) -> String {
        format!("{}_{}", choker_name(self.choker), picker_name(self.picker))
    }
}

/// The configuration name of a choker.
pub fn choker_name(choker: ChokeStrategySetting) -> &'static str {
    match choker {
        ChokeStrategySetting::TitForTat => "tit-for-tat",
        ChokeStrategySetting::UnchokeAll => "unchoke-all",
        ChokeStrategySetting::Random => "random",
        ChokeStrategySetting::FreeRider => "free-rider",
    }
}

/// The configuration name of a piece order.
pub fn picker_name(picker: PieceOrderSetting) -> &'static str {
    match picker {
        PieceOrderSetting::RarestFirst => "rarest-first",
        PieceOrderSetting::Random => "random",
        PieceOrderSetting::Sequential => "sequential",
    }
}

/// A choker by its configuration name.
pub fn parse_choker(name: &str) -> anyhow::Result<ChokeStrategySetting> {
    [
        ChokeStrategySetting::TitForTat,
        ChokeStrategySetting::UnchokeAll,
        ChokeStrategySetting::Random,
        ChokeStrategySetting::FreeRider,
    ]
    .into_iter()
    .find(|c| choker_name(*c) == name)
    .ok_or_else(|| {
        anyhow::anyhow!("unknown choker {name:?} (tit-for-tat, unchoke-all, random, free-rider)")
    })
}

/// A piece order by its configuration name.
pub fn parse_picker(name: &str) -> anyhow::Result<PieceOrderSetting> {
    [
        PieceOrderSetting::RarestFirst,
        PieceOrderSetting::Random,
        PieceOrderSetting::Sequential,
    ]
    .into_iter()
    .find(|p| picker_name(*p) == name)
    .ok_or_else(|| {
        anyhow::anyhow!("unknown piece order {name:?} (rarest-first, random, sequential)")
    })
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
    /// Seeds the class assignment and the payload.
    pub seed: u64,
    /// How often the lab samples connection counters and piece copies.
    pub sample_interval: Duration,
    /// A run that has not completed by then stops and reports the stragglers as incomplete.
    pub timeout: Duration,
    /// The window of the rate meters the chokers rank peers by (the engine's default: 20 s).
    pub rate_window: Duration,
    /// A leecher leaves the swarm (pauses its torrent) as soon as it completes, instead of
    /// seeding until the run ends: then only the seeder and the leechers still downloading
    /// serve the others.
    pub leave_on_complete: bool,
}

impl Default for ExperimentConfig {
    fn default() -> Self {
        Self {
            leechers: 50,
            free_riders: 0.1,
            shares: [0.2, 0.6, 0.2],
            uploads: [512 * KIB, 192 * KIB, 64 * KIB],
            seeder_upload: 1024 * KIB,
            download: 1024 * KIB,
            payload_len: 2 << 20,
            piece_len: 32 * 1024,
            max_peers: 20,
            seed: 1,
            sample_interval: Duration::from_millis(250),
            timeout: Duration::from_secs(120),
            rate_window: Duration::from_secs(20),
            leave_on_complete: false,
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

    /// The engine configuration of a member of `class` in the run `spec`.
    pub fn member_config(&self, class: PeerClass, spec: RunSpec) -> EngineConfig {
        let mut config = Swarm::test_config();
        // Fifty-one sessions share the machine: one network thread and one disk thread each.
        config.arbiters = 1;
        config.disk_threads = 1;
        config.max_peers_per_torrent = self.max_peers;
        config.stats_interval_ms = 200;
        config.redial_interval_ms = 500;
        config.peer.tick_ms = 100;
        config.choke.rechoke_interval_ms = 500;
        config.choke.optimistic_interval_ms = 1_500;
        config.choke.snub_timeout_ms = 3_000;
        config.peer.snub_timeout_ms = 3_000;
        config.peer.rate_window_ms =
            u64::try_from(self.rate_window.as_millis()).unwrap_or(u64::MAX);
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
        let spec = RunSpec {
            choker: ChokeStrategySetting::UnchokeAll,
            picker: PieceOrderSetting::Random,
        };
        let free = config.member_config(PeerClass::FreeRider, spec);
        assert_eq!(free.choke.strategy, ChokeStrategySetting::FreeRider);
        assert_eq!(free.extensions.allowed_fast_count, 0);
        let fast = config.member_config(PeerClass::Fast, spec);
        assert_eq!(fast.choke.strategy, ChokeStrategySetting::UnchokeAll);
        assert_eq!(fast.upload_limit, 512 * KIB);
        assert_eq!(fast.download_limit, free.download_limit);
        assert_eq!(spec.name(), "unchoke-all_random");
        assert_eq!(
            parse_choker("tit-for-tat").unwrap(),
            ChokeStrategySetting::TitForTat
        );
        assert!(parse_picker("fastest").is_err());
    }
}
