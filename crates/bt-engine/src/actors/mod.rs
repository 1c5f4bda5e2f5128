//! The engine's actix actors, one folder per actor: `mod.rs` holds the actor and its lifecycle,
//! `msg.rs` the messages it handles (and, for now, the events it emits).
//!
//! # Layout
//! - [`announcer`]: one per torrent; announces to the torrent's trackers and reports peers.
//! - [`disk`]: `DiskWriter`, block writes and reads, piece hashing and the resume check on a
//!   fixed pool of worker threads.

pub mod announcer;
pub mod census;
pub mod choker;
pub mod disk;
pub mod peer;
pub mod piece_manager;
pub mod pool;
pub mod session;
pub mod supervisor;
#[cfg(test)]
pub(crate) mod test_support;
