//! One seeder and about fifty leechers in this process, with heterogeneous upload capacities
//! and free riders; per scenario (how peers leave), one run per combination of choker and
//! piece order, repeated under a few seeds. Writes, per scenario and seed into
//! `OUT/SCENARIO/seed-N/`, a CSV per run (per peer: class, completion time, bytes up and down,
//! from whom), an SVG of completion times per class per run, the rarest piece's copies over
//! time (CSV and SVG), `runs.csv` and `summary.md`; per scenario `OUT/SCENARIO/pooled.md`,
//! free riders against contributors over the seeds; and prints every table.
//!
//! ```text
//! cargo run --release -p bt-examples --example swarm_experiment -- --out target/swarm-lab
//! cargo run --release -p bt-examples --example swarm_experiment -- \
//!     --scenario seeder-leaves --picker random --out target/swarm-lab
//! ```
//!
//! `--replot DIR` draws the plots and the summaries again from the CSVs of an earlier run in
//! DIR, without running anything. To run one's own choker or picker, call
//! `bt_examples::swarm_lab::run_experiment` with `RunSpec::custom` (see
//! `docs/EXPERIMENTS.md`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use bt_examples::swarm_lab::{
    ExperimentConfig, RunResult, Scenario, load_outputs, parse_choker, parse_picker, pooled_table,
    run_experiment, summary_table, write_outputs,
};
use clap::Parser;

/// Run the swarm lab. "The lab's" default is `ExperimentConfig::default()`'s (see
/// docs/EXPERIMENTS.md).
#[derive(Debug, Parser)]
struct Args {
    /// Scenarios to run, comma-separated: incentives (leechers leave once complete),
    /// seeder-leaves (the seeder leaves after 1.25 copies).
    #[arg(
        long,
        default_value = "incentives,seeder-leaves",
        value_delimiter = ','
    )]
    scenario: Vec<String>,
    /// Chokers to run instead of each scenario's: tit-for-tat, unchoke-all, random.
    #[arg(long, value_delimiter = ',')]
    choker: Option<Vec<String>>,
    /// Piece orders to run instead of each scenario's: rarest-first, random, sequential.
    #[arg(long, value_delimiter = ',')]
    picker: Option<Vec<String>>,
    /// Leechers per run, free riders included [default: the lab's].
    #[arg(long)]
    leechers: Option<usize>,
    /// Share of the leechers that upload nothing [default: the lab's].
    #[arg(long)]
    free_riders: Option<f64>,
    /// Payload size in KiB [default: the lab's].
    #[arg(long)]
    payload_kib: Option<u64>,
    /// Seeds the classes, the payload and every peer's choker and picker (the first
    /// repetition's; the next ones take the next seeds) [default: the lab's].
    #[arg(long)]
    seed: Option<u64>,
    /// Runs each combination under this many seeds (`--seed`, `--seed` + 1, ...) instead of
    /// each scenario's own number (incentives 2, seeder-leaves 1).
    #[arg(long)]
    repeat: Option<u64>,
    /// How many times faster than mainline the chokers' clock runs (intervals, snub time-out
    /// and rate window divided by it) [default: the lab's].
    #[arg(long)]
    time_scale: Option<u32>,
    /// Window of the rates the chokers rank peers by, in ms, instead of the engine's 20 s over the time scale.
    #[arg(long)]
    rate_window_ms: Option<u64>,
    /// Where the scenarios' directories go.
    #[arg(long, default_value = "target/swarm-lab")]
    out: PathBuf,
    /// Run nothing: read the CSVs of an earlier run (with `--out DIR`) from DIR and draw the
    /// plots and the summaries again into `--out` (give the same `--payload-kib`).
    #[arg(long)]
    replot: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // The lab's defaults are the library's, so the command and `ExperimentConfig::default()`
    // describe the same experiment.
    let lab = ExperimentConfig::default();
    let base = ExperimentConfig {
        leechers: args.leechers.unwrap_or(lab.leechers),
        free_riders: args.free_riders.unwrap_or(lab.free_riders),
        payload_len: args.payload_kib.map_or(lab.payload_len, |kib| kib * 1024),
        seed: args.seed.unwrap_or(lab.seed),
        time_scale: args.time_scale.unwrap_or(lab.time_scale),
        rate_window: args.rate_window_ms.map(Duration::from_millis),
        ..lab
    };
    let scenarios = args
        .scenario
        .iter()
        .map(|name| Scenario::by_name(name))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let seeds = |scenario: &Scenario| -> Vec<u64> {
        let repeat = args.repeat.unwrap_or(scenario.repeat).max(1);
        (0..repeat).map(|k| base.seed + k).collect()
    };
    if let Some(dir) = &args.replot {
        for scenario in &scenarios {
            let mut all = Vec::new();
            for seed in &seeds(scenario) {
                let from = dir.join(scenario.name).join(format!("seed-{seed}"));
                let results = load_outputs(&from, base.payload_len)
                    .with_context(|| format!("reading the runs in {}", from.display()))?;
                report(scenario, *seed, &results, &args.out)?;
                all.extend(results);
            }
            report_pooled(scenario, &all, &args.out)?;
        }
        return Ok(());
    }
    let chokers: Option<Vec<_>> = args
        .choker
        .map(|names| names.iter().map(|n| parse_choker(n)).collect())
        .transpose()?;
    let pickers: Option<Vec<_>> = args
        .picker
        .map(|names| names.iter().map(|n| parse_picker(n)).collect())
        .transpose()?;
    let began = Instant::now();
    actix::System::new().block_on(async {
        for scenario in &scenarios {
            let mut all = Vec::new();
            for seed in &seeds(scenario) {
                let config = ExperimentConfig {
                    seed: *seed,
                    ..scenario.config(&base)
                };
                let mut results = Vec::new();
                for spec in scenario.runs(chokers.as_deref(), pickers.as_deref()) {
                    let name = format!("{}/seed-{seed}/{}", scenario.name, spec.name());
                    eprintln!("running {name} with {} leechers ...", config.leechers);
                    let result = run_experiment(&config, spec)
                        .await
                        .with_context(|| format!("run {name}"))?;
                    eprintln!(
                        "  {} after {:.1} s",
                        result.end.name(),
                        result.wall.as_secs_f64()
                    );
                    results.push(result);
                }
                report(scenario, *seed, &results, &args.out)?;
                all.extend(results);
            }
            report_pooled(scenario, &all, &args.out)?;
        }
        anyhow::Ok(())
    })?;
    eprintln!("all runs took {:.1} s", began.elapsed().as_secs_f64());
    Ok(())
}

/// Writes one seed's files of a scenario into `OUT/SCENARIO/seed-N` and prints its summary.
fn report(scenario: &Scenario, seed: u64, results: &[RunResult], out: &Path) -> anyhow::Result<()> {
    let dir = out.join(scenario.name).join(format!("seed-{seed}"));
    let written = write_outputs(results, &dir)?;
    println!("## {}, seed {seed}: {}\n", scenario.name, scenario.about);
    println!("{}", summary_table(results));
    println!("wrote {} files to {}\n", written.len(), dir.display());
    Ok(())
}

/// Writes and prints the free riders against contributors over a scenario's seeds.
fn report_pooled(scenario: &Scenario, results: &[RunResult], out: &Path) -> anyhow::Result<()> {
    let table = pooled_table(results);
    let path = out.join(scenario.name).join("pooled.md");
    std::fs::write(&path, &table)?;
    println!(
        "## {}, every seed: free riders against contributors\n",
        scenario.name
    );
    println!("{table}");
    println!("wrote {}\n", path.display());
    Ok(())
}
