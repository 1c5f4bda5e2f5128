//! `bt seed`: check a torrent's data and serve it until SIGINT/SIGTERM, then announce
//! `stopped` and exit 0.
//!
//! `--data DIR` is read the way `bt download -o DIR` writes: `DIR/NAME` for a single file,
//! `DIR/NAME/...` for a multi-file torrent. Data that does not hold every piece is an error:
//! `bt download --seed` shares a partial download.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::bail;
use bt_engine::{AddTorrentOptions, Session, TorrentState};

use super::info::read_torrent;
use super::session::{Outcome, load_config, stop, wait_for};

/// Arguments of `bt seed`.
#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// The .torrent file.
    pub torrent: PathBuf,
    /// The directory holding the torrent's files.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Where to accept peer connections [default: 0.0.0.0:6881, or the config's `listen`].
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// A TOML file of engine settings (`BT_*` environment variables override it).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Seeds the torrent; see the module docs.
pub fn run(args: &SeedArgs) -> anyhow::Result<()> {
    let metainfo = read_torrent(&args.torrent)?;
    if !args.data.is_dir() {
        bail!("{} is not a directory", args.data.display());
    }
    let config = load_config(args.config.as_deref(), args.listen)?;
    actix_rt::System::new().block_on(async {
        let session = Session::start(config).await?;
        let result = seed(&session, metainfo, args).await;
        stop(&session).await;
        result
    })
}

async fn seed(
    session: &Session,
    metainfo: bt_proto::metainfo::Metainfo,
    args: &SeedArgs,
) -> anyhow::Result<()> {
    let name = metainfo.info.name.clone();
    let torrent = session
        .add_torrent(metainfo, AddTorrentOptions::new(&args.data))
        .await?;
    let checked = |s: &bt_engine::TorrentStats| s.state != TorrentState::Checking;
    if wait_for(&torrent, checked).await? == Outcome::Signalled {
        return Ok(());
    }
    let stats = torrent.stats().await?;
    if stats.pieces_have < stats.pieces_total {
        bail!(
            "{} holds {} of the {} pieces of {name}: nothing complete to seed \
             (bt download --seed shares a partial download)",
            args.data.display(),
            stats.pieces_have,
            stats.pieces_total
        );
    }
    eprintln!(
        "{name}: seeding from {} on {} until interrupted",
        args.data.display(),
        session.local_addr()
    );
    wait_for(&torrent, |_| false).await?;
    eprintln!("{name}: stopped");
    Ok(())
}
