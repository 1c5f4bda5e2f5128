//! `bt download`: fetch torrents into a directory, all in one session; exit 0 once every
//! piece is verified on disk and the seeding goal (if any) is reached.
//!
//! The files go where `bt seed --data DIR` reads them: `DIR/NAME` for a single file,
//! `DIR/NAME/...` for a multi-file torrent. Pieces already in `DIR` (an interrupted run) are
//! found by the resume check and not fetched again, so running the same command after Ctrl-C
//! resumes.

use std::path::PathBuf;

use anyhow::bail;
use bt_engine::AddTorrentOptions;

use super::Context;
use super::common::{SeedArgs, add_job, open_torrent, prepare_download_dir, start_session, stop};
use crate::runner::{self, Outcome};
use crate::settings::{Layers, SessionArgs};
use crate::signals::Interrupt;

/// Arguments of `bt download`.
#[derive(Debug, clap::Args)]
pub struct DownloadArgs {
    /// The .torrent files.
    #[arg(required = true, value_name = "TORRENT")]
    pub torrents: Vec<String>,
    /// The directory to download into (created if missing).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: PathBuf,
    /// Keep seeding after the download completes, until Ctrl-C (or a --seed-* target).
    #[arg(long)]
    pub seed: bool,
    #[command(flatten)]
    pub seeding: SeedArgs,
    #[command(flatten)]
    pub session: SessionArgs,
}

/// Downloads the torrents; see the module docs.
pub fn run(args: &DownloadArgs, context: &Context) -> anyhow::Result<()> {
    let torrents = args
        .torrents
        .iter()
        .map(|arg| open_torrent(arg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    prepare_download_dir(&args.output)?;
    let config = Layers::new(context.config_file.as_deref(), &args.session).engine()?;
    let goal = args.seeding.goal(args.seed);
    actix_rt::System::new().block_on(async {
        let interrupt = Interrupt::install()?;
        let session = start_session(config).await?;
        let result = async {
            let mut jobs = Vec::new();
            for metainfo in torrents {
                let options = AddTorrentOptions::new(&args.output);
                jobs.push(add_job(&session, metainfo, options, goal).await?);
            }
            runner::run(&session, jobs, &context.console, interrupt).await
        }
        .await;
        stop(&session).await;
        match result? {
            Outcome::Finished => Ok(()),
            Outcome::Interrupted { incomplete: 0 } => Ok(()),
            Outcome::Interrupted { incomplete } => bail!(
                "interrupted with {incomplete} torrent(s) incomplete; the verified pieces are \
                 kept in {}: run the same command again to resume",
                args.output.display()
            ),
        }
    })
}
