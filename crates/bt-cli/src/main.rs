//! `bt`: the command-line BitTorrent client.
//!
//! `main` only parses the command line, sets up logging, and maps the outcome to an exit
//! code: 0 on success, 1 on a failure (one line on stderr naming the cause), 2 on a usage
//! error (clap's own exit code). Each subcommand lives in its own module under [`cmd`].
//!
//! Logging goes to stderr, filtered by `BT_LOG` (as `RUST_LOG`: `BT_LOG=bt_engine=debug`),
//! warnings only by default.

mod cmd;
mod format;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// bt: a fast BitTorrent client and library.
#[derive(Debug, Parser)]
#[command(name = "bt", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a .torrent file from a file or a directory.
    Create(cmd::create::CreateArgs),
    /// Show what a .torrent file or a magnet link describes: name, info-hash, size, files.
    Info(cmd::info::InfoArgs),
    /// Download a torrent's files into a directory (and optionally keep seeding).
    Download(cmd::download::DownloadArgs),
    /// Serve a torrent's files from a directory until interrupted.
    Seed(cmd::seed::SeedArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let outcome = match cli.command {
        Command::Create(args) => cmd::create::run(&args),
        Command::Info(args) => cmd::info::run(&args),
        Command::Download(args) => cmd::download::run(&args),
        Command::Seed(args) => cmd::seed::run(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the whole cause chain on one line: "reading x: permission denied".
            eprintln!("bt: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr, filtered by `BT_LOG` (default: warnings); actix's `log` records included.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
