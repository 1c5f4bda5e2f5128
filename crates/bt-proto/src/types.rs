//! Newtypes for the identifiers that peers and trackers send us.
//!
//! A raw `[u8; 20]` could be an info-hash, a peer id or a piece hash; the newtypes keep them apart
//! and give each a readable `Display` (lowercase hex).

use std::fmt;

/// Writes bytes as lowercase hex.
fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for byte in bytes {
        write!(f, "{byte:02x}")?;
    }
    Ok(())
}

/// Parses exactly 40 hex digits (either case) into 20 bytes.
fn parse_hex20(text: &str) -> Option<[u8; 20]> {
    let digits = text.as_bytes();
    if digits.len() != 40 {
        return None;
    }
    let mut out = [0u8; 20];
    for (slot, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let high = (pair[0] as char).to_digit(16)?;
        let low = (pair[1] as char).to_digit(16)?;
        *slot = (high * 16 + low) as u8;
    }
    Some(out)
}

/// The SHA-1 of a torrent's bencoded `info` dictionary (BEP 3): the torrent's identity in the
/// handshake, on trackers and in magnet links.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InfoHash(pub [u8; 20]);

impl InfoHash {
    /// The 20 raw bytes.
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// Parses the 40-hex-digit form (either case).
    pub fn from_hex(text: &str) -> Option<Self> {
        parse_hex20(text).map(Self)
    }

    /// The first eight hex digits, for log fields and span names.
    pub fn short(&self) -> String {
        self.to_string()[..8].to_owned()
    }
}

impl fmt::Display for InfoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for InfoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InfoHash({self})")
    }
}

/// A peer's self-chosen 20-byte id, sent in the handshake and to trackers (BEP 3, BEP 20).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(pub [u8; 20]);

impl PeerId {
    /// The 20 raw bytes.
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// A peer id in the Azureus style of BEP 20: `-BT0100-` then twelve caller-supplied bytes
    /// (the caller brings the randomness, since this crate does no I/O and holds no RNG).
    pub fn with_random_suffix(suffix: [u8; 12]) -> Self {
        let mut id = [0u8; 20];
        id[..8].copy_from_slice(b"-BT0100-");
        id[8..].copy_from_slice(&suffix);
        Self(id)
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Most clients put a printable prefix first; show it as text and the rest as hex.
        let printable = self.0.iter().take_while(|b| b.is_ascii_graphic()).count();
        let (text, rest) = self.0.split_at(printable);
        f.write_str(&String::from_utf8_lossy(text))?;
        write_hex(f, rest)
    }
}

impl fmt::Debug for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PeerId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_hash_hex_round_trip() {
        let hash = InfoHash([0xab; 20]);
        assert_eq!(hash.to_string(), "ab".repeat(20));
        assert_eq!(InfoHash::from_hex(&"AB".repeat(20)), Some(hash));
        assert_eq!(hash.short(), "abababab");
    }

    #[test]
    fn info_hash_rejects_bad_hex() {
        assert_eq!(InfoHash::from_hex("abc"), None);
        assert_eq!(InfoHash::from_hex(&"zz".repeat(20)), None);
        assert_eq!(InfoHash::from_hex(&"é".repeat(20)), None);
    }

    #[test]
    fn peer_id_display_shows_prefix_then_hex() {
        let id = PeerId::with_random_suffix([0xff; 12]);
        assert_eq!(id.to_string(), format!("-BT0100-{}", "ff".repeat(12)));
    }
}
