//! Synchronous file storage for one torrent: blocks in, blocks out, pieces hashed.
//!
//! [`Storage`] maps the torrent's byte stream onto its files (BEP 3: the files in metainfo order,
//! concatenated) with bt-proto's [`FileMap`], and does every read and write with positional I/O
//! (`pread`/`pwrite` via [`FileExt`]), so several threads can use one `Storage` at once with no
//! seek races. It has no actor and no runtime: the `DiskWriter` actor runs it on a fixed pool
//! of worker threads, and tests and tools call it directly.
//!
//! # Layout on disk
//! File `f` lives at `download_dir.join(info.relative_path(f))`: `DIR/NAME` for a single-file
//! torrent, `DIR/NAME/a/b` for a multi-file one, the same layout `bt seed --data DIR` reads.
//! [`Storage::open`] creates the directories and the zero-length files; every other file is
//! created on its first write and sized with `set_len` at once (sparse on file systems that
//! support it), so a later write past the data already there never needs to extend it. Files
//! are never truncated: a longer file keeps its extra bytes.
//!
//! # Safety
//! See `layout`: symbolic links and special files on the way are refused, and nothing is created
//! outside the download directory.
//!
//! # Errors
//! Every failure is a [`StorageError`] naming the path and carrying the OS message; nothing here
//! panics or retries.
//!
//! # Layout
//! - `error`: [`StorageError`] and the classification of OS errors.
//! - `layout`: path resolution and the checks on the way to each file.
//! - `cache`: the bounded cache of open file handles.
//! - `check`: the resume check ([`Storage::check_existing`], [`Storage::check_pieces`]).
//! - `sync`: flushing written files to stable storage ([`Storage::sync`]).

mod cache;
mod check;
mod error;
mod layout;
mod sync;

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_errors;

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bt_proto::geometry::{BlockRef, FileMap, FileSegment, Lengths, PieceIndex};
use bt_proto::metainfo::Info;
use bytes::Bytes;
use sha1::{Digest, Sha1};

use cache::FileCache;
pub use error::StorageError;
use layout::Existing;

/// Tunables for [`Storage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageConfig {
    /// The most file handles kept open at once; a torrent may hold more files than the process
    /// may open, and reopening per block would cost a path walk each time.
    pub max_open_files: usize,
    /// The buffer used to read a piece back for hashing; pieces can be up to 256 MiB, so they
    /// are hashed in slices of this size instead of being read whole.
    pub hash_buffer_len: usize,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            max_open_files: 128,
            hash_buffer_len: 256 * 1024,
        }
    }
}

/// One file of the torrent, resolved.
#[derive(Debug)]
struct StoredFile {
    /// Absolute path below the canonical download directory.
    path: PathBuf,
    /// Length from the metainfo; a file shorter than this on disk is extended at first write.
    len: u64,
    /// Written since the last [`Storage::sync`]; set after each write completes, so a sync
    /// that clears it covers every write that finished before.
    dirty: AtomicBool,
    /// Created by us since the last [`Storage::sync`]: its directory entries need flushing too.
    created: AtomicBool,
}

/// The files of one torrent on disk; `&self` methods may be called from several threads.
#[derive(Debug)]
pub struct Storage {
    /// The canonical download directory: every path is checked to lie below it.
    root: PathBuf,
    files: Vec<StoredFile>,
    file_map: FileMap,
    lengths: Lengths,
    /// Behind a mutex held only to look up or open a handle, never during I/O.
    cache: Mutex<FileCache>,
    hash_buffer_len: usize,
}

impl Storage {
    /// Resolves and checks every file path, creates the directories and zero-length files, and
    /// returns the storage. `download_dir` must exist and be a directory.
    pub fn open(
        download_dir: &Path,
        info: &Info,
        config: &StorageConfig,
    ) -> Result<Storage, StorageError> {
        Self::open_files(download_dir, info, config, &vec![true; info.files.len()])
    }

    /// [`Storage::open`] for a selective download: the folders and zero-length files of only
    /// the files marked in `in_use` (one flag per file, metainfo order) are created. Every path
    /// is still checked; a file not in use is created only if a block is written to it.
    pub fn open_files(
        download_dir: &Path,
        info: &Info,
        config: &StorageConfig,
        in_use: &[bool],
    ) -> Result<Storage, StorageError> {
        let root = layout::canonical_root(download_dir)?;
        let lens: Vec<u64> = info.files.iter().map(|f| f.length).collect();
        let file_map = FileMap::new(&lens).map_err(StorageError::Geometry)?;
        let lengths = Lengths::new(file_map.total_len(), info.piece_length)
            .map_err(StorageError::Geometry)?;
        let mut files = Vec::with_capacity(info.files.len());
        for (index, entry) in info.files.iter().enumerate() {
            let path = layout::resolve(&root, &info.relative_path(entry))?;
            let mut created = false;
            if in_use.get(index).copied().unwrap_or(true) {
                layout::prepare_parents(&root, &path)?;
                let existing = layout::existing_file(&path)?;
                created = entry.length == 0 && existing == Existing::Missing;
                if created {
                    create_empty(&path)?;
                }
            }
            files.push(StoredFile {
                path,
                len: entry.length,
                dirty: AtomicBool::new(false),
                created: AtomicBool::new(created),
            });
        }
        Ok(Storage {
            root,
            files,
            file_map,
            lengths,
            cache: Mutex::new(FileCache::new(config.max_open_files)),
            hash_buffer_len: config.hash_buffer_len.max(1),
        })
    }

    /// The canonical download directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The torrent's piece and block lengths.
    pub fn lengths(&self) -> &Lengths {
        &self.lengths
    }

    /// Where each file lies in the torrent's byte stream.
    pub fn file_map(&self) -> &FileMap {
        &self.file_map
    }

    /// The absolute path of file `index` (metainfo order).
    pub fn file_path(&self, index: usize) -> Option<&Path> {
        self.files.get(index).map(|f| f.path.as_path())
    }

    /// Writes one block (any range inside a piece; `data.len()` must equal `block.len`).
    pub fn write_block(&self, block: &BlockRef, data: &[u8]) -> Result<(), StorageError> {
        self.check_block(block, data.len())?;
        let mut rest = data;
        for seg in self.file_map.block_segments(&self.lengths, block) {
            let (chunk, tail) = rest
                .split_at_checked(seg_len(&seg))
                .expect("invariant: a checked block's segments add up to its length");
            let file = self.file(seg.file_index, true)?;
            file.write_all_at(chunk, seg.file_offset)
                .map_err(|e| StorageError::from_io(self.path(seg.file_index), &e))?;
            if let Some(stored) = self.files.get(seg.file_index) {
                stored.dirty.store(true, Ordering::Release);
            }
            rest = tail;
        }
        Ok(())
    }

    /// Reads one block (any range inside a piece), for uploading to a peer.
    pub fn read_block(&self, block: &BlockRef) -> Result<Bytes, StorageError> {
        self.check_block(block, block.len as usize)?;
        let mut buf = vec![0u8; block.len as usize];
        let mut rest = buf.as_mut_slice();
        for seg in self.file_map.block_segments(&self.lengths, block) {
            let (chunk, tail) = rest
                .split_at_mut_checked(seg_len(&seg))
                .expect("invariant: a checked block's segments add up to its length");
            self.read_at(seg.file_index, seg.file_offset, chunk)?;
            rest = tail;
        }
        Ok(Bytes::from(buf))
    }

    /// Reads the piece back in slices of the configured buffer size and returns its SHA-1.
    pub fn hash_piece(&self, piece: PieceIndex) -> Result<[u8; 20], StorageError> {
        self.check_piece(piece)?;
        let piece_len = self.lengths.piece_len(piece) as usize;
        let mut buf = vec![0u8; self.hash_buffer_len.min(piece_len)];
        let mut hasher = Sha1::new();
        for seg in self.file_map.piece_segments(&self.lengths, piece) {
            let mut offset = seg.file_offset;
            let end = seg.file_offset + seg.len;
            while offset < end {
                let n = usize::try_from(end - offset).map_or(buf.len(), |n| n.min(buf.len()));
                let chunk = buf
                    .get_mut(..n)
                    .expect("invariant: n is at most the buffer's length");
                self.read_at(seg.file_index, offset, chunk)?;
                hasher.update(&*chunk);
                offset += n as u64;
            }
        }
        Ok(hasher.finalize().into())
    }

    /// Whether the piece on disk hashes to `expected`.
    pub fn verify_piece(
        &self,
        piece: PieceIndex,
        expected: &[u8; 20],
    ) -> Result<bool, StorageError> {
        Ok(self.hash_piece(piece)? == *expected)
    }

    fn path(&self, index: usize) -> &Path {
        self.files
            .get(index)
            .map_or(self.root.as_path(), |f| f.path.as_path())
    }

    fn check_piece(&self, piece: PieceIndex) -> Result<(), StorageError> {
        match self.lengths.piece(piece.get()) {
            Some(p) if p == piece => Ok(()),
            _ => Err(StorageError::UnknownPiece { piece: piece.get() }),
        }
    }

    /// The block must lie inside a piece of this torrent and `data_len` must be its length.
    fn check_block(&self, block: &BlockRef, data_len: usize) -> Result<(), StorageError> {
        self.check_piece(block.piece)?;
        let end = u64::from(block.offset) + u64::from(block.len);
        let fits = end <= u64::from(self.lengths.piece_len(block.piece));
        if !fits || data_len != block.len as usize {
            return Err(StorageError::BadBlock {
                piece: block.piece.get(),
                offset: block.offset,
                len: block.len,
                data_len,
            });
        }
        Ok(())
    }

    fn read_at(&self, index: usize, offset: u64, buf: &mut [u8]) -> Result<(), StorageError> {
        let file = self.file(index, false)?;
        file.read_exact_at(buf, offset)
            .map_err(|e| StorageError::from_read(self.path(index), offset, buf.len() as u64, &e))
    }

    /// A handle on file `index` from the cache, opening (and for a write, creating and sizing)
    /// it on a miss. The lock is held while opening so two workers never open one file twice;
    /// opens are rare next to block I/O.
    fn file(&self, index: usize, write: bool) -> Result<Arc<File>, StorageError> {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(file) = cache.get(index, write) {
            return Ok(file);
        }
        let stored = self
            .files
            .get(index)
            .expect("invariant: segments only name files of this torrent's map");
        let (file, writable) = open_file(stored, write)?;
        Ok(cache.insert(index, file, writable))
    }
}

/// A segment's length as a slice length; segments are parts of one block or one buffer, so
/// they always fit.
fn seg_len(seg: &FileSegment) -> usize {
    usize::try_from(seg.len).expect("invariant: a segment is no longer than a block")
}

/// Creates an empty file without truncating anything that appeared in between.
fn create_empty(path: &Path) -> Result<(), StorageError> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map(drop)
        .map_err(|e| StorageError::from_io(path, &e))
}

/// Opens a file read-write (creating and sizing it when `write`), or read-only for a read the
/// OS refuses read-write. Returns the handle and whether it is writable.
fn open_file(stored: &StoredFile, write: bool) -> Result<(File, bool), StorageError> {
    let path = &stored.path;
    let io_err = |e: io::Error| StorageError::from_io(path, &e);
    let existing = layout::existing_file(path)?;
    if !write && existing == Existing::Missing {
        return Err(StorageError::NotFound {
            path: path.clone(),
            message: "the file has not been written yet".to_owned(),
        });
    }
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(write).truncate(false);
    if write && existing == Existing::Missing {
        stored.created.store(true, Ordering::Release);
    }
    let file = match options.open(path) {
        Ok(file) => file,
        Err(e) if !write && is_refusal(&e) => {
            let file = File::open(path).map_err(io_err)?;
            return Ok((file, false));
        }
        Err(e) => return Err(io_err(e)),
    };
    if write {
        let len = file.metadata().map_err(io_err)?.len();
        if len < stored.len {
            file.set_len(stored.len).map_err(io_err)?;
        }
    }
    Ok((file, true))
}

/// Errors after which a read-only open may still succeed.
fn is_refusal(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem
    )
}
