//! Flushing the torrent's files to stable storage at the moments a user counts on them being
//! safe: when the download completes (before `Completed` is announced to subscribers), when
//! the torrent is paused, and when it stops (session shutdown or removal). The work runs on
//! the disk pool ([`SyncFiles`]); each sync ends in a [`TorrentEvent::DataSynced`].

use actix::{ActorFutureExt, AsyncContext, Context, MailboxError, WrapFuture};
use tracing::error;

use super::TorrentSupervisor;
use crate::EngineError;
use crate::actors::disk::{DiskError, SyncFiles};
use crate::torrent::{TorrentEvent, TorrentState};

/// The disk pool's answer to [`SyncFiles`], or the error of a pool that is gone.
pub(super) fn synced(
    answer: Result<Result<usize, DiskError>, MailboxError>,
) -> Result<usize, EngineError> {
    let files = answer.map_err(DiskError::from)??;
    Ok(files)
}

impl TorrentSupervisor {
    /// Syncs the files on the disk pool, then emits `DataSynced` and runs `then`; a failure
    /// puts the torrent in its error state (unless it is stopping anyway, then it is logged
    /// and reported as an event).
    pub(super) fn sync_files(&mut self, ctx: &mut Context<Self>, then: fn(&mut Self)) {
        let Some(parts) = &self.parts else {
            return;
        };
        let request = parts.disk.send(SyncFiles);
        let sync = async move { synced(request.await) };
        ctx.spawn(
            sync.into_actor(self)
                .map(move |result, act, _| match result {
                    Ok(files) => {
                        act.emit(TorrentEvent::DataSynced { files });
                        then(act);
                    }
                    Err(error) if act.state == TorrentState::Stopped => {
                        error!(parent: &act.span, %error, "syncing the files failed");
                        act.emit(TorrentEvent::Error(error));
                    }
                    Err(error) => act.fail(error),
                }),
        );
    }
}
