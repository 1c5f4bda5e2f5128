//! Every mode over both transports, down and up on the same port, the waits, several runtimes,
//! and shutdown.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use bt_proto::InfoHash;
use bt_proto::tracker::TrackerResponseError;
use bt_proto::tracker::http::parse_announce_response;
use bt_test_harness::{MockTracker, MockTrackerConfig, TrackerMode, Transport};

use crate::util::{READ_TIMEOUT, UdpClient, announce_target, http_announce, request};

const HASH: InfoHash = InfoHash([0xee; 20]);

#[test]
fn failure_mode_refuses_over_http_and_udp_but_records() {
    let tracker = MockTracker::start().unwrap();
    let mut udp = UdpClient::new(tracker.udp_addr(), READ_TIMEOUT);
    let id = udp.connect();
    tracker
        .set_mode(TrackerMode::Failure("go away".into()))
        .unwrap();
    let body = http_announce(tracker.http_addr(), &request(HASH, 1, 6001, 0));
    assert_eq!(body, b"d14:failure reason7:go awaye");
    assert_eq!(
        parse_announce_response(&body),
        Err(TrackerResponseError::Failure("go away".into()))
    );
    let err = udp.announce(id, &request(HASH, 2, 6002, 0)).unwrap_err();
    assert!(err.contains("go away"), "{err}");
    assert!(udp.scrape(id, &[HASH]).unwrap_err().contains("go away"));
    assert_eq!(tracker.announces().len(), 2);
    assert!(
        tracker.peers(&HASH).is_empty(),
        "a refused announce joins no swarm"
    );
}

#[test]
fn silent_mode_reads_records_and_never_answers() {
    let tracker = MockTracker::start_with(MockTrackerConfig {
        initial_mode: TrackerMode::Silent,
        ..Default::default()
    })
    .unwrap();
    let mut stream = TcpStream::connect(tracker.http_addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let target = announce_target(&request(HASH, 1, 6001, 0));
    write!(stream, "GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = [0u8; 16];
    let err = stream.read(&mut buf).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err}"
    );
    tracker
        .wait_for_announce(|a| a.transport == Transport::Http, READ_TIMEOUT)
        .unwrap();

    let mut udp = UdpClient::new(tracker.udp_addr(), Duration::from_millis(200));
    let build = |transaction_id| {
        bt_proto::tracker::udp::Request::Connect(bt_proto::tracker::udp::ConnectRequest {
            transaction_id,
        })
    };
    let err = udp
        .exchange(build, bt_proto::tracker::udp::Action::Connect)
        .unwrap_err();
    assert!(err.starts_with("recv"), "{err}");

    // Going down releases the held connection.
    tracker.set_mode(TrackerMode::Down).unwrap();
    stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    assert!(matches!(stream.read(&mut buf), Ok(0) | Err(_)));
}

#[test]
fn fixed_peers_mode_always_answers_that_list() {
    let fixed: Vec<SocketAddr> = vec!["10.0.0.1:1".parse().unwrap(), "[::2]:2".parse().unwrap()];
    let tracker = MockTracker::start().unwrap();
    tracker
        .set_mode(TrackerMode::FixedPeers(fixed.clone()))
        .unwrap();
    let mut req = request(HASH, 1, 6001, 0);
    req.numwant = Some(1);
    let parsed = parse_announce_response(&http_announce(tracker.http_addr(), &req)).unwrap();
    let got: Vec<SocketAddr> = parsed.peers.iter().map(|p| p.addr).collect();
    assert_eq!(got, fixed);
    let mut udp = UdpClient::new(tracker.udp_addr(), READ_TIMEOUT);
    let id = udp.connect();
    let resp = udp.announce(id, &request(HASH, 2, 6002, 0)).unwrap();
    assert_eq!(
        resp.peers,
        fixed[..1],
        "an IPv4 socket carries only IPv4 peers"
    );
    assert_eq!(tracker.peers(&HASH).len(), 2, "the swarm is still kept");
}

#[test]
fn down_then_up_on_the_same_port() {
    let tracker = MockTracker::start().unwrap();
    let (http, udp_addr) = (tracker.http_addr(), tracker.udp_addr());
    http_announce(http, &request(HASH, 1, 6001, 0));
    let mut udp = UdpClient::new(udp_addr, Duration::from_millis(200));
    let id = udp.connect();

    tracker.set_mode(TrackerMode::Down).unwrap();
    let err = TcpStream::connect(http).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    assert!(
        udp.announce(id, &request(HASH, 2, 6002, 0)).is_err(),
        "UDP ignored"
    );
    assert_eq!(
        tracker.announces().len(),
        1,
        "nothing reaches a tracker that is down"
    );

    tracker.set_mode(TrackerMode::Healthy).unwrap();
    assert_eq!(tracker.http_addr(), http);
    let parsed = parse_announce_response(&http_announce(http, &request(HASH, 3, 6003, 0)));
    assert_eq!(parsed.unwrap().peers.len(), 1);
    udp.announce(id, &request(HASH, 2, 6002, 0)).unwrap();
    assert_eq!(tracker.announces().len(), 3);
}

#[test]
fn wait_for_announce_sees_past_and_future_and_times_out() {
    let tracker = MockTracker::start().unwrap();
    let http = tracker.http_addr();
    http_announce(http, &request(HASH, 1, 6001, 0));
    let past = tracker
        .wait_for_announce(|a| a.port == 6001, Duration::ZERO)
        .unwrap();
    assert_eq!(past.info_hash, HASH);

    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        http_announce(http, &request(HASH, 2, 6002, 0));
    });
    let future = tracker
        .wait_for_announce(|a| a.port == 6002, READ_TIMEOUT)
        .unwrap();
    assert!(future.at > past.at);
    sender.join().unwrap();

    let start = Instant::now();
    let err = tracker
        .wait_for_announce(|a| a.port == 1, Duration::from_millis(100))
        .unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(err.to_string().contains("2 announces recorded"), "{err}");
    tracker.clear_announces();
    assert!(tracker.announces().is_empty());
}

/// Announces over HTTP with tokio's TcpStream, so the caller's runtime is busy too.
async fn async_announce(addr: SocketAddr, id: u8) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let target = announce_target(&request(HASH, id, 6000 + u16::from(id), 0));
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        let head = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
        stream.write_all(head.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        std::io::Result::Ok(raw)
    };
    tokio::time::timeout(READ_TIMEOUT, exchange)
        .await
        .expect("in time")
        .expect("announce")
}

#[tokio::test]
async fn works_under_tokio_test() {
    let tracker = MockTracker::start().unwrap();
    let raw = async_announce(tracker.http_addr(), 1).await;
    assert!(raw.starts_with(b"HTTP/1.1 200 OK"));
    let found = tracker
        .wait_for_announce_async(|a| a.port == 6001, READ_TIMEOUT)
        .await
        .unwrap();
    assert_eq!(found.info_hash, HASH);
}

#[actix::test]
async fn works_under_actix_test() {
    let tracker = MockTracker::start().unwrap();
    let addr = tracker.http_addr();
    // The announce runs on the same actix thread as the waiter: the wait must not block it.
    let client = actix::spawn(async move { async_announce(addr, 2).await });
    let found = tracker
        .wait_for_announce_async(|a| a.port == 6002, READ_TIMEOUT)
        .await
        .unwrap();
    assert_eq!(found.peer_id, crate::util::peer_id(2));
    client.await.unwrap();
    let err = tracker
        .wait_for_announce_async(|a| a.port == 1, Duration::from_millis(50))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no matching announce"));
}

#[test]
fn shutdown_closes_both_sockets() {
    let tracker = MockTracker::start().unwrap();
    let (http, udp) = (tracker.http_addr(), tracker.udp_addr());
    tracker.shutdown();
    assert_eq!(
        TcpStream::connect(http).unwrap_err().kind(),
        ErrorKind::ConnectionRefused
    );
    // The UDP port is free again: we can bind it ourselves.
    std::net::UdpSocket::bind(udp).unwrap();
}

#[test]
fn starting_down_then_coming_up() {
    let tracker = MockTracker::start_with(MockTrackerConfig {
        initial_mode: TrackerMode::Down,
        ..Default::default()
    })
    .unwrap();
    assert!(TcpStream::connect(tracker.http_addr()).is_err());
    tracker.set_mode(TrackerMode::Healthy).unwrap();
    http_announce(tracker.http_addr(), &request(HASH, 1, 6001, 0));
}
