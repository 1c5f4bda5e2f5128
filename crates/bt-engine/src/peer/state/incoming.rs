//! Incoming messages: [`PeerState::on_message`] and one handler per rule.
//!
//! What is an error and what is not: anything the peer cannot send by mistake (an index or
//! range outside the torrent, a BITFIELD after other messages, an extension message it did not
//! negotiate, a request flood) stops the connection. Anything that a race between the two
//! directions explains is ignored and counted: a REQUEST arriving after we choked, a block we
//! cancelled, a CANCEL or REJECT for something no longer queued.

use std::time::Instant;

use bt_proto::bitfield::Bitfield;
use bt_proto::geometry::{BLOCK_LEN, BlockRef, PieceIndex};
use bt_proto::wire::{BlockRequest, PeerMessage};
use bytes::Bytes;

use super::PeerState;
use crate::peer::pipeline::Arrival;
use crate::peer::{PeerError, PeerEvent};

/// Misbehaviour points for a block we never requested (and did not cancel or give up on).
const UNREQUESTED_BLOCK_POINTS: u32 = 1;

impl PeerState {
    /// Applies one message from the peer, received at `now`, and returns what it means.
    ///
    /// An `Err` means the peer broke the protocol and the connection should close; the
    /// state is then unspecified.
    pub fn on_message(
        &mut self,
        message: PeerMessage,
        now: Instant,
    ) -> Result<Vec<PeerEvent>, PeerError> {
        self.last_received = self.last_received.max(now);
        let first = !self.past_first_message;
        if !matches!(
            message,
            PeerMessage::KeepAlive | PeerMessage::Extended { .. } | PeerMessage::Port(_)
        ) {
            self.past_first_message = true;
        }
        let mut events = Vec::new();
        let (choking, interested) = (&mut self.peer_choking, &mut self.peer_interested);
        match message {
            PeerMessage::KeepAlive => {}
            PeerMessage::Choke => self.on_choke(&mut events),
            PeerMessage::Unchoke => set_flag(choking, false, PeerEvent::Unchoked, &mut events),
            PeerMessage::Interested => {
                set_flag(interested, true, PeerEvent::Interested, &mut events)
            }
            PeerMessage::NotInterested => {
                set_flag(interested, false, PeerEvent::NotInterested, &mut events);
            }
            PeerMessage::Have { piece } => self.on_have(piece, &mut events)?,
            PeerMessage::Bitfield(bytes) => self.on_bitfield(&bytes, first, &mut events)?,
            PeerMessage::Request(request) => self.on_request(request, &mut events)?,
            PeerMessage::Piece {
                piece,
                offset,
                data,
            } => self.on_piece(piece, offset, data, now, &mut events)?,
            PeerMessage::Cancel(request) => self.on_cancel(request, &mut events)?,
            PeerMessage::Port(port) => events.push(PeerEvent::Port(port)),
            PeerMessage::Unknown { .. } => self.on_unknown()?,
            extension => self.on_extension(extension, first, now, &mut events)?,
        }
        Ok(events)
    }

    /// The BEP 6 and BEP 10 messages, each legal only if its extension was negotiated.
    fn on_extension(
        &mut self,
        message: PeerMessage,
        first: bool,
        now: Instant,
        events: &mut Vec<PeerEvent>,
    ) -> Result<(), PeerError> {
        match message {
            PeerMessage::HaveAll => self.on_have_all(first, events)?,
            PeerMessage::HaveNone => {
                self.require_fast("have none")?;
                require_first("have none", first)?;
            }
            PeerMessage::Reject(request) => self.on_reject(request, now, events)?,
            PeerMessage::Suggest { piece } => {
                self.require_fast("suggest piece")?;
                let piece = self.piece("suggest piece", piece)?;
                self.fast.note_suggested(piece);
                events.push(PeerEvent::Suggested(piece));
            }
            PeerMessage::AllowedFast { piece } => {
                self.require_fast("allowed fast")?;
                let piece = self.piece("allowed fast", piece)?;
                self.fast.note_allowed(piece);
                events.push(PeerEvent::AllowedFast(piece));
            }
            PeerMessage::Extended { id, payload } => {
                if !self.negotiated.extension_protocol {
                    return Err(PeerError::NotNegotiated("extended message"));
                }
                events.push(PeerEvent::ExtendedMessage { id, payload });
            }
            // The core messages are handled by `on_message` and never reach here.
            _ => {}
        }
        Ok(())
    }

    /// CHOKE: without BEP 6 the peer drops our requests, so we forget them too.
    fn on_choke(&mut self, events: &mut Vec<PeerEvent>) {
        if std::mem::replace(&mut self.peer_choking, true) {
            return;
        }
        let forgotten = if self.negotiated.fast {
            Vec::new()
        } else {
            let forgotten = self.pipeline.abandon_all(&self.config);
            // Being choked is the peer's right, not snubbing.
            self.waiting_since = None;
            forgotten
        };
        events.push(PeerEvent::Choked { forgotten });
    }

    /// HAVE: a valid index; an event only for a piece new to us.
    fn on_have(&mut self, piece: u32, events: &mut Vec<PeerEvent>) -> Result<(), PeerError> {
        let index = self.piece("have", piece)?;
        if self
            .peer_pieces
            .set(index.as_usize())
            .map_err(PeerError::BadBitfield)?
        {
            events.push(PeerEvent::PeerHas(index));
        }
        Ok(())
    }

    /// BITFIELD: only first, exactly the piece count's length, spare bits clear.
    fn on_bitfield(
        &mut self,
        bytes: &[u8],
        first: bool,
        events: &mut Vec<PeerEvent>,
    ) -> Result<(), PeerError> {
        require_first("bitfield", first)?;
        let piece_count = self.lengths.piece_count() as usize;
        let bits = Bitfield::from_bytes(bytes, piece_count).map_err(PeerError::BadBitfield)?;
        self.peer_pieces = bits.clone();
        events.push(PeerEvent::PeerBitfield(bits));
        Ok(())
    }

    /// HAVE ALL (BEP 6): only with the fast extension, only first.
    fn on_have_all(&mut self, first: bool, events: &mut Vec<PeerEvent>) -> Result<(), PeerError> {
        self.require_fast("have all")?;
        require_first("have all", first)?;
        self.peer_pieces = Bitfield::full(self.lengths.piece_count() as usize);
        events.push(PeerEvent::PeerHasAll);
        Ok(())
    }

    /// REQUEST: valid range and size; dropped (or rejected, BEP 6) while we choke, unless
    /// for a piece we allowed fast; capped.
    fn on_request(
        &mut self,
        request: BlockRequest,
        events: &mut Vec<PeerEvent>,
    ) -> Result<(), PeerError> {
        let block = self.check_request("request", request, self.config.max_request_len)?;
        if self.am_choking && !self.fast.offered(block.piece) {
            self.stats.ignored_requests = self.stats.ignored_requests.saturating_add(1);
            if self.negotiated.fast {
                events.push(PeerEvent::Reply(PeerMessage::Reject(request)));
            }
            return Ok(());
        }
        if self.peer_requests.contains(&block) {
            return Ok(());
        }
        if self.peer_requests.len() >= self.config.max_peer_requests {
            return Err(PeerError::RequestFlood(self.config.max_peer_requests));
        }
        self.peer_requests.push(block);
        events.push(PeerEvent::BlockRequested(block));
        Ok(())
    }

    /// PIECE: must be one of the torrent's blocks; delivered only if we requested it.
    fn on_piece(
        &mut self,
        piece: u32,
        offset: u32,
        data: Bytes,
        now: Instant,
        events: &mut Vec<PeerEvent>,
    ) -> Result<(), PeerError> {
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let block = self
            .lengths
            .validate_block(piece, offset, len)
            .map_err(PeerError::BadBlock)?;
        let bytes = u64::from(len);
        self.down.record(bytes, now);
        match self.pipeline.arrive(block, now, &self.config) {
            Arrival::Requested => {
                self.stats.downloaded = self.stats.downloaded.saturating_add(bytes);
                self.last_block = Some(now);
                // A block restarts the snub clock if more are outstanding.
                self.waiting_since = None;
                self.pipeline_changed(now);
                events.push(PeerEvent::BlockReceived { block, data });
            }
            Arrival::Late => {
                self.stats.late_blocks = self.stats.late_blocks.saturating_add(1);
                self.stats.wasted = self.stats.wasted.saturating_add(bytes);
                self.last_block = Some(now);
            }
            Arrival::Unrequested => {
                self.stats.unrequested_blocks = self.stats.unrequested_blocks.saturating_add(1);
                self.stats.wasted = self.stats.wasted.saturating_add(bytes);
                self.penalize(UNREQUESTED_BLOCK_POINTS)?;
            }
        }
        Ok(())
    }

    /// CANCEL: valid range; an event only if the request is still queued with us.
    fn on_cancel(
        &mut self,
        request: BlockRequest,
        events: &mut Vec<PeerEvent>,
    ) -> Result<(), PeerError> {
        let block = self.check_request("cancel", request, self.config.max_request_len)?;
        if let Some(at) = self.peer_requests.iter().position(|b| *b == block) {
            self.peer_requests.remove(at);
            events.push(PeerEvent::RequestCancelled(block));
        }
        Ok(())
    }

    /// REJECT (BEP 6): valid range; an event only if the request was outstanding (a reject
    /// racing our timeout or cancel is ignored).
    fn on_reject(
        &mut self,
        request: BlockRequest,
        now: Instant,
        events: &mut Vec<PeerEvent>,
    ) -> Result<(), PeerError> {
        self.require_fast("reject request")?;
        let block = self.check_request("reject request", request, BLOCK_LEN)?;
        if self.pipeline.remove(&block) {
            self.pipeline_changed(now);
            events.push(PeerEvent::Rejected(block));
        }
        Ok(())
    }

    /// Unknown message id: ignored up to the limit.
    fn on_unknown(&mut self) -> Result<(), PeerError> {
        self.stats.unknown_messages = self.stats.unknown_messages.saturating_add(1);
        if self.stats.unknown_messages > self.config.max_unknown_messages {
            return Err(PeerError::TooManyUnknownMessages(
                self.stats.unknown_messages,
            ));
        }
        Ok(())
    }

    /// Fails unless BEP 6 was negotiated.
    fn require_fast(&self, message: &'static str) -> Result<(), PeerError> {
        if self.negotiated.fast {
            Ok(())
        } else {
            Err(PeerError::NotNegotiated(message))
        }
    }

    /// A piece index the torrent has.
    fn piece(&self, message: &'static str, index: u32) -> Result<PieceIndex, PeerError> {
        self.lengths.piece(index).ok_or(PeerError::PieceOutOfRange {
            message,
            index,
            count: self.lengths.piece_count(),
        })
    }

    /// A range inside the torrent of at most `max_len` bytes.
    fn check_request(
        &self,
        message: &'static str,
        request: BlockRequest,
        max_len: u32,
    ) -> Result<BlockRef, PeerError> {
        self.lengths
            .validate_request(request.piece, request.offset, request.length, max_len)
            .map_err(|reason| PeerError::BadRequest { message, reason })
    }
}

/// Sets a flag, reporting `event` only if the flag changed.
fn set_flag(flag: &mut bool, value: bool, event: PeerEvent, events: &mut Vec<PeerEvent>) {
    if std::mem::replace(flag, value) != value {
        events.push(event);
    }
}

/// Fails unless this is the first message after the handshake.
fn require_first(message: &'static str, first: bool) -> Result<(), PeerError> {
    if first {
        Ok(())
    } else {
        Err(PeerError::NotFirstMessage(message))
    }
}
