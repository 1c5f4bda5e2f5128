//! [`PeerState`]: the protocol state machine of one connection, without I/O or clocks.
//!
//! It holds the four choke/interest flags, the peer's pieces, our outstanding requests (the
//! [pipeline](super::pipeline)), the peer's requests queued with us, the rate meters, counters
//! and timers. Time is always an argument, so tests drive it with made-up `Instant`s.
//!
//! - Incoming: [`PeerState::on_message`] checks each message against the protocol rules and
//!   the torrent's geometry and returns [`PeerEvent`](super::PeerEvent)s (`incoming.rs`).
//! - Outgoing: methods that update the state and return the [`PeerMessage`]s to send
//!   (`outgoing.rs`).
//! - BEP 6 allowed-fast sets and suggestions (`fast.rs`).
//! - Timers: [`PeerState::timed_out_requests`], [`PeerState::keep_alive`],
//!   [`PeerState::is_silent`], [`PeerState::is_snubbed`], polled by the actor's interval.

mod fast;
mod incoming;
mod outgoing;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests_fast;
#[cfg(test)]
mod tests_incoming;
#[cfg(test)]
mod tests_outgoing;
#[cfg(test)]
mod tests_proptest;

use std::time::{Duration, Instant};

use bt_proto::bitfield::Bitfield;
use bt_proto::geometry::{BlockRef, Lengths};
use bt_proto::wire::{BlockRequest, PeerMessage, Reserved};

use super::pipeline::Pipeline;
use super::{PeerConfig, PeerError, RateMeter};
use fast::FastSets;

/// The extensions both handshakes announced; a message of any other extension is a protocol
/// error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Negotiated {
    /// BEP 6: HAVE ALL/NONE, SUGGEST, REJECT, ALLOWED FAST; a choke no longer drops requests.
    pub fast: bool,
    /// BEP 10: EXTENDED messages.
    pub extension_protocol: bool,
}

impl Negotiated {
    /// What both reserved fields announce.
    pub fn new(ours: Reserved, theirs: Reserved) -> Self {
        Self {
            fast: ours.fast() && theirs.fast(),
            extension_protocol: ours.extension_protocol() && theirs.extension_protocol(),
        }
    }
}

/// Counters of one connection, for statistics and the choker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PeerStats {
    /// Payload bytes of blocks we requested and got.
    pub downloaded: u64,
    /// Payload bytes of blocks we sent.
    pub uploaded: u64,
    /// Payload bytes received that we could not use (late or unrequested blocks): the cost of
    /// cancels and timeouts.
    pub wasted: u64,
    /// Blocks that came after we cancelled or gave up on them.
    pub late_blocks: u64,
    /// Blocks we never asked for.
    pub unrequested_blocks: u64,
    /// Requests we dropped because we choke the peer (BEP 3: a race, not an offence).
    pub ignored_requests: u64,
    /// Our requests that timed out.
    pub timed_out_requests: u64,
    /// Messages with ids we do not know.
    pub unknown_messages: u32,
}

/// The protocol state of one peer connection; see the module docs.
#[derive(Debug, Clone)]
pub struct PeerState {
    /// Limits and timeouts.
    config: PeerConfig,
    /// The torrent's geometry: every index and range the peer sends is checked against it.
    lengths: Lengths,
    /// Which extension messages are legal.
    negotiated: Negotiated,
    /// We refuse the peer's requests (BEP 3: connections start choked).
    am_choking: bool,
    /// We told the peer we want pieces it has.
    am_interested: bool,
    /// The peer refuses our requests.
    peer_choking: bool,
    /// The peer wants pieces we have.
    peer_interested: bool,
    /// The pieces the peer announced.
    peer_pieces: Bitfield,
    /// A message other than keep-alive, extended or port has arrived, so BITFIELD and HAVE
    /// ALL/NONE are no longer allowed.
    past_first_message: bool,
    /// Our requests to the peer.
    pipeline: Pipeline,
    /// The peer's requests waiting for us, oldest first; capped by `max_peer_requests`.
    peer_requests: Vec<BlockRef>,
    /// Counters.
    stats: PeerStats,
    /// Download rate (every payload byte the peer sent), averaged as the choker wants.
    down: RateMeter,
    /// Upload rate, averaged as the choker wants.
    up: RateMeter,
    /// Misbehaviour points so far.
    misbehaviour: u32,
    /// When the connection was set up: new peers get a head start with the choker.
    connected_at: Instant,
    /// Last time anything arrived: for the silence timeout.
    last_received: Instant,
    /// Last time we wrote anything: for keep-alives.
    last_sent: Instant,
    /// Last time a requested (or late) block arrived.
    last_block: Option<Instant>,
    /// Since when we have been waiting for a block without getting one (requests outstanding
    /// or timed out); `None` when we expect nothing. Drives the snubbed flag.
    waiting_since: Option<Instant>,
    /// BEP 6 allowed-fast pieces both ways, and the peer's suggestions (`fast.rs`).
    fast: FastSets,
}

impl PeerState {
    /// The state right after the handshake at `now`: both sides choked and not interested,
    /// the peer has nothing.
    pub fn new(lengths: Lengths, negotiated: Negotiated, config: PeerConfig, now: Instant) -> Self {
        Self {
            pipeline: Pipeline::new(&config),
            down: RateMeter::new(config.rate_window),
            up: RateMeter::new(config.rate_window),
            peer_pieces: Bitfield::new(lengths.piece_count() as usize),
            config,
            lengths,
            negotiated,
            am_choking: true,
            am_interested: false,
            peer_choking: true,
            peer_interested: false,
            past_first_message: false,
            peer_requests: Vec::new(),
            stats: PeerStats::default(),
            misbehaviour: 0,
            connected_at: now,
            last_received: now,
            last_sent: now,
            last_block: None,
            waiting_since: None,
            fast: FastSets::default(),
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &PeerConfig {
        &self.config
    }

    /// The extensions both sides speak.
    pub fn negotiated(&self) -> Negotiated {
        self.negotiated
    }

    /// Whether we choke the peer.
    pub fn am_choking(&self) -> bool {
        self.am_choking
    }

    /// Whether we told the peer we are interested.
    pub fn am_interested(&self) -> bool {
        self.am_interested
    }

    /// Whether the peer chokes us.
    pub fn peer_choking(&self) -> bool {
        self.peer_choking
    }

    /// Whether the peer is interested in us.
    pub fn peer_interested(&self) -> bool {
        self.peer_interested
    }

    /// The pieces the peer has announced.
    pub fn peer_pieces(&self) -> &Bitfield {
        &self.peer_pieces
    }

    /// Counters so far.
    pub fn stats(&self) -> &PeerStats {
        &self.stats
    }

    /// Misbehaviour points so far.
    pub fn misbehaviour(&self) -> u32 {
        self.misbehaviour
    }

    /// Adds misbehaviour points (the actor's own findings, such as a piece from this peer that
    /// failed its hash); fails once the score reaches the limit.
    pub fn penalize(&mut self, points: u32) -> Result<(), PeerError> {
        self.misbehaviour = self.misbehaviour.saturating_add(points);
        if self.misbehaviour >= self.config.misbehaviour_limit {
            return Err(PeerError::Misbehaving {
                score: self.misbehaviour,
                limit: self.config.misbehaviour_limit,
            });
        }
        Ok(())
    }

    /// Payload bytes per second from the peer over the rate window (for the choker).
    pub fn download_rate(&self, now: Instant) -> u64 {
        self.down.rate_u64(now)
    }

    /// Payload bytes per second to the peer over the rate window (for the choker).
    pub fn upload_rate(&self, now: Instant) -> u64 {
        self.up.rate_u64(now)
    }

    /// Our requests still outstanding, oldest first.
    pub fn outstanding_requests(&self) -> Vec<BlockRef> {
        self.pipeline.blocks()
    }

    /// How many of our requests are outstanding.
    pub fn outstanding_count(&self) -> usize {
        self.pipeline.len()
    }

    /// The peer's requests waiting for us, oldest first.
    pub fn peer_requests(&self) -> &[BlockRef] {
        &self.peer_requests
    }

    /// Mean request-to-block latency, once a block has arrived.
    pub fn request_latency(&self) -> Option<Duration> {
        self.pipeline.latency()
    }

    /// Request-to-block latency of uncongested requests, which sizes the pipeline.
    pub fn base_latency(&self) -> Option<Duration> {
        self.pipeline.base_latency()
    }

    /// The current request timeout.
    pub fn request_timeout(&self) -> Duration {
        self.pipeline.timeout(&self.config)
    }

    /// When the connection was set up.
    pub fn connected_at(&self) -> Instant {
        self.connected_at
    }

    /// When the peer last sent us a block we had asked for.
    pub fn last_block_received(&self) -> Option<Instant> {
        self.last_block
    }

    /// How many more requests to send now (0 while the peer chokes us or we are not
    /// interested); see [`pipeline`](super::pipeline) for the formula. Requests for BEP 6
    /// allowed-fast pieces while choked are the actor's call.
    pub fn wanted_requests(&self, now: Instant) -> usize {
        if self.peer_choking || !self.am_interested {
            return 0;
        }
        self.pipeline
            .target(now, &self.config)
            .saturating_sub(self.pipeline.len())
    }

    /// Removes and returns (oldest first) our requests outstanding longer than
    /// [`request_timeout`](Self::request_timeout), to be re-requested from other peers. A block
    /// that still arrives later is counted as late, not held against the peer; send a CANCEL
    /// ([`wire_request`]) to save the bandwidth.
    pub fn timed_out_requests(&mut self, now: Instant) -> Vec<BlockRef> {
        let late = self.pipeline.abandon_timed_out(now, &self.config);
        self.stats.timed_out_requests = self
            .stats
            .timed_out_requests
            .saturating_add(late.len() as u64);
        late
    }

    /// Whether we have been waiting [`PeerConfig::snub_timeout`] for a block without getting
    /// one; a snubbing peer loses its regular upload slot.
    pub fn is_snubbed(&self, now: Instant) -> bool {
        self.waiting_since
            .is_some_and(|since| now.saturating_duration_since(since) >= self.config.snub_timeout)
    }

    /// Whether the peer has sent nothing for [`PeerConfig::silence_timeout`]: drop it with
    /// [`PeerError::Silent`].
    pub fn is_silent(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_received) >= self.config.silence_timeout
    }

    /// Whether we have sent nothing for [`PeerConfig::keepalive_interval`].
    pub fn keepalive_due(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_sent) >= self.config.keepalive_interval
    }

    /// Records that we wrote something to the peer at `now`; the actor calls it on every
    /// write, which resets the keep-alive timer.
    pub fn note_sent(&mut self, now: Instant) {
        self.last_sent = self.last_sent.max(now);
    }

    /// A keep-alive to send if one is due (and records it as sent).
    pub fn keep_alive(&mut self, now: Instant) -> Option<PeerMessage> {
        self.keepalive_due(now).then(|| {
            self.note_sent(now);
            PeerMessage::KeepAlive
        })
    }

    /// Updates the snub timer after the pipeline changed at `now`: waiting starts with the
    /// first outstanding request and ends when nothing is outstanding any more.
    fn pipeline_changed(&mut self, now: Instant) {
        if self.pipeline.is_empty() {
            self.waiting_since = None;
        } else if self.waiting_since.is_none() {
            self.waiting_since = Some(now);
        }
    }
}

/// The wire form of a block, for REQUEST, CANCEL and REJECT.
pub fn wire_request(block: BlockRef) -> BlockRequest {
    BlockRequest {
        piece: block.piece.get(),
        offset: block.offset,
        length: block.len,
    }
}
