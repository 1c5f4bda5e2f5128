//! The bt BitTorrent engine: actix actors that download and seed torrents.
//!
//! This crate is being built (see the engine issue); today it holds only the protocol re-export
//! so that embedders can already depend on one crate. The actors it will hold are described in
//! `docs/ARCHITECTURE.md`.
//!
//! # Layout
//! - [`actors`]: the actix actors, one folder each ([`actors::disk`]: the `DiskWriter` pool).
//! - [`choker`]: choking strategies (tit-for-tat and baselines) as pure structs an actor drives.
//! - [`proto`]: the sans-IO protocol layer, re-exported from `bt-proto`.
//! - [`storage`]: a torrent's files on disk: positional block I/O, piece hashing, the resume
//!   check; synchronous, run by the disk actor's worker threads.

pub mod actors;
pub mod choker;
pub mod storage;

pub use bt_proto as proto;
