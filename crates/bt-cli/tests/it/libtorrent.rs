//! `bt download` from a real client: a python3-libtorrent seeder on loopback, announced by a
//! mock tracker, as a person would meet one.

use bt_test_harness::{LibtorrentPeer, MockTracker, Payload, PayloadSpec, assert_same_tree};

use crate::proc::Running;
use crate::swarm::TIMEOUT;

#[actix_rt::test]
async fn bt_download_fetches_a_tree_from_a_libtorrent_seeder() {
    let tracker = MockTracker::start().unwrap();
    let url = tracker.http_announce_url();
    let spec = PayloadSpec::multi_file_tree("from-lt").with_trackers([url.clone()]);
    let payload = Payload::generate(&spec, 21).unwrap();
    let torrent = payload.write_torrent_file().unwrap();
    let mut lt = LibtorrentPeer::seeder(&torrent, payload.data_dir())
        .tracker(url.clone())
        .time_limit(TIMEOUT)
        .start()
        .await
        .unwrap();
    lt.wait_seeding(TIMEOUT).await.unwrap();
    let hash = payload.info_hash();
    tracker
        .wait_for_announce_async(|a| a.info_hash == hash && a.left == 0, TIMEOUT)
        .await
        .unwrap();

    let out = tempfile::tempdir().unwrap();
    let args = [
        "download",
        torrent.to_str().unwrap(),
        "-o",
        out.path().to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--progress",
        "plain",
    ];
    let mut bt = Running::start(&args);
    let status = bt.wait_async(TIMEOUT).await;
    assert!(status.success(), "{}", bt.outputs());
    assert_same_tree(&payload.root, &out.path().join("from-lt")).unwrap();
    assert!(
        bt.stdout().contains("from-lt: complete, 5 pieces fetched"),
        "{}",
        bt.outputs()
    );
    lt.stop(TIMEOUT).await.unwrap();
}
