//! [`pooled_table`]: free riders against contributors over the repetitions of each run (the
//! same choker and piece order under several seeds). One run has a handful of free riders,
//! too few to tell a modest penalty from the noise of a shared machine; pooled, the places
//! they finished in can be tested against chance.

use std::fmt::Write as _;

use super::{PeerClass, RunResult};

/// Free riders against contributors in every repetition of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct PooledFreeRiders {
    /// The run's name.
    pub name: String,
    /// Its repetitions.
    pub runs: usize,
    /// Free riders over the repetitions in which some leecher completed (in the others the
    /// order of completion says nothing).
    pub free_riders: usize,
    /// Median completion time of the contributing leechers, seconds.
    pub contributors_median: Option<f64>,
    /// Median completion time of the free riders, seconds.
    pub free_riders_median: Option<f64>,
    /// Free riders that finished in the slower half of their run's leechers (one that never
    /// finished counts as last).
    pub slower_half: usize,
    /// The chance of at least `slower_half` free riders in the slower half if their places
    /// were drawn at random (a one-sided sign test); `None` without free riders to count.
    pub p_value: Option<f64>,
}

/// Pools `results` by run name, in the order the names first appear.
pub fn pool_free_riders(results: &[RunResult]) -> Vec<PooledFreeRiders> {
    let mut names: Vec<&str> = Vec::new();
    for result in results {
        if !names.contains(&result.name.as_str()) {
            names.push(&result.name);
        }
    }
    names
        .into_iter()
        .map(|name| {
            let runs: Vec<&RunResult> = results.iter().filter(|r| r.name == name).collect();
            pool(name, &runs)
        })
        .collect()
}

fn pool(name: &str, runs: &[&RunResult]) -> PooledFreeRiders {
    let (mut free, mut contributors) = (Vec::new(), Vec::new());
    let (mut free_riders, mut slower_half) = (0, 0);
    for run in runs {
        let (f, c) = run.free_riders_and_contributors();
        if f.is_empty() && c.is_empty() {
            continue;
        }
        free.extend(f);
        contributors.extend(c);
        let leechers = run
            .peers
            .iter()
            .filter(|p| p.class != PeerClass::Seeder)
            .count();
        for place in run.free_rider_ranks() {
            free_riders += 1;
            if 2 * place.unwrap_or(leechers) > leechers {
                slower_half += 1;
            }
        }
    }
    free.sort_by(f64::total_cmp);
    contributors.sort_by(f64::total_cmp);
    let median = |t: &[f64]| (!t.is_empty()).then(|| t[(t.len() - 1) / 2]);
    PooledFreeRiders {
        name: name.to_owned(),
        runs: runs.len(),
        free_riders,
        contributors_median: median(&contributors),
        free_riders_median: median(&free),
        slower_half,
        p_value: (free_riders > 0).then(|| at_least_half_chance(free_riders, slower_half)),
    }
}

/// P(X >= k) for X binomial with `n` trials of one half.
fn at_least_half_chance(n: usize, k: usize) -> f64 {
    // C(n, i) / 2^n, built up term by term to stay within f64 for any lab-sized n.
    let mut term = 0.5f64.powi(i32::try_from(n).unwrap_or(i32::MAX));
    let mut total = 0.0;
    for i in 0..=n {
        if i >= k {
            total += term;
        }
        term = term * (n - i) as f64 / (i + 1) as f64;
    }
    total.min(1.0)
}

/// The pooled comparison as a Markdown table.
pub fn pooled_table(results: &[RunResult]) -> String {
    let mut out = String::new();
    let secs = |s: Option<f64>| s.map(|s| format!("{s:.1}")).unwrap_or_else(|| "-".into());
    let _ = writeln!(
        out,
        "| run | seeds | contributors' median s | free riders' median s | free riders / contributors | free riders in the slower half | chance of as many by luck |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for p in pool_free_riders(results) {
        let ratio = p
            .free_riders_median
            .zip(p.contributors_median)
            .map(|(f, c)| format!("{:.2}", f / c))
            .unwrap_or_else(|| "-".into());
        let (slower, chance) = match p.p_value {
            Some(chance) => (
                format!("{} of {}", p.slower_half, p.free_riders),
                format!("{chance:.3}"),
            ),
            None => ("-".into(), "-".into()),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {ratio} | {slower} | {chance} |",
            p.name,
            p.runs,
            secs(p.contributors_median),
            secs(p.free_riders_median),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::swarm_lab::{Recorder, RunEnd, RunSpec};
    use bt_engine::config::{ChokeStrategySetting, PieceOrderSetting};
    use bt_engine::proto::PeerId;
    use std::time::Duration;

    /// A run of four leechers finishing in `order` (classes), one piece each.
    fn run(order: &[PeerClass]) -> RunResult {
        let mut rec = Recorder::new(1);
        rec.add_peer(PeerClass::Seeder, PeerId([0; 20]), Duration::ZERO);
        for (i, class) in order.iter().enumerate() {
            let index = rec.add_peer(*class, PeerId([i as u8 + 1; 20]), Duration::ZERO);
            rec.piece_verified(index, 0, Duration::from_secs(i as u64 + 1));
        }
        let (peers, samples) = rec.finish();
        let spec = RunSpec::new(ChokeStrategySetting::TitForTat, PieceOrderSetting::Random);
        RunResult {
            name: spec.name(),
            spec,
            peers,
            samples,
            wall: Duration::from_secs(5),
            end: RunEnd::Complete,
            seeder_left: None,
            payload_len: 1,
            capacities: Default::default(),
        }
    }

    #[test]
    fn repetitions_pool_by_name() {
        use PeerClass::{FreeRider, Medium};
        let results = [
            run(&[Medium, Medium, Medium, FreeRider]),
            run(&[Medium, Medium, FreeRider, Medium]),
            run(&[FreeRider, Medium, Medium, Medium]),
        ];
        let pooled = pool_free_riders(&results);
        assert_eq!(pooled.len(), 1);
        let p = &pooled[0];
        assert_eq!((p.runs, p.free_riders, p.slower_half), (3, 3, 2));
        assert!(
            (p.p_value.unwrap() - 0.5).abs() < 1e-12,
            "2 or 3 heads of 3"
        );
        assert_eq!(p.free_riders_median, Some(3.0));
        assert_eq!(p.contributors_median, Some(2.0));
        assert!(pooled_table(&results).contains("| 2 of 3 | 0.500 |"));
    }

    #[test]
    fn a_repetition_where_nobody_completed_says_nothing() {
        let mut nobody = run(&[PeerClass::Medium, PeerClass::FreeRider]);
        for peer in &mut nobody.peers {
            if peer.class != PeerClass::Seeder {
                peer.completed = None;
            }
        }
        let pooled = pool_free_riders(std::slice::from_ref(&nobody));
        assert_eq!((pooled[0].runs, pooled[0].free_riders), (1, 0));
        assert_eq!(pooled[0].p_value, None);
        assert!(pooled_table(&[nobody]).contains("| - | - |"));
    }

    #[test]
    fn the_sign_test_counts_the_tail_of_a_fair_coin() {
        assert!((at_least_half_chance(2, 0) - 1.0).abs() < 1e-12);
        assert!((at_least_half_chance(2, 2) - 0.25).abs() < 1e-12);
        assert!((at_least_half_chance(3, 2) - 0.5).abs() < 1e-12);
        assert!((at_least_half_chance(10, 9) - 11.0 / 1024.0).abs() < 1e-12);
        assert!(at_least_half_chance(100, 80) < 1e-8);
    }
}
