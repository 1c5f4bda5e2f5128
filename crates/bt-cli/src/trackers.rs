//! What a person is told about a torrent's trackers: one line when a tracker starts failing
//! (or is found unusable), one when it answers again, nothing while it keeps failing; the
//! seeder count for the progress display; and whether every tracker refused us, which ends a
//! download that has no other way to find peers.
//!
//! The news comes as [`TrackerHealth`] values, from `TorrentEvent::Tracker` events and from the
//! `trackers` of each statistics snapshot (which also holds what happened before the runner
//! subscribed); seeing the same health twice is never news.

use std::collections::HashMap;

use bt_engine::TrackerHealth;

use crate::format;

/// A tracker's latest health, as far as the user is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Latest {
    Working { seeders: Option<u32> },
    Failing { error: String, refused: bool },
    Unusable,
}

/// What is known of one torrent's trackers; see the module docs.
#[derive(Debug, Clone)]
pub struct TrackerNews {
    /// The distinct trackers the torrent names.
    named: usize,
    /// Whether the DHT can find peers for the torrent (the session runs a node and the
    /// torrent is not private): then no tracker trouble is fatal.
    dht: bool,
    latest: HashMap<String, Latest>,
}

impl TrackerNews {
    /// News for a torrent naming `named` distinct trackers; `dht` as in the field.
    pub fn new(named: usize, dht: bool) -> Self {
        Self {
            named,
            dht,
            latest: HashMap::new(),
        }
    }

    /// Sets whether the DHT can find peers: a magnet link's torrent turns out private (BEP
    /// 27) only once its metadata arrives.
    pub fn set_dht(&mut self, dht: bool) {
        self.dht = dht;
    }

    /// What to tell before any tracker news: that a torrent naming no tracker can find peers
    /// only through the DHT, when the DHT is off.
    pub fn opening(&self) -> Option<&'static str> {
        (self.named == 0 && !self.dht)
            .then_some("the torrent names no tracker: pass --dht to find peers through the DHT")
    }

    /// Takes in `url`'s latest health; returns the line to show when it is news.
    pub fn observe(&mut self, url: &str, health: &TrackerHealth) -> Option<String> {
        let (latest, line) = match health {
            TrackerHealth::NotContacted => return None,
            TrackerHealth::Working { seeders, .. } => {
                let was_failing = matches!(self.latest.get(url), Some(Latest::Failing { .. }));
                let line = was_failing.then(|| format!("{url}: answering again"));
                (Latest::Working { seeders: *seeders }, line)
            }
            TrackerHealth::Failing {
                error,
                retry_in,
                refused,
            } => {
                let was_failing = matches!(self.latest.get(url), Some(Latest::Failing { .. }));
                let line = match (was_failing, refused, retry_in) {
                    (true, _, _) => None,
                    (false, true, _) => Some(format!("{url}: {error}")),
                    (false, false, Some(wait)) => Some(format!(
                        "{url}: {error}; retrying in {}, then less often",
                        format::duration(*wait)
                    )),
                    (false, false, None) => {
                        Some(format!("{url}: {error}; trying the other trackers"))
                    }
                };
                let latest = Latest::Failing {
                    error: error.clone(),
                    refused: *refused,
                };
                (latest, line)
            }
            TrackerHealth::Unusable { error } => {
                if self.latest.get(url) == Some(&Latest::Unusable) {
                    return None;
                }
                (Latest::Unusable, Some(format!("{url}: {error}; skipped")))
            }
        };
        self.latest.insert(url.to_owned(), latest);
        let line = line?;
        if self.all_unusable() && !self.dht {
            return Some(format!(
                "{line}; no usable tracker is left: pass --dht to find peers through the DHT"
            ));
        }
        Some(line)
    }

    /// The most seeders any tracker counted in its latest answer.
    pub fn seeds(&self) -> Option<u32> {
        self.latest
            .values()
            .filter_map(|latest| match latest {
                Latest::Working { seeders } => *seeders,
                _ => None,
            })
            .max()
    }

    /// Why a download cannot go on: every tracker the torrent names refused us, no peer is
    /// connected, and the DHT cannot help. Unreachable trackers are not fatal: they may come
    /// back.
    pub fn refused(&self, connected_peers: usize) -> Option<String> {
        if self.named == 0 || self.latest.len() < self.named || connected_peers > 0 || self.dht {
            return None;
        }
        let mut reasons = Vec::new();
        for (url, latest) in &self.latest {
            match latest {
                Latest::Failing {
                    error,
                    refused: true,
                } => reasons.push(format!("{url}: {error}")),
                _ => return None,
            }
        }
        reasons.sort();
        Some(reasons.join("; "))
    }

    fn all_unusable(&self) -> bool {
        self.latest.len() >= self.named && self.latest.values().all(|l| *l == Latest::Unusable)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn failing(error: &str, refused: bool) -> TrackerHealth {
        TrackerHealth::Failing {
            error: error.to_owned(),
            retry_in: Some(Duration::from_secs(15)),
            refused,
        }
    }

    fn working(seeders: u32) -> TrackerHealth {
        TrackerHealth::Working {
            peers: 1,
            seeders: Some(seeders),
            leechers: None,
            warning: None,
        }
    }

    #[test]
    fn a_failing_tracker_is_news_once_per_streak_and_again_when_it_answers() {
        let mut news = TrackerNews::new(1, false);
        let down = failing("cannot reach tracker at a:1", false);
        assert_eq!(
            news.observe("http://a:1/announce", &down).as_deref(),
            Some(
                "http://a:1/announce: cannot reach tracker at a:1; retrying in 15s, then less often"
            )
        );
        assert_eq!(news.observe("http://a:1/announce", &down), None);
        let timed_out = failing("tracker timed out after 30s", false);
        assert_eq!(news.observe("http://a:1/announce", &timed_out), None);
        assert_eq!(
            news.refused(0),
            None,
            "an unreachable tracker may come back"
        );
        assert_eq!(
            news.observe("http://a:1/announce", &working(3)).as_deref(),
            Some("http://a:1/announce: answering again")
        );
        assert_eq!(news.observe("http://a:1/announce", &working(4)), None);
        assert_eq!(news.seeds(), Some(4));
        assert!(news.observe("http://a:1/announce", &down).is_some());
    }

    #[test]
    fn every_tracker_refusing_is_fatal_unless_a_peer_or_the_dht_helps() {
        let mut news = TrackerNews::new(2, false);
        let banned = failing("tracker refused: banned", true);
        assert_eq!(
            news.observe("http://a/announce", &banned).as_deref(),
            Some("http://a/announce: tracker refused: banned")
        );
        assert_eq!(news.refused(0), None, "the other one has not answered");
        news.observe("udp://b:1", &failing("tracker refused: no", true));
        assert_eq!(
            news.refused(0).as_deref(),
            Some("http://a/announce: tracker refused: banned; udp://b:1: tracker refused: no")
        );
        assert_eq!(news.refused(1), None, "a connected peer");
        let mut with_dht = TrackerNews::new(1, true);
        with_dht.observe("http://a/announce", &banned);
        assert_eq!(with_dht.refused(0), None);
    }

    #[test]
    fn an_unusable_tracker_is_said_once_with_a_hint_when_none_is_left() {
        let https = TrackerHealth::Unusable {
            error: "https trackers are not supported yet".to_owned(),
        };
        let mut news = TrackerNews::new(2, false);
        assert_eq!(
            news.observe("https://a/announce", &https).as_deref(),
            Some("https://a/announce: https trackers are not supported yet; skipped")
        );
        assert_eq!(news.observe("https://a/announce", &https), None);
        let last = news.observe("wss://b", &https).unwrap();
        assert!(
            last.ends_with("no usable tracker is left: pass --dht to find peers through the DHT")
        );
        let mut with_dht = TrackerNews::new(1, true);
        let line = with_dht.observe("https://a/announce", &https).unwrap();
        assert!(!line.contains("--dht"), "{line}");
        assert_eq!(news.refused(0), None);
    }

    #[test]
    fn a_torrent_without_trackers_needs_the_dht() {
        assert!(
            TrackerNews::new(0, false)
                .opening()
                .unwrap()
                .contains("--dht")
        );
        assert_eq!(TrackerNews::new(0, true).opening(), None);
        assert_eq!(TrackerNews::new(1, false).opening(), None);
        assert_eq!(TrackerNews::new(0, false).refused(0), None);
    }

    #[test]
    fn not_contacted_is_no_news() {
        let mut news = TrackerNews::new(1, false);
        assert_eq!(news.observe("http://a", &TrackerHealth::NotContacted), None);
        assert_eq!(news.seeds(), None);
    }
}
