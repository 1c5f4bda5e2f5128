//! The HTTP client against tiny in-test servers.

use std::time::Duration;

use bt_proto::tracker::http::{encode_announce_response, encode_failure};
use bt_proto::tracker::{AnnounceEvent, TrackerPeer};
use bt_proto::types::PeerId;

use super::*;
use crate::tracker::test_support::{TEST_TIMEOUT, http_server, ok_response, target};

fn url(addr: std::net::SocketAddr, path: &str) -> Url {
    Url::parse(&format!("http://{addr}{path}")).unwrap()
}

fn quick() -> HttpConfig {
    HttpConfig {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_millis(300),
        max_redirects: 3,
    }
}

async fn fetch(url: &Url) -> Result<HttpResponse, TrackerError> {
    tokio::time::timeout(TEST_TIMEOUT, get(url, &quick()))
        .await
        .expect("client exceeded the test timeout")
}

#[tokio::test]
async fn content_length_body_and_request_head() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let addr = http_server(move |head| {
        let _ = tx.send(head.to_owned());
        Some(ok_response(b"hello"))
    })
    .await;
    let resp = fetch(&url(addr, "/announce?a=%20b&c=1")).await.unwrap();
    assert_eq!((resp.status, resp.body.as_slice()), (200, &b"hello"[..]));
    let head = rx.recv().await.unwrap();
    assert!(
        head.starts_with("GET /announce?a=%20b&c=1 HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(head.contains(&format!("\r\nHost: {addr}\r\n")), "{head}");
    assert!(head.contains("\r\nUser-Agent: bt/0.1\r\n"));
    assert!(head.contains("\r\nConnection: close\r\n"));
    assert!(head.contains("\r\nAccept-Encoding: identity\r\n"));
}

#[tokio::test]
async fn chunked_body() {
    let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n";
    let addr = http_server(|_| Some(raw.to_vec())).await;
    assert_eq!(fetch(&url(addr, "/")).await.unwrap().body, b"wikipedia");
}

#[tokio::test]
async fn body_read_to_close() {
    let addr = http_server(|_| Some(b"HTTP/1.0 200 OK\r\n\r\nuntil the end".to_vec())).await;
    assert_eq!(fetch(&url(addr, "/")).await.unwrap().body, b"until the end");
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let declared = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
        MAX_RESPONSE_LEN + 1
    );
    let addr = http_server(move |_| Some(declared.clone().into_bytes())).await;
    let err = fetch(&url(addr, "/")).await.unwrap_err();
    assert!(
        matches!(err, TrackerError::BadResponse(ref m) if m.contains("limit")),
        "{err}"
    );

    let mut undeclared = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
    undeclared.resize(undeclared.len() + MAX_RESPONSE_LEN + 10, b'x');
    let addr = http_server(move |_| Some(undeclared.clone())).await;
    let mut config = quick();
    config.request_timeout = TEST_TIMEOUT;
    let err = get(&url(addr, "/"), &config).await.unwrap_err();
    assert!(
        matches!(err, TrackerError::BadResponse(ref m) if m.contains("limit")),
        "{err}"
    );
}

#[tokio::test]
async fn not_found_is_a_status_error() {
    let addr =
        http_server(|_| Some(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec()))
            .await;
    let base = url(addr, "/announce");
    let resp = fetch(&base).await.unwrap();
    assert_eq!(resp.status, 404);
    let req = sample_request();
    let err = announce(&base, &req, &quick()).await.unwrap_err();
    assert!(matches!(err, TrackerError::HttpStatus(404)), "{err}");
}

#[tokio::test]
async fn redirects_are_followed_up_to_the_limit() {
    let addr = http_server(|head| {
        let hop: i32 = target(head).trim_start_matches("/hop").parse().unwrap_or(0);
        if hop == 3 {
            return Some(ok_response(b"arrived"));
        }
        let next = format!("/hop{}", hop + 1);
        Some(
            format!("HTTP/1.1 302 Found\r\nLocation: {next}\r\nContent-Length: 0\r\n\r\n")
                .into_bytes(),
        )
    })
    .await;
    assert_eq!(fetch(&url(addr, "/hop0")).await.unwrap().body, b"arrived");
    // Four hops from /hop-1 is one too many.
    let err = fetch(&url(addr, "/hop-1")).await.unwrap_err();
    assert!(
        matches!(err, TrackerError::BadResponse(ref m) if m.contains("redirects")),
        "{err}"
    );
}

#[tokio::test]
async fn redirect_to_https_is_unsupported() {
    let addr = http_server(|_| {
        Some(b"HTTP/1.1 301 Moved\r\nLocation: https://example.invalid/a\r\n\r\n".to_vec())
    })
    .await;
    let err = fetch(&url(addr, "/")).await.unwrap_err();
    assert_eq!(err.to_string(), "https trackers are not supported yet");
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let addr = http_server(|_| None).await;
    let started = std::time::Instant::now();
    let err = fetch(&url(addr, "/")).await.unwrap_err();
    assert!(matches!(err, TrackerError::Timeout(_)), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn refused_connection_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = fetch(&url(addr, "/")).await.unwrap_err();
    assert!(matches!(err, TrackerError::Connect { .. }), "{err}");
}

fn sample_request() -> AnnounceRequest {
    AnnounceRequest {
        info_hash: InfoHash([1; 20]),
        peer_id: PeerId([2; 20]),
        port: 6881,
        uploaded: 0,
        downloaded: 0,
        left: 100,
        event: AnnounceEvent::Started,
        numwant: Some(50),
        key: Some(7),
        tracker_id: None,
        compact: true,
    }
}

#[tokio::test]
async fn announce_parses_peers_and_failures() {
    let peer = TrackerPeer {
        addr: "10.0.0.1:6881".parse().unwrap(),
        peer_id: None,
    };
    let answer = AnnounceResponse {
        interval: 900,
        peers: vec![peer],
        ..Default::default()
    };
    let body = encode_announce_response(&answer, true);
    let addr = http_server(move |_| Some(ok_response(&body))).await;
    let got = announce(&url(addr, "/announce"), &sample_request(), &quick()).await;
    assert_eq!(got.unwrap().peers, vec![peer]);

    let failure = format!(
        "HTTP/1.1 403 Forbidden\r\nContent-Length: {}\r\n\r\n",
        encode_failure("unregistered torrent").len()
    );
    let mut reply = failure.into_bytes();
    reply.extend(encode_failure("unregistered torrent"));
    let addr = http_server(move |_| Some(reply.clone())).await;
    let err = announce(&url(addr, "/announce"), &sample_request(), &quick()).await;
    assert!(matches!(err, Err(TrackerError::Failure(ref r)) if r == "unregistered torrent"));

    let addr = http_server(|_| Some(ok_response(b"not bencode"))).await;
    let err = announce(&url(addr, "/announce"), &sample_request(), &quick()).await;
    assert!(matches!(err, Err(TrackerError::BadResponse(_))));
}
