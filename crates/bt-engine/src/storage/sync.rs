//! Flushing a torrent's written files to stable storage, so that data verified before a sync
//! survives a crash of the machine, not only of the process.
//!
//! Writes go to the OS page cache; a process crash loses nothing of them, a power cut or a
//! kernel crash can. [`Storage::sync`] calls `fdatasync` (`File::sync_data`: the data and the
//! size, which is what reading it back needs) on every file written since the last sync, and
//! `fsync` on the directories that gained a file we created, so the new names survive too.
//! The disk actor runs it when a torrent completes, pauses, or stops.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use super::{Storage, StorageError};

impl Storage {
    /// Flushes every file written since the last call, and the directories (from the file's
    /// up to the download directory) holding files created since then; returns how many files
    /// were flushed. Blocking: run it on a disk thread. A write that completes while the sync
    /// runs may be left for the next one; everything written before the call is covered.
    pub fn sync(&self) -> Result<usize, StorageError> {
        let mut synced = 0;
        let mut dirs = BTreeSet::new();
        for (index, stored) in self.files.iter().enumerate() {
            if stored.created.swap(false, Ordering::AcqRel) {
                dirs.extend(self.dirs_up_to_root(&stored.path));
            }
            if !stored.dirty.swap(false, Ordering::AcqRel) {
                continue;
            }
            let flushed = self.file(index, true).and_then(|file| {
                file.sync_data()
                    .map_err(|e| StorageError::from_io(&stored.path, &e))
            });
            if let Err(error) = flushed {
                // Still unflushed: the next sync tries again.
                stored.dirty.store(true, Ordering::Release);
                return Err(error);
            }
            synced += 1;
        }
        for dir in dirs {
            File::open(&dir)
                .and_then(|handle| handle.sync_all())
                .map_err(|e| StorageError::from_io(&dir, &e))?;
        }
        Ok(synced)
    }

    /// The directories from `path`'s parent up to the download directory, inclusive.
    fn dirs_up_to_root(&self, path: &std::path::Path) -> Vec<PathBuf> {
        path.ancestors()
            .skip(1)
            .take_while(|dir| dir.starts_with(&self.root))
            .map(PathBuf::from)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use bt_proto::geometry::BlockRef;
    use tempfile::TempDir;

    use super::super::StorageConfig;
    use super::super::test_support::{make_info, payload, write_all};
    use super::*;

    #[test]
    fn only_files_written_since_the_last_sync_are_flushed() {
        let dir = TempDir::new().unwrap();
        let files: &[(&[&str], u64)] =
            &[(&["a"], 40_000), (&["empty"], 0), (&["sub", "b"], 30_000)];
        let data = payload(70_000, 3);
        let info = make_info("t", true, files, 16_384, &data);
        // One open handle at a time: a flushed file may have been evicted from the cache.
        let config = StorageConfig {
            max_open_files: 1,
            ..StorageConfig::default()
        };
        let storage = Storage::open(dir.path(), &info, &config).unwrap();
        assert_eq!(storage.sync().unwrap(), 0, "nothing written yet");
        write_all(&storage, &data);
        assert_eq!(storage.sync().unwrap(), 2, "a and sub/b");
        assert_eq!(storage.sync().unwrap(), 0, "nothing written since");
        // A block inside b only.
        let piece = storage.lengths().piece(4).unwrap();
        let block = BlockRef {
            piece,
            offset: 0,
            len: 4_464,
        };
        let start = storage.lengths().piece_offset(piece) as usize;
        storage
            .write_block(&block, &data[start..start + 4_464])
            .unwrap();
        assert_eq!(storage.sync().unwrap(), 1);
    }

    #[test]
    fn the_directories_of_created_files_are_listed_up_to_the_root() {
        let dir = TempDir::new().unwrap();
        let data = payload(10, 1);
        let info = make_info("t", true, &[(&["x", "y", "f"], 10)], 16_384, &data);
        let storage = Storage::open(dir.path(), &info, &StorageConfig::default()).unwrap();
        let root = storage.root().to_path_buf();
        let dirs = storage.dirs_up_to_root(&root.join("t/x/y/f"));
        assert_eq!(
            dirs,
            [
                root.join("t/x/y"),
                root.join("t/x"),
                root.join("t"),
                root.clone()
            ]
        );
    }
}
