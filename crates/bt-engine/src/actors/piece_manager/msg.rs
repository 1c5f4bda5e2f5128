//! Messages the [`PieceManager`](super::PieceManager) handles, all from the torrent's
//! connections (or stubs standing in for them) except [`Shutdown`], from the supervisor.
//!
//! # Backpressure
//! - [`RequestBlocks`] and [`RequestBlocksIn`] are `send().await`ed: a connection has at most
//!   one of them in flight.
//! - [`BlocksReceived`] is sent with `do_send`, so it keeps its place among the connection's
//!   other events (a [`PeerLeft`] never overtakes blocks received before it). It is bounded
//!   by the requests the connection has outstanding (a block nobody requested is refused by
//!   the connection), and the connection requests more only as the piece manager hands out
//!   blocks: a piece manager that falls behind answers [`RequestBlocks`] late, and hands out
//!   nothing while too many blocks are on their way to disk.
//! - The others are small events sent with `do_send`: one per BITFIELD, HAVE, time-out batch,
//!   connection start or end.

use actix::{Message, Recipient};
use bt_proto::bitfield::Bitfield;
use bt_proto::geometry::{BlockRef, PieceIndex};
use bytes::Bytes;

use crate::actors::peer::msg::{CancelBlocks, ResumeReading, SetInterest, WorkAvailable};
use crate::choker::PeerKey;

/// Event: a connection started; interest changes and cancels for it go to these recipients.
/// Sent by the connection itself before any other message, so nothing about it is lost.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct PeerJoined {
    /// The connection.
    pub key: PeerKey,
    /// Where INTERESTED / NOT INTERESTED decisions go.
    pub interest: Recipient<SetInterest>,
    /// Where CANCELs go.
    pub cancel: Recipient<CancelBlocks>,
    /// Where to say that there may be work again after a `RequestBlocks` that got nothing.
    pub work: Recipient<WorkAvailable>,
    /// Where to say to read again once the disk caught up, if the connection stopped.
    pub resume: Recipient<ResumeReading>,
}

/// Event: the peer's BITFIELD (validated against the piece count).
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct BitfieldReceived {
    /// The connection.
    pub key: PeerKey,
    /// Its pieces.
    pub bitfield: Bitfield,
}

/// Event: the peer announced a piece (HAVE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct HaveReceived {
    /// The connection.
    pub key: PeerKey,
    /// The piece.
    pub piece: PieceIndex,
}

/// Event: the peer has every piece (BEP 6 HAVE ALL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct HaveAllReceived {
    /// The connection.
    pub key: PeerKey,
}

/// Event: the connection ended; its requests are released and its pieces leave the
/// availability counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct PeerLeft {
    /// The connection.
    pub key: PeerKey,
}

/// Query: up to `max` blocks to request from the peer now (recorded as requested from it).
/// Nothing while the disk is behind; a connection that got nothing hears `WorkAvailable`
/// when that may have changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "Vec<BlockRef>")]
pub struct RequestBlocks {
    /// The connection.
    pub key: PeerKey,
    /// How many the connection's pipeline has room for.
    pub max: usize,
}

/// Query: up to `max` blocks to request from the peer now, taken from `pieces` first: with
/// `only`, from nothing else (BEP 6 allowed-fast pieces while the peer chokes us); without,
/// the rest picked as usual (BEP 6 suggestions). See
/// [`PiecePicker::pick_blocks_in`](crate::picker::PiecePicker::pick_blocks_in). Like
/// [`RequestBlocks`], nothing while the disk is behind.
#[derive(Debug, Clone, PartialEq, Eq, Message)]
#[rtype(result = "Vec<BlockRef>")]
pub struct RequestBlocksIn {
    /// The connection.
    pub key: PeerKey,
    /// How many the connection's pipeline has room for.
    pub max: usize,
    /// The pieces to take blocks of first.
    pub pieces: Vec<PieceIndex>,
    /// Take blocks of `pieces` only.
    pub only: bool,
}

/// Event: blocks we requested arrived from the peer, every one received in one turn of the
/// connection (those of one socket read, typically), in order. The piece manager keeps those
/// still needed and drops the rest (duplicates from endgame, blocks no longer wanted).
#[derive(Debug, Clone, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct BlocksReceived {
    /// The connection.
    pub key: PeerKey,
    /// Each block with its bytes, as the connection read them (sharing its read buffer).
    pub blocks: Vec<(BlockRef, Bytes)>,
}

/// Event: requests that will not be answered (timed out, rejected, or dropped by a CHOKE);
/// the blocks may be picked again, from other peers.
#[derive(Debug, Clone, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct RequestsReleased {
    /// The connection.
    pub key: PeerKey,
    /// The blocks.
    pub blocks: Vec<BlockRef>,
}

/// Command (from the supervisor): stop. Hashes in flight finish on the disk workers; their
/// results are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct Shutdown;
