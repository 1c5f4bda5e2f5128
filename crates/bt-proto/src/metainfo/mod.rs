//! `.torrent` files: BEP 3 metainfo, BEP 12 announce-list tiers, BEP 27 private flag.
//!
//! [`Metainfo::from_bytes`] checks the size, runs the [`crate::bencode`] scanner over the
//! first value of the input (depth, length and [`crate::bencode::MAX_TOKENS`] limits; bytes
//! after it, such as the trailing newline some tools write, are ignored), takes the original
//! bytes of the `info` value from the scanner's span, hashes them for the info-hash, and reads
//! the fields from the validated bytes without copying them ([`crate::bencode::Node`]). The
//! info-hash is never computed from a re-encoding.
//!
//! Validation follows the rule "a torrent is hostile until checked": each path component and
//! the name are safe on disk, no two files collide, lengths add up without overflow, the piece
//! count matches the total length. Unknown keys are ignored, whatever their bytes; a key we read
//! must not repeat. BEP 47 padding files are accepted as ordinary files.
//!
//! Only what the info-hash covers is essential. The optional top-level fields (`announce`,
//! `announce-list`, `comment`, `created by`, `creation date`) are read leniently, as libtorrent
//! does: a value of the wrong type or a tracker URL that is not UTF-8 is skipped, and the
//! torrent is kept.
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

use sha1::{Digest, Sha1};

pub use error::MetainfoError;
pub use info::{FileEntry, Info};
pub use path::path_component_problem;

use crate::InfoHash;
use crate::bencode::{self, Node, write_bytes, write_int};
use raw::read_dict;

/// The largest `.torrent` we parse, checked before parsing: room for an info dictionary of
/// [`MAX_INFO_LEN`] plus whatever else a torrent carries (tracker lists, BEP 52 piece layers).
pub const MAX_METAINFO_LEN: usize = 64 << 20;

/// The largest info dictionary we parse, from a `.torrent` or from peers over BEP 9: 30 MiB,
/// libtorrent's default `max_metadata_size`, so metadata a libtorrent peer accepts we accept
/// too. 30 MiB holds about 1.5 million piece hashes: 24 TiB in 16 MiB pieces, 1.5 TiB in the
/// 1 MiB pieces a torrent that size would more likely use.
pub const MAX_INFO_LEN: usize = 30 << 20;

/// The top-level keys this parser reads, in the order [`Metainfo::from_bytes`] takes them.
const TOP_KEYS: [&str; 6] = [
    "announce",
    "announce-list",
    "comment",
    "created by",
    "creation date",
    "info",
];

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

impl Metainfo {
    /// Parses and validates a `.torrent` file. Bytes after the top-level dictionary are
    /// ignored.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MetainfoError> {
        if bytes.len() > MAX_METAINFO_LEN {
            return Err(MetainfoError::TooLarge {
                len: bytes.len(),
                max: MAX_METAINFO_LEN,
            });
        }
        let end = bencode::value_end(bytes, 0)?;
        let bytes = bytes.get(..end).unwrap_or_default();
        let span = bencode::dict_value_span(bytes, b"info")?.ok_or(MetainfoError::MissingKey {
            key: "info".to_owned(),
        })?;
        let info_bytes = bytes
            .get(span)
            .expect("invariant: the scanner's span lies inside its input")
            .to_vec();
        let info = Info::from_bytes(&info_bytes)?;
        let info_hash = InfoHash(Sha1::digest(&info_bytes).into());
        let [
            announce,
            announce_list,
            comment,
            created_by,
            creation_date,
            _info,
        ] = read_dict(Node::parse(bytes)?, "metainfo", TOP_KEYS)?;
        Ok(Self {
            info,
            info_hash,
            info_bytes,
            announce: announce.and_then(url),
            announce_list: tiers(announce_list),
            comment: comment.and_then(lossy_text),
            created_by: created_by.and_then(lossy_text),
            creation_date: match creation_date {
                Some(Node::Int(date)) => Some(date),
                _ => None,
            },
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

/// `announce-list` (BEP 12): a list of tiers, each a list of URLs. Leniently: a URL that is
/// not a non-empty UTF-8 string is skipped, a tier left empty is dropped, and a bare URL in
/// place of a tier (a flat list of strings, which some tools write) is a tier of its own.
fn tiers(value: Option<Node<'_>>) -> Vec<Vec<String>> {
    let Some(Node::List(items)) = value else {
        return Vec::new();
    };
    items
        .values()
        .filter_map(|tier| match tier.ok()? {
            Node::List(urls) => Some(urls.values().filter_map(|u| url(u.ok()?)).collect()),
            bare @ Node::Bytes(_) => url(bare).map(|url| vec![url]),
            _ => None,
        })
        .filter(|tier: &Vec<String>| !tier.is_empty())
        .collect()
}

/// A tracker URL: a non-empty UTF-8 string, or `None`.
fn url(value: Node<'_>) -> Option<String> {
    match value {
        Node::Bytes(bytes) if !bytes.is_empty() => {
            std::str::from_utf8(bytes).ok().map(str::to_owned)
        }
        _ => None,
    }
}

/// A display-only string, converted lossily when it is not UTF-8; `None` if it is not a string.
fn lossy_text(value: Node<'_>) -> Option<String> {
    match value {
        Node::Bytes(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod regressions;
#[cfg(test)]
mod tests;
