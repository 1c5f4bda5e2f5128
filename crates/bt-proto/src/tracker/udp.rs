//! UDP tracker packets (BEP 15), both directions: the client encodes requests and decodes
//! responses; a (mock) tracker decodes requests and encodes responses.
//!
//! All integers are big-endian. Every exchange starts with a connect: the client sends
//! [`PROTOCOL_ID`] and gets a `connection_id` to put in its announces and scrapes. The client
//! picks a random `transaction_id` per request and must drop answers that do not echo it;
//! [`decode_response`] does that check. Peer entries in an announce response are 6 bytes on an
//! IPv4 socket and 18 bytes on an IPv6 one, so decoding and encoding them take the
//! [`AddressFamily`] of the socket.
//!
//! Decoding never panics: a packet shorter than its fixed part, an unknown action, or a peer
//! list that is not a whole number of entries is an error. Bytes after the fixed part of a
//! connect or announce request (BEP 41 options) are ignored.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::tracker::compact::{decode_compact, encode_compact};
use crate::tracker::{AnnounceEvent, MAX_PEERS, ScrapeStats};
use crate::types::{InfoHash, PeerId};

mod codec;
#[cfg(test)]
mod tests;

/// The magic `connection_id` of a connect request (BEP 15).
pub const PROTOCOL_ID: u64 = 0x0417_2710_1980;

/// The most info-hashes BEP 15 suggests per scrape request; callers split longer lists.
pub const MAX_SCRAPE_HASHES: usize = 74;

/// The `action` field that says what a packet is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Get a connection id.
    Connect,
    /// Announce and get peers.
    Announce,
    /// Get swarm counts.
    Scrape,
    /// The tracker refused (responses only).
    Error,
}

impl Action {
    /// The wire number: 0 connect, 1 announce, 2 scrape, 3 error.
    pub fn to_u32(self) -> u32 {
        match self {
            Self::Connect => 0,
            Self::Announce => 1,
            Self::Scrape => 2,
            Self::Error => 3,
        }
    }

    /// The action for a wire number, if known.
    pub fn from_u32(value: u32) -> Option<Self> {
        match value {
            0 => Some(Self::Connect),
            1 => Some(Self::Announce),
            2 => Some(Self::Scrape),
            3 => Some(Self::Error),
            _ => None,
        }
    }
}

/// The address family of the socket that talks to the tracker; it fixes the size of peer
/// entries in announce responses (BEP 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressFamily {
    /// 6-byte peer entries.
    V4,
    /// 18-byte peer entries.
    V6,
}

impl AddressFamily {
    /// The family of the tracker's address.
    pub fn of(addr: &SocketAddr) -> Self {
        if addr.is_ipv4() { Self::V4 } else { Self::V6 }
    }

    /// Bytes per peer entry.
    pub fn entry_len(self) -> usize {
        match self {
            Self::V4 => 6,
            Self::V6 => 18,
        }
    }
}

/// Why a UDP tracker packet was rejected.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum UdpTrackerError {
    /// The packet is shorter than the fixed part of its kind.
    #[error("{what} packet is {len} bytes, shorter than {min}")]
    TooShort {
        /// The kind of packet expected.
        what: &'static str,
        /// The packet's length.
        len: usize,
        /// The fixed part's length.
        min: usize,
    },
    /// The action is not one BEP 15 defines for this direction.
    #[error("unknown action {0}")]
    UnknownAction(u32),
    /// A connect request without the magic protocol id.
    #[error("connect request has protocol id {0:#x}")]
    BadProtocolId(u64),
    /// An announce request with an event number outside 0..=3.
    #[error("unknown announce event {0}")]
    UnknownEvent(u32),
    /// The variable part of a scrape packet is not a whole number of entries.
    #[error("{len} trailing bytes are not a multiple of the {entry}-byte entry")]
    Trailing {
        /// The variable part's length.
        len: usize,
        /// The entry size.
        entry: usize,
    },
    /// The answer is for another request.
    #[error("transaction id {got:#010x} does not match {expected:#010x}")]
    TransactionMismatch {
        /// The id we sent.
        expected: u32,
        /// The id in the answer.
        got: u32,
    },
    /// The answer is of another kind than the request.
    #[error("expected a {expected:?} response, got {got:?}")]
    UnexpectedAction {
        /// The action we sent.
        expected: Action,
        /// The action in the answer.
        got: Action,
    },
    /// The tracker answered with an error packet; the text is its message.
    #[error("tracker error: {0}")]
    Tracker(String),
}

/// Start of every exchange: asks for a connection id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectRequest {
    /// Chosen at random by the client, echoed by the tracker.
    pub transaction_id: u32,
}

/// The tracker's answer to a connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectResponse {
    /// Echo of the request's.
    pub transaction_id: u32,
    /// To put in announces and scrapes; valid for about a minute (BEP 15).
    pub connection_id: u64,
}

/// An announce over UDP; the fields are those of [`crate::tracker::AnnounceRequest`] in BEP 15's
/// order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnnounceRequest {
    /// From the connect response.
    pub connection_id: u64,
    /// Chosen at random per request.
    pub transaction_id: u32,
    /// The torrent.
    pub info_hash: InfoHash,
    /// Our id.
    pub peer_id: PeerId,
    /// Payload bytes received.
    pub downloaded: u64,
    /// Bytes still missing.
    pub left: u64,
    /// Payload bytes sent.
    pub uploaded: u64,
    /// Encoded with BEP 15's numbering (0 none, 1 completed, 2 started, 3 stopped).
    pub event: AnnounceEvent,
    /// `UNSPECIFIED` (0) asks the tracker to use the packet's source address.
    pub ip: Ipv4Addr,
    /// Lets the tracker recognise us across address changes.
    pub key: u32,
    /// How many peers we want; -1 lets the tracker choose.
    pub num_want: i32,
    /// Our listening port.
    pub port: u16,
}

impl AnnounceRequest {
    /// The UDP form of a transport-independent announce: `numwant` `None` becomes -1 (and a
    /// value over `i32::MAX` is capped), `key` `None` becomes 0, `tracker_id` and `compact` are
    /// HTTP-only and dropped.
    pub fn from_announce(
        connection_id: u64,
        transaction_id: u32,
        req: &crate::tracker::AnnounceRequest,
    ) -> Self {
        let num_want = req
            .numwant
            .map_or(-1, |n| i32::try_from(n).unwrap_or(i32::MAX));
        Self {
            connection_id,
            transaction_id,
            info_hash: req.info_hash,
            peer_id: req.peer_id,
            downloaded: req.downloaded,
            left: req.left,
            uploaded: req.uploaded,
            event: req.event,
            ip: Ipv4Addr::UNSPECIFIED,
            key: req.key.unwrap_or(0),
            num_want,
            port: req.port,
        }
    }

    /// The transport-independent form, as a tracker reads it: a `num_want` of zero or less
    /// lets the tracker choose (BEP 15's -1 default), the `key` is kept, and the HTTP-only
    /// `tracker_id` is absent (UDP peers are always compact).
    pub fn to_announce(&self) -> crate::tracker::AnnounceRequest {
        crate::tracker::AnnounceRequest {
            info_hash: self.info_hash,
            peer_id: self.peer_id,
            port: self.port,
            uploaded: self.uploaded,
            downloaded: self.downloaded,
            left: self.left,
            event: self.event,
            numwant: u32::try_from(self.num_want).ok().filter(|&n| n > 0),
            key: Some(self.key),
            tracker_id: None,
            compact: true,
        }
    }
}

/// The tracker's answer to an announce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnounceResponse {
    /// Echo of the request's.
    pub transaction_id: u32,
    /// Seconds until the next regular announce.
    pub interval: u32,
    /// Peers still downloading.
    pub leechers: u32,
    /// Peers with the whole torrent.
    pub seeders: u32,
    /// At most [`MAX_PEERS`]; when encoding, peers of the other family than the socket's are
    /// left out, except that IPv4 peers go to an IPv6 socket as IPv4-mapped addresses (decoded
    /// back to IPv4).
    pub peers: Vec<SocketAddr>,
}

impl AnnounceResponse {
    /// The transport-independent form, for code that handles HTTP and UDP answers alike.
    pub fn to_announce_response(&self) -> crate::tracker::AnnounceResponse {
        let peers = self.peers.iter().map(|&addr| crate::tracker::TrackerPeer {
            addr,
            peer_id: None,
        });
        crate::tracker::AnnounceResponse {
            interval: self.interval,
            complete: Some(self.seeders),
            incomplete: Some(self.leechers),
            peers: peers.collect(),
            ..Default::default()
        }
    }
}

/// A scrape over UDP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapeRequest {
    /// From the connect response.
    pub connection_id: u64,
    /// Chosen at random per request.
    pub transaction_id: u32,
    /// Up to [`MAX_SCRAPE_HASHES`] torrents; all of them are encoded, so callers split.
    pub info_hashes: Vec<InfoHash>,
}

/// The tracker's answer to a scrape: counts in the order of the request's hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapeResponse {
    /// Echo of the request's.
    pub transaction_id: u32,
    /// One entry per requested hash (seeders, completed, leechers on the wire).
    pub stats: Vec<ScrapeStats>,
}

/// The tracker refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    /// Echo of the request's.
    pub transaction_id: u32,
    /// Human-readable; decoded lossily since trackers do not always send UTF-8.
    pub message: String,
}

/// Any packet a client sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Action 0.
    Connect(ConnectRequest),
    /// Action 1.
    Announce(AnnounceRequest),
    /// Action 2.
    Scrape(ScrapeRequest),
}

/// Any packet a tracker sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// Action 0.
    Connect(ConnectResponse),
    /// Action 1.
    Announce(AnnounceResponse),
    /// Action 2.
    Scrape(ScrapeResponse),
    /// Action 3.
    Error(ErrorResponse),
}

impl Response {
    /// The echoed transaction id.
    pub fn transaction_id(&self) -> u32 {
        match self {
            Self::Connect(r) => r.transaction_id,
            Self::Announce(r) => r.transaction_id,
            Self::Scrape(r) => r.transaction_id,
            Self::Error(r) => r.transaction_id,
        }
    }

    /// The packet's action.
    pub fn action(&self) -> Action {
        match self {
            Self::Connect(_) => Action::Connect,
            Self::Announce(_) => Action::Announce,
            Self::Scrape(_) => Action::Scrape,
            Self::Error(_) => Action::Error,
        }
    }
}

/// Client side: decodes the answer to a request that had `expected_transaction_id` and
/// `expected_action`, on a socket of `family`.
///
/// A mismatched transaction id or action is an error (the answer may be a late reply to an
/// earlier request, which the caller should drop), and an error packet becomes
/// [`UdpTrackerError::Tracker`] with its message.
pub fn decode_response(
    buf: &[u8],
    expected_transaction_id: u32,
    expected_action: Action,
    family: AddressFamily,
) -> Result<Response, UdpTrackerError> {
    let response = Response::decode(buf, family)?;
    let got = response.transaction_id();
    if got != expected_transaction_id {
        return Err(UdpTrackerError::TransactionMismatch {
            expected: expected_transaction_id,
            got,
        });
    }
    match response {
        Response::Error(error) => Err(UdpTrackerError::Tracker(error.message)),
        response if response.action() != expected_action => {
            let got = response.action();
            Err(UdpTrackerError::UnexpectedAction {
                expected: expected_action,
                got,
            })
        }
        response => Ok(response),
    }
}

/// Peers from the variable part of an announce response; IPv4-mapped IPv6 addresses come back
/// as IPv4. BEP 15 derives the peer count from the packet's size, so a partial entry at the end
/// is ignored, as libtorrent does.
fn decode_peers(bytes: &[u8], family: AddressFamily) -> Vec<SocketAddr> {
    bytes
        .chunks_exact(family.entry_len())
        .take(MAX_PEERS)
        .filter_map(decode_compact)
        .map(unmap)
        .collect()
}

/// Appends the peers that fit `family` (see [`AnnounceResponse::peers`]).
fn encode_peers(peers: &[SocketAddr], family: AddressFamily, out: &mut Vec<u8>) {
    for peer in peers {
        match (family, peer.ip()) {
            (AddressFamily::V4, IpAddr::V4(_)) | (AddressFamily::V6, IpAddr::V6(_)) => {
                encode_compact(peer, out);
            }
            (AddressFamily::V6, IpAddr::V4(ip)) => {
                let mapped = SocketAddr::new(IpAddr::V6(ip.to_ipv6_mapped()), peer.port());
                encode_compact(&mapped, out);
            }
            (AddressFamily::V4, IpAddr::V6(_)) => {}
        }
    }
}

/// An IPv4-mapped IPv6 address as plain IPv4; anything else unchanged.
fn unmap(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), addr.port()),
            None => addr,
        },
        IpAddr::V4(_) => addr,
    }
}
