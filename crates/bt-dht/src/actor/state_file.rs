//! Reading and writing the state file (see [`crate::state`] for its contents).
//!
//! Writes are atomic: the bytes go to `<file>.tmp` beside it, are synced, and the temporary
//! file is renamed over the old one, so a crash leaves either the old table or the new one.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::msg::DhtError;
use crate::state::{MAX_STATE_LEN, SavedState};

/// Reads the saved table; `Ok(None)` if there is no file yet.
pub fn load(path: &Path) -> Result<Option<SavedState>, DhtError> {
    let read_error = |source| DhtError::ReadState {
        path: path.to_owned(),
        source,
    };
    let file = match fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(read_error(error)),
    };
    // One byte over the limit is enough to know it is too big.
    let mut bytes = Vec::new();
    file.take(MAX_STATE_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    SavedState::decode(&bytes)
        .map(Some)
        .map_err(|source| DhtError::InvalidState {
            path: path.to_owned(),
            source,
        })
}

/// Replaces the file at `path` with `bytes`, atomically.
pub fn save(path: &Path, bytes: &[u8]) -> Result<(), DhtError> {
    let temporary = temporary_path(path);
    let write = || -> io::Result<()> {
        let mut file = fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, path)
    };
    write().map_err(|source| {
        let _ = fs::remove_file(&temporary);
        DhtError::WriteState {
            path: path.to_owned(),
            source,
        }
    })
}

/// `<file>.tmp`, in the same directory (so the rename stays on one file system).
fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::NodeId;

    #[test]
    fn save_then_load_gives_the_state_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dht.state");
        assert!(load(&path).unwrap().is_none());
        let state = SavedState {
            id: NodeId([3; 20]),
            nodes: Vec::new(),
        };
        save(&path, &state.encode()).unwrap();
        assert_eq!(load(&path).unwrap(), Some(state));
        assert!(!temporary_path(&path).exists());
    }

    #[test]
    fn a_damaged_or_huge_file_is_an_error_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dht.state");
        fs::write(&path, b"not bencode").unwrap();
        let error = load(&path).unwrap_err();
        assert!(matches!(error, DhtError::InvalidState { .. }));
        assert!(error.to_string().contains("dht.state"));
        fs::write(&path, vec![b'x'; MAX_STATE_LEN + 10]).unwrap();
        assert!(matches!(load(&path), Err(DhtError::InvalidState { .. })));
    }

    #[test]
    fn a_write_into_a_missing_directory_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("dht.state");
        assert!(matches!(
            save(&path, b"d2:id20:aaaaaaaaaaaaaaaaaaaae"),
            Err(DhtError::WriteState { .. })
        ));
    }
}
