//! Messages the [`Announcer`](super::Announcer) handles, and the events it emits.
//!
//! The events ([`PeersDiscovered`], [`TrackerStatusChanged`]) are handled by the torrent
//! supervisor; they live here until that actor exists and will then move to its `msg.rs`. The
//! announcer reaches them only through `Recipient`s, so tests (and experiments) can stub them.
//!
//! Backpressure: every message here is small and rare (a few per announce interval), so all of
//! them are sent with `do_send`, except [`Shutdown`], which callers `send().await` to know when
//! the `stopped` announces are done.

use std::net::SocketAddr;
use std::time::Duration;

use actix::Message;
use bt_proto::tracker::AnnounceEvent;

use crate::tracker::TrackerError;

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

/// Where a batch of peer addresses came from, so the supervisor can attribute and rank them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PeerSource {
    /// A tracker, by its URL as written in the torrent. (DHT and PEX will add variants.)
    Tracker(String),
}

/// Event (handled by the torrent supervisor): peers a tracker handed out, without our own
/// address or peer id and without duplicates within the batch. Never empty.
#[derive(Debug, Clone, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct PeersDiscovered {
    /// Addresses to try, in the tracker's order.
    pub peers: Vec<SocketAddr>,
    /// Who told us.
    pub source: PeerSource,
}

/// What one announce to one tracker came to.
#[derive(Debug)]
pub enum TrackerStatus {
    /// The tracker answered.
    Working {
        /// Seeders, if the tracker says, for the user interface.
        seeders: Option<u32>,
        /// Leechers, if the tracker says.
        leechers: Option<u32>,
        /// Usable peers delivered (after filtering ourselves out).
        peers: usize,
        /// A `warning message` the tracker sent with its answer, worth showing to the user.
        warning: Option<String>,
        /// Until the next regular announce.
        next_announce: Duration,
    },
    /// The tracker failed; the announcer moved on to the next tracker, or, when every tracker
    /// failed this round, backs off.
    Failed {
        /// What went wrong.
        error: TrackerError,
        /// `None` when the next tracker is being tried at once; `Some(back-off)` when every
        /// tracker failed and the next round starts after that long.
        retry_in: Option<Duration>,
    },
}

/// Event (handled by the torrent supervisor): the outcome of an announce to one tracker, for
/// status displays and statistics. Sent after every announce except `stopped` ones.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct TrackerStatusChanged {
    /// The tracker's URL as written in the torrent.
    pub tracker: String,
    /// What happened.
    pub status: TrackerStatus,
}
