//! End-to-end downloads between in-process engine sessions, through the mock tracker.

use std::time::{Duration, Instant};

use anyhow::Context;

use bt_engine::TorrentState;
use bt_test_harness::bench::proc::cpu_seconds;
use bt_test_harness::{PayloadSpec, Swarm, TrackerKind};

use crate::logs;

/// Every swarm in this file settles in well under this.
const TIMEOUT: Duration = Duration::from_secs(30);

/// 1 seeder, 1 leecher: the leecher's files equal the payload; returns the swarm's time.
async fn one_to_one(spec: PayloadSpec, tracker: TrackerKind) -> anyhow::Result<Duration> {
    logs();
    let swarm = Swarm::builder()
        .payload(spec, 1)
        .seeders(1)
        .leechers(1)
        .tracker(tracker)
        .build()
        .await?;
    let started = Instant::now();
    swarm.wait_complete(TIMEOUT).await?;
    let elapsed = started.elapsed();
    swarm.check_leecher_files()?;
    // Counters arrive every statistics interval, after the pieces.
    let total = swarm.metainfo.info.total_length();
    let leecher = swarm.leechers().next().context("a leecher")?;
    let stats = leecher
        .wait_until(TIMEOUT, |s| s.downloaded >= total)
        .await?;
    anyhow::ensure!(stats.left == 0, "left {} after completing", stats.left);
    swarm.shutdown().await?;
    Ok(elapsed)
}

#[actix::test]
async fn one_seeder_one_leecher_single_file_over_http() {
    one_to_one(
        PayloadSpec::single_file("one.bin", 1_000_000),
        TrackerKind::Http,
    )
    .await
    .unwrap();
}

#[actix::test]
async fn one_seeder_one_leecher_single_file_over_udp() {
    one_to_one(
        PayloadSpec::single_file("one.bin", 300_001),
        TrackerKind::Udp,
    )
    .await
    .unwrap();
}

/// The tree preset has an empty file and a piece spanning three files.
#[actix::test]
async fn one_seeder_one_leecher_multi_file_over_http() {
    one_to_one(PayloadSpec::multi_file_tree("tree"), TrackerKind::Http)
        .await
        .unwrap();
}

#[actix::test]
async fn one_seeder_one_leecher_multi_file_over_udp() {
    one_to_one(PayloadSpec::multi_file_tree("tree"), TrackerKind::Udp)
        .await
        .unwrap();
}

/// With no memory for pieces, every block is written as it arrives and each piece is hashed
/// by reading it back: the download is just as complete.
#[actix::test]
async fn one_seeder_one_leecher_writing_every_block_through() {
    logs();
    let mut leecher = Swarm::test_config();
    leecher.piece_buffer_limit = 0;
    let swarm = Swarm::builder()
        .payload(PayloadSpec::multi_file_tree("tree"), 4)
        .seeders(1)
        .leechers(1)
        .leecher_config(0, leecher)
        .build()
        .await
        .unwrap();
    swarm.wait_complete(TIMEOUT).await.unwrap();
    swarm.check_leecher_files().unwrap();
    swarm.shutdown().await.unwrap();
}

/// With the smallest disk backlog (two pieces), the leecher's connection stops reading from
/// its socket whenever two pieces wait for the disk and resumes when one is written, over and
/// over: the download completes all the same, with three leechers sharing the seeder.
#[actix::test]
async fn leechers_with_the_smallest_disk_backlog_complete() {
    logs();
    let mut leecher = Swarm::test_config();
    leecher.disk_backlog = 0;
    let spec = PayloadSpec::single_file("paced.bin", 6 << 20).with_piece_length(64 * 1024);
    let mut builder = Swarm::builder().payload(spec, 5).seeders(1).leechers(3);
    for index in 0..3 {
        builder = builder.leecher_config(index, leecher.clone());
    }
    let swarm = builder.build().await.unwrap();
    swarm.wait_complete(TIMEOUT).await.unwrap();
    swarm.check_leecher_files().unwrap();
    swarm.shutdown().await.unwrap();
}

/// 64 MiB in 256 KiB pieces from a seeder that has finished its check to a new leecher;
/// prints the rate (the figure in docs/ARCHITECTURE.md). `BT_BENCH_MIB` changes the size for
/// measurements in release builds; `BT_BENCH_LIMIT` (bytes per second) sets the seeder's
/// session upload limit and the leecher's session download limit, to measure what the
/// limiter costs (a limit far above the rate costs a lock per block and nothing more).
/// Besides the rate it prints the CPU seconds the process (both sessions) used per GiB
/// during the transfer, a figure that a busy machine disturbs less than the rate.
#[actix::test]
async fn one_seeder_one_leecher_throughput() {
    logs();
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let mib = env("BT_BENCH_MIB").unwrap_or(64);
    let limit = env("BT_BENCH_LIMIT").unwrap_or(0);
    let mut config = Swarm::test_config();
    config.upload_limit = limit;
    config.download_limit = limit;
    let len = mib << 20;
    let spec = PayloadSpec::single_file("big.bin", len).with_piece_length(256 * 1024);
    let mut swarm = Swarm::builder()
        .payload(spec, 9)
        .seeders(1)
        .leechers(0)
        .config(config.clone())
        .build()
        .await
        .unwrap();
    let seeding = |s: &bt_engine::TorrentStats| s.state == TorrentState::Seeding;
    swarm.members[0].wait_until(TIMEOUT, seeding).await.unwrap();
    let cpu = || cpu_seconds(std::process::id()).unwrap_or(0.0);
    let cpu_before = cpu();
    let started = Instant::now();
    swarm.add_leecher_with(config).await.unwrap();
    swarm.wait_complete(TIMEOUT).await.unwrap();
    let elapsed = started.elapsed();
    let cpu_per_gib = (cpu() - cpu_before) / (len as f64 / f64::from(1 << 30));
    let rate = len as f64 / elapsed.as_secs_f64() / f64::from(1 << 20);
    eprintln!(
        "{mib} MiB from 1 seeder to 1 leecher in {elapsed:?}: {rate:.0} MiB/s, \
         {cpu_per_gib:.2} CPU s/GiB (limit {limit} B/s, 0: none)"
    );
    swarm.check_leecher_files().unwrap();
    swarm.shutdown().await.unwrap();
}

/// One seeder with a single upload slot and three leechers: everyone completes, and the
/// leechers serve each other (the seeder alone uploads less than the three copies).
#[actix::test]
async fn one_seeder_three_leechers_trade_among_themselves() {
    logs();
    let len: u64 = 2 << 20;
    let mut seeder = Swarm::test_config();
    seeder.choke.unchoke_slots = 1;
    seeder.choke.optimistic_slots = 0;
    let swarm = Swarm::builder()
        .payload(PayloadSpec::single_file("shared.bin", len), 3)
        .seeders(1)
        .leechers(3)
        .seeder_config(seeder)
        .build()
        .await
        .unwrap();
    swarm.wait_complete(TIMEOUT).await.unwrap();
    swarm.check_leecher_files().unwrap();
    let mut from_leechers = 0;
    for leecher in swarm.leechers() {
        let stats = leecher
            .wait_until(TIMEOUT, |s| s.downloaded >= len && s.peers.is_empty())
            .await
            .unwrap();
        from_leechers += stats.uploaded;
    }
    let seeder = swarm.seeders().next().unwrap().stats().await.unwrap();
    eprintln!(
        "seeder uploaded {}, leechers uploaded {from_leechers}",
        seeder.uploaded
    );
    assert!(from_leechers > 0, "no leecher uploaded anything");
    assert!(
        seeder.uploaded < 3 * len,
        "the seeder sent every copy itself"
    );
    swarm.shutdown().await.unwrap();
}
