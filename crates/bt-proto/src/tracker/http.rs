//! HTTP trackers: announce and scrape URLs, and their bencoded responses (BEP 3, BEP 23, BEP 7,
//! BEP 48), for the client and for a (mock) tracker.
//!
//! Binary parameters (`info_hash`, `peer_id`, `trackerid`) are percent-encoded byte for byte by
//! this module, leaving only the RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) as they
//! are. The query is built as a string here and handed to [`Url::set_query`](url::Url::set_query)
//! already encoded, so `url` has nothing left to re-encode.
//!
//! Responses are untrusted: before `serde_bencode` sees a body, a small guard rejects one
//! over [`MAX_RESPONSE_LEN`] bytes, nested deeper than [`MAX_DEPTH`] (serde_bencode recurses
//! once per level and would overflow the stack on hostile input), or holding more than
//! [`MAX_RESPONSE_TOKENS`] values (serde_bencode builds an owned value for each, tens of bytes
//! apiece: 2 MiB of empty dictionaries cost 57 MB before this limit).
//!
//! # Layout
//! - `request`: [`announce_url`] and the server side [`parse_announce_request`].
//! - `response`: [`parse_announce_response`], [`encode_announce_response`], [`encode_failure`].
//! - `scrape`: [`scrape_url`], [`parse_scrape_request`], [`parse_scrape_response`],
//!   [`encode_scrape_response`].

#[cfg(test)]
mod proptests;
mod request;
mod response;
mod scrape;
#[cfg(test)]
mod tests;

use crate::bencode::{self, BencodeError};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

pub use request::{announce_url, parse_announce_request};
pub use response::{encode_announce_response, encode_failure, parse_announce_response};
pub use scrape::{encode_scrape_response, parse_scrape_request, parse_scrape_response, scrape_url};

/// The largest response body we parse; a real announce with 200 peers is a few KiB.
pub const MAX_RESPONSE_LEN: usize = 2 * 1024 * 1024;

/// The deepest list/dictionary nesting we let `serde_bencode` recurse into; real responses nest
/// three levels (response, peer list, peer).
pub const MAX_DEPTH: usize = bencode::MAX_DEPTH;

/// The most values (integers, strings, lists, dictionaries, keys included) a response may hold.
/// The largest real response is [`crate::tracker::MAX_PEERS`] (10,000) peers in the dictionary
/// form at 7 values each (the dictionary, `ip`, `port` and `peer id` with their keys), 70,000;
/// a scrape of the 74 torrents a UDP packet could ask about is under 1,000.
pub const MAX_RESPONSE_TOKENS: usize = 100_000;

/// Everything but the RFC 3986 unreserved characters is percent-encoded (BEP 3).
const BINARY_PARAM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Why a tracker's response could not be used.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum TrackerResponseError {
    /// The tracker refused the request and said why (`failure reason`).
    #[error("tracker failure: {0}")]
    Failure(String),
    /// The body is larger than [`MAX_RESPONSE_LEN`].
    #[error("response is {len} bytes, over the limit of {max}")]
    TooLarge {
        /// The body's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Lists and dictionaries nest deeper than [`MAX_DEPTH`].
    #[error("response nests deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The body holds more than [`MAX_RESPONSE_TOKENS`] values.
    #[error("response holds more than {max} values")]
    TooManyValues {
        /// The limit.
        max: usize,
    },
    /// The body is not bencode, or not the dictionary shape a tracker sends.
    #[error("malformed response: {0}")]
    Malformed(String),
    /// A required key is absent.
    #[error("response has no `{0}`")]
    Missing(&'static str),
    /// A number is negative or does not fit its type.
    #[error("`{0}` is out of range")]
    OutOfRange(&'static str),
    /// A scrape `files` key is not a 20-byte info-hash.
    #[error("scrape key of {0} bytes is not an info-hash")]
    BadScrapeKey(usize),
}

/// Why an announce query (server side) could not be parsed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum TrackerRequestError {
    /// A required parameter is absent.
    #[error("missing parameter `{0}`")]
    Missing(&'static str),
    /// A parameter appears twice.
    #[error("duplicate parameter `{0}`")]
    Duplicate(&'static str),
    /// A parameter's value does not parse (wrong length, not a number, unknown event).
    #[error("invalid parameter `{0}`")]
    Invalid(&'static str),
}

/// Rejects a body before `serde_bencode` parses it: over [`MAX_RESPONSE_LEN`], nested deeper than
/// [`MAX_DEPTH`], holding more than [`MAX_RESPONSE_TOKENS`] values, or not a well-formed bencode
/// value, using the shared scanner in
/// [`crate::bencode`] (iterative, allocation-free). Returns the length of the first value: bytes
/// after it are ignored, as some trackers append a newline.
fn guard_bencode(body: &[u8]) -> Result<usize, TrackerResponseError> {
    if body.len() > MAX_RESPONSE_LEN {
        return Err(TrackerResponseError::TooLarge {
            len: body.len(),
            max: MAX_RESPONSE_LEN,
        });
    }
    match bencode::value_end_limited(body, 0, MAX_RESPONSE_TOKENS) {
        Ok(end) => Ok(end),
        Err(BencodeError::TooDeep { .. }) => Err(TrackerResponseError::TooDeep { max: MAX_DEPTH }),
        Err(BencodeError::TooManyTokens { max, .. }) => {
            Err(TrackerResponseError::TooManyValues { max })
        }
        Err(other) => Err(TrackerResponseError::Malformed(other.to_string())),
    }
}

/// Parses a body into `T` after [`guard_bencode`] let it through.
fn decode_guarded<'de, T: serde::Deserialize<'de>>(
    body: &'de [u8],
) -> Result<T, TrackerResponseError> {
    let end = guard_bencode(body)?;
    let body = body.get(..end).unwrap_or_default();
    serde_bencode::from_bytes(body).map_err(|e| TrackerResponseError::Malformed(e.to_string()))
}

/// The `failure reason` alone, for a body whose other keys do not fit the expected shape.
#[derive(serde::Deserialize)]
struct FailureOnly {
    #[serde(rename = "failure reason", default, with = "serde_bytes")]
    failure: Option<Vec<u8>>,
}

/// Parses a tracker body into `T`, turning a `failure reason` into
/// [`TrackerResponseError::Failure`] even when the rest of the body is malformed.
fn decode_body<'de, T, F>(body: &'de [u8], failure: F) -> Result<T, TrackerResponseError>
where
    T: serde::Deserialize<'de>,
    F: Fn(&T) -> Option<&[u8]>,
{
    let reason = |bytes: &[u8]| TrackerResponseError::Failure(lossy(bytes));
    match decode_guarded::<T>(body) {
        Ok(raw) => match failure(&raw) {
            Some(bytes) => Err(reason(bytes)),
            None => Ok(raw),
        },
        Err(
            err @ (TrackerResponseError::TooLarge { .. }
            | TrackerResponseError::TooDeep { .. }
            | TrackerResponseError::TooManyValues { .. }),
        ) => Err(err),
        Err(err) => match decode_guarded::<FailureOnly>(body) {
            Ok(FailureOnly {
                failure: Some(bytes),
            }) => Err(reason(&bytes)),
            _ => Err(err),
        },
    }
}

/// Text a tracker sent, which should be UTF-8 but is not always.
fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Converts a bencode integer into `u32`, naming the field if it does not fit.
fn to_u32(value: i64, field: &'static str) -> Result<u32, TrackerResponseError> {
    u32::try_from(value).map_err(|_| TrackerResponseError::OutOfRange(field))
}

/// Splits a query string into raw `(key, value)` pairs, skipping empty segments; a segment with
/// no `=` has an empty value.
fn query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    let query = query.strip_prefix('?').unwrap_or(query);
    query
        .split('&')
        .filter(|segment| !segment.is_empty())
        .map(|segment| segment.split_once('=').unwrap_or((segment, "")))
}

/// Appends `params` (already encoded, `&`-separated) to the query of `base`, keeping whatever
/// the base URL already carries (a passkey, say).
fn append_query(base: &url::Url, params: &str) -> url::Url {
    let mut url = base.clone();
    let query = match base.query() {
        Some(existing) if !existing.is_empty() => {
            let sep = if existing.ends_with('&') { "" } else { "&" };
            format!("{existing}{sep}{params}")
        }
        _ => params.to_owned(),
    };
    url.set_query(Some(&query));
    url
}
