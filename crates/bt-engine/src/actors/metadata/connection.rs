//! One connection of a metadata fetch: a task (not an actor: it is short-lived and speaks
//! only the extension protocol) that sends our extension handshake, reports the peer's, asks
//! for the metadata pieces the fetcher names, and reports what comes back. Every other
//! message is read and ignored: without the metadata there are no pieces to talk about.
//!
//! It ends when the fetcher says so (or drops its command channel), when the peer hangs up
//! or breaks the protocol, when the peer's extension handshake does not come within the
//! handshake time limit, or when the peer is silent for the silence time-out; the reason goes
//! to the fetcher in [`ConnectionEvent::Closed`]. It holds the session's connection slot
//! until it ends.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use actix::Recipient;
use bt_proto::wire::{MessageDecoder, PeerMessage};
use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::mpsc::UnboundedReceiver;

use super::msg::{ConnectionEvent, MetadataPeerEvent};
use crate::actors::peer::msg::DisconnectReason;
use crate::actors::supervisor::msg::PeerExit;
use crate::choker::PeerKey;
use crate::peer::{ExtensionEvent, ExtensionState, PeerError};

/// What the fetcher tells a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Ask for this metadata piece.
    Request(u32),
    /// Close the connection for this reason.
    Close(DisconnectReason),
}

/// Everything a connection runs with.
#[derive(Debug)]
pub struct Connection {
    /// The fetcher's key for it.
    pub key: PeerKey,
    /// The socket, handshaken.
    pub stream: TcpStream,
    /// The peer's address.
    pub addr: SocketAddr,
    /// The extension side (configured without metadata and without PEX).
    pub extensions: ExtensionState,
    /// How long the peer may take to send its extension handshake.
    pub handshake_timeout: Duration,
    /// How long the peer may send nothing at all.
    pub silence_timeout: Duration,
    /// How often we send a keep-alive when we have nothing else to say.
    pub keepalive_interval: Duration,
    /// The fetcher's commands.
    pub commands: UnboundedReceiver<Command>,
    /// Where events go.
    pub events: Recipient<MetadataPeerEvent>,
    /// The session's connection slot.
    pub permit: Option<OwnedSemaphorePermit>,
}

impl Connection {
    /// Runs the connection until it ends, then reports why.
    pub async fn run(mut self) {
        let exit = match self.serve().await {
            Ok(reason) => PeerExit::Closed(reason),
            Err(error) => PeerExit::Error(error),
        };
        self.report(ConnectionEvent::Closed(exit));
        drop(self.permit.take());
    }

    fn report(&self, event: ConnectionEvent) {
        self.events.do_send(MetadataPeerEvent {
            key: self.key,
            event,
        });
    }

    async fn serve(&mut self) -> Result<DisconnectReason, PeerError> {
        let mut out = BytesMut::new();
        self.extensions.handshake(self.addr.ip()).encode(&mut out);
        self.stream.write_all(&out).await?;
        let mut decoder = MessageDecoder::default();
        let mut buf = BytesMut::with_capacity(32 * 1024);
        let started = Instant::now();
        let mut last_received = Instant::now();
        let mut last_sent = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tokio::select! {
                read = self.stream.read_buf(&mut buf) => {
                    if read? == 0 {
                        return Err(PeerError::Io(std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            "the peer closed the connection",
                        )));
                    }
                    last_received = Instant::now();
                    while let Some(message) = decoder.decode(&mut buf)? {
                        if let PeerMessage::Extended { id, payload } = message {
                            self.on_extended(id, payload).await?;
                        }
                    }
                }
                command = self.commands.recv() => match command {
                    Some(Command::Request(piece)) => {
                        if let Some(request) = self.extensions.request_metadata(piece) {
                            self.send(request).await?;
                            last_sent = Instant::now();
                        }
                    }
                    Some(Command::Close(reason)) => return Ok(reason),
                    None => return Ok(DisconnectReason::TorrentStopping),
                },
                _ = tick.tick() => {
                    let now = Instant::now();
                    if self.extensions.peer_handshake().is_none()
                        && now.duration_since(started) >= self.handshake_timeout
                    {
                        return Err(PeerError::NoMetadata("no extension handshake in time"));
                    }
                    if now.duration_since(last_received) >= self.silence_timeout {
                        return Err(PeerError::Silent(self.silence_timeout));
                    }
                    if now.duration_since(last_sent) >= self.keepalive_interval {
                        self.send(PeerMessage::KeepAlive).await?;
                        last_sent = now;
                    }
                }
            }
        }
    }

    /// An extended message: handshake and metadata news go to the fetcher, replies (rejects
    /// of the peer's own metadata requests: we have none) go back to the peer.
    async fn on_extended(&mut self, id: u8, payload: Bytes) -> Result<(), PeerError> {
        for event in self.extensions.on_message(id, payload, Instant::now())? {
            match event {
                ExtensionEvent::Handshake {
                    listen_port,
                    metadata_size,
                } => {
                    let handshake = self.extensions.peer_handshake();
                    self.report(ConnectionEvent::Ready {
                        serves: self.extensions.peer_serves_metadata(),
                        metadata_size,
                        listen_port,
                        client: handshake.and_then(|h| h.client.clone()),
                    });
                }
                ExtensionEvent::Reply(message) => self.send(message).await?,
                ExtensionEvent::MetadataPiece {
                    piece,
                    total_size,
                    data,
                } => self.report(ConnectionEvent::Piece {
                    piece,
                    total_size,
                    data,
                }),
                ExtensionEvent::MetadataRejected { piece } => {
                    self.report(ConnectionEvent::Rejected { piece });
                }
                ExtensionEvent::PeersAdded(_) => {}
            }
        }
        Ok(())
    }

    async fn send(&mut self, message: PeerMessage) -> Result<(), PeerError> {
        let mut out = BytesMut::with_capacity(message.encoded_len());
        message.encode(&mut out);
        self.stream.write_all(&out).await?;
        Ok(())
    }
}
