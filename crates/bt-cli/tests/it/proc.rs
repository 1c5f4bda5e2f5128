//! Running `bt` in the background: a child that is killed if the test gives up on it, with
//! its stderr kept in a file for the failure message.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// Settings that make the engine re-announce within a second (the mock tracker asks for a
/// one-second interval; the defaults would wait minutes) and keep the thread count low.
const TEST_ENV: [(&str, &str); 3] = [
    ("BT_ANNOUNCER__INTERVAL_FLOOR_MS", "500"),
    ("BT_ANNOUNCER__MIN_INTERVAL_MS", "500"),
    ("BT_ARBITERS", "1"),
];

/// A `bt` process; killed on drop if still running.
pub struct Running {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
    _dir: tempfile::TempDir,
}

impl Running {
    /// Starts `bt args...` with the test environment.
    pub fn start(args: &[&str]) -> Running {
        Self::start_env(args, &[])
    }

    /// Starts `bt args...` with the test environment plus `env`.
    pub fn start_env(args: &[&str], env: &[(&str, &str)]) -> Running {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let stdout = dir.path().join("stdout");
        let stderr = dir.path().join("stderr");
        let child = Command::new(env!("CARGO_BIN_EXE_bt"))
            .args(args)
            .envs(TEST_ENV)
            .envs(env.iter().copied())
            .stdout(File::create(&stdout).expect("a stdout file"))
            .stderr(File::create(&stderr).expect("a stderr file"))
            .spawn()
            .expect("the bt binary starts");
        Running {
            child,
            stdout,
            stderr,
            _dir: dir,
        }
    }

    /// What it wrote to stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// Both outputs, for a failure message.
    pub fn outputs(&self) -> String {
        format!("stdout:\n{}\nstderr:\n{}", self.stdout(), self.stderr())
    }

    /// [`Running::wait`] without blocking the thread, for tests whose swarm runs on it.
    pub async fn wait_async(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("bt did not exit within {timeout:?}; {}", self.outputs());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends SIGINT, as Ctrl-C in a terminal does.
    pub fn interrupt(&self) {
        self.signal("-INT");
    }

    /// What it wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits for the exit, killing it after `timeout` (a panic naming its stderr).
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "bt did not exit within {timeout:?}; stderr:\n{}",
                    self.stderr()
                );
            }
            // A child's exit is not an event we can await without a runtime; poll briefly.
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        self.signal("-TERM");
    }

    fn signal(&self, which: &str) {
        let status = Command::new("kill")
            .args([which, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {which} failed");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
