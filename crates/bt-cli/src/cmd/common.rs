//! What the commands that run a session share: reading torrents, checking the download
//! directory, starting and stopping the session, the seeding flags.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use bt_engine::{AddTorrentOptions, EngineConfig, Session};
use bt_proto::magnet::MagnetLink;
use bt_proto::metainfo::Metainfo;

use super::info::read_torrent;
use crate::format;
use crate::runner::{Job, SeedGoal};
use crate::trackers::TrackerNews;

/// The flags that say when to stop seeding.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SeedArgs {
    /// Stop seeding once this many times the downloaded size was uploaded (e.g. 1.5).
    #[arg(long, value_name = "R", value_parser = parse_ratio)]
    pub seed_ratio: Option<f64>,
    /// Stop seeding after this long (e.g. 90s, 30m, 2h).
    #[arg(long, value_name = "DURATION", value_parser = format::parse_duration)]
    pub seed_time: Option<Duration>,
}

impl SeedArgs {
    /// The goal these flags set; `forever` when seeding has no target but the user asked for
    /// it.
    pub fn goal(&self, forever: bool) -> SeedGoal {
        SeedGoal {
            forever: forever && self.seed_ratio.is_none() && self.seed_time.is_none(),
            ratio: self.seed_ratio,
            time: self.seed_time,
        }
    }
}

/// A ratio: a finite number, 0 or more.
fn parse_ratio(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(ratio) if ratio.is_finite() && ratio >= 0.0 => Ok(ratio),
        _ => Err(format!("{text:?} is not a ratio (e.g. 1, 1.5)")),
    }
}

/// A torrent as given on the command line: a `.torrent` file's contents, or a magnet link
/// whose metadata comes from peers (BEP 9).
#[derive(Debug)]
pub enum Source {
    /// A `.torrent` file, read and checked.
    Torrent(Box<Metainfo>),
    /// A magnet link.
    Magnet(MagnetLink),
}

impl Source {
    /// Reads `arg`: a `magnet:` link, or the path of a `.torrent` file.
    pub fn open(arg: &str) -> anyhow::Result<Source> {
        if arg.starts_with("magnet:") {
            let magnet = MagnetLink::parse(arg).context("invalid magnet link")?;
            return Ok(Source::Magnet(magnet));
        }
        Ok(Source::Torrent(Box::new(read_torrent(Path::new(arg))?)))
    }

    /// The name to show until the torrent's own is known: the torrent's, the link's `dn`, or
    /// the info-hash.
    pub fn name(&self) -> String {
        match self {
            Source::Torrent(metainfo) => metainfo.info.name.clone(),
            Source::Magnet(magnet) => magnet
                .display_name
                .clone()
                .unwrap_or_else(|| magnet.info_hash.to_string()),
        }
    }

    /// The distinct trackers named.
    pub fn tracker_count(&self) -> usize {
        let urls: Vec<String> = match self {
            Source::Torrent(metainfo) => metainfo.tracker_tiers().into_iter().flatten().collect(),
            Source::Magnet(magnet) => magnet.trackers.clone(),
        };
        let named: HashSet<String> = urls.into_iter().filter(|url| !url.is_empty()).collect();
        named.len()
    }

    /// Whether the torrent is private (BEP 27); a magnet link's is not known before its
    /// metadata arrives.
    pub fn is_private(&self) -> bool {
        match self {
            Source::Torrent(metainfo) => metainfo.info.private,
            Source::Magnet(_) => false,
        }
    }

    /// The piece length, or 0 for a magnet link until its metadata arrives.
    pub fn piece_length(&self) -> u64 {
        match self {
            Source::Torrent(metainfo) => u64::from(metainfo.info.piece_length),
            Source::Magnet(_) => 0,
        }
    }

    /// Refuses a magnet link that gives no way to find a peer: no tracker, no peer address,
    /// and no DHT. Its metadata could only come from peers that find us, and none knows to.
    pub fn check_findable(&self, dht_enabled: bool) -> anyhow::Result<()> {
        if let Source::Magnet(magnet) = self
            && magnet.trackers.is_empty()
            && magnet.peers.is_empty()
            && !dht_enabled
        {
            bail!(
                "the magnet link names no tracker (tr=) and no peer (x.pe=): pass --dht to find \
                 peers through the DHT"
            );
        }
        Ok(())
    }
}

/// Reads a `.torrent` file given on the command line, for a command that needs the whole
/// torrent at once (seeding); a magnet link is refused with the reason.
pub fn open_torrent(arg: &str) -> anyhow::Result<Metainfo> {
    match Source::open(arg)? {
        Source::Torrent(metainfo) => Ok(*metainfo),
        Source::Magnet(_) => {
            bail!("a magnet link cannot be seeded: seeding needs the data and its .torrent file")
        }
    }
}

/// Creates `dir` if needed and checks that files can be created in it.
pub fn prepare_download_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    tempfile::Builder::new()
        .prefix(".bt-write-test")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write to {}", dir.display()))?;
    Ok(())
}

/// Starts a session (binding its listening socket), creating the directory of the DHT's
/// routing table first when the DHT is on.
pub async fn start_session(config: EngineConfig) -> anyhow::Result<Session> {
    let state_dir = config.dht.node.state_file.as_deref().and_then(Path::parent);
    if config.dht.enabled
        && let Some(dir) = state_dir.filter(|dir| !dir.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).with_context(|| {
            format!(
                "cannot create {} for the DHT's routing table (dht.node.state_file)",
                dir.display()
            )
        })?;
    }
    let listen = config.listen;
    Session::start(config).await.with_context(|| {
        format!("is another client using {listen}? pass --listen ADDR:PORT (port 0: any free port)")
    })
}

/// Adds a torrent (or a magnet link) to the session and returns its job.
pub async fn add_job(
    session: &Session,
    source: Source,
    options: AddTorrentOptions,
    goal: SeedGoal,
) -> anyhow::Result<Job> {
    let name = source.name();
    let piece_length = source.piece_length();
    let trackers = TrackerNews::new(
        source.tracker_count(),
        session.dht().is_some() && !source.is_private(),
    );
    let added = match source {
        Source::Torrent(metainfo) => session.add_torrent(*metainfo, options).await,
        Source::Magnet(magnet) => session.add_magnet(magnet, options).await,
    };
    let handle = added.with_context(|| format!("cannot add {name}"))?;
    Ok(Job {
        handle,
        name,
        piece_length,
        trackers,
        goal,
    })
}

/// Shuts the session down: every torrent announces `stopped` and the actors stop.
pub async fn stop(session: &Session) {
    session.shutdown().await;
    // Connections close on their own threads; give them a moment, but never hang on it.
    let _ = session.wait_stopped(Duration::from_secs(5)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_replaces_seeding_forever() {
        let none = SeedArgs::default();
        assert!(none.goal(true).forever);
        assert!(!none.goal(false).seeds());
        let ratio = SeedArgs {
            seed_ratio: Some(2.0),
            ..SeedArgs::default()
        };
        assert!(!ratio.goal(true).forever);
        assert_eq!(ratio.goal(false).ratio, Some(2.0));
    }

    #[test]
    fn ratios_are_finite_and_not_negative() {
        assert_eq!(parse_ratio("1.5"), Ok(1.5));
        for bad in ["-1", "NaN", "inf", "lots"] {
            assert!(parse_ratio(bad).is_err(), "{bad}");
        }
    }
}
