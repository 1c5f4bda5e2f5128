//! In-process BitTorrent swarms for tests and experiments.
//!
//! A mock HTTP and UDP tracker, payloads generated from a seed, and swarms of seeders and
//! leechers as in-process engine sessions. `python3-libtorrent` runs as a reference
//! peer through a script, and hand-written hostile peers break the protocol on purpose.
//!
//! Everything here runs on loopback with ports chosen by the OS, content in temporary
//! directories, and a time-out on every wait, so tests can run in parallel and clean up after
//! themselves.
//!
//! ```
//! use std::time::Duration;
//! use bt_test_harness::{MockTracker, Payload, PayloadSpec, TrackerMode};
//!
//! # fn main() -> anyhow::Result<()> {
//! let tracker = MockTracker::start()?;
//! let spec = PayloadSpec::multi_file_tree("tree").with_trackers([tracker.http_announce_url()]);
//! let payload = Payload::generate(&spec, 42)?;
//! let _torrent_path = payload.write_torrent_file()?;
//! // ... a client announces `payload.torrent` to the tracker ...
//! let hash = payload.info_hash();
//! let missing = tracker.wait_for_announce(|a| a.info_hash == hash, Duration::from_millis(10));
//! assert!(missing.is_err(), "nobody announced");
//! tracker.set_mode(TrackerMode::Down)?;
//! tracker.set_mode(TrackerMode::Healthy)?; // back on the same port
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//! - [`tracker`]: [`MockTracker`], an HTTP (BEP 3, 23, 7, 48) and UDP (BEP 15) tracker on its
//!   own thread, with a real swarm, a record of announces, and switchable faults.
//! - [`hostile`]: [`HostilePeer`], wire-level peers that send corrupt, malformed or excessive input.
//! - [`reference`](mod@reference): [`LibtorrentPeer`], python3-libtorrent as a reference seeder or leecher,
//!   reporting its statistics.
//! - [`payload`]: [`Payload`], seeded random files in a temporary directory and their torrent.
//! - [`swarm`]: [`Swarm`], a mock tracker with seeders and leechers, each an engine session
//!   in this process.
//! - [`bench`](mod@bench): the benchmark behind the `bt-bench` binary (bt against libtorrent, the
//!   machine's limits), one table per run.
//! - [`engine`]: the `bt-engine` crate, re-exported.

#![warn(missing_docs)]

pub mod bench;
pub mod hostile;
pub mod payload;
pub mod reference;
pub mod swarm;
pub mod tracker;

pub use bt_engine as engine;
pub use hostile::HostilePeer;
pub use payload::{Payload, PayloadFile, PayloadLayout, PayloadSpec};
pub use reference::{
    LibtorrentBuilder, LibtorrentPeer, LtEvent, LtMode, LtReport, LtStats, ReferenceError,
};
pub use swarm::{
    Role, Swarm, SwarmBuilder, SwarmMember, TrackerKind, TransferMatrix, assert_same_tree,
    wait_for_stats,
};
pub use tracker::{
    MockTracker, MockTrackerConfig, RecordedAnnounce, SwarmPeer, TrackerMode, Transport,
};

/// The code blocks of `README.md`, compiled as doctests so the page cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
