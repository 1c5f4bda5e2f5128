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
/// A `failure reason` becomes [`TrackerResponseError::Failure`]. `peers` may be compact (BEP 23)
/// or a list of dictionaries; in a list, a peer whose `ip` is a hostname rather than an IP
/// literal is skipped. `peers6` (BEP 7) follows the IPv4 peers. At most [`MAX_PEERS`] peers are
/// kept. Unknown keys are ignored; a missing `interval` is an error.
pub fn parse_announce_response(body: &[u8]) -> Result<AnnounceResponse, TrackerResponseError> {
    let raw: RawResponse = decode_body(body, |raw: &RawResponse| raw.failure.as_deref())?;
    let interval = raw
        .interval
        .ok_or(TrackerResponseError::Missing("interval"))?;
    let opt = |value: Option<i64>, field| value.map(|v| to_u32(v, field)).transpose();
    let mut peers = match &raw.peers {
        None => Vec::new(),
        Some(Value::Bytes(compact)) => compact_peers(compact, "peers", V4_ENTRY)?,
        Some(Value::List(list)) => dict_peers(list)?,
        Some(_) => {
            let what = "`peers` is neither a string nor a list".to_owned();
            return Err(TrackerResponseError::Malformed(what));
        }
    };
    if let Some(compact6) = &raw.peers6 {
        peers.extend(compact_peers(compact6, "peers6", V6_ENTRY)?);
    }
    peers.truncate(MAX_PEERS);
    Ok(AnnounceResponse {
        interval: to_u32(interval, "interval")?,
        min_interval: opt(raw.min_interval, "min interval")?,
        tracker_id: raw.tracker_id,
        complete: opt(raw.complete, "complete")?,
        incomplete: opt(raw.incomplete, "incomplete")?,
        warning: raw.warning.as_deref().map(lossy),
        peers,
    })
}

/// Decodes a compact peer string: `entry` is 6 (IPv4) or 18 (IPv6) bytes per peer.
fn compact_peers(
    bytes: &[u8],
    field: &'static str,
    entry: usize,
) -> Result<Vec<TrackerPeer>, TrackerResponseError> {
    if bytes.len() % entry != 0 {
        return Err(TrackerResponseError::CompactLength {
            field,
            len: bytes.len(),
            entry,
        });
    }
    let peers = bytes
        .chunks_exact(entry)
        .take(MAX_PEERS)
        .filter_map(|chunk| {
            let addr = decode_compact(chunk)?;
            Some(TrackerPeer {
                addr,
                peer_id: None,
            })
        });
    Ok(peers.collect())
}

/// Decodes the dictionary form of `peers`, skipping hostnames.
fn dict_peers(list: &[Value]) -> Result<Vec<TrackerPeer>, TrackerResponseError> {
    let mut peers = Vec::new();
    for (index, item) in list.iter().enumerate() {
        if peers.len() >= MAX_PEERS {
            break;
        }
        peers.extend(dict_peer(item, index)?);
    }
    Ok(peers)
}

/// One dictionary peer; `Ok(None)` when its `ip` is a hostname.
fn dict_peer(item: &Value, index: usize) -> Result<Option<TrackerPeer>, TrackerResponseError> {
    let bad = || TrackerResponseError::BadPeer(index);
    let Value::Dict(dict) = item else {
        return Err(bad());
    };
    let Some(Value::Bytes(ip)) = dict.get(b"ip".as_slice()) else {
        return Err(bad());
    };
    let Some(Value::Int(port)) = dict.get(b"port".as_slice()) else {
        return Err(bad());
    };
    let port = u16::try_from(*port).map_err(|_| bad())?;
    let Some(ip) = parse_ip(ip) else {
        return Ok(None);
    };
    let peer_id = match dict.get(b"peer id".as_slice()) {
        Some(Value::Bytes(id)) => <[u8; 20]>::try_from(id.as_slice()).ok().map(PeerId),
        _ => None,
    };
    Ok(Some(TrackerPeer {
        addr: SocketAddr::new(ip, port),
        peer_id,
    }))
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
