//! Throughput over time for case 1: rates from the sampled bytes on disk, one curve per
//! round, as a CSV and as a small SVG line chart (written by hand: a few polylines, two axes
//! and a legend need no plotting crate). The median round is drawn bold, the others thin.

use std::fmt::Write as _;

use super::transfer::mib;

/// Rates are averaged over windows at least this long, so one poll's jitter does not show
/// as a spike.
const WINDOW_S: f64 = 0.1;

/// (seconds since the leecher started, MiB/s over the window ending there), from cumulative
/// (seconds, bytes) samples.
pub fn rates(samples: &[(f64, u64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let Some(&first) = samples.first() else {
        return out;
    };
    let mut previous = first;
    for &(t, bytes) in &samples[1..] {
        let dt = t - previous.0;
        if dt >= WINDOW_S - 1e-9 {
            out.push((t, mib(bytes.saturating_sub(previous.1)) / dt));
            previous = (t, bytes);
        }
    }
    out
}

/// One round's download, as a curve of the plot.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// The round, 1-based.
    pub round: usize,
    /// The legend's text ("round 3: 412 MiB/s (median)").
    pub label: String,
    /// (seconds since the leecher started, bytes on disk) samples.
    pub samples: Vec<(f64, u64)>,
    /// Drawn bold: the median round.
    pub highlight: bool,
}

/// The samples and their rates as CSV: `round,seconds,bytes_on_disk,mib_per_s` (the rate
/// over the window ending at that sample, empty between windows), round after round.
pub fn samples_csv(curves: &[Curve]) -> String {
    let mut out = String::from("round,seconds,bytes_on_disk,mib_per_s\n");
    for curve in curves {
        let rates = rates(&curve.samples);
        for &(t, bytes) in &curve.samples {
            let rate = rates
                .iter()
                .find(|(rt, _)| (rt - t).abs() < 1e-9)
                .map(|(_, r)| format!("{r:.1}"))
                .unwrap_or_default();
            let _ = writeln!(out, "{},{t:.3},{bytes},{rate}", curve.round);
        }
    }
    out
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 360.0;
const MARGIN: f64 = 56.0;
/// The legend's width, right of the plot.
const LEGEND: f64 = 210.0;
/// Colours of the curves, in round order (matplotlib's first ten).
const PALETTE: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// An SVG line chart of MiB/s over seconds, one line per curve with a legend on the
/// right, titled `title`.
pub fn throughput_svg(curves: &[Curve], title: &str) -> String {
    let points: Vec<Vec<(f64, f64)>> = curves.iter().map(|c| rates(&c.samples)).collect();
    let all = || points.iter().flatten();
    let max_t = all().map(|p| p.0).fold(0.1, f64::max);
    let max_rate = nice_ceiling(all().map(|p| p.1).fold(1.0, f64::max));
    let x = |t: f64| MARGIN + t / max_t * (WIDTH - 2.0 * MARGIN);
    let y = |r: f64| HEIGHT - MARGIN - r / max_rate * (HEIGHT - 2.0 * MARGIN);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{HEIGHT}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"14\">{}</text>\n",
        WIDTH + LEGEND,
        WIDTH / 2.0,
        escape(title)
    );
    axes(&mut svg, max_t, max_rate);
    for (i, (curve, points)) in curves.iter().zip(&points).enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let width = if curve.highlight { 2.5 } else { 1.0 };
        let line: Vec<String> = points
            .iter()
            .map(|&(t, r)| format!("{:.1},{:.1}", x(t), y(r)))
            .collect();
        let _ = writeln!(
            svg,
            "<polyline points=\"{}\" stroke=\"{colour}\" stroke-width=\"{width}\" fill=\"none\"/>",
            line.join(" ")
        );
        // The legend, right of the plot, a line per curve.
        let (lx, ly) = (WIDTH - MARGIN + 16.0, MARGIN + 8.0 + 16.0 * i as f64);
        let _ = writeln!(
            svg,
            "<path d=\"M{lx:.1},{ly:.1} h20\" stroke=\"{colour}\" stroke-width=\"{width}\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            lx + 26.0,
            ly + 4.0,
            escape(&curve.label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The two axes with five ticks each and their titles.
fn axes(svg: &mut String, max_t: f64, max_rate: f64) {
    let x = |t: f64| MARGIN + t / max_t * (WIDTH - 2.0 * MARGIN);
    let y = |r: f64| HEIGHT - MARGIN - r / max_rate * (HEIGHT - 2.0 * MARGIN);
    let _ = writeln!(
        svg,
        "<path d=\"M{m},{top} V{bottom} H{right}\" stroke=\"black\" fill=\"none\"/>",
        m = MARGIN,
        top = MARGIN,
        bottom = HEIGHT - MARGIN,
        right = WIDTH - MARGIN
    );
    for i in 0..=5 {
        let (t, r) = (max_t * f64::from(i) / 5.0, max_rate * f64::from(i) / 5.0);
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{t:.1}</text>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{r:.0}</text>",
            x(t),
            HEIGHT - MARGIN + 16.0,
            MARGIN - 6.0,
            y(r) + 4.0
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">seconds since bt download started</text>\n\
         <text x=\"14\" y=\"{:.1}\" transform=\"rotate(-90 14 {:.1})\" text-anchor=\"middle\">MiB/s</text>",
        WIDTH / 2.0,
        HEIGHT - 12.0,
        HEIGHT / 2.0,
        HEIGHT / 2.0
    );
}

/// The smallest 1, 2 or 5 times a power of ten at or above `value`.
fn nice_ceiling(value: f64) -> f64 {
    let power = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&v| v >= value)
        .unwrap_or(10.0 * power)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn rates_over_windows_of_at_least_100_ms() {
        let samples = [
            (0.0, 0),
            (0.05, 0),
            (0.1, 10 * MIB),
            (0.2, 30 * MIB),
            (0.25, 30 * MIB),
        ];
        let rates = rates(&samples);
        assert_eq!(rates.len(), 2);
        assert!((rates[0].1 - 100.0).abs() < 1e-6, "{rates:?}");
        assert!((rates[1].1 - 200.0).abs() < 1e-6, "{rates:?}");
    }

    fn curve(round: usize, samples: Vec<(f64, u64)>, highlight: bool) -> Curve {
        Curve {
            round,
            label: format!("round {round} <x>"),
            samples,
            highlight,
        }
    }

    #[test]
    fn the_csv_has_a_line_per_sample_and_round() {
        let curves = [
            curve(1, vec![(0.0, 0), (0.1, MIB), (0.15, 2 * MIB)], false),
            curve(2, vec![(0.0, 0), (0.2, MIB)], true),
        ];
        assert_eq!(
            samples_csv(&curves).lines().collect::<Vec<_>>(),
            [
                "round,seconds,bytes_on_disk,mib_per_s",
                "1,0.000,0,",
                "1,0.100,1048576,10.0",
                "1,0.150,2097152,",
                "2,0.000,0,",
                "2,0.200,1048576,5.0",
            ]
        );
    }

    /// The `points` of every polyline, as (x, y) pairs.
    fn polylines(svg: &str) -> Vec<Vec<(f64, f64)>> {
        svg.split("points=\"")
            .skip(1)
            .map(|rest| {
                rest.split('"')
                    .next()
                    .unwrap()
                    .split(' ')
                    .map(|point| {
                        let (x, y) = point.split_once(',').unwrap();
                        (x.parse().unwrap(), y.parse().unwrap())
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn the_svg_draws_a_line_per_round_within_its_box() {
        let linear = |step: u64| -> Vec<(f64, u64)> {
            (0..20)
                .map(|i| (f64::from(i) * 0.1, i as u64 * step * MIB))
                .collect()
        };
        let curves = [
            curve(1, linear(1), false),
            curve(2, linear(3), true),
            curve(3, linear(2), false),
        ];
        let svg = throughput_svg(&curves, "bt → bt <1 GiB>");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("bt → bt &lt;1 GiB&gt;"));
        let lines = polylines(&svg);
        assert_eq!(lines.len(), 3);
        for line in &lines {
            assert_eq!(line.len(), 19);
            for &(x, y) in line {
                assert!(
                    (MARGIN..=WIDTH - MARGIN).contains(&x)
                        && (MARGIN..=HEIGHT - MARGIN).contains(&y)
                );
            }
        }
        // Each round has its legend entry; the median round's line is the bold one.
        for round in 1..=3 {
            assert!(svg.contains(&format!(">round {round} &lt;x&gt;</text>")));
        }
        assert_eq!(
            svg.matches("stroke-width=\"2.5\"").count(),
            2,
            "line and legend"
        );
    }

    #[test]
    fn nice_ceilings() {
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(130.0), 200.0);
        assert_eq!(nice_ceiling(700.0), 1000.0);
        assert_eq!(nice_ceiling(2.0), 2.0);
    }
}
