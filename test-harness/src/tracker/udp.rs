//! The mock tracker's UDP front end (BEP 15): connect, announce and scrape on one socket.
//!
//! A connect gets a random connection id, valid for
//! [`MockTrackerConfig::connection_id_ttl`](super::MockTrackerConfig::connection_id_ttl) and only
//! for the address it was issued to; an announce or scrape carrying any other id gets an error
//! packet (`invalid connection id`). Packets that do not decode are dropped, as a real tracker
//! would. [`TrackerMode::Silent`] and [`TrackerMode::Down`] answer nothing; only `Silent` still
//! records announces with a valid id.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bt_proto::tracker::udp::{
    AddressFamily, AnnounceResponse, ConnectResponse, ErrorResponse, Request, Response,
    ScrapeResponse,
};
use tokio::net::UdpSocket;
use tokio::sync::watch;

use super::TrackerMode;
use super::state::{Outcome, Shared, Transport};

/// The most connection ids remembered at once; beyond it the oldest is forgotten.
const MAX_CONNECTION_IDS: usize = 4096;
/// The largest datagram read; a scrape of 74 hashes is 1496 bytes.
const MAX_DATAGRAM: usize = 2048;

/// Connection ids issued, with the address and time they were issued to and at.
struct ConnectionIds {
    ids: HashMap<u64, (SocketAddr, Instant)>,
    ttl: Duration,
}

impl ConnectionIds {
    /// A fresh random id for `from`.
    fn issue(&mut self, from: SocketAddr) -> u64 {
        let now = Instant::now();
        if self.ids.len() >= MAX_CONNECTION_IDS {
            let ttl = self.ttl;
            self.ids.retain(|_, (_, at)| now.duration_since(*at) < ttl);
        }
        if self.ids.len() >= MAX_CONNECTION_IDS {
            let oldest = self
                .ids
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(id, _)| *id);
            if let Some(oldest) = oldest {
                self.ids.remove(&oldest);
            }
        }
        let id = rand::random::<u64>();
        self.ids.insert(id, (from, now));
        id
    }

    /// Whether `id` was issued to `from` and has not expired.
    fn check(&self, id: u64, from: SocketAddr) -> bool {
        self.ids
            .get(&id)
            .is_some_and(|(addr, at)| *addr == from && at.elapsed() < self.ttl)
    }
}

/// Serves UDP until the tracker's runtime stops.
pub(super) async fn serve(
    shared: Arc<Shared>,
    socket: UdpSocket,
    mode: watch::Receiver<TrackerMode>,
) {
    let family = match socket.local_addr() {
        Ok(addr) => AddressFamily::of(&addr),
        Err(_) => AddressFamily::V4,
    };
    let mut ids = ConnectionIds {
        ids: HashMap::new(),
        ttl: shared.config().connection_id_ttl,
    };
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (len, from) = match socket.recv_from(&mut buf).await {
            Ok(received) => received,
            Err(e) => {
                // An ICMP error for an earlier reply surfaces here; it concerns that reply only.
                tracing::debug!(error = %e, "mock UDP tracker receive failed");
                continue;
            }
        };
        let current = mode.borrow().clone();
        let Some(reply) = handle(&shared, &current, &mut ids, &buf[..len], from) else {
            continue;
        };
        let mut out = Vec::with_capacity(64);
        reply.encode(family, &mut out);
        if let Err(e) = socket.send_to(&out, from).await {
            tracing::debug!(%from, error = %e, "mock UDP tracker send failed");
        }
    }
}

/// The answer to one datagram, if any.
fn handle(
    shared: &Shared,
    mode: &TrackerMode,
    ids: &mut ConnectionIds,
    packet: &[u8],
    from: SocketAddr,
) -> Option<Response> {
    if *mode == TrackerMode::Down {
        return None;
    }
    let silent = *mode == TrackerMode::Silent;
    let request = Request::decode(packet).ok()?;
    let bad_id = |transaction_id| {
        (!silent).then(|| error(transaction_id, "invalid connection id".to_owned()))
    };
    match request {
        Request::Connect(_) if silent => None,
        Request::Connect(connect) => Some(Response::Connect(ConnectResponse {
            transaction_id: connect.transaction_id,
            connection_id: ids.issue(from),
        })),
        Request::Announce(req) if !ids.check(req.connection_id, from) => bad_id(req.transaction_id),
        Request::Announce(req) => {
            let transaction_id = req.transaction_id;
            match shared.announce(mode, Transport::Udp, from, &req.to_announce()) {
                Outcome::Reply(resp) => Some(Response::Announce(AnnounceResponse {
                    transaction_id,
                    interval: resp.interval,
                    leechers: resp.incomplete.unwrap_or(0),
                    seeders: resp.complete.unwrap_or(0),
                    peers: resp.peers.iter().map(|p| p.addr).collect(),
                })),
                Outcome::Failure(reason) => Some(error(transaction_id, reason)),
                Outcome::Silent => None,
            }
        }
        Request::Scrape(req) if !ids.check(req.connection_id, from) => bad_id(req.transaction_id),
        Request::Scrape(req) => match mode {
            TrackerMode::Failure(reason) => Some(error(req.transaction_id, reason.clone())),
            TrackerMode::Silent | TrackerMode::Down => None,
            TrackerMode::Healthy | TrackerMode::FixedPeers(_) => {
                Some(Response::Scrape(ScrapeResponse {
                    transaction_id: req.transaction_id,
                    stats: req.info_hashes.iter().map(|h| shared.stats(h)).collect(),
                }))
            }
        },
    }
}

fn error(transaction_id: u32, message: String) -> Response {
    Response::Error(ErrorResponse {
        transaction_id,
        message,
    })
}
