//! The supervisor's connections: whom to dial, whom to admit, and what a departure means.
//!
//! Rules:
//! - Outgoing connections while downloading or seeding; an address where we found a seed is
//!   not dialled again while we seed, nor one whose peer is connected to us already.
//! - At most `max_peers_per_torrent` connections and `max_connecting` dials at once, each
//!   holding one of the session's connection slots.
//! - An address that failed waits `redial_interval × 2^failures` (capped at 64 times) before
//!   it is dialled again; one that worked is dialled again after `redial_interval`.
//! - Never ourselves (our peer id), never a banned peer id or address. A peer is banned when
//!   its hash-check strikes, counted across its connections, reach the limit.
//! - One connection per peer id. When both sides dialled each other, both keep the
//!   connection dialled by the side with the smaller peer id, so they agree on which to close.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use actix::{ActorFutureExt, AsyncContext, Context, WrapFuture};
use bt_proto::wire::{Handshake, Reserved};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tracing::debug;

use super::msg::{PeerExit, PeerTransfer};
use super::strikes::Striker;
use super::{Known, PeerEntry, TorrentSupervisor};
use crate::actors::peer::msg::{Disconnect, DisconnectReason};
use crate::actors::peer::{ExtensionLinks, PeerHandle, PeerLinks, PeerSession, PeerSetup};
use crate::actors::piece_manager::PieceManagerLink;
use crate::choker::PeerKey;
use crate::peer::{Negotiated, PeerError, outgoing_handshake};
use crate::torrent::{TorrentEvent, TorrentState};
use bt_proto::PeerId;

/// A handshaken connection waiting to be admitted.
pub(super) struct Candidate {
    pub(super) stream: std::net::TcpStream,
    pub(super) addr: SocketAddr,
    pub(super) peer_id: PeerId,
    pub(super) negotiated: Negotiated,
    pub(super) outgoing: bool,
    pub(super) permit: OwnedSemaphorePermit,
}

/// The reserved bits we offer: BEP 6, the fast extension, and BEP 10, the extension
/// protocol.
pub(crate) fn our_reserved() -> Reserved {
    let mut reserved = Reserved::NONE;
    reserved.set_fast(true);
    reserved.set_extension_protocol(true);
    reserved
}

/// Whether, of two connections with the same peer, the one dialled by the side with the
/// smaller peer id is this one (`outgoing` from our point of view).
fn keeps(outgoing: bool, ours: PeerId, theirs: PeerId) -> bool {
    if outgoing {
        ours < theirs
    } else {
        theirs < ours
    }
}

impl TorrentSupervisor {
    /// Dials known peers while there is room.
    pub(super) fn fill_slots(&mut self, ctx: &mut Context<Self>) {
        if !self.is_active() {
            return;
        }
        let now = Instant::now();
        let seeding = self.state == TorrentState::Seeding;
        // Dialling adds only to `connecting`, so these hold for the whole loop.
        let addrs: HashSet<SocketAddr> = self.peers.values().map(|p| p.handle.addr).collect();
        let ids: HashSet<PeerId> = self.peers.values().map(|p| p.peer_id).collect();
        while self.peers.len() + self.connecting.len() < self.config.max_peers_per_torrent
            && self.connecting.len() < self.config.max_connecting
        {
            let next = self.known.iter().find(|(addr, known)| {
                known.retry_at <= now
                    && (!seeding || !known.seed)
                    && known.peer_id.is_none_or(|id| !ids.contains(&id))
                    && !self.connecting.contains(*addr)
                    && !self.banned_addrs.contains(*addr)
                    && !addrs.contains(*addr)
            });
            let Some((&addr, _)) = next else {
                return;
            };
            let Ok(permit) = self.slots.clone().try_acquire_owned() else {
                return; // The session is at its connection limit.
            };
            self.dial(ctx, addr, permit);
        }
    }

    /// Connects and handshakes off the actor's turn, then admits the connection.
    fn dial(&mut self, ctx: &mut Context<Self>, addr: SocketAddr, permit: OwnedSemaphorePermit) {
        self.connecting.insert(addr);
        let ours = Handshake::new(our_reserved(), self.info_hash, self.peer_id);
        let connect_timeout = self.config.connect_timeout();
        let handshake_timeout = self.config.handshake_timeout();
        let dial = async move {
            let mut stream = tokio::time::timeout(connect_timeout, TcpStream::connect(addr))
                .await
                .map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out")
                })??;
            let theirs = outgoing_handshake(&mut stream, ours, handshake_timeout).await?;
            // Detach from this runtime so the connection can move to a worker Arbiter.
            let stream = stream.into_std()?;
            Ok::<_, PeerError>((stream, theirs))
        };
        ctx.spawn(dial.into_actor(self).map(move |result, act, ctx| {
            act.connecting.remove(&addr);
            match result {
                Ok((stream, theirs)) => {
                    if let Some(known) = act.known.get_mut(&addr) {
                        known.peer_id = Some(theirs.peer_id);
                    }
                    let candidate = Candidate {
                        stream,
                        addr,
                        peer_id: theirs.peer_id,
                        negotiated: Negotiated::new(ours.reserved, theirs.reserved),
                        outgoing: true,
                        permit,
                    };
                    act.admit(ctx, candidate);
                }
                Err(error) => {
                    debug!(parent: &act.span, %addr, %error, "dial failed");
                    act.note_failure(addr);
                }
            }
        }));
    }

    /// Books a failed dial: the address waits longer each time.
    fn note_failure(&mut self, addr: SocketAddr) {
        let base = self.config.redial_interval();
        if let Some(known) = self.known.get_mut(&addr) {
            known.failures = known.failures.saturating_add(1);
            known.retry_at = Instant::now() + backoff(base, known.failures);
        }
    }

    /// Starts the connection's actor if the torrent wants it; drops it otherwise.
    pub(super) fn admit(&mut self, ctx: &mut Context<Self>, candidate: Candidate) {
        let refused = if !self.is_active() {
            Some("torrent not active")
        } else if candidate.peer_id == self.peer_id {
            Some("ourselves")
        } else if self.banned_ids.contains(&candidate.peer_id)
            || self.banned_addrs.contains(&candidate.addr)
        {
            Some("banned")
        } else if self.peers.len() >= self.config.max_peers_per_torrent {
            Some("peer limit")
        } else {
            self.resolve_duplicate(&candidate)
        };
        if let Some(why) = refused {
            debug!(parent: &self.span, addr = %candidate.addr, why, "connection refused");
            return;
        }
        if let Some(known) = self.known.get_mut(&candidate.addr) {
            known.failures = 0;
        }
        self.start_peer(ctx, candidate);
    }

    /// Applies the one-connection-per-peer rule; `Some` if the candidate must go.
    fn resolve_duplicate(&mut self, candidate: &Candidate) -> Option<&'static str> {
        let existing = self
            .peers
            .iter()
            .find(|(_, p)| p.peer_id == candidate.peer_id)
            .map(|(key, p)| (*key, p.outgoing));
        let (key, _) = existing?;
        if !keeps(candidate.outgoing, self.peer_id, candidate.peer_id) {
            return Some("duplicate");
        }
        if let Some(entry) = self.peers.get(&key) {
            entry.handle.disconnect.do_send(Disconnect {
                reason: DisconnectReason::Duplicate,
            });
        }
        None
    }

    fn start_peer(&mut self, ctx: &mut Context<Self>, candidate: Candidate) {
        let Some(parts) = &self.parts else {
            return;
        };
        self.next_key += 1;
        let key = PeerKey(self.next_key);
        let me = ctx.address();
        let links = PeerLinks {
            manager: PieceManagerLink::of(&parts.manager, parts.backlog.clone()),
            choker_joined: parts.choker.clone().recipient(),
            choker_left: parts.choker.clone().recipient(),
            choker_interest: parts.choker.clone().recipient(),
            disconnected: me.clone().recipient(),
            stats: me.clone().recipient(),
            disk_failed: me.clone().recipient(),
            read: parts.disk.clone().recipient(),
            extensions: ExtensionLinks {
                handshake: me.clone().recipient(),
                discovered: me.clone().recipient(),
            },
        };
        let setup = PeerSetup {
            key,
            addr: candidate.addr,
            peer_id: candidate.peer_id,
            negotiated: candidate.negotiated,
            lengths: self.lengths,
            have: self.have.clone(),
            config: self.config.peer.to_config(),
            settings: self.config.peer.clone(),
            stats_interval: self.config.stats_interval(),
            limits: self.limits.clone(),
            links,
            span: self.span.clone(),
            permit: Some(candidate.permit),
            alive: Some(
                self.census
                    .enter(crate::actors::census::ActorKind::PeerSession),
            ),
            extensions: self.extension_setup(),
        };
        let striker = Striker {
            peer_id: candidate.peer_id,
            dialled: candidate.outgoing.then_some(candidate.addr),
        };
        self.strikes.connected(key, striker);
        let arbiter = self.arbiters.pick();
        let session = PeerSession::start_in(&arbiter, candidate.stream, setup);
        let handle = PeerHandle::of(key, candidate.addr, &session);
        self.peers.insert(
            key,
            PeerEntry {
                handle,
                peer_id: candidate.peer_id,
                outgoing: candidate.outgoing,
                transfer: PeerTransfer::default(),
            },
        );
        self.emit(TorrentEvent::PeerConnected {
            addr: candidate.addr,
        });
    }

    /// Forgets an ended connection; its counters join the totals.
    pub(super) fn forget_peer(
        &mut self,
        ctx: &mut Context<Self>,
        key: PeerKey,
        exit: PeerExit,
        transfer: PeerTransfer,
    ) {
        let Some(entry) = self.peers.remove(&key) else {
            return;
        };
        self.ext.forget(key);
        self.strikes.departed(key);
        self.closed.downloaded += transfer.downloaded;
        self.closed.uploaded += transfer.uploaded;
        let addr = entry.handle.addr;
        self.ledger.record_ended(entry.peer_id, addr, transfer);
        let both_seeds = matches!(exit, PeerExit::Closed(DisconnectReason::BothSeeds));
        let retry_at = Instant::now() + self.config.redial_interval();
        for known in self.known.values_mut() {
            if known.peer_id == Some(entry.peer_id) {
                known.retry_at = known.retry_at.max(retry_at);
                known.seed |= both_seeds;
            }
        }
        debug!(parent: &self.span, %addr, reason = %exit, "peer gone");
        self.emit(TorrentEvent::PeerDisconnected {
            addr,
            reason: exit.to_string(),
        });
        if self.peers.is_empty() {
            for waiter in self.drained.drain(..) {
                let _ = waiter.send(());
            }
        }
        self.fill_slots(ctx);
    }

    /// Bans a peer that reached the strike limit: its id and the address we dialled it at
    /// are never admitted or dialled again, and its live connections close.
    pub(super) fn ban(&mut self, striker: Striker) {
        let fresh = self.banned_ids.insert(striker.peer_id);
        if let Some(addr) = striker.dialled {
            self.banned_addrs.insert(addr);
        }
        if fresh {
            debug!(parent: &self.span, peer_id = ?striker.peer_id, dialled = ?striker.dialled, "peer banned");
        }
        let same = |entry: &PeerEntry| {
            entry.peer_id == striker.peer_id || Some(entry.handle.addr) == striker.dialled
        };
        for entry in self.peers.values().filter(|e| same(e)) {
            self.banned_addrs.insert(entry.handle.addr);
            entry.handle.disconnect.do_send(Disconnect {
                reason: DisconnectReason::Banned,
            });
        }
    }

    /// Closes every connection.
    pub(super) fn disconnect_all(&mut self, reason: DisconnectReason) {
        for entry in self.peers.values() {
            entry.handle.disconnect.do_send(Disconnect { reason });
        }
    }

    /// Learns peer addresses; new ones can be dialled at once.
    pub(super) fn learn(&mut self, ctx: &mut Context<Self>, addrs: Vec<SocketAddr>) {
        let now = Instant::now();
        for addr in addrs {
            self.known.entry(addr).or_insert(Known {
                failures: 0,
                retry_at: now,
                peer_id: None,
                seed: false,
            });
        }
        self.fill_slots(ctx);
    }

    /// Stops every connection and announce until resumed.
    pub(super) fn pause(&mut self) {
        self.set_state(TorrentState::Paused);
        self.disconnect_all(DisconnectReason::TorrentStopping);
        if let Some(parts) = &self.parts {
            parts
                .announcer
                .do_send(crate::actors::announcer::msg::AnnounceNow {
                    event: bt_proto::tracker::AnnounceEvent::Stopped,
                });
        }
    }
}

/// How long an address that failed `failures` times in a row waits before the next dial.
fn backoff(base: Duration, failures: u32) -> Duration {
    base.saturating_mul(1 << failures.min(6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_keep_the_same_connection() {
        let (a, b) = (PeerId([1; 20]), PeerId([2; 20]));
        // a dialled b: a sees it as outgoing, b as incoming; both keep it.
        assert!(keeps(true, a, b));
        assert!(keeps(false, b, a));
        // b dialled a: both drop it.
        assert!(!keeps(true, b, a));
        assert!(!keeps(false, a, b));
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let base = Duration::from_secs(1);
        assert_eq!(backoff(base, 1), Duration::from_secs(2));
        assert_eq!(backoff(base, 30), Duration::from_secs(64));
    }
}
