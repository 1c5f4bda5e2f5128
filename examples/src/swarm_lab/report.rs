//! [`RunResult`]: one run's records, written as CSV and summarised in a table.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

use super::{PeerClass, PeerRecord, RarestSample, RunSpec};

/// The columns of a run's CSV, one row per peer (the seeder first).
pub const CSV_HEADER: &str = "run,peer,class,upload_limit,start_s,completion_s,tail_s,\
uploaded,downloaded,from_seeder,from_fast,from_medium,from_slow,from_free_rider";

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
    /// From the seeder's readiness to the last completion (or the time-out).
    pub wall: Duration,
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

    /// When every piece first had a copy at some leecher, seconds.
    pub fn all_pieces_out(&self) -> Option<f64> {
        self.samples
            .iter()
            .find(|s| s.min_copies > 0)
            .map(|s| s.at.as_secs_f64())
    }

    /// The copies of the rarest piece among the leechers still downloading, averaged over
    /// the samples taken while some leecher was: the piece diversity of the peers that still
    /// trade (a complete leecher has every piece, so it is left out).
    pub fn mean_rarest_copies(&self) -> f64 {
        let leechers = self
            .peers
            .iter()
            .filter(|p| p.class != PeerClass::Seeder)
            .count();
        let during: Vec<&RarestSample> = self
            .samples
            .iter()
            .filter(|s| s.complete < leechers)
            .collect();
        if during.is_empty() {
            return 0.0;
        }
        let sum: f64 = during
            .iter()
            .map(|s| f64::from(s.rarest_incomplete()))
            .sum();
        sum / during.len() as f64
    }
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

/// The summary table of several runs, as printed and as pasted into docs (Markdown).
pub fn summary_table(results: &[RunResult]) -> String {
    let mut out = String::new();
    let secs = |s: Option<f64>| s.map(|s| format!("{s:.1}")).unwrap_or_else(|| "-".into());
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
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| run | wall s | seeder upload (copies) | every piece at a leecher after s | rarest piece among the leechers still downloading, mean copies |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    for result in results {
        let copies = result.seeder_upload() as f64 / result.payload_len.max(1) as f64;
        let _ = writeln!(
            out,
            "| {} | {:.1} | {:.1} MiB ({copies:.1}) | {} | {:.1} |",
            result.name,
            result.wall.as_secs_f64(),
            result.seeder_upload() as f64 / f64::from(1 << 20),
            secs(result.all_pieces_out()),
            result.mean_rarest_copies()
        );
    }
    out
}
