//! The peer handshake (BEP 3) and its reserved extension bits (BEP 5, BEP 6, BEP 10).
//!
//! A handshake is always [`Handshake::LEN`] = 68 bytes:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | `pstrlen` = 19 |
//! | 1 | 19 | `pstr` = `"BitTorrent protocol"` |
//! | 20 | 8 | reserved (extension bits) |
//! | 28 | 20 | info-hash |
//! | 48 | 20 | peer id |
//!
//! A listener must route an incoming connection by info-hash before it knows the torrent, and
//! some clients wait for our handshake before sending their peer id, so the first
//! [`Handshake::PREFIX_LEN`] = 48 bytes can be decoded on their own with
//! [`Handshake::decode_prefix`].

use std::fmt;

use bytes::{BufMut, BytesMut};

use crate::types::{InfoHash, PeerId};

/// The protocol string of BEP 3, sent after its one-byte length.
pub const PROTOCOL: &[u8; 19] = b"BitTorrent protocol";

/// Errors from decoding a handshake; each means the remote is not speaking BitTorrent (or is
/// speaking an encrypted variant this crate does not handle).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// The first byte was not 19.
    #[error("handshake protocol string length is {0}, expected 19")]
    BadProtocolLength(u8),
    /// The protocol string was not `"BitTorrent protocol"`.
    #[error("handshake protocol string is not \"BitTorrent protocol\"")]
    BadProtocol,
}

/// The 8 reserved bytes of the handshake, where each side advertises the extensions it supports.
///
/// Named accessors cover the bits this crate knows; every other bit is kept as received, so a
/// handshake decodes and re-encodes unchanged.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Reserved(pub [u8; 8]);

impl Reserved {
    /// Byte and mask of the extension protocol bit (BEP 10): the 20th bit from the right.
    const EXTENSION_PROTOCOL: (usize, u8) = (5, 0x10);
    /// Byte and mask of the fast extension bit (BEP 6): the third least significant bit.
    const FAST: (usize, u8) = (7, 0x04);
    /// Byte and mask of the DHT bit (BEP 5): the last bit.
    const DHT: (usize, u8) = (7, 0x01);

    /// No extension advertised: all eight bytes zero.
    pub const NONE: Self = Self([0; 8]);

    fn get(&self, (index, mask): (usize, u8)) -> bool {
        self.0[index] & mask != 0
    }

    fn set(&mut self, (index, mask): (usize, u8), on: bool) {
        if on {
            self.0[index] |= mask;
        } else {
            self.0[index] &= !mask;
        }
    }

    /// Whether the extension protocol (BEP 10) is supported: `reserved[5] & 0x10`.
    pub fn extension_protocol(&self) -> bool {
        self.get(Self::EXTENSION_PROTOCOL)
    }

    /// Sets or clears the extension protocol bit (BEP 10).
    pub fn set_extension_protocol(&mut self, on: bool) {
        self.set(Self::EXTENSION_PROTOCOL, on);
    }

    /// Whether the fast extension (BEP 6) is supported: `reserved[7] & 0x04`.
    pub fn fast(&self) -> bool {
        self.get(Self::FAST)
    }

    /// Sets or clears the fast extension bit (BEP 6).
    pub fn set_fast(&mut self, on: bool) {
        self.set(Self::FAST, on);
    }

    /// Whether the peer runs a DHT node (BEP 5): `reserved[7] & 0x01`. Such a peer may send a
    /// `port` message.
    pub fn dht(&self) -> bool {
        self.get(Self::DHT)
    }

    /// Sets or clears the DHT bit (BEP 5).
    pub fn set_dht(&mut self, on: bool) {
        self.set(Self::DHT, on);
    }
}

impl fmt::Debug for Reserved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Reserved(")?;
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        write!(
            f,
            ", ext={}, fast={}, dht={})",
            self.extension_protocol(),
            self.fast(),
            self.dht()
        )
    }
}

/// A decoded or to-be-sent handshake (BEP 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Handshake {
    /// The extensions the sender supports.
    pub reserved: Reserved,
    /// The torrent the connection is about; a listener routes by it.
    pub info_hash: InfoHash,
    /// The sender's id; lets us notice a connection to ourselves or a duplicate peer.
    pub peer_id: PeerId,
}

impl Handshake {
    /// The encoded length: 1 + 19 + 8 + 20 + 20.
    pub const LEN: usize = 68;
    /// The length up to and including the info-hash, which is enough to route a connection.
    pub const PREFIX_LEN: usize = 48;

    /// Offset of the reserved bytes.
    const RESERVED_AT: usize = 20;
    /// Offset of the info-hash.
    const INFO_HASH_AT: usize = 28;

    /// Builds a handshake.
    pub fn new(reserved: Reserved, info_hash: InfoHash, peer_id: PeerId) -> Self {
        Self {
            reserved,
            info_hash,
            peer_id,
        }
    }

    /// The 68 encoded bytes.
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0] = 19;
        out[1..Self::RESERVED_AT].copy_from_slice(PROTOCOL);
        out[Self::RESERVED_AT..Self::INFO_HASH_AT].copy_from_slice(&self.reserved.0);
        out[Self::INFO_HASH_AT..Self::PREFIX_LEN].copy_from_slice(self.info_hash.as_bytes());
        out[Self::PREFIX_LEN..].copy_from_slice(self.peer_id.as_bytes());
        out
    }

    /// Appends the 68 encoded bytes to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.to_bytes());
    }

    /// Decodes a whole handshake from the start of `buf`.
    ///
    /// Returns `Ok(None)` while fewer than [`Self::LEN`] bytes are there, and an error as soon as
    /// the bytes present show a wrong length byte or protocol string. On success the handshake
    /// took exactly [`Self::LEN`] bytes; anything after it (often the first message) is the
    /// caller's to keep.
    pub fn decode(buf: &[u8]) -> Result<Option<Self>, HandshakeError> {
        let Some((reserved, info_hash)) = Self::decode_prefix(buf)? else {
            return Ok(None);
        };
        let Some(peer_id) = buf.get(Self::PREFIX_LEN..Self::LEN).and_then(array20) else {
            return Ok(None);
        };
        Ok(Some(Self {
            reserved,
            info_hash,
            peer_id: PeerId(peer_id),
        }))
    }

    /// Decodes the first [`Self::PREFIX_LEN`] bytes (up to the info-hash) from the start of
    /// `buf`, so a listener can pick the torrent before the peer id arrives.
    ///
    /// Returns `Ok(None)` while fewer than 48 bytes are there, with the same early errors as
    /// [`Self::decode`]. Consumes nothing: once the peer id is there, call [`Self::decode`] on
    /// the same bytes.
    pub fn decode_prefix(buf: &[u8]) -> Result<Option<(Reserved, InfoHash)>, HandshakeError> {
        check_protocol(buf)?;
        let reserved = buf.get(Self::RESERVED_AT..Self::INFO_HASH_AT);
        let info_hash = buf
            .get(Self::INFO_HASH_AT..Self::PREFIX_LEN)
            .and_then(array20);
        match (reserved, info_hash) {
            (Some(reserved), Some(info_hash)) => {
                let mut bits = [0u8; 8];
                bits.copy_from_slice(reserved);
                Ok(Some((Reserved(bits), InfoHash(info_hash))))
            }
            _ => Ok(None),
        }
    }
}

/// Checks the length byte and as much of the protocol string as `buf` holds.
fn check_protocol(buf: &[u8]) -> Result<(), HandshakeError> {
    let Some((&pstrlen, rest)) = buf.split_first() else {
        return Ok(());
    };
    if usize::from(pstrlen) != PROTOCOL.len() {
        return Err(HandshakeError::BadProtocolLength(pstrlen));
    }
    let seen = rest.len().min(PROTOCOL.len());
    if rest.get(..seen) != PROTOCOL.get(..seen) {
        return Err(HandshakeError::BadProtocol);
    }
    Ok(())
}

/// Copies a 20-byte slice into an array; `None` for any other length.
fn array20(bytes: &[u8]) -> Option<[u8; 20]> {
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Handshake {
        let mut reserved = Reserved::NONE;
        reserved.set_extension_protocol(true);
        reserved.set_fast(true);
        reserved.set_dht(true);
        Handshake::new(reserved, InfoHash([0xaa; 20]), PeerId([0xbb; 20]))
    }

    /// The BEP 3 layout written out by hand.
    fn sample_bytes() -> Vec<u8> {
        let mut bytes = vec![19];
        bytes.extend_from_slice(b"BitTorrent protocol");
        bytes.extend_from_slice(&[0, 0, 0, 0, 0, 0x10, 0, 0x05]);
        bytes.extend_from_slice(&[0xaa; 20]);
        bytes.extend_from_slice(&[0xbb; 20]);
        bytes
    }

    #[test]
    fn encodes_bep3_layout() {
        let mut out = BytesMut::new();
        sample().encode(&mut out);
        assert_eq!(out.len(), Handshake::LEN);
        assert_eq!(&out[..], &sample_bytes()[..]);
        assert_eq!(sample().to_bytes().to_vec(), sample_bytes());
    }

    #[test]
    fn decodes_bep3_layout_and_ignores_trailing_bytes() {
        let mut bytes = sample_bytes();
        bytes.extend_from_slice(&[0, 0, 0, 1, 2]);
        assert_eq!(Handshake::decode(&bytes), Ok(Some(sample())));
    }

    #[test]
    fn needs_all_68_bytes() {
        let bytes = sample_bytes();
        for len in 0..Handshake::LEN {
            assert_eq!(Handshake::decode(&bytes[..len]), Ok(None), "len {len}");
        }
    }

    #[test]
    fn prefix_routes_by_info_hash_at_48_bytes() {
        let bytes = sample_bytes();
        for len in 0..Handshake::PREFIX_LEN {
            assert_eq!(
                Handshake::decode_prefix(&bytes[..len]),
                Ok(None),
                "len {len}"
            );
        }
        let expected = Some((sample().reserved, InfoHash([0xaa; 20])));
        assert_eq!(Handshake::decode_prefix(&bytes[..48]), Ok(expected));
        assert_eq!(Handshake::decode(&bytes[..48]), Ok(None));
    }

    #[test]
    fn rejects_wrong_length_byte_from_one_byte() {
        assert_eq!(
            Handshake::decode(&[18]),
            Err(HandshakeError::BadProtocolLength(18))
        );
        assert_eq!(
            Handshake::decode_prefix(&[0x13 + 1, b'B']),
            Err(HandshakeError::BadProtocolLength(20))
        );
    }

    #[test]
    fn rejects_wrong_protocol_as_soon_as_it_differs() {
        assert_eq!(Handshake::decode(b"\x13Bit"), Ok(None));
        assert_eq!(
            Handshake::decode(b"\x13Bix"),
            Err(HandshakeError::BadProtocol)
        );
        let mut bytes = sample_bytes();
        bytes[19] = b'L';
        assert_eq!(Handshake::decode(&bytes), Err(HandshakeError::BadProtocol));
    }

    #[test]
    fn reserved_bits_are_where_the_beps_say() {
        let mut reserved = Reserved::NONE;
        reserved.set_extension_protocol(true);
        assert_eq!(reserved.0, [0, 0, 0, 0, 0, 0x10, 0, 0]);
        reserved = Reserved::NONE;
        reserved.set_fast(true);
        assert_eq!(reserved.0, [0, 0, 0, 0, 0, 0, 0, 0x04]);
        reserved = Reserved::NONE;
        reserved.set_dht(true);
        assert_eq!(reserved.0, [0, 0, 0, 0, 0, 0, 0, 0x01]);
    }

    #[test]
    fn setters_keep_unknown_bits() {
        let mut reserved = Reserved([0xff; 8]);
        reserved.set_extension_protocol(false);
        reserved.set_fast(false);
        reserved.set_dht(false);
        assert_eq!(reserved.0, [0xff, 0xff, 0xff, 0xff, 0xff, 0xef, 0xff, 0xfa]);
        assert!(!reserved.extension_protocol() && !reserved.fast() && !reserved.dht());
        reserved.set_fast(true);
        assert!(reserved.fast());
        assert_eq!(reserved.0[7], 0xfe);
    }

    #[test]
    fn unknown_bits_survive_a_round_trip() {
        let handshake = Handshake::new(
            Reserved([1, 2, 3, 4, 5, 6, 7, 8]),
            InfoHash([1; 20]),
            PeerId([2; 20]),
        );
        assert_eq!(
            Handshake::decode(&handshake.to_bytes()),
            Ok(Some(handshake))
        );
    }
}
