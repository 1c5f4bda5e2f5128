//! Whole pieces from memory: [`Storage::store_piece`] hashes a piece's blocks as they were
//! received and writes the piece only if it matches, so a downloaded piece is never read back
//! to be hashed and a corrupt one never reaches the disk. Threads hash pieces in parallel and
//! write them one at a time.

use bt_proto::geometry::{BlockRef, PieceIndex};
use bytes::Bytes;
use sha1::{Digest, Sha1};

use super::{Storage, StorageError};

impl Storage {
    /// Hashes `blocks` (the piece's blocks in order, together exactly the piece) and, if the
    /// hash is `expected`, writes them; returns whether it matched. Blocks that do not make up
    /// the piece are an error, and nothing is written.
    pub fn store_piece(
        &self,
        piece: PieceIndex,
        expected: &[u8; 20],
        blocks: &[Bytes],
    ) -> Result<bool, StorageError> {
        self.check_piece(piece)?;
        let piece_len = self.lengths().piece_len(piece);
        let total: usize = blocks.iter().map(Bytes::len).sum();
        if total != piece_len as usize {
            return Err(StorageError::BadBlock {
                piece: piece.get(),
                offset: 0,
                len: piece_len,
                data_len: total,
            });
        }
        if hash_blocks(blocks) != *expected {
            return Ok(false);
        }
        // One piece written at a time: writers of one file take its inode lock in turn
        // anyway, and a thread waiting here sleeps, where one waiting on the lock in the
        // kernel spins while the other copies the piece (measured: a tenth of the disk
        // threads' time). Hashing, the larger share, still runs on every thread at once.
        let _one_at_a_time = self
            .piece_writes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.write_piece(piece, blocks)?;
        Ok(true)
    }

    /// Writes a piece's blocks, in order from its start.
    fn write_piece(&self, piece: PieceIndex, blocks: &[Bytes]) -> Result<(), StorageError> {
        let mut offset = 0u32;
        for data in blocks {
            // The blocks add up to the piece's length, so each fits (else `write_block` refuses).
            let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
            let block = BlockRef { piece, offset, len };
            self.write_block(&block, data)?;
            offset = offset.saturating_add(len);
        }
        Ok(())
    }
}

/// The SHA-1 of `blocks` one after the other.
pub fn hash_blocks(blocks: &[Bytes]) -> [u8; 20] {
    let mut hasher = Sha1::new();
    for block in blocks {
        hasher.update(block);
    }
    hasher.finalize().into()
}
