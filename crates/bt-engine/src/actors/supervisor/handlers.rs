//! The [`TorrentSupervisor`]'s message handlers.

use std::time::Duration;

use actix::{ActorFutureExt, Context, Handler, MessageResult, ResponseActFuture, WrapFuture};
use bt_proto::tracker::AnnounceEvent;
use tokio::sync::oneshot;
use tracing::{debug, warn};

use super::TorrentSupervisor;
use super::msg::{
    DiskFailed, GetStats, IncomingPeer, Pause, PeerDisconnected, PeerStatsUpdated, PeersDiscovered,
    PieceFailed, PieceVerified, Resume, Shutdown, TrackerStatus, TrackerStatusChanged,
};
use super::peers::Candidate;
use crate::EngineError;
use crate::actors::announcer::msg::{self as announcer, AnnounceNow, UpdateProgress};
use crate::actors::choker::msg::{self as choker, ModeChanged};
use crate::actors::peer::msg::{Disconnect, DisconnectReason, Have};
use crate::actors::piece_manager::msg as manager;
use crate::choker::TorrentMode;
use crate::peer::Negotiated;
use crate::torrent::{TorrentEvent, TorrentState};

/// How long a shutdown waits for the connections to report their end.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

impl Handler<PeersDiscovered> for TorrentSupervisor {
    type Result = ();

    fn handle(&mut self, mut msg: PeersDiscovered, ctx: &mut Context<Self>) {
        if !self.filter_discovered(&mut msg) {
            return;
        }
        debug!(parent: &self.span, peers = msg.peers.len(), source = ?msg.source, "peers discovered");
        self.learn(ctx, msg.peers);
    }
}

impl Handler<TrackerStatusChanged> for TorrentSupervisor {
    type Result = ();

    fn handle(&mut self, msg: TrackerStatusChanged, _: &mut Context<Self>) {
        if let TrackerStatus::Working {
            warning: Some(warning),
            ..
        } = &msg.status
        {
            warn!(parent: &self.span, tracker = %msg.tracker, %warning, "tracker warning");
        }
    }
}

impl Handler<PieceVerified> for TorrentSupervisor {
    type Result = ();

    fn handle(&mut self, msg: PieceVerified, _: &mut Context<Self>) {
        if self.have.set(msg.piece.as_usize()) != Ok(true) {
            return;
        }
        self.have_bytes += u64::from(self.lengths.piece_len(msg.piece));
        for entry in self.peers.values() {
            entry.handle.have.do_send(Have { piece: msg.piece });
        }
        self.emit(TorrentEvent::PieceVerified {
            piece: msg.piece.get(),
            have: self.have.count_ones() as u32,
            total: self.lengths.piece_count(),
        });
        if self.have.is_complete() {
            self.completed();
        }
    }
}

impl TorrentSupervisor {
    /// The last piece is verified: seed, and tell the trackers and subscribers.
    fn completed(&mut self) {
        if let Some(parts) = &self.parts {
            let progress = self.progress();
            parts.announcer.do_send(UpdateProgress {
                uploaded: progress.uploaded,
                downloaded: progress.downloaded,
                left: 0,
            });
            parts.announcer.do_send(AnnounceNow {
                event: AnnounceEvent::Completed,
            });
            parts.choker.do_send(ModeChanged {
                mode: TorrentMode::Seeding,
            });
        }
        if self.state == TorrentState::Downloading {
            self.set_state(TorrentState::Seeding);
        }
        self.emit(TorrentEvent::Completed);
    }
}

impl Handler<PieceFailed> for TorrentSupervisor {
    type Result = ();

    fn handle(&mut self, msg: PieceFailed, _: &mut Context<Self>) {
        for key in msg.banned {
            if let Some(entry) = self.peers.get(&key) {
                debug!(parent: &self.span, addr = %entry.handle.addr, "peer banned");
                self.banned_ids.insert(entry.peer_id);
                self.banned_addrs.insert(entry.handle.addr);
                entry.handle.disconnect.do_send(Disconnect {
                    reason: DisconnectReason::Banned,
                });
            }
        }
    }
}

impl Handler<DiskFailed> for TorrentSupervisor {
    type Result = ();

    fn handle(&mut self, msg: DiskFailed, _: &mut Context<Self>) {
        if !matches!(self.state, TorrentState::Error(_) | TorrentState::Stopped) {
            self.fail(EngineError::from(msg.error));
        }
    }
}

impl Handler<PeerStatsUpdated> for TorrentSupervisor {
    type Result = ();

    fn handle(&mut self, msg: PeerStatsUpdated, _: &mut Context<Self>) {
        if let Some(entry) = self.peers.get_mut(&msg.key) {
            entry.transfer = msg.transfer;
        }
    }
}

impl Handler<PeerDisconnected> for TorrentSupervisor {
    type Result = ();

    fn handle(&mut self, msg: PeerDisconnected, ctx: &mut Context<Self>) {
        self.forget_peer(ctx, msg.key, msg.exit, msg.transfer);
    }
}

impl Handler<IncomingPeer> for TorrentSupervisor {
    type Result = ();

    fn handle(&mut self, msg: IncomingPeer, ctx: &mut Context<Self>) {
        let (ours, theirs) = (msg.handshakes.ours, msg.handshakes.theirs);
        let candidate = Candidate {
            stream: msg.stream,
            addr: msg.addr,
            peer_id: theirs.peer_id,
            negotiated: Negotiated::new(ours.reserved, theirs.reserved),
            outgoing: false,
            permit: msg.permit,
        };
        self.admit(ctx, candidate);
    }
}

impl Handler<Pause> for TorrentSupervisor {
    type Result = ();

    fn handle(&mut self, _: Pause, _: &mut Context<Self>) {
        match self.state {
            TorrentState::Checking => self.pause_after_check = true,
            TorrentState::Downloading | TorrentState::Seeding => self.pause(),
            _ => {}
        }
    }
}

impl Handler<Resume> for TorrentSupervisor {
    type Result = ();

    fn handle(&mut self, _: Resume, ctx: &mut Context<Self>) {
        match self.state {
            TorrentState::Checking => self.pause_after_check = false,
            TorrentState::Paused => {
                if let Some(parts) = &self.parts {
                    parts.announcer.do_send(AnnounceNow {
                        event: AnnounceEvent::Started,
                    });
                }
                let state = if self.have.is_complete() {
                    TorrentState::Seeding
                } else {
                    TorrentState::Downloading
                };
                self.set_state(state);
                self.fill_slots(ctx);
            }
            _ => {}
        }
    }
}

impl Handler<GetStats> for TorrentSupervisor {
    type Result = MessageResult<GetStats>;

    fn handle(&mut self, _: GetStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.stats())
    }
}

impl Handler<Shutdown> for TorrentSupervisor {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, _: Shutdown, _: &mut Context<Self>) -> Self::Result {
        self.set_state(TorrentState::Stopped);
        self.disconnect_all(DisconnectReason::TorrentStopping);
        let (done, drained) = oneshot::channel();
        if self.peers.is_empty() {
            let _ = done.send(());
        } else {
            self.drained.push(done);
        }
        let parts = self
            .parts
            .as_ref()
            .map(|p| (p.announcer.clone(), p.manager.clone(), p.choker.clone()));
        let stop = async move {
            let _ = tokio::time::timeout(DRAIN_TIMEOUT, drained).await;
            if let Some((announcer, manager, choker)) = parts {
                // Bounded by the announcer's own stop timeout.
                let _ = announcer.send(announcer::Shutdown).await;
                manager.do_send(manager::Shutdown);
                choker.do_send(choker::Shutdown);
            }
        };
        Box::pin(stop.into_actor(self).map(|(), act, ctx| act.finish(ctx)))
    }
}
