//! Ctrl-C and SIGTERM: a clean stop in the middle of a download that keeps every verified
//! piece, a restart that fetches only the rest, and a second Ctrl-C that does not wait.

use std::time::{Duration, Instant};

use bt_proto::tracker::AnnounceEvent;
use bt_test_harness::{
    MockTracker, MockTrackerConfig, Payload, PayloadSpec, Role, Swarm, SwarmMember, TrackerMode,
};

use crate::proc::Running;
use crate::swarm::{Seeded, TIMEOUT, member};
use crate::{bt, download_args};

const PIECE: u64 = 16 * 1024;
const PIECES: u64 = 64;
/// The first seeder's upload limit: the whole torrent takes it about four seconds, so the
/// download is surely in progress when the test stops it.
const THROTTLE: u64 = 256 * 1024;

/// A seeder of `payload` that uploads at most `rate` bytes per second.
async fn throttled_seeder(payload: &Payload, rate: u64) -> SwarmMember {
    let mut config = Swarm::test_config();
    config.upload_limit = rate;
    let dir = payload.data_dir().to_path_buf();
    SwarmMember::start(Role::Seeder, config, &payload.torrent, dir, None)
        .await
        .expect("a seeder starts")
}

/// The highest percentage in the plain progress lines of `stdout`.
fn progress(stdout: &str) -> f64 {
    stdout
        .lines()
        .filter_map(|line| line.split("resume.bin: ").nth(1)?.split('%').next())
        .filter_map(|percent| percent.trim().parse::<f64>().ok())
        .fold(0.0, f64::max)
}

/// Downloads from a throttled seeder, stops `bt` with `stop` once a fifth is verified, and
/// checks the stop was clean: exit 1 with the resume hint, `stopped` announced, some but not
/// all pieces on disk (`bt verify`). Restarted with only an unthrottled seeder present, the
/// same command completes, and that seeder uploads exactly the pieces that were not verified:
/// no verified piece came twice.
async fn stopped_mid_download_then_resumed(stop: fn(&Running)) {
    let seeded = Seeded::start(Vec::new()).await;
    let spec = PayloadSpec::single_file("resume.bin", PIECES * PIECE)
        .with_trackers([seeded.tracker.http_announce_url()]);
    let payload = Payload::generate(&spec, 9).expect("a payload");
    let torrent = payload.write_torrent_file().expect("a torrent file");
    let torrent = torrent.to_str().expect("a UTF-8 path");
    let slow = throttled_seeder(&payload, THROTTLE).await;

    let out = tempfile::tempdir().expect("a temporary directory");
    let dir = out.path().to_str().expect("a UTF-8 path");
    let mut args = download_args(torrent, out.path());
    args.extend(["--progress", "plain", "--progress-interval", "0.05"]);
    let mut first = Running::start(&args);
    let deadline = Instant::now() + TIMEOUT;
    while progress(&first.stdout()) < 20.0 {
        assert!(Instant::now() < deadline, "{}", first.outputs());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop(&first);
    let status = first.wait_async(TIMEOUT).await;
    assert_eq!(status.code(), Some(1), "{}", first.outputs());
    let stderr = first.stderr();
    assert!(
        stderr.contains("run the same command again to resume"),
        "{stderr}"
    );
    let stopped =
        |a: &bt_test_harness::RecordedAnnounce| a.event == AnnounceEvent::Stopped && a.left > 0;
    seeded
        .tracker
        .wait_for_announce_async(stopped, TIMEOUT)
        .await
        .expect("bt announces stopped");

    let verify = bt(&["verify", torrent, "--data", dir]);
    let report = String::from_utf8_lossy(&verify.stdout);
    let good: u64 = report
        .split("resume.bin: ")
        .nth(1)
        .and_then(|rest| rest.split(" good").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of good pieces: {report}"));
    assert!(
        (PIECES / 5..PIECES).contains(&good),
        "stopped mid-download with {good} of {PIECES} pieces on disk"
    );

    println!("stopped with {good} of {PIECES} pieces on disk");
    // Only a fresh, unthrottled seeder now, so what it uploads is what the restart fetched.
    slow.stop(TIMEOUT).await.expect("the seeder stops");
    let full_seeder = member(&payload, payload.data_dir().to_path_buf()).await;
    let mut second = Running::start(&args);
    let status = second.wait_async(TIMEOUT).await;
    assert!(status.success(), "{}", second.outputs());
    bt_test_harness::assert_same_tree(&payload.root, &out.path().join("resume.bin"))
        .expect("the same bytes");
    let missing = PIECES - good;
    assert_eq!(
        full_seeder.stats().await.expect("statistics").uploaded,
        missing * PIECE,
        "the restart fetched exactly the {missing} unverified pieces; {}",
        second.outputs()
    );
    assert!(
        second
            .stdout()
            .contains(&format!("resume.bin: complete, {missing} pieces fetched")),
        "{}",
        second.outputs()
    );
    full_seeder.stop(TIMEOUT).await.expect("the seeder stops");
    drop(seeded);
}

#[actix_rt::test]
async fn sigint_mid_download_keeps_verified_pieces_and_the_same_command_resumes() {
    stopped_mid_download_then_resumed(Running::interrupt).await;
}

#[actix_rt::test]
async fn sigterm_stops_as_cleanly_as_sigint() {
    stopped_mid_download_then_resumed(Running::terminate).await;
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
