//! HTTP scrape (BEP 48): the scrape URL derived from an announce URL, its query, and the
//! bencoded `files` dictionary, both directions.

use std::collections::BTreeMap;

use percent_encoding::percent_encode;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use url::Url;

use super::request::bytes20;
use super::{BINARY_PARAM, TrackerResponseError, append_query, decode_body, query_pairs, to_u32};
use crate::tracker::ScrapeStats;
use crate::types::InfoHash;

/// The scrape URL for `hashes`, or `None` when the tracker has none.
///
/// BEP 48: only an HTTP(S) announce URL whose last path segment starts with `announce` has a
/// scrape URL, made by replacing that `announce` with `scrape` (`/x/announce.php?k=v` becomes
/// `/x/scrape.php?k=v`). The existing query is kept and one `info_hash` per hash is appended;
/// with no hashes the tracker reports every torrent it knows.
pub fn scrape_url(announce: &Url, hashes: &[InfoHash]) -> Option<Url> {
    if !matches!(announce.scheme(), "http" | "https") {
        return None;
    }
    let (dir, last) = announce.path().rsplit_once('/')?;
    let rest = last.strip_prefix("announce")?;
    let mut url = announce.clone();
    url.set_path(&format!("{dir}/scrape{rest}"));
    if hashes.is_empty() {
        return Some(url);
    }
    let params: Vec<String> = hashes
        .iter()
        .map(|hash| {
            format!(
                "info_hash={}",
                percent_encode(hash.as_bytes(), BINARY_PARAM)
            )
        })
        .collect();
    Some(append_query(&url, &params.join("&")))
}

/// The info-hashes a scrape query asks about (server side), in order; values that do not decode
/// to 20 bytes are skipped.
pub fn parse_scrape_request(query: &str) -> Vec<InfoHash> {
    query_pairs(query)
        .filter(|(name, _)| *name == "info_hash")
        .filter_map(|(_, value)| bytes20(value).map(InfoHash))
        .collect()
}

/// A scrape response as bencoded; unknown keys (`flags`, per-file `name`) are skipped.
#[derive(Deserialize)]
struct RawScrape {
    #[serde(rename = "failure reason", default, with = "serde_bytes")]
    failure: Option<Vec<u8>>,
    files: Option<BTreeMap<ByteBuf, RawStats>>,
}

/// One torrent's counts; a missing count reads as 0.
#[derive(Deserialize, Serialize)]
struct RawStats {
    complete: Option<i64>,
    downloaded: Option<i64>,
    incomplete: Option<i64>,
}

/// Parses a scrape response body: the `files` dictionary keyed by 20-byte binary info-hashes.
///
/// A `failure reason` becomes [`TrackerResponseError::Failure`]; a key that is not 20 bytes or a
/// negative count is an error.
pub fn parse_scrape_response(
    body: &[u8],
) -> Result<BTreeMap<InfoHash, ScrapeStats>, TrackerResponseError> {
    let raw: RawScrape = decode_body(body, |raw: &RawScrape| raw.failure.as_deref())?;
    let files = raw.files.ok_or(TrackerResponseError::Missing("files"))?;
    let count = |value: Option<i64>, field| to_u32(value.unwrap_or(0), field);
    let mut out = BTreeMap::new();
    for (key, stats) in files {
        let hash = <[u8; 20]>::try_from(key.as_slice())
            .map_err(|_| TrackerResponseError::BadScrapeKey(key.len()))?;
        let stats = ScrapeStats {
            complete: count(stats.complete, "complete")?,
            downloaded: count(stats.downloaded, "downloaded")?,
            incomplete: count(stats.incomplete, "incomplete")?,
        };
        out.insert(InfoHash(hash), stats);
    }
    Ok(out)
}

/// Encodes a scrape response (server side): `files` with one dictionary per info-hash.
pub fn encode_scrape_response(files: &BTreeMap<InfoHash, ScrapeStats>) -> Vec<u8> {
    #[derive(Serialize)]
    struct Out {
        files: BTreeMap<ByteBuf, RawStats>,
    }
    let files = files
        .iter()
        .map(|(hash, stats)| {
            let stats = RawStats {
                complete: Some(i64::from(stats.complete)),
                downloaded: Some(i64::from(stats.downloaded)),
                incomplete: Some(i64::from(stats.incomplete)),
            };
            (ByteBuf::from(hash.0.to_vec()), stats)
        })
        .collect();
    serde_bencode::to_bytes(&Out { files }).expect("invariant: counts and byte keys always encode")
}
