//! The BEP 6 allowed-fast set: pieces a peer may request from us while we choke it.
//!
//! The set depends only on the peer's IPv4 address (its top three octets, so that one user
//! with many addresses in a /24 gets one set), the info-hash and the piece count, so both
//! sides could compute it and a peer gains nothing by reconnecting. The generator, as BEP 6
//! gives it:
//!
//! ```text
//! x = (ip & 0xFFFFFF00) as 4 big-endian bytes ++ info_hash
//! while |set| < k:
//!     x = SHA1(x)
//!     for each of the five 4-byte big-endian words y of x, while |set| < k:
//!         index = y % piece_count
//!         add index to set unless it is in already
//! ```
//!
//! BEP 6 defines it for IPv4 only; callers offer IPv6 peers no allowed-fast set.

use std::net::Ipv4Addr;

use sha1::{Digest, Sha1};

use crate::InfoHash;

/// The allowed-fast set of `k` pieces for a peer at `ip`, in the order generated. With `k` at
/// least `piece_count` every piece is allowed (in index order); with no pieces, none.
pub fn allowed_fast_set(ip: Ipv4Addr, info_hash: InfoHash, piece_count: u32, k: usize) -> Vec<u32> {
    if piece_count == 0 {
        return Vec::new();
    }
    if k >= piece_count as usize {
        return (0..piece_count).collect();
    }
    let masked = u32::from(ip) & 0xFFFF_FF00;
    let mut x: [u8; 20] = {
        let mut seed = Sha1::new();
        seed.update(masked.to_be_bytes());
        seed.update(info_hash.as_bytes());
        seed.finalize().into()
    };
    let mut set = Vec::with_capacity(k);
    loop {
        for word in x.chunks_exact(4) {
            if set.len() >= k {
                return set;
            }
            let y = u32::from_be_bytes(word.try_into().expect("invariant: chunks of 4"));
            let index = y % piece_count;
            if !set.contains(&index) {
                set.push(index);
            }
        }
        if set.len() >= k {
            return set;
        }
        x = Sha1::digest(x).into();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR_HASH: InfoHash = InfoHash([0xaa; 20]);

    #[test]
    fn matches_the_bep_6_test_vectors() {
        let ip = Ipv4Addr::new(80, 4, 4, 200);
        assert_eq!(
            allowed_fast_set(ip, VECTOR_HASH, 1313, 7),
            vec![1059, 431, 808, 1217, 287, 376, 1188]
        );
        assert_eq!(
            allowed_fast_set(ip, VECTOR_HASH, 1313, 9),
            vec![1059, 431, 808, 1217, 287, 376, 1188, 353, 508]
        );
    }

    #[test]
    fn only_the_top_three_octets_count() {
        let a = allowed_fast_set(Ipv4Addr::new(80, 4, 4, 1), VECTOR_HASH, 1313, 7);
        let b = allowed_fast_set(Ipv4Addr::new(80, 4, 4, 254), VECTOR_HASH, 1313, 7);
        let c = allowed_fast_set(Ipv4Addr::new(80, 4, 5, 1), VECTOR_HASH, 1313, 7);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn small_torrents_allow_everything_or_nothing() {
        let ip = Ipv4Addr::LOCALHOST;
        assert_eq!(allowed_fast_set(ip, VECTOR_HASH, 3, 10), vec![0, 1, 2]);
        assert_eq!(allowed_fast_set(ip, VECTOR_HASH, 0, 10), Vec::<u32>::new());
        let nine = allowed_fast_set(ip, VECTOR_HASH, 10, 9);
        assert_eq!(nine.len(), 9);
        assert!(nine.iter().all(|&p| p < 10));
    }
}
