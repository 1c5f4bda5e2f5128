//! Interop with python3-libtorrent, the reference client: bt downloads from a libtorrent
//! seeder, and a libtorrent leecher downloads from bt, each through the mock tracker.
//!
//! A machine without libtorrent fails these tests with the install hint
//! (`apt-get install python3-libtorrent`); `.ci/run` installs it.

use std::time::Duration;

use bt_engine::{AddTorrentOptions, Session, TorrentHandle, TorrentStats};
use bt_test_harness::libtorrent::field;
use bt_test_harness::{
    LibtorrentMode, LibtorrentPeer, MockTracker, Payload, PayloadSpec, Swarm, assert_same_tree,
};

// The protocol extensions (BEP 6, 9, 10) with libtorrent, through scripts/lt_ext.py.
mod ext;

/// Bounds every wait; libtorrent checks, announces and transfers these payloads in seconds.
const TIMEOUT: Duration = Duration::from_secs(30);

fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// Waits until `pred` holds for the torrent's statistics, checking after each event.
async fn wait_stats(
    handle: &TorrentHandle,
    pred: impl Fn(&TorrentStats) -> bool,
) -> anyhow::Result<TorrentStats> {
    let mut events = handle.subscribe();
    let wait = async {
        loop {
            let stats = handle.stats().await?;
            if pred(&stats) {
                return Ok(stats);
            }
            let _ = events.recv().await;
        }
    };
    tokio::time::timeout(TIMEOUT, wait).await?
}

#[actix::test]
async fn bt_downloads_from_a_libtorrent_seeder() {
    logs();
    let tracker = MockTracker::start().unwrap();
    let spec = PayloadSpec::multi_file_tree("from-lt").with_trackers([tracker.http_announce_url()]);
    let payload = Payload::generate(&spec, 21).unwrap();
    let torrent = payload.write_torrent_file().unwrap();
    let url = tracker.http_announce_url();
    let mut lt = LibtorrentPeer::start(
        LibtorrentMode::Seed,
        &torrent,
        payload.data_dir(),
        &url,
        TIMEOUT,
    )
    .unwrap();
    lt.expect("seeding", TIMEOUT).await.unwrap();
    let hash = payload.info_hash();
    tracker
        .wait_for_announce_async(|a| a.info_hash == hash && a.left == 0, TIMEOUT)
        .await
        .unwrap();

    let session = Session::start(Swarm::test_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let handle = session
        .add_torrent(payload.torrent.clone(), AddTorrentOptions::new(dir.path()))
        .await
        .unwrap();
    let stats = wait_stats(&handle, |s| s.pieces_have == s.pieces_total)
        .await
        .unwrap();
    assert_eq!(stats.left, 0);
    assert_same_tree(&payload.root, &dir.path().join("from-lt")).unwrap();
    session.shutdown().await;
    session.wait_stopped(TIMEOUT).await.unwrap();
    let stopped = lt.stop(TIMEOUT).await.unwrap();
    let uploaded: u64 = field(&stopped, "uploaded").unwrap().parse().unwrap();
    assert!(uploaded >= payload.torrent.info.total_length(), "{stopped}");
}

#[actix::test]
async fn a_libtorrent_leecher_downloads_from_bt() {
    logs();
    let tracker = MockTracker::start().unwrap();
    let url = tracker.udp_announce_url();
    let spec = PayloadSpec::single_file("to-lt.bin", 3_000_000).with_trackers([url.clone()]);
    let payload = Payload::generate(&spec, 22).unwrap();
    let hash = payload.info_hash();
    let session = Session::start(Swarm::test_config()).await.unwrap();
    let handle = session
        .add_torrent(
            payload.torrent.clone(),
            AddTorrentOptions::new(payload.data_dir()),
        )
        .await
        .unwrap();
    tracker
        .wait_for_announce_async(|a| a.info_hash == hash && a.left == 0, TIMEOUT)
        .await
        .unwrap();

    let torrent = payload.write_torrent_file().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut lt = LibtorrentPeer::start(
        LibtorrentMode::Download,
        &torrent,
        dir.path(),
        &url,
        TIMEOUT,
    )
    .unwrap();
    let line = lt.expect("complete", TIMEOUT).await.unwrap();
    assert_same_tree(&payload.root, &dir.path().join("to-lt.bin")).unwrap();
    let downloaded: u64 = field(&line, "downloaded").unwrap().parse().unwrap();
    assert!(downloaded >= payload.torrent.info.total_length(), "{line}");
    let total = payload.torrent.info.total_length();
    let stats = wait_stats(&handle, |s| s.uploaded >= total).await.unwrap();
    assert_eq!(stats.pieces_have, stats.pieces_total);
    session.shutdown().await;
    session.wait_stopped(TIMEOUT).await.unwrap();
}
