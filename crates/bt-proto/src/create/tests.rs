//! Tests of torrent creation on temporary directories: layout, hashing across files, options,
//! and what is refused.

use super::*;
use proptest::prelude::*;

/// Writes `files` (relative path, contents) below a new temporary directory `root/data`.
fn tree(files: &[(&str, &[u8])]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("data");
    fs::create_dir(&root).expect("mkdir");
    for (rel, contents) in files {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir -p");
        fs::write(path, contents).expect("write");
    }
    (tmp, root)
}

/// SHA-1 of each `piece_length` chunk of `data`.
fn expected_pieces(data: &[u8], piece_length: usize) -> Vec<[u8; 20]> {
    data.chunks(piece_length)
        .map(|c| Sha1::digest(c).into())
        .collect()
}

fn options(piece_length: u32) -> CreateOptions {
    CreateOptions {
        piece_length: Some(piece_length),
        ..CreateOptions::default()
    }
}

/// `len` bytes of a pattern that differs with `seed`, so that pieces differ.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| u8::try_from(i % 251).expect("< 251") ^ seed)
        .collect()
}

#[test]
fn multi_file_sorted_with_hidden_and_empty_files_and_cross_file_pieces() {
    let (a, hidden, deep, z) = (
        pattern(20_000, 1),
        pattern(3, 2),
        pattern(30_000, 3),
        pattern(5_000, 4),
    );
    let (_tmp, root) = tree(&[
        ("b/z.txt", &z),
        ("a.txt", &a),
        ("b/.hidden", &hidden),
        ("empty", b""),
        ("b/c/deep.bin", &deep),
    ]);
    let m = create_from_path(&root, &options(BLOCK_LEN)).expect("create");
    let paths: Vec<_> = m.info.files.iter().map(|f| f.path.join("/")).collect();
    assert_eq!(
        paths,
        ["a.txt", "b/.hidden", "b/c/deep.bin", "b/z.txt", "empty"]
    );
    assert_eq!(m.info.name, "data");
    assert!(m.info.multi_file);
    let all = [a, hidden, deep, z].concat();
    assert_eq!(m.info.pieces.len(), 4, "pieces span files");
    assert_eq!(m.info.pieces, expected_pieces(&all, 16 << 10));
    let parsed = Metainfo::from_bytes(&m.to_bytes()).expect("parse");
    assert_eq!(parsed.info_hash, m.info_hash);
    assert_eq!(parsed, m);
}

#[test]
fn single_file_with_trackers_and_fields() {
    let (_tmp, root) = tree(&[("f.bin", &[7u8; 100_000])]);
    let opts = CreateOptions {
        trackers: vec![
            vec!["http://a/".into(), "http://b/".into()],
            vec![],
            vec!["udp://c:1".into()],
        ],
        private: true,
        comment: Some("hi".into()),
        created_by: Some("bt".into()),
        creation_date: Some(5),
        name: Some("renamed.bin".into()),
        ..CreateOptions::default()
    };
    let m = create_from_path(&root.join("f.bin"), &opts).expect("create");
    assert!(!m.info.multi_file && m.info.private);
    assert_eq!(
        m.info.files,
        vec![FileEntry {
            path: vec!["renamed.bin".into()],
            length: 100_000
        }]
    );
    assert_eq!(m.info.piece_length, MIN_AUTO_PIECE_LENGTH);
    assert_eq!(m.info.pieces, expected_pieces(&[7u8; 100_000], 16 << 10));
    assert_eq!(m.announce.as_deref(), Some("http://a/"));
    assert_eq!(m.announce_list.len(), 2, "empty tier dropped");
    assert_eq!(Metainfo::from_bytes(&m.to_bytes()).expect("parse"), m);
    let one = CreateOptions {
        trackers: vec![vec!["http://a/".into()]],
        ..options(BLOCK_LEN)
    };
    let m = create_from_path(&root.join("f.bin"), &one).expect("create");
    assert!(
        m.announce_list.is_empty(),
        "one tracker needs no announce-list"
    );
    assert_eq!(m.tracker_tiers(), vec![vec!["http://a/".to_owned()]]);
}

#[test]
fn rejects_empty_and_bad_inputs() {
    let (_tmp, root) = tree(&[]);
    assert!(matches!(
        create_from_path(&root, &options(BLOCK_LEN)),
        Err(CreateError::EmptyDirectory { .. })
    ));
    let (_tmp, root) = tree(&[("e1", b""), ("d/e2", b"")]);
    assert!(matches!(
        create_from_path(&root, &options(BLOCK_LEN)),
        Err(CreateError::EmptyContent { .. })
    ));
    let (_tmp, root) = tree(&[("x", b"x")]);
    for bad in [0, 3, 4, 8 << 10, BLOCK_LEN + 1, 3 << 14, 1 << 29] {
        let err = create_from_path(&root, &options(bad));
        assert!(
            matches!(err, Err(CreateError::InvalidPieceLength { value }) if value == bad),
            "{bad}"
        );
    }
    for good in [BLOCK_LEN, 1 << 20, MAX_PIECE_LENGTH] {
        assert!(create_from_path(&root, &options(good)).is_ok(), "{good}");
    }
    let err = create_from_path(&root.join("missing"), &options(BLOCK_LEN));
    assert!(matches!(err, Err(CreateError::Io { .. })));
    let (_tmp, root) = tree(&[("CON", b"x")]);
    assert!(matches!(
        create_from_path(&root, &options(BLOCK_LEN)),
        Err(CreateError::Invalid(_))
    ));
    let (_tmp, root) = tree(&[("x", b"x")]);
    let named = CreateOptions {
        name: Some("..".into()),
        ..options(BLOCK_LEN)
    };
    assert!(matches!(
        create_from_path(&root, &named),
        Err(CreateError::Invalid(_))
    ));
}

#[cfg(unix)]
#[test]
fn symlinks_inside_are_an_error() {
    let (_tmp, root) = tree(&[("real", b"data")]);
    std::os::unix::fs::symlink(root.join("real"), root.join("link")).expect("symlink");
    let err = create_from_path(&root, &options(BLOCK_LEN));
    assert!(matches!(err, Err(CreateError::Symlink { .. })), "{err:?}");
    let single =
        create_from_path(&root.join("link"), &options(BLOCK_LEN)).expect("named link followed");
    assert_eq!(single.info.name, "link");
}

#[test]
fn auto_piece_length_aims_at_1000_to_2000_pieces() {
    assert_eq!(auto_piece_length(0), 16 << 10);
    assert_eq!(auto_piece_length(1), 16 << 10);
    assert_eq!(auto_piece_length(2000 * (16 << 10)), 16 << 10);
    assert_eq!(auto_piece_length(2000 * (16 << 10) + 1), 32 << 10);
    assert_eq!(auto_piece_length(1 << 30), 1 << 20);
    assert_eq!(auto_piece_length(u64::MAX), 16 << 20);
    for total in [100u64 << 20, 3 << 30, 7_777_777_777] {
        let pieces = total.div_ceil(u64::from(auto_piece_length(total)));
        assert!((1000..=2000).contains(&pieces), "{total}: {pieces}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn created_torrents_round_trip(
        files in proptest::collection::btree_map(
            "[a-z]{1,3}(/[a-z]{1,3})?",
            (0usize..40_000, any::<u8>()).prop_map(|(len, seed)| pattern(len, seed)),
            1..6,
        ),
        shift in 0u32..3,
    ) {
        let names: Vec<_> = files.keys().cloned().collect();
        // A name cannot be both a file and a directory.
        prop_assume!(!names.iter().any(|a| names.iter().any(|b| b.starts_with(&format!("{a}/")))));
        // Nor a name `create` rightly refuses, such as the device name "nul".
        prop_assume!(names.iter().flat_map(|n| n.split('/')).all(|c| {
            crate::metainfo::path_component_problem(c).is_none()
        }));
        let entries: Vec<(&str, &[u8])> = files.iter().map(|(k, v)| (k.as_str(), v.as_slice())).collect();
        let (_tmp, root) = tree(&entries);
        let all: Vec<u8> = files.values().flatten().copied().collect();
        let result = create_from_path(&root, &options(BLOCK_LEN << shift));
        if all.is_empty() {
            let empty_content = matches!(result, Err(CreateError::EmptyContent { .. }));
            prop_assert!(empty_content);
            return Ok(());
        }
        let m = result.expect("create");
        prop_assert_eq!(&m.info.pieces, &expected_pieces(&all, (16 << 10) << shift));
        let parsed = Metainfo::from_bytes(&m.to_bytes()).expect("parse");
        prop_assert_eq!(parsed.info_hash, m.info_hash);
        prop_assert_eq!(parsed, m);
    }
}
