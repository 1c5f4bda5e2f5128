//! A minimal HTTP/1.1 GET client for `http://` tracker announces and scrapes.
//!
//! Trackers need one request per connection and nothing else of HTTP, so this is a plain
//! `GET path?query HTTP/1.1` with `Connection: close` over a tokio `TcpStream`, not a general
//! client: no keep-alive, no compression (`Accept-Encoding: identity`), no cookies, no TLS.
//! `https://` URLs fail with [`TrackerError::UnsupportedScheme`] so users see a plain reason.
//!
//! Everything the server sends is untrusted: status and header lines are capped in length and
//! number, and the body (framed by `Content-Length`, chunked transfer-encoding, or the end of
//! the connection) is capped at [`MAX_RESPONSE_LEN`], checked before anything is allocated for
//! it. At most [`HttpConfig::max_redirects`] redirects are followed, to `http://` URLs only.
//!
//! # Layout
//! - this file: [`HttpConfig`], [`get`], [`announce`], [`scrape`], connecting.
//! - `response`: reading the status line, headers and body off the socket.

mod response;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::io;
use std::time::Duration;

use bt_proto::tracker::http::{
    MAX_RESPONSE_LEN, announce_url, parse_announce_response, parse_scrape_response, scrape_url,
};
use bt_proto::tracker::{AnnounceRequest, AnnounceResponse, ScrapeStats, TrackerResponseError};
use bt_proto::types::InfoHash;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use url::Url;

use super::{TrackerError, host_port};

/// Time limits and redirect policy for HTTP trackers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Name resolution plus the TCP handshake: a tracker that is down should cost us seconds,
    /// not the whole request budget, so the next tracker of the tier gets its turn.
    pub connect_timeout: Duration,
    /// The whole exchange, redirects included: a tracker that accepts the connection and then
    /// never answers (or trickles bytes) must not stall the announcer.
    pub request_timeout: Duration,
    /// Redirects followed before giving up; a few cover a moved tracker, more is a loop.
    pub max_redirects: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_redirects: 3,
        }
    }
}

/// A final (non-redirect) answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code, kept so that callers can read a failure body sent with a 4xx.
    pub status: u16,
    /// The body, at most [`MAX_RESPONSE_LEN`] bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// GETs `url`, following redirects, and returns the final answer whatever its status.
///
/// The whole exchange is bounded by [`HttpConfig::request_timeout`].
pub async fn get(url: &Url, config: &HttpConfig) -> Result<HttpResponse, TrackerError> {
    tokio::time::timeout(config.request_timeout, follow_redirects(url, config))
        .await
        .map_err(|_| TrackerError::Timeout(config.request_timeout))?
}

/// Announces `req` to the HTTP tracker whose announce URL is `base`.
///
/// A bencoded `failure reason` becomes [`TrackerError::Failure`] whatever the status code
/// (trackers often send one with a 4xx); any other non-2xx answer is
/// [`TrackerError::HttpStatus`].
pub async fn announce(
    base: &Url,
    req: &AnnounceRequest,
    config: &HttpConfig,
) -> Result<AnnounceResponse, TrackerError> {
    let response = get(&announce_url(base, req), config).await?;
    interpret(&response, parse_announce_response)
}

/// Scrapes the HTTP tracker whose announce URL is `base` for `hashes` (BEP 48).
///
/// A tracker whose announce URL has no scrape counterpart fails with
/// [`TrackerError::BadUrl`].
pub async fn scrape(
    base: &Url,
    hashes: &[InfoHash],
    config: &HttpConfig,
) -> Result<BTreeMap<InfoHash, ScrapeStats>, TrackerError> {
    let url = scrape_url(base, hashes)
        .ok_or_else(|| TrackerError::BadUrl(format!("{base} has no scrape url")))?;
    let response = get(&url, config).await?;
    interpret(&response, parse_scrape_response)
}

/// Turns an answer into the parsed body, a tracker failure, or a status error.
fn interpret<T>(
    response: &HttpResponse,
    parse: impl Fn(&[u8]) -> Result<T, TrackerResponseError>,
) -> Result<T, TrackerError> {
    match parse(&response.body) {
        Err(TrackerResponseError::Failure(reason)) => Err(TrackerError::Failure(reason)),
        _ if !response.is_success() => Err(TrackerError::HttpStatus(response.status)),
        Ok(parsed) => Ok(parsed),
        Err(err) => Err(TrackerError::BadResponse(err.to_string())),
    }
}

/// Whether `status` asks us to GET another URL.
fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// GETs `url` and up to `max_redirects` further URLs the server points to.
async fn follow_redirects(url: &Url, config: &HttpConfig) -> Result<HttpResponse, TrackerError> {
    let mut url = url.clone();
    for _ in 0..=config.max_redirects {
        let raw = get_once(&url, config).await?;
        match raw.location {
            Some(location) if is_redirect(raw.status) => {
                url = url.join(&location).map_err(|err| {
                    TrackerError::BadUrl(format!("redirect to {location:?}: {err}"))
                })?;
            }
            _ => {
                return Ok(HttpResponse {
                    status: raw.status,
                    body: raw.body,
                });
            }
        }
    }
    Err(TrackerError::BadResponse(format!(
        "more than {} redirects",
        config.max_redirects
    )))
}

/// One request on one fresh connection.
async fn get_once(url: &Url, config: &HttpConfig) -> Result<response::RawResponse, TrackerError> {
    if url.scheme() != "http" {
        return Err(TrackerError::UnsupportedScheme(url.scheme().to_owned()));
    }
    let (host, port) = host_port(url)?;
    let stream = connect(&host, port, config.connect_timeout).await?;
    let mut reader = BufReader::new(stream);
    reader
        .get_mut()
        .write_all(request_head(url).as_bytes())
        .await
        .map_err(TrackerError::Io)?;
    response::read_response(&mut reader, MAX_RESPONSE_LEN).await
}

/// The request line and headers for `url`.
fn request_head(url: &Url) -> String {
    let mut target = url.path().to_owned();
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    // `host_str` keeps IPv6 brackets, as the Host header needs; `port` is None when default.
    let host = url.host_str().unwrap_or_default();
    let host = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    format!(
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: bt/0.1\r\n\
         Accept-Encoding: identity\r\nConnection: close\r\n\r\n"
    )
}

/// Resolves `host` and connects to the first address that accepts, all within `limit`.
async fn connect(host: &str, port: u16, limit: Duration) -> Result<TcpStream, TrackerError> {
    let addr = format!("{host}:{port}");
    let attempt = async {
        let mut last_err = io::Error::new(io::ErrorKind::NotFound, "no addresses");
        let addrs = tokio::net::lookup_host((host, port)).await?;
        for candidate in addrs {
            match TcpStream::connect(candidate).await {
                Ok(stream) => return Ok(stream),
                Err(err) => last_err = err,
            }
        }
        Err(last_err)
    };
    match tokio::time::timeout(limit, attempt).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(source)) => Err(TrackerError::Connect { addr, source }),
        Err(_) => Err(TrackerError::Timeout(limit)),
    }
}
