//! Seeded payloads: the same seed gives the same bytes and info-hash; the presets have the
//! shapes they promise.

use bt_proto::metainfo::Metainfo;
use bt_test_harness::{Payload, PayloadSpec};

#[test]
fn same_seed_same_bytes_same_info_hash() {
    let spec = PayloadSpec::multi_file_tree("tree");
    let (a, b) = (
        Payload::generate(&spec, 7).unwrap(),
        Payload::generate(&spec, 7).unwrap(),
    );
    assert_ne!(a.dir.path(), b.dir.path());
    assert_eq!(a.info_hash(), b.info_hash());
    assert_eq!(a.torrent_bytes, b.torrent_bytes);
    let read = |p: &Payload| std::fs::read(p.root.join("b/d/e.bin")).unwrap();
    assert_eq!(read(&a), read(&b));
    let c = Payload::generate(&spec, 8).unwrap();
    assert_ne!(a.info_hash(), c.info_hash());
}

#[test]
fn single_file_preset() {
    let spec = PayloadSpec::single_file("one.bin", 100_001)
        .with_piece_length(32 * 1024)
        .with_trackers(["http://127.0.0.1:1/announce"]);
    assert_eq!(spec.total_len(), 100_001);
    let payload = Payload::generate(&spec, 1).unwrap();
    assert_eq!(payload.root, payload.data_dir().join("one.bin"));
    assert_eq!(std::fs::metadata(&payload.root).unwrap().len(), 100_001);
    let info = &payload.torrent.info;
    assert!(!info.multi_file);
    assert_eq!(
        (info.name.as_str(), info.piece_length),
        ("one.bin", 32 * 1024)
    );
    assert_eq!(info.piece_count(), 4);
    assert_eq!(
        payload.torrent.announce.as_deref(),
        Some("http://127.0.0.1:1/announce")
    );
}

#[test]
fn tree_preset_has_an_empty_file_and_a_piece_over_three_files() {
    let payload = Payload::generate(&PayloadSpec::multi_file_tree("tree"), 3).unwrap();
    let info = &payload.torrent.info;
    assert!(info.multi_file);
    let paths: Vec<String> = info.files.iter().map(|f| f.path.join("/")).collect();
    assert_eq!(
        paths,
        ["a.bin", "b/c.bin", "b/d/e.bin", "b/empty.txt", "z.txt"]
    );
    assert!(info.files.iter().any(|f| f.length == 0));
    assert_eq!(
        std::fs::metadata(payload.root.join("b/empty.txt"))
            .unwrap()
            .len(),
        0
    );
    // Files with bytes in piece 1.
    let piece = u64::from(info.piece_length);
    let (start, end) = (piece, 2 * piece);
    let mut offset = 0;
    let mut touching = 0;
    for file in &info.files {
        let (from, to) = (offset, offset + file.length);
        if file.length > 0 && from < end && to > start {
            touching += 1;
        }
        offset = to;
    }
    assert_eq!(touching, 3);
    assert_eq!(info.total_length(), 71_008);
}

#[test]
fn torrent_file_round_trips_and_the_directory_is_removed() {
    let payload = Payload::generate(&PayloadSpec::single_file("x", 10), 0).unwrap();
    let path = payload.write_torrent_file().unwrap();
    assert_eq!(path, payload.data_dir().join("x.torrent"));
    let parsed = Metainfo::from_bytes(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(parsed.info_hash, payload.info_hash());
    let dir = payload.data_dir().to_owned();
    drop(payload);
    assert!(!dir.exists());
}

#[test]
fn bad_names_are_refused() {
    assert!(Payload::generate(&PayloadSpec::single_file("../x", 1), 0).is_err());
    assert!(Payload::generate(&PayloadSpec::single_file("x", 0), 0).is_err());
}
