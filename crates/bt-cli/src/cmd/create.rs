//! `bt create`: build a `.torrent` from a file or a directory.
//!
//! Each `--tracker` flag is one BEP 12 tier; commas inside one flag put several trackers in the
//! same tier (as mktorrent does). The piece length is chosen from the size unless given. An
//! existing output file is never overwritten without `--force`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use bt_proto::create::{CreateOptions, create_from_path};

use crate::format;

/// Arguments of `bt create`.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The file or directory to share.
    pub path: PathBuf,
    /// Where to write the .torrent file.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// A tracker announce URL; repeat for more tiers, separate with commas for one tier.
    #[arg(short, long = "tracker", value_name = "URL[,URL...]")]
    pub trackers: Vec<String>,
    /// Piece length, a power of two from 16 KiB to 256 MiB (e.g. 262144, 256KiB, 1MiB);
    /// chosen from the size when absent.
    #[arg(long, value_name = "SIZE", value_parser = format::parse_size)]
    pub piece_length: Option<u64>,
    /// Mark the torrent private (BEP 27): peers come only from its trackers.
    #[arg(long)]
    pub private: bool,
    /// A free-text comment stored in the torrent.
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// The torrent's name (by default the file or directory name).
    #[arg(long)]
    pub name: Option<String>,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Hashes the content, writes the torrent and prints its info-hash.
pub fn run(args: &CreateArgs) -> anyhow::Result<()> {
    let options = CreateOptions {
        piece_length: args
            .piece_length
            .map(|len| u32::try_from(len).context("piece length over 4 GiB"))
            .transpose()?,
        trackers: tracker_tiers(&args.trackers)?,
        private: args.private,
        comment: args.comment.clone(),
        created_by: Some(format!("bt {}", env!("CARGO_PKG_VERSION"))),
        creation_date: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|age| i64::try_from(age.as_secs()).ok()),
        name: args.name.clone(),
    };
    let metainfo = create_from_path(&args.path, &options)
        .with_context(|| format!("cannot create a torrent from {}", args.path.display()))?;
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .create_new(!args.force)
        .open(&args.output)
        .with_context(|| match args.output.exists() && !args.force {
            true => format!(
                "{} exists (use --force to overwrite)",
                args.output.display()
            ),
            false => format!("cannot write {}", args.output.display()),
        })?;
    file.write_all(&metainfo.to_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let info = &metainfo.info;
    println!("created:    {}", args.output.display());
    println!("name:       {}", info.name);
    println!("info-hash:  {}", metainfo.info_hash);
    println!(
        "size:       {} in {} files, {} pieces of {}",
        format::bytes(info.total_length()),
        info.files.len(),
        info.piece_count(),
        format::bytes(u64::from(info.piece_length))
    );
    Ok(())
}

/// Turns the `--tracker` flags into BEP 12 tiers, checking that each is a tracker URL.
fn tracker_tiers(flags: &[String]) -> anyhow::Result<Vec<Vec<String>>> {
    let mut tiers = Vec::new();
    for flag in flags {
        let mut tier = Vec::new();
        for url in flag.split(',').map(str::trim).filter(|url| !url.is_empty()) {
            let parsed = url::Url::parse(url).with_context(|| format!("bad tracker URL {url}"))?;
            if !matches!(parsed.scheme(), "http" | "https" | "udp") {
                bail!("bad tracker URL {url}: the scheme must be http, https or udp");
            }
            tier.push(url.to_owned());
        }
        if !tier.is_empty() {
            tiers.push(tier);
        }
    }
    Ok(tiers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_flag_is_a_tier_and_commas_share_one() {
        let flags = [
            "http://a.example/announce,udp://b.example:80".to_owned(),
            "http://c.example/announce".to_owned(),
        ];
        assert_eq!(
            tracker_tiers(&flags).unwrap(),
            vec![
                vec![
                    "http://a.example/announce".to_owned(),
                    "udp://b.example:80".to_owned()
                ],
                vec!["http://c.example/announce".to_owned()],
            ]
        );
    }

    #[test]
    fn bad_tracker_urls_are_refused() {
        assert!(tracker_tiers(&["not a url".to_owned()]).is_err());
        assert!(tracker_tiers(&["ftp://x.example/".to_owned()]).is_err());
    }
}
