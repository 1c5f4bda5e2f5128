//! Reference peers: python3-libtorrent as a seeder or leecher on loopback, to prove that bt
//! interoperates with a real client and to measure it against one.
//!
//! [`LibtorrentPeer::seeder`] and [`LibtorrentPeer::leecher`] configure a peer;
//! [`LibtorrentBuilder::start`] runs `scripts/lt_peer.py` (shipped in this crate) under
//! [`PYTHON`], Debian's interpreter, and returns once it listens on 127.0.0.1. The script
//! speaks plain TCP only (no uTP, encryption, DHT, local discovery, UPnP or NAT-PMP), so it
//! meets peers only through the trackers and addresses it is given. It prints its figures as
//! JSON lines ([`LtEvent`]): periodic [`LtStats`] (bytes up and down, pieces, rates, state)
//! and, when it ends, an [`LtReport`] that adds its CPU time and peak memory.
//!
//! Every wait takes a time-out, the script has a time limit of its own and stops when its stdin
//! closes, and dropping the [`LibtorrentPeer`] kills the process: nothing outlives a test. A
//! machine without the Debian package fails with [`ReferenceError::LibtorrentMissing`], whose
//! message names `python3-libtorrent`; nothing is skipped.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use std::time::Duration;
//! use bt_test_harness::{LibtorrentPeer, MockTracker, Payload, PayloadSpec};
//!
//! let tracker = MockTracker::start()?;
//! let payload = Payload::generate(&PayloadSpec::multi_file_tree("tree"), 7)?;
//! let torrent = payload.write_torrent_file()?;
//! let mut seeder = LibtorrentPeer::seeder(&torrent, payload.data_dir())
//!     .tracker(tracker.http_announce_url())
//!     .time_limit(Duration::from_secs(60))
//!     .start()
//!     .await?;
//! seeder.wait_seeding(Duration::from_secs(20)).await?;
//! // ... a bt session downloads the torrent from it ...
//! let report = seeder.stop(Duration::from_secs(10)).await?;
//! assert!(report.stats.payload_uploaded >= payload.torrent.info.total_length());
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//! - `builder`: [`LibtorrentBuilder`], [`LtMode`]: what a peer is told, and its start.
//! - `peer`: [`LibtorrentPeer`]: the running process and its waits.
//! - `pipes`: the threads reading its stdout and stderr.
//! - `event`: [`LtEvent`], [`LtStats`], [`LtUsage`], [`LtReport`], [`LtState`]: what it reports.
//! - `error`: [`ReferenceError`].

mod builder;
mod error;
mod event;
mod peer;
mod pipes;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub use builder::{LibtorrentBuilder, LtMode};
pub use error::{LIBTORRENT_PACKAGE, ReferenceError};
pub use event::{LtEvent, LtReport, LtState, LtStats, LtUsage};
pub use peer::LibtorrentPeer;

/// The interpreter Debian's `python3-libtorrent` installs its module for (a python3 from pyenv
/// or a virtualenv on `PATH` usually lacks it).
pub const PYTHON: &str = "/usr/bin/python3";

/// The script the reference peers run.
pub fn script_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/lt_peer.py")
}

/// Fails with [`ReferenceError::LibtorrentMissing`] unless `python` imports libtorrent: a
/// check to run before starting anything else (a benchmark, a long test). Blocks for the
/// interpreter's start-up, a fraction of a second.
pub fn require_libtorrent(python: &Path) -> Result<(), ReferenceError> {
    let missing = || ReferenceError::LibtorrentMissing {
        python: python.to_path_buf(),
    };
    let status = Command::new(python)
        .args(["-c", "import libtorrent"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|_| missing())?;
    if status.success() {
        Ok(())
    } else {
        Err(missing())
    }
}
