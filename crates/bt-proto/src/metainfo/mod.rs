//! `.torrent` files: BEP 3 metainfo, BEP 12 announce-list tiers, BEP 27 private flag.
//!
//! [`Metainfo::from_bytes`] checks the size, runs the [`crate::bencode`] scanner over the whole
//! input (depth and length limits), takes the original bytes of the `info` value from the
//! scanner's span, hashes them for the info-hash, and only then lets serde_bencode decode the
//! typed fields. The info-hash is never computed from a re-encoding.
//!
//! Validation follows the rule "a torrent is hostile until checked": each path component and
//! the name are safe on disk, lengths add up without overflow, the piece count matches the total
//! length. Unknown keys are ignored; BEP 47 padding files are accepted as ordinary files. Keys of
//! the top-level and `info` dictionaries must be UTF-8 (serde matches them against field names)
//! and must not repeat.
//!
//! # Layout
//! - `info`: [`Info`] and [`FileEntry`], the checked `info` dictionary.
//! - `error`: [`MetainfoError`].
//! - `path`: [`path_component_problem`], the check on names and path components.
//! - `raw`: turning loose bencode values into typed fields.

mod error;
mod info;
mod path;
mod raw;

use serde::Deserialize;
use serde_bencode::value::Value;
use sha1::{Digest, Sha1};

pub use error::MetainfoError;
pub use info::{FileEntry, Info};
pub use path::path_component_problem;

use crate::InfoHash;
use crate::bencode::{self, write_bytes, write_int};
use raw::{int_field, list_field, utf8_field, wrong_type};

/// The largest `.torrent` (or info dictionary) we parse, checked before parsing. A torrent of
/// 64 MiB holds over three million piece hashes.
pub const MAX_METAINFO_LEN: usize = 64 << 20;

/// The largest `piece length` we accept: 256 MiB. Real torrents use 16 KiB to 16 MiB; a larger
/// piece would have to be held in memory whole to verify it.
pub const MAX_PIECE_LENGTH: u32 = 256 << 20;

/// A parsed, validated `.torrent` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metainfo {
    /// The checked `info` dictionary.
    pub info: Info,
    /// SHA-1 of [`Self::info_bytes`]: the torrent's identity.
    pub info_hash: InfoHash,
    /// The original bytes of the `info` value, exactly as in the file, so that BEP 9 can serve
    /// them to peers and the hash never depends on our encoder.
    pub info_bytes: Vec<u8>,
    /// The `announce` URL (BEP 3), if any.
    pub announce: Option<String>,
    /// BEP 12 tiers of tracker URLs; empty tiers and empty URLs are dropped.
    pub announce_list: Vec<Vec<String>>,
    /// Free-form `comment` (converted lossily if it is not UTF-8: it is only ever displayed).
    pub comment: Option<String>,
    /// `created by`: the program that made the torrent (lossy UTF-8, like `comment`).
    pub created_by: Option<String>,
    /// `creation date`, seconds since the Unix epoch.
    pub creation_date: Option<i64>,
}

/// The top-level dictionary as serde_bencode sees it. `info` is taken from the scanner's span
/// instead, so it is not a field here.
#[derive(Deserialize)]
struct RawMetainfo {
    announce: Option<Value>,
    #[serde(rename = "announce-list")]
    announce_list: Option<Value>,
    comment: Option<Value>,
    #[serde(rename = "created by")]
    created_by: Option<Value>,
    #[serde(rename = "creation date")]
    creation_date: Option<Value>,
}

impl Metainfo {
    /// Parses and validates a `.torrent` file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MetainfoError> {
        if bytes.len() > MAX_METAINFO_LEN {
            return Err(MetainfoError::TooLarge {
                len: bytes.len(),
                max: MAX_METAINFO_LEN,
            });
        }
        let span = bencode::dict_value_span(bytes, b"info")?.ok_or(MetainfoError::MissingKey {
            key: "info".to_owned(),
        })?;
        let info_bytes = bytes
            .get(span)
            .expect("invariant: the scanner's span lies inside its input")
            .to_vec();
        let info = Info::from_bytes(&info_bytes)?;
        let info_hash = InfoHash(Sha1::digest(&info_bytes).into());
        let raw: RawMetainfo =
            serde_bencode::from_bytes(bytes).map_err(|source| MetainfoError::Decode {
                what: "metainfo",
                source,
            })?;
        Ok(Self {
            info,
            info_hash,
            info_bytes,
            announce: utf8_field(raw.announce, "announce")?.filter(|url| !url.is_empty()),
            announce_list: announce_list(raw.announce_list)?,
            comment: lossy_text(raw.comment, "comment")?,
            created_by: lossy_text(raw.created_by, "created by")?,
            creation_date: int_field(raw.creation_date, "creation date")?,
        })
    }

    /// Builds a metainfo around an info dictionary, encoding it canonically and hashing it.
    /// Tracker and descriptive fields start empty.
    pub fn from_info(info: Info) -> Self {
        let info_bytes = info.to_bytes();
        let info_hash = InfoHash(Sha1::digest(&info_bytes).into());
        Self {
            info,
            info_hash,
            info_bytes,
            announce: None,
            announce_list: Vec::new(),
            comment: None,
            created_by: None,
            creation_date: None,
        }
    }

    /// The bencoded `.torrent`, keys sorted, with [`Self::info_bytes`] written verbatim as the
    /// `info` value (so the info-hash survives the round trip).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.info_bytes.len() + 256);
        out.push(b'd');
        if let Some(announce) = &self.announce {
            write_bytes(&mut out, b"announce");
            write_bytes(&mut out, announce.as_bytes());
        }
        if !self.announce_list.is_empty() {
            write_bytes(&mut out, b"announce-list");
            out.push(b'l');
            for tier in &self.announce_list {
                out.push(b'l');
                for url in tier {
                    write_bytes(&mut out, url.as_bytes());
                }
                out.push(b'e');
            }
            out.push(b'e');
        }
        if let Some(comment) = &self.comment {
            write_bytes(&mut out, b"comment");
            write_bytes(&mut out, comment.as_bytes());
        }
        if let Some(created_by) = &self.created_by {
            write_bytes(&mut out, b"created by");
            write_bytes(&mut out, created_by.as_bytes());
        }
        if let Some(date) = self.creation_date {
            write_bytes(&mut out, b"creation date");
            write_int(&mut out, date);
        }
        write_bytes(&mut out, b"info");
        out.extend_from_slice(&self.info_bytes);
        out.push(b'e');
        out
    }

    /// The tracker tiers to use (BEP 12): `announce-list` if it is non-empty, else
    /// `[[announce]]` if there is an announce URL, else none.
    pub fn tracker_tiers(&self) -> Vec<Vec<String>> {
        if !self.announce_list.is_empty() {
            return self.announce_list.clone();
        }
        self.announce.iter().map(|url| vec![url.clone()]).collect()
    }
}

/// `announce-list`: a list of tiers, each a list of UTF-8 URLs. Empty URLs and tiers are dropped.
fn announce_list(value: Option<Value>) -> Result<Vec<Vec<String>>, MetainfoError> {
    let key = "announce-list";
    let mut tiers = Vec::new();
    for tier in list_field(value, key)?.unwrap_or_default() {
        let Value::List(urls) = tier else {
            return Err(wrong_type(key, "a list of lists of strings"));
        };
        let mut urls = urls
            .into_iter()
            .map(|url| utf8_field(Some(url), key))
            .collect::<Result<Option<Vec<String>>, _>>()?
            .unwrap_or_default();
        urls.retain(|url| !url.is_empty());
        if !urls.is_empty() {
            tiers.push(urls);
        }
    }
    Ok(tiers)
}

/// A display-only string, converted lossily when it is not UTF-8.
fn lossy_text(value: Option<Value>, key: &str) -> Result<Option<String>, MetainfoError> {
    Ok(raw::bytes_field(value, key)?.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
}

#[cfg(test)]
mod tests;
