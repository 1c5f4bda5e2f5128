//! The lab's SVG plots (plotters, SVG backend only): completion-time distributions per class,
//! and the rarest piece's copies over time per run.

use std::path::Path;

use plotters::prelude::*;

use super::{PeerClass, RunResult};

/// The colour of a class in every plot.
fn colour(class: PeerClass) -> RGBColor {
    match class {
        PeerClass::Seeder => BLACK,
        PeerClass::Fast => RGBColor(0, 90, 200),
        PeerClass::Medium => RGBColor(0, 150, 60),
        PeerClass::Slow => RGBColor(230, 140, 0),
        PeerClass::FreeRider => RGBColor(210, 0, 0),
    }
}

/// The completion-time distribution of each leecher class in `result` (a CDF: the share of
/// the class complete after so many seconds from each peer's start), written to `path`.
pub fn plot_completion(result: &RunResult, path: &Path) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (760, 440)).into_drawing_area();
    root.fill(&WHITE)?;
    let longest = result
        .peers
        .iter()
        .filter_map(|p| p.completion_secs())
        .fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("completion times per class: {}", result.name),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..longest * 1.05, 0f64..1.0)?;
    chart
        .configure_mesh()
        .x_desc("seconds from the peer's start")
        .y_desc("share of the class complete")
        .draw()?;
    for class in PeerClass::ALL.into_iter().skip(1) {
        let peers: Vec<_> = result.peers.iter().filter(|p| p.class == class).collect();
        if peers.is_empty() {
            continue;
        }
        let mut times: Vec<f64> = peers.iter().filter_map(|p| p.completion_secs()).collect();
        times.sort_by(f64::total_cmp);
        let n = peers.len() as f64;
        let mut points = vec![(0.0, 0.0)];
        for (i, t) in times.iter().enumerate() {
            points.push((*t, i as f64 / n));
            points.push((*t, (i + 1) as f64 / n));
        }
        let style = colour(class);
        chart
            .draw_series(LineSeries::new(points, style.stroke_width(2)))?
            .label(format!("{class} ({})", peers.len()))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// The copies of the rarest piece among the sharers still downloading over time, one line
/// per run, written to `path`.
pub fn plot_rarest(results: &[RunResult], path: &Path) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (760, 440)).into_drawing_area();
    root.fill(&WHITE)?;
    let longest = results
        .iter()
        .flat_map(|r| r.samples.iter().map(|s| s.at.as_secs_f64()))
        .fold(1.0, f64::max);
    let most = results
        .iter()
        .flat_map(|r| r.samples.iter().map(|s| s.rarest_incomplete()))
        .max()
        .unwrap_or(1)
        .max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "copies of the rarest piece among the sharers still downloading",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..longest * 1.02, 0f64..f64::from(most) * 1.05)?;
    chart
        .configure_mesh()
        .x_desc("seconds since the first leecher joined")
        .y_desc("copies of the rarest piece")
        .draw()?;
    for (i, result) in results.iter().enumerate() {
        let style = Palette99::pick(i).to_rgba();
        let points = result
            .samples
            .iter()
            .map(|s| (s.at.as_secs_f64(), f64::from(s.rarest_incomplete())));
        chart
            .draw_series(LineSeries::new(points, style.stroke_width(2)))?
            .label(result.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
