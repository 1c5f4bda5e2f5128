//! [`BtProcess`]: a `bt` child process, killed on drop, with its stderr kept in a file for
//! error messages.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tempfile::TempDir;

use super::transfer::POLL;

/// A `bt` process, killed on drop, its stderr kept in a file for error messages.
#[derive(Debug)]
pub(super) struct BtProcess {
    pub(super) child: Child,
    stderr: PathBuf,
    _dir: TempDir,
}

impl BtProcess {
    pub(super) fn spawn(bt: &Path, args: &[&std::ffi::OsStr]) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new().prefix("bt-bench-log-").tempdir()?;
        let stderr = dir.path().join("stderr");
        let child = Command::new(bt)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&stderr)?)
            .spawn()
            .with_context(|| format!("starting {}", bt.display()))?;
        Ok(Self {
            child,
            stderr,
            _dir: dir,
        })
    }

    pub(super) fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits for the exit for up to `limit`; fails unless it exits 0.
    pub(super) async fn wait_success(&mut self, limit: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::ensure!(status.success(), "bt {status}:\n{}", self.stderr());
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("bt did not exit within {limit:?}:\n{}", self.stderr());
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for BtProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
