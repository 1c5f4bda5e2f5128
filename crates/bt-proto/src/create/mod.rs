//! Building a [`Metainfo`] from a file or a directory: walking it, hashing its pieces.
//!
//! This is the one module of the crate that touches the file system (plain blocking `std::fs`,
//! no network, no runtime); callers run it off any async thread.
//!
//! - A file gives a single-file torrent; a directory gives a multi-file torrent (even if it
//!   holds one file), named after the directory.
//! - The walk includes hidden files and empty files, and lists files sorted by their path
//!   components compared as bytes (so a directory's files stay together). It is iterative, so a
//!   deep tree cannot overflow the stack.
//! - **Symbolic links are not followed**: one found inside the directory is an error
//!   ([`CreateError::Symlink`]), so a torrent never silently omits or duplicates data. The path
//!   given by the caller may itself be a symlink: the caller named it on purpose.
//! - A directory with no files is an error, and so is content whose total length is zero.
//! - Files are streamed through SHA-1 with a fixed 64 KiB buffer; a piece may span files.
//! - The result is checked by parsing its own encoding, so everything [`Info::from_bytes`]
//!   rejects (unsafe names such as `CON` or `a\b`) is rejected here too.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};
use thiserror::Error;

use crate::geometry::BLOCK_LEN;
use crate::metainfo::{FileEntry, Info, MAX_PIECE_LENGTH, Metainfo, MetainfoError};

/// The smallest piece length [`auto_piece_length`] picks: 16 KiB, one block.
pub const MIN_AUTO_PIECE_LENGTH: u32 = 16 << 10;
/// The largest piece length [`auto_piece_length`] picks: 16 MiB.
pub const MAX_AUTO_PIECE_LENGTH: u32 = 16 << 20;
/// [`auto_piece_length`] picks the smallest piece length giving at most this many pieces.
const TARGET_MAX_PIECES: u64 = 2000;
/// Size of the read buffer used while hashing.
const READ_BUFFER_LEN: usize = 64 << 10;

/// What to put in a new torrent besides the data.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// Bytes per piece, a power of two from 16 KiB ([`BLOCK_LEN`], one block: peers request
    /// blocks of that size, and a smaller piece cannot be requested as usual) to 256 MiB;
    /// `None` picks one with [`auto_piece_length`].
    pub piece_length: Option<u32>,
    /// BEP 12 tracker tiers. The first URL becomes `announce`; `announce-list` is written when
    /// there is more than one URL in all.
    pub trackers: Vec<Vec<String>>,
    /// BEP 27 private flag.
    pub private: bool,
    /// `comment`.
    pub comment: Option<String>,
    /// `created by`, such as `bt/0.1.0`.
    pub created_by: Option<String>,
    /// `creation date` in seconds since the Unix epoch; this module reads no clock, so the
    /// caller supplies it.
    pub creation_date: Option<i64>,
    /// Overrides the torrent name, which is otherwise the file or directory name.
    pub name: Option<String>,
}

/// Why a torrent could not be created.
#[derive(Debug, Error)]
pub enum CreateError {
    /// Reading the file system failed.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A symbolic link inside the directory (links are not followed).
    #[error("{} is a symbolic link, which is not followed", path.display())]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// A FIFO, socket or device.
    #[error("{} is neither a regular file nor a directory", path.display())]
    UnsupportedFileType {
        /// The entry.
        path: PathBuf,
    },
    /// A file name that is not UTF-8 (torrent paths are UTF-8 text).
    #[error("name of {} is not valid UTF-8", path.display())]
    NonUtf8Name {
        /// The entry.
        path: PathBuf,
    },
    /// No name was given and the path has no final component (such as `/`).
    #[error("cannot take a torrent name from {}", path.display())]
    NoName {
        /// The path given.
        path: PathBuf,
    },
    /// A directory holding no files at all.
    #[error("directory {} holds no files", path.display())]
    EmptyDirectory {
        /// The directory.
        path: PathBuf,
    },
    /// Every file is empty, and a torrent must hold at least one byte.
    #[error("{} holds no data: every file is empty", path.display())]
    EmptyContent {
        /// The path given.
        path: PathBuf,
    },
    /// A piece length that is not a power of two from [`BLOCK_LEN`] to [`MAX_PIECE_LENGTH`].
    #[error("piece length {value} is not a power of two from {BLOCK_LEN} to {MAX_PIECE_LENGTH}")]
    InvalidPieceLength {
        /// The value given.
        value: u32,
    },
    /// A file's size changed between the walk and the hashing.
    #[error("{} changed size while it was being hashed", path.display())]
    FileChanged {
        /// The file.
        path: PathBuf,
    },
    /// The file lengths add up to more than `u64::MAX`.
    #[error("file lengths add up to more than 2^64 bytes")]
    SizeOverflow,
    /// The torrent built would not pass our own parser (an unsafe file name, for example).
    #[error("the torrent would be invalid")]
    Invalid(#[source] MetainfoError),
}

/// A piece length for `total_len` bytes: the smallest power of two from 16 KiB to 16 MiB that
/// gives at most 2000 pieces (so between 1000 and 2000 pieces, unless clamped).
pub fn auto_piece_length(total_len: u64) -> u32 {
    let mut piece_length = MIN_AUTO_PIECE_LENGTH;
    while piece_length < MAX_AUTO_PIECE_LENGTH
        && total_len.div_ceil(u64::from(piece_length)) > TARGET_MAX_PIECES
    {
        piece_length *= 2;
    }
    piece_length
}

/// A power of two from [`BLOCK_LEN`] to [`MAX_PIECE_LENGTH`].
fn valid_piece_length(value: u32) -> bool {
    value.is_power_of_two() && (BLOCK_LEN..=MAX_PIECE_LENGTH).contains(&value)
}

/// One file found by the walk.
struct SourceFile {
    /// Where it is on disk.
    disk_path: PathBuf,
    /// Its path components in the torrent.
    entry: FileEntry,
}

/// Builds a torrent from a file or a directory (see the module docs for the rules).
pub fn create_from_path(path: &Path, options: &CreateOptions) -> Result<Metainfo, CreateError> {
    let io_err = |source| CreateError::Io {
        path: path.to_owned(),
        source,
    };
    // The caller named this path, so a symlink here is followed (`metadata`, not
    // `symlink_metadata`).
    let metadata = fs::metadata(path).map_err(io_err)?;
    let name = match &options.name {
        Some(name) => name.clone(),
        None => default_name(path)?,
    };
    let (multi_file, files) = if metadata.is_dir() {
        (true, walk(path)?)
    } else if metadata.is_file() {
        let entry = FileEntry {
            path: vec![name.clone()],
            length: metadata.len(),
        };
        let disk_path = path.to_owned();
        (false, vec![SourceFile { disk_path, entry }])
    } else {
        return Err(CreateError::UnsupportedFileType {
            path: path.to_owned(),
        });
    };
    let total = files
        .iter()
        .try_fold(0u64, |sum, f| sum.checked_add(f.entry.length))
        .ok_or(CreateError::SizeOverflow)?;
    if total == 0 {
        return Err(CreateError::EmptyContent {
            path: path.to_owned(),
        });
    }
    let piece_length = match options.piece_length {
        Some(value) if valid_piece_length(value) => value,
        Some(value) => return Err(CreateError::InvalidPieceLength { value }),
        None => auto_piece_length(total),
    };
    let pieces = hash_pieces(&files, piece_length)?;
    let info = Info {
        name,
        piece_length,
        pieces,
        private: options.private,
        multi_file,
        files: files.into_iter().map(|f| f.entry).collect(),
    };
    // Check the result with the same rules as any torrent we receive.
    Info::from_bytes(&info.to_bytes()).map_err(CreateError::Invalid)?;
    Ok(with_options(Metainfo::from_info(info), options))
}

/// The last component of `path` (after resolving `.` and `..`) as UTF-8.
fn default_name(path: &Path) -> Result<String, CreateError> {
    let resolved;
    let mut last = path.file_name();
    if last.is_none() {
        resolved = fs::canonicalize(path).map_err(|source| CreateError::Io {
            path: path.to_owned(),
            source,
        })?;
        last = resolved.file_name();
    }
    let last = last.ok_or_else(|| CreateError::NoName {
        path: path.to_owned(),
    })?;
    last.to_str()
        .map(str::to_owned)
        .ok_or_else(|| CreateError::NonUtf8Name {
            path: path.to_owned(),
        })
}

/// Fills in the trackers and descriptive fields.
fn with_options(mut metainfo: Metainfo, options: &CreateOptions) -> Metainfo {
    let tiers: Vec<Vec<String>> = options
        .trackers
        .iter()
        .map(|tier| tier.iter().filter(|url| !url.is_empty()).cloned().collect())
        .filter(|tier: &Vec<String>| !tier.is_empty())
        .collect();
    metainfo.announce = tiers.first().and_then(|tier| tier.first()).cloned();
    if tiers.iter().map(Vec::len).sum::<usize>() > 1 {
        metainfo.announce_list = tiers;
    }
    metainfo.comment.clone_from(&options.comment);
    metainfo.created_by.clone_from(&options.created_by);
    metainfo.creation_date = options.creation_date;
    metainfo
}

/// Lists every regular file below `root`, sorted by path components.
fn walk(root: &Path) -> Result<Vec<SourceFile>, CreateError> {
    let mut files = Vec::new();
    let mut pending = vec![(root.to_owned(), Vec::<String>::new())];
    while let Some((dir, components)) = pending.pop() {
        let io_err = |source| CreateError::Io {
            path: dir.clone(),
            source,
        };
        for entry in fs::read_dir(&dir).map_err(io_err)? {
            let entry = entry.map_err(io_err)?;
            let disk_path = entry.path();
            let name = entry
                .file_name()
                .into_string()
                .map_err(|_| CreateError::NonUtf8Name {
                    path: disk_path.clone(),
                })?;
            let mut path = components.clone();
            path.push(name);
            let file_type = entry.file_type().map_err(io_err)?;
            if file_type.is_symlink() {
                return Err(CreateError::Symlink { path: disk_path });
            } else if file_type.is_dir() {
                pending.push((disk_path, path));
            } else if file_type.is_file() {
                let length = entry.metadata().map_err(io_err)?.len();
                let entry = FileEntry { path, length };
                files.push(SourceFile { disk_path, entry });
            } else {
                return Err(CreateError::UnsupportedFileType { path: disk_path });
            }
        }
    }
    if files.is_empty() {
        return Err(CreateError::EmptyDirectory {
            path: root.to_owned(),
        });
    }
    files.sort_by(|a, b| a.entry.path.cmp(&b.entry.path));
    Ok(files)
}

/// SHA-1 of each piece of the concatenated files, streamed with a bounded buffer.
fn hash_pieces(files: &[SourceFile], piece_length: u32) -> Result<Vec<[u8; 20]>, CreateError> {
    let mut hasher = PieceHasher::new(piece_length);
    let mut buffer = vec![0u8; READ_BUFFER_LEN];
    for file in files {
        let path = &file.disk_path;
        let io_err = |source| CreateError::Io {
            path: path.clone(),
            source,
        };
        let mut reader = File::open(path).map_err(io_err)?;
        let mut read_total: u64 = 0;
        loop {
            let n = match reader.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_err(e)),
            };
            let chunk = buffer
                .get(..n)
                .expect("invariant: read returns at most buffer.len()");
            hasher.update(chunk);
            read_total = read_total.saturating_add(n as u64);
            if read_total > file.entry.length {
                break;
            }
        }
        if read_total != file.entry.length {
            return Err(CreateError::FileChanged { path: path.clone() });
        }
    }
    Ok(hasher.finish())
}

/// Cuts a byte stream into pieces and hashes each one.
struct PieceHasher {
    piece_length: u64,
    /// Bytes of the current piece hashed so far.
    filled: u64,
    sha: Sha1,
    pieces: Vec<[u8; 20]>,
}

impl PieceHasher {
    fn new(piece_length: u32) -> Self {
        Self {
            piece_length: u64::from(piece_length),
            filled: 0,
            sha: Sha1::new(),
            pieces: Vec::new(),
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let room = self.piece_length - self.filled;
            let take = usize::try_from(room).map_or(data.len(), |room| room.min(data.len()));
            let (now, rest) = data.split_at(take);
            self.sha.update(now);
            self.filled += take as u64;
            data = rest;
            if self.filled == self.piece_length {
                self.pieces.push(self.sha.finalize_reset().into());
                self.filled = 0;
            }
        }
    }

    fn finish(mut self) -> Vec<[u8; 20]> {
        if self.filled > 0 {
            self.pieces.push(self.sha.finalize().into());
        }
        self.pieces
    }
}

#[cfg(test)]
mod tests;
