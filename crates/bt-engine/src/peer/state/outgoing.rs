//! Outgoing messages: methods that update the state and return what to send.
//!
//! None of them writes or records a send time for keep-alives; the actor calls
//! [`PeerState::note_sent`] whenever it writes.

use std::time::Instant;

use bt_proto::geometry::{BlockRef, PieceIndex};
use bt_proto::wire::PeerMessage;
use bytes::Bytes;

use super::{PeerState, wire_request};
use crate::peer::OutgoingBlock;

impl PeerState {
    /// Declares our interest; a message only when it changes. Losing interest ends any wait
    /// for blocks, so the peer cannot count as snubbing us.
    pub fn set_interested(&mut self, interested: bool) -> Option<PeerMessage> {
        if std::mem::replace(&mut self.am_interested, interested) == interested {
            return None;
        }
        if interested {
            Some(PeerMessage::Interested)
        } else {
            self.waiting_since = None;
            Some(PeerMessage::NotInterested)
        }
    }

    /// Chokes the peer: CHOKE, and the peer's queued requests are dropped (BEP 3), except
    /// those for pieces we allowed fast. With BEP 6 each dropped request gets a REJECT after
    /// the CHOKE. Nothing if already choking.
    pub fn choke(&mut self) -> Vec<PeerMessage> {
        if std::mem::replace(&mut self.am_choking, true) {
            return Vec::new();
        }
        let (kept, dropped): (Vec<BlockRef>, Vec<BlockRef>) =
            std::mem::take(&mut self.peer_requests)
                .into_iter()
                .partition(|block| self.fast.offered(block.piece));
        self.peer_requests = kept;
        let mut messages = vec![PeerMessage::Choke];
        if self.negotiated.fast {
            messages.extend(
                dropped
                    .into_iter()
                    .map(|block| PeerMessage::Reject(wire_request(block))),
            );
        }
        messages
    }

    /// Unchokes the peer; a message only when it changes.
    pub fn unchoke(&mut self) -> Option<PeerMessage> {
        std::mem::replace(&mut self.am_choking, false).then_some(PeerMessage::Unchoke)
    }

    /// Requests `blocks`, recording each with its send time `now`; blocks already outstanding
    /// are skipped. The caller sizes the batch with [`wanted_requests`](Self::wanted_requests).
    pub fn request(
        &mut self,
        blocks: impl IntoIterator<Item = BlockRef>,
        now: Instant,
    ) -> Vec<PeerMessage> {
        let messages: Vec<PeerMessage> = blocks
            .into_iter()
            .filter(|block| self.pipeline.insert(*block, now))
            .map(|block| PeerMessage::Request(wire_request(block)))
            .collect();
        self.pipeline_changed(now);
        messages
    }

    /// Withdraws an outstanding request (endgame, or the piece completed elsewhere): a CANCEL
    /// if it was outstanding. A block that still arrives is counted as late.
    pub fn cancel(&mut self, block: BlockRef, now: Instant) -> Option<PeerMessage> {
        if !self.pipeline.abandon(block, &self.config) {
            return None;
        }
        self.pipeline_changed(now);
        Some(PeerMessage::Cancel(wire_request(block)))
    }

    /// Announces a piece we verified.
    pub fn have(&self, piece: PieceIndex) -> PeerMessage {
        PeerMessage::Have { piece: piece.get() }
    }

    /// Turns a block read from disk into the frame to send, if the peer still wants it: it is
    /// taken off the peer's queue and counted as uploaded. `None` if the peer cancelled it or
    /// we choked the peer meanwhile.
    pub fn take_upload(
        &mut self,
        block: BlockRef,
        data: Bytes,
        now: Instant,
    ) -> Option<OutgoingBlock> {
        let at = self.peer_requests.iter().position(|b| *b == block)?;
        self.peer_requests.remove(at);
        let bytes = data.len() as u64;
        self.stats.uploaded = self.stats.uploaded.saturating_add(bytes);
        self.up.record(bytes, now);
        Some(OutgoingBlock::new(block, data))
    }

    /// Drops a queued request we cannot serve (a piece we do not have, a disk error): a REJECT
    /// with BEP 6, otherwise nothing can be said (BEP 3). `None` if it was not queued.
    pub fn reject_request(&mut self, block: BlockRef) -> Option<PeerMessage> {
        let at = self.peer_requests.iter().position(|b| *b == block)?;
        self.peer_requests.remove(at);
        self.negotiated
            .fast
            .then(|| PeerMessage::Reject(wire_request(block)))
    }
}
