//! [`PeerCodec`]: the peer wire protocol as a tokio-util codec, for `Framed` reads and writes.
//!
//! Decoding delegates to [`MessageDecoder`], which checks every length prefix against its
//! limit before reserving memory and hands out payloads that share the receive buffer. Encoding
//! writes [`PeerMessage`]s, and [`OutgoingBlock`]s: a block read from disk is appended after
//! its 13-byte header (`encode_piece_header`) straight from its `Bytes`, never wrapped in a
//! message and re-encoded, so the copy into the write buffer is the only one on the upload path.

use bt_proto::geometry::{BlockRef, PieceIndex};
use bt_proto::wire::{DecoderConfig, Frame, MessageDecoder, PeerMessage, encode_piece_header};
use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::PeerError;
use super::read_buffers::ReadBufferPool;

/// Encodes and decodes peer wire frames after the handshake.
#[derive(Debug, Clone, Default)]
pub struct PeerCodec {
    /// Holds the length limits; set the piece count so a large torrent's bitfield is allowed.
    decoder: MessageDecoder,
    /// Recycles the read buffer of a `FramedRead` (see [`PeerCodec::with_read_buffers`]).
    buffers: Option<ReadBufferPool>,
}

impl PeerCodec {
    /// A codec with the given decoder limits (set `piece_count` for torrents whose bitfield
    /// exceeds the message limit).
    pub fn new(config: DecoderConfig) -> Self {
        Self {
            decoder: MessageDecoder::new(config),
            buffers: None,
        }
    }

    /// Decoding into the read buffers of `pool`, used again once the frames sliced from them
    /// are gone, instead of new allocations (see [`ReadBufferPool`]). Give the `FramedRead`
    /// the pool's buffer size as its capacity, and trim the pool now and then.
    pub fn with_read_buffers(mut self, pool: ReadBufferPool) -> Self {
        self.buffers = Some(pool);
        self
    }
}

/// One block we upload: the PIECE header plus data read from disk, kept as `Bytes` so it is
/// not copied before the write buffer.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingBlock {
    /// The piece the block belongs to.
    pub piece: PieceIndex,
    /// Byte offset of the block inside the piece.
    pub offset: u32,
    /// The block's bytes, shared with the disk reader's buffer.
    pub data: Bytes,
}

impl OutgoingBlock {
    /// The block at `block` holding `data` (whose length is the block's length).
    pub fn new(block: BlockRef, data: Bytes) -> Self {
        Self {
            piece: block.piece,
            offset: block.offset,
            data,
        }
    }
}

impl std::fmt::Debug for OutgoingBlock {
    /// The length instead of the bytes, so a block stays one log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingBlock")
            .field("piece", &self.piece)
            .field("offset", &self.offset)
            .field("len", &self.data.len())
            .finish()
    }
}

impl Decoder for PeerCodec {
    type Item = PeerMessage;
    type Error = PeerError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<PeerMessage>, PeerError> {
        match self.decoder.next_frame(src)? {
            Frame::Message(message) => Ok(Some(message)),
            Frame::Incomplete { missing } => {
                // The reader needs more bytes: first a recycled buffer if this one is nearly
                // full (growing it here would allocate a new one beside the pool, since the
                // frames sliced from it are still alive), then room for the whole frame.
                if let Some(buffers) = &self.buffers {
                    buffers.refresh(src, missing.unwrap_or(1));
                }
                if let Some(missing) = missing {
                    src.reserve(missing);
                }
                Ok(None)
            }
        }
    }
}

impl Encoder<PeerMessage> for PeerCodec {
    type Error = PeerError;

    fn encode(&mut self, item: PeerMessage, dst: &mut BytesMut) -> Result<(), PeerError> {
        // `PeerMessage::encode` panics past a 32-bit length prefix; refuse instead.
        check_frame_len(item.encoded_len())?;
        item.encode(dst);
        Ok(())
    }
}

impl Encoder<OutgoingBlock> for PeerCodec {
    type Error = PeerError;

    fn encode(&mut self, item: OutgoingBlock, dst: &mut BytesMut) -> Result<(), PeerError> {
        check_frame_len(item.data.len().saturating_add(9))?;
        dst.reserve(item.data.len().saturating_add(13));
        encode_piece_header(item.piece.get(), item.offset, item.data.len(), dst);
        dst.extend_from_slice(&item.data);
        Ok(())
    }
}

/// Refuses a frame whose length does not fit the 32-bit length prefix (our bug, not the
/// peer's, but it must not panic the session).
fn check_frame_len(len: usize) -> Result<(), PeerError> {
    if u32::try_from(len).is_err() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("frame of {len} bytes exceeds the 32-bit length prefix"),
        )
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::pin::Pin;

    use actix::prelude::Stream;
    use bt_proto::geometry::Lengths;
    use bt_proto::wire::{BlockRequest, WireError};
    use tokio::io::{AsyncWriteExt, DuplexStream};
    use tokio_util::codec::FramedRead;

    use super::*;

    fn samples() -> Vec<PeerMessage> {
        let block = BlockRequest {
            piece: 1,
            offset: 16384,
            length: 16384,
        };
        vec![
            PeerMessage::KeepAlive,
            PeerMessage::Choke,
            PeerMessage::Unchoke,
            PeerMessage::Interested,
            PeerMessage::NotInterested,
            PeerMessage::Have { piece: 3 },
            PeerMessage::Bitfield(Bytes::from_static(&[0b1010_0000])),
            PeerMessage::Request(block),
            PeerMessage::Piece {
                piece: 1,
                offset: 0,
                data: Bytes::from(vec![7u8; 16384]),
            },
            PeerMessage::Cancel(block),
            PeerMessage::Port(6881),
            PeerMessage::HaveAll,
            PeerMessage::HaveNone,
            PeerMessage::Reject(block),
            PeerMessage::AllowedFast { piece: 2 },
            PeerMessage::Suggest { piece: 2 },
            PeerMessage::Extended {
                id: 0,
                payload: Bytes::from_static(b"d1:md11:ut_metadatai1eee"),
            },
        ]
    }

    /// Writes `frames` through a small duplex pipe (so frames arrive in pieces) and decodes
    /// them with `FramedRead`.
    async fn send_and_read(frames: BytesMut) -> Vec<Result<PeerMessage, PeerError>> {
        let (mut ours, theirs) = tokio::io::duplex(1000);
        let writer = tokio::spawn(async move {
            ours.write_all(&frames).await.expect("write");
            ours.shutdown().await.expect("shutdown");
        });
        let out = collect(FramedRead::new(theirs, PeerCodec::default())).await;
        writer.await.expect("writer task");
        out
    }

    /// Drains a `FramedRead` (this crate does not depend on `futures`' `StreamExt`); stops
    /// after the first error, as a session would.
    async fn collect(
        mut read: FramedRead<DuplexStream, PeerCodec>,
    ) -> Vec<Result<PeerMessage, PeerError>> {
        let mut out = Vec::new();
        while let Some(item) = poll_fn(|cx| Pin::new(&mut read).poll_next(cx)).await {
            let failed = item.is_err();
            out.push(item);
            if failed {
                break;
            }
        }
        out
    }

    #[tokio::test]
    async fn every_message_round_trips_through_framed_read() {
        let mut codec = PeerCodec::default();
        let mut frames = BytesMut::new();
        for message in samples() {
            codec.encode(message, &mut frames).expect("encode");
        }
        let decoded: Vec<PeerMessage> = send_and_read(frames)
            .await
            .into_iter()
            .map(|item| item.expect("decode"))
            .collect();
        assert_eq!(decoded, samples());
    }

    #[tokio::test]
    async fn outgoing_block_encodes_as_a_piece_message() {
        let lengths = Lengths::new(100_000, 32_768).expect("geometry");
        let block = lengths
            .block(lengths.piece(2).expect("piece"), 1)
            .expect("block");
        let data = Bytes::from((0..block.len).map(|i| i as u8).collect::<Vec<u8>>());
        let mut codec = PeerCodec::default();
        let mut frames = BytesMut::new();
        codec
            .encode(OutgoingBlock::new(block, data.clone()), &mut frames)
            .expect("encode block");
        codec
            .encode(PeerMessage::Unchoke, &mut frames)
            .expect("encode");
        let mut expected = BytesMut::new();
        PeerMessage::Piece {
            piece: 2,
            offset: block.offset,
            data: data.clone(),
        }
        .encode(&mut expected);
        assert_eq!(&frames[..expected.len()], &expected[..]);

        let decoded = send_and_read(frames).await;
        assert_eq!(decoded.len(), 2);
        assert_eq!(
            decoded[0].as_ref().expect("piece"),
            &PeerMessage::Piece {
                piece: 2,
                offset: block.offset,
                data,
            }
        );
        assert_eq!(decoded[1].as_ref().expect("unchoke"), &PeerMessage::Unchoke);
    }

    #[tokio::test]
    async fn recycled_read_buffers_hand_out_every_frame_intact() {
        // Far more blocks than one buffer holds, some kept (as a piece being assembled
        // would), some dropped at once, so buffers are both retired and reused.
        let blocks: Vec<PeerMessage> = (0..200u32)
            .map(|i| PeerMessage::Piece {
                piece: i,
                offset: 0,
                data: Bytes::from(vec![(i % 251) as u8; 16_384]),
            })
            .collect();
        let mut frames = BytesMut::new();
        for block in &blocks {
            PeerCodec::default()
                .encode(block.clone(), &mut frames)
                .expect("encode");
        }
        let (mut ours, theirs) = tokio::io::duplex(70_000);
        let writer = tokio::spawn(async move {
            ours.write_all(&frames).await.expect("write");
            ours.shutdown().await.expect("shutdown");
        });
        let codec = PeerCodec::default().with_read_buffers(ReadBufferPool::new(64 * 1024));
        let mut read = FramedRead::with_capacity(theirs, codec, 64 * 1024);
        let mut kept = Vec::new();
        let mut index = 0;
        while let Some(item) = poll_fn(|cx| Pin::new(&mut read).poll_next(cx)).await {
            let message = item.expect("decode");
            assert_eq!(message, blocks[index], "block {index}");
            if index % 3 == 0 {
                kept.push(message);
            }
            index += 1;
        }
        writer.await.expect("writer task");
        assert_eq!(index, blocks.len());
        for (message, expected) in kept.iter().zip(blocks.iter().step_by(3)) {
            assert_eq!(message, expected, "a kept block is never overwritten");
        }
    }

    #[tokio::test]
    async fn blocks_are_read_into_the_pools_buffers_only() {
        // Blocks kept for a while, as a piece being assembled keeps them: the buffer they
        // were read into is still in use when it fills up, and the next frame must go to a
        // buffer of the pool, never to one the decoder or the reader allocates beside it.
        let mut frames = BytesMut::new();
        for i in 0..64u32 {
            let block = PeerMessage::Piece {
                piece: i,
                offset: 0,
                data: Bytes::from(vec![i as u8; 16_384]),
            };
            PeerCodec::default()
                .encode(block, &mut frames)
                .expect("encode");
        }
        let (mut ours, theirs) = tokio::io::duplex(70_000);
        let writer = tokio::spawn(async move {
            ours.write_all(&frames).await.expect("write");
            ours.shutdown().await.expect("shutdown");
        });
        let pool = ReadBufferPool::new(64 * 1024);
        let codec = PeerCodec::default().with_read_buffers(pool.clone());
        let mut read = FramedRead::with_capacity(theirs, codec, 64 * 1024);
        // The reader's first buffer is its own; every buffer after it comes from the pool.
        let mut first_buffer = true;
        let mut kept = std::collections::VecDeque::new();
        while let Some(item) = poll_fn(|cx| Pin::new(&mut read).poll_next(cx)).await {
            let Ok(PeerMessage::Piece { data, .. }) = item else {
                panic!("not a block: {item:?}");
            };
            let pooled = pool.allocated_here(&data);
            assert!(pooled || first_buffer, "a block outside the pool's buffers");
            first_buffer &= !pooled;
            kept.push_back(data);
            if kept.len() > 8 {
                kept.pop_front();
            }
        }
        writer.await.expect("writer task");
        assert!(!first_buffer, "the pool was never used");
    }

    #[tokio::test]
    async fn oversized_frame_is_a_wire_error_before_the_payload_arrives() {
        let mut frames = BytesMut::new();
        frames.extend_from_slice(&(1u32 << 20).to_be_bytes());
        frames.extend_from_slice(&[7, 0, 0]);
        let decoded = send_and_read(frames).await;
        assert!(matches!(
            decoded.last(),
            Some(Err(PeerError::Wire(WireError::TooLong { .. })))
        ));
    }

    #[tokio::test]
    async fn truncated_frame_at_eof_is_an_error() {
        let mut codec = PeerCodec::default();
        let mut frames = BytesMut::new();
        codec
            .encode(PeerMessage::Have { piece: 1 }, &mut frames)
            .expect("encode");
        frames.truncate(frames.len() - 1);
        let decoded = send_and_read(frames).await;
        assert!(matches!(decoded.last(), Some(Err(PeerError::Io(_)))));
    }
}
