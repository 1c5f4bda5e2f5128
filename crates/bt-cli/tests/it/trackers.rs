//! Tracker trouble as a person sees it: one line on stderr per tracker that cannot be used or
//! starts failing, one when it answers again, and nothing more while it keeps failing.

use std::time::{Duration, Instant};

use bt_test_harness::{Payload, PayloadSpec, TrackerMode, assert_same_tree};

use crate::download_args;
use crate::proc::Running;
use crate::swarm::{Seeded, TIMEOUT};

/// Waits (bounded) until `bt`'s stderr holds `needle` `count` times.
async fn wait_stderr(bt: &Running, needle: &str, count: usize) {
    let deadline = Instant::now() + TIMEOUT;
    while bt.stderr().matches(needle).count() < count {
        assert!(Instant::now() < deadline, "no {needle:?}; {}", bt.outputs());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The lines of `bt`'s stderr that are ours (`bt: ...`), not logs.
fn our_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("bt: ")).collect()
}

/// A torrent whose only tracker speaks https: bt says once that it cannot use it and how
/// else to find peers, and keeps running (peers may still connect) until interrupted.
#[actix_rt::test]
async fn an_https_only_torrent_says_so_once_and_suggests_the_dht() {
    let url = "https://127.0.0.1:1/announce";
    let spec = PayloadSpec::single_file("https.bin", 40_000).with_trackers([url]);
    let payload = Payload::generate(&spec, 5).unwrap();
    let torrent = payload.write_torrent_file().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut bt = Running::start(&download_args(torrent.to_str().unwrap(), out.path()));
    wait_stderr(&bt, "not supported", 1).await;
    // Several statistics ticks: the same news must not be told again.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    bt.interrupt();
    let status = bt.wait_async(TIMEOUT).await;
    assert_eq!(status.code(), Some(1), "{}", bt.outputs());
    let stderr = bt.stderr();
    let lines = our_lines(&stderr);
    assert_eq!(
        lines[0],
        format!(
            "bt: https.bin: {url}: https trackers are not supported yet; skipped; no usable \
             tracker is left: pass --dht to find peers through the DHT"
        ),
        "{stderr}"
    );
    assert!(lines[1].starts_with("bt: stopping"), "{stderr}");
    assert_eq!(
        stderr.lines().count(),
        3,
        "the line, stopping, interrupted; no log lines: {stderr}"
    );
}

/// A torrent that names no tracker, without --dht: bt says at once how to find peers.
#[actix_rt::test]
async fn a_torrent_without_trackers_points_to_the_dht() {
    let spec = PayloadSpec::single_file("lonely.bin", 40_000);
    let payload = Payload::generate(&spec, 6).unwrap();
    let torrent = payload.write_torrent_file().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut bt = Running::start(&download_args(torrent.to_str().unwrap(), out.path()));
    wait_stderr(&bt, "names no tracker", 1).await;
    bt.interrupt();
    assert_eq!(bt.wait_async(TIMEOUT).await.code(), Some(1));
    let stderr = bt.stderr();
    assert_eq!(
        our_lines(&stderr)[0],
        "bt: lonely.bin: the torrent names no tracker: pass --dht to find peers through the DHT",
        "{stderr}"
    );
}

/// The only tracker goes down after the seeder announced: bt says once that it cannot reach
/// it while it retries (three failed announces, by the announcer's debug log), says so when
/// the tracker is back, and then gets the seeder from it and completes.
#[actix_rt::test]
async fn an_unreachable_tracker_is_told_once_while_bt_retries_until_it_is_back() {
    let seeded = Seeded::start(vec![PayloadSpec::single_file("back.bin", 100_000)]).await;
    seeded.tracker.set_mode(TrackerMode::Down).unwrap();
    let url = seeded.tracker.http_announce_url();
    let out = tempfile::tempdir().unwrap();
    let args = download_args(&seeded.torrents[0], out.path());
    let env = [
        ("BT_ANNOUNCER__BACKOFF_BASE_MS", "100"),
        ("RUST_LOG", "warn,bt_engine::actors::announcer=debug"),
    ];
    let mut bt = Running::start_env(&args, &env);
    wait_stderr(&bt, "announce failed", 3).await;
    let stderr = bt.stderr();
    let told: Vec<&str> = our_lines(&stderr);
    assert_eq!(told.len(), 1, "{stderr}");
    assert!(
        told[0].starts_with(&format!(
            "bt: back.bin: {url}: cannot reach tracker at 127.0.0.1:"
        )) && told[0].contains("Connection refused")
            && told[0].contains("; retrying in "),
        "{stderr}"
    );

    seeded.tracker.set_mode(TrackerMode::Healthy).unwrap();
    let status = bt.wait_async(TIMEOUT).await;
    assert!(status.success(), "{}", bt.outputs());
    assert_same_tree(&seeded.payloads[0].root, &out.path().join("back.bin")).unwrap();
    let stderr = bt.stderr();
    let told = our_lines(&stderr);
    assert_eq!(told.len(), 2, "{stderr}");
    assert_eq!(told[1], format!("bt: back.bin: {url}: answering again"));
    seeded.stop().await;
}
