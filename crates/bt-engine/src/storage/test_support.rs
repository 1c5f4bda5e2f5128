//! Test fixtures shared by the storage and disk-actor tests: torrents built in memory from a
//! deterministic payload, and a helper that writes a whole torrent block by block.

use bt_proto::geometry::PieceIndex;
use bt_proto::metainfo::{FileEntry, Info};
use sha1::{Digest, Sha1};

use super::Storage;

/// A deterministic, non-repeating-looking payload (so a misplaced block is caught).
pub(crate) fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ ((i / 251) as u8) ^ seed)
        .collect()
}

/// An `Info` for `files` (path components, length) whose piece hashes describe `data`.
pub(crate) fn make_info(
    name: &str,
    multi_file: bool,
    files: &[(&[&str], u64)],
    piece_length: u32,
    data: &[u8],
) -> Info {
    let total: u64 = files.iter().map(|f| f.1).sum();
    assert_eq!(total, data.len() as u64, "payload must match the file list");
    Info {
        name: name.to_owned(),
        piece_length,
        pieces: data
            .chunks(piece_length as usize)
            .map(|piece| Sha1::digest(piece).into())
            .collect(),
        private: false,
        multi_file,
        files: files
            .iter()
            .map(|(path, length)| FileEntry {
                path: path.iter().map(|c| (*c).to_owned()).collect(),
                length: *length,
            })
            .collect(),
    }
}

/// A single-file torrent named `name` holding `data`.
pub(crate) fn single_file(name: &str, piece_length: u32, data: &[u8]) -> Info {
    make_info(
        name,
        false,
        &[(&[name], data.len() as u64)],
        piece_length,
        data,
    )
}

/// The bytes of piece `piece` of `data`.
pub(crate) fn piece_data<'a>(storage: &Storage, data: &'a [u8], piece: PieceIndex) -> &'a [u8] {
    let range = storage.lengths().piece_range(piece);
    &data[range.start as usize..range.end as usize]
}

/// Writes all of `data` through `storage`, block by block in the 16 KiB grid.
pub(crate) fn write_all(storage: &Storage, data: &[u8]) {
    let lengths = *storage.lengths();
    for piece in lengths.pieces() {
        for block in lengths.blocks(piece) {
            let start = lengths.piece_offset(piece) as usize + block.offset as usize;
            let bytes = &data[start..start + block.len as usize];
            storage.write_block(&block, bytes).unwrap();
        }
    }
}
