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
//! # Layout
//! - this module: [`Sizes`], [`BenchConfig`], [`run`], [`write`](fn@write).
//! - [`transfer`]: one download between two processes, measured from outside.
//! - `seeder`: [`Seeder`], `bt seed` or libtorrent serving a payload.
//! - `process`: a `bt` child process.
//! - [`inprocess`]: the swarm and the resume check, on engine sessions in this process.
//! - [`limits`]: SHA-1 and loopback throughput.
//! - [`proc`]: CPU time and peak memory of a process from `/proc`.
//! - [`report`]: the table as Markdown and CSV.
//! - [`plot`]: throughput over time as CSV and SVG.
//! - `verify`: byte-for-byte comparison of large files.

pub mod inprocess;
pub mod limits;
pub mod plot;
pub mod proc;
mod process;
pub mod report;
mod seeder;
pub mod transfer;
mod verify;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::reference::require_libtorrent;
use report::{Report, Row, Target};
pub use seeder::Seeder;
use transfer::{Client, Fixture, Tools, Transfer, mib};

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
    /// Case 1's (seconds, bytes on disk) samples.
    pub case1_samples: Vec<(f64, u64)>,
}

/// Every figure of a run, before it becomes rows.
struct Figures {
    sha1_bps: f64,
    loopback_bps: f64,
    bt_bt: Transfer,
    lt_bt: Transfer,
    lt_lt: Transfer,
    bt_lt: Transfer,
    memory: [Transfer; 2],
    swarm: inprocess::SwarmRun,
    resume_s: f64,
}

/// Runs every case; `log` hears what is starting. Must run inside an actix `System`.
pub async fn run(config: &BenchConfig, log: impl Fn(&str)) -> anyhow::Result<Outcome> {
    require_libtorrent(&config.python)?;
    if !config.bt.is_file() {
        bail!(
            "no bt binary at {}: build it (cargo build --release -p bt-cli) or pass --bt PATH",
            config.bt.display()
        );
    }
    let sizes = &config.sizes;
    let tools = Tools {
        bt: config.bt.clone(),
        python: config.python.clone(),
        limit: sizes.step_limit,
    };
    log("7. limits: SHA-1 on one core, one loopback TCP connection");
    let sha1_bps = limits::sha1_rate(sizes.sha1);
    let loopback_bps = limits::loopback_rate(sizes.loopback)?;

    log(&format!("generating {}", size(sizes.transfer)));
    let fixture = Fixture::new("bench.bin", sizes.transfer, sizes.transfer_piece, 1)?;
    let seeder = Seeder::start(Client::Bt, &fixture, &tools).await?;
    log("1. bt → bt");
    let bt_bt = transfer::download(&fixture, &seeder, Client::Bt, &tools).await?;
    log("3. bt → libtorrent");
    let bt_lt = transfer::download(&fixture, &seeder, Client::Libtorrent, &tools).await?;
    seeder.stop(tools.limit).await?;
    let seeder = Seeder::start(Client::Libtorrent, &fixture, &tools).await?;
    log("2. libtorrent → bt");
    let lt_bt = transfer::download(&fixture, &seeder, Client::Bt, &tools).await?;
    log("2. libtorrent → libtorrent");
    let lt_lt = transfer::download(&fixture, &seeder, Client::Libtorrent, &tools).await?;
    seeder.stop(tools.limit).await?;
    log("6. resume check");
    let resume_s = inprocess::resume_check(&fixture, tools.limit).await?;
    drop(fixture);

    let mut memory = Vec::new();
    for (i, &len) in sizes.memory.iter().enumerate() {
        log(&format!("4. memory: bt → bt, {}", size(len)));
        let fixture = Fixture::new("memory.bin", len, MIB as u32, 2 + i as u64)?;
        let seeder = Seeder::start(Client::Bt, &fixture, &tools).await?;
        memory.push(transfer::download(&fixture, &seeder, Client::Bt, &tools).await?);
        seeder.stop(tools.limit).await?;
    }
    let memory: [Transfer; 2] = memory
        .try_into()
        .map_err(|_| anyhow::anyhow!("two memory runs"))?;

    log(&format!("5. swarm: 1 + {}", sizes.swarm_leechers));
    let swarm = inprocess::swarm(
        sizes.swarm,
        sizes.swarm_piece,
        sizes.swarm_leechers,
        tools.limit,
    )
    .await?;

    let case1_samples = bt_bt.samples.clone();
    let figures = Figures {
        sha1_bps,
        loopback_bps,
        bt_bt,
        lt_bt,
        lt_lt,
        bt_lt,
        memory,
        swarm,
        resume_s,
    };
    Ok(Outcome {
        report: Report {
            quick: config.quick,
            date: report::utc_now(),
            machine: report::machine(),
            command: config.command.clone(),
            rows: rows(&figures, sizes),
        },
        case1_samples,
    })
}

/// The table, in case order.
fn rows(f: &Figures, sizes: &Sizes) -> Vec<Row> {
    let limit_mib = mib_f(f.sha1_bps.min(f.loopback_bps));
    let payload = size(sizes.transfer);
    let case1 = format!("1. bt → bt, {payload}");
    let case2 = format!("2. libtorrent → bt, {payload}");
    let case2_ref = format!("2. libtorrent → libtorrent, {payload}");
    let case3 = format!("3. bt → libtorrent, {payload}");
    let rate =
        |case: &str, t: &Transfer| Row::new(case, "MiB/s", t.mib_per_s()).of_limit(limit_mib);
    let from_spawn = |case: &str, t: &Transfer| {
        Row::new(
            case,
            "MiB/s from the leecher's start",
            t.mib_per_s_from_spawn(),
        )
    };
    let leecher_cpu =
        |case: &str, t: &Transfer| Row::new(case, "leecher CPU s/GiB", t.leecher_cpu_per_gib());
    let seeder_cpu =
        |case: &str, t: &Transfer| Row::new(case, "seeder CPU s/GiB", t.seeder_cpu_per_gib());
    let rss = |case: &str, t: &Transfer| {
        Row::new(
            case,
            "leecher peak RSS, MiB",
            t.leecher_peak_rss_kib as f64 / 1024.0,
        )
    };
    let [small, large] = &f.memory;
    let case4 = |t: &Transfer| format!("4. memory, bt → bt, {}", size(t.bytes));
    let swarm = format!(
        "5. swarm, 1 + {} in-process, {}",
        sizes.swarm_leechers,
        size(sizes.swarm)
    );
    vec![
        rate(&case1, &f.bt_bt).target(Target::AtLeast(700.0)),
        from_spawn(&case1, &f.bt_bt),
        leecher_cpu(&case1, &f.bt_bt),
        rss(&case1, &f.bt_bt),
        seeder_cpu(&case1, &f.bt_bt),
        rate(&case2, &f.lt_bt),
        from_spawn(&case2, &f.lt_bt),
        leecher_cpu(&case2, &f.lt_bt),
        rate(&case2_ref, &f.lt_lt),
        from_spawn(&case2_ref, &f.lt_lt),
        leecher_cpu(&case2_ref, &f.lt_lt),
        seeder_cpu(&case2_ref, &f.lt_lt),
        Row::new(
            "2. ratio",
            "MiB/s, bt leecher / libtorrent leecher",
            f.lt_bt.mib_per_s() / f.lt_lt.mib_per_s(),
        )
        .target(Target::AtLeast(1.0)),
        Row::new(
            "2. ratio",
            "leecher CPU, bt / libtorrent",
            f.lt_bt.leecher_cpu_per_gib() / f.lt_lt.leecher_cpu_per_gib(),
        )
        .target(Target::AtMost(1.0)),
        rate(&case3, &f.bt_lt),
        seeder_cpu(&case3, &f.bt_lt),
        Row::new(
            "3. ratio",
            "MiB/s, bt seeder / libtorrent seeder",
            f.bt_lt.mib_per_s() / f.lt_lt.mib_per_s(),
        )
        .target(Target::AtLeast(1.5)),
        Row::new(
            "3. ratio",
            "seeder CPU, bt / libtorrent",
            f.bt_lt.seeder_cpu_per_gib() / f.lt_lt.seeder_cpu_per_gib(),
        ),
        rss(&case4(small), small).target(Target::AtMost(64.0)),
        rss(&case4(large), large).target(Target::AtMost(64.0)),
        Row::new(
            "4. ratio",
            "peak RSS, large / small",
            large.leecher_peak_rss_kib as f64 / small.leecher_peak_rss_kib.max(1) as f64,
        )
        .target(Target::AtMost(1.1)),
        Row::new(&swarm, "seconds until all complete", f.swarm.all_complete_s)
            .target(Target::AtMost(30.0)),
        Row::new(
            &swarm,
            "seeder upload / payload",
            f.swarm.seeder_upload_copies,
        )
        .target(Target::AtMost(3.0)),
        Row::new(
            &format!("6. resume check, {payload}"),
            "GB/s",
            sizes.transfer as f64 / f.resume_s / 1e9,
        )
        .of_limit(f.sha1_bps / 1e9)
        .target(Target::AtLeast(1.0)),
        Row::new("7. limits", "SHA-1 on one core, GB/s", f.sha1_bps / 1e9),
        Row::new(
            "7. limits",
            "loopback TCP, one connection, MiB/s",
            mib_f(f.loopback_bps),
        ),
        Row::new("7. limits", "download limit (the lower), MiB/s", limit_mib),
    ]
}

fn mib_f(bytes_per_s: f64) -> f64 {
    bytes_per_s / MIB as f64
}

/// `bytes` as "16 MiB" or "4 GiB".
fn size(bytes: u64) -> String {
    if bytes >= 1024 * MIB && bytes % (1024 * MIB) == 0 {
        format!("{} GiB", bytes / (1024 * MIB))
    } else {
        format!("{:.0} MiB", mib(bytes))
    }
}

/// Writes `bt-bench.md`, `bt-bench.csv`, `case1-throughput.csv` and `case1-throughput.svg`
/// into `dir` (created if missing); returns their paths.
pub fn write(outcome: &Outcome, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let files = [
        ("bt-bench.md", outcome.report.markdown()),
        ("bt-bench.csv", outcome.report.csv()),
        (
            "case1-throughput.csv",
            plot::samples_csv(&outcome.case1_samples),
        ),
        (
            "case1-throughput.svg",
            plot::throughput_svg(&outcome.case1_samples, "bt → bt, two processes"),
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
