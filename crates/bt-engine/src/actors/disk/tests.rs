//! Actor tests for the disk pool: concurrent writes then verification, the parallel resume
//! check, and errors coming back as `DiskError`.

use std::fs;
use std::time::Duration;

use actix::Recipient;
use bt_proto::geometry::BlockRef;
use bytes::Bytes;
use tempfile::TempDir;

use super::*;
use crate::storage::StorageConfig;
use crate::storage::test_support::{make_info, payload, single_file};
use bt_proto::metainfo::Info;

/// Every await in these tests is bounded, so a stuck pool fails instead of hanging.
const TIMEOUT: Duration = Duration::from_secs(20);

/// Three files and 23 pieces of 16 KiB (the last one shorter).
fn fixture() -> (Info, Vec<u8>) {
    let files: &[(&[&str], u64)] = &[
        (&["a"], 100_000),
        (&["empty"], 0),
        (&["dir", "b"], 170_000),
        (&["c"], 100_000),
    ];
    let data = payload(370_000, 5);
    (make_info("t", true, files, 16_384, &data), data)
}

fn start(dir: &TempDir, info: &Info, threads: usize) -> Addr<DiskWriter> {
    let storage = Storage::open(dir.path(), info, &StorageConfig::default()).unwrap();
    DiskWriter::start(storage, threads)
}

fn block_bytes(lengths: &bt_proto::geometry::Lengths, data: &[u8], block: &BlockRef) -> Bytes {
    let start = (lengths.piece_offset(block.piece) + u64::from(block.offset)) as usize;
    Bytes::copy_from_slice(&data[start..start + block.len as usize])
}

#[actix::test]
async fn concurrent_writes_then_every_piece_verifies() {
    let dir = TempDir::new().unwrap();
    let (info, data) = fixture();
    let disk = start(&dir, &info, 3);
    let lengths = bt_proto::geometry::Lengths::new(370_000, 16_384).unwrap();
    // All sends queue at once (see msg.rs), so the three workers write concurrently.
    let requests: Vec<_> = lengths
        .pieces()
        .rev()
        .flat_map(|p| lengths.blocks(p))
        .map(|block| {
            let data = block_bytes(&lengths, &data, &block);
            disk.send(WriteBlock { block, data })
        })
        .collect();
    for request in requests {
        tokio::time::timeout(TIMEOUT, request)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
    for piece in lengths.pieces() {
        let expected = info.pieces[piece.as_usize()];
        let verify = disk.send(VerifyPiece { piece, expected });
        assert!(
            tokio::time::timeout(TIMEOUT, verify)
                .await
                .unwrap()
                .unwrap()
                .unwrap()
        );
    }
    let block = lengths.block(lengths.piece(6).unwrap(), 0).unwrap();
    let read = disk.send(ReadBlock { block });
    let got = tokio::time::timeout(TIMEOUT, read)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(got, block_bytes(&lengths, &data, &block));
}

#[actix::test]
async fn parallel_check_of_a_half_written_torrent() {
    let dir = TempDir::new().unwrap();
    let (info, data) = fixture();
    let disk = start(&dir, &info, 2);
    let lengths = bt_proto::geometry::Lengths::new(370_000, 16_384).unwrap();
    // Even pieces only.
    for piece in lengths.pieces().filter(|p| p.get() % 2 == 0) {
        for block in lengths.blocks(piece) {
            let data = block_bytes(&lengths, &data, &block);
            let write = disk.send(WriteBlock { block, data });
            tokio::time::timeout(TIMEOUT, write)
                .await
                .unwrap()
                .unwrap()
                .unwrap();
        }
    }
    let recipient: Recipient<CheckPieces> = disk.clone().recipient();
    let mut reports = Vec::new();
    let check = check_existing(&recipient, &lengths, &info.pieces, 4, |done, total| {
        reports.push((done, total))
    });
    let have = tokio::time::timeout(TIMEOUT, check).await.unwrap().unwrap();
    let expected: Vec<usize> = (0..23).step_by(2).collect();
    assert_eq!(have.iter_ones().collect::<Vec<_>>(), expected);
    assert_eq!(reports.last(), Some(&(23, 23)));
    assert!(reports.len() > 1, "checked in several chunks: {reports:?}");
    assert!(reports.windows(2).all(|w| w[0].0 < w[1].0));

    let wrong = check_existing(&recipient, &lengths, &info.pieces[1..], 4, |_, _| ());
    assert!(matches!(
        wrong.await,
        Err(DiskError::Storage(StorageError::HashCountMismatch { .. }))
    ));
}

#[actix::test]
async fn io_errors_come_back_as_disk_errors() {
    let dir = TempDir::new().unwrap();
    let data = payload(40_000, 1);
    let info = single_file("f", 16_384, &data);
    fs::create_dir(dir.path().join("f")).unwrap();
    let disk = start(&dir, &info, 1);
    let lengths = bt_proto::geometry::Lengths::new(40_000, 16_384).unwrap();
    let block = lengths.block(lengths.piece(0).unwrap(), 0).unwrap();
    let data = block_bytes(&lengths, &data, &block);

    let write = disk.send(WriteBlock { block, data });
    let err = tokio::time::timeout(TIMEOUT, write)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(&err, DiskError::Storage(StorageError::IsADirectory { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("Is a directory"), "{err}");

    let read = disk.send(ReadBlock { block });
    let err = tokio::time::timeout(TIMEOUT, read)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, DiskError::Storage(_)), "{err:?}");

    let bad = WriteBlock {
        block,
        data: Bytes::from_static(b"short"),
    };
    let err = disk.send(bad).await.unwrap().unwrap_err();
    assert!(matches!(
        err,
        DiskError::Storage(StorageError::BadBlock { .. })
    ));

    // The pool survives its errors.
    let recipient: Recipient<CheckPieces> = disk.recipient();
    let have = check_existing(&recipient, &lengths, &info.pieces, 2, |_, _| ());
    assert!(have.await.unwrap().none());
}

#[actix::test]
async fn sync_flushes_the_files_written_since_the_last_sync() {
    let dir = TempDir::new().unwrap();
    let (info, data) = fixture();
    let disk = start(&dir, &info, 2);
    let sync = |disk: &Addr<DiskWriter>| {
        let request = disk.send(SyncFiles);
        async move {
            tokio::time::timeout(TIMEOUT, request)
                .await
                .unwrap()
                .unwrap()
                .unwrap()
        }
    };
    assert_eq!(sync(&disk).await, 0);
    let lengths = bt_proto::geometry::Lengths::new(370_000, 16_384).unwrap();
    // Piece 0 lies in file a only; the last piece in file c only.
    for piece in [lengths.piece(0).unwrap(), lengths.pieces().last().unwrap()] {
        for block in lengths.blocks(piece) {
            let data = block_bytes(&lengths, &data, &block);
            disk.send(WriteBlock { block, data })
                .await
                .unwrap()
                .unwrap();
        }
    }
    assert_eq!(sync(&disk).await, 2, "a and c");
    assert_eq!(sync(&disk).await, 0, "nothing written since");
    // What was synced reads back from a fresh handle.
    let a = fs::read(dir.path().join("t/a")).unwrap();
    assert_eq!(&a[..16_384], &data[..16_384]);
}
