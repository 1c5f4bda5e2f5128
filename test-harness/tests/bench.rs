//! `bt-bench --quick` keeps working: it runs every case with tiny payloads against the real
//! `bt` binary and python3-libtorrent, and writes a table of the expected shape. The figures
//! themselves are not checked (no timed assertions); only that each is a positive number.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bt_test_harness::bench::report::COLUMNS;

/// The quick run takes seconds in a release build and well under a minute in a debug one;
/// this bounds a hang.
const RUN_LIMIT: Duration = Duration::from_secs(600);

/// The case numbers of the issue, in the order of the table's rows.
const CASES: [&str; 27] = [
    "1", "1", "1", "1", "1", "2", "2", "2", "2", "2", "2", "2", "2", "2", "3", "3", "3", "3", "4",
    "4", "4", "5", "5", "6", "7", "7", "7",
];

/// Builds the `bt` binary beside `bt-bench` (same target directory and profile) and returns
/// its path. Cargo releases its lock while tests run, and the build is a no-op when
/// `cargo test --workspace` already built it.
fn build_bt() -> PathBuf {
    let bench = Path::new(env!("CARGO_BIN_EXE_bt-bench"));
    let mut build = Command::new(env!("CARGO"));
    build.args(["build", "--quiet", "-p", "bt-cli", "--bin", "bt"]);
    if bench.parent().and_then(Path::file_name) == Some("release".as_ref()) {
        build.arg("--release");
    }
    let status = build
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building bt failed");
    bench.with_file_name("bt")
}

/// Splits one CSV line, honouring quoted cells.
fn csv_cells(line: &str) -> Vec<String> {
    let (mut cells, mut cell, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    cells.push(cell);
    cells
}

#[test]
fn the_quick_benchmark_writes_the_whole_table() {
    let bt = build_bt();
    let out = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bt-bench"))
        .arg("--quick")
        .arg("--out")
        .arg(out.path())
        .arg("--bt")
        .arg(&bt)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + RUN_LIMIT;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() >= deadline {
            child.kill().unwrap();
            panic!("bt-bench --quick ran past {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "bt-bench failed:\n{stderr}");

    // The CSV: the header, then one row per figure, in case order, each a positive number.
    let csv = std::fs::read_to_string(out.path().join("bt-bench.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(csv_cells(lines.next().unwrap()), COLUMNS);
    let rows: Vec<Vec<String>> = lines.map(csv_cells).collect();
    assert_eq!(rows.len(), CASES.len(), "{csv}");
    for (row, case) in rows.iter().zip(CASES) {
        assert_eq!(row.len(), COLUMNS.len(), "{row:?}");
        assert!(row[0].starts_with(&format!("{case}. ")), "{row:?}");
        let value: f64 = row[2].parse().unwrap_or_else(|_| panic!("{row:?}"));
        assert!(value.is_finite() && value > 0.0, "{row:?}");
        assert_eq!(row[5], "", "a quick run judges no target: {row:?}");
    }

    // The same table in Markdown, printed and written.
    let markdown = std::fs::read_to_string(out.path().join("bt-bench.md")).unwrap();
    assert!(markdown.contains(&format!("| {} |", COLUMNS.join(" | "))));
    assert_eq!(
        markdown.lines().filter(|l| l.starts_with("| ")).count(),
        1 + CASES.len()
    );
    assert!(stdout.contains(&markdown), "{stdout}");

    // Case 1's throughput over time.
    let samples = std::fs::read_to_string(out.path().join("case1-throughput.csv")).unwrap();
    assert!(samples.starts_with("seconds,bytes_on_disk,mib_per_s\n"));
    let last = samples.lines().last().unwrap();
    let bytes: u64 = csv_cells(last)[1].parse().unwrap();
    assert!(
        bytes >= 16 << 20,
        "the last sample holds the whole file: {last}"
    );
    let svg = std::fs::read_to_string(out.path().join("case1-throughput.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("<polyline"));
}
