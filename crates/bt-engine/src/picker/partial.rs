//! One piece in flight: the state of each of its blocks and who requested or sent them.

use std::collections::BTreeSet;

use crate::choker::PeerKey;

/// Where one block of a piece in flight stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum BlockState {
    /// Nobody is asked for it: the next pick may take it.
    Free,
    /// Asked of these peers (never empty): one outside endgame, up to
    /// `1 + endgame_max_duplicates` in endgame.
    Requested(Vec<PeerKey>),
    /// Arrived from this peer, which is struck if the piece fails its hash check.
    Received(PeerKey),
}

/// What [`PartialPiece::receive`] found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Arrival {
    /// The block was still needed; the other peers it was asked of should get a CANCEL.
    New {
        /// Every requester but the sender.
        others: Vec<PeerKey>,
    },
    /// The block had already arrived (a lost endgame race, or a peer sending twice).
    Duplicate,
}

/// A piece that has been started and is not yet verified or failed.
#[derive(Debug, Clone)]
pub(super) struct PartialPiece {
    /// One entry per block of the piece, in offset order.
    pub(super) blocks: Vec<BlockState>,
    /// Blocks in [`BlockState::Free`], kept so that picks skip exhausted pieces in O(1).
    pub(super) free: usize,
    /// Blocks in [`BlockState::Received`]: the piece is complete when all are.
    pub(super) received: usize,
    /// The peer that last took fresh blocks of this piece: that peer continues it first, so a
    /// piece tends to come from one peer and a failed hash blames fewer innocents.
    pub(super) owner: Option<PeerKey>,
}

impl PartialPiece {
    /// A piece with every block free.
    pub(super) fn new(block_count: usize) -> Self {
        Self {
            blocks: vec![BlockState::Free; block_count],
            free: block_count,
            received: 0,
            owner: None,
        }
    }

    /// Whether every block has arrived, so the piece should be hashed.
    pub(super) fn is_complete(&self) -> bool {
        self.received == self.blocks.len()
    }

    /// Asks `peer` for up to `max` free blocks, in offset order; returns their indices.
    pub(super) fn take_free(&mut self, peer: PeerKey, max: usize) -> Vec<u32> {
        let mut taken = Vec::new();
        if self.free == 0 || max == 0 {
            return taken;
        }
        for (index, state) in (0u32..).zip(self.blocks.iter_mut()) {
            if *state == BlockState::Free {
                *state = BlockState::Requested(vec![peer]);
                taken.push(index);
                if taken.len() == max {
                    break;
                }
            }
        }
        self.free -= taken.len();
        self.owner = Some(peer);
        taken
    }

    /// Adds `peer` as one more requester of a requested block (endgame).
    pub(super) fn duplicate(&mut self, index: usize, peer: PeerKey) {
        if let Some(BlockState::Requested(peers)) = self.blocks.get_mut(index) {
            peers.push(peer);
        }
    }

    /// Withdraws `peer`'s request for the block; the block is free again if nobody else has it.
    pub(super) fn release(&mut self, index: usize, peer: PeerKey) {
        let Some(state) = self.blocks.get_mut(index) else {
            return;
        };
        if let BlockState::Requested(peers) = state {
            peers.retain(|&p| p != peer);
            if peers.is_empty() {
                *state = BlockState::Free;
                self.free += 1;
            }
        }
    }

    /// Records the block as arrived from `peer`, or `None` for an index past the piece.
    pub(super) fn receive(&mut self, index: usize, peer: PeerKey) -> Option<Arrival> {
        let state = self.blocks.get_mut(index)?;
        let others = match state {
            BlockState::Received(_) => return Some(Arrival::Duplicate),
            BlockState::Free => {
                self.free -= 1;
                Vec::new()
            }
            BlockState::Requested(peers) => peers.iter().copied().filter(|&p| p != peer).collect(),
        };
        *state = BlockState::Received(peer);
        self.received += 1;
        Some(Arrival::New { others })
    }

    /// Every `(requester, block index)` of the blocks still outstanding.
    pub(super) fn outstanding(&self) -> impl Iterator<Item = (PeerKey, u32)> + '_ {
        (0u32..).zip(&self.blocks).flat_map(|(index, state)| {
            match state {
                BlockState::Requested(peers) => peers.as_slice(),
                _ => &[],
            }
            .iter()
            .map(move |&peer| (peer, index))
        })
    }

    /// The distinct peers that sent blocks of this piece.
    pub(super) fn contributors(&self) -> BTreeSet<PeerKey> {
        self.blocks
            .iter()
            .filter_map(|state| match state {
                BlockState::Received(peer) => Some(*peer),
                _ => None,
            })
            .collect()
    }
}
