//! Errors a user can act on: one line on stderr naming the cause, exit code 1 (2 for usage).

use std::process::Output;

use bt_test_harness::{MockTracker, MockTrackerConfig, Payload, PayloadSpec, TrackerMode};

use crate::bt;

/// Asserts exit code 1 and a single stderr line containing `needle`.
fn fails_with(output: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{needle}: {err}");
    assert_eq!(err.lines().count(), 1, "{needle}: not one line: {err}");
    assert!(
        err.starts_with("bt: ") && err.contains(needle),
        "{needle}: {err}"
    );
}

/// A small torrent whose only tracker is `url` (no seeder behind it).
fn torrent(url: &str) -> (Payload, String) {
    let spec = PayloadSpec::single_file("e.bin", 40_000).with_trackers([url]);
    let payload = Payload::generate(&spec, 4).expect("a payload");
    let path = payload.write_torrent_file().expect("a torrent file");
    let path = path.to_string_lossy().into_owned();
    (payload, path)
}

#[test]
fn missing_and_invalid_torrents() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    fails_with(
        &bt(&["download", "/nonexistent/x.torrent", "-o", dir]),
        "cannot open /nonexistent/x.torrent",
    );
    let garbage = out.path().join("garbage.torrent");
    std::fs::write(&garbage, b"d4:spam").unwrap();
    let garbage = garbage.to_str().unwrap();
    fails_with(&bt(&["download", garbage, "-o", dir]), "invalid torrent");
    fails_with(&bt(&["seed", garbage, "--data", dir]), "invalid torrent");
    fails_with(&bt(&["verify", garbage, "--data", dir]), "invalid torrent");
}

#[test]
fn magnet_links_that_cannot_work() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let bare = "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
    // No tracker, no peer, and the DHT off (the default): nothing could ever be found.
    fails_with(
        &bt(&["download", bare, "-o", dir]),
        "names no tracker (tr=) and no peer (x.pe=): pass --dht",
    );
    let with_tracker = format!("{bare}&tr=http%3A%2F%2F127.0.0.1%3A1%2Fannounce");
    fails_with(
        &bt(&["download", &with_tracker, "-o", dir, "--only", "*.iso"]),
        "--only needs the torrent's file names",
    );
    fails_with(
        &bt(&["seed", &with_tracker, "--data", dir]),
        "a magnet link cannot be seeded",
    );
    fails_with(
        &bt(&["download", "magnet:?dn=no-hash", "-o", dir]),
        "invalid magnet link: magnet uri has no xt=urn:btih",
    );
}

#[test]
fn a_port_in_use_names_the_address_and_the_flag() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let (_payload, torrent) = torrent("http://127.0.0.1:1/announce");
    let out = tempfile::tempdir().unwrap();
    let output = bt(&[
        "download",
        &torrent,
        "-o",
        out.path().to_str().unwrap(),
        "--listen",
        &addr,
    ]);
    fails_with(&output, &format!("cannot listen on {addr}"));
    fails_with(&output, "--listen");
}

#[test]
fn a_download_dir_that_cannot_be_created_or_written() {
    let (_payload, torrent) = torrent("http://127.0.0.1:1/announce");
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let below_a_file = file.join("downloads");
    fails_with(
        &bt(&["download", &torrent, "-o", below_a_file.to_str().unwrap()]),
        &format!("cannot create {}", below_a_file.display()),
    );
}

/// The only tracker refuses: exit 1 with its reason in one line, with or without `--quiet`
/// (the refusal is not told twice, as news and then as the error).
#[test]
fn a_tracker_that_refuses_ends_the_download_with_its_reason() {
    let tracker = MockTracker::start_with(MockTrackerConfig {
        initial_mode: TrackerMode::Failure("you are banned".to_owned()),
        ..MockTrackerConfig::default()
    })
    .unwrap();
    let url = tracker.http_announce_url();
    let (_payload, torrent) = torrent(&url);
    for quiet in [&["--quiet"][..], &[]] {
        let out = tempfile::tempdir().unwrap();
        let args = [
            "download",
            &torrent,
            "-o",
            out.path().to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ];
        let output = bt(&[&args[..], quiet].concat());
        fails_with(
            &output,
            &format!("bt: e.bin: {url}: tracker refused: you are banned"),
        );
    }
}

/// A refusing tracker does not fail a download that is already complete on disk.
#[test]
fn a_refusing_tracker_does_not_fail_a_complete_download() {
    let tracker = MockTracker::start_with(MockTrackerConfig {
        initial_mode: TrackerMode::Failure("you are banned".to_owned()),
        ..MockTrackerConfig::default()
    })
    .unwrap();
    let (payload, torrent) = torrent(&tracker.http_announce_url());
    let data = payload.data_dir().to_str().unwrap();
    let output = assert_cmd::Command::cargo_bin("bt")
        .unwrap()
        .args(["download", &torrent, "-o", data, "--listen", "127.0.0.1:0"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("e.bin: complete, 39.1 KiB verified on disk"),
        "{stdout}"
    );
}

#[test]
fn config_files_that_are_missing_or_wrong() {
    let out = tempfile::tempdir().unwrap();
    fails_with(
        &bt(&["config", "--config", "/nonexistent/bt.toml"]),
        "config file /nonexistent/bt.toml not found",
    );
    let bad = out.path().join("bad.toml");
    std::fs::write(&bad, "max_connections = \"lots\"\n").unwrap();
    fails_with(
        &bt(&["config", "--config", bad.to_str().unwrap()]),
        "max_connections",
    );
    std::fs::write(&bad, "max_connections = 0\n").unwrap();
    fails_with(
        &bt(&["config", "--config", bad.to_str().unwrap()]),
        "max_connections must be more than 0",
    );
}

#[test]
fn verify_reports_a_corrupt_piece_and_exits_1() {
    let (payload, torrent) = torrent("http://127.0.0.1:1/announce");
    let data = payload.data_dir().to_str().unwrap();
    let good = bt(&["verify", &torrent, "--data", data]);
    assert!(good.status.success(), "{good:?}");
    assert!(String::from_utf8_lossy(&good.stdout).contains("3 good, 0 bad, 0 missing of 3 pieces"));
    let mut bytes = std::fs::read(&payload.root).unwrap();
    bytes[20_000] ^= 0xff;
    std::fs::write(&payload.root, &bytes).unwrap();
    let bad = bt(&["verify", &torrent, "--data", data]);
    fails_with(&bad, "1 of 3 pieces are corrupt");
    assert!(String::from_utf8_lossy(&bad.stdout).contains("bad:     1\n"));
}

#[test]
fn bad_flag_values_are_usage_errors() {
    let cases: [&[&str]; 5] = [
        &["download", "x.torrent", "-o", ".", "--upload-limit", "fast"],
        &["download", "x.torrent", "-o", ".", "--seed-ratio", "-1"],
        &["download", "x.torrent", "-o", ".", "--seed-time", "soon"],
        &["download", "x.torrent", "-o", ".", "--max-peers", "many"],
        &["download", "-o", "."],
    ];
    for args in cases {
        assert_eq!(bt(args).status.code(), Some(2), "{args:?}");
    }
}
