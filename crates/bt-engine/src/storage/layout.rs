//! Where a torrent's files go, and the checks made before anything is created there.
//!
//! bt-proto has already checked every name and path component (no `..`, no separators, no
//! absolute paths). As defence in depth this module:
//! - refuses a relative path with any component that is not a plain name, and a joined path
//!   that does not start with the (canonical) download directory;
//! - walks the directories between the download directory and each file one at a time,
//!   refusing any that is a symbolic link (which could lead outside), and creating missing
//!   ones with `create_dir` (never `create_dir_all`, which would follow links);
//! - refuses a file path that is a symbolic link or a FIFO, socket or device.
//!
//! These checks happen at open time and again (for the file itself) whenever a file is
//! opened; a link planted in between by another local process is outside our threat model
//! (that process could write the files directly).

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use super::StorageError;

/// Canonicalises the download directory, which must exist and be a directory.
pub(super) fn canonical_root(download_dir: &Path) -> Result<PathBuf, StorageError> {
    let bad = |message: String| StorageError::BadDownloadDir {
        path: download_dir.to_path_buf(),
        message,
    };
    let root = fs::canonicalize(download_dir).map_err(|e| bad(e.to_string()))?;
    let meta = fs::metadata(&root).map_err(|e| bad(e.to_string()))?;
    if !meta.is_dir() {
        return Err(bad("not a directory".to_owned()));
    }
    Ok(root)
}

/// Joins a torrent-relative path to the root, refusing anything that could leave it.
pub(super) fn resolve(root: &Path, relative: &Path) -> Result<PathBuf, StorageError> {
    let plain = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    let path = root.join(relative);
    if !plain || relative.as_os_str().is_empty() || !path.starts_with(root) || path == root {
        return Err(outside(root, &path));
    }
    Ok(path)
}

/// Makes sure every directory between `root` and `path` (exclusive) exists and is a real
/// directory, creating missing ones. `path` must come from [`resolve`].
pub(super) fn prepare_parents(root: &Path, path: &Path) -> Result<(), StorageError> {
    let Some(parent) = path.parent() else {
        return Ok(());
    };
    let below = parent.strip_prefix(root).map_err(|_| outside(root, path))?;
    let mut dir = root.to_path_buf();
    for component in below.components() {
        dir.push(component);
        ensure_dir(&dir)?;
    }
    Ok(())
}

fn outside(root: &Path, path: &Path) -> StorageError {
    StorageError::OutsideDownloadDir {
        path: path.to_path_buf(),
        dir: root.to_path_buf(),
    }
}

/// One step of [`prepare_parents`]: `dir` exists as a real directory afterwards.
fn ensure_dir(dir: &Path) -> Result<(), StorageError> {
    if check_dir(dir)? {
        return Ok(());
    }
    match fs::create_dir(dir) {
        Ok(()) => Ok(()),
        // Someone else created it in between: check what they created.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match check_dir(dir)? {
            true => Ok(()),
            false => Err(StorageError::from_io(dir, &e)),
        },
        Err(e) => Err(StorageError::from_io(dir, &e)),
    }
}

/// `Ok(true)` if `dir` is a real directory, `Ok(false)` if it does not exist.
fn check_dir(dir: &Path) -> Result<bool, StorageError> {
    match fs::symlink_metadata(dir) {
        Ok(meta) if meta.file_type().is_symlink() => Err(StorageError::SymlinkRefused {
            path: dir.to_path_buf(),
        }),
        Ok(meta) if meta.is_dir() => Ok(true),
        Ok(_) => Err(StorageError::NotADirectory {
            path: dir.to_path_buf(),
            message: "a file exists where a directory is needed".to_owned(),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StorageError::from_io(dir, &e)),
    }
}

/// What sits at a file's path, without following a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Existing {
    /// Nothing.
    Missing,
    /// A regular file of this many bytes.
    File(u64),
    /// A directory; opening it will fail with the OS's own `EISDIR`, which we let through so
    /// the user sees the OS message.
    Directory,
}

/// Looks at a file's path without following links; refuses links and special files.
pub(super) fn existing_file(path: &Path) -> Result<Existing, StorageError> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(StorageError::SymlinkRefused {
            path: path.to_path_buf(),
        }),
        Ok(meta) if meta.is_file() => Ok(Existing::File(meta.len())),
        Ok(meta) if meta.is_dir() => Ok(Existing::Directory),
        Ok(_) => Err(StorageError::NotARegularFile {
            path: path.to_path_buf(),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Existing::Missing),
        Err(e) => Err(StorageError::from_io(path, &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_refuses_escapes() {
        let root = Path::new("/dl");
        let ok = resolve(root, Path::new("n/a/b")).unwrap();
        assert_eq!(ok, Path::new("/dl/n/a/b"));
        for bad in ["../x", "/etc/passwd", "n/../../x", "", "./x"] {
            let err = resolve(root, Path::new(bad));
            assert!(
                matches!(err, Err(StorageError::OutsideDownloadDir { .. })),
                "{bad}: {err:?}"
            );
        }
    }
}
