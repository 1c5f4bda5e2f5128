//! The piece manager with a real disk pool (or a broken one) and stub connections and
//! supervisor, with pieces kept in memory and written through: blocks are picked, hashed,
//! written, announced; a corrupt piece bans its sender; a failed store or write is a disk
//! error; a disk that falls behind gets no more work.

use std::sync::Arc;

use actix::{Actor, Addr, Context, Handler, Recipient, ResponseFuture};
use bt_proto::bitfield::Bitfield;
use bt_proto::geometry::{BLOCK_LEN, BlockRef, Lengths};
use bytes::Bytes;
use tempfile::TempDir;

use super::msg::*;
use super::*;
use crate::actors::disk::{DiskError, DiskWriter, ReadBlock, StorePiece, VerifyPiece, WriteBlock};
use crate::actors::supervisor::msg::PieceVerified;
use crate::actors::test_support::{Recorder, Seen, next, next_matching};
use crate::picker::{PickerConfig, StandardPicker};
use crate::storage::test_support::{payload, single_file};
use crate::storage::{Storage, StorageConfig};

const PIECE: u32 = 32 * 1024;
const LEN: usize = 3 * PIECE as usize - 1000;

pub(super) struct Fixture {
    _dir: TempDir,
    data: Vec<u8>,
    pub(super) lengths: Lengths,
    disk: Addr<DiskWriter>,
    pub(super) manager: Addr<PieceManager>,
    /// What the manager shares with its connections.
    pub(super) backlog: DiskBacklog,
    pub(super) supervisor: tokio::sync::mpsc::UnboundedReceiver<Seen>,
}

/// Where the piece manager's disk work goes.
struct DiskLinks {
    store: Recipient<StorePiece>,
    write: Recipient<WriteBlock>,
    verify: Recipient<VerifyPiece>,
}

impl DiskLinks {
    fn of<A>(actor: &Addr<A>) -> Self
    where
        A: Actor + Handler<StorePiece> + Handler<WriteBlock> + Handler<VerifyPiece>,
        A::Context: actix::dev::ToEnvelope<A, StorePiece>
            + actix::dev::ToEnvelope<A, WriteBlock>
            + actix::dev::ToEnvelope<A, VerifyPiece>,
    {
        Self {
            store: actor.clone().recipient(),
            write: actor.clone().recipient(),
            verify: actor.clone().recipient(),
        }
    }
}

/// A manager over a real disk pool, keeping up to `buffer_limit` bytes of pieces in memory.
pub(super) fn fixture(picker: PickerConfig, buffer_limit: u64) -> Fixture {
    fixture_on(picker, buffer_limit, LEN, DiskLinks::of)
}

/// [`fixture`] with a payload of `len` bytes, and the disk work going where `disk_links`
/// says, given the pool.
fn fixture_on(
    picker: PickerConfig,
    buffer_limit: u64,
    len: usize,
    disk_links: impl FnOnce(&Addr<DiskWriter>) -> DiskLinks,
) -> Fixture {
    let dir = TempDir::new().unwrap();
    let data = payload(len, 9);
    let info = single_file("f", PIECE, &data);
    let storage = Storage::open(dir.path(), &info, &StorageConfig::default()).unwrap();
    let lengths = *storage.lengths();
    let disk = DiskWriter::start(storage, 2);
    let (recorder, supervisor) = Recorder::new(PeerKey(0));
    let supervisor_addr = recorder.start();
    let picker = StandardPicker::new(
        lengths,
        Bitfield::new(lengths.piece_count() as usize),
        picker,
        1,
    )
    .unwrap();
    let links = disk_links(&disk);
    let backlog = disk_backlog(&lengths, DEFAULT_DISK_BACKLOG);
    let manager = PieceManager::new(PieceManagerSetup {
        picker: Box::new(picker),
        hashes: Arc::from(info.pieces.clone()),
        lengths,
        buffer_limit,
        backlog: backlog.clone(),
        outputs: PieceManagerOutputs {
            store: links.store,
            write: links.write,
            verify: links.verify,
            verified: supervisor_addr.clone().recipient(),
            failed: supervisor_addr.clone().recipient(),
            disk_failed: supervisor_addr.recipient(),
        },
        span: tracing::Span::none(),
        alive: None,
    })
    .start();
    Fixture {
        _dir: dir,
        data,
        lengths,
        disk,
        manager,
        backlog,
        supervisor,
    }
}

/// Pieces kept in memory (the default), and every block written through.
pub(super) const BOTH_WAYS: [u64; 2] = [DEFAULT_BUFFER_LIMIT, 0];

/// A stub connection registered with the manager, announcing nothing yet.
pub(super) fn join(f: &Fixture, key: u64) -> tokio::sync::mpsc::UnboundedReceiver<Seen> {
    let (recorder, rx) = Recorder::new(PeerKey(key));
    let peer = recorder.start();
    f.manager.do_send(PeerJoined {
        key: PeerKey(key),
        interest: peer.clone().recipient(),
        cancel: peer.clone().recipient(),
        work: peer.clone().recipient(),
        resume: peer.recipient(),
    });
    rx
}

/// A stub connection registered with the manager, announcing every piece.
pub(super) async fn join_seed(f: &Fixture, key: u64) -> tokio::sync::mpsc::UnboundedReceiver<Seen> {
    let rx = join(f, key);
    let bitfield = Bitfield::full(f.lengths.piece_count() as usize);
    f.manager.do_send(BitfieldReceived {
        key: PeerKey(key),
        bitfield,
    });
    rx
}

pub(super) fn bytes_of(f: &Fixture, block: &BlockRef) -> Bytes {
    let start = (f.lengths.piece_offset(block.piece) + u64::from(block.offset)) as usize;
    Bytes::copy_from_slice(&f.data[start..start + block.len as usize])
}

/// What a connection does with the blocks it received in one turn: counts them in the
/// backlog, hands them over, and says whether it may go on reading.
pub(super) fn deliver(f: &Fixture, key: u64, blocks: Vec<(BlockRef, Bytes)>) -> bool {
    let bytes = blocks.iter().map(|(_, data)| data.len() as u64).sum();
    let reading = f.backlog.received(bytes);
    f.manager.do_send(BlocksReceived {
        key: PeerKey(key),
        blocks,
    });
    reading
}

pub(super) async fn ask(f: &Fixture, key: u64, max: usize) -> Vec<BlockRef> {
    f.manager
        .send(RequestBlocks {
            key: PeerKey(key),
            max,
        })
        .await
        .unwrap()
}

#[actix::test]
async fn blocks_are_picked_hashed_written_and_announced() {
    for limit in BOTH_WAYS {
        let mut f = fixture(PickerConfig::default(), limit);
        let mut peer = join_seed(&f, 1).await;
        assert_eq!(next(&mut peer).await, Seen::Interest(true));
        let blocks = ask(&f, 1, 100).await;
        assert_eq!(blocks.len(), 6, "three pieces of two blocks");
        for block in blocks {
            let data = bytes_of(&f, &block);
            // A second copy (an endgame race) is dropped.
            deliver(&f, 1, vec![(block, data.clone()), (block, data)]);
        }
        let mut verified = Vec::new();
        while verified.len() < 3 {
            match next(&mut f.supervisor).await {
                Seen::Verified(PieceVerified { piece }) => verified.push(piece.get()),
                other => panic!("limit {limit}: {other:?}"),
            }
        }
        verified.sort_unstable();
        assert_eq!(verified, vec![0, 1, 2]);
        assert_eq!(
            next_matching(&mut peer, |s| matches!(s, Seen::Interest(_))).await,
            Seen::Interest(false),
            "nothing left to want"
        );
        let whole = BlockRef {
            piece: f.lengths.piece(0).unwrap(),
            offset: 0,
            len: PIECE,
        };
        let on_disk = f.disk.send(ReadBlock { block: whole }).await.unwrap();
        assert_eq!(
            &on_disk.unwrap()[..],
            &f.data[..PIECE as usize],
            "limit {limit}"
        );
    }
}

#[actix::test]
async fn a_corrupt_piece_bans_its_sender_and_is_fetched_again() {
    for limit in BOTH_WAYS {
        let config = PickerConfig {
            max_strikes: 1,
            ..PickerConfig::default()
        };
        let mut f = fixture(config, limit);
        let _liar = join_seed(&f, 1).await;
        let blocks = ask(&f, 1, 2).await;
        let piece = blocks[0].piece;
        assert!(blocks.iter().all(|b| b.piece == piece));
        let garbage = blocks
            .iter()
            .map(|b| (*b, Bytes::from(vec![0xee; b.len as usize])))
            .collect();
        deliver(&f, 1, garbage);
        let failed = next(&mut f.supervisor).await;
        assert_eq!(
            failed,
            Seen::Failed(crate::actors::supervisor::msg::PieceFailed {
                piece,
                struck: vec![PeerKey(1)],
                banned: vec![PeerKey(1)],
            }),
            "limit {limit}"
        );
        let mut honest = join_seed(&f, 2).await;
        assert_eq!(next(&mut honest).await, Seen::Interest(true));
        let again = ask(&f, 2, 100).await;
        assert!(again.iter().any(|b| b.piece == piece), "{again:?}");
        assert!(
            ask(&f, 1, 100).await.is_empty(),
            "a banned peer gets no work"
        );
    }
}

/// A disk pool that fails every request, or (`hold`) never answers writes.
struct BrokenDisk {
    hold: bool,
}

impl Actor for BrokenDisk {
    type Context = Context<Self>;
}

impl Handler<StorePiece> for BrokenDisk {
    type Result = Result<bool, DiskError>;
    fn handle(&mut self, _: StorePiece, _: &mut Context<Self>) -> Self::Result {
        Err(DiskError::Stopped)
    }
}

impl Handler<VerifyPiece> for BrokenDisk {
    type Result = Result<bool, DiskError>;
    fn handle(&mut self, _: VerifyPiece, _: &mut Context<Self>) -> Self::Result {
        Err(DiskError::Stopped)
    }
}

impl Handler<WriteBlock> for BrokenDisk {
    type Result = ResponseFuture<Result<(), DiskError>>;
    fn handle(&mut self, _: WriteBlock, _: &mut Context<Self>) -> Self::Result {
        let hold = self.hold;
        Box::pin(async move {
            if hold {
                std::future::pending::<()>().await;
            }
            Err(DiskError::Stopped)
        })
    }
}

#[actix::test]
async fn a_failed_store_or_write_is_a_disk_error_for_the_supervisor() {
    for limit in BOTH_WAYS {
        let broken = BrokenDisk { hold: false }.start();
        let mut f = fixture_on(
            PickerConfig::default(),
            limit,
            LEN,
            |_: &Addr<DiskWriter>| DiskLinks::of(&broken),
        );
        let _peer = join_seed(&f, 1).await;
        let blocks = ask(&f, 1, 2).await;
        deliver(
            &f,
            1,
            blocks.iter().map(|b| (*b, bytes_of(&f, b))).collect(),
        );
        let seen = next(&mut f.supervisor).await;
        assert_eq!(
            seen,
            Seen::DiskFailed(crate::actors::supervisor::msg::DiskFailed {
                error: DiskError::Stopped
            }),
            "limit {limit}"
        );
    }
}

#[actix::test]
async fn a_disk_that_falls_behind_gets_no_more_work() {
    // Blocks written through, and the disk never answers.
    let blocks_in_backlog = (DEFAULT_DISK_BACKLOG / 16_384) as usize;
    let len = (blocks_in_backlog + 10) * 16_384;
    let held = BrokenDisk { hold: true }.start();
    let config = PickerConfig {
        max_pieces_in_flight: 1_000,
        ..PickerConfig::default()
    };
    let f = fixture_on(config, 0, len, |_: &Addr<DiskWriter>| DiskLinks::of(&held));
    let _peer = join_seed(&f, 1).await;
    let first = ask(&f, 1, blocks_in_backlog).await;
    assert_eq!(first.len(), blocks_in_backlog);
    assert!(!ask(&f, 1, 1).await.is_empty(), "nothing is on its way yet");
    deliver(&f, 1, first.iter().map(|b| (*b, bytes_of(&f, b))).collect());
    assert!(
        ask(&f, 1, 10).await.is_empty(),
        "every write is still on its way"
    );
}

/// Forwards to the disk pool once the gate opens.
struct GatedDisk {
    disk: Addr<DiskWriter>,
    gate: tokio::sync::watch::Receiver<bool>,
}

impl Actor for GatedDisk {
    type Context = Context<Self>;
}

impl GatedDisk {
    fn forward<M>(&self, msg: M) -> ResponseFuture<Result<M::Result, DiskError>>
    where
        M: actix::Message + Send + 'static,
        M::Result: Send,
        DiskWriter: Handler<M>,
    {
        let mut gate = self.gate.clone();
        let disk = self.disk.clone();
        Box::pin(async move {
            let _ = gate.wait_for(|open| *open).await;
            disk.send(msg).await.map_err(DiskError::from)
        })
    }
}

impl Handler<StorePiece> for GatedDisk {
    type Result = ResponseFuture<Result<bool, DiskError>>;
    fn handle(&mut self, msg: StorePiece, _: &mut Context<Self>) -> Self::Result {
        let answer = self.forward(msg);
        Box::pin(async move { answer.await.and_then(|r| r) })
    }
}

impl Handler<WriteBlock> for GatedDisk {
    type Result = ResponseFuture<Result<(), DiskError>>;
    fn handle(&mut self, msg: WriteBlock, _: &mut Context<Self>) -> Self::Result {
        let answer = self.forward(msg);
        Box::pin(async move { answer.await.and_then(|r| r) })
    }
}

impl Handler<VerifyPiece> for GatedDisk {
    type Result = ResponseFuture<Result<bool, DiskError>>;
    fn handle(&mut self, msg: VerifyPiece, _: &mut Context<Self>) -> Self::Result {
        let answer = self.forward(msg);
        Box::pin(async move { answer.await.and_then(|r| r) })
    }
}

/// Pieces kept in memory, as many as fill the disk's backlog and two more, going to a disk
/// that waits until the returned gate opens (`send(true)`); that many pieces too.
pub(super) fn gated_fixture() -> (Fixture, tokio::sync::watch::Sender<bool>, usize) {
    let pieces = (DEFAULT_DISK_BACKLOG / u64::from(PIECE)) as usize;
    let len = (pieces + 2) * PIECE as usize;
    let (open, gate) = tokio::sync::watch::channel(false);
    let config = PickerConfig {
        max_pieces_in_flight: 1_000,
        ..PickerConfig::default()
    };
    let gated = |disk: &Addr<DiskWriter>| {
        let gated = GatedDisk {
            disk: disk.clone(),
            gate,
        };
        DiskLinks::of(&gated.start())
    };
    let f = fixture_on(config, DEFAULT_BUFFER_LIMIT, len, gated);
    (f, open, pieces)
}

#[actix::test]
async fn pieces_waiting_for_the_disk_hold_back_work_until_it_catches_up() {
    // Enough pieces complete to fill the backlog.
    let (mut f, open, pieces) = gated_fixture();
    let mut peer = join_seed(&f, 1).await;
    let blocks = ask(&f, 1, pieces * 2).await;
    assert_eq!(blocks.len(), pieces * 2, "every block of {pieces} pieces");
    deliver(
        &f,
        1,
        blocks.iter().map(|b| (*b, bytes_of(&f, b))).collect(),
    );
    assert!(ask(&f, 1, 10).await.is_empty(), "the disk is behind");
    open.send(true).unwrap();
    assert_eq!(
        next_matching(&mut peer, |s| matches!(s, Seen::Work)).await,
        Seen::Work,
        "told once the disk caught up"
    );
    assert!(!ask(&f, 1, 10).await.is_empty(), "work again");
    let mut verified = 0;
    while verified < pieces {
        if let Seen::Verified(_) = next(&mut f.supervisor).await {
            verified += 1;
        }
    }
}

#[actix::test]
async fn connections_stop_reading_while_the_disk_is_behind_and_resume_when_it_catches_up() {
    let (mut f, open, pieces) = gated_fixture();
    let mut peer = join_seed(&f, 1).await;
    let blocks = ask(&f, 1, pieces * 2).await;
    let mut stopped = None;
    for (turn, block) in blocks.iter().enumerate() {
        if !deliver(&f, 1, vec![(*block, bytes_of(&f, block))]) {
            stopped = Some(turn + 1);
            break;
        }
    }
    let limit = f.backlog.limit();
    let turns = (limit / u64::from(BLOCK_LEN)) as usize;
    assert_eq!(stopped, Some(turns), "stopped at the backlog's limit");
    // Handled, the blocks leave the count, and the pieces they completed join it: the disk
    // has them all, and holds them.
    assert!(ask(&f, 1, 1).await.is_empty(), "the disk is behind");
    assert_eq!(f.backlog.bytes(), limit, "{} pieces on their way", pieces);
    open.send(true).unwrap();
    assert_eq!(
        next_matching(&mut peer, |s| matches!(s, Seen::ResumeReading)).await,
        Seen::ResumeReading,
        "read again once the disk caught up"
    );
    let mut verified = 0;
    while verified < pieces {
        if let Seen::Verified(_) = next(&mut f.supervisor).await {
            verified += 1;
        }
    }
    assert_eq!(f.backlog.bytes(), 0, "everything written");
}

#[actix::test]
async fn blocks_of_a_departed_peer_go_to_another() {
    let f = fixture(PickerConfig::default(), DEFAULT_BUFFER_LIMIT);
    let _a = join_seed(&f, 1).await;
    let _b = join_seed(&f, 2).await;
    let ask = |key, max| {
        f.manager.send(RequestBlocks {
            key: PeerKey(key),
            max,
        })
    };
    let first = ask(1, 2).await.unwrap();
    let other = ask(2, 2).await.unwrap();
    assert_eq!((first.len(), other.len()), (2, 2));
    assert!(
        first.iter().all(|b| !other.contains(b)),
        "outside endgame nothing is asked twice"
    );
    f.manager.do_send(PeerLeft { key: PeerKey(1) });
    let rest = ask(2, 6).await.unwrap();
    assert!(
        first.iter().all(|b| rest.contains(b)),
        "{first:?} in {rest:?}"
    );
}
