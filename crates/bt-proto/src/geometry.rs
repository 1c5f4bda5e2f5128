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

use std::fmt;
use std::iter::FusedIterator;
use std::ops::Range;

use thiserror::Error;

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

/// A run of bytes inside one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileSegment {
    /// The file's position in the metainfo file list (zero-length files included).
    pub file_index: usize,
    /// Byte offset inside the file.
    pub file_offset: u64,
    /// Length in bytes, never zero.
    pub len: u64,
}

/// Where each file of a torrent lies in the torrent's byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMap {
    /// Exclusive end offset of each file: non-decreasing, so `partition_point` finds the file
    /// holding a byte, skipping zero-length files for free.
    ends: Vec<u64>,
}

impl FileMap {
    /// Builds the map from the file lengths in metainfo order; the sum must fit a `u64`.
    pub fn new(file_lengths: &[u64]) -> Result<FileMap, GeometryError> {
        if file_lengths.is_empty() {
            return Err(GeometryError::NoFiles);
        }
        let mut ends = Vec::with_capacity(file_lengths.len());
        let mut total = 0u64;
        for &len in file_lengths {
            total = total.checked_add(len).ok_or(GeometryError::TotalOverflow)?;
            ends.push(total);
        }
        Ok(FileMap { ends })
    }

    /// The sum of the file lengths; build [`Lengths`] from it so the two agree.
    pub fn total_len(&self) -> u64 {
        self.ends.last().copied().unwrap_or(0)
    }

    /// The number of files, zero-length ones included.
    pub fn file_count(&self) -> usize {
        self.ends.len()
    }

    /// The byte range of a file in the torrent's byte stream.
    pub fn file_range(&self, file_index: usize) -> Option<Range<u64>> {
        let end = *self.ends.get(file_index)?;
        Some(self.file_start(file_index)..end)
    }

    fn file_start(&self, file_index: usize) -> u64 {
        file_index
            .checked_sub(1)
            .and_then(|i| self.ends.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// The file segments covering `len` bytes from `torrent_offset`, in order; the range is
    /// clamped to the torrent's end.
    pub fn segments(&self, torrent_offset: u64, len: u64) -> Segments<'_> {
        let end = torrent_offset.saturating_add(len).min(self.total_len());
        Segments {
            map: self,
            pos: torrent_offset,
            end,
        }
    }

    /// The file segments of a whole piece.
    pub fn piece_segments(&self, lengths: &Lengths, piece: PieceIndex) -> Segments<'_> {
        self.segments(
            lengths.piece_offset(piece),
            u64::from(lengths.piece_len(piece)),
        )
    }

    /// The file segments of one block.
    pub fn block_segments(&self, lengths: &Lengths, block: &BlockRef) -> Segments<'_> {
        let start = lengths
            .piece_offset(block.piece)
            .saturating_add(u64::from(block.offset));
        self.segments(start, u64::from(block.len))
    }

    /// The pieces that hold bytes of the file (empty for a zero-length file), for selective
    /// download; `None` for an unknown file index.
    pub fn file_pieces(&self, lengths: &Lengths, file_index: usize) -> Option<Range<u32>> {
        self.file_range(file_index)
            .map(|range| lengths.pieces_in(range))
    }
}

/// Iterator over the [`FileSegment`]s of a byte range; see [`FileMap::segments`].
#[derive(Debug, Clone)]
pub struct Segments<'a> {
    map: &'a FileMap,
    pos: u64,
    end: u64,
}

impl Iterator for Segments<'_> {
    type Item = FileSegment;

    fn next(&mut self) -> Option<FileSegment> {
        if self.pos >= self.end {
            return None;
        }
        // The first file ending after `pos` holds it: files before it end at or before `pos`,
        // so its start is <= pos < its end, and it is not zero-length.
        let file_index = self.map.ends.partition_point(|&end| end <= self.pos);
        let file_end = *self.map.ends.get(file_index)?;
        let seg_end = file_end.min(self.end);
        let segment = FileSegment {
            file_index,
            file_offset: self.pos.saturating_sub(self.map.file_start(file_index)),
            len: seg_end.saturating_sub(self.pos),
        };
        self.pos = seg_end;
        Some(segment)
    }
}

impl FusedIterator for Segments<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lengths(total: u64, piece_len: u32) -> Lengths {
        Lengths::new(total, piece_len).unwrap()
    }

    fn seg(file_index: usize, file_offset: u64, len: u64) -> FileSegment {
        FileSegment {
            file_index,
            file_offset,
            len,
        }
    }

    #[test]
    fn short_last_piece() {
        let l = lengths(100_000, 32_768);
        assert_eq!(l.piece_count(), 4);
        assert_eq!(l.total_len(), 100_000);
        let last = l.piece(3).unwrap();
        assert_eq!(l.last_piece(), last);
        assert_eq!(l.piece_len(l.piece(0).unwrap()), 32_768);
        assert_eq!(l.piece_len(last), 1_696);
        assert_eq!(l.piece_offset(last), 98_304);
        assert_eq!(l.piece_range(last), 98_304..100_000);
        assert_eq!(l.piece(4), None);
        assert_eq!(
            l.pieces().map(PieceIndex::get).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
        assert_eq!(l.block_count(last), 1);
        let blocks: Vec<_> = l.blocks(last).collect();
        assert_eq!(
            blocks,
            [BlockRef {
                piece: last,
                offset: 0,
                len: 1_696
            }]
        );
        assert_eq!(format!("{last} {last:?}"), "3 PieceIndex(3)");
    }

    #[test]
    fn exact_multiple_and_blocks() {
        let l = lengths(65_536, 32_768);
        assert_eq!(l.piece_count(), 2);
        assert_eq!(l.piece_len(l.last_piece()), 32_768);

        let l = lengths(40_000, 40_000);
        let p = l.piece(0).unwrap();
        assert_eq!(l.block_count(p), 3);
        let lens: Vec<_> = l.blocks(p).map(|b| (b.offset, b.len)).collect();
        assert_eq!(lens, [(0, 16_384), (16_384, 16_384), (32_768, 7_232)]);
        assert_eq!(l.block(p, 3), None);
        assert_eq!(l.block(p, u32::MAX), None);
        let last = l.block(p, 2).unwrap();
        assert_eq!(l.block_index(&last), Some(2));
        let odd = BlockRef {
            piece: p,
            offset: 100,
            len: 16_384,
        };
        assert_eq!(l.block_index(&odd), None);
    }

    #[test]
    fn rejects_bad_lengths() {
        assert_eq!(Lengths::new(0, 16), Err(GeometryError::ZeroTotalLength));
        assert_eq!(Lengths::new(16, 0), Err(GeometryError::ZeroPieceLength));
        assert_eq!(
            Lengths::new(u64::MAX, 1),
            Err(GeometryError::TooManyPieces { count: u64::MAX })
        );
        let l = lengths(u64::from(u32::MAX), 1);
        assert_eq!(l.piece_count(), u32::MAX);
        assert_eq!(l.piece_len(l.last_piece()), 1);
    }

    #[test]
    fn validate_request_cases() {
        let l = lengths(100_000, 32_768);
        let max = 16_384;
        let ok = l.validate_request(3, 1_000, 696, max).unwrap();
        assert_eq!((ok.piece.get(), ok.offset, ok.len), (3, 1_000, 696));
        assert_eq!(l.validate_request(0, 5, 100, max).unwrap().offset, 5);
        assert_eq!(
            l.validate_request(4, 0, 1, max),
            Err(GeometryError::PieceOutOfRange { index: 4, count: 4 })
        );
        assert_eq!(
            l.validate_request(0, 0, 0, max),
            Err(GeometryError::ZeroBlockLength)
        );
        assert_eq!(
            l.validate_request(0, 0, 16_385, max),
            Err(GeometryError::BlockTooLong { len: 16_385, max })
        );
        let past = GeometryError::OutsidePiece {
            piece: 3,
            offset: 1_000,
            len: 697,
            piece_len: 1_696,
        };
        assert_eq!(l.validate_request(3, 1_000, 697, max), Err(past));
        assert!(l.validate_request(0, u32::MAX, 2, max).is_err());
    }

    #[test]
    fn validate_block_cases() {
        let l = lengths(100_000, 32_768);
        assert_eq!(l.validate_block(1, 16_384, 16_384).unwrap().offset, 16_384);
        assert_eq!(l.validate_block(3, 0, 1_696).unwrap().len, 1_696);
        assert_eq!(
            l.validate_block(3, 0, 16_384),
            Err(GeometryError::WrongBlockLength {
                offset: 0,
                len: 16_384,
                expected: 1_696
            })
        );
        assert_eq!(
            l.validate_block(0, 1, 16_384),
            Err(GeometryError::UnalignedBlock { offset: 1 })
        );
        assert!(matches!(
            l.validate_block(0, 32_768, 1),
            Err(GeometryError::OutsidePiece { .. })
        ));
        assert!(matches!(
            l.validate_block(9, 0, 1),
            Err(GeometryError::PieceOutOfRange { .. })
        ));
        assert_eq!(
            l.validate_block(0, 0, 0),
            Err(GeometryError::WrongBlockLength {
                offset: 0,
                len: 0,
                expected: 16_384
            })
        );
    }

    #[test]
    fn piece_spans_three_files_around_an_empty_one() {
        // Files: a 10, b 0, c 5, d 20 (total 35); pieces of 16: [0,16) [16,32) [32,35).
        let map = FileMap::new(&[10, 0, 5, 20]).unwrap();
        let l = lengths(map.total_len(), 16);
        assert_eq!(map.total_len(), 35);
        assert_eq!(map.file_count(), 4);
        let piece = |i| l.piece(i).unwrap();
        let segs = |i| map.piece_segments(&l, piece(i)).collect::<Vec<_>>();
        assert_eq!(segs(0), [seg(0, 0, 10), seg(2, 0, 5), seg(3, 0, 1)]);
        assert_eq!(segs(1), [seg(3, 1, 16)]);
        assert_eq!(segs(2), [seg(3, 17, 3)]);
        assert_eq!(map.file_range(1), Some(10..10));
        assert_eq!(map.file_pieces(&l, 0), Some(0..1));
        assert_eq!(map.file_pieces(&l, 1).map(|r| r.len()), Some(0));
        assert_eq!(map.file_pieces(&l, 2), Some(0..1));
        assert_eq!(map.file_pieces(&l, 3), Some(0..3));
        assert_eq!(map.file_pieces(&l, 4), None);
        let block = BlockRef {
            piece: piece(0),
            offset: 8,
            len: 4,
        };
        let got: Vec<_> = map.block_segments(&l, &block).collect();
        assert_eq!(got, [seg(0, 8, 2), seg(2, 0, 2)]);
    }

    #[test]
    fn empty_files_at_the_edges_and_clamping() {
        let map = FileMap::new(&[0, 10, 0]).unwrap();
        assert_eq!(map.segments(0, 10).collect::<Vec<_>>(), [seg(1, 0, 10)]);
        assert_eq!(map.segments(4, 100).collect::<Vec<_>>(), [seg(1, 4, 6)]);
        assert_eq!(map.segments(10, 5).count(), 0);
        assert_eq!(map.segments(u64::MAX, u64::MAX).count(), 0);
        assert_eq!(map.segments(3, 0).count(), 0);
        let l = lengths(10, 4);
        assert_eq!(map.file_pieces(&l, 2).map(|r| r.len()), Some(0));
        assert_eq!(map.file_pieces(&l, 1), Some(0..3));
    }

    #[test]
    fn rejects_bad_file_lists() {
        assert_eq!(FileMap::new(&[]), Err(GeometryError::NoFiles));
        assert_eq!(
            FileMap::new(&[u64::MAX, 1]),
            Err(GeometryError::TotalOverflow)
        );
        assert_eq!(FileMap::new(&[0]).unwrap().total_len(), 0);
    }

    proptest! {
        #[test]
        fn piece_segments_tile_the_torrent(
            files in proptest::collection::vec(prop_oneof![Just(0u64), 0u64..5_000], 1..12),
            piece_len in 1u32..3_000,
        ) {
            let map = FileMap::new(&files).unwrap();
            prop_assume!(map.total_len() > 0);
            let l = lengths(map.total_len(), piece_len);
            let mut pos = 0u64;
            for piece in l.pieces() {
                let mut piece_bytes = 0u64;
                for s in map.piece_segments(&l, piece) {
                    prop_assert!(s.len > 0);
                    let range = map.file_range(s.file_index).unwrap();
                    prop_assert_eq!(range.start + s.file_offset, pos);
                    prop_assert!(s.file_offset + s.len <= files[s.file_index]);
                    prop_assert!(map.file_pieces(&l, s.file_index).unwrap().contains(&piece.get()));
                    pos += s.len;
                    piece_bytes += s.len;
                }
                prop_assert_eq!(piece_bytes, u64::from(l.piece_len(piece)));
                let from_blocks: Vec<_> = l.blocks(piece).flat_map(|b| map.block_segments(&l, &b)).collect();
                prop_assert_eq!(from_blocks.iter().map(|s| s.len).sum::<u64>(), piece_bytes);
                for b in l.blocks(piece) {
                    prop_assert_eq!(l.validate_block(piece.get(), b.offset, b.len), Ok(b));
                }
            }
            prop_assert_eq!(pos, map.total_len());
        }

        #[test]
        fn validation_never_panics(
            total in 1u64..,
            piece_len in 1u32..,
            piece: u32,
            offset: u32,
            len: u32,
            max_len: u32,
        ) {
            let Ok(l) = Lengths::new(total, piece_len) else { return Ok(()) };
            if let Ok(b) = l.validate_request(piece, offset, len, max_len) {
                prop_assert!(b.len > 0 && b.len <= max_len);
                prop_assert!(u64::from(b.offset) + u64::from(b.len) <= u64::from(l.piece_len(b.piece)));
            }
            if let Ok(b) = l.validate_block(piece, offset, len) {
                prop_assert_eq!(l.block_index(&b), Some(offset / BLOCK_LEN));
            }
            let _ = l.validate_block(piece % l.piece_count(), offset % (piece_len.saturating_add(1)), len);
        }
    }
}
