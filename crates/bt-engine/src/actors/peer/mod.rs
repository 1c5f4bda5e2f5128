//! `PeerSession`: one per connection, a thin actor around the sans-IO [`PeerState`].
//!
//! # What it owns
//! The socket (a `FramedRead` of [`PeerMessage`]s added as the actor's stream, and a
//! `FrameWriter` that batches frames per turn), the connection's [`PeerState`]
//! (flags, the peer's pieces, our request pipeline, its requests, rates, misbehaviour), our
//! own pieces (to know what we may serve), the queue of the peer's requests waiting for a
//! disk read and a count of blocks being read, and the blocks received in the current turn.
//!
//! # Messages in and out
//! In: the peer's frames; the commands of [`msg`] ([`msg::Choke`], [`msg::Unchoke`] from the
//! choker; [`msg::SetInterest`], [`msg::CancelBlocks`], [`msg::WorkAvailable`],
//! [`msg::ResumeReading`] from the piece manager; [`msg::Have`], [`msg::Disconnect`], [`msg::UpdatePex`] from the supervisor) and
//! the choker's [`msg::GetChokeInfo`].
//!
//! Out (all through [`PeerLinks`]; it names no other actor type):
//! - to the piece manager: `PeerJoined` first, then BITFIELD / HAVE / HAVE ALL events and
//!   released requests (`do_send`); `RequestBlocks` (or `RequestBlocksIn`, for the peer's
//!   suggestions or, while it chokes us, its allowed-fast pieces) when the pipeline has room
//!   (`send().await`, one at a time); the blocks received in a turn, together, in one
//!   `BlocksReceived` at its end (`do_send`); `PeerLeft` last, as the actor stops, after the
//!   blocks it received (same queue, same order).
//! - to the disk pool: `ReadBlock` (`send().await`) for each run of adjacent requests it
//!   serves. Received blocks reach the disk through the piece manager.
//! - to the choker: `PeerJoined`, `InterestChanged`, `PeerLeft` (`do_send`).
//! - to the supervisor: `PeerStatsUpdated` every statistics interval (counters, and whether
//!   the peer is a seed, when either changed), `DiskFailed` if a read fails,
//!   `ExtensionHandshakeReceived` and `PeersDiscovered` (BEP 11, with the seeds it flags)
//!   from the extension protocol, and `PeerDisconnected` with the reason as it stops
//!   (`do_send`).
//!
//! # Extensions
//! Our extension handshake (BEP 10) and allowed-fast set (BEP 6) follow our BITFIELD (or
//! HAVE ALL / HAVE NONE). The peer's metadata requests (BEP 9) are answered from the info
//! dictionary; PEX (BEP 11) goes out at most once per interval when the supervisor sends
//! the torrent's peers; while the peer chokes us, its allowed-fast pieces are still
//! requested; its suggestions are preferred in the next pick (`extensions`).
//!
//! # Backpressure
//! Download: the connection holds no block past the end of the turn that read it, and it
//! receives only what it requested (`max_requests` at most outstanding); it requests more
//! only as the piece manager hands out blocks, which it stops doing while the disk is
//! behind (see the piece manager). The blocks it reads count in the torrent's
//! [`DiskBacklog`](crate::actors::piece_manager::DiskBacklog) until the piece manager has
//! handled them and the disk has written them; when they bring it to its limit, the
//! connection stops reading from its socket (its frame stream is behind a [`ReadGate`])
//! until the piece manager says [`msg::ResumeReading`], so the blocks already requested wait
//! in the kernel rather than in memory. Meanwhile its requests do not time out and the
//! peer is not judged silent.
//! Upload: at most `max_reads_in_flight` blocks being read from disk, and none while more
//! than `write_buffer_limit` bytes wait for the socket. Disk reads start at the end of a
//! turn, so the requests that came in together are read together (adjacent blocks of a piece
//! in one read, see `upload`).
//!
//! # Rate limits
//! Two [`Throttle`]s, one per direction, each the connection's own limit (`peer.*_limit`)
//! and the session's (see [`crate::shaping`]). Upload: a block is read from disk only when
//! the upload throttle has credit. Download: a REQUEST is sent only when the download
//! throttle has credit. Without credit the connection sets a timer for when there will be
//! some, and sends or reads nothing more meanwhile.
//!
//! # Timers
//! A tick (`peer.tick_ms`): request time-outs (CANCEL, released to the piece manager),
//! keep-alives, the silence time-out, asking for work again, and closing a connection where
//! both sides are seeds. A statistics interval for `PeerStatsUpdated`.
//!
//! # What stops it
//! A [`PeerError`] (from the wire, the state machine, a time-out or the socket), the peer
//! hanging up, or [`msg::Disconnect`]. The reason goes to the supervisor in
//! `PeerDisconnected`.
//!
//! # Logging
//! A `peer{addr}` span, child of the torrent's span.
//!
//! # Layout
//! - this module: the actor, its setup and lifecycle.
//! - `handlers`: the commands and the frame stream.
//! - `download`: peer events, requests, received blocks.
//! - `upload`: serving the peer's requests.
//! - `extensions`: BEP 10 handshake, BEP 9 serving, BEP 11 PEX, BEP 6 allowed fast and
//!   suggestions; [`PeerExtensionSetup`].
//! - `writer`: `FrameWriter`.
//! - `links`: [`PeerLinks`]; `handle`: [`PeerHandle`].

mod download;
mod extensions;
pub mod handle;
mod handlers;
mod links;
pub mod msg;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_extensions;
#[cfg(test)]
mod tests_limits;
#[cfg(test)]
mod tests_order;
#[cfg(test)]
mod tests_upload;
#[cfg(test)]
mod tests_work;
mod upload;
mod writer;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use actix::{Actor, ActorContext, ActorFutureExt, Addr, AsyncContext, Context, WrapFuture};
use actix_rt::ArbiterHandle;
use bt_proto::PeerId;
use bt_proto::bitfield::Bitfield;
use bt_proto::geometry::{BlockRef, Lengths};
use bt_proto::wire::{DecoderConfig, PeerMessage};
use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::codec::FramedRead;
use tracing::{Span, debug};

pub use extensions::PeerExtensionSetup;
pub use handle::PeerHandle;
pub use links::{ExtensionLinks, PeerLinks};

use crate::actors::census::Alive;
use crate::actors::choker::msg as choker;
use crate::actors::piece_manager::msg::{PeerJoined, PeerLeft};
use crate::actors::supervisor::msg::{PeerDisconnected, PeerExit, PeerStatsUpdated, PeerTransfer};
use crate::choker::PeerKey;
use crate::config::PeerSettings;
use crate::peer::{
    ExtensionState, Negotiated, PeerCodec, PeerConfig, PeerError, PeerState, ReadBufferPool,
    ReadGate,
};
use crate::shaping::{SessionLimits, Throttle};
use msg::DisconnectReason;
use writer::FrameWriter;

/// The read buffer of a connection: room for several blocks per read system call.
const READ_BUFFER: usize = 256 * 1024;

/// Everything a [`PeerSession`] is built from (the socket aside).
#[derive(Debug)]
pub struct PeerSetup {
    /// The torrent's key for this connection.
    pub key: PeerKey,
    /// The peer's address.
    pub addr: SocketAddr,
    /// The peer's id, from its handshake.
    pub peer_id: PeerId,
    /// The extensions both handshakes announced.
    pub negotiated: Negotiated,
    /// The torrent's geometry.
    pub lengths: Lengths,
    /// The pieces we have now: sent as BITFIELD, and what we may serve.
    pub have: Bitfield,
    /// The protocol state machine's limits.
    pub config: PeerConfig,
    /// The actor's own limits and tick.
    pub settings: PeerSettings,
    /// How often to report counters to the supervisor.
    pub stats_interval: Duration,
    /// The session's rate limits (the connection's own are in `settings`).
    pub limits: SessionLimits,
    /// Where everything goes.
    pub links: PeerLinks,
    /// The torrent's span; the connection's span is its child.
    pub span: Span,
    /// The session's connection slot, released when the connection ends.
    pub permit: Option<OwnedSemaphorePermit>,
    /// Counts the actor in its session's census.
    pub alive: Option<Alive>,
    /// The extension protocol's settings (BEP 6, 9, 10, 11).
    pub extensions: PeerExtensionSetup,
}

/// The read side of a connection, besides the socket: shared by handle with its frame
/// stream.
#[derive(Debug)]
struct Reader {
    /// The read buffers the codec recycles; trimmed on every tick.
    buffers: ReadBufferPool,
    /// Closed while the torrent's disk backlog is full, until `ResumeReading`.
    gate: ReadGate,
}

/// One peer connection; see the module docs.
#[derive(Debug)]
pub struct PeerSession {
    key: PeerKey,
    /// The peer's address (for an incoming connection, its ephemeral port).
    addr: SocketAddr,
    state: PeerState,
    /// The BEP 10 side: handshakes, metadata served, PEX.
    extensions: ExtensionState,
    extension_setup: PeerExtensionSetup,
    /// Our pieces: what we may serve.
    have: Bitfield,
    writer: FrameWriter,
    /// The read side's buffers and gate.
    reader: Reader,
    links: PeerLinks,
    settings: PeerSettings,
    stats_interval: Duration,
    /// A `RequestBlocks` is in flight.
    asking: bool,
    /// A `WorkAvailable` came while `asking`: the answer may be the refusal it follows, so
    /// ask again once the answer is in.
    work_announced: bool,
    /// Blocks the piece manager picked for this peer that are not requested yet: a reserve
    /// so the pipeline need not wait for the piece manager (see `download`).
    picked: VecDeque<BlockRef>,
    /// Blocks received in this turn, for the piece manager at its end.
    received: Vec<(BlockRef, Bytes)>,
    /// `received` goes to the piece manager at the end of this turn.
    blocks_scheduled: bool,
    /// The peer's requests waiting for a disk read, oldest first.
    uploads: VecDeque<BlockRef>,
    /// Blocks being read from disk (adjacent ones share one read).
    reading: usize,
    /// Disk reads start at the end of this turn.
    uploads_scheduled: bool,
    /// Limits what we upload: blocks are read for the peer only with credit.
    upload_throttle: Throttle,
    /// Limits what we download: REQUESTs are sent only with credit.
    download_throttle: Throttle,
    /// Uploads wait for credit; a timer resumes them.
    upload_waiting: bool,
    /// Requests wait for credit; a timer resumes them.
    download_waiting: bool,
    /// The counters and seed status last reported, so an idle connection reports nothing.
    reported: (PeerTransfer, bool),
    /// Why the connection ends, once known.
    exit: Option<PeerExit>,
    span: Span,
    _permit: Option<OwnedSemaphorePermit>,
    _alive: Option<Alive>,
}

impl PeerSession {
    /// Starts a connection's actor on `arbiter`, moving `stream` there (it must be a
    /// non-blocking socket detached from its runtime with `into_std`). The address is valid
    /// at once, so the caller can register the connection before the actor runs.
    pub fn start_in(
        arbiter: &ArbiterHandle,
        stream: std::net::TcpStream,
        setup: PeerSetup,
    ) -> Addr<PeerSession> {
        PeerSession::start_in_arbiter(arbiter, move |ctx| {
            let reader = Reader {
                buffers: ReadBufferPool::new(READ_BUFFER),
                gate: ReadGate::new(),
            };
            let (writer, failure) = match attach(stream, &setup, &reader, ctx) {
                Ok(half) => (FrameWriter::new(Some(half)), None),
                Err(e) => (FrameWriter::new(None), Some(PeerExit::Error(e))),
            };
            PeerSession::new(setup, writer, reader, failure)
        })
    }

    fn new(setup: PeerSetup, writer: FrameWriter, reader: Reader, exit: Option<PeerExit>) -> Self {
        let span = tracing::debug_span!(parent: &setup.span, "peer", addr = %setup.addr);
        let now = Instant::now();
        let upload_throttle = Throttle::new(setup.settings.upload_limit, setup.limits.upload, now);
        let download_throttle =
            Throttle::new(setup.settings.download_limit, setup.limits.download, now);
        Self {
            key: setup.key,
            addr: setup.addr,
            state: PeerState::new(setup.lengths, setup.negotiated, setup.config, now),
            extensions: setup.extensions.state(),
            extension_setup: setup.extensions,
            have: setup.have,
            writer,
            reader,
            links: setup.links,
            settings: setup.settings,
            stats_interval: setup.stats_interval,
            asking: false,
            work_announced: false,
            picked: VecDeque::new(),
            received: Vec::new(),
            blocks_scheduled: false,
            uploads: VecDeque::new(),
            reading: 0,
            uploads_scheduled: false,
            upload_throttle,
            download_throttle,
            upload_waiting: false,
            download_waiting: false,
            reported: (PeerTransfer::default(), false),
            exit,
            span,
            _permit: setup.permit,
            _alive: setup.alive,
        }
    }

    /// Queues a frame; a frame we cannot encode ends the connection.
    fn send(&mut self, ctx: &mut Context<Self>, message: PeerMessage) {
        if let Err(e) = self.writer.message(message) {
            self.fail(ctx, e);
        }
    }

    /// Ends the connection because of `error` (the first reason wins).
    fn fail(&mut self, ctx: &mut Context<Self>, error: PeerError) {
        self.exit.get_or_insert(PeerExit::Error(error));
        ctx.stop();
    }

    /// Ends the connection on our own initiative.
    fn close(&mut self, ctx: &mut Context<Self>, reason: DisconnectReason) {
        self.exit.get_or_insert(PeerExit::Closed(reason));
        ctx.stop();
    }

    /// Schedules a write of everything queued, after the rest of this turn.
    fn flush(&mut self, ctx: &mut Context<Self>) {
        if self.writer.scheduled || !self.writer.ready() {
            return;
        }
        self.writer.scheduled = true;
        ctx.spawn(actix::fut::ready(()).map(|(), act: &mut Self, ctx| {
            act.writer.scheduled = false;
            act.write_batch(ctx);
        }));
    }

    /// Writes one batch; on completion, the next batch and more uploads.
    fn write_batch(&mut self, ctx: &mut Context<Self>) {
        let Some((mut half, batch)) = self.writer.take_batch() else {
            return;
        };
        let write = async move {
            let result = half.write_all(&batch).await;
            (half, result)
        };
        ctx.spawn(write.into_actor(self).map(|(half, result), act, ctx| {
            act.writer.finish(half);
            match result {
                Ok(()) => {
                    act.state.note_sent(Instant::now());
                    act.pump_uploads(ctx);
                    act.flush(ctx);
                }
                Err(e) => act.fail(ctx, PeerError::Io(e)),
            }
        }));
    }

    /// The counters now.
    fn transfer(&self, now: Instant) -> PeerTransfer {
        let stats = self.state.stats();
        PeerTransfer {
            downloaded: stats.downloaded,
            uploaded: stats.uploaded,
            download_rate: self.state.download_rate(now),
            upload_rate: self.state.upload_rate(now),
        }
    }

    /// Reports the counters, and whether the peer is a seed, if either changed.
    fn report_stats(&mut self) {
        let transfer = self.transfer(Instant::now());
        let seed = self.state.peer_pieces().is_complete();
        if (transfer, seed) != self.reported {
            self.reported = (transfer, seed);
            let key = self.key;
            self.links.stats.do_send(PeerStatsUpdated {
                key,
                transfer,
                seed,
            });
        }
    }

    /// Registers with the piece manager and the choker (before any other message to them).
    fn register(&self, ctx: &mut Context<Self>) {
        let me = ctx.address();
        self.links.manager.joined.do_send(PeerJoined {
            key: self.key,
            interest: me.clone().recipient(),
            cancel: me.clone().recipient(),
            work: me.clone().recipient(),
            resume: me.clone().recipient(),
        });
        self.links.choker_joined.do_send(choker::PeerJoined {
            key: self.key,
            choke: me.clone().recipient(),
            unchoke: me.clone().recipient(),
            info: me.recipient(),
        });
    }

    /// Our first message: what we have (BEP 3 BITFIELD, or BEP 6 HAVE ALL / HAVE NONE).
    fn announce_pieces(&mut self, ctx: &mut Context<Self>) {
        let fast = self.state.negotiated().fast;
        let message = if fast && self.have.is_complete() {
            Some(PeerMessage::HaveAll)
        } else if fast && self.have.none() {
            Some(PeerMessage::HaveNone)
        } else if self.have.none() {
            None
        } else {
            Some(PeerMessage::Bitfield(self.have.to_bytes().into()))
        };
        if let Some(message) = message {
            self.send(ctx, message);
        }
    }
}

/// Registers `stream` with the current Arbiter's runtime, splits it, and adds the read half
/// as the actor's stream; returns the write half.
fn attach(
    stream: std::net::TcpStream,
    setup: &PeerSetup,
    reader: &Reader,
    ctx: &mut Context<PeerSession>,
) -> Result<tokio::net::tcp::OwnedWriteHalf, PeerError> {
    let stream = tokio::net::TcpStream::from_std(stream)?;
    // Requests and HAVEs are small and latency-bound; batching is ours to do.
    stream.set_nodelay(true)?;
    let (read, write) = stream.into_split();
    let codec = PeerCodec::new(DecoderConfig {
        piece_count: Some(setup.lengths.piece_count()),
        ..DecoderConfig::default()
    })
    .with_read_buffers(reader.buffers.clone());
    let frames = FramedRead::with_capacity(read, codec, READ_BUFFER);
    ctx.add_stream(reader.gate.wrap(frames));
    Ok(write)
}

impl Actor for PeerSession {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        if self.exit.is_some() {
            ctx.stop();
            return;
        }
        debug!(parent: &self.span, key = self.key.0, "peer connected");
        self.register(ctx);
        self.announce_pieces(ctx);
        self.start_extensions(ctx);
        self.flush(ctx);
        ctx.run_interval(self.settings.tick(), |act, ctx| act.on_tick(ctx));
        ctx.run_interval(self.stats_interval, |act, _| act.report_stats());
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        let exit = self
            .exit
            .take()
            .unwrap_or(PeerExit::Closed(DisconnectReason::TorrentStopping));
        debug!(parent: &self.span, reason = %exit, "peer disconnected");
        // The blocks received last, then `PeerLeft`: one queue, so in this order.
        self.hand_over_blocks();
        self.links.manager.left.do_send(PeerLeft { key: self.key });
        self.links
            .choker_left
            .do_send(choker::PeerLeft { key: self.key });
        let transfer = self.transfer(Instant::now());
        self.links.disconnected.do_send(PeerDisconnected {
            key: self.key,
            exit,
            transfer,
        });
    }
}
