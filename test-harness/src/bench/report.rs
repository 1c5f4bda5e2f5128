//! The benchmark's table: one [`Row`] per measure, holding its figure from every round. The
//! Markdown shows each measure's median with the range of the rounds (see [`stats`]); the
//! CSV keeps every round's figure. Both carry the machine, the date and the command.
//!
//! [`stats`]: super::stats

use std::fmt::Write as _;

use super::stats::Spread;

/// A target from the performance issue, for one figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// The figure must be at least this.
    AtLeast(f64),
    /// The figure must be at most this.
    AtMost(f64),
}

impl Target {
    /// Whether `value` meets it.
    pub fn met(self, value: f64) -> bool {
        match self {
            Self::AtLeast(bound) => value >= bound,
            Self::AtMost(bound) => value <= bound,
        }
    }

    fn text(self) -> String {
        match self {
            Self::AtLeast(bound) => format!(">= {}", number(bound)),
            Self::AtMost(bound) => format!("<= {}", number(bound)),
        }
    }
}

/// One measure of the table, with its figure from every round.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The case, numbered as in the issue ("1. bt → bt").
    pub case: String,
    /// What is measured, with its unit ("MiB/s", "leecher CPU s/GiB").
    pub measure: String,
    /// The figure of each round, in round order (a ratio: taken within the round).
    pub rounds: Vec<f64>,
    /// Where the case's transfer ran within each round (1 = first), for the transfers whose
    /// order changes from round to round; empty otherwise.
    pub positions: Vec<usize>,
    /// The machine's limit in the figure's unit, where one applies: the table shows the
    /// median as a fraction of it.
    pub limit: Option<f64>,
    /// The target, where one is set; judged on the median.
    pub target: Option<Target>,
}

impl Row {
    /// A measure without a limit or target, from the figure of each round.
    pub fn new(case: &str, measure: &str, rounds: Vec<f64>) -> Self {
        Self {
            case: case.to_owned(),
            measure: measure.to_owned(),
            rounds,
            positions: Vec::new(),
            limit: None,
            target: None,
        }
    }

    /// Shows the median as a fraction of `limit` (in the figure's unit).
    pub fn of_limit(mut self, limit: f64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Sets the target.
    pub fn target(mut self, target: Target) -> Self {
        self.target = Some(target);
        self
    }

    /// Records where the case ran within each round (1 = first).
    pub fn positions(mut self, positions: Vec<usize>) -> Self {
        self.positions = positions;
        self
    }

    /// The median of the rounds and their range.
    pub fn spread(&self) -> Option<Spread> {
        Spread::of(&self.rounds)
    }

    /// The cells: case, measure, median (with the range when there are several rounds),
    /// the median as a fraction of the limit, target, met. `judge` says whether to say if
    /// targets are met (not for quick runs, whose payloads are too small).
    pub fn cells(&self, judge: bool) -> [String; 6] {
        let spread = self.spread();
        let met = match (self.target, spread, judge) {
            (Some(target), Some(s), true) if target.met(s.median) => "yes",
            (Some(_), _, true) => "no",
            _ => "",
        };
        let value = match spread {
            Some(s) if self.rounds.len() > 1 => {
                format!("{} ({}–{})", number(s.median), number(s.min), number(s.max))
            }
            Some(s) => number(s.median),
            None => String::new(),
        };
        let of_limit = match (self.limit, spread) {
            (Some(limit), Some(s)) => format!("{:.0}%", s.median / limit * 100.0),
            _ => String::new(),
        };
        [
            self.case.clone(),
            self.measure.clone(),
            value,
            of_limit,
            self.target.map(Target::text).unwrap_or_default(),
            met.to_owned(),
        ]
    }

    /// The raw lines of the CSV, one per round: case, measure, round (1-based), position in
    /// the round (empty where the order does not change), figure.
    pub fn raw_cells(&self) -> Vec<[String; 5]> {
        self.rounds
            .iter()
            .enumerate()
            .map(|(i, value)| {
                [
                    self.case.clone(),
                    self.measure.clone(),
                    (i + 1).to_string(),
                    self.positions
                        .get(i)
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    format!("{value:.4}"),
                ]
            })
            .collect()
    }
}

/// The column names of the table, in the order of [`Row::cells`].
pub const COLUMNS: [&str; 6] = [
    "case",
    "measure",
    "median (min–max)",
    "of limit",
    "target",
    "met",
];

/// The column names of the CSV, in the order of [`Row::raw_cells`].
pub const CSV_COLUMNS: [&str; 5] = ["case", "measure", "round", "position", "value"];

/// A whole run.
#[derive(Debug, Clone)]
pub struct Report {
    /// A quick run (small payloads): targets are not judged.
    pub quick: bool,
    /// When it ran, UTC.
    pub date: String,
    /// The machine.
    pub machine: String,
    /// The command line.
    pub command: String,
    /// How many rounds every case ran.
    pub rounds: usize,
    /// More lines for the header: the order of the transfers, the load, the wall time.
    pub notes: Vec<String>,
    /// The measures, in case order.
    pub rows: Vec<Row>,
}

impl Report {
    /// The table in Markdown, preceded by where and when it was measured and how the
    /// verdicts are made.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let mode = if self.quick {
            "quick (small payloads; targets not judged)"
        } else {
            "full"
        };
        let _ = writeln!(out, "- date: {}", self.date);
        let _ = writeln!(out, "- machine: {}", self.machine);
        let _ = writeln!(out, "- command: `{}`", self.command);
        let _ = writeln!(out, "- mode: {mode}");
        let _ = writeln!(out, "- rounds: {}. {}", self.rounds, self.method());
        for note in &self.notes {
            let _ = writeln!(out, "- {note}");
        }
        let _ = writeln!(out, "\n| {} |", COLUMNS.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(COLUMNS.len()));
        for row in &self.rows {
            let _ = writeln!(out, "| {} |", row.cells(!self.quick).join(" | "));
        }
        out
    }

    /// How a cell comes from the rounds, and how a verdict from a cell.
    fn method(&self) -> String {
        let verdicts = if self.quick {
            ""
        } else {
            " Targets are judged on the median."
        };
        if self.rounds == 1 {
            return format!("Every case ran once; each cell is its figure.{verdicts}");
        }
        format!(
            "Every case ran {n} times, the transfers of cases 1 to 3 interleaved, one of \
             each per round, in the orders below. Each cell is the median of the {n} rounds, \
             the smallest and largest in brackets; a ratio is taken within each round (both \
             sides under the same conditions), then its median.{verdicts} The CSV holds \
             every round's figure.",
            n = self.rounds
        )
    }

    /// Every round's figure as CSV, one line per measure and round, with a header line.
    pub fn csv(&self) -> String {
        let mut out = CSV_COLUMNS.join(",") + "\n";
        for cells in self.rows.iter().flat_map(Row::raw_cells) {
            let cells = cells.map(|cell| csv_cell(&cell));
            out += &cells.join(",");
            out.push('\n');
        }
        out
    }
}

/// A figure with as many decimals as it deserves.
fn number(value: f64) -> String {
    if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

fn csv_cell(cell: &str) -> String {
    if cell.contains([',', '"', '\n']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(quick: bool, rows: Vec<Row>) -> Report {
        Report {
            quick,
            date: "2026-01-01 00:00 UTC".into(),
            machine: "m".into(),
            command: "bt-bench".into(),
            rounds: rows.first().map_or(0, |row| row.rounds.len()),
            notes: vec!["wall time: 1 s".into()],
            rows,
        }
    }

    #[test]
    fn a_report_as_markdown_and_csv() {
        let report = report(
            false,
            vec![
                Row::new("1. bt → bt", "MiB/s", vec![812.4, 352.0, 547.2])
                    .of_limit(1000.0)
                    .target(Target::AtLeast(700.0))
                    .positions(vec![1, 4, 2]),
                Row::new("4. memory", "peak RSS, MiB", vec![70.0, 60.0, 75.0])
                    .target(Target::AtMost(64.0)),
                Row::new(
                    "5. swarm, 1 + 20",
                    "seconds, all done",
                    vec![3.456, 3.0, 4.0],
                ),
            ],
        );
        let md = report.markdown();
        assert!(md.contains("- rounds: 3. Every case ran 3 times"), "{md}");
        assert!(md.contains("judged on the median"), "{md}");
        assert!(md.contains("- wall time: 1 s\n"), "{md}");
        assert!(md.contains("| case | measure | median (min–max) | of limit | target | met |"));
        // The median is 547, under the target, though one round passed it.
        assert!(md.contains("| 1. bt → bt | MiB/s | 547 (352–812) | 55% | >= 700 | no |"));
        assert!(md.contains("| 4. memory | peak RSS, MiB | 70.0 (60.0–75.0) |  | <= 64.0 | no |"));
        let csv = report.csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 1 + 3 * 3);
        assert_eq!(lines[0], "case,measure,round,position,value");
        assert_eq!(lines[1], "1. bt → bt,MiB/s,1,1,812.4000");
        assert_eq!(lines[2], "1. bt → bt,MiB/s,2,4,352.0000");
        assert_eq!(lines[4], "4. memory,\"peak RSS, MiB\",1,,70.0000");
        assert_eq!(
            lines[9],
            "\"5. swarm, 1 + 20\",\"seconds, all done\",3,,4.0000"
        );
    }

    #[test]
    fn one_round_shows_its_figure_without_a_range() {
        let report = report(
            false,
            vec![Row::new("6. resume", "GB/s", vec![3.29]).target(Target::AtLeast(1.0))],
        );
        let md = report.markdown();
        assert!(md.contains("- rounds: 1. Every case ran once"), "{md}");
        assert!(
            md.contains("| 6. resume | GB/s | 3.29 |  | >= 1.00 | yes |"),
            "{md}"
        );
        assert_eq!(report.csv().lines().count(), 2);
    }

    #[test]
    fn quick_reports_do_not_judge_targets() {
        let row = Row::new("c", "m", vec![1.0, 3.0]).target(Target::AtLeast(2.0));
        assert_eq!(row.cells(false)[5], "");
        assert_eq!(row.cells(true)[5], "yes");
        assert!(
            !report(true, vec![row])
                .markdown()
                .contains("judged on the median")
        );
    }
}
