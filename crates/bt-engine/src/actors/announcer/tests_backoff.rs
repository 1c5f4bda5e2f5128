//! The announcer's timing when trackers fail: back-off per failed round, its reset when a
//! tracker answers, and trackers that cannot be used at all (the pure schedule has its own
//! tests in `tracker::schedule`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bt_proto::tracker::AnnounceEvent;
use tokio::sync::mpsc::UnboundedReceiver;

use super::AnnouncerConfig;
use super::tests::{
    answer, closed_port_url, config, shutdown, simple_tracker_reply, start, start_with,
};
use crate::actors::supervisor::msg::{TrackerStatus, TrackerStatusChanged};
use crate::tracker::TrackerError;
use crate::tracker::test_support::{announce_tracker, recv};

const MS: Duration = Duration::from_millis(1);

/// Back-off from 20 ms, capped at 100 ms; intervals and min intervals floored at 50 ms.
fn fast_backoff() -> AnnouncerConfig {
    let mut config = config();
    config.schedule.backoff_base = 20 * MS;
    config.schedule.backoff_cap = 100 * MS;
    config
}

/// The `retry_in` of the next status, which must be a failure.
async fn next_retry(status: &mut UnboundedReceiver<TrackerStatusChanged>) -> Option<Duration> {
    match recv(status).await.status {
        TrackerStatus::Failed { retry_in, .. } => retry_in,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[actix::test]
async fn failed_rounds_back_off_exponentially_up_to_the_cap() {
    let mut h = start_with(vec![vec![closed_port_url().await]], fast_backoff());
    let mut retries = Vec::new();
    for _ in 0..6 {
        retries.push(next_retry(&mut h.status).await);
    }
    let expected = [20, 40, 80, 100, 100, 100].map(|ms| Some(ms * MS));
    assert_eq!(retries, expected);
    shutdown(&h.addr).await;
}

#[actix::test]
async fn an_answer_resets_the_back_off_and_sets_the_next_announce() {
    // Fails the first two announces and the fourth; answers the third with interval 0 and
    // min interval 0, both raised to the 50 ms floor.
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let (url, mut requests) = announce_tracker(move |_| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        (n == 2).then(|| answer(0, Some(0), vec![]))
    })
    .await;
    let mut h = start_with(vec![vec![url.to_string()]], fast_backoff());
    assert_eq!(next_retry(&mut h.status).await, Some(20 * MS));
    assert_eq!(next_retry(&mut h.status).await, Some(40 * MS));
    let answered = recv(&mut h.status).await.status;
    let TrackerStatus::Working { next_announce, .. } = answered else {
        panic!("expected an answer, got {answered:?}");
    };
    assert_eq!(next_announce, 50 * MS, "the interval, floored");
    assert_eq!(
        next_retry(&mut h.status).await,
        Some(20 * MS),
        "the back-off starts over after an answer"
    );
    // The tracker never accepted `started` before its answer; after it, regular announces.
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(recv(&mut requests).await.event);
    }
    assert_eq!(
        seen,
        [
            AnnounceEvent::Started,
            AnnounceEvent::Started,
            AnnounceEvent::Started,
            AnnounceEvent::None
        ]
    );
    shutdown(&h.addr).await;
}

#[actix::test]
async fn unusable_trackers_are_reported_once_and_never_announced_to() {
    let (url, mut requests) = announce_tracker(simple_tracker_reply).await;
    let https = "https://tracker.example/announce".to_owned();
    let garbage = "not a url".to_owned();
    let mut h = start(vec![
        vec![https.clone()],
        vec![garbage.clone(), url.to_string()],
    ]);
    let first = recv(&mut h.status).await;
    assert_eq!(first.tracker, https);
    assert!(
        matches!(&first.status, TrackerStatus::Unusable { error: TrackerError::UnsupportedScheme(s) } if s == "https"),
        "{:?}",
        first.status
    );
    let second = recv(&mut h.status).await;
    assert_eq!(second.tracker, garbage);
    assert!(matches!(
        second.status,
        TrackerStatus::Unusable {
            error: TrackerError::BadUrl(_)
        }
    ));
    // The usable tracker is the first asked, and every status after is about it.
    assert_eq!(recv(&mut requests).await.event, AnnounceEvent::Started);
    let third = recv(&mut h.status).await;
    assert_eq!(third.tracker, url.to_string());
    assert!(matches!(third.status, TrackerStatus::Working { .. }));
    shutdown(&h.addr).await;
}

#[actix::test]
async fn a_torrent_with_only_an_https_tracker_says_so_and_idles() {
    let https = "https://tracker.example/announce".to_owned();
    let mut h = start(vec![vec![https.clone()]]);
    let report = recv(&mut h.status).await;
    assert_eq!(report.tracker, https);
    assert!(matches!(
        report.status,
        TrackerStatus::Unusable {
            error: TrackerError::UnsupportedScheme(_)
        }
    ));
    // Nothing is retried: no further report comes.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(h.status.try_recv().is_err());
    shutdown(&h.addr).await;
}
