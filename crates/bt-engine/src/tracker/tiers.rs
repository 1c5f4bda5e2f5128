//! The order in which trackers are asked (BEP 12 `announce-list`).
//!
//! BEP 12: each tier is shuffled once when the torrent starts; an announce tries the trackers of
//! the first tier in order, then those of the next tier, and so on; a tracker that answers moves
//! to the front of its tier, so it is asked first next time. Each round starts again from the
//! first tier, so a recovered primary tracker is used again.

use rand::Rng;
use rand::seq::SliceRandom;

/// Trackers in BEP 12 order, with a cursor on the one to ask next.
///
/// Trackers are identified by their URL as written in the torrent; nothing here parses it, so
/// an unusable URL simply fails when announced to and the cursor moves on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierList {
    /// Non-empty tiers, each without duplicates, in announce order.
    tiers: Vec<Vec<String>>,
    /// `(tier, index)` of the tracker to ask next.
    cursor: (usize, usize),
}

impl TierList {
    /// Builds the list from `Metainfo::tracker_tiers()`, shuffling each tier with `rng` (seeded
    /// in tests). Empty URLs, empty tiers, and URLs already listed earlier are dropped.
    pub fn new<R: Rng + ?Sized>(tiers: Vec<Vec<String>>, rng: &mut R) -> Self {
        let mut seen = std::collections::HashSet::new();
        let tiers = tiers
            .into_iter()
            .map(|tier| {
                let mut tier: Vec<String> = tier
                    .into_iter()
                    .filter(|url| !url.is_empty() && seen.insert(url.clone()))
                    .collect();
                tier.shuffle(rng);
                tier
            })
            .filter(|tier| !tier.is_empty())
            .collect();
        Self {
            tiers,
            cursor: (0, 0),
        }
    }

    /// Whether there is no tracker at all (a trackerless torrent).
    pub fn is_empty(&self) -> bool {
        self.tiers.is_empty()
    }

    /// The tiers in their current order.
    pub fn tiers(&self) -> &[Vec<String>] {
        &self.tiers
    }

    /// The tracker to ask next, `None` only when the list is empty.
    pub fn current(&self) -> Option<&str> {
        let (tier, index) = self.cursor;
        self.tiers.get(tier)?.get(index).map(String::as_str)
    }

    /// `url` answered: it moves to the front of its tier, and the next round starts again
    /// from the first tracker of the first tier.
    pub fn on_success(&mut self, url: &str) {
        for tier in &mut self.tiers {
            if let Some(at) = tier.iter().position(|t| t == url) {
                tier[..=at].rotate_right(1);
                break;
            }
        }
        self.cursor = (0, 0);
    }

    /// `url` failed: returns the next tracker to try in this round, or `None` when every
    /// tracker failed (the cursor then goes back to the start for the next round, after the
    /// caller's back-off).
    ///
    /// A report about a tracker other than the current one (a stale answer) changes nothing
    /// and returns the current tracker.
    pub fn on_failure(&mut self, url: &str) -> Option<&str> {
        if self.current() != Some(url) {
            return self.current();
        }
        let (tier, index) = self.cursor;
        let tier_len = self.tiers.get(tier).map_or(0, Vec::len);
        self.cursor = if index + 1 < tier_len {
            (tier, index + 1)
        } else {
            (tier + 1, 0)
        };
        if self.cursor.0 >= self.tiers.len() {
            self.cursor = (0, 0);
            return None;
        }
        self.current()
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn list(tiers: &[&[&str]]) -> TierList {
        let tiers = tiers
            .iter()
            .map(|t| t.iter().map(|u| u.to_string()).collect())
            .collect();
        // Shuffling is tested separately; an unshuffled list keeps these tests readable.
        let mut list = TierList::new(tiers, &mut StdRng::seed_from_u64(0));
        for tier in &mut list.tiers {
            tier.sort();
        }
        list
    }

    #[test]
    fn trackers_are_tried_in_order_tier_by_tier() {
        let mut l = list(&[&["a1", "a2"], &["b1"]]);
        assert_eq!(l.current(), Some("a1"));
        assert_eq!(l.on_failure("a1"), Some("a2"));
        assert_eq!(l.on_failure("a2"), Some("b1"));
        assert_eq!(l.on_failure("b1"), None);
        // The next round starts at the top again.
        assert_eq!(l.current(), Some("a1"));
    }

    #[test]
    fn a_tracker_that_answers_moves_to_the_front_of_its_tier() {
        let mut l = list(&[&["a1", "a2", "a3"], &["b1", "b2"]]);
        l.on_failure("a1");
        l.on_failure("a2");
        assert_eq!(l.current(), Some("a3"));
        l.on_success("a3");
        assert_eq!(l.tiers()[0], ["a3", "a1", "a2"]);
        assert_eq!(l.current(), Some("a3"));

        // A lower tier's tracker moves up within its own tier only.
        l.on_failure("a3");
        l.on_failure("a1");
        l.on_failure("a2");
        l.on_failure("b1");
        l.on_success("b2");
        assert_eq!(l.tiers()[0], ["a3", "a1", "a2"]);
        assert_eq!(l.tiers()[1], ["b2", "b1"]);
        assert_eq!(l.current(), Some("a3"));
    }

    #[test]
    fn stale_failures_change_nothing() {
        let mut l = list(&[&["a1", "a2"]]);
        assert_eq!(l.on_failure("a2"), Some("a1"));
        assert_eq!(l.on_failure("zz"), Some("a1"));
        assert_eq!(l.current(), Some("a1"));
    }

    #[test]
    fn empty_and_duplicate_entries_are_dropped() {
        let l = list(&[&[], &["", "a"], &["a", "b"]]);
        assert_eq!(l.tiers(), [vec!["a".to_string()], vec!["b".to_string()]]);
        let mut empty = list(&[]);
        assert!(empty.is_empty());
        assert_eq!(empty.current(), None);
        assert_eq!(empty.on_failure("a"), None);
    }

    #[test]
    fn each_tier_is_shuffled_with_the_given_rng() {
        let tier: Vec<String> = (0..16).map(|i| format!("t{i}")).collect();
        let seeded = |seed| TierList::new(vec![tier.clone()], &mut StdRng::seed_from_u64(seed));
        assert_eq!(seeded(7), seeded(7), "same seed, same order");
        let orders: std::collections::HashSet<_> =
            (0..8).map(|seed| seeded(seed).tiers()[0].clone()).collect();
        assert!(
            orders.len() > 1,
            "shuffling changed nothing over eight seeds"
        );
        let mut sorted = seeded(3).tiers()[0].clone();
        sorted.sort();
        let mut expected = tier.clone();
        expected.sort();
        assert_eq!(sorted, expected, "shuffling lost or added trackers");
    }
}
