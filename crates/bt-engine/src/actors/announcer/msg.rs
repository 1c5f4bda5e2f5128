//! Messages the [`Announcer`](super::Announcer) handles, and the events it emits.
//!
//! The events it emits ([`PeersDiscovered`], [`TrackerStatusChanged`]) are handled by the
//! torrent supervisor and live in its `msg.rs`; the announcer reaches them only through
//! `Recipient`s, so tests (and experiments) can stub them.
//!
//! Backpressure: every message here is small and rare (a few per announce interval), so all of
//! them are sent with `do_send`, except [`Shutdown`], which callers `send().await` to know when
//! the `stopped` announces are done.

use actix::Message;
use bt_proto::tracker::AnnounceEvent;

#[cfg(doc)]
use crate::actors::supervisor::msg::{PeersDiscovered, TrackerStatusChanged};

/// New transfer statistics, reported in the next announce (BEP 3 `uploaded`, `downloaded`,
/// `left`). Sent by the supervisor whenever it likes; nothing is announced because of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct UpdateProgress {
    /// Payload bytes sent since the torrent started.
    pub uploaded: u64,
    /// Payload bytes received since the torrent started.
    pub downloaded: u64,
    /// Bytes still missing; 0 tells trackers we seed.
    pub left: u64,
}

/// Announce right away, with an event:
/// - `Completed` when the download finishes (sent once; it waits for an announce in flight);
/// - `None` for a forced re-announce;
/// - `Stopped` to leave every swarm the announcer joined while staying alive (a paused torrent);
///   announcing then stays off until `Started`;
/// - `Started` to (re)join: every tracker gets `started` again. The first `started` is sent
///   automatically when the actor starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct AnnounceNow {
    /// Why we announce.
    pub event: AnnounceEvent,
}

/// The torrent has fewer peers than it would like: announce early, as soon as the tracker's
/// `min interval` since the last announce allows. Ignored while an announce is in flight or the
/// announcer backs off after failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct WantMorePeers;

/// Send `stopped` to every tracker that knows us (bounded by
/// [`AnnouncerConfig::stop_timeout`](super::AnnouncerConfig::stop_timeout)), then stop the actor.
/// The response arrives once that is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct Shutdown;

/// Stop at once without announcing `stopped`: another announcer of the same torrent (and
/// peer id) takes over its swarms, as when a magnet link's metadata fetcher hands over to the
/// torrent's supervisor. An announce in flight is abandoned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct Detach;
