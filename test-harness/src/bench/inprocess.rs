//! The cases that run the engine in this process: a swarm of 21 sessions (case 5) and the
//! resume check of data already on disk (case 6).

use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use bt_engine::{AddTorrentOptions, EngineConfig, Session, TorrentState};
use tokio::sync::broadcast::error::RecvError;

use super::transfer::Fixture;
use crate::{PayloadSpec, Swarm};

/// What a swarm run gave.
#[derive(Debug, Clone, Copy)]
pub struct SwarmRun {
    /// Seconds from starting the swarm (tracker, payload, sessions) until the last leecher
    /// completed.
    pub all_complete_s: f64,
    /// Bytes the seeder uploaded divided by the payload's length.
    pub seeder_upload_copies: f64,
}

/// A session configuration for the benchmark: the engine's defaults, on loopback, with one
/// worker Arbiter and one disk thread when many sessions share the machine.
pub fn bench_config(shared_by_many: bool) -> EngineConfig {
    let mut config = EngineConfig {
        listen: "127.0.0.1:0".parse().expect("a literal address"),
        ..EngineConfig::default()
    };
    if shared_by_many {
        config.arbiters = 1;
        config.disk_threads = 1;
    }
    config
}

/// Case 5: one seeder and `leechers` leechers, each a session of its own, share a payload of
/// `len` bytes until every leecher completes.
pub async fn swarm(
    len: u64,
    piece_length: u32,
    leechers: usize,
    limit: Duration,
) -> anyhow::Result<SwarmRun> {
    let started = Instant::now();
    let spec = PayloadSpec::single_file("swarm.bin", len).with_piece_length(piece_length);
    let swarm = Swarm::builder()
        .payload(spec, 5)
        .seeders(1)
        .leechers(leechers)
        .config(bench_config(true))
        .build()
        .await?;
    swarm.wait_complete(limit).await?;
    let all_complete_s = started.elapsed().as_secs_f64();
    swarm.check_leecher_files()?;
    let seeder = swarm.seeders().next().context("the swarm's seeder")?;
    // Connections report their counters every statistics interval; let the last come in.
    let interval = Duration::from_millis(bench_config(true).stats_interval_ms);
    tokio::time::sleep(interval * 3).await;
    let uploaded = seeder.stats().await?.uploaded;
    let copies = uploaded as f64 / swarm.metainfo.info.total_length() as f64;
    swarm.shutdown().await?;
    Ok(SwarmRun {
        all_complete_s,
        seeder_upload_copies: copies,
    })
}

/// Case 6: seconds a new session takes to re-verify the fixture's data (every piece on disk)
/// until the torrent is seeding.
pub async fn resume_check(fixture: &Fixture, limit: Duration) -> anyhow::Result<f64> {
    let session = Session::start(bench_config(false)).await?;
    let started = Instant::now();
    let torrent = session
        .add_torrent(
            fixture.payload.torrent.clone(),
            AddTorrentOptions::new(fixture.payload.data_dir()),
        )
        .await?;
    let mut events = torrent.subscribe();
    let wait = async {
        loop {
            let stats = torrent.stats().await?;
            match stats.state {
                TorrentState::Seeding => return Ok(started.elapsed().as_secs_f64()),
                TorrentState::Error(e) => bail!("the resume check failed: {e}"),
                _ => {}
            }
            match events.recv().await {
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => bail!("the torrent stopped"),
            }
        }
    };
    let seconds = tokio::time::timeout(limit, wait)
        .await
        .map_err(|_| anyhow!("the resume check took over {limit:?}"))?;
    session.shutdown().await;
    session
        .wait_stopped(limit)
        .await
        .map_err(|alive| anyhow!("actors alive after shutdown: {alive:?}"))?;
    seconds
}
