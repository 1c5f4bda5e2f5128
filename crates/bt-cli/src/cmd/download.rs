//! `bt download`: fetch a torrent's files into a directory, from a `.torrent` file or a magnet
//! link (whose metadata is fetched from peers first); exit 0 once every piece is verified on
//! disk (or, with `--seed`, keep seeding until SIGINT/SIGTERM).
//!
//! The files go where `bt seed --data DIR` reads them: `DIR/NAME` for a single file,
//! `DIR/NAME/...` for a multi-file torrent. Pieces already in `DIR` (an interrupted run) are
//! found by the resume check and not fetched again.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use bt_engine::{AddTorrentOptions, Session};
use bt_proto::magnet::MagnetLink;

use super::info::read_torrent;
use super::session::{Outcome, load_config, print_progress, stop, wait_for};

/// Arguments of `bt download`.
#[derive(Debug, clap::Args)]
pub struct DownloadArgs {
    /// The .torrent file, or a magnet link ('magnet:?xt=urn:btih:...', quoted).
    pub torrent: PathBuf,
    /// The directory to download into (created if missing).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: PathBuf,
    /// Where to accept peer connections [default: 0.0.0.0:6881, or the config's `listen`].
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Keep seeding after the download completes, until SIGINT or SIGTERM.
    #[arg(long)]
    pub seed: bool,
    /// A TOML file of engine settings (`BT_*` environment variables override it).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Downloads the torrent; see the module docs.
pub fn run(args: &DownloadArgs) -> anyhow::Result<()> {
    let source = match args.torrent.to_str() {
        Some(uri) if uri.starts_with("magnet:") => Source::Magnet(MagnetLink::parse(uri)?),
        _ => Source::Torrent(Box::new(read_torrent(&args.torrent)?)),
    };
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let config = load_config(args.config.as_deref(), args.listen)?;
    actix_rt::System::new().block_on(async {
        let session = Session::start(config).await?;
        let result = download(&session, source, args).await;
        stop(&session).await;
        result
    })
}

/// What to download: a torrent file's contents, or a magnet link (BEP 9).
enum Source {
    Torrent(Box<bt_proto::metainfo::Metainfo>),
    Magnet(MagnetLink),
}

async fn download(session: &Session, source: Source, args: &DownloadArgs) -> anyhow::Result<()> {
    let options = AddTorrentOptions::new(&args.output);
    let torrent = match source {
        Source::Torrent(metainfo) => session.add_torrent(*metainfo, options).await?,
        Source::Magnet(magnet) => session.add_magnet(magnet, options).await?,
    };
    // Not before a magnet link's metadata arrived: then no pieces are known.
    let complete = |s: &bt_engine::TorrentStats| s.is_complete();
    if wait_for(&torrent, complete).await? == Outcome::Signalled {
        bail!("interrupted; the pieces verified so far are kept for the next run");
    }
    let stats = torrent.stats().await?;
    let name = stats.name.clone();
    print_progress(&stats);
    eprintln!("{name}: complete in {}", args.output.display());
    if args.seed {
        eprintln!("{name}: seeding until interrupted");
        wait_for(&torrent, |_| false).await?;
    }
    Ok(())
}
