//! Reduced runs of the swarm lab (seven peers, 256 KiB): the CSVs, the plots and the summary
//! have the shape `docs/EXPERIMENTS.md` describes, an embedder's strategies run in every
//! member, and every member's draws are seeded from the experiment's seed. The scientific
//! results are not checked here: a run this small shows nothing, and a shared machine moves
//! the numbers. The runs use both ways of leaving (leechers once complete, the seeder after
//! a copy), so they run in CI too.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bt_engine::Strategies;
use bt_engine::config::{ChokeStrategySetting, PieceOrderSetting};
use bt_engine::proto::InfoHash;
use bt_engine::strategies::{ChokerContext, PickerContext};
use bt_examples::swarm_lab::{
    CSV_HEADER, ExperimentConfig, PeerClass, RAREST_HEADER, RUNS_HEADER, RunEnd, RunSpec,
    run_experiment, write_outputs,
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
        leave_on_complete: true,
        ..ExperimentConfig::default()
    }
}

#[actix::test]
async fn a_reduced_run_writes_csvs_plots_and_a_summary_of_the_documented_shape() {
    let config = reduced();
    let spec = RunSpec::new(
        ChokeStrategySetting::TitForTat,
        PieceOrderSetting::RarestFirst,
    );
    let result = run_experiment(&config, spec).await.unwrap();
    assert_eq!(result.end, RunEnd::Complete);
    let dir = tempfile::tempdir().unwrap();
    let written = write_outputs(std::slice::from_ref(&result), dir.path()).unwrap();
    assert_eq!(written.len(), 6, "{written:?}");

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

    let runs = std::fs::read_to_string(dir.path().join("runs.csv")).unwrap();
    let runs: Vec<&str> = runs.lines().collect();
    assert_eq!(runs[0], RUNS_HEADER);
    assert!(
        runs[1].starts_with("tit-for-tat_rarest-first,") && runs[1].ends_with(",complete,"),
        "{runs:?}: the seeder stayed"
    );
    let rarest = std::fs::read_to_string(dir.path().join("rarest.csv")).unwrap();
    assert_eq!(rarest.lines().next(), Some(RAREST_HEADER));
    let width = RAREST_HEADER.split(',').count();
    assert!(rarest.lines().count() > 1, "at least one sample");
    assert!(rarest.lines().all(|l| l.split(',').count() == width));
    for name in ["tit-for-tat_rarest-first_completion.svg", "rarest.svg"] {
        let svg = std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert!(svg.starts_with("<svg"), "{name} is an SVG");
    }
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    for expected in [
        "| tit-for-tat_rarest-first | free-rider | 1 | 1 |",
        "| tit-for-tat_rarest-first | complete |",
        "(of 6) |",
    ] {
        assert!(summary.contains(expected), "{expected:?} in {summary}");
    }
}

/// The seeds each member's strategies were built with, by the kind of strategy.
type Seeds = Arc<Mutex<Vec<(&'static str, InfoHash, u64)>>>;

/// An embedder's choker and picker (tit-for-tat and the standard picker, recording the seeds
/// they get) run in every member of the lab, free riders keeping their own choker; every
/// member's seeds are the ones derived from the experiment's seed; the seeder leaves after
/// half a copy.
#[actix::test]
async fn custom_strategies_run_in_every_member_with_seeds_from_the_experiment() {
    let config = ExperimentConfig {
        leave_on_complete: false,
        // Half a copy at 256 KiB/s: the seeder leaves (seen within half a second) well before
        // the leechers could complete, since every piece's first copy comes from it.
        seeder_leaves_after: Some(0.5),
        seeder_upload: 256 * KIB,
        seed: 11,
        ..reduced()
    };
    let seeds: Seeds = Arc::default();
    let (for_choker, for_picker) = (Arc::clone(&seeds), Arc::clone(&seeds));
    let strategies = Strategies::default()
        .with_choker(move |context: ChokerContext| {
            let entry = ("choker", context.info_hash, context.seed);
            for_choker.lock().unwrap().push(entry);
            Box::new(context.tit_for_tat())
        })
        .with_picker(move |context: PickerContext| {
            let entry = ("picker", context.info_hash, context.seed);
            for_picker.lock().unwrap().push(entry);
            Box::new(context.standard_picker().unwrap())
        });
    let result = run_experiment(&config, RunSpec::custom("recorded", strategies))
        .await
        .unwrap();
    assert_eq!(result.name, "recorded");
    let left = result.seeder_left.expect("the seeder left");
    assert!(left < result.wall);
    assert!(result.seeder_upload() >= config.payload_len / 2);
    assert!(
        result.samples.iter().any(|s| !s.seeder_present),
        "samples after the seeder left"
    );

    let seen = seeds.lock().unwrap().clone();
    let info_hash = seen[0].1;
    let derived = |kind: &str, index: usize| {
        let member = Strategies::default().with_seed(config.member_seed(index));
        match kind {
            "choker" => member.choker_seed(&info_hash),
            _ => member.picker_seed(&info_hash),
        }
    };
    let contributors = result
        .peers
        .iter()
        .filter(|p| p.class != PeerClass::FreeRider);
    let expected_chokers: BTreeSet<u64> =
        contributors.map(|p| derived("choker", p.index)).collect();
    let expected_pickers: BTreeSet<u64> = result
        .peers
        .iter()
        .map(|p| derived("picker", p.index))
        .collect();
    let got = |kind: &str| -> BTreeSet<u64> {
        seen.iter()
            .filter(|(k, hash, _)| *k == kind && *hash == info_hash)
            .map(|(_, _, seed)| *seed)
            .collect()
    };
    assert_eq!(
        got("choker"),
        expected_chokers,
        "the custom choker in the seeder and every contributor, not in the free rider"
    );
    assert_eq!(
        got("picker"),
        expected_pickers,
        "the custom picker in every member"
    );
    assert_eq!(seen.len(), expected_chokers.len() + expected_pickers.len());
}
