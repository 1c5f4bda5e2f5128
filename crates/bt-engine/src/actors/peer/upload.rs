//! The upload side of a [`PeerSession`]: reading the peer's requested blocks from disk and
//! sending them, a few reads at a time, only while the write buffer is short and the upload
//! throttle has credit.

use std::time::{Duration, Instant};

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
            && !self.upload_waiting
        {
            let Some(&block) = self.uploads.front() else {
                return;
            };
            if !self.have.has(block.piece.as_usize()) {
                self.uploads.pop_front();
                if let Some(reject) = self.state.reject_request(block) {
                    self.send(ctx, reject);
                }
                continue;
            }
            if !self.upload_throttle.is_unlimited()
                && let Err(wait) = self
                    .upload_throttle
                    .try_take(u64::from(block.len), Instant::now())
            {
                self.wait_for_upload_credit(ctx, wait);
                return;
            }
            self.uploads.pop_front();
            self.reading += 1;
            let read = self.links.read.send(ReadBlock { block });
            ctx.spawn(read.into_actor(self).map(move |result, act, ctx| {
                act.reading -= 1;
                let result = result.map_err(DiskError::from).and_then(|r| r);
                act.on_read(ctx, block, result);
            }));
        }
    }

    /// Resumes uploading once the throttle has credit again.
    fn wait_for_upload_credit(&mut self, ctx: &mut Context<Self>, wait: Duration) {
        self.upload_waiting = true;
        ctx.run_later(wait, |act, ctx| {
            act.upload_waiting = false;
            act.pump_uploads(ctx);
            act.flush(ctx);
        });
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
