//! The length-limited, incremental peer wire decoder.
//!
//! A frame's length prefix comes from the peer, so it is checked against the limit from the
//! first four bytes (or five, when a torrent's large bitfield may exceed the limit and the id
//! byte decides), before anything is reserved or allocated. Fixed-size messages with the wrong
//! length are rejected as soon as their id byte arrives. A whole frame is then split off the
//! receive buffer and frozen, so `piece`, `bitfield` and `extended` payloads share its memory.

use bytes::{Bytes, BytesMut};

use super::message::{BlockRequest, LENGTH_PREFIX_LEN, PeerMessage, id};

/// The default limit on a frame's length prefix: a 128 KiB block plus the `piece` header, as in
/// most clients. Blocks are normally 16 KiB; BEP 3 allows peers to drop requests over that.
pub const DEFAULT_MAX_MESSAGE_LEN: u32 = (1 << 17) + 13;

/// Errors from decoding a frame. Each means the peer broke the protocol (or is hostile), so the
/// connection should be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The length prefix is over the limit for this message.
    #[error("message length {len} exceeds the limit of {max} bytes")]
    TooLong {
        /// The length prefix the peer sent.
        len: u32,
        /// The limit it broke.
        max: u32,
    },
    /// The length prefix does not fit the message id: a fixed-size message of another size, or
    /// a `piece` or `extended` message too short for its header.
    #[error("message id {id} cannot have length {len}")]
    BadLength {
        /// The message id byte.
        id: u8,
        /// The length prefix the peer sent (id byte plus payload).
        len: u32,
    },
}

/// Limits for a [`MessageDecoder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderConfig {
    /// The largest length prefix (id byte plus payload) accepted for any message.
    pub max_message_len: u32,
    /// The torrent's piece count, when known: a `bitfield` may then be up to `ceil(pieces / 8)`
    /// bytes even if that is over `max_message_len`, since a large torrent's bitfield
    /// legitimately is. `None` (for instance before a magnet link's metadata arrives) gives
    /// bitfields no allowance beyond the limit.
    pub piece_count: Option<u32>,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        Self {
            max_message_len: DEFAULT_MAX_MESSAGE_LEN,
            piece_count: None,
        }
    }
}

/// What [`MessageDecoder::next_frame`] found at the front of a receive buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A whole frame, now consumed from the buffer.
    Message(PeerMessage),
    /// Not a whole frame yet; nothing was consumed or reserved.
    Incomplete {
        /// The bytes the frame still needs, once its header (length prefix and id byte) is
        /// there and checked; `None` before.
        missing: Option<usize>,
    },
}

/// What the first bytes of a frame say about it.
#[derive(Debug, Clone, Copy)]
struct FrameHeader {
    /// The whole frame's length, prefix included.
    total: usize,
    /// The id byte; `None` for a keep-alive.
    id: Option<u8>,
}

/// Decodes peer wire frames from a receive buffer, one at a time.
///
/// Every message id is accepted: ids this crate does not know become [`PeerMessage::Unknown`], and
/// fast-extension or extended messages are decoded even if the handshake did not negotiate
/// them, so the session decides. Indices and offsets are not checked against the torrent.
#[derive(Debug, Clone, Default)]
pub struct MessageDecoder {
    config: DecoderConfig,
}

impl MessageDecoder {
    /// A decoder with these limits.
    pub fn new(config: DecoderConfig) -> Self {
        Self { config }
    }

    /// The limits in force.
    pub fn config(&self) -> &DecoderConfig {
        &self.config
    }

    /// Sets the piece count that sizes the bitfield allowance, once it is known (for a magnet
    /// link, after the metadata arrives).
    pub fn set_piece_count(&mut self, piece_count: Option<u32>) {
        self.config.piece_count = piece_count;
    }

    /// Decodes one frame from the front of `buf`.
    ///
    /// Returns `Ok(None)` if the whole frame is not there yet, consuming nothing (once the
    /// header has been checked it reserves room for the rest of the frame). Otherwise consumes
    /// exactly one frame; `piece`, `bitfield`, `extended` and unknown payloads point into
    /// `buf`'s memory without a copy. An error is fatal for the connection, and the buffer's
    /// contents are then unspecified.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<PeerMessage>, WireError> {
        match self.next_frame(buf)? {
            Frame::Message(message) => Ok(Some(message)),
            Frame::Incomplete { missing } => {
                if let Some(missing) = missing {
                    buf.reserve(missing);
                }
                Ok(None)
            }
        }
    }

    /// Decodes one frame from the front of `buf`, like [`Self::decode`], but leaves the
    /// buffer alone when the frame is not all there: the caller learns how many bytes are
    /// missing and decides where they go (a reader that recycles its buffers swaps in a fresh
    /// one rather than have this grow the current one, whose earlier frames are still in use).
    pub fn next_frame(&mut self, buf: &mut BytesMut) -> Result<Frame, WireError> {
        let Some(header) = self.header(buf)? else {
            return Ok(Frame::Incomplete { missing: None });
        };
        if let Some(missing) = header.total.checked_sub(buf.len()).filter(|&n| n > 0) {
            return Ok(Frame::Incomplete {
                missing: Some(missing),
            });
        }
        let frame = buf.split_to(header.total).freeze();
        parse(header, frame).map(Frame::Message)
    }

    /// Decodes one frame from the front of a plain slice, copying the frame once.
    ///
    /// Returns the message and the number of bytes it took, or `Ok(None)` if the whole frame
    /// is not there yet. Same checks as [`Self::decode`].
    pub fn decode_frame(&self, buf: &[u8]) -> Result<Option<(PeerMessage, usize)>, WireError> {
        let Some(header) = self.header(buf)? else {
            return Ok(None);
        };
        let Some(frame) = buf.get(..header.total) else {
            return Ok(None);
        };
        let message = parse(header, Bytes::copy_from_slice(frame))?;
        Ok(Some((message, header.total)))
    }

    /// The largest `bitfield` length prefix the piece count allows, if it is known.
    fn bitfield_limit(&self) -> Option<u32> {
        let bytes = self.config.piece_count?.div_ceil(8);
        Some(bytes.saturating_add(1).max(self.config.max_message_len))
    }

    /// Reads and checks a frame's length prefix and id byte; `Ok(None)` if they are not all
    /// there yet and no error can be seen from what is.
    fn header(&self, buf: &[u8]) -> Result<Option<FrameHeader>, WireError> {
        let Some((prefix, rest)) = buf.split_first_chunk::<LENGTH_PREFIX_LEN>() else {
            return Ok(None);
        };
        let len = u32::from_be_bytes(*prefix);
        if len == 0 {
            return Ok(Some(FrameHeader {
                total: LENGTH_PREFIX_LEN,
                id: None,
            }));
        }
        let message_id = rest.first().copied();
        let max = self.config.max_message_len;
        if len > max {
            // Only a bitfield may pass the limit, and only when the piece count allows it.
            let bitfield_max = self.bitfield_limit().unwrap_or(max);
            if len > bitfield_max {
                let max = if message_id == Some(id::BITFIELD) {
                    bitfield_max
                } else {
                    max
                };
                return Err(WireError::TooLong { len, max });
            }
            match message_id {
                None => return Ok(None),
                Some(id::BITFIELD) => {}
                Some(_) => return Err(WireError::TooLong { len, max }),
            }
        }
        let Some(message_id) = message_id else {
            return Ok(None);
        };
        if !length_fits(message_id, len) {
            return Err(WireError::BadLength {
                id: message_id,
                len,
            });
        }
        let total = usize::try_from(len)
            .ok()
            .and_then(|len| len.checked_add(LENGTH_PREFIX_LEN))
            .ok_or(WireError::TooLong { len, max })?;
        Ok(Some(FrameHeader {
            total,
            id: Some(message_id),
        }))
    }
}

/// Whether a length prefix (id byte plus payload) is possible for a message id.
fn length_fits(message_id: u8, len: u32) -> bool {
    match message_id {
        id::CHOKE
        | id::UNCHOKE
        | id::INTERESTED
        | id::NOT_INTERESTED
        | id::HAVE_ALL
        | id::HAVE_NONE => len == 1,
        id::HAVE | id::SUGGEST | id::ALLOWED_FAST => len == 5,
        id::REQUEST | id::CANCEL | id::REJECT => len == 13,
        id::PORT => len == 3,
        id::PIECE => len >= 9,
        id::EXTENDED => len >= 2,
        _ => len >= 1,
    }
}

/// Builds the message from a whole frame whose header has been checked.
fn parse(header: FrameHeader, frame: Bytes) -> Result<PeerMessage, WireError> {
    let Some(message_id) = header.id else {
        return Ok(PeerMessage::KeepAlive);
    };
    let payload = tail(&frame, LENGTH_PREFIX_LEN + 1);
    let bad_length = || WireError::BadLength {
        id: message_id,
        len: u32::try_from(frame.len().saturating_sub(LENGTH_PREFIX_LEN)).unwrap_or(u32::MAX),
    };
    let fixed = |message: PeerMessage, size: usize| {
        (payload.len() == size)
            .then_some(message)
            .ok_or_else(bad_length)
    };
    let index = || exact_u32(&payload).ok_or_else(bad_length);
    let block = || block_request(&payload).ok_or_else(bad_length);
    Ok(match message_id {
        id::CHOKE => fixed(PeerMessage::Choke, 0)?,
        id::UNCHOKE => fixed(PeerMessage::Unchoke, 0)?,
        id::INTERESTED => fixed(PeerMessage::Interested, 0)?,
        id::NOT_INTERESTED => fixed(PeerMessage::NotInterested, 0)?,
        id::HAVE_ALL => fixed(PeerMessage::HaveAll, 0)?,
        id::HAVE_NONE => fixed(PeerMessage::HaveNone, 0)?,
        id::HAVE => PeerMessage::Have { piece: index()? },
        id::SUGGEST => PeerMessage::Suggest { piece: index()? },
        id::ALLOWED_FAST => PeerMessage::AllowedFast { piece: index()? },
        id::REQUEST => PeerMessage::Request(block()?),
        id::CANCEL => PeerMessage::Cancel(block()?),
        id::REJECT => PeerMessage::Reject(block()?),
        id::BITFIELD => PeerMessage::Bitfield(payload),
        id::PORT => match *payload.as_ref() {
            [high, low] => PeerMessage::Port(u16::from_be_bytes([high, low])),
            _ => return Err(bad_length()),
        },
        id::PIECE => PeerMessage::Piece {
            piece: u32_at(&payload, 0).ok_or_else(bad_length)?,
            offset: u32_at(&payload, 4).ok_or_else(bad_length)?,
            data: tail(&payload, 8),
        },
        id::EXTENDED => PeerMessage::Extended {
            id: *payload.first().ok_or_else(bad_length)?,
            payload: tail(&payload, 1),
        },
        other => PeerMessage::Unknown { id: other, payload },
    })
}

/// The bytes from `from` on, sharing memory; empty if `from` is past the end.
fn tail(bytes: &Bytes, from: usize) -> Bytes {
    if from <= bytes.len() {
        bytes.slice(from..)
    } else {
        Bytes::new()
    }
}

/// The big-endian `u32` at `at`, if four bytes are there.
fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let end = at.checked_add(4)?;
    let word: [u8; 4] = bytes.get(at..end)?.try_into().ok()?;
    Some(u32::from_be_bytes(word))
}

/// The payload as one big-endian `u32`, if it is exactly four bytes.
fn exact_u32(payload: &[u8]) -> Option<u32> {
    (payload.len() == 4).then(|| u32_at(payload, 0)).flatten()
}

/// The payload as index, begin and length, if it is exactly twelve bytes.
fn block_request(payload: &[u8]) -> Option<BlockRequest> {
    if payload.len() != 12 {
        return None;
    }
    Some(BlockRequest {
        piece: u32_at(payload, 0)?,
        offset: u32_at(payload, 4)?,
        length: u32_at(payload, 8)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(
        decoder: &mut MessageDecoder,
        bytes: &[u8],
    ) -> Result<Option<PeerMessage>, WireError> {
        decoder.decode(&mut BytesMut::from(bytes))
    }

    #[test]
    fn huge_length_prefix_is_rejected_from_four_bytes_without_allocating() {
        let mut decoder = MessageDecoder::default();
        let mut buf = BytesMut::with_capacity(4);
        buf.extend_from_slice(&[0xff; 4]);
        let capacity = buf.capacity();
        let expected = WireError::TooLong {
            len: u32::MAX,
            max: DEFAULT_MAX_MESSAGE_LEN,
        };
        assert_eq!(decoder.decode(&mut buf), Err(expected.clone()));
        assert_eq!(buf.capacity(), capacity);
        assert_eq!(buf.len(), 4);
        assert_eq!(decoder.decode_frame(&[0xff; 4]), Err(expected));
    }

    #[test]
    fn limit_is_on_the_length_prefix() {
        let mut decoder = MessageDecoder::default();
        let max = DEFAULT_MAX_MESSAGE_LEN;
        let mut at_limit = BytesMut::new();
        at_limit.extend_from_slice(&max.to_be_bytes());
        at_limit.extend_from_slice(&[7, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(decoder.decode(&mut at_limit), Ok(None));
        let over = (max + 1).to_be_bytes();
        assert_eq!(
            decoder.decode_frame(&over),
            Err(WireError::TooLong { len: max + 1, max })
        );
    }

    #[test]
    fn incomplete_frame_consumes_nothing_and_reserves_the_rest() {
        let mut decoder = MessageDecoder::default();
        let mut buf = BytesMut::from(&[0, 0, 0, 12, 7, 0, 0, 0, 2, 0, 0][..]);
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        assert_eq!(buf.len(), 11);
        assert!(buf.capacity() >= 16);
        buf.extend_from_slice(&[0x40, 0, b'a', b'b', b'c', 0, 0]);
        let expected = PeerMessage::Piece {
            piece: 2,
            offset: 0x4000,
            data: Bytes::from_static(b"abc"),
        };
        assert_eq!(decoder.decode(&mut buf), Ok(Some(expected)));
        assert_eq!(&buf[..], &[0, 0]);
    }

    #[test]
    fn next_frame_says_what_is_missing_and_leaves_the_buffer_alone() {
        let mut decoder = MessageDecoder::default();
        let mut buf = BytesMut::with_capacity(11);
        buf.extend_from_slice(&[0, 0, 0, 12, 7, 0, 0, 0, 2, 0, 0]);
        let capacity = buf.capacity();
        assert_eq!(
            decoder.next_frame(&mut buf),
            Ok(Frame::Incomplete { missing: Some(5) })
        );
        assert_eq!((buf.len(), buf.capacity()), (11, capacity));
        let mut header = BytesMut::from(&[0, 0, 0][..]);
        assert_eq!(
            decoder.next_frame(&mut header),
            Ok(Frame::Incomplete { missing: None })
        );
        buf.extend_from_slice(&[0x40, 0, b'a', b'b', b'c']);
        let expected = PeerMessage::Piece {
            piece: 2,
            offset: 0x4000,
            data: Bytes::from_static(b"abc"),
        };
        assert_eq!(decoder.next_frame(&mut buf), Ok(Frame::Message(expected)));
        assert!(buf.is_empty());
    }

    #[test]
    fn consumes_exactly_one_frame() {
        let mut decoder = MessageDecoder::default();
        let mut buf = BytesMut::from(&[0, 0, 0, 0, 0, 0, 0, 1, 1][..]);
        assert_eq!(decoder.decode(&mut buf), Ok(Some(PeerMessage::KeepAlive)));
        assert_eq!(&buf[..], &[0, 0, 0, 1, 1]);
        assert_eq!(decoder.decode(&mut buf), Ok(Some(PeerMessage::Unchoke)));
        assert_eq!(decoder.decode(&mut buf), Ok(None));
    }

    #[test]
    fn piece_payload_shares_the_receive_buffer() {
        let mut decoder = MessageDecoder::default();
        let mut buf = BytesMut::from(&[0, 0, 0, 12, 7, 0, 0, 0, 2, 0, 0, 0x40, 0, 1, 2, 3][..]);
        let start = buf.as_ptr() as usize;
        let Ok(Some(PeerMessage::Piece { data, .. })) = decoder.decode(&mut buf) else {
            panic!("expected a piece");
        };
        assert_eq!(data.as_ptr() as usize, start + 13);
    }

    #[test]
    fn wrong_lengths_are_rejected_from_the_header() {
        let mut decoder = MessageDecoder::default();
        let cases: [(u32, u8); 14] = [
            (2, id::CHOKE),
            (2, id::UNCHOKE),
            (0x100, id::INTERESTED),
            (5, id::NOT_INTERESTED),
            (4, id::HAVE),
            (6, id::HAVE),
            (12, id::REQUEST),
            (14, id::CANCEL),
            (8, id::PIECE),
            (1, id::PORT),
            (2, id::HAVE_ALL),
            (12, id::REJECT),
            (3, id::ALLOWED_FAST),
            (1, id::EXTENDED),
        ];
        for (len, message_id) in cases {
            // Only the five header bytes: the error must not wait for the payload.
            let mut header = len.to_be_bytes().to_vec();
            header.push(message_id);
            let expected = Err(WireError::BadLength {
                id: message_id,
                len,
            });
            assert_eq!(
                decode_all(&mut decoder, &header),
                expected,
                "{len} {message_id}"
            );
        }
    }

    #[test]
    fn empty_bitfield_and_unknown_ids_decode() {
        let mut decoder = MessageDecoder::default();
        assert_eq!(
            decode_all(&mut decoder, &[0, 0, 0, 1, 5]),
            Ok(Some(PeerMessage::Bitfield(Bytes::new())))
        );
        assert_eq!(
            decode_all(&mut decoder, &[0, 0, 0, 1, 21]),
            Ok(Some(PeerMessage::Unknown {
                id: 21,
                payload: Bytes::new()
            }))
        );
    }

    /// A torrent of 2,000,000 pieces has a 250,000-byte bitfield, over the default limit.
    #[test]
    fn bitfield_may_exceed_the_limit_by_the_piece_count() {
        let pieces = 2_000_000;
        let allowed = 250_001u32;
        let mut decoder = MessageDecoder::new(DecoderConfig {
            piece_count: Some(pieces),
            ..DecoderConfig::default()
        });
        let mut frame = allowed.to_be_bytes().to_vec();
        frame.push(id::BITFIELD);
        frame.resize(4 + allowed as usize, 0xff);
        let Ok(Some(PeerMessage::Bitfield(bits))) = decode_all(&mut decoder, &frame) else {
            panic!("expected a bitfield");
        };
        assert_eq!(bits.len(), 250_000);

        // The prefix alone cannot tell a bitfield from a piece: wait for the id, reserving nothing.
        let mut prefix = BytesMut::from(&allowed.to_be_bytes()[..]);
        let capacity = prefix.capacity();
        assert_eq!(decoder.decode(&mut prefix), Ok(None));
        assert_eq!(prefix.capacity(), capacity);

        let mut piece = allowed.to_be_bytes().to_vec();
        piece.push(id::PIECE);
        let max = DEFAULT_MAX_MESSAGE_LEN;
        let too_long = Err(WireError::TooLong { len: allowed, max });
        assert_eq!(decode_all(&mut decoder, &piece), too_long);

        let over = (allowed + 1).to_be_bytes();
        assert_eq!(
            decode_all(&mut decoder, &over),
            Err(WireError::TooLong {
                len: allowed + 1,
                max
            })
        );
        let mut over_bitfield = over.to_vec();
        over_bitfield.push(id::BITFIELD);
        let max = allowed;
        assert_eq!(
            decode_all(&mut decoder, &over_bitfield),
            Err(WireError::TooLong {
                len: allowed + 1,
                max
            })
        );
    }

    #[test]
    fn bitfield_gets_no_allowance_without_a_piece_count() {
        let mut decoder = MessageDecoder::default();
        let len = DEFAULT_MAX_MESSAGE_LEN + 1;
        let max = DEFAULT_MAX_MESSAGE_LEN;
        assert_eq!(
            decode_all(&mut decoder, &len.to_be_bytes()),
            Err(WireError::TooLong { len, max })
        );
        decoder.set_piece_count(Some(8 * max));
        assert_eq!(decoder.config().piece_count, Some(8 * max));
        assert_eq!(decode_all(&mut decoder, &len.to_be_bytes()), Ok(None));
    }
}
