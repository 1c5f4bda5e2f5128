//! The announce query (BEP 3): built by the client, parsed by a (mock) tracker.

use percent_encoding::{percent_decode_str, percent_encode};
use url::Url;

use super::{BINARY_PARAM, TrackerRequestError, append_query, query_pairs};
use crate::tracker::{AnnounceEvent, AnnounceRequest};
use crate::types::{InfoHash, PeerId};

/// The announce URL for `req`: `announce` with every BEP 3 parameter appended to whatever query
/// it already has.
///
/// `info_hash`, `peer_id` and `trackerid` are percent-encoded byte for byte; `key` is sent as
/// eight hex digits, as libtorrent and Transmission do; `event` is left out for
/// [`AnnounceEvent::None`]; `compact=1` only when asked for.
pub fn announce_url(announce: &Url, req: &AnnounceRequest) -> Url {
    let mut params = vec![
        format!(
            "info_hash={}",
            percent_encode(req.info_hash.as_bytes(), BINARY_PARAM)
        ),
        format!(
            "peer_id={}",
            percent_encode(req.peer_id.as_bytes(), BINARY_PARAM)
        ),
        format!("port={}", req.port),
        format!("uploaded={}", req.uploaded),
        format!("downloaded={}", req.downloaded),
        format!("left={}", req.left),
    ];
    if req.compact {
        params.push("compact=1".to_owned());
    }
    if let Some(numwant) = req.numwant {
        params.push(format!("numwant={numwant}"));
    }
    if let Some(key) = req.key {
        params.push(format!("key={key:08X}"));
    }
    if let Some(event) = req.event.as_http_str() {
        params.push(format!("event={event}"));
    }
    if let Some(id) = &req.tracker_id {
        params.push(format!("trackerid={}", percent_encode(id, BINARY_PARAM)));
    }
    append_query(announce, &params.join("&"))
}

/// The fields of an announce query as they are found, before the required ones are checked.
#[derive(Default)]
struct Fields {
    info_hash: Option<InfoHash>,
    peer_id: Option<PeerId>,
    port: Option<u16>,
    uploaded: Option<u64>,
    downloaded: Option<u64>,
    left: Option<u64>,
    event: Option<AnnounceEvent>,
    numwant: Option<u32>,
    key: Option<u32>,
    tracker_id: Option<Vec<u8>>,
    compact: Option<bool>,
}

/// Parses the query string of an announce (server side), with or without its leading `?`.
///
/// `info_hash` and `peer_id` must decode to exactly 20 bytes; `port`, `uploaded`, `downloaded`
/// and `left` are required; a known parameter given twice is an error; unknown ones (a passkey,
/// `ip`, `no_peer_id`) are ignored. `event=empty` means no event, as BEP 3 allows; `key` is read
/// as hex, the way [`announce_url`] writes it.
pub fn parse_announce_request(query: &str) -> Result<AnnounceRequest, TrackerRequestError> {
    let mut f = Fields::default();
    for (name, value) in query_pairs(query) {
        match name {
            "info_hash" => set(&mut f.info_hash, "info_hash", bytes20(value).map(InfoHash))?,
            "peer_id" => set(&mut f.peer_id, "peer_id", bytes20(value).map(PeerId))?,
            "port" => set(&mut f.port, "port", value.parse().ok())?,
            "uploaded" => set(&mut f.uploaded, "uploaded", value.parse().ok())?,
            "downloaded" => set(&mut f.downloaded, "downloaded", value.parse().ok())?,
            "left" => set(&mut f.left, "left", value.parse().ok())?,
            "event" => set(&mut f.event, "event", parse_event(value))?,
            "numwant" => set(&mut f.numwant, "numwant", value.parse().ok())?,
            "key" => set(&mut f.key, "key", u32::from_str_radix(value, 16).ok())?,
            "trackerid" => set(&mut f.tracker_id, "trackerid", Some(decode(value)))?,
            "compact" => set(&mut f.compact, "compact", Some(value == "1"))?,
            _ => {}
        }
    }
    let missing = TrackerRequestError::Missing;
    Ok(AnnounceRequest {
        info_hash: f.info_hash.ok_or(missing("info_hash"))?,
        peer_id: f.peer_id.ok_or(missing("peer_id"))?,
        port: f.port.ok_or(missing("port"))?,
        uploaded: f.uploaded.ok_or(missing("uploaded"))?,
        downloaded: f.downloaded.ok_or(missing("downloaded"))?,
        left: f.left.ok_or(missing("left"))?,
        event: f.event.unwrap_or_default(),
        numwant: f.numwant,
        key: f.key,
        tracker_id: f.tracker_id,
        compact: f.compact.unwrap_or(false),
    })
}

/// Stores a parsed value once: a second occurrence or a value that did not parse is an error.
fn set<T>(
    slot: &mut Option<T>,
    name: &'static str,
    value: Option<T>,
) -> Result<(), TrackerRequestError> {
    if slot.is_some() {
        return Err(TrackerRequestError::Duplicate(name));
    }
    *slot = Some(value.ok_or(TrackerRequestError::Invalid(name))?);
    Ok(())
}

/// Percent-decodes a value to raw bytes; `+` stays a literal `+`, as binary parameters need.
pub(super) fn decode(value: &str) -> Vec<u8> {
    percent_decode_str(value).collect()
}

/// Percent-decodes a value that must be exactly 20 bytes.
pub(super) fn bytes20(value: &str) -> Option<[u8; 20]> {
    decode(value).try_into().ok()
}

/// The BEP 3 `event` values; `empty` is the same as no event.
fn parse_event(value: &str) -> Option<AnnounceEvent> {
    match value {
        "started" => Some(AnnounceEvent::Started),
        "completed" => Some(AnnounceEvent::Completed),
        "stopped" => Some(AnnounceEvent::Stopped),
        "empty" | "" => Some(AnnounceEvent::None),
        _ => None,
    }
}
