//! The engine's actors, one folder each (`mod.rs`: the actor; `msg.rs`: the messages it
//! handles).
//!
//! - [`disk`]: `DiskWriter`, block writes and reads, piece hashing and the resume check on a
//!   fixed pool of worker threads.

pub mod disk;
