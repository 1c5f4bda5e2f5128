//! The upload side of a [`PeerSession`]: reading the peer's requested blocks from disk and
//! sending them, a few reads at a time, only while the write buffer is short.

use std::time::Instant;

use actix::{ActorFutureExt, AsyncContext, Context, WrapFuture};
use bt_proto::geometry::BlockRef;
use bytes::Bytes;
use tracing::debug;

use super::PeerSession;
use crate::actors::disk::{DiskError, ReadBlock};
use crate::actors::supervisor::msg::DiskFailed;

impl PeerSession {
    /// Starts disk reads for queued requests, up to the limits. A request for a piece we do
    /// not have is rejected (BEP 6) or dropped.
    pub(super) fn pump_uploads(&mut self, ctx: &mut Context<Self>) {
        while self.reading < self.settings.max_reads_in_flight
            && self.writer.pending() < self.settings.write_buffer_limit
        {
            let Some(block) = self.uploads.pop_front() else {
                return;
            };
            if !self.have.has(block.piece.as_usize()) {
                if let Some(reject) = self.state.reject_request(block) {
                    self.send(ctx, reject);
                }
                continue;
            }
            self.reading += 1;
            let read = self.links.read.send(ReadBlock { block });
            ctx.spawn(read.into_actor(self).map(move |result, act, ctx| {
                act.reading -= 1;
                let result = result.map_err(DiskError::from).and_then(|r| r);
                act.on_read(ctx, block, result);
            }));
        }
    }

    /// Sends a block read from disk, if the peer still wants it.
    fn on_read(
        &mut self,
        ctx: &mut Context<Self>,
        block: BlockRef,
        read: Result<Bytes, DiskError>,
    ) {
        match read {
            Ok(data) => {
                if let Some(outgoing) = self.state.take_upload(block, data, Instant::now())
                    && let Err(e) = self.writer.block(outgoing)
                {
                    return self.fail(ctx, e);
                }
            }
            Err(error) => {
                debug!(parent: &self.span, %error, "read for upload failed");
                if let Some(reject) = self.state.reject_request(block) {
                    self.send(ctx, reject);
                }
                self.links.disk_failed.do_send(DiskFailed { error });
            }
        }
        self.pump_uploads(ctx);
        self.flush(ctx);
    }
}
