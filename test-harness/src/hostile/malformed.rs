//! Scripts whose very first message after the handshake is wrong: [`OversizedMessage`],
//! [`BadBitfield`], [`OutOfRangeRequest`], [`UnsolicitedBlocks`].
//!
//! Each writes its fault, then reads (and records) whatever comes back until the remote
//! hangs up, so its report shows whether, and after what, the engine closed the connection.

use std::io;

use bt_proto::bitfield::Bitfield;
use bt_proto::geometry::{BLOCK_LEN, BlockRef, Lengths};
use bt_proto::wire::{BlockRequest, DEFAULT_MAX_MESSAGE_LEN, LENGTH_PREFIX_LEN, PeerMessage, id};
use bytes::{BufMut, BytesMut};

use super::Script;
use super::conn::WireConn;
use super::report::Sent;
use super::seeder::random_block;

/// Sends a PIECE frame whose length prefix is `declared` (by default one byte over bt-proto's
/// limit of 2^17 + 13), followed by that many bytes: no receiver should buffer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OversizedMessage {
    /// The length prefix (id byte plus payload).
    pub declared: u32,
}

impl Default for OversizedMessage {
    fn default() -> Self {
        Self {
            declared: DEFAULT_MAX_MESSAGE_LEN + 1,
        }
    }
}

impl Script for OversizedMessage {
    async fn run(&self, conn: &mut WireConn) -> io::Result<()> {
        let declared = self.declared.max(9);
        let mut frame = BytesMut::with_capacity(LENGTH_PREFIX_LEN + declared as usize);
        frame.put_u32(declared);
        frame.put_u8(id::PIECE);
        frame.put_u32(0); // index
        frame.put_u32(0); // begin
        frame.resize(LENGTH_PREFIX_LEN + declared as usize, 0);
        let (written, result) = conn.write_partial(&frame).await;
        conn.record(Sent::Oversized {
            id: id::PIECE,
            declared,
            written,
        });
        result?;
        conn.drain().await
    }
}

/// Sends a BITFIELD (as the first message, where one belongs) that is invalid for the torrent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadBitfield {
    /// Every piece set, plus one extra byte: `ceil(pieces / 8) + 1` bytes.
    WrongLength,
    /// The right length, every piece set, and the spare bits after the last piece set too.
    /// Only possible when the piece count is not a multiple of 8; otherwise the connection
    /// fails with [`End::Failed`](super::End::Failed) and sends nothing.
    SpareBits,
}

impl BadBitfield {
    /// The payload sent for a torrent of `pieces` pieces; `None` for [`Self::SpareBits`] when
    /// there are no spare bits.
    pub fn payload(self, pieces: u32) -> Option<Vec<u8>> {
        let mut bytes = Bitfield::full(pieces as usize).to_bytes();
        match self {
            BadBitfield::WrongLength => bytes.push(0),
            BadBitfield::SpareBits => {
                let spare = (8 - pieces % 8) % 8;
                let last = bytes.last_mut().filter(|_| spare > 0)?;
                *last |= (1u8 << spare) - 1;
            }
        }
        Some(bytes)
    }
}

impl Script for BadBitfield {
    async fn run(&self, conn: &mut WireConn) -> io::Result<()> {
        let pieces = conn.lengths().piece_count();
        let payload = self.payload(pieces).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{pieces} pieces leave no spare bits in a bitfield"),
            )
        })?;
        conn.send(PeerMessage::Bitfield(payload.into())).await?;
        conn.drain().await
    }
}

/// Sends one REQUEST outside what BEP 3 allows, right after the handshake (a receiver checks
/// a request's range before whether it chokes the sender).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutOfRangeRequest {
    /// Piece index = the piece count: one past the last piece.
    PastLastPiece,
    /// In the last piece, starting one byte before its end with a 16 KiB length.
    PastPieceEnd,
    /// 32 KiB from the start of piece 0: over the 16 KiB every client serves. Inside the
    /// piece when pieces are 32 KiB or more, so the length is the only fault.
    TooLong,
}

impl OutOfRangeRequest {
    /// The request sent for a torrent of this geometry.
    pub fn request(self, lengths: &Lengths) -> BlockRequest {
        match self {
            OutOfRangeRequest::PastLastPiece => BlockRequest {
                piece: lengths.piece_count(),
                offset: 0,
                length: BLOCK_LEN,
            },
            OutOfRangeRequest::PastPieceEnd => {
                let last = lengths.last_piece();
                BlockRequest {
                    piece: last.get(),
                    offset: lengths.piece_len(last).saturating_sub(1),
                    length: BLOCK_LEN,
                }
            }
            OutOfRangeRequest::TooLong => BlockRequest {
                piece: 0,
                offset: 0,
                length: 2 * BLOCK_LEN,
            },
        }
    }
}

impl Script for OutOfRangeRequest {
    async fn run(&self, conn: &mut WireConn) -> io::Result<()> {
        let request = self.request(conn.lengths());
        conn.send(PeerMessage::Request(request)).await?;
        conn.drain().await
    }
}

/// Sends `count` PIECE frames of random bytes that nobody requested, for the torrent's blocks
/// in order (from the first again if it has fewer), in one write: a receiver must drop them,
/// and never let them touch a piece it has verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsolicitedBlocks {
    /// How many blocks to send.
    pub count: usize,
}

impl Default for UnsolicitedBlocks {
    fn default() -> Self {
        Self { count: 200 }
    }
}

impl Script for UnsolicitedBlocks {
    async fn run(&self, conn: &mut WireConn) -> io::Result<()> {
        let lengths = conn.lengths();
        let grid: Vec<BlockRef> = lengths
            .pieces()
            .flat_map(|piece| lengths.blocks(piece))
            .take(self.count)
            .collect();
        let blocks = grid
            .iter()
            .cycle()
            .take(self.count)
            .map(|b| {
                random_block(BlockRequest {
                    piece: b.piece.get(),
                    offset: b.offset,
                    length: b.len,
                })
            })
            .collect();
        conn.send_all(blocks).await?;
        conn.drain().await
    }
}
