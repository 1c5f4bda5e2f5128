//! `bt seed`: check a torrent's data and serve it until Ctrl-C/SIGTERM (or a --seed-*
//! target), then announce `stopped` and exit 0.
//!
//! `--data DIR` is read the way `bt download -o DIR` writes: `DIR/NAME` for a single file,
//! `DIR/NAME/...` for a multi-file torrent. Data that does not hold every piece is an error:
//! `bt download --seed` shares a partial download.

use std::path::PathBuf;

use anyhow::bail;
use bt_engine::{AddTorrentOptions, TorrentState};

use super::Context;
use super::common::{SeedArgs, Source, add_job, open_torrent, start_session, stop};
use crate::runner::{self, Job};
use crate::settings::{DhtArgs, Layers, SessionArgs};
use crate::signals::Interrupt;

/// Arguments of `bt seed`.
#[derive(Debug, clap::Args)]
pub struct SeedCmdArgs {
    /// The .torrent file.
    pub torrent: String,
    /// The directory holding the torrent's files.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    #[command(flatten)]
    pub seeding: SeedArgs,
    #[command(flatten)]
    pub session: SessionArgs,
    #[command(flatten)]
    pub dht: DhtArgs,
}

/// Seeds the torrent; see the module docs.
pub fn run(args: &SeedCmdArgs, context: &Context) -> anyhow::Result<()> {
    let metainfo = open_torrent(&args.torrent)?;
    if !args.data.is_dir() {
        bail!("{} is not a directory", args.data.display());
    }
    let config = Layers::new(context.config_file.as_deref(), &args.session)
        .with_dht(&args.dht)
        .engine()?;
    let goal = args.seeding.goal(true);
    actix_rt::System::new().block_on(async {
        let mut interrupt = Interrupt::install()?;
        let session = start_session(config).await?;
        let result = async {
            let options = AddTorrentOptions::new(&args.data);
            let source = Source::Torrent(Box::new(metainfo));
            let job = add_job(&session, source, options, goal).await?;
            tokio::select! {
                checked = require_complete(&job, args) => checked?,
                () = interrupt.wait() => return Ok(()),
            }
            runner::run(&session, vec![job], &context.console, interrupt).await?;
            Ok(())
        }
        .await;
        stop(&session).await;
        context.console.message("stopped");
        result
    })
}

/// Waits for the resume check and fails unless it found every piece.
async fn require_complete(job: &Job, args: &SeedCmdArgs) -> anyhow::Result<()> {
    let mut events = job.handle.subscribe();
    loop {
        let stats = job.handle.stats().await?;
        match &stats.state {
            TorrentState::Checking => {}
            TorrentState::Error(error) => bail!("{}: {error}", job.name),
            _ if stats.pieces_have < stats.pieces_total => bail!(
                "{} holds {} of the {} pieces of {}: nothing complete to seed \
                 (bt download --seed shares a partial download)",
                args.data.display(),
                stats.pieces_have,
                stats.pieces_total,
                job.name,
            ),
            _ => return Ok(()),
        }
        // Any event may be the end of the check; a closed channel means the torrent stopped.
        if events.recv().await.is_err() && events.is_closed() {
            bail!("{}: the torrent stopped", job.name);
        }
    }
}
