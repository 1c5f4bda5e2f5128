//! The fetcher's peers and connections: learning and dialling addresses, admitting
//! connections, asking them for pieces, and striking or forgetting them.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Instant;

use actix::{ActorFutureExt, AsyncContext, Context, WrapFuture};
use bt_proto::wire::Handshake;
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::mpsc::unbounded_channel;
use tracing::debug;

use super::connection::{Command, Connection};
use super::{Conn, Known, MetadataFetcher};
use crate::actors::peer::msg::DisconnectReason;
use crate::actors::supervisor::msg::PeerExit;
use crate::actors::supervisor::our_reserved;
use crate::choker::PeerKey;
use crate::metadata::{PieceOutcome, Strike};
use crate::peer::{ExtensionConfig, ExtensionState, PeerError, outgoing_handshake};
use crate::torrent::TorrentEvent;

impl MetadataFetcher {
    /// Learns peer addresses; new ones can be dialled at once.
    pub(super) fn learn(&mut self, ctx: &mut Context<Self>, addrs: Vec<SocketAddr>) {
        let now = Instant::now();
        for addr in addrs {
            self.known.entry(addr).or_insert(Known {
                failures: 0,
                retry_at: now,
            });
        }
        self.fill_slots(ctx);
    }

    /// Dials known peers while there is room.
    pub(super) fn fill_slots(&mut self, ctx: &mut Context<Self>) {
        if !self.is_active() {
            return;
        }
        let now = Instant::now();
        let connected: HashSet<SocketAddr> = self.conns.values().map(|c| c.addr).collect();
        while self.conns.len() + self.connecting.len() < self.config.max_peers_per_torrent
            && self.connecting.len() < self.config.max_connecting
        {
            let next = self.known.iter().find(|(addr, known)| {
                known.retry_at <= now
                    && !self.connecting.contains(*addr)
                    && !self.banned_addrs.contains(*addr)
                    && !connected.contains(*addr)
            });
            let Some((&addr, _)) = next else {
                return;
            };
            let Ok(permit) = self.slots.clone().try_acquire_owned() else {
                return;
            };
            self.dial(ctx, addr, permit);
        }
    }

    /// Connects and handshakes off the actor's turn, then starts the connection.
    pub(super) fn dial(
        &mut self,
        ctx: &mut Context<Self>,
        addr: SocketAddr,
        permit: OwnedSemaphorePermit,
    ) {
        self.connecting.insert(addr);
        // A dialled peer is not dialled again until this connection ends, plus the interval.
        if let Some(known) = self.known.get_mut(&addr) {
            known.retry_at = Instant::now() + self.config.redial_interval();
        }
        let ours = Handshake::new(our_reserved(), self.info_hash, self.peer_id);
        let connect_timeout = self.config.connect_timeout();
        let handshake_timeout = self.config.handshake_timeout();
        let dial = async move {
            let connect = tokio::time::timeout(connect_timeout, TcpStream::connect(addr));
            let mut stream = connect.await.map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out")
            })??;
            let theirs = outgoing_handshake(&mut stream, ours, handshake_timeout).await?;
            Ok::<_, PeerError>((stream, theirs))
        };
        ctx.spawn(dial.into_actor(self).map(move |result, act, ctx| {
            act.connecting.remove(&addr);
            match result {
                Ok((stream, theirs)) => {
                    if let Some(known) = act.known.get_mut(&addr) {
                        known.failures = 0;
                    }
                    act.admit(ctx, stream, addr, theirs, true, permit);
                }
                Err(error) => {
                    debug!(parent: &act.span, %addr, %error, "dial failed");
                    let base = act.config.redial_interval();
                    if let Some(known) = act.known.get_mut(&addr) {
                        known.failures = known.failures.saturating_add(1);
                        known.retry_at =
                            Instant::now() + base.saturating_mul(1 << known.failures.min(6));
                    }
                }
            }
        }));
    }

    /// Starts a connection's task, unless the peer cannot help or is not welcome.
    pub(super) fn admit(
        &mut self,
        ctx: &mut Context<Self>,
        stream: TcpStream,
        addr: SocketAddr,
        theirs: Handshake,
        outgoing: bool,
        permit: OwnedSemaphorePermit,
    ) {
        let refused = if !self.is_active() {
            Some("not fetching")
        } else if !theirs.reserved.extension_protocol() {
            Some("no extension protocol, so no metadata")
        } else if theirs.peer_id == self.peer_id {
            Some("ourselves")
        } else if self.banned_ids.contains(&theirs.peer_id) || self.banned_addrs.contains(&addr) {
            Some("struck")
        } else if self.conns.values().any(|c| c.peer_id == theirs.peer_id) {
            Some("duplicate")
        } else if self.conns.len() >= self.config.max_peers_per_torrent {
            Some("peer limit")
        } else {
            None
        };
        if let Some(why) = refused {
            debug!(parent: &self.span, %addr, why, "connection refused");
            return;
        }
        self.next_key += 1;
        let key = PeerKey(self.next_key);
        let (commands, receiver) = unbounded_channel();
        let settings = &self.config.extensions;
        let peer = self.config.peer.to_config();
        let connection = Connection {
            key,
            stream,
            addr,
            extensions: ExtensionState::new(ExtensionConfig {
                client: settings.client(),
                listen_port: Some(self.listen_port).filter(|&p| p != 0),
                request_queue: u32::try_from(peer.max_peer_requests).unwrap_or(u32::MAX),
                metadata: None,
                pex: false,
                pex_interval: settings.pex_interval(),
            }),
            handshake_timeout: self.config.handshake_timeout(),
            silence_timeout: peer.silence_timeout,
            keepalive_interval: peer.keepalive_interval,
            commands: receiver,
            events: ctx.address().recipient(),
            permit: Some(permit),
        };
        actix_rt::spawn(connection.run());
        self.conns.insert(
            key,
            Conn {
                addr,
                peer_id: theirs.peer_id,
                outgoing,
                commands,
                listen: outgoing.then_some(addr),
                client: None,
            },
        );
        self.emit(TorrentEvent::PeerConnected { addr });
    }

    /// Sends the requests the fetch wants now.
    pub(super) fn request_pieces(&mut self) {
        if !self.is_active() {
            return;
        }
        for (key, piece) in self.fetch.requests(Instant::now()) {
            if let Some(conn) = self.conns.get(&key) {
                let _ = conn.commands.send(Command::Request(piece));
            }
        }
    }

    /// The periodic work: time-outs and requests.
    pub(super) fn tick(&mut self) {
        if !self.is_active() {
            return;
        }
        let late = self.fetch.timed_out(Instant::now());
        if !late.is_empty() {
            debug!(parent: &self.span, peers = late.len(), "metadata requests timed out");
        }
        self.request_pieces();
    }

    /// A piece's outcome: more requests, strikes, or the end of the fetch.
    pub(super) fn on_piece_outcome(&mut self, ctx: &mut Context<Self>, outcome: PieceOutcome) {
        match outcome {
            PieceOutcome::Continue => self.request_pieces(),
            PieceOutcome::Struck(struck) => {
                for (key, strike) in struck {
                    self.strike(key, strike);
                }
                self.request_pieces();
            }
            PieceOutcome::Verified(metadata) => self.finish(ctx, metadata),
        }
    }

    /// Disconnects a peer for bad metadata and never uses its address or id again.
    pub(super) fn strike(&mut self, key: PeerKey, strike: Strike) {
        self.fetch.peer_left(key);
        let Some(conn) = self.conns.remove(&key) else {
            return;
        };
        self.banned_addrs.insert(conn.addr);
        if let Some(listen) = conn.listen {
            self.banned_addrs.insert(listen);
        }
        self.banned_ids.insert(conn.peer_id);
        let error = match strike {
            Strike::Bad(error) => PeerError::BadMetadata(error),
            Strike::HashMismatch => PeerError::MetadataHashMismatch,
        };
        debug!(parent: &self.span, addr = %conn.addr, %error, "peer struck");
        let _ = conn.commands.send(Command::Close(DisconnectReason::Banned));
        self.emit(TorrentEvent::PeerDisconnected {
            addr: conn.addr,
            reason: PeerExit::Error(error).to_string(),
        });
    }

    /// Forgets an ended connection.
    pub(super) fn forget(&mut self, ctx: &mut Context<Self>, key: PeerKey, exit: PeerExit) {
        self.fetch.peer_left(key);
        let Some(conn) = self.conns.remove(&key) else {
            return; // Struck already, and reported then.
        };
        debug!(parent: &self.span, addr = %conn.addr, reason = %exit, "peer gone");
        self.emit(TorrentEvent::PeerDisconnected {
            addr: conn.addr,
            reason: exit.to_string(),
        });
        self.request_pieces();
        self.fill_slots(ctx);
    }
}
