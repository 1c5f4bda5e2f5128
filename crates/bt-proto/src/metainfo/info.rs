//! The `info` dictionary (BEP 3): name, piece length, piece hashes, and the file list.
//!
//! Decoding goes: the bencode scanner validates the bytes, serde_bencode decodes them into a
//! private raw struct whose fields are loose [`Value`]s (so a mistyped key becomes an error that
//! names the key, and a key given twice is caught by serde), and then each field is checked and
//! converted here.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_bencode::value::Value;

use super::path::path_component_problem;
use super::raw::{bytes_field, int_field, list_field, text_field};
use super::{MAX_METAINFO_LEN, MAX_PIECE_LENGTH, MetainfoError};
use crate::bencode;

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

/// The `info` dictionary as serde_bencode sees it; every field is loose so that we can say
/// which key is wrong. Unknown keys (`md5sum`, `source`, BEP 52's `meta version`) are ignored.
#[derive(Deserialize)]
struct RawInfo {
    name: Option<Value>,
    #[serde(rename = "name.utf-8")]
    name_utf8: Option<Value>,
    #[serde(rename = "piece length")]
    piece_length: Option<Value>,
    pieces: Option<Value>,
    private: Option<Value>,
    length: Option<Value>,
    files: Option<Value>,
}

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
    /// Parses and validates a bare bencoded info dictionary (as received over BEP 9).
    pub fn from_bytes(info_bytes: &[u8]) -> Result<Self, MetainfoError> {
        if info_bytes.len() > MAX_METAINFO_LEN {
            return Err(MetainfoError::TooLarge {
                len: info_bytes.len(),
                max: MAX_METAINFO_LEN,
            });
        }
        bencode::validate(info_bytes)?;
        if info_bytes.first() != Some(&b'd') {
            return Err(MetainfoError::WrongType {
                key: "info".into(),
                expected: "a dictionary",
            });
        }
        let raw: RawInfo =
            serde_bencode::from_bytes(info_bytes).map_err(|source| MetainfoError::Decode {
                what: "info",
                source,
            })?;
        Self::from_raw(raw)
    }

    /// Checks every field of the raw dictionary and builds the `Info`.
    fn from_raw(raw: RawInfo) -> Result<Self, MetainfoError> {
        let name = utf8_name(raw.name_utf8, raw.name, "name")?;
        check_component(&name, "name")?;
        let piece_length = piece_length(raw.piece_length)?;
        let pieces = piece_hashes(raw.pieces)?;
        let private = matches!(raw.private, Some(Value::Int(1)));
        let (multi_file, files) = match (raw.length, raw.files) {
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
    utf8: Option<Value>,
    plain: Option<Value>,
    key: &str,
) -> Result<String, MetainfoError> {
    if let Some(text) = utf8.and_then(text_field) {
        return Ok(text);
    }
    let bytes = bytes_field(plain, key)?.ok_or_else(|| MetainfoError::MissingKey {
        key: key.to_owned(),
    })?;
    String::from_utf8(bytes).map_err(|_| MetainfoError::NotUtf8 {
        key: key.to_owned(),
    })
}

/// `piece length`: an integer in `1..=MAX_PIECE_LENGTH`.
fn piece_length(value: Option<Value>) -> Result<u32, MetainfoError> {
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
fn piece_hashes(value: Option<Value>) -> Result<Vec<[u8; 20]>, MetainfoError> {
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
fn file_length(value: Value, key: &str) -> Result<u64, MetainfoError> {
    let length = int_field(Some(value), key)?.ok_or_else(|| MetainfoError::MissingKey {
        key: key.to_owned(),
    })?;
    u64::try_from(length).map_err(|_| MetainfoError::NegativeLength {
        key: key.to_owned(),
        value: length,
    })
}

/// `files`: a non-empty list of `{length, path}` dictionaries.
fn file_list(value: Value) -> Result<Vec<FileEntry>, MetainfoError> {
    let entries = list_field(Some(value), "files")?.unwrap_or_default();
    if entries.is_empty() {
        return Err(MetainfoError::EmptyFileList);
    }
    entries
        .into_iter()
        .enumerate()
        .map(|(index, entry)| file_entry(index, entry))
        .collect()
}

/// One entry of `files`. BEP 47 keys (`attr`, `sha1`, `symlink path`) are ignored, so padding
/// files are ordinary files here.
fn file_entry(index: usize, entry: Value) -> Result<FileEntry, MetainfoError> {
    let key = format!("files[{index}]");
    let Value::Dict(mut dict) = entry else {
        return Err(MetainfoError::WrongType {
            key,
            expected: "a dictionary",
        });
    };
    let length_key = format!("{key}.length");
    let length = dict
        .remove(b"length".as_slice())
        .ok_or_else(|| MetainfoError::MissingKey {
            key: length_key.clone(),
        })?;
    let length = file_length(length, &length_key)?;
    let path = file_path(
        dict.remove(b"path.utf-8".as_slice()),
        dict.remove(b"path".as_slice()),
        &format!("{key}.path"),
    )?;
    Ok(FileEntry { path, length })
}

/// A file's path: a non-empty list of safe UTF-8 components, taken from `path.utf-8` when that
/// is present and wholly valid, else from `path` (never converted lossily).
fn file_path(
    utf8: Option<Value>,
    plain: Option<Value>,
    key: &str,
) -> Result<Vec<String>, MetainfoError> {
    let from_utf8 = utf8
        .and_then(|v| list_field(Some(v), key).ok().flatten())
        .and_then(|list| list.into_iter().map(text_field).collect::<Option<Vec<_>>>());
    let components = match from_utf8 {
        Some(components) => components,
        None => {
            let list = list_field(plain, key)?.ok_or_else(|| MetainfoError::MissingKey {
                key: key.to_owned(),
            })?;
            list.into_iter()
                .map(|v| match v {
                    Value::Bytes(bytes) => {
                        String::from_utf8(bytes).map_err(|_| MetainfoError::NotUtf8 {
                            key: key.to_owned(),
                        })
                    }
                    _ => Err(MetainfoError::WrongType {
                        key: key.to_owned(),
                        expected: "a list of strings",
                    }),
                })
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    if components.is_empty() {
        return Err(MetainfoError::EmptyPath {
            key: key.to_owned(),
        });
    }
    for component in &components {
        check_component(component, key)?;
    }
    Ok(components)
}
