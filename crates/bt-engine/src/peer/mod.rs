//! One peer connection, sans I/O: the codec, the handshake, and the protocol state machine
//! that the `PeerSession` actor will wrap.
//!
//! # What the actor will own
//! One `PeerSession` per connection owns:
//! - the socket, split into a `FramedRead<_, PeerCodec>` (a stream of [`PeerMessage`]s) and a
//!   framed writer using the same [`PeerCodec`] as `Encoder<PeerMessage>` and
//!   `Encoder<OutgoingBlock>`;
//! - one [`PeerState`]: flags, the peer's pieces, our request pipeline, the peer's requests,
//!   rate meters, counters and the misbehaviour score;
//! - `Recipient`s for the piece manager, the choker and the disk writer.
//!
//! # How it drives this module
//! 1. Connect or accept, then [`outgoing_handshake`] or [`incoming_handshake`] (the session
//!    routes accepted sockets by info-hash through the lookup). Build the state with
//!    [`Negotiated::new`] from both reserved fields, and set the codec's piece count.
//! 2. For each frame: `state.on_message(msg, Instant::now())`. An `Err(PeerError)` ends the
//!    session; each [`PeerEvent`] is forwarded (availability and blocks to the piece manager,
//!    block requests to the disk reader, interest to the choker), and [`PeerEvent::Reply`] is
//!    written back.
//! 3. For commands from other actors, call the outgoing methods (`set_interested`, `choke`,
//!    `unchoke`, `request`, `cancel`, `have`, `take_upload`, `reject_request`) and write what
//!    they return; call [`PeerState::note_sent`] after writing.
//! 4. After each block and on a timer: ask the piece manager for
//!    [`PeerState::wanted_requests`] more blocks; hand [`PeerState::timed_out_requests`] back
//!    to it; send [`PeerState::keep_alive`] when due; end the session with
//!    [`PeerError::Silent`] when [`PeerState::is_silent`].
//!
//! Time is always a parameter (`Instant`), never read inside, so every rule is unit-tested
//! with made-up clocks.
//!
//! # Layout
//! - [`codec`]: [`PeerCodec`] (tokio-util `Decoder`/`Encoder`) and
//!   [`OutgoingBlock`].
//! - `handshake`: [`outgoing_handshake`], [`incoming_handshake`].
//! - `rate`: [`RateMeter`], bytes per second over a sliding window.
//! - `read_buffers`: [`ReadBufferPool`], a connection's read buffers, recycled.
//! - `read_gate`: [`ReadGate`] and [`Gated`], which stop a connection's reads while the disk
//!   is behind.
//! - [`pipeline`]: the outstanding requests and the bandwidth-delay sizing (its module docs give
//!   the formula).
//! - `state`: [`PeerState`], [`Negotiated`], [`PeerStats`].
//! - `event`: [`PeerEvent`]; `config`: [`PeerConfig`]; `error`: [`PeerError`].
//! - [`extensions`]: [`ExtensionState`], the BEP 10 side of a connection (extension
//!   handshake, BEP 9 metadata, BEP 11 PEX).

pub mod codec;
mod config;
mod error;
mod event;
pub mod extensions;
mod handshake;
pub mod pipeline;
mod rate;
mod read_buffers;
mod read_gate;
mod state;

pub use codec::{OutgoingBlock, PeerCodec};
pub use config::PeerConfig;
pub use error::PeerError;
pub use event::PeerEvent;
pub use extensions::{ExtensionConfig, ExtensionEvent, ExtensionState};
pub use handshake::{Handshakes, incoming_handshake, outgoing_handshake};
pub use rate::RateMeter;
pub use read_buffers::ReadBufferPool;
pub use read_gate::{Gated, ReadGate};
pub use state::{Negotiated, PeerState, PeerStats, wire_request};

#[cfg(doc)]
use bt_proto::wire::PeerMessage;
