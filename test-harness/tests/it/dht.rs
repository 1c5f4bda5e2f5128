//! Downloads with no tracker at all: the sessions run DHT nodes (`dht.enabled`) that join
//! through one bt-dht node on loopback, and find each other through it, for a torrent and
//! for a magnet link's metadata. Private torrents (BEP 27), from a `.torrent` or a magnet
//! link, are never announced there.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use bt_dht::{DhtConfig, DhtHandle, DhtNode};
use bt_engine::{AddTorrentOptions, EngineConfig, Session, TorrentStats};
use bt_proto::magnet::MagnetLink;
use bt_test_harness::{
    Payload, PayloadSpec, Role, Swarm, SwarmMember, assert_same_tree, wait_for_stats,
};

use crate::logs;

const TIMEOUT: Duration = Duration::from_secs(30);

/// A test session with its DHT node on, joining through `router`, announcing often.
fn dht_config(router: SocketAddr) -> EngineConfig {
    let mut config = Swarm::test_config();
    config.dht.enabled = true;
    config.dht.announce_interval_ms = 300;
    config.dht.node = DhtConfig::loopback(&[router]);
    config
}

/// A seeder and a leecher of `spec` (which names no tracker), both on the DHT.
async fn seeder_and_leecher(
    spec: PayloadSpec,
    router: &DhtHandle,
) -> anyhow::Result<(Payload, SwarmMember, SwarmMember)> {
    anyhow::ensure!(spec.trackers.is_empty(), "the DHT must be the only way");
    let payload = Payload::generate(&spec, 7)?;
    let config = dht_config(router.local_addr());
    let seeder_dir = payload.data_dir().to_path_buf();
    let seeder = SwarmMember::start(
        Role::Seeder,
        config.clone(),
        &payload.torrent,
        seeder_dir,
        None,
    )
    .await?;
    let leecher_dir = tempfile::tempdir()?;
    let path = leecher_dir.path().to_path_buf();
    let leecher = SwarmMember::start(
        Role::Leecher,
        config,
        &payload.torrent,
        path,
        Some(leecher_dir),
    )
    .await?;
    Ok((payload, seeder, leecher))
}

#[actix::test]
async fn a_public_torrent_downloads_through_the_dht_alone() -> anyhow::Result<()> {
    logs();
    let router = DhtNode::start(DhtConfig::loopback(&[])).await?;
    let spec = PayloadSpec::single_file("dht-only.bin", 300_000);
    let (payload, seeder, leecher) = seeder_and_leecher(spec, &router).await?;
    leecher.wait_complete(TIMEOUT).await?;
    let name = &payload.torrent.info.name;
    assert_same_tree(&payload.data_dir().join(name), &leecher.dir().join(name))?;
    // Both sessions' nodes are in the router's table.
    let table = router.stats().await?.dht;
    anyhow::ensure!(table.nodes >= 2, "router knows {} nodes", table.nodes);
    seeder.stop(TIMEOUT).await?;
    leecher.stop(TIMEOUT).await?;
    anyhow::ensure!(
        seeder
            .session
            .dht()
            .context("a DHT node")?
            .stats()
            .await
            .is_err()
    );
    router.shutdown().await?;
    Ok(())
}

#[actix::test]
async fn a_private_torrent_never_uses_the_dht() -> anyhow::Result<()> {
    logs();
    let router = DhtNode::start(DhtConfig::loopback(&[])).await?;
    let spec = PayloadSpec::single_file("private.bin", 100_000).with_private(true);
    let (_payload, seeder, leecher) = seeder_and_leecher(spec, &router).await?;
    let nodes = [
        router.clone(),
        seeder.session.dht().context("seeder's node")?.clone(),
        leecher.session.dht().context("leecher's node")?.clone(),
    ];
    // The sessions' nodes are on the DHT (they joined through the router)...
    tokio::time::timeout(TIMEOUT, async {
        while router.stats().await.map_or(0, |s| s.dht.nodes) < 2 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .context("the sessions' nodes joining")?;
    // ...for more than three announce intervals, and nobody announced or searched the torrent.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    for node in &nodes {
        let stats = node.stats().await?.dht;
        anyhow::ensure!(
            stats.torrents == 0,
            "a node stores a private torrent: {stats:?}"
        );
    }
    let stats = leecher.stats().await?;
    anyhow::ensure!(stats.pieces_have == 0, "the private torrent found a peer");
    seeder.stop(TIMEOUT).await?;
    leecher.stop(TIMEOUT).await?;
    router.shutdown().await?;
    Ok(())
}

/// A magnet link that names nothing but the info-hash: its metadata fetch finds the seeder
/// through the DHT, and the torrent then downloads the one file asked for (`files`, applied
/// once the metadata is there) and counts as complete without the others.
#[actix::test]
async fn a_bare_magnet_link_fetches_through_the_dht_and_downloads_the_picked_file()
-> anyhow::Result<()> {
    logs();
    let router = DhtNode::start(DhtConfig::loopback(&[])).await?;
    let payload = Payload::generate(&PayloadSpec::multi_file_tree("dht-magnet"), 8)?;
    let config = dht_config(router.local_addr());
    let seeder_dir = payload.data_dir().to_path_buf();
    let seeder = SwarmMember::start(
        Role::Seeder,
        config.clone(),
        &payload.torrent,
        seeder_dir,
        None,
    )
    .await?;
    seeder.wait_complete(TIMEOUT).await?;

    let session = Session::start(config).await?;
    let dir = tempfile::tempdir()?;
    let files = &payload.torrent.info.files;
    let picked = files
        .iter()
        .position(|f| f.path == ["a.bin"])
        .context("a.bin")?;
    let mut options = AddTorrentOptions::new(dir.path());
    options.files = Some(vec![picked]);
    let magnet = MagnetLink::new(payload.info_hash());
    let handle = session.add_magnet(magnet, options).await?;
    let stats = tokio::time::timeout(TIMEOUT, async {
        loop {
            let stats = handle.stats().await?;
            if stats.is_complete() {
                return anyhow::Ok(stats);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .context("the magnet download completing")??;
    assert_eq!(stats.name, "dht-magnet");
    assert_eq!(stats.left, 0);
    // a.bin's two pieces of five; z.txt, in the last piece, is never fetched nor created.
    assert!(stats.pieces_have < stats.pieces_total, "{stats:?}");
    let root = dir.path().join("dht-magnet");
    assert_eq!(
        std::fs::read(root.join("a.bin"))?,
        std::fs::read(payload.root.join("a.bin"))?
    );
    assert!(!root.join("z.txt").exists());
    session.shutdown().await;
    let left = session.wait_stopped(TIMEOUT).await;
    anyhow::ensure!(left.is_ok(), "actors still running: {left:?}");
    seeder.stop(TIMEOUT).await?;
    router.shutdown().await?;
    Ok(())
}

/// BEP 27 for a magnet link: its metadata (and so the private flag) is unknown until fetched,
/// so the fetch looks the info-hash up on the DHT but never announces it; once the metadata
/// says private, the DHT is dropped. The download completes from the `tr=` tracker's peer,
/// and the node every DHT query went through never stored the info-hash.
#[actix::test]
async fn a_private_magnet_is_never_announced_to_the_dht() -> anyhow::Result<()> {
    logs();
    let router = DhtNode::start(DhtConfig::loopback(&[])).await?;
    let spec = PayloadSpec::single_file("private-magnet.bin", 300_000).with_private(true);
    let swarm = Swarm::builder()
        .payload(spec, 9)
        .seeders(1)
        .leechers(0)
        .build()
        .await?;
    let hash = swarm.payload.info_hash();
    swarm
        .tracker
        .wait_for_announce_async(|a| a.info_hash == hash && a.left == 0, TIMEOUT)
        .await?;

    let session = Session::start(dht_config(router.local_addr())).await?;
    let magnet = MagnetLink {
        trackers: vec![swarm.tracker.http_announce_url()],
        ..MagnetLink::new(hash)
    };
    let dir = tempfile::tempdir()?;
    let handle = session
        .add_magnet(magnet, AddTorrentOptions::new(dir.path()))
        .await?;
    wait_for_stats(&handle, TIMEOUT, TorrentStats::is_complete).await?;
    let name = &swarm.metainfo.info.name;
    assert_same_tree(&swarm.payload.root, &dir.path().join(name))?;
    // The fetch did use the DHT: its lookups went through the router.
    let before = router.stats().await?.dht;
    anyhow::ensure!(before.queries_received > 0, "no DHT lookup: {before:?}");
    // Three announce intervals more: a public torrent's supervisor would look up and announce
    // in each; a private one asks the DHT nothing.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let after = router.stats().await?.dht;
    let ours = session
        .dht()
        .context("the session's node")?
        .stats()
        .await?
        .dht;
    for stats in [&after, &ours] {
        anyhow::ensure!(
            stats.torrents == 0,
            "a node stores the private torrent: {stats:?}"
        );
    }
    anyhow::ensure!(
        after.queries_received == before.queries_received,
        "DHT queries after the metadata said private: {before:?} then {after:?}"
    );
    session.shutdown().await;
    let left = session.wait_stopped(TIMEOUT).await;
    anyhow::ensure!(left.is_ok(), "actors still running: {left:?}");
    swarm.shutdown().await?;
    router.shutdown().await?;
    Ok(())
}
