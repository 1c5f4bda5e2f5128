//! `bt`: the command-line BitTorrent client.
//!
//! `main` only parses the command line, sets up the console and logging, and maps the outcome
//! to an exit code: 0 on success, 1 on a failure (one line on stderr naming the cause), 2 on a
//! usage error (clap's own exit code). Each subcommand lives in its own module under [`cmd`].
//!
//! # Layout
//! - [`cmd`]: one module per subcommand.
//! - [`console`]: progress bars or plain lines, status messages.
//! - [`logging`]: tracing to stderr through the console.
//! - [`runner`]: running torrents in a session until done, seeding targets, Ctrl-C.
//! - [`settings`]: the configuration layers (defaults, file, `BT_*`, flags).
//! - [`signals`]: Ctrl-C and SIGTERM.
//! - [`trackers`]: what the user is told about trackers that fail, refuse, or cannot be used.
//! - [`format`]: sizes, rates and durations for people.
//! - [`help`]: the examples and explanations after each command's options.

mod cmd;
mod console;
mod format;
mod help;
mod logging;
mod runner;
mod settings;
mod signals;
mod trackers;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgAction, Parser, Subcommand};

use console::{Console, ProgressMode};

/// The heading of the options every command takes.
const GLOBAL: &str = "Global options";

/// bt: a fast BitTorrent client. Start with `bt demo`, which downloads a generated file from
/// a seeder on this machine.
#[derive(Debug, Parser)]
#[command(name = "bt", version, about, long_about = None, after_help = help::BT)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// A TOML configuration file (see `bt config --example`); BT_* variables and flags
    /// override it.
    #[arg(long, global = true, value_name = "FILE", help_heading = GLOBAL)]
    config: Option<PathBuf>,
    /// How to show progress: bars on a terminal, else plain lines.
    #[arg(long, global = true, value_enum, default_value_t = ProgressMode::Auto, help_heading = GLOBAL)]
    progress: ProgressMode,
    /// Seconds between plain progress lines.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 1.0, help_heading = GLOBAL)]
    progress_interval: f64,
    /// Print nothing but errors.
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    quiet: bool,
    /// More logging on stderr (-v: info, -vv: debug, -vvv: trace); RUST_LOG overrides it.
    #[arg(short, long, global = true, action = ArgAction::Count, help_heading = GLOBAL)]
    verbose: u8,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Download a generated file from a seeder on this machine: no network, nothing to set up.
    #[command(after_help = help::DEMO)]
    Demo(cmd::demo::DemoArgs),
    /// Download torrents into a directory (and optionally keep seeding).
    #[command(after_help = help::DOWNLOAD)]
    Download(cmd::download::DownloadArgs),
    /// Serve a torrent's files from a directory until interrupted.
    #[command(after_help = help::SEED)]
    Seed(cmd::seed::SeedCmdArgs),
    /// Create a .torrent file from a file or a directory.
    #[command(after_help = help::CREATE)]
    Create(cmd::create::CreateArgs),
    /// Show what a .torrent file or a magnet link describes: name, info-hash, size, files.
    #[command(after_help = help::INFO)]
    Info(cmd::info::InfoArgs),
    /// Check a torrent's files on disk: good, bad and missing pieces (exit 1 if any is bad).
    #[command(after_help = help::VERIFY)]
    Verify(cmd::verify::VerifyArgs),
    /// Show the effective configuration, or the documented example file.
    #[command(after_help = help::CONFIG)]
    Config(cmd::config::ConfigArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let interval = Duration::try_from_secs_f64(cli.progress_interval).unwrap_or(Duration::ZERO);
    let console = Console::new(cli.progress, cli.quiet, interval);
    logging::init(cli.verbose, &console);
    let context = cmd::Context {
        console,
        config_file: cli.config,
    };
    let outcome = match &cli.command {
        Command::Demo(args) => cmd::demo::run(args, &context),
        Command::Download(args) => cmd::download::run(args, &context),
        Command::Seed(args) => cmd::seed::run(args, &context),
        Command::Create(args) => cmd::create::run(args),
        Command::Info(args) => cmd::info::run(args),
        Command::Verify(args) => cmd::verify::run(args, &context),
        Command::Config(args) => cmd::config::run(args, &context),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the whole cause chain on one line: "reading x: permission denied".
            eprintln!("bt: {}", one_line(&format!("{error:#}")));
            ExitCode::FAILURE
        }
    }
}

/// The message with any line breaks (from an OS or parser message) folded into spaces.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
