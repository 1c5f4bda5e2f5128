//! One download between two processes over loopback, measured from outside: a seeder (`bt
//! seed` or a libtorrent seeder) and a leecher (`bt download` or a libtorrent leecher), both
//! announcing to an in-process [`MockTracker`].
//!
//! The tracker's clock gives the transfer time: from the leecher's `started` announce to its
//! `completed` announce, which both clients send the moment they have every piece. So neither
//! client's start-up (a Rust binary, or Python importing libtorrent) counts in the rate; the
//! time from spawning the process is kept as well. CPU seconds come from `/proc/PID/stat`
//! (libtorrent reports its own, minus what starting Python cost), peak memory from `VmHWM`,
//! polled every 20 ms.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bt_proto::PeerId;
use bt_proto::tracker::AnnounceEvent;

use super::proc::{cpu_seconds, peak_rss_kib};
use super::process::BtProcess;
use super::seeder::Seeder;
use super::verify::same_file;
use crate::reference::LibtorrentPeer;
use crate::{MockTracker, Payload, PayloadSpec, RecordedAnnounce};

/// How often the leecher's figures, files and announces are sampled.
pub(super) const POLL: Duration = Duration::from_millis(20);

/// Which client plays a part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// The `bt` binary.
    Bt,
    /// python3-libtorrent through the reference peer script.
    Libtorrent,
}

/// The programs the benchmark runs, and how long one transfer may take.
#[derive(Debug, Clone)]
pub struct Tools {
    /// The `bt` binary.
    pub bt: PathBuf,
    /// The Python interpreter that imports libtorrent.
    pub python: PathBuf,
    /// The most one step (a check, a transfer) may take.
    pub limit: Duration,
}

/// A single-file payload, its torrent file, and the tracker it names.
#[derive(Debug)]
pub struct Fixture {
    /// The tracker every process announces to.
    pub tracker: MockTracker,
    /// The content.
    pub payload: Payload,
    /// The torrent file.
    pub torrent: PathBuf,
}

impl Fixture {
    /// Generates `len` bytes in pieces of `piece_length`, named `name`.
    pub fn new(name: &str, len: u64, piece_length: u32, seed: u64) -> anyhow::Result<Self> {
        let tracker = MockTracker::start()?;
        let spec = PayloadSpec::single_file(name, len)
            .with_piece_length(piece_length)
            .with_trackers([tracker.http_announce_url()]);
        let payload = Payload::generate(&spec, seed)?;
        let torrent = payload.write_torrent_file()?;
        Ok(Self {
            tracker,
            payload,
            torrent,
        })
    }

    /// The payload's length.
    pub fn len(&self) -> u64 {
        self.payload.torrent.info.total_length()
    }

    /// Whether the payload is empty (never: payloads have at least one byte).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(super) fn peer_ids(&self) -> HashSet<PeerId> {
        let hash = self.payload.info_hash();
        let announces = self.tracker.announces();
        announces
            .iter()
            .filter(|a| a.info_hash == hash)
            .map(|a| a.peer_id)
            .collect()
    }
}

/// The figures of one download.
#[derive(Debug, Clone)]
pub struct Transfer {
    /// Payload bytes.
    pub bytes: u64,
    /// Seconds from the leecher's `started` announce to its `completed` announce.
    pub transfer_s: f64,
    /// Seconds from spawning the leecher to its `completed` announce.
    pub from_spawn_s: f64,
    /// The leecher's CPU seconds (user + system) until it completed, start-up excluded for
    /// libtorrent (Python's import).
    pub leecher_cpu_s: f64,
    /// The seeder's CPU seconds during the transfer.
    pub seeder_cpu_s: f64,
    /// The leecher's peak resident memory, KiB.
    pub leecher_peak_rss_kib: u64,
    /// (seconds since spawn, bytes the leecher's file holds on disk), every 20 ms.
    pub samples: Vec<(f64, u64)>,
}

impl Transfer {
    /// MiB per second over the transfer time.
    pub fn mib_per_s(&self) -> f64 {
        mib(self.bytes) / self.transfer_s
    }

    /// MiB per second from spawning the leecher.
    pub fn mib_per_s_from_spawn(&self) -> f64 {
        mib(self.bytes) / self.from_spawn_s
    }

    /// Leecher CPU seconds per GiB.
    pub fn leecher_cpu_per_gib(&self) -> f64 {
        self.leecher_cpu_s / gib(self.bytes)
    }

    /// Seeder CPU seconds per GiB.
    pub fn seeder_cpu_per_gib(&self) -> f64 {
        self.seeder_cpu_s / gib(self.bytes)
    }
}

/// Bytes as MiB.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Bytes as GiB.
pub fn gib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0 * 1024.0)
}

/// The leecher being measured.
enum Leecher {
    Bt(BtProcess),
    Libtorrent(Box<LibtorrentPeer>),
}

/// Downloads the fixture from `seeder` with a fresh `client` leecher into an empty temporary
/// directory, checks the file byte for byte, and returns the figures.
pub async fn download(
    fixture: &Fixture,
    seeder: &Seeder,
    client: Client,
    tools: &Tools,
) -> anyhow::Result<Transfer> {
    let out = tempfile::Builder::new()
        .prefix("bt-bench-leech-")
        .tempdir()?;
    let file = out.path().join(&fixture.payload.torrent.info.name);
    let known = fixture.peer_ids();
    let seeder_cpu_before = cpu_seconds(seeder.pid()).context("the seeder is gone")?;
    let spawned = Instant::now();
    let mut leecher = match client {
        Client::Bt => {
            let args = [
                "download".as_ref(),
                fixture.torrent.as_os_str(),
                "-o".as_ref(),
                out.path().as_os_str(),
                "--listen".as_ref(),
                "127.0.0.1:0".as_ref(),
            ];
            Leecher::Bt(BtProcess::spawn(&tools.bt, &args)?)
        }
        Client::Libtorrent => Leecher::Libtorrent(Box::new(
            LibtorrentPeer::leecher(&fixture.torrent, out.path())
                .tracker(fixture.tracker.http_announce_url())
                .python(&tools.python)
                .time_limit(tools.limit * 2)
                .start()
                .await?,
        )),
    };
    let watch = Watch {
        fixture,
        known: &known,
        spawned,
        file: &file,
        limit: tools.limit,
    };
    let watched = watch.until_completed(&mut leecher).await?;
    let seeder_cpu = cpu_seconds(seeder.pid()).context("the seeder is gone")? - seeder_cpu_before;
    let (leecher_cpu_s, leecher_peak_rss_kib) = match leecher {
        Leecher::Bt(mut process) => {
            process.wait_success(tools.limit).await?;
            (watched.cpu_s, watched.peak_rss_kib)
        }
        Leecher::Libtorrent(mut peer) => {
            let report = peer.wait_complete(tools.limit).await?;
            let startup = peer.startup_usage().map_or(0.0, |u| u.cpu_s());
            (report.usage.cpu_s() - startup, report.usage.max_rss_kib)
        }
    };
    same_file(&fixture.payload.root, &file)?;
    Ok(Transfer {
        bytes: fixture.len(),
        transfer_s: watched.transfer_s,
        from_spawn_s: watched.from_spawn_s,
        leecher_cpu_s,
        seeder_cpu_s: seeder_cpu,
        leecher_peak_rss_kib,
        samples: watched.samples,
    })
}

/// What the watch loop saw.
struct Watched {
    transfer_s: f64,
    from_spawn_s: f64,
    cpu_s: f64,
    peak_rss_kib: u64,
    samples: Vec<(f64, u64)>,
}

/// Watches a leecher until the tracker hears its `completed`.
struct Watch<'a> {
    fixture: &'a Fixture,
    known: &'a HashSet<PeerId>,
    spawned: Instant,
    file: &'a Path,
    limit: Duration,
}

impl Watch<'_> {
    async fn until_completed(&self, leecher: &mut Leecher) -> anyhow::Result<Watched> {
        let hash = self.fixture.payload.info_hash();
        let deadline = self.spawned + self.limit;
        let mut samples = Vec::new();
        let (mut cpu_s, mut peak_rss_kib) = (0.0, 0);
        loop {
            samples.push((self.spawned.elapsed().as_secs_f64(), allocated(self.file)));
            match leecher {
                Leecher::Bt(process) => {
                    let pid = process.child.id();
                    cpu_s = cpu_seconds(pid).unwrap_or(cpu_s);
                    peak_rss_kib = peak_rss_kib.max(peak_rss_kib_or_zero(pid));
                    if let Some(status) = process.child.try_wait()? {
                        // It may have exited right after completing, between two polls.
                        if !status.success() {
                            bail!("bt download {status}:\n{}", process.stderr());
                        }
                    }
                }
                Leecher::Libtorrent(peer) => {
                    peer.poll();
                }
            }
            let announces = self.fixture.tracker.announces();
            let mine: Vec<&RecordedAnnounce> = announces
                .iter()
                .filter(|a| a.info_hash == hash && !self.known.contains(&a.peer_id))
                .collect();
            let started = mine.iter().find(|a| a.event == AnnounceEvent::Started);
            let completed = mine.iter().find(|a| a.event == AnnounceEvent::Completed);
            if let (Some(started), Some(completed)) = (started, completed) {
                // Read once more: the figures now include the moment of completion.
                if let Leecher::Bt(process) = leecher {
                    let pid = process.child.id();
                    cpu_s = cpu_seconds(pid).unwrap_or(cpu_s);
                    peak_rss_kib = peak_rss_kib.max(peak_rss_kib_or_zero(pid));
                }
                samples.push((self.spawned.elapsed().as_secs_f64(), allocated(self.file)));
                return Ok(Watched {
                    transfer_s: (completed.at - started.at).as_secs_f64(),
                    from_spawn_s: (completed.at - self.spawned).as_secs_f64(),
                    cpu_s,
                    peak_rss_kib,
                    samples,
                });
            }
            if Instant::now() >= deadline {
                bail!("the leecher did not complete within {:?}", self.limit);
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

fn peak_rss_kib_or_zero(pid: u32) -> u64 {
    peak_rss_kib(pid).unwrap_or(0)
}

/// Bytes the file holds on disk (allocated blocks: the files are sparse until written).
fn allocated(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).map_or(0, |m| m.blocks() * 512)
}
