//! The UDP tracker client (BEP 15): connect for a connection id, then announce.
//!
//! Each call binds a fresh ephemeral socket and `connect`s it to the tracker, so the kernel
//! drops datagrams from anyone else and reports an ICMP "port unreachable" as an error right
//! away instead of a long silence. Packets are built and checked with the codecs of
//! [`bt_proto::tracker::udp`].
//!
//! # Retransmission
//! BEP 15: a request unanswered after `15 × 2^n` seconds is sent again, `n` counting timeouts
//! from 0 and capped at 8. Here the base ([`UdpConfig::retransmit_base`]) and the number of
//! timeouts tolerated ([`UdpConfig::max_attempts`]) are configurable; the count is shared by
//! the connect and the announce of one call, so one call is bounded by
//! `base × (2^max_attempts − 1)`. A retransmission repeats the same transaction id, so a late
//! answer to the first copy still counts; answers with another id are stray and ignored.
//!
//! # Connection ids
//! A connection id is valid for about a minute (BEP 15). [`announce`] returns the one it used
//! and accepts one from an earlier call, so the caller can cache it per tracker; a cached id
//! that the tracker rejects with an error packet is dropped and a new one fetched, once.

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bt_proto::tracker::udp::{self, Action, AddressFamily, Response, UdpTrackerError};
use bt_proto::tracker::{AnnounceRequest, AnnounceResponse};
use tokio::net::UdpSocket;
use url::Url;

use super::{TrackerError, host_port};

/// Large enough for any datagram, so an answer is never truncated.
const MAX_DATAGRAM: usize = 64 * 1024;
/// BEP 15 stops doubling the retransmission delay after `n = 8` (3840 s with a 15 s base).
const MAX_DOUBLINGS: u32 = 8;

/// Retransmission and connection-id settings for UDP trackers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpConfig {
    /// Name resolution of the tracker's host; a broken resolver should not eat the whole budget.
    pub resolve_timeout: Duration,
    /// The first wait for an answer (BEP 15: 15 s), doubled after each timeout; tests shrink it.
    pub retransmit_base: Duration,
    /// Timeouts tolerated per call before giving up. BEP 15 allows nine (`n` = 0..=8, over two
    /// hours in all); the default of 3 (105 s) lets the next tracker of the tier have a turn.
    pub max_attempts: u32,
    /// How long a connection id is reused (BEP 15: one minute).
    pub connection_ttl: Duration,
}

impl Default for UdpConfig {
    fn default() -> Self {
        Self {
            resolve_timeout: Duration::from_secs(10),
            retransmit_base: Duration::from_secs(15),
            max_attempts: 3,
            connection_ttl: Duration::from_secs(60),
        }
    }
}

impl UdpConfig {
    /// The wait after the `n`th timeout (0-based): `base × 2^min(n, 8)`.
    pub fn retransmit_delay(&self, n: u32) -> Duration {
        self.retransmit_base
            .saturating_mul(1 << n.min(MAX_DOUBLINGS))
    }
}

/// A connection id a tracker gave us, and when, so that callers can reuse it while it is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionId {
    /// The id to put in announces.
    pub id: u64,
    /// When the tracker handed it out; it expires `connection_ttl` later.
    pub obtained: Instant,
}

impl ConnectionId {
    /// Whether the id may still be used at `now`.
    pub fn is_fresh(&self, ttl: Duration, now: Instant) -> bool {
        now.saturating_duration_since(self.obtained) < ttl
    }
}

/// Announces `req` to the UDP tracker at `url` and returns its answer with the connection id
/// used, for the caller to pass back to the next call (see the module docs).
pub async fn announce(
    url: &Url,
    req: &AnnounceRequest,
    cached: Option<ConnectionId>,
    config: &UdpConfig,
) -> Result<(AnnounceResponse, ConnectionId), TrackerError> {
    let (host, port) = host_port(url)?;
    let peer = Peer::connect(&host, port, config.resolve_timeout).await?;
    let mut cached = cached.filter(|c| c.is_fresh(config.connection_ttl, Instant::now()));
    let mut buf = vec![0u8; MAX_DATAGRAM];
    // Retransmissions repeat the transaction ids, so a late answer to an earlier copy counts.
    let (connect_tid, announce_tid): (u32, u32) = (rand::random(), rand::random());
    let mut timeouts = 0;
    while timeouts < config.max_attempts {
        let wait = config.retransmit_delay(timeouts);
        let (conn, from_cache) = match cached.take() {
            Some(conn) => (conn, true),
            None => match peer.connect_id(connect_tid, wait, &mut buf).await? {
                Some(conn) => (conn, false),
                None => {
                    timeouts += 1;
                    continue;
                }
            },
        };
        let packet = encode(udp::Request::Announce(udp::AnnounceRequest::from_announce(
            conn.id,
            announce_tid,
            req,
        )));
        match peer
            .exchange(&packet, announce_tid, Action::Announce, wait, &mut buf)
            .await
        {
            Ok(Some(Response::Announce(resp))) => return Ok((resp.to_announce_response(), conn)),
            Ok(Some(other)) => return Err(unexpected(&other)),
            Ok(None) => {
                timeouts += 1;
                cached = Some(conn).filter(|c| c.is_fresh(config.connection_ttl, Instant::now()));
            }
            // An expired cached id is the usual reason for an error here: connect again, once.
            Err(TrackerError::Failure(_)) if from_cache => {}
            Err(err) => return Err(err),
        }
    }
    let total = (0..config.max_attempts)
        .map(|n| config.retransmit_delay(n))
        .sum();
    Err(TrackerError::Timeout(total))
}

/// A socket connected to one tracker address.
struct Peer {
    socket: UdpSocket,
    family: AddressFamily,
    /// `host:port` as the URL says, for errors.
    name: String,
}

impl Peer {
    /// Resolves `host` (first address wins) and connects an ephemeral socket to it.
    async fn connect(host: &str, port: u16, limit: Duration) -> Result<Self, TrackerError> {
        let name = format!("{host}:{port}");
        let connect_err = |source| TrackerError::Connect {
            addr: name.clone(),
            source,
        };
        let addr = tokio::time::timeout(limit, tokio::net::lookup_host((host, port)))
            .await
            .map_err(|_| TrackerError::Timeout(limit))?
            .map_err(connect_err)?
            .next()
            .ok_or_else(|| connect_err(std::io::ErrorKind::NotFound.into()))?;
        let local: SocketAddr = if addr.is_ipv4() {
            (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local).await.map_err(connect_err)?;
        socket.connect(addr).await.map_err(connect_err)?;
        Ok(Self {
            socket,
            family: AddressFamily::of(&addr),
            name,
        })
    }

    /// One connect exchange: a fresh connection id, or `None` after `wait` without an answer.
    async fn connect_id(
        &self,
        tid: u32,
        wait: Duration,
        buf: &mut [u8],
    ) -> Result<Option<ConnectionId>, TrackerError> {
        let packet = encode(udp::Request::Connect(udp::ConnectRequest {
            transaction_id: tid,
        }));
        match self
            .exchange(&packet, tid, Action::Connect, wait, buf)
            .await?
        {
            Some(Response::Connect(resp)) => Ok(Some(ConnectionId {
                id: resp.connection_id,
                obtained: Instant::now(),
            })),
            Some(other) => Err(unexpected(&other)),
            None => Ok(None),
        }
    }

    /// Sends `packet` and waits up to `wait` for the answer carrying `tid`; `None` on timeout.
    ///
    /// Packets with another transaction id are dropped; an undecodable packet with ours is a
    /// [`TrackerError::BadResponse`], an error packet with ours a [`TrackerError::Failure`].
    async fn exchange(
        &self,
        packet: &[u8],
        tid: u32,
        action: Action,
        wait: Duration,
        buf: &mut [u8],
    ) -> Result<Option<Response>, TrackerError> {
        self.socket.send(packet).await.map_err(|e| self.io(e))?;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let len = match tokio::time::timeout_at(deadline, self.socket.recv(buf)).await {
                Err(_) => return Ok(None),
                Ok(Err(err)) => return Err(self.io(err)),
                Ok(Ok(len)) => len,
            };
            let datagram = buf.get(..len).unwrap_or_default();
            match udp::decode_response(datagram, tid, action, self.family) {
                Ok(resp) => return Ok(Some(resp)),
                Err(UdpTrackerError::Tracker(message)) => {
                    return Err(TrackerError::Failure(message));
                }
                Err(err) if echoes(datagram, tid) => {
                    return Err(TrackerError::BadResponse(err.to_string()));
                }
                Err(err) => tracing::trace!(error = %err, "ignoring stray udp tracker packet"),
            }
        }
    }

    /// A refused port (an ICMP answer to a connected socket) means nobody listens there.
    fn io(&self, err: std::io::Error) -> TrackerError {
        if err.kind() == std::io::ErrorKind::ConnectionRefused {
            TrackerError::Connect {
                addr: self.name.clone(),
                source: err,
            }
        } else {
            TrackerError::Io(err)
        }
    }
}

/// Whether a datagram carries transaction id `tid` in the place every response has it.
fn echoes(datagram: &[u8], tid: u32) -> bool {
    datagram.get(4..8) == Some(tid.to_be_bytes().as_slice())
}

fn encode(request: udp::Request) -> Vec<u8> {
    let mut out = Vec::with_capacity(100);
    request.encode(&mut out);
    out
}

/// `decode_response` checks the action, so this is for the impossible remainder.
fn unexpected(resp: &Response) -> TrackerError {
    TrackerError::BadResponse(format!("unexpected {:?} response", resp.action()))
}
