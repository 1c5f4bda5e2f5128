//! [`EngineError`]: the errors that stop a torrent or the session, as opposed to
//! [`PeerError`](crate::peer::PeerError), which stops one connection.
//!
//! The two are deliberately unrelated: there is no conversion from `PeerError` into
//! `EngineError`, so a misbehaving peer can never be escalated into a torrent failure by a
//! stray `?`. A peer error ends its `PeerSession` and is reported as an event; an engine error
//! puts a torrent into its error state or fails a call on the session handle.

use std::net::SocketAddr;

use actix::MailboxError;
use bt_proto::InfoHash;
use bt_proto::geometry::GeometryError;
use thiserror::Error;

use crate::actors::disk::DiskError;
use crate::config::ConfigError;
use crate::storage::StorageError;

/// Torrent-fatal and session-level failures. `Clone`, so the same error can be stored as a
/// torrent's state and sent to every event subscriber.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EngineError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The listening socket could not be bound (address in use, permission denied).
    #[error("cannot listen on {addr}: {message}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS message.
        message: String,
    },
    /// The torrent's files could not be opened, written, read or checked; the text names the
    /// path and carries the OS message ("No space left on device").
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The disk workers failed or stopped.
    #[error("disk: {0}")]
    Disk(DiskError),
    /// The torrent's geometry is unusable (no pieces, a piece count past 2^32).
    #[error("invalid torrent: {0}")]
    Geometry(#[from] GeometryError),
    /// The torrent's piece hashes do not match its piece count.
    #[error("invalid torrent: {hashes} piece hashes for {pieces} pieces")]
    HashCount {
        /// Hashes in the metainfo.
        hashes: usize,
        /// Pieces the length and piece length make.
        pieces: u32,
    },
    /// Metadata fetched for a magnet link hashes to its info-hash but is not a valid info
    /// dictionary (an unsafe path, a bad piece length, ...): the torrent itself is broken.
    #[error("invalid metadata: {0}")]
    InvalidMetadata(String),
    /// The session already has this torrent.
    #[error("torrent {0} is already added")]
    DuplicateTorrent(InfoHash),
    /// The session has no torrent with this info-hash (it was removed, or never added).
    #[error("no torrent {0}")]
    UnknownTorrent(InfoHash),
    /// The download directory is missing or not a directory.
    #[error("download directory {0}")]
    DownloadDir(String),
    /// The files asked for ([`AddTorrentOptions::files`](crate::AddTorrentOptions::files)) are
    /// not files of the torrent.
    #[error("file selection: {0}")]
    FileSelection(String),
    /// The session, or the torrent's actors, stopped before answering.
    #[error("the session has shut down")]
    Stopped,
}

impl From<DiskError> for EngineError {
    fn from(e: DiskError) -> Self {
        match e {
            // The storage error already names the path and the OS message.
            DiskError::Storage(inner) => EngineError::Storage(inner),
            other => EngineError::Disk(other),
        }
    }
}

impl From<MailboxError> for EngineError {
    fn from(_: MailboxError) -> Self {
        EngineError::Stopped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_storage_errors_keep_the_os_message() {
        let storage = StorageError::PermissionDenied {
            path: "/x/y".into(),
            message: "Permission denied (os error 13)".into(),
        };
        let engine = EngineError::from(DiskError::Storage(storage.clone()));
        assert_eq!(engine, EngineError::Storage(storage));
        assert!(engine.to_string().contains("os error 13"), "{engine}");
        assert_eq!(
            EngineError::from(DiskError::Stopped),
            EngineError::Disk(DiskError::Stopped)
        );
        assert_eq!(
            EngineError::from(MailboxError::Closed),
            EngineError::Stopped
        );
    }
}
