//! The announcer against in-test HTTP trackers, with stub recipients collecting its events.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix::{Actor, Addr, Handler, Message};
use bt_proto::tracker::http::encode_announce_response;
use bt_proto::tracker::{AnnounceEvent, AnnounceRequest, AnnounceResponse, TrackerPeer};
use bt_proto::types::{InfoHash, PeerId};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::msg::{AnnounceNow, Shutdown, UpdateProgress, WantMorePeers};
use super::{Announcer, AnnouncerConfig, AnnouncerSetup, Progress};
use crate::actors::supervisor::msg::{
    PeerSource, PeersDiscovered, TrackerStatus, TrackerStatusChanged,
};
use crate::tracker::test_support::{
    TEST_TIMEOUT, announce_tracker, http_server, ok_response, recv,
};
use crate::tracker::{HttpConfig, ScheduleConfig, TrackerError, TransportConfig};

pub(super) const OUR_ID: PeerId = PeerId([0xaa; 20]);
pub(super) const OUR_PORT: u16 = 40_000;
pub(super) const HASH: InfoHash = InfoHash([0x11; 20]);

/// A stub recipient: forwards every message to a channel.
struct Collector<M: Message<Result = ()> + Send> {
    tx: UnboundedSender<M>,
}

impl<M: Message<Result = ()> + Send + 'static> Actor for Collector<M> {
    type Context = actix::Context<Self>;
}

impl<M: Message<Result = ()> + Send + 'static> Handler<M> for Collector<M> {
    type Result = ();

    fn handle(&mut self, msg: M, _ctx: &mut Self::Context) {
        let _ = self.tx.send(msg);
    }
}

fn collector<M: Message<Result = ()> + Send + 'static>()
-> (actix::Recipient<M>, UnboundedReceiver<M>) {
    let (tx, rx) = unbounded_channel();
    (Collector { tx }.start().recipient(), rx)
}

pub(super) struct Harness {
    pub(super) addr: Addr<Announcer>,
    pub(super) peers: UnboundedReceiver<PeersDiscovered>,
    pub(super) status: UnboundedReceiver<TrackerStatusChanged>,
}

pub(super) fn config() -> AnnouncerConfig {
    AnnouncerConfig {
        numwant: 50,
        transport: TransportConfig {
            http: HttpConfig {
                connect_timeout: Duration::from_secs(1),
                request_timeout: Duration::from_secs(1),
                max_redirects: 3,
            },
            ..Default::default()
        },
        schedule: ScheduleConfig {
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_secs(1),
            interval_floor: Duration::from_millis(50),
            interval_cap: Duration::from_secs(10),
            default_min_interval: Duration::from_millis(50),
        },
        stop_timeout: Duration::from_millis(300),
    }
}

pub(super) fn start(tiers: Vec<Vec<String>>) -> Harness {
    start_with(tiers, config())
}

pub(super) fn start_with(tiers: Vec<Vec<String>>, config: AnnouncerConfig) -> Harness {
    let (peers_out, peers) = collector();
    let (status_out, status) = collector();
    let addr = Announcer::new(AnnouncerSetup {
        info_hash: HASH,
        peer_id: OUR_ID,
        listen_port: OUR_PORT,
        own_ips: vec!["192.0.2.7".parse().unwrap()],
        tiers,
        progress: Progress {
            uploaded: 0,
            downloaded: 0,
            left: 1000,
        },
        config,
        peers_out,
        status_out,
        span: tracing::Span::none(),
    })
    .start();
    Harness {
        addr,
        peers,
        status,
    }
}

pub(super) fn peer(addr: &str, id: Option<PeerId>) -> TrackerPeer {
    TrackerPeer {
        addr: addr.parse().unwrap(),
        peer_id: id,
    }
}

/// A bencoded answer; dictionary peers (not compact) so that peer ids travel.
pub(super) fn answer(interval: u32, min_interval: Option<u32>, peers: Vec<TrackerPeer>) -> Vec<u8> {
    let resp = AnnounceResponse {
        interval,
        min_interval,
        complete: Some(3),
        incomplete: Some(4),
        peers,
        ..Default::default()
    };
    encode_announce_response(&resp, false)
}

pub(super) fn simple_tracker_reply(_: &AnnounceRequest) -> Option<Vec<u8>> {
    Some(answer(1800, None, vec![peer("10.0.0.1:1000", None)]))
}

#[actix::test]
async fn started_first_with_our_numbers_and_peers_without_ourselves() {
    let (url, mut requests) = announce_tracker(|_| {
        Some(answer(
            1800,
            None,
            vec![
                peer("10.0.0.1:1000", Some(PeerId([1; 20]))),
                peer(&format!("127.0.0.1:{OUR_PORT}"), None),
                peer(&format!("192.0.2.7:{OUR_PORT}"), None),
                peer("10.0.0.2:2000", Some(OUR_ID)),
                peer("10.0.0.1:1000", None),
                peer("10.0.0.3:0", None),
                peer("10.0.0.3:3000", None),
            ],
        ))
    })
    .await;
    let mut h = start(vec![vec![url.to_string()]]);
    let req = recv(&mut requests).await;
    assert_eq!(req.event, AnnounceEvent::Started);
    assert_eq!(
        (req.info_hash, req.peer_id, req.port),
        (HASH, OUR_ID, OUR_PORT)
    );
    assert_eq!((req.uploaded, req.downloaded, req.left), (0, 0, 1000));
    assert_eq!(req.numwant, Some(50));
    assert!(req.compact);

    let found = recv(&mut h.peers).await;
    let expected: Vec<SocketAddr> = vec![
        "10.0.0.1:1000".parse().unwrap(),
        "10.0.0.3:3000".parse().unwrap(),
    ];
    assert_eq!(found.peers, expected);
    assert_eq!(found.source, PeerSource::Tracker(url.to_string()));
    let status = recv(&mut h.status).await;
    assert!(matches!(
        status.status,
        TrackerStatus::Working {
            peers: 2,
            seeders: Some(3),
            leechers: Some(4),
            ..
        }
    ));
    shutdown(&h.addr).await;
}

#[actix::test]
async fn failure_moves_to_the_next_tier_then_backs_off_and_retries() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    // Fails the first announce (HTTP 500), answers the later ones.
    let (flaky, mut requests) = announce_tracker(move |req| {
        let first = counter.fetch_add(1, Ordering::SeqCst) == 0;
        if first {
            None
        } else {
            simple_tracker_reply(req)
        }
    })
    .await;
    let dead = closed_port_url().await;
    let mut h = start(vec![vec![dead.clone()], vec![flaky.to_string()]]);

    // Round one: nothing listens at the first tracker, the next tier's tracker answers 500.
    let first = recv(&mut h.status).await;
    assert_eq!(first.tracker, dead);
    assert!(matches!(
        first.status,
        TrackerStatus::Failed {
            error: TrackerError::Connect { .. },
            retry_in: None
        }
    ));
    let second = recv(&mut h.status).await;
    assert_eq!(second.tracker, flaky.to_string());
    let TrackerStatus::Failed { error, retry_in } = second.status else {
        panic!("expected a failure, got {:?}", second.status);
    };
    assert!(matches!(error, TrackerError::HttpStatus(500)));
    assert_eq!(retry_in, Some(Duration::from_millis(100)));
    let failed_at = std::time::Instant::now();
    assert_eq!(recv(&mut requests).await.event, AnnounceEvent::Started);

    // Round two, after the back-off: BEP 12 starts from the first tier again.
    assert_eq!(recv(&mut h.status).await.tracker, dead);
    let answered = recv(&mut h.status).await;
    assert!(failed_at.elapsed() >= Duration::from_millis(90));
    assert_eq!(answered.tracker, flaky.to_string());
    assert!(matches!(answered.status, TrackerStatus::Working { .. }));
    assert_eq!(recv(&mut requests).await.event, AnnounceEvent::Started);
    let found = recv(&mut h.peers).await;
    assert_eq!(found.source, PeerSource::Tracker(flaky.to_string()));
    shutdown(&h.addr).await;
}

#[actix::test]
async fn completed_when_asked_with_fresh_numbers() {
    let (url, mut requests) = announce_tracker(simple_tracker_reply).await;
    let h = start(vec![vec![url.to_string()]]);
    assert_eq!(recv(&mut requests).await.event, AnnounceEvent::Started);
    h.addr.do_send(UpdateProgress {
        uploaded: 5,
        downloaded: 1000,
        left: 0,
    });
    h.addr.do_send(AnnounceNow {
        event: AnnounceEvent::Completed,
    });
    let req = recv(&mut requests).await;
    assert_eq!(req.event, AnnounceEvent::Completed);
    assert_eq!((req.uploaded, req.downloaded, req.left), (5, 1000, 0));
    shutdown(&h.addr).await;
}

#[actix::test]
async fn stopped_on_shutdown_then_the_actor_stops() {
    let (url, mut requests) = announce_tracker(simple_tracker_reply).await;
    let mut h = start(vec![vec![url.to_string()]]);
    assert_eq!(recv(&mut requests).await.event, AnnounceEvent::Started);
    recv(&mut h.status).await;
    shutdown(&h.addr).await;
    let req = recv(&mut requests).await;
    assert_eq!(req.event, AnnounceEvent::Stopped);
    assert_eq!(req.numwant, Some(0));
    assert!(
        !h.addr.connected(),
        "the announcer still runs after Shutdown"
    );
}

/// A tracker that got our `started` but has not answered yet may count us: a shutdown then
/// tells it `stopped` too.
#[actix::test]
async fn shutdown_during_the_first_announce_still_says_stopped() {
    let (tx, mut heads) = tokio::sync::mpsc::unbounded_channel();
    let addr = http_server(move |head| {
        let _ = tx.send(head.to_owned());
        // Never answers `started`; answers `stopped`.
        head.contains("event=stopped")
            .then(|| ok_response(&answer(1800, None, vec![])))
    })
    .await;
    let h = start(vec![vec![format!("http://{addr}/announce")]]);
    assert!(recv(&mut heads).await.contains("event=started"));
    shutdown(&h.addr).await;
    assert!(recv(&mut heads).await.contains("event=stopped"));
}

#[actix::test]
async fn shutdown_does_not_wait_long_for_a_silent_tracker() {
    let addr = http_server(|head| {
        (!head.contains("event=stopped")).then(|| ok_response(&answer(1800, None, vec![])))
    })
    .await;
    let mut h = start(vec![vec![format!("http://{addr}/announce")]]);
    recv(&mut h.status).await;
    let started = std::time::Instant::now();
    shutdown(&h.addr).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "stop_timeout is 300 ms"
    );
}

#[actix::test]
async fn want_more_peers_announces_early() {
    // interval 1800 s is capped at 10 s; min interval 0 becomes the 50 ms floor.
    let (url, mut requests) =
        announce_tracker(|_| Some(answer(1800, Some(0), vec![peer("10.0.0.9:9", None)]))).await;
    let h = start(vec![vec![url.to_string()]]);
    assert_eq!(recv(&mut requests).await.event, AnnounceEvent::Started);
    tokio::time::sleep(Duration::from_millis(20)).await;
    h.addr.do_send(WantMorePeers);
    let req = recv(&mut requests).await;
    assert_eq!(req.event, AnnounceEvent::None);
    shutdown(&h.addr).await;
}

#[actix::test]
async fn regular_announces_follow_the_interval() {
    // interval 0 is raised to the 50 ms floor rather than spinning.
    let (url, mut requests) = announce_tracker(|_| Some(answer(0, None, vec![]))).await;
    let h = start(vec![vec![url.to_string()]]);
    assert_eq!(recv(&mut requests).await.event, AnnounceEvent::Started);
    let started = std::time::Instant::now();
    assert_eq!(recv(&mut requests).await.event, AnnounceEvent::None);
    assert!(started.elapsed() >= Duration::from_millis(40));
    shutdown(&h.addr).await;
}

#[actix::test]
async fn a_trackerless_torrent_idles_and_shuts_down() {
    let mut h = start(vec![]);
    h.addr.do_send(WantMorePeers);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(h.status.try_recv().is_err());
    shutdown(&h.addr).await;
}

pub(super) async fn shutdown(addr: &Addr<Announcer>) {
    tokio::time::timeout(TEST_TIMEOUT, addr.send(Shutdown))
        .await
        .expect("Shutdown timed out")
        .expect("the announcer dropped Shutdown");
    // The actor stops right after answering; give its context one turn to finish.
    for _ in 0..100 {
        if !addr.connected() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the announcer did not stop after Shutdown");
}

/// A detached announcer (a magnet link's, once the supervisor takes over) stops without
/// telling the trackers it left.
#[actix::test]
async fn detach_stops_without_announcing_stopped() {
    let (tx, mut heads) = tokio::sync::mpsc::unbounded_channel();
    let addr = http_server(move |head| {
        let _ = tx.send(head.to_owned());
        Some(ok_response(&answer(1800, None, vec![])))
    })
    .await;
    let h = start(vec![vec![format!("http://{addr}/announce")]]);
    assert!(recv(&mut heads).await.contains("event=started"));
    h.addr.do_send(super::msg::Detach);
    for _ in 0..100 {
        if !h.addr.connected() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!h.addr.connected(), "the announcer stopped");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(heads.try_recv().is_err(), "no stopped");
}

/// An `http://` announce URL on a loopback port nothing listens on (bound, then closed):
/// connecting fails at once.
pub(super) async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/announce")
}
