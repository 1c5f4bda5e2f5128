//! `bt download` against in-process seeders: several torrents at once, the plain progress
//! lines, and the seeding targets.

use bt_proto::tracker::AnnounceEvent;
use bt_test_harness::{PayloadSpec, assert_same_tree};

use crate::proc::Running;
use crate::swarm::{Seeded, TIMEOUT};

const LISTEN: [&str; 2] = ["--listen", "127.0.0.1:0"];

#[actix_rt::test]
async fn download_fetches_several_torrents_in_one_session_with_plain_progress_lines() {
    let seeded = Seeded::start(vec![
        PayloadSpec::single_file("one.bin", 300_000),
        PayloadSpec::multi_file_tree("two"),
    ])
    .await;
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("downloads");
    let mut args = vec!["download"];
    args.extend(seeded.torrents.iter().map(String::as_str));
    args.extend(["-o", dir.to_str().unwrap(), "--progress", "plain"]);
    args.extend(["--progress-interval", "0.05"]);
    args.extend(LISTEN);
    let mut bt = Running::start(&args);
    let status = bt.wait_async(TIMEOUT).await;
    assert!(status.success(), "{}", bt.outputs());

    assert_same_tree(&seeded.payloads[0].root, &dir.join("one.bin")).unwrap();
    assert_same_tree(&seeded.payloads[1].root, &dir.join("two")).unwrap();
    let stdout = bt.stdout();
    for name in ["one.bin", "two", "total"] {
        let line = stdout
            .lines()
            .rfind(|l| l.contains(&format!("] {name}: ")))
            .unwrap_or_else(|| panic!("no progress line for {name}:\n{stdout}"));
        // "[  0.3s] two: 100.0%  69.3 KiB/69.3 KiB  down ... up ... eta -  peers N  seeds N"
        assert!(line.starts_with('['), "{line}");
        assert!(line.contains(": 100.0%  "), "{line}");
        for field in ["  down ", "/s  up ", "  eta ", "  peers ", "  seeds "] {
            assert!(line.contains(field), "{field:?} missing in {line}");
        }
    }
    for name in ["one.bin", "two"] {
        assert!(
            stdout.contains(&format!("{name}: complete, ")),
            "no completion line for {name}:\n{stdout}"
        );
    }
    assert!(!stdout.contains('\u{1b}'), "escape codes in plain mode");
    seeded.stop().await;
}

/// `--seed-ratio 1` keeps serving after completion until one full copy went out, then exits 0
/// on its own, having announced `stopped`.
#[actix_rt::test]
async fn seed_ratio_stops_seeding_once_a_full_copy_was_uploaded() {
    let mut seeded = Seeded::start(vec![PayloadSpec::single_file("ratio.bin", 400_000)]).await;
    let hash = seeded.payloads[0].info_hash();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("first");
    let torrent = seeded.torrents[0].clone();
    let args = ["download", &torrent, "-o", dir.to_str().unwrap()];
    let mut bt = Running::start(&[&args[..], &["--seed-ratio", "1"], &LISTEN[..]].concat());
    let completed = seeded
        .tracker
        .wait_for_announce_async(|a| a.event == AnnounceEvent::Completed, TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{e}: {}", bt.outputs()));
    // The original seeder leaves, so the next leecher can only get its copy from bt.
    let original = seeded.seeders.pop().unwrap();
    original.stop(TIMEOUT).await.unwrap();
    let next = tempfile::tempdir().unwrap();
    let leecher = crate::swarm::member(&seeded.payloads[0], next.path().to_path_buf()).await;
    leecher.wait_complete(TIMEOUT).await.unwrap();

    let status = bt.wait_async(TIMEOUT).await;
    assert!(status.success(), "{}", bt.outputs());
    assert!(
        bt.stdout().contains("ratio.bin: seeding target reached"),
        "{}",
        bt.outputs()
    );
    let uploaded = leecher.stats().await.unwrap().downloaded;
    assert!(uploaded >= 400_000, "the next leecher got {uploaded} bytes");
    let stopped = |a: &bt_test_harness::RecordedAnnounce| {
        a.info_hash == hash && a.peer_id == completed.peer_id && a.event == AnnounceEvent::Stopped
    };
    seeded
        .tracker
        .wait_for_announce_async(stopped, TIMEOUT)
        .await
        .unwrap();
    leecher.stop(TIMEOUT).await.unwrap();
}

/// `--seed-time` ends seeding after the given time (here one second), exit 0.
#[actix_rt::test]
async fn seed_time_stops_seeding_after_the_duration() {
    let seeded = Seeded::start(vec![PayloadSpec::single_file("timed.bin", 100_000)]).await;
    let out = tempfile::tempdir().unwrap();
    let args = [
        "download",
        &seeded.torrents[0],
        "-o",
        out.path().to_str().unwrap(),
    ];
    let mut bt = Running::start(&[&args[..], &["--seed-time", "1s"], &LISTEN[..]].concat());
    let status = bt.wait_async(TIMEOUT).await;
    assert!(status.success(), "{}", bt.outputs());
    let stdout = bt.stdout();
    let complete = stdout.find("timed.bin: complete").expect("completion line");
    let seeding = stdout.find("timed.bin: seeding on").expect("seeding line");
    let target = stdout
        .find("timed.bin: seeding target reached")
        .expect("target line");
    assert!(complete < seeding && seeding < target, "{stdout}");
    seeded.stop().await;
}

/// `--files 0` fetches a.bin's two pieces only: a.bin and c.bin (inside the shared piece) are
/// complete, e.bin exists only because it shares that piece, z.txt and the empty file are never
/// created, and the seeder uploaded exactly those two pieces. `--only 'z*'` then adds z.txt to
/// the same directory from its last piece alone.
#[actix_rt::test]
async fn files_and_only_download_the_picked_files_and_their_pieces_only() {
    let seeded = Seeded::start(vec![PayloadSpec::multi_file_tree("tree")]).await;
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let torrent = seeded.torrents[0].as_str();
    let mut bt = Running::start(
        &[
            &["download", torrent, "-o", dir, "--files", "0"],
            &LISTEN[..],
        ]
        .concat(),
    );
    let status = bt.wait_async(TIMEOUT).await;
    assert!(status.success(), "{}", bt.outputs());
    let (want, got) = (&seeded.payloads[0].root, out.path().join("tree"));
    assert_same_tree(&want.join("a.bin"), &got.join("a.bin")).unwrap();
    assert_same_tree(&want.join("b/c.bin"), &got.join("b/c.bin")).unwrap();
    assert!(got.join("b/d/e.bin").is_file(), "shares piece 1 with a.bin");
    assert!(!got.join("z.txt").exists() && !got.join("b/empty.txt").exists());
    let seeder = &seeded.seeders[0];
    assert_eq!(seeder.stats().await.unwrap().uploaded, 2 * 16_384);
    assert!(
        bt.stdout().contains("tree: complete, 2 pieces fetched in "),
        "{}",
        bt.outputs()
    );

    let mut only = Running::start(
        &[
            &["download", torrent, "-o", dir, "--only", "z*"],
            &LISTEN[..],
        ]
        .concat(),
    );
    let status = only.wait_async(TIMEOUT).await;
    assert!(status.success(), "{}", only.outputs());
    assert_same_tree(&want.join("z.txt"), &got.join("z.txt")).unwrap();
    assert_same_tree(&want.join("a.bin"), &got.join("a.bin")).unwrap();
    let piece_4 = 71_008 - 4 * 16_384;
    assert_eq!(seeder.stats().await.unwrap().uploaded, 2 * 16_384 + piece_4);
    seeded.stop().await;
}

#[test]
fn picking_files_that_are_not_there_is_one_clear_error() {
    let out = tempfile::tempdir().unwrap();
    let spec = PayloadSpec::multi_file_tree("t");
    let payload = bt_test_harness::Payload::generate(&spec, 1).unwrap();
    let torrent = payload.write_torrent_file().unwrap();
    let args = [
        "download",
        torrent.to_str().unwrap(),
        "-o",
        out.path().to_str().unwrap(),
    ];
    let listen = ["--listen", "127.0.0.1:0"];
    let bad_index = crate::bt(&[&args[..], &listen, &["--files", "0,9"]].concat());
    let err = String::from_utf8_lossy(&bad_index.stderr);
    assert_eq!(bad_index.status.code(), Some(1), "{err}");
    assert!(err.contains("no file 9: the torrent has 5"), "{err}");
    let no_match = crate::bt(&[&args[..], &listen, &["--only", "*.iso"]].concat());
    let err = String::from_utf8_lossy(&no_match.stderr);
    assert_eq!(no_match.status.code(), Some(1), "{err}");
    assert!(err.contains("--only *.iso matches no file of t"), "{err}");
    let both = crate::bt(&[&args[..], &["--files", "0", "--only", "*"]].concat());
    assert_eq!(both.status.code(), Some(2));
}
