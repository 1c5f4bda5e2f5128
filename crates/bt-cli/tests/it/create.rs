//! `bt create`: the torrents it writes are the ones real tools write and read.

use std::path::Path;
use std::process::Command;

use crate::bt;

/// Writes a small tree with odd sizes whose file order is the same under every sort rule.
fn write_tree(root: &Path) {
    let files: [(&str, usize); 4] = [
        ("a.bin", 40_000),
        ("b/c.bin", 1_001),
        ("b/d/e.bin", 70_000),
        ("z.txt", 7),
    ];
    for (index, (path, len)) in files.iter().enumerate() {
        let path = root.join(path);
        let parent = path.parent().expect("a file path has a parent");
        std::fs::create_dir_all(parent).expect("the test tree's folders are created");
        let bytes: Vec<u8> = (0..*len).map(|i| (i * 31 + index * 7) as u8).collect();
        std::fs::write(path, bytes).expect("the test tree's files are written");
    }
}

fn info_hash_line(stdout: &[u8]) -> String {
    String::from_utf8_lossy(stdout)
        .lines()
        .find_map(|line| line.strip_prefix("info-hash:").map(|h| h.trim().to_owned()))
        .expect("an info-hash line")
}

#[test]
fn create_matches_mktorrent_byte_for_byte_in_the_info_hash() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("share");
    write_tree(&content);
    let ours = dir.path().join("ours.torrent");
    let theirs = dir.path().join("mktorrent.torrent");

    let output = bt(&[
        "create",
        content.to_str().unwrap(),
        "-o",
        ours.to_str().unwrap(),
        "-t",
        "http://127.0.0.1:6969/announce",
        "--piece-length",
        "32KiB",
    ]);
    assert!(output.status.success(), "{output:?}");
    let created_hash = info_hash_line(&output.stdout);

    let mktorrent = Command::new("mktorrent")
        .args(["-l", "15", "-a", "http://127.0.0.1:6969/announce", "-o"])
        .arg(&theirs)
        .arg(&content)
        .output()
        .expect("mktorrent is installed (apt-get install mktorrent)");
    assert!(mktorrent.status.success(), "{mktorrent:?}");

    let info = bt(&["info", theirs.to_str().unwrap()]);
    assert!(info.status.success(), "{info:?}");
    assert_eq!(info_hash_line(&info.stdout), created_hash);
}

#[test]
fn libtorrent_reads_the_torrent_create_writes_with_the_same_info_hash() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("share");
    write_tree(&content);
    let torrent = dir.path().join("ours.torrent");
    let output = bt(&[
        "create",
        content.to_str().unwrap(),
        "-o",
        torrent.to_str().unwrap(),
        "-t",
        "http://127.0.0.1:6969/announce,udp://127.0.0.1:6969",
        "-t",
        "http://127.0.0.1:7070/announce",
        "--private",
        "--comment",
        "made by bt",
    ]);
    assert!(output.status.success(), "{output:?}");
    let script = "import libtorrent as lt, sys\n\
                  t = lt.torrent_info(sys.argv[1])\n\
                  print(t.info_hashes().v1, t.priv(), len(list(t.trackers())), t.num_files(), t.comment())";
    let python = Command::new("/usr/bin/python3")
        .args(["-c", script])
        .arg(&torrent)
        .output()
        .expect("/usr/bin/python3 runs");
    assert!(
        python.status.success(),
        "libtorrent could not read the torrent (apt-get install python3-libtorrent): {}",
        String::from_utf8_lossy(&python.stderr)
    );
    let expected = format!("{} True 3 4 made by bt", info_hash_line(&output.stdout));
    assert_eq!(String::from_utf8_lossy(&python.stdout).trim(), expected);
}

#[test]
fn create_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("one.bin");
    std::fs::write(&content, vec![7u8; 50_000]).unwrap();
    let torrent = dir.path().join("one.torrent");
    std::fs::write(&torrent, b"precious").unwrap();
    let args = [
        "create",
        content.to_str().unwrap(),
        "-o",
        torrent.to_str().unwrap(),
    ];

    let refused = bt(&args);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    assert_eq!(std::fs::read(&torrent).unwrap(), b"precious");

    let forced = bt(&[&args[..], &["--force"]].concat());
    assert!(forced.status.success(), "{forced:?}");
    assert!(bt(&["info", torrent.to_str().unwrap()]).status.success());
}

#[test]
fn create_reports_bad_input_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.torrent");
    let out = out.to_str().unwrap();
    let content = dir.path().join("one.bin");
    std::fs::write(&content, vec![1u8; 1000]).unwrap();
    let content = content.to_str().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["create", "/nonexistent/x", "-o", out], "/nonexistent/x"),
        (
            &["create", content, "-o", out, "--piece-length", "3000"],
            "piece length",
        ),
        (
            &["create", content, "-o", out, "-t", "ftp://x.example/"],
            "scheme",
        ),
        (
            &["create", content, "-o", "/nonexistent/dir/x.torrent"],
            "cannot write",
        ),
    ];
    for (args, needle) in cases {
        let output = bt(args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert_eq!(
        bt(&["create", content, "-o", out, "--piece-length", "lots"])
            .status
            .code(),
        Some(2)
    );
}
