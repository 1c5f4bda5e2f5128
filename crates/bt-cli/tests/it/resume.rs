//! Ctrl-C: a clean stop that keeps every verified piece, a restart that fetches only the rest,
//! and a second Ctrl-C that does not wait.

use std::time::Duration;

use bt_proto::tracker::AnnounceEvent;
use bt_test_harness::{MockTracker, MockTrackerConfig, Payload, PayloadSpec, TrackerMode};

use crate::bt;
use crate::proc::Running;
use crate::swarm::{Seeded, TIMEOUT, member};

const PIECE: u64 = 16 * 1024;
const SIZE: u64 = 64 * PIECE;

/// The binary downloads half a torrent (the only seeder holds half), is interrupted, and
/// announces `stopped`; `bt verify` finds the verified half on disk. Restarted with only a full
/// seeder present, it completes, and that seeder uploads exactly the half that was not
/// verified: no verified piece came twice.
#[actix_rt::test]
async fn sigint_keeps_verified_pieces_and_the_same_command_resumes() {
    let seeded = Seeded::start(Vec::new()).await;
    let spec = PayloadSpec::single_file("resume.bin", SIZE)
        .with_trackers([seeded.tracker.http_announce_url()]);
    let payload = Payload::generate(&spec, 9).unwrap();
    let torrent = payload.write_torrent_file().unwrap();
    let torrent = torrent.to_str().unwrap();
    // A seeder holding the first half only: its copy ends in the middle.
    let half_dir = tempfile::tempdir().unwrap();
    let full = std::fs::read(&payload.root).unwrap();
    std::fs::write(
        half_dir.path().join("resume.bin"),
        &full[..(SIZE / 2) as usize],
    )
    .unwrap();
    let half = member(&payload, half_dir.path().to_path_buf()).await;

    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let args = [
        "download",
        torrent,
        "-o",
        dir,
        "--progress",
        "plain",
        "--progress-interval",
        "0.05",
        "--listen",
        "127.0.0.1:0",
    ];
    let mut first = Running::start(&args);
    let halfway = "resume.bin:  50.0%";
    let deadline = std::time::Instant::now() + TIMEOUT;
    while !first.stdout().contains(halfway) {
        assert!(std::time::Instant::now() < deadline, "{}", first.outputs());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.interrupt();
    let status = first.wait_async(TIMEOUT).await;
    assert_eq!(status.code(), Some(1), "{}", first.outputs());
    let stderr = first.stderr();
    assert!(
        stderr.contains("run the same command again to resume"),
        "{stderr}"
    );
    let stopped =
        |a: &bt_test_harness::RecordedAnnounce| a.event == AnnounceEvent::Stopped && a.left > 0;
    let found = seeded
        .tracker
        .wait_for_announce_async(stopped, TIMEOUT)
        .await;
    let events: Vec<_> = seeded
        .tracker
        .announces()
        .iter()
        .map(|a| (a.event, a.left))
        .collect();
    found.unwrap_or_else(|e| panic!("{e}: {events:?}"));

    let verify = bt(&["verify", torrent, "--data", dir]);
    let report = String::from_utf8_lossy(&verify.stdout);
    assert!(
        report.contains("resume.bin: 32 good, 0 bad, 32 missing of 64 pieces"),
        "{report}"
    );
    assert_eq!(half.stats().await.unwrap().uploaded, SIZE / 2);
    // Only a full seeder now, so what it uploads is exactly what the restart fetched.
    half.stop(TIMEOUT).await.unwrap();
    let full_seeder = member(&payload, payload.data_dir().to_path_buf()).await;
    let mut second = Running::start(&args);
    let status = second.wait_async(TIMEOUT).await;
    assert!(status.success(), "{}", second.outputs());
    bt_test_harness::assert_same_tree(&payload.root, &out.path().join("resume.bin")).unwrap();
    assert_eq!(
        full_seeder.stats().await.unwrap().uploaded,
        SIZE / 2,
        "the restart fetched exactly the unverified half; {}",
        second.outputs()
    );
    full_seeder.stop(TIMEOUT).await.unwrap();
    drop(seeded);
}

/// The first Ctrl-C waits for the trackers (here one that never answers, with a long
/// `stopped` time-out); a second one exits at once with code 130.
#[test]
fn a_second_sigint_exits_at_once() {
    let tracker = MockTracker::start_with(MockTrackerConfig {
        initial_mode: TrackerMode::Silent,
        ..MockTrackerConfig::default()
    })
    .unwrap();
    let spec =
        PayloadSpec::single_file("silent.bin", 50_000).with_trackers([tracker.http_announce_url()]);
    let payload = Payload::generate(&spec, 3).unwrap();
    let torrent = payload.write_torrent_file().unwrap();
    let out = tempfile::tempdir().unwrap();
    let args = [
        "download",
        torrent.to_str().unwrap(),
        "-o",
        out.path().to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ];
    let env = [("BT_ANNOUNCER__STOP_TIMEOUT_MS", "600000")];
    let mut bt = Running::start_env(&args, &env);
    let hash = payload.info_hash();
    tracker
        .wait_for_announce(|a| a.info_hash == hash, TIMEOUT)
        .unwrap();
    bt.interrupt();
    let deadline = std::time::Instant::now() + TIMEOUT;
    while !bt.stderr().contains("Ctrl-C again") {
        assert!(std::time::Instant::now() < deadline, "{}", bt.outputs());
        std::thread::sleep(Duration::from_millis(20));
    }
    bt.interrupt();
    assert_eq!(bt.wait(TIMEOUT).code(), Some(130), "{}", bt.outputs());
}
