//! In-process BitTorrent swarms for tests and experiments.
//!
//! This crate is being built (see the test-harness issue): a mock HTTP and UDP tracker, seeders
//! and leechers as in-process engine sessions, hostile peers, and `python3-libtorrent` reference
//! peers. Today it only re-exports the engine it will drive.
//!
//! # Layout
//! - [`engine`]: the `bt-engine` crate, re-exported.

pub use bt_engine as engine;
