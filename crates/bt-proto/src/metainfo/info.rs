//! The `info` dictionary (BEP 3): name, piece length, piece hashes, and the file list.
//!
//! Decoding goes: the bencode scanner validates the bytes (depth, lengths, at most
//! [`crate::bencode::MAX_TOKENS`] values), the known keys are read as borrowed
//! [`Node`]s (a mistyped key becomes an error that names it, a known key given twice is an
//! error, unknown keys are skipped unread), and then each field is checked and converted here.
//! Nothing is copied out of the input but the typed result, and the file list is checked entry
//! by entry, so a list of junk fails at its first entry instead of being built first.

use std::path::PathBuf;

use serde::Serialize;

use super::path::{PathKey, check_collisions, path_component_problem};
use super::raw::{bytes_field, int_field, list_field, read_dict, text_field, wrong_type};
use super::{MAX_INFO_LEN, MAX_PIECE_LENGTH, MetainfoError};
use crate::bencode::{self, Items, Node};

/// The `info` dictionary of a torrent: what the info-hash identifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// Suggested name: the file name of a single-file torrent, the top directory of a
    /// multi-file one. Checked like a path component.
    pub name: String,
    /// Bytes per piece (the last piece may be shorter).
    pub piece_length: u32,
    /// SHA-1 of each piece, in order.
    pub pieces: Vec<[u8; 20]>,
    /// BEP 27: only trackers in the metainfo may be used (no DHT, no PEX). True only when the
    /// key holds the integer 1.
    pub private: bool,
    /// Whether the dictionary had `files` (a directory) rather than `length` (one file). A
    /// multi-file torrent holding one file still lays it out as `NAME/path`.
    pub multi_file: bool,
    /// The files in torrent order. A single-file torrent has one entry whose path is `[name]`.
    pub files: Vec<FileEntry>,
}

/// One file of a torrent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Path components below the torrent's directory; each one has been checked.
    pub path: Vec<String>,
    /// Length in bytes (may be zero).
    pub length: u64,
}

/// The keys of `info` this parser reads, in the order [`Info::from_node`] takes them. Unknown
/// keys (`md5sum`, `source`, BEP 52's `meta version`) are ignored.
const INFO_KEYS: [&str; 7] = [
    "name",
    "name.utf-8",
    "piece length",
    "pieces",
    "private",
    "length",
    "files",
];

/// The keys of a `files` entry this parser reads. BEP 47 `sha1` and `symlink path` are
/// ignored; `attr` only tells padding files apart.
const FILE_KEYS: [&str; 4] = ["length", "path", "path.utf-8", "attr"];

/// The canonical encoding of an [`Info`] (serde_bencode sorts the keys).
#[derive(Serialize)]
struct InfoOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    files: Option<Vec<FileOut<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    length: Option<u64>,
    name: &'a str,
    #[serde(rename = "piece length")]
    piece_length: u32,
    #[serde(with = "serde_bytes")]
    pieces: Vec<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    private: Option<u8>,
}

/// One entry of `files` in the canonical encoding.
#[derive(Serialize)]
struct FileOut<'a> {
    length: u64,
    path: &'a [String],
}

impl Info {
    /// Parses and validates a bare bencoded info dictionary (as received over BEP 9, or the
    /// `info` value of a `.torrent`). Bytes after the dictionary are ignored; the caller hashes
    /// the span it holds.
    pub fn from_bytes(info_bytes: &[u8]) -> Result<Self, MetainfoError> {
        if info_bytes.len() > MAX_INFO_LEN {
            return Err(MetainfoError::TooLarge {
                len: info_bytes.len(),
                max: MAX_INFO_LEN,
            });
        }
        let end = bencode::value_end(info_bytes, 0)?;
        let info_bytes = info_bytes.get(..end).unwrap_or_default();
        Self::from_node(Node::parse(info_bytes)?)
    }

    /// Checks every field of the dictionary and builds the `Info`.
    fn from_node(node: Node<'_>) -> Result<Self, MetainfoError> {
        let [
            name,
            name_utf8,
            piece_length_value,
            pieces,
            private,
            length,
            files,
        ] = read_dict(node, "info", INFO_KEYS)?;
        let name = utf8_name(name_utf8, name, "name")?;
        check_component(&name, "name")?;
        let piece_length = piece_length(piece_length_value)?;
        let pieces = piece_hashes(pieces)?;
        let private = matches!(private, Some(Node::Int(1)));
        let (multi_file, files) = match (length, files) {
            (Some(_), Some(_)) => return Err(MetainfoError::BothLengthAndFiles),
            (None, None) => return Err(MetainfoError::NeitherLengthNorFiles),
            (Some(length), None) => {
                let length = file_length(length, "length")?;
                let path = vec![name.clone()];
                (false, vec![FileEntry { path, length }])
            }
            (None, Some(files)) => (true, file_list(files)?),
        };
        let info = Self {
            name,
            piece_length,
            pieces,
            private,
            multi_file,
            files,
        };
        info.check_sizes()?;
        Ok(info)
    }

    /// Checks the total length against overflow, zero, and the number of piece hashes.
    fn check_sizes(&self) -> Result<(), MetainfoError> {
        let total = self
            .files
            .iter()
            .try_fold(0u64, |sum, f| sum.checked_add(f.length))
            .ok_or(MetainfoError::SizeOverflow)?;
        if total == 0 {
            return Err(MetainfoError::ZeroTotalLength);
        }
        let expected = total.div_ceil(u64::from(self.piece_length));
        if u64::try_from(self.pieces.len()).ok() != Some(expected) {
            return Err(MetainfoError::PieceCountMismatch {
                expected,
                actual: self.pieces.len(),
            });
        }
        Ok(())
    }

    /// Sum of all file lengths. Parsing has checked that it does not overflow.
    pub fn total_length(&self) -> u64 {
        self.files
            .iter()
            .fold(0u64, |sum, f| sum.saturating_add(f.length))
    }

    /// Number of pieces (equal to the number of hashes, as parsing has checked).
    pub fn piece_count(&self) -> usize {
        self.pieces.len()
    }

    /// Where `file` goes below the download directory: `NAME` for a single-file torrent,
    /// `NAME/a/b` for a multi-file one.
    pub fn relative_path(&self, file: &FileEntry) -> PathBuf {
        let mut path = PathBuf::new();
        if self.multi_file {
            path.push(&self.name);
        }
        path.extend(&file.path);
        path
    }

    /// The canonical bencoding of this dictionary (sorted keys, no unknown keys). Used when
    /// creating a torrent; a parsed torrent keeps its original bytes in
    /// [`super::Metainfo::info_bytes`] instead, since re-encoding could change the info-hash.
    pub fn to_bytes(&self) -> Vec<u8> {
        let files: Option<Vec<FileOut<'_>>> = self.multi_file.then(|| {
            self.files
                .iter()
                .map(|f| FileOut {
                    length: f.length,
                    path: &f.path,
                })
                .collect()
        });
        let out = InfoOut {
            files,
            length: (!self.multi_file).then(|| self.total_length()),
            name: &self.name,
            piece_length: self.piece_length,
            pieces: self.pieces.concat(),
            private: self.private.then_some(1),
        };
        serde_bencode::to_bytes(&out)
            .expect("invariant: serde_bencode encodes strings, integers and lists infallibly")
    }
}

/// Returns an error naming `key` if `component` is unsafe on disk.
fn check_component(component: &str, key: &str) -> Result<(), MetainfoError> {
    match path_component_problem(component) {
        None => Ok(()),
        Some(reason) => Err(MetainfoError::UnsafePath {
            key: key.to_owned(),
            component: component.to_owned(),
            reason,
        }),
    }
}

/// A text value, preferring the `.utf-8` variant of the key when it is present and valid.
fn utf8_name(
    utf8: Option<Node<'_>>,
    plain: Option<Node<'_>>,
    key: &str,
) -> Result<String, MetainfoError> {
    if let Some(text) = utf8.and_then(text_field) {
        return Ok(text);
    }
    let bytes = bytes_field(plain, key)?.ok_or_else(|| MetainfoError::MissingKey {
        key: key.to_owned(),
    })?;
    String::from_utf8(bytes.to_vec()).map_err(|_| MetainfoError::NotUtf8 {
        key: key.to_owned(),
    })
}

/// `piece length`: an integer in `1..=MAX_PIECE_LENGTH`.
fn piece_length(value: Option<Node<'_>>) -> Result<u32, MetainfoError> {
    let key = "piece length";
    let value = int_field(value, key)?.ok_or_else(|| MetainfoError::MissingKey {
        key: key.to_owned(),
    })?;
    u32::try_from(value)
        .ok()
        .filter(|&len| len > 0 && len <= MAX_PIECE_LENGTH)
        .ok_or(MetainfoError::InvalidPieceLength {
            value,
            max: MAX_PIECE_LENGTH,
        })
}

/// `pieces`: raw bytes (not text), a whole number of 20-byte hashes.
fn piece_hashes(value: Option<Node<'_>>) -> Result<Vec<[u8; 20]>, MetainfoError> {
    let bytes = bytes_field(value, "pieces")?.ok_or_else(|| MetainfoError::MissingKey {
        key: "pieces".to_owned(),
    })?;
    if bytes.len() % 20 != 0 {
        return Err(MetainfoError::PiecesLength { len: bytes.len() });
    }
    Ok(bytes
        .chunks_exact(20)
        .map(|chunk| {
            let mut hash = [0u8; 20];
            hash.copy_from_slice(chunk);
            hash
        })
        .collect())
}

/// A file length: a non-negative integer.
fn file_length(value: Node<'_>, key: &str) -> Result<u64, MetainfoError> {
    let length = int_field(Some(value), key)?.ok_or_else(|| MetainfoError::MissingKey {
        key: key.to_owned(),
    })?;
    u64::try_from(length).map_err(|_| MetainfoError::NegativeLength {
        key: key.to_owned(),
        value: length,
    })
}

/// `files`: a non-empty list of `{length, path}` dictionaries, no two of which collide on disk.
/// Each entry is checked as it is read, so the list is never held in any other form.
fn file_list(value: Node<'_>) -> Result<Vec<FileEntry>, MetainfoError> {
    let Node::List(entries) = value else {
        return Err(wrong_type("files", "a list"));
    };
    let mut files = Vec::new();
    let mut padding = Vec::new();
    for (index, entry) in entries.values().enumerate() {
        let (file, is_padding) = file_entry(index, entry?)?;
        files.push(file);
        padding.push(is_padding);
    }
    if files.is_empty() {
        return Err(MetainfoError::EmptyFileList);
    }
    let keys: Vec<PathKey<'_>> = files
        .iter()
        .zip(padding)
        .map(|(file, padding)| PathKey {
            path: &file.path,
            padding,
        })
        .collect();
    check_collisions(&keys)?;
    Ok(files)
}

/// One entry of `files`, and whether it is a BEP 47 padding file (`attr` holds `p`). Padding
/// files are otherwise ordinary files here.
fn file_entry(index: usize, entry: Node<'_>) -> Result<(FileEntry, bool), MetainfoError> {
    let key = format!("files[{index}]");
    let [length, path, path_utf8, attr] = read_dict(entry, &key, FILE_KEYS)?;
    let length_key = format!("{key}.length");
    let length = length.ok_or_else(|| MetainfoError::MissingKey {
        key: length_key.clone(),
    })?;
    let length = file_length(length, &length_key)?;
    let path = file_path(path_utf8, path, &format!("{key}.path"))?;
    let padding = matches!(attr, Some(Node::Bytes(attr)) if attr.contains(&b'p'));
    Ok((FileEntry { path, length }, padding))
}

/// A file's path: a non-empty list of safe UTF-8 components, taken from `path.utf-8` when that
/// is present and wholly valid, else from `path` (never converted lossily).
fn file_path(
    utf8: Option<Node<'_>>,
    plain: Option<Node<'_>>,
    key: &str,
) -> Result<Vec<String>, MetainfoError> {
    let from_utf8 = match utf8 {
        Some(Node::List(items)) => path_components(items, key).ok(),
        _ => None,
    };
    if let Some(components) = from_utf8 {
        return Ok(components);
    }
    let list = list_field(plain, key)?.ok_or_else(|| MetainfoError::MissingKey {
        key: key.to_owned(),
    })?;
    path_components(list, key)
}

/// The components of a path list, each checked as it is read.
fn path_components(list: Items<'_>, key: &str) -> Result<Vec<String>, MetainfoError> {
    let mut components = Vec::new();
    for value in list.values() {
        let Node::Bytes(bytes) = value? else {
            return Err(wrong_type(key, "a list of strings"));
        };
        let text = std::str::from_utf8(bytes).map_err(|_| MetainfoError::NotUtf8 {
            key: key.to_owned(),
        })?;
        check_component(text, key)?;
        components.push(text.to_owned());
    }
    if components.is_empty() {
        return Err(MetainfoError::EmptyPath {
            key: key.to_owned(),
        });
    }
    Ok(components)
}
