//! The [`TorrentSupervisor`]'s message handlers.

use std::time::Duration;

use actix::{ActorFutureExt, Context, Handler, MessageResult, ResponseActFuture, WrapFuture};
use bt_proto::tracker::AnnounceEvent;
use tokio::sync::oneshot;
use tracing::{debug, error};

use super::TorrentSupervisor;
use super::msg::{
    DiskFailed, GetStats, IncomingPeer, Pause, PeerDisconnected, PeerStatsUpdated, PeersDiscovered,
    PieceFailed, PieceVerified, Resume, Shutdown, TrackerStatusChanged,
};
use super::peers::Candidate;
use super::sync::synced;
use crate::EngineError;
use crate::actors::announcer::msg::{self as announcer, AnnounceNow, UpdateProgress};
use crate::actors::choker::msg::{self as choker, ModeChanged};
use crate::actors::disk::SyncFiles;
use crate::actors::peer::msg::{DisconnectReason, Have};
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
        self.note_pex_seeds(&msg.seeds);
        self.learn(ctx, msg.peers);
    }
}

impl Handler<TrackerStatusChanged> for TorrentSupervisor {
    type Result = ();

    fn handle(&mut self, msg: TrackerStatusChanged, _: &mut Context<Self>) {
        self.tracker_status(msg);
    }
}

impl Handler<PieceVerified> for TorrentSupervisor {
    type Result = ();

    fn handle(&mut self, msg: PieceVerified, ctx: &mut Context<Self>) {
        if self.have.set(msg.piece.as_usize()) != Ok(true) {
            return;
        }
        if self.selection.wanted_pieces().has(msg.piece.as_usize()) {
            self.have_bytes += u64::from(self.lengths.piece_len(msg.piece));
        }
        for entry in self.peers.values() {
            entry.handle.have.do_send(Have { piece: msg.piece });
        }
        self.emit(TorrentEvent::PieceVerified {
            piece: msg.piece.get(),
            have: self.have.count_ones() as u32,
            total: self.lengths.piece_count(),
        });
        if self.is_complete() {
            self.completed(ctx);
        }
    }
}

impl TorrentSupervisor {
    /// The last piece is verified: seed, tell the trackers, sync the files, then tell the
    /// subscribers.
    fn completed(&mut self, ctx: &mut Context<Self>) {
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
        self.sync_files(ctx, |act| act.emit(TorrentEvent::Completed));
    }
}

impl Handler<PieceFailed> for TorrentSupervisor {
    type Result = ();

    fn handle(&mut self, msg: PieceFailed, _: &mut Context<Self>) {
        let mut banned = self.strikes.piece_failed(&msg.struck);
        banned.extend(
            msg.banned
                .iter()
                .filter_map(|key| self.strikes.striker(*key)),
        );
        for striker in banned {
            self.ban(striker);
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
            self.ext.set_seed(msg.key, msg.seed);
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

    fn handle(&mut self, _: Pause, ctx: &mut Context<Self>) {
        match self.state {
            TorrentState::Checking => self.pause_after_check = true,
            TorrentState::Downloading | TorrentState::Seeding => {
                self.pause();
                self.sync_files(ctx, |_| {});
            }
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
                let state = if self.is_complete() {
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
        let parts = self.parts.as_ref().map(|p| {
            let actors = (p.announcer.clone(), p.manager.clone(), p.choker.clone());
            (p.disk.clone(), actors)
        });
        let (events, span) = (self.events.clone(), self.span.clone());
        let stop = async move {
            let _ = tokio::time::timeout(DRAIN_TIMEOUT, drained).await;
            if let Some((disk, (announcer, manager, choker))) = parts {
                // Every verified piece's writes are done: they came before its hash check.
                let event = match synced(disk.send(SyncFiles).await) {
                    Ok(files) => TorrentEvent::DataSynced { files },
                    Err(error) => {
                        error!(parent: &span, %error, "syncing the files failed");
                        TorrentEvent::Error(error)
                    }
                };
                let _ = events.send(event);
                // Bounded by the announcer's own stop timeout.
                let _ = announcer.send(announcer::Shutdown).await;
                manager.do_send(manager::Shutdown);
                choker.do_send(choker::Shutdown);
            }
        };
        Box::pin(stop.into_actor(self).map(|(), act, ctx| act.finish(ctx)))
    }
}
