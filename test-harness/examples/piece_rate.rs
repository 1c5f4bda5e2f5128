//! `piece_rate`: how fast one payload moves between two processes over loopback, for each
//! pair of clients (bt → bt, bt → libtorrent, libtorrent → bt, libtorrent → libtorrent), at a
//! piece length of your choice. A quick look at one case of `bt-bench` (the same transfer
//! code, `bt_test_harness::bench::transfer`), made to compare piece sizes; it prints MiB/s
//! and asserts nothing.
//!
//! ```text
//! cargo build -p bt-cli
//! cargo run -p bt-test-harness --example piece_rate -- --size-mib 14 --piece-length 16384
//! ```
//!
//! The `bt` binary defaults to the one beside `target/<profile>/examples/`, so build it
//! with the same profile (`--release` for both gives figures worth comparing with bt-bench).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use bt_test_harness::bench::transfer::{self, Client, Fixture, Tools};
use bt_test_harness::bench::{Seeder, transfer::Transfer};
use bt_test_harness::reference::{PYTHON, require_libtorrent};
use clap::Parser;

/// Measures each pair of clients on one payload and prints MiB/s.
#[derive(Debug, Parser)]
#[command(name = "piece_rate")]
struct Args {
    /// The payload, MiB.
    #[arg(long, default_value_t = 14)]
    size_mib: u64,
    /// The piece length, bytes (a power of two, at least 16 KiB).
    #[arg(long, default_value_t = 16 * 1024)]
    piece_length: u32,
    /// The `bt` binary [default: `bt` in the directory above this example's].
    #[arg(long, value_name = "PATH")]
    bt: Option<PathBuf>,
    /// The Python interpreter that imports libtorrent.
    #[arg(long, value_name = "PATH", default_value = PYTHON)]
    python: PathBuf,
    /// The most one step (a check, a transfer) may take, seconds.
    #[arg(long, default_value_t = 120)]
    limit_s: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let bt = match &args.bt {
        Some(bt) => bt.clone(),
        None => std::env::current_exe()
            .context("locating this program")?
            .parent()
            .and_then(|examples| examples.parent())
            .context("the profile directory")?
            .join("bt"),
    };
    anyhow::ensure!(
        bt.is_file(),
        "no bt binary at {}: cargo build -p bt-cli",
        bt.display()
    );
    require_libtorrent(&args.python)?;
    let tools = Tools {
        bt,
        python: args.python.clone(),
        limit: Duration::from_secs(args.limit_s),
    };
    actix_rt::System::new().block_on(run(&args, &tools))
}

async fn run(args: &Args, tools: &Tools) -> anyhow::Result<()> {
    let fixture = Fixture::new("piece-rate.bin", args.size_mib << 20, args.piece_length, 7)?;
    println!(
        "{} MiB in pieces of {} KiB ({} pieces)",
        args.size_mib,
        args.piece_length / 1024,
        fixture.payload.torrent.info.piece_count()
    );
    for seeder_client in [Client::Bt, Client::Libtorrent] {
        let seeder = Seeder::start(seeder_client, &fixture, tools).await?;
        for leecher_client in [Client::Bt, Client::Libtorrent] {
            let figures = transfer::download(&fixture, &seeder, leecher_client, tools).await?;
            print_row(seeder_client, leecher_client, &figures);
        }
        seeder.stop(tools.limit).await?;
    }
    Ok(())
}

fn print_row(seeder: Client, leecher: Client, figures: &Transfer) {
    let name = |client| match client {
        Client::Bt => "bt",
        Client::Libtorrent => "libtorrent",
    };
    println!(
        "{:>10} -> {:<10} {:8.1} MiB/s  ({:.2} s; {:.1} MiB/s from spawn)",
        name(seeder),
        name(leecher),
        figures.mib_per_s(),
        figures.transfer_s,
        figures.mib_per_s_from_spawn(),
    );
}
