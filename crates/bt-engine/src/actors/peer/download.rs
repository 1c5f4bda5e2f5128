//! The download side of a [`PeerSession`]: what the peer's messages mean for the torrent,
//! asking the piece manager for work, and taking received blocks to disk.

use std::time::{Duration, Instant};

use actix::{ActorFutureExt, AsyncContext, Context, WrapFuture};
use bt_proto::geometry::BlockRef;
use bt_proto::wire::PeerMessage;
use bytes::Bytes;
use tracing::trace;

use super::PeerSession;
use super::msg::DisconnectReason;
use crate::actors::choker::msg::InterestChanged;
use crate::actors::disk::{DiskError, WriteBlock};
use crate::actors::piece_manager::msg::{
    BitfieldReceived, BlockReceived, BlockWritten, HaveAllReceived, HaveReceived, RequestsReleased,
};
use crate::peer::{PeerError, PeerEvent, wire_request};

impl PeerSession {
    /// Acts on one consequence of a message from the peer.
    pub(super) fn on_event(&mut self, ctx: &mut Context<Self>, event: PeerEvent) {
        let key = self.key;
        let manager = &self.links.manager;
        match event {
            PeerEvent::PeerBitfield(bitfield) => {
                manager.bitfield.do_send(BitfieldReceived { key, bitfield });
            }
            PeerEvent::PeerHas(piece) => manager.have.do_send(HaveReceived { key, piece }),
            PeerEvent::PeerHasAll => manager.have_all.do_send(HaveAllReceived { key }),
            PeerEvent::Choked { forgotten } => self.release(forgotten),
            PeerEvent::Rejected(block) => self.release(vec![block]),
            PeerEvent::Unchoked => {}
            PeerEvent::Interested | PeerEvent::NotInterested => {
                self.links.choker_interest.do_send(InterestChanged { key });
            }
            PeerEvent::BlockReceived { block, data } => self.on_block(ctx, block, data),
            PeerEvent::BlockRequested(block) => self.uploads.push_back(block),
            PeerEvent::RequestCancelled(block) => self.uploads.retain(|b| *b != block),
            PeerEvent::Reply(message) => self.send(ctx, message),
            PeerEvent::ExtendedMessage { id, payload } => self.on_extended(ctx, id, payload),
            other => trace!(parent: &self.span, event = ?other, "ignored"),
        }
    }

    /// Hands requests that will not be answered back to the piece manager.
    pub(super) fn release(&self, blocks: Vec<BlockRef>) {
        if !blocks.is_empty() {
            let key = self.key;
            let released = RequestsReleased { key, blocks };
            self.links.manager.released.do_send(released);
        }
    }

    /// Takes a received block to disk in a task detached from the actor: the piece manager
    /// says whether to write it, the disk writes it (`send().await`: the backpressure), and
    /// the piece manager learns of the write even if this connection is gone by then.
    ///
    /// The task holds the connection's `LeaveNotice` until the piece manager has answered,
    /// so `PeerLeft` never overtakes the block: a block that arrived just before the peer
    /// left is kept, not dropped as unrequested and fetched again.
    fn on_block(&mut self, ctx: &mut Context<Self>, block: BlockRef, data: Bytes) {
        let key = self.key;
        let ask = self.links.manager.received.clone();
        let disk = self.links.write.clone();
        let written = self.links.manager.written.clone();
        let leave = self.leave.clone();
        let task = actix_rt::spawn(async move {
            let answer = ask.send(BlockReceived { key, block }).await;
            drop(leave);
            if answer != Ok(true) {
                return;
            }
            let result = match disk.send(WriteBlock { block, data }).await {
                Ok(result) => result,
                Err(mailbox) => Err(DiskError::from(mailbox)),
            };
            written.do_send(BlockWritten { block, result });
        });
        self.to_disk += 1;
        let done = async move {
            let _ = task.await;
        };
        ctx.spawn(done.into_actor(self).map(|(), act, ctx| {
            act.to_disk -= 1;
            act.maybe_request(ctx);
        }));
    }

    /// Sends REQUESTs for picked blocks while the pipeline has room, then asks the piece
    /// manager for more once fewer than a pipeline's worth are left in reserve. The reserve
    /// keeps the pipeline full while the next `RequestBlocks` is on its way: the piece manager
    /// serves every connection of the torrent, and a pipeline that waits for it drains.
    /// Nothing is asked while a request is in flight, the peer chokes us or we are not
    /// interested, or too many blocks are on their way to disk.
    pub(super) fn maybe_request(&mut self, ctx: &mut Context<Self>) {
        self.send_picked(ctx);
        if self.asking
            || self.to_disk >= self.settings.max_blocks_to_disk
            || !self.state.am_interested()
        {
            return;
        }
        if self.state.peer_choking() {
            // BEP 6: its allowed-fast pieces, if it allowed any.
            return self.ask_for_allowed_fast(ctx);
        }
        let wanted = self.state.wanted_requests(Instant::now());
        let target = self.state.outstanding_count() + wanted;
        let max = (wanted + target).saturating_sub(self.picked.len());
        if max == 0 {
            return;
        }
        self.ask_for_blocks(ctx, max);
    }

    /// Sends REQUESTs for as many picked blocks as the pipeline wants now and the download
    /// throttle allows; while the peer chokes us, the picked blocks go back to the piece
    /// manager instead, except those of its allowed-fast pieces (BEP 6).
    pub(super) fn send_picked(&mut self, ctx: &mut Context<Self>) {
        if self.state.peer_choking() {
            return self.send_picked_while_choked(ctx);
        }
        let wanted = self.state.wanted_requests(Instant::now());
        let n = self.download_allowance(ctx, wanted.min(self.picked.len()));
        if n == 0 {
            return;
        }
        let blocks: Vec<BlockRef> = self.picked.drain(..n).collect();
        for message in self.state.request(blocks, Instant::now()) {
            self.send(ctx, message);
        }
        self.flush(ctx);
    }

    /// How many of the first `n` picked blocks the download throttle lets us request now,
    /// charged to it; when it runs dry, a timer asks again once it has credit.
    pub(super) fn download_allowance(&mut self, ctx: &mut Context<Self>, n: usize) -> usize {
        if self.download_throttle.is_unlimited() {
            return n;
        }
        if self.download_waiting {
            return 0;
        }
        let now = Instant::now();
        for (allowed, block) in self.picked.iter().take(n).enumerate() {
            if let Err(wait) = self.download_throttle.try_take(u64::from(block.len), now) {
                self.wait_for_download_credit(ctx, wait);
                return allowed;
            }
        }
        n
    }

    /// Resumes requesting once the throttle has credit again.
    fn wait_for_download_credit(&mut self, ctx: &mut Context<Self>, wait: Duration) {
        self.download_waiting = true;
        ctx.run_later(wait, |act, ctx| {
            act.download_waiting = false;
            act.maybe_request(ctx);
        });
    }

    /// The periodic checks: silence, request time-outs, keep-alive, work, useless links.
    pub(super) fn on_tick(&mut self, ctx: &mut Context<Self>) {
        let now = Instant::now();
        if self.state.is_silent(now) {
            let limit = self.state.config().silence_timeout;
            return self.fail(ctx, PeerError::Silent(limit));
        }
        if self.have.is_complete() && self.state.peer_pieces().is_complete() {
            return self.close(ctx, DisconnectReason::BothSeeds);
        }
        let late = self.state.timed_out_requests(now);
        for block in &late {
            self.send(ctx, PeerMessage::Cancel(wire_request(*block)));
        }
        self.release(late);
        if let Some(keep_alive) = self.state.keep_alive(now) {
            self.send(ctx, keep_alive);
        }
        self.maybe_request(ctx);
        self.pump_uploads(ctx);
        self.flush(ctx);
    }
}
