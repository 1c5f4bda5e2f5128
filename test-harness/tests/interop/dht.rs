//! A bare magnet link (`magnet:?xt=urn:btih:HASH`, nothing else) downloaded from a libtorrent
//! seeder found through the mainline DHT alone: no tracker anywhere. One bt-dht node on
//! loopback is the router; libtorrent's DHT and the bt session's both bootstrap from it.
//! libtorrent announces its torrent to the DHT, bt's metadata fetch finds it there, takes the
//! info dictionary over BEP 9 and then the files.

use std::net::SocketAddr;
use std::time::Duration;

use bt_dht::{DhtConfig, DhtNode};
use bt_engine::{AddTorrentOptions, EngineConfig, Session, TorrentStats};
use bt_proto::magnet::MagnetLink;
use bt_test_harness::{
    LibtorrentPeer, Payload, PayloadSpec, Swarm, assert_same_tree, wait_for_stats,
};

use super::{LT_LIFETIME, TIMEOUT, logs};

/// Bounds the DHT part: libtorrent's bootstrap and announce, then bt's lookups.
const DHT_TIMEOUT: Duration = Duration::from_secs(45);

/// A test session with its DHT node on, joining through `router`, searching often.
fn dht_config(router: SocketAddr) -> EngineConfig {
    let mut config = Swarm::test_config();
    config.dht.enabled = true;
    config.dht.announce_interval_ms = 500;
    config.dht.node = DhtConfig::loopback(&[router]);
    config
}

async fn bare_magnet_from_libtorrent_over_the_dht() -> anyhow::Result<()> {
    logs();
    let router = DhtNode::start(DhtConfig::loopback(&[])).await?;
    let spec = PayloadSpec::single_file("lt-dht.bin", 2_000_000).with_piece_length(64 * 1024);
    anyhow::ensure!(spec.trackers.is_empty(), "the DHT must be the only way");
    let payload = Payload::generate(&spec, 41)?;
    let torrent = payload.write_torrent_file()?;
    // The script's defaults turn the DHT off; on here, knowing only our router, and with
    // libtorrent's DHT IP filters off since every node of a loopback network is 127.0.0.1.
    let mut lt = LibtorrentPeer::seeder(&torrent, payload.data_dir())
        .setting("enable_dht", true)
        .setting("dht_bootstrap_nodes", router.local_addr().to_string())
        .setting("dht_restrict_routing_ips", false)
        .setting("dht_restrict_search_ips", false)
        .setting("dht_ignore_dark_internet", false)
        // Announce every second, not every 15 minutes: the first may come before the
        // bootstrap has found anyone.
        .setting("dht_announce_interval", 1)
        .time_limit(LT_LIFETIME)
        .start()
        .await?;
    lt.wait_seeding(TIMEOUT).await?;

    let session = Session::start(dht_config(router.local_addr())).await?;
    let magnet = MagnetLink::new(payload.info_hash());
    let uri = magnet.to_uri();
    anyhow::ensure!(!uri.contains('&'), "not a bare magnet link: {uri}");
    let dir = tempfile::tempdir()?;
    let handle = session
        .add_magnet(magnet, AddTorrentOptions::new(dir.path()))
        .await?;
    let stats = wait_for_stats(&handle, DHT_TIMEOUT, TorrentStats::is_complete).await?;
    assert_eq!(stats.name, "lt-dht.bin");
    assert_eq!(stats.left, 0);
    assert_same_tree(&payload.root, &dir.path().join("lt-dht.bin"))?;

    // libtorrent served the payload: it is the only peer there was.
    let total = payload.torrent.info.total_length();
    let lt_stats = lt
        .wait_stats("the whole payload uploaded", TIMEOUT, |s| {
            s.payload_uploaded >= total
        })
        .await?;
    assert_eq!(lt_stats.payload_downloaded, 0, "{lt_stats:?}");
    session.shutdown().await;
    let left = session.wait_stopped(TIMEOUT).await;
    anyhow::ensure!(left.is_ok(), "actors still running: {left:?}");
    lt.stop(TIMEOUT).await?;
    router.shutdown().await?;
    Ok(())
}

#[actix::test]
async fn bare_magnet_downloads_from_a_libtorrent_seeder_through_the_dht_alone() {
    bare_magnet_from_libtorrent_over_the_dht().await.unwrap();
}
