//! The benchmark behind the `bt-bench` binary: every case of the performance issue in one
//! run, side by side, as one table.
//!
//! 1. bt → bt, two processes (`bt seed`, `bt download`): MiB/s, the leecher's CPU s/GiB and
//!    peak memory, and the throughput over time.
//! 2. libtorrent → bt and libtorrent → libtorrent: MiB/s and leecher CPU s/GiB, as ratios.
//! 3. bt → libtorrent against libtorrent → libtorrent: the upload path, as a ratio.
//! 4. The bt leecher's peak RSS for a small and a large payload.
//! 5. A swarm of 1 seeder and 20 leechers in this process: time until all complete, and the
//!    seeder's upload in copies of the payload.
//! 6. The resume check: re-verifying data already on disk, GB/s.
//! 7. The machine's limits measured in the same run (SHA-1 on one core, one loopback TCP
//!    connection); the transfer figures are shown as a fraction of the lower.
//!
//! Rates are measured between the leecher's `started` and `completed` announces, on the mock
//! tracker's clock (see [`transfer`]), so neither client's start-up counts; the rate from
//! spawning the process is in the table as well. Every payload is a single file; every
//! transfer is checked byte for byte afterwards.
//!
//! One run on a 2-core VM decides little, so every case runs [`BenchConfig::rounds`] times:
//! the transfers interleaved, one of each per round in an order that changes (see
//! [`rounds`]), the others back to back. The table shows each figure's median with the range
//! of the rounds; ratios are taken within a round before their median ([`stats`]); targets
//! are judged on medians.
//!
//! # Layout
//! - this module: [`Sizes`], [`BenchConfig`], [`run`], [`write`](fn@write).
//! - [`rounds`]: the order of the transfers in each round; one transfer with a fresh seeder.
//! - [`transfer`]: one download between two processes, measured from outside.
//! - `seeder`: [`Seeder`], `bt seed` or libtorrent serving a payload.
//! - `process`: a `bt` child process.
//! - [`inprocess`]: the swarm and the resume check, on engine sessions in this process.
//! - [`limits`]: SHA-1 and loopback throughput.
//! - [`proc`]: CPU time and peak memory of a process from `/proc`.
//! - `table`: every round's figures as the rows of the table.
//! - [`stats`]: median and range of the rounds; ratios within a round.
//! - [`report`]: the table as Markdown (medians) and CSV (every round).
//! - [`host`]: the machine, its load average, the date.
//! - [`plot`]: throughput over time as CSV and SVG, a curve per round.
//! - `verify`: byte-for-byte comparison of large files.

pub mod host;
pub mod inprocess;
pub mod limits;
pub mod plot;
pub mod proc;
mod process;
pub mod report;
pub mod rounds;
mod seeder;
pub mod stats;
mod table;
pub mod transfer;
mod verify;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::reference::require_libtorrent;
use plot::Curve;
use report::Report;
use rounds::{Pair, TransferRound};
pub use seeder::Seeder;
use table::Figures;
use transfer::{Fixture, Tools, Transfer, mib};

/// Payload sizes of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sizes {
    /// Cases 1 to 3 and 6: the transferred and re-verified payload.
    pub transfer: u64,
    /// Its piece length.
    pub transfer_piece: u32,
    /// Case 4: the small and the large payload.
    pub memory: [u64; 2],
    /// Case 5: the swarm's payload.
    pub swarm: u64,
    /// Its piece length.
    pub swarm_piece: u32,
    /// Case 5: leechers beside the one seeder.
    pub swarm_leechers: usize,
    /// Case 7: bytes hashed.
    pub sha1: u64,
    /// Case 7: bytes sent over loopback.
    pub loopback: u64,
    /// The most one step (a check, a transfer) may take.
    pub step_limit: Duration,
}

const MIB: u64 = 1 << 20;

impl Sizes {
    /// The sizes: 1 GiB in 1 MiB pieces, 256 MiB and 4 GiB, a 64 MiB swarm of 21.
    pub fn full() -> Self {
        Self {
            transfer: 1024 * MIB,
            transfer_piece: MIB as u32,
            memory: [256 * MIB, 4096 * MIB],
            swarm: 64 * MIB,
            swarm_piece: 256 * 1024,
            swarm_leechers: 20,
            sha1: 1024 * MIB,
            loopback: 4096 * MIB,
            step_limit: Duration::from_secs(300),
        }
    }

    /// Small payloads that keep every case working in seconds (CI).
    pub fn quick() -> Self {
        Self {
            transfer: 16 * MIB,
            transfer_piece: 256 * 1024,
            memory: [8 * MIB, 32 * MIB],
            swarm: 4 * MIB,
            swarm_piece: 64 * 1024,
            swarm_leechers: 5,
            sha1: 64 * MIB,
            loopback: 256 * MIB,
            step_limit: Duration::from_secs(120),
        }
    }
}

/// What to run, with what.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Small payloads; targets are not judged.
    pub quick: bool,
    /// How many times every case runs (at least 1).
    pub rounds: usize,
    /// The payload sizes.
    pub sizes: Sizes,
    /// The `bt` binary.
    pub bt: PathBuf,
    /// The Python interpreter with libtorrent.
    pub python: PathBuf,
    /// The command line, for the report.
    pub command: String,
}

/// A finished run: the table and the samples behind case 1's plot.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The table.
    pub report: Report,
    /// Case 1's download in each round, as curves of (seconds, bytes on disk) samples.
    pub case1: Vec<Curve>,
}

/// Runs every case `config.rounds` times; `log` hears what is starting. Must run inside an
/// actix `System`.
pub async fn run(config: &BenchConfig, log: impl Fn(&str)) -> anyhow::Result<Outcome> {
    require_libtorrent(&config.python)?;
    if !config.bt.is_file() {
        bail!(
            "no bt binary at {}: build it (cargo build --release -p bt-cli) or pass --bt PATH",
            config.bt.display()
        );
    }
    anyhow::ensure!(config.rounds >= 1, "at least one round");
    let started = Instant::now();
    let load_before = host::load_average();
    let (sizes, n) = (&config.sizes, config.rounds);
    let tools = Tools {
        bt: config.bt.clone(),
        python: config.python.clone(),
        limit: sizes.step_limit,
    };
    log(&format!(
        "7. limits, {n} times: SHA-1 on one core, one loopback TCP connection"
    ));
    let mut sha1_bps = Vec::new();
    let mut loopback_bps = Vec::new();
    for _ in 0..n {
        sha1_bps.push(limits::sha1_rate(sizes.sha1));
        loopback_bps.push(limits::loopback_rate(sizes.loopback)?);
    }

    log(&format!("generating {}", size(sizes.transfer)));
    let fixture = Fixture::new("bench.bin", sizes.transfer, sizes.transfer_piece, 1)?;
    let mut transfers = Vec::new();
    for round in 0..n {
        transfers.push(rounds::transfer_round(&fixture, &tools, round, &log).await?);
    }
    log(&format!("6. resume check, {n} times"));
    let mut resume_s = Vec::new();
    for _ in 0..n {
        resume_s.push(inprocess::resume_check(&fixture, tools.limit).await?);
    }
    drop(fixture);

    let memory = memory_rounds(sizes, &tools, n, &log).await?;

    log(&format!(
        "5. swarm: 1 + {}, {n} times",
        sizes.swarm_leechers
    ));
    let mut swarm = Vec::new();
    for _ in 0..n {
        swarm.push(
            inprocess::swarm(
                sizes.swarm,
                sizes.swarm_piece,
                sizes.swarm_leechers,
                tools.limit,
            )
            .await?,
        );
    }

    let case1 = case1_curves(&transfers);
    let notes = vec![
        format!("order of the transfers: {}", orders(&transfers)),
        format!(
            "load average (1, 5, 15 min): {load_before} at the start, {} at the end",
            host::load_average()
        ),
        format!("wall time: {:.0} s", started.elapsed().as_secs_f64()),
    ];
    let figures = Figures {
        sha1_bps,
        loopback_bps,
        transfers,
        memory,
        swarm,
        resume_s,
    };
    Ok(Outcome {
        report: Report {
            quick: config.quick,
            date: host::utc_now(),
            machine: host::machine(),
            command: config.command.clone(),
            rounds: n,
            notes,
            rows: table::rows(&figures, sizes),
        },
        case1,
    })
}

/// Case 4: the bt leecher's peak memory at the small and the large size, `n` rounds, the
/// sizes alternating which goes first. Both payloads stay on disk until the last round.
async fn memory_rounds(
    sizes: &Sizes,
    tools: &Tools,
    n: usize,
    log: &impl Fn(&str),
) -> anyhow::Result<Vec<[Transfer; 2]>> {
    let mut fixtures = Vec::new();
    for (i, &len) in sizes.memory.iter().enumerate() {
        log(&format!("generating {}", size(len)));
        fixtures.push(Fixture::new("memory.bin", len, MIB as u32, 2 + i as u64)?);
    }
    let mut memory = Vec::new();
    for round in 0..n {
        let mut pair: [Option<Transfer>; 2] = Default::default();
        for i in rounds::memory_order(round) {
            let len = sizes.memory[i];
            log(&format!(
                "round {}: 4. memory, bt → bt, {}",
                round + 1,
                size(len)
            ));
            pair[i] = Some(rounds::transfer(&fixtures[i], Pair::BtToBt, tools).await?);
        }
        let [Some(small), Some(large)] = pair else {
            bail!("invariant: a memory round runs both sizes");
        };
        memory.push([small, large]);
    }
    Ok(memory)
}

/// Case 1's download of each round as a curve, the median round (by MiB/s) highlighted.
fn case1_curves(transfers: &[TransferRound]) -> Vec<Curve> {
    let rates: Vec<f64> = transfers
        .iter()
        .map(|r| r.get(Pair::BtToBt).mib_per_s())
        .collect();
    let median = stats::median_index(&rates);
    let several = transfers.len() > 1;
    transfers
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let highlight = several && Some(i) == median;
            Curve {
                round: i + 1,
                label: format!(
                    "round {}: {:.0} MiB/s{}",
                    i + 1,
                    rates[i],
                    if highlight { " (median)" } else { "" }
                ),
                samples: r.get(Pair::BtToBt).samples.clone(),
                highlight,
            }
        })
        .collect()
}

/// The transfers' order in each round: "1: bt → bt, …; 2: …".
fn orders(transfers: &[TransferRound]) -> String {
    transfers
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let order: Vec<String> = r.order.iter().map(|p| p.label()).collect();
            format!("{}: {}", i + 1, order.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `bytes` as "16 MiB" or "4 GiB".
fn size(bytes: u64) -> String {
    if bytes >= 1024 * MIB && bytes % (1024 * MIB) == 0 {
        format!("{} GiB", bytes / (1024 * MIB))
    } else {
        format!("{:.0} MiB", mib(bytes))
    }
}

/// The plot's title: the case, and how many rounds it draws.
fn case1_title(rounds: usize) -> String {
    match rounds {
        1 => "bt → bt, two processes".to_owned(),
        n => format!("bt → bt, two processes: {n} rounds, the median round bold"),
    }
}

/// Writes `bt-bench.md`, `bt-bench.csv`, `case1-throughput.csv` and `case1-throughput.svg`
/// into `dir` (created if missing); returns their paths.
pub fn write(outcome: &Outcome, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let files = [
        ("bt-bench.md", outcome.report.markdown()),
        ("bt-bench.csv", outcome.report.csv()),
        ("case1-throughput.csv", plot::samples_csv(&outcome.case1)),
        (
            "case1-throughput.svg",
            plot::throughput_svg(&outcome.case1, &case1_title(outcome.case1.len())),
        ),
    ];
    files
        .into_iter()
        .map(|(name, text)| {
            let path = dir.join(name);
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            Ok(path)
        })
        .collect()
}
