//! Property tests of the HTTP tracker codecs: round trips and never-panics.

use std::net::{IpAddr, SocketAddr};

use proptest::prelude::*;
use url::Url;

use super::*;
use crate::tracker::{AnnounceEvent, AnnounceRequest, AnnounceResponse, ScrapeStats, TrackerPeer};
use crate::types::{InfoHash, PeerId};

fn arb_request() -> impl Strategy<Value = AnnounceRequest> {
    let event = prop_oneof![
        Just(AnnounceEvent::None),
        Just(AnnounceEvent::Started),
        Just(AnnounceEvent::Completed),
        Just(AnnounceEvent::Stopped),
    ];
    let ids = (any::<[u8; 20]>(), any::<[u8; 20]>());
    let numbers = (any::<u16>(), any::<u64>(), any::<u64>(), any::<u64>());
    let options = (
        any::<Option<u32>>(),
        any::<Option<u32>>(),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
        any::<bool>(),
    );
    (ids, numbers, event, options).prop_map(
        |(
            (hash, id),
            (port, uploaded, downloaded, left),
            event,
            (numwant, key, tracker_id, compact),
        )| {
            AnnounceRequest {
                info_hash: InfoHash(hash),
                peer_id: PeerId(id),
                port,
                uploaded,
                downloaded,
                left,
                event,
                numwant,
                key,
                tracker_id,
                compact,
            }
        },
    )
}

fn arb_addr() -> impl Strategy<Value = SocketAddr> {
    let ip = prop_oneof![
        any::<std::net::Ipv4Addr>().prop_map(IpAddr::V4),
        any::<std::net::Ipv6Addr>().prop_map(IpAddr::V6),
    ];
    (ip, any::<u16>()).prop_map(|(ip, port)| SocketAddr::new(ip, port))
}

fn arb_response() -> impl Strategy<Value = AnnounceResponse> {
    let peer =
        (arb_addr(), proptest::option::of(any::<[u8; 20]>())).prop_map(|(addr, id)| TrackerPeer {
            addr,
            peer_id: id.map(PeerId),
        });
    let counts = (
        any::<u32>(),
        any::<Option<u32>>(),
        any::<Option<u32>>(),
        any::<Option<u32>>(),
    );
    let text = (
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)),
        proptest::option::of(any::<String>()),
    );
    (counts, text, proptest::collection::vec(peer, 0..50)).prop_map(
        |((interval, min_interval, complete, incomplete), (tracker_id, warning), peers)| {
            AnnounceResponse {
                interval,
                min_interval,
                tracker_id,
                complete,
                incomplete,
                warning,
                peers,
            }
        },
    )
}

/// Bencode-like token soup, so the never-panics tests reach past the first byte.
fn bencodeish() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(b"d".to_vec()),
        Just(b"l".to_vec()),
        Just(b"e".to_vec()),
        Just(b"8:interval".to_vec()),
        Just(b"5:peers".to_vec()),
        Just(b"6:peers6".to_vec()),
        Just(b"5:files".to_vec()),
        Just(b"2:ip".to_vec()),
        Just(b"4:port".to_vec()),
        Just(b"14:failure reason".to_vec()),
        any::<i64>().prop_map(|n| format!("i{n}e").into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(|b| [
            format!("{}:", b.len()).into_bytes(),
            b
        ]
        .concat()),
        proptest::collection::vec(any::<u8>(), 0..4),
    ];
    proptest::collection::vec(token, 0..40).prop_map(|tokens| tokens.concat())
}

proptest! {
    #[test]
    fn announce_url_round_trips(req in arb_request(), passkey in "[a-z0-9]{0,8}") {
        let base = Url::parse(&format!("http://t.example/announce?passkey={passkey}")).unwrap();
        let url = announce_url(&base, &req);
        prop_assert_eq!(parse_announce_request(url.query().unwrap()).unwrap(), req);
    }

    #[test]
    fn compact_response_round_trips(resp in arb_response()) {
        let parsed = parse_announce_response(&encode_announce_response(&resp, true)).unwrap();
        let (v4, v6): (Vec<&TrackerPeer>, Vec<_>) = resp.peers.iter().partition(|p| p.addr.is_ipv4());
        let peers = v4.into_iter().chain(v6).map(|p| TrackerPeer { addr: p.addr, peer_id: None });
        prop_assert_eq!(parsed, AnnounceResponse { peers: peers.collect(), ..resp });
    }

    #[test]
    fn dictionary_response_round_trips(resp in arb_response()) {
        let parsed = parse_announce_response(&encode_announce_response(&resp, false)).unwrap();
        prop_assert_eq!(parsed, resp);
    }

    #[test]
    fn failure_round_trips(reason in any::<String>()) {
        let parsed = parse_announce_response(&encode_failure(&reason));
        prop_assert_eq!(parsed, Err(TrackerResponseError::Failure(reason)));
    }

    #[test]
    fn scrape_round_trips(
        files in proptest::collection::btree_map(
            any::<[u8; 20]>().prop_map(InfoHash),
            any::<(u32, u32, u32)>().prop_map(|(complete, downloaded, incomplete)| {
                ScrapeStats { complete, downloaded, incomplete }
            }),
            0..20,
        ),
    ) {
        prop_assert_eq!(parse_scrape_response(&encode_scrape_response(&files)).unwrap(), files.clone());
        let hashes: Vec<InfoHash> = files.keys().copied().collect();
        let url = scrape_url(&Url::parse("http://t.example/announce?k=v").unwrap(), &hashes).unwrap();
        prop_assert_eq!(parse_scrape_request(url.query().unwrap()), hashes);
    }

    #[test]
    fn response_parsers_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_announce_response(&raw);
        let _ = parse_scrape_response(&raw);
    }

    #[test]
    fn response_parsers_never_panic_on_bencodeish_input(raw in bencodeish()) {
        let _ = parse_announce_response(&raw);
        let _ = parse_scrape_response(&raw);
    }

    #[test]
    fn query_parsers_never_panic(query in any::<String>(), soup in "[a-z_%0-9A-F=&+]{0,200}") {
        for q in [query.as_str(), soup.as_str()] {
            let _ = parse_announce_request(q);
            let _ = parse_scrape_request(q);
        }
    }
}
