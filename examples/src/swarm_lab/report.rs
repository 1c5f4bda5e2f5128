//! [`RunResult`]: one run's records, written as CSV and summarised in tables.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

use super::{PeerClass, PeerRecord, RarestSample, RunSpec};

/// The columns of a run's CSV, one row per peer (the seeder first).
pub const CSV_HEADER: &str = "run,peer,class,upload_limit,start_s,completion_s,tail_s,\
uploaded,downloaded,from_seeder,from_fast,from_medium,from_slow,from_free_rider";

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// Every leecher completed.
    Complete,
    /// Some piece was held by nobody left in the swarm, so some leechers never can complete.
    PiecesLost,
    /// No leecher verified a piece for the stall time-out.
    Stalled,
    /// The run's time-out passed.
    TimedOut,
}

impl RunEnd {
    /// Every end, for parsing.
    pub const ALL: [RunEnd; 4] = [
        RunEnd::Complete,
        RunEnd::PiecesLost,
        RunEnd::Stalled,
        RunEnd::TimedOut,
    ];

    /// The name in tables and CSVs.
    pub fn name(self) -> &'static str {
        match self {
            RunEnd::Complete => "complete",
            RunEnd::PiecesLost => "pieces lost",
            RunEnd::Stalled => "stalled",
            RunEnd::TimedOut => "timed out",
        }
    }
}

/// What one run produced.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// `choker_picker`.
    pub name: String,
    /// The combination.
    pub spec: RunSpec,
    /// Every peer, the seeder first.
    pub peers: Vec<PeerRecord>,
    /// The copies of pieces over time.
    pub samples: Vec<RarestSample>,
    /// From the seeder's readiness to the run's end.
    pub wall: Duration,
    /// Why the run ended.
    pub end: RunEnd,
    /// When the seeder left, if it did.
    pub seeder_left: Option<Duration>,
    /// The payload's size, bytes.
    pub payload_len: u64,
    /// Upload capacity per class, bytes per second.
    pub capacities: BTreeMap<PeerClass, u64>,
}

/// One class in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassSummary {
    /// The class.
    pub class: PeerClass,
    /// Its peers.
    pub peers: usize,
    /// Those that completed.
    pub completed: usize,
    /// Completion times (seconds from a peer's start): median, mean, 90th percentile.
    pub median: Option<f64>,
    /// See `median`.
    pub mean: Option<f64>,
    /// See `median`.
    pub p90: Option<f64>,
    /// Mean time from 90 % of the pieces to all of them, seconds.
    pub tail: Option<f64>,
    /// Bytes the class sent over bytes it received.
    pub ratio: f64,
}

impl RunResult {
    /// Writes the CSV: [`CSV_HEADER`], then one row per peer.
    pub fn write_csv(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(out, "{CSV_HEADER}")?;
        for peer in &self.peers {
            let from = |class| peer.from.get(&class).copied().unwrap_or(0);
            let secs = |s: Option<f64>| s.map(|s| format!("{s:.3}")).unwrap_or_default();
            writeln!(
                out,
                "{},{},{},{},{:.3},{},{},{},{},{},{},{},{},{}",
                self.name,
                peer.index,
                peer.class,
                self.capacities.get(&peer.class).copied().unwrap_or(0),
                peer.started.as_secs_f64(),
                secs(peer.completion_secs()),
                secs(peer.tail_secs()),
                peer.uploaded,
                peer.downloaded,
                from(PeerClass::Seeder),
                from(PeerClass::Fast),
                from(PeerClass::Medium),
                from(PeerClass::Slow),
                from(PeerClass::FreeRider),
            )?;
        }
        Ok(())
    }

    /// The leecher classes present, summarised.
    pub fn class_summaries(&self) -> Vec<ClassSummary> {
        PeerClass::ALL
            .into_iter()
            .filter(|c| *c != PeerClass::Seeder)
            .filter_map(|class| {
                let peers: Vec<&PeerRecord> =
                    self.peers.iter().filter(|p| p.class == class).collect();
                (!peers.is_empty()).then(|| summarise(class, &peers))
            })
            .collect()
    }

    /// Bytes the seeder uploaded.
    pub fn seeder_upload(&self) -> u64 {
        self.peers
            .iter()
            .filter(|p| p.class == PeerClass::Seeder)
            .map(|p| p.uploaded)
            .sum()
    }

    /// When every piece first had a copy at some sharer (a contributing leecher), seconds.
    pub fn all_pieces_out(&self) -> Option<f64> {
        self.samples
            .iter()
            .find(|s| s.min_copies > 0)
            .map(|s| s.at.as_secs_f64())
    }

    /// The copies of the rarest piece among the sharers still downloading, averaged over
    /// the samples taken while some sharer was: the piece diversity of the peers that still
    /// trade (a complete sharer has every piece, so it is left out).
    pub fn mean_rarest_copies(&self) -> f64 {
        let during: Vec<&RarestSample> =
            self.samples.iter().filter(|s| s.downloading > 0).collect();
        if during.is_empty() {
            return 0.0;
        }
        let sum: f64 = during
            .iter()
            .map(|s| f64::from(s.rarest_incomplete()))
            .sum();
        sum / during.len() as f64
    }

    /// Pieces nobody in the swarm held at the last sample.
    pub fn lost_pieces(&self) -> u32 {
        self.samples.last().map_or(0, |s| s.lost)
    }

    /// Completion times of the free riders and of the contributing leechers (seconds from
    /// each peer's start), each sorted; leechers that did not complete are left out.
    pub fn free_riders_and_contributors(&self) -> (Vec<f64>, Vec<f64>) {
        let times = |free: bool| {
            let mut times: Vec<f64> = self
                .peers
                .iter()
                .filter(|p| p.class != PeerClass::Seeder)
                .filter(|p| (p.class == PeerClass::FreeRider) == free)
                .filter_map(|p| p.completion_secs())
                .collect();
            times.sort_by(f64::total_cmp);
            times
        };
        (times(true), times(false))
    }

    /// The free riders' places in the order of completion (1 = first of the leechers);
    /// one that did not complete has none.
    pub fn free_rider_ranks(&self) -> Vec<Option<usize>> {
        let (free, contributors) = self.free_riders_and_contributors();
        let mut all: Vec<f64> = contributors.iter().chain(&free).copied().collect();
        all.sort_by(f64::total_cmp);
        let mut ranks: Vec<Option<usize>> = free
            .iter()
            .map(|t| all.iter().position(|a| a == t).map(|i| i + 1))
            .collect();
        let free_riders = self
            .peers
            .iter()
            .filter(|p| p.class == PeerClass::FreeRider)
            .count();
        ranks.resize(free_riders, None);
        ranks
    }
}

/// The median of sorted `times`.
fn median(times: &[f64]) -> Option<f64> {
    (!times.is_empty()).then(|| times[(times.len() - 1) / 2])
}

/// Writes `result`'s CSV to `path`.
pub fn write_csv(result: &RunResult, path: &std::path::Path) -> anyhow::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    result.write_csv(&mut file)?;
    file.flush()?;
    Ok(())
}

fn summarise(class: PeerClass, peers: &[&PeerRecord]) -> ClassSummary {
    let mut times: Vec<f64> = peers.iter().filter_map(|p| p.completion_secs()).collect();
    times.sort_by(f64::total_cmp);
    let at = |q: f64| {
        (!times.is_empty()).then(|| times[((times.len() - 1) as f64 * q).round() as usize])
    };
    let mean = (!times.is_empty()).then(|| times.iter().sum::<f64>() / times.len() as f64);
    let tails: Vec<f64> = peers.iter().filter_map(|p| p.tail_secs()).collect();
    let tail = (!tails.is_empty()).then(|| tails.iter().sum::<f64>() / tails.len() as f64);
    let up: u64 = peers.iter().map(|p| p.uploaded).sum();
    let down: u64 = peers.iter().map(|p| p.downloaded).sum();
    ClassSummary {
        class,
        peers: peers.len(),
        completed: times.len(),
        median: at(0.5),
        mean,
        p90: at(0.9),
        tail,
        ratio: up as f64 / down.max(1) as f64,
    }
}

/// The summary tables of several runs, as printed and as pasted into docs (Markdown): per
/// class, per run, and free riders against contributors.
pub fn summary_table(results: &[RunResult]) -> String {
    let mut out = String::new();
    class_table(&mut out, results);
    let _ = writeln!(out);
    run_table(&mut out, results);
    let _ = writeln!(out);
    free_rider_table(&mut out, results);
    out
}

fn secs(s: Option<f64>) -> String {
    s.map(|s| format!("{s:.1}")).unwrap_or_else(|| "-".into())
}

fn class_table(out: &mut String, results: &[RunResult]) {
    let _ = writeln!(
        out,
        "| run | class | peers | done | median s | mean s | p90 s | last 10% s | up/down |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    for result in results {
        for s in result.class_summaries() {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {:.2} |",
                result.name,
                s.class,
                s.peers,
                s.completed,
                secs(s.median),
                secs(s.mean),
                secs(s.p90),
                secs(s.tail),
                s.ratio
            );
        }
    }
}

fn run_table(out: &mut String, results: &[RunResult]) {
    let _ = writeln!(
        out,
        "| run | end | wall s | seeder upload (copies) | seeder left at s | every piece at a sharer after s | rarest piece among the sharers still downloading, mean copies | pieces lost |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    for result in results {
        let copies = result.seeder_upload() as f64 / result.payload_len.max(1) as f64;
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} | {:.1} MiB ({copies:.2}) | {} | {} | {:.1} | {} |",
            result.name,
            result.end.name(),
            result.wall.as_secs_f64(),
            result.seeder_upload() as f64 / f64::from(1 << 20),
            secs(result.seeder_left.map(|d| d.as_secs_f64())),
            secs(result.all_pieces_out()),
            result.mean_rarest_copies(),
            result.lost_pieces(),
        );
    }
}

fn free_rider_table(out: &mut String, results: &[RunResult]) {
    let _ = writeln!(
        out,
        "| run | contributors' median s | free riders' median s | free riders / contributors | free riders' places in the order of completion |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    for result in results {
        let (free, contributors) = result.free_riders_and_contributors();
        let (free_median, median) = (median(&free), median(&contributors));
        let ratio = free_median
            .zip(median)
            .map(|(f, c)| format!("{:.2}", f / c))
            .unwrap_or_else(|| "-".into());
        let leechers = result
            .peers
            .iter()
            .filter(|p| p.class != PeerClass::Seeder)
            .count();
        let places: Vec<String> = result
            .free_rider_ranks()
            .iter()
            .map(|r| r.map_or_else(|| "-".into(), |r| r.to_string()))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {ratio} | {} (of {leechers}) |",
            result.name,
            secs(median),
            secs(free_median),
            places.join(", "),
        );
    }
}
