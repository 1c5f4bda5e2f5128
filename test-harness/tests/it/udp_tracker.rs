//! The UDP tracker (BEP 15) through bt-proto's codecs: connect, announce, scrape, and error
//! packets for connection ids it did not issue to the sender.

use std::net::SocketAddr;
use std::time::Duration;

use bt_proto::InfoHash;
use bt_proto::tracker::AnnounceEvent;
use bt_proto::tracker::udp::{Action, Request, Response, ScrapeRequest};
use bt_test_harness::{MockTracker, Transport};

use crate::util::{READ_TIMEOUT, UdpClient, peer_id, request};

const HASH: InfoHash = InfoHash([0xcc; 20]);

#[test]
fn connect_announce_scrape() {
    let tracker = MockTracker::start().unwrap();
    let mut first = UdpClient::new(tracker.udp_addr(), READ_TIMEOUT);
    let id = first.connect();
    let resp = first.announce(id, &request(HASH, 1, 6001, 0)).unwrap();
    assert_eq!((resp.interval, resp.seeders, resp.leechers), (1, 1, 0));
    assert!(resp.peers.is_empty());

    let mut second = UdpClient::new(tracker.udp_addr(), READ_TIMEOUT);
    let id2 = second.connect();
    assert_ne!(id, id2);
    let mut req = request(HASH, 2, 6002, 99);
    req.uploaded = 7;
    req.downloaded = 8;
    let resp = second.announce(id2, &req).unwrap();
    assert_eq!((resp.seeders, resp.leechers), (1, 1));
    let expected: SocketAddr = "127.0.0.1:6001".parse().unwrap();
    assert_eq!(resp.peers, [expected]);

    let recorded = &tracker.announces()[1];
    assert_eq!(recorded.transport, Transport::Udp);
    assert_eq!(recorded.peer_id, peer_id(2));
    assert_eq!(recorded.source, second.socket.local_addr().unwrap());
    assert_eq!(
        (
            recorded.port,
            recorded.uploaded,
            recorded.downloaded,
            recorded.left
        ),
        (6002, 7, 8, 99)
    );
    assert_eq!(recorded.event, AnnounceEvent::Started);
    assert_eq!(
        recorded.numwant, None,
        "num_want -1 lets the tracker choose"
    );

    let other = InfoHash([0xdd; 20]);
    let scrape = second.scrape(id2, &[HASH, other]).unwrap();
    assert_eq!(scrape.stats.len(), 2);
    let stats = scrape.stats[0];
    assert_eq!(
        (stats.complete, stats.downloaded, stats.incomplete),
        (1, 0, 1)
    );
    assert_eq!(scrape.stats[1], Default::default());
}

#[test]
fn unknown_connection_id_gets_an_error_packet() {
    let tracker = MockTracker::start().unwrap();
    let mut client = UdpClient::new(tracker.udp_addr(), READ_TIMEOUT);
    let err = client
        .announce(0x1234_5678, &request(HASH, 1, 6001, 0))
        .unwrap_err();
    assert!(err.contains("invalid connection id"), "{err}");
    let err = client.scrape(0x1234_5678, &[HASH]).unwrap_err();
    assert!(err.contains("invalid connection id"), "{err}");
    assert!(tracker.announces().is_empty());
}

#[test]
fn connection_id_is_bound_to_the_address_it_was_issued_to() {
    let tracker = MockTracker::start().unwrap();
    let mut owner = UdpClient::new(tracker.udp_addr(), READ_TIMEOUT);
    let id = owner.connect();
    let mut thief = UdpClient::new(tracker.udp_addr(), READ_TIMEOUT);
    let err = thief.announce(id, &request(HASH, 1, 6001, 0)).unwrap_err();
    assert!(err.contains("invalid connection id"), "{err}");
    owner.announce(id, &request(HASH, 1, 6001, 0)).unwrap();
}

#[test]
fn expired_connection_id_is_refused() {
    let config = bt_test_harness::MockTrackerConfig {
        connection_id_ttl: Duration::from_millis(50),
        ..Default::default()
    };
    let tracker = MockTracker::start_with(config).unwrap();
    let mut client = UdpClient::new(tracker.udp_addr(), READ_TIMEOUT);
    let id = client.connect();
    std::thread::sleep(Duration::from_millis(100));
    let err = client.announce(id, &request(HASH, 1, 6001, 0)).unwrap_err();
    assert!(err.contains("invalid connection id"), "{err}");
}

#[test]
fn garbage_is_dropped_and_the_tracker_keeps_serving() {
    let tracker = MockTracker::start().unwrap();
    let mut client = UdpClient::new(tracker.udp_addr(), Duration::from_millis(200));
    client.socket.send(b"not a tracker packet").unwrap();
    let mut buf = [0u8; 64];
    assert!(
        client.socket.recv(&mut buf).is_err(),
        "no answer to garbage"
    );
    // An empty scrape is a valid request with no hashes: answered with no entries.
    let id = client.connect();
    let build = |transaction_id| {
        Request::Scrape(ScrapeRequest {
            connection_id: id,
            transaction_id,
            info_hashes: Vec::new(),
        })
    };
    match client.exchange(build, Action::Scrape) {
        Ok(Response::Scrape(r)) => assert!(r.stats.is_empty()),
        other => panic!("{other:?}"),
    }
}
