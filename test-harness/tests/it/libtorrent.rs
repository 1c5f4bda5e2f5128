//! The reference peer (python3-libtorrent through `scripts/lt_peer.py`): it announces to the
//! mock tracker over HTTP and UDP, which records the announce while libtorrent reports a
//! successful reply; and the harness's promises about it hold: a clear error naming the
//! Debian package when libtorrent is missing, a time limit that ends it, a killed process on
//! drop.
//!
//! A machine without libtorrent fails these tests with the install hint rather than skipping
//! them.

use std::path::Path;
use std::time::Duration;

use bt_proto::PeerId;
use bt_proto::tracker::AnnounceEvent;
use bt_test_harness::reference::{self, LtState};
use bt_test_harness::{
    LibtorrentPeer, LtEvent, MockTracker, Payload, PayloadSpec, ReferenceError, SwarmPeer,
    Transport,
};

/// libtorrent starts, checks and announces in well under a second; this bounds a hang.
const TIMEOUT: Duration = Duration::from_secs(20);

/// libtorrent seeds a payload, announces it over `transport`, gets the one peer the tracker knows, and
/// the tracker records the announce.
async fn check_reference_announce(transport: Transport) -> anyhow::Result<()> {
    let tracker = MockTracker::start()?;
    let url = match transport {
        Transport::Http => tracker.http_announce_url(),
        Transport::Udp => tracker.udp_announce_url(),
    };
    let payload = Payload::generate(&PayloadSpec::multi_file_tree("lt"), 11)?;
    let hash = payload.info_hash();
    let fake = SwarmPeer {
        peer_id: PeerId([7; 20]),
        addr: "127.0.0.1:9".parse()?,
        left: 0,
    };
    tracker.add_peer(hash, fake);
    let torrent = payload.write_torrent_file()?;
    let mut lt = LibtorrentPeer::seeder(&torrent, payload.data_dir())
        .tracker(url.clone())
        .time_limit(TIMEOUT * 2)
        .start()
        .await?;
    let reply = lt
        .wait_event("a tracker reply", TIMEOUT, |e| {
            matches!(e, LtEvent::TrackerReply { .. })
        })
        .await?;
    assert_eq!(reply, LtEvent::TrackerReply { url, num_peers: 1 });
    assert_eq!(lt.info_hash(), hash.to_string());
    let recorded = tracker
        .wait_for_announce_async(|a| a.info_hash == hash, Duration::from_secs(5))
        .await?;
    assert_eq!(recorded.transport, transport);
    assert_eq!(recorded.source.ip().to_string(), "127.0.0.1");
    assert_eq!(recorded.port, lt.listen_addr().port());
    assert_eq!((recorded.event, recorded.left), (AnnounceEvent::Started, 0));
    assert!(recorded.peer_id.as_bytes().starts_with(b"-LT"));
    assert!(tracker.peers(&hash).contains(&fake));
    lt.stop(TIMEOUT).await?;
    Ok(())
}

#[actix::test]
async fn libtorrent_announces_over_http() {
    check_reference_announce(Transport::Http).await.unwrap();
}

#[actix::test]
async fn libtorrent_announces_over_udp() {
    check_reference_announce(Transport::Udp).await.unwrap();
}

#[test]
fn libtorrent_is_installed_for_the_system_python() {
    reference::require_libtorrent(Path::new(reference::PYTHON)).unwrap();
}

fn assert_names_the_package(error: &ReferenceError) {
    assert!(
        matches!(error, ReferenceError::LibtorrentMissing { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("apt-get install python3-libtorrent"),
        "{message}"
    );
}

#[actix::test]
async fn a_missing_interpreter_is_a_clear_error() {
    let payload = Payload::generate(&PayloadSpec::single_file("f", 1000), 1).unwrap();
    let torrent = payload.write_torrent_file().unwrap();
    let missing = Path::new("/nonexistent/python3");
    let error = LibtorrentPeer::seeder(&torrent, payload.data_dir())
        .python(missing)
        .start()
        .await
        .unwrap_err();
    assert_names_the_package(&error);
    assert_names_the_package(&reference::require_libtorrent(missing).unwrap_err());
}

/// An interpreter without the module (a stand-in that fails as Python does) is reported as a
/// missing package, not as a crash.
#[actix::test]
async fn a_python_without_libtorrent_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("python3");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'libtorrent'\" >&2\nexit 1\n",
    )
    .unwrap();
    make_executable(&fake);
    let payload = Payload::generate(&PayloadSpec::single_file("f", 1000), 1).unwrap();
    let torrent = payload.write_torrent_file().unwrap();
    let error = LibtorrentPeer::leecher(&torrent, dir.path())
        .python(&fake)
        .start()
        .await
        .unwrap_err();
    assert_names_the_package(&error);
    assert_names_the_package(&reference::require_libtorrent(&fake).unwrap_err());
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// A leecher that meets no peer reports its figures periodically, then gives up at its time
/// limit by itself and says so.
#[actix::test]
async fn the_time_limit_ends_a_peer_that_never_finishes() {
    let payload = Payload::generate(&PayloadSpec::single_file("f.bin", 100_000), 2).unwrap();
    let torrent = payload.write_torrent_file().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut lt = LibtorrentPeer::leecher(&torrent, dir.path())
        .time_limit(Duration::from_secs(2))
        .stats_interval(Duration::from_millis(100))
        .start()
        .await
        .unwrap();
    let mut ticks = 0;
    lt.wait_event("three stats lines", TIMEOUT, |e| {
        ticks += usize::from(matches!(e, LtEvent::Stats(_)));
        ticks == 3
    })
    .await
    .unwrap();
    let stats = lt.latest_stats().unwrap();
    assert_eq!((stats.pieces, stats.pieces_total), (0, 7));
    assert_eq!(stats.state, LtState::Downloading);
    let error = lt.wait_complete(TIMEOUT).await.unwrap_err();
    let ReferenceError::TimeLimit { report, .. } = &error else {
        panic!("not a time limit: {error:?}");
    };
    assert_eq!(report.stats.payload_downloaded, 0);
    assert!(report.usage.max_rss_kib > 0);
    // Once ended, every later wait says how it ended.
    let again = lt.wait_seeding(TIMEOUT).await.unwrap_err();
    assert!(
        matches!(again, ReferenceError::TimeLimit { .. }),
        "{again:?}"
    );
}

/// A wait shorter than the work (a leecher without peers never finishes) fails with its own
/// time-out and the last figures.
#[actix::test]
async fn a_wait_times_out_with_the_last_figures() {
    let payload = Payload::generate(&PayloadSpec::single_file("f.bin", 100_000), 3).unwrap();
    let torrent = payload.write_torrent_file().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut lt = LibtorrentPeer::leecher(&torrent, dir.path())
        .stats_interval(Duration::from_millis(50))
        .start()
        .await
        .unwrap();
    let error = lt.wait_complete(Duration::from_secs(2)).await.unwrap_err();
    let ReferenceError::TimedOut { last, .. } = &error else {
        panic!("not a time-out: {error:?}");
    };
    assert!(last.is_some(), "{error}");
}

/// Dropping the handle kills the process and reaps it.
#[actix::test]
async fn dropping_a_peer_kills_its_process() {
    let payload = Payload::generate(&PayloadSpec::single_file("f.bin", 50_000), 4).unwrap();
    let torrent = payload.write_torrent_file().unwrap();
    let mut lt = LibtorrentPeer::seeder(&torrent, payload.data_dir())
        .start()
        .await
        .unwrap();
    lt.wait_seeding(TIMEOUT).await.unwrap();
    let proc_dir = Path::new("/proc").join(lt.pid().to_string());
    assert!(proc_dir.exists());
    drop(lt);
    assert!(
        !proc_dir.exists(),
        "{} outlived its handle",
        proc_dir.display()
    );
}
