//! The [`PieceManager`]'s way from received blocks to hashed pieces: blocks go to the
//! assembly, complete pieces to the disk pool (`StorePiece` for a piece kept in memory,
//! `WriteBlock` per block and then `VerifyPiece` for one written through), and each hash
//! result to the picker and the supervisor.

use actix::{ActorFutureExt, AsyncContext, Context, WrapFuture};
use bt_proto::geometry::{BlockRef, PieceIndex};
use bytes::Bytes;
use tracing::{debug, trace, warn};

use super::PieceManager;
use super::assembly::{Next, Placed};
use crate::actors::disk::{DiskError, StorePiece, VerifyPiece, WriteBlock};
use crate::actors::supervisor::msg::{DiskFailed, PieceFailed, PieceVerified};
use crate::choker::PeerKey;
use crate::picker::{BlockOutcome, PiecePicker};

impl PieceManager {
    /// Books the blocks a connection received: the picker says which are new (and which
    /// copies requested elsewhere to cancel), the assembly keeps or writes them, and complete
    /// pieces move on.
    pub(super) fn blocks_received(
        &mut self,
        ctx: &mut Context<Self>,
        key: PeerKey,
        blocks: Vec<(BlockRef, Bytes)>,
    ) {
        let before = self.assembly.to_disk();
        let handled: u64 = blocks.iter().map(|(_, data)| data.len() as u64).sum();
        let mut cancels = Vec::new();
        for (block, data) in blocks {
            let answer = self.picker.block_received(key, &block);
            cancels.extend(answer.cancels);
            if answer.outcome != BlockOutcome::New {
                continue;
            }
            if let Placed::Write(block, data) = self.assembly.place(block, data) {
                self.write(ctx, block, data);
            }
            if let Some(piece) = answer.piece_complete {
                let next = self.assembly.complete(piece);
                self.next_step(ctx, piece, next);
            }
        }
        self.send_cancels(cancels);
        self.update_backlog(before, handled);
    }

    /// The blocks `pick` chooses for connection `key`, or none while the disk is too far
    /// behind; a connection that gets none is told `WorkAvailable` once there may be some.
    pub(super) fn pick_unless_backlogged(
        &mut self,
        key: PeerKey,
        pick: impl FnOnce(&mut dyn PiecePicker) -> Vec<BlockRef>,
    ) -> Vec<BlockRef> {
        let blocks = if self.assembly.is_backlogged() {
            trace!(parent: &self.span, key = key.0, "no blocks: the disk is behind");
            Vec::new()
        } else {
            pick(self.picker.as_mut())
        };
        if blocks.is_empty() {
            self.starved.insert(key);
        }
        blocks
    }

    /// Acts on what the assembly says comes next for a piece.
    fn next_step(&mut self, ctx: &mut Context<Self>, piece: PieceIndex, next: Next) {
        match next {
            Next::Store(blocks) => self.store(ctx, piece, blocks),
            Next::Verify => self.verify(ctx, piece),
            Next::Wait => {}
            // The failed write was reported to the supervisor as a disk error.
            Next::Abandon => {
                debug!(parent: &self.span, %piece, "piece abandoned after a failed write")
            }
        }
    }

    /// Has a piece kept in memory hashed and, if good, written, on the disk pool.
    fn store(&mut self, ctx: &mut Context<Self>, piece: PieceIndex, blocks: Vec<Bytes>) {
        let Some(expected) = self.hashes.get(piece.as_usize()).copied() else {
            self.assembly.stored(piece);
            return;
        };
        let request = self.outputs.store.send(StorePiece {
            piece,
            expected,
            blocks,
        });
        ctx.spawn(request.into_actor(self).map(move |result, act, _ctx| {
            let before = act.assembly.to_disk();
            act.assembly.stored(piece);
            act.update_backlog(before, 0);
            let result = result.map_err(DiskError::from).and_then(|r| r);
            act.hashed(piece, result);
            act.feed_starved();
        }));
    }

    /// Writes a block of a piece written through; its piece is hashed after its last write.
    fn write(&mut self, ctx: &mut Context<Self>, block: BlockRef, data: Bytes) {
        let request = self.outputs.write.send(WriteBlock { block, data });
        ctx.spawn(request.into_actor(self).map(move |result, act, ctx| {
            let result = result.map_err(DiskError::from).and_then(|r| r);
            let ok = result.is_ok();
            if let Err(error) = result {
                act.outputs.disk_failed.do_send(DiskFailed { error });
            }
            let before = act.assembly.to_disk();
            let next = act.assembly.written(&block, ok);
            act.update_backlog(before, 0);
            act.next_step(ctx, block.piece, next);
            act.feed_starved();
        }));
    }

    /// Hashes a piece on disk, on the disk pool, and books the result.
    fn verify(&mut self, ctx: &mut Context<Self>, piece: PieceIndex) {
        let Some(expected) = self.hashes.get(piece.as_usize()).copied() else {
            return;
        };
        let request = self.outputs.verify.send(VerifyPiece { piece, expected });
        ctx.spawn(request.into_actor(self).map(move |result, act, _ctx| {
            let result = result.map_err(DiskError::from).and_then(|r| r);
            act.hashed(piece, result);
            act.feed_starved();
        }));
    }

    /// What a hash result means: a new piece (on disk), a failed one, or a disk error.
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
