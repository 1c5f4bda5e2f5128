//! What `bt download` and `bt seed` share: the configuration, the session, waiting on a
//! torrent's events, and the signals that end a run.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bt_engine::{EngineConfig, Session, TorrentEvent, TorrentHandle, TorrentState};
use tokio::sync::broadcast::error::RecvError;

use crate::format;

/// The engine's configuration: defaults < `--config FILE` < `BT_*` variables < `--listen`.
pub fn load_config(
    file: Option<&Path>,
    listen: Option<SocketAddr>,
) -> anyhow::Result<EngineConfig> {
    let mut config = EngineConfig::load(file)?;
    if let Some(listen) = listen {
        config.listen = listen;
    }
    Ok(config)
}

/// How a wait for the torrent ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// What we waited for happened.
    Done,
    /// SIGINT or SIGTERM arrived first.
    Signalled,
}

/// Waits until `done` holds for the torrent's state (checked after every event), printing
/// progress to stderr about once a second; fails if the torrent enters its error state.
/// Returns early with [`Outcome::Signalled`] on SIGINT or SIGTERM.
pub async fn wait_for(
    torrent: &TorrentHandle,
    done: impl Fn(&bt_engine::TorrentStats) -> bool,
) -> anyhow::Result<Outcome> {
    let mut events = torrent.subscribe();
    let mut signals = Box::pin(shutdown_signal());
    let mut last_print = Instant::now();
    loop {
        let stats = torrent.stats().await?;
        if let TorrentState::Error(error) = &stats.state {
            bail!("{error}");
        }
        if done(&stats) {
            return Ok(Outcome::Done);
        }
        tokio::select! {
            event = events.recv() => match event {
                Ok(TorrentEvent::Progress { .. }) if last_print.elapsed() >= Duration::from_secs(1) => {
                    last_print = Instant::now();
                    print_progress(&stats);
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => bail!("the torrent stopped"),
            },
            result = &mut signals => {
                result?;
                return Ok(Outcome::Signalled);
            }
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.context("installing the SIGINT handler")?,
        _ = term.recv() => {}
    }
    Ok(())
}

/// One line of progress on stderr.
pub fn print_progress(stats: &bt_engine::TorrentStats) {
    eprintln!(
        "{}: {}/{} pieces, {} down ({}/s), {} up ({}/s), {} peers",
        stats.name,
        stats.pieces_have,
        stats.pieces_total,
        format::bytes(stats.downloaded),
        format::bytes(stats.download_rate),
        format::bytes(stats.uploaded),
        format::bytes(stats.upload_rate),
        stats.peers.len()
    );
}

/// Shuts the session down: every torrent announces `stopped` and the actors stop.
pub async fn stop(session: &Session) {
    session.shutdown().await;
    // Connections close on their own threads; give them a moment, but never hang on it.
    let _ = session.wait_stopped(Duration::from_secs(5)).await;
}
