//! Peers that take blocks hostage (hang up mid-block, never answer) do not stall a
//! download: requests time out or go to endgame, and an honest seeder finishes the job.

use bt_test_harness::Swarm;
use bt_test_harness::hostile::{ConnectionReport, DisconnectMidBlock, NeverAnswers, Sent};

use super::support::*;

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
