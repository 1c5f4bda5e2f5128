//! The one error type of metainfo parsing: every way a `.torrent` can be wrong, each naming what
//! is wrong so a user can tell a truncated download from a hostile file.

use thiserror::Error;

use crate::bencode::BencodeError;

/// Why a `.torrent` file (or a bare info dictionary) was rejected.
#[derive(Debug, Error)]
pub enum MetainfoError {
    /// The input is larger than [`super::MAX_METAINFO_LEN`] (a `.torrent`) or
    /// [`super::MAX_INFO_LEN`] (an info dictionary); checked before parsing.
    #[error("metainfo is {len} bytes, more than the limit of {max}")]
    TooLarge {
        /// Size of the input.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The input is not well-formed bencode (or not a dictionary), or holds more values than
    /// [`crate::bencode::MAX_TOKENS`].
    #[error("malformed bencode")]
    Bencode(#[from] BencodeError),
    /// A key the parser reads appears twice in one dictionary, so two clients could read the
    /// torrent differently.
    #[error("key `{key}` appears twice")]
    DuplicateKey {
        /// The key (lossily converted to text).
        key: String,
    },
    /// A required key is absent.
    #[error("missing key `{key}`")]
    MissingKey {
        /// The key, with its path for nested dictionaries (`files[2].length`).
        key: String,
    },
    /// A key holds a value of the wrong bencode type.
    #[error("key `{key}` is not {expected}")]
    WrongType {
        /// The key, with its path for nested dictionaries.
        key: String,
        /// What it should have been ("an integer", "a list of strings", ...).
        expected: &'static str,
    },
    /// A string that must be text (a name, a path component, a tracker URL) is not UTF-8, and
    /// no `.utf-8` variant of the key supplies a UTF-8 one.
    #[error("key `{key}` is not valid UTF-8")]
    NotUtf8 {
        /// The key, with its path.
        key: String,
    },
    /// `pieces` must be a concatenation of 20-byte SHA-1 hashes.
    #[error("`pieces` is {len} bytes, not a multiple of 20")]
    PiecesLength {
        /// Its length in bytes.
        len: usize,
    },
    /// `piece length` is zero, negative, or absurdly large.
    #[error("`piece length` {value} is not in 1..={max}")]
    InvalidPieceLength {
        /// The value found.
        value: i64,
        /// The largest accepted, [`super::MAX_PIECE_LENGTH`].
        max: u32,
    },
    /// The number of piece hashes is not `ceil(total length / piece length)`.
    #[error("{actual} piece hashes, but the total length needs {expected}")]
    PieceCountMismatch {
        /// How many the lengths call for.
        expected: u64,
        /// How many `pieces` holds.
        actual: usize,
    },
    /// The torrent holds no data at all.
    #[error("total length is zero")]
    ZeroTotalLength,
    /// The file lengths add up to more than `u64::MAX`.
    #[error("file lengths add up to more than 2^64 bytes")]
    SizeOverflow,
    /// A file length is negative.
    #[error("`{key}` is negative: {value}")]
    NegativeLength {
        /// The key, with its path.
        key: String,
        /// The value found.
        value: i64,
    },
    /// A name or path component that could escape the download directory or that some file
    /// system cannot hold.
    #[error("`{key}` has unsafe path component {component:?}: {reason}")]
    UnsafePath {
        /// The key, with its path.
        key: String,
        /// The component as found.
        component: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A file's path is an empty list.
    #[error("`{key}` is an empty path")]
    EmptyPath {
        /// The key, with its path.
        key: String,
    },
    /// `info` has both `length` (single-file) and `files` (multi-file).
    #[error("info has both `length` and `files`")]
    BothLengthAndFiles,
    /// `info` has neither `length` nor `files`.
    #[error("info has neither `length` nor `files`")]
    NeitherLengthNorFiles,
    /// A multi-file torrent whose `files` list is empty.
    #[error("`files` is an empty list")]
    EmptyFileList,
    /// Two files with the same path, compared ignoring ASCII case (they would be one file on a
    /// case-insensitive file system).
    #[error("two files have the path {path:?}")]
    DuplicatePath {
        /// The second path, components joined with `/`.
        path: String,
    },
    /// A file whose path is also a directory of another file's path (`a` and `a/b`), compared
    /// ignoring ASCII case.
    #[error("file {file:?} is also a directory of {other:?}")]
    PathCollision {
        /// The file, components joined with `/`.
        file: String,
        /// The file below it, components joined with `/`.
        other: String,
    },
}
