//! The engine against hostile peers, in in-process swarms: it hangs up on malformed input,
//! bans a peer whose blocks fail their hash and never dials it again, is not stalled by a
//! peer that stops mid-block or never answers, does not let a request flood grow its queues,
//! and never loses a piece it has verified.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::bail;
use bt_engine::{EngineConfig, TorrentEvent, TorrentState, TorrentStats};
use bt_proto::wire::{DEFAULT_MAX_MESSAGE_LEN, PeerMessage};
use bt_test_harness::hostile::{
    BadBitfield, ConnectionReport, CorruptBlocks, CorruptThenHangUp, DisconnectMidBlock, End,
    HostilePeer, NeverAnswers, OutOfRangeRequest, OversizedMessage, RequestFlood, Script, Sent,
    UnsolicitedBlocks,
};
use bt_test_harness::{PayloadSpec, Swarm, SwarmMember};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::logs;

/// Every wait in this file; swarms here settle in a few seconds.
const TIMEOUT: Duration = Duration::from_secs(30);

/// 10 pieces of 32 KiB (the last one short): spare bits in a bitfield, two blocks a piece.
fn small() -> PayloadSpec {
    PayloadSpec::single_file("hostile.bin", 300_001).with_piece_length(32 * 1024)
}

/// A member's events as they come, kept for later checks.
struct EventLog {
    rx: broadcast::Receiver<TorrentEvent>,
    seen: Vec<TorrentEvent>,
}

impl EventLog {
    fn of(member: &SwarmMember) -> Self {
        Self {
            rx: member.torrent.subscribe(),
            seen: Vec::new(),
        }
    }

    /// The first event seen so far that matches `pred`, or else the next one to come.
    async fn wait_for(
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
    async fn disconnect_reason(&mut self, from: SocketAddr) -> anyhow::Result<String> {
        let gone = |e: &TorrentEvent| matches!(e, TorrentEvent::PeerDisconnected { addr, .. } if *addr == from);
        match self.wait_for("disconnect", gone).await? {
            TorrentEvent::PeerDisconnected { reason, .. } => Ok(reason),
            other => bail!("unexpected {other:?}"),
        }
    }

    /// Takes in every event already sent.
    fn catch_up(&mut self) -> anyhow::Result<()> {
        loop {
            match self.rx.try_recv() {
                Ok(event) => self.seen.push(event),
                Err(broadcast::error::TryRecvError::Empty) => return Ok(()),
                Err(e) => bail!("events: {e}"),
            }
        }
    }

    /// The addresses disconnected with `reason`.
    fn disconnected_for(&self, wanted: &str) -> Vec<SocketAddr> {
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
    fn check_no_piece_verified_twice(&self) -> anyhow::Result<u32> {
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
fn connections_of(hostile: &HostilePeer, member: &SwarmMember) -> Vec<ConnectionReport> {
    let id = member.peer_id();
    hostile
        .connections()
        .into_iter()
        .filter(|c| c.their_handshake.is_some_and(|h| h.peer_id == id))
        .collect()
}

/// Waits until `member` has checked its data: a torrent still checking turns peers away.
async fn checked(member: &SwarmMember) -> anyhow::Result<()> {
    let ready =
        |s: &TorrentStats| matches!(s.state, TorrentState::Downloading | TorrentState::Seeding);
    member.wait_until(TIMEOUT, ready).await.map(drop)
}

/// A swarm with one leecher and no seeder yet.
async fn lonely_leecher(spec: PayloadSpec, config: EngineConfig) -> anyhow::Result<Swarm> {
    logs();
    Swarm::builder()
        .payload(spec, 5)
        .seeders(0)
        .leechers(1)
        .config(config)
        .build()
        .await
}

/// A leecher hangs up on each malformed peer, with the reason, and still completes.
#[actix::test]
async fn the_leecher_disconnects_malformed_and_out_of_range_peers() {
    let mut swarm = lonely_leecher(small(), Swarm::test_config()).await.unwrap();
    let leecher = &swarm.members[0];
    checked(leecher).await.unwrap();
    let addr = leecher.session.local_addr();
    let torrent = &swarm.metainfo;
    let mut events = EventLog::of(leecher);
    let too_long = DEFAULT_MAX_MESSAGE_LEN + 1;
    let cases: Vec<(HostilePeer, String)> = vec![
        (
            HostilePeer::connect(torrent, OversizedMessage::default(), addr).unwrap(),
            format!("malformed message: message length {too_long} exceeds the limit"),
        ),
        (
            HostilePeer::connect(torrent, BadBitfield::WrongLength, addr).unwrap(),
            "invalid bitfield: bitfield is 3 bytes, expected 2".into(),
        ),
        (
            HostilePeer::connect(torrent, BadBitfield::SpareBits, addr).unwrap(),
            "invalid bitfield: bitfield has spare bits set".into(),
        ),
        (
            HostilePeer::connect(torrent, OutOfRangeRequest::PastLastPiece, addr).unwrap(),
            "invalid request: piece index 10 is out of range".into(),
        ),
        (
            HostilePeer::connect(torrent, OutOfRangeRequest::PastPieceEnd, addr).unwrap(),
            "invalid request: range at offset 5088 of length 16384 runs past piece 9".into(),
        ),
        (
            HostilePeer::connect(torrent, OutOfRangeRequest::TooLong, addr).unwrap(),
            "invalid request: block length 32768 exceeds the limit of 16384".into(),
        ),
    ];
    for (hostile, expected) in &cases {
        let report = hostile.wait_first_end(TIMEOUT).await.unwrap();
        assert_eq!(report.end, Some(End::ClosedByRemote), "{expected}");
        let reason = events.disconnect_reason(report.local).await.unwrap();
        assert!(
            reason.starts_with(expected.as_str()),
            "{reason} for {expected}"
        );
    }
    swarm.add_seeder(Swarm::test_config()).await.unwrap();
    swarm.wait_complete(TIMEOUT).await.unwrap();
    swarm.check_leecher_files().unwrap();
    swarm.shutdown().await.unwrap();
}

/// A peer whose every block is garbage gets three strikes and a ban; the tracker keeps
/// handing it out, but the leecher never dials it again, and completes from an honest seeder.
#[actix::test]
async fn a_peer_sending_corrupt_blocks_is_banned_and_never_dialled_again() {
    let mut swarm = lonely_leecher(small(), Swarm::test_config()).await.unwrap();
    let hostile = HostilePeer::listen(&swarm.metainfo, CorruptBlocks).unwrap();
    let hostile_addr = hostile.listen_addr().unwrap();
    let mut events = EventLog::of(&swarm.members[0]);
    hostile.announce_to(&swarm.tracker).unwrap();
    let reason = events.disconnect_reason(hostile_addr).await.unwrap();
    assert_eq!(reason, "banned");
    let leecher = &swarm.members[0];
    let first = connections_of(&hostile, leecher);
    assert_eq!(first.len(), 1);
    // Three pieces of garbage, each answered block by block.
    let blocks = first[0]
        .sent
        .iter()
        .filter(|s| matches!(s, Sent::Block(_)))
        .count();
    assert!(blocks >= 3, "only {blocks} blocks sent before the ban");
    // Three more announces: each lists the banned peer again.
    announces(&swarm, leecher, 3).await.unwrap();
    assert!(
        swarm
            .tracker
            .peers(&swarm.metainfo.info_hash)
            .iter()
            .any(|p| p.addr == hostile_addr)
    );
    swarm.add_seeder(Swarm::test_config()).await.unwrap();
    swarm.wait_complete(TIMEOUT).await.unwrap();
    swarm.check_leecher_files().unwrap();
    let leecher = &swarm.members[0];
    assert_eq!(connections_of(&hostile, leecher).len(), 1, "dialled again");
    assert_eq!(events.disconnected_for("banned"), vec![hostile_addr]);
    swarm.shutdown().await.unwrap();
}

/// Waits for `n` more announces from `member` after now.
async fn announces(swarm: &Swarm, member: &SwarmMember, n: usize) -> anyhow::Result<()> {
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

/// A liar that hangs up after each piece of garbage and comes back (the tracker keeps
/// listing it) is banned all the same: strikes follow the peer, not the connection.
#[actix::test]
async fn a_liar_that_reconnects_keeps_its_strikes_and_is_banned() {
    let mut swarm = lonely_leecher(small(), Swarm::test_config()).await.unwrap();
    // Pieces are two blocks: one whole piece of garbage per connection.
    let liar = CorruptThenHangUp { blocks: 2 };
    let hostile = HostilePeer::listen(&swarm.metainfo, liar).unwrap();
    hostile.announce_to(&swarm.tracker).unwrap();
    let strikes = Swarm::test_config().picker.max_strikes as usize;
    let leecher = &swarm.members[0];
    let id = leecher.peer_id();
    let struck_out = |c: &[ConnectionReport]| {
        c.iter()
            .filter(|c| c.their_handshake.is_some_and(|h| h.peer_id == id) && c.end.is_some())
            .count()
            >= strikes
    };
    hostile.wait_until(TIMEOUT, struck_out).await.unwrap();
    // The tracker lists it on every announce; the leecher must stop dialling it. Not every
    // connection ends in a strike (blocks still on their way when it drops can be dropped
    // with it), so how many dials come before the ban varies: wait for four announces in a
    // row without a new one, in a bounded number of rounds.
    let mut dials = connections_of(&hostile, leecher).len();
    let mut stopped = false;
    for _ in 0..6 {
        announces(&swarm, leecher, 4).await.unwrap();
        let now = connections_of(&hostile, leecher).len();
        if now == dials {
            stopped = true;
            break;
        }
        dials = now;
    }
    assert!(
        stopped,
        "the liar is still being dialled after {dials} connections"
    );
    eprintln!("the reconnecting liar was dialled {dials} times, then banned");
    swarm.add_seeder(Swarm::test_config()).await.unwrap();
    swarm.wait_complete(TIMEOUT).await.unwrap();
    swarm.check_leecher_files().unwrap();
    assert_eq!(connections_of(&hostile, &swarm.members[0]).len(), dials);
    swarm.shutdown().await.unwrap();
}

/// With an honest seeder and a liar in the swarm from the start, the download completes with
/// the right bytes, only the liar is ever banned, and no verified piece is ever lost.
#[actix::test]
async fn a_download_completes_beside_a_peer_sending_corrupt_blocks() {
    logs();
    let spec = PayloadSpec::single_file("mixed.bin", 2 << 20).with_piece_length(64 * 1024);
    let mut swarm = Swarm::builder()
        .payload(spec, 6)
        .seeders(1)
        .leechers(0)
        .build()
        .await
        .unwrap();
    let hostile = HostilePeer::listen(&swarm.metainfo, CorruptBlocks).unwrap();
    hostile.announce_to(&swarm.tracker).unwrap();
    let leecher = swarm.add_leecher().await.unwrap();
    let mut events = EventLog::of(&swarm.members[leecher]);
    events
        .wait_for("completion", |e| *e == TorrentEvent::Completed)
        .await
        .unwrap();
    swarm.check_leecher_files().unwrap();
    events.catch_up().unwrap();
    let seen = events.check_no_piece_verified_twice().unwrap();
    assert!(seen > 0, "no verification seen");
    let hostile_addr = hostile.listen_addr().unwrap();
    let banned = events.disconnected_for("banned");
    assert!(
        banned.iter().all(|addr| *addr == hostile_addr),
        "an honest peer was banned: {banned:?}"
    );
    let dials = connections_of(&hostile, &swarm.members[leecher]).len();
    if !banned.is_empty() {
        assert_eq!(dials, 1, "the banned peer was dialled again");
    }
    eprintln!("liar banned: {}, dialled {dials} times", !banned.is_empty());
    swarm.shutdown().await.unwrap();
}

/// Blocks nobody asked for never reach the disk: a complete leecher drops the peer that
/// sends them (misbehaviour), and its files are still the payload's.
#[actix::test]
async fn unsolicited_garbage_never_overwrites_a_verified_piece() {
    logs();
    let swarm = Swarm::builder()
        .payload(small(), 8)
        .seeders(1)
        .leechers(1)
        .build()
        .await
        .unwrap();
    swarm.wait_complete(TIMEOUT).await.unwrap();
    let leecher = swarm.leechers().next().unwrap();
    let mut events = EventLog::of(leecher);
    let script = UnsolicitedBlocks { count: 300 };
    let addr = leecher.session.local_addr();
    let hostile = HostilePeer::connect(&swarm.metainfo, script, addr).unwrap();
    let report = hostile.wait_first_end(TIMEOUT).await.unwrap();
    assert_eq!(report.end, Some(End::ClosedByRemote));
    let reason = events.disconnect_reason(report.local).await.unwrap();
    assert!(reason.starts_with("misbehaviour score"), "{reason}");
    let stats = leecher.stats().await.unwrap();
    assert_eq!(stats.pieces_have, stats.pieces_total);
    swarm.check_leecher_files().unwrap();
    swarm.shutdown().await.unwrap();
}

/// A leecher alone with a listening hostile peer (announced to the tracker) until `pred`
/// holds for the leecher's connections to it; then an honest seeder joins, and the download
/// must complete with the payload's bytes. Returns the swarm, still running, and the peer.
async fn rescued_by_a_seeder(
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

/// A peer that hangs up halfway through every block does not stall the download: the
/// leecher keeps trying it, and completes once an honest seeder appears.
#[actix::test]
async fn a_peer_that_disconnects_mid_block_does_not_stall_the_download() {
    let cut = |c: &[ConnectionReport]| {
        let truncated =
            |c: &&ConnectionReport| matches!(c.sent.last(), Some(Sent::TruncatedFrame { .. }));
        c.iter().filter(truncated).count() >= 2
    };
    let (swarm, _hostile) = rescued_by_a_seeder(DisconnectMidBlock, Swarm::test_config(), cut)
        .await
        .unwrap();
    swarm.shutdown().await.unwrap();
}

/// A peer that unchokes and then never answers: the leecher's requests to it time out (it
/// sends CANCELs for them while the silent peer is its only peer), and the blocks are
/// fetched from the seeder that appears later.
#[actix::test]
async fn requests_to_a_silent_peer_time_out_and_go_elsewhere() {
    let mut config = Swarm::test_config();
    config.peer.request_timeout_min_ms = 300;
    config.peer.request_timeout_max_ms = 1_000;
    let cancelled = |c: &[ConnectionReport]| c.iter().any(|c| !c.received.cancels().is_empty());
    let (swarm, _hostile) = rescued_by_a_seeder(NeverAnswers, config, cancelled)
        .await
        .unwrap();
    swarm.shutdown().await.unwrap();
}

/// A peer that sends nothing at all (not even keep-alives) is dropped once the silence
/// time-out passes.
#[actix::test]
async fn a_silent_peer_is_dropped_after_the_silence_time_out() {
    let mut config = Swarm::test_config();
    config.peer.silence_timeout_ms = 1_000;
    let swarm = lonely_leecher(small(), config).await.unwrap();
    let mut events = EventLog::of(&swarm.members[0]);
    let hostile = HostilePeer::listen(&swarm.metainfo, NeverAnswers).unwrap();
    hostile.announce_to(&swarm.tracker).unwrap();
    let addr = hostile.listen_addr().unwrap();
    let reason = events.disconnect_reason(addr).await.unwrap();
    assert_eq!(reason, "peer silent for 1s");
    let report = hostile.wait_first_end(TIMEOUT).await.unwrap();
    assert_eq!(report.end, Some(End::ClosedByRemote));
    swarm.shutdown().await.unwrap();
}

/// With the default (long) request time-outs, blocks held by a silent peer are fetched
/// again in endgame from the seeder, well before they would time out.
#[actix::test]
async fn a_silent_peer_does_not_stall_the_end_of_a_download() {
    let asked = |c: &[ConnectionReport]| c.iter().any(|c| !c.received.requests().is_empty());
    let (swarm, hostile) = rescued_by_a_seeder(NeverAnswers, Swarm::test_config(), asked)
        .await
        .unwrap();
    let timeout_ms = Swarm::test_config().peer.request_timeout_min_ms;
    let silent = connections_of(&hostile, &swarm.members[0]);
    eprintln!(
        "silent peer: {} connections, {} requests, {} cancels (time-outs at least {timeout_ms} ms)",
        silent.len(),
        silent
            .iter()
            .map(|c| c.received.requests().len())
            .sum::<usize>(),
        silent
            .iter()
            .map(|c| c.received.cancels().len())
            .sum::<usize>(),
    );
    swarm.shutdown().await.unwrap();
}

/// A peer that floods the seeder with requests is cut off at the queue limit, having been
/// served no more than about that many blocks; the honest leecher completes.
#[actix::test]
async fn a_request_flood_is_cut_off_at_the_queue_limit() {
    logs();
    let spec = PayloadSpec::single_file("flood.bin", 1 << 20);
    let swarm = Swarm::builder()
        .payload(spec, 10)
        .seeders(1)
        .leechers(1)
        .build()
        .await
        .unwrap();
    let seeder = swarm.seeders().next().unwrap();
    checked(seeder).await.unwrap();
    let mut events = EventLog::of(seeder);
    let flood = RequestFlood::default();
    let addr = seeder.session.local_addr();
    let hostile = HostilePeer::connect(&swarm.metainfo, flood, addr).unwrap();
    let report = hostile.wait_first_end(TIMEOUT).await.unwrap();
    assert_eq!(report.end, Some(End::ClosedByRemote));
    let limit = Swarm::test_config().peer.max_peer_requests;
    let reason = events.disconnect_reason(report.local).await.unwrap();
    assert_eq!(
        reason,
        format!("request flood: more than {limit} requests queued")
    );
    assert!(report.received.unchoked());
    let flooded = report
        .sent
        .iter()
        .filter(|s| matches!(s, Sent::Message(PeerMessage::Request(_))));
    assert!(flooded.count() > limit, "the flood never left");
    let served = report.received.blocks.len();
    eprintln!(
        "flood of {}: served {served} blocks ({} bytes) before the cut",
        flood.requests, report.received.bytes
    );
    assert!(
        served <= 2 * limit,
        "served {served} of {} flooded requests",
        flood.requests
    );
    swarm.wait_complete(TIMEOUT).await.unwrap();
    swarm.check_leecher_files().unwrap();
    swarm.shutdown().await.unwrap();
}
