//! Behaviour tests for [`Storage`]: layout, round trips across files, hashing, the resume check
//! and concurrent use. Error paths are in `tests_errors`.

use std::fs;
use std::sync::Arc;

use bt_proto::geometry::BlockRef;
use sha1::{Digest, Sha1};
use tempfile::TempDir;

use super::test_support::{make_info, payload, piece_data, single_file, write_all};
use super::*;

/// a (10 000) | empty (0) | sub/c (3 000) | sub/deeper/d (50 000) | z (0); pieces of 32 KiB.
/// Block 0 of piece 0 spans a, c and d, with the empty file between a and c.
fn multi_fixture() -> (Info, Vec<u8>) {
    let files: &[(&[&str], u64)] = &[
        (&["a.bin"], 10_000),
        (&["empty"], 0),
        (&["sub", "c.bin"], 3_000),
        (&["sub", "deeper", "d.bin"], 50_000),
        (&["z"], 0),
    ];
    let data = payload(63_000, 7);
    (make_info("multi", true, files, 32_768, &data), data)
}

fn open(dir: &TempDir, info: &Info) -> Storage {
    Storage::open(dir.path(), info, &StorageConfig::default()).unwrap()
}

#[test]
fn block_spanning_three_files_round_trips() {
    let dir = TempDir::new().unwrap();
    let (info, data) = multi_fixture();
    let storage = open(&dir, &info);
    let piece = storage.lengths().piece(0).unwrap();
    let block = BlockRef {
        piece,
        offset: 0,
        len: 16_384,
    };
    let segs: Vec<_> = storage
        .file_map()
        .block_segments(storage.lengths(), &block)
        .map(|s| s.file_index)
        .collect();
    assert_eq!(segs, [0, 2, 3], "the fixture must span three files");
    storage.write_block(&block, &data[..16_384]).unwrap();
    assert_eq!(&storage.read_block(&block).unwrap()[..], &data[..16_384]);

    // The bytes landed in the right files, at the right offsets.
    let root = dir.path().join("multi");
    assert_eq!(fs::read(root.join("a.bin")).unwrap(), &data[..10_000]);
    assert_eq!(
        fs::read(root.join("sub/c.bin")).unwrap(),
        &data[10_000..13_000]
    );
    let d = fs::read(root.join("sub/deeper/d.bin")).unwrap();
    assert_eq!(d.len(), 50_000, "sized with set_len at first write");
    assert_eq!(&d[..3_384], &data[13_000..16_384]);
    assert!(d[3_384..].iter().all(|&b| b == 0));

    // An unaligned range crossing the same boundaries reads back too.
    let odd = BlockRef {
        piece,
        offset: 9_990,
        len: 3_100,
    };
    assert_eq!(&storage.read_block(&odd).unwrap()[..], &data[9_990..13_090]);
}

#[test]
fn whole_torrent_round_trips_and_hashes() {
    let dir = TempDir::new().unwrap();
    let (info, data) = multi_fixture();
    let storage = open(&dir, &info);
    write_all(&storage, &data);
    for piece in storage.lengths().pieces() {
        let expected: [u8; 20] = Sha1::digest(piece_data(&storage, &data, piece)).into();
        assert_eq!(storage.hash_piece(piece).unwrap(), expected);
        assert_eq!(expected, info.pieces[piece.as_usize()]);
        assert!(storage.verify_piece(piece, &expected).unwrap());
        for block in storage.lengths().blocks(piece) {
            let start = (storage.lengths().piece_offset(piece) + u64::from(block.offset)) as usize;
            let got = storage.read_block(&block).unwrap();
            assert_eq!(&got[..], &data[start..start + block.len as usize]);
        }
    }
}

#[test]
fn hashing_uses_a_small_buffer_correctly() {
    let dir = TempDir::new().unwrap();
    let (info, data) = multi_fixture();
    let config = StorageConfig {
        max_open_files: 1,
        hash_buffer_len: 1_000,
    };
    let storage = Storage::open(dir.path(), &info, &config).unwrap();
    write_all(&storage, &data);
    for piece in storage.lengths().pieces() {
        assert!(
            storage
                .verify_piece(piece, &info.pieces[piece.as_usize()])
                .unwrap()
        );
    }
}

#[test]
fn verify_is_false_on_corrupted_data() {
    let dir = TempDir::new().unwrap();
    let (info, data) = multi_fixture();
    let storage = open(&dir, &info);
    write_all(&storage, &data);
    let piece = storage.lengths().piece(1).unwrap();
    let expected = info.pieces[1];
    assert!(storage.verify_piece(piece, &expected).unwrap());
    // Flip one byte in the middle of piece 1 (in d.bin).
    let block = BlockRef {
        piece,
        offset: 1_000,
        len: 1,
    };
    let flipped = [data[32_768 + 1_000] ^ 0xff];
    storage.write_block(&block, &flipped).unwrap();
    assert!(!storage.verify_piece(piece, &expected).unwrap());
    assert!(
        storage
            .verify_piece(storage.lengths().piece(0).unwrap(), &info.pieces[0])
            .unwrap()
    );
}

#[test]
fn single_file_layout_is_dir_slash_name() {
    let dir = TempDir::new().unwrap();
    let data = payload(40_000, 1);
    let info = single_file("movie.mkv", 16_384, &data);
    let storage = open(&dir, &info);
    assert!(!dir.path().join("movie.mkv").exists(), "created lazily");
    write_all(&storage, &data);
    assert_eq!(fs::read(dir.path().join("movie.mkv")).unwrap(), data);
    let entries: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "nothing but the file");
    assert_eq!(
        storage.file_path(0),
        Some(
            fs::canonicalize(dir.path())
                .unwrap()
                .join("movie.mkv")
                .as_path()
        )
    );
}

#[test]
fn multi_file_layout_and_zero_length_files_at_open() {
    let dir = TempDir::new().unwrap();
    let (info, _) = multi_fixture();
    let _storage = open(&dir, &info);
    let root = dir.path().join("multi");
    for empty in ["empty", "z"] {
        let meta = fs::metadata(root.join(empty)).unwrap();
        assert!(meta.is_file() && meta.len() == 0, "{empty}");
    }
    assert!(root.join("sub/deeper").is_dir(), "directories made at open");
    assert!(
        !root.join("a.bin").exists(),
        "non-empty files are created lazily"
    );
    assert!(!root.join("sub/deeper/d.bin").exists());
}

#[test]
fn existing_data_is_never_truncated() {
    let dir = TempDir::new().unwrap();
    let data = payload(20_000, 2);
    let info = single_file("f", 16_384, &data);
    let mut longer = data.clone();
    longer.extend_from_slice(b"trailing bytes the torrent does not know");
    fs::write(dir.path().join("f"), &longer).unwrap();
    let storage = open(&dir, &info);
    let block = storage
        .lengths()
        .block(storage.lengths().piece(0).unwrap(), 0)
        .unwrap();
    storage.write_block(&block, &data[..16_384]).unwrap();
    assert_eq!(fs::read(dir.path().join("f")).unwrap(), longer);
    assert!(
        storage
            .check_existing(&info.pieces, |_, _| ())
            .unwrap()
            .is_complete()
    );
}

/// f0 40 000 | f1 30 000 | f2 20 000 | f3 25 000, pieces of 16 KiB (8 pieces, the last 312 B).
fn resume_fixture() -> (Info, Vec<u8>) {
    let files: &[(&[&str], u64)] = &[
        (&["f0"], 40_000),
        (&["f1"], 30_000),
        (&["f2"], 20_000),
        (&["f3"], 25_000),
    ];
    let data = payload(115_000, 3);
    (make_info("resume", true, files, 16_384, &data), data)
}

#[test]
fn check_existing_on_a_partial_download() {
    let dir = TempDir::new().unwrap();
    let (info, data) = resume_fixture();
    {
        let storage = open(&dir, &info);
        assert!(
            storage
                .check_existing(&info.pieces, |_, _| ())
                .unwrap()
                .none()
        );
        write_all(&storage, &data);
    }
    let root = dir.path().join("resume");
    // f2 missing: pieces 4 and 5 touch it.
    fs::remove_file(root.join("f2")).unwrap();
    // f0 truncated to 20 000: piece 0 is whole, pieces 1 and 2 run past the end.
    fs::OpenOptions::new()
        .write(true)
        .open(root.join("f0"))
        .unwrap()
        .set_len(20_000)
        .unwrap();
    // One corrupted byte in piece 6 (f3 starts at 90 000; piece 6 at 98 304).
    let mut f3 = fs::read(root.join("f3")).unwrap();
    f3[98_304 - 90_000 + 100] ^= 0x55;
    fs::write(root.join("f3"), &f3).unwrap();

    let storage = open(&dir, &info);
    let mut calls = Vec::new();
    let have = storage
        .check_existing(&info.pieces, |done, total| calls.push((done, total)))
        .unwrap();
    assert_eq!(have.iter_ones().collect::<Vec<_>>(), [0, 3, 7]);
    assert_eq!(calls.len(), 8);
    assert_eq!(calls.last(), Some(&(8, 8)));
    assert!(!root.join("f2").exists(), "checking creates no file");

    // The chunked form agrees.
    let all: Vec<_> = storage
        .lengths()
        .pieces()
        .map(|p| (p, info.pieces[p.as_usize()]))
        .collect();
    let good: Vec<_> = storage
        .check_pieces(&all)
        .unwrap()
        .iter()
        .map(|p| p.get())
        .collect();
    assert_eq!(good, [0, 3, 7]);
}

#[test]
fn concurrent_writers_share_one_storage() {
    let dir = TempDir::new().unwrap();
    let (info, data) = resume_fixture();
    let config = StorageConfig {
        max_open_files: 2,
        ..StorageConfig::default()
    };
    let storage = Arc::new(Storage::open(dir.path(), &info, &config).unwrap());
    let lengths = *storage.lengths();
    let blocks: Vec<_> = lengths.pieces().flat_map(|p| lengths.blocks(p)).collect();
    std::thread::scope(|scope| {
        for worker in 0..4 {
            let (storage, blocks, data) = (&storage, &blocks, &data);
            scope.spawn(move || {
                for block in blocks.iter().skip(worker).step_by(4) {
                    let start =
                        (lengths.piece_offset(block.piece) + u64::from(block.offset)) as usize;
                    let bytes = &data[start..start + block.len as usize];
                    storage.write_block(block, bytes).unwrap();
                }
            });
        }
    });
    assert!(
        storage
            .check_existing(&info.pieces, |_, _| ())
            .unwrap()
            .is_complete()
    );
}

/// A selective download: files not in use get neither a folder nor a zero-length file, and a
/// file in use only because it shares a piece with a wanted one appears when that piece is
/// written, so the shared piece still hashes right.
#[test]
fn open_files_creates_only_the_files_in_use() {
    let dir = TempDir::new().unwrap();
    let (info, data) = multi_fixture();
    // Only z (empty) and d.bin's second piece wanted: d.bin and z in use; a, empty, c not.
    let in_use = [false, false, false, true, true];
    let storage =
        Storage::open_files(dir.path(), &info, &StorageConfig::default(), &in_use).unwrap();
    let root = dir.path().join("multi");
    assert!(root.join("z").is_file(), "a wanted empty file is created");
    assert!(
        !root.join("empty").exists(),
        "an unwanted empty file is not"
    );
    assert!(
        root.join("sub/deeper").is_dir(),
        "the folder of a file in use is made"
    );
    assert!(!root.join("a.bin").exists() && !root.join("sub/c.bin").exists());

    let piece = storage.lengths().piece(1).unwrap();
    for block in storage.lengths().blocks(piece) {
        let start = storage.lengths().piece_offset(piece) as usize + block.offset as usize;
        storage
            .write_block(&block, &data[start..start + block.len as usize])
            .unwrap();
    }
    assert!(storage.verify_piece(piece, &info.pieces[1]).unwrap());
    assert!(!root.join("a.bin").exists() && !root.join("sub/c.bin").exists());
}
