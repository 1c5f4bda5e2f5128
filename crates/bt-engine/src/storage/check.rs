//! The resume check: which pieces are already on disk, derived from the data itself.
//!
//! The sizes of all files are taken once (`lstat`, no open). A piece any of whose segments lies
//! in a missing file, or past the current end of a file, is marked missing without reading a
//! byte; every other piece is read back and hashed. The test is per segment, not per file, so
//! the complete leading pieces of a truncated file still count. A file that vanishes or
//! shrinks during the check makes its pieces missing, not the check fail; any other I/O error
//! (permissions, a bad disk) ends the check with that error, since a resume that silently
//! skipped unreadable data would re-download it over and over.
//!
//! [`Storage::check_existing`] runs sequentially on the calling thread. The `DiskWriter` actor
//! spreads a big check over its worker pool instead by sending chunks of pieces to
//! [`Storage::check_pieces`] (see `actors::disk::check_existing`).

use bt_proto::bitfield::Bitfield;
use bt_proto::geometry::PieceIndex;

use super::layout::{self, Existing};
use super::{Storage, StorageError};

impl Storage {
    /// Checks every piece against `piece_hashes` (one per piece, in order) and returns the
    /// pieces that verify. Calls `progress(checked, total)` after each piece.
    pub fn check_existing(
        &self,
        piece_hashes: &[[u8; 20]],
        mut progress: impl FnMut(u32, u32),
    ) -> Result<Bitfield, StorageError> {
        let total = self.lengths.piece_count();
        if piece_hashes.len() != total as usize {
            return Err(StorageError::HashCountMismatch {
                expected: total,
                actual: piece_hashes.len(),
            });
        }
        let sizes = self.file_sizes()?;
        let mut have = Bitfield::new(total as usize);
        for (piece, expected) in self.lengths.pieces().zip(piece_hashes) {
            if self.check_one(&sizes, piece, expected)? {
                have.set(piece.as_usize())
                    .expect("invariant: the bitfield has one bit per piece");
            }
            progress(piece.get() + 1, total);
        }
        Ok(have)
    }

    /// Checks the given pieces, each against its own expected hash, and returns those that
    /// verify, in the order given. The unit of work the disk actor hands to one worker.
    pub fn check_pieces(
        &self,
        pieces: &[(PieceIndex, [u8; 20])],
    ) -> Result<Vec<PieceIndex>, StorageError> {
        let sizes = self.file_sizes()?;
        let mut good = Vec::new();
        for (piece, expected) in pieces {
            self.check_piece(*piece)?;
            if self.check_one(&sizes, *piece, expected)? {
                good.push(*piece);
            }
        }
        Ok(good)
    }

    /// The current on-disk length of each file (0 when missing or a directory).
    fn file_sizes(&self) -> Result<Vec<u64>, StorageError> {
        self.files
            .iter()
            .map(|f| {
                Ok(match layout::existing_file(&f.path)? {
                    Existing::File(len) => len,
                    Existing::Missing | Existing::Directory => 0,
                })
            })
            .collect()
    }

    /// Whether one piece is present in full and hashes right.
    fn check_one(
        &self,
        sizes: &[u64],
        piece: PieceIndex,
        expected: &[u8; 20],
    ) -> Result<bool, StorageError> {
        let present = self
            .file_map
            .piece_segments(&self.lengths, piece)
            .all(|seg| {
                sizes
                    .get(seg.file_index)
                    .is_some_and(|&size| seg.file_offset + seg.len <= size)
            });
        if !present {
            return Ok(false);
        }
        match self.verify_piece(piece, expected) {
            Ok(ok) => Ok(ok),
            Err(e) if e.is_absent_data() => Ok(false),
            Err(e) => Err(e),
        }
    }
}
