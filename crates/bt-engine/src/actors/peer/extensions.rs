//! The extension side of a [`PeerSession`]: the BEP 10 extension handshake, BEP 9 metadata
//! served to the peer, BEP 11 peer exchange both ways, and BEP 6 allowed-fast pieces (ours
//! offered at the start, the peer's requested while it chokes us) and suggestions.
//!
//! The rules live in the sans-IO [`ExtensionState`] and [`PeerState`](crate::peer::PeerState);
//! this file only moves messages between them, the socket and the supervisor.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use actix::{ActorFutureExt, AsyncContext, Context, Handler, WrapFuture};
use bt_proto::InfoHash;
use bt_proto::ext::allowed_fast_set;
use bt_proto::geometry::{BlockRef, PieceIndex};
use bytes::Bytes;
use tracing::{debug, trace};

use super::PeerSession;
use super::msg::{DisconnectReason, UpdatePex};
use crate::actors::piece_manager::msg::{RequestBlocks, RequestBlocksIn};
use crate::actors::supervisor::msg::{ExtensionHandshakeReceived, PeerSource, PeersDiscovered};
use crate::peer::{ExtensionConfig, ExtensionEvent, ExtensionState};

/// What a connection needs for the extensions, besides the torrent's geometry.
#[derive(Debug, Clone)]
pub struct PeerExtensionSetup {
    /// Our extension handshake and what we serve.
    pub config: ExtensionConfig,
    /// The torrent, for the BEP 6 allowed-fast set.
    pub info_hash: InfoHash,
    /// Pieces in the allowed-fast set we offer (0: none).
    pub allowed_fast_count: usize,
}

impl PeerExtensionSetup {
    /// The connection's extension state.
    pub(super) fn state(&self) -> ExtensionState {
        ExtensionState::new(self.config.clone())
    }
}

impl PeerSession {
    /// Right after our pieces: our extension handshake (if both sides speak BEP 10) and our
    /// allowed-fast set (if both speak BEP 6 and the peer has an IPv4 address).
    pub(super) fn start_extensions(&mut self, ctx: &mut Context<Self>) {
        if self.state.negotiated().extension_protocol {
            let handshake = self.extensions.handshake(self.addr.ip());
            self.send(ctx, handshake);
        }
        let IpAddr::V4(ip) = self.addr.ip() else {
            return;
        };
        let setup = &self.extension_setup;
        if !self.state.negotiated().fast || setup.allowed_fast_count == 0 {
            return;
        }
        let lengths = *self.state.lengths();
        let set = allowed_fast_set(
            ip,
            setup.info_hash,
            lengths.piece_count(),
            setup.allowed_fast_count,
        );
        let ours: Vec<PieceIndex> = set
            .into_iter()
            .filter_map(|index| lengths.piece(index))
            .filter(|piece| self.have.has(piece.as_usize()))
            .collect();
        for message in self.state.offer_allowed_fast(ours) {
            self.send(ctx, message);
        }
    }

    /// An `extended` message from the peer.
    pub(super) fn on_extended(&mut self, ctx: &mut Context<Self>, id: u8, payload: Bytes) {
        let events = match self.extensions.on_message(id, payload, Instant::now()) {
            Ok(events) => events,
            Err(error) => return self.fail(ctx, error),
        };
        for event in events {
            match event {
                ExtensionEvent::Handshake { listen_port, .. } => {
                    let client = self
                        .extensions
                        .peer_handshake()
                        .and_then(|h| h.client.clone());
                    debug!(parent: &self.span, ?listen_port, ?client, "extension handshake");
                    self.links
                        .extensions
                        .handshake
                        .do_send(ExtensionHandshakeReceived {
                            key: self.key,
                            listen_port,
                            client,
                        });
                }
                ExtensionEvent::Reply(message) => self.send(ctx, message),
                ExtensionEvent::PeersAdded(added) => {
                    trace!(parent: &self.span, peers = added.len(), "pex peers");
                    let seeds = added
                        .iter()
                        .filter(|peer| peer.flags.seed())
                        .map(|peer| peer.addr)
                        .collect();
                    self.links.extensions.discovered.do_send(PeersDiscovered {
                        peers: added.into_iter().map(|peer| peer.addr).collect(),
                        seeds,
                        source: PeerSource::Pex,
                    });
                }
                // We have the metadata: pieces we never asked for are dropped.
                other => trace!(parent: &self.span, event = ?other, "ignored"),
            }
        }
    }

    /// Asks the piece manager for up to `max` blocks: of the peer's suggestions first if it
    /// made some, else as usual. One request at a time.
    pub(super) fn ask_for_blocks(&mut self, ctx: &mut Context<Self>, max: usize) {
        let suggested = self.state.take_suggestions();
        if suggested.is_empty() {
            let request = RequestBlocks { key: self.key, max };
            let reply = self.links.manager.request.send(request);
            self.await_blocks(ctx, reply);
        } else {
            self.ask_within(ctx, max, suggested, false);
        }
    }

    /// While the peer chokes us: asks for blocks of its allowed-fast pieces (BEP 6), if any.
    pub(super) fn ask_for_allowed_fast(&mut self, ctx: &mut Context<Self>) {
        let wanted = self.state.wanted_fast_requests(Instant::now());
        let max = wanted.saturating_sub(self.picked.len());
        if max == 0 {
            return;
        }
        let pieces = self.state.allowed_fast();
        self.ask_within(ctx, max, pieces, true);
    }

    fn ask_within(
        &mut self,
        ctx: &mut Context<Self>,
        max: usize,
        pieces: Vec<PieceIndex>,
        only: bool,
    ) {
        let request = RequestBlocksIn {
            key: self.key,
            max,
            pieces,
            only,
        };
        let reply = self.links.manager.request_in.send(request);
        self.await_blocks(ctx, reply);
    }

    /// Waits for the piece manager's pick off the actor's turn, then sends what it can.
    fn await_blocks<F>(&mut self, ctx: &mut Context<Self>, reply: F)
    where
        F: std::future::Future<Output = Result<Vec<BlockRef>, actix::MailboxError>> + 'static,
    {
        self.asking = true;
        ctx.spawn(reply.into_actor(self).map(|picked, act, ctx| {
            act.asking = false;
            match picked {
                Ok(blocks) => {
                    act.picked.extend(blocks);
                    if std::mem::take(&mut act.work_announced) {
                        // The piece manager announced work after answering: ask again, or
                        // with nothing outstanding only the tick would.
                        act.maybe_request(ctx);
                    } else {
                        // Only send: if the piece manager had fewer blocks than asked,
                        // asking again at once would spin; the next block, `WorkAvailable`
                        // or tick asks again.
                        act.send_picked(ctx);
                    }
                }
                // The piece manager is gone: the torrent is stopping.
                Err(_) => act.close(ctx, DisconnectReason::TorrentStopping),
            }
        }));
    }

    /// While the peer chokes us: requests picked blocks of allowed-fast pieces as the
    /// pipeline and the download throttle allow, and hands every other picked block back to the piece manager.
    pub(super) fn send_picked_while_choked(&mut self, ctx: &mut Context<Self>) {
        let (fast, rest): (Vec<BlockRef>, Vec<BlockRef>) = self
            .picked
            .drain(..)
            .partition(|b| self.state.is_allowed_fast(b.piece));
        self.release(rest);
        self.picked.extend(fast);
        let now = Instant::now();
        let wanted = self.state.wanted_fast_requests(now).min(self.picked.len());
        let n = self.download_allowance(ctx, wanted);
        if n == 0 {
            return;
        }
        let blocks: Vec<BlockRef> = self.picked.drain(..n).collect();
        for message in self.state.request(blocks, now) {
            self.send(ctx, message);
        }
        self.flush(ctx);
    }
}

impl Handler<UpdatePex> for PeerSession {
    type Result = ();

    fn handle(&mut self, msg: UpdatePex, ctx: &mut Context<Self>) {
        let now = Instant::now();
        // The peer's own entry in the list is its listen address, which for a connection it
        // dialled is not the address we see.
        let listen_port = self.extensions.peer_handshake().and_then(|h| h.listen_port);
        let own = listen_port.map_or(self.addr, |port| SocketAddr::new(self.addr.ip(), port));
        if let Some(message) = self.extensions.pex_message(&msg.peers, own, now) {
            self.send(ctx, message);
            self.flush(ctx);
        }
    }
}
