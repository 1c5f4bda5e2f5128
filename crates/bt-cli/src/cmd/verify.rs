//! `bt verify`: hash every piece of a torrent's files in a directory and report the good, bad
//! and missing pieces; exit 1 if any piece is bad.
//!
//! The check only reads: nothing is created or changed in the directory. A piece is
//! *missing* when one of its files is absent or too short to hold it, or when it reads as zeros
//! only and does not verify (bt creates files at full size at once, so pieces never written
//! read as zeros); it is *bad* when it holds data whose SHA-1 differs from the torrent's.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use bt_proto::geometry::{FileMap, Lengths};
use bt_proto::metainfo::Info;
use sha1::{Digest, Sha1};

use super::Context as CmdContext;
use super::info::read_torrent;

/// Arguments of `bt verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The .torrent file.
    pub torrent: PathBuf,
    /// The directory holding the torrent's files (`DIR/NAME`, as `bt download -o DIR` writes).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
}

/// Pieces by what the check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Pieces whose hash matches.
    pub good: Vec<u32>,
    /// Pieces present in full whose hash differs.
    pub bad: Vec<u32>,
    /// Pieces not (fully) on disk.
    pub missing: Vec<u32>,
}

/// Checks the files and prints the report; fails if any piece is bad.
pub fn run(args: &VerifyArgs, context: &CmdContext) -> anyhow::Result<()> {
    let metainfo = read_torrent(&args.torrent)?;
    if !args.data.is_dir() {
        bail!("{} is not a directory", args.data.display());
    }
    let report = check(&metainfo.info, &args.data)?;
    let console = &context.console;
    let total = metainfo.info.piece_count();
    console.message(format!(
        "{}: {} good, {} bad, {} missing of {total} pieces",
        metainfo.info.name,
        report.good.len(),
        report.bad.len(),
        report.missing.len()
    ));
    if !report.bad.is_empty() {
        console.message(format!("bad:     {}", ranges(&report.bad)));
    }
    if !report.missing.is_empty() {
        console.message(format!("missing: {}", ranges(&report.missing)));
    }
    if !report.bad.is_empty() {
        bail!(
            "{} of {total} pieces are corrupt (bt download resumes and fetches them again)",
            report.bad.len()
        );
    }
    Ok(())
}

/// Hashes every piece of `info` as stored under `dir`.
pub fn check(info: &Info, dir: &Path) -> anyhow::Result<Report> {
    let lens: Vec<u64> = info.files.iter().map(|f| f.length).collect();
    let map = FileMap::new(&lens).context("invalid torrent geometry")?;
    let lengths = Lengths::new(map.total_len(), info.piece_length).context("invalid torrent")?;
    let files: Vec<Option<(File, u64)>> = info
        .files
        .iter()
        .map(|entry| open_sized(&dir.join(info.relative_path(entry))))
        .collect::<anyhow::Result<_>>()?;
    let mut report = Report::default();
    let mut buffer = Vec::new();
    for (piece, expected) in lengths.pieces().zip(&info.pieces) {
        let mut hasher = Sha1::new();
        let mut present = true;
        let mut zeros = true;
        for segment in map.piece_segments(&lengths, piece) {
            let Some((file, size)) = &files[segment.file_index] else {
                present = false;
                break;
            };
            if segment.file_offset + segment.len > *size {
                present = false;
                break;
            }
            let len = usize::try_from(segment.len).context("a piece over the address space")?;
            buffer.resize(len, 0);
            file.read_exact_at(&mut buffer, segment.file_offset)
                .context("reading the data")?;
            hasher.update(&buffer);
            zeros = zeros && buffer.iter().all(|&b| b == 0);
        }
        let list = match present {
            false => &mut report.missing,
            true if hasher.finalize().as_slice() == expected => &mut report.good,
            true if zeros => &mut report.missing,
            true => &mut report.bad,
        };
        list.push(piece.get());
    }
    Ok(report)
}

/// The file and its length, or `None` when it does not exist.
fn open_sized(path: &Path) -> anyhow::Result<Option<(File, u64)>> {
    match File::open(path) {
        Ok(file) => {
            let meta = file
                .metadata()
                .with_context(|| format!("cannot read {}", path.display()))?;
            Ok(meta.is_file().then_some((file, meta.len())))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Piece numbers as ranges: `0-3, 7, 9-10`.
fn ranges(pieces: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut iter = pieces.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        parts.push(match start == end {
            true => start.to_string(),
            false => format!("{start}-{end}"),
        });
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_fold_runs() {
        assert_eq!(ranges(&[0, 1, 2, 3, 7, 9, 10]), "0-3, 7, 9-10");
        assert_eq!(ranges(&[5]), "5");
        assert_eq!(ranges(&[]), "");
    }
}
