//! `leech_memory`: what a `bt download` leecher's memory does over a download, and how fast it
//! goes, for one or more `bt` builds run alternately against the same `bt seed` (A/B rounds on
//! a shared, noisy machine). For each run it samples `/proc/PID/status` (resident memory,
//! anonymous and file-backed, the peak) every `--sample-ms`, prints the peak and the rate
//! (from the leecher's `started` to its `completed` announce, as bt-bench does), and writes the
//! samples as CSV when asked. It asserts nothing; medians are printed per build and size.
//!
//! ```text
//! cargo build --release -p bt-cli
//! cargo run --release -p bt-test-harness --example leech_memory -- \
//!     --size-mib 256 --size-mib 4096 --rounds 3 \
//!     --variant base=/tmp/bt-base --variant new=target/release/bt --samples /tmp/mem
//! ```
//!
//! A variant is `NAME=PATH`; `--env NAME:KEY=VALUE` sets an environment variable for that
//! variant's leecher only (`--env base:MALLOC_ARENA_MAX=2`, `--env new:BT_PIECE_BUFFER_LIMIT=..`),
//! so one binary can be measured under several settings. The seeder is the first variant's
//! binary unless `--seeder` names another. Payloads go to the temporary directory and are
//! deleted at the end (a 4 GiB payload and its download need 8 GiB).

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bt_proto::PeerId;
use bt_proto::tracker::AnnounceEvent;
use bt_test_harness::bench::Seeder;
use bt_test_harness::bench::proc::cpu_seconds;
use bt_test_harness::bench::transfer::{Client, Fixture, Tools, gib, mib};
use clap::Parser;

/// Measures leecher memory and rate for each variant, alternately.
#[derive(Debug, Parser)]
#[command(name = "leech_memory")]
struct Args {
    /// A payload size, MiB (repeat for several).
    #[arg(long = "size-mib", required = true)]
    sizes_mib: Vec<u64>,
    /// The piece length, bytes.
    #[arg(long, default_value_t = 1 << 20)]
    piece_length: u32,
    /// Rounds per size: each round runs every variant once, in turn.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// A build to measure, `NAME=PATH` (repeat for several).
    #[arg(long = "variant", required = true)]
    variants: Vec<String>,
    /// An environment variable for one variant's leecher, `NAME:KEY=VALUE`.
    #[arg(long = "env")]
    envs: Vec<String>,
    /// The seeder's `bt` binary [default: the first variant's].
    #[arg(long)]
    seeder: Option<PathBuf>,
    /// How often memory is sampled, milliseconds.
    #[arg(long, default_value_t = 50)]
    sample_ms: u64,
    /// A directory to write each run's samples to, as CSV.
    #[arg(long)]
    samples: Option<PathBuf>,
    /// The most one transfer may take, seconds.
    #[arg(long, default_value_t = 300)]
    limit_s: u64,
}

/// One build under test, with its environment.
#[derive(Debug, Clone)]
struct Variant {
    name: String,
    bt: PathBuf,
    env: Vec<(String, String)>,
}

/// One sample of the leecher.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    at_s: f64,
    rss_kib: u64,
    anon_kib: u64,
    file_kib: u64,
    hwm_kib: u64,
    threads: u64,
    on_disk: u64,
}

/// The figures of one run.
#[derive(Debug)]
struct Run {
    rate_mib_s: f64,
    peak_mib: f64,
    cpu_s_per_gib: f64,
    samples: Vec<Sample>,
    /// What the leecher wrote to stderr.
    stderr: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let variants = parse_variants(&args)?;
    let seeder = args
        .seeder
        .clone()
        .unwrap_or_else(|| variants[0].bt.clone());
    let tools = Tools {
        bt: seeder,
        python: PathBuf::from("/usr/bin/python3"),
        limit: Duration::from_secs(args.limit_s),
    };
    if let Some(dir) = &args.samples {
        std::fs::create_dir_all(dir)?;
    }
    actix_rt::System::new().block_on(run(&args, &variants, &tools))
}

fn parse_variants(args: &Args) -> anyhow::Result<Vec<Variant>> {
    let mut variants: Vec<Variant> = Vec::new();
    for spec in &args.variants {
        let (name, path) = spec.split_once('=').context("a variant is NAME=PATH")?;
        let bt = PathBuf::from(path);
        anyhow::ensure!(bt.is_file(), "no bt binary at {}", bt.display());
        variants.push(Variant {
            name: name.to_owned(),
            bt,
            env: Vec::new(),
        });
    }
    for spec in &args.envs {
        let (name, pair) = spec.split_once(':').context("an env is NAME:KEY=VALUE")?;
        let (key, value) = pair.split_once('=').context("an env is NAME:KEY=VALUE")?;
        let variant = variants
            .iter_mut()
            .find(|v| v.name == name)
            .with_context(|| format!("no variant {name}"))?;
        variant.env.push((key.to_owned(), value.to_owned()));
    }
    Ok(variants)
}

async fn run(args: &Args, variants: &[Variant], tools: &Tools) -> anyhow::Result<()> {
    let mut results: BTreeMap<(u64, String), Vec<Run>> = BTreeMap::new();
    for &size in &args.sizes_mib {
        let fixture = Fixture::new("leech-memory.bin", size << 20, args.piece_length, 11)?;
        let seeder = Seeder::start(Client::Bt, &fixture, tools).await?;
        for round in 0..args.rounds {
            for variant in variants {
                let run = leech(&fixture, variant, args).await?;
                println!(
                    "{size:>5} MiB  round {round}  {:<10} {:7.1} MiB/s  peak {:5.1} MiB  {:.2} CPU s/GiB  (load {})",
                    variant.name,
                    run.rate_mib_s,
                    run.peak_mib,
                    run.cpu_s_per_gib,
                    load()
                );
                if let Some(dir) = &args.samples {
                    let name = format!("{}-{size}-{round}", variant.name);
                    write_samples(&dir.join(format!("{name}.csv")), &run.samples)?;
                    std::fs::write(dir.join(format!("{name}.stderr")), &run.stderr)?;
                }
                results
                    .entry((size, variant.name.clone()))
                    .or_default()
                    .push(run);
            }
        }
        seeder.stop(tools.limit).await?;
    }
    println!("\nmedians:");
    for ((size, name), runs) in &results {
        let med = |f: fn(&Run) -> f64| median(runs.iter().map(f).collect());
        println!(
            "{size:>5} MiB  {name:<10} {:7.1} MiB/s  peak {:5.1} MiB  {:.2} CPU s/GiB  (n = {})",
            med(|r| r.rate_mib_s),
            med(|r| r.peak_mib),
            med(|r| r.cpu_s_per_gib),
            runs.len()
        );
    }
    Ok(())
}

/// Downloads the fixture with one variant into a fresh directory, sampling its memory.
async fn leech(fixture: &Fixture, variant: &Variant, args: &Args) -> anyhow::Result<Run> {
    let out = tempfile::Builder::new().prefix("leech-memory-").tempdir()?;
    let file = out.path().join(&fixture.payload.torrent.info.name);
    let known: HashSet<PeerId> = fixture
        .tracker
        .announces()
        .iter()
        .map(|a| a.peer_id)
        .collect();
    let log = out.path().join("stderr");
    let mut child = Command::new(&variant.bt)
        .arg("download")
        .arg(&fixture.torrent)
        .arg("-o")
        .arg(out.path())
        .args(["--listen", "127.0.0.1:0"])
        .envs(variant.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log)?)
        .spawn()
        .with_context(|| format!("starting {}", variant.bt.display()))?;
    let pid = child.id();
    let spawned = Instant::now();
    let deadline = spawned + Duration::from_secs(args.limit_s);
    let mut samples = Vec::new();
    let mut cpu_s = 0.0;
    let status = loop {
        if let Some(mut sample) = sample(pid) {
            sample.at_s = spawned.elapsed().as_secs_f64();
            sample.on_disk = allocated(&file);
            samples.push(sample);
            cpu_s = cpu_seconds(pid).unwrap_or(cpu_s);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            bail!("the leecher did not finish within {} s", args.limit_s);
        }
        tokio::time::sleep(Duration::from_millis(args.sample_ms)).await;
    };
    if !status.success() {
        bail!(
            "bt download {status}:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
    let hash = fixture.payload.info_hash();
    let announces = fixture.tracker.announces();
    let mine = |event| {
        announces
            .iter()
            .find(|a| a.info_hash == hash && !known.contains(&a.peer_id) && a.event == event)
            .map(|a| a.at)
    };
    let (Some(started), Some(completed)) =
        (mine(AnnounceEvent::Started), mine(AnnounceEvent::Completed))
    else {
        bail!("the leecher exited without announcing started and completed");
    };
    let bytes = fixture.len();
    let peak_kib = samples.iter().map(|s| s.hwm_kib).max().unwrap_or(0);
    Ok(Run {
        rate_mib_s: mib(bytes) / (completed - started).as_secs_f64(),
        peak_mib: peak_kib as f64 / 1024.0,
        cpu_s_per_gib: cpu_s / gib(bytes),
        samples,
        stderr: std::fs::read_to_string(&log).unwrap_or_default(),
    })
}

/// The leecher's memory now, from `/proc/PID/status`, or `None` once it is gone.
fn sample(pid: u32) -> Option<Sample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    Some(Sample {
        rss_kib: field("VmRSS:"),
        anon_kib: field("RssAnon:"),
        file_kib: field("RssFile:"),
        hwm_kib: field("VmHWM:"),
        threads: field("Threads:"),
        ..Sample::default()
    })
}

/// Bytes the file holds on disk (it is sparse until written).
fn allocated(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).map_or(0, |m| m.blocks() * 512)
}

fn write_samples(path: &Path, samples: &[Sample]) -> anyhow::Result<()> {
    let mut text = String::from("seconds,rss_kib,anon_kib,file_kib,hwm_kib,threads,on_disk_mib\n");
    for s in samples {
        writeln!(
            text,
            "{:.3},{},{},{},{},{},{:.1}",
            s.at_s,
            s.rss_kib,
            s.anon_kib,
            s.file_kib,
            s.hwm_kib,
            s.threads,
            mib(s.on_disk)
        )?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// The 1-minute load average.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default()
}
