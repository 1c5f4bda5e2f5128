//! [`StorageError`]: what can go wrong between a torrent and its files, classified so that a
//! caller can tell the user what to fix (free space, permissions, a path in the way) without
//! parsing OS messages.
//!
//! Every I/O variant carries the path it was about and the OS message (`message`, the
//! `Display` of the `io::Error`, e.g. "No space left on device (os error 28)"). The message is
//! kept as text rather than as an `io::Error` source so that the error is `Clone` and can cross
//! actor mailboxes and be reported twice; the cause is therefore in the text, never also in a
//! `#[source]`.

use std::io;
use std::path::{Path, PathBuf};

use bt_proto::geometry::GeometryError;
use thiserror::Error;

/// `ENOSPC` on Linux (every architecture); checked besides `ErrorKind::StorageFull` in case an
/// older kernel interface reports it unmapped.
const ENOSPC: i32 = 28;
/// `EDQUOT` on Linux (x86, arm, riscv): a quota is full, which for the user is a full disk.
const EDQUOT: i32 = 122;

/// Errors from opening, reading, writing or checking a torrent's files.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StorageError {
    /// The download directory is missing, unreadable or not a directory.
    #[error("download directory {path} is unusable: {message}")]
    BadDownloadDir {
        /// The directory as given by the caller.
        path: PathBuf,
        /// The OS message, or what we found instead of a directory.
        message: String,
    },
    /// A file's path, once joined, would not lie below the download directory. bt-proto checks
    /// every component already; this is the second line of defence.
    #[error("{path} lies outside the download directory {dir}")]
    OutsideDownloadDir {
        /// The offending path.
        path: PathBuf,
        /// The download directory it escaped.
        dir: PathBuf,
    },
    /// A directory on the way to a file, or the file itself, is a symbolic link; following it
    /// could write outside the download directory, so we refuse.
    #[error("refusing to follow the symbolic link {path}")]
    SymlinkRefused {
        /// The link.
        path: PathBuf,
    },
    /// Something other than a directory sits where the layout needs one (`ENOTDIR`).
    #[error("{path} is not a directory: {message}")]
    NotADirectory {
        /// The path that should be a directory.
        path: PathBuf,
        /// The OS message, or what we found.
        message: String,
    },
    /// A directory sits where the layout needs a file (`EISDIR`).
    #[error("{path} is a directory where a file is expected: {message}")]
    IsADirectory {
        /// The path that should be a file.
        path: PathBuf,
        /// The OS message.
        message: String,
    },
    /// A FIFO, socket or device sits where the layout needs a regular file; reading one could
    /// block forever or touch hardware, so we refuse.
    #[error("{path} exists but is not a regular file")]
    NotARegularFile {
        /// The path that should be a regular file.
        path: PathBuf,
    },
    /// Permission denied (`EACCES`, `EPERM`) or a read-only file system (`EROFS`).
    #[error("permission denied on {path}: {message}")]
    PermissionDenied {
        /// The path the OS refused.
        path: PathBuf,
        /// The OS message.
        message: String,
    },
    /// No space left on the device, or a disk quota is exhausted (`ENOSPC`, `EDQUOT`).
    #[error("disk full writing {path}: {message}")]
    DiskFull {
        /// The file being written.
        path: PathBuf,
        /// The OS message.
        message: String,
    },
    /// A file ends before the range being read (someone truncated it, or it was never
    /// written that far).
    #[error("{path} is too short to read {len} bytes at offset {offset}: {message}")]
    ShortFile {
        /// The file.
        path: PathBuf,
        /// Where the read started, in the file.
        offset: u64,
        /// How many bytes were wanted.
        len: u64,
        /// The OS message.
        message: String,
    },
    /// A file (or a directory on its path) does not exist.
    #[error("{path} does not exist: {message}")]
    NotFound {
        /// The missing path.
        path: PathBuf,
        /// The OS message.
        message: String,
    },
    /// Any other I/O error; `kind` lets callers branch without parsing `message`.
    #[error("i/o error on {path}: {message}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The error's kind.
        kind: io::ErrorKind,
        /// The OS message.
        message: String,
    },
    /// The torrent's lengths do not form a valid geometry (cannot happen for an `Info` that
    /// bt-proto validated, but `Info` has public fields).
    #[error("the torrent's lengths are invalid")]
    Geometry(#[source] GeometryError),
    /// A piece index that is not in this torrent (for instance from another torrent's
    /// `Lengths`).
    #[error("piece {piece} is not in this torrent")]
    UnknownPiece {
        /// The raw index.
        piece: u32,
    },
    /// A block that does not lie inside its piece, or whose data is not `len` bytes long.
    #[error(
        "block of {len} bytes at offset {offset} of piece {piece} is invalid ({data_len} bytes of data)"
    )]
    BadBlock {
        /// The raw piece index.
        piece: u32,
        /// The block's offset in its piece.
        offset: u32,
        /// The block's length.
        len: u32,
        /// The length of the data supplied (equal to `len` for a read).
        data_len: usize,
    },
    /// The caller passed a number of piece hashes different from the piece count.
    #[error("{actual} piece hashes given for {expected} pieces")]
    HashCountMismatch {
        /// The torrent's piece count.
        expected: u32,
        /// The number of hashes given.
        actual: usize,
    },
}

impl StorageError {
    /// Classifies an OS error that happened on `path`.
    pub fn from_io(path: &Path, err: &io::Error) -> StorageError {
        let path = path.to_path_buf();
        let message = err.to_string();
        if matches!(err.raw_os_error(), Some(ENOSPC | EDQUOT))
            || err.kind() == io::ErrorKind::StorageFull
        {
            return StorageError::DiskFull { path, message };
        }
        match err.kind() {
            io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
                StorageError::PermissionDenied { path, message }
            }
            io::ErrorKind::NotADirectory => StorageError::NotADirectory { path, message },
            io::ErrorKind::IsADirectory => StorageError::IsADirectory { path, message },
            io::ErrorKind::NotFound => StorageError::NotFound { path, message },
            kind => StorageError::Io {
                path,
                kind,
                message,
            },
        }
    }

    /// Classifies an error from a positional read of `len` bytes at `offset`: running into
    /// the end of the file is [`StorageError::ShortFile`].
    pub(crate) fn from_read(path: &Path, offset: u64, len: u64, err: &io::Error) -> StorageError {
        if err.kind() == io::ErrorKind::UnexpectedEof {
            return StorageError::ShortFile {
                path: path.to_path_buf(),
                offset,
                len,
                message: err.to_string(),
            };
        }
        StorageError::from_io(path, err)
    }

    /// The path the error is about, if it is about one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            StorageError::BadDownloadDir { path, .. }
            | StorageError::OutsideDownloadDir { path, .. }
            | StorageError::SymlinkRefused { path }
            | StorageError::NotADirectory { path, .. }
            | StorageError::IsADirectory { path, .. }
            | StorageError::NotARegularFile { path }
            | StorageError::PermissionDenied { path, .. }
            | StorageError::DiskFull { path, .. }
            | StorageError::ShortFile { path, .. }
            | StorageError::NotFound { path, .. }
            | StorageError::Io { path, .. } => Some(path),
            StorageError::Geometry(_)
            | StorageError::UnknownPiece { .. }
            | StorageError::BadBlock { .. }
            | StorageError::HashCountMismatch { .. } => None,
        }
    }

    /// Whether the data on disk is merely absent (a missing or short file), which a resume
    /// check treats as "piece not downloaded" rather than as a failure.
    pub(crate) fn is_absent_data(&self) -> bool {
        matches!(
            self,
            StorageError::ShortFile { .. } | StorageError::NotFound { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_os_errors() {
        let p = Path::new("/x/y");
        let of = |code| StorageError::from_io(p, &io::Error::from_raw_os_error(code));
        assert!(matches!(of(ENOSPC), StorageError::DiskFull { .. }));
        assert!(matches!(of(EDQUOT), StorageError::DiskFull { .. }));
        assert!(matches!(of(13), StorageError::PermissionDenied { .. })); // EACCES
        assert!(matches!(of(30), StorageError::PermissionDenied { .. })); // EROFS
        assert!(matches!(of(20), StorageError::NotADirectory { .. })); // ENOTDIR
        assert!(matches!(of(21), StorageError::IsADirectory { .. })); // EISDIR
        assert!(matches!(of(2), StorageError::NotFound { .. })); // ENOENT
        let eio = of(5);
        assert!(matches!(&eio, StorageError::Io { message, .. } if message.contains("os error 5")));
        assert_eq!(eio.path(), Some(p));
        let full = of(ENOSPC).to_string();
        assert!(full.starts_with("disk full writing /x/y: "), "{full}");
        assert!(full.contains("os error 28"), "{full}");
    }

    #[test]
    fn short_read_is_short_file() {
        let err = io::Error::new(io::ErrorKind::UnexpectedEof, "failed to fill whole buffer");
        let e = StorageError::from_read(Path::new("/f"), 7, 9, &err);
        assert!(matches!(
            e,
            StorageError::ShortFile {
                offset: 7,
                len: 9,
                ..
            }
        ));
        assert!(e.is_absent_data());
    }
}
