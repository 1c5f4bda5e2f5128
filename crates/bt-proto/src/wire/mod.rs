//! The peer wire protocol: the handshake and the length-prefixed messages that follow it.
//!
//! Covers BEP 3 (handshake and core messages), BEP 5 (`port`), BEP 6 (fast extension) and the
//! BEP 10 envelope (`extended`, id 20; its bencoded contents are the caller's). Everything is
//! sans-IO: encoders append to a caller's [`bytes::BytesMut`], decoders read from one and
//! return `Ok(None)` when more bytes are needed.
//!
//! # Layout
//! - [`handshake`]: [`Handshake`] (68 bytes), its [`Reserved`] extension bits, and a 48-byte
//!   prefix decoder that lets a listener route by info-hash before the peer id arrives.
//! - [`message`]: [`PeerMessage`], [`BlockRequest`], the [`id`] bytes, encoding, and
//!   [`encode_piece_header`] for writing a block without copying it into the frame.
//! - [`decoder`]: [`MessageDecoder`], which checks every length prefix against
//!   [`DecoderConfig`] before allocating and splits payloads off the receive buffer without a
//!   copy.
//!
//! # Use
//! ```
//! use bt_proto::wire::{PeerMessage, MessageDecoder};
//! use bytes::BytesMut;
//!
//! let mut buf = BytesMut::new();
//! PeerMessage::Have { piece: 7 }.encode(&mut buf);
//! let mut decoder = MessageDecoder::default();
//! assert_eq!(decoder.decode(&mut buf), Ok(Some(PeerMessage::Have { piece: 7 })));
//! assert_eq!(decoder.decode(&mut buf), Ok(None));
//! ```

pub mod decoder;
pub mod handshake;
pub mod message;

#[cfg(test)]
mod tests;

pub use decoder::{DEFAULT_MAX_MESSAGE_LEN, DecoderConfig, Frame, MessageDecoder, WireError};
pub use handshake::{Handshake, HandshakeError, PROTOCOL, Reserved};
pub use message::{
    BlockRequest, LENGTH_PREFIX_LEN, PIECE_HEADER_LEN, PeerMessage, encode_piece_header, id,
};
