//! Shared fixtures for the state tests: a small torrent, messages, and a simulated link.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bt_proto::geometry::{BLOCK_LEN, BlockRef, Lengths};
use bt_proto::wire::{BlockRequest, PeerMessage};
use bytes::Bytes;

use super::{Negotiated, PeerState, wire_request};
use crate::peer::PeerConfig;

/// 10 pieces of 32 KiB (two blocks each), the last one 20 000 bytes (16 KiB + 3616).
pub fn lengths() -> Lengths {
    Lengths::new(9 * 32_768 + 20_000, 32_768).expect("geometry")
}

/// Negotiated extensions: fast only, both, or none.
pub fn negotiated(fast: bool, extension_protocol: bool) -> Negotiated {
    Negotiated {
        fast,
        extension_protocol,
    }
}

/// A fresh state at `t0` on [`lengths`].
pub fn state_with(negotiated: Negotiated, config: PeerConfig) -> (PeerState, Instant) {
    let t0 = Instant::now();
    (PeerState::new(lengths(), negotiated, config, t0), t0)
}

/// A fresh state with the default config.
pub fn fresh(fast: bool) -> (PeerState, Instant) {
    state_with(negotiated(fast, false), PeerConfig::default())
}

/// Grid block `index` of `piece` on [`lengths`].
pub fn block(piece: u32, index: u32) -> BlockRef {
    let lengths = lengths();
    lengths
        .block(lengths.piece(piece).expect("piece"), index)
        .expect("block")
}

/// The PIECE message carrying `block`.
pub fn piece_msg(block: BlockRef) -> PeerMessage {
    PeerMessage::Piece {
        piece: block.piece.get(),
        offset: block.offset,
        data: Bytes::from(vec![0xab; block.len as usize]),
    }
}

/// A REQUEST message for a raw range.
pub fn request(piece: u32, offset: u32, length: u32) -> PeerMessage {
    PeerMessage::Request(BlockRequest {
        piece,
        offset,
        length,
    })
}

/// The REQUEST message for `block`.
pub fn request_for(block: BlockRef) -> PeerMessage {
    PeerMessage::Request(wire_request(block))
}

/// Seconds after `t0`.
pub fn at(t0: Instant, secs: f64) -> Instant {
    t0 + Duration::from_secs_f64(secs)
}

/// A peer behind a link: requests reach it after half the round trip, it serves them in order
/// at `capacity` bytes per second, and blocks come back after the other half.
pub struct Link {
    /// Round-trip time.
    pub rtt: Duration,
    /// The peer's upload capacity in bytes per second.
    pub capacity: f64,
}

/// What a [`Link`] simulation measured.
#[derive(Debug)]
pub struct SimResult {
    /// Pipeline target (outstanding + wanted) at the end.
    pub final_depth: usize,
    /// Largest outstanding count seen.
    pub max_outstanding: usize,
    /// Payload bytes per second over the last quarter of the run.
    pub late_rate: f64,
}

/// Downloads from a peer behind `link` for `duration`, requesting whatever
/// [`PeerState::wanted_requests`] asks for after every block.
pub fn simulate(link: &Link, config: PeerConfig, duration: Duration) -> SimResult {
    let big = Lengths::new(1 << 36, 1 << 18).expect("geometry");
    let t0 = Instant::now();
    let mut state = PeerState::new(big, Negotiated::default(), config, t0);
    state.set_interested(true);
    state.on_message(PeerMessage::Unchoke, t0).expect("unchoke");
    let data = Bytes::from(vec![0u8; BLOCK_LEN as usize]);
    let mut next_block = (0..big.piece_count()).flat_map(|piece| {
        big.blocks(big.piece(piece).expect("piece"))
            .collect::<Vec<_>>()
    });
    let mut in_flight: VecDeque<(Instant, BlockRef)> = VecDeque::new();
    let mut peer_free = t0;
    let (mut max_outstanding, mut late_bytes) = (0, 0u64);
    let late_start = t0 + duration.mul_f64(0.75);
    let mut now = t0;
    loop {
        let wanted = state.wanted_requests(now);
        let blocks: Vec<BlockRef> = next_block.by_ref().take(wanted).collect();
        state.request(blocks.iter().copied(), now);
        for block in blocks {
            let start = (now + link.rtt / 2).max(peer_free);
            peer_free = start + Duration::from_secs_f64(f64::from(block.len) / link.capacity);
            in_flight.push_back((peer_free + link.rtt / 2, block));
        }
        max_outstanding = max_outstanding.max(state.outstanding_count());
        let Some((arrival, block)) = in_flight.pop_front() else {
            break;
        };
        if arrival > t0 + duration {
            break;
        }
        now = arrival;
        let message = PeerMessage::Piece {
            piece: block.piece.get(),
            offset: block.offset,
            data: data.slice(..block.len as usize),
        };
        state.on_message(message, now).expect("block");
        if now >= late_start {
            late_bytes += u64::from(block.len);
        }
    }
    SimResult {
        final_depth: state.outstanding_count() + state.wanted_requests(now),
        max_outstanding,
        late_rate: late_bytes as f64 / duration.mul_f64(0.25).as_secs_f64(),
    }
}
