//! The bt BitTorrent engine: actix actors that download and seed torrents.
//!
//! Embedders start a [`Session`] inside an actix `System`, add torrents to it, and watch them
//! through [`TorrentHandle`]s (statistics, events, pause, resume). Behind the handles, one
//! actor owns each piece of state and they talk only by typed messages; the algorithms
//! (piece picking, choking, the peer-wire state machine, storage) are plain structs the
//! actors drive, usable and testable on their own. `docs/ARCHITECTURE.md` describes the
//! actors, their messages and the life of a block.
//!
//! # Layout
//! - [`actors`]: the actix actors, one folder each: the session, the torrent supervisor, peer
//!   sessions, the piece manager, the choker, the announcer, the disk writer.
//! - [`choker`]: choking strategies (tit-for-tat and baselines) as pure structs an actor drives.
//! - [`config`]: [`EngineConfig`], every tunable, loaded from defaults, TOML and `BT_*` variables.
//! - `error`: [`EngineError`], the torrent-fatal errors (peer errors are [`peer::PeerError`]).
//! - `handle`: the embedding API, [`Session`], [`TorrentHandle`], [`AddTorrentOptions`].
//! - [`metadata`]: fetching a magnet link's metadata from peers (BEP 9) as a pure struct the
//!   metadata fetcher actor drives.
//! - [`peer`]: the sans-IO peer-wire state machine, codec, handshake and rate meters that each
//!   connection's actor drives.
//! - [`picker`]: piece picking (rarest-first, random, sequential; endgame; strikes and bans) as a
//!   pure struct behind the `PiecePicker` trait.
//! - [`selection`]: [`selection::FileSelection`], the files to download and the pieces that
//!   follow from them.
//! - [`proto`]: the sans-IO protocol layer, re-exported from `bt-proto`.
//! - [`shaping`]: upload and download limits (token buckets), per connection and per session.
//! - [`torrent`]: what embedders see of a torrent: [`TorrentState`], [`TorrentStats`],
//!   [`TorrentEvent`].
//! - [`strategies`]: [`Strategies`], a torrent's choker and picker: configured by name, or the
//!   embedder's own.
//! - [`storage`]: a torrent's files on disk: positional block I/O, piece hashing, the resume
//!   check; synchronous, run by the disk actor's worker threads.
//! - [`tracker`]: tracker transports (HTTP, UDP) and the tier and schedule logic the announcer
//!   drives.

#![warn(missing_docs)]

pub mod actors;
pub mod choker;
pub mod config;
mod error;
mod handle;
pub mod metadata;
pub mod peer;
pub mod picker;
pub mod selection;
pub mod shaping;
pub mod storage;
pub mod strategies;
pub mod torrent;
pub mod tracker;

pub use bt_proto as proto;
pub use config::EngineConfig;
pub use error::EngineError;
pub use handle::{AddTorrentOptions, Session, TorrentHandle};
pub use strategies::Strategies;
pub use torrent::{
    PeerInfo, PeerTotals, TorrentEvent, TorrentState, TorrentStats, TrackerHealth, TrackerInfo,
};
