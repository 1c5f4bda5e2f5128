//! [`DiskError`]: what a disk message can fail with.

use actix::MailboxError;
use thiserror::Error;

use crate::storage::StorageError;

/// The error of every [`DiskWriter`](super::DiskWriter) message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DiskError {
    /// The storage failed (disk full, permissions, a path in the way, ...); shown as the
    /// storage error itself, which names the path and the OS message.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The worker pool is gone: every worker has stopped, or the actix system is shutting down.
    #[error("the disk workers have stopped")]
    Stopped,
    /// A `send` with a time-out expired before a worker answered.
    #[error("the disk workers did not answer in time")]
    Timeout,
}

impl From<MailboxError> for DiskError {
    fn from(e: MailboxError) -> Self {
        match e {
            MailboxError::Closed => DiskError::Stopped,
            MailboxError::Timeout => DiskError::Timeout,
        }
    }
}
