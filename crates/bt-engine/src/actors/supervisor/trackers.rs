//! The supervisor's view of the torrent's trackers: how each one's last announce went, for
//! [`TorrentStats::trackers`](crate::TorrentStats::trackers) and the
//! [`TorrentEvent::Tracker`] events; a magnet link's metadata fetcher books its trackers the
//! same way.

use tracing::{Span, info, warn};

use super::TorrentSupervisor;
use super::msg::{TrackerStatus, TrackerStatusChanged};
use crate::torrent::{TorrentEvent, TrackerHealth, TrackerInfo};
use crate::tracker::TrackerError;

/// The torrent's trackers in announce-list order, each once, none contacted yet.
pub(crate) fn initial(tiers: Vec<Vec<String>>) -> Vec<TrackerInfo> {
    let mut trackers: Vec<TrackerInfo> = Vec::new();
    for url in tiers.into_iter().flatten() {
        if !url.is_empty() && trackers.iter().all(|t| t.url != url) {
            trackers.push(TrackerInfo {
                url,
                status: TrackerHealth::NotContacted,
            });
        }
    }
    trackers
}

/// What an announcer report means for the user.
fn health(status: TrackerStatus) -> TrackerHealth {
    match status {
        TrackerStatus::Working {
            seeders,
            leechers,
            peers,
            warning,
            next_announce: _,
        } => TrackerHealth::Working {
            peers,
            seeders,
            leechers,
            warning,
        },
        TrackerStatus::Failed { error, retry_in } => TrackerHealth::Failing {
            refused: matches!(error, TrackerError::Failure(_)),
            error: with_causes(&error),
            retry_in,
        },
        TrackerStatus::Unusable { error } => TrackerHealth::Unusable {
            error: error.to_string(),
        },
    }
}

/// Books an announcer report in `trackers` (logging what the user should hear of) and
/// returns the news for the subscribers. Shared with a magnet link's metadata fetcher.
pub(crate) fn record(
    trackers: &mut Vec<TrackerInfo>,
    msg: TrackerStatusChanged,
    span: &Span,
) -> TrackerInfo {
    let status = health(msg.status);
    match &status {
        TrackerHealth::Working {
            warning: Some(warning),
            ..
        } => warn!(parent: span, tracker = %msg.tracker, %warning, "tracker warning"),
        TrackerHealth::Unusable { error } => {
            warn!(parent: span, tracker = %msg.tracker, %error, "tracker unusable");
        }
        _ => {}
    }
    let info = TrackerInfo {
        url: msg.tracker,
        status,
    };
    match trackers.iter_mut().find(|t| t.url == info.url) {
        Some(known) => *known = info.clone(),
        None => trackers.push(info.clone()),
    }
    let unusable = |t: &TrackerInfo| matches!(t.status, TrackerHealth::Unusable { .. });
    if !trackers.is_empty() && trackers.iter().all(unusable) {
        info!(
            parent: span,
            "no usable tracker: only peers that connect to us can be found"
        );
    }
    info
}

/// The error and its causes on one line: "cannot reach tracker at a:1: connection refused", so
/// a user sees why, not only what.
fn with_causes(error: &TrackerError) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

impl TorrentSupervisor {
    /// Books an announcer report and tells the subscribers.
    pub(super) fn tracker_status(&mut self, msg: TrackerStatusChanged) {
        let info = record(&mut self.trackers, msg, &self.span);
        self.emit(TorrentEvent::Tracker(info));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_tracker_names_the_cause() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let status = TrackerStatus::Failed {
            error: TrackerError::Connect {
                addr: "a:1".to_owned(),
                source: refused,
            },
            retry_in: None,
        };
        let TrackerHealth::Failing { error, refused, .. } = health(status) else {
            panic!("not failing");
        };
        assert_eq!(error, "cannot reach tracker at a:1: connection refused");
        assert!(!refused);
    }

    #[test]
    fn trackers_are_listed_once_in_tier_order() {
        let tiers = vec![
            vec!["udp://a".to_owned(), "http://b".to_owned()],
            vec![String::new(), "udp://a".to_owned(), "https://c".to_owned()],
        ];
        let urls: Vec<String> = initial(tiers).into_iter().map(|t| t.url).collect();
        assert_eq!(urls, ["udp://a", "http://b", "https://c"]);
    }
}
