//! [`WireConn`]: one connection of a hostile peer, as its [`Script`](super::Script) sees it.
//!
//! It speaks the peer wire at the byte level: the handshake, well-framed messages encoded by
//! bt-proto, raw bytes for what no encoder would produce, and a bt-proto
//! [`MessageDecoder`] for what the remote sends. Everything written and read is recorded in
//! the connection's [`ConnectionReport`](super::ConnectionReport), and every read or write
//! that meets a closed or reset socket marks the connection as closed by the remote.

use std::io;
use std::sync::Arc;

use bt_proto::geometry::Lengths;
use bt_proto::wire::{
    BlockRequest, DecoderConfig, Handshake, MessageDecoder, PeerMessage, Reserved,
};
use bt_proto::{InfoHash, PeerId};
use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::report::{ReportSlot, Sent};

/// What every connection of one hostile peer knows about the torrent and itself.
#[derive(Debug, Clone)]
pub(super) struct Identity {
    /// The torrent's info-hash, sent in our handshake and required in theirs.
    pub(super) info_hash: InfoHash,
    /// The torrent's geometry, for scripts that build ranges.
    pub(super) lengths: Lengths,
    /// Our peer id.
    pub(super) peer_id: PeerId,
}

/// One hostile connection after the TCP connect; see the module docs.
#[derive(Debug)]
pub struct WireConn {
    stream: TcpStream,
    /// Bytes read and not decoded yet.
    buf: BytesMut,
    decoder: MessageDecoder,
    identity: Arc<Identity>,
    slot: ReportSlot,
    remote_closed: bool,
}

impl WireConn {
    pub(super) fn new(stream: TcpStream, identity: Arc<Identity>, slot: ReportSlot) -> Self {
        let decoder = MessageDecoder::new(DecoderConfig {
            piece_count: Some(identity.lengths.piece_count()),
            ..DecoderConfig::default()
        });
        Self {
            stream,
            buf: BytesMut::with_capacity(64 * 1024),
            decoder,
            identity,
            slot,
            remote_closed: false,
        }
    }

    /// The torrent's geometry.
    pub fn lengths(&self) -> &Lengths {
        &self.identity.lengths
    }

    /// The torrent's info-hash.
    pub fn info_hash(&self) -> InfoHash {
        self.identity.info_hash
    }

    /// Whether a read or write found the connection closed or reset by the other side.
    pub fn remote_closed(&self) -> bool {
        self.remote_closed
    }

    /// Exchanges handshakes (BEP 3, no extension bits): ours first when we dialled, theirs
    /// first when we accepted. Fails unless theirs is a BitTorrent handshake for our torrent.
    pub(super) async fn handshake(&mut self, outgoing: bool) -> io::Result<()> {
        let ours = Handshake::new(
            Reserved::NONE,
            self.identity.info_hash,
            self.identity.peer_id,
        );
        if outgoing {
            self.write_recorded(&ours.to_bytes(), Sent::Handshake)
                .await?;
        }
        let mut bytes = [0u8; Handshake::LEN];
        let read = self.stream.read_exact(&mut bytes).await;
        self.note_io(read.as_ref().err());
        read?;
        let theirs = Handshake::decode(&bytes)
            .map_err(|e| invalid(format!("their handshake: {e}")))?
            .ok_or_else(|| invalid("their handshake is incomplete".into()))?;
        self.slot.update(|r| r.their_handshake = Some(theirs));
        if theirs.info_hash != self.identity.info_hash {
            return Err(invalid(format!(
                "their handshake names info-hash {}",
                theirs.info_hash
            )));
        }
        if !outgoing {
            self.write_recorded(&ours.to_bytes(), Sent::Handshake)
                .await?;
        }
        Ok(())
    }

    /// Sends one message, encoded by bt-proto.
    pub async fn send(&mut self, message: PeerMessage) -> io::Result<()> {
        self.send_all(vec![message]).await
    }

    /// Sends several messages in one write (as a flood would).
    pub async fn send_all(&mut self, messages: Vec<PeerMessage>) -> io::Result<()> {
        let mut bytes = BytesMut::new();
        for message in &messages {
            message.encode(&mut bytes);
        }
        let (written, result) = self.write_partial(&bytes).await;
        // Record what reached the socket, whole frames only.
        let mut left = written;
        let mut sent = Vec::new();
        for message in messages {
            let len = message.encoded_len();
            if len > left {
                break;
            }
            left -= len;
            sent.push(record_of(message));
        }
        self.slot.update(|r| r.sent.extend(sent));
        result
    }

    /// Writes `bytes` and records `what` once they are all written.
    async fn write_recorded(&mut self, bytes: &[u8], what: Sent) -> io::Result<()> {
        let (_, result) = self.write_partial(bytes).await;
        if result.is_ok() {
            self.slot.update(|r| r.sent.push(what));
        }
        result
    }

    /// Writes raw bytes, which need not be a valid frame, and records nothing but the byte
    /// count: call [`Self::record`] to say what they were. Returns how many bytes reached the
    /// socket, and the error that stopped the rest, if any.
    pub async fn write_partial(&mut self, bytes: &[u8]) -> (usize, io::Result<()>) {
        let mut written = 0;
        let mut result = Ok(());
        while written < bytes.len() {
            match self.stream.write(&bytes[written..]).await {
                Ok(0) => {
                    result = Err(io::ErrorKind::WriteZero.into());
                    break;
                }
                Ok(n) => written += n,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.note_io(result.as_ref().err());
        let count = written as u64;
        self.slot.update(|r| r.bytes_sent += count);
        (written, result)
    }

    /// Adds an entry to the report's list of what we sent (for bytes written with
    /// [`Self::write_partial`]).
    pub fn record(&self, what: Sent) {
        self.slot.update(|r| r.sent.push(what));
    }

    /// Reads the next message (recording it). Fails when the remote closes the connection
    /// (check [`Self::remote_closed`]) or sends bytes bt-proto's decoder rejects.
    /// Cancel-safe: a message is never half consumed.
    pub async fn recv(&mut self) -> io::Result<PeerMessage> {
        loop {
            let decoded = self
                .decoder
                .decode(&mut self.buf)
                .map_err(|e| invalid(format!("the remote sent a bad frame: {e}")))?;
            if let Some(message) = decoded {
                self.slot.update(|r| match &message {
                    PeerMessage::Piece {
                        piece,
                        offset,
                        data,
                    } => r.received.blocks.push(BlockRequest {
                        piece: *piece,
                        offset: *offset,
                        length: u32::try_from(data.len()).unwrap_or(u32::MAX),
                    }),
                    other => r.received.messages.push(other.clone()),
                });
                return Ok(message);
            }
            let read = self.stream.read_buf(&mut self.buf).await;
            self.note_io(read.as_ref().err());
            match read? {
                0 => {
                    self.remote_closed = true;
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                n => {
                    let count = n as u64;
                    self.slot.update(|r| r.received.bytes += count);
                }
            }
        }
    }

    /// Reads messages until one matches `pred`, and returns it.
    pub async fn recv_until(
        &mut self,
        pred: impl Fn(&PeerMessage) -> bool,
    ) -> io::Result<PeerMessage> {
        loop {
            let message = self.recv().await?;
            if pred(&message) {
                return Ok(message);
            }
        }
    }

    /// Reads (and records) everything until the remote closes the connection, then returns
    /// `Ok`. The connection's lifetime bounds the wait.
    pub async fn drain(&mut self) -> io::Result<()> {
        loop {
            match self.recv().await {
                Ok(_) => {}
                Err(_) if self.remote_closed => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// Notes a socket error that means the remote closed or reset the connection.
    fn note_io(&mut self, error: Option<&io::Error>) {
        if let Some(e) = error {
            use io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
            if matches!(
                e.kind(),
                BrokenPipe | ConnectionAborted | ConnectionReset | UnexpectedEof
            ) {
                self.remote_closed = true;
            }
        }
    }
}

/// How a sent message appears in the report: PIECE by its range only.
fn record_of(message: PeerMessage) -> Sent {
    match message {
        PeerMessage::Piece {
            piece,
            offset,
            data,
        } => Sent::Block(BlockRequest {
            piece,
            offset,
            length: u32::try_from(data.len()).unwrap_or(u32::MAX),
        }),
        other => Sent::Message(other),
    }
}

/// An `InvalidData` error with `message`.
pub(super) fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}
