//! A peer's piece bitfield (BEP 3), checked against the torrent's piece count.
//!
//! On the wire, piece 0 is the high bit of byte 0, the payload is exactly
//! `ceil(piece_count / 8)` bytes, and the spare bits at the end must be clear; a BITFIELD message
//! that breaks either rule is a protocol error and [`Bitfield::from_bytes`] rejects it.
//!
//! Indices are `usize` positions (from
//! [`PieceIndex::as_usize`](crate::geometry::PieceIndex::as_usize)).
//! Every method is total: an index past the end reads as "not had" and cannot be set, so a
//! peer's out-of-range HAVE can never panic the caller.

use bitvec::prelude::{BitSlice, BitVec, Msb0};
use thiserror::Error;

/// Errors from decoding or updating a bitfield.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BitfieldError {
    /// The payload is not exactly `ceil(piece_count / 8)` bytes.
    #[error("bitfield is {actual} bytes, expected {expected} for the piece count")]
    WrongLength {
        /// The expected byte length.
        expected: usize,
        /// The byte length received.
        actual: usize,
    },
    /// A bit past the last piece is set.
    #[error("bitfield has spare bits set past piece {piece_count}")]
    SpareBitsSet {
        /// The torrent's piece count.
        piece_count: usize,
    },
    /// An index at or past the piece count.
    #[error("piece index {index} is out of range (piece count {piece_count})")]
    OutOfRange {
        /// The index given.
        index: usize,
        /// The torrent's piece count.
        piece_count: usize,
    },
}

/// The set of pieces one side has; its length is the torrent's piece count.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bitfield {
    /// Invariant: the unused bits of the last byte are clear, so `as_raw_slice` is the wire form.
    bits: BitVec<u8, Msb0>,
}

impl Bitfield {
    /// A bitfield with no piece set.
    ///
    /// # Panics
    /// Only past bitvec's capacity (2^61 bits on 64-bit targets); a piece count from
    /// [`Lengths`](crate::geometry::Lengths) is a `u32`, far below it.
    pub fn new(piece_count: usize) -> Bitfield {
        let mut bits = BitVec::repeat(false, piece_count);
        bits.set_uninitialized(false);
        Bitfield { bits }
    }

    /// A bitfield with every piece set (a seeder's). Panics as [`Bitfield::new`] does.
    pub fn full(piece_count: usize) -> Bitfield {
        let mut bits = BitVec::repeat(true, piece_count);
        bits.set_uninitialized(false);
        Bitfield { bits }
    }

    /// Decodes a BITFIELD payload: exactly `ceil(piece_count / 8)` bytes, spare bits clear.
    pub fn from_bytes(bytes: &[u8], piece_count: usize) -> Result<Bitfield, BitfieldError> {
        let expected = Self::byte_len_for(piece_count);
        if bytes.len() != expected {
            return Err(BitfieldError::WrongLength {
                expected,
                actual: bytes.len(),
            });
        }
        let mut bits = BitVec::<u8, Msb0>::from_slice(bytes);
        if bits.get(piece_count..).is_some_and(BitSlice::any) {
            return Err(BitfieldError::SpareBitsSet { piece_count });
        }
        bits.truncate(piece_count);
        Ok(Bitfield { bits })
    }

    /// The wire length of a bitfield for `piece_count` pieces.
    pub fn byte_len_for(piece_count: usize) -> usize {
        piece_count.div_ceil(8)
    }

    /// The wire form: piece 0 in the high bit of byte 0, spare bits clear.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }

    /// The wire form, borrowed (for writing into a caller's buffer without a copy).
    pub fn as_bytes(&self) -> &[u8] {
        self.bits.as_raw_slice()
    }

    /// The number of pieces, set or not.
    pub fn piece_count(&self) -> usize {
        self.bits.len()
    }

    /// The number of pieces, set or not (same as [`Bitfield::piece_count`]).
    pub fn len(&self) -> usize {
        self.bits.len()
    }

    /// True for a torrent of zero pieces (not "no piece set": see [`Bitfield::none`]).
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    /// Whether the piece is set; false past the end.
    pub fn has(&self, index: usize) -> bool {
        self.bits.get(index).is_some_and(|bit| *bit)
    }

    /// Sets a piece; `Ok(true)` if it was not set before.
    pub fn set(&mut self, index: usize) -> Result<bool, BitfieldError> {
        self.replace(index, true).map(|old| !old)
    }

    /// Clears a piece; `Ok(true)` if it was set before.
    pub fn clear(&mut self, index: usize) -> Result<bool, BitfieldError> {
        self.replace(index, false)
    }

    fn replace(&mut self, index: usize, value: bool) -> Result<bool, BitfieldError> {
        let piece_count = self.bits.len();
        let mut bit = self
            .bits
            .get_mut(index)
            .ok_or(BitfieldError::OutOfRange { index, piece_count })?;
        Ok(std::mem::replace(&mut *bit, value))
    }

    /// The number of pieces set.
    pub fn count_ones(&self) -> usize {
        self.bits.count_ones()
    }

    /// The number of pieces not set.
    pub fn count_zeros(&self) -> usize {
        self.bits.count_zeros()
    }

    /// Whether every piece is set (true for zero pieces).
    pub fn is_complete(&self) -> bool {
        self.bits.all()
    }

    /// Whether no piece is set.
    pub fn none(&self) -> bool {
        self.bits.not_any()
    }

    /// The indices of the pieces set, ascending.
    pub fn iter_ones(&self) -> impl DoubleEndedIterator<Item = usize> + '_ {
        self.bits.iter_ones()
    }

    /// The indices of the pieces not set, ascending.
    pub fn iter_zeros(&self) -> impl DoubleEndedIterator<Item = usize> + '_ {
        self.bits.iter_zeros()
    }

    /// Whether `self` (a peer's bitfield) has a piece that `ours` lacks: whether we should be
    /// interested (BEP 3). Pieces past the end of `ours` count as lacking.
    pub fn interesting(&self, ours: &Bitfield) -> bool {
        let theirs = self.as_bytes();
        let mine = ours.as_bytes();
        theirs.iter().enumerate().any(|(i, t)| {
            // Spare bits are clear in both, so whole bytes compare correctly.
            t & !mine.get(i).copied().unwrap_or(0) != 0
        })
    }

    /// The pieces `self` has that `ours` lacks, ascending.
    pub fn interesting_pieces<'a>(
        &'a self,
        ours: &'a Bitfield,
    ) -> impl Iterator<Item = usize> + 'a {
        self.iter_ones().filter(move |&i| !ours.has(i))
    }

    /// The bits, for set operations this type does not wrap.
    pub fn as_bitslice(&self) -> &BitSlice<u8, Msb0> {
        &self.bits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn high_bit_is_piece_zero() {
        let field = Bitfield::from_bytes(&[0b1010_0000], 3).unwrap();
        assert!(field.has(0) && !field.has(1) && field.has(2));
        assert!(!field.has(3) && !field.has(usize::MAX));
        assert_eq!(field.iter_ones().collect::<Vec<_>>(), [0, 2]);
        assert_eq!(field.iter_zeros().collect::<Vec<_>>(), [1]);
        assert_eq!(
            (field.count_ones(), field.count_zeros(), field.len()),
            (2, 1, 3)
        );
        assert_eq!(field.to_bytes(), [0b1010_0000]);
    }

    #[test]
    fn checks_length_and_spare_bits() {
        let full = Bitfield::from_bytes(&[0xff, 0xc0], 10).unwrap();
        assert!(full.is_complete());
        assert_eq!(full, Bitfield::full(10));
        assert_eq!(Bitfield::full(10).to_bytes(), [0xff, 0xc0]);
        assert_eq!(Bitfield::new(10).to_bytes(), [0, 0]);
        assert_eq!(
            Bitfield::from_bytes(&[0xff, 0xe0], 10),
            Err(BitfieldError::SpareBitsSet { piece_count: 10 })
        );
        assert_eq!(
            Bitfield::from_bytes(&[0xff], 10),
            Err(BitfieldError::WrongLength {
                expected: 2,
                actual: 1
            })
        );
        assert_eq!(
            Bitfield::from_bytes(&[0, 0, 0], 16),
            Err(BitfieldError::WrongLength {
                expected: 2,
                actual: 3
            })
        );
        assert_eq!(Bitfield::from_bytes(&[0xff], 8).unwrap(), Bitfield::full(8));
    }

    #[test]
    fn zero_pieces() {
        let field = Bitfield::from_bytes(&[], 0).unwrap();
        assert!(field.is_empty() && field.is_complete() && field.none());
        assert_eq!(field.to_bytes(), Vec::<u8>::new());
        assert!(Bitfield::from_bytes(&[0], 0).is_err());
    }

    #[test]
    fn set_and_clear() {
        let mut field = Bitfield::new(9);
        assert!(field.none() && !field.is_empty());
        assert_eq!(field.set(8), Ok(true));
        assert_eq!(field.set(8), Ok(false));
        assert_eq!(field.to_bytes(), [0, 0x80]);
        assert_eq!(
            field.set(9),
            Err(BitfieldError::OutOfRange {
                index: 9,
                piece_count: 9
            })
        );
        assert!(field.clear(usize::MAX).is_err());
        assert_eq!(field.clear(8), Ok(true));
        assert_eq!(field.clear(8), Ok(false));
        assert!(field.none());
    }

    #[test]
    fn interest() {
        let theirs = Bitfield::full(10);
        let mut ours = Bitfield::new(10);
        assert!(theirs.interesting(&ours));
        for i in 0..9 {
            ours.set(i).unwrap();
        }
        assert!(theirs.interesting(&ours));
        assert_eq!(theirs.interesting_pieces(&ours).collect::<Vec<_>>(), [9]);
        ours.set(9).unwrap();
        assert!(!theirs.interesting(&ours));
        assert!(!Bitfield::new(10).interesting(&Bitfield::new(10)));
    }

    proptest! {
        #[test]
        fn bytes_round_trip(piece_count in 0usize..300, seed: Vec<u8>) {
            let mut bytes: Vec<u8> = seed.iter().copied().cycle().take(piece_count.div_ceil(8)).collect();
            bytes.resize(piece_count.div_ceil(8), 0xa5);
            let spare = bytes.len() * 8 - piece_count;
            if let Some(last) = bytes.last_mut() {
                *last &= 0xffu8.checked_shl(spare as u32).unwrap_or(0);
            }
            let field = Bitfield::from_bytes(&bytes, piece_count).unwrap();
            prop_assert_eq!(field.to_bytes(), bytes.clone());
            prop_assert_eq!(field.piece_count(), piece_count);
            let ones: Vec<usize> = (0..piece_count).filter(|&i| bytes[i / 8] & (0x80 >> (i % 8)) != 0).collect();
            prop_assert_eq!(field.iter_ones().collect::<Vec<_>>(), ones);
        }

        #[test]
        fn interesting_matches_naive(a: Vec<bool>, b: Vec<bool>) {
            let build = |bits: &[bool], n: usize| {
                let mut f = Bitfield::new(n);
                for (i, &on) in bits.iter().enumerate().take(n) {
                    if on { f.set(i).unwrap(); }
                }
                f
            };
            let n = a.len();
            let theirs = build(&a, n);
            let ours = build(&b, n);
            let naive = (0..n).any(|i| theirs.has(i) && !ours.has(i));
            prop_assert_eq!(theirs.interesting(&ours), naive);
            prop_assert_eq!(theirs.interesting_pieces(&ours).next().is_some(), naive);
        }

        #[test]
        fn from_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64), piece_count: usize) {
            if let Ok(field) = Bitfield::from_bytes(&bytes, piece_count) {
                prop_assert_eq!(field.to_bytes(), bytes.clone());
            }
            let small = piece_count % 600;
            if let Ok(field) = Bitfield::from_bytes(&bytes, small) {
                prop_assert_eq!(field.to_bytes(), bytes.clone());
            }
        }
    }
}
