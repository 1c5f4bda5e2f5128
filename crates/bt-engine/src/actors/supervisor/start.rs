//! Starting the torrent's other actors once the resume check is done: the PieceManager (with
//! the picker), the Choker (with tit-for-tat) and the Announcer.

use std::sync::Arc;

use actix::{Actor, Addr, AsyncContext, Context};

use super::TorrentSupervisor;
use crate::actors::announcer::{Announcer, AnnouncerSetup};
use crate::actors::census::ActorKind;
use crate::actors::choker::{Choker, ChokerSetup};
use crate::actors::disk::DiskWriter;
use crate::actors::piece_manager::{PieceManager, PieceManagerOutputs, PieceManagerSetup};
use crate::choker::{TitForTat, TorrentMode};
use crate::picker::StandardPicker;

impl TorrentSupervisor {
    pub(super) fn start_manager(
        &self,
        ctx: &mut Context<Self>,
        disk: &Addr<DiskWriter>,
    ) -> Addr<PieceManager> {
        let picker = StandardPicker::new(
            self.lengths,
            self.have.clone(),
            self.config.picker.to_config(),
            rand::random(),
        )
        .expect("invariant: the resume check returns one bit per piece");
        let me = ctx.address();
        let setup = PieceManagerSetup {
            picker: Box::new(picker),
            hashes: Arc::from(self.metainfo.info.pieces.clone()),
            outputs: PieceManagerOutputs {
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
        Choker::new(ChokerSetup {
            strategy: Box::new(TitForTat::new(config, rand::random())),
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
        let announcer = Announcer::new(setup).with_alive(alive);
        announcer.start()
    }
}
