//! Regression tests for review findings on metainfo parsing, each named after what it proves:
//! memory amplification, trailing bytes, lenient optional fields, unsafe and colliding paths.

use super::*;
use crate::bencode::{BencodeError, MAX_TOKENS};

/// A valid single-file info dictionary: 5 bytes in one 16 KiB piece.
const SINGLE_INFO: &[u8] =
    b"d6:lengthi5e4:name1:a12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAAe";

/// A torrent of `before` (encoded entries), `info` = [`SINGLE_INFO`], then `after`.
fn torrent_with(before: &[u8], after: &[u8]) -> Vec<u8> {
    [b"d", before, b"4:info", SINGLE_INFO, after, b"e"].concat()
}

/// A multi-file info dictionary around the encoded `files` list, with enough piece hashes for
/// `total` bytes in 16 KiB pieces.
fn multi_info(files: &[u8], total: u64) -> Vec<u8> {
    let pieces = usize::try_from(total.div_ceil(16384)).expect("small");
    let mut out = b"d5:files".to_vec();
    out.extend_from_slice(files);
    out.extend_from_slice(b"4:name1:d12:piece lengthi16384e6:pieces");
    bencode::write_bytes(&mut out, &vec![b'A'; 20 * pieces]);
    out.push(b'e');
    out
}

/// A `files` list of one-byte files at the given paths (components joined with `/`), with the
/// BEP 47 padding attribute on those marked.
fn files(paths: &[(&str, bool)]) -> Vec<u8> {
    let mut out = vec![b'l'];
    for (path, padding) in paths {
        out.extend_from_slice(b"d");
        if *padding {
            out.extend_from_slice(b"4:attr1:p");
        }
        out.extend_from_slice(b"6:lengthi1e4:pathl");
        for component in path.split('/') {
            bencode::write_bytes(&mut out, component.as_bytes());
        }
        out.extend_from_slice(b"ee");
    }
    out.push(b'e');
    out
}

/// Parses a multi-file info holding one-byte files at `paths`.
fn parse_paths(paths: &[(&str, bool)]) -> Result<Info, MetainfoError> {
    let total = u64::try_from(paths.len()).expect("small");
    Info::from_bytes(&multi_info(&files(paths), total))
}

#[test]
fn memory_amplification_hostile_files_list_stops_at_the_token_cap() {
    // The review's proof: 64 MiB of `le` in a `files` list made serde_bencode build 33 million
    // values (about 2 GB). The scanner now refuses it before anything is built.
    let n = MAX_METAINFO_LEN - 200;
    let mut info = b"d5:filesl".to_vec();
    info.extend(std::iter::repeat_n(*b"le", (n - 40) / 2).flatten());
    info.extend_from_slice(b"e4:name1:a12:piece lengthi16384e6:pieces0:e");
    let torrent = [b"d4:info".as_slice(), &info, b"e"].concat();
    assert!(torrent.len() <= MAX_METAINFO_LEN);
    let err = Metainfo::from_bytes(&torrent).expect_err("hostile");
    assert!(
        matches!(err, MetainfoError::Bencode(BencodeError::TooManyTokens { max, .. }) if max == MAX_TOKENS),
        "{err:?}"
    );
    // The same over BEP 9, within the info size limit.
    let mut small = b"d5:filesl".to_vec();
    small.extend(std::iter::repeat_n(*b"le", MAX_TOKENS + 1).flatten());
    small.extend_from_slice(b"e4:name1:a12:piece lengthi16384e6:pieces0:e");
    assert!(small.len() <= MAX_INFO_LEN);
    let err = Info::from_bytes(&small).expect_err("hostile");
    assert!(
        matches!(
            err,
            MetainfoError::Bencode(BencodeError::TooManyTokens { .. })
        ),
        "{err:?}"
    );
}

#[test]
fn memory_amplification_junk_under_the_cap_fails_at_the_first_entry() {
    // Under the token cap, a list of junk entries fails at its first entry.
    let mut junk = vec![b'l'];
    junk.extend(std::iter::repeat_n(*b"de", 1_000_000).flatten());
    junk.push(b'e');
    let err = Info::from_bytes(&multi_info(&junk, 1)).expect_err("junk");
    assert!(
        matches!(&err, MetainfoError::MissingKey { key } if key == "files[0].length"),
        "{err:?}"
    );
}

#[test]
fn token_cap_admits_a_torrent_of_100k_files() {
    // 100,000 files with three-component paths, a `path.utf-8` copy and an `attr` key: about
    // 15 tokens a file, 1.5 million in all.
    let count = 100_000u64;
    let mut list = vec![b'l'];
    for i in 0..count {
        let path = format!("l3:dir6:{:06}7:{:03}.bine", i / 1000, i % 1000);
        let entry = format!("d4:attr1:x6:lengthi1e4:path{path}10:path.utf-8{path}e");
        list.extend_from_slice(entry.as_bytes());
    }
    list.push(b'e');
    let info = Info::from_bytes(&multi_info(&list, count)).expect("a large real torrent parses");
    assert_eq!(info.files.len(), 100_000);
}

#[test]
fn info_over_max_info_len_is_refused_before_parsing() {
    let huge = vec![b'x'; MAX_INFO_LEN + 1];
    assert!(matches!(
        Info::from_bytes(&huge),
        Err(MetainfoError::TooLarge { max, .. }) if max == MAX_INFO_LEN
    ));
}

#[test]
fn trailing_newline_after_a_torrent_is_accepted() {
    let mut bytes = torrent_with(b"", b"");
    let clean = Metainfo::from_bytes(&bytes).expect("valid");
    bytes.extend_from_slice(b"\n");
    let m = Metainfo::from_bytes(&bytes).expect("a trailing newline is accepted");
    assert_eq!(m.info_hash, InfoHash(Sha1::digest(SINGLE_INFO).into()));
    assert_eq!(m, clean);
    let info = [SINGLE_INFO, b"\r\n"].concat();
    assert_eq!(Info::from_bytes(&info).expect("trailing bytes"), clean.info);
}

#[test]
fn bad_optional_metadata_keeps_the_torrent() {
    let cases: [(&[u8], Vec<Vec<String>>); 6] = [
        // A list-valued `announce` is skipped.
        (b"8:announcel8:http://ae", vec![]),
        // A flat `announce-list` of strings: one tier per URL.
        (
            b"13:announce-listl8:http://a8:http://be",
            vec![vec!["http://a".into()], vec!["http://b".into()]],
        ),
        // Non-UTF-8 URLs and non-string tiers are skipped, the rest kept.
        (
            b"13:announce-listll2:\xff\xfe8:http://aei5el1:\xffee",
            vec![vec!["http://a".into()]],
        ),
        // A non-UTF-8 `announce`.
        (b"8:announce2:\xff\xfe", vec![]),
        // `announce-list` that is not a list at all.
        (b"13:announce-listi1e", vec![]),
        // Mistyped descriptive fields.
        (b"7:commentle10:created byi1e13:creation date1:x", vec![]),
    ];
    for (before, tiers) in cases {
        let m = Metainfo::from_bytes(&torrent_with(before, b""))
            .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(before)));
        assert_eq!(
            m.tracker_tiers(),
            tiers,
            "{}",
            String::from_utf8_lossy(before)
        );
        assert_eq!(m.info_hash, InfoHash(Sha1::digest(SINGLE_INFO).into()));
    }
    let texts = b"7:comment2:\xffx10:created by2:\xfey";
    let m = Metainfo::from_bytes(&torrent_with(texts, b"")).expect("lossy text");
    assert_eq!(m.comment.as_deref(), Some("\u{fffd}x"));
    assert_eq!(m.created_by.as_deref(), Some("\u{fffd}y"));
}

#[test]
fn unknown_keys_may_be_any_bytes_but_known_keys_must_not_repeat() {
    let odd_key = [&b"d2:\xff\xfei1e"[..], &SINGLE_INFO[1..]].concat();
    assert!(Info::from_bytes(&odd_key).is_ok());
    let twice = [&SINGLE_INFO[..SINGLE_INFO.len() - 1], b"6:lengthi5ee"].concat();
    assert!(matches!(
        Info::from_bytes(&twice),
        Err(MetainfoError::DuplicateKey { key }) if key == "length"
    ));
}

#[test]
fn windows_unsafe_components_are_rejected() {
    for bad in [
        "a:stream", "x<y", "q?", "star*", "pipe|", "quote\"", "bell\x07", "dot.", "sp ",
    ] {
        let err = parse_paths(&[(bad, false)]).expect_err(bad);
        assert!(
            matches!(&err, MetainfoError::UnsafePath { component, .. } if component == bad),
            "{bad:?}: {err:?}"
        );
    }
}

#[test]
fn duplicate_and_colliding_paths_are_rejected_ignoring_ascii_case() {
    let dup = parse_paths(&[("a/b", false), ("c", false), ("A/B", false)]);
    assert!(
        matches!(&dup, Err(MetainfoError::DuplicatePath { path }) if path.eq_ignore_ascii_case("a/b")),
        "{dup:?}"
    );
    let prefix = parse_paths(&[("a", false), ("a b", false), ("a/b", false)]);
    assert!(
        matches!(&prefix, Err(MetainfoError::PathCollision { file, other }) if file == "a" && other == "a/b"),
        "{prefix:?}"
    );
    let folded = parse_paths(&[("Dir/x", false), ("dir", false)]);
    assert!(
        matches!(&folded, Err(MetainfoError::PathCollision { file, other }) if file == "dir" && other == "Dir/x"),
        "{folded:?}"
    );
    let text = folded.expect_err("collision").to_string();
    assert_eq!(text, "file \"dir\" is also a directory of \"Dir/x\"");
}

#[test]
fn padding_files_may_share_a_path_but_not_collide_with_real_files() {
    let pads = [
        ("a", false),
        (".pad/16384", true),
        ("b", false),
        (".pad/16384", true),
    ];
    assert_eq!(
        parse_paths(&pads)
            .expect("libtorrent-style padding")
            .files
            .len(),
        4
    );
    let real = parse_paths(&[(".pad/1", true), (".pad/1", false)]);
    assert!(
        matches!(real, Err(MetainfoError::DuplicatePath { .. })),
        "{real:?}"
    );
    let dir = parse_paths(&[(".pad", false), (".pad/1", true)]);
    assert!(
        matches!(dir, Err(MetainfoError::PathCollision { .. })),
        "{dir:?}"
    );
}
