//! Tiny in-test HTTP servers on `127.0.0.1:0`, shared by the HTTP client and announcer tests.
//!
//! Each server task lives until the test's runtime shuts down; every connection gets one
//! answer and is then closed, as `Connection: close` asks.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bt_proto::tracker::AnnounceRequest;
use bt_proto::tracker::http::parse_announce_request;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use url::Url;

/// The limit every await in these tests runs under.
pub(crate) const TEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts a server that answers each request head with `respond(head)`; `None` holds the
/// connection open without answering (a hung tracker).
pub(crate) async fn http_server<F>(respond: F) -> SocketAddr
where
    F: Fn(&str) -> Option<Vec<u8>> + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let respond = Arc::new(respond);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let respond = Arc::clone(&respond);
            tokio::spawn(serve(stream, move |head| respond(head)));
        }
    });
    addr
}

async fn serve(mut stream: TcpStream, respond: impl Fn(&str) -> Option<Vec<u8>>) {
    let head = read_head(&mut stream).await;
    match respond(&head) {
        Some(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        None => tokio::time::sleep(Duration::from_secs(60)).await,
    }
}

/// The request head, up to the empty line (capped, as a test server should not hang either).
async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// The request target (`/path?query`) of a request head.
pub(crate) fn target(head: &str) -> &str {
    head.split_ascii_whitespace().nth(1).unwrap_or_default()
}

/// A full response with a `Content-Length` body.
pub(crate) fn ok_response(body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// A tracker that parses each announce, reports it on the returned channel, and answers with
/// `reply(&request)` (a bencoded body, or `None` for a 500 error).
pub(crate) async fn announce_tracker<F>(reply: F) -> (Url, mpsc::UnboundedReceiver<AnnounceRequest>)
where
    F: Fn(&AnnounceRequest) -> Option<Vec<u8>> + Send + Sync + 'static,
{
    let (tx, rx) = mpsc::unbounded_channel();
    let addr = http_server(move |head| {
        let query = target(head).split_once('?').map(|(_, q)| q).unwrap_or("");
        let Ok(req) = parse_announce_request(query) else {
            return Some(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".to_vec());
        };
        let body = reply(&req);
        let _ = tx.send(req);
        Some(match body {
            Some(body) => ok_response(&body),
            None => b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n".to_vec(),
        })
    })
    .await;
    let url = Url::parse(&format!("http://{addr}/announce")).unwrap();
    (url, rx)
}

/// Receives the next item, failing the test after [`TEST_TIMEOUT`].
pub(crate) async fn recv<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(TEST_TIMEOUT, rx.recv())
        .await
        .expect("timed out waiting")
        .expect("channel closed")
}
