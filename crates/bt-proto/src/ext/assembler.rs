//! [`MetadataAssembler`]: collects a torrent's info dictionary from peers, piece by piece
//! (BEP 9), and accepts it only if it hashes to the info-hash.
//!
//! - The size comes from a peer's `metadata_size` and is refused when it is zero or over a
//!   limit, before anything is allocated ([`DEFAULT_MAX_METADATA_SIZE`]: 30 MiB, libtorrent's
//!   default `max_metadata_size`, the same limit `.torrent` parsing applies to an info
//!   dictionary).
//! - Memory grows with what arrives, one piece at a time, never with what a peer claims.
//! - Each piece must have exactly its length: 16 KiB, the last one the remainder.
//! - When the last piece arrives the whole is hashed. On a match the metadata is returned; on
//!   a mismatch every piece is dropped and the peers that supplied any of them are named, so
//!   the caller can strike them and start again from other peers.
//!
//! Peers are named by a caller's tag type `P` (a connection key, an address), so the
//! assembler knows nothing of connections.

use bytes::Bytes;
use sha1::{Digest, Sha1};
use thiserror::Error;

use crate::InfoHash;
use crate::metainfo::MAX_INFO_LEN;

use super::METADATA_PIECE_LEN;

/// The largest `metadata_size` accepted by default: 30 MiB, libtorrent's default
/// `max_metadata_size` (see [`MAX_INFO_LEN`]).
pub const DEFAULT_MAX_METADATA_SIZE: u64 = MAX_INFO_LEN as u64;

/// Why a metadata size or piece was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MetadataError {
    /// `metadata_size` is over the limit.
    #[error("metadata_size of {size} bytes is over the limit of {max}")]
    TooLarge {
        /// The size the peer announced.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// `metadata_size` is zero: no info dictionary is that short.
    #[error("metadata_size is zero")]
    Empty,
    /// A piece index past the last piece.
    #[error("metadata piece {piece} is out of range, the metadata has {count} pieces")]
    PieceOutOfRange {
        /// The index sent.
        piece: u32,
        /// Pieces in the metadata.
        count: u32,
    },
    /// A piece of the wrong length.
    #[error("metadata piece {piece} is {len} bytes, expected {expected}")]
    WrongLength {
        /// The index.
        piece: u32,
        /// Its length as sent.
        len: usize,
        /// Its length by the metadata size.
        expected: usize,
    },
    /// A data message whose `total_size` differs from the size being assembled.
    #[error("metadata total_size {claimed} differs from the metadata_size {expected}")]
    SizeMismatch {
        /// What the message says.
        claimed: u64,
        /// The size being assembled.
        expected: u64,
    },
}

/// What adding a piece came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress<P> {
    /// Stored; pieces are still missing.
    Incomplete,
    /// The piece had arrived already; the copy was dropped.
    Duplicate,
    /// The last piece arrived and the metadata hashes to the info-hash: here it is.
    Verified(Vec<u8>),
    /// The last piece arrived but the metadata does not hash to the info-hash. Every piece
    /// was dropped; these peers supplied at least one of them (each named once).
    HashMismatch {
        /// The suppliers, in the order of the pieces they sent.
        suppliers: Vec<P>,
    },
}

/// Collects one torrent's metadata; see the module docs.
#[derive(Debug, Clone)]
pub struct MetadataAssembler<P> {
    info_hash: InfoHash,
    size: u64,
    /// Each piece once it arrived, with its supplier.
    pieces: Vec<Option<(Bytes, P)>>,
    received: u32,
}

impl<P: Clone + PartialEq> MetadataAssembler<P> {
    /// Starts assembling `size` bytes of metadata for `info_hash`; refuses a size of 0 or over
    /// `max_size`. A `max_size` over [`MAX_INFO_LEN`] counts as that: no larger info
    /// dictionary would parse.
    pub fn new(info_hash: InfoHash, size: u64, max_size: u64) -> Result<Self, MetadataError> {
        let max_size = max_size.min(DEFAULT_MAX_METADATA_SIZE);
        if size == 0 {
            return Err(MetadataError::Empty);
        }
        if size > max_size {
            return Err(MetadataError::TooLarge {
                size,
                max: max_size,
            });
        }
        let count = size.div_ceil(METADATA_PIECE_LEN as u64);
        Ok(Self {
            info_hash,
            size,
            // At most 1920 slots: the size is at most 30 MiB.
            pieces: vec![None; count as usize],
            received: 0,
        })
    }

    /// The metadata's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// How many pieces the metadata has.
    pub fn piece_count(&self) -> u32 {
        u32::try_from(self.pieces.len()).unwrap_or(u32::MAX)
    }

    /// The length of piece `piece`, if it exists.
    pub fn piece_len(&self, piece: u32) -> Option<usize> {
        let count = self.piece_count();
        if piece >= count {
            return None;
        }
        if piece + 1 < count {
            return Some(METADATA_PIECE_LEN);
        }
        let before = u64::from(piece) * METADATA_PIECE_LEN as u64;
        usize::try_from(self.size - before).ok()
    }

    /// The pieces not received yet, in order.
    pub fn missing(&self) -> impl Iterator<Item = u32> + '_ {
        self.pieces
            .iter()
            .enumerate()
            .filter(|(_, piece)| piece.is_none())
            .filter_map(|(index, _)| u32::try_from(index).ok())
    }

    /// Pieces received so far.
    pub fn received(&self) -> u32 {
        self.received
    }

    /// Adds a piece from a data message (`total_size` as the message says), supplied by
    /// `from`. An error means the peer sent something impossible for this metadata; the
    /// assembler is unchanged.
    pub fn add(
        &mut self,
        piece: u32,
        total_size: u64,
        data: Bytes,
        from: P,
    ) -> Result<Progress<P>, MetadataError> {
        if total_size != self.size {
            return Err(MetadataError::SizeMismatch {
                claimed: total_size,
                expected: self.size,
            });
        }
        let expected = self
            .piece_len(piece)
            .ok_or(MetadataError::PieceOutOfRange {
                piece,
                count: self.piece_count(),
            })?;
        if data.len() != expected {
            return Err(MetadataError::WrongLength {
                piece,
                len: data.len(),
                expected,
            });
        }
        let slot = self
            .pieces
            .get_mut(piece as usize)
            .expect("invariant: piece_len checked the index");
        if slot.is_some() {
            return Ok(Progress::Duplicate);
        }
        *slot = Some((data, from));
        self.received += 1;
        if self.received < self.piece_count() {
            return Ok(Progress::Incomplete);
        }
        Ok(self.verify())
    }

    /// Hashes the complete metadata; on a mismatch, drops every piece.
    fn verify(&mut self) -> Progress<P> {
        let mut hasher = Sha1::new();
        for (data, _) in self.pieces.iter().flatten() {
            hasher.update(data);
        }
        if InfoHash(hasher.finalize().into()) == self.info_hash {
            let mut metadata = Vec::with_capacity(usize::try_from(self.size).unwrap_or(0));
            for (data, _) in self.pieces.iter_mut().filter_map(Option::take) {
                metadata.extend_from_slice(&data);
            }
            self.received = 0;
            return Progress::Verified(metadata);
        }
        let mut suppliers: Vec<P> = Vec::new();
        for (_, from) in self.pieces.iter_mut().filter_map(Option::take) {
            if !suppliers.contains(&from) {
                suppliers.push(from);
            }
        }
        self.received = 0;
        Progress::HashMismatch { suppliers }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(len: usize) -> (Vec<u8>, InfoHash) {
        let bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        let hash = InfoHash(Sha1::digest(&bytes).into());
        (bytes, hash)
    }

    fn piece(bytes: &[u8], index: usize) -> Bytes {
        let start = index * METADATA_PIECE_LEN;
        let end = (start + METADATA_PIECE_LEN).min(bytes.len());
        Bytes::copy_from_slice(&bytes[start..end])
    }

    #[test]
    fn assembles_pieces_in_any_order_and_verifies() {
        let (bytes, hash) = metadata(2 * METADATA_PIECE_LEN + 100);
        let size = bytes.len() as u64;
        let mut assembler = MetadataAssembler::new(hash, size, DEFAULT_MAX_METADATA_SIZE).unwrap();
        assert_eq!(assembler.piece_count(), 3);
        assert_eq!(assembler.piece_len(2), Some(100));
        assert_eq!(assembler.piece_len(3), None);
        assert_eq!(
            assembler.add(2, size, piece(&bytes, 2), 'a'),
            Ok(Progress::Incomplete)
        );
        assert_eq!(
            assembler.add(2, size, piece(&bytes, 2), 'b'),
            Ok(Progress::Duplicate)
        );
        assert_eq!(assembler.missing().collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(
            assembler.add(0, size, piece(&bytes, 0), 'b'),
            Ok(Progress::Incomplete)
        );
        assert_eq!(
            assembler.add(1, size, piece(&bytes, 1), 'a'),
            Ok(Progress::Verified(bytes))
        );
    }

    #[test]
    fn an_exact_multiple_of_the_piece_size_has_a_full_last_piece() {
        let (bytes, hash) = metadata(METADATA_PIECE_LEN);
        let mut assembler =
            MetadataAssembler::new(hash, bytes.len() as u64, DEFAULT_MAX_METADATA_SIZE).unwrap();
        assert_eq!(assembler.piece_count(), 1);
        assert_eq!(assembler.piece_len(0), Some(METADATA_PIECE_LEN));
        let progress = assembler.add(0, bytes.len() as u64, Bytes::from(bytes.clone()), 1u8);
        assert_eq!(progress, Ok(Progress::Verified(bytes)));
    }

    #[test]
    fn a_mismatch_names_the_suppliers_and_starts_over() {
        let (bytes, hash) = metadata(METADATA_PIECE_LEN + 10);
        let size = bytes.len() as u64;
        let mut assembler = MetadataAssembler::new(hash, size, DEFAULT_MAX_METADATA_SIZE).unwrap();
        assembler.add(0, size, piece(&bytes, 0), "good").unwrap();
        let bad = Bytes::from(vec![0u8; 10]);
        assert_eq!(
            assembler.add(1, size, bad, "liar"),
            Ok(Progress::HashMismatch {
                suppliers: vec!["good", "liar"]
            })
        );
        assert_eq!(assembler.received(), 0);
        assert_eq!(assembler.missing().count(), 2);
        // A second try from an honest peer succeeds.
        assembler.add(1, size, piece(&bytes, 1), "good").unwrap();
        assert_eq!(
            assembler.add(0, size, piece(&bytes, 0), "good"),
            Ok(Progress::Verified(bytes))
        );
    }

    #[test]
    fn sizes_over_the_limit_or_zero_are_refused() {
        let hash = InfoHash([1; 20]);
        assert_eq!(
            MetadataAssembler::<u8>::new(
                hash,
                DEFAULT_MAX_METADATA_SIZE + 1,
                DEFAULT_MAX_METADATA_SIZE
            )
            .unwrap_err(),
            MetadataError::TooLarge {
                size: DEFAULT_MAX_METADATA_SIZE + 1,
                max: DEFAULT_MAX_METADATA_SIZE
            }
        );
        // A caller's limit cannot raise the ceiling (nor make it allocate for a huge claim).
        assert!(matches!(
            MetadataAssembler::<u8>::new(hash, u64::MAX, u64::MAX),
            Err(MetadataError::TooLarge {
                max: DEFAULT_MAX_METADATA_SIZE,
                ..
            })
        ));
        // A lower limit of the caller's applies.
        assert!(MetadataAssembler::<u8>::new(hash, 101, 100).is_err());
        assert!(MetadataAssembler::<u8>::new(hash, 100, 100).is_ok());
        assert_eq!(
            MetadataAssembler::<u8>::new(hash, 0, 100).unwrap_err(),
            MetadataError::Empty
        );
        assert_eq!(DEFAULT_MAX_METADATA_SIZE, 30 * 1024 * 1024);
    }

    #[test]
    fn impossible_pieces_are_errors_and_change_nothing() {
        let (bytes, hash) = metadata(METADATA_PIECE_LEN + 10);
        let size = bytes.len() as u64;
        let mut assembler = MetadataAssembler::new(hash, size, DEFAULT_MAX_METADATA_SIZE).unwrap();
        assert!(matches!(
            assembler.add(2, size, Bytes::new(), 0),
            Err(MetadataError::PieceOutOfRange { piece: 2, count: 2 })
        ));
        assert!(matches!(
            assembler.add(1, size, Bytes::from(vec![0; 11]), 0),
            Err(MetadataError::WrongLength {
                piece: 1,
                len: 11,
                expected: 10
            })
        ));
        assert!(matches!(
            assembler.add(0, size + 1, piece(&bytes, 0), 0),
            Err(MetadataError::SizeMismatch { .. })
        ));
        assert_eq!(assembler.received(), 0);
    }
}
