//! Starting the torrent's other actors once the resume check is done: the PieceManager (with
//! the torrent's picker and file selection), the Choker (with its strategy) and the Announcer
//! (with the DHT link of a public torrent).

use std::sync::Arc;

use actix::{Actor, Addr, AsyncContext, Context};

use super::TorrentSupervisor;
use crate::actors::announcer::{Announcer, AnnouncerSetup, DhtLink};
use crate::actors::census::ActorKind;
use crate::actors::choker::{Choker, ChokerSetup};
use crate::actors::disk::DiskWriter;
use crate::actors::piece_manager::{
    DiskBacklog, PieceManager, PieceManagerOutputs, PieceManagerSetup,
};
use crate::choker::TorrentMode;
use crate::strategies::{ChokerContext, PickerContext};

impl TorrentSupervisor {
    pub(super) fn start_manager(
        &self,
        ctx: &mut Context<Self>,
        disk: &Addr<DiskWriter>,
        backlog: &DiskBacklog,
    ) -> Addr<PieceManager> {
        let mut picker = self
            .strategies
            .picker(PickerContext {
                info_hash: self.info_hash,
                lengths: self.lengths,
                have: self.have.clone(),
                config: self.config.picker.to_config(),
                seed: self.strategies.picker_seed(&self.info_hash),
            })
            .expect("invariant: the resume check returns one bit per piece");
        if !self.selection.is_everything() {
            // Nothing is in flight yet, so there is nothing to cancel.
            let _ = picker.set_wanted(self.selection.wanted_pieces().clone());
        }
        let me = ctx.address();
        let setup = PieceManagerSetup {
            picker,
            hashes: Arc::from(self.metainfo.info.pieces.clone()),
            lengths: self.lengths,
            buffer_limit: self.config.piece_buffer_limit,
            backlog: backlog.clone(),
            outputs: PieceManagerOutputs {
                store: disk.clone().recipient(),
                write: disk.clone().recipient(),
                verify: disk.clone().recipient(),
                verified: me.clone().recipient(),
                failed: me.clone().recipient(),
                disk_failed: me.recipient(),
            },
            span: self.span.clone(),
            alive: Some(self.census.enter(ActorKind::PieceManager)),
        };
        PieceManager::new(setup).start()
    }

    pub(super) fn start_choker(&self, complete: bool) -> Addr<Choker> {
        let config = self.config.choke.to_config();
        let interval = config.rechoke_interval;
        let context = ChokerContext {
            info_hash: self.info_hash,
            config,
            seed: self.strategies.choker_seed(&self.info_hash),
        };
        Choker::new(ChokerSetup {
            strategy: self.strategies.choker(self.config.choke.strategy, context),
            interval,
            mode: if complete {
                TorrentMode::Seeding
            } else {
                TorrentMode::Leeching
            },
            span: self.span.clone(),
            alive: Some(self.census.enter(ActorKind::Choker)),
        })
        .start()
    }

    pub(super) fn start_announcer(&self, ctx: &mut Context<Self>) -> Addr<Announcer> {
        let me = ctx.address();
        let setup = AnnouncerSetup {
            info_hash: self.info_hash,
            peer_id: self.peer_id,
            listen_port: self.listen_port,
            own_ips: Vec::new(),
            tiers: self.metainfo.tracker_tiers(),
            progress: self.progress(),
            config: self.config.announcer.to_config(),
            peers_out: me.clone().recipient(),
            status_out: me.recipient(),
            span: self.span.clone(),
        };
        let alive = self.census.enter(ActorKind::Announcer);
        let mut announcer = Announcer::new(setup).with_alive(alive);
        let private = self.metainfo.info.private;
        let interval = self.config.dht.announce_interval();
        if let Some(link) = DhtLink::for_torrent(self.dht.as_ref(), private, interval) {
            announcer = announcer.with_dht(link);
        }
        announcer.start()
    }
}
