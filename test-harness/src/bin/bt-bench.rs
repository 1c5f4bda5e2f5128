//! `bt-bench`: measures bt against python3-libtorrent, every case of the performance issue in
//! one run, each case several rounds, and prints the table of medians (also written as
//! Markdown, with every round's figure as CSV and case 1's throughput over time as CSV and
//! SVG). See `bt_test_harness::bench` for the cases and the method.
//!
//! ```text
//! cargo build --release -p bt-cli
//! cargo run --release -p bt-test-harness --bin bt-bench -- [--quick] [--rounds N] [--out DIR]
//! ```

use std::path::PathBuf;

use anyhow::Context;
use bt_test_harness::bench::{self, BenchConfig, Sizes};
use bt_test_harness::reference::PYTHON;
use clap::Parser;

/// Measures bt against python3-libtorrent on loopback and prints the table.
#[derive(Debug, Parser)]
#[command(name = "bt-bench")]
struct Args {
    /// Small payloads (seconds, not minutes): keeps the benchmark working in CI; the figures
    /// are not comparable with the targets.
    #[arg(long)]
    quick: bool,
    /// How many times every case runs; the table shows the medians [default: 5, or 1 with
    /// --quick].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    rounds: Option<u16>,
    /// Where to write bt-bench.md, bt-bench.csv (every round) and case 1's throughput (CSV
    /// and SVG).
    #[arg(long, value_name = "DIR", default_value = "target/bench")]
    out: PathBuf,
    /// The bt binary [default: `bt` beside this program].
    #[arg(long, value_name = "PATH")]
    bt: Option<PathBuf>,
    /// The Python interpreter that imports libtorrent.
    #[arg(long, value_name = "PATH", default_value = PYTHON)]
    python: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let bt = match args.bt {
        Some(bt) => bt,
        None => std::env::current_exe()
            .context("locating this program")?
            .with_file_name("bt"),
    };
    let config = BenchConfig {
        quick: args.quick,
        rounds: usize::from(args.rounds.unwrap_or(if args.quick { 1 } else { 5 })),
        sizes: if args.quick {
            Sizes::quick()
        } else {
            Sizes::full()
        },
        bt,
        python: args.python,
        command: std::env::args().collect::<Vec<_>>().join(" "),
    };
    let outcome = actix_rt::System::new()
        .block_on(async { bench::run(&config, |step| eprintln!("bt-bench: {step}")).await })?;
    println!("{}", outcome.report.markdown());
    for path in bench::write(&outcome, &args.out)? {
        eprintln!("bt-bench: wrote {}", path.display());
    }
    Ok(())
}
