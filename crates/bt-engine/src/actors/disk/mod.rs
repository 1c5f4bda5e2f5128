//! `DiskWriter`: a torrent's disk I/O and hashing, on a fixed pool of worker threads.
//!
//! # What it owns
//! One [`Storage`] (the torrent's files and their open handles), shared by `Arc` among the
//! workers; `Storage` is `&self`-only and does positional I/O, so workers never wait for each
//! other except for a brief lock around the open-file cache.
//!
//! # Threads
//! [`DiskWriter::start`] starts a `SyncArbiter` of `threads` workers, each a [`DiskWriter`]
//! instance with its own OS thread. Every write, read and hash runs on those threads, never on
//! an async actor's thread (where a piece hash would stall every actor on its Arbiter) and never
//! on uncapped `spawn_blocking` (which spawns scores of threads under a burst). Size the pool to
//! the cores given to hashing: a resume check uses all of them.
//!
//! # Messages in and out
//! In, from `msg`: [`WriteBlock`] → `()`, [`ReadBlock`] → `Bytes`, [`VerifyPiece`] → `bool`,
//! [`CheckPieces`] → the pieces that verify, [`SyncFiles`] → how many files it flushed. Each replies `Result<_, DiskError>`; an I/O error
//! (disk full, permission denied, a path in the way) comes back as [`DiskError::Storage`] and is
//! logged at `warn`, never a panic. The actor sends nothing on its own: the caller decides what
//! an error means for the torrent. [`check_existing`] drives a whole resume check across the
//! pool. See `msg` for the backpressure of each message.
//!
//! # Timers
//! None.
//!
//! # What stops it
//! The workers stop when every `Addr` and `Recipient` of the pool has been dropped (the
//! `SyncArbiter` then closes the queue; messages already queued are still handled), or when the
//! actix `System` stops. A worker finishing a long hash finishes it first.
//!
//! # Logging
//! Each worker enters a `disk` span created by [`DiskWriter::start`] as a child of the span
//! current there (the torrent's span, when the supervisor starts it inside that span).
//!
//! # Layout
//! - `msg`: the messages.
//! - `error`: [`DiskError`].
//! - `check`: [`check_existing`], the parallel resume check.

mod check;
mod error;
pub mod msg;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use actix::{Actor, Addr, Handler, SyncArbiter, SyncContext};
use bt_proto::geometry::PieceIndex;
use bytes::Bytes;
use tracing::{Span, debug, trace, warn};

use crate::actors::census::{ActorCensus, Alive};
use crate::storage::{Storage, StorageError};
pub use check::check_existing;
pub use error::DiskError;
pub use msg::{CheckPieces, ReadBlock, SyncFiles, VerifyPiece, WriteBlock};

/// One worker of a torrent's disk pool; see the module docs. Obtain the pool's address from
/// [`DiskWriter::start`].
#[derive(Debug)]
pub struct DiskWriter {
    /// Shared by every worker of the pool; I/O on it is positional, so no worker waits for
    /// another's I/O.
    storage: Arc<Storage>,
    /// The `disk` span, entered for each message so logs carry the torrent's context.
    span: Span,
    /// Counts this worker in its session's census.
    _alive: Option<Alive>,
}

impl DiskWriter {
    /// Starts `threads` workers (at least one) around `storage` and returns the pool's address.
    /// Must be called inside an actix `System`.
    pub fn start(storage: Storage, threads: usize) -> Addr<DiskWriter> {
        Self::start_counted(storage, threads, None)
    }

    /// [`start`](Self::start), counting each worker in `census` while it exists.
    pub fn start_counted(
        storage: Storage,
        threads: usize,
        census: Option<ActorCensus>,
    ) -> Addr<DiskWriter> {
        let threads = threads.max(1);
        let storage = Arc::new(storage);
        let span = tracing::info_span!("disk", threads);
        span.in_scope(|| debug!(root = %storage.root().display(), "disk workers starting"));
        SyncArbiter::start(threads, move || DiskWriter {
            storage: Arc::clone(&storage),
            span: span.clone(),
            _alive: census
                .as_ref()
                .map(|c| c.enter(crate::actors::census::ActorKind::DiskWriter)),
        })
    }

    /// Logs a failure at `warn` (a disk problem is ours to fix, not a peer's) and wraps it.
    fn fail(&self, what: &str, err: StorageError) -> DiskError {
        warn!(error = %err, "{what} failed");
        DiskError::Storage(err)
    }
}

impl Actor for DiskWriter {
    type Context = SyncContext<Self>;
}

impl Handler<WriteBlock> for DiskWriter {
    type Result = Result<(), DiskError>;

    fn handle(&mut self, msg: WriteBlock, _: &mut SyncContext<Self>) -> Self::Result {
        let _e = self.span.enter();
        trace!(piece = %msg.block.piece, offset = msg.block.offset, len = msg.block.len, "write");
        self.storage
            .write_block(&msg.block, &msg.data)
            .map_err(|e| self.fail("block write", e))
    }
}

impl Handler<ReadBlock> for DiskWriter {
    type Result = Result<Bytes, DiskError>;

    fn handle(&mut self, msg: ReadBlock, _: &mut SyncContext<Self>) -> Self::Result {
        let _e = self.span.enter();
        trace!(piece = %msg.block.piece, offset = msg.block.offset, len = msg.block.len, "read");
        self.storage
            .read_block(&msg.block)
            .map_err(|e| self.fail("block read", e))
    }
}

impl Handler<VerifyPiece> for DiskWriter {
    type Result = Result<bool, DiskError>;

    fn handle(&mut self, msg: VerifyPiece, _: &mut SyncContext<Self>) -> Self::Result {
        let _e = self.span.enter();
        let ok = self
            .storage
            .verify_piece(msg.piece, &msg.expected)
            .map_err(|e| self.fail("piece hash", e))?;
        debug!(piece = %msg.piece, ok, "piece hashed");
        Ok(ok)
    }
}

impl Handler<CheckPieces> for DiskWriter {
    type Result = Result<Vec<PieceIndex>, DiskError>;

    fn handle(&mut self, msg: CheckPieces, _: &mut SyncContext<Self>) -> Self::Result {
        let _e = self.span.enter();
        let good = self
            .storage
            .check_pieces(&msg.pieces)
            .map_err(|e| self.fail("resume check", e))?;
        trace!(
            checked = msg.pieces.len(),
            good = good.len(),
            "chunk checked"
        );
        Ok(good)
    }
}

impl Handler<SyncFiles> for DiskWriter {
    type Result = Result<usize, DiskError>;

    fn handle(&mut self, _: SyncFiles, _: &mut SyncContext<Self>) -> Self::Result {
        let _e = self.span.enter();
        let files = self
            .storage
            .sync()
            .map_err(|e| self.fail("sync to disk", e))?;
        debug!(files, "files synced to disk");
        Ok(files)
    }
}
