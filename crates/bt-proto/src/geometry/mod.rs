//! Torrent geometry: piece and block lengths, validated piece indices, and the map from a byte
//! range of the torrent to segments of its files.
//!
//! A torrent is one byte stream cut into pieces of `piece_len` bytes (the last one shorter),
//! each piece cut into blocks of [`BLOCK_LEN`] bytes (the last block of a piece shorter). The
//! same stream is the concatenation of the torrent's files in metainfo order (BEP 3), so a piece
//! or a block may span several files.
//!
//! [`Lengths`] is the only place that creates a [`PieceIndex`]: an index that exists has been
//! checked against a piece count. Indices from another torrent's `Lengths` are not caught by the
//! type system; the methods here stay total for them (a length of 0, no blocks) instead of
//! panicking. [`Lengths::validate_request`] and [`Lengths::validate_block`] check what a peer
//! sends in REQUEST and PIECE messages (BEP 3) with checked arithmetic.
//!
//! [`FileMap`] turns a byte range into [`FileSegment`]s by binary search over the files' end
//! offsets; zero-length files keep their index but never produce a segment.
//!
//! # Layout
//! - `file_map`: [`FileMap`], [`FileSegment`] and the [`Segments`] iterator.

mod file_map;
#[cfg(test)]
mod tests;

use std::fmt;
use std::ops::Range;

use thiserror::Error;

pub use file_map::{FileMap, FileSegment, Segments};

/// The block size every client requests and serves (BEP 3 practice; larger requests are
/// commonly refused).
pub const BLOCK_LEN: u32 = 16 * 1024;

/// Errors from building or querying the torrent geometry.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GeometryError {
    /// The metainfo's `piece length` is zero.
    #[error("piece length is zero")]
    ZeroPieceLength,
    /// The torrent holds no bytes at all.
    #[error("total length is zero")]
    ZeroTotalLength,
    /// The piece count does not fit the 32-bit index of the peer wire protocol.
    #[error("{count} pieces do not fit in a 32-bit piece index")]
    TooManyPieces {
        /// The piece count the lengths imply.
        count: u64,
    },
    /// A piece index at or past the piece count.
    #[error("piece index {index} is out of range (piece count {count})")]
    PieceOutOfRange {
        /// The index received.
        index: u32,
        /// The torrent's piece count.
        count: u32,
    },
    /// A request or block of zero bytes.
    #[error("block length is zero")]
    ZeroBlockLength,
    /// A request longer than the caller's limit.
    #[error("block length {len} exceeds the limit of {max}")]
    BlockTooLong {
        /// The length received.
        len: u32,
        /// The limit in force.
        max: u32,
    },
    /// A range that starts or ends past the end of its piece.
    #[error("range at offset {offset} of length {len} runs past piece {piece} ({piece_len} bytes)")]
    OutsidePiece {
        /// The piece index.
        piece: u32,
        /// The offset received.
        offset: u32,
        /// The length received.
        len: u32,
        /// The length of that piece.
        piece_len: u32,
    },
    /// A received block whose offset is not on the block grid.
    #[error("block offset {offset} is not a multiple of the block length")]
    UnalignedBlock {
        /// The offset received.
        offset: u32,
    },
    /// A received block whose length differs from the grid's block at that offset.
    #[error("block at offset {offset} has length {len}, expected {expected}")]
    WrongBlockLength {
        /// The offset received.
        offset: u32,
        /// The length received.
        len: u32,
        /// The length of the grid's block at that offset.
        expected: u32,
    },
    /// A file list with no files.
    #[error("the file list is empty")]
    NoFiles,
    /// File lengths whose sum overflows 64 bits.
    #[error("file lengths add up to more than 2^64 - 1 bytes")]
    TotalOverflow,
}

/// A piece index checked against a torrent's piece count; only [`Lengths`] creates one.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PieceIndex(u32);

impl PieceIndex {
    /// The index as sent on the wire.
    pub fn get(self) -> u32 {
        self.0
    }

    /// The index for indexing a bitfield or a per-piece table.
    pub fn as_usize(self) -> usize {
        // u32 -> usize is lossless on every target this crate supports (32 and 64 bit).
        self.0 as usize
    }
}

impl fmt::Display for PieceIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for PieceIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PieceIndex({})", self.0)
    }
}

/// A byte range inside one piece: what REQUEST, PIECE and CANCEL messages name (BEP 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockRef {
    /// The piece the range lies in.
    pub piece: PieceIndex,
    /// Byte offset inside the piece.
    pub offset: u32,
    /// Length in bytes.
    pub len: u32,
}

/// Piece and block lengths of one torrent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lengths {
    total_len: u64,
    piece_len: u32,
    piece_count: u32,
    /// Cached so that the hot per-block paths do no division.
    last_piece_len: u32,
}

impl Lengths {
    /// Checks the metainfo's total length and `piece length`; the piece count must fit a `u32`.
    pub fn new(total_len: u64, piece_len: u32) -> Result<Lengths, GeometryError> {
        if piece_len == 0 {
            return Err(GeometryError::ZeroPieceLength);
        }
        if total_len == 0 {
            return Err(GeometryError::ZeroTotalLength);
        }
        let count = total_len.div_ceil(u64::from(piece_len));
        let piece_count =
            u32::try_from(count).map_err(|_| GeometryError::TooManyPieces { count })?;
        // count >= 1, and (count - 1) * piece_len < total_len <= count * piece_len.
        let before_last = u64::from(piece_count - 1) * u64::from(piece_len);
        let last_piece_len = u32::try_from(total_len - before_last)
            .expect("invariant: the last piece is at most piece_len bytes");
        Ok(Lengths {
            total_len,
            piece_len,
            piece_count,
            last_piece_len,
        })
    }

    /// The number of pieces (at least 1).
    pub fn piece_count(&self) -> u32 {
        self.piece_count
    }

    /// The torrent's length in bytes.
    pub fn total_len(&self) -> u64 {
        self.total_len
    }

    /// The nominal piece length from the metainfo (every piece but possibly the last).
    pub fn default_piece_len(&self) -> u32 {
        self.piece_len
    }

    /// Validates a raw index (from the wire, a resume file, a bitfield position).
    pub fn piece(&self, raw: u32) -> Option<PieceIndex> {
        (raw < self.piece_count).then_some(PieceIndex(raw))
    }

    /// The last piece, the one that may be shorter.
    pub fn last_piece(&self) -> PieceIndex {
        PieceIndex(self.piece_count - 1)
    }

    /// Every piece index, in order.
    pub fn pieces(&self) -> impl DoubleEndedIterator<Item = PieceIndex> + ExactSizeIterator {
        (0..self.piece_count).map(PieceIndex)
    }

    /// The piece's length: `piece_len`, or less for the last piece; 0 for a foreign index.
    pub fn piece_len(&self, piece: PieceIndex) -> u32 {
        match piece.0.cmp(&(self.piece_count - 1)) {
            std::cmp::Ordering::Less => self.piece_len,
            std::cmp::Ordering::Equal => self.last_piece_len,
            std::cmp::Ordering::Greater => 0,
        }
    }

    /// The piece's first byte as an offset into the torrent's byte stream.
    pub fn piece_offset(&self, piece: PieceIndex) -> u64 {
        // Cannot overflow: (2^32 - 1)^2 < 2^64.
        u64::from(piece.0) * u64::from(self.piece_len)
    }

    /// The piece's byte range in the torrent's byte stream.
    pub fn piece_range(&self, piece: PieceIndex) -> Range<u64> {
        let start = self.piece_offset(piece);
        start..start + u64::from(self.piece_len(piece))
    }

    /// The pieces that hold at least one byte of `range` (clamped to the torrent).
    pub fn pieces_in(&self, range: Range<u64>) -> Range<u32> {
        let end = range.end.min(self.total_len);
        if range.start >= end {
            let at = self.piece_at(range.start.min(self.total_len));
            return at..at;
        }
        self.piece_at(range.start)..self.piece_at(end - 1) + 1
    }

    /// The piece holding byte `offset`, or `piece_count` at or past the end.
    fn piece_at(&self, offset: u64) -> u32 {
        let index = offset / u64::from(self.piece_len);
        u32::try_from(index).map_or(self.piece_count, |i| i.min(self.piece_count))
    }

    /// The number of blocks in the piece (the last one may be shorter).
    pub fn block_count(&self, piece: PieceIndex) -> u32 {
        self.piece_len(piece).div_ceil(BLOCK_LEN)
    }

    /// Block `block_index` of the piece, or `None` past its last block.
    pub fn block(&self, piece: PieceIndex, block_index: u32) -> Option<BlockRef> {
        let offset = block_index.checked_mul(BLOCK_LEN)?;
        let remaining = self.piece_len(piece).checked_sub(offset)?;
        (remaining > 0).then(|| BlockRef {
            piece,
            offset,
            len: remaining.min(BLOCK_LEN),
        })
    }

    /// Every block of the piece, in order.
    pub fn blocks(&self, piece: PieceIndex) -> impl Iterator<Item = BlockRef> + use<> {
        let lengths = *self;
        (0..self.block_count(piece)).filter_map(move |i| lengths.block(piece, i))
    }

    /// The block's position in its piece's grid, if it is exactly one of the grid's blocks.
    pub fn block_index(&self, block: &BlockRef) -> Option<u32> {
        self.validate_block(block.piece.0, block.offset, block.len)
            .ok()
            .map(|b| b.offset / BLOCK_LEN)
    }

    /// Checks a peer's REQUEST: a known piece, `0 < len <= max_len`, and the whole range inside
    /// the piece. Any offset is allowed (BEP 3 does not require alignment).
    pub fn validate_request(
        &self,
        piece: u32,
        offset: u32,
        len: u32,
        max_len: u32,
    ) -> Result<BlockRef, GeometryError> {
        let index = self.checked_piece(piece)?;
        if len == 0 {
            return Err(GeometryError::ZeroBlockLength);
        }
        if len > max_len {
            return Err(GeometryError::BlockTooLong { len, max: max_len });
        }
        let piece_len = self.piece_len(index);
        match offset.checked_add(len) {
            Some(end) if end <= piece_len => Ok(BlockRef {
                piece: index,
                offset,
                len,
            }),
            _ => Err(GeometryError::OutsidePiece {
                piece,
                offset,
                len,
                piece_len,
            }),
        }
    }

    /// Checks received PIECE data: it must be exactly one block of our grid (offset a multiple of
    /// [`BLOCK_LEN`], length equal to that block's length), since we only request those.
    pub fn validate_block(
        &self,
        piece: u32,
        offset: u32,
        len: u32,
    ) -> Result<BlockRef, GeometryError> {
        let index = self.checked_piece(piece)?;
        if offset % BLOCK_LEN != 0 {
            return Err(GeometryError::UnalignedBlock { offset });
        }
        let piece_len = self.piece_len(index);
        let expected = match piece_len.checked_sub(offset) {
            Some(remaining) if remaining > 0 => remaining.min(BLOCK_LEN),
            _ => {
                return Err(GeometryError::OutsidePiece {
                    piece,
                    offset,
                    len,
                    piece_len,
                });
            }
        };
        if len != expected {
            return Err(GeometryError::WrongBlockLength {
                offset,
                len,
                expected,
            });
        }
        Ok(BlockRef {
            piece: index,
            offset,
            len,
        })
    }

    fn checked_piece(&self, piece: u32) -> Result<PieceIndex, GeometryError> {
        self.piece(piece).ok_or(GeometryError::PieceOutOfRange {
            index: piece,
            count: self.piece_count,
        })
    }
}
