//! Rate limits in whole swarms: a session's download and upload limits hold across all its
//! connections (which run on two worker Arbiters).
//!
//! Each assertion is a bound the token bucket guarantees: by time `t` after a session starts,
//! at most `burst + limit × t` bytes plus one overdrawing block pass its limit. A slow machine
//! only makes transfers take longer, so the bounds hold under any load; they fail only if a
//! limit is not applied.

use std::num::NonZeroU64;
use std::time::{Duration, Instant};

use bt_engine::TorrentState;
use bt_engine::proto::geometry::BLOCK_LEN;
use bt_engine::shaping::default_burst;
use bt_test_harness::{PayloadSpec, Swarm};

use crate::logs;

/// Generous: a limited swarm takes seconds by design, and the machine is shared.
const TIMEOUT: Duration = Duration::from_secs(60);

const MIB: u64 = 1 << 20;

/// The most bytes a limit of `rate` lets through in `elapsed` from a full bucket.
fn ceiling(rate: u64, elapsed: Duration) -> f64 {
    let burst = default_burst(NonZeroU64::new(rate).expect("a limit"));
    burst as f64 + rate as f64 * elapsed.as_secs_f64() + f64::from(BLOCK_LEN)
}

/// A leecher limited to 1 MiB/s downloads 3 MiB from two seeders: its two connections share
/// the session's limit, so the download takes at least about 2.9 s.
#[actix::test]
async fn a_download_limit_holds_across_the_sessions_connections() {
    logs();
    let len = 3 * MIB;
    let mut swarm = Swarm::builder()
        .payload(PayloadSpec::single_file("limited.bin", len), 11)
        .seeders(2)
        .leechers(0)
        .build()
        .await
        .unwrap();
    for seeder in swarm.seeders() {
        let seeding = |s: &bt_engine::TorrentStats| s.state == TorrentState::Seeding;
        seeder.wait_until(TIMEOUT, seeding).await.unwrap();
    }
    let mut config = Swarm::test_config();
    config.download_limit = MIB;
    let started = Instant::now();
    let leecher = swarm.add_leecher_with(config).await.unwrap();
    swarm.members[leecher]
        .wait_event(TIMEOUT, |e| {
            matches!(e, bt_engine::TorrentEvent::PeerConnected { .. })
        })
        .await
        .unwrap();
    swarm.wait_complete(TIMEOUT).await.unwrap();
    let elapsed = started.elapsed();
    swarm.check_leecher_files().unwrap();
    eprintln!("{len} bytes under a {MIB} B/s download limit in {elapsed:?}");
    assert!(
        len as f64 <= ceiling(MIB, elapsed),
        "{len} bytes downloaded in {elapsed:?}, faster than {MIB} B/s allows"
    );
    swarm.shutdown().await.unwrap();
}

/// A seeder limited to 1 MiB/s serves two leechers: whatever they trade among themselves, the
/// seeder's own upload stays within its limit, and everyone completes.
#[actix::test]
async fn an_upload_limit_caps_what_a_seeder_sends() {
    logs();
    let len = 2 * MIB;
    let mut seeder = Swarm::test_config();
    seeder.upload_limit = MIB;
    let started = Instant::now();
    let swarm = Swarm::builder()
        .payload(PayloadSpec::single_file("capped.bin", len), 12)
        .seeders(1)
        .leechers(2)
        .seeder_config(seeder)
        .build()
        .await
        .unwrap();
    swarm.wait_complete(TIMEOUT).await.unwrap();
    swarm.check_leecher_files().unwrap();
    let seeder = swarm.seeders().next().unwrap();
    // Counters reach the statistics every interval; wait until every piece sent is counted.
    let stats = seeder
        .wait_until(TIMEOUT, |s| s.uploaded >= len)
        .await
        .unwrap();
    let elapsed = started.elapsed();
    eprintln!(
        "the seeder uploaded {} bytes in {elapsed:?} under a {MIB} B/s limit",
        stats.uploaded
    );
    assert!(
        stats.uploaded as f64 <= ceiling(MIB, elapsed),
        "{} bytes uploaded in {elapsed:?}, more than {MIB} B/s allows",
        stats.uploaded
    );
    swarm.shutdown().await.unwrap();
}
