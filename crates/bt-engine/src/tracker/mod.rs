//! Talking to trackers: the transports (HTTP and UDP) and the pure logic that decides which
//! tracker to ask and when.
//!
//! `bt-proto` holds the codecs (what the bytes mean); this module moves them over the network
//! and keeps the policy in plain structs that the `Announcer` actor drives and tests run
//! without I/O. Nothing here is an actor and nothing here keeps state between calls except the
//! pure structs: the UDP connection id a call obtained is handed back to the caller, which
//! caches it (see [`Announced::udp_connection`]).
//!
//! # Layout
//! - this module: [`TrackerError`], and [`announce`], which picks the transport by URL scheme.
//! - [`http_client`]: a minimal HTTP/1.1 GET client for `http://` announce and scrape URLs.
//! - [`udp_client`]: the BEP 15 client: connect, announce, retransmission.
//! - [`TierList`]: BEP 12 tracker tiers, shuffled once, move-to-front on success.
//! - [`AnnounceSchedule`]: when to announce next: interval, min interval, back-off.

pub mod http_client;
mod schedule;
#[cfg(test)]
pub(crate) mod test_support;
mod tiers;
pub mod udp_client;

use std::io;
use std::time::Duration;

use bt_proto::tracker::{AnnounceRequest, AnnounceResponse};
use url::Url;

pub use http_client::HttpConfig;
pub use schedule::{AnnounceSchedule, ScheduleConfig};
pub use tiers::TierList;
pub use udp_client::{ConnectionId, UdpConfig};

/// Why one request to one tracker failed. Every variant is recoverable: the announcer tries the
/// next tracker or backs off.
#[derive(Debug, thiserror::Error)]
pub enum TrackerError {
    /// The tracker did not answer in time (connect, whole request, or every UDP retransmission).
    #[error("tracker timed out after {0:?}")]
    Timeout(Duration),
    /// The tracker's host did not resolve, or no connection could be opened to it.
    #[error("cannot reach tracker at {addr}")]
    Connect {
        /// `host:port` as written in the URL, which is what a user recognises.
        addr: String,
        /// The resolver's or the socket's error.
        #[source]
        source: io::Error,
    },
    /// Reading or writing the socket failed once connected.
    #[error("tracker connection failed")]
    Io(#[source] io::Error),
    /// The HTTP tracker answered with a non-2xx status (after following redirects).
    #[error("tracker answered http status {0}")]
    HttpStatus(u16),
    /// The answer broke the protocol: bad HTTP framing, an oversized body, an undecodable
    /// bencode or UDP packet.
    #[error("bad tracker response: {0}")]
    BadResponse(String),
    /// The tracker understood us and refused, saying why (`failure reason`, a BEP 15 error).
    #[error("tracker refused: {0}")]
    Failure(String),
    /// The URL's scheme is one we cannot speak (yet), such as `https` or `wss`.
    #[error("{0} trackers are not supported yet")]
    UnsupportedScheme(String),
    /// The URL has no host, or a redirect pointed at something that is not a URL.
    #[error("invalid tracker url: {0}")]
    BadUrl(String),
}

/// Transport settings for [`announce`], one per transport.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransportConfig {
    /// For `http://` trackers.
    pub http: HttpConfig,
    /// For `udp://` trackers.
    pub udp: UdpConfig,
}

/// A successful announce and what the transport learned along the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announced {
    /// The tracker's answer, in the transport-independent form.
    pub response: AnnounceResponse,
    /// For UDP trackers, the connection id used, so the caller can reuse it for the next
    /// announce within its lifetime (BEP 15) instead of paying another round trip.
    pub udp_connection: Option<ConnectionId>,
}

/// The schemes [`announce`] speaks.
pub const SUPPORTED_SCHEMES: [&str; 2] = ["http", "udp"];

/// Parses a tracker URL from a torrent and checks that [`announce`] can use it: a URL that
/// does not parse is [`TrackerError::BadUrl`], one with another scheme (`https`, `wss`) is
/// [`TrackerError::UnsupportedScheme`]. Either is permanent: announcing again cannot help.
pub fn usable_url(url: &str) -> Result<Url, TrackerError> {
    let parsed = Url::parse(url).map_err(|err| TrackerError::BadUrl(format!("{url}: {err}")))?;
    if !SUPPORTED_SCHEMES.contains(&parsed.scheme()) {
        return Err(TrackerError::UnsupportedScheme(parsed.scheme().to_owned()));
    }
    Ok(parsed)
}

/// Splits a torrent's tiers into the trackers [`announce`] can use, tier by tier in order, and
/// the others with why ([`usable_url`]).
pub fn split_usable(tiers: Vec<Vec<String>>) -> (Vec<Vec<String>>, Vec<(String, TrackerError)>) {
    let mut unusable = Vec::new();
    let usable = tiers
        .into_iter()
        .map(|tier| {
            tier.into_iter()
                .filter(|url| match usable_url(url) {
                    Ok(_) => true,
                    Err(error) => {
                        unusable.push((url.clone(), error));
                        false
                    }
                })
                .collect()
        })
        .collect();
    (usable, unusable)
}

/// Announces `req` to the tracker at `url`, choosing HTTP or UDP by the URL's scheme.
///
/// `udp_connection` is a connection id an earlier UDP announce to the same tracker returned; it
/// is used only while fresh. Other schemes fail with [`TrackerError::UnsupportedScheme`].
pub async fn announce(
    url: &Url,
    req: &AnnounceRequest,
    config: &TransportConfig,
    udp_connection: Option<ConnectionId>,
) -> Result<Announced, TrackerError> {
    match url.scheme() {
        "http" => {
            let response = http_client::announce(url, req, &config.http).await?;
            Ok(Announced {
                response,
                udp_connection: None,
            })
        }
        "udp" => {
            let (response, connection) =
                udp_client::announce(url, req, udp_connection, &config.udp).await?;
            Ok(Announced {
                response,
                udp_connection: Some(connection),
            })
        }
        other => Err(TrackerError::UnsupportedScheme(other.to_owned())),
    }
}

/// `host:port` of a URL, with the scheme's default port, for connecting and for error messages.
fn host_port(url: &Url) -> Result<(String, u16), TrackerError> {
    let host = url
        .host_str()
        .filter(|host| !host.is_empty())
        .ok_or_else(|| TrackerError::BadUrl(format!("{url} has no host")))?;
    let port = url
        .port_or_known_default()
        .ok_or_else(|| TrackerError::BadUrl(format!("{url} has no port")))?;
    // `host_str` keeps the brackets of an IPv6 literal, which `lookup_host` does not accept.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok((host.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_uses_default_ports_and_strips_brackets() {
        let url = Url::parse("http://tracker.example/announce").unwrap();
        assert_eq!(host_port(&url).unwrap(), ("tracker.example".into(), 80));
        let url = Url::parse("udp://[::1]:6969/announce").unwrap();
        assert_eq!(host_port(&url).unwrap(), ("::1".into(), 6969));
        let url = Url::parse("udp://tracker.example/announce").unwrap();
        assert!(matches!(host_port(&url), Err(TrackerError::BadUrl(_))));
    }

    #[test]
    fn only_http_and_udp_urls_are_usable() {
        assert!(usable_url("http://127.0.0.1:1/announce").is_ok());
        assert!(usable_url("udp://tracker.example:6969").is_ok());
        assert!(matches!(
            usable_url("https://tracker.example/announce"),
            Err(TrackerError::UnsupportedScheme(s)) if s == "https"
        ));
        assert!(matches!(
            usable_url("wss://tracker.example"),
            Err(TrackerError::UnsupportedScheme(_))
        ));
        assert!(matches!(
            usable_url("not a url"),
            Err(TrackerError::BadUrl(_))
        ));
    }

    #[test]
    fn unusable_trackers_are_split_off_in_order() {
        let tiers = vec![
            vec![
                "https://a/announce".to_owned(),
                "http://b/announce".to_owned(),
            ],
            vec!["wss://c".to_owned()],
            vec!["udp://d:1".to_owned()],
        ];
        let (usable, unusable) = split_usable(tiers);
        assert_eq!(
            usable,
            [vec!["http://b/announce"], vec![], vec!["udp://d:1"]]
        );
        let urls: Vec<&str> = unusable.iter().map(|(url, _)| url.as_str()).collect();
        assert_eq!(urls, ["https://a/announce", "wss://c"]);
    }

    #[test]
    fn unsupported_scheme_says_so_plainly() {
        let err = TrackerError::UnsupportedScheme("https".into());
        assert_eq!(err.to_string(), "https trackers are not supported yet");
    }
}
