//! Peer wire messages (BEP 3, BEP 5 `port`, BEP 6 fast extension, BEP 10 extended) and their
//! encoding.
//!
//! Every message after the handshake is a frame: a 4-byte big-endian length, then (unless the
//! length is 0, a keep-alive) one id byte and the payload. The length counts the id and the
//! payload, not itself. Indices and offsets here are raw `u32`s as the peer sent them; checking
//! them against the torrent's geometry is the caller's job.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

/// The message id bytes (BEP 3, BEP 5, BEP 6, BEP 10).
pub mod id {
    /// `choke` (BEP 3).
    pub const CHOKE: u8 = 0;
    /// `unchoke` (BEP 3).
    pub const UNCHOKE: u8 = 1;
    /// `interested` (BEP 3).
    pub const INTERESTED: u8 = 2;
    /// `not interested` (BEP 3).
    pub const NOT_INTERESTED: u8 = 3;
    /// `have` (BEP 3).
    pub const HAVE: u8 = 4;
    /// `bitfield` (BEP 3).
    pub const BITFIELD: u8 = 5;
    /// `request` (BEP 3).
    pub const REQUEST: u8 = 6;
    /// `piece` (BEP 3).
    pub const PIECE: u8 = 7;
    /// `cancel` (BEP 3).
    pub const CANCEL: u8 = 8;
    /// `port` (BEP 5).
    pub const PORT: u8 = 9;
    /// `suggest piece` (BEP 6).
    pub const SUGGEST: u8 = 0x0D;
    /// `have all` (BEP 6).
    pub const HAVE_ALL: u8 = 0x0E;
    /// `have none` (BEP 6).
    pub const HAVE_NONE: u8 = 0x0F;
    /// `reject request` (BEP 6).
    pub const REJECT: u8 = 0x10;
    /// `allowed fast` (BEP 6).
    pub const ALLOWED_FAST: u8 = 0x11;
    /// `extended` (BEP 10).
    pub const EXTENDED: u8 = 20;
}

/// Bytes of the length prefix that starts every frame.
pub const LENGTH_PREFIX_LEN: usize = 4;

/// Bytes of a `piece` frame before the block: length, id, index, begin.
pub const PIECE_HEADER_LEN: usize = 13;

/// A block of a piece, as named by `request`, `cancel` and `reject request`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockRequest {
    /// The zero-based piece index.
    pub piece: u32,
    /// The byte offset of the block within the piece.
    pub offset: u32,
    /// The block length in bytes (normally 16 KiB).
    pub length: u32,
}

/// One peer wire message.
///
/// Fast-extension (BEP 6), `port` (BEP 5) and `extended` (BEP 10) messages are decoded whether
/// or not the handshake negotiated them: the session decides what to do with a message the peer
/// should not have sent.
#[derive(Clone, PartialEq, Eq)]
pub enum PeerMessage {
    /// A zero-length frame that keeps an idle connection open.
    KeepAlive,
    /// The sender will not answer our requests.
    Choke,
    /// The sender will answer our requests.
    Unchoke,
    /// The sender wants pieces we have.
    Interested,
    /// The sender wants nothing from us.
    NotInterested,
    /// The sender has verified this piece.
    Have {
        /// The piece index.
        piece: u32,
    },
    /// The pieces the sender has, high bit of the first byte = piece 0; only valid right after
    /// the handshake. The length is not checked against the piece count here.
    Bitfield(Bytes),
    /// Asks for a block.
    Request(BlockRequest),
    /// A block of data.
    Piece {
        /// The piece index.
        piece: u32,
        /// The byte offset within the piece.
        offset: u32,
        /// The block, shared with the receive buffer (no copy).
        data: Bytes,
    },
    /// Withdraws a request.
    Cancel(BlockRequest),
    /// The sender's DHT node listens on this UDP port (BEP 5).
    Port(u16),
    /// The sender suggests we download this piece (BEP 6).
    Suggest {
        /// The piece index.
        piece: u32,
    },
    /// The sender has every piece, instead of a full bitfield (BEP 6).
    HaveAll,
    /// The sender has no piece, instead of an empty bitfield (BEP 6).
    HaveNone,
    /// The sender will not answer this request (BEP 6).
    Reject(BlockRequest),
    /// We may request this piece even while choked (BEP 6).
    AllowedFast {
        /// The piece index.
        piece: u32,
    },
    /// An extension-protocol message (BEP 10).
    Extended {
        /// The extended message id: 0 for the extension handshake, otherwise the id the
        /// receiver assigned in its `m` dictionary.
        id: u8,
        /// The rest of the message, usually a bencoded dictionary (and for BEP 9 metadata
        /// pieces, raw bytes after it).
        payload: Bytes,
    },
    /// A message id this crate does not know, kept so the session can decide (ignore it, or
    /// drop the peer). Encoding one whose `id` is known writes the raw bytes, which then decode
    /// as that known message (or fail), so only unknown ids round-trip.
    Unknown {
        /// The message id byte.
        id: u8,
        /// Everything after the id byte.
        payload: Bytes,
    },
}

impl PeerMessage {
    /// The id byte, or `None` for a keep-alive (which has none).
    pub fn id(&self) -> Option<u8> {
        Some(match self {
            Self::KeepAlive => return None,
            Self::Choke => id::CHOKE,
            Self::Unchoke => id::UNCHOKE,
            Self::Interested => id::INTERESTED,
            Self::NotInterested => id::NOT_INTERESTED,
            Self::Have { .. } => id::HAVE,
            Self::Bitfield(_) => id::BITFIELD,
            Self::Request(_) => id::REQUEST,
            Self::Piece { .. } => id::PIECE,
            Self::Cancel(_) => id::CANCEL,
            Self::Port(_) => id::PORT,
            Self::Suggest { .. } => id::SUGGEST,
            Self::HaveAll => id::HAVE_ALL,
            Self::HaveNone => id::HAVE_NONE,
            Self::Reject(_) => id::REJECT,
            Self::AllowedFast { .. } => id::ALLOWED_FAST,
            Self::Extended { .. } => id::EXTENDED,
            Self::Unknown { id, .. } => *id,
        })
    }

    /// The length of the payload after the id byte.
    fn payload_len(&self) -> usize {
        match self {
            Self::KeepAlive
            | Self::Choke
            | Self::Unchoke
            | Self::Interested
            | Self::NotInterested
            | Self::HaveAll
            | Self::HaveNone => 0,
            Self::Have { .. } | Self::Suggest { .. } | Self::AllowedFast { .. } => 4,
            Self::Port(_) => 2,
            Self::Request(_) | Self::Cancel(_) | Self::Reject(_) => 12,
            Self::Piece { data, .. } => data.len().saturating_add(8),
            Self::Bitfield(bytes) => bytes.len(),
            Self::Extended { payload, .. } => payload.len().saturating_add(1),
            Self::Unknown { payload, .. } => payload.len(),
        }
    }

    /// The encoded length in bytes, including the 4-byte length prefix.
    pub fn encoded_len(&self) -> usize {
        match self {
            Self::KeepAlive => LENGTH_PREFIX_LEN,
            _ => self.payload_len().saturating_add(LENGTH_PREFIX_LEN + 1),
        }
    }

    /// Appends the encoded frame to `out`, reserving room once and allocating nothing else.
    ///
    /// # Panics
    /// If the message is longer than a 32-bit length prefix can express (a payload of about
    /// 4 GiB), which no valid message is.
    pub fn encode(&self, out: &mut BytesMut) {
        if let Self::Piece {
            piece,
            offset,
            data,
        } = self
        {
            encode_piece_header(*piece, *offset, data.len(), out);
            out.put_slice(data);
            return;
        }
        out.reserve(self.encoded_len());
        let Some(message_id) = self.id() else {
            out.put_u32(0);
            return;
        };
        out.put_u32(frame_length(self.payload_len()));
        out.put_u8(message_id);
        self.encode_payload(out);
    }

    /// Writes the payload after the id byte, for every message but `piece`.
    fn encode_payload(&self, out: &mut BytesMut) {
        match self {
            Self::Have { piece } | Self::Suggest { piece } | Self::AllowedFast { piece } => {
                out.put_u32(*piece);
            }
            Self::Request(block) | Self::Cancel(block) | Self::Reject(block) => {
                out.put_u32(block.piece);
                out.put_u32(block.offset);
                out.put_u32(block.length);
            }
            Self::Port(port) => out.put_u16(*port),
            Self::Bitfield(bytes) => out.put_slice(bytes),
            Self::Extended { id, payload } => {
                out.put_u8(*id);
                out.put_slice(payload);
            }
            Self::Unknown { payload, .. } => out.put_slice(payload),
            Self::Piece { .. }
            | Self::KeepAlive
            | Self::Choke
            | Self::Unchoke
            | Self::Interested
            | Self::NotInterested
            | Self::HaveAll
            | Self::HaveNone => {}
        }
    }
}

/// Appends only the 13-byte header of a `piece` frame (length, id 7, index, begin) for a block
/// of `data_len` bytes, so the sender can write the block itself separately (vectored I/O)
/// without copying it into the frame.
///
/// # Panics
/// If `data_len + 9` does not fit the 32-bit length prefix.
pub fn encode_piece_header(piece: u32, offset: u32, data_len: usize, out: &mut BytesMut) {
    out.reserve(PIECE_HEADER_LEN);
    out.put_u32(frame_length(data_len.saturating_add(8)));
    out.put_u8(id::PIECE);
    out.put_u32(piece);
    out.put_u32(offset);
}

/// The length prefix for a payload of `payload_len` bytes after the id byte.
fn frame_length(payload_len: usize) -> u32 {
    payload_len
        .checked_add(1)
        .and_then(|len| u32::try_from(len).ok())
        .unwrap_or_else(|| {
            panic!("message payload of {payload_len} bytes exceeds the 32-bit length prefix")
        })
}

impl fmt::Debug for PeerMessage {
    /// Shows payload lengths rather than payload bytes, so a 16 KiB block stays one log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::KeepAlive => f.write_str("KeepAlive"),
            Self::Choke => f.write_str("Choke"),
            Self::Unchoke => f.write_str("Unchoke"),
            Self::Interested => f.write_str("Interested"),
            Self::NotInterested => f.write_str("NotInterested"),
            Self::Have { piece } => write!(f, "Have {{ piece: {piece} }}"),
            Self::Bitfield(bytes) => write!(f, "Bitfield({} bytes)", bytes.len()),
            Self::Request(block) => write!(f, "Request({block:?})"),
            Self::Piece {
                piece,
                offset,
                data,
            } => write!(
                f,
                "Piece {{ piece: {piece}, offset: {offset}, len: {} }}",
                data.len()
            ),
            Self::Cancel(block) => write!(f, "Cancel({block:?})"),
            Self::Port(port) => write!(f, "Port({port})"),
            Self::Suggest { piece } => write!(f, "Suggest {{ piece: {piece} }}"),
            Self::HaveAll => f.write_str("HaveAll"),
            Self::HaveNone => f.write_str("HaveNone"),
            Self::Reject(block) => write!(f, "Reject({block:?})"),
            Self::AllowedFast { piece } => write!(f, "AllowedFast {{ piece: {piece} }}"),
            Self::Extended { id, payload } => {
                write!(f, "Extended {{ id: {id}, len: {} }}", payload.len())
            }
            Self::Unknown { id, payload } => {
                write!(f, "Unknown {{ id: {id}, len: {} }}", payload.len())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::MessageDecoder;

    const fn block(piece: u32, offset: u32, length: u32) -> BlockRequest {
        BlockRequest {
            piece,
            offset,
            length,
        }
    }

    /// Every message next to its bytes, written out by hand from the BEP layouts.
    fn vectors() -> Vec<(PeerMessage, Vec<u8>)> {
        vec![
            (PeerMessage::KeepAlive, vec![0, 0, 0, 0]),
            (PeerMessage::Choke, vec![0, 0, 0, 1, 0]),
            (PeerMessage::Unchoke, vec![0, 0, 0, 1, 1]),
            (PeerMessage::Interested, vec![0, 0, 0, 1, 2]),
            (PeerMessage::NotInterested, vec![0, 0, 0, 1, 3]),
            (
                PeerMessage::Have { piece: 0x0102_0304 },
                vec![0, 0, 0, 5, 4, 1, 2, 3, 4],
            ),
            (
                PeerMessage::Bitfield(Bytes::from_static(&[0xff, 0x80])),
                vec![0, 0, 0, 3, 5, 0xff, 0x80],
            ),
            (
                PeerMessage::Request(block(1, 0x4000, 0x4000)),
                vec![0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0x40, 0],
            ),
            (
                PeerMessage::Piece {
                    piece: 2,
                    offset: 0x4000,
                    data: Bytes::from_static(b"abc"),
                },
                vec![0, 0, 0, 12, 7, 0, 0, 0, 2, 0, 0, 0x40, 0, b'a', b'b', b'c'],
            ),
            (
                PeerMessage::Cancel(block(0x0a0b_0c0d, 1, 2)),
                vec![
                    0, 0, 0, 13, 8, 0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 0, 1, 0, 0, 0, 2,
                ],
            ),
            (PeerMessage::Port(6881), vec![0, 0, 0, 3, 9, 0x1a, 0xe1]),
            (
                PeerMessage::Suggest { piece: 5 },
                vec![0, 0, 0, 5, 0x0d, 0, 0, 0, 5],
            ),
            (PeerMessage::HaveAll, vec![0, 0, 0, 1, 0x0e]),
            (PeerMessage::HaveNone, vec![0, 0, 0, 1, 0x0f]),
            (
                PeerMessage::Reject(block(1, 0, 0x4000)),
                vec![0, 0, 0, 13, 0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x40, 0],
            ),
            (
                PeerMessage::AllowedFast { piece: 9 },
                vec![0, 0, 0, 5, 0x11, 0, 0, 0, 9],
            ),
            (
                PeerMessage::Extended {
                    id: 0,
                    payload: Bytes::from_static(b"de"),
                },
                vec![0, 0, 0, 4, 20, 0, b'd', b'e'],
            ),
            (
                PeerMessage::Unknown {
                    id: 0xff,
                    payload: Bytes::from_static(&[1, 2]),
                },
                vec![0, 0, 0, 3, 0xff, 1, 2],
            ),
        ]
    }

    #[test]
    fn encodes_every_message_to_its_bep_bytes() {
        for (message, bytes) in vectors() {
            let mut out = BytesMut::new();
            message.encode(&mut out);
            assert_eq!(&out[..], &bytes[..], "{message:?}");
            assert_eq!(message.encoded_len(), bytes.len(), "{message:?}");
        }
    }

    #[test]
    fn decodes_every_message_from_its_bep_bytes() {
        let mut decoder = MessageDecoder::default();
        for (message, bytes) in vectors() {
            let mut buf = BytesMut::from(&bytes[..]);
            assert_eq!(decoder.decode(&mut buf), Ok(Some(message.clone())));
            assert!(buf.is_empty(), "{message:?} left bytes behind");
            assert_eq!(
                decoder.decode_frame(&bytes),
                Ok(Some((message, bytes.len())))
            );
        }
    }

    #[test]
    fn id_matches_the_encoded_id_byte() {
        for (message, bytes) in vectors() {
            assert_eq!(message.id(), bytes.get(4).copied(), "{message:?}");
        }
    }

    #[test]
    fn piece_header_then_block_equals_the_whole_piece() {
        let data = Bytes::from_static(&[7; 100]);
        let mut header = BytesMut::new();
        encode_piece_header(3, 16384, data.len(), &mut header);
        assert_eq!(
            &header[..],
            &[0, 0, 0, 109, 7, 0, 0, 0, 3, 0, 0, 0x40, 0][..]
        );
        assert_eq!(header.len(), PIECE_HEADER_LEN);
        header.extend_from_slice(&data);
        let mut whole = BytesMut::new();
        PeerMessage::Piece {
            piece: 3,
            offset: 16384,
            data,
        }
        .encode(&mut whole);
        assert_eq!(header, whole);
    }

    #[test]
    fn encode_appends_after_existing_bytes() {
        let mut out = BytesMut::from(&b"xy"[..]);
        PeerMessage::Unchoke.encode(&mut out);
        assert_eq!(&out[..], b"xy\0\0\0\x01\x01");
    }

    #[test]
    fn debug_shows_lengths_not_payloads() {
        let piece = PeerMessage::Piece {
            piece: 1,
            offset: 2,
            data: Bytes::from(vec![0; 16384]),
        };
        assert_eq!(
            format!("{piece:?}"),
            "Piece { piece: 1, offset: 2, len: 16384 }"
        );
    }
}
