//! Messages the [`DiskWriter`](super::DiskWriter) handles.
//!
//! # Backpressure
//! The `DiskWriter` runs in a `SyncArbiter`, whose address has no mailbox limit (actix 0.13
//! creates its channel with capacity 0, which means unbounded) and forwards every message at
//! once into an unbounded queue shared by the workers: `send` never waits for room, and the
//! 16-slot limit of ordinary actors does **not** apply. What bounds it is that callers wait for the answer: a sender that does
//! `send(..).await` has one message in flight, so the queue holds at most one message per
//! waiting caller, and a slow disk slows the callers (and through them the sockets). Never
//! `do_send` these messages: that would queue without limit and drop the error.

use actix::Message;
use bt_proto::geometry::{BlockRef, PieceIndex};
use bytes::Bytes;

use super::DiskError;

/// Writes one received block to its files. Data path: the sender (the peer session or the piece
/// manager) awaits the reply before counting the block as stored, with `send().await`; the
/// memory held by waiting blocks is bounded by the callers' request pipelines.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), DiskError>")]
pub struct WriteBlock {
    /// Where the data goes; checked against the torrent's geometry (a block outside its piece
    /// is an error, never a write elsewhere).
    pub block: BlockRef,
    /// Exactly `block.len` bytes, as received: `Bytes` so that the socket's buffer reaches the
    /// disk without a copy.
    pub data: Bytes,
}

/// Reads one block for uploading to a peer. The peer session awaits it with `send().await`
/// before sending the PIECE message, so reads in flight are bounded by the requests a peer
/// may have queued with us.
#[derive(Debug, Message)]
#[rtype(result = "Result<Bytes, DiskError>")]
pub struct ReadBlock {
    /// The range requested, already validated against the torrent by the peer session.
    pub block: BlockRef,
}

/// Reads a completed piece back and checks its SHA-1. Sent with `send().await` by the piece
/// manager when the last block of a piece is stored; it has at most one per piece in flight,
/// and pieces in flight are capped.
#[derive(Debug, Message)]
#[rtype(result = "Result<bool, DiskError>")]
pub struct VerifyPiece {
    /// The piece to hash.
    pub piece: PieceIndex,
    /// Its hash from the metainfo.
    pub expected: [u8; 20],
}

/// Checks a chunk of pieces against their hashes (the resume check); returns those that
/// verify. One chunk is handled by one worker, so a big check is split into chunks sent
/// concurrently by [`check_existing`](super::check_existing), which keeps a bounded window of
/// them in flight.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<PieceIndex>, DiskError>")]
pub struct CheckPieces {
    /// Each piece with its own expected hash, so a chunk carries only its share of the hash
    /// list.
    pub pieces: Vec<(PieceIndex, [u8; 20])>,
}

/// Flushes every file written since the last sync to stable storage (`fdatasync`), so that
/// the pieces verified so far survive a crash of the machine; replies with how many files it
/// flushed. Sent with `send().await` by the supervisor when the torrent completes, pauses or
/// stops: one at a time, a handful per torrent's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "Result<usize, DiskError>")]
pub struct SyncFiles;
