//! Extensions of the peer wire protocol: the BEP 10 extension handshake and the messages
//! carried over it (BEP 9 `ut_metadata`, BEP 11 `ut_pex`), and the BEP 6 allowed-fast set.
//!
//! BEP 10 frames every extension message as a peer-wire `extended` message (id 20) whose first
//! payload byte is an extended id: 0 for the extension handshake, otherwise the id the
//! *receiver* assigned to the extension in its handshake's `m` dictionary. The
//! [`wire`](crate::wire) module carries that envelope; this module reads and writes what is
//! inside it. Everything is sans-IO and checks every length before it allocates.
//!
//! Decoding is strict about structure (the payload must be well-formed bencode and, where the
//! BEP says so, a dictionary) and lenient about optional fields: a field of the wrong type or
//! out of range is ignored, as libtorrent does, so that a harmless quirk of another client does
//! not cost the connection.
//!
//! # Layout
//! - [`handshake`]: [`ExtensionHandshake`], the BEP 10 handshake dictionary (`m`, `v`, `p`,
//!   `reqq`, `yourip`, and BEP 9's `metadata_size`).
//! - [`metadata`]: [`MetadataMessage`], the BEP 9 request / data / reject messages, and
//!   [`metainfo_from_metadata`].
//! - [`assembler`]: [`MetadataAssembler`], which collects 16 KiB metadata pieces, refuses an
//!   oversized `metadata_size`, verifies the SHA-1 against the info-hash and names the peers
//!   that supplied bad data.
//! - [`pex`]: [`PexMessage`] and [`PexFlags`], BEP 11 peer exchange.
//! - [`fast`]: [`allowed_fast_set`], the BEP 6 allowed-fast set.

pub mod assembler;
pub mod fast;
pub mod handshake;
pub mod metadata;
pub mod pex;

#[cfg(test)]
mod proptests;

use thiserror::Error;

use crate::bencode::{BencodeError, Items, Node};

pub use assembler::{DEFAULT_MAX_METADATA_SIZE, MetadataAssembler, MetadataError, Progress};
pub use fast::allowed_fast_set;
pub use handshake::ExtensionHandshake;
pub use metadata::{METADATA_PIECE_LEN, MetadataMessage, metainfo_from_metadata};
pub use pex::{PexFlags, PexMessage, PexPeer};

/// The name of the BEP 9 metadata exchange in an `m` dictionary.
pub const UT_METADATA: &str = "ut_metadata";

/// The name of the BEP 11 peer exchange in an `m` dictionary.
pub const UT_PEX: &str = "ut_pex";

/// Why an extension message could not be decoded. Each means the peer sent something no
/// correct client sends; the caller decides whether that ends the connection.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExtensionError {
    /// The payload is not well-formed bencode.
    #[error("malformed bencode in an extension message")]
    Bencode(#[source] BencodeError),
    /// The payload is well-formed but not a dictionary.
    #[error("extension message is {found}, not a dictionary")]
    NotADictionary {
        /// What it is instead.
        found: &'static str,
    },
    /// A field the message cannot do without is absent or of the wrong type.
    #[error("extension message lacks a valid `{field}`")]
    MissingField {
        /// The field's key.
        field: &'static str,
    },
    /// A field is present but its value is out of range.
    #[error("extension message field `{field}` is out of range: {value}")]
    OutOfRange {
        /// The field's key.
        field: &'static str,
        /// The value as sent.
        value: i64,
    },
    /// A BEP 9 data message carries more than one metadata piece of bytes.
    #[error("metadata data message carries {len} bytes, over the piece size of {max}")]
    DataTooLong {
        /// Bytes after the dictionary.
        len: usize,
        /// [`METADATA_PIECE_LEN`].
        max: usize,
    },
    /// Bytes follow the dictionary of a message that has none (every one but BEP 9 data).
    #[error("{len} unexpected bytes after the extension message's dictionary")]
    TrailingBytes {
        /// How many.
        len: usize,
    },
}

impl From<BencodeError> for ExtensionError {
    fn from(error: BencodeError) -> Self {
        ExtensionError::Bencode(error)
    }
}

/// Parses `payload` as exactly one bencoded dictionary and returns its entries.
fn dictionary(payload: &[u8]) -> Result<Items<'_>, ExtensionError> {
    match Node::parse(payload)? {
        Node::Dict(items) => Ok(items),
        other => Err(ExtensionError::NotADictionary {
            found: other.kind(),
        }),
    }
}

/// An integer field's value, if it is an integer.
fn int(node: Node<'_>) -> Option<i64> {
    match node {
        Node::Int(value) => Some(value),
        _ => None,
    }
}
