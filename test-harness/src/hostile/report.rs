//! What a hostile peer did and saw, connection by connection, for tests to assert on.
//!
//! Every connection (accepted or dialled) gets a [`ConnectionReport`] the moment its socket
//! exists; the peer's thread fills it in as bytes move, and [`Reports`] wakes anyone waiting
//! for a change.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use bt_proto::wire::{BlockRequest, Handshake, PeerMessage};
use tokio::sync::watch;

/// Something a hostile peer wrote, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// Our 68-byte handshake.
    Handshake,
    /// A well-framed message other than PIECE (a bad BITFIELD or an out-of-range REQUEST is
    /// still well framed: the fault is in its contents).
    Message(PeerMessage),
    /// A well-framed PIECE for this range; its bytes are whatever the script chose.
    Block(BlockRequest),
    /// The first `written` bytes of a frame whose length prefix says `declared` (id byte and
    /// payload, as on the wire); the connection was closed after them.
    TruncatedFrame {
        /// The message id byte.
        id: u8,
        /// The length prefix written.
        declared: u32,
        /// Bytes of the frame written, prefix included.
        written: usize,
    },
    /// A frame whose length prefix is over the receiver's limit; `written` counts the bytes
    /// of it that reached the socket before the remote hung up (prefix included).
    Oversized {
        /// The message id byte.
        id: u8,
        /// The length prefix written.
        declared: u32,
        /// Bytes of the frame written, prefix included.
        written: usize,
    },
}

/// Everything a hostile peer read from one connection after the handshake.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Received {
    /// Bytes read from the socket after the remote's handshake.
    pub bytes: u64,
    /// Every decoded message but PIECE, in order.
    pub messages: Vec<PeerMessage>,
    /// The range of every PIECE received, in order (the bytes are not kept).
    pub blocks: Vec<BlockRequest>,
}

impl Received {
    /// The REQUESTs received, in order.
    pub fn requests(&self) -> Vec<BlockRequest> {
        self.messages
            .iter()
            .filter_map(|m| match m {
                PeerMessage::Request(r) => Some(*r),
                _ => None,
            })
            .collect()
    }

    /// The CANCELs received, in order.
    pub fn cancels(&self) -> Vec<BlockRequest> {
        self.messages
            .iter()
            .filter_map(|m| match m {
                PeerMessage::Cancel(r) => Some(*r),
                _ => None,
            })
            .collect()
    }

    /// Whether the remote sent UNCHOKE.
    pub fn unchoked(&self) -> bool {
        self.messages.contains(&PeerMessage::Unchoke)
    }

    /// Whether the remote sent INTERESTED.
    pub fn interested(&self) -> bool {
        self.messages.contains(&PeerMessage::Interested)
    }
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The remote closed or reset it (a read saw end of stream or a reset, or a write failed
    /// with a broken pipe or reset).
    ClosedByRemote,
    /// The script finished and we closed it while the remote still held it open.
    ClosedByUs,
    /// The connection's lifetime ran out with both sides still holding it open.
    Expired,
    /// Something else failed (connecting, a handshake that is not BitTorrent or names another
    /// torrent, bytes the decoder rejects, a script that cannot apply to this torrent).
    Failed(String),
}

/// One connection of a hostile peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionReport {
    /// The other side's address.
    pub remote: SocketAddr,
    /// Our side's address (what the remote sees as ours, for a connection we dialled).
    pub local: SocketAddr,
    /// Whether we dialled it.
    pub outgoing: bool,
    /// The remote's handshake, once read.
    pub their_handshake: Option<Handshake>,
    /// What we wrote, in order.
    pub sent: Vec<Sent>,
    /// Bytes we wrote, handshake included.
    pub bytes_sent: u64,
    /// What we read.
    pub received: Received,
    /// How it ended; `None` while it is open (or if the peer was shut down with it open).
    pub end: Option<End>,
}

impl ConnectionReport {
    pub(super) fn new(remote: SocketAddr, local: SocketAddr, outgoing: bool) -> Self {
        Self {
            remote,
            local,
            outgoing,
            their_handshake: None,
            sent: Vec::new(),
            bytes_sent: 0,
            received: Received::default(),
            end: None,
        }
    }

    /// Whether the remote closed the connection.
    pub fn closed_by_remote(&self) -> bool {
        self.end == Some(End::ClosedByRemote)
    }
}

/// The reports of one hostile peer, shared between its thread and its handle.
#[derive(Debug)]
pub(super) struct Reports {
    connections: Mutex<Vec<ConnectionReport>>,
    /// Bumped on every change, so async waiters wake up.
    changed: watch::Sender<u64>,
}

impl Reports {
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Self {
            connections: Mutex::new(Vec::new()),
            changed: watch::channel(0).0,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Vec<ConnectionReport>> {
        // A panic while holding the lock leaves plain data behind; keep using it.
        self.connections
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A copy of every report so far.
    pub(super) fn snapshot(&self) -> Vec<ConnectionReport> {
        self.lock().clone()
    }

    /// A receiver that sees every later change.
    pub(super) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Adds a connection's report; returns the slot that updates it.
    pub(super) fn open(self: &Arc<Self>, report: ConnectionReport) -> ReportSlot {
        let index = {
            let mut connections = self.lock();
            connections.push(report);
            connections.len() - 1
        };
        self.changed.send_modify(|n| *n += 1);
        ReportSlot {
            reports: Arc::clone(self),
            index,
        }
    }
}

/// One connection's entry in [`Reports`].
#[derive(Debug, Clone)]
pub(super) struct ReportSlot {
    reports: Arc<Reports>,
    index: usize,
}

impl ReportSlot {
    /// Changes the report and wakes the waiters.
    pub(super) fn update(&self, change: impl FnOnce(&mut ConnectionReport)) {
        if let Some(report) = self.reports.lock().get_mut(self.index) {
            change(report);
        }
        self.reports.changed.send_modify(|n| *n += 1);
    }

    /// Sets how the connection ended, unless that is known already.
    pub(super) fn end(&self, end: End) {
        self.update(|r| {
            r.end.get_or_insert(end);
        });
    }
}
