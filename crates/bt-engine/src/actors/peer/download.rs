//! The download side of a [`PeerSession`]: what the peer's messages mean for the torrent,
//! asking the piece manager for work, and handing it the blocks received, a turn's worth at
//! a time.

use std::time::{Duration, Instant};

use actix::{ActorFutureExt, AsyncContext, Context};
use bt_proto::geometry::BlockRef;
use bt_proto::wire::PeerMessage;
use bytes::Bytes;
use tracing::trace;

use super::PeerSession;
use super::msg::DisconnectReason;
use crate::actors::choker::msg::InterestChanged;
use crate::actors::piece_manager::msg::{
    BitfieldReceived, BlocksReceived, HaveAllReceived, HaveReceived, RequestsReleased,
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

    /// Hands requests that will not be answered back to the piece manager, after the blocks
    /// received before them.
    pub(super) fn release(&mut self, blocks: Vec<BlockRef>) {
        if !blocks.is_empty() {
            self.hand_over_blocks();
            let key = self.key;
            let released = RequestsReleased { key, blocks };
            self.links.manager.released.do_send(released);
        }
    }

    /// Keeps a received block for the piece manager; every block received in this turn goes
    /// to it in one message once the turn is over (`hand_over_blocks`).
    /// The block counts in the torrent's disk backlog from now on; if that brings it to its
    /// limit, the connection stops reading (the rest of this turn included) until told
    /// `ResumeReading`.
    fn on_block(&mut self, ctx: &mut Context<Self>, block: BlockRef, data: Bytes) {
        if !self.links.manager.backlog.received(data.len() as u64) {
            trace!(parent: &self.span, "the disk is behind: reads stop");
            self.reader.gate.set_closed(true);
        }
        self.received.push((block, data));
        if self.blocks_scheduled {
            return;
        }
        self.blocks_scheduled = true;
        ctx.spawn(actix::fut::ready(()).map(|(), act: &mut Self, _ctx| {
            act.blocks_scheduled = false;
            act.hand_over_blocks();
        }));
    }

    /// Sends the blocks received so far to the piece manager, in one message. `do_send`, so
    /// they keep their place among this connection's other messages to it (`PeerLeft` last).
    pub(super) fn hand_over_blocks(&mut self) {
        if self.received.is_empty() {
            return;
        }
        let blocks = std::mem::take(&mut self.received);
        let key = self.key;
        self.links
            .manager
            .received
            .do_send(BlocksReceived { key, blocks });
    }

    /// Sends REQUESTs for picked blocks while the pipeline has room, then asks the piece
    /// manager for more once fewer than a pipeline's worth are left in reserve. The reserve
    /// keeps the pipeline full while the next `RequestBlocks` is on its way: the piece manager
    /// serves every connection of the torrent, and a pipeline that waits for it drains.
    /// Nothing is asked while a request is in flight or we are not interested; while the peer
    /// chokes us, only blocks of its allowed-fast pieces (BEP 6).
    pub(super) fn maybe_request(&mut self, ctx: &mut Context<Self>) {
        self.send_picked(ctx);
        if self.asking || !self.state.am_interested() {
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

    /// The periodic checks: silence, request time-outs, keep-alive, work, useless links; and
    /// read buffers no longer needed go back to the allocator.
    pub(super) fn on_tick(&mut self, ctx: &mut Context<Self>) {
        let now = Instant::now();
        // While we do not read (the disk is behind), the peer's silence and late blocks are
        // ours, not the peer's.
        let reading = !self.reader.gate.is_closed();
        if reading && self.state.is_silent(now) {
            let limit = self.state.config().silence_timeout;
            return self.fail(ctx, PeerError::Silent(limit));
        }
        if self.have.is_complete() && self.state.peer_pieces().is_complete() {
            return self.close(ctx, DisconnectReason::BothSeeds);
        }
        self.reader.buffers.trim();
        let late = if reading {
            self.state.timed_out_requests(now)
        } else {
            Vec::new()
        };
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
