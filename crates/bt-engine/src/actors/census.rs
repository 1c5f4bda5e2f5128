//! [`ActorCensus`]: how many actors of each kind are alive, so tests (and a shutting-down
//! embedder) can check that every actor of a session stopped.
//!
//! Each actor holds an [`Alive`] guard from the moment it is built; dropping the actor (after
//! it stopped, or when its Arbiter or System goes away) drops the guard and lowers the count.
//! The counts are atomics that only the guards change: a diagnostic, not state any actor
//! reads to decide anything.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The kinds of actor a session runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActorKind {
    /// The session actor: listener and torrent registry.
    Session,
    /// One per torrent.
    TorrentSupervisor,
    /// One per torrent.
    PieceManager,
    /// One per torrent.
    Choker,
    /// One per torrent.
    Announcer,
    /// One per connection.
    PeerSession,
    /// One per disk worker thread.
    DiskWriter,
    /// One per magnet link while its metadata is fetched.
    MetadataFetcher,
}

impl ActorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ActorKind; 8] = [
        ActorKind::Session,
        ActorKind::TorrentSupervisor,
        ActorKind::PieceManager,
        ActorKind::Choker,
        ActorKind::Announcer,
        ActorKind::PeerSession,
        ActorKind::DiskWriter,
        ActorKind::MetadataFetcher,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// Live actor counts, shared by every guard of one session.
#[derive(Debug, Clone, Default)]
pub struct ActorCensus(Arc<Counts>);

/// The counts, and a notification for each actor that goes.
#[derive(Debug, Default)]
struct Counts {
    alive: [AtomicUsize; 8],
    gone: tokio::sync::Notify,
}

impl ActorCensus {
    /// A census with every count at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one more actor of `kind` until the returned guard drops.
    pub fn enter(&self, kind: ActorKind) -> Alive {
        self.0.alive[kind.index()].fetch_add(1, Ordering::SeqCst);
        Alive {
            census: self.clone(),
            kind,
        }
    }

    /// Actors of `kind` alive now.
    pub fn count(&self, kind: ActorKind) -> usize {
        self.0.alive[kind.index()].load(Ordering::SeqCst)
    }

    /// The kinds with actors alive, with their counts; empty once everything stopped.
    pub fn alive(&self) -> Vec<(ActorKind, usize)> {
        ActorKind::ALL
            .into_iter()
            .map(|kind| (kind, self.count(kind)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Waits until no actor is alive; returns the ones still alive after `timeout`, if any.
    pub async fn wait_empty(&self, timeout: Duration) -> Result<(), Vec<(ActorKind, usize)>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Registered before the check, so a departure in between is not missed.
            let gone = self.0.gone.notified();
            let alive = self.alive();
            if alive.is_empty() {
                return Ok(());
            }
            if tokio::time::timeout_at(deadline, gone).await.is_err() {
                return Err(self.alive());
            }
        }
    }
}

/// Held by one actor; see [`ActorCensus`].
pub struct Alive {
    census: ActorCensus,
    kind: ActorKind,
}

impl fmt::Debug for Alive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Alive({:?})", self.kind)
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        self.census.0.alive[self.kind.index()].fetch_sub(1, Ordering::SeqCst);
        self.census.0.gone.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_count_while_held() {
        let census = ActorCensus::new();
        let a = census.enter(ActorKind::PeerSession);
        let b = census.enter(ActorKind::PeerSession);
        let c = census.enter(ActorKind::Choker);
        assert_eq!(
            census.alive(),
            vec![(ActorKind::Choker, 1), (ActorKind::PeerSession, 2)]
        );
        drop((a, b, c));
        assert!(census.alive().is_empty());
    }
}
