//! `bt demo`: a whole download on this machine, with no network and nothing else running.
//!
//! It starts a tracker (the test harness's `MockTracker`) and a seeding session on loopback,
//! generates a payload of seeded random bytes for the seeder, downloads it in a second session
//! with the usual progress display into a temporary directory, re-hashes every piece of the
//! download independently of the engine (as `bt verify` does), prints the rate, and removes
//! everything it made.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bt_engine::{AddTorrentOptions, EngineConfig};
use bt_test_harness::{MockTracker, Payload, PayloadSpec};

use super::Context;
use super::common::{Source, add_job, start_session, stop};
use super::verify;
use crate::format;
use crate::runner::{self, Outcome, SeedGoal};
use crate::settings::{Layers, SessionArgs};
use crate::signals::Interrupt;

/// The payload size when `--size` is absent: a few seconds' work in either build.
const DEFAULT_SIZE: u64 = if cfg!(debug_assertions) {
    64 << 20
} else {
    256 << 20
};

/// How long the seeder may take to check its data and announce.
const SEEDER_READY_TIMEOUT: Duration = Duration::from_secs(120);

/// Arguments of `bt demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Size of the generated payload [default: 256MiB, 64MiB in a debug build].
    #[arg(long, value_parser = format::parse_size)]
    pub size: Option<u64>,
    /// Piece length of the generated torrent (a power of two, 16KiB to 16MiB).
    #[arg(
        long,
        value_name = "SIZE",
        default_value = "256KiB",
        value_parser = format::parse_size
    )]
    pub piece_length: u64,
    #[command(flatten)]
    pub session: SessionArgs,
}

/// Runs the demo; see the module docs.
pub fn run(args: &DemoArgs, context: &Context) -> anyhow::Result<()> {
    let size = args.size.unwrap_or(DEFAULT_SIZE);
    let piece_length = u32::try_from(args.piece_length)
        .ok()
        .filter(|len| len.is_power_of_two() && (16 << 10..=16 << 20).contains(len))
        .context("--piece-length must be a power of two from 16KiB to 16MiB")?;
    if size == 0 {
        bail!("--size must be more than 0");
    }
    let mut session_args = args.session.clone();
    session_args.listen.get_or_insert(loopback());
    let mut config = Layers::new(context.config_file.as_deref(), &session_args).engine()?;
    // Nothing but loopback, whatever the configuration says.
    config.dht.enabled = false;
    let console = &context.console;

    let tracker = MockTracker::start().context("starting the demo tracker")?;
    console.message(format!(
        "demo: generating {} of random data for the seeder",
        format::bytes(size)
    ));
    let spec = PayloadSpec::single_file("bt-demo.bin", size)
        .with_piece_length(piece_length)
        .with_trackers([tracker.http_announce_url()]);
    let payload = Payload::generate(&spec, 1).context("generating the demo payload")?;
    let download = tempfile::Builder::new()
        .prefix("bt-demo-download-")
        .tempdir()
        .context("creating the download directory")?;

    let result = actix_rt::System::new().block_on(async {
        let interrupt = Interrupt::install()?;
        let seeder = start_session(seeder_config()).await?;
        let leecher = start_session(config).await;
        let result = match &leecher {
            Ok(leecher) => {
                swarm(
                    &seeder,
                    leecher,
                    &tracker,
                    &payload,
                    download.path(),
                    context,
                    interrupt,
                )
                .await
            }
            Err(_) => Ok(None),
        };
        if let Ok(leecher) = &leecher {
            stop(leecher).await;
        }
        stop(&seeder).await;
        leecher?;
        result
    });
    tracker.shutdown();
    let Some(elapsed) = result? else {
        bail!("interrupted");
    };
    let report = verify::check(&payload.torrent.info, download.path())?;
    if !report.bad.is_empty() || !report.missing.is_empty() {
        bail!(
            "the download failed verification: {} bad and {} missing pieces",
            report.bad.len(),
            report.missing.len()
        );
    }
    let rate = size as f64 / elapsed.as_secs_f64().max(0.001);
    console.message(format!(
        "demo: downloaded {} in {:.2}s, {} ({} pieces re-hashed: all good); cleaned up",
        format::bytes(size),
        elapsed.as_secs_f64(),
        format::rate(rate as u64),
        report.good.len()
    ));
    Ok(())
}

/// Seeds the payload and downloads it; returns the download time, or `None` if interrupted.
async fn swarm(
    seeder: &bt_engine::Session,
    leecher: &bt_engine::Session,
    tracker: &MockTracker,
    payload: &Payload,
    download_dir: &std::path::Path,
    context: &Context,
    interrupt: Interrupt,
) -> anyhow::Result<Option<Duration>> {
    let console = &context.console;
    let hash = payload.info_hash();
    seeder
        .add_torrent(
            payload.torrent.clone(),
            AddTorrentOptions::new(payload.data_dir()),
        )
        .await
        .context("starting the seeder")?;
    tracker
        .wait_for_announce_async(|a| a.info_hash == hash && a.left == 0, SEEDER_READY_TIMEOUT)
        .await
        .context("waiting for the seeder to announce")?;
    console.message(format!(
        "demo: tracker on {}, seeder on {}, downloading into {}",
        tracker.http_addr(),
        seeder.local_addr(),
        download_dir.display()
    ));
    let options = AddTorrentOptions::new(download_dir);
    let job = add_job(
        leecher,
        Source::Torrent(Box::new(payload.torrent.clone())),
        options,
        SeedGoal::default(),
    )
    .await?;
    let started = Instant::now();
    let outcome = runner::run(leecher, vec![job], console, interrupt).await?;
    Ok((outcome == Outcome::Finished).then(|| started.elapsed()))
}

/// `127.0.0.1:0`: loopback, any free port.
fn loopback() -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], 0))
}

/// The seeder: the engine's defaults on loopback.
fn seeder_config() -> EngineConfig {
    EngineConfig {
        listen: loopback(),
        ..EngineConfig::default()
    }
}
