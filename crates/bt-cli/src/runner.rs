//! Running torrents in a session until they are done: progress, seeding targets, tracker
//! news, errors, and Ctrl-C.
//!
//! Each torrent goes fetching → seeding (if its [`SeedGoal`] asks) → done; a done torrent is
//! removed from the session, which announces `stopped` for it. The run ends when every torrent
//! is done, when one fails (its error, named), or at the first Ctrl-C/SIGTERM.

use std::time::{Duration, Instant};

use anyhow::bail;
use bt_engine::{
    EngineError, Session, TorrentEvent, TorrentHandle, TorrentState, TorrentStats, TrackerInfo,
};
use tokio::sync::broadcast::{self, error::TryRecvError};

use crate::console::{Console, TorrentView};
use crate::format;
use crate::signals::Interrupt;
use crate::trackers::TrackerNews;

/// How often the statistics are read and the display updated.
const TICK: Duration = Duration::from_millis(200);

/// When a complete torrent stops seeding.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SeedGoal {
    /// Seed until interrupted (unless a target below is reached first).
    pub forever: bool,
    /// Stop once this many times the wanted bytes were uploaded (this run).
    pub ratio: Option<f64>,
    /// Stop after seeding this long.
    pub time: Option<Duration>,
}

impl SeedGoal {
    /// Whether a complete torrent seeds at all.
    pub fn seeds(&self) -> bool {
        self.forever || self.ratio.is_some() || self.time.is_some()
    }

    /// Whether seeding may stop, having uploaded `uploaded` of `size` bytes for `seeded`.
    pub fn reached(&self, uploaded: u64, size: u64, seeded: Duration) -> bool {
        let by_ratio = self
            .ratio
            .is_some_and(|ratio| uploaded as f64 >= ratio * size as f64);
        let by_time = self.time.is_some_and(|time| seeded >= time);
        by_ratio || by_time
    }
}

/// A torrent to run, with what counts as done for it.
#[derive(Debug)]
pub struct Job {
    /// The torrent.
    pub handle: TorrentHandle,
    /// Its name, for messages (a magnet link's `dn` or info-hash until its metadata
    /// arrives).
    pub name: String,
    /// Its piece length, to count the bytes of the pieces fetched (0 for a magnet link until
    /// its metadata arrives).
    pub piece_length: u64,
    /// What the user was told about its trackers (all refusing is fatal).
    pub trackers: TrackerNews,
    /// When to stop seeding.
    pub goal: SeedGoal,
}

/// How a run ended (errors aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every torrent is done.
    Finished,
    /// Ctrl-C or SIGTERM came first.
    Interrupted {
        /// Torrents that were still fetching.
        incomplete: usize,
    },
}

/// Where one torrent is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Fetching,
    Seeding { since: Instant },
    Done,
}

/// A job and what the run learnt about it.
struct Tracked {
    job: Job,
    events: broadcast::Receiver<TorrentEvent>,
    phase: Phase,
    fetched: Fetched,
    /// The torrent-fatal error it reported, if any.
    failed: Option<EngineError>,
    view: TorrentView,
}

/// The pieces verified this run (after the resume check), counted from the events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Fetched {
    pieces: u32,
    /// Whether the torrent's last piece (maybe shorter) is among them.
    last: bool,
    /// Events were missed: `pieces` is a lower bound.
    lagged: bool,
}

impl Fetched {
    /// Takes in a verified piece: `piece` of `total`.
    fn add(&mut self, piece: u32, total: u32) {
        self.pieces += 1;
        self.last |= piece + 1 == total;
    }

    /// The bytes of the pieces, exactly (the byte counters of the statistics trail the pieces
    /// by up to one interval); `None` when events were missed.
    fn bytes(&self, piece_length: u64, stats: &TorrentStats) -> Option<u64> {
        if self.lagged {
            return None;
        }
        let before_last = u64::from(stats.pieces_total.saturating_sub(1)) * piece_length;
        let last_len = stats.total_len.saturating_sub(before_last);
        let full = u64::from(self.pieces - u32::from(self.last));
        Some(full * piece_length + if self.last { last_len } else { 0 })
    }
}

/// Runs `jobs` in `session` until they are done, one fails, or a stop is asked for.
pub async fn run(
    session: &Session,
    jobs: Vec<Job>,
    console: &Console,
    mut interrupt: Interrupt,
) -> anyhow::Result<Outcome> {
    let names: Vec<String> = jobs.iter().map(|job| job.name.clone()).collect();
    let mut progress = console.progress(&names);
    let started = Instant::now();
    for job in &jobs {
        if let Some(hint) = job.trackers.opening() {
            console.warn(format!("{}: {hint}", job.name));
        }
    }
    let mut tracked: Vec<Tracked> = jobs
        .into_iter()
        .map(|job| Tracked {
            events: job.handle.subscribe(),
            job,
            phase: Phase::Fetching,
            fetched: Fetched::default(),
            failed: None,
            view: TorrentView::default(),
        })
        .collect();
    let mut ticks = tokio::time::interval(TICK);
    let outcome = loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = interrupt.wait() => {
                let incomplete = tracked.iter().filter(|t| t.phase == Phase::Fetching).count();
                break Outcome::Interrupted { incomplete };
            }
        }
        for (index, torrent) in tracked.iter_mut().enumerate() {
            if torrent.phase != Phase::Done {
                step(session, torrent, console, started).await?;
            }
            progress.update(index, torrent.view.clone());
        }
        progress.show(false);
        if tracked.iter().all(|t| t.phase == Phase::Done) {
            break Outcome::Finished;
        }
    };
    progress.finish();
    Ok(outcome)
}

/// Reads one torrent's news and statistics and moves it along its phases.
async fn step(
    session: &Session,
    torrent: &mut Tracked,
    console: &Console,
    started: Instant,
) -> anyhow::Result<()> {
    let mut news = torrent.read_events(console);
    let stats = torrent.job.handle.stats().await;
    // A magnet link's torrent that fails to start once its metadata is there (files asked
    // for that it lacks) is gone from the session: its last event says why.
    news.extend(torrent.read_events(console));
    let name = torrent.job.name.clone();
    if let Some(error) = &torrent.failed {
        bail!("{name}: {error}");
    }
    let stats = stats?;
    if let TorrentState::Error(error) = &stats.state {
        bail!("{name}: {error}");
    }
    // The snapshot also holds what happened before we subscribed.
    let trackers = &mut torrent.job.trackers;
    news.extend(
        stats
            .trackers
            .iter()
            .filter_map(|t| trackers.observe(&t.url, &t.status)),
    );
    torrent.view = TorrentView::new(&stats, trackers.seeds());
    // A refusal ends a download that cannot go on, not one that is complete.
    if torrent.phase == Phase::Fetching
        && !stats.is_complete()
        && let Some(reason) = trackers.refused(stats.peers.len())
    {
        bail!("{name}: {reason}");
    }
    for line in news {
        console.warn(format!("{name}: {line}"));
    }
    if torrent.phase == Phase::Fetching {
        // Not while a magnet link's metadata is fetched: no pieces are known then.
        if !stats.is_complete() {
            return Ok(());
        }
        let elapsed = started.elapsed();
        let bytes = torrent.fetched.bytes(torrent.job.piece_length, &stats);
        let fetched = (torrent.fetched.pieces, bytes.unwrap_or(stats.downloaded));
        console.message(completion(&name, &stats, fetched, elapsed));
        torrent.phase = Phase::Seeding {
            since: Instant::now(),
        };
        if torrent.job.goal.seeds() {
            console.message(format!("{name}: seeding on {}", session.local_addr()));
        }
    }
    if let Phase::Seeding { since } = torrent.phase {
        let goal = torrent.job.goal;
        let target = goal.reached(stats.uploaded, torrent.view.size, since.elapsed());
        if !goal.seeds() || target {
            if goal.seeds() {
                console.message(format!(
                    "{name}: seeding target reached: {} uploaded (ratio {:.2}) in {}",
                    format::bytes(stats.uploaded),
                    stats.uploaded as f64 / torrent.view.size.max(1) as f64,
                    format::duration(since.elapsed()),
                ));
            }
            session.remove(stats.info_hash).await?;
            torrent.phase = Phase::Done;
        }
    }
    Ok(())
}

/// The line that says a torrent is complete, and how it came: `fetched` pieces (and bytes)
/// this run.
fn completion(
    name: &str,
    stats: &TorrentStats,
    (pieces, bytes): (u32, u64),
    elapsed: Duration,
) -> String {
    if pieces == 0 {
        let size = format::bytes(stats.wanted_len);
        return format!("{name}: complete, {size} verified on disk");
    }
    let rate = bytes as f64 / elapsed.as_secs_f64().max(0.001);
    let noun = if pieces == 1 { "piece" } else { "pieces" };
    format!(
        "{name}: complete, {pieces} {noun} fetched in {}, {} at {}",
        format::duration(elapsed),
        format::bytes(bytes),
        format::rate(rate as u64)
    )
}

impl Tracked {
    /// Takes in the events since the last tick: verified pieces, tracker news (returned as
    /// the lines to show), a torrent-fatal error, and a magnet link's metadata (whose name
    /// replaces the link's, and which says whether the DHT may help).
    fn read_events(&mut self, console: &Console) -> Vec<String> {
        let mut news = Vec::new();
        loop {
            match self.events.try_recv() {
                Ok(TorrentEvent::Tracker(TrackerInfo { url, status })) => {
                    news.extend(self.job.trackers.observe(&url, &status));
                }
                Ok(TorrentEvent::PieceVerified { piece, total, .. }) => {
                    self.fetched.add(piece, total);
                }
                Ok(TorrentEvent::Error(error)) => self.failed = Some(error),
                Ok(TorrentEvent::MetadataReceived {
                    name,
                    piece_length,
                    private,
                }) => {
                    console.message(format!("{}: metadata received: {name}", self.job.name));
                    self.job.name = name;
                    self.job.piece_length = u64::from(piece_length);
                    if private {
                        // BEP 27: the torrent keeps off the DHT from now on.
                        self.job.trackers.set_dht(false);
                    }
                }
                // Missed events: many, so some were pieces.
                Err(TryRecvError::Lagged(_)) => {
                    self.fetched.pieces = self.fetched.pieces.max(1);
                    self.fetched.lagged = true;
                }
                Ok(_) => {}
                Err(TryRecvError::Empty | TryRecvError::Closed) => return news,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(total_len: u64, pieces_total: u32) -> TorrentStats {
        TorrentStats {
            info_hash: bt_proto::InfoHash([0; 20]),
            name: "x".to_owned(),
            state: TorrentState::Seeding,
            pieces_have: pieces_total,
            pieces_total,
            total_len,
            wanted_len: total_len,
            left: 0,
            downloaded: 1,
            uploaded: 0,
            download_rate: 0,
            upload_rate: 0,
            peers: Vec::new(),
            peer_totals: Vec::new(),
            connecting: 0,
            trackers: Vec::new(),
        }
    }

    #[test]
    fn the_bytes_fetched_count_the_short_last_piece_exactly() {
        // 2.5 pieces of 1000 bytes: the last one is 500.
        let torrent = stats(2_500, 3);
        let mut fetched = Fetched::default();
        fetched.add(1, 3);
        assert_eq!(fetched.bytes(1000, &torrent), Some(1000));
        fetched.add(2, 3);
        assert_eq!(fetched.bytes(1000, &torrent), Some(1500));
        fetched.lagged = true;
        assert_eq!(fetched.bytes(1000, &torrent), None);
    }

    #[test]
    fn the_completion_line_says_what_came_and_how_fast() {
        let torrent = stats(4 << 20, 16);
        assert_eq!(
            completion("x", &torrent, (16, 4 << 20), Duration::from_secs(2)),
            "x: complete, 16 pieces fetched in 2.0s, 4.0 MiB at 2.0 MiB/s"
        );
        assert_eq!(
            completion("x", &torrent, (0, 0), Duration::from_secs(2)),
            "x: complete, 4.0 MiB verified on disk"
        );
    }

    #[test]
    fn a_goal_is_reached_by_ratio_or_by_time() {
        let ratio = SeedGoal {
            ratio: Some(1.5),
            ..SeedGoal::default()
        };
        assert!(ratio.seeds());
        assert!(!ratio.reached(149, 100, Duration::from_secs(9999)));
        assert!(ratio.reached(150, 100, Duration::ZERO));
        let time = SeedGoal {
            time: Some(Duration::from_secs(60)),
            ..SeedGoal::default()
        };
        assert!(!time.reached(u64::MAX, 1, Duration::from_secs(59)));
        assert!(time.reached(0, 1, Duration::from_secs(60)));
        let forever = SeedGoal {
            forever: true,
            ..SeedGoal::default()
        };
        assert!(forever.seeds() && !forever.reached(u64::MAX, 1, Duration::MAX));
        assert!(!SeedGoal::default().seeds());
    }
}
