//! Real `.torrent` files made by mktorrent and libtorrent (see `tests/data/regenerate.sh`): our
//! info-hash must equal the one libtorrent reported, recorded in `tests/data/HASHES.txt`.

use std::path::PathBuf;

use bt_proto::InfoHash;
use bt_proto::metainfo::{Info, Metainfo};

/// `crates/bt-proto/tests/data`.
fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// Where a name from HASHES.txt lives on disk.
fn resolve(name: &str) -> PathBuf {
    match name.strip_prefix("examples/") {
        Some(rest) => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples")
            .join(rest),
        None => data_dir().join(name),
    }
}

/// The (file name, info-hash) pairs of HASHES.txt.
fn recorded_hashes() -> Vec<(String, InfoHash)> {
    let text = std::fs::read_to_string(data_dir().join("HASHES.txt")).expect("read HASHES.txt");
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (name, hex) = line.split_once(' ').expect("`name hash` line");
            let hash = InfoHash::from_hex(hex.trim()).expect("40 hex digits");
            (name.to_owned(), hash)
        })
        .collect()
}

/// Parses one of the sample files.
fn load(name: &str) -> Metainfo {
    let bytes = std::fs::read(resolve(name)).expect("read torrent");
    Metainfo::from_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// (path joined with '/', length) of every file.
fn files(m: &Metainfo) -> Vec<(String, u64)> {
    m.info
        .files
        .iter()
        .map(|f| (f.path.join("/"), f.length))
        .collect()
}

#[test]
fn info_hashes_match_libtorrent() {
    let recorded = recorded_hashes();
    assert_eq!(recorded.len(), 8, "every sample is listed");
    for (name, expected) in recorded {
        let m = load(&name);
        assert_eq!(m.info_hash, expected, "{name}");
        // Our own encoding keeps the info bytes, hence the hash.
        let again = Metainfo::from_bytes(&m.to_bytes()).expect("re-parse");
        assert_eq!(again, m, "{name}");
        assert_eq!(
            Info::from_bytes(&m.info_bytes).expect("bare info"),
            m.info,
            "{name}"
        );
    }
}

#[test]
fn every_torrent_in_data_is_in_hashes() {
    let recorded: Vec<String> = recorded_hashes().into_iter().map(|(n, _)| n).collect();
    for entry in std::fs::read_dir(data_dir()).expect("read dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .into_string()
            .expect("utf-8");
        if name.ends_with(".torrent") {
            assert!(recorded.contains(&name), "{name} missing from HASHES.txt");
        }
    }
}

#[test]
fn mktorrent_single() {
    let m = load("mktorrent-single.torrent");
    assert_eq!(m.info.name, "mk-single.bin");
    assert!(!m.info.multi_file && !m.info.private);
    assert_eq!(files(&m), [("mk-single.bin".to_owned(), 70_001)]);
    assert_eq!(m.info.piece_length, 32 << 10);
    assert_eq!(m.info.piece_count(), 3);
    assert_eq!(m.created_by.as_deref(), Some("mktorrent 1.1"));
    assert_eq!(
        m.info.relative_path(&m.info.files[0]),
        PathBuf::from("mk-single.bin")
    );
}

#[test]
fn mktorrent_multi_with_source_key_and_tiers() {
    let m = load("mktorrent-multi.torrent");
    assert_eq!(m.info.name, "mk-multi");
    assert!(m.info.multi_file);
    let expected = [
        ("nested/deep/two.bin", 40_000),
        ("nested/empty.txt", 0),
        ("one.txt", 777),
        ("three", 33_333),
    ];
    let expected: Vec<(String, u64)> = expected.iter().map(|(p, l)| (p.to_string(), *l)).collect();
    assert_eq!(files(&m), expected);
    assert_eq!(m.info.total_length(), 74_110);
    assert_eq!(m.info.piece_count(), 3);
    assert_eq!(m.tracker_tiers().len(), 2);
    assert_eq!(m.tracker_tiers()[0].len(), 2);
    let path = m.info.relative_path(&m.info.files[0]);
    assert_eq!(
        path,
        ["mk-multi", "nested", "deep", "two.bin"]
            .iter()
            .collect::<PathBuf>()
    );
}

#[test]
fn libtorrent_single_and_private() {
    let public = load("libtorrent-single.torrent");
    let private = load("libtorrent-private.torrent");
    for m in [&public, &private] {
        assert_eq!(files(m), [("lt-single.bin".to_owned(), 50_001)]);
        assert_eq!(m.info.piece_length, 16 << 10);
        assert_eq!(m.info.piece_count(), 4);
        assert_eq!(m.creation_date, Some(1_700_000_000));
    }
    assert!(!public.info.private);
    assert!(private.info.private);
    assert_ne!(
        public.info_hash, private.info_hash,
        "the private flag is inside info"
    );
    assert_eq!(public.info.pieces, private.info.pieces);
}

#[test]
fn libtorrent_multi_and_tiers() {
    let multi = load("libtorrent-multi.torrent");
    let tiers = load("libtorrent-tiers.torrent");
    assert!(multi.info.multi_file);
    assert_eq!(multi.info.name, "lt-multi");
    assert_eq!(multi.info.total_length(), 33_346);
    assert_eq!(multi.info.piece_count(), 3);
    assert_eq!(multi.info.files.len(), 5);
    assert!(files(&multi).contains(&("sub/empty".to_owned(), 0)));
    assert!(files(&multi).contains(&("sub/deeper/c.dat".to_owned(), 12_345)));
    assert_eq!(multi.comment.as_deref(), Some("multi-file sample"));
    assert_eq!(multi.tracker_tiers(), [["http://127.0.0.1:6969/announce"]]);
    assert_eq!(
        tiers.info_hash, multi.info_hash,
        "same content, trackers outside info"
    );
    let expected = [
        vec![
            "http://tracker-a.invalid/announce",
            "http://tracker-b.invalid/announce",
        ],
        vec!["udp://tracker-c.invalid:6969/announce"],
        vec!["http://tracker-d.invalid/announce"],
    ];
    assert_eq!(tiers.tracker_tiers(), expected);
}

#[test]
fn handcrafted_unordered_keys_hash_the_original_bytes() {
    let m = load("handcrafted-unordered.torrent");
    assert_eq!(files(&m), [("unordered.bin".to_owned(), 40_000)]);
    assert_eq!(m.info.piece_count(), 3);
    // A canonical re-encoding (sorted keys, unknown key dropped) would give another hash.
    let reencoded = Metainfo::from_info(m.info.clone());
    assert_ne!(reencoded.info_hash, m.info_hash);
    assert!(
        m.info_bytes.starts_with(b"d6:pieces"),
        "original order kept"
    );
}

#[test]
fn example_sample_torrent() {
    let m = load("examples/data/sample.torrent");
    assert_eq!(m.info.name, "sample");
    assert_eq!(
        m.announce.as_deref(),
        Some("http://127.0.0.1:6969/announce")
    );
    assert_eq!(m.info.files.len(), 4);
    assert_eq!(m.info.total_length(), 68_416);
    assert_eq!(m.info.piece_count(), 5);
}
