//! [`PeerError`]: why one peer connection stops.
//!
//! Every variant ends one `PeerSession` and nothing else. There is deliberately no conversion
//! into the engine's torrent-fatal error (STYLE.md, "Errors"): a peer that lies, stalls or hangs
//! up is routine, and the torrent carries on with its other peers.

use std::io;
use std::time::Duration;

use bt_proto::InfoHash;
use bt_proto::bitfield::BitfieldError;
use bt_proto::ext::{ExtensionError, MetadataError};
use bt_proto::geometry::GeometryError;
use bt_proto::wire::{HandshakeError, WireError};

/// The reasons that stop one peer connection.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// Reading or writing the socket failed, or the peer hung up.
    #[error("connection i/o failed")]
    Io(#[from] io::Error),
    /// The peer sent bytes that are not a valid peer wire frame.
    #[error("malformed message: {0}")]
    Wire(#[from] WireError),
    /// The peer's handshake is not a BitTorrent handshake.
    #[error("malformed handshake: {0}")]
    Handshake(#[from] HandshakeError),
    /// The handshake did not complete in time.
    #[error("handshake timed out after {0:?}")]
    HandshakeTimeout(Duration),
    /// The peer answered our handshake for a different torrent.
    #[error("peer answered for info-hash {theirs}, expected {ours}")]
    InfoHashMismatch {
        /// The torrent we asked for.
        ours: InfoHash,
        /// The torrent the peer named.
        theirs: InfoHash,
    },
    /// An incoming handshake named a torrent we do not serve.
    #[error("no torrent with info-hash {0}")]
    UnknownTorrent(InfoHash),
    /// The peer id in the reply is our own: we dialled one of our own listening addresses
    /// (trackers and PEX hand our address back to us).
    #[error("connected to ourselves")]
    ConnectedToSelf,
    /// A BITFIELD, HAVE ALL or HAVE NONE anywhere but first after the handshake (BEP 3, BEP 6).
    #[error("{0} is only valid as the first message")]
    NotFirstMessage(&'static str),
    /// A BITFIELD whose length or spare bits do not match the piece count.
    #[error("invalid bitfield: {0}")]
    BadBitfield(BitfieldError),
    /// A message named a piece index the torrent does not have.
    #[error("{message} names piece {index}, but the torrent has {count} pieces")]
    PieceOutOfRange {
        /// The message kind, for the log.
        message: &'static str,
        /// The index the peer sent.
        index: u32,
        /// The torrent's piece count.
        count: u32,
    },
    /// A REQUEST, CANCEL or REJECT outside the torrent's geometry or over the size limit.
    #[error("invalid {message}: {reason}")]
    BadRequest {
        /// The message kind, for the log.
        message: &'static str,
        /// What is wrong with the range.
        reason: GeometryError,
    },
    /// A PIECE whose range is not one of the torrent's blocks.
    #[error("invalid block: {0}")]
    BadBlock(GeometryError),
    /// A message of an extension (BEP 6, BEP 10) that the handshakes did not both announce.
    #[error("{0} sent without negotiating its extension")]
    NotNegotiated(&'static str),
    /// The peer queued more requests with us than the limit allows.
    #[error("request flood: more than {0} requests queued")]
    RequestFlood(usize),
    /// The peer sent more messages of unknown ids than the limit allows.
    #[error("too many unknown messages ({0})")]
    TooManyUnknownMessages(u32),
    /// The misbehaviour score passed its limit.
    #[error("misbehaviour score {score} reached the limit of {limit}")]
    Misbehaving {
        /// The score reached.
        score: u32,
        /// The configured limit.
        limit: u32,
    },
    /// A malformed BEP 10 extension message (the handshake, `ut_metadata` or `ut_pex`).
    #[error("malformed {message}")]
    Extension {
        /// The message kind, for the log.
        message: &'static str,
        /// What is wrong with it.
        #[source]
        source: ExtensionError,
    },
    /// Metadata the peer offered or sent that cannot be the torrent's (BEP 9): an oversized
    /// `metadata_size`, a piece of the wrong length, or data that failed the info-hash.
    #[error("bad metadata: {0}")]
    BadMetadata(MetadataError),
    /// The peer sent metadata that, with the rest, does not hash to the info-hash.
    #[error("metadata from this peer failed the info-hash check")]
    MetadataHashMismatch,
    /// The peer cannot give us the metadata we need (no BEP 10, no `ut_metadata`, rejects).
    #[error("peer cannot serve the metadata: {0}")]
    NoMetadata(&'static str),
    /// The peer sent nothing at all, not even a keep-alive, for too long (BEP 3: two minutes).
    #[error("peer silent for {0:?}")]
    Silent(Duration),
}
