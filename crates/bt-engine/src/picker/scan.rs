//! Word-at-a-time scans over the intersection of two bitfields of the same torrent.
//!
//! A pick that cannot use the availability buckets (sequential order, random order, or a peer
//! lacking the rarest pieces) looks for candidates the peer has; testing 64 pieces per step
//! keeps that O(n / 64) plus the matches, instead of one bit lookup per piece.

use bt_proto::bitfield::Bitfield;

/// The words of `a & b`: word `k` holds pieces `64k..64k + 64`, piece `64k` in the high bit
/// (the wire order). Spare bits are clear in every `Bitfield`, so they never match.
fn words<'a>(a: &'a Bitfield, b: &'a Bitfield) -> impl Iterator<Item = (usize, u64)> + 'a {
    let word = |chunk: &[u8]| {
        let mut bytes = [0u8; 8];
        bytes[..chunk.len()].copy_from_slice(chunk);
        u64::from_be_bytes(bytes)
    };
    a.as_bytes()
        .chunks(8)
        .zip(b.as_bytes().chunks(8))
        .map(move |(x, y)| word(x) & word(y))
        .enumerate()
        .filter(|(_, w)| *w != 0)
}

/// Every piece set in both, ascending.
pub(super) fn common<'a>(a: &'a Bitfield, b: &'a Bitfield) -> impl Iterator<Item = usize> + 'a {
    words(a, b).flat_map(|(k, w)| common_in_word(k, w))
}

/// How many pieces are set in both.
pub(super) fn count_common(a: &Bitfield, b: &Bitfield) -> usize {
    words(a, b).map(|(_, w)| w.count_ones() as usize).sum()
}

/// The `n`th piece (from 0, ascending) set in both.
pub(super) fn nth_common(a: &Bitfield, b: &Bitfield, mut n: usize) -> Option<usize> {
    for (k, w) in words(a, b) {
        let ones = w.count_ones() as usize;
        if n < ones {
            return common_in_word(k, w).nth(n);
        }
        n -= ones;
    }
    None
}

/// The pieces set in word `k`, ascending.
fn common_in_word(k: usize, mut w: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (w != 0).then(|| {
            let bit = w.leading_zeros() as usize;
            w &= !(1u64 << (63 - bit));
            k * 64 + bit
        })
    })
}

/// A bitfield position as a wire index; positions come from bitfields sized by a `u32` piece
/// count, so the fallback (an index no `Lengths` accepts) is never taken.
pub(super) fn index_u32(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn field(bits: &[bool]) -> Bitfield {
        let mut f = Bitfield::new(bits.len());
        for (i, _) in bits.iter().enumerate().filter(|(_, b)| **b) {
            f.set(i).unwrap();
        }
        f
    }

    proptest! {
        #[test]
        fn scans_match_a_naive_intersection(pairs in proptest::collection::vec(any::<(bool, bool)>(), 0..300)) {
            let a = field(&pairs.iter().map(|p| p.0).collect::<Vec<_>>());
            let b = field(&pairs.iter().map(|p| p.1).collect::<Vec<_>>());
            let naive: Vec<usize> = (0..pairs.len()).filter(|&i| pairs[i].0 && pairs[i].1).collect();
            prop_assert_eq!(common(&a, &b).collect::<Vec<_>>(), naive.clone());
            prop_assert_eq!(count_common(&a, &b), naive.len());
            for (n, &expected) in naive.iter().enumerate() {
                prop_assert_eq!(nth_common(&a, &b, n), Some(expected));
            }
            prop_assert_eq!(nth_common(&a, &b, naive.len()), None);
        }
    }
}
