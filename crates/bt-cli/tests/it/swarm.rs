//! In-process seeders for the CLI tests: a mock tracker and one engine session per payload,
//! on this thread's actix System, while the test runs the real `bt` binary against them.

use std::path::PathBuf;
use std::time::Duration;

use bt_test_harness::{MockTracker, Payload, PayloadSpec, Role, Swarm, SwarmMember};

/// Bounds every wait on a seeder or the tracker.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Payloads, their torrent files, and a seeder for each.
pub struct Seeded {
    /// The tracker every torrent names.
    pub tracker: MockTracker,
    /// The payloads, in the order given.
    pub payloads: Vec<Payload>,
    /// Their .torrent files.
    pub torrents: Vec<String>,
    /// One seeder per payload.
    pub seeders: Vec<SwarmMember>,
}

impl Seeded {
    /// Generates the payloads (announcing to a new tracker over HTTP) and seeds each.
    pub async fn start(specs: Vec<PayloadSpec>) -> Seeded {
        let tracker = MockTracker::start().expect("a tracker");
        let mut seeded = Seeded {
            torrents: Vec::new(),
            payloads: Vec::new(),
            seeders: Vec::new(),
            tracker,
        };
        for (seed, spec) in (100..).zip(specs) {
            let spec = spec.with_trackers([seeded.tracker.http_announce_url()]);
            let payload = Payload::generate(&spec, seed).expect("a payload");
            let torrent = payload.write_torrent_file().expect("a torrent file");
            seeded.torrents.push(torrent.to_string_lossy().into_owned());
            let dir = payload.data_dir().to_path_buf();
            seeded.seeders.push(member(&payload, dir).await);
            let hash = payload.info_hash();
            seeded
                .tracker
                .wait_for_announce_async(|a| a.info_hash == hash && a.left == 0, TIMEOUT)
                .await
                .expect("the seeder announces");
            seeded.payloads.push(payload);
        }
        seeded
    }

    /// Stops every seeder, checking that each session's actors all stopped.
    pub async fn stop(self) {
        for seeder in &self.seeders {
            seeder.stop(TIMEOUT).await.expect("every actor stops");
        }
    }
}

/// A session for `payload` with its files in `dir`: a seeder if they are complete, a
/// leecher otherwise.
pub async fn member(payload: &Payload, dir: PathBuf) -> SwarmMember {
    SwarmMember::start(
        Role::Seeder,
        Swarm::test_config(),
        &payload.torrent,
        dir,
        None,
    )
    .await
    .expect("a session starts")
}
