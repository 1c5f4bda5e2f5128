//! The resume check spread over the disk worker pool.
//!
//! One [`CheckPieces`] message is handled by one worker, so [`check_existing`] cuts the torrent
//! into chunks and keeps a window of them in flight: with a window of twice the pool size every
//! worker always has its next chunk queued, and the whole check runs at the speed of all cores
//! together. Chunks are small enough (at most [`MAX_CHUNK_BYTES`], and at least four per window
//! slot) that the load evens out and progress is reported often, and only the chunks in the
//! window exist at any time, so a torrent of millions of pieces needs no big allocation.

use std::collections::VecDeque;

use actix::Recipient;
use bt_proto::bitfield::Bitfield;
use bt_proto::geometry::Lengths;

use super::{CheckPieces, DiskError};
use crate::storage::StorageError;

/// The most data one chunk covers: 32 MiB hashes in about 20 ms with SHA-NI, so progress moves
/// smoothly and the last chunk does not leave the other workers idle for long.
pub const MAX_CHUNK_BYTES: u64 = 32 << 20;

/// Checks every piece on disk against `hashes` (one per piece) through the disk pool and returns
/// the bitfield of pieces that verify. `in_flight` is the number of chunks kept queued (pass
/// twice the pool's thread count); `progress(checked, total)` is called as chunks complete.
///
/// Pieces whose files are missing or too short are marked missing without being read. The
/// first error (other than absent data) ends the check; chunks still queued then finish on
/// the workers and their results are dropped.
pub async fn check_existing(
    disk: &Recipient<CheckPieces>,
    lengths: &Lengths,
    hashes: &[[u8; 20]],
    in_flight: usize,
    mut progress: impl FnMut(u32, u32),
) -> Result<Bitfield, DiskError> {
    let total = lengths.piece_count();
    if hashes.len() != total as usize {
        return Err(StorageError::HashCountMismatch {
            expected: total,
            actual: hashes.len(),
        }
        .into());
    }
    let in_flight = in_flight.max(1);
    let chunk_len = chunk_len(lengths, in_flight);
    let mut pieces = lengths.pieces().zip(hashes.iter().copied());
    let mut window = VecDeque::with_capacity(in_flight);
    let mut have = Bitfield::new(total as usize);
    let mut checked = 0u32;
    loop {
        while window.len() < in_flight {
            let chunk: Vec<_> = pieces.by_ref().take(chunk_len).collect();
            if chunk.is_empty() {
                break;
            }
            let count = u32::try_from(chunk.len()).unwrap_or(u32::MAX);
            // `send` queues at once when the mailbox has room, so the whole window is on the
            // workers while we wait for its first chunk.
            window.push_back((count, disk.send(CheckPieces { pieces: chunk })));
        }
        let Some((count, request)) = window.pop_front() else {
            break;
        };
        for piece in request.await?? {
            // The workers return pieces of our own chunks, all in range.
            let _ = have.set(piece.as_usize());
        }
        checked = checked.saturating_add(count);
        progress(checked, total);
    }
    Ok(have)
}

/// Pieces per chunk: about four chunks per window slot, capped at [`MAX_CHUNK_BYTES`].
fn chunk_len(lengths: &Lengths, in_flight: usize) -> usize {
    let pieces = lengths.piece_count() as usize;
    let by_count = pieces.div_ceil(in_flight.saturating_mul(4));
    let by_bytes = MAX_CHUNK_BYTES / u64::from(lengths.default_piece_len());
    let by_bytes = usize::try_from(by_bytes).unwrap_or(usize::MAX);
    by_count.min(by_bytes).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_bounded_both_ways() {
        let small = Lengths::new(100 * 16_384, 16_384).unwrap();
        assert_eq!(chunk_len(&small, 4), 7); // 100 / 16, rounded up
        assert_eq!(chunk_len(&small, 1_000), 1);
        let big = Lengths::new(1 << 40, 4 << 20).unwrap();
        assert_eq!(chunk_len(&big, 4), 8); // 32 MiB of 4 MiB pieces
    }
}
