//! The benchmark's table: one [`Row`] per figure, printed and written as Markdown and CSV,
//! with the machine, the date and the command it came from.

use std::fmt::Write as _;

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

/// One figure of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The case, numbered as in the issue ("1. bt → bt").
    pub case: String,
    /// What is measured, with its unit ("MiB/s", "leecher CPU s/GiB").
    pub measure: String,
    /// The figure.
    pub value: f64,
    /// The figure as a fraction of the machine's limit, where one applies.
    pub of_limit: Option<f64>,
    /// The target, where one is set.
    pub target: Option<Target>,
}

impl Row {
    /// A figure without a limit or target.
    pub fn new(case: &str, measure: &str, value: f64) -> Self {
        Self {
            case: case.to_owned(),
            measure: measure.to_owned(),
            value,
            of_limit: None,
            target: None,
        }
    }

    /// Shows the figure as a fraction of `limit` (in the figure's unit).
    pub fn of_limit(mut self, limit: f64) -> Self {
        self.of_limit = Some(self.value / limit);
        self
    }

    /// Sets the target.
    pub fn target(mut self, target: Target) -> Self {
        self.target = Some(target);
        self
    }

    /// The cells: case, measure, value, fraction of the limit, target, met. `judge` says
    /// whether to say if targets are met (not for quick runs, whose payloads are too small).
    pub fn cells(&self, judge: bool) -> [String; 6] {
        let met = match (self.target, judge) {
            (Some(target), true) if target.met(self.value) => "yes",
            (Some(_), true) => "no",
            _ => "",
        };
        [
            self.case.clone(),
            self.measure.clone(),
            number(self.value),
            self.of_limit
                .map(|f| format!("{:.0}%", f * 100.0))
                .unwrap_or_default(),
            self.target.map(Target::text).unwrap_or_default(),
            met.to_owned(),
        ]
    }
}

/// The column names, in the order of [`Row::cells`].
pub const COLUMNS: [&str; 6] = ["case", "measure", "value", "of limit", "target", "met"];

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
    /// The figures, in case order.
    pub rows: Vec<Row>,
}

impl Report {
    /// The table in Markdown, preceded by where and when it was measured.
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
        let _ = writeln!(out, "- mode: {mode}\n");
        let _ = writeln!(out, "| {} |", COLUMNS.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(COLUMNS.len()));
        for row in &self.rows {
            let _ = writeln!(out, "| {} |", row.cells(!self.quick).join(" | "));
        }
        out
    }

    /// The table as CSV, with a header line.
    pub fn csv(&self) -> String {
        let mut out = COLUMNS.join(",") + "\n";
        for row in &self.rows {
            let cells = row.cells(!self.quick).map(|cell| csv_cell(&cell));
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

/// The machine: CPU model, cores and memory, from `/proc`.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|rest| rest.split(':').nth(1))
        .map_or("unknown CPU", str::trim)
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0.0, |kib| kib as f64 / (1024.0 * 1024.0));
    let sha_ni = if cpuinfo.contains(" sha_ni") {
        ", SHA-NI"
    } else {
        ""
    };
    format!("{model}, {cores} cores{sha_ni}, {mem_gib:.0} GiB")
}

/// Now, UTC, as `YYYY-MM-DD HH:MM`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_from_day_counts() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_000), (2024, 10, 4));
    }

    #[test]
    fn a_report_as_markdown_and_csv() {
        let report = Report {
            quick: false,
            date: "2026-01-01 00:00 UTC".into(),
            machine: "m".into(),
            command: "bt-bench".into(),
            rows: vec![
                Row::new("1. bt → bt", "MiB/s", 812.4)
                    .of_limit(1000.0)
                    .target(Target::AtLeast(700.0)),
                Row::new("4. memory", "peak RSS, MiB", 70.0).target(Target::AtMost(64.0)),
                Row::new("5. swarm, 1 + 20", "seconds, all done", 3.456),
            ],
        };
        let md = report.markdown();
        assert!(md.contains("| case | measure | value | of limit | target | met |"));
        assert!(md.contains("| 1. bt → bt | MiB/s | 812 | 81% | >= 700 | yes |"));
        assert!(md.contains("| 4. memory | peak RSS, MiB | 70.0 |  | <= 64.0 | no |"));
        let csv = report.csv();
        assert_eq!(csv.lines().count(), 4);
        assert!(csv.contains("\"peak RSS, MiB\""));
        assert!(csv.contains("5. swarm, 1 + 20\",\"seconds, all done\",3.46,,,"));
    }

    #[test]
    fn quick_reports_do_not_judge_targets() {
        let row = Row::new("c", "m", 1.0).target(Target::AtLeast(2.0));
        assert_eq!(row.cells(false)[5], "");
        assert_eq!(row.cells(true)[5], "no");
    }
}
