//! [`ReferenceError`]: why a reference peer could not start or did not do what a test waited
//! for. Each carries what a failing test needs to explain itself: the last figures, the
//! process's stderr.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use super::event::{LtReport, LtStats};

/// The Debian package that provides the reference client's Python module.
pub const LIBTORRENT_PACKAGE: &str = "python3-libtorrent";

/// A reference peer failed; see the module docs.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    /// The interpreter cannot import libtorrent (or does not run at all).
    #[error(
        "{LIBTORRENT_PACKAGE} is not installed: {} cannot import libtorrent \
         (install the Debian package: apt-get install {LIBTORRENT_PACKAGE})",
        python.display()
    )]
    LibtorrentMissing {
        /// The interpreter that was tried.
        python: PathBuf,
    },
    /// The process could not be started.
    #[error("cannot start {}", python.display())]
    Spawn {
        /// The interpreter that was tried.
        python: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The script printed something that is not one of its events.
    #[error("the reference peer printed a line that is not an event: {line:?}")]
    BadLine {
        /// The line.
        line: String,
        /// Why it does not decode.
        #[source]
        source: serde_json::Error,
    },
    /// libtorrent reported that the torrent failed.
    #[error("libtorrent failed: {message}")]
    Failed {
        /// libtorrent's description.
        message: String,
        /// The figures at the failure.
        report: Box<LtReport>,
    },
    /// The script's own time limit passed first.
    #[error(
        "libtorrent reached its time limit of {limit:?} before {waited_for} \
         ({} of {} pieces, {} peers)",
        report.stats.pieces, report.stats.pieces_total, report.stats.peers
    )]
    TimeLimit {
        /// The limit given to the script.
        limit: Duration,
        /// What the test waited for.
        waited_for: String,
        /// The figures when it gave up.
        report: Box<LtReport>,
    },
    /// The script ended in another way than the one waited for (stopped, or complete and
    /// exited).
    #[error("libtorrent ended with `{event}` before {waited_for}")]
    Ended {
        /// The script's last event.
        event: &'static str,
        /// What the test waited for.
        waited_for: String,
    },
    /// The process exited without a last event.
    #[error("libtorrent exited ({status}) before {waited_for}; its stderr:\n{stderr}")]
    Exited {
        /// Its exit status.
        status: ExitStatus,
        /// What the test waited for.
        waited_for: String,
        /// The end of what it wrote to stderr.
        stderr: String,
    },
    /// The wait's own time-out passed first.
    #[error("no {waited_for} from libtorrent within {timeout:?} (last figures: {last:?})")]
    TimedOut {
        /// What the test waited for.
        waited_for: String,
        /// The time-out.
        timeout: Duration,
        /// The last figures it reported.
        last: Option<Box<LtStats>>,
    },
}
