//! Shared helpers for the runnable examples in `examples/examples/`.
//!
//! A virtual workspace manifest cannot own examples, so they live in this package; this library
//! holds what several examples share. `examples/data/` holds a small bundled torrent that the
//! README's first command inspects.
//!
//! # Layout
//! - [`bundled_torrent_path`]: where the bundled sample torrent lives.
//! - [`choker_lab`]: the `Choker` actor alone with synthetic peers (`embed_choker`).
//! - [`swarm_lab`]: one seeder and about fifty leechers in this process, per choker and piece
//!   order: CSVs, plots and a summary (`swarm_experiment`).

pub mod choker_lab;
pub mod swarm_lab;

/// `docs/EXPERIMENTS.md`, compiled as doctests when rustdoc collects them: its Rust blocks
/// (the "Plug in your own strategy" example) must build against the lab as it is.
#[cfg(doctest)]
#[doc = include_str!("../../docs/EXPERIMENTS.md")]
pub struct ExperimentsDoc;

use std::path::PathBuf;

/// The path of the sample torrent shipped in `examples/data/`.
pub fn bundled_torrent_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/sample.torrent")
}
