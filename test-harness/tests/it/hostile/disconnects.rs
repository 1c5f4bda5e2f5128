//! The engine hangs up on hostile input, says why, and loses nothing: malformed frames,
//! bad bitfields, out-of-range requests, unsolicited blocks, a request flood, silence.

use bt_proto::wire::{DEFAULT_MAX_MESSAGE_LEN, PeerMessage};
use bt_test_harness::hostile::{
    BadBitfield, End, HostilePeer, NeverAnswers, OutOfRangeRequest, OversizedMessage, RequestFlood,
    Sent, UnsolicitedBlocks,
};
use bt_test_harness::{PayloadSpec, Swarm};

use crate::logs;

use super::support::*;

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
    // Well past the limit whatever it is set to, so the queue overflows even if the seeder
    // serves some requests while the burst is still arriving.
    let limit = Swarm::test_config().peer.max_peer_requests;
    let flood = RequestFlood {
        requests: 4 * limit,
    };
    assert!(flood.requests <= swarm.metainfo.info.total_length() as usize);
    let addr = seeder.session.local_addr();
    let hostile = HostilePeer::connect(&swarm.metainfo, flood, addr).unwrap();
    let report = hostile.wait_first_end(TIMEOUT).await.unwrap();
    assert_eq!(report.end, Some(End::ClosedByRemote));
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
