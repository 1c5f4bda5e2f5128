//! [`PeerLedger`]: payload bytes exchanged with each peer over the whole run, by peer id,
//! so that statistics still say who sent what after a connection has ended (two leechers that
//! both finish close their connection; a peer may reconnect under the same id).
//!
//! Memory stays bounded: at most [`LEDGER_LIMIT`] ended peers are remembered; past that, the
//! one that exchanged the fewest bytes is forgotten first (it says the least about the swarm).

use std::collections::HashMap;
use std::net::SocketAddr;

use bt_proto::PeerId;

use super::msg::PeerTransfer;
use crate::torrent::PeerTotals;

/// The most ended peers a ledger remembers.
pub const LEDGER_LIMIT: usize = 1024;

/// Totals of ended connections per peer id; see the module docs.
#[derive(Debug, Default)]
pub(super) struct PeerLedger {
    ended: HashMap<PeerId, PeerTotals>,
}

impl PeerLedger {
    /// Adds the final counters of a connection to `peer_id` that has ended.
    pub(super) fn record_ended(
        &mut self,
        peer_id: PeerId,
        addr: SocketAddr,
        transfer: PeerTransfer,
    ) {
        if !self.ended.contains_key(&peer_id) && self.ended.len() >= LEDGER_LIMIT {
            let least = self
                .ended
                .values()
                .min_by_key(|t| t.downloaded.saturating_add(t.uploaded))
                .map(|t| t.peer_id);
            if let Some(least) = least {
                self.ended.remove(&least);
            }
        }
        add(&mut self.ended, peer_id, addr, &transfer);
    }

    /// The totals per peer id: the ended connections plus the `live` ones (peer id, address,
    /// counters so far), sorted by peer id.
    pub(super) fn totals<'a>(
        &self,
        live: impl IntoIterator<Item = (PeerId, SocketAddr, &'a PeerTransfer)>,
    ) -> Vec<PeerTotals> {
        let mut all = self.ended.clone();
        for (peer_id, addr, transfer) in live {
            add(&mut all, peer_id, addr, transfer).connected = true;
        }
        let mut totals: Vec<PeerTotals> = all.into_values().collect();
        totals.sort_by_key(|t| t.peer_id);
        totals
    }
}

/// Adds one connection's counters to `peer_id`'s totals, which remember `addr` as its latest
/// address; returns them.
fn add<'a>(
    totals: &'a mut HashMap<PeerId, PeerTotals>,
    peer_id: PeerId,
    addr: SocketAddr,
    transfer: &PeerTransfer,
) -> &'a mut PeerTotals {
    let entry = totals.entry(peer_id).or_insert_with(|| PeerTotals {
        peer_id,
        addr,
        downloaded: 0,
        uploaded: 0,
        connections: 0,
        connected: false,
    });
    entry.addr = addr;
    entry.downloaded += transfer.downloaded;
    entry.uploaded += transfer.uploaded;
    entry.connections += 1;
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transfer(downloaded: u64, uploaded: u64) -> PeerTransfer {
        PeerTransfer {
            downloaded,
            uploaded,
            ..PeerTransfer::default()
        }
    }

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn ended_and_live_connections_add_up_per_peer_id() {
        let (a, b) = (PeerId([1; 20]), PeerId([2; 20]));
        let mut ledger = PeerLedger::default();
        ledger.record_ended(a, addr(1), transfer(10, 1));
        ledger.record_ended(a, addr(2), transfer(5, 2));
        let live = transfer(7, 3);
        let totals = ledger.totals([(a, addr(3), &live), (b, addr(4), &live)]);
        assert_eq!(totals.len(), 2);
        let ta = &totals[0];
        assert_eq!((ta.peer_id, ta.addr), (a, addr(3)));
        assert_eq!((ta.downloaded, ta.uploaded, ta.connections), (22, 6, 3));
        assert!(ta.connected);
        let tb = &totals[1];
        assert_eq!((tb.downloaded, tb.uploaded, tb.connections), (7, 3, 1));
        // Without live connections, only what ended remains.
        let ended = ledger.totals([]);
        assert_eq!(ended.len(), 1);
        assert_eq!((ended[0].downloaded, ended[0].connected), (15, false));
    }

    #[test]
    fn past_the_limit_the_least_useful_peer_is_forgotten() {
        let mut ledger = PeerLedger::default();
        let id = |i: usize| {
            let mut bytes = [0u8; 20];
            bytes[..8].copy_from_slice(&(i as u64).to_be_bytes());
            PeerId(bytes)
        };
        for i in 0..LEDGER_LIMIT {
            ledger.record_ended(id(i), addr(1), transfer(100 + i as u64, 0));
        }
        ledger.record_ended(id(LEDGER_LIMIT), addr(1), transfer(1_000_000, 0));
        let totals = ledger.totals([]);
        assert_eq!(totals.len(), LEDGER_LIMIT);
        assert!(
            totals.iter().all(|t| t.peer_id != id(0)),
            "the smallest went"
        );
        assert!(totals.iter().any(|t| t.peer_id == id(LEDGER_LIMIT)));
        // A peer already known is updated, never evicts another.
        ledger.record_ended(id(1), addr(1), transfer(1, 0));
        assert_eq!(ledger.totals([]).len(), LEDGER_LIMIT);
    }
}
