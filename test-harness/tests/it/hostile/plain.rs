//! The other end of a hostile peer's connection, played by hand: a plain tokio socket that
//! decodes every byte with bt-proto, and the small helpers the harness tests share.

use std::time::Duration;

use anyhow::{Context, bail, ensure};
use bt_proto::bitfield::Bitfield;
use bt_proto::geometry::Lengths;
use bt_proto::wire::{BlockRequest, Handshake, MessageDecoder, PeerMessage, Reserved, WireError};
use bt_proto::{InfoHash, PeerId};
use bt_test_harness::hostile::{ConnectionReport, End, HostilePeer, Script};
use bt_test_harness::{Payload, PayloadSpec};
use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Every wait of the harness tests.
pub(super) const TIMEOUT: Duration = Duration::from_secs(10);

/// 100 000 bytes in 32 KiB pieces: 4 pieces (spare bits in a bitfield), the last one short.
pub(super) fn payload() -> Payload {
    let spec = PayloadSpec::single_file("hostile.bin", 100_000).with_piece_length(32 * 1024);
    Payload::generate(&spec, 11).expect("payload")
}

pub(super) fn lengths(payload: &Payload) -> Lengths {
    let info = &payload.torrent.info;
    Lengths::new(info.total_length(), info.piece_length).expect("geometry")
}

/// The engine's side of a connection, played by hand.
pub(super) struct PlainPeer {
    pub(super) stream: TcpStream,
    pub(super) buf: BytesMut,
    decoder: MessageDecoder,
}

impl PlainPeer {
    /// Accepts the hostile peer's connection and answers its handshake.
    pub(super) async fn accept(
        listener: &TcpListener,
        info_hash: InfoHash,
    ) -> anyhow::Result<Self> {
        let (mut stream, _) = tokio::time::timeout(TIMEOUT, listener.accept()).await??;
        let mut theirs = [0u8; Handshake::LEN];
        stream.read_exact(&mut theirs).await?;
        let theirs = Handshake::decode(&theirs)?.context("a whole handshake")?;
        ensure!(
            theirs.info_hash == info_hash,
            "handshake for another torrent"
        );
        stream.write_all(&ours(info_hash).to_bytes()).await?;
        Ok(Self::new(stream))
    }

    /// Dials a listening hostile peer and exchanges handshakes.
    pub(super) async fn dial(
        addr: std::net::SocketAddr,
        info_hash: InfoHash,
    ) -> anyhow::Result<Self> {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(&ours(info_hash).to_bytes()).await?;
        let mut theirs = [0u8; Handshake::LEN];
        tokio::time::timeout(TIMEOUT, stream.read_exact(&mut theirs)).await??;
        let theirs = Handshake::decode(&theirs)?.context("a whole handshake")?;
        ensure!(
            theirs.info_hash == info_hash,
            "handshake for another torrent"
        );
        Ok(Self::new(stream))
    }

    fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            buf: BytesMut::new(),
            decoder: MessageDecoder::default(),
        }
    }

    /// The next message; `Ok(None)` at end of stream; a decoder error as it is.
    pub(super) async fn next(&mut self) -> anyhow::Result<Result<Option<PeerMessage>, WireError>> {
        loop {
            match self.decoder.decode(&mut self.buf) {
                Ok(Some(message)) => return Ok(Ok(Some(message))),
                Err(e) => return Ok(Err(e)),
                Ok(None) => {}
            }
            let read = tokio::time::timeout(TIMEOUT, self.stream.read_buf(&mut self.buf)).await?;
            if read? == 0 {
                return Ok(Ok(None));
            }
        }
    }

    /// The next message, which must decode and be there.
    pub(super) async fn expect(&mut self) -> anyhow::Result<PeerMessage> {
        match self.next().await? {
            Ok(Some(message)) => Ok(message),
            Ok(None) => bail!("the hostile peer hung up"),
            Err(e) => bail!("undecodable: {e}"),
        }
    }

    pub(super) async fn send(&mut self, message: PeerMessage) -> anyhow::Result<()> {
        let mut out = BytesMut::new();
        message.encode(&mut out);
        Ok(self.stream.write_all(&out).await?)
    }
}

/// A hostile peer running `script`, connected to a plain peer that has answered its
/// handshake.
pub(super) async fn connected(
    payload: &Payload,
    script: impl Script,
) -> anyhow::Result<(HostilePeer, PlainPeer)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let hostile = HostilePeer::connect(&payload.torrent, script, listener.local_addr()?)?;
    let plain = PlainPeer::accept(&listener, payload.info_hash()).await?;
    Ok((hostile, plain))
}

/// Closes the plain side and returns the hostile side's report, which must say so.
pub(super) async fn hang_up(hostile: &HostilePeer, plain: PlainPeer) -> ConnectionReport {
    drop(plain);
    let report = hostile.wait_first_end(TIMEOUT).await;
    let report = report.expect("the connection ends");
    assert_eq!(report.end, Some(End::ClosedByRemote));
    report
}

pub(super) fn ours(info_hash: InfoHash) -> Handshake {
    Handshake::new(Reserved::NONE, info_hash, PeerId([7; 20]))
}

/// The payload's bytes for a block.
pub(super) fn real_bytes(payload: &Payload, request: BlockRequest) -> Vec<u8> {
    let all = std::fs::read(&payload.root).expect("payload file");
    let start = (u64::from(request.piece) * u64::from(payload.torrent.info.piece_length)
        + u64::from(request.offset)) as usize;
    all[start..start + request.length as usize].to_vec()
}

/// Plays a downloader up to the first REQUEST: reads the full bitfield, says INTERESTED,
/// waits for UNCHOKE, asks for `request`.
pub(super) async fn download_start(
    plain: &mut PlainPeer,
    pieces: u32,
    request: BlockRequest,
) -> anyhow::Result<()> {
    let PeerMessage::Bitfield(bits) = plain.expect().await? else {
        bail!("the first message is not a bitfield");
    };
    let bits = Bitfield::from_bytes(&bits, pieces as usize)?;
    ensure!(bits.is_complete(), "a posing seeder claims every piece");
    plain.send(PeerMessage::Interested).await?;
    ensure!(plain.expect().await? == PeerMessage::Unchoke);
    plain.send(PeerMessage::Request(request)).await
}
