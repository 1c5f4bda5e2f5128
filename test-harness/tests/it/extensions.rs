//! The protocol extensions between in-process engine sessions: BEP 11 peer exchange (C
//! learns of A only through B), and BEP 27 (a private torrent exchanges no peers).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use bt_engine::{EngineConfig, TorrentEvent};
use bt_test_harness::{PayloadSpec, Swarm, TrackerMode};

use crate::logs;

/// Every wait in this file is bounded by this.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The test configuration with a PEX message every 300 ms instead of every minute.
pub(crate) fn pex_config(pex: bool) -> EngineConfig {
    let mut config = Swarm::test_config();
    config.extensions.pex = pex;
    config.extensions.pex_interval_ms = 300;
    config
}

/// Seeder A, then leecher B; the tracker hands out only B from then on, so A dials B and
/// C, added last, is told only of B. A does no PEX itself, so the only way A and C can meet
/// is C dialling A after B told it of A. Returns the swarm and A's listen address.
async fn a_b_c(private: bool) -> anyhow::Result<(Swarm, SocketAddr)> {
    logs();
    let spec = PayloadSpec::single_file("pex.bin", 3 << 20)
        .with_piece_length(64 * 1024)
        .with_private(private);
    let mut swarm = Swarm::builder()
        .payload(spec, 11)
        .seeders(1)
        .leechers(0)
        .config(pex_config(true))
        .seeder_config(pex_config(false))
        .build()
        .await?;
    swarm
        .tracker
        .set_mode(TrackerMode::FixedPeers(Vec::new()))?;
    let a = swarm.members[0].session.local_addr();
    let b_index = swarm.add_leecher().await?;
    let b = swarm.members[b_index].session.local_addr();
    swarm.tracker.set_mode(TrackerMode::FixedPeers(vec![b]))?;
    // A re-announces, hears of B and dials it.
    swarm.members[b_index]
        .wait_until(TIMEOUT, |s| s.peers.len() == 1)
        .await
        .context("A connects to B")?;
    Ok((swarm, a))
}

#[actix::test]
async fn pex_c_learns_of_a_only_through_b() {
    let (mut swarm, a) = a_b_c(false).await.unwrap();
    let c_index = swarm.add_leecher().await.unwrap();
    let c = &swarm.members[c_index];
    let met_a = c.wait_event(
        TIMEOUT,
        |event| matches!(event, TorrentEvent::PeerConnected { addr } if *addr == a),
    );
    met_a.await.expect("C dials A, which only B told it of");
    // B as well as C: the files of both are checked.
    swarm.wait_complete(TIMEOUT).await.unwrap();
    swarm.check_leecher_files().unwrap();
    // The tracker never named A to anyone after B joined: it answered with B alone.
    assert_eq!(
        swarm.tracker.mode(),
        TrackerMode::FixedPeers(vec![swarm.members[1].session.local_addr()])
    );
    swarm.shutdown().await.unwrap();
}

#[actix::test]
async fn a_private_torrent_exchanges_no_peers() {
    let (mut swarm, a) = a_b_c(true).await.unwrap();
    let c_index = swarm.add_leecher().await.unwrap();
    let c = &swarm.members[c_index];
    let mut events = c.torrent.subscribe();
    c.wait_complete(TIMEOUT).await.unwrap();
    // Several PEX intervals more, in which a public torrent would have met A (see above).
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let stats = c.stats().await.unwrap();
    assert!(stats.peers.iter().all(|p| p.addr != a), "{:?}", stats.peers);
    while let Ok(event) = events.try_recv() {
        assert!(
            !matches!(event, TorrentEvent::PeerConnected { addr } if addr == a),
            "C connected to A: {event:?}"
        );
    }
    swarm.wait_complete(TIMEOUT).await.unwrap();
    swarm.check_leecher_files().unwrap();
    swarm.shutdown().await.unwrap();
}
