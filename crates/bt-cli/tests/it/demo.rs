//! `bt demo`: the README's first command works with nothing else running, and in CI (no
//! terminal: plain progress lines).

use assert_cmd::Command;

#[test]
fn demo_downloads_verifies_and_reports_the_rate_without_a_terminal() {
    let output = Command::cargo_bin("bt")
        .unwrap()
        .args(["demo", "--size", "3MiB", "--piece-length", "64KiB"])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("bt-demo.bin: 100.0%  3.0 MiB/3.0 MiB"),
        "no final plain progress line:\n{stdout}"
    );
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("demo: downloaded 3.0 MiB in ")
            && last.contains("MiB/s")
            && last.contains("48 pieces re-hashed: all good"),
        "{last}"
    );
    // Plain mode draws no bars: no carriage returns or escape sequences.
    assert!(
        !stdout.contains('\r') && !stdout.contains('\u{1b}'),
        "{stdout:?}"
    );
    let dir = stdout
        .lines()
        .find_map(|l| l.split("downloading into ").nth(1))
        .expect("the demo names its download directory");
    assert!(!std::path::Path::new(dir).exists(), "{dir} was not removed");
}

#[test]
fn demo_quiet_prints_nothing_and_bad_sizes_are_refused() {
    let quiet = Command::cargo_bin("bt")
        .unwrap()
        .args(["demo", "--size", "1MiB", "--quiet"])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(quiet.status.success(), "{quiet:?}");
    assert!(quiet.stdout.is_empty(), "{quiet:?}");

    let bad = Command::cargo_bin("bt")
        .unwrap()
        .args(["demo", "--piece-length", "1000"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("power of two"));
}

/// `-v` turns on the engine's info logs: they go to stderr, stdout keeps only progress.
#[test]
fn verbose_logs_go_to_stderr_and_leave_stdout_to_progress() {
    let output = Command::cargo_bin("bt")
        .unwrap()
        .args(["-v", "demo", "--size", "1MiB"])
        .env_remove("RUST_LOG")
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stderr.contains("INFO") && stderr.contains("resume check done"),
        "{stderr}"
    );
    assert!(!stdout.contains("INFO"), "{stdout}");
    let quiet = Command::cargo_bin("bt")
        .unwrap()
        .args(["demo", "--size", "1MiB"])
        .env_remove("RUST_LOG")
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("INFO"));
}
