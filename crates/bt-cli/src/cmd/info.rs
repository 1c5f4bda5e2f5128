//! `bt info`: print what a `.torrent` file or a magnet link describes.
//!
//! The torrent is read with a size cap (a hostile multi-gigabyte "torrent" is refused before it
//! is read) and fully validated by `bt-proto`; any problem is one line naming what is wrong.
//! `--json` prints one JSON object instead, for scripts (see [`metainfo_json`]).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use bt_proto::magnet::MagnetLink;
use bt_proto::metainfo::{MAX_METAINFO_LEN, Metainfo};

use crate::format;

/// Arguments of `bt info`.
#[derive(Debug, clap::Args)]
pub struct InfoArgs {
    /// A .torrent file, or a magnet link (`magnet:?xt=urn:btih:...`).
    pub torrent: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Prints the torrent's name, info-hash, size, pieces, trackers and files.
pub fn run(args: &InfoArgs) -> anyhow::Result<()> {
    if args.torrent.starts_with("magnet:") {
        let magnet = MagnetLink::parse(&args.torrent).context("invalid magnet link")?;
        match args.json {
            true => println!("{}", magnet_json(&magnet)),
            false => print_magnet(&magnet),
        }
        return Ok(());
    }
    let path = PathBuf::from(&args.torrent);
    let metainfo = read_torrent(&path)?;
    match args.json {
        true => println!("{}", metainfo_json(&metainfo)),
        false => print_metainfo(&metainfo),
    }
    Ok(())
}

/// Reads and validates a `.torrent` file, refusing files over [`MAX_METAINFO_LEN`] unread.
pub fn read_torrent(path: &Path) -> anyhow::Result<Metainfo> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut bytes = Vec::new();
    // Read one byte past the cap so an oversized file is detected without reading all of it.
    let cap = u64::try_from(MAX_METAINFO_LEN)
        .expect("invariant: the metainfo cap fits u64")
        .saturating_add(1);
    file.take(cap)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() > MAX_METAINFO_LEN {
        bail!(
            "{} is not a torrent: larger than {}",
            path.display(),
            format::bytes(cap - 1)
        );
    }
    Metainfo::from_bytes(&bytes).with_context(|| format!("invalid torrent {}", path.display()))
}

/// A torrent as JSON: `name`, `info_hash` (hex), `total_length`, `piece_length`, `pieces`,
/// `private`, `trackers` (tiers of URLs), `created_by`, `comment`, `creation_date` (null when
/// absent), and `files`: each with its `index` (for `bt download --files`), `path` (relative to
/// the download directory, as a list of components and as a string) and `length`.
pub fn metainfo_json(metainfo: &Metainfo) -> serde_json::Value {
    let info = &metainfo.info;
    let files: Vec<serde_json::Value> = info
        .files
        .iter()
        .enumerate()
        .map(|(index, file)| {
            serde_json::json!({
                "index": index,
                "path": info.relative_path(file).to_string_lossy(),
                "components": file.path,
                "length": file.length,
            })
        })
        .collect();
    serde_json::json!({
        "name": info.name,
        "info_hash": metainfo.info_hash.to_string(),
        "total_length": info.total_length(),
        "piece_length": info.piece_length,
        "pieces": info.piece_count(),
        "private": info.private,
        "trackers": metainfo.tracker_tiers(),
        "created_by": metainfo.created_by,
        "comment": metainfo.comment,
        "creation_date": metainfo.creation_date,
        "files": files,
    })
}

/// A magnet link as JSON: `info_hash`, `name` (null when absent), `trackers`, `peers`.
fn magnet_json(magnet: &MagnetLink) -> serde_json::Value {
    serde_json::json!({
        "magnet": true,
        "info_hash": magnet.info_hash.to_string(),
        "name": magnet.display_name,
        "trackers": magnet.trackers,
        "peers": magnet.peers,
    })
}

fn print_metainfo(metainfo: &Metainfo) {
    let info = &metainfo.info;
    let total = info.total_length();
    println!("name:       {}", info.name);
    println!("info-hash:  {}", metainfo.info_hash);
    println!("size:       {} ({total} bytes)", format::bytes(total));
    println!(
        "pieces:     {} x {}",
        info.piece_count(),
        format::bytes(u64::from(info.piece_length))
    );
    println!("private:    {}", if info.private { "yes" } else { "no" });
    for (tier, trackers) in metainfo.tracker_tiers().iter().enumerate() {
        println!("tracker:    tier {}: {}", tier + 1, trackers.join(" "));
    }
    if let Some(created_by) = &metainfo.created_by {
        println!("created by: {created_by}");
    }
    if let Some(comment) = &metainfo.comment {
        println!("comment:    {comment}");
    }
    println!("files:      {}", info.files.len());
    for (index, file) in info.files.iter().enumerate() {
        println!(
            "  {index:>4}  {:>12}  {}",
            format::bytes(file.length),
            info.relative_path(file).display()
        );
    }
}

fn print_magnet(magnet: &MagnetLink) {
    println!(
        "name:       {}",
        magnet.display_name.as_deref().unwrap_or("(not given)")
    );
    println!("info-hash:  {}", magnet.info_hash);
    for tracker in &magnet.trackers {
        println!("tracker:    {tracker}");
    }
    for peer in &magnet.peers {
        println!("peer:       {peer}");
    }
    println!("(size and files come from peers once the metadata is fetched)");
}
