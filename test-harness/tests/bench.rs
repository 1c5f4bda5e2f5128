//! `bt-bench --quick` keeps working: it runs every case with tiny payloads against the real
//! `bt` binary and python3-libtorrent, two rounds, and writes a table of the expected shape:
//! a median with its range per measure, every round's figure in the CSV, a curve per round.
//! The figures themselves are not checked (no timed assertions); only that each is a
//! positive number and each median lies within its range.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bt_test_harness::bench::report::{COLUMNS, CSV_COLUMNS};

/// The quick run takes seconds in a release build and well under a minute in a debug one;
/// this bounds a hang.
const RUN_LIMIT: Duration = Duration::from_secs(600);

/// Rounds of the run: two, so every measure has a range and the order alternates.
const ROUNDS: usize = 2;

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
        .arg("--rounds")
        .arg(ROUNDS.to_string())
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

    check_csv(&std::fs::read_to_string(out.path().join("bt-bench.csv")).unwrap());
    let markdown = std::fs::read_to_string(out.path().join("bt-bench.md")).unwrap();
    check_markdown(&markdown);
    assert!(stdout.contains(&markdown), "{stdout}");
    check_throughput(out.path());
}

/// The CSV: the header, then one line per measure and round, in case order, rounds in
/// order, each a positive number; the transfers of cases 1 to 3 say where they ran.
fn check_csv(csv: &str) {
    let mut lines = csv.lines();
    assert_eq!(csv_cells(lines.next().expect("a header")), CSV_COLUMNS);
    let rows: Vec<Vec<String>> = lines.map(csv_cells).collect();
    assert_eq!(rows.len(), CASES.len() * ROUNDS, "{csv}");
    let cases = CASES.iter().flat_map(|case| [case; ROUNDS]);
    for (i, (row, case)) in rows.iter().zip(cases).enumerate() {
        assert_eq!(row.len(), CSV_COLUMNS.len(), "{row:?}");
        assert!(row[0].starts_with(&format!("{case}. ")), "{row:?}");
        assert_eq!(row[2], (i % ROUNDS + 1).to_string(), "{row:?}");
        let transfer = ["1", "2", "3"].contains(case) && !row[0].contains("ratio");
        if transfer {
            let position: usize = row[3].parse().unwrap_or_else(|_| panic!("{row:?}"));
            assert!((1..=4).contains(&position), "{row:?}");
        } else {
            assert_eq!(row[3], "", "{row:?}");
        }
        let value: f64 = row[4].parse().unwrap_or_else(|_| panic!("{row:?}"));
        assert!(value.is_finite() && value > 0.0, "{row:?}");
        if i % ROUNDS == 1 {
            assert_eq!(
                row[..2],
                rows[i - 1][..2],
                "a measure's rounds are together"
            );
        }
    }
}

/// The Markdown: the rounds and the method in the header, then a row per measure whose
/// value reads "median (min–max)" with the median in its range, no target judged.
fn check_markdown(markdown: &str) {
    assert!(
        markdown.contains(&format!(
            "\n- rounds: {ROUNDS}. Every case ran {ROUNDS} times"
        )),
        "{markdown}"
    );
    assert!(markdown.contains("\n- order of the transfers: 1: bt → bt, "));
    assert!(markdown.contains("\n- wall time: "));
    assert!(markdown.contains(&format!("| {} |", COLUMNS.join(" | "))));
    let rows: Vec<Vec<&str>> = markdown
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| case |"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            cells[1..cells.len() - 1].to_vec()
        })
        .collect();
    assert_eq!(rows.len(), CASES.len(), "{markdown}");
    for (row, case) in rows.iter().zip(CASES) {
        assert_eq!(row.len(), COLUMNS.len(), "{row:?}");
        assert!(row[0].starts_with(&format!("{case}. ")), "{row:?}");
        let (median, range) = row[2]
            .strip_suffix(')')
            .and_then(|cell| cell.split_once(" ("))
            .unwrap_or_else(|| panic!("no median (min–max): {row:?}"));
        let (min, max) = range.split_once('–').expect("min–max");
        let [median, min, max]: [f64; 3] =
            [median, min, max].map(|n| n.parse().unwrap_or_else(|_| panic!("{row:?}")));
        assert!(min <= median && median <= max && min > 0.0, "{row:?}");
        assert_eq!(row[5], "", "a quick run judges no target: {row:?}");
    }
}

/// Case 1's throughput over time: a curve per round, each ending with the whole file.
fn check_throughput(out: &Path) {
    let samples = std::fs::read_to_string(out.join("case1-throughput.csv")).expect("written");
    assert!(samples.starts_with("round,seconds,bytes_on_disk,mib_per_s\n"));
    for round in 1..=ROUNDS {
        let last = samples
            .lines()
            .rfind(|l| l.starts_with(&format!("{round},")))
            .unwrap_or_else(|| panic!("no samples of round {round}"));
        let bytes: u64 = csv_cells(last)[2].parse().expect("a byte count");
        assert!(
            bytes >= 16 << 20,
            "the last sample holds the whole file: {last}"
        );
    }
    let svg = std::fs::read_to_string(out.join("case1-throughput.svg")).expect("written");
    assert!(svg.starts_with("<svg"));
    assert_eq!(svg.matches("<polyline").count(), ROUNDS);
    assert!(svg.contains("(median)"));
}
