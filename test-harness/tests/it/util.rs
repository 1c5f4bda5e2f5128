//! Clients for the tests: raw HTTP over a `TcpStream`, and a blocking BEP 15 UDP client, both
//! with time-outs on every read.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use bt_proto::tracker::udp::{self, AddressFamily, Request, Response};
use bt_proto::tracker::{AnnounceEvent, AnnounceRequest, http::announce_url};
use bt_proto::{InfoHash, PeerId};

/// How long any test read waits.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// A raw HTTP response.
#[derive(Debug)]
pub struct HttpReply {
    pub status: String,
    pub head: String,
    pub body: Vec<u8>,
}

/// Sends `GET target` and reads the whole reply (the server closes the connection).
pub fn http_get(addr: SocketAddr, target: &str) -> std::io::Result<HttpReply> {
    let mut stream = TcpStream::connect_timeout(&addr, READ_TIMEOUT)?;
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    let request = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: bt-test\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("reply has a head");
    let head = String::from_utf8(raw[..split].to_vec()).expect("head is text");
    let status = head.lines().next().unwrap_or_default().to_owned();
    Ok(HttpReply {
        status,
        head,
        body: raw[split + 4..].to_vec(),
    })
}

/// An announce with the fields tests vary; the rest are fixed.
pub fn request(hash: InfoHash, id: u8, port: u16, left: u64) -> AnnounceRequest {
    AnnounceRequest {
        info_hash: hash,
        peer_id: peer_id(id),
        port,
        uploaded: 0,
        downloaded: 0,
        left,
        event: AnnounceEvent::Started,
        numwant: None,
        key: Some(0x1234),
        tracker_id: None,
        compact: true,
    }
}

/// A peer id whose bytes are all `id`.
pub fn peer_id(id: u8) -> PeerId {
    PeerId([id; 20])
}

/// The `/announce?…` target for `req`, built with bt-proto's client-side URL builder.
pub fn announce_target(req: &AnnounceRequest) -> String {
    let base = url::Url::parse("http://127.0.0.1/announce").expect("static URL");
    let url = announce_url(&base, req);
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

/// GETs the announce for `req` and returns the body.
pub fn http_announce(addr: SocketAddr, req: &AnnounceRequest) -> Vec<u8> {
    let reply = http_get(addr, &announce_target(req)).expect("HTTP announce");
    assert_eq!(reply.status, "HTTP/1.1 200 OK");
    reply.body
}

/// A blocking BEP 15 client on its own loopback socket.
pub struct UdpClient {
    pub socket: UdpSocket,
    next_transaction: u32,
}

impl UdpClient {
    pub fn new(tracker: SocketAddr, read_timeout: Duration) -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind UDP client");
        socket.connect(tracker).expect("connect UDP client");
        socket
            .set_read_timeout(Some(read_timeout))
            .expect("timeout");
        Self {
            socket,
            next_transaction: 0x5000,
        }
    }

    /// Sends `request` (its transaction id is set here) and decodes the answer as `action`.
    pub fn exchange(
        &mut self,
        build: impl FnOnce(u32) -> Request,
        action: udp::Action,
    ) -> Result<Response, String> {
        self.next_transaction += 1;
        let transaction_id = self.next_transaction;
        let mut out = Vec::new();
        build(transaction_id).encode(&mut out);
        self.socket.send(&out).map_err(|e| e.to_string())?;
        let mut buf = [0u8; 2048];
        let n = self
            .socket
            .recv(&mut buf)
            .map_err(|e| format!("recv: {e}"))?;
        udp::decode_response(&buf[..n], transaction_id, action, AddressFamily::V4)
            .map_err(|e| e.to_string())
    }

    /// Connects and returns the connection id.
    pub fn connect(&mut self) -> u64 {
        let build = |transaction_id| Request::Connect(udp::ConnectRequest { transaction_id });
        match self.exchange(build, udp::Action::Connect) {
            Ok(Response::Connect(r)) => r.connection_id,
            other => panic!("connect failed: {other:?}"),
        }
    }

    /// Announces `req` with `connection_id`.
    pub fn announce(
        &mut self,
        connection_id: u64,
        req: &AnnounceRequest,
    ) -> Result<udp::AnnounceResponse, String> {
        let build = |transaction_id| {
            Request::Announce(udp::AnnounceRequest::from_announce(
                connection_id,
                transaction_id,
                req,
            ))
        };
        match self.exchange(build, udp::Action::Announce)? {
            Response::Announce(r) => Ok(r),
            other => Err(format!("unexpected {other:?}")),
        }
    }

    /// Scrapes `hashes` with `connection_id`.
    pub fn scrape(
        &mut self,
        connection_id: u64,
        hashes: &[InfoHash],
    ) -> Result<udp::ScrapeResponse, String> {
        let build = |transaction_id| {
            Request::Scrape(udp::ScrapeRequest {
                connection_id,
                transaction_id,
                info_hashes: hashes.to_vec(),
            })
        };
        match self.exchange(build, udp::Action::Scrape)? {
            Response::Scrape(r) => Ok(r),
            other => Err(format!("unexpected {other:?}")),
        }
    }
}
