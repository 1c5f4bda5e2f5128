//! Byte-literal vectors and property tests of the HTTP tracker codecs.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use url::Url;

use super::*;
use crate::tracker::{AnnounceEvent, AnnounceRequest, AnnounceResponse, ScrapeStats, TrackerPeer};
use crate::types::{InfoHash, PeerId};

/// A hash that exercises every encoding rule: unreserved characters, reserved ones, `%`, `+`,
/// a space, NUL and high bytes.
fn tricky_hash() -> [u8; 20] {
    *b"\x00\x01a-._~ %+/Z9\x7f\x80\xfe\xff&=?"
}

const TRICKY_ENCODED: &str = "%00%01a-._~%20%25%2B%2FZ9%7F%80%FE%FF%26%3D%3F";

fn request() -> AnnounceRequest {
    AnnounceRequest {
        info_hash: InfoHash(tricky_hash()),
        peer_id: PeerId(*b"-BT0100-abcdefghijkl"),
        port: 6881,
        uploaded: 1,
        downloaded: 2,
        left: 3,
        event: AnnounceEvent::Started,
        numwant: Some(50),
        key: Some(0xbeef),
        tracker_id: Some(b"t id".to_vec()),
        compact: true,
    }
}

#[test]
fn announce_url_encodes_every_parameter_byte_for_byte() {
    let base = Url::parse("http://tracker.example:8080/announce").unwrap();
    let url = announce_url(&base, &request());
    let expected = format!(
        "http://tracker.example:8080/announce?info_hash={TRICKY_ENCODED}\
         &peer_id=-BT0100-abcdefghijkl&port=6881&uploaded=1&downloaded=2&left=3&compact=1\
         &numwant=50&key=0000BEEF&event=started&trackerid=t%20id"
    );
    assert_eq!(url.as_str(), expected);
}

#[test]
fn announce_url_keeps_existing_query_and_omits_optional_parameters() {
    let req = AnnounceRequest {
        event: AnnounceEvent::None,
        numwant: None,
        key: None,
        tracker_id: None,
        compact: false,
        info_hash: InfoHash([0xab; 20]),
        ..request()
    };
    let tail = format!(
        "info_hash={}&peer_id=-BT0100-abcdefghijkl&port=6881&uploaded=1&downloaded=2&left=3",
        "%AB".repeat(20)
    );
    for (base, joined) in [
        (
            "https://t.example/a/announce?passkey=s3cr%2Ft",
            "passkey=s3cr%2Ft&",
        ),
        ("https://t.example/a/announce?passkey=x&", "passkey=x&"),
        ("https://t.example/a/announce?", ""),
        ("https://t.example/a/announce", ""),
    ] {
        let url = announce_url(&Url::parse(base).unwrap(), &req);
        assert_eq!(
            url.query(),
            Some(format!("{joined}{tail}").as_str()),
            "{base}"
        );
    }
}

#[test]
fn announce_request_parses_what_a_client_sends() {
    let query = format!(
        "passkey=zz&info_hash={TRICKY_ENCODED}&peer_id=-BT0100-abcdefghijkl&port=6881\
         &uploaded=1&downloaded=2&left=3&compact=1&numwant=50&key=0000BEEF&event=started\
         &trackerid=t%20id&no_peer_id=1&ip=1.2.3.4"
    );
    assert_eq!(parse_announce_request(&query).unwrap(), request());
    let with_question_mark = format!("?{query}");
    assert_eq!(
        parse_announce_request(&with_question_mark).unwrap(),
        request()
    );
}

#[test]
fn announce_request_rejects_bad_queries() {
    let good = "info_hash=%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB\
                &peer_id=01234567890123456789&port=1&uploaded=0&downloaded=0&left=0";
    let parsed = parse_announce_request(good).unwrap();
    assert_eq!(parsed.event, AnnounceEvent::None);
    assert!(!parsed.compact);
    assert_eq!(
        parse_announce_request(&format!("{good}&event=empty")).unwrap(),
        parsed
    );
    let err = |q: &str| parse_announce_request(q).unwrap_err();
    assert_eq!(
        err(&good.replace("port=1", "port=65536")),
        TrackerRequestError::Invalid("port")
    );
    assert_eq!(
        err(&good.replace("&left=0", "")),
        TrackerRequestError::Missing("left")
    );
    assert_eq!(
        err(&good.replace("%AB%AB&", "%AB&")),
        TrackerRequestError::Invalid("info_hash")
    );
    assert_eq!(
        err(&format!("{good}&port=2")),
        TrackerRequestError::Duplicate("port")
    );
    assert_eq!(
        err(&format!("{good}&event=paused")),
        TrackerRequestError::Invalid("event")
    );
    assert_eq!(err(""), TrackerRequestError::Missing("info_hash"));
    // `+` is a literal byte in a binary parameter, not a space.
    let plus = good.replace("peer_id=0", "peer_id=+");
    assert_eq!(parse_announce_request(&plus).unwrap().peer_id.0[0], b'+');
}

fn body(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn compact_peers_decode() {
    let resp = parse_announce_response(b"d8:intervali1800e5:peers6:\x7f\x00\x00\x01\x1a\xe1e");
    let resp = resp.unwrap();
    assert_eq!(resp.interval, 1800);
    let addr: SocketAddr = "127.0.0.1:6881".parse().unwrap();
    assert_eq!(
        resp.peers,
        vec![TrackerPeer {
            addr,
            peer_id: None
        }]
    );
}

#[test]
fn peers6_follow_ipv4_peers() {
    let mut v6 = vec![0x20, 0x01, 0x0d, 0xb8];
    v6.extend_from_slice(&[0; 11]);
    v6.extend_from_slice(&[1, 0x1a, 0xe9]);
    let raw = body(&[
        b"d8:intervali60e5:peers12:\x0a\x00\x00\x01\x00\x50\xc0\xa8\x01\x02\xff\xff6:peers618:",
        &v6,
        b"e",
    ]);
    let addrs: Vec<SocketAddr> = parse_announce_response(&raw)
        .unwrap()
        .peers
        .iter()
        .map(|p| p.addr)
        .collect();
    let expected: Vec<SocketAddr> = ["10.0.0.1:80", "192.168.1.2:65535", "[2001:db8::1]:6889"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(addrs, expected);
}

#[test]
fn dictionary_peers_decode_and_hostnames_are_skipped() {
    let raw = body(&[
        b"d8:intervali900e12:min intervali60e8:completei5e10:incompletei7e",
        b"10:tracker id3:abc15:warning message4:slow3:fooi1e5:peersl",
        b"d2:ip9:127.0.0.17:peer id20:-XX0001-aaaaaaaaaaaa4:porti6881ee",
        b"d2:ip15:tracker.example4:porti1ee",
        b"d2:ip5:[::1]4:porti2ee",
        b"d2:ip7:2001::24:porti3e7:peer id3:shoeee",
    ]);
    let resp = parse_announce_response(&raw).unwrap();
    let peer = |addr: &str, id: Option<&[u8; 20]>| TrackerPeer {
        addr: addr.parse().unwrap(),
        peer_id: id.map(|id| PeerId(*id)),
    };
    let expected = AnnounceResponse {
        interval: 900,
        min_interval: Some(60),
        tracker_id: Some(b"abc".to_vec()),
        complete: Some(5),
        incomplete: Some(7),
        warning: Some("slow".to_owned()),
        peers: vec![
            peer("127.0.0.1:6881", Some(b"-XX0001-aaaaaaaaaaaa")),
            peer("[::1]:2", None),
            peer("[2001::2]:3", None),
        ],
    };
    assert_eq!(resp, expected);
}

#[test]
fn bad_responses_are_errors() {
    use TrackerResponseError as E;
    let parse = |raw: &[u8]| parse_announce_response(raw).unwrap_err();
    assert_eq!(
        parse(b"d14:failure reason9:not foundee"),
        E::Failure("not found".into())
    );
    // The failure wins even when the rest does not have the expected types.
    assert_eq!(
        parse(b"d14:failure reason2:no8:interval1:xe"),
        E::Failure("no".into())
    );
    assert_eq!(parse(b"d5:peers0:e"), E::Missing("interval"));
    assert_eq!(parse(b"d8:intervali-1ee"), E::OutOfRange("interval"));
    assert!(matches!(
        parse(b"d8:intervali1e5:peersi1ee"),
        E::Malformed(_)
    ));
    assert!(matches!(parse(b"le"), E::Malformed(_)));
    assert!(matches!(parse(b""), E::Malformed(_)));
    assert!(matches!(parse(b"d8:interval"), E::Malformed(_)));
    assert!(matches!(
        parse(b"d8:intervali1e5:peers99:abce"),
        E::Malformed(_)
    ));
}

/// A peer without a peer id.
fn compact_peer(addr: &str) -> TrackerPeer {
    TrackerPeer {
        addr: addr.parse().expect("socket address"),
        peer_id: None,
    }
}

#[test]
fn compact_peers_with_a_partial_entry_keep_the_whole_entries() {
    let v4 = b"d8:intervali1e5:peers7:\x7f\x00\x00\x01\x1a\xe1\x00e";
    let resp = parse_announce_response(v4).expect("a partial entry is not an error");
    assert_eq!(resp.peers, vec![compact_peer("127.0.0.1:6881")]);
    let mut v6 = b"d8:intervali1e5:peers0:6:peers620:".to_vec();
    v6.extend_from_slice(&[0; 15]);
    v6.extend_from_slice(&[1, 0x1a, 0xe1, 0xaa, 0xbb]);
    v6.push(b'e');
    let resp = parse_announce_response(&v6).expect("a partial entry is not an error");
    assert_eq!(resp.peers, vec![compact_peer("[::1]:6881")]);
    let short6 = b"d8:intervali1e6:peers66:123456e";
    assert!(
        parse_announce_response(short6)
            .expect("ok")
            .peers
            .is_empty()
    );
}

#[test]
fn out_of_range_counts_read_as_absent() {
    let raw =
        b"d8:completei-1e10:incompletei4294967296e8:intervali1800e12:min intervali-5e5:peers0:e";
    let resp = parse_announce_response(raw).expect("bad counts are not an error");
    assert_eq!(
        (
            resp.interval,
            resp.complete,
            resp.incomplete,
            resp.min_interval
        ),
        (1800, None, None, None)
    );
}

#[test]
fn one_bad_dictionary_peer_is_skipped_not_the_list() {
    let raw = b"d8:intervali1800e5:peersl\
        d4:porti1ee\
        d2:ip9:127.0.0.14:porti70000ee\
        d2:ip9:127.0.0.14:port1:xe\
        i7e\
        d2:ip9:127.0.0.14:porti6881eeee";
    let resp = parse_announce_response(raw).expect("bad peers are skipped");
    assert_eq!(resp.peers, vec![compact_peer("127.0.0.1:6881")]);
}

#[test]
fn trailing_newline_after_a_response_is_ignored() {
    let raw = b"d8:intervali1800e5:peers6:\x7f\x00\x00\x01\x1a\xe1e\n";
    let resp = parse_announce_response(raw).expect("trailing bytes are ignored");
    assert_eq!(resp.peers, vec![compact_peer("127.0.0.1:6881")]);
}

#[test]
fn memory_amplification_many_values_are_refused_before_decoding() {
    // 2 MiB of empty dictionaries: a million values serde_bencode would each allocate.
    let mut body = b"d8:intervali1e5:peersl".to_vec();
    while body.len() < MAX_RESPONSE_LEN - 4 {
        body.extend_from_slice(b"de");
    }
    body.extend_from_slice(b"ee");
    assert_eq!(
        parse_announce_response(&body),
        Err(TrackerResponseError::TooManyValues {
            max: MAX_RESPONSE_TOKENS
        })
    );
    // The same holds for scrapes.
    let mut scrape = b"d5:filesd".to_vec();
    for i in 0..MAX_RESPONSE_TOKENS / 2 + 1 {
        scrape.extend_from_slice(format!("20:{i:020}de").as_bytes());
    }
    scrape.extend_from_slice(b"ee");
    assert!(scrape.len() < MAX_RESPONSE_LEN);
    assert_eq!(
        parse_scrape_response(&scrape),
        Err(TrackerResponseError::TooManyValues {
            max: MAX_RESPONSE_TOKENS
        })
    );
}

#[test]
fn unknown_keys_are_ignored() {
    let raw = b"d11:external ip4:\x01\x02\x03\x048:intervali5e5:extrald1:ai1eee5:peers0:e";
    assert_eq!(parse_announce_response(raw).unwrap().interval, 5);
}

#[test]
fn deep_nesting_is_rejected_without_recursing() {
    let depth = 10_000;
    let mut raw = b"d8:intervali1e5:extra".to_vec();
    raw.extend(std::iter::repeat_n(b'l', depth));
    raw.extend(std::iter::repeat_n(b'e', depth + 1));
    let max = MAX_DEPTH;
    assert_eq!(
        parse_announce_response(&raw),
        Err(TrackerResponseError::TooDeep { max })
    );
    assert_eq!(
        parse_scrape_response(&raw),
        Err(TrackerResponseError::TooDeep { max })
    );
    // Just under the limit parses; `l` inside a string does not count.
    let ok = format!(
        "d8:intervali1e5:extra{}{}4:more40:{}e",
        "l".repeat(MAX_DEPTH - 2),
        "e".repeat(MAX_DEPTH - 2),
        "l".repeat(40)
    );
    assert_eq!(parse_announce_response(ok.as_bytes()).unwrap().interval, 1);
    let over = format!(
        "d8:intervali1e5:extra{}{}e",
        "l".repeat(MAX_DEPTH),
        "e".repeat(MAX_DEPTH)
    );
    assert_eq!(
        parse_announce_response(over.as_bytes()),
        Err(TrackerResponseError::TooDeep { max })
    );
}

#[test]
fn oversized_bodies_are_rejected_first() {
    let raw = vec![b'l'; MAX_RESPONSE_LEN + 1];
    let err = parse_announce_response(&raw).unwrap_err();
    assert_eq!(
        err,
        TrackerResponseError::TooLarge {
            len: MAX_RESPONSE_LEN + 1,
            max: MAX_RESPONSE_LEN
        }
    );
}

#[test]
fn encodings_are_canonical_bencode() {
    assert_eq!(encode_failure("nope"), b"d14:failure reason4:nopee");
    let resp = AnnounceResponse {
        interval: 60,
        complete: Some(1),
        peers: vec![
            TrackerPeer {
                addr: "127.0.0.1:6881".parse().unwrap(),
                peer_id: None,
            },
            TrackerPeer {
                addr: "[::1]:1".parse().unwrap(),
                peer_id: Some(PeerId([b'p'; 20])),
            },
        ],
        ..Default::default()
    };
    let compact = body(&[
        b"d8:completei1e8:intervali60e5:peers6:\x7f\x00\x00\x01\x1a\xe1",
        b"6:peers618:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x01e",
    ]);
    assert_eq!(encode_announce_response(&resp, true), compact);
    let dicts = body(&[
        b"d8:completei1e8:intervali60e5:peersl",
        b"d2:ip9:127.0.0.14:porti6881ee",
        b"d2:ip3:::17:peer id20:pppppppppppppppppppp4:porti1eeee",
    ]);
    assert_eq!(encode_announce_response(&resp, false), dicts);
}

#[test]
fn scrape_url_follows_bep_48() {
    let hash = InfoHash([0x41; 20]);
    let cases = [
        (
            "http://example.com/announce",
            Some("http://example.com/scrape"),
        ),
        (
            "http://example.com/x/announce",
            Some("http://example.com/x/scrape"),
        ),
        (
            "http://example.com/announce.php",
            Some("http://example.com/scrape.php"),
        ),
        ("http://example.com/a", None),
        (
            "http://example.com/announce?x2%0644",
            Some("http://example.com/scrape?x2%0644"),
        ),
        (
            "http://example.com/announce?x=2/4",
            Some("http://example.com/scrape?x=2/4"),
        ),
        ("http://example.com/x%064announce", None),
        ("udp://example.com:80/announce", None),
    ];
    for (announce, expected) in cases {
        let url = scrape_url(&Url::parse(announce).unwrap(), &[]);
        assert_eq!(url.as_ref().map(Url::as_str), expected, "{announce}");
    }
    let url = scrape_url(
        &Url::parse("http://e.com/announce?k=1").unwrap(),
        &[hash, hash],
    );
    assert_eq!(
        url.unwrap().as_str(),
        format!(
            "http://e.com/scrape?k=1&info_hash={0}&info_hash={0}",
            "A".repeat(20)
        )
    );
}

#[test]
fn scrape_response_decodes() {
    let raw = body(&[
        b"d5:filesd20:",
        &[0x11; 20],
        b"d8:completei5e10:downloadedi50e10:incompletei10e4:name1:xee",
        b"5:flagsd20:min_request_intervali3600eee",
    ]);
    let stats = ScrapeStats {
        complete: 5,
        downloaded: 50,
        incomplete: 10,
    };
    let expected = BTreeMap::from([(InfoHash([0x11; 20]), stats)]);
    assert_eq!(parse_scrape_response(&raw).unwrap(), expected);
    assert_eq!(
        encode_scrape_response(&expected),
        body(&[
            b"d5:filesd20:",
            &[0x11; 20],
            b"d8:completei5e10:downloadedi50e10:incompletei10eeee",
        ])
    );
    let failure = parse_scrape_response(b"d14:failure reason3:offe");
    assert_eq!(failure, Err(TrackerResponseError::Failure("off".into())));
    let short_key = parse_scrape_response(b"d5:filesd3:abcdeee");
    assert_eq!(short_key, Err(TrackerResponseError::BadScrapeKey(3)));
    assert_eq!(
        parse_scrape_response(b"de"),
        Err(TrackerResponseError::Missing("files"))
    );
}
