//! Peers whose blocks fail their hash check: struck, banned across reconnections, never
//! dialled again, and no reason for a download to fail or lose a verified piece.

use bt_engine::TorrentEvent;
use bt_test_harness::hostile::{
    ConnectionReport, CorruptBlocks, CorruptThenHangUp, HostilePeer, Sent,
};
use bt_test_harness::{PayloadSpec, Swarm};

use crate::logs;

use super::support::*;

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
