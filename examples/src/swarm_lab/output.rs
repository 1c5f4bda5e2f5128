//! [`write_outputs`]: every file a set of runs produces, in one directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{RunResult, plot_completion, plot_rarest, summary_table, write_csv};

/// The columns of `rarest.csv`: the copies of pieces over time, every run.
pub const RAREST_HEADER: &str = "run,t_s,min_copies,mean_copies,complete_leechers";

/// Writes, into `dir` (created if missing): per run `NAME.csv` and `NAME_completion.svg`; for
/// all runs `rarest.csv`, `rarest.svg` and `summary.md`. Returns the paths written.
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
    let rarest = dir.join("rarest.csv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&rarest)?);
    writeln!(file, "{RAREST_HEADER}")?;
    for result in results {
        for s in &result.samples {
            writeln!(
                file,
                "{},{:.3},{},{:.3},{}",
                result.name,
                s.at.as_secs_f64(),
                s.min_copies,
                s.mean_copies,
                s.complete
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
