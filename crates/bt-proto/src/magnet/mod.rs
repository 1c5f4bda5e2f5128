//! Magnet URIs (BEP 9): `magnet:?xt=urn:btih:<info-hash>&dn=<name>&tr=<tracker>&x.pe=<peer>`.
//!
//! Only `xt` is essential, so parsing is strict about it (a mistake would mean fetching the
//! wrong torrent) and lenient about the rest, where the web is messy:
//! - the info-hash is 40 hex digits or 32 base32 characters (RFC 4648 alphabet, no padding),
//!   either case; it may repeat (`xt`, `xt.1`, `xt.2`, ...) but never differ; an `xt` that is
//!   badly percent-encoded or not UTF-8 is an error;
//! - a v2 hash (`urn:btmh:`, BEP 52) is tolerated beside a v1 hash and rejected alone, since v2
//!   torrents are not supported yet; other `xt` URNs and unknown parameters are ignored;
//! - values are percent-decoded (a `%` must be followed by two hex digits) and `+` reads as a
//!   space, as libtorrent does;
//! - a `tr` or `x.pe` value that is badly percent-encoded, not UTF-8, or (for `x.pe`) not
//!   `host:port` is skipped; `x.pe` takes a hostname, an IPv4 address or a bracketed IPv6
//!   address, and a port from 1 to 65535;
//! - `dn` is only displayed, so one that is not UTF-8 is decoded lossily, and one badly
//!   percent-encoded is skipped;
//! - trackers and peers keep their order with duplicates dropped; the first `dn` wins;
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

/// A peer address (`x.pe`) keeps its `:` and brackets, which RFC 3986 allows in a query:
/// libtorrent does not decode an `x.pe` value, so `127.0.0.1%3A6881` names no peer to it.
const PEER: &AsciiSet = &VALUE.remove(b':').remove(b'[').remove(b']');

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
    /// A `%` not followed by two hex digits in `xt`.
    #[error("bad percent-encoding in parameter {param}")]
    BadPercentEncoding {
        /// The parameter's key as written.
        param: String,
    },
    /// An `xt` value that is not UTF-8 once percent-decoded.
    #[error("parameter {param} is not valid utf-8 once percent-decoded")]
    InvalidUtf8 {
        /// The parameter's key as written.
        param: String,
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

    /// The URI form: hex info-hash, then `dn`, `tr` and `x.pe`, each value percent-encoded
    /// (but the `:` and brackets of `x.pe` addresses, for libtorrent). An empty name or
    /// tracker is left out.
    pub fn to_uri(&self) -> String {
        let mut uri = format!("magnet:?xt=urn:btih:{}", self.info_hash);
        let name = self.display_name.iter().map(|n| ("dn", n, VALUE));
        let trackers = self.trackers.iter().map(|t| ("tr", t, VALUE));
        let peers = self.peers.iter().map(|p| ("x.pe", p, PEER));
        for (key, value, set) in name.chain(trackers).chain(peers) {
            if value.is_empty() {
                continue;
            }
            uri.push('&');
            uri.push_str(key);
            uri.push('=');
            uri.extend(utf8_percent_encode(value, set));
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
    /// Adds one parameter; only a bad `xt` is an error, other bad values are skipped.
    fn add(&mut self, key: &str, raw: &str) -> Result<(), MagnetError> {
        let kind = Key::classify(key);
        if kind == Key::Other {
            return Ok(());
        }
        let decoded = percent_decode(raw);
        match kind {
            Key::Xt => {
                let bytes = decoded.ok_or_else(|| MagnetError::BadPercentEncoding {
                    param: key.to_owned(),
                })?;
                let urn = String::from_utf8(bytes).map_err(|_| MagnetError::InvalidUtf8 {
                    param: key.to_owned(),
                })?;
                self.add_xt(&urn)?;
            }
            Key::Dn if self.display_name.is_none() => {
                let name = decoded.map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
                self.display_name = name.filter(|name| !name.is_empty());
            }
            Key::Tr => {
                if let Some(url) = utf8(decoded).filter(|url| !url.is_empty()) {
                    if !self.trackers.contains(&url) {
                        self.trackers.push(url);
                    }
                }
            }
            Key::Peer => {
                if let Some(peer) = utf8(decoded).filter(|peer| is_host_port(peer)) {
                    if !self.peers.contains(&peer) {
                        self.peers.push(peer);
                    }
                }
            }
            Key::Dn | Key::Other => {}
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

/// Decoded bytes that are UTF-8, as text.
fn utf8(decoded: Option<Vec<u8>>) -> Option<String> {
    decoded.and_then(|bytes| String::from_utf8(bytes).ok())
}

/// Strict percent-decoding with `+` as a space; `None` when a `%` is not followed by two hex
/// digits.
fn percent_decode(raw: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.bytes();
    while let Some(byte) = bytes.next() {
        match byte {
            b'%' => {
                let high = bytes.next().and_then(hex_value)?;
                let low = bytes.next().and_then(hex_value)?;
                out.push(high << 4 | low);
            }
            b'+' => out.push(b' '),
            other => out.push(other),
        }
    }
    Some(out)
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
mod tests;
