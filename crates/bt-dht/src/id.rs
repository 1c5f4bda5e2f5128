//! Node ids and the XOR metric (BEP 5, after Kademlia).
//!
//! Node ids live in the same 160-bit space as info-hashes. The distance between two ids is
//! their XOR read as an unsigned big-endian integer: [`Distance`] orders exactly that way, so a
//! sorted map keyed by distance lists nodes from the closest out.

use std::fmt;

use bt_proto::InfoHash;
use rand::{Rng, RngExt};

/// The length of a node id in bytes (160 bits).
pub const ID_LEN: usize = 20;

/// A node's 160-bit identifier, chosen at random (BEP 5).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub [u8; ID_LEN]);

/// The XOR of two ids, compared as an unsigned 160-bit integer: smaller is closer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Distance(pub [u8; ID_LEN]);

impl NodeId {
    /// A uniformly random id.
    pub fn random(rng: &mut impl Rng) -> Self {
        let mut bytes = [0u8; ID_LEN];
        rng.fill(&mut bytes[..]);
        Self(bytes)
    }

    /// The id from a slice of exactly 20 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; ID_LEN]>::try_from(bytes).ok().map(Self)
    }

    /// The 20 raw bytes.
    pub fn as_bytes(&self) -> &[u8; ID_LEN] {
        &self.0
    }

    /// `|self xor other|`.
    pub fn distance(&self, other: &NodeId) -> Distance {
        let mut out = [0u8; ID_LEN];
        for (slot, (a, b)) in out.iter_mut().zip(self.0.iter().zip(other.0.iter())) {
            *slot = a ^ b;
        }
        Distance(out)
    }

    /// How many leading bits `self` and `other` share (160 when they are equal).
    pub fn common_prefix_len(&self, other: &NodeId) -> usize {
        self.distance(other).leading_zeros()
    }

    /// A random id that shares exactly `prefix_len` leading bits with `self` (so it falls in the
    /// routing-table bucket of that depth); with `prefix_len >= 160`, `self`.
    pub fn random_with_prefix(&self, prefix_len: usize, rng: &mut impl Rng) -> NodeId {
        if prefix_len >= ID_LEN * 8 {
            return *self;
        }
        let mut id = NodeId::random(rng).0;
        for bit in 0..=prefix_len {
            let byte = bit / 8;
            let mask = 0x80u8 >> (bit % 8);
            let ours = self.0[byte] & mask;
            // The shared prefix copies our bits; the bit just after it is flipped.
            let wanted = if bit < prefix_len { ours } else { ours ^ mask };
            id[byte] = (id[byte] & !mask) | wanted;
        }
        NodeId(id)
    }
}

impl Distance {
    /// The number of leading zero bits (160 for a zero distance).
    pub fn leading_zeros(&self) -> usize {
        let mut zeros = 0;
        for byte in self.0 {
            if byte == 0 {
                zeros += 8;
            } else {
                return zeros + byte.leading_zeros() as usize;
            }
        }
        zeros
    }
}

impl From<InfoHash> for NodeId {
    fn from(hash: InfoHash) -> Self {
        NodeId(hash.0)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn id(first: u8) -> NodeId {
        let mut bytes = [0u8; ID_LEN];
        bytes[0] = first;
        NodeId(bytes)
    }

    #[test]
    fn distance_is_xor_and_orders_as_an_integer() {
        let a = id(0b1000_0000);
        let b = id(0b1000_0001);
        let c = id(0b0000_0001);
        assert_eq!(a.distance(&b).0[0], 1);
        assert!(a.distance(&b) < a.distance(&c));
        assert_eq!(a.distance(&a), Distance([0; ID_LEN]));
        assert_eq!(a.distance(&c), c.distance(&a));
        // The last byte weighs less than the first.
        let mut low = [0u8; ID_LEN];
        low[19] = 0xff;
        assert!(Distance(low) < a.distance(&c));
    }

    #[test]
    fn common_prefix_counts_shared_leading_bits() {
        assert_eq!(id(0).common_prefix_len(&id(0)), 160);
        assert_eq!(id(0).common_prefix_len(&id(0x80)), 0);
        assert_eq!(id(0).common_prefix_len(&id(0x01)), 7);
        let mut far = [0u8; ID_LEN];
        far[19] = 1;
        assert_eq!(id(0).common_prefix_len(&NodeId(far)), 159);
    }

    #[test]
    fn random_with_prefix_shares_exactly_that_many_bits() {
        let mut rng = StdRng::seed_from_u64(7);
        let ours = NodeId::random(&mut rng);
        for prefix in [0, 1, 7, 8, 9, 63, 100, 159] {
            for _ in 0..20 {
                let other = ours.random_with_prefix(prefix, &mut rng);
                assert_eq!(ours.common_prefix_len(&other), prefix);
            }
        }
        assert_eq!(ours.random_with_prefix(160, &mut rng), ours);
    }
}
