//! [`PexState`]: what one connection has told its peer through BEP 11 peer exchange, and
//! when.
//!
//! The supervisor hands every connection the torrent's connected peers (their listen
//! addresses, with flags) once per PEX interval; each connection works out what changed for
//! its own peer since its last message:
//! - `added`: connected peers the peer has not been told of (never the peer itself), and
//!   those whose flags changed since (a peer that became a seed is told again, now with the
//!   seed flag), at most [`MAX_PEX_PEERS`] per message; the rest wait for the next one;
//! - `dropped`: peers it was told of that are gone, at most [`MAX_PEX_PEERS`] per message;
//! - at most one message per interval (with a tenth of it as slack, since the supervisor's
//!   tick and this clock drift apart), and none when nothing changed;
//! - received messages closer together than half the interval are ignored, so a peer cannot
//!   flood us with addresses.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bt_proto::ext::pex::MAX_PEX_PEERS;
use bt_proto::ext::{PexFlags, PexMessage, PexPeer};

/// See the module docs.
#[derive(Debug, Clone)]
pub struct PexState {
    interval: Duration,
    /// The peers the peer has been told of (added and not dropped since), with the flags
    /// it was told.
    advertised: HashMap<SocketAddr, PexFlags>,
    /// When we last sent a message.
    last_sent: Option<Instant>,
    /// When we last accepted a message from the peer.
    last_received: Option<Instant>,
}

impl PexState {
    /// Nothing said yet; messages at most once per `interval`.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            advertised: HashMap::new(),
            last_sent: None,
            last_received: None,
        }
    }

    /// The peers the peer has been told of, with the flags it was told.
    pub fn advertised(&self) -> &HashMap<SocketAddr, PexFlags> {
        &self.advertised
    }

    /// The message to send at `now`, given the torrent's connected peers, if one is due and
    /// something changed; it is then recorded as sent.
    pub fn next_message(
        &mut self,
        connected: &[PexPeer],
        peer_addr: SocketAddr,
        now: Instant,
    ) -> Option<PexMessage> {
        let slack = self.interval / 10;
        if self
            .last_sent
            .is_some_and(|at| now.saturating_duration_since(at) + slack < self.interval)
        {
            return None;
        }
        let current: HashSet<SocketAddr> = connected
            .iter()
            .map(|p| p.addr)
            .filter(|addr| *addr != peer_addr)
            .collect();
        let mut seen = HashSet::new();
        let added: Vec<PexPeer> = connected
            .iter()
            .filter(|p| p.addr != peer_addr && self.advertised.get(&p.addr) != Some(&p.flags))
            .filter(|p| seen.insert(p.addr))
            .take(MAX_PEX_PEERS)
            .copied()
            .collect();
        let mut dropped: Vec<SocketAddr> = self
            .advertised
            .keys()
            .filter(|addr| !current.contains(addr))
            .copied()
            .collect();
        dropped.sort_unstable();
        dropped.truncate(MAX_PEX_PEERS);
        let message = PexMessage { added, dropped };
        if message.is_empty() {
            return None;
        }
        self.advertised
            .extend(message.added.iter().map(|p| (p.addr, p.flags)));
        for addr in &message.dropped {
            self.advertised.remove(addr);
        }
        self.last_sent = Some(now);
        Some(message)
    }

    /// Whether a message the peer sent at `now` is far enough from the last accepted one to
    /// be used; records it if so.
    pub fn accept_received(&mut self, now: Instant) -> bool {
        if self
            .last_received
            .is_some_and(|at| now.saturating_duration_since(at) < self.interval / 2)
        {
            return false;
        }
        self.last_received = Some(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn peer(i: u32) -> PexPeer {
        PexPeer {
            addr: SocketAddr::from(([10, 0, (i >> 8) as u8, i as u8], 6881)),
            flags: PexFlags(PexFlags::REACHABLE),
        }
    }

    fn addr(i: u32) -> SocketAddr {
        peer(i).addr
    }

    #[test]
    fn tells_added_then_dropped_never_the_peer_itself() {
        let t0 = Instant::now();
        let mut state = PexState::new(MINUTE);
        let first = state
            .next_message(&[peer(1), peer(2), peer(3)], addr(3), t0)
            .expect("a first message");
        assert_eq!(first.added, vec![peer(1), peer(2)]);
        assert!(first.dropped.is_empty());
        let later = t0 + MINUTE;
        let second = state
            .next_message(&[peer(2), peer(4)], addr(3), later)
            .expect("changes");
        assert_eq!(second.added, vec![peer(4)]);
        assert_eq!(second.dropped, vec![addr(1)]);
        let told: HashSet<SocketAddr> = state.advertised().keys().copied().collect();
        assert_eq!(told, [addr(2), addr(4)].into_iter().collect());
    }

    #[test]
    fn a_peer_whose_flags_changed_is_told_again() {
        let t0 = Instant::now();
        let mut state = PexState::new(MINUTE);
        state
            .next_message(&[peer(1), peer(2)], addr(9), t0)
            .expect("a first message");
        let seed = PexPeer {
            flags: PexFlags::for_peer(true, true),
            ..peer(1)
        };
        let later = state
            .next_message(&[seed, peer(2)], addr(9), t0 + MINUTE)
            .expect("peer 1 became a seed");
        assert_eq!(later.added, vec![seed]);
        assert!(later.dropped.is_empty());
        assert_eq!(state.advertised()[&addr(1)], seed.flags);
        // Told once: nothing more while nothing changes.
        assert!(
            state
                .next_message(&[seed, peer(2)], addr(9), t0 + 2 * MINUTE)
                .is_none()
        );
    }

    #[test]
    fn at_most_once_per_interval_and_never_empty() {
        let t0 = Instant::now();
        let mut state = PexState::new(MINUTE);
        assert!(state.next_message(&[peer(1)], addr(9), t0).is_some());
        // Something changed, but too soon.
        let soon = t0 + Duration::from_secs(30);
        assert!(
            state
                .next_message(&[peer(1), peer(2)], addr(9), soon)
                .is_none()
        );
        // A tick that runs a little early still counts as a minute.
        let tick = t0 + Duration::from_secs(59);
        assert!(
            state
                .next_message(&[peer(1), peer(2)], addr(9), tick)
                .is_some()
        );
        // Nothing changed: nothing to say, whatever the time.
        let much_later = tick + 10 * MINUTE;
        assert!(
            state
                .next_message(&[peer(1), peer(2)], addr(9), much_later)
                .is_none()
        );
    }

    #[test]
    fn large_changes_are_spread_over_messages_of_fifty() {
        let t0 = Instant::now();
        let mut state = PexState::new(MINUTE);
        let many: Vec<PexPeer> = (1..=120).map(peer).collect();
        let mut told = 0;
        for round in 0..3 {
            let message = state
                .next_message(&many, addr(999), t0 + MINUTE * round)
                .expect("more to tell");
            assert!(message.added.len() <= MAX_PEX_PEERS);
            told += message.added.len();
        }
        assert_eq!(told, 120);
        let gone = state
            .next_message(&[], addr(999), t0 + MINUTE * 3)
            .expect("drops");
        assert_eq!(gone.dropped.len(), MAX_PEX_PEERS);
    }

    #[test]
    fn received_messages_too_close_together_are_ignored() {
        let t0 = Instant::now();
        let mut state = PexState::new(MINUTE);
        assert!(state.accept_received(t0));
        assert!(!state.accept_received(t0 + Duration::from_secs(10)));
        assert!(state.accept_received(t0 + Duration::from_secs(31)));
    }
}
