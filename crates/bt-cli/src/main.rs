//! `bt`: the command-line BitTorrent client.
//!
//! `main` only parses the command line and maps the outcome to an exit code: 0 on success, 1 on
//! a failure (one line on stderr naming the cause), 2 on a usage error (clap's own exit code).
//! Each subcommand lives in its own module under [`cmd`].

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Create(args) => cmd::create::run(&args),
        Command::Info(args) => cmd::info::run(&args),
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
