//! Messages the [`PieceManager`](super::PieceManager) handles, all from the torrent's
//! connections (or stubs standing in for them) except [`Shutdown`], from the supervisor.
//!
//! # Backpressure
//! - [`RequestBlocks`] and [`BlockReceived`] are `send().await`ed: a connection has at most one
//!   [`RequestBlocks`] in flight, and one [`BlockReceived`] per block on its way to disk
//!   (capped per connection), so the 16-slot mailbox pushes back on the connections when the
//!   piece manager falls behind.
//! - The others are small events sent with `do_send`: one per BITFIELD, HAVE, time-out batch,
//!   connection start or end, and one [`BlockWritten`] per block written (bounded like the
//!   blocks themselves).

use actix::{Message, Recipient};
use bt_proto::bitfield::Bitfield;
use bt_proto::geometry::{BlockRef, PieceIndex};

use crate::actors::disk::DiskError;
use crate::actors::peer::msg::{CancelBlocks, SetInterest};
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
/// [`PiecePicker::pick_blocks_in`](crate::picker::PiecePicker::pick_blocks_in).
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

/// Query: a block we requested arrived from the peer. The answer says whether to write it to
/// disk (`true`) or drop it (a duplicate from endgame, or a block no longer wanted); a write
/// must be followed by [`BlockWritten`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "bool")]
pub struct BlockReceived {
    /// The connection.
    pub key: PeerKey,
    /// The block.
    pub block: BlockRef,
}

/// Event: a block [`BlockReceived`] said to write is on disk (or failed to get there). A
/// piece is hashed once its last block is written.
#[derive(Debug, Clone, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct BlockWritten {
    /// The block.
    pub block: BlockRef,
    /// The disk's answer.
    pub result: Result<(), DiskError>,
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
