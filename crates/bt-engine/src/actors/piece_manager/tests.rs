//! The piece manager with a real disk pool and stub connections and supervisor: blocks are
//! picked, written, hashed, announced; a corrupt piece bans its sender; a failed write is a
//! disk error.

use std::sync::Arc;

use actix::{Actor, Addr};
use bt_proto::bitfield::Bitfield;
use bt_proto::geometry::{BlockRef, Lengths};
use bytes::Bytes;
use tempfile::TempDir;

use super::msg::*;
use super::*;
use crate::actors::disk::{DiskWriter, WriteBlock};
use crate::actors::supervisor::msg::PieceVerified;
use crate::actors::test_support::{Recorder, Seen, TIMEOUT, next, next_matching};
use crate::picker::{PickerConfig, StandardPicker};
use crate::storage::test_support::{payload, single_file};
use crate::storage::{Storage, StorageConfig};

const PIECE: u32 = 32 * 1024;
const LEN: usize = 3 * PIECE as usize - 1000;

struct Fixture {
    _dir: TempDir,
    data: Vec<u8>,
    lengths: Lengths,
    disk: Addr<DiskWriter>,
    manager: Addr<PieceManager>,
    supervisor: tokio::sync::mpsc::UnboundedReceiver<Seen>,
}

fn fixture(picker: PickerConfig) -> Fixture {
    let dir = TempDir::new().unwrap();
    let data = payload(LEN, 9);
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
    let manager = PieceManager::new(PieceManagerSetup {
        picker: Box::new(picker),
        hashes: Arc::from(info.pieces.clone()),
        outputs: PieceManagerOutputs {
            verify: disk.clone().recipient(),
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
        supervisor,
    }
}

/// A stub connection registered with the manager, announcing every piece.
async fn join_seed(f: &Fixture, key: u64) -> tokio::sync::mpsc::UnboundedReceiver<Seen> {
    let (recorder, rx) = Recorder::new(PeerKey(key));
    let peer = recorder.start();
    f.manager.do_send(PeerJoined {
        key: PeerKey(key),
        interest: peer.clone().recipient(),
        cancel: peer.recipient(),
    });
    let bitfield = Bitfield::full(f.lengths.piece_count() as usize);
    f.manager.do_send(BitfieldReceived {
        key: PeerKey(key),
        bitfield,
    });
    rx
}

fn bytes_of(f: &Fixture, block: &BlockRef) -> Bytes {
    let start = (f.lengths.piece_offset(block.piece) + u64::from(block.offset)) as usize;
    Bytes::copy_from_slice(&f.data[start..start + block.len as usize])
}

/// What a connection does with a block: ask, write if told to, report the write.
async fn deliver(f: &Fixture, key: u64, block: BlockRef, data: Bytes) -> bool {
    let key = PeerKey(key);
    let write = f.manager.send(BlockReceived { key, block }).await.unwrap();
    if write {
        let result = f.disk.send(WriteBlock { block, data }).await.unwrap();
        f.manager.do_send(BlockWritten { block, result });
    }
    write
}

#[actix::test]
async fn blocks_are_picked_written_hashed_and_announced() {
    let mut f = fixture(PickerConfig::default());
    let mut peer = join_seed(&f, 1).await;
    assert_eq!(next(&mut peer).await, Seen::Interest(true));
    let blocks = f
        .manager
        .send(RequestBlocks {
            key: PeerKey(1),
            max: 100,
        })
        .await
        .unwrap();
    assert_eq!(blocks.len(), 6, "three pieces of two blocks");
    for block in blocks {
        let data = bytes_of(&f, &block);
        assert!(deliver(&f, 1, block, data.clone()).await);
        assert!(
            !deliver(&f, 1, block, data).await,
            "a second copy is dropped"
        );
    }
    let mut verified = Vec::new();
    while verified.len() < 3 {
        if let Seen::Verified(PieceVerified { piece }) = next(&mut f.supervisor).await {
            verified.push(piece.get());
        }
    }
    verified.sort_unstable();
    assert_eq!(verified, vec![0, 1, 2]);
    assert_eq!(
        next_matching(&mut peer, |s| matches!(s, Seen::Interest(_))).await,
        Seen::Interest(false),
        "nothing left to want"
    );
}

#[actix::test]
async fn a_corrupt_piece_bans_its_sender_and_is_fetched_again() {
    let config = PickerConfig {
        max_strikes: 1,
        ..PickerConfig::default()
    };
    let mut f = fixture(config);
    let _liar = join_seed(&f, 1).await;
    let blocks = f
        .manager
        .send(RequestBlocks {
            key: PeerKey(1),
            max: 2,
        })
        .await
        .unwrap();
    let piece = blocks[0].piece;
    assert!(blocks.iter().all(|b| b.piece == piece));
    for block in blocks {
        let garbage = Bytes::from(vec![0xee; block.len as usize]);
        assert!(deliver(&f, 1, block, garbage).await);
    }
    let failed = next(&mut f.supervisor).await;
    assert_eq!(
        failed,
        Seen::Failed(crate::actors::supervisor::msg::PieceFailed {
            piece,
            struck: vec![PeerKey(1)],
            banned: vec![PeerKey(1)],
        })
    );
    let mut honest = join_seed(&f, 2).await;
    assert_eq!(next(&mut honest).await, Seen::Interest(true));
    let again = f
        .manager
        .send(RequestBlocks {
            key: PeerKey(2),
            max: 100,
        })
        .await
        .unwrap();
    assert!(again.iter().any(|b| b.piece == piece), "{again:?}");
    let banned = f
        .manager
        .send(RequestBlocks {
            key: PeerKey(1),
            max: 100,
        })
        .await
        .unwrap();
    assert!(banned.is_empty(), "a banned peer gets no work");
}

#[actix::test]
async fn a_failed_write_is_a_disk_error_for_the_supervisor() {
    let mut f = fixture(PickerConfig::default());
    let _peer = join_seed(&f, 1).await;
    let blocks = f
        .manager
        .send(RequestBlocks {
            key: PeerKey(1),
            max: 1,
        })
        .await
        .unwrap();
    let block = blocks[0];
    assert!(
        f.manager
            .send(BlockReceived {
                key: PeerKey(1),
                block
            })
            .await
            .unwrap()
    );
    let error = DiskError::Stopped;
    f.manager.do_send(BlockWritten {
        block,
        result: Err(error.clone()),
    });
    let seen = tokio::time::timeout(TIMEOUT, f.supervisor.recv())
        .await
        .unwrap();
    assert_eq!(
        seen,
        Some(Seen::DiskFailed(
            crate::actors::supervisor::msg::DiskFailed { error }
        ))
    );
}

#[actix::test]
async fn blocks_of_a_departed_peer_go_to_another() {
    let f = fixture(PickerConfig::default());
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
