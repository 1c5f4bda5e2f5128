//! The engine's actix actors, one folder per actor: `mod.rs` holds the actor and its lifecycle,
//! `msg.rs` the messages it handles (and, for now, the events it emits).
//!
//! # Layout
//! - [`announcer`]: one per torrent; announces to the torrent's trackers and reports peers.

pub mod announcer;
