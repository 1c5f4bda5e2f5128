//! The upload side of a [`PeerSession`]: reading the peer's requested blocks from disk and
//! sending them, a few reads at a time, only while the write buffer is short and the upload
//! throttle has credit. Adjacent requests are read from disk together (up to
//! [`MAX_READ_RUN`] blocks in one read).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use actix::{ActorFutureExt, AsyncContext, Context, WrapFuture};
use bt_proto::geometry::BlockRef;
use bytes::Bytes;
use tracing::debug;

use super::PeerSession;
use crate::actors::disk::{DiskError, ReadBlock};
use crate::actors::supervisor::msg::DiskFailed;

/// The most adjacent requested blocks read from disk with one read: one hand-off to a disk
/// thread and one system call for up to 256 KiB instead of one per 16 KiB block.
const MAX_READ_RUN: usize = 16;

impl PeerSession {
    /// Starts disk reads for queued requests, up to the limits. A request for a piece we do
    /// not have is rejected (BEP 6) or dropped. Adjacent requests of one piece (a peer
    /// usually asks for a piece's blocks in order) are read together, as one range.
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
            let room = (self.settings.max_reads_in_flight - self.reading).min(MAX_READ_RUN);
            let run = adjacent_run(&self.uploads, room);
            let allowed = self.upload_allowance(ctx, run);
            if allowed.is_empty() {
                return;
            }
            self.uploads.drain(..allowed.len());
            self.reading += allowed.len();
            self.read_run(ctx, allowed);
        }
    }

    /// Starts disk reads after the rest of this turn (every message and frame read in it), so
    /// that the requests that came in one read from the socket are read from disk together.
    pub(super) fn schedule_uploads(&mut self, ctx: &mut Context<Self>) {
        if self.uploads_scheduled || self.uploads.is_empty() {
            return;
        }
        self.uploads_scheduled = true;
        ctx.spawn(actix::fut::ready(()).map(|(), act: &mut Self, ctx| {
            act.uploads_scheduled = false;
            act.pump_uploads(ctx);
            act.flush(ctx);
        }));
    }

    /// The blocks of `run` the upload throttle lets us read now, charged to it; when it runs
    /// dry, a timer resumes uploading once it has credit.
    fn upload_allowance(&mut self, ctx: &mut Context<Self>, run: Vec<BlockRef>) -> Vec<BlockRef> {
        if self.upload_throttle.is_unlimited() {
            return run;
        }
        let now = Instant::now();
        let mut allowed = Vec::with_capacity(run.len());
        for block in run {
            if let Err(wait) = self.upload_throttle.try_take(u64::from(block.len), now) {
                self.wait_for_upload_credit(ctx, wait);
                break;
            }
            allowed.push(block);
        }
        allowed
    }

    /// Reads adjacent blocks of one piece with one disk read, then sends each.
    fn read_run(&mut self, ctx: &mut Context<Self>, run: Vec<BlockRef>) {
        let Some(span) = span_of(&run) else {
            return;
        };
        let read = self.links.read.send(ReadBlock { block: span });
        ctx.spawn(read.into_actor(self).map(move |result, act, ctx| {
            act.reading -= run.len();
            let result = result.map_err(DiskError::from).and_then(|r| r);
            match result {
                Ok(data) => {
                    for block in run {
                        let start = (block.offset - span.offset) as usize;
                        let slice = data.slice(start..start + block.len as usize);
                        act.on_read(ctx, block, slice);
                    }
                }
                Err(error) => act.on_read_failed(ctx, &run, error),
            }
            act.pump_uploads(ctx);
            act.flush(ctx);
        }));
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
    fn on_read(&mut self, ctx: &mut Context<Self>, block: BlockRef, data: Bytes) {
        if let Some(outgoing) = self.state.take_upload(block, data, Instant::now())
            && let Err(e) = self.writer.block(outgoing)
        {
            self.fail(ctx, e);
        }
    }

    /// A read failed: its blocks are rejected (BEP 6) or dropped, and the supervisor hears
    /// of the error once.
    fn on_read_failed(&mut self, ctx: &mut Context<Self>, run: &[BlockRef], error: DiskError) {
        debug!(parent: &self.span, %error, blocks = run.len(), "read for upload failed");
        for block in run {
            if let Some(reject) = self.state.reject_request(*block) {
                self.send(ctx, reject);
            }
        }
        self.links.disk_failed.do_send(DiskFailed { error });
    }
}

/// The queued requests from the front that follow each other without a gap in one piece, at
/// most `max` of them (at least the first, if any).
fn adjacent_run(queue: &VecDeque<BlockRef>, max: usize) -> Vec<BlockRef> {
    let mut run: Vec<BlockRef> = Vec::new();
    for &block in queue.iter().take(max.max(1)) {
        if let Some(last) = run.last()
            && (block.piece != last.piece || block.offset != last.offset + last.len)
        {
            break;
        }
        run.push(block);
    }
    run
}

/// The range a run of adjacent blocks covers, as one `BlockRef`.
fn span_of(run: &[BlockRef]) -> Option<BlockRef> {
    let first = run.first()?;
    let last = run.last()?;
    Some(BlockRef {
        piece: first.piece,
        offset: first.offset,
        len: last.offset + last.len - first.offset,
    })
}

#[cfg(test)]
mod tests {
    use bt_proto::geometry::Lengths;

    use super::*;

    fn blocks(lengths: &Lengths, piece: u32, indices: &[u32]) -> Vec<BlockRef> {
        let piece = lengths.piece(piece).unwrap();
        indices
            .iter()
            .map(|&i| lengths.block(piece, i).unwrap())
            .collect()
    }

    #[test]
    fn a_run_is_adjacent_blocks_of_one_piece_up_to_the_limit() {
        let lengths = Lengths::new(10 * 65_536, 65_536).unwrap();
        let mut queue: VecDeque<BlockRef> = blocks(&lengths, 1, &[0, 1, 2]).into();
        queue.extend(blocks(&lengths, 2, &[3]));
        assert_eq!(adjacent_run(&queue, 16), blocks(&lengths, 1, &[0, 1, 2]));
        assert_eq!(adjacent_run(&queue, 2), blocks(&lengths, 1, &[0, 1]));
        let gap: VecDeque<BlockRef> = blocks(&lengths, 1, &[0, 2, 3]).into();
        assert_eq!(adjacent_run(&gap, 16), blocks(&lengths, 1, &[0]));
        let next_piece: VecDeque<BlockRef> = blocks(&lengths, 1, &[3])
            .into_iter()
            .chain(blocks(&lengths, 2, &[0]))
            .collect();
        assert_eq!(
            adjacent_run(&next_piece, 16).len(),
            1,
            "a run stays in its piece"
        );
        assert!(adjacent_run(&VecDeque::new(), 16).is_empty());
    }

    #[test]
    fn the_span_of_a_run_covers_its_blocks() {
        let lengths = Lengths::new(10 * 65_536, 65_536).unwrap();
        let run = blocks(&lengths, 3, &[1, 2, 3]);
        let span = span_of(&run).unwrap();
        assert_eq!(
            (span.piece, span.offset, span.len),
            (run[0].piece, 16_384, 49_152)
        );
        assert_eq!(span_of(&[]), None);
    }
}
