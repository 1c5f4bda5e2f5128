//! [`DiskBacklog`]: the received bytes a torrent has not put on its way to disk's end yet,
//! counted together by its connections and its piece manager, so a connection stops reading
//! its socket the moment the disk is too far behind.
//!
//! A connection adds each block as it reads it (the blocks of a turn go to the piece manager
//! together at its end); the piece manager takes them off once it has handled them, and counts instead what it sent to the
//! disk (pieces to store, blocks to write) until the disk is done with it. So the count is
//! what connections and the piece manager's mailbox hold plus what is on its way to disk:
//! memory that only the disk's progress frees. (Pieces still being received are not counted: they are
//! capped by the buffer limit and the picker, and only more reading completes them.)
//!
//! A connection whose block brings the count to the limit stops reading at once (its frame
//! stream is behind a [`ReadGate`](crate::peer::ReadGate)), so no connection reads more
//! than a block past the limit: the blocks it requested wait in
//! the kernel's socket buffer and TCP slows the sender. The piece manager, when the count
//! falls to half the limit, tells the connections that stopped to read again. The
//! connection decides for itself, without waiting for the piece manager, because the piece
//! manager may be the one behind: measured, its mailbox alone held up to 10 MiB of blocks
//! in a 4 GiB download when only the piece manager decided.
//!
//! Nothing is lost between the two sides: a connection marks that it stopped before it
//! checks the count once more, and the piece manager takes the count down before it checks
//! the mark, so either the piece manager sees the mark and wakes it, or the connection sees
//! the lower count and does not stop.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The shared count; see the module docs. Cloning gives another handle on the same count.
#[derive(Clone)]
pub struct DiskBacklog(Arc<Shared>);

struct Shared {
    /// Bytes of blocks read and not handled by the piece manager yet, plus bytes on their way
    /// to disk.
    bytes: AtomicU64,
    /// From this many bytes on, connections stop reading.
    limit: u64,
    /// A connection stopped since the piece manager last woke them.
    stopped: AtomicBool,
}

impl DiskBacklog {
    /// A count at zero, with connections stopping at `limit` bytes.
    pub fn new(limit: u64) -> Self {
        Self(Arc::new(Shared {
            bytes: AtomicU64::new(0),
            limit: limit.max(1),
            stopped: AtomicBool::new(false),
        }))
    }

    /// The connections' side: a block of `bytes` was read, for the piece manager (count it
    /// before sending it there). Returns whether the connection may go on reading; if not,
    /// it must stop until told to read again.
    pub fn received(&self, bytes: u64) -> bool {
        let shared = &self.0;
        let count = shared.bytes.fetch_add(bytes, Ordering::SeqCst) + bytes;
        if count < shared.limit {
            return true;
        }
        shared.stopped.store(true, Ordering::SeqCst);
        // The piece manager may have taken the count down before it could see the mark.
        shared.bytes.load(Ordering::SeqCst) <= shared.limit / 2
    }

    /// The piece manager's side: `bytes` more are on their way to disk.
    pub(super) fn add(&self, bytes: u64) {
        self.0.bytes.fetch_add(bytes, Ordering::SeqCst);
    }

    /// The piece manager's side: `bytes` are handled, or written. Returns whether the
    /// connections that stopped must be told to read again (the count is down to half the
    /// limit and one stopped since the last time); it returns true once for each time.
    pub(super) fn release(&self, bytes: u64) -> bool {
        let shared = &self.0;
        // Saturating: blocks sent by a stub that never counted them cannot wrap the count.
        let previous = shared
            .bytes
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |count| {
                Some(count.saturating_sub(bytes))
            })
            .unwrap_or_else(|count| count);
        let count = previous.saturating_sub(bytes);
        count <= shared.limit / 2 && shared.stopped.swap(false, Ordering::SeqCst)
    }

    /// Bytes counted now.
    pub fn bytes(&self) -> u64 {
        self.0.bytes.load(Ordering::SeqCst)
    }

    /// The count at which connections stop reading.
    pub fn limit(&self) -> u64 {
        self.0.limit
    }
}

impl fmt::Debug for DiskBacklog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiskBacklog")
            .field("bytes", &self.bytes())
            .field("limit", &self.limit())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_stops_at_the_limit_and_is_woken_once_at_half() {
        let backlog = DiskBacklog::new(100);
        assert!(backlog.received(60));
        assert!(!backlog.received(40), "the limit reached");
        assert!(!backlog.release(10), "90 left: still behind");
        backlog.add(20);
        assert_eq!(backlog.bytes(), 110);
        assert!(!backlog.release(59), "51 left");
        assert!(backlog.release(1), "half: wake the stopped connections");
        assert!(!backlog.release(10), "woken already");
        assert_eq!(backlog.bytes(), 40);
    }

    #[test]
    fn nobody_is_woken_when_nobody_stopped() {
        let backlog = DiskBacklog::new(100);
        assert!(backlog.received(99));
        assert!(!backlog.release(99));
    }

    #[test]
    fn a_connection_that_finds_the_count_down_again_does_not_stop() {
        let backlog = DiskBacklog::new(100);
        assert!(backlog.received(50));
        // Another connection crosses the limit...
        assert!(!backlog.received(50));
        // ...and the piece manager catches up before the next block is read.
        assert!(backlog.release(100));
        assert!(backlog.received(10));
    }

    #[test]
    fn a_torrent_backlog_follows_the_setting_but_holds_two_pieces() {
        let small = bt_proto::geometry::Lengths::new(100 << 20, 1 << 20).unwrap();
        assert_eq!(super::super::disk_backlog(&small, 4 << 20).limit(), 4 << 20);
        assert_eq!(super::super::disk_backlog(&small, 0).limit(), 2 << 20);
        let large = bt_proto::geometry::Lengths::new(100 << 20, 16 << 20).unwrap();
        assert_eq!(
            super::super::disk_backlog(&large, 8 << 20).limit(),
            32 << 20
        );
    }

    #[test]
    fn the_count_never_wraps_below_zero() {
        let backlog = DiskBacklog::new(100);
        backlog.add(10);
        backlog.release(30);
        assert_eq!(backlog.bytes(), 0);
    }

    #[test]
    fn connections_and_the_piece_manager_on_other_threads_never_lose_a_wake_up() {
        // Two connections read blocks and stop as the limit says; the piece manager releases
        // what they handed over and wakes them. A connection that stopped must always be
        // woken (or must have found the count down itself), or it would wait forever.
        let backlog = DiskBacklog::new(64);
        let (tx, rx) = std::sync::mpsc::channel::<(usize, u64)>();
        let woken: Vec<_> = (0..2).map(|_| std::sync::mpsc::channel::<()>()).collect();
        let (wake_tx, wake_rx): (Vec<_>, Vec<_>) = woken.into_iter().unzip();
        let connections: Vec<_> = wake_rx
            .into_iter()
            .enumerate()
            .map(|(id, wake)| {
                let backlog = backlog.clone();
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for _ in 0..2_000 {
                        // Like an actor: wake-ups that came while reading are handled between
                        // turns, as nothing to do.
                        while wake.try_recv().is_ok() {}
                        let reading = backlog.received(8);
                        tx.send((id, 8)).unwrap();
                        if !reading {
                            wake.recv_timeout(std::time::Duration::from_secs(10))
                                .expect("woken");
                        }
                    }
                })
            })
            .collect();
        drop(tx);
        let manager = std::thread::spawn(move || {
            while let Ok((_, bytes)) = rx.recv() {
                if backlog.release(bytes) {
                    for wake in &wake_tx {
                        let _ = wake.send(());
                    }
                }
            }
        });
        for connection in connections {
            connection.join().unwrap();
        }
        manager.join().unwrap();
    }
}
