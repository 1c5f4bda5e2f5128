//! `PieceManager`: one per torrent; decides which blocks each connection requests, and what
//! becomes of each piece once its blocks are on disk.
//!
//! # What it owns
//! The torrent's [`PiecePicker`] (a [`StandardPicker`](crate::picker::StandardPicker) behind
//! the trait): our pieces, every peer's pieces and the availability counts, the pieces in
//! flight block by block, strikes and bans. Besides, per piece, how many of its blocks are
//! still on their way to disk, so a piece is hashed only once all of it is written.
//!
//! # Messages in and out
//! In ([`msg`]), from the connections: [`msg::PeerJoined`],
//! [`msg::BitfieldReceived`], [`msg::HaveReceived`],
//! [`msg::HaveAllReceived`], [`msg::PeerLeft`],
//! [`msg::RequestBlocks`] and [`msg::RequestBlocksIn`] → blocks, [`msg::BlockReceived`] →
//! write or drop, [`msg::BlockWritten`],
//! [`msg::RequestsReleased`]; from the supervisor: [`msg::Shutdown`].
//!
//! Out: to each connection's recipients, `SetInterest` (after any event that changes what a
//! peer can give us) and `CancelBlocks` (endgame copies that arrived elsewhere), by
//! `do_send`; to the disk pool, `VerifyPiece` (`send().await`, one per completed piece); to
//! the supervisor, `PieceVerified`, `PieceFailed` (with the peers to ban) and `DiskFailed`,
//! by `do_send`. It never names the connection or supervisor types.
//!
//! # Timers
//! None: connections ask for work when their pipelines have room.
//!
//! # What stops it
//! [`msg::Shutdown`] from the supervisor.

mod handlers;
pub mod msg;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;

use actix::{Actor, ActorFutureExt, Addr, AsyncContext, Context, Handler, Recipient, WrapFuture};
use bt_proto::geometry::{BlockRef, PieceIndex};
use tracing::{Span, debug, warn};

use crate::actors::census::Alive;
use crate::actors::disk::{DiskError, VerifyPiece};
use crate::actors::peer::msg::{CancelBlocks, SetInterest};
use crate::actors::supervisor::msg::{DiskFailed, PieceFailed, PieceVerified};
use crate::choker::PeerKey;
use crate::picker::PiecePicker;
use msg::{
    BitfieldReceived, BlockReceived, BlockWritten, HaveAllReceived, HaveReceived, PeerJoined,
    PeerLeft, RequestBlocks, RequestBlocksIn, RequestsReleased,
};

/// Where the piece manager's results go: the disk pool and the supervisor.
#[derive(Debug, Clone)]
pub struct PieceManagerOutputs {
    /// Hashes completed pieces.
    pub verify: Recipient<VerifyPiece>,
    /// Told of each piece new to us.
    pub verified: Recipient<PieceVerified>,
    /// Told of each failed piece and the peers it banned.
    pub failed: Recipient<PieceFailed>,
    /// Told of a disk error (a failed write or hash).
    pub disk_failed: Recipient<DiskFailed>,
}

/// Everything a [`PieceManager`] is built from.
#[derive(Debug)]
pub struct PieceManagerSetup {
    /// The picker, already told which pieces we have.
    pub picker: Box<dyn PiecePicker>,
    /// Every piece's SHA-1, in order.
    pub hashes: Arc<[[u8; 20]]>,
    /// Where results go.
    pub outputs: PieceManagerOutputs,
    /// The torrent's span.
    pub span: Span,
    /// Counts the actor in its session's census.
    pub alive: Option<Alive>,
}

/// The recipients through which a connection talks to the piece manager (the real one or a
/// stub); see [`PieceManagerLink::of`].
#[derive(Debug, Clone)]
pub struct PieceManagerLink {
    /// [`PeerJoined`].
    pub joined: Recipient<PeerJoined>,
    /// [`BitfieldReceived`].
    pub bitfield: Recipient<BitfieldReceived>,
    /// [`HaveReceived`].
    pub have: Recipient<HaveReceived>,
    /// [`HaveAllReceived`].
    pub have_all: Recipient<HaveAllReceived>,
    /// [`PeerLeft`].
    pub left: Recipient<PeerLeft>,
    /// [`RequestBlocks`].
    pub request: Recipient<RequestBlocks>,
    /// [`RequestBlocksIn`].
    pub request_in: Recipient<RequestBlocksIn>,
    /// [`BlockReceived`].
    pub received: Recipient<BlockReceived>,
    /// [`BlockWritten`].
    pub written: Recipient<BlockWritten>,
    /// [`RequestsReleased`].
    pub released: Recipient<RequestsReleased>,
}

impl PieceManagerLink {
    /// The link to any actor that handles the piece manager's connection messages.
    pub fn of<A>(actor: &Addr<A>) -> Self
    where
        A: Actor<Context = Context<A>>
            + Handler<PeerJoined>
            + Handler<BitfieldReceived>
            + Handler<HaveReceived>
            + Handler<HaveAllReceived>
            + Handler<PeerLeft>
            + Handler<RequestBlocks>
            + Handler<RequestBlocksIn>
            + Handler<BlockReceived>
            + Handler<BlockWritten>
            + Handler<RequestsReleased>,
    {
        Self {
            joined: actor.clone().recipient(),
            bitfield: actor.clone().recipient(),
            have: actor.clone().recipient(),
            have_all: actor.clone().recipient(),
            left: actor.clone().recipient(),
            request: actor.clone().recipient(),
            request_in: actor.clone().recipient(),
            received: actor.clone().recipient(),
            written: actor.clone().recipient(),
            released: actor.clone().recipient(),
        }
    }
}

/// A connection's recipients, from its [`PeerJoined`].
#[derive(Debug)]
struct PeerLinks {
    interest: Recipient<SetInterest>,
    cancel: Recipient<CancelBlocks>,
}

/// The torrent's piece manager; see the module docs.
#[derive(Debug)]
pub struct PieceManager {
    picker: Box<dyn PiecePicker>,
    hashes: Arc<[[u8; 20]]>,
    outputs: PieceManagerOutputs,
    peers: HashMap<PeerKey, PeerLinks>,
    /// Blocks of each piece that were accepted and are not yet written.
    writes: HashMap<PieceIndex, u32>,
    /// Pieces whose every block arrived, waiting for their writes to finish before hashing.
    complete: std::collections::HashSet<PieceIndex>,
    span: Span,
    _alive: Option<Alive>,
}

impl PieceManager {
    /// Builds the actor; `.start()` it inside an actix `System`.
    pub fn new(setup: PieceManagerSetup) -> Self {
        Self {
            picker: setup.picker,
            hashes: setup.hashes,
            outputs: setup.outputs,
            peers: HashMap::new(),
            writes: HashMap::new(),
            complete: Default::default(),
            span: setup.span,
            _alive: setup.alive,
        }
    }

    /// Sends the interest changes the picker has collected to the connections.
    fn send_interest_changes(&mut self) {
        for (key, interested) in self.picker.take_interest_changes() {
            if let Some(links) = self.peers.get(&key) {
                links.interest.do_send(SetInterest { interested });
            }
        }
    }

    /// Sends CANCELs, one message per connection.
    fn send_cancels(&self, cancels: Vec<(PeerKey, BlockRef)>) {
        let mut by_peer: HashMap<PeerKey, Vec<BlockRef>> = HashMap::new();
        for (key, block) in cancels {
            by_peer.entry(key).or_default().push(block);
        }
        for (key, blocks) in by_peer {
            if let Some(links) = self.peers.get(&key) {
                links.cancel.do_send(CancelBlocks { blocks });
            }
        }
    }

    /// Books one written (or failed) block; hashes its piece if that was the last write.
    fn block_written(&mut self, ctx: &mut Context<Self>, block: BlockRef, failed: bool) {
        let piece = block.piece;
        let remaining = match self.writes.get_mut(&piece) {
            Some(n) => {
                *n = n.saturating_sub(1);
                *n
            }
            None => 0,
        };
        if remaining == 0 {
            self.writes.remove(&piece);
            if self.complete.remove(&piece) && !failed {
                self.verify(ctx, piece);
            }
        }
    }

    /// Hashes a piece on the disk pool and books the result.
    fn verify(&mut self, ctx: &mut Context<Self>, piece: PieceIndex) {
        let Some(expected) = self.hashes.get(piece.as_usize()).copied() else {
            return;
        };
        let request = self.outputs.verify.send(VerifyPiece { piece, expected });
        ctx.spawn(request.into_actor(self).map(move |result, act, _ctx| {
            let result = result.map_err(DiskError::from).and_then(|r| r);
            act.hashed(piece, result);
        }));
    }

    /// What a hash result means: a new piece, a failed one, or a disk error.
    fn hashed(&mut self, piece: PieceIndex, result: Result<bool, DiskError>) {
        let span = self.span.clone();
        let _e = span.enter();
        match result {
            Ok(true) => {
                if self.picker.piece_verified(piece) {
                    debug!(%piece, missing = self.picker.missing_count(), "piece verified");
                    self.outputs.verified.do_send(PieceVerified { piece });
                }
                self.send_interest_changes();
            }
            Ok(false) => {
                let struck = self.picker.piece_contributors(piece);
                let banned = self.picker.piece_failed(piece);
                debug!(%piece, banned = banned.len(), "piece failed its hash check");
                self.outputs.failed.do_send(PieceFailed {
                    piece,
                    struck,
                    banned,
                });
            }
            Err(error) => {
                warn!(%piece, %error, "piece could not be hashed");
                self.outputs.disk_failed.do_send(DiskFailed { error });
            }
        }
    }
}

impl Actor for PieceManager {
    type Context = Context<Self>;

    fn started(&mut self, _ctx: &mut Self::Context) {
        let _e = self.span.enter();
        debug!(
            picker = self.picker.name(),
            missing = self.picker.missing_count(),
            "piece manager started"
        );
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        let _e = self.span.enter();
        debug!("piece manager stopped");
    }
}
