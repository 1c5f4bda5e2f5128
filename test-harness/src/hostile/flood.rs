//! [`RequestFlood`]: a leecher that, once unchoked, asks for far more than any queue holds.

use std::io;

use bt_proto::geometry::{BLOCK_LEN, Lengths};
use bt_proto::wire::{BlockRequest, PeerMessage};

use super::Script;
use super::conn::WireConn;

/// Sends INTERESTED, waits for UNCHOKE, then writes `requests` valid and distinct REQUESTs in
/// one burst, and reads whatever comes back until the remote hangs up. Its report's
/// `received.bytes` shows how much the remote served before it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestFlood {
    /// How many REQUESTs to send.
    pub requests: usize,
}

impl Default for RequestFlood {
    /// Ten times the engine's default queue limit of 2,000 (`peer.max_peer_requests`,
    /// libtorrent's `max_allowed_in_request_queue` too).
    fn default() -> Self {
        Self { requests: 20_000 }
    }
}

impl RequestFlood {
    /// The requests sent for a torrent of this geometry: piece after piece, then again with
    /// the start moved on by one byte each round (BEP 3 does not require aligned requests), so
    /// no two are the same while `requests` is at most the torrent's length in bytes. Each is
    /// 16 KiB or what is left of the piece.
    pub fn flood(&self, lengths: &Lengths) -> Vec<BlockRequest> {
        let count = lengths.piece_count().max(1) as usize;
        (0..self.requests)
            .filter_map(|i| {
                let piece = lengths.piece(u32::try_from(i % count).ok()?)?;
                let piece_len = lengths.piece_len(piece);
                let round = u32::try_from(i / count).ok()?;
                let offset = round % piece_len.max(1);
                Some(BlockRequest {
                    piece: piece.get(),
                    offset,
                    length: BLOCK_LEN.min(piece_len - offset),
                })
            })
            .collect()
    }
}

impl Script for RequestFlood {
    async fn run(&self, conn: &mut WireConn) -> io::Result<()> {
        conn.send(PeerMessage::Interested).await?;
        conn.recv_until(|m| *m == PeerMessage::Unchoke).await?;
        let requests = self
            .flood(conn.lengths())
            .into_iter()
            .map(PeerMessage::Request)
            .collect();
        conn.send_all(requests).await?;
        conn.drain().await
    }
}
