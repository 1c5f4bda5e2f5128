//! [`write_outputs`]: every file a set of runs produces, in one directory; [`load_outputs`]
//! reads the runs back from those files.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bt_engine::proto::PeerId;

use super::{
    CSV_HEADER, PeerClass, PeerRecord, RarestSample, RunEnd, RunResult, RunSpec, plot_completion,
    plot_rarest, summary_table, write_csv,
};

/// The columns of `rarest.csv`: the copies of pieces among the sharers in the swarm over
/// time, every run (see [`RarestSample`]).
pub const RAREST_HEADER: &str = "run,t_s,min_copies,mean_copies,complete_sharers,\
downloading_sharers,seeder_present,lost_pieces";

/// The columns of `runs.csv`: a row per run, what the peers' CSVs do not say.
pub const RUNS_HEADER: &str = "run,wall_s,end,seeder_left_s";

/// Writes, into `dir` (created if missing): per run `NAME.csv` and `NAME_completion.svg`; for
/// all runs `runs.csv`, `rarest.csv`, `rarest.svg` and `summary.md`. Returns the paths
/// written.
pub fn write_outputs(results: &[RunResult], dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for result in results {
        let csv = dir.join(format!("{}.csv", result.name));
        write_csv(result, &csv)?;
        written.push(csv);
        let svg = dir.join(format!("{}_completion.svg", result.name));
        plot_completion(result, &svg)?;
        written.push(svg);
    }
    let runs = dir.join("runs.csv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&runs)?);
    writeln!(file, "{RUNS_HEADER}")?;
    for result in results {
        let left = result
            .seeder_left
            .map(|d| format!("{:.3}", d.as_secs_f64()));
        writeln!(
            file,
            "{},{:.3},{},{}",
            result.name,
            result.wall.as_secs_f64(),
            result.end.name(),
            left.unwrap_or_default()
        )?;
    }
    file.flush()?;
    written.push(runs);
    let rarest = dir.join("rarest.csv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&rarest)?);
    writeln!(file, "{RAREST_HEADER}")?;
    for result in results {
        for s in &result.samples {
            writeln!(
                file,
                "{},{:.3},{},{:.3},{},{},{},{}",
                result.name,
                s.at.as_secs_f64(),
                s.min_copies,
                s.mean_copies,
                s.complete,
                s.downloading,
                u8::from(s.seeder_present),
                s.lost
            )?;
        }
    }
    file.flush()?;
    written.push(rarest);
    let svg = dir.join("rarest.svg");
    plot_rarest(results, &svg)?;
    written.push(svg);
    let summary = dir.join("summary.md");
    std::fs::write(&summary, summary_table(results))?;
    written.push(summary);
    Ok(written)
}

/// Reads back the runs [`write_outputs`] wrote into `dir` (`runs.csv`, then each run's CSV
/// and its samples in `rarest.csv`), in the order of `runs.csv`, to draw the plots and the
/// summary again without running anything. Peer ids are not in the files (they read back as
/// zero), nor the custom strategies' factories, and `payload_len` must be given.
pub fn load_outputs(dir: &Path, payload_len: u64) -> anyhow::Result<Vec<RunResult>> {
    let runs = std::fs::read_to_string(dir.join("runs.csv"))?;
    let mut lines = runs.lines();
    anyhow::ensure!(
        lines.next() == Some(RUNS_HEADER),
        "runs.csv: unknown header"
    );
    let mut results: Vec<RunResult> = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        anyhow::ensure!(f.len() == 4, "runs.csv: bad line {line:?}");
        let csv = std::fs::read_to_string(dir.join(format!("{}.csv", f[0])))?;
        let mut result = parse_run(f[0], &csv, payload_len)?;
        result.wall = Duration::from_secs_f64(f[1].parse()?);
        result.end = RunEnd::ALL
            .into_iter()
            .find(|e| e.name() == f[2])
            .ok_or_else(|| anyhow::anyhow!("runs.csv: unknown end {:?}", f[2]))?;
        result.seeder_left = match f[3] {
            "" => None,
            s => Some(Duration::from_secs_f64(s.parse()?)),
        };
        results.push(result);
    }
    let rarest = std::fs::read_to_string(dir.join("rarest.csv"))?;
    let mut lines = rarest.lines();
    anyhow::ensure!(
        lines.next() == Some(RAREST_HEADER),
        "rarest.csv: unknown header"
    );
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        anyhow::ensure!(f.len() == 8, "rarest.csv: bad line {line:?}");
        let sample = RarestSample {
            at: Duration::from_secs_f64(f[1].parse()?),
            min_copies: f[2].parse()?,
            mean_copies: f[3].parse()?,
            complete: f[4].parse()?,
            downloading: f[5].parse()?,
            seeder_present: f[6] == "1",
            lost: f[7].parse()?,
        };
        let result = results
            .iter_mut()
            .find(|r| r.name == f[0])
            .ok_or_else(|| anyhow::anyhow!("rarest.csv: run {:?} not in runs.csv", f[0]))?;
        result.samples.push(sample);
    }
    Ok(results)
}

/// One run's CSV, without its samples.
fn parse_run(name: &str, csv: &str, payload_len: u64) -> anyhow::Result<RunResult> {
    let spec = RunSpec::from_name(name);
    let mut lines = csv.lines();
    anyhow::ensure!(
        lines.next() == Some(CSV_HEADER),
        "{name}.csv: unknown header"
    );
    let mut peers = Vec::new();
    let mut capacities = BTreeMap::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        anyhow::ensure!(f.len() == 14, "{name}.csv: bad line {line:?}");
        let class = PeerClass::ALL
            .into_iter()
            .find(|c| c.name() == f[2])
            .ok_or_else(|| anyhow::anyhow!("{name}.csv: unknown class {:?}", f[2]))?;
        capacities.insert(class, f[3].parse()?);
        let secs = |s: &str| -> anyhow::Result<Option<Duration>> {
            Ok(match s {
                "" => None,
                s => Some(Duration::from_secs_f64(s.parse()?)),
            })
        };
        let started = Duration::from_secs_f64(f[4].parse()?);
        let completed = secs(f[5])?.map(|c| started + c);
        let ninety = completed
            .zip(secs(f[6])?)
            .map(|(c, tail)| c.saturating_sub(tail));
        let from = [
            PeerClass::Seeder,
            PeerClass::Fast,
            PeerClass::Medium,
            PeerClass::Slow,
            PeerClass::FreeRider,
        ]
        .into_iter()
        .zip(&f[9..14])
        .map(|(class, bytes)| Ok((class, bytes.parse()?)))
        .collect::<anyhow::Result<BTreeMap<PeerClass, u64>>>()?;
        peers.push(PeerRecord {
            index: f[1].parse()?,
            class,
            peer_id: PeerId([0; 20]),
            started,
            ninety,
            completed,
            pieces: 0,
            uploaded: f[7].parse()?,
            downloaded: f[8].parse()?,
            from,
        });
    }
    Ok(RunResult {
        name: name.to_owned(),
        spec,
        peers,
        samples: Vec::new(),
        wall: Duration::ZERO,
        end: RunEnd::TimedOut,
        seeder_left: None,
        payload_len,
        capacities,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::swarm_lab::{Recorder, choker_name};
    use bt_engine::config::{ChokeStrategySetting, PieceOrderSetting};

    /// A run of three leechers built by hand, as the recorder would have recorded it.
    fn run() -> RunResult {
        let secs = Duration::from_secs;
        let mut rec = Recorder::new(4);
        rec.add_peer(PeerClass::Seeder, PeerId([9; 20]), secs(0));
        let fast = rec.add_peer(PeerClass::Fast, PeerId([1; 20]), secs(0));
        let free = rec.add_peer(PeerClass::FreeRider, PeerId([2; 20]), secs(1));
        rec.add_peer(PeerClass::Slow, PeerId([3; 20]), secs(1));
        for piece in 0..4 {
            rec.piece_verified(fast, piece, secs(2 + u64::from(piece)));
            rec.piece_verified(free, piece, secs(3 + 2 * u64::from(piece)));
            rec.sample(secs(2 + u64::from(piece)));
        }
        rec.peer_left(0);
        rec.sample(secs(6));
        rec.totals(0, 4_000, 0);
        rec.totals(fast, 3_000, 1_000);
        let (peers, samples) = rec.finish();
        let spec = RunSpec::new(ChokeStrategySetting::TitForTat, PieceOrderSetting::Random);
        RunResult {
            name: spec.name(),
            spec,
            peers,
            wall: Duration::from_millis(6_500),
            end: RunEnd::Stalled,
            seeder_left: Some(Duration::from_millis(5_250)),
            samples,
            payload_len: 1_000,
            capacities: PeerClass::ALL.into_iter().map(|c| (c, 7)).collect(),
        }
    }

    #[test]
    fn outputs_read_back_give_the_same_summary() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let original = vec![run()];
        write_outputs(&original, dir.path()).expect("written");
        let loaded = load_outputs(dir.path(), 1_000).expect("read back");
        assert_eq!(loaded.len(), 1);
        assert_eq!(summary_table(&loaded), summary_table(&original));
        assert_eq!(loaded[0].samples, original[0].samples);
        assert_eq!(loaded[0].end, RunEnd::Stalled);
        assert_eq!(loaded[0].seeder_left, original[0].seeder_left);
        assert_eq!(loaded[0].wall, original[0].wall);
        assert_eq!(choker_name(loaded[0].spec.choker), "tit-for-tat");
        let incomplete = loaded[0].peers.iter().filter(|p| p.completed.is_none());
        assert_eq!(incomplete.count(), 1, "the slow leecher never completed");
    }
}
