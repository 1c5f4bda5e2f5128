//! [`LibtorrentPeer`]: the script as a child process, its events as they arrive, waits with
//! time-outs, and the kill on drop.
//!
//! Two threads per peer read the child's pipes (`pipes`): stdout decoded into [`LtEvent`]s on
//! an unbounded channel (a handful of lines a second), and the tail of stderr. Waits are async
//! so a test's actix thread keeps running the engine while it waits.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Child, ChildStdin, ExitStatus};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::sync::oneshot;

use super::builder::{LibtorrentBuilder, LtMode};
use super::error::ReferenceError;
use super::event::{LtEvent, LtReport, LtStats, LtUsage};
use super::pipes::{keep_tail, pump_events};

/// How long the script may take to import libtorrent and start listening.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long to wait for the exit status once the child closed its stdout.
const EXIT_GRACE: Duration = Duration::from_secs(5);

/// A running python3-libtorrent peer; see the module docs of [`crate::reference`](mod@crate::reference). The
/// process is killed when this is dropped.
#[derive(Debug)]
pub struct LibtorrentPeer {
    child: Child,
    /// Closing it tells the script to stop.
    stdin: Option<ChildStdin>,
    events: UnboundedReceiver<Result<LtEvent, ReferenceError>>,
    /// Events taken off the channel by [`Self::poll`] and not yet seen by a wait.
    backlog: VecDeque<LtEvent>,
    stderr: Arc<Mutex<String>>,
    /// Fires once the stderr thread has read everything (the pipe closed), so an error after
    /// the exit names what the child wrote last.
    stderr_closed: Option<oneshot::Receiver<()>>,
    listen_port: u16,
    info_hash: String,
    mode: LtMode,
    time_limit: Duration,
    keep_seeding: bool,
    latest: Option<LtStats>,
    /// What starting Python and libtorrent cost.
    startup_usage: Option<LtUsage>,
    /// The event the script ended with, once seen.
    ended: Option<LtEvent>,
}

impl LibtorrentPeer {
    /// Wraps a started script: threads read its pipes from now on.
    pub(super) fn from_child(
        mut child: Child,
        mode: LtMode,
        time_limit: Duration,
        keep_seeding: bool,
    ) -> Self {
        let (tx, events) = unbounded_channel();
        if let Some(stdout) = child.stdout.take() {
            std::thread::spawn(move || pump_events(stdout, tx));
        }
        let stderr = Arc::new(Mutex::new(String::new()));
        let (closed, stderr_closed) = oneshot::channel();
        if let Some(pipe) = child.stderr.take() {
            let tail = Arc::clone(&stderr);
            std::thread::spawn(move || {
                keep_tail(pipe, &tail);
                let _ = closed.send(());
            });
        }
        Self {
            stdin: child.stdin.take(),
            child,
            events,
            backlog: VecDeque::new(),
            stderr,
            stderr_closed: Some(stderr_closed),
            listen_port: 0,
            info_hash: String::new(),
            mode,
            time_limit,
            keep_seeding,
            latest: None,
            startup_usage: None,
            ended: None,
        }
    }

    /// Waits for the script's first line, which says where it listens.
    pub(super) async fn await_listening(&mut self) -> Result<(), ReferenceError> {
        let first = self
            .wait_event("its listening port", START_TIMEOUT, |e| {
                matches!(e, LtEvent::Listening { .. })
            })
            .await?;
        if let LtEvent::Listening {
            listen_port,
            info_hash,
            usage,
        } = first
        {
            self.listen_port = listen_port;
            self.info_hash = info_hash;
            self.startup_usage = Some(usage);
        }
        Ok(())
    }

    /// A peer that checks the data of `torrent` in `dir` and serves it.
    pub fn seeder(torrent: &Path, dir: &Path) -> LibtorrentBuilder {
        LibtorrentBuilder::new(LtMode::Seed, torrent, dir)
    }

    /// A peer that downloads `torrent` into `dir` (`dir/NAME`, as `bt download -o dir`).
    pub fn leecher(torrent: &Path, dir: &Path) -> LibtorrentBuilder {
        LibtorrentBuilder::new(LtMode::Download, torrent, dir)
    }

    /// Where it accepts connections.
    pub fn listen_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.listen_port))
    }

    /// The torrent's info-hash as libtorrent computed it, hex.
    pub fn info_hash(&self) -> &str {
        &self.info_hash
    }

    /// The process id, to read its figures from `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it was started to do.
    pub fn mode(&self) -> LtMode {
        self.mode
    }

    /// The CPU time and memory that starting Python and libtorrent took, before any work on
    /// the torrent: subtract it from an [`LtReport`]'s usage to count libtorrent's work alone.
    pub fn startup_usage(&self) -> Option<LtUsage> {
        self.startup_usage
    }

    /// The last figures it reported, as of the last wait or [`Self::poll`].
    pub fn latest_stats(&self) -> Option<&LtStats> {
        self.latest.as_ref()
    }

    /// Takes the events that have arrived without waiting (they stay queued for the waits)
    /// and returns the last figures.
    pub fn poll(&mut self) -> Option<&LtStats> {
        while let Ok(item) = self.events.try_recv() {
            match item {
                Ok(event) => {
                    self.note(&event);
                    self.backlog.push_back(event);
                }
                // A bad line surfaces again at the next wait, which reads the channel.
                Err(_) => break,
            }
        }
        self.latest.as_ref()
    }

    /// Waits for the first event matching `pred` (`what` names it in errors). Fails if the
    /// script ends, fails or reaches its time limit first, or after `timeout`.
    pub async fn wait_event(
        &mut self,
        what: &str,
        timeout: Duration,
        mut pred: impl FnMut(&LtEvent) -> bool,
    ) -> Result<LtEvent, ReferenceError> {
        if let Some(end) = self.ended.clone().filter(|_| self.backlog.is_empty()) {
            return if pred(&end) {
                Ok(end)
            } else {
                Err(self.end_error(end, what))
            };
        }
        let work = async {
            loop {
                let event = self.next_event(what).await?;
                if pred(&event) {
                    return Ok(event);
                }
                if self.is_last(&event) {
                    return Err(self.end_error(event, what));
                }
            }
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(ReferenceError::TimedOut {
                waited_for: what.to_owned(),
                timeout,
                last: self.latest.clone().map(Box::new),
            }),
        }
    }

    /// Waits until its figures satisfy `pred` (the last figures count too).
    pub async fn wait_stats(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&LtStats) -> bool,
    ) -> Result<LtStats, ReferenceError> {
        if let Some(stats) = self.latest.as_ref().filter(|s| pred(s)) {
            return Ok(stats.clone());
        }
        let event = self
            .wait_event(what, timeout, |e| e.stats().is_some_and(&pred))
            .await?;
        Ok(event
            .stats()
            .cloned()
            .expect("invariant: matched on its stats"))
    }

    /// Waits until a seeder has checked its data (or a leecher that keeps seeding completed)
    /// and serves it.
    pub async fn wait_seeding(&mut self, timeout: Duration) -> Result<LtStats, ReferenceError> {
        let event = self
            .wait_event("seeding", timeout, |e| matches!(e, LtEvent::Seeding(_)))
            .await?;
        Ok(event
            .stats()
            .cloned()
            .expect("invariant: seeding has stats"))
    }

    /// Waits until a leecher has verified every piece; returns its figures then.
    pub async fn wait_complete(&mut self, timeout: Duration) -> Result<LtReport, ReferenceError> {
        match self
            .wait_event("complete", timeout, |e| matches!(e, LtEvent::Complete(_)))
            .await?
        {
            LtEvent::Complete(report) => Ok(report),
            _ => unreachable!("the predicate matched complete"),
        }
    }

    /// Stops the peer (closes its stdin), waits for its last figures and its exit, and
    /// returns the figures. A leecher that already completed and exited returns its
    /// `complete` figures.
    pub async fn stop(mut self, timeout: Duration) -> Result<LtReport, ReferenceError> {
        self.stdin.take();
        let end = self
            .wait_event("stopped", timeout, |e| {
                matches!(e, LtEvent::Stopped(_) | LtEvent::Complete(_))
            })
            .await?;
        let report = match end {
            LtEvent::Stopped(report) | LtEvent::Complete(report) => report,
            _ => unreachable!("the predicate matched stopped or complete"),
        };
        // The script exits right after its last line; a kill on drop covers a slow exit.
        let _ = self.exit_status(timeout).await;
        Ok(report)
    }

    /// The next event, from the backlog or the channel, noted.
    async fn next_event(&mut self, what: &str) -> Result<LtEvent, ReferenceError> {
        if let Some(event) = self.backlog.pop_front() {
            return Ok(event);
        }
        match self.events.recv().await {
            Some(Ok(event)) => {
                self.note(&event);
                Ok(event)
            }
            Some(Err(error)) => Err(error),
            None => {
                let status = self.exit_status(EXIT_GRACE).await;
                // The exit can be seen before the stderr thread read the last lines.
                if let Some(closed) = self.stderr_closed.take() {
                    let _ = tokio::time::timeout(EXIT_GRACE, closed).await;
                }
                let stderr = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
                match status {
                    Some(status) => Err(ReferenceError::Exited {
                        status,
                        waited_for: what.to_owned(),
                        stderr,
                    }),
                    None => Err(ReferenceError::TimedOut {
                        waited_for: format!("{what} (its stdout closed but it did not exit)"),
                        timeout: EXIT_GRACE,
                        last: self.latest.clone().map(Box::new),
                    }),
                }
            }
        }
    }

    /// Records an event's figures and whether it ends the script.
    fn note(&mut self, event: &LtEvent) {
        if let Some(stats) = event.stats() {
            self.latest = Some(stats.clone());
        }
        if self.is_last(event) {
            self.ended = Some(event.clone());
        }
    }

    /// Whether the script exits after this event.
    fn is_last(&self, event: &LtEvent) -> bool {
        match event {
            LtEvent::Stopped(_) | LtEvent::Error { .. } | LtEvent::Timeout(_) => true,
            LtEvent::Complete(_) => !self.keep_seeding,
            _ => false,
        }
    }

    fn end_error(&self, end: LtEvent, what: &str) -> ReferenceError {
        let waited_for = what.to_owned();
        match end {
            LtEvent::Error { message, report } => ReferenceError::Failed {
                message,
                report: Box::new(report),
            },
            LtEvent::Timeout(report) => ReferenceError::TimeLimit {
                limit: self.time_limit,
                waited_for,
                report: Box::new(report),
            },
            other => ReferenceError::Ended {
                event: other.name(),
                waited_for,
            },
        }
    }

    /// Polls for the exit status for up to `timeout`.
    async fn exit_status(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            // A child's exit cannot be awaited without tokio's process feature; poll briefly.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for LibtorrentPeer {
    fn drop(&mut self) {
        self.stdin.take();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
