//! Rate limits from the command line: `--download-limit` holds a download to the rate, and the
//! flags reach the configuration under their documented keys.

use std::time::{Duration, Instant};

use assert_cmd::Command;
use bt_test_harness::{PayloadSpec, assert_same_tree};

use crate::download_args;
use crate::proc::Running;
use crate::swarm::{Seeded, TIMEOUT};

const MIB: u64 = 1 << 20;

/// 4 MiB at `--download-limit 1MiB/s` cannot take less than about 3.9 s: the limiter lets at
/// most its burst (a tenth of a second of traffic) plus the rate times the elapsed time
/// through. The bound is a property of the limiter, not a speed measurement: a broken limit
/// fetches 4 MiB over loopback in a fraction of a second; a loaded machine only makes it
/// slower. The bound asserted is looser still.
#[actix_rt::test]
async fn download_limit_holds_a_download_to_the_rate() {
    let size = 4 * MIB;
    let seeded = Seeded::start(vec![
        PayloadSpec::single_file("limited.bin", size).with_piece_length(64 << 10),
    ])
    .await;
    let out = tempfile::tempdir().unwrap();
    let mut args = download_args(&seeded.torrents[0], out.path());
    args.extend(["--download-limit", "1MiB/s"]);
    let started = Instant::now();
    let mut bt = Running::start(&args);
    let status = bt.wait_async(TIMEOUT).await;
    let elapsed = started.elapsed();
    assert!(status.success(), "{}", bt.outputs());
    assert_same_tree(&seeded.payloads[0].root, &out.path().join("limited.bin")).unwrap();
    let burst = MIB / 10;
    let floor = Duration::from_secs_f64((size - burst) as f64 / MIB as f64 * 0.85);
    assert!(
        elapsed >= floor,
        "4 MiB at 1 MiB/s took {elapsed:?}, less than {floor:?}; {}",
        bt.outputs()
    );
    println!("4 MiB at --download-limit 1MiB/s: {elapsed:.2?}");
    seeded.stop().await;
}

#[test]
fn config_print_shows_the_rate_flags_in_bytes_per_second() {
    let output = Command::cargo_bin("bt")
        .unwrap()
        .args(["config", "--print", "--upload-limit", "10MiB/s"])
        .args(["--download-limit", "1.5MB/s"])
        .env_remove("BT_UPLOAD_LIMIT")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let printed: toml::Table = toml::from_str(&String::from_utf8_lossy(&output.stdout)).unwrap();
    assert_eq!(printed["upload_limit"].as_integer(), Some(10 << 20));
    assert_eq!(printed["download_limit"].as_integer(), Some(1_572_864));
    let unlimited = Command::cargo_bin("bt")
        .unwrap()
        .args(["config", "--upload-limit", "0"])
        .env("BT_UPLOAD_LIMIT", "1000")
        .output()
        .unwrap();
    let printed: toml::Table = toml::from_str(&String::from_utf8_lossy(&unlimited.stdout)).unwrap();
    assert_eq!(
        printed["upload_limit"].as_integer(),
        Some(0),
        "0 is unlimited"
    );
}

#[test]
fn a_rate_that_is_not_one_is_a_usage_error_naming_it() {
    for rate in ["fast", "10MiB/h", "-1MiB/s", "1.2.3k", "0.4"] {
        let output = Command::cargo_bin("bt")
            .unwrap()
            .args(["config", &format!("--download-limit={rate}")])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{rate}: {stderr}");
        assert!(
            stderr.contains("--download-limit") && stderr.contains("is not a rate"),
            "{rate}: {stderr}"
        );
    }
}
