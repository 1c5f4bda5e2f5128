//! Byte-literal vectors and property tests of the BEP 15 packets.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use proptest::prelude::*;

use super::*;

fn encode_request(req: &Request) -> Vec<u8> {
    let mut out = Vec::new();
    req.encode(&mut out);
    out
}

fn encode_response(resp: &Response, family: AddressFamily) -> Vec<u8> {
    let mut out = Vec::new();
    resp.encode(family, &mut out);
    out
}

#[test]
fn connect_request_bytes() {
    let req = Request::Connect(ConnectRequest {
        transaction_id: 0xdead_beef,
    });
    let bytes = [
        0, 0, 0x04, 0x17, 0x27, 0x10, 0x19, 0x80, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef,
    ];
    assert_eq!(encode_request(&req), bytes);
    assert_eq!(Request::decode(&bytes), Ok(req));
    let mut wrong_magic = bytes;
    wrong_magic[7] = 0x81;
    assert_eq!(
        Request::decode(&wrong_magic),
        Err(UdpTrackerError::BadProtocolId(0x41727101981))
    );
}

#[test]
fn connect_response_bytes() {
    let bytes = [0, 0, 0, 0, 0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8];
    let expected = Response::Connect(ConnectResponse {
        transaction_id: 7,
        connection_id: 0x0102_0304_0506_0708,
    });
    let decoded = decode_response(&bytes, 7, Action::Connect, AddressFamily::V4);
    assert_eq!(decoded, Ok(expected.clone()));
    assert_eq!(encode_response(&expected, AddressFamily::V4), bytes);
    let short = Response::decode(&bytes[..15], AddressFamily::V4);
    assert_eq!(
        short,
        Err(UdpTrackerError::TooShort {
            what: "connect response",
            len: 15,
            min: 16
        })
    );
}

#[test]
fn announce_request_bytes_use_bep_15_event_numbers() {
    let req = AnnounceRequest {
        connection_id: 0x1122_3344_5566_7788,
        transaction_id: 9,
        info_hash: InfoHash([0xaa; 20]),
        peer_id: PeerId([0xbb; 20]),
        downloaded: 1,
        left: 2,
        uploaded: 3,
        event: AnnounceEvent::Started,
        ip: Ipv4Addr::UNSPECIFIED,
        key: 0x0a0b_0c0d,
        num_want: -1,
        port: 6881,
    };
    let mut bytes = vec![
        0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0, 0, 0, 1, 0, 0, 0, 9,
    ];
    bytes.extend_from_slice(&[0xaa; 20]);
    bytes.extend_from_slice(&[0xbb; 20]);
    bytes.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2]);
    bytes.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 3]);
    bytes.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 0, 0x0a, 0x0b, 0x0c, 0x0d]);
    bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x1a, 0xe1]);
    assert_eq!(bytes.len(), 98);
    assert_eq!(encode_request(&Request::Announce(req)), bytes);
    assert_eq!(Request::decode(&bytes), Ok(Request::Announce(req)));
    // BEP 41 options after the fixed part are ignored.
    bytes.extend_from_slice(&[2, 5, b'/', b'a', b'n', b'n', b'o']);
    assert_eq!(Request::decode(&bytes), Ok(Request::Announce(req)));
    bytes[83] = 4;
    assert_eq!(
        Request::decode(&bytes),
        Err(UdpTrackerError::UnknownEvent(4))
    );
    let short = Request::decode(&bytes[..97]);
    assert_eq!(
        short,
        Err(UdpTrackerError::TooShort {
            what: "announce request",
            len: 97,
            min: 98
        })
    );
}

#[test]
fn announce_response_peers_depend_on_the_socket_family() {
    let header = [
        0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0x07, 0x08, 0, 0, 0, 2, 0, 0, 0, 3,
    ];
    let v4 = [header.as_slice(), &[0x7f, 0, 0, 1, 0x1a, 0xe1]].concat();
    let Ok(Response::Announce(resp)) = decode_response(&v4, 5, Action::Announce, AddressFamily::V4)
    else {
        panic!("not an announce response");
    };
    assert_eq!((resp.interval, resp.leechers, resp.seeders), (1800, 2, 3));
    assert_eq!(
        resp.peers,
        vec!["127.0.0.1:6881".parse::<SocketAddr>().unwrap()]
    );
    // The same 6 bytes are not a whole IPv6 entry: a partial entry is ignored (BEP 15 counts
    // peers by the packet's size).
    let Ok(Response::Announce(partial)) = Response::decode(&v4, AddressFamily::V6) else {
        panic!("a partial entry is not an error");
    };
    assert!(partial.peers.is_empty());

    let mut v6 = header.to_vec();
    v6.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    v6.extend_from_slice(&[0; 11]);
    v6.extend_from_slice(&[1, 0x1a, 0xe1]);
    let Ok(Response::Announce(resp)) = Response::decode(&v6, AddressFamily::V6) else {
        panic!("not an announce response");
    };
    assert_eq!(
        resp.peers,
        vec!["[2001:db8::1]:6881".parse::<SocketAddr>().unwrap()]
    );
    // On an IPv4 socket the same 18 bytes read as three IPv4 entries: hence the family.
    let Ok(Response::Announce(misread)) = Response::decode(&v6, AddressFamily::V4) else {
        panic!("not an announce response");
    };
    assert_eq!(misread.peers.len(), 3);
    let v6_and_a_bit = [v6.as_slice(), &[0; 6]].concat();
    let Ok(Response::Announce(whole)) = Response::decode(&v6_and_a_bit, AddressFamily::V6) else {
        panic!("a partial trailing entry is not an error");
    };
    assert_eq!(whole.peers, resp.peers, "the remainder is ignored");
    let short = Response::decode(&header[..19], AddressFamily::V4);
    assert!(matches!(
        short,
        Err(UdpTrackerError::TooShort { min: 20, .. })
    ));
}

#[test]
fn ipv4_peers_are_mapped_on_an_ipv6_socket_and_dropped_on_ipv4() {
    let v4: SocketAddr = "1.2.3.4:5".parse().unwrap();
    let v6: SocketAddr = "[::2]:6".parse().unwrap();
    let resp = AnnounceResponse {
        transaction_id: 1,
        interval: 2,
        leechers: 3,
        seeders: 4,
        peers: vec![v4, v6],
    };
    let mut out = Vec::new();
    resp.encode(AddressFamily::V6, &mut out);
    assert_eq!(out.len(), 20 + 2 * 18);
    assert_eq!(
        out[20..38],
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4, 0, 5]
    );
    let decoded = Response::decode(&out, AddressFamily::V6);
    assert_eq!(decoded, Ok(Response::Announce(resp.clone())));
    out.clear();
    resp.encode(AddressFamily::V4, &mut out);
    let Ok(Response::Announce(decoded)) = Response::decode(&out, AddressFamily::V4) else {
        panic!("not an announce response");
    };
    assert_eq!(decoded.peers, vec![v4]);
}

#[test]
fn peers_are_capped() {
    let mut raw = vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    raw.extend(std::iter::repeat_n([10, 0, 0, 1, 0, 1], MAX_PEERS + 5).flatten());
    let Ok(Response::Announce(resp)) = Response::decode(&raw, AddressFamily::V4) else {
        panic!("not an announce response");
    };
    assert_eq!(resp.peers.len(), MAX_PEERS);
}

#[test]
fn scrape_bytes() {
    let req = ScrapeRequest {
        connection_id: 1,
        transaction_id: 2,
        info_hashes: vec![InfoHash([3; 20]), InfoHash([4; 20])],
    };
    let bytes = encode_request(&Request::Scrape(req.clone()));
    assert_eq!(
        bytes[..16],
        [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2]
    );
    assert_eq!(bytes.len(), 56);
    assert_eq!(Request::decode(&bytes), Ok(Request::Scrape(req)));
    let err = Request::decode(&bytes[..55]);
    assert_eq!(err, Err(UdpTrackerError::Trailing { len: 39, entry: 20 }));

    let raw = [0, 0, 0, 2, 0, 0, 0, 9, 0, 0, 0, 5, 0, 0, 0, 50, 0, 0, 0, 10];
    let stats = ScrapeStats {
        complete: 5,
        downloaded: 50,
        incomplete: 10,
    };
    let expected = Response::Scrape(ScrapeResponse {
        transaction_id: 9,
        stats: vec![stats],
    });
    assert_eq!(
        decode_response(&raw, 9, Action::Scrape, AddressFamily::V4),
        Ok(expected)
    );
    let err = Response::decode(&raw[..19], AddressFamily::V4);
    assert_eq!(err, Err(UdpTrackerError::Trailing { len: 11, entry: 12 }));
}

#[test]
fn decode_response_checks_the_request_it_answers() {
    let error = [0, 0, 0, 3, 0, 0, 0, 7, b'b', b'a', b'n', b'n', b'e', b'd'];
    let v4 = AddressFamily::V4;
    assert_eq!(
        decode_response(&error, 7, Action::Announce, v4),
        Err(UdpTrackerError::Tracker("banned".into()))
    );
    assert_eq!(
        decode_response(&error, 8, Action::Announce, v4),
        Err(UdpTrackerError::TransactionMismatch {
            expected: 8,
            got: 7
        })
    );
    let connect = [0, 0, 0, 0, 0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8];
    assert_eq!(
        decode_response(&connect, 7, Action::Announce, v4),
        Err(UdpTrackerError::UnexpectedAction {
            expected: Action::Announce,
            got: Action::Connect
        })
    );
    let unknown = [0, 0, 0, 4, 0, 0, 0, 7];
    assert_eq!(
        Response::decode(&unknown, v4),
        Err(UdpTrackerError::UnknownAction(4))
    );
    assert!(matches!(
        Response::decode(&unknown[..7], v4),
        Err(UdpTrackerError::TooShort { min: 8, .. })
    ));
    let request_with_error_action = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0];
    let err = Request::decode(&request_with_error_action);
    assert_eq!(err, Err(UdpTrackerError::UnknownAction(3)));
}

#[test]
fn from_announce_maps_the_shared_request() {
    let shared = crate::tracker::AnnounceRequest {
        info_hash: InfoHash([1; 20]),
        peer_id: PeerId([2; 20]),
        port: 3,
        uploaded: 4,
        downloaded: 5,
        left: 6,
        event: AnnounceEvent::Completed,
        numwant: Some(u32::MAX),
        key: None,
        tracker_id: Some(b"x".to_vec()),
        compact: true,
    };
    let req = AnnounceRequest::from_announce(10, 11, &shared);
    assert_eq!(
        (req.num_want, req.key, req.ip),
        (i32::MAX, 0, Ipv4Addr::UNSPECIFIED)
    );
    let mut out = Vec::new();
    req.encode(&mut out);
    assert_eq!(out[80..84], [0, 0, 0, 1]);
    let default_want = AnnounceRequest::from_announce(
        10,
        11,
        &crate::tracker::AnnounceRequest {
            numwant: None,
            ..shared
        },
    );
    assert_eq!(default_want.num_want, -1);
}

#[test]
fn to_announce_is_the_inverse_of_from_announce_for_what_udp_carries() {
    let shared = crate::tracker::AnnounceRequest {
        info_hash: InfoHash([1; 20]),
        peer_id: PeerId([2; 20]),
        port: 6881,
        uploaded: 4,
        downloaded: 5,
        left: 6,
        event: AnnounceEvent::Started,
        numwant: Some(50),
        key: Some(0xBEEF),
        tracker_id: None,
        compact: true,
    };
    let udp = AnnounceRequest::from_announce(10, 11, &shared);
    assert_eq!(udp.to_announce(), shared);
    for tracker_chooses in [-1, 0, i32::MIN] {
        let udp = AnnounceRequest {
            num_want: tracker_chooses,
            ..udp
        };
        assert_eq!(
            udp.to_announce().numwant,
            None,
            "num_want {tracker_chooses}"
        );
    }
}

fn arb_family() -> impl Strategy<Value = AddressFamily> {
    prop_oneof![Just(AddressFamily::V4), Just(AddressFamily::V6)]
}

/// Peers that survive a round trip on `family`: IPv4 anywhere, IPv6 (not IPv4-mapped) on V6.
fn arb_peers(family: AddressFamily) -> BoxedStrategy<Vec<SocketAddr>> {
    let v4 = any::<(Ipv4Addr, u16)>().prop_map(|(ip, port)| SocketAddr::new(IpAddr::V4(ip), port));
    let v6 = any::<(Ipv6Addr, u16)>()
        .prop_filter("not IPv4-mapped", |(ip, _)| ip.to_ipv4_mapped().is_none())
        .prop_map(|(ip, port)| SocketAddr::new(IpAddr::V6(ip), port));
    let peer = match family {
        AddressFamily::V4 => v4.boxed(),
        AddressFamily::V6 => prop_oneof![v4, v6].boxed(),
    };
    proptest::collection::vec(peer, 0..100).boxed()
}

fn arb_request() -> impl Strategy<Value = Request> {
    let event = (0u32..4).prop_map(|n| AnnounceEvent::from_udp(n).unwrap());
    let announce = (
        any::<(u64, u32, [u8; 20], [u8; 20])>(),
        any::<(u64, u64, u64)>(),
        (event, any::<Ipv4Addr>(), any::<(u32, i32, u16)>()),
    )
        .prop_map(
            |((connection_id, transaction_id, hash, id), amounts, rest)| {
                let (downloaded, left, uploaded) = amounts;
                let (event, ip, (key, num_want, port)) = rest;
                Request::Announce(AnnounceRequest {
                    connection_id,
                    transaction_id,
                    info_hash: InfoHash(hash),
                    peer_id: PeerId(id),
                    downloaded,
                    left,
                    uploaded,
                    event,
                    ip,
                    key,
                    num_want,
                    port,
                })
            },
        );
    let hashes = proptest::collection::vec(any::<[u8; 20]>().prop_map(InfoHash), 0..=74);
    let scrape =
        (any::<(u64, u32)>(), hashes).prop_map(|((connection_id, transaction_id), info_hashes)| {
            Request::Scrape(ScrapeRequest {
                connection_id,
                transaction_id,
                info_hashes,
            })
        });
    let connect =
        any::<u32>().prop_map(|transaction_id| Request::Connect(ConnectRequest { transaction_id }));
    prop_oneof![connect, announce, scrape]
}

fn arb_response(family: AddressFamily) -> impl Strategy<Value = Response> {
    let connect = any::<(u32, u64)>().prop_map(|(transaction_id, connection_id)| {
        Response::Connect(ConnectResponse {
            transaction_id,
            connection_id,
        })
    });
    let announce = (any::<(u32, u32, u32, u32)>(), arb_peers(family)).prop_map(
        |((transaction_id, interval, leechers, seeders), peers)| {
            Response::Announce(AnnounceResponse {
                transaction_id,
                interval,
                leechers,
                seeders,
                peers,
            })
        },
    );
    let stats =
        any::<(u32, u32, u32)>().prop_map(|(complete, downloaded, incomplete)| ScrapeStats {
            complete,
            downloaded,
            incomplete,
        });
    let scrape = (any::<u32>(), proptest::collection::vec(stats, 0..74)).prop_map(
        |(transaction_id, stats)| {
            Response::Scrape(ScrapeResponse {
                transaction_id,
                stats,
            })
        },
    );
    let error = (any::<u32>(), any::<String>()).prop_map(|(transaction_id, message)| {
        Response::Error(ErrorResponse {
            transaction_id,
            message,
        })
    });
    prop_oneof![connect, announce, scrape, error]
}

proptest! {
    #[test]
    fn requests_round_trip(req in arb_request()) {
        prop_assert_eq!(Request::decode(&encode_request(&req)), Ok(req));
    }

    #[test]
    fn responses_round_trip((family, resp) in arb_family().prop_flat_map(|f| (Just(f), arb_response(f)))) {
        prop_assert_eq!(Response::decode(&encode_response(&resp, family), family), Ok(resp));
    }

    #[test]
    fn decoders_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..300), tx in any::<u32>()) {
        let _ = Request::decode(&raw);
        for family in [AddressFamily::V4, AddressFamily::V6] {
            let _ = Response::decode(&raw, family);
            for action in [Action::Connect, Action::Announce, Action::Scrape, Action::Error] {
                let _ = decode_response(&raw, tx, action, family);
            }
        }
    }

    #[test]
    fn decoders_never_panic_on_valid_headers(
        action in 0u32..5,
        body in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let request = [&PROTOCOL_ID.to_be_bytes()[..], &action.to_be_bytes(), &[0; 4], &body].concat();
        let _ = Request::decode(&request);
        let response = [&action.to_be_bytes()[..], &[0; 4], &body].concat();
        let _ = Response::decode(&response, AddressFamily::V4);
        let _ = Response::decode(&response, AddressFamily::V6);
    }
}
