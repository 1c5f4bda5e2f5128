//! `bt seed` and `bt download` against each other through a mock tracker: the real binary,
//! real sockets, real files.

use std::time::Duration;

use bt_proto::tracker::AnnounceEvent;
use bt_test_harness::{MockTracker, Payload, PayloadSpec, assert_same_tree};

use crate::bt;
use crate::proc::Running;

/// Bounds every wait on a process or the tracker.
const TIMEOUT: Duration = Duration::from_secs(30);

#[test]
fn bt_download_fetches_what_bt_seed_serves() {
    let tracker = MockTracker::start().unwrap();
    let spec = PayloadSpec::multi_file_tree("cli").with_trackers([tracker.http_announce_url()]);
    let payload = Payload::generate(&spec, 5).unwrap();
    let hash = payload.info_hash();
    let torrent = payload.write_torrent_file().unwrap();
    let torrent = torrent.to_str().unwrap();
    let data = payload.data_dir().to_str().unwrap();
    let mut seeder = Running::start(&["seed", torrent, "--data", data, "--listen", "127.0.0.1:0"]);
    let started = tracker
        .wait_for_announce(|a| a.info_hash == hash && a.left == 0, TIMEOUT)
        .unwrap_or_else(|e| panic!("{e}; seeder stderr:\n{}", seeder.stderr()));

    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("new");
    let dir_arg = dir.to_str().unwrap();
    let mut leecher = Running::start(&[
        "download",
        torrent,
        "-o",
        dir_arg,
        "--listen",
        "127.0.0.1:0",
    ]);
    let status = leecher.wait(TIMEOUT);
    assert!(status.success(), "download failed:\n{}", leecher.stderr());
    assert_same_tree(&payload.root, &dir.join("cli")).unwrap();
    for event in [AnnounceEvent::Completed, AnnounceEvent::Stopped] {
        tracker
            .wait_for_announce(
                |a| a.peer_id != started.peer_id && a.event == event,
                TIMEOUT,
            )
            .unwrap();
    }

    seeder.terminate();
    let status = seeder.wait(TIMEOUT);
    assert_eq!(status.code(), Some(0), "seeder:\n{}", seeder.stderr());
    let stopped = |a: &bt_test_harness::RecordedAnnounce| {
        a.peer_id == started.peer_id && a.event == AnnounceEvent::Stopped
    };
    tracker.wait_for_announce(stopped, TIMEOUT).unwrap();
}

#[test]
fn bt_seed_refuses_data_that_is_not_there() {
    let spec = PayloadSpec::single_file("x.bin", 100_000);
    let payload = Payload::generate(&spec, 6).unwrap();
    let torrent = payload.write_torrent_file().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let output = bt(&[
        "seed",
        torrent.to_str().unwrap(),
        "--data",
        empty.path().to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("holds 0 of the 7 pieces"), "{err}");
}

#[test]
fn download_and_seed_usage_errors_exit_with_code_2() {
    assert_eq!(
        bt(&["download", "x.torrent"]).status.code(),
        Some(2),
        "no -o"
    );
    assert_eq!(
        bt(&["seed", "x.torrent"]).status.code(),
        Some(2),
        "no --data"
    );
    let bad_listen = bt(&["seed", "x.torrent", "--data", ".", "--listen", "nowhere"]);
    assert_eq!(bad_listen.status.code(), Some(2));
}

/// `bt download --seed` keeps serving after it completes: a second download gets every piece
/// from it once the original seeder has left.
#[test]
fn bt_download_with_seed_serves_the_next_download() {
    let tracker = MockTracker::start().unwrap();
    let spec =
        PayloadSpec::single_file("relay.bin", 700_000).with_trackers([tracker.udp_announce_url()]);
    let payload = Payload::generate(&spec, 7).unwrap();
    let hash = payload.info_hash();
    let torrent = payload.write_torrent_file().unwrap();
    let torrent = torrent.to_str().unwrap();
    let data = payload.data_dir().to_str().unwrap();
    let listen = ["--listen", "127.0.0.1:0"];
    let mut seeder = Running::start(&[&["seed", torrent, "--data", data][..], &listen].concat());
    let origin = tracker
        .wait_for_announce(|a| a.info_hash == hash && a.left == 0, TIMEOUT)
        .unwrap()
        .peer_id;

    let out = tempfile::tempdir().unwrap();
    let (first, second) = (out.path().join("a"), out.path().join("b"));
    let args = ["download", torrent, "-o", first.to_str().unwrap(), "--seed"];
    let mut relay = Running::start(&[&args[..], &listen].concat());
    tracker
        .wait_for_announce(|a| a.event == AnnounceEvent::Completed, TIMEOUT)
        .unwrap_or_else(|e| panic!("{e}; relay stderr:\n{}", relay.stderr()));
    seeder.terminate();
    assert_eq!(seeder.wait(TIMEOUT).code(), Some(0), "{}", seeder.stderr());
    let gone = |a: &bt_test_harness::RecordedAnnounce| {
        a.peer_id == origin && a.event == AnnounceEvent::Stopped
    };
    tracker.wait_for_announce(gone, TIMEOUT).unwrap();

    let args = ["download", torrent, "-o", second.to_str().unwrap()];
    let mut last = Running::start(&[&args[..], &listen].concat());
    let status = last.wait(TIMEOUT);
    assert!(status.success(), "second download:\n{}", last.stderr());
    assert_same_tree(&payload.root, &second.join("relay.bin")).unwrap();
    relay.terminate();
    assert_eq!(relay.wait(TIMEOUT).code(), Some(0), "{}", relay.stderr());
}
