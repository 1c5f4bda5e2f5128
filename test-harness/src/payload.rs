//! Torrent content for tests: files of seeded random bytes in a temporary directory, and the
//! torrent made from them with `bt_proto::create`.
//!
//! The same [`PayloadSpec`] and seed always give the same bytes, hence the same info-hash: a
//! single `StdRng` seeded with the seed fills the files in the order the spec lists them. The
//! layout matches what `bt download T -o D` writes: `D/NAME` for a single file, `D/NAME/…` for
//! a tree, with `D` = [`Payload::dir`].

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use bt_proto::InfoHash;
use bt_proto::create::{CreateOptions, create_from_path};
use bt_proto::metainfo::Metainfo;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tempfile::TempDir;

/// The piece length of the presets: one 16 KiB block, the smallest libtorrent accepts, so small
/// payloads still have several pieces.
pub const DEFAULT_PIECE_LENGTH: u32 = 16 * 1024;

/// Bytes generated and written per step.
const CHUNK: usize = 64 * 1024;

/// One file of a tree, relative to the top folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadFile {
    /// Path components below the top folder; each a plain name (no `/`, `..` or empty parts).
    pub path: Vec<String>,
    /// Length in bytes; 0 makes an empty file.
    pub len: u64,
}

/// What to generate: one file, or a folder of files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadLayout {
    /// A single-file torrent named after the spec.
    SingleFile {
        /// Length in bytes (more than 0).
        len: u64,
    },
    /// A multi-file torrent: a top folder named after the spec holding these files.
    Tree {
        /// The files, in the order their bytes are drawn from the RNG.
        files: Vec<PayloadFile>,
    },
}

/// A description of a payload; build one with the presets and the `with_*` methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadSpec {
    /// The torrent's name: the file's or the top folder's name.
    pub name: String,
    /// The files.
    pub layout: PayloadLayout,
    /// Bytes per piece, a power of two.
    pub piece_length: u32,
    /// Tracker URLs, one per BEP 12 tier, in order.
    pub trackers: Vec<String>,
    /// The BEP 27 private flag.
    pub private: bool,
}

impl PayloadSpec {
    /// A single file of `len` bytes.
    pub fn single_file(name: &str, len: u64) -> Self {
        Self {
            name: name.to_owned(),
            layout: PayloadLayout::SingleFile { len },
            piece_length: DEFAULT_PIECE_LENGTH,
            trackers: Vec::new(),
            private: false,
        }
    }

    /// A tree of five files in nested folders (71 008 bytes, five pieces of 16 KiB): odd sizes,
    /// an empty file, and a second piece that spans three files (`a.bin`'s tail, all of
    /// `b/c.bin`, the head of `b/d/e.bin`).
    pub fn multi_file_tree(name: &str) -> Self {
        let file = |path: &[&str], len| PayloadFile {
            path: path.iter().map(|s| (*s).to_owned()).collect(),
            len,
        };
        Self::tree(
            name,
            vec![
                file(&["a.bin"], 20_000),
                file(&["b", "c.bin"], 1_001),
                file(&["b", "d", "e.bin"], 50_000),
                file(&["b", "empty.txt"], 0),
                file(&["z.txt"], 7),
            ],
        )
    }

    /// A tree of the given files (listed in the torrent's order: sorted by path components).
    pub fn tree(name: &str, files: Vec<PayloadFile>) -> Self {
        Self {
            name: name.to_owned(),
            layout: PayloadLayout::Tree { files },
            piece_length: DEFAULT_PIECE_LENGTH,
            trackers: Vec::new(),
            private: false,
        }
    }

    /// Sets the piece length.
    pub fn with_piece_length(mut self, piece_length: u32) -> Self {
        self.piece_length = piece_length;
        self
    }

    /// Sets the tracker URLs (one tier each).
    pub fn with_trackers<I: IntoIterator<Item = S>, S: Into<String>>(mut self, urls: I) -> Self {
        self.trackers = urls.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the private flag.
    pub fn with_private(mut self, private: bool) -> Self {
        self.private = private;
        self
    }

    /// The payload's total length in bytes.
    pub fn total_len(&self) -> u64 {
        match &self.layout {
            PayloadLayout::SingleFile { len } => *len,
            PayloadLayout::Tree { files } => files.iter().map(|f| f.len).sum(),
        }
    }
}

/// Generated content and its torrent; the directory is removed when this is dropped.
#[derive(Debug)]
pub struct Payload {
    /// The temporary directory holding [`Self::root`]: the `-o`/`--data` directory for `bt`.
    pub dir: TempDir,
    /// The file (single-file) or the top folder (tree), named after the spec.
    pub root: PathBuf,
    /// The torrent.
    pub torrent: Metainfo,
    /// The torrent's bencoded bytes.
    pub torrent_bytes: Vec<u8>,
}

impl Payload {
    /// Writes the files of `spec` from an RNG seeded with `seed` and builds their torrent.
    pub fn generate(spec: &PayloadSpec, seed: u64) -> anyhow::Result<Self> {
        check_name(&spec.name)?;
        let dir = tempfile::Builder::new()
            .prefix("bt-payload-")
            .tempdir()
            .context("creating the payload directory")?;
        let root = dir.path().join(&spec.name);
        let mut rng = StdRng::seed_from_u64(seed);
        match &spec.layout {
            PayloadLayout::SingleFile { len } => write_random(&root, *len, &mut rng)?,
            PayloadLayout::Tree { files } => {
                fs::create_dir(&root).with_context(|| format!("creating {}", root.display()))?;
                for file in files {
                    file.path.iter().try_for_each(|part| check_name(part))?;
                    if file.path.is_empty() {
                        bail!("a payload file has an empty path");
                    }
                    let path: PathBuf = file.path.iter().fold(root.clone(), |p, c| p.join(c));
                    if let Some(parent) = path.parent() {
                        fs::create_dir_all(parent)
                            .with_context(|| format!("creating {}", parent.display()))?;
                    }
                    write_random(&path, file.len, &mut rng)?;
                }
            }
        }
        let options = CreateOptions {
            piece_length: Some(spec.piece_length),
            trackers: spec.trackers.iter().map(|url| vec![url.clone()]).collect(),
            private: spec.private,
            created_by: Some("bt-test-harness".to_owned()),
            ..CreateOptions::default()
        };
        let torrent = create_from_path(&root, &options)
            .with_context(|| format!("creating a torrent from {}", root.display()))?;
        let torrent_bytes = torrent.to_bytes();
        Ok(Self {
            dir,
            root,
            torrent,
            torrent_bytes,
        })
    }

    /// The torrent's info-hash.
    pub fn info_hash(&self) -> InfoHash {
        self.torrent.info_hash
    }

    /// The directory holding the content (`D` in `D/NAME`).
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Writes the torrent to `NAME.torrent` next to the content, in [`Self::dir`], and returns
    /// its path.
    pub fn write_torrent_file(&self) -> anyhow::Result<PathBuf> {
        let path = self
            .dir
            .path()
            .join(format!("{}.torrent", self.torrent.info.name));
        fs::write(&path, &self.torrent_bytes)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }
}

/// Rejects a name that is not one plain path component.
fn check_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
        bail!("{name:?} is not a plain file name");
    }
    Ok(())
}

/// Writes `len` bytes drawn from `rng` to a new file at `path`.
fn write_random(path: &Path, len: u64, rng: &mut StdRng) -> anyhow::Result<()> {
    let context = || format!("writing {}", path.display());
    let mut out = BufWriter::new(File::create(path).with_context(context)?);
    let mut chunk = vec![0u8; CHUNK];
    let mut left = len;
    while left > 0 {
        let n = usize::try_from(left).map_or(CHUNK, |l| l.min(CHUNK));
        rng.fill(&mut chunk[..n]);
        out.write_all(&chunk[..n]).with_context(context)?;
        left -= n as u64;
    }
    out.flush().with_context(context)
}
