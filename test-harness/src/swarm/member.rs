//! [`SwarmMember`]: one engine session of a swarm, with its torrent, and waits on its events.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use bt_engine::{
    AddTorrentOptions, EngineConfig, Session, Strategies, TorrentEvent, TorrentHandle,
    TorrentState, TorrentStats,
};
use bt_proto::PeerId;
use bt_proto::metainfo::Metainfo;
use tempfile::TempDir;
use tokio::sync::broadcast::error::RecvError;

/// What a member started as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Started with the whole payload.
    Seeder,
    /// Started with an empty (or partial) directory.
    Leecher,
}

/// One peer of a swarm: an engine session holding the swarm's torrent.
#[derive(Debug)]
pub struct SwarmMember {
    /// What it started as.
    pub role: Role,
    /// Its session.
    pub session: Session,
    /// Its torrent.
    pub torrent: TorrentHandle,
    /// The directory its torrent's files are in.
    pub dir: PathBuf,
    /// The temporary directory behind `dir`, for members that own theirs.
    _temp: Option<TempDir>,
    /// [`Self::stop`] was called: the session is gone, its statistics with it.
    stopped: AtomicBool,
}

impl SwarmMember {
    /// Starts a session with `config` and adds `metainfo` with its files in `dir`.
    pub async fn start(
        role: Role,
        config: EngineConfig,
        metainfo: &Metainfo,
        dir: PathBuf,
        temp: Option<TempDir>,
    ) -> anyhow::Result<Self> {
        Self::start_with(role, config, Strategies::default(), metainfo, dir, temp).await
    }

    /// Like [`start`](Self::start), with the embedder's own choker or picker.
    pub async fn start_with(
        role: Role,
        config: EngineConfig,
        strategies: Strategies,
        metainfo: &Metainfo,
        dir: PathBuf,
        temp: Option<TempDir>,
    ) -> anyhow::Result<Self> {
        let session = Session::start(config).await.context("starting a session")?;
        let options = AddTorrentOptions::new(&dir).with_strategies(strategies);
        let torrent = session
            .add_torrent(metainfo.clone(), options)
            .await
            .context("adding the torrent")?;
        Ok(Self {
            role,
            session,
            torrent,
            dir,
            _temp: temp,
            stopped: AtomicBool::new(false),
        })
    }

    /// Its peer id.
    pub fn peer_id(&self) -> PeerId {
        self.session.peer_id()
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The torrent's statistics now.
    pub async fn stats(&self) -> anyhow::Result<TorrentStats> {
        Ok(self.torrent.stats().await?)
    }

    /// Waits until `pred` holds for the torrent's statistics (see [`wait_for_stats`]).
    pub async fn wait_until(
        &self,
        timeout: Duration,
        pred: impl Fn(&TorrentStats) -> bool,
    ) -> anyhow::Result<TorrentStats> {
        wait_for_stats(&self.torrent, timeout, pred).await
    }

    /// Waits until every piece is verified.
    pub async fn wait_complete(&self, timeout: Duration) -> anyhow::Result<TorrentStats> {
        self.wait_until(timeout, TorrentStats::is_complete)
            .await
            .context("waiting for the download to complete")
    }

    /// Waits for the first event matching `pred`, which it returns (subscribe first if it
    /// might already have happened: events before this call are not seen).
    pub async fn wait_event(
        &self,
        timeout: Duration,
        pred: impl Fn(&TorrentEvent) -> bool,
    ) -> anyhow::Result<TorrentEvent> {
        let mut events = self.torrent.subscribe();
        let work = async {
            loop {
                match events.recv().await {
                    Ok(event) if pred(&event) => return Ok(event),
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => bail!("the torrent stopped"),
                }
            }
        };
        tokio::time::timeout(timeout, work)
            .await
            .map_err(|_| anyhow!("no matching event within {timeout:?}"))?
    }

    /// Whether [`Self::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// Shuts the session down and checks that every one of its actors stopped.
    pub async fn stop(&self, timeout: Duration) -> anyhow::Result<()> {
        self.stopped.store(true, Ordering::Relaxed);
        self.session.shutdown().await;
        self.session
            .wait_stopped(timeout)
            .await
            .map_err(|alive| anyhow!("actors still alive after shutdown: {alive:?}"))
    }

    /// Gives up the member's temporary directory, to reuse it in a restarted member.
    pub fn take_dir(&mut self) -> Option<TempDir> {
        self._temp.take()
    }
}

/// Waits until `pred` holds for `torrent`'s statistics, checking after every event; fails
/// after `timeout`, or at once if the torrent enters its error state or stops. For torrents
/// outside a [`Swarm`](super::Swarm) too (a magnet added to a plain `Session`).
pub async fn wait_for_stats(
    torrent: &TorrentHandle,
    timeout: Duration,
    pred: impl Fn(&TorrentStats) -> bool,
) -> anyhow::Result<TorrentStats> {
    let mut events = torrent.subscribe();
    let work = async {
        loop {
            let stats = torrent.stats().await?;
            if let TorrentState::Error(error) = &stats.state {
                bail!("torrent failed: {error}");
            }
            if pred(&stats) {
                return Ok(stats);
            }
            match events.recv().await {
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => bail!("the torrent stopped"),
            }
        }
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| anyhow!("condition not met within {timeout:?}"))?
}
