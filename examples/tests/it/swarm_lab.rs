//! A reduced run of the swarm lab (seven peers, 256 KiB): the CSV, the plots and the summary
//! have the shape `docs/EXPERIMENTS.md` describes. The scientific results are not checked
//! here: a run this small shows nothing, and a shared machine moves the numbers. The run uses
//! the options off by default (leechers leave once complete, a short rate window), so they
//! run in CI too.

use std::time::Duration;

use bt_engine::config::{ChokeStrategySetting, PieceOrderSetting};
use bt_examples::swarm_lab::{
    CSV_HEADER, ExperimentConfig, RAREST_HEADER, RunSpec, run_experiment, write_outputs,
};

const KIB: u64 = 1024;

fn reduced() -> ExperimentConfig {
    ExperimentConfig {
        leechers: 6,
        free_riders: 0.2,
        uploads: [1024 * KIB, 512 * KIB, 256 * KIB],
        seeder_upload: 2048 * KIB,
        download: 4096 * KIB,
        payload_len: 256 * KIB,
        piece_len: 32 * 1024,
        timeout: Duration::from_secs(90),
        rate_window: Duration::from_secs(1),
        leave_on_complete: true,
        ..ExperimentConfig::default()
    }
}

#[actix::test]
async fn a_reduced_run_writes_csvs_plots_and_a_summary_of_the_documented_shape() {
    let config = reduced();
    let spec = RunSpec {
        choker: ChokeStrategySetting::TitForTat,
        picker: PieceOrderSetting::RarestFirst,
    };
    let result = run_experiment(&config, spec).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let written = write_outputs(std::slice::from_ref(&result), dir.path()).unwrap();
    assert_eq!(written.len(), 5, "{written:?}");

    let csv = std::fs::read_to_string(dir.path().join("tit-for-tat_rarest-first.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some(CSV_HEADER));
    let columns = CSV_HEADER.split(',').count();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 1 + config.leechers, "a row per peer");
    let classes = ["seeder", "fast", "medium", "slow", "free-rider"];
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), columns, "row {i}: {row:?}");
        assert_eq!(row[0], "tit-for-tat_rarest-first");
        assert_eq!(row[1], i.to_string(), "peers in member order");
        assert!(classes.contains(&row[2]), "class {}", row[2]);
        for number in [3, 7, 8, 9, 10, 11, 12, 13] {
            row[number].parse::<u64>().expect("a byte count");
        }
        row[4].parse::<f64>().expect("a start time");
        row[5].parse::<f64>().expect("every peer completed");
    }
    assert_eq!(rows[0][2], "seeder");
    assert_eq!(
        rows.iter().filter(|r| r[2] == "free-rider").count(),
        1,
        "a fifth of six leechers ride free"
    );
    let free = rows.iter().find(|r| r[2] == "free-rider").unwrap();
    assert_eq!(free[7], "0", "a free rider uploads nothing");

    let rarest = std::fs::read_to_string(dir.path().join("rarest.csv")).unwrap();
    assert_eq!(rarest.lines().next(), Some(RAREST_HEADER));
    assert!(rarest.lines().count() > 1, "at least one sample");
    for name in ["tit-for-tat_rarest-first_completion.svg", "rarest.svg"] {
        let svg = std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert!(svg.starts_with("<svg"), "{name} is an SVG");
    }
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(
        summary.contains("| tit-for-tat_rarest-first | free-rider | 1 | 1 |"),
        "{summary}"
    );
}
