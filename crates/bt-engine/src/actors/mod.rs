//! The engine's actix actors, one folder per actor: `mod.rs` holds the actor and its lifecycle,
//! `msg.rs` the messages it handles, `handlers.rs` the handlers. Actors reach each other
//! through `Recipient`s, never through another actor's concrete type across a boundary.
//!
//! # Layout
//! - [`session`]: one per session; the listener, the torrents, the worker Arbiters.
//! - [`supervisor`]: `TorrentSupervisor`, one per torrent; starts the others, owns the state
//!   and the statistics, decides which connections exist.
//! - [`peer`]: `PeerSession`, one per connection.
//! - [`piece_manager`]: `PieceManager`, one per torrent; the piece picker and piece fates.
//! - [`choker`]: `Choker`, one per torrent; who we upload to.
//! - [`announcer`]: one per torrent; announces to the torrent's trackers and reports peers.
//! - [`disk`]: `DiskWriter`, block writes and reads, piece hashing and the resume check on a
//!   fixed pool of worker threads.
//! - [`metadata`]: `MetadataFetcher`, one per magnet link until its metadata arrives (BEP 9).
//! - [`census`]: counts of live actors, to check that a shutdown stopped everything.
//! - [`pool`]: the worker Arbiters connections are spread over.

pub mod announcer;
pub mod census;
pub mod choker;
pub mod disk;
pub mod metadata;
pub mod peer;
pub mod piece_manager;
pub mod pool;
pub mod session;
pub mod supervisor;
#[cfg(test)]
pub(crate) mod test_support;
