//! The bencoded announce response (BEP 3, BEP 23 compact peers, BEP 7 `peers6`): parsed by the
//! client, encoded by a (mock) tracker.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};
use serde_bencode::value::Value;
use serde_bytes::ByteBuf;

use super::{TrackerResponseError, decode_body, lossy, to_u32};
use crate::tracker::compact::{decode_compact, encode_compact};
use crate::tracker::{AnnounceResponse, MAX_PEERS, TrackerPeer};
use crate::types::PeerId;

/// Bytes per compact IPv4 peer: address then port, big-endian (BEP 23).
const V4_ENTRY: usize = 6;
/// Bytes per compact IPv6 peer (BEP 7).
const V6_ENTRY: usize = 18;

/// An announce response as bencoded; unknown keys are skipped by serde.
#[derive(Deserialize)]
struct RawResponse {
    #[serde(rename = "failure reason", default, with = "serde_bytes")]
    failure: Option<Vec<u8>>,
    #[serde(rename = "warning message", default, with = "serde_bytes")]
    warning: Option<Vec<u8>>,
    interval: Option<i64>,
    #[serde(rename = "min interval")]
    min_interval: Option<i64>,
    #[serde(rename = "tracker id", default, with = "serde_bytes")]
    tracker_id: Option<Vec<u8>>,
    complete: Option<i64>,
    incomplete: Option<i64>,
    peers: Option<Value>,
    #[serde(default, with = "serde_bytes")]
    peers6: Option<Vec<u8>>,
}

/// Parses a tracker's announce response body.
///
/// A `failure reason` becomes [`TrackerResponseError::Failure`]; a missing or out-of-range
/// `interval` is an error. Everything else is read leniently, as libtorrent does, since one odd
/// field should not cost us the peers:
/// - `peers` may be compact (BEP 23) or a list of dictionaries. A compact string whose length
///   is not a multiple of 6 gives its whole entries and the remainder is ignored; in a list, a
///   peer that is not a dictionary, lacks `ip` or `port`, has a port outside 0-65535, or whose
///   `ip` is a hostname rather than an IP literal is skipped.
/// - `peers6` (BEP 7) follows the IPv4 peers, read like compact `peers` in 18-byte entries.
/// - `min interval`, `complete` and `incomplete` that are negative or over `u32::MAX` read as
///   absent.
///
/// At most [`MAX_PEERS`] peers are kept. Unknown keys are ignored.
pub fn parse_announce_response(body: &[u8]) -> Result<AnnounceResponse, TrackerResponseError> {
    let raw: RawResponse = decode_body(body, |raw: &RawResponse| raw.failure.as_deref())?;
    let interval = raw
        .interval
        .ok_or(TrackerResponseError::Missing("interval"))?;
    let opt = |value: Option<i64>| value.and_then(|v| u32::try_from(v).ok());
    let mut peers = match &raw.peers {
        None => Vec::new(),
        Some(Value::Bytes(compact)) => compact_peers(compact, V4_ENTRY),
        Some(Value::List(list)) => dict_peers(list),
        Some(_) => {
            let what = "`peers` is neither a string nor a list".to_owned();
            return Err(TrackerResponseError::Malformed(what));
        }
    };
    if let Some(compact6) = &raw.peers6 {
        peers.extend(compact_peers(compact6, V6_ENTRY));
    }
    peers.truncate(MAX_PEERS);
    Ok(AnnounceResponse {
        interval: to_u32(interval, "interval")?,
        min_interval: opt(raw.min_interval),
        tracker_id: raw.tracker_id,
        complete: opt(raw.complete),
        incomplete: opt(raw.incomplete),
        warning: raw.warning.as_deref().map(lossy),
        peers,
    })
}

/// Decodes a compact peer string: `entry` is 6 (IPv4) or 18 (IPv6) bytes per peer; a partial
/// entry at the end is ignored.
fn compact_peers(bytes: &[u8], entry: usize) -> Vec<TrackerPeer> {
    bytes
        .chunks_exact(entry)
        .take(MAX_PEERS)
        .filter_map(|chunk| {
            let addr = decode_compact(chunk)?;
            Some(TrackerPeer {
                addr,
                peer_id: None,
            })
        })
        .collect()
}

/// Decodes the dictionary form of `peers`, skipping entries that do not give a usable address.
fn dict_peers(list: &[Value]) -> Vec<TrackerPeer> {
    list.iter().filter_map(dict_peer).take(MAX_PEERS).collect()
}

/// One dictionary peer; `None` when it is malformed or its `ip` is a hostname.
fn dict_peer(item: &Value) -> Option<TrackerPeer> {
    let Value::Dict(dict) = item else {
        return None;
    };
    let Some(Value::Bytes(ip)) = dict.get(b"ip".as_slice()) else {
        return None;
    };
    let Some(Value::Int(port)) = dict.get(b"port".as_slice()) else {
        return None;
    };
    let port = u16::try_from(*port).ok()?;
    let ip = parse_ip(ip)?;
    let peer_id = match dict.get(b"peer id".as_slice()) {
        Some(Value::Bytes(id)) => <[u8; 20]>::try_from(id.as_slice()).ok().map(PeerId),
        _ => None,
    };
    Some(TrackerPeer {
        addr: SocketAddr::new(ip, port),
        peer_id,
    })
}

/// An IP literal (IPv6 with or without brackets), or `None` for a hostname or garbage.
fn parse_ip(text: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(text).ok()?;
    let text = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    text.parse().ok()
}

/// An announce response to bencode; serde_bencode sorts the keys as bencode requires.
#[derive(Serialize)]
struct OutResponse<'a> {
    interval: u32,
    #[serde(rename = "min interval", skip_serializing_if = "Option::is_none")]
    min_interval: Option<u32>,
    #[serde(rename = "tracker id", skip_serializing_if = "Option::is_none")]
    tracker_id: Option<ByteBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    complete: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    incomplete: Option<u32>,
    #[serde(rename = "warning message", skip_serializing_if = "Option::is_none")]
    warning: Option<&'a str>,
    peers: OutPeers,
    #[serde(skip_serializing_if = "Option::is_none")]
    peers6: Option<ByteBuf>,
}

/// The two shapes of `peers`.
#[derive(Serialize)]
#[serde(untagged)]
enum OutPeers {
    Compact(ByteBuf),
    Dicts(Vec<HashMap<&'static str, Value>>),
}

/// Encodes an announce response (server side).
///
/// With `compact`, IPv4 peers go into `peers` (6 bytes each) and IPv6 peers into `peers6`
/// (18 bytes each, only when there are some), and peer ids are dropped; without it, every peer
/// is a dictionary in `peers` with `ip`, `port` and `peer id` when known.
pub fn encode_announce_response(resp: &AnnounceResponse, compact: bool) -> Vec<u8> {
    let (peers, peers6) = if compact {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for peer in &resp.peers {
            let out = if peer.addr.is_ipv4() {
                &mut v4
            } else {
                &mut v6
            };
            encode_compact(&peer.addr, out);
        }
        let v6 = (!v6.is_empty()).then(|| ByteBuf::from(v6));
        (OutPeers::Compact(ByteBuf::from(v4)), v6)
    } else {
        (
            OutPeers::Dicts(resp.peers.iter().map(peer_dict).collect()),
            None,
        )
    };
    let out = OutResponse {
        interval: resp.interval,
        min_interval: resp.min_interval,
        tracker_id: resp.tracker_id.clone().map(ByteBuf::from),
        complete: resp.complete,
        incomplete: resp.incomplete,
        warning: resp.warning.as_deref(),
        peers,
        peers6,
    };
    serde_bencode::to_bytes(&out).expect("invariant: a response of plain fields always encodes")
}

/// One peer in the dictionary form.
fn peer_dict(peer: &TrackerPeer) -> HashMap<&'static str, Value> {
    let mut dict = HashMap::new();
    dict.insert("ip", Value::Bytes(peer.addr.ip().to_string().into_bytes()));
    dict.insert("port", Value::Int(i64::from(peer.addr.port())));
    if let Some(id) = peer.peer_id {
        dict.insert("peer id", Value::Bytes(id.0.to_vec()));
    }
    dict
}

/// Encodes a refusal: a dictionary with only `failure reason` (server side).
pub fn encode_failure(reason: &str) -> Vec<u8> {
    #[derive(Serialize)]
    struct Failure<'a> {
        #[serde(rename = "failure reason")]
        reason: &'a str,
    }
    serde_bencode::to_bytes(&Failure { reason }).expect("invariant: a string always encodes")
}
