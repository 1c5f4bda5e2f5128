//! The HTTP tracker answers raw requests exactly as BEP 3 (dictionary peers), BEP 23 (compact),
//! BEP 7 (`peers6`) and BEP 48 (scrape) say, and keeps its swarms right.

use std::net::SocketAddr;

use bt_proto::InfoHash;
use bt_proto::tracker::AnnounceEvent;
use bt_proto::tracker::http::{parse_announce_response, parse_scrape_response, scrape_url};
use bt_test_harness::{MockTracker, SwarmPeer, Transport};

use crate::util::{http_announce, http_get, peer_id, request};

const HASH: InfoHash = InfoHash([0xaa; 20]);

#[test]
fn compact_answer_is_bep_23_byte_for_byte() {
    let tracker = MockTracker::start().unwrap();
    let addr = tracker.http_addr();
    http_announce(addr, &request(HASH, 1, 6001, 100));
    let body = http_announce(addr, &request(HASH, 2, 6002, 0));
    // Keys sorted; one 6-byte peer: 127.0.0.1, port 6001 = 0x1771; no peers6 without IPv6 peers.
    let expected = b"d8:completei1e10:incompletei1e8:intervali1e5:peers6:\x7f\x00\x00\x01\x17\x71e";
    assert_eq!(body, expected.as_slice());
    let parsed = parse_announce_response(&body).unwrap();
    assert_eq!(parsed.interval, 1);
    let peers: Vec<SocketAddr> = parsed.peers.iter().map(|p| p.addr).collect();
    assert_eq!(peers, ["127.0.0.1:6001".parse().unwrap()]);
    assert_eq!(parsed.peers[0].peer_id, None);
}

#[test]
fn dictionary_answer_is_bep_3_byte_for_byte() {
    let tracker = MockTracker::start().unwrap();
    let addr = tracker.http_addr();
    http_announce(addr, &request(HASH, b'A', 6001, 100));
    let mut req = request(HASH, b'B', 6002, 100);
    req.compact = false;
    let body = http_announce(addr, &req);
    let mut expected = b"d8:completei0e10:incompletei2e8:intervali1e5:peersl".to_vec();
    expected.extend_from_slice(b"d2:ip9:127.0.0.17:peer id20:AAAAAAAAAAAAAAAAAAAA4:porti6001ee");
    expected.extend_from_slice(b"ee");
    assert_eq!(body, expected);
    let parsed = parse_announce_response(&body).unwrap();
    assert_eq!(parsed.peers[0].peer_id, Some(peer_id(b'A')));
}

#[test]
fn ipv6_peers_go_to_peers6_when_compact_and_to_the_list_otherwise() {
    let tracker = MockTracker::start().unwrap();
    let v6: SocketAddr = "[::1]:7000".parse().unwrap();
    let injected = SwarmPeer {
        peer_id: peer_id(9),
        addr: v6,
        left: 0,
    };
    tracker.add_peer(HASH, injected);
    let body = http_announce(tracker.http_addr(), &request(HASH, 1, 6001, 5));
    let mut peers6 = vec![0u8; 15];
    peers6.extend_from_slice(&[1, 0x1b, 0x58]);
    let mut expected = b"d8:completei1e10:incompletei1e8:intervali1e5:peers0:6:peers618:".to_vec();
    expected.extend_from_slice(&peers6);
    expected.push(b'e');
    assert_eq!(body, expected);
    assert_eq!(parse_announce_response(&body).unwrap().peers[0].addr, v6);

    let mut req = request(HASH, 2, 6002, 5);
    req.compact = false;
    let parsed = parse_announce_response(&http_announce(tracker.http_addr(), &req)).unwrap();
    let addrs: Vec<SocketAddr> = parsed.peers.iter().map(|p| p.addr).collect();
    assert_eq!(addrs, [v6, "127.0.0.1:6001".parse().unwrap()]);
}

#[test]
fn reply_head_is_http_1_1_with_length_and_close() {
    let tracker = MockTracker::start().unwrap();
    let target = crate::util::announce_target(&request(HASH, 1, 6001, 0));
    let reply = http_get(tracker.http_addr(), &target).unwrap();
    assert_eq!(reply.status, "HTTP/1.1 200 OK");
    assert!(
        reply.head.contains("\r\nConnection: close"),
        "{}",
        reply.head
    );
    let length = format!("\r\nContent-Length: {}", reply.body.len());
    assert!(reply.head.contains(&length), "{}", reply.head);
}

#[test]
fn numwant_self_exclusion_stopped_and_counts() {
    let tracker = MockTracker::start().unwrap();
    let addr = tracker.http_addr();
    for id in 1..=4u8 {
        let left = if id == 1 { 0 } else { 10 };
        http_announce(addr, &request(HASH, id, 6000 + u16::from(id), left));
    }
    let mut req = request(HASH, 5, 6005, 10);
    req.numwant = Some(2);
    let parsed = parse_announce_response(&http_announce(addr, &req)).unwrap();
    let ports: Vec<u16> = parsed.peers.iter().map(|p| p.addr.port()).collect();
    assert_eq!(
        ports,
        [6001, 6002],
        "first announced first, at most numwant"
    );
    assert_eq!((parsed.complete, parsed.incomplete), (Some(1), Some(4)));

    let mut again = request(HASH, 3, 6003, 10);
    again.numwant = Some(50);
    let parsed = parse_announce_response(&http_announce(addr, &again)).unwrap();
    assert!(
        parsed.peers.iter().all(|p| p.addr.port() != 6003),
        "never the announcer"
    );
    assert_eq!(parsed.peers.len(), 4);

    let mut stop = request(HASH, 2, 6002, 10);
    stop.event = AnnounceEvent::Stopped;
    let parsed = parse_announce_response(&http_announce(addr, &stop)).unwrap();
    assert!(parsed.peers.is_empty());
    assert_eq!(tracker.peers(&HASH).len(), 4);
    assert!(tracker.peers(&HASH).iter().all(|p| p.peer_id != peer_id(2)));
    assert_eq!(tracker.announces().len(), 7);
    assert!(
        tracker
            .announces()
            .iter()
            .all(|a| a.transport == Transport::Http)
    );
}

#[test]
fn scrape_reports_counts_per_bep_48() {
    let tracker = MockTracker::start().unwrap();
    let addr = tracker.http_addr();
    http_announce(addr, &request(HASH, 1, 6001, 0));
    http_announce(addr, &request(HASH, 2, 6002, 10));
    let mut done = request(HASH, 2, 6002, 0);
    done.event = AnnounceEvent::Completed;
    http_announce(addr, &done);
    let other = InfoHash([0xbb; 20]);
    let announce = url::Url::parse(&tracker.http_announce_url()).unwrap();
    let url = scrape_url(&announce, &[HASH, other]).unwrap();
    assert_eq!(
        url.as_str().split('?').next(),
        Some(tracker.http_scrape_url().as_str())
    );
    let target = format!("{}?{}", url.path(), url.query().unwrap());
    let reply = http_get(addr, &target).unwrap();
    assert_eq!(reply.status, "HTTP/1.1 200 OK");
    let files = parse_scrape_response(&reply.body).unwrap();
    let stats = files[&HASH];
    assert_eq!(
        (stats.complete, stats.downloaded, stats.incomplete),
        (2, 1, 0)
    );
    assert_eq!(files[&other], Default::default());
    assert_eq!(tracker.stats(&HASH), stats);
    // No info_hash: every torrent the tracker knows.
    let all = parse_scrape_response(&http_get(addr, "/scrape").unwrap().body).unwrap();
    assert_eq!(all.keys().collect::<Vec<_>>(), [&HASH]);
}

#[test]
fn unknown_paths_and_bad_queries() {
    let tracker = MockTracker::start().unwrap();
    let addr = tracker.http_addr();
    assert_eq!(
        http_get(addr, "/").unwrap().status,
        "HTTP/1.1 404 Not Found"
    );
    assert_eq!(
        http_get(addr, "/announce.php").unwrap().status,
        "HTTP/1.1 404 Not Found"
    );
    let reply = http_get(addr, "/announce?info_hash=short&port=1").unwrap();
    assert_eq!(reply.status, "HTTP/1.1 200 OK");
    let err = parse_announce_response(&reply.body).unwrap_err();
    assert!(err.to_string().contains("info_hash"), "{err}");
    assert!(tracker.announces().is_empty());
}

#[test]
fn oversized_request_head_is_refused() {
    let tracker = MockTracker::start().unwrap();
    let target = format!("/announce?{}", "x".repeat(20_000));
    let reply = http_get(tracker.http_addr(), &target);
    // Either the 400 arrives or the connection is reset while we still write; never a hang.
    if let Ok(reply) = reply {
        assert_eq!(reply.status, "HTTP/1.1 400 Bad Request");
    }
}
