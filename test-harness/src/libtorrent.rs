//! [`LibtorrentPeer`]: python3-libtorrent as a reference seeder or leecher, run by
//! `scripts/lt_peer.py` under `/usr/bin/python3`.
//!
//! The script prints one line per step; the lines arrive on a channel that async tests await
//! with a time-out, so the actix thread running the engine under test is never blocked. The
//! process is killed when the handle drops. A machine without libtorrent fails
//! [`require_libtorrent`] with the install hint instead of skipping.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// The interpreter the Debian package installs libtorrent for.
pub const PYTHON: &str = "/usr/bin/python3";

/// Fails with the install hint unless [`PYTHON`] can import libtorrent.
pub fn require_libtorrent() -> anyhow::Result<()> {
    let status = Command::new(PYTHON)
        .args(["-c", "import libtorrent"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => Ok(()),
        _ => bail!("{PYTHON} cannot import libtorrent: apt-get install python3-libtorrent"),
    }
}

/// What the reference peer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LibtorrentMode {
    /// Check the data in its directory, then serve it until stopped.
    Seed,
    /// Download into its directory; the process ends when every piece is verified.
    Download,
}

/// A running libtorrent peer; see the module docs.
#[derive(Debug)]
pub struct LibtorrentPeer {
    child: Child,
    /// Closing it tells a seeding script to stop.
    stdin: Option<ChildStdin>,
    lines: UnboundedReceiver<String>,
}

impl LibtorrentPeer {
    /// Starts the script on `torrent` with its files in `dir`, announcing to `tracker_url`;
    /// it gives up by itself after `limit`.
    pub fn start(
        mode: LibtorrentMode,
        torrent: &Path,
        dir: &Path,
        tracker_url: &str,
        limit: Duration,
    ) -> anyhow::Result<Self> {
        require_libtorrent()?;
        let mode = match mode {
            LibtorrentMode::Seed => "seed",
            LibtorrentMode::Download => "download",
        };
        let mut child = Command::new(PYTHON)
            .arg(script())
            .args([mode.as_ref(), torrent.as_os_str(), dir.as_os_str()])
            .arg(tracker_url)
            .arg(limit.as_secs().max(1).to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting lt_peer.py")?;
        let stdout = child.stdout.take().context("the script's stdout")?;
        let (tx, lines) = unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        Ok(Self {
            child,
            stdin,
            lines,
        })
    }

    /// Waits for the script's next line starting with `prefix` (skipping others); fails on an
    /// `error` or `timeout` line, on exit, or after `timeout`.
    pub async fn expect(&mut self, prefix: &str, timeout: Duration) -> anyhow::Result<String> {
        let wait = async {
            while let Some(line) = self.lines.recv().await {
                if line.starts_with(prefix) {
                    return Ok(line);
                }
                if line.starts_with("error") || line.starts_with("timeout") {
                    bail!("libtorrent: {line}");
                }
            }
            bail!("libtorrent exited before printing {prefix:?}")
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| anyhow!("libtorrent printed no {prefix:?} line within {timeout:?}"))?
    }

    /// Tells a seeding script to stop (closes its stdin) and returns its `stopped` line.
    pub async fn stop(&mut self, timeout: Duration) -> anyhow::Result<String> {
        self.stdin.take();
        self.expect("stopped", timeout).await
    }
}

impl Drop for LibtorrentPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of `key=` in one of the script's lines.
pub fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/lt_peer.py")
}
