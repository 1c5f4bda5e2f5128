//! The bt BitTorrent engine: actix actors that download and seed torrents.
//!
//! This crate is being built (see the engine issue). Its parts exist as actors and as pure,
//! unit-tested structs that the actors drive; the session that wires them into a running client
//! is the next step. `docs/ARCHITECTURE.md` describes what is built.
//!
//! # Layout
//! - [`actors`]: the actix actors, one folder each ([`actors::announcer`], [`actors::disk`]).
//! - [`choker`]: choking strategies (tit-for-tat and baselines) as pure structs an actor drives.
//! - [`config`]: [`EngineConfig`], every tunable, loaded from defaults, TOML and `BT_*` variables.
//! - `error`: [`EngineError`], the torrent-fatal errors (peer errors are [`peer::PeerError`]).
//! - [`peer`]: the sans-IO peer-wire state machine, codec, handshake and rate meters that each
//!   connection's actor drives.
//! - [`picker`]: piece picking (rarest-first, random, sequential; endgame; strikes and bans) as a
//!   pure struct behind the `PiecePicker` trait.
//! - [`proto`]: the sans-IO protocol layer, re-exported from `bt-proto`.
//! - [`storage`]: a torrent's files on disk: positional block I/O, piece hashing, the resume
//!   check; synchronous, run by the disk actor's worker threads.
//! - [`tracker`]: tracker transports (HTTP, UDP) and the tier and schedule logic the announcer
//!   drives.

pub mod actors;
pub mod choker;
pub mod config;
mod error;
mod handle;
pub mod peer;
pub mod picker;
pub mod storage;
pub mod torrent;
pub mod tracker;

pub use bt_proto as proto;
pub use config::EngineConfig;
pub use error::EngineError;
pub use handle::{AddTorrentOptions, Session, TorrentHandle};
pub use torrent::{PeerInfo, TorrentEvent, TorrentState, TorrentStats};
