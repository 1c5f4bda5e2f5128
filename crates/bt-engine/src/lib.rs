//! The bt BitTorrent engine: actix actors that download and seed torrents.
//!
//! This crate is being built (see the engine issue); today it holds only the protocol re-export
//! so that embedders can already depend on one crate. The actors it will hold are described in
//! `docs/ARCHITECTURE.md`.
//!
//! # Layout
//! - [`actors`]: the actix actors, one folder each (today the [`actors::announcer`]).
//! - [`choker`]: choking strategies (tit-for-tat and baselines) as pure structs an actor drives.
//! - [`proto`]: the sans-IO protocol layer, re-exported from `bt-proto`.
//! - [`tracker`]: tracker transports (HTTP, UDP) and the tier and schedule logic the announcer
//!   drives.

pub mod actors;
pub mod choker;
pub mod tracker;

pub use bt_proto as proto;
