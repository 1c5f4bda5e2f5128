//! The mock tracker's HTTP front end: a minimal HTTP/1.1 server, one request per connection.
//!
//! It reads the request head (capped at [`MAX_REQUEST_HEAD`] bytes and
//! [`MockTrackerConfig::request_timeout`](super::MockTrackerConfig::request_timeout)), looks only
//! at the request line, and answers `GET /announce?…` (BEP 3, compact per BEP 23 and BEP 7 when
//! the client says `compact=1`, dictionaries otherwise) and `GET /scrape?…` (BEP 48) with
//! `Connection: close`; any other path is a 404. A malformed announce query gets a `failure
//! reason`, as trackers do.
//!
//! The accept loop follows the mode: [`TrackerMode::Down`] drops the listener (connects are
//! refused), and leaving it binds the same port again with `SO_REUSEADDR` (the port's old
//! connections may linger in `TIME_WAIT`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bt_proto::tracker::http::{
    encode_announce_response, encode_failure, encode_scrape_response, parse_announce_request,
    parse_scrape_request,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use super::TrackerMode;
use super::state::{Outcome, Shared, Transport};

/// The longest request head read; a real announce is a few hundred bytes.
const MAX_REQUEST_HEAD: usize = 8 * 1024;
/// How long to keep trying to bind the port again after [`TrackerMode::Down`].
const REBIND_TIMEOUT: Duration = Duration::from_secs(3);
/// Pause between bind attempts.
const REBIND_PAUSE: Duration = Duration::from_millis(20);
/// The most time spent writing one response.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// What to send back.
enum Reply {
    /// A status line and a body.
    Send(&'static str, Vec<u8>),
    /// Nothing: hold the connection ([`TrackerMode::Silent`]).
    Hold,
}

/// Serves HTTP until the mode channel closes (the tracker is shutting down).
pub(super) async fn serve(
    shared: Arc<Shared>,
    listener: std::net::TcpListener,
    mut mode: watch::Receiver<TrackerMode>,
) {
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(e) => return shared.set_http_listening(false, Some(e.to_string())),
    };
    let mut listener = match TcpListener::from_std(listener) {
        Ok(listener) => Some(listener),
        Err(e) => return shared.set_http_listening(false, Some(e.to_string())),
    };
    let limit = Arc::new(Semaphore::new(shared.config().max_connections));
    loop {
        let down = *mode.borrow_and_update() == TrackerMode::Down;
        apply_mode(&shared, &mut listener, addr, down).await;
        let Some(bound) = &listener else {
            if mode.changed().await.is_err() {
                return;
            }
            continue;
        };
        tokio::select! {
            accepted = bound.accept() => {
                if let Ok((stream, peer)) = accepted {
                    spawn_connection(&shared, &limit, &mode, stream, peer);
                }
            }
            changed = mode.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

/// Closes or binds the listener to match the mode, and tells waiters.
async fn apply_mode(
    shared: &Shared,
    listener: &mut Option<TcpListener>,
    addr: SocketAddr,
    down: bool,
) {
    match (down, listener.is_some()) {
        (true, true) => {
            *listener = None;
            tracing::debug!(%addr, "mock HTTP tracker down");
            shared.set_http_listening(false, None);
        }
        (false, false) => match rebind(addr).await {
            Ok(bound) => {
                *listener = Some(bound);
                tracing::debug!(%addr, "mock HTTP tracker up again");
                shared.set_http_listening(true, None);
            }
            Err(e) => shared.set_http_listening(false, Some(format!("rebinding {addr}: {e}"))),
        },
        (down, _) => shared.set_http_listening(!down, None),
    }
}

/// Binds `addr` again, retrying for [`REBIND_TIMEOUT`].
async fn rebind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let deadline = Instant::now() + REBIND_TIMEOUT;
    loop {
        let attempt = (|| {
            let socket = TcpSocket::new_v4()?;
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            socket.listen(1024)
        })();
        match attempt {
            Ok(listener) => return Ok(listener),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => tokio::time::sleep(REBIND_PAUSE).await,
        }
    }
}

/// Serves one connection on its own task, or closes it at once over the connection cap.
fn spawn_connection(
    shared: &Arc<Shared>,
    limit: &Arc<Semaphore>,
    mode: &watch::Receiver<TrackerMode>,
    stream: TcpStream,
    peer: SocketAddr,
) {
    let Ok(permit) = Arc::clone(limit).try_acquire_owned() else {
        tracing::debug!(%peer, "mock HTTP tracker at its connection cap");
        return;
    };
    let shared = Arc::clone(shared);
    let mode = mode.clone();
    tokio::spawn(connection(shared, mode, stream, peer, permit));
}

/// Reads one request, answers it (or holds it), and closes.
async fn connection(
    shared: Arc<Shared>,
    mut mode: watch::Receiver<TrackerMode>,
    mut stream: TcpStream,
    peer: SocketAddr,
    _permit: OwnedSemaphorePermit,
) {
    let timeout = shared.config().request_timeout;
    let reply = match tokio::time::timeout(timeout, read_head(&mut stream)).await {
        Ok(Ok(Some(head))) => {
            let current = mode.borrow().clone();
            route(&shared, &current, &head, peer)
        }
        Ok(Ok(None)) => Reply::Send("400 Bad Request", b"request head too large".to_vec()),
        Ok(Err(_)) | Err(_) => return,
    };
    match reply {
        Reply::Send(status, body) => {
            let write = write_response(&mut stream, status, &body);
            if let Ok(Err(e)) = tokio::time::timeout(WRITE_TIMEOUT, write).await {
                tracing::debug!(%peer, error = %e, "mock HTTP tracker write failed");
            }
        }
        Reply::Hold => {
            let hold = shared.config().silent_hold;
            tokio::select! {
                () = tokio::time::sleep(hold) => {}
                _ = mode.wait_for(|m| *m == TrackerMode::Down) => {}
            }
        }
    }
}

/// Reads up to the blank line ending the head; `None` if it does not come within
/// [`MAX_REQUEST_HEAD`] bytes.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<String>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while buf.len() < MAX_REQUEST_HEAD {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            buf.truncate(end);
            return Ok(Some(String::from_utf8_lossy(&buf).into_owned()));
        }
    }
    Ok(None)
}

/// Picks the answer from the request line.
fn route(shared: &Shared, mode: &TrackerMode, head: &str, peer: SocketAddr) -> Reply {
    let line = head.lines().next().unwrap_or_default();
    let mut parts = line.split_ascii_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Reply::Send("400 Bad Request", b"bad request line".to_vec());
    };
    if method != "GET" {
        return Reply::Send("405 Method Not Allowed", b"only GET".to_vec());
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    match path {
        "/announce" => announce(shared, mode, query, peer),
        "/scrape" => scrape(shared, mode, query),
        _ => Reply::Send("404 Not Found", b"not found".to_vec()),
    }
}

/// `GET /announce`.
fn announce(shared: &Shared, mode: &TrackerMode, query: &str, peer: SocketAddr) -> Reply {
    let req = match parse_announce_request(query) {
        Ok(req) => req,
        Err(e) => return ok(encode_failure(&format!("bad announce: {e}"))),
    };
    match shared.announce(mode, Transport::Http, peer, &req) {
        Outcome::Reply(resp) => ok(encode_announce_response(&resp, req.compact)),
        Outcome::Failure(reason) => ok(encode_failure(&reason)),
        Outcome::Silent => Reply::Hold,
    }
}

/// `GET /scrape`: the named torrents (zeros for unknown ones), or every torrent if none named.
fn scrape(shared: &Shared, mode: &TrackerMode, query: &str) -> Reply {
    match mode {
        TrackerMode::Failure(reason) => return ok(encode_failure(reason)),
        TrackerMode::Silent | TrackerMode::Down => return Reply::Hold,
        TrackerMode::Healthy | TrackerMode::FixedPeers(_) => {}
    }
    let hashes = parse_scrape_request(query);
    let files: BTreeMap<_, _> = if hashes.is_empty() {
        shared.all_stats().into_iter().collect()
    } else {
        hashes.into_iter().map(|h| (h, shared.stats(&h))).collect()
    };
    ok(encode_scrape_response(&files))
}

fn ok(body: Vec<u8>) -> Reply {
    Reply::Send("200 OK", body)
}

async fn write_response(stream: &mut TcpStream, status: &str, body: &[u8]) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.shutdown().await
}
