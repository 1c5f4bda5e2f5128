//! A `PeerSession` over a real loopback socket, with the test playing the remote peer through
//! `PeerCodec`, a real disk pool, and a stub standing in for the piece manager, the choker
//! and the supervisor.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::{Actor, Addr, Arbiter, Context, Handler, Message, MessageResult, Recipient};
use bt_proto::geometry::{BlockRef, Lengths};

use bt_proto::wire::BlockRequest;
use bytes::Bytes;
use tempfile::TempDir;
use tokio::net::TcpStream;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio_util::codec::Framed;

use super::msg::{SetInterest, Unchoke, WorkAvailable};
use super::tests_upload::ReadLog;
use super::*;
use crate::actors::choker::msg as choker;
use crate::actors::disk::DiskWriter;
use crate::actors::piece_manager::msg::*;
use crate::actors::piece_manager::{DiskBacklog, PieceManagerLink};
use crate::actors::supervisor::msg::{DiskFailed, ExtensionHandshakeReceived, PeersDiscovered};
use crate::actors::test_support::TIMEOUT;
use crate::storage::test_support::{payload, single_file};
use crate::storage::{Storage, StorageConfig};

pub(super) const PIECE: u32 = 32 * 1024;
pub(super) const LEN: usize = 2 * PIECE as usize + 5000;

/// What the stub saw.
#[derive(Debug)]
pub(super) enum Event {
    Joined,
    /// A `RequestBlocksIn`: the pieces and whether only those.
    RequestIn(Vec<u32>, bool),
    /// An `ExtensionHandshakeReceived`: the listen port and client.
    Extended(Option<u16>, Option<String>),
    /// Peers from PEX.
    Discovered(Vec<std::net::SocketAddr>),
    Bitfield,
    Received(Vec<(BlockRef, Bytes)>),
    DiskFailed,
    Released(usize),
    Left,
    Disconnected(PeerExit),
}

/// Stands in for the piece manager (hands out `blocks` once, reports the blocks received),
/// the choker and the supervisor.
pub(super) struct Stub {
    tx: UnboundedSender<Event>,
    blocks: Vec<BlockRef>,
    /// The connection's `WorkAvailable`, from its `PeerJoined`.
    work: Option<Recipient<WorkAvailable>>,
    /// `RequestBlocks` still to refuse ([`Refuse`]).
    refusals: usize,
}

/// Has the stub answer the next `count` `RequestBlocks` with nothing, each time telling the
/// connection `WorkAvailable` before the answer leaves: as the piece manager does when the
/// disk catches up between a refusal and the connection reading it.
#[derive(Message)]
#[rtype(result = "()")]
pub(super) struct Refuse(pub(super) usize);

impl Handler<Refuse> for Stub {
    type Result = ();
    fn handle(&mut self, msg: Refuse, _: &mut Context<Self>) {
        self.refusals = msg.0;
    }
}

impl Actor for Stub {
    type Context = Context<Self>;
}

macro_rules! stub {
    ($msg:ty, |$m:ident, $me:ident| $body:expr) => {
        impl Handler<$msg> for Stub {
            type Result = ();
            fn handle(&mut self, $m: $msg, _: &mut Context<Self>) {
                let $me = &mut *self;
                let event: Option<Event> = $body;
                if let Some(event) = event {
                    let _ = $me.tx.send(event);
                }
            }
        }
    };
}

stub!(PeerJoined, |m, me| {
    me.work = Some(m.work);
    Some(Event::Joined)
});
stub!(BitfieldReceived, |_m, _me| Some(Event::Bitfield));
stub!(HaveReceived, |_m, _me| None);
stub!(HaveAllReceived, |_m, _me| None);
stub!(PeerLeft, |_m, _me| Some(Event::Left));
stub!(BlocksReceived, |m, _me| Some(Event::Received(m.blocks)));
stub!(RequestsReleased, |m, _me| Some(Event::Released(
    m.blocks.len()
)));
stub!(choker::PeerJoined, |_m, _me| None);
stub!(choker::PeerLeft, |_m, _me| None);
stub!(choker::InterestChanged, |_m, _me| None);
stub!(PeerDisconnected, |m, _me| Some(Event::Disconnected(m.exit)));
stub!(PeerStatsUpdated, |_m, _me| None);
stub!(DiskFailed, |_m, _me| Some(Event::DiskFailed));
stub!(ExtensionHandshakeReceived, |m, _me| Some(Event::Extended(
    m.listen_port,
    m.client
)));
stub!(PeersDiscovered, |m, _me| Some(Event::Discovered(m.peers)));

impl Handler<RequestBlocksIn> for Stub {
    type Result = MessageResult<RequestBlocksIn>;
    fn handle(&mut self, msg: RequestBlocksIn, _: &mut Context<Self>) -> Self::Result {
        let pieces: Vec<u32> = msg.pieces.iter().map(|p| p.get()).collect();
        let _ = self.tx.send(Event::RequestIn(pieces, msg.only));
        let mut picked = Vec::new();
        self.blocks.retain(|b| {
            let take = picked.len() < msg.max && msg.pieces.contains(&b.piece);
            if take {
                picked.push(*b);
            }
            !take
        });
        if !msg.only {
            let n = (msg.max - picked.len()).min(self.blocks.len());
            picked.extend(self.blocks.drain(..n));
        }
        MessageResult(picked)
    }
}

impl Handler<RequestBlocks> for Stub {
    type Result = MessageResult<RequestBlocks>;
    fn handle(&mut self, msg: RequestBlocks, _: &mut Context<Self>) -> Self::Result {
        if self.refusals > 0 {
            self.refusals -= 1;
            if let Some(work) = &self.work {
                work.do_send(WorkAvailable);
            }
            return MessageResult(Vec::new());
        }
        let n = msg.max.min(self.blocks.len());
        MessageResult(self.blocks.drain(..n).collect())
    }
}

pub(super) struct Fixture {
    _dir: TempDir,
    pub(super) data: Vec<u8>,
    pub(super) info_bytes: Vec<u8>,
    pub(super) lengths: Lengths,
    pub(super) disk: Addr<DiskWriter>,
    /// The range of every disk read the connection made.
    pub(super) reads: Arc<Mutex<Vec<BlockRef>>>,
    pub(super) events: UnboundedReceiver<Event>,
    /// The stub piece manager, choker and supervisor.
    pub(super) stub: Addr<Stub>,
    pub(super) session: Addr<PeerSession>,
    /// The remote peer, played by the test.
    pub(super) remote: Framed<TcpStream, PeerCodec>,
}

impl Fixture {
    /// Sends the block the connection requested, as the remote peer.
    pub(super) async fn answer(&mut self, piece: u32, offset: u32, length: u32) {
        let start = self
            .lengths
            .piece_offset(self.lengths.piece(piece).unwrap()) as usize
            + offset as usize;
        let data = Bytes::copy_from_slice(&self.data[start..start + length as usize]);
        let message = PeerMessage::Piece {
            piece,
            offset,
            data,
        };
        send(&mut self.remote, message).await;
    }
}

/// A connection whose disk holds the payload if `seeding`, and nothing otherwise.
pub(super) async fn fixture(seeding: bool, settings: PeerSettings, config: PeerConfig) -> Fixture {
    fixture_with(seeding, settings, config, Negotiated::default()).await
}

/// [`fixture`], with the extensions both sides negotiated.
pub(super) async fn fixture_with(
    seeding: bool,
    settings: PeerSettings,
    config: PeerConfig,
    negotiated: Negotiated,
) -> Fixture {
    let backlog = DiskBacklog::new(1 << 30);
    fixture_on(seeding, settings, config, negotiated, backlog).await
}

/// [`fixture_with`], the connection counting its blocks in `backlog` (which the stub piece
/// manager never takes down).
pub(super) async fn fixture_on(
    seeding: bool,
    settings: PeerSettings,
    config: PeerConfig,
    negotiated: Negotiated,
    backlog: DiskBacklog,
) -> Fixture {
    let dir = TempDir::new().unwrap();
    let data = payload(LEN, 3);
    let info = single_file("f", PIECE, &data);
    let info_bytes = info.to_bytes();
    let storage = Storage::open(dir.path(), &info, &StorageConfig::default()).unwrap();
    let lengths = *storage.lengths();
    if seeding {
        crate::storage::test_support::write_all(&storage, &data);
    }
    let disk = DiskWriter::start(storage, 2);
    let reads = Arc::new(Mutex::new(Vec::new()));
    let read_log = ReadLog {
        disk: disk.clone(),
        ranges: Arc::clone(&reads),
    }
    .start();
    let (tx, events) = unbounded_channel();
    let all = lengths.pieces().flat_map(|p| lengths.blocks(p)).collect();
    let stub = Stub {
        tx,
        blocks: all,
        work: None,
        refusals: 0,
    }
    .start();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let remote = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (ours, addr) = listener.accept().unwrap();
    ours.set_nonblocking(true).unwrap();
    let count = lengths.piece_count() as usize;
    let have = if seeding {
        Bitfield::full(count)
    } else {
        Bitfield::new(count)
    };
    let setup = PeerSetup {
        key: PeerKey(1),
        addr,
        peer_id: PeerId([9; 20]),
        negotiated,
        lengths,
        have,
        config,
        settings,
        stats_interval: Duration::from_millis(100),
        limits: SessionLimits::default(),
        links: links(&stub, &read_log, backlog),
        span: Span::none(),
        permit: None,
        alive: None,
        extensions: extension_setup(&info_bytes),
    };
    let session = PeerSession::start_in(&Arbiter::current(), ours, setup);
    Fixture {
        _dir: dir,
        data,
        info_bytes,
        lengths,
        disk,
        reads,
        events,
        stub,
        session,
        remote: Framed::new(remote, PeerCodec::default()),
    }
}

fn links(stub: &Addr<Stub>, reads: &Addr<ReadLog>, backlog: DiskBacklog) -> PeerLinks {
    PeerLinks {
        manager: PieceManagerLink::of(stub, backlog),
        choker_joined: stub.clone().recipient(),
        choker_left: stub.clone().recipient(),
        choker_interest: stub.clone().recipient(),
        disconnected: stub.clone().recipient(),
        stats: stub.clone().recipient(),
        disk_failed: stub.clone().recipient(),
        read: reads.clone().recipient(),
        extensions: ExtensionLinks {
            handshake: stub.clone().recipient(),
            discovered: stub.clone().recipient(),
        },
    }
}

/// Extensions as a public torrent's supervisor sets them up, PEX every 50 ms.
fn extension_setup(info_bytes: &[u8]) -> PeerExtensionSetup {
    PeerExtensionSetup {
        config: crate::peer::ExtensionConfig {
            client: "bt test".to_owned(),
            listen_port: Some(7777),
            request_queue: 250,
            metadata: Some(Bytes::copy_from_slice(info_bytes)),
            pex: true,
            pex_interval: Duration::from_millis(50),
        },
        info_hash: bt_proto::InfoHash([0xaa; 20]),
        allowed_fast_count: 10,
    }
}

pub(super) async fn recv(remote: &mut Framed<TcpStream, PeerCodec>) -> PeerMessage {
    use std::future::poll_fn;
    use std::pin::Pin;
    let next = poll_fn(|cx| actix::prelude::Stream::poll_next(Pin::new(&mut *remote), cx));
    tokio::time::timeout(TIMEOUT, next)
        .await
        .expect("a frame in time")
        .expect("the connection is open")
        .expect("a valid frame")
}

pub(super) async fn send(remote: &mut Framed<TcpStream, PeerCodec>, message: PeerMessage) {
    use std::future::poll_fn;
    use std::pin::Pin;
    use tokio_util::codec::Encoder;
    let mut buf = bytes::BytesMut::new();
    PeerCodec::default().encode(message, &mut buf).unwrap();
    let stream = remote.get_mut();
    tokio::io::AsyncWriteExt::write_all(stream, &buf)
        .await
        .unwrap();
    let _ = poll_fn(|cx| tokio::io::AsyncWrite::poll_flush(Pin::new(&mut *stream), cx)).await;
}

pub(super) async fn event(events: &mut UnboundedReceiver<Event>) -> Event {
    tokio::time::timeout(TIMEOUT, events.recv())
        .await
        .expect("an event in time")
        .expect("the stub is alive")
}

/// A fresh connection to a remote seed that unchokes it once it is interested: from here
/// on, the connection requests blocks. It counts them in `backlog`.
pub(super) async fn downloading_from_a_seed(backlog: DiskBacklog) -> Fixture {
    let mut f = interested_in_a_seed_on(PeerSettings::default(), backlog).await;
    send(&mut f.remote, PeerMessage::Unchoke).await;
    f
}

/// A fresh connection to a remote seed, interested in it and still choked.
pub(super) async fn interested_in_a_seed(settings: PeerSettings) -> Fixture {
    interested_in_a_seed_on(settings, DiskBacklog::new(1 << 30)).await
}

/// [`interested_in_a_seed`], the connection counting its blocks in `backlog`.
async fn interested_in_a_seed_on(settings: PeerSettings, backlog: DiskBacklog) -> Fixture {
    let config = PeerConfig::default();
    let mut f = fixture_on(false, settings, config, Negotiated::default(), backlog).await;
    assert!(matches!(event(&mut f.events).await, Event::Joined));
    let full = Bitfield::full(f.lengths.piece_count() as usize);
    send(&mut f.remote, PeerMessage::Bitfield(full.to_bytes().into())).await;
    assert!(matches!(event(&mut f.events).await, Event::Bitfield));
    f.session.do_send(SetInterest { interested: true });
    assert_eq!(recv(&mut f.remote).await, PeerMessage::Interested);
    f
}

#[actix::test]
async fn hands_the_blocks_it_requested_to_the_piece_manager_in_batches() {
    let mut f = downloading_from_a_seed(DiskBacklog::new(1 << 30)).await;
    let total = f
        .lengths
        .pieces()
        .map(|p| f.lengths.block_count(p))
        .sum::<u32>() as usize;
    // Collect every request first, then answer them all in one write.
    let mut requests = Vec::new();
    while requests.len() < total {
        if let PeerMessage::Request(request) = recv(&mut f.remote).await {
            requests.push(request);
        }
    }
    let mut frames = bytes::BytesMut::new();
    for BlockRequest {
        piece,
        offset,
        length,
    } in requests
    {
        let start =
            f.lengths.piece_offset(f.lengths.piece(piece).unwrap()) as usize + offset as usize;
        let data = Bytes::copy_from_slice(&f.data[start..start + length as usize]);
        let message = PeerMessage::Piece {
            piece,
            offset,
            data,
        };
        tokio_util::codec::Encoder::encode(&mut PeerCodec::default(), message, &mut frames)
            .unwrap();
    }
    tokio::io::AsyncWriteExt::write_all(f.remote.get_mut(), &frames)
        .await
        .unwrap();
    let mut received = Vec::new();
    let mut messages = 0;
    while received.len() < total {
        if let Event::Received(blocks) = event(&mut f.events).await {
            received.extend(blocks);
            messages += 1;
        }
    }
    assert!(messages < total, "{total} blocks in {messages} messages");
    for (block, data) in received {
        let start = f.lengths.piece_offset(block.piece) as usize + block.offset as usize;
        assert_eq!(&data[..], &f.data[start..start + block.len as usize]);
    }
}

#[actix::test]
async fn serves_blocks_only_once_unchoked() {
    let mut f = fixture(true, PeerSettings::default(), PeerConfig::default()).await;
    let PeerMessage::Bitfield(bits) = recv(&mut f.remote).await else {
        panic!("a seed starts with its bitfield");
    };
    assert!(Bitfield::from_bytes(&bits, 3).unwrap().is_complete());
    let request = BlockRequest {
        piece: 1,
        offset: 16_384,
        length: 16_384,
    };
    send(&mut f.remote, PeerMessage::Interested).await;
    send(&mut f.remote, PeerMessage::Request(request)).await;
    f.session.do_send(Unchoke);
    assert_eq!(recv(&mut f.remote).await, PeerMessage::Unchoke);
    send(&mut f.remote, PeerMessage::Request(request)).await;
    let PeerMessage::Piece {
        piece,
        offset,
        data,
    } = recv(&mut f.remote).await
    else {
        panic!("the block, and only once: the choked request was dropped");
    };
    assert_eq!((piece, offset), (1, 16_384));
    let start = PIECE as usize + 16_384;
    assert_eq!(&data[..], &f.data[start..start + 16_384]);
    drop(f.disk);
}

#[actix::test]
async fn a_hang_up_is_reported_with_its_reason() {
    let mut f = fixture(false, PeerSettings::default(), PeerConfig::default()).await;
    assert!(matches!(event(&mut f.events).await, Event::Joined));
    drop(f.remote);
    let mut left = false;
    loop {
        match event(&mut f.events).await {
            Event::Left => left = true,
            Event::Disconnected(PeerExit::Error(PeerError::Io(_))) => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(left, "the piece manager hears of it before the supervisor");
}

#[actix::test]
async fn a_silent_peer_is_dropped() {
    let settings = PeerSettings {
        tick_ms: 10,
        ..PeerSettings::default()
    };
    let config = PeerConfig {
        silence_timeout: Duration::from_millis(50),
        ..PeerConfig::default()
    };
    let mut f = fixture(false, settings, config).await;
    loop {
        if let Event::Disconnected(exit) = event(&mut f.events).await {
            assert!(
                matches!(exit, PeerExit::Error(PeerError::Silent(_))),
                "{exit}"
            );
            break;
        }
    }
}

#[actix::test]
async fn a_choke_hands_every_unanswered_block_back() {
    let mut f = fixture(false, PeerSettings::default(), PeerConfig::default()).await;
    let full = Bitfield::full(f.lengths.piece_count() as usize);
    send(&mut f.remote, PeerMessage::Bitfield(full.to_bytes().into())).await;
    f.session.do_send(SetInterest { interested: true });
    assert_eq!(recv(&mut f.remote).await, PeerMessage::Interested);
    send(&mut f.remote, PeerMessage::Unchoke).await;
    assert!(matches!(recv(&mut f.remote).await, PeerMessage::Request(_)));
    send(&mut f.remote, PeerMessage::Choke).await;
    // Without the fast extension a choke drops our requests (BEP 3): requested and picked
    // blocks alike go back to the piece manager, none is lost.
    let total = f
        .lengths
        .pieces()
        .map(|p| f.lengths.block_count(p))
        .sum::<u32>() as usize;
    let mut released = 0;
    while released < total {
        if let Event::Released(n) = event(&mut f.events).await {
            released += n;
        }
    }
    assert_eq!(released, total);
}
