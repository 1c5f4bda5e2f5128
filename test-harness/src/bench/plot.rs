//! Throughput over time for case 1: rates from the sampled bytes on disk, as a CSV and as a
//! small SVG line chart (written by hand: a polyline and two axes need no plotting crate).

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

/// The samples and their rates as CSV: `seconds,bytes_on_disk,mib_per_s` (the rate over the
/// window ending at that sample, empty between windows).
pub fn samples_csv(samples: &[(f64, u64)]) -> String {
    let rates = rates(samples);
    let mut out = String::from("seconds,bytes_on_disk,mib_per_s\n");
    for &(t, bytes) in samples {
        let rate = rates
            .iter()
            .find(|(rt, _)| (rt - t).abs() < 1e-9)
            .map(|(_, r)| format!("{r:.1}"))
            .unwrap_or_default();
        let _ = writeln!(out, "{t:.3},{bytes},{rate}");
    }
    out
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 360.0;
const MARGIN: f64 = 56.0;

/// An SVG line chart of MiB/s over seconds, titled `title`.
pub fn throughput_svg(samples: &[(f64, u64)], title: &str) -> String {
    let points = rates(samples);
    let max_t = points.iter().map(|p| p.0).fold(0.1, f64::max);
    let max_rate = nice_ceiling(points.iter().map(|p| p.1).fold(1.0, f64::max));
    let x = |t: f64| MARGIN + t / max_t * (WIDTH - 2.0 * MARGIN);
    let y = |r: f64| HEIGHT - MARGIN - r / max_rate * (HEIGHT - 2.0 * MARGIN);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"14\">{}</text>\n",
        WIDTH / 2.0,
        escape(title)
    );
    // Axes, with five ticks each.
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
    let line: Vec<String> = points
        .iter()
        .map(|&(t, r)| format!("{:.1},{:.1}", x(t), y(r)))
        .collect();
    let _ = writeln!(
        svg,
        "<polyline points=\"{}\" stroke=\"#1f77b4\" stroke-width=\"2\" fill=\"none\"/>\n</svg>",
        line.join(" ")
    );
    svg
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

    #[test]
    fn the_csv_has_a_line_per_sample() {
        let csv = samples_csv(&[(0.0, 0), (0.1, MIB), (0.15, 2 * MIB)]);
        assert_eq!(
            csv.lines().collect::<Vec<_>>(),
            [
                "seconds,bytes_on_disk,mib_per_s",
                "0.000,0,",
                "0.100,1048576,10.0",
                "0.150,2097152,"
            ]
        );
    }

    #[test]
    fn the_svg_draws_one_line_within_its_box() {
        let samples: Vec<(f64, u64)> = (0..20)
            .map(|i| (f64::from(i) * 0.1, i as u64 * MIB))
            .collect();
        let svg = throughput_svg(&samples, "bt → bt <1 GiB>");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("bt → bt &lt;1 GiB&gt;"));
        let points = svg
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(points.split(' ').count(), 19);
        for point in points.split(' ') {
            let (x, y) = point.split_once(',').unwrap();
            let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
            assert!(
                (MARGIN..=WIDTH - MARGIN).contains(&x) && (MARGIN..=HEIGHT - MARGIN).contains(&y)
            );
        }
    }

    #[test]
    fn nice_ceilings() {
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(130.0), 200.0);
        assert_eq!(nice_ceiling(700.0), 1000.0);
        assert_eq!(nice_ceiling(2.0), 2.0);
    }
}
