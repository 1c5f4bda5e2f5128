//! Unit tests of metainfo parsing: one byte-literal case per validation error, round trips, and
//! never-panics property tests. The regression tests of review findings are in `regressions`.

use proptest::prelude::*;

use super::*;
use crate::bencode::BencodeError;

/// 20 bytes of a fake piece hash, bencoded.
const ONE_PIECE: &[u8] = b"20:AAAAAAAAAAAAAAAAAAAA";

/// Bencodes a dictionary from keys and already-encoded values, in the order given.
fn dict(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = vec![b'd'];
    for (key, value) in entries {
        write_bytes(&mut out, key.as_bytes());
        out.extend_from_slice(value);
    }
    out.push(b'e');
    out
}

/// A valid single-file info dictionary: 5 bytes in one 16 KiB piece.
fn single_info() -> Vec<u8> {
    dict(&[
        ("length", b"i5e"),
        ("name", b"1:a"),
        ("piece length", b"i16384e"),
        ("pieces", ONE_PIECE),
    ])
}

/// A torrent around `info` with one tracker.
fn torrent(info: &[u8]) -> Vec<u8> {
    dict(&[("announce", b"9:http://t/"), ("info", info)])
}

/// Parses an info dictionary built from `entries`, expecting an error.
fn info_err(entries: &[(&str, &[u8])]) -> MetainfoError {
    Info::from_bytes(&dict(entries)).expect_err("info should be rejected")
}

/// Replaces (or adds) one entry of the valid single-file info and parses it.
fn single_with(key: &str, value: &[u8]) -> MetainfoError {
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("length", b"i5e"),
        ("name", b"1:a"),
        ("piece length", b"i16384e"),
        ("pieces", ONE_PIECE),
    ];
    entries.retain(|(k, _)| *k != key);
    entries.push((key, value));
    info_err(&entries)
}

/// A multi-file info with the given encoded `files` list.
fn multi_err(files: &[u8]) -> MetainfoError {
    info_err(&[
        ("files", files),
        ("name", b"1:d"),
        ("piece length", b"i16384e"),
        ("pieces", ONE_PIECE),
    ])
}

#[test]
fn parses_single_file_torrent() {
    let bytes = torrent(&single_info());
    let m = Metainfo::from_bytes(&bytes).expect("valid");
    assert_eq!(m.info.name, "a");
    assert_eq!(
        m.info.files,
        vec![FileEntry {
            path: vec!["a".into()],
            length: 5
        }]
    );
    assert!(!m.info.multi_file && !m.info.private);
    assert_eq!(m.info.total_length(), 5);
    assert_eq!(m.info.piece_count(), 1);
    assert_eq!(m.info_bytes, single_info());
    assert_eq!(m.info_hash, InfoHash(Sha1::digest(single_info()).into()));
    assert_eq!(m.tracker_tiers(), vec![vec!["http://t/".to_owned()]]);
    assert_eq!(
        m.info.relative_path(&m.info.files[0]),
        std::path::PathBuf::from("a")
    );
    assert_eq!(
        m.to_bytes(),
        bytes,
        "already canonical, so encoding reproduces it"
    );
}

#[test]
fn parses_multi_file_with_utf8_variants_padding_and_unknown_keys() {
    let files = b"ld6:lengthi3e4:pathl1:x1:yee\
        d4:attr1:p6:lengthi1e4:pathl4:.pad1:1ee\
        d6:lengthi1e4:pathl2:\xff\xfee10:path.utf-8l2:okeee";
    let info = dict(&[
        ("zzz unknown", b"i7e"),
        ("piece length", b"i4e"),
        ("name", b"2:\xff\xff"),
        ("name.utf-8", b"3:dir"),
        ("files", files),
        ("private", b"i1e"),
        ("pieces", b"40:AAAAAAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBBBBB"),
    ]);
    let m = Metainfo::from_bytes(&torrent(&info)).expect("valid");
    assert_eq!(m.info.name, "dir");
    assert!(m.info.multi_file && m.info.private);
    let paths: Vec<_> = m.info.files.iter().map(|f| f.path.join("/")).collect();
    assert_eq!(paths, ["x/y", ".pad/1", "ok"]);
    assert_eq!(m.info.total_length(), 5);
    let expected = ["dir", "x", "y"].iter().collect::<std::path::PathBuf>();
    assert_eq!(m.info.relative_path(&m.info.files[0]), expected);
    assert_eq!(
        m.info_hash,
        InfoHash(Sha1::digest(&info).into()),
        "hash of original bytes"
    );
}

#[test]
fn top_level_fields_and_tiers() {
    let bytes = dict(&[
        ("announce", b"3:u:1"),
        ("announce-list", b"ll3:u:13:u:2el0:el3:u:3ee"),
        ("comment", b"2:\xffx"),
        ("created by", b"2:me"),
        ("creation date", b"i1700000000e"),
        ("info", &single_info()),
    ]);
    let m = Metainfo::from_bytes(&bytes).expect("valid");
    let tiers = vec![
        vec!["u:1".to_owned(), "u:2".to_owned()],
        vec!["u:3".to_owned()],
    ];
    assert_eq!(m.announce_list, tiers);
    assert_eq!(m.tracker_tiers(), tiers);
    assert_eq!(m.comment.as_deref(), Some("\u{fffd}x"));
    assert_eq!(m.created_by.as_deref(), Some("me"));
    assert_eq!(m.creation_date, Some(1_700_000_000));
    let again = Metainfo::from_bytes(&m.to_bytes()).expect("round trip");
    assert_eq!(again, m);
    let bare = Metainfo::from_bytes(&dict(&[("info", &single_info())])).expect("valid");
    assert!(bare.tracker_tiers().is_empty());
}

#[test]
fn private_is_true_only_for_integer_one() {
    for (value, expected) in [
        (&b"i1e"[..], true),
        (b"i0e", false),
        (b"i2e", false),
        (b"1:1", false),
    ] {
        let mut info = single_info();
        info.pop();
        write_bytes(&mut info, b"private");
        info.extend_from_slice(value);
        info.push(b'e');
        assert_eq!(Info::from_bytes(&info).expect("valid").private, expected);
    }
}

#[test]
fn rejects_oversized_input_before_parsing() {
    let huge = vec![b'x'; MAX_METAINFO_LEN + 1];
    assert!(matches!(
        Metainfo::from_bytes(&huge),
        Err(MetainfoError::TooLarge { .. })
    ));
    assert!(matches!(
        Info::from_bytes(&huge),
        Err(MetainfoError::TooLarge { .. })
    ));
}

#[test]
fn rejects_bad_bencode_and_shapes() {
    let err = |b: &[u8]| Metainfo::from_bytes(b).expect_err("rejected");
    assert!(matches!(err(b"d4:info"), MetainfoError::Bencode(_)));
    assert!(matches!(
        err(b"99999999999999:a"),
        MetainfoError::Bencode(_)
    ));
    let deep = [vec![b'l'; 10_000], vec![b'e'; 10_000]].concat();
    assert!(matches!(
        err(&deep),
        MetainfoError::Bencode(BencodeError::TooDeep { .. })
    ));
    assert!(matches!(
        err(b"le"),
        MetainfoError::Bencode(BencodeError::NotADictionary)
    ));
    assert!(matches!(err(b"de"), MetainfoError::MissingKey { key } if key == "info"));
    assert!(matches!(err(b"d4:infoi1ee"), MetainfoError::WrongType { key, .. } if key == "info"));
    let twice = dict(&[
        ("announce", b"1:a"),
        ("announce", b"1:b"),
        ("info", &single_info()),
    ]);
    assert!(matches!(err(&twice), MetainfoError::DuplicateKey { key } if key == "announce"));
    let info_twice = dict(&[("info", &single_info()), ("info", &single_info())]);
    assert!(matches!(err(&info_twice), MetainfoError::DuplicateKey { key } if key == "info"));
}

#[test]
fn rejects_missing_and_mistyped_keys() {
    let e = info_err(&[
        ("length", b"i5e"),
        ("piece length", b"i16384e"),
        ("pieces", ONE_PIECE),
    ]);
    assert!(matches!(e, MetainfoError::MissingKey { key } if key == "name"));
    let e = info_err(&[("length", b"i5e"), ("name", b"1:a"), ("pieces", ONE_PIECE)]);
    assert!(matches!(e, MetainfoError::MissingKey { key } if key == "piece length"));
    let e = info_err(&[
        ("length", b"i5e"),
        ("name", b"1:a"),
        ("piece length", b"i1e"),
    ]);
    assert!(matches!(e, MetainfoError::MissingKey { key } if key == "pieces"));
    assert!(
        matches!(single_with("name", b"i1e"), MetainfoError::WrongType { key, .. } if key == "name")
    );
    assert!(
        matches!(single_with("pieces", b"i1e"), MetainfoError::WrongType { key, .. } if key == "pieces")
    );
    assert!(
        matches!(single_with("length", b"1:5"), MetainfoError::WrongType { key, .. } if key == "length")
    );
    assert!(matches!(
        single_with("piece length", b"le"),
        MetainfoError::WrongType { .. }
    ));
    assert!(
        matches!(single_with("name", b"1:\xff"), MetainfoError::NotUtf8 { key } if key == "name")
    );
    assert!(matches!(
        single_with("files", b"le"),
        MetainfoError::BothLengthAndFiles
    ));
    let e = info_err(&[
        ("name", b"1:a"),
        ("piece length", b"i1e"),
        ("pieces", ONE_PIECE),
    ]);
    assert!(matches!(e, MetainfoError::NeitherLengthNorFiles));
    assert!(matches!(
        Info::from_bytes(b"le"),
        Err(MetainfoError::WrongType { .. })
    ));
}

#[test]
fn rejects_bad_sizes() {
    assert!(matches!(
        single_with("pieces", b"19:AAAAAAAAAAAAAAAAAAA"),
        MetainfoError::PiecesLength { len: 19 }
    ));
    let two = b"40:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert!(matches!(
        single_with("pieces", two),
        MetainfoError::PieceCountMismatch {
            expected: 1,
            actual: 2
        }
    ));
    assert!(matches!(
        single_with("pieces", b"0:"),
        MetainfoError::PieceCountMismatch { .. }
    ));
    assert!(matches!(
        single_with("piece length", b"i0e"),
        MetainfoError::InvalidPieceLength { value: 0, .. }
    ));
    assert!(matches!(
        single_with("piece length", b"i-1e"),
        MetainfoError::InvalidPieceLength { .. }
    ));
    assert!(matches!(
        single_with("piece length", b"i268435457e"),
        MetainfoError::InvalidPieceLength { .. }
    ));
    assert!(matches!(
        single_with("length", b"i0e"),
        MetainfoError::ZeroTotalLength
    ));
    assert!(matches!(
        single_with("length", b"i-5e"),
        MetainfoError::NegativeLength { value: -5, .. }
    ));
    let overflow =
        b"ld6:lengthi9223372036854775807e4:pathl1:aeed6:lengthi9223372036854775807e4:pathl1:bee\
        d6:lengthi9223372036854775807e4:pathl1:ceee";
    assert!(matches!(multi_err(overflow), MetainfoError::SizeOverflow));
    assert!(matches!(multi_err(b"le"), MetainfoError::EmptyFileList));
    assert!(matches!(
        multi_err(b"ld6:lengthi0e4:pathl1:aeee"),
        MetainfoError::ZeroTotalLength
    ));
}

#[test]
fn rejects_bad_file_entries() {
    let e = multi_err(b"li1ee");
    assert!(matches!(e, MetainfoError::WrongType { key, .. } if key == "files[0]"));
    let e = multi_err(b"ld4:pathl1:aeee");
    assert!(matches!(e, MetainfoError::MissingKey { key } if key == "files[0].length"));
    let e = multi_err(b"ld6:lengthi5eee");
    assert!(matches!(e, MetainfoError::MissingKey { key } if key == "files[0].path"));
    let e = multi_err(b"ld6:lengthi5e4:pathleee");
    assert!(matches!(e, MetainfoError::EmptyPath { key } if key == "files[0].path"));
    let e = multi_err(b"ld6:lengthi5e4:pathl1:\xffeee");
    assert!(matches!(e, MetainfoError::NotUtf8 { key } if key == "files[0].path"));
    let e = multi_err(b"ld6:lengthi5e4:pathli1eeee");
    assert!(matches!(e, MetainfoError::WrongType { .. }));
    let e = multi_err(b"ld6:lengthi5e4:path1:aee");
    assert!(matches!(e, MetainfoError::WrongType { .. }));
    assert!(matches!(multi_err(b"i1e"), MetainfoError::WrongType { key, .. } if key == "files"));
}

#[test]
fn rejects_unsafe_paths_and_names() {
    for bad in [
        &b"0:"[..],
        b"1:.",
        b"2:..",
        b"3:a/b",
        b"4:/etc",
        b"3:a\\b",
        b"3:a\0b",
        b"2:C:",
        b"3:CON",
        b"7:nul.txt",
        b"4:com1",
        b"4:LPT9",
    ] {
        let files = [&b"ld6:lengthi5e4:pathl1:x"[..], bad, b"eee"].concat();
        let e = multi_err(&files);
        assert!(
            matches!(&e, MetainfoError::UnsafePath { key, .. } if key == "files[1].path" || key == "files[0].path"),
            "{e}"
        );
        let e = single_with("name", bad);
        assert!(
            matches!(&e, MetainfoError::UnsafePath { key, .. } if key == "name"),
            "{e}"
        );
    }
}

#[test]
fn error_messages_are_lowercase_without_period() {
    let e = single_with("name", b"2:..");
    let text = e.to_string();
    assert!(text.starts_with('`') && !text.ends_with('.'), "{text}");
    assert_eq!(
        MetainfoError::PieceCountMismatch {
            expected: 3,
            actual: 2
        }
        .to_string(),
        "2 piece hashes, but the total length needs 3"
    );
}

/// Arbitrary safe path components.
fn component() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_ -]{1,8}(\\.[a-z]{1,3})?"
        .prop_filter("safe", |c| path_component_problem(c).is_none())
}

/// Arbitrary valid info dictionaries.
fn arb_info() -> impl Strategy<Value = Info> {
    let files = proptest::collection::vec(
        (proptest::collection::vec(component(), 1..4), 0u64..100),
        1..6,
    );
    (component(), 1u32..64, any::<bool>(), any::<bool>(), files).prop_map(
        |(name, piece_length, private, multi_file, files)| {
            // A distinct first component per file, so that no two paths collide.
            let mut files: Vec<FileEntry> = files
                .into_iter()
                .enumerate()
                .map(|(i, (mut path, length))| {
                    path[0] = format!("{i}{}", path[0]);
                    FileEntry { path, length }
                })
                .collect();
            if !multi_file {
                files.truncate(1);
                files[0].path = vec![name.clone()];
            }
            files[0].length += 1; // never empty
            let total: u64 = files.iter().map(|f| f.length).sum();
            let count = usize::try_from(total.div_ceil(u64::from(piece_length))).expect("small");
            let pieces = (0..count)
                .map(|i| [u8::try_from(i % 256).expect("< 256"); 20])
                .collect();
            Info {
                name,
                piece_length,
                pieces,
                private,
                multi_file,
                files,
            }
        },
    )
}

proptest! {
    #[test]
    fn info_round_trips(info in arb_info(), comment in proptest::option::of("[ -~]{0,20}")) {
        let mut m = Metainfo::from_info(info);
        m.comment = comment;
        m.announce = Some("http://127.0.0.1:6969/announce".into());
        let parsed = Metainfo::from_bytes(&m.to_bytes()).expect("round trip");
        prop_assert_eq!(parsed, m);
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Metainfo::from_bytes(&bytes);
        let _ = Info::from_bytes(&bytes);
    }

    #[test]
    fn never_panics_on_mutated_torrents(
        info in arb_info(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let mut bytes = Metainfo::from_info(info).to_bytes();
        for (index, byte, kind) in edits {
            let at = index.index(bytes.len().max(1));
            match kind {
                0 if at < bytes.len() => bytes[at] = byte,
                1 => bytes.insert(at.min(bytes.len()), byte),
                _ => bytes.truncate(at),
            }
        }
        if let Ok(m) = Metainfo::from_bytes(&bytes) {
            prop_assert_eq!(m.info_hash, InfoHash(Sha1::digest(&m.info_bytes).into()));
        }
        let _ = Info::from_bytes(&bytes);
    }
}
