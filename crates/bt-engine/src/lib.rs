//! The bt BitTorrent engine: actix actors that download and seed torrents.
//!
//! This crate is being built (see the engine issue); today it holds only the protocol re-export
//! so that embedders can already depend on one crate. The actors it will hold are described in
//! `docs/ARCHITECTURE.md`.
//!
//! # Layout
//! - [`choker`]: choking strategies (tit-for-tat and baselines) as pure structs an actor drives.
//! - [`picker`]: piece picking (rarest-first, endgame, strikes) as a pure struct an actor drives.
//! - [`proto`]: the sans-IO protocol layer, re-exported from `bt-proto`.

pub mod choker;
pub mod picker;

pub use bt_proto as proto;
