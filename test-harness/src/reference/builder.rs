//! [`LibtorrentBuilder`]: what a reference peer is told (its torrent, trackers, limits,
//! libtorrent settings), turned into the script's command line, and its start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Map, Value};

use super::error::ReferenceError;
use super::peer::LibtorrentPeer;
use super::pipes::lacks_libtorrent;
use super::{PYTHON, script_path};

/// What the reference peer does with its torrent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LtMode {
    /// Check the data in its directory, then serve it until stopped.
    Seed,
    /// Download into its directory; the process ends when every piece is verified (unless
    /// it keeps seeding).
    Download,
}

/// Configures and starts a [`LibtorrentPeer`]; made by [`LibtorrentPeer::seeder`] and
/// [`LibtorrentPeer::leecher`].
#[derive(Debug, Clone)]
pub struct LibtorrentBuilder {
    mode: LtMode,
    torrent: PathBuf,
    dir: PathBuf,
    trackers: Vec<String>,
    peers: Vec<SocketAddr>,
    time_limit: Duration,
    stats_interval: Duration,
    keep_seeding: bool,
    settings: Map<String, Value>,
    python: PathBuf,
}

impl LibtorrentBuilder {
    pub(super) fn new(mode: LtMode, torrent: &Path, dir: &Path) -> Self {
        Self {
            mode,
            torrent: torrent.to_path_buf(),
            dir: dir.to_path_buf(),
            trackers: Vec::new(),
            peers: Vec::new(),
            time_limit: Duration::from_secs(60),
            stats_interval: Duration::from_millis(500),
            keep_seeding: false,
            settings: Map::new(),
            python: PathBuf::from(PYTHON),
        }
    }

    /// Adds a tracker to announce to (each its own tier); the torrent's own trackers are
    /// ignored, so a peer without one learns of others only through [`Self::peer`].
    pub fn tracker(mut self, url: impl Into<String>) -> Self {
        self.trackers.push(url.into());
        self
    }

    /// Adds a peer to connect to at once, without a tracker.
    pub fn peer(mut self, addr: SocketAddr) -> Self {
        self.peers.push(addr);
        self
    }

    /// How long the process may live (default 60 s): past it, it reports `timeout` and exits
    /// by itself, whatever the test does.
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = limit;
        self
    }

    /// How often it reports its figures (default 500 ms).
    pub fn stats_interval(mut self, interval: Duration) -> Self {
        self.stats_interval = interval;
        self
    }

    /// A leecher goes on seeding after it completes, until stopped.
    pub fn keep_seeding(mut self) -> Self {
        self.keep_seeding = true;
        self
    }

    /// Sets one libtorrent setting (a `settings_pack` name, such as `"upload_rate_limit"`),
    /// over the script's loopback defaults.
    pub fn setting(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.settings.insert(name.to_owned(), value.into());
        self
    }

    /// The Python interpreter to run the script with (default [`PYTHON`]).
    pub fn python(mut self, python: impl Into<PathBuf>) -> Self {
        self.python = python.into();
        self
    }

    /// Starts the process and waits until it listens. Fails with
    /// [`ReferenceError::LibtorrentMissing`] when the interpreter cannot import libtorrent.
    /// Needs a tokio runtime (an actix `System` has one).
    pub async fn start(self) -> Result<LibtorrentPeer, ReferenceError> {
        let child = self.command().spawn().map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                ReferenceError::LibtorrentMissing {
                    python: self.python.clone(),
                }
            } else {
                ReferenceError::Spawn {
                    python: self.python.clone(),
                    source,
                }
            }
        })?;
        let mut peer =
            LibtorrentPeer::from_child(child, self.mode, self.time_limit, self.keep_seeding);
        peer.await_listening().await.map_err(|e| match e {
            ReferenceError::Exited { stderr, .. } if lacks_libtorrent(&stderr) => {
                ReferenceError::LibtorrentMissing {
                    python: self.python.clone(),
                }
            }
            other => other,
        })?;
        Ok(peer)
    }

    fn command(&self) -> Command {
        let mode = match self.mode {
            LtMode::Seed => "seed",
            LtMode::Download => "download",
        };
        let mut command = Command::new(&self.python);
        command
            .arg(script_path())
            .args(["--mode", mode, "--torrent"])
            .arg(&self.torrent)
            .arg("--dir")
            .arg(&self.dir)
            .arg("--time-limit")
            .arg(format!("{:.3}", self.time_limit.as_secs_f64()))
            .arg("--stats-interval")
            .arg(self.stats_interval.as_millis().to_string())
            .arg("--settings")
            .arg(Value::Object(self.settings.clone()).to_string());
        for url in &self.trackers {
            command.args(["--tracker", url]);
        }
        for peer in &self.peers {
            command.arg("--peer").arg(peer.to_string());
        }
        if self.keep_seeding {
            command.arg("--keep-seeding");
        }
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }
}
