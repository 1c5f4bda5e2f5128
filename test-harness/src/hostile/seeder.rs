//! Scripts that pose as seeders and then fail the peer that downloads from them:
//! [`CorruptBlocks`], [`CorruptThenHangUp`], [`DisconnectMidBlock`], [`NeverAnswers`].
//!
//! Each sends a full BITFIELD (every piece set, spare bits clear), answers INTERESTED with
//! UNCHOKE, and then treats REQUESTs in its own wrong way. None of them ever chokes.

use std::io;

use bt_proto::bitfield::Bitfield;
use bt_proto::wire::{
    BlockRequest, LENGTH_PREFIX_LEN, PIECE_HEADER_LEN, PeerMessage, encode_piece_header, id,
};
use bytes::{Bytes, BytesMut};
use rand::RngExt;

use super::Script;
use super::conn::WireConn;
use super::report::Sent;

/// The longest REQUEST a posing seeder answers: what the wire's message limit allows.
const MAX_ANSWERED_LEN: u32 = 128 * 1024;

/// Answers every REQUEST with a well-framed PIECE of the requested range whose bytes are
/// random: each piece it contributes to fails its hash check, so an engine should strike it
/// and, after a few strikes, ban it.
#[derive(Debug, Clone, Copy, Default)]
pub struct CorruptBlocks;

/// Answers REQUESTs as [`CorruptBlocks`] does until it has sent `blocks` of them, then closes
/// the connection; each new connection starts over. A receiver that forgets strikes when a
/// connection ends never bans it, and downloads its garbage forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorruptThenHangUp {
    /// Corrupt blocks sent per connection before hanging up.
    pub blocks: usize,
}

/// Answers the first REQUEST with the PIECE header and half of the block, then closes the
/// connection: the requester must give the block to another peer.
#[derive(Debug, Clone, Copy, Default)]
pub struct DisconnectMidBlock;

/// Unchokes, then never answers a REQUEST and never sends anything else (not even a
/// keep-alive); it reads and records what arrives (REQUESTs, CANCELs after time-outs) until
/// the remote hangs up.
#[derive(Debug, Clone, Copy, Default)]
pub struct NeverAnswers;

/// What a posing seeder does with a REQUEST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnRequest {
    /// Random bytes; after this many blocks (if set), hang up.
    Corrupt(Option<usize>),
    Truncate,
    Ignore,
}

impl Script for CorruptBlocks {
    async fn run(&self, conn: &mut WireConn) -> io::Result<()> {
        pose_as_seeder(conn, OnRequest::Corrupt(None)).await
    }
}

impl Script for CorruptThenHangUp {
    async fn run(&self, conn: &mut WireConn) -> io::Result<()> {
        pose_as_seeder(conn, OnRequest::Corrupt(Some(self.blocks))).await
    }
}

impl Script for DisconnectMidBlock {
    async fn run(&self, conn: &mut WireConn) -> io::Result<()> {
        pose_as_seeder(conn, OnRequest::Truncate).await
    }
}

impl Script for NeverAnswers {
    async fn run(&self, conn: &mut WireConn) -> io::Result<()> {
        pose_as_seeder(conn, OnRequest::Ignore).await
    }
}

/// Announces every piece, unchokes whoever is interested, and answers REQUESTs as `on_request`
/// says, until the remote hangs up (or we do: [`OnRequest::Truncate`] at the first REQUEST,
/// [`OnRequest::Corrupt`] after its count).
async fn pose_as_seeder(conn: &mut WireConn, on_request: OnRequest) -> io::Result<()> {
    let pieces = conn.lengths().piece_count() as usize;
    let bitfield = Bitfield::full(pieces).to_bytes();
    conn.send(PeerMessage::Bitfield(bitfield.into())).await?;
    let mut answered = 0;
    loop {
        let done = match conn.recv().await? {
            PeerMessage::Interested => conn.send(PeerMessage::Unchoke).await.map(|()| false)?,
            PeerMessage::Request(request) if request.length <= MAX_ANSWERED_LEN => {
                answer(conn, request, on_request, &mut answered).await?
            }
            _ => false,
        };
        if done {
            return Ok(());
        }
    }
}

/// Answers one REQUEST as `on_request` says, counting the blocks sent in `answered`;
/// `Ok(true)` when the script is done and hangs up.
async fn answer(
    conn: &mut WireConn,
    request: BlockRequest,
    on_request: OnRequest,
    answered: &mut usize,
) -> io::Result<bool> {
    match on_request {
        OnRequest::Corrupt(limit) => {
            conn.send(random_block(request)).await?;
            *answered += 1;
            Ok(limit.is_some_and(|limit| *answered >= limit))
        }
        OnRequest::Truncate => send_half_block(conn, request).await.map(|()| true),
        OnRequest::Ignore => Ok(false),
    }
}

/// A PIECE for `request` holding random bytes.
pub(super) fn random_block(request: BlockRequest) -> PeerMessage {
    let mut data = vec![0u8; request.length as usize];
    rand::rng().fill(&mut data[..]);
    PeerMessage::Piece {
        piece: request.piece,
        offset: request.offset,
        data: Bytes::from(data),
    }
}

/// Writes the PIECE header and half of a random block for `request`, then returns (and the
/// connection closes).
async fn send_half_block(conn: &mut WireConn, request: BlockRequest) -> io::Result<()> {
    let len = request.length as usize;
    let mut frame = BytesMut::with_capacity(PIECE_HEADER_LEN + len);
    encode_piece_header(request.piece, request.offset, len, &mut frame);
    frame.resize(PIECE_HEADER_LEN + len / 2, 0xA5);
    let declared = u32::try_from(len + PIECE_HEADER_LEN - LENGTH_PREFIX_LEN).unwrap_or(u32::MAX);
    let (written, result) = conn.write_partial(&frame).await;
    conn.record(Sent::TruncatedFrame {
        id: id::PIECE,
        declared,
        written,
    });
    result
}
