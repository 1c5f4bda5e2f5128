//! Helpers shared by the choker's unit tests: a fixed clock and peer snapshots.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::{ChokeDecision, ChokePeer, PeerKey};

/// The instant `secs` seconds after a fixed test epoch, so tests can write times as numbers.
pub(crate) fn at(secs: u64) -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now) + Duration::from_secs(secs)
}

/// An interested, choked peer connected at the epoch that sends us `download_rate` bytes/s and
/// has never sent a block (so it is snubbed from `at(60)` on with the default timeout).
pub(crate) fn interested_peer(key: u64, download_rate: u64) -> ChokePeer {
    ChokePeer {
        key: PeerKey(key),
        interested: true,
        choked_by_us: true,
        download_rate,
        upload_rate: 0,
        connected_at: at(0),
        last_block_received: None,
    }
}

/// Like [`interested_peer`], but the peer wants nothing from us.
pub(crate) fn uninterested_peer(key: u64, download_rate: u64) -> ChokePeer {
    ChokePeer {
        interested: false,
        ..interested_peer(key, download_rate)
    }
}

/// Updates `choked_by_us` as the actor would after carrying out `decision`.
pub(crate) fn apply(peers: &mut [ChokePeer], decision: &ChokeDecision) {
    for peer in peers {
        peer.choked_by_us = !decision.is_unchoked(peer.key);
    }
}
