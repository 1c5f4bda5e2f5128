//! The UDP client against scripted in-test trackers built on the bt-proto codecs.

use std::net::IpAddr;

use bt_proto::tracker::udp::{self, AddressFamily, Request, Response};
use bt_proto::tracker::{AnnounceEvent, AnnounceRequest};
use bt_proto::types::{InfoHash, PeerId};
use tokio::sync::mpsc;

use super::*;
use crate::tracker::test_support::{TEST_TIMEOUT, recv};

const CONNECTION: u64 = 0xfeed_beef;

fn config() -> UdpConfig {
    UdpConfig {
        resolve_timeout: Duration::from_secs(1),
        retransmit_base: Duration::from_millis(100),
        max_attempts: 3,
        connection_ttl: Duration::from_secs(60),
    }
}

fn request() -> AnnounceRequest {
    AnnounceRequest {
        info_hash: InfoHash([3; 20]),
        peer_id: PeerId([4; 20]),
        port: 6881,
        uploaded: 1,
        downloaded: 2,
        left: 3,
        event: AnnounceEvent::Started,
        numwant: Some(50),
        key: Some(9),
        tracker_id: None,
        compact: true,
    }
}

fn packet(resp: Response, family: AddressFamily) -> Vec<u8> {
    let mut out = Vec::new();
    resp.encode(family, &mut out);
    out
}

/// The ordinary answer to `req`: a connection id, or an announce with `peers`.
fn answer(req: &Request, peers: &[SocketAddr], family: AddressFamily) -> Vec<u8> {
    let resp = match req {
        Request::Connect(c) => Response::Connect(udp::ConnectResponse {
            transaction_id: c.transaction_id,
            connection_id: CONNECTION,
        }),
        Request::Announce(a) => Response::Announce(udp::AnnounceResponse {
            transaction_id: a.transaction_id,
            interval: 1800,
            leechers: 2,
            seeders: 1,
            peers: peers.to_vec(),
        }),
        Request::Scrape(_) => unreachable!("the client does not scrape"),
    };
    packet(resp, family)
}

fn transaction_id(req: &Request) -> u32 {
    match req {
        Request::Connect(c) => c.transaction_id,
        Request::Announce(a) => a.transaction_id,
        Request::Scrape(s) => s.transaction_id,
    }
}

/// A tracker on `bind` that calls `script(index, request)` for each request and sends back the
/// packets it returns (none: the request is dropped). Requests are also reported on a channel.
async fn tracker<F>(bind: &str, mut script: F) -> (Url, mpsc::UnboundedReceiver<Request>)
where
    F: FnMut(usize, &Request) -> Vec<Vec<u8>> + Send + 'static,
{
    let socket = UdpSocket::bind(bind).await.unwrap();
    let addr = socket.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 2048];
        for index in 0.. {
            let Ok((len, from)) = socket.recv_from(&mut buf).await else {
                return;
            };
            let req = Request::decode(&buf[..len]).unwrap();
            for reply in script(index, &req) {
                socket.send_to(&reply, from).await.unwrap();
            }
            let _ = tx.send(req);
        }
    });
    (Url::parse(&format!("udp://{addr}/announce")).unwrap(), rx)
}

async fn run(
    url: &Url,
    cached: Option<ConnectionId>,
) -> Result<(AnnounceResponse, ConnectionId), TrackerError> {
    tokio::time::timeout(TEST_TIMEOUT, announce(url, &request(), cached, &config()))
        .await
        .expect("client exceeded the test timeout")
}

#[tokio::test]
async fn connect_then_announce_then_reuse_the_id() {
    let peers = vec!["10.1.2.3:51413".parse().unwrap()];
    let served = peers.clone();
    let (url, mut rx) = tracker("127.0.0.1:0", move |_, req| {
        vec![answer(req, &served, AddressFamily::V4)]
    })
    .await;
    let (resp, conn) = run(&url, None).await.unwrap();
    assert_eq!(resp.interval, 1800);
    assert_eq!((resp.complete, resp.incomplete), (Some(1), Some(2)));
    assert_eq!(resp.peers.iter().map(|p| p.addr).collect::<Vec<_>>(), peers);
    assert_eq!(conn.id, CONNECTION);
    assert!(matches!(recv(&mut rx).await, Request::Connect(_)));
    let Request::Announce(sent) = recv(&mut rx).await else {
        panic!("expected an announce");
    };
    assert_eq!(sent.connection_id, CONNECTION);
    assert_eq!((sent.left, sent.port, sent.num_want), (3, 6881, 50));
    assert_eq!(sent.event, AnnounceEvent::Started);

    // A fresh cached id skips the connect.
    run(&url, Some(conn)).await.unwrap();
    assert!(matches!(recv(&mut rx).await, Request::Announce(_)));
}

#[tokio::test]
async fn a_dropped_packet_is_retransmitted_with_the_same_transaction_id() {
    let (url, mut rx) = tracker("127.0.0.1:0", |index, req| match index {
        0 => vec![],
        _ => vec![answer(req, &[], AddressFamily::V4)],
    })
    .await;
    let started = Instant::now();
    run(&url, None).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(100));
    let first = recv(&mut rx).await;
    let second = recv(&mut rx).await;
    assert!(matches!(first, Request::Connect(_)) && matches!(second, Request::Connect(_)));
    assert_eq!(transaction_id(&first), transaction_id(&second));
    assert!(matches!(recv(&mut rx).await, Request::Announce(_)));
}

#[tokio::test]
async fn answers_with_the_wrong_transaction_id_are_ignored() {
    let (url, _rx) = tracker("127.0.0.1:0", |_, req| {
        let tid = transaction_id(req);
        let stray = Response::Error(udp::ErrorResponse {
            transaction_id: tid.wrapping_add(1),
            message: "not for you".into(),
        });
        let garbage = vec![0xff; 5];
        vec![
            packet(stray, AddressFamily::V4),
            garbage,
            answer(req, &[], AddressFamily::V4),
        ]
    })
    .await;
    let (resp, _) = run(&url, None).await.unwrap();
    assert_eq!(resp.interval, 1800);
}

#[tokio::test]
async fn an_error_packet_is_a_tracker_failure() {
    let (url, _rx) = tracker("127.0.0.1:0", |_, req| match req {
        Request::Connect(_) => vec![answer(req, &[], AddressFamily::V4)],
        _ => vec![packet(
            Response::Error(udp::ErrorResponse {
                transaction_id: transaction_id(req),
                message: "torrent not registered".into(),
            }),
            AddressFamily::V4,
        )],
    })
    .await;
    let err = run(&url, None).await.unwrap_err();
    assert!(matches!(err, TrackerError::Failure(ref m) if m == "torrent not registered"));
}

#[tokio::test]
async fn a_rejected_cached_id_is_replaced_once() {
    let (url, mut rx) = tracker("127.0.0.1:0", |_, req| match req {
        Request::Announce(a) if a.connection_id != CONNECTION => vec![packet(
            Response::Error(udp::ErrorResponse {
                transaction_id: a.transaction_id,
                message: "connection id expired".into(),
            }),
            AddressFamily::V4,
        )],
        _ => vec![answer(req, &[], AddressFamily::V4)],
    })
    .await;
    let stale = ConnectionId {
        id: 1,
        obtained: Instant::now(),
    };
    let (_, conn) = run(&url, Some(stale)).await.unwrap();
    assert_eq!(conn.id, CONNECTION);
    assert!(matches!(recv(&mut rx).await, Request::Announce(_)));
    assert!(matches!(recv(&mut rx).await, Request::Connect(_)));
    assert!(matches!(recv(&mut rx).await, Request::Announce(_)));
}

#[tokio::test]
async fn a_silent_tracker_times_out_after_max_attempts() {
    let (url, mut rx) = tracker("127.0.0.1:0", |_, _| vec![]).await;
    let started = Instant::now();
    let err = run(&url, None).await.unwrap_err();
    // 100 + 200 + 400 ms.
    assert!(matches!(err, TrackerError::Timeout(d) if d == Duration::from_millis(700)));
    assert!(started.elapsed() >= Duration::from_millis(700));
    for _ in 0..3 {
        assert!(matches!(recv(&mut rx).await, Request::Connect(_)));
    }
    assert!(rx.try_recv().is_err());
}

#[test]
fn retransmit_delays_double_up_to_n_8() {
    let config = UdpConfig::default();
    assert_eq!(config.retransmit_delay(0), Duration::from_secs(15));
    assert_eq!(config.retransmit_delay(1), Duration::from_secs(30));
    assert_eq!(config.retransmit_delay(8), Duration::from_secs(3840));
    assert_eq!(config.retransmit_delay(20), Duration::from_secs(3840));
}

#[tokio::test]
async fn ipv6_trackers_send_18_byte_peers() {
    // Some sandboxes have no IPv6 loopback; the codec tests in bt-proto still cover the format.
    if std::net::UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("skipping: no IPv6 loopback");
        return;
    }
    let peers: Vec<SocketAddr> = vec!["[2001:db8::1]:6881".parse().unwrap()];
    let served = peers.clone();
    let (url, _rx) = tracker("[::1]:0", move |_, req| {
        vec![answer(req, &served, AddressFamily::V6)]
    })
    .await;
    let (resp, _) = run(&url, None).await.unwrap();
    let got: Vec<SocketAddr> = resp.peers.iter().map(|p| p.addr).collect();
    assert_eq!(got, peers);
    assert!(got.iter().all(|a| matches!(a.ip(), IpAddr::V6(_))));
}
