//! A bare magnet link (`magnet:?xt=urn:btih:HASH`, nothing else) downloaded from a libtorrent
//! seeder found through the mainline DHT alone: no tracker anywhere. Both directions of
//! bootstrapping:
//! - one bt-dht node on loopback is the router; libtorrent's DHT and the bt session's both
//!   bootstrap from it;
//! - the bt session's node bootstraps from libtorrent's own DHT node (its listen port), the
//!   only node it is given.
//!
//! libtorrent announces its torrent to the DHT, bt's metadata fetch finds it there, takes the
//! info dictionary over BEP 9 and then the files.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
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

/// A libtorrent seeder of `payload` with its DHT on, bootstrapping from `bootstrap` (none:
/// it waits to be found).
async fn lt_dht_seeder(
    payload: &Payload,
    bootstrap: Option<SocketAddr>,
) -> anyhow::Result<LibtorrentPeer> {
    let torrent = payload.write_torrent_file()?;
    // The script's defaults turn the DHT off; on here, knowing only our router (or nobody),
    // and with libtorrent's DHT IP filters off since every node of a loopback network is
    // 127.0.0.1.
    let mut lt = LibtorrentPeer::seeder(&torrent, payload.data_dir())
        .setting("enable_dht", true)
        .setting(
            "dht_bootstrap_nodes",
            bootstrap.map(|addr| addr.to_string()).unwrap_or_default(),
        )
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
    Ok(lt)
}

/// A payload with no tracker, for the DHT alone.
fn dht_only_payload(name: &str, seed: u64) -> anyhow::Result<Payload> {
    let spec = PayloadSpec::single_file(name, 2_000_000).with_piece_length(64 * 1024);
    anyhow::ensure!(spec.trackers.is_empty(), "the DHT must be the only way");
    Payload::generate(&spec, seed)
}

async fn bare_magnet_from_libtorrent_over_the_dht() -> anyhow::Result<()> {
    logs();
    let router = DhtNode::start(DhtConfig::loopback(&[])).await?;
    let payload = dht_only_payload("lt-dht.bin", 41)?;
    let mut lt = lt_dht_seeder(&payload, Some(router.local_addr())).await?;
    let session = Session::start(dht_config(router.local_addr())).await?;
    download_bare_magnet(&session, &payload, &mut lt).await?;
    stop(session).await?;
    lt.stop(TIMEOUT).await?;
    router.shutdown().await?;
    Ok(())
}

/// The reverse: libtorrent's DHT node is the only node there is at first, and bt's node
/// joins through it (libtorrent's DHT shares its listen port, over UDP).
async fn bare_magnet_bootstrapping_from_libtorrent() -> anyhow::Result<()> {
    logs();
    let payload = dht_only_payload("lt-dht-reverse.bin", 42)?;
    let mut lt = lt_dht_seeder(&payload, None).await?;
    let session = Session::start(dht_config(lt.listen_addr())).await?;
    download_bare_magnet(&session, &payload, &mut lt).await?;
    // libtorrent's node is in our table: bt joined the DHT through it.
    let dht = session.dht().context("the session's DHT node")?;
    let nodes = dht.nodes().await?;
    anyhow::ensure!(
        nodes.iter().any(|node| node.addr == lt.listen_addr()),
        "libtorrent's node is not in our table: {nodes:?}"
    );
    stop(session).await?;
    lt.stop(TIMEOUT).await?;
    Ok(())
}

/// Shuts `session` down and checks that every actor stopped.
async fn stop(session: Session) -> anyhow::Result<()> {
    session.shutdown().await;
    let left = session.wait_stopped(TIMEOUT).await;
    anyhow::ensure!(left.is_ok(), "actors still running: {left:?}");
    Ok(())
}

/// `session` (on the DHT) downloads `payload` from the libtorrent seeder `lt` through a bare
/// magnet link, then shuts down.
async fn download_bare_magnet(
    session: &Session,
    payload: &Payload,
    lt: &mut LibtorrentPeer,
) -> anyhow::Result<()> {
    let name = payload.torrent.info.name.clone();
    let magnet = MagnetLink::new(payload.info_hash());
    let uri = magnet.to_uri();
    anyhow::ensure!(!uri.contains('&'), "not a bare magnet link: {uri}");
    let dir = tempfile::tempdir()?;
    let handle = session
        .add_magnet(magnet, AddTorrentOptions::new(dir.path()))
        .await?;
    let stats = wait_for_stats(&handle, DHT_TIMEOUT, TorrentStats::is_complete).await?;
    assert_eq!(stats.name, name);
    assert_eq!(stats.left, 0);
    assert_same_tree(&payload.root, &dir.path().join(&name))?;

    // libtorrent served the payload: it is the only peer there was.
    let total = payload.torrent.info.total_length();
    let lt_stats = lt
        .wait_stats("the whole payload uploaded", TIMEOUT, |s| {
            s.payload_uploaded >= total
        })
        .await?;
    assert_eq!(lt_stats.payload_downloaded, 0, "{lt_stats:?}");
    Ok(())
}

#[actix::test]
async fn bare_magnet_downloads_from_a_libtorrent_seeder_through_the_dht_alone() {
    bare_magnet_from_libtorrent_over_the_dht().await.unwrap();
}

#[actix::test]
async fn bare_magnet_downloads_through_the_dht_bootstrapped_from_libtorrents_node() {
    bare_magnet_bootstrapping_from_libtorrent().await.unwrap();
}
