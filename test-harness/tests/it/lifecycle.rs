//! A torrent's life through the session handle: pause and resume, removal, a full disk.

use std::process::Command;
use std::time::Duration;

use bt_engine::{TorrentEvent, TorrentState};
use bt_proto::tracker::AnnounceEvent;
use bt_test_harness::{PayloadSpec, RecordedAnnounce, Role, Swarm};

use crate::logs;

/// Every wait in this file settles in well under this.
const TIMEOUT: Duration = Duration::from_secs(30);

#[actix::test]
async fn a_paused_torrent_closes_its_connections_and_resumes_to_completion() {
    logs();
    let swarm = Swarm::builder()
        .payload(PayloadSpec::single_file("pause.bin", 4 << 20), 11)
        .seeders(1)
        .leechers(0)
        .build()
        .await
        .unwrap();
    let mut swarm = swarm;
    let seeding = |s: &bt_engine::TorrentStats| s.state == TorrentState::Seeding;
    swarm.members[0].wait_until(TIMEOUT, seeding).await.unwrap();
    let seeder_id = swarm.members[0].peer_id();
    let left = |event| move |a: &RecordedAnnounce| a.peer_id == seeder_id && a.event == event;
    swarm
        .tracker
        .wait_for_announce_async(left(AnnounceEvent::Started), TIMEOUT)
        .await
        .unwrap();
    let seeder = swarm.members[0].torrent.clone();
    seeder.pause().await.unwrap();
    let paused = swarm.members[0]
        .wait_until(TIMEOUT, |s| s.state == TorrentState::Paused)
        .await
        .unwrap();
    assert!(paused.peers.is_empty());
    swarm
        .tracker
        .wait_for_announce_async(left(AnnounceEvent::Stopped), TIMEOUT)
        .await
        .unwrap();
    let leecher = swarm.add_leecher().await.unwrap();
    swarm.tracker.clear_announces();
    seeder.resume().await.unwrap();
    swarm
        .tracker
        .wait_for_announce_async(left(AnnounceEvent::Started), TIMEOUT)
        .await
        .unwrap();
    swarm.members[leecher].wait_complete(TIMEOUT).await.unwrap();
    swarm.check_leecher_files().unwrap();
    swarm.shutdown().await.unwrap();
}

#[actix::test]
async fn a_removed_torrent_stops_its_actors_and_is_forgotten() {
    logs();
    let swarm = Swarm::builder()
        .payload(PayloadSpec::multi_file_tree("removed"), 12)
        .seeders(1)
        .leechers(1)
        .build()
        .await
        .unwrap();
    swarm.wait_complete(TIMEOUT).await.unwrap();
    let leecher = swarm.leechers().next().unwrap();
    let hash = leecher.torrent.info_hash();
    let mut events = leecher.torrent.subscribe();
    leecher.session.remove(hash).await.unwrap();
    assert!(leecher.session.torrents().await.is_empty());
    assert!(leecher.session.torrent(hash).await.is_none());
    let stopped = async {
        loop {
            if let Ok(TorrentEvent::StateChanged(TorrentState::Stopped)) = events.recv().await {
                return;
            }
        }
    };
    tokio::time::timeout(TIMEOUT, stopped).await.unwrap();
    assert!(
        leecher.session.stats(hash).await.is_err(),
        "unknown after removal"
    );
    swarm.check_leecher_files().unwrap();
    swarm.shutdown().await.unwrap();
}

/// A tmpfs of 64 KiB as the leecher's directory: the first write past it fails, and the torrent
/// stops in `Error` with the OS message. Mounting needs root (CI runs as root).
#[actix::test]
async fn a_full_disk_puts_the_torrent_in_error_with_the_os_message() {
    logs();
    let Some(tmpfs) = Tmpfs::mount("size=64k") else {
        return;
    };
    let mut swarm = Swarm::builder()
        .payload(PayloadSpec::single_file("big.bin", 1 << 20), 13)
        .seeders(1)
        .leechers(0)
        .build()
        .await
        .unwrap();
    let config = Swarm::test_config();
    let dir = tmpfs.dir.path().to_path_buf();
    let leecher = swarm
        .add_member(Role::Leecher, config, dir, None)
        .await
        .unwrap();
    let failed = swarm.members[leecher]
        .wait_event(TIMEOUT, |e| matches!(e, TorrentEvent::Error(_)))
        .await
        .unwrap();
    let TorrentEvent::Error(error) = failed else {
        unreachable!()
    };
    assert!(
        error.to_string().contains("No space left on device"),
        "{error}"
    );
    // The connections close on their own Arbiters and report back.
    let member = &swarm.members[leecher];
    let mut events = member.torrent.subscribe();
    let closed = async {
        loop {
            let stats = member.stats().await.unwrap();
            assert!(
                matches!(stats.state, TorrentState::Error(_)),
                "{:?}",
                stats.state
            );
            if stats.peers.is_empty() {
                return;
            }
            let _ = events.recv().await;
        }
    };
    tokio::time::timeout(TIMEOUT, closed).await.unwrap();
    swarm.shutdown().await.unwrap();
    drop(tmpfs);
}

/// A tmpfs mounted on a temporary directory, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs, or returns `None` (printing why) where that is not allowed; under
    /// `CI=true` it panics instead, so CI never skips silently.
    fn mount(options: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().ok()?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir.path())
            .output();
        let why = match out {
            Ok(out) if out.status.success() => return Some(Tmpfs { dir }),
            Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
            Err(e) => e.to_string(),
        };
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "mount -t tmpfs failed in CI (run the tests as root): {why}"
        );
        eprintln!("skipping: cannot mount a tmpfs here (needs root): {why}");
        None
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Counts live connections from a member's events until it completes; returns the most seen
/// at once.
async fn most_connections_until_complete(
    member: &bt_test_harness::SwarmMember,
) -> anyhow::Result<usize> {
    let mut events = member.torrent.subscribe();
    let (mut live, mut most) = (0usize, 0usize);
    let watch = async {
        loop {
            match events.recv().await {
                Ok(TorrentEvent::PeerConnected { .. }) => live += 1,
                Ok(TorrentEvent::PeerDisconnected { .. }) => live = live.saturating_sub(1),
                Ok(TorrentEvent::Completed) => return,
                _ => {}
            }
            most = most.max(live);
        }
    };
    tokio::time::timeout(TIMEOUT, watch).await?;
    Ok(most)
}

/// Two seeders, and a leecher allowed one connection (per torrent, then session-wide): it
/// never holds two, and still completes.
#[actix::test]
async fn connection_limits_hold() {
    logs();
    for per_torrent in [true, false] {
        let mut swarm = Swarm::builder()
            .payload(PayloadSpec::single_file("limits.bin", 1 << 20), 14)
            .seeders(2)
            .leechers(0)
            .build()
            .await
            .unwrap();
        let mut config = Swarm::test_config();
        if per_torrent {
            config.max_peers_per_torrent = 1;
        } else {
            config.max_connections = 1;
        }
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().to_path_buf();
        let leecher = swarm
            .add_member(Role::Leecher, config, dir, Some(temp))
            .await
            .unwrap();
        let most = most_connections_until_complete(&swarm.members[leecher])
            .await
            .unwrap();
        assert_eq!(most, 1, "per torrent: {per_torrent}");
        swarm.check_leecher_files().unwrap();
        swarm.shutdown().await.unwrap();
    }
}
