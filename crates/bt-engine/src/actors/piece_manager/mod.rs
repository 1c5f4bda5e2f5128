//! `PieceManager`: one per torrent; decides which blocks each connection requests, keeps the
//! blocks received until their piece is complete, and decides what becomes of each piece.
//!
//! # What it owns
//! The torrent's [`PiecePicker`] (a [`StandardPicker`](crate::picker::StandardPicker) behind
//! the trait): our pieces, every peer's pieces and the availability counts, the pieces in
//! flight block by block, strikes and bans. Besides, the received blocks of the pieces in
//! flight (`assembly`): in memory up to the buffer limit, each piece then hashed from memory
//! and written in one go; beyond it, written block by block and hashed by reading back.
//!
//! # Messages in and out
//! In ([`msg`]), from the connections: [`msg::PeerJoined`],
//! [`msg::BitfieldReceived`], [`msg::HaveReceived`],
//! [`msg::HaveAllReceived`], [`msg::PeerLeft`],
//! [`msg::RequestBlocks`] and [`msg::RequestBlocksIn`] → blocks, [`msg::BlocksReceived`],
//! [`msg::RequestsReleased`]; from the supervisor: [`msg::Shutdown`].
//!
//! Out: to each connection's recipients, `SetInterest` (after any event that changes what a
//! peer can give us) and `CancelBlocks` (endgame copies that arrived elsewhere), by
//! `do_send`, `WorkAvailable` to a connection that got no blocks once there may be some, and
//! `ResumeReading` to every connection once the disk caught up after one stopped reading;
//! to the disk pool, by `send().await`: `StorePiece` (a complete piece kept in
//! memory: hashed, written if good), or `WriteBlock` (a block of a piece written through) and
//! `VerifyPiece` (such a piece once its last write is done); to the supervisor,
//! `PieceVerified`, `PieceFailed` (with the peers to ban) and `DiskFailed`, by `do_send`. It
//! never names the connection or supervisor types.
//!
//! # Backpressure
//! While 8 MiB (`disk_backlog`, or two pieces) are on their way to disk (pieces to store, blocks to write),
//! [`msg::RequestBlocks`] and [`msg::RequestBlocksIn`] hand out nothing. The same bytes, with
//! the blocks handed over and not handled yet, make the torrent's [`DiskBacklog`], which the
//! connections count too, each block as they read it: one whose block brings it to 8 MiB
//! stops reading its socket, so
//! the blocks already requested wait in the kernel, not here (nor in this actor's mailbox),
//! until half of that is written and it is told `ResumeReading`. So a slow disk (or a slow
//! piece manager) slows the peers, and memory holds no more than the pieces being received
//! plus that; the connections refused are told `WorkAvailable` once the disk catches up.
//! The buffer limit caps the memory of pieces being received (pieces left partial by
//! departed peers included).
//!
//! # Timers
//! None: connections ask for work when their pipelines have room.
//!
//! # What stops it
//! [`msg::Shutdown`] from the supervisor.
//!
//! # Layout
//! - this module: the actor, its setup and links.
//! - `handlers`: the messages.
//! - `pieces`: received blocks to disk, and the fate of each hashed piece.
//! - `assembly`: [`assembly::Assembly`], the blocks of each piece in flight.
//! - `backlog`: [`DiskBacklog`], counted with the connections.

mod assembly;
mod backlog;
mod handlers;
pub mod msg;
mod pieces;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_peers;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use actix::{Actor, Addr, Context, Handler, Recipient};
use bt_proto::geometry::{BlockRef, Lengths};
use tracing::{Span, debug, trace};

use crate::actors::census::Alive;
use crate::actors::disk::{StorePiece, VerifyPiece, WriteBlock};
use crate::actors::peer::msg::{CancelBlocks, ResumeReading, SetInterest, WorkAvailable};
use crate::actors::supervisor::msg::{DiskFailed, PieceFailed, PieceVerified};
use crate::choker::PeerKey;
use crate::picker::PiecePicker;
use assembly::Assembly;
pub use assembly::DEFAULT_DISK_BACKLOG;
pub use backlog::DiskBacklog;
use msg::{
    BitfieldReceived, BlocksReceived, HaveAllReceived, HaveReceived, PeerJoined, PeerLeft,
    RequestBlocks, RequestBlocksIn, RequestsReleased,
};

/// The default of [`PieceManagerSetup::buffer_limit`]: 32 MiB, every piece in flight of a
/// torrent with pieces up to 1 MiB (the picker's default cap is 32 pieces).
pub const DEFAULT_BUFFER_LIMIT: u64 = 32 << 20;

/// Where the piece manager's results go: the disk pool and the supervisor.
#[derive(Debug, Clone)]
pub struct PieceManagerOutputs {
    /// Hashes complete pieces kept in memory, and writes them.
    pub store: Recipient<StorePiece>,
    /// Writes the blocks of pieces not kept in memory.
    pub write: Recipient<WriteBlock>,
    /// Hashes complete pieces written block by block, reading them back.
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
    /// The torrent's geometry.
    pub lengths: Lengths,
    /// Bytes of pieces kept in memory until complete (see the module docs); 0 writes every
    /// block through. [`DEFAULT_BUFFER_LIMIT`] unless configured.
    pub buffer_limit: u64,
    /// Counted with the connections, which are given the same ([`disk_backlog`]); its limit
    /// is also the one from which no more blocks are handed out.
    pub backlog: DiskBacklog,
    /// Where results go.
    pub outputs: PieceManagerOutputs,
    /// The torrent's span.
    pub span: Span,
    /// Counts the actor in its session's census.
    pub alive: Option<Alive>,
}

/// The [`DiskBacklog`] for a torrent of `lengths`, to share between its piece manager and
/// its connections: connections stop reading at `bytes` (the setting `disk_backlog`, or two
/// pieces if that is more) not yet handled or on their way to disk, the mark from which the
/// piece manager hands out no more blocks.
pub fn disk_backlog(lengths: &Lengths, bytes: u64) -> DiskBacklog {
    DiskBacklog::new(assembly::backlog_limit(lengths, bytes))
}

/// How a connection talks to the piece manager (the real one or a stub): its recipients and
/// the backlog they count together; see [`PieceManagerLink::of`].
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
    /// [`BlocksReceived`].
    pub received: Recipient<BlocksReceived>,
    /// [`RequestsReleased`].
    pub released: Recipient<RequestsReleased>,
    /// Counted with the piece manager: the connection adds each block it reads, and
    /// stops reading while it is full.
    pub backlog: DiskBacklog,
}

impl PieceManagerLink {
    /// The link to any actor that handles the piece manager's connection messages, sharing
    /// `backlog` with it (the one in its [`PieceManagerSetup`], for the real one).
    pub fn of<A>(actor: &Addr<A>, backlog: DiskBacklog) -> Self
    where
        A: Actor<Context = Context<A>>
            + Handler<PeerJoined>
            + Handler<BitfieldReceived>
            + Handler<HaveReceived>
            + Handler<HaveAllReceived>
            + Handler<PeerLeft>
            + Handler<RequestBlocks>
            + Handler<RequestBlocksIn>
            + Handler<BlocksReceived>
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
            released: actor.clone().recipient(),
            backlog,
        }
    }
}

/// A connection's recipients, from its [`PeerJoined`].
#[derive(Debug)]
struct PeerLinks {
    interest: Recipient<SetInterest>,
    cancel: Recipient<CancelBlocks>,
    work: Recipient<WorkAvailable>,
    resume: Recipient<ResumeReading>,
}

/// The torrent's piece manager; see the module docs.
#[derive(Debug)]
pub struct PieceManager {
    picker: Box<dyn PiecePicker>,
    hashes: Arc<[[u8; 20]]>,
    outputs: PieceManagerOutputs,
    peers: HashMap<PeerKey, PeerLinks>,
    /// The received blocks of the pieces in flight.
    assembly: Assembly,
    /// Shared with the connections: blocks not handled yet and bytes on their way to disk.
    backlog: DiskBacklog,
    /// Connections whose last `RequestBlocks` got nothing: told `WorkAvailable` when a piece
    /// leaves the disk's way or blocks are released, so they need not wait for their tick.
    starved: HashSet<PeerKey>,
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
            assembly: Assembly::new(setup.lengths, setup.buffer_limit, setup.backlog.limit()),
            backlog: setup.backlog,
            starved: HashSet::new(),
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

    /// Tells the connections that got no blocks that there may be some now, unless the
    /// disk is still behind.
    fn feed_starved(&mut self) {
        if self.assembly.is_backlogged() {
            return;
        }
        for key in self.starved.drain() {
            if let Some(links) = self.peers.get(&key) {
                links.work.do_send(WorkAvailable);
            }
        }
    }

    /// Brings the shared [`DiskBacklog`] up to date after the assembly's bytes on their way
    /// to disk went from `before` to what they are now, `handled` bytes of received blocks
    /// having been handled meanwhile; tells the connections that stopped reading to read
    /// again once the backlog is down to half.
    fn update_backlog(&mut self, before: u64, handled: u64) {
        let after = self.assembly.to_disk();
        let (counted, freed) = (after, before + handled);
        if counted >= freed {
            self.backlog.add(counted - freed);
        } else if self.backlog.release(freed - counted) {
            trace!(parent: &self.span, "connections told to read again");
            for links in self.peers.values() {
                links.resume.do_send(ResumeReading);
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
