//! Byte-literal vectors and property tests of magnet parsing and writing.

use super::*;
use proptest::prelude::*;

const HEX: &str = "dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c";
/// The same 20 bytes in RFC 4648 base32 (checked with Python's `base64.b32encode`).
const B32: &str = "3WBFL3G4PSSV7MF37AJSHWDQMLNR63I4";

fn hash() -> InfoHash {
    InfoHash::from_hex(HEX).unwrap()
}

fn err(uri: &str) -> MagnetError {
    MagnetLink::parse(uri).unwrap_err()
}

#[test]
fn parses_bep9_style_link() {
    let uri = format!(
        "magnet:?xt=urn:btih:{HEX}&dn=Big+Buck%20Bunny&tr=udp%3A%2F%2Fexplodie.org%3A6969\
         &tr=wss%3A%2F%2Ftracker.btorrent.xyz&tr=udp%3A%2F%2Fexplodie.org%3A6969\
         &x.pe=127.0.0.1:6881&x.pe=%5B%3A%3A1%5D%3A51413&x.pe=peer.example:1&ws=ignored"
    );
    let link: MagnetLink = uri.parse().unwrap();
    assert_eq!(link.info_hash.as_bytes()[..4], [0xdd, 0x82, 0x55, 0xec]);
    assert_eq!(link.display_name.as_deref(), Some("Big Buck Bunny"));
    assert_eq!(
        link.trackers,
        ["udp://explodie.org:6969", "wss://tracker.btorrent.xyz"]
    );
    assert_eq!(
        link.peers,
        ["127.0.0.1:6881", "[::1]:51413", "peer.example:1"]
    );
}

#[test]
fn base32_equals_hex() {
    for text in [B32.to_owned(), B32.to_ascii_lowercase()] {
        let link = MagnetLink::parse(&format!("magnet:?xt=urn:btih:{text}")).unwrap();
        assert_eq!(link.info_hash, hash());
    }
    let upper = MagnetLink::parse(&format!("MAGNET:?XT=URN:BTIH:{}", HEX.to_uppercase()));
    assert_eq!(upper.unwrap().info_hash, hash());
    assert_eq!(
        decode_base32(b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA7").unwrap()[19],
        0x1f
    );
}

#[test]
fn indexed_and_v2_keys() {
    let both = format!("magnet:?xt.1=urn:btih:{HEX}&xt.2=urn:btih:{B32}&tr.1=a&tr.2=b");
    let link = MagnetLink::parse(&both).unwrap();
    assert_eq!(
        (link.info_hash, link.trackers),
        (hash(), vec!["a".into(), "b".into()])
    );
    let v2 = "urn:btmh:1220caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e";
    let hybrid = format!("magnet:?xt={v2}&xt=urn:btih:{HEX}&xt=urn:sha1:ABC");
    assert_eq!(MagnetLink::parse(&hybrid).unwrap().info_hash, hash());
    assert_eq!(err(&format!("magnet:?xt={v2}")), MagnetError::V2Unsupported);
    let other = format!(
        "magnet:?xt.1=urn:btih:{HEX}&xt.2=urn:btih:{}",
        "0".repeat(40)
    );
    assert!(matches!(
        err(&other),
        MagnetError::ConflictingInfoHashes { .. }
    ));
}

#[test]
fn rejects_with_a_reason() {
    let xt = |h: &str| format!("magnet:?xt=urn:btih:{h}");
    assert_eq!(
        err("http://example.com/?xt=urn:btih:x"),
        MagnetError::NotMagnet
    );
    assert_eq!(err("magnet"), MagnetError::NotMagnet);
    assert_eq!(err("magnet:xt=urn:btih:x"), MagnetError::MissingQuery);
    assert_eq!(err("magnet:?dn=x&tr=y"), MagnetError::MissingInfoHash);
    assert_eq!(err(&xt(&"g".repeat(40))), MagnetError::BadHex);
    assert_eq!(
        err(&xt(&"A".repeat(31))),
        MagnetError::HashLength { len: 31 }
    );
    assert_eq!(
        err(&xt(&format!("{}1", &B32[..31]))),
        MagnetError::BadBase32
    );
    assert_eq!(err(&xt(&"é".repeat(16))), MagnetError::BadBase32);
    let bad_pct = MagnetError::BadPercentEncoding {
        param: "xt.1".into(),
    };
    assert_eq!(err(&format!("magnet:?xt.1=urn:btih:{HEX}%zz")), bad_pct);
    let utf8 = MagnetError::InvalidUtf8 { param: "xt".into() };
    assert_eq!(err("magnet:?xt=urn:btih:%ff%fe"), utf8);
    let long = format!("{}&dn={}", xt(HEX), "a".repeat(MAX_URI_LEN));
    assert!(matches!(err(&long), MagnetError::TooLong { .. }));
    assert!(err(&long).to_string().starts_with("magnet uri is"));
    assert!(MagnetLink::parse(&format!("{}&junk=%zz&&=", xt(HEX))).is_ok());
}

#[test]
fn bad_optional_values_are_skipped_keeping_the_link() {
    let base = format!("magnet:?xt=urn:btih:{HEX}");
    for peer in [
        "foo",
        "1.2.3.4:0",
        "::1:6881",
        "h:99999",
        "h:1x",
        ":80",
        "a..b:1",
        "garbage",
        "%zz",
        "h%ff:1",
    ] {
        let uri = format!("{base}&x.pe={peer}&x.pe=ok.example:1");
        let link = MagnetLink::parse(&uri).unwrap_or_else(|e| panic!("{peer}: {e}"));
        assert_eq!(link.peers, ["ok.example:1"], "{peer}");
    }
    for tracker in ["http://a/b%", "%2", "%zz", "udp%ff%fe"] {
        let uri = format!("{base}&tr={tracker}&tr=http%3A%2F%2Fok%2F");
        let link = MagnetLink::parse(&uri).unwrap_or_else(|e| panic!("{tracker}: {e}"));
        assert_eq!(link.trackers, ["http://ok/"], "{tracker}");
    }
    let latin1 = MagnetLink::parse(&format!("{base}&dn=caf%E9")).expect("lossy dn");
    assert_eq!(latin1.display_name.as_deref(), Some("caf\u{fffd}"));
    let bad_dn = MagnetLink::parse(&format!("{base}&dn=%zz")).expect("bad dn skipped");
    assert_eq!(bad_dn.display_name, None);
}

#[test]
fn writes_an_encoded_uri() {
    let link = MagnetLink {
        display_name: Some("a b+c/é".into()),
        trackers: vec!["udp://t:1/a?b=c&d".into(), String::new()],
        peers: vec!["h:1".into(), "[::1]:2".into()],
        ..MagnetLink::new(hash())
    };
    // x.pe keeps its `:` and brackets: libtorrent reads `x.pe` values undecoded.
    let expected = format!(
        "magnet:?xt=urn:btih:{HEX}&dn=a%20b%2Bc%2F%C3%A9\
         &tr=udp%3A%2F%2Ft%3A1%2Fa%3Fb%3Dc%26d&x.pe=h:1&x.pe=[::1]:2"
    );
    assert_eq!(link.to_uri(), expected);
    assert_eq!(link.to_string(), expected);
    assert_eq!(
        MagnetLink::new(hash()).to_uri(),
        format!("magnet:?xt=urn:btih:{HEX}")
    );
}

fn peer() -> impl Strategy<Value = String> {
    let host = prop_oneof![
        any::<[u8; 4]>().prop_map(|o| std::net::Ipv4Addr::from(o).to_string()),
        any::<[u8; 16]>().prop_map(|o| format!("[{}]", Ipv6Addr::from(o))),
        "[a-z0-9_-]{1,10}(\\.[a-z0-9-]{1,10}){0,3}",
    ];
    (host, 1u16..).prop_map(|(h, p)| format!("{h}:{p}"))
}

fn unique(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !item.is_empty() && !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

proptest! {
    #[test]
    fn uri_round_trip(
        bytes: [u8; 20],
        name in proptest::option::of(".+"),
        trackers in proptest::collection::vec(any::<String>(), 0..4),
        peers in proptest::collection::vec(peer(), 0..4),
    ) {
        let link = MagnetLink {
            info_hash: InfoHash(bytes),
            display_name: name,
            trackers: unique(trackers),
            peers: unique(peers),
        };
        prop_assert_eq!(MagnetLink::parse(&link.to_uri()), Ok(link));
    }

    #[test]
    fn parse_never_panics(text: String) {
        let _ = MagnetLink::parse(&text);
    }

    #[test]
    fn parse_never_panics_on_near_misses(
        query in "((xt|xt\\.[0-9]|tr|dn|x\\.pe|x\\.pe\\.1)=[a-zA-Z0-9%:.+\\[\\]é]{0,45}&?){0,6}"
    ) {
        let _ = MagnetLink::parse(&format!("magnet:?{query}"));
        let _ = MagnetLink::parse(&format!("magnet:?xt=urn:btih:{query}"));
    }
}
