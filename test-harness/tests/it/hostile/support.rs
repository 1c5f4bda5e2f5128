//! What the engine tests with hostile peers share: a log of a member's events, waits, and
//! the swarms they start from.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::bail;
use bt_engine::{EngineConfig, TorrentEvent, TorrentState, TorrentStats};
use bt_test_harness::hostile::{ConnectionReport, HostilePeer, Script};
use bt_test_harness::{PayloadSpec, Swarm, SwarmMember};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::logs;

/// Every wait of the engine tests; their swarms settle in a few seconds.
pub(super) const TIMEOUT: Duration = Duration::from_secs(30);

/// 10 pieces of 32 KiB (the last one short): spare bits in a bitfield, two blocks a piece.
pub(super) fn small() -> PayloadSpec {
    PayloadSpec::single_file("hostile.bin", 300_001).with_piece_length(32 * 1024)
}

/// A member's events as they come, kept for later checks.
pub(super) struct EventLog {
    rx: broadcast::Receiver<TorrentEvent>,
    seen: Vec<TorrentEvent>,
}

impl EventLog {
    pub(super) fn of(member: &SwarmMember) -> Self {
        Self {
            rx: member.torrent.subscribe(),
            seen: Vec::new(),
        }
    }

    /// The first event seen so far that matches `pred`, or else the next one to come.
    pub(super) async fn wait_for(
        &mut self,
        what: &str,
        pred: impl Fn(&TorrentEvent) -> bool,
    ) -> anyhow::Result<TorrentEvent> {
        if let Some(event) = self.seen.iter().find(|e| pred(e)) {
            return Ok(event.clone());
        }
        let work = async {
            loop {
                match self.rx.recv().await {
                    Ok(event) => {
                        self.seen.push(event.clone());
                        if pred(&event) {
                            return Ok(event);
                        }
                    }
                    Err(RecvError::Lagged(n)) => bail!("{n} events lost"),
                    Err(RecvError::Closed) => bail!("the torrent stopped"),
                }
            }
        };
        match tokio::time::timeout(TIMEOUT, work).await {
            Ok(found) => found,
            Err(_) => bail!("no {what} within {TIMEOUT:?}; saw {:#?}", self.seen),
        }
    }

    /// Why the connection with `from` ended.
    pub(super) async fn disconnect_reason(&mut self, from: SocketAddr) -> anyhow::Result<String> {
        let gone = |e: &TorrentEvent| matches!(e, TorrentEvent::PeerDisconnected { addr, .. } if *addr == from);
        match self.wait_for("disconnect", gone).await? {
            TorrentEvent::PeerDisconnected { reason, .. } => Ok(reason),
            other => bail!("unexpected {other:?}"),
        }
    }

    /// Takes in every event already sent.
    pub(super) fn catch_up(&mut self) -> anyhow::Result<()> {
        loop {
            match self.rx.try_recv() {
                Ok(event) => self.seen.push(event),
                Err(broadcast::error::TryRecvError::Empty) => return Ok(()),
                Err(e) => bail!("events: {e}"),
            }
        }
    }

    /// The addresses disconnected with `reason`.
    pub(super) fn disconnected_for(&self, wanted: &str) -> Vec<SocketAddr> {
        self.seen
            .iter()
            .filter_map(|e| match e {
                TorrentEvent::PeerDisconnected { addr, reason } if reason == wanted => Some(*addr),
                _ => None,
            })
            .collect()
    }

    /// Fails if a piece was verified twice or the count of verified pieces ever fell: once
    /// verified, a piece never went back to missing. Returns how many verifications it saw
    /// (those before the log was made are not seen).
    pub(super) fn check_no_piece_verified_twice(&self) -> anyhow::Result<u32> {
        let mut verified = std::collections::HashSet::new();
        let mut last_have = 0;
        for event in &self.seen {
            if let TorrentEvent::PieceVerified { piece, have, .. } = event {
                anyhow::ensure!(verified.insert(*piece), "piece {piece} verified twice");
                anyhow::ensure!(*have > last_have, "have fell from {last_have} to {have}");
                last_have = *have;
            }
        }
        Ok(verified.len() as u32)
    }
}

/// The connections `member` opened to (or accepted from) the hostile peer.
pub(super) fn connections_of(hostile: &HostilePeer, member: &SwarmMember) -> Vec<ConnectionReport> {
    let id = member.peer_id();
    hostile
        .connections()
        .into_iter()
        .filter(|c| c.their_handshake.is_some_and(|h| h.peer_id == id))
        .collect()
}

/// Waits until `member` has checked its data: a torrent still checking turns peers away.
pub(super) async fn checked(member: &SwarmMember) -> anyhow::Result<()> {
    let ready =
        |s: &TorrentStats| matches!(s.state, TorrentState::Downloading | TorrentState::Seeding);
    member.wait_until(TIMEOUT, ready).await.map(drop)
}

/// A swarm with one leecher and no seeder yet.
pub(super) async fn lonely_leecher(
    spec: PayloadSpec,
    config: EngineConfig,
) -> anyhow::Result<Swarm> {
    logs();
    Swarm::builder()
        .payload(spec, 5)
        .seeders(0)
        .leechers(1)
        .config(config)
        .build()
        .await
}

/// Waits for `n` more announces from `member` after now.
pub(super) async fn announces(swarm: &Swarm, member: &SwarmMember, n: usize) -> anyhow::Result<()> {
    let id = member.peer_id();
    let mut after = std::time::Instant::now();
    for _ in 0..n {
        let announce = swarm
            .tracker
            .wait_for_announce_async(|a| a.peer_id == id && a.at > after, TIMEOUT)
            .await?;
        after = announce.at;
    }
    Ok(())
}

/// A leecher alone with a listening hostile peer (announced to the tracker) until `pred`
/// holds for the leecher's connections to it; then an honest seeder joins, and the download
/// must complete with the payload's bytes. Returns the swarm, still running, and the peer.
pub(super) async fn rescued_by_a_seeder(
    script: impl Script,
    config: EngineConfig,
    pred: impl Fn(&[ConnectionReport]) -> bool,
) -> anyhow::Result<(Swarm, HostilePeer)> {
    let mut swarm = lonely_leecher(small(), config.clone()).await?;
    let hostile = HostilePeer::listen(&swarm.metainfo, script)?;
    hostile.announce_to(&swarm.tracker)?;
    let id = swarm.members[0].peer_id();
    let leechers = |c: &[ConnectionReport]| {
        let mine: Vec<ConnectionReport> = c
            .iter()
            .filter(|c| c.their_handshake.is_some_and(|h| h.peer_id == id))
            .cloned()
            .collect();
        pred(&mine)
    };
    hostile.wait_until(TIMEOUT, leechers).await?;
    swarm.add_seeder(config).await?;
    swarm.wait_complete(TIMEOUT).await?;
    swarm.check_leecher_files()?;
    Ok((swarm, hostile))
}
