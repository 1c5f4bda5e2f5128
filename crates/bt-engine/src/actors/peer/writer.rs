//! [`FrameWriter`]: the write half of a connection, with frames batched per actor turn.
//!
//! Frames are encoded into one buffer as the actor produces them; the actor then schedules a
//! flush that runs after the rest of its turn (every message and up to 16 frames read), so
//! everything queued in one turn leaves in one `write_all`. While a write is in flight the
//! next frames collect in the buffer and go out together when it completes. A block's bytes
//! are copied once, into this buffer; nothing else on the upload path copies them.
//!
//! The buffer is unbounded by itself: the connection bounds it by not reading more blocks
//! from disk while [`FrameWriter::pending`] is above its limit, and every other frame is a
//! few bytes.

use bt_proto::wire::PeerMessage;
use bytes::{Bytes, BytesMut};
use tokio::net::tcp::OwnedWriteHalf;
use tokio_util::codec::Encoder;

use crate::peer::{OutgoingBlock, PeerCodec, PeerError};

/// The outgoing side of one connection; see the module docs.
#[derive(Debug)]
pub(super) struct FrameWriter {
    codec: PeerCodec,
    /// Frames not yet handed to a write.
    buffer: BytesMut,
    /// The socket's write half; `None` while a write holds it.
    half: Option<OwnedWriteHalf>,
    /// Bytes in the write in flight.
    in_flight: usize,
    /// A flush is scheduled for the end of this turn.
    pub(super) scheduled: bool,
}

impl FrameWriter {
    /// A writer over `half` (`None` for a connection that failed before it had a socket).
    pub(super) fn new(half: Option<OwnedWriteHalf>) -> Self {
        Self {
            codec: PeerCodec::default(),
            buffer: BytesMut::with_capacity(64 * 1024),
            half,
            in_flight: 0,
            scheduled: false,
        }
    }

    /// Queues a message.
    pub(super) fn message(&mut self, message: PeerMessage) -> Result<(), PeerError> {
        self.codec.encode(message, &mut self.buffer)
    }

    /// Queues a block.
    pub(super) fn block(&mut self, block: OutgoingBlock) -> Result<(), PeerError> {
        self.codec.encode(block, &mut self.buffer)
    }

    /// Bytes queued or being written.
    pub(super) fn pending(&self) -> usize {
        self.buffer.len() + self.in_flight
    }

    /// Whether a flush would write something now.
    pub(super) fn ready(&self) -> bool {
        !self.buffer.is_empty() && self.half.is_some()
    }

    /// Takes the socket and every queued byte for one write.
    pub(super) fn take_batch(&mut self) -> Option<(OwnedWriteHalf, Bytes)> {
        if self.buffer.is_empty() {
            return None;
        }
        let half = self.half.take()?;
        let batch = self.buffer.split().freeze();
        self.in_flight = batch.len();
        Some((half, batch))
    }

    /// Gives the socket back after a write.
    pub(super) fn finish(&mut self, half: OwnedWriteHalf) {
        self.half = Some(half);
        self.in_flight = 0;
    }
}
