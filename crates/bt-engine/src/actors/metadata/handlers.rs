//! The [`MetadataFetcher`]'s message handlers.

use actix::{
    ActorContext, ActorFutureExt, Context, Handler, MessageResult, ResponseActFuture, WrapFuture,
};
use bt_proto::tracker::AnnounceEvent;
use tracing::debug;

use super::MetadataFetcher;
use super::msg::{ConnectionEvent, MetadataPeerEvent};
use crate::actors::announcer::msg::{self as announcer, AnnounceNow};
use crate::actors::peer::msg::DisconnectReason;
use crate::actors::supervisor::msg::{
    GetStats, IncomingPeer, Pause, PeersDiscovered, Resume, Shutdown, TrackerStatusChanged,
};
use crate::actors::supervisor::trackers;
use crate::metadata::{PieceOutcome, Strike};
use crate::torrent::{TorrentEvent, TorrentState};

impl Handler<MetadataPeerEvent> for MetadataFetcher {
    type Result = ();

    fn handle(&mut self, msg: MetadataPeerEvent, ctx: &mut Context<Self>) {
        let key = msg.key;
        if let ConnectionEvent::Closed(exit) = msg.event {
            return self.forget(ctx, key, exit);
        }
        if !self.is_active() || !self.conns.contains_key(&key) {
            return;
        }
        match msg.event {
            ConnectionEvent::Ready {
                serves,
                metadata_size,
                listen_port,
                client,
            } => {
                if let Some(conn) = self.conns.get_mut(&key) {
                    conn.client = client;
                    if let Some(port) = listen_port.filter(|_| !conn.outgoing) {
                        conn.listen = Some(std::net::SocketAddr::new(conn.addr.ip(), port));
                    }
                }
                match self.fetch.peer_ready(key, serves, metadata_size) {
                    Ok(true) => self.request_pieces(),
                    Ok(false) => {
                        // Useless until we have the metadata; the supervisor dials it later.
                        if let Some(conn) = self.conns.get(&key) {
                            let close = super::Command::Close(DisconnectReason::TorrentStopping);
                            let _ = conn.commands.send(close);
                        }
                    }
                    Err(error) => {
                        self.strike(key, Strike::Bad(error));
                        self.request_pieces();
                    }
                }
            }
            ConnectionEvent::Piece {
                piece,
                total_size,
                data,
            } => {
                let outcome = self.fetch.piece(key, piece, total_size, data);
                self.on_piece_outcome(ctx, outcome);
            }
            ConnectionEvent::Rejected { piece } => {
                self.fetch.rejected(key, piece, std::time::Instant::now());
                self.on_piece_outcome(ctx, PieceOutcome::Continue);
            }
            ConnectionEvent::Closed(_) => {}
        }
    }
}

impl Handler<PeersDiscovered> for MetadataFetcher {
    type Result = ();

    fn handle(&mut self, msg: PeersDiscovered, ctx: &mut Context<Self>) {
        debug!(parent: &self.span, peers = msg.peers.len(), source = ?msg.source, "peers discovered");
        self.learn(ctx, msg.peers);
    }
}

impl Handler<TrackerStatusChanged> for MetadataFetcher {
    type Result = ();

    fn handle(&mut self, msg: TrackerStatusChanged, _: &mut Context<Self>) {
        let info = trackers::record(&mut self.trackers, msg, &self.span);
        self.emit(TorrentEvent::Tracker(info));
    }
}

impl Handler<IncomingPeer> for MetadataFetcher {
    type Result = ();

    fn handle(&mut self, msg: IncomingPeer, ctx: &mut Context<Self>) {
        let stream = match tokio::net::TcpStream::from_std(msg.stream) {
            Ok(stream) => stream,
            Err(error) => {
                debug!(parent: &self.span, addr = %msg.addr, %error, "incoming socket unusable");
                return;
            }
        };
        let theirs = msg.handshakes.theirs;
        self.admit(ctx, stream, msg.addr, theirs, false, msg.permit);
    }
}

impl Handler<GetStats> for MetadataFetcher {
    type Result = MessageResult<GetStats>;

    fn handle(&mut self, _: GetStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.stats())
    }
}

impl Handler<Pause> for MetadataFetcher {
    type Result = ();

    fn handle(&mut self, _: Pause, _: &mut Context<Self>) {
        if self.is_active() {
            self.set_state(TorrentState::Paused);
            self.close_all(DisconnectReason::TorrentStopping);
            if let Some(announcer) = &self.announcer {
                announcer.do_send(AnnounceNow {
                    event: AnnounceEvent::Stopped,
                });
            }
        }
    }
}

impl Handler<Resume> for MetadataFetcher {
    type Result = ();

    fn handle(&mut self, _: Resume, ctx: &mut Context<Self>) {
        if self.state != TorrentState::Paused || self.handed_over {
            return;
        }
        self.set_state(TorrentState::FetchingMetadata);
        match &self.announcer {
            Some(announcer) => announcer.do_send(AnnounceNow {
                event: AnnounceEvent::Started,
            }),
            None => self.start_announcer(ctx),
        }
        self.fill_slots(ctx);
    }
}

impl Handler<Shutdown> for MetadataFetcher {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, _: Shutdown, _: &mut Context<Self>) -> Self::Result {
        self.close_all(DisconnectReason::TorrentStopping);
        if !self.handed_over {
            self.set_state(TorrentState::Stopped);
        }
        let announcer = self.announcer.take();
        let stop = async move {
            if let Some(announcer) = announcer {
                // Bounded by the announcer's own stop timeout.
                let _ = announcer.send(announcer::Shutdown).await;
            }
        };
        Box::pin(stop.into_actor(self).map(|(), _, ctx| ctx.stop()))
    }
}
