//! `bt download 'magnet:?...'`: the metadata comes from `bt seed` over BEP 9, then the files.

use std::time::Duration;

use bt_proto::magnet::MagnetLink;
use bt_test_harness::{MockTracker, Payload, PayloadSpec, assert_same_tree};

use crate::proc::Running;

/// Bounds every wait on a process or the tracker.
const TIMEOUT: Duration = Duration::from_secs(30);

#[test]
fn bt_download_takes_a_magnet_link() {
    let tracker = MockTracker::start().unwrap();
    let spec =
        PayloadSpec::multi_file_tree("by-magnet").with_trackers([tracker.http_announce_url()]);
    let payload = Payload::generate(&spec, 8).unwrap();
    let hash = payload.info_hash();
    let torrent = payload.write_torrent_file().unwrap();
    let data = payload.data_dir().to_str().unwrap();
    let args = ["seed", torrent.to_str().unwrap(), "--data", data];
    let mut seeder = Running::start(&[&args[..], &["--listen", "127.0.0.1:0"]].concat());
    tracker
        .wait_for_announce(|a| a.info_hash == hash && a.left == 0, TIMEOUT)
        .unwrap_or_else(|e| panic!("{e}; seeder stderr:\n{}", seeder.stderr()));

    let magnet = MagnetLink {
        trackers: vec![tracker.http_announce_url()],
        ..MagnetLink::new(hash)
    }
    .to_uri();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("new");
    let args = ["download", &magnet, "-o", dir.to_str().unwrap()];
    let mut leecher = Running::start(&[&args[..], &["--listen", "127.0.0.1:0"]].concat());
    let status = leecher.wait(TIMEOUT);
    let (stdout, stderr) = (leecher.stdout(), leecher.stderr());
    assert!(status.success(), "download failed:\n{stdout}\n{stderr}");
    // Named by its info-hash until the metadata gives its name.
    let metadata = format!("{hash}: metadata received: by-magnet");
    assert!(stdout.contains(&metadata), "{stdout}");
    assert!(stdout.contains("by-magnet: complete, "), "{stdout}");
    assert_same_tree(&payload.root, &dir.join("by-magnet")).unwrap();
    seeder.terminate();
    assert_eq!(seeder.wait(TIMEOUT).code(), Some(0), "{}", seeder.stderr());
}
