//! [`FileMap`]: where each file lies in the torrent's byte stream, and the [`FileSegment`]s a
//! byte range, a piece or a block covers, found by binary search over the files' end offsets.
//! Zero-length files keep their index but never produce a segment.

use std::iter::FusedIterator;
use std::ops::Range;

use super::{BlockRef, GeometryError, Lengths, PieceIndex};

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
