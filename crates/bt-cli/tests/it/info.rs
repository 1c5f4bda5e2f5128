//! `bt info`: the README's first command, and its errors.

use crate::{bt, libtorrent_hash, repo_root};

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn info_prints_the_same_info_hash_as_libtorrent_for_the_bundled_sample() {
    let sample = repo_root().join("examples/data/sample.torrent");
    let output = bt(&["info", sample.to_str().unwrap()]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let text = stdout(&output);
    let expected = format!(
        "info-hash:  {}",
        libtorrent_hash("examples/data/sample.torrent")
    );
    assert!(text.contains(&expected), "missing {expected:?} in:\n{text}");
    assert!(text.contains("name:"), "{text}");
    assert!(text.contains("pieces:"), "{text}");
    assert!(
        text.contains("tracker:    tier 1: http://127.0.0.1:6969/announce"),
        "{text}"
    );
}

#[test]
fn info_on_every_reference_torrent_matches_libtorrent() {
    let data = repo_root().join("crates/bt-proto/tests/data");
    let table = std::fs::read_to_string(data.join("HASHES.txt")).unwrap();
    let mut checked = 0;
    for line in table
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let mut fields = line.split_whitespace();
        let (name, hash) = (fields.next().unwrap(), fields.next().unwrap());
        // Names with a folder are relative to the repository root, the rest to tests/data.
        let path = if name.contains('/') {
            repo_root().join(name)
        } else {
            data.join(name)
        };
        let output = bt(&["info", path.to_str().unwrap()]);
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        assert!(stdout(&output).contains(hash), "{name}: want {hash}");
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} reference torrents checked");
}

#[test]
fn info_on_a_magnet_link_prints_its_hash_name_and_trackers() {
    let output = bt(&[
        "info",
        "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=Example&tr=http%3A%2F%2Ft.example%2Fannounce",
    ]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("c12fe1c06bba254a9dc9f519b335aa7c1367a88a"),
        "{text}"
    );
    assert!(text.contains("Example"), "{text}");
    assert!(text.contains("http://t.example/announce"), "{text}");
}

#[test]
fn info_on_a_missing_file_fails_with_one_line_naming_it() {
    let output = bt(&["info", "/nonexistent/dir/x.torrent"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent/dir/x.torrent"), "{err}");
}

#[test]
fn info_on_a_malformed_torrent_fails_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 3] = [
        ("garbage.torrent", b"this is not bencode", "invalid torrent"),
        ("deep.torrent", &[b'l'; 10_000], "invalid torrent"),
        (
            "traversal.torrent",
            b"d4:infod5:filesld6:lengthi1e4:pathl2:..6:escapeeee4:name1:x12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee",
            "..",
        ),
    ];
    for (name, bytes, needle) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let output = bt(&["info", path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(1), "{name}");
        let err = stderr(&output);
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(err.contains(needle), "{name}: {err}");
    }
}

#[test]
fn info_refuses_an_oversized_file_without_parsing_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.torrent");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(65 << 20).unwrap(); // sparse: no real disk use
    let output = bt(&["info", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("larger than"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn usage_errors_exit_with_code_2() {
    assert_eq!(bt(&[]).status.code(), Some(2));
    assert_eq!(bt(&["info"]).status.code(), Some(2));
    assert_eq!(bt(&["no-such-command"]).status.code(), Some(2));
}

#[test]
fn info_json_describes_the_torrent_for_scripts() {
    let sample = repo_root().join("examples/data/sample.torrent");
    let output = bt(&["info", "--json", sample.to_str().unwrap()]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        json["info_hash"],
        libtorrent_hash("examples/data/sample.torrent")
    );
    let files = json["files"].as_array().unwrap();
    assert!(!files.is_empty());
    let total: u64 = files.iter().map(|f| f["length"].as_u64().unwrap()).sum();
    assert_eq!(json["total_length"].as_u64(), Some(total));
    for (i, file) in files.iter().enumerate() {
        assert_eq!(file["index"].as_u64(), Some(i as u64));
        assert!(
            file["path"]
                .as_str()
                .unwrap()
                .starts_with(json["name"].as_str().unwrap())
        );
    }
    assert_eq!(
        json["trackers"],
        serde_json::json!([["http://127.0.0.1:6969/announce"]])
    );

    let magnet = bt(&[
        "info",
        "--json",
        "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=Example",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&magnet.stdout).unwrap();
    assert_eq!(json["name"], "Example");
    assert_eq!(
        json["info_hash"],
        "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
    );
}
