//! Tracker codecs: what a client says to a tracker and what the tracker answers.
//!
//! Only bytes and values live here; the transport (an HTTP client, a UDP socket, retries and
//! back-off) belongs to the announcer in `bt-engine`, and the mock tracker of the test harness
//! uses the server-side halves of the same codecs.
//!
//! # Layout
//! - this module: the types both transports share ([`AnnounceRequest`], [`AnnounceResponse`],
//!   [`TrackerPeer`], [`ScrapeStats`], [`AnnounceEvent`]).
//! - [`http`]: HTTP trackers (BEP 3, BEP 23 compact peers, BEP 7 IPv6 peers, BEP 48 scrape):
//!   announce and scrape URLs, their server-side parsing, bencoded responses both ways.
//! - [`udp`]: UDP tracker packets (BEP 15), requests and responses, both directions.

pub(crate) mod compact;
pub mod http;
pub mod udp;

use std::net::SocketAddr;

use crate::types::{InfoHash, PeerId};

pub use http::{TrackerRequestError, TrackerResponseError};

/// The most peers any decoder in this module returns from one response; entries beyond it are
/// dropped, so a hostile tracker cannot make us hold more addresses than we could ever use.
pub const MAX_PEERS: usize = 10_000;

/// Why a client announces (BEP 3 `event`).
///
/// The declaration order follows BEP 3; the UDP wire numbers of BEP 15 differ (see
/// [`AnnounceEvent::to_udp`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AnnounceEvent {
    /// A regular announce at the tracker's interval; HTTP omits the parameter.
    #[default]
    None,
    /// The first announce of a download.
    Started,
    /// The download just finished (sent once, not when starting already complete).
    Completed,
    /// The client is leaving the swarm.
    Stopped,
}

impl AnnounceEvent {
    /// The value of the HTTP `event` parameter (BEP 3), `None` for a regular announce.
    pub fn as_http_str(self) -> Option<&'static str> {
        match self {
            Self::None => None,
            Self::Started => Some("started"),
            Self::Completed => Some("completed"),
            Self::Stopped => Some("stopped"),
        }
    }

    /// The UDP wire number (BEP 15): 0 none, 1 completed, 2 started, 3 stopped.
    pub fn to_udp(self) -> u32 {
        match self {
            Self::None => 0,
            Self::Completed => 1,
            Self::Started => 2,
            Self::Stopped => 3,
        }
    }

    /// The event for a UDP wire number (BEP 15), `None` if the number is unknown.
    pub fn from_udp(value: u32) -> Option<Self> {
        match value {
            0 => Some(Self::None),
            1 => Some(Self::Completed),
            2 => Some(Self::Started),
            3 => Some(Self::Stopped),
            _ => None,
        }
    }
}

/// One announce, independent of the transport that carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnounceRequest {
    /// The torrent we announce for.
    pub info_hash: InfoHash,
    /// Our id, so the tracker can tell our announces apart from other peers on the same address.
    pub peer_id: PeerId,
    /// The port we accept peer connections on.
    pub port: u16,
    /// Payload bytes sent since `started`, for the tracker's ratio statistics.
    pub uploaded: u64,
    /// Payload bytes received since `started`.
    pub downloaded: u64,
    /// Bytes still missing; 0 makes us a seeder in the tracker's eyes.
    pub left: u64,
    /// Why we announce now.
    pub event: AnnounceEvent,
    /// How many peers we would like; `None` lets the tracker choose (usually 50).
    pub numwant: Option<u32>,
    /// A random value that stays the same across announces, so a tracker can recognise us after
    /// our IP address changes.
    pub key: Option<u32>,
    /// The `tracker id` a previous response gave us, echoed back as BEP 3 asks.
    pub tracker_id: Option<Vec<u8>>,
    /// Ask for compact peer lists (BEP 23); nearly every tracker wants this.
    pub compact: bool,
}

/// A peer address a tracker handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrackerPeer {
    /// Where to connect, IPv4 or IPv6.
    pub addr: SocketAddr,
    /// Only the dictionary peer list carries ids; compact lists never do.
    pub peer_id: Option<PeerId>,
}

/// A tracker's successful answer to an announce.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AnnounceResponse {
    /// Seconds to wait before the next regular announce.
    pub interval: u32,
    /// Seconds below which the tracker refuses announces, if it says.
    pub min_interval: Option<u32>,
    /// An opaque id to echo back in later announces (BEP 3).
    pub tracker_id: Option<Vec<u8>>,
    /// Seeders, if the tracker says.
    pub complete: Option<u32>,
    /// Leechers, if the tracker says.
    pub incomplete: Option<u32>,
    /// A warning that did not stop the announce from succeeding; worth logging.
    pub warning: Option<String>,
    /// IPv4 and IPv6 peers together, in the order the tracker listed them (IPv4 first when it
    /// sent both `peers` and `peers6`).
    pub peers: Vec<TrackerPeer>,
}

/// Swarm counts for one torrent from a scrape (BEP 48, BEP 15), keyed by [`InfoHash`] in maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ScrapeStats {
    /// Seeders.
    pub complete: u32,
    /// How many times the tracker saw a download complete.
    pub downloaded: u32,
    /// Leechers.
    pub incomplete: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_event_numbers_follow_bep_15() {
        assert_eq!(AnnounceEvent::None.to_udp(), 0);
        assert_eq!(AnnounceEvent::Completed.to_udp(), 1);
        assert_eq!(AnnounceEvent::Started.to_udp(), 2);
        assert_eq!(AnnounceEvent::Stopped.to_udp(), 3);
        for event in [
            AnnounceEvent::None,
            AnnounceEvent::Started,
            AnnounceEvent::Completed,
            AnnounceEvent::Stopped,
        ] {
            assert_eq!(AnnounceEvent::from_udp(event.to_udp()), Some(event));
        }
        assert_eq!(AnnounceEvent::from_udp(4), None);
    }
}
