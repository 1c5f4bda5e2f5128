//! Interop with python3-libtorrent, the reference client, over loopback through the mock
//! tracker: bt downloads from a libtorrent seeder, and a libtorrent leecher downloads from a bt
//! seeder, each with a single-file torrent and with the multi-file tree (nested folders, an
//! empty file, a piece across three files). The files must come out byte for byte, and
//! libtorrent's own figures must show the transfer. A mixed swarm of both clients completes
//! too. Without any tracker, a bare magnet link downloads from a libtorrent seeder found
//! through the mainline DHT alone.
//!
//! A machine without libtorrent fails these tests with the install hint
//! (`apt-get install python3-libtorrent`); `.ci/run` installs it.

use std::time::Duration;

use anyhow::Context;

use bt_proto::tracker::AnnounceEvent;
use bt_test_harness::{
    LibtorrentPeer, PayloadSpec, Swarm, TrackerKind, assert_same_tree, reference::LtState,
};

// The protocol extensions (BEP 6, 9, 10) with libtorrent, through scripts/lt_ext.py.
mod ext;
// A bare magnet link from a libtorrent seeder found through the DHT alone (BEP 5, 9).
mod dht;

/// Bounds every wait; libtorrent checks, announces and transfers these payloads in seconds.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The reference peer's own limit, past every wait of a test.
const LT_LIFETIME: Duration = Duration::from_secs(90);

fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// Three megabytes in 64 KiB pieces, the last one short.
fn single_file(name: &str) -> PayloadSpec {
    PayloadSpec::single_file(name, 3_000_000).with_piece_length(64 * 1024)
}

fn tracker_url(swarm: &Swarm, kind: TrackerKind) -> String {
    match kind {
        TrackerKind::Http => swarm.tracker.http_announce_url(),
        TrackerKind::Udp => swarm.tracker.udp_announce_url(),
    }
}

/// A bt leecher (a swarm with no bt seeder) downloads `spec` from a libtorrent seeder.
async fn bt_downloads_from_libtorrent(
    spec: PayloadSpec,
    kind: TrackerKind,
    seed: u64,
) -> anyhow::Result<()> {
    logs();
    let swarm = Swarm::builder()
        .payload(spec, seed)
        .tracker(kind)
        .seeders(0)
        .leechers(1)
        .build()
        .await?;
    let torrent = swarm.payload.write_torrent_file()?;
    let mut lt = LibtorrentPeer::seeder(&torrent, swarm.payload.data_dir())
        .tracker(tracker_url(&swarm, kind))
        .time_limit(LT_LIFETIME)
        .start()
        .await?;
    assert_eq!(lt.info_hash(), swarm.payload.info_hash().to_string());
    let seeding = lt.wait_seeding(TIMEOUT).await?;
    assert_eq!(seeding.state, LtState::Seeding);

    swarm.wait_complete(TIMEOUT).await?;
    swarm.check_leecher_files()?;
    let total = swarm.metainfo.info.total_length();
    let leecher = swarm.leechers().next().context("a leecher")?;
    // Peer connections report their byte counts every tick, so the total may trail the
    // last verified piece for a moment.
    let stats = leecher
        .wait_until(TIMEOUT, |s| s.downloaded >= total)
        .await?;
    assert_eq!((stats.left, stats.pieces_have), (0, stats.pieces_total));
    let bt_id = leecher.peer_id();
    swarm
        .tracker
        .wait_for_announce_async(
            |a| a.peer_id == bt_id && a.event == AnnounceEvent::Completed,
            TIMEOUT,
        )
        .await?;

    // libtorrent's side of the transfer: it served the whole payload, to the one peer.
    let lt_stats = lt
        .wait_stats("the whole payload uploaded", TIMEOUT, |s| {
            s.payload_uploaded >= total
        })
        .await?;
    assert_eq!(lt_stats.payload_downloaded, 0, "{lt_stats:?}");
    swarm.shutdown().await?;
    let report = lt.stop(TIMEOUT).await?;
    assert!(report.stats.payload_uploaded >= total, "{report:?}");
    assert_eq!(report.stats.pieces, report.stats.pieces_total);
    assert!(report.usage.cpu_s() > 0.0, "{report:?}");
    Ok(())
}

/// A libtorrent leecher downloads `spec` from a bt seeder (a swarm with no bt leecher).
async fn libtorrent_downloads_from_bt(
    spec: PayloadSpec,
    kind: TrackerKind,
    seed: u64,
) -> anyhow::Result<()> {
    logs();
    let swarm = Swarm::builder()
        .payload(spec, seed)
        .tracker(kind)
        .seeders(1)
        .leechers(0)
        .build()
        .await?;
    let hash = swarm.payload.info_hash();
    swarm
        .tracker
        .wait_for_announce_async(|a| a.info_hash == hash && a.left == 0, TIMEOUT)
        .await?;

    let torrent = swarm.payload.write_torrent_file()?;
    let dir = tempfile::tempdir()?;
    let mut lt = LibtorrentPeer::leecher(&torrent, dir.path())
        .tracker(tracker_url(&swarm, kind))
        .time_limit(LT_LIFETIME)
        .start()
        .await?;
    let report = lt.wait_complete(TIMEOUT).await?;
    let total = swarm.metainfo.info.total_length();
    let name = &swarm.metainfo.info.name;
    assert_same_tree(&swarm.payload.root, &dir.path().join(name))?;
    let lt_stats = &report.stats;
    assert!(lt_stats.is_complete(), "{lt_stats:?}");
    assert_eq!(lt_stats.total_done, total, "{lt_stats:?}");
    assert!(lt_stats.payload_downloaded >= total, "{lt_stats:?}");
    assert_eq!(
        lt_stats.failed_bytes, 0,
        "bt sent data that failed: {lt_stats:?}"
    );
    assert_eq!(lt_stats.payload_uploaded, 0, "{lt_stats:?}");

    // bt's side: it counted the upload.
    let seeder = swarm.seeders().next().context("a seeder")?;
    let stats = seeder.wait_until(TIMEOUT, |s| s.uploaded >= total).await?;
    assert_eq!(stats.pieces_have, stats.pieces_total);
    // The leecher exited after completing; stopping returns the same figures.
    assert_eq!(lt.stop(TIMEOUT).await?, report);
    swarm.shutdown().await
}

#[actix::test]
async fn bt_downloads_a_single_file_from_a_libtorrent_seeder() {
    bt_downloads_from_libtorrent(single_file("from-lt.bin"), TrackerKind::Http, 21)
        .await
        .unwrap();
}

#[actix::test]
async fn bt_downloads_a_multi_file_tree_from_a_libtorrent_seeder() {
    let spec = PayloadSpec::multi_file_tree("from-lt");
    bt_downloads_from_libtorrent(spec, TrackerKind::Udp, 22)
        .await
        .unwrap();
}

#[actix::test]
async fn a_libtorrent_leecher_downloads_a_single_file_from_bt() {
    libtorrent_downloads_from_bt(single_file("to-lt.bin"), TrackerKind::Udp, 23)
        .await
        .unwrap();
}

#[actix::test]
async fn a_libtorrent_leecher_downloads_a_multi_file_tree_from_bt() {
    let spec = PayloadSpec::multi_file_tree("to-lt");
    libtorrent_downloads_from_bt(spec, TrackerKind::Http, 24)
        .await
        .unwrap();
}

/// libtorrent and bt in one swarm: a libtorrent seeder, a libtorrent leecher that keeps
/// seeding, and two bt leechers; everyone completes with identical files, and what the
/// leechers got adds up to at least one copy each.
async fn mixed_swarm() -> anyhow::Result<()> {
    logs();
    let spec = PayloadSpec::single_file("mixed.bin", 8_000_000).with_piece_length(64 * 1024);
    let swarm = Swarm::builder()
        .payload(spec, 25)
        .seeders(0)
        .leechers(2)
        .build()
        .await?;
    let torrent = swarm.payload.write_torrent_file()?;
    let url = swarm.tracker.http_announce_url();
    let seeder = LibtorrentPeer::seeder(&torrent, swarm.payload.data_dir())
        .tracker(url.clone())
        .time_limit(LT_LIFETIME)
        .start()
        .await?;
    let dir = tempfile::tempdir()?;
    let mut leecher = LibtorrentPeer::leecher(&torrent, dir.path())
        .tracker(url)
        .keep_seeding()
        .time_limit(LT_LIFETIME)
        .start()
        .await?;
    swarm.wait_complete(TIMEOUT).await?;
    swarm.check_leecher_files()?;
    let report = leecher.wait_complete(TIMEOUT).await?;
    assert_same_tree(&swarm.payload.root, &dir.path().join("mixed.bin"))?;
    let total = swarm.metainfo.info.total_length();
    assert!(report.stats.payload_downloaded >= total, "{report:?}");
    assert_eq!(report.stats.failed_bytes, 0, "{report:?}");
    // The libtorrent leecher, still running, now counts as a seeder.
    leecher.wait_seeding(TIMEOUT).await?;
    swarm.shutdown().await?;
    let seeded = seeder.stop(TIMEOUT).await?;
    let leeched = leecher.stop(TIMEOUT).await?;
    assert_eq!(seeded.stats.payload_downloaded, 0, "{seeded:?}");
    assert!(leeched.stats.is_complete(), "{leeched:?}");
    Ok(())
}

#[actix::test]
async fn libtorrent_and_bt_peers_complete_one_swarm_together() {
    mixed_swarm().await.unwrap();
}
