//! One seeder and about fifty leechers in this process, with heterogeneous upload capacities
//! and free riders; one run per combination of choker and piece order named on the command
//! line. Writes a CSV per run (per peer: class, completion time, bytes up and down, from whom),
//! an SVG of completion times per class per run, the rarest piece's copies over time (CSV and
//! SVG), and prints a summary table (also written as `summary.md`).
//!
//! ```text
//! cargo run --release -p bt-examples --example swarm_experiment -- \
//!     --choker tit-for-tat,unchoke-all --picker rarest-first,random,sequential \
//!     --out target/swarm-lab
//! ```
//!
//! `--replot DIR` draws the plots and the summary again from the CSVs of an earlier run in
//! DIR, without running anything.
//!
//! See `docs/EXPERIMENTS.md` for what it measures and a full run's results.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use bt_examples::swarm_lab::{
    ExperimentConfig, RunSpec, load_outputs, parse_choker, parse_picker, run_experiment,
    summary_table, write_outputs,
};
use clap::Parser;

/// Run the swarm lab.
#[derive(Debug, Parser)]
struct Args {
    /// Chokers to run, comma-separated: tit-for-tat, unchoke-all, random.
    #[arg(long, default_value = "tit-for-tat,unchoke-all", value_delimiter = ',')]
    choker: Vec<String>,
    /// Piece orders to run, comma-separated: rarest-first, random, sequential.
    #[arg(
        long,
        default_value = "rarest-first,random,sequential",
        value_delimiter = ','
    )]
    picker: Vec<String>,
    /// Leechers per run, free riders included.
    #[arg(long, default_value_t = 50)]
    leechers: usize,
    /// Share of the leechers that upload nothing.
    #[arg(long, default_value_t = 0.1)]
    free_riders: f64,
    /// Payload size in KiB.
    #[arg(long, default_value_t = 2048)]
    payload_kib: u64,
    /// Seeds the classes and the payload.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Window of the rates the chokers rank peers by, in ms (the engine's default: 20 s).
    #[arg(long, default_value_t = 20_000)]
    rate_window_ms: u64,
    /// Leechers leave the swarm as soon as they complete, instead of seeding.
    #[arg(long)]
    leave_on_complete: bool,
    /// Where the CSVs, plots and summary go.
    #[arg(long, default_value = "target/swarm-lab")]
    out: PathBuf,
    /// Run nothing: read the CSVs of an earlier run from this directory and draw the plots
    /// and the summary again into `--out` (give the same `--payload-kib`).
    #[arg(long)]
    replot: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = ExperimentConfig {
        leechers: args.leechers,
        free_riders: args.free_riders,
        payload_len: args.payload_kib * 1024,
        seed: args.seed,
        rate_window: Duration::from_millis(args.rate_window_ms),
        leave_on_complete: args.leave_on_complete,
        ..ExperimentConfig::default()
    };
    if let Some(dir) = &args.replot {
        let results = load_outputs(dir, config.payload_len)
            .with_context(|| format!("reading the runs in {}", dir.display()))?;
        let written = write_outputs(&results, &args.out)?;
        println!("{}", summary_table(&results));
        println!("wrote {} files to {}", written.len(), args.out.display());
        return Ok(());
    }
    let mut specs = Vec::new();
    for choker in &args.choker {
        for picker in &args.picker {
            specs.push(RunSpec {
                choker: parse_choker(choker)?,
                picker: parse_picker(picker)?,
            });
        }
    }
    let results = actix::System::new().block_on(async {
        let mut results = Vec::new();
        for spec in specs {
            eprintln!(
                "running {} with {} leechers ...",
                spec.name(),
                config.leechers
            );
            let result = run_experiment(&config, spec)
                .await
                .with_context(|| format!("run {}", spec.name()))?;
            eprintln!("  done in {:.1} s", result.wall.as_secs_f64());
            results.push(result);
        }
        anyhow::Ok(results)
    })?;
    let written = write_outputs(&results, &args.out)?;
    println!("{}", summary_table(&results));
    println!("wrote {} files to {}", written.len(), args.out.display());
    Ok(())
}
