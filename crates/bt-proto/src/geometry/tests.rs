//! Tests of piece and block geometry and of the file map: byte-literal cases and property
//! tests that piece segments tile the torrent.

use super::*;
use proptest::prelude::*;

fn lengths(total: u64, piece_len: u32) -> Lengths {
    Lengths::new(total, piece_len).unwrap()
}

fn seg(file_index: usize, file_offset: u64, len: u64) -> FileSegment {
    FileSegment {
        file_index,
        file_offset,
        len,
    }
}

#[test]
fn short_last_piece() {
    let l = lengths(100_000, 32_768);
    assert_eq!(l.piece_count(), 4);
    assert_eq!(l.total_len(), 100_000);
    let last = l.piece(3).unwrap();
    assert_eq!(l.last_piece(), last);
    assert_eq!(l.piece_len(l.piece(0).unwrap()), 32_768);
    assert_eq!(l.piece_len(last), 1_696);
    assert_eq!(l.piece_offset(last), 98_304);
    assert_eq!(l.piece_range(last), 98_304..100_000);
    assert_eq!(l.piece(4), None);
    assert_eq!(
        l.pieces().map(PieceIndex::get).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert_eq!(l.block_count(last), 1);
    let blocks: Vec<_> = l.blocks(last).collect();
    assert_eq!(
        blocks,
        [BlockRef {
            piece: last,
            offset: 0,
            len: 1_696
        }]
    );
    assert_eq!(format!("{last} {last:?}"), "3 PieceIndex(3)");
}

#[test]
fn exact_multiple_and_blocks() {
    let l = lengths(65_536, 32_768);
    assert_eq!(l.piece_count(), 2);
    assert_eq!(l.piece_len(l.last_piece()), 32_768);

    let l = lengths(40_000, 40_000);
    let p = l.piece(0).unwrap();
    assert_eq!(l.block_count(p), 3);
    let lens: Vec<_> = l.blocks(p).map(|b| (b.offset, b.len)).collect();
    assert_eq!(lens, [(0, 16_384), (16_384, 16_384), (32_768, 7_232)]);
    assert_eq!(l.block(p, 3), None);
    assert_eq!(l.block(p, u32::MAX), None);
    let last = l.block(p, 2).unwrap();
    assert_eq!(l.block_index(&last), Some(2));
    let odd = BlockRef {
        piece: p,
        offset: 100,
        len: 16_384,
    };
    assert_eq!(l.block_index(&odd), None);
}

#[test]
fn rejects_bad_lengths() {
    assert_eq!(Lengths::new(0, 16), Err(GeometryError::ZeroTotalLength));
    assert_eq!(Lengths::new(16, 0), Err(GeometryError::ZeroPieceLength));
    assert_eq!(
        Lengths::new(u64::MAX, 1),
        Err(GeometryError::TooManyPieces { count: u64::MAX })
    );
    let l = lengths(u64::from(u32::MAX), 1);
    assert_eq!(l.piece_count(), u32::MAX);
    assert_eq!(l.piece_len(l.last_piece()), 1);
}

#[test]
fn validate_request_cases() {
    let l = lengths(100_000, 32_768);
    let max = 16_384;
    let ok = l.validate_request(3, 1_000, 696, max).unwrap();
    assert_eq!((ok.piece.get(), ok.offset, ok.len), (3, 1_000, 696));
    assert_eq!(l.validate_request(0, 5, 100, max).unwrap().offset, 5);
    assert_eq!(
        l.validate_request(4, 0, 1, max),
        Err(GeometryError::PieceOutOfRange { index: 4, count: 4 })
    );
    assert_eq!(
        l.validate_request(0, 0, 0, max),
        Err(GeometryError::ZeroBlockLength)
    );
    assert_eq!(
        l.validate_request(0, 0, 16_385, max),
        Err(GeometryError::BlockTooLong { len: 16_385, max })
    );
    let past = GeometryError::OutsidePiece {
        piece: 3,
        offset: 1_000,
        len: 697,
        piece_len: 1_696,
    };
    assert_eq!(l.validate_request(3, 1_000, 697, max), Err(past));
    assert!(l.validate_request(0, u32::MAX, 2, max).is_err());
}

#[test]
fn validate_block_cases() {
    let l = lengths(100_000, 32_768);
    assert_eq!(l.validate_block(1, 16_384, 16_384).unwrap().offset, 16_384);
    assert_eq!(l.validate_block(3, 0, 1_696).unwrap().len, 1_696);
    assert_eq!(
        l.validate_block(3, 0, 16_384),
        Err(GeometryError::WrongBlockLength {
            offset: 0,
            len: 16_384,
            expected: 1_696
        })
    );
    assert_eq!(
        l.validate_block(0, 1, 16_384),
        Err(GeometryError::UnalignedBlock { offset: 1 })
    );
    assert!(matches!(
        l.validate_block(0, 32_768, 1),
        Err(GeometryError::OutsidePiece { .. })
    ));
    assert!(matches!(
        l.validate_block(9, 0, 1),
        Err(GeometryError::PieceOutOfRange { .. })
    ));
    assert_eq!(
        l.validate_block(0, 0, 0),
        Err(GeometryError::WrongBlockLength {
            offset: 0,
            len: 0,
            expected: 16_384
        })
    );
}

#[test]
fn piece_spans_three_files_around_an_empty_one() {
    // Files: a 10, b 0, c 5, d 20 (total 35); pieces of 16: [0,16) [16,32) [32,35).
    let map = FileMap::new(&[10, 0, 5, 20]).unwrap();
    let l = lengths(map.total_len(), 16);
    assert_eq!(map.total_len(), 35);
    assert_eq!(map.file_count(), 4);
    let piece = |i| l.piece(i).unwrap();
    let segs = |i| map.piece_segments(&l, piece(i)).collect::<Vec<_>>();
    assert_eq!(segs(0), [seg(0, 0, 10), seg(2, 0, 5), seg(3, 0, 1)]);
    assert_eq!(segs(1), [seg(3, 1, 16)]);
    assert_eq!(segs(2), [seg(3, 17, 3)]);
    assert_eq!(map.file_range(1), Some(10..10));
    assert_eq!(map.file_pieces(&l, 0), Some(0..1));
    assert_eq!(map.file_pieces(&l, 1).map(|r| r.len()), Some(0));
    assert_eq!(map.file_pieces(&l, 2), Some(0..1));
    assert_eq!(map.file_pieces(&l, 3), Some(0..3));
    assert_eq!(map.file_pieces(&l, 4), None);
    let block = BlockRef {
        piece: piece(0),
        offset: 8,
        len: 4,
    };
    let got: Vec<_> = map.block_segments(&l, &block).collect();
    assert_eq!(got, [seg(0, 8, 2), seg(2, 0, 2)]);
}

#[test]
fn empty_files_at_the_edges_and_clamping() {
    let map = FileMap::new(&[0, 10, 0]).unwrap();
    assert_eq!(map.segments(0, 10).collect::<Vec<_>>(), [seg(1, 0, 10)]);
    assert_eq!(map.segments(4, 100).collect::<Vec<_>>(), [seg(1, 4, 6)]);
    assert_eq!(map.segments(10, 5).count(), 0);
    assert_eq!(map.segments(u64::MAX, u64::MAX).count(), 0);
    assert_eq!(map.segments(3, 0).count(), 0);
    let l = lengths(10, 4);
    assert_eq!(map.file_pieces(&l, 2).map(|r| r.len()), Some(0));
    assert_eq!(map.file_pieces(&l, 1), Some(0..3));
}

#[test]
fn rejects_bad_file_lists() {
    assert_eq!(FileMap::new(&[]), Err(GeometryError::NoFiles));
    assert_eq!(
        FileMap::new(&[u64::MAX, 1]),
        Err(GeometryError::TotalOverflow)
    );
    assert_eq!(FileMap::new(&[0]).unwrap().total_len(), 0);
}

proptest! {
    #[test]
    fn piece_segments_tile_the_torrent(
        files in proptest::collection::vec(prop_oneof![Just(0u64), 0u64..5_000], 1..12),
        piece_len in 1u32..3_000,
    ) {
        let map = FileMap::new(&files).unwrap();
        prop_assume!(map.total_len() > 0);
        let l = lengths(map.total_len(), piece_len);
        let mut pos = 0u64;
        for piece in l.pieces() {
            let mut piece_bytes = 0u64;
            for s in map.piece_segments(&l, piece) {
                prop_assert!(s.len > 0);
                let range = map.file_range(s.file_index).unwrap();
                prop_assert_eq!(range.start + s.file_offset, pos);
                prop_assert!(s.file_offset + s.len <= files[s.file_index]);
                prop_assert!(map.file_pieces(&l, s.file_index).unwrap().contains(&piece.get()));
                pos += s.len;
                piece_bytes += s.len;
            }
            prop_assert_eq!(piece_bytes, u64::from(l.piece_len(piece)));
            let from_blocks: Vec<_> = l.blocks(piece).flat_map(|b| map.block_segments(&l, &b)).collect();
            prop_assert_eq!(from_blocks.iter().map(|s| s.len).sum::<u64>(), piece_bytes);
            for b in l.blocks(piece) {
                prop_assert_eq!(l.validate_block(piece.get(), b.offset, b.len), Ok(b));
            }
        }
        prop_assert_eq!(pos, map.total_len());
    }

    #[test]
    fn validation_never_panics(
        total in 1u64..,
        piece_len in 1u32..,
        piece: u32,
        offset: u32,
        len: u32,
        max_len: u32,
    ) {
        let Ok(l) = Lengths::new(total, piece_len) else { return Ok(()) };
        if let Ok(b) = l.validate_request(piece, offset, len, max_len) {
            prop_assert!(b.len > 0 && b.len <= max_len);
            prop_assert!(u64::from(b.offset) + u64::from(b.len) <= u64::from(l.piece_len(b.piece)));
        }
        if let Ok(b) = l.validate_block(piece, offset, len) {
            prop_assert_eq!(l.block_index(&b), Some(offset / BLOCK_LEN));
        }
        let _ = l.validate_block(piece % l.piece_count(), offset % (piece_len.saturating_add(1)), len);
    }
}
