//! `bt download`: fetch torrents into a directory, all in one session, from `.torrent` files
//! or magnet links (whose metadata is fetched from peers first, BEP 9); exit 0 once every
//! piece is verified on disk and the seeding goal (if any) is reached.
//!
//! The files go where `bt seed --data DIR` reads them: `DIR/NAME` for a single file,
//! `DIR/NAME/...` for a multi-file torrent. Pieces already in `DIR` (an interrupted run) are
//! found by the resume check and not fetched again, so running the same command after Ctrl-C
//! resumes.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use bt_engine::AddTorrentOptions;
use bt_proto::metainfo::Info;

use super::Context;
use super::common::{SeedArgs, Source, add_job, prepare_download_dir, start_session, stop};
use crate::runner::{self, Outcome};
use crate::settings::{DhtArgs, Layers, SessionArgs};
use crate::signals::Interrupt;

/// Arguments of `bt download`.
#[derive(Debug, clap::Args)]
pub struct DownloadArgs {
    /// The .torrent files, or magnet links ('magnet:?xt=urn:btih:...', quoted); several
    /// download at once, in one session.
    #[arg(required = true, value_name = "TORRENT")]
    pub torrents: Vec<String>,
    /// The directory to download into (created if missing).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: PathBuf,
    /// Download only these files of each torrent, by index (`bt info` numbers them), e.g.
    /// --files 0,2. Files that share a piece with a picked one may be partly written.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "INDEX,...",
        conflicts_with = "only"
    )]
    pub files: Vec<usize>,
    /// Download only the files whose path inside the torrent matches GLOB (e.g. '*.iso',
    /// 'docs/**'); repeat for more patterns.
    #[arg(long, value_name = "GLOB")]
    pub only: Vec<String>,
    /// Keep seeding after the download completes, until Ctrl-C (or a --seed-* target).
    #[arg(long)]
    pub seed: bool,
    #[command(flatten)]
    pub seeding: SeedArgs,
    #[command(flatten)]
    pub session: SessionArgs,
    #[command(flatten)]
    pub dht: DhtArgs,
}

/// Downloads the torrents; see the module docs.
pub fn run(args: &DownloadArgs, context: &Context) -> anyhow::Result<()> {
    let sources = args
        .torrents
        .iter()
        .map(|arg| Source::open(arg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    prepare_download_dir(&args.output)?;
    let config = Layers::new(context.config_file.as_deref(), &args.session)
        .with_dht(&args.dht)
        .engine()?;
    let mut torrents = Vec::new();
    for source in sources {
        source.check_findable(config.dht.enabled)?;
        let files = picked_files(&source, args)?;
        torrents.push((source, files));
    }
    let goal = args.seeding.goal(args.seed);
    actix_rt::System::new().block_on(async {
        let interrupt = Interrupt::install()?;
        let session = start_session(config).await?;
        let result = async {
            let mut jobs = Vec::new();
            for (source, files) in torrents {
                let mut options = AddTorrentOptions::new(&args.output);
                options.files = files;
                jobs.push(add_job(&session, source, options, goal).await?);
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

/// The files `--files` or `--only` pick in this torrent; `None` for all. A magnet link's
/// file names are not known before its metadata arrives, so `--only` cannot apply to it;
/// `--files` indices are checked once the metadata is there.
fn picked_files(source: &Source, args: &DownloadArgs) -> anyhow::Result<Option<Vec<usize>>> {
    if !args.files.is_empty() {
        return Ok(Some(args.files.clone()));
    }
    if args.only.is_empty() {
        return Ok(None);
    }
    let info: &Info = match source {
        Source::Torrent(metainfo) => &metainfo.info,
        Source::Magnet(_) => bail!(
            "--only needs the torrent's file names, which a magnet link does not give: \
             use --files with the indices, or the .torrent file"
        ),
    };
    let mut patterns = globset::GlobSetBuilder::new();
    for pattern in &args.only {
        patterns.add(globset::Glob::new(pattern).with_context(|| format!("bad --only {pattern}"))?);
    }
    let patterns = patterns.build().context("bad --only pattern")?;
    let picked: Vec<usize> = info
        .files
        .iter()
        .enumerate()
        .filter(|(_, file)| patterns.is_match(file.path.join("/")))
        .map(|(index, _)| index)
        .collect();
    if picked.is_empty() {
        bail!(
            "--only {} matches no file of {} (bt info lists them)",
            args.only.join(" "),
            info.name
        );
    }
    Ok(Some(picked))
}
