//! Availability counts, the candidate pieces bucketed by availability, and a histogram of
//! copies.
//!
//! A *candidate* is a piece we want, lack and have not started: exactly the pieces a pick may
//! start. Candidates live in one bucket per availability (the number of connected peers that have
//! the piece), each bucket an unordered `Vec` with every piece's position kept in `slot`, so
//! moving a piece between buckets on a HAVE is O(1) (swap-remove and push) and the rarest
//! candidates are found by walking the buckets from availability 1 upwards, without sorting.
//!
//! The histogram counts pieces by *copies*, that is availability plus one if we have the piece,
//! so the rarest piece of the swarm as we see it is the lowest non-empty entry: O(peers) to read.

use bt_proto::bitfield::Bitfield;
use bt_proto::geometry::{Lengths, PieceIndex};
use rand::RngExt;
use rand::rngs::StdRng;

use super::scan::{self, index_u32};

/// `slot` value of a piece that is not a candidate.
const NOT_CANDIDATE: u32 = u32::MAX;

/// How many bucket entries a rarest-first lookup probes before it switches to scanning the
/// peer's own candidates: bounds the cost when the rarest buckets are full of pieces the peer
/// lacks.
const PROBE_BUDGET: usize = 1024;

/// Per-piece availability and the structures derived from it; see the module docs.
#[derive(Debug, Clone)]
pub(super) struct Availability {
    /// Turns bitfield positions back into piece indices.
    lengths: Lengths,
    /// Connected peers that have each piece (our own copy not counted).
    counts: Vec<u32>,
    /// `buckets[a]` holds the candidates whose availability is `a`, in no particular order.
    buckets: Vec<Vec<PieceIndex>>,
    /// Each piece's position in its bucket, or [`NOT_CANDIDATE`].
    slot: Vec<u32>,
    /// `copies[c]`: how many pieces have `c` copies, ours included.
    copies: Vec<u32>,
    /// The candidates as a bitfield, for word-at-a-time intersection with a peer's pieces.
    candidates: Bitfield,
}

impl Availability {
    /// No peer, no candidate, no piece of ours.
    pub(super) fn new(lengths: Lengths) -> Self {
        let piece_count = lengths.piece_count() as usize;
        Self {
            lengths,
            counts: vec![0; piece_count],
            buckets: vec![Vec::new()],
            slot: vec![NOT_CANDIDATE; piece_count],
            copies: vec![lengths.piece_count()],
            candidates: Bitfield::new(piece_count),
        }
    }

    /// How many connected peers have the piece.
    pub(super) fn count(&self, piece: PieceIndex) -> u32 {
        self.counts.get(piece.as_usize()).copied().unwrap_or(0)
    }

    /// The fewest copies of any piece, our own copy included.
    pub(super) fn rarest_copies(&self) -> u32 {
        let first = self.copies.iter().position(|&n| n > 0).unwrap_or(0);
        u32::try_from(first).unwrap_or(u32::MAX)
    }

    /// One more peer has the piece; `own` says whether we have it too.
    pub(super) fn increment(&mut self, piece: PieceIndex, own: bool) {
        let Some(count) = self.counts.get_mut(piece.as_usize()) else {
            return;
        };
        let old = *count;
        *count = old.saturating_add(1);
        let new = *count;
        self.move_copies(old + u32::from(own), new + u32::from(own));
        self.rebucket(piece, old, new);
    }

    /// One peer fewer has the piece; `own` says whether we have it.
    pub(super) fn decrement(&mut self, piece: PieceIndex, own: bool) {
        let Some(count) = self.counts.get_mut(piece.as_usize()) else {
            return;
        };
        debug_assert!(*count > 0, "availability of {piece} would go negative");
        let old = *count;
        *count = old.saturating_sub(1);
        let new = *count;
        self.move_copies(old + u32::from(own), new + u32::from(own));
        self.rebucket(piece, old, new);
    }

    /// We now have the piece: it gains our copy in the histogram.
    pub(super) fn add_own_copy(&mut self, piece: PieceIndex) {
        let count = self.count(piece);
        self.move_copies(count, count + 1);
    }

    fn move_copies(&mut self, from: u32, to: u32) {
        let (from, to) = (from as usize, to as usize);
        if self.copies.len() <= to {
            self.copies.resize(to + 1, 0);
        }
        if let Some(n) = self.copies.get_mut(from) {
            *n = n.saturating_sub(1);
        }
        self.copies[to] += 1;
    }

    fn rebucket(&mut self, piece: PieceIndex, old: u32, new: u32) {
        if self.is_candidate(piece) {
            self.unlink(piece, old);
            self.link(piece, new);
        }
    }

    /// Whether the piece may be started: wanted, lacking and not in flight.
    pub(super) fn is_candidate(&self, piece: PieceIndex) -> bool {
        self.slot
            .get(piece.as_usize())
            .is_some_and(|&s| s != NOT_CANDIDATE)
    }

    /// Makes the piece a candidate (no-op if it is one).
    pub(super) fn insert_candidate(&mut self, piece: PieceIndex) {
        if piece.as_usize() < self.slot.len() && !self.is_candidate(piece) {
            self.link(piece, self.count(piece));
        }
    }

    /// Stops the piece being a candidate (no-op if it is not one).
    pub(super) fn remove_candidate(&mut self, piece: PieceIndex) {
        if self.is_candidate(piece) {
            self.unlink(piece, self.count(piece));
        }
    }

    fn link(&mut self, piece: PieceIndex, count: u32) {
        let count = count as usize;
        if self.buckets.len() <= count {
            self.buckets.resize_with(count + 1, Vec::new);
        }
        let bucket = &mut self.buckets[count];
        self.slot[piece.as_usize()] =
            u32::try_from(bucket.len()).expect("invariant: a bucket holds fewer than 2^32 pieces");
        bucket.push(piece);
        let _ = self.candidates.set(piece.as_usize());
    }

    fn unlink(&mut self, piece: PieceIndex, count: u32) {
        let at = self.slot[piece.as_usize()] as usize;
        let bucket = &mut self.buckets[count as usize];
        bucket.swap_remove(at);
        if let Some(&moved) = bucket.get(at) {
            self.slot[moved.as_usize()] = self.slot[piece.as_usize()];
        }
        self.slot[piece.as_usize()] = NOT_CANDIDATE;
        let _ = self.candidates.clear(piece.as_usize());
    }

    /// The candidates, as a bitfield.
    pub(super) fn candidates(&self) -> &Bitfield {
        &self.candidates
    }

    /// Candidates at least one connected peer has: zero means nothing new can be started from
    /// anyone, one of the two conditions of endgame.
    pub(super) fn available_candidates(&self) -> usize {
        self.buckets.iter().skip(1).map(Vec::len).sum()
    }

    /// The rarest candidate (lowest availability of at least 1) the peer has, ties broken at
    /// random.
    ///
    /// Walks the buckets from the rarest, each from a random position: O(1) when the rarest
    /// bucket holds a piece the peer has. After [`PROBE_BUDGET`] misses it scans the peer's
    /// candidates instead, O(n / 64) plus the peer's candidates.
    pub(super) fn rarest(&self, rng: &mut StdRng, peer_have: &Bitfield) -> Option<PieceIndex> {
        let mut budget = PROBE_BUDGET;
        for bucket in self.buckets.iter().skip(1).filter(|b| !b.is_empty()) {
            let start = rng.random_range(0..bucket.len());
            let (head, tail) = bucket.split_at(start);
            for &piece in tail.iter().chain(head) {
                if peer_have.has(piece.as_usize()) {
                    return Some(piece);
                }
                budget -= 1;
                if budget == 0 {
                    return self.rarest_by_scan(rng, peer_have);
                }
            }
        }
        None
    }

    /// The rarest of the peer's candidates by a full scan, a uniform draw among ties: one pass
    /// finds the fewest copies and counts the ties, a second finds the drawn one.
    fn rarest_by_scan(&self, rng: &mut StdRng, peer_have: &Bitfield) -> Option<PieceIndex> {
        let (mut fewest, mut ties) = (u32::MAX, 0usize);
        for index in scan::common(&self.candidates, peer_have) {
            let count = self.counts[index];
            if count < fewest {
                (fewest, ties) = (count, 0);
            }
            ties += usize::from(count == fewest);
        }
        if ties == 0 {
            return None;
        }
        let drawn = rng.random_range(0..ties);
        scan::common(&self.candidates, peer_have)
            .filter(|&index| self.counts[index] == fewest)
            .nth(drawn)
            .and_then(|index| self.lengths.piece(index_u32(index)))
    }

    /// Recomputes everything from scratch and compares (for tests).
    #[cfg(test)]
    pub(super) fn assert_consistent(&self, counts: &[u32], own: &[bool], candidates: &[bool]) {
        assert_eq!(self.counts, counts, "availability counts");
        let mut copies = vec![0u32; self.copies.len()];
        for (c, o) in counts.iter().zip(own) {
            copies[(c + u32::from(*o)) as usize] += 1;
        }
        assert_eq!(self.copies, copies, "copies histogram");
        for (i, &candidate) in candidates.iter().enumerate() {
            let slot = self.slot[i];
            assert_eq!(
                slot != NOT_CANDIDATE,
                candidate,
                "candidate flag of piece {i}"
            );
            if candidate {
                assert_eq!(
                    self.buckets[counts[i] as usize][slot as usize].as_usize(),
                    i
                );
            }
        }
        let linked: usize = self.buckets.iter().map(Vec::len).sum();
        assert_eq!(self.candidates.count_ones(), linked);
        assert_eq!(linked, candidates.iter().filter(|c| **c).count());
    }
}
