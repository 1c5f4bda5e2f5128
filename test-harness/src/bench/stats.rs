//! How a figure measured over several rounds becomes one cell of the table: the median, with
//! the smallest and largest round beside it. A ratio between two cases is taken within each
//! round first (both sides measured under the same conditions), and only then summarised.

/// The median of a figure's rounds and their range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// The middle round, or the mean of the two middle rounds for an even count.
    pub median: f64,
    /// The smallest round.
    pub min: f64,
    /// The largest round.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`, or `None` when there are none. A NaN (a ratio whose
    /// denominator was zero) sorts above every number.
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let (&min, &max) = (sorted.first()?, sorted.last()?);
        let middle = sorted.len() / 2;
        let median = if sorted.len() % 2 == 1 {
            sorted[middle]
        } else {
            (sorted[middle - 1] + sorted[middle]) / 2.0
        };
        Some(Self { median, min, max })
    }
}

/// The ratio of each round: `numerators[i] / denominators[i]`, as long as the shorter list.
pub fn ratios(numerators: &[f64], denominators: &[f64]) -> Vec<f64> {
    numerators
        .iter()
        .zip(denominators)
        .map(|(n, d)| n / d)
        .collect()
}

/// The index of the round whose figure is the median (the lower middle for an even count),
/// so one representative round can be singled out, e.g. in a plot.
pub fn median_index(values: &[f64]) -> Option<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    order.get(values.len().checked_sub(1)? / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_counts_take_the_middle_round() {
        let spread = Spread::of(&[547.0, 352.0, 412.0, 380.0, 460.0]).unwrap();
        assert_eq!(
            spread,
            Spread {
                median: 412.0,
                min: 352.0,
                max: 547.0
            }
        );
    }

    #[test]
    fn even_counts_average_the_two_middle_rounds() {
        let spread = Spread::of(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(spread.median, 2.5);
        assert_eq!((spread.min, spread.max), (1.0, 4.0));
    }

    #[test]
    fn one_round_is_its_own_median_and_range() {
        let spread = Spread::of(&[7.5]).unwrap();
        assert_eq!((spread.median, spread.min, spread.max), (7.5, 7.5, 7.5));
        assert_eq!(Spread::of(&[]), None);
    }

    #[test]
    fn a_nan_sorts_last_and_leaves_the_median_a_number() {
        let spread = Spread::of(&[1.0, f64::NAN, 2.0]).unwrap();
        assert_eq!(spread.median, 2.0);
        assert_eq!(spread.min, 1.0);
        assert!(spread.max.is_nan());
    }

    #[test]
    fn ratios_pair_the_same_round() {
        // The median of the per-round ratios (1.2) is not the ratio of the medians (400 / 400
        // = 1.0): a slow round slows both sides and cancels out.
        let bt = [480.0, 300.0, 400.0];
        let libtorrent = [400.0, 250.0, 400.0];
        let per_round = ratios(&bt, &libtorrent);
        assert_eq!(per_round, [1.2, 1.2, 1.0]);
        assert_eq!(Spread::of(&per_round).unwrap().median, 1.2);
        assert_eq!(ratios(&[1.0, 2.0], &[2.0]), [0.5]);
    }

    #[test]
    fn the_median_round_is_found_by_its_figure() {
        assert_eq!(median_index(&[30.0, 10.0, 20.0]), Some(2));
        assert_eq!(median_index(&[4.0, 1.0, 3.0, 2.0]), Some(3));
        assert_eq!(median_index(&[5.0]), Some(0));
        assert_eq!(median_index(&[]), None);
    }
}
