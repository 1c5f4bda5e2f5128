//! Magnet URIs (BEP 9): `magnet:?xt=urn:btih:<info-hash>&dn=<name>&tr=<tracker>&x.pe=<peer>`.
//!
//! Parsing is strict where a mistake would mean fetching the wrong torrent and lenient where
//! the web is messy:
//! - the info-hash is 40 hex digits or 32 base32 characters (RFC 4648 alphabet, no padding),
//!   either case; it may repeat (`xt`, `xt.1`, `xt.2`, ...) but never differ;
//! - a v2 hash (`urn:btmh:`, BEP 52) is tolerated beside a v1 hash and rejected alone, since v2
//!   torrents are not supported yet; other `xt` URNs and unknown parameters are ignored;
//! - `dn`, `tr` and `x.pe` are percent-decoded strictly (a `%` must be followed by two hex
//!   digits, the result must be UTF-8) and `+` reads as a space, as libtorrent does;
//! - trackers and peers keep their order with duplicates dropped; the first `dn` wins;
//! - `x.pe` entries must be `host:port` (a hostname, an IPv4 address or a bracketed IPv6
//!   address, and a port from 1 to 65535);
//! - input over [`MAX_URI_LEN`] is refused before any work.
//!
//! [`MagnetLink::to_uri`] writes the info-hash as lowercase hex and percent-encodes every byte
//! of the values except RFC 3986 unreserved characters, so parsing its output gives back the
//! same link.

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use thiserror::Error;

use crate::types::InfoHash;

/// The longest magnet URI accepted, in bytes.
pub const MAX_URI_LEN: usize = 64 * 1024;

/// Everything but RFC 3986 unreserved characters gets percent-encoded in a value.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Why a magnet URI was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MagnetError {
    /// The input is longer than [`MAX_URI_LEN`].
    #[error("magnet uri is {len} bytes, over the limit of {max}")]
    TooLong {
        /// The input's length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The input does not start with `magnet:`.
    #[error("not a magnet uri: missing the magnet: scheme")]
    NotMagnet,
    /// Nothing follows `magnet:` but a `?` query.
    #[error("magnet uri has no query after magnet:")]
    MissingQuery,
    /// No `xt=urn:btih:` parameter.
    #[error("magnet uri has no xt=urn:btih: info-hash")]
    MissingInfoHash,
    /// Only a v2 `urn:btmh:` info-hash, which this client cannot use.
    #[error("magnet uri has only a v2 info-hash (urn:btmh), and v2 torrents are not supported")]
    V2Unsupported,
    /// Two `xt=urn:btih:` parameters with different hashes.
    #[error("magnet uri names two different info-hashes, {first} and {second}")]
    ConflictingInfoHashes {
        /// The first hash seen.
        first: InfoHash,
        /// The different hash seen later.
        second: InfoHash,
    },
    /// A btih value that is neither 40 nor 32 characters long.
    #[error("btih info-hash is {len} characters, expected 40 hex or 32 base32")]
    HashLength {
        /// The value's length in bytes.
        len: usize,
    },
    /// A 40-character btih value with a non-hex character.
    #[error("btih info-hash has a character that is not a hex digit")]
    BadHex,
    /// A 32-character btih value with a character outside the base32 alphabet.
    #[error("btih info-hash has a character outside the base32 alphabet")]
    BadBase32,
    /// A `%` not followed by two hex digits.
    #[error("bad percent-encoding in parameter {param}")]
    BadPercentEncoding {
        /// The parameter's key as written.
        param: String,
    },
    /// A value that is not UTF-8 once percent-decoded.
    #[error("parameter {param} is not valid utf-8 once percent-decoded")]
    InvalidUtf8 {
        /// The parameter's key as written.
        param: String,
    },
    /// An `x.pe` value that is not `host:port`.
    #[error("x.pe peer {value:?} is not host:port")]
    BadPeer {
        /// The decoded value.
        value: String,
    },
}

/// A parsed magnet link: enough to find peers and fetch the metadata (BEP 9).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MagnetLink {
    /// The v1 info-hash (`xt=urn:btih:`).
    pub info_hash: InfoHash,
    /// The suggested name (`dn`), shown until the metadata arrives.
    pub display_name: Option<String>,
    /// Tracker URLs (`tr`), in the order given, without duplicates.
    pub trackers: Vec<String>,
    /// Peer addresses (`x.pe`) as `host:port`, in the order given, without duplicates.
    pub peers: Vec<String>,
}

impl MagnetLink {
    /// A link with only an info-hash.
    pub fn new(info_hash: InfoHash) -> MagnetLink {
        MagnetLink {
            info_hash,
            display_name: None,
            trackers: Vec::new(),
            peers: Vec::new(),
        }
    }

    /// Parses a magnet URI; see the module docs for what is accepted.
    pub fn parse(uri: &str) -> Result<MagnetLink, MagnetError> {
        if uri.len() > MAX_URI_LEN {
            return Err(MagnetError::TooLong {
                len: uri.len(),
                max: MAX_URI_LEN,
            });
        }
        let rest = match uri.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case("magnet:") => uri.get(7..).unwrap_or(""),
            _ => return Err(MagnetError::NotMagnet),
        };
        let query = rest.strip_prefix('?').ok_or(MagnetError::MissingQuery)?;
        let mut parts = Parts::default();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            parts.add(key, value)?;
        }
        parts.finish()
    }

    /// The URI form: hex info-hash, then `dn`, `tr` and `x.pe`, each value percent-encoded.
    /// An empty name or tracker is left out.
    pub fn to_uri(&self) -> String {
        let mut uri = format!("magnet:?xt=urn:btih:{}", self.info_hash);
        let name = self.display_name.iter().map(|n| ("dn", n));
        let trackers = self.trackers.iter().map(|t| ("tr", t));
        let peers = self.peers.iter().map(|p| ("x.pe", p));
        for (key, value) in name.chain(trackers).chain(peers) {
            if value.is_empty() {
                continue;
            }
            uri.push('&');
            uri.push_str(key);
            uri.push('=');
            uri.extend(utf8_percent_encode(value, VALUE));
        }
        uri
    }
}

impl fmt::Display for MagnetLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_uri())
    }
}

impl FromStr for MagnetLink {
    type Err = MagnetError;

    fn from_str(uri: &str) -> Result<MagnetLink, MagnetError> {
        MagnetLink::parse(uri)
    }
}

/// The parameters this module reads; `xt.1`, `tr.2` and so on map to their base key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Xt,
    Dn,
    Tr,
    Peer,
    Other,
}

impl Key {
    fn classify(key: &str) -> Key {
        let base = match key.rsplit_once('.') {
            Some((base, index))
                if !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()) =>
            {
                base
            }
            _ => key,
        };
        let is = |name: &str| base.eq_ignore_ascii_case(name);
        if is("xt") {
            Key::Xt
        } else if is("dn") {
            Key::Dn
        } else if is("tr") {
            Key::Tr
        } else if is("x.pe") {
            Key::Peer
        } else {
            Key::Other
        }
    }
}

/// What has been read so far.
#[derive(Debug, Default)]
struct Parts {
    info_hash: Option<InfoHash>,
    saw_v2: bool,
    display_name: Option<String>,
    trackers: Vec<String>,
    peers: Vec<String>,
}

impl Parts {
    fn add(&mut self, key: &str, raw: &str) -> Result<(), MagnetError> {
        let kind = Key::classify(key);
        if kind == Key::Other {
            return Ok(());
        }
        let value = decode_value(raw, key)?;
        match kind {
            Key::Xt => self.add_xt(&value)?,
            Key::Dn if self.display_name.is_none() && !value.is_empty() => {
                self.display_name = Some(value);
            }
            Key::Tr if !value.is_empty() && !self.trackers.contains(&value) => {
                self.trackers.push(value);
            }
            Key::Peer => {
                if !is_host_port(&value) {
                    return Err(MagnetError::BadPeer { value });
                }
                if !self.peers.contains(&value) {
                    self.peers.push(value);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn add_xt(&mut self, urn: &str) -> Result<(), MagnetError> {
        let prefix = urn.get(..9).unwrap_or("");
        if prefix.eq_ignore_ascii_case("urn:btmh:") {
            self.saw_v2 = true;
            return Ok(());
        }
        if !prefix.eq_ignore_ascii_case("urn:btih:") {
            return Ok(()); // another URN scheme (sha1, ed2k, ...): not ours
        }
        let hash = parse_btih(urn.get(9..).unwrap_or(""))?;
        match self.info_hash {
            Some(first) if first != hash => Err(MagnetError::ConflictingInfoHashes {
                first,
                second: hash,
            }),
            _ => {
                self.info_hash = Some(hash);
                Ok(())
            }
        }
    }

    fn finish(self) -> Result<MagnetLink, MagnetError> {
        let info_hash = match (self.info_hash, self.saw_v2) {
            (Some(hash), _) => hash,
            (None, true) => return Err(MagnetError::V2Unsupported),
            (None, false) => return Err(MagnetError::MissingInfoHash),
        };
        Ok(MagnetLink {
            info_hash,
            display_name: self.display_name,
            trackers: self.trackers,
            peers: self.peers,
        })
    }
}

/// Parses the part after `urn:btih:`: 40 hex digits or 32 base32 characters.
fn parse_btih(text: &str) -> Result<InfoHash, MagnetError> {
    match text.len() {
        40 => InfoHash::from_hex(text).ok_or(MagnetError::BadHex),
        32 => decode_base32(text.as_bytes())
            .map(InfoHash)
            .ok_or(MagnetError::BadBase32),
        len => Err(MagnetError::HashLength { len }),
    }
}

/// Decodes 32 characters of RFC 4648 base32 (either case, no padding) into 20 bytes.
fn decode_base32(text: &[u8]) -> Option<[u8; 20]> {
    if text.len() != 32 {
        return None;
    }
    let mut out = [0u8; 20];
    let mut slots = out.iter_mut();
    let mut acc: u32 = 0;
    let mut bits: u32 = 0;
    for &c in text {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        // At most 7 + 5 bits are pending, so `acc` never overflows.
        acc = (acc << 5) | u32::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            *slots.next()? = ((acc >> bits) & 0xff) as u8;
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Strict percent-decoding with `+` as a space; the key names the parameter in errors.
fn decode_value(raw: &str, key: &str) -> Result<String, MagnetError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.bytes();
    while let Some(byte) = bytes.next() {
        match byte {
            b'%' => {
                let high = bytes.next().and_then(hex_value);
                let low = bytes.next().and_then(hex_value);
                let (Some(high), Some(low)) = (high, low) else {
                    return Err(MagnetError::BadPercentEncoding {
                        param: key.to_owned(),
                    });
                };
                out.push(high << 4 | low);
            }
            b'+' => out.push(b' '),
            other => out.push(other),
        }
    }
    String::from_utf8(out).map_err(|_| MagnetError::InvalidUtf8 {
        param: key.to_owned(),
    })
}

fn hex_value(digit: u8) -> Option<u8> {
    (digit as char)
        .to_digit(16)
        .and_then(|v| u8::try_from(v).ok())
}

/// `host:port` with a hostname, an IPv4 address or a bracketed IPv6 address, and port 1-65535.
fn is_host_port(text: &str) -> bool {
    let Some((host, port)) = text.rsplit_once(':') else {
        return false;
    };
    let port_ok = !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u16>().is_ok_and(|p| p != 0);
    if !port_ok {
        return false;
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().is_ok();
    }
    // A hostname or dotted IPv4: labels of letters, digits, '-' and '_'.
    host.len() <= 253
        && host.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
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
            param: "tr.3".into(),
        };
        assert_eq!(err(&format!("{}&tr.3=%2", xt(HEX))), bad_pct);
        assert_eq!(err(&format!("{}&tr.3=%zz", xt(HEX))), bad_pct);
        let utf8 = MagnetError::InvalidUtf8 { param: "dn".into() };
        assert_eq!(err(&format!("{}&dn=%ff%fe", xt(HEX))), utf8);
        for peer in [
            "foo",
            "1.2.3.4:0",
            "::1:6881",
            "h:99999",
            "h:1x",
            ":80",
            "a..b:1",
        ] {
            let expected = MagnetError::BadPeer { value: peer.into() };
            assert_eq!(err(&format!("{}&x.pe={peer}", xt(HEX))), expected);
        }
        let long = format!("{}&dn={}", xt(HEX), "a".repeat(MAX_URI_LEN));
        assert!(matches!(err(&long), MagnetError::TooLong { .. }));
        assert!(err(&long).to_string().starts_with("magnet uri is"));
        assert!(MagnetLink::parse(&format!("{}&junk=%zz&&=", xt(HEX))).is_ok());
    }

    #[test]
    fn writes_an_encoded_uri() {
        let link = MagnetLink {
            display_name: Some("a b+c/é".into()),
            trackers: vec!["udp://t:1/a?b=c&d".into(), String::new()],
            peers: vec!["h:1".into()],
            ..MagnetLink::new(hash())
        };
        let expected = format!(
            "magnet:?xt=urn:btih:{HEX}&dn=a%20b%2Bc%2F%C3%A9\
             &tr=udp%3A%2F%2Ft%3A1%2Fa%3Fb%3Dc%26d&x.pe=h%3A1"
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
}
