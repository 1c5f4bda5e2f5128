//! Tests that run the real `bt` binary.
//!
//! Modules:
//! - `config`: `bt config --print` layering and `--example`.
//! - `create`: `bt create`, checked against mktorrent and libtorrent.
//! - `demo`: `bt demo`, the README's first command.
//! - `dht`: `--dht`: a torrent with no tracker, from `bt seed` to `bt download` via the DHT.
//! - `download`: `bt download` against in-process seeders: several torrents, plain progress,
//!   seeding targets.
//! - `errors`: failures a user can act on, one line each, and usage errors.
//! - `limits`: `--download-limit` holds a download to the rate; rate flags in the config.
//! - `help`: the help texts hold what a newcomer needs (the walk-through check).
//! - `libtorrent`: `bt download` from a python3-libtorrent seeder.
//! - `info`: `bt info` on real torrents, magnet links, and broken input (exit codes, one-line errors).
//! - `trackers`: trackers that cannot be used, fail, or come back: one line each on stderr.
//! - `transfer`: `bt seed` and `bt download` against each other through a mock tracker.
//! - `magnet`: `bt download 'magnet:?...'` from `bt seed`.
//! - `resume`: Ctrl-C keeps verified pieces and the same command resumes; a second Ctrl-C.
//! - `proc`: running `bt` in the background with a time limit.
//! - `swarm`: in-process seeders and a mock tracker for the binary to download from.

mod config;
mod create;
mod demo;
mod dht;
mod download;
mod errors;
mod help;
mod info;
mod libtorrent;
mod limits;
mod magnet;
mod proc;
mod resume;
mod swarm;
mod trackers;
mod transfer;

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs `bt` with the given arguments and returns its output.
pub fn bt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bt"))
        .args(args)
        .output()
        .expect("the bt binary runs")
}

/// `download TORRENT -o DIR --listen 127.0.0.1:0`: a download on loopback, on any free port;
/// append more flags to it.
pub fn download_args<'a>(torrent: &'a str, dir: &'a std::path::Path) -> Vec<&'a str> {
    let dir = dir.to_str().expect("a UTF-8 directory");
    vec!["download", torrent, "-o", dir, "--listen", "127.0.0.1:0"]
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The info-hash libtorrent reported for a file in `crates/bt-proto/tests/data/HASHES.txt`.
pub fn libtorrent_hash(file_name: &str) -> String {
    let table = std::fs::read_to_string(repo_root().join("crates/bt-proto/tests/data/HASHES.txt"))
        .expect("HASHES.txt is readable");
    table
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            Some((fields.next()?, fields.next()?))
        })
        .find(|(name, _)| *name == file_name)
        .map(|(_, hash)| hash.to_owned())
        .unwrap_or_else(|| panic!("{file_name} is listed in HASHES.txt"))
}
