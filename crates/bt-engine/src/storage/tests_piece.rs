//! [`Storage::store_piece`]: a piece hashed from its blocks in memory is written only if it
//! matches, across file boundaries too.

use std::fs;

use bytes::Bytes;
use tempfile::TempDir;

use super::test_support::{make_info, payload, piece_data};
use super::*;

/// a (10 000) | empty (0) | b (40 000); pieces of 32 KiB, so piece 0 spans both files.
fn fixture(dir: &TempDir) -> (Storage, Info, Vec<u8>) {
    let files: &[(&[&str], u64)] = &[(&["a"], 10_000), (&["empty"], 0), (&["b"], 40_000)];
    let data = payload(50_000, 5);
    let info = make_info("t", true, files, 32_768, &data);
    let storage = Storage::open(dir.path(), &info, &StorageConfig::default()).unwrap();
    (storage, info, data)
}

/// The piece's bytes cut into its 16 KiB blocks, as a connection receives them.
fn blocks_of(bytes: &[u8]) -> Vec<Bytes> {
    bytes.chunks(16_384).map(Bytes::copy_from_slice).collect()
}

#[test]
fn a_matching_piece_is_written_across_its_files() {
    let dir = TempDir::new().unwrap();
    let (storage, info, data) = fixture(&dir);
    for piece in storage.lengths().pieces() {
        let blocks = blocks_of(piece_data(&storage, &data, piece));
        let expected = info.pieces[piece.as_usize()];
        assert!(storage.store_piece(piece, &expected, &blocks).unwrap());
        assert!(
            storage.verify_piece(piece, &expected).unwrap(),
            "on disk now"
        );
    }
    let root = dir.path().join("t");
    assert_eq!(fs::read(root.join("a")).unwrap(), &data[..10_000]);
    assert_eq!(fs::read(root.join("b")).unwrap(), &data[10_000..]);
    assert_eq!(hash_blocks(&blocks_of(&data[..32_768])), info.pieces[0]);
}

#[test]
fn a_piece_that_fails_its_hash_is_not_written() {
    let dir = TempDir::new().unwrap();
    let (storage, info, data) = fixture(&dir);
    let piece = storage.lengths().piece(1).unwrap();
    let mut bytes = piece_data(&storage, &data, piece).to_vec();
    bytes[100] ^= 1;
    let expected = info.pieces[1];
    assert!(
        !storage
            .store_piece(piece, &expected, &blocks_of(&bytes))
            .unwrap()
    );
    let b = dir.path().join("t").join("b");
    assert!(
        !b.exists(),
        "nothing was written, so the file was never created"
    );
}

#[test]
fn blocks_that_do_not_make_up_the_piece_are_an_error() {
    let dir = TempDir::new().unwrap();
    let (storage, info, data) = fixture(&dir);
    let piece = storage.lengths().piece(0).unwrap();
    let mut blocks = blocks_of(piece_data(&storage, &data, piece));
    blocks.pop();
    let error = storage
        .store_piece(piece, &info.pieces[0], &blocks)
        .unwrap_err();
    assert!(matches!(error, StorageError::BadBlock { .. }), "{error}");
    let foreign = Lengths::new(1 << 30, 16_384).unwrap().piece(1_000).unwrap();
    assert_eq!(
        storage.store_piece(foreign, &info.pieces[0], &blocks),
        Err(StorageError::UnknownPiece { piece: 1_000 })
    );
}
