//! A bounded cache of open file handles, least recently used out first.
//!
//! A torrent can hold tens of thousands of files, more than a process may keep open, while
//! opening a file for every 16 KiB block would cost a path walk per block. The cache keeps at
//! most `max_open` handles; each is an `Arc<File>` so that a worker can do its positional I/O
//! after releasing the cache's lock, and an evicted handle stays valid until the last worker
//! using it finishes (the file is closed when the last `Arc` drops).
//!
//! A handle remembers whether it was opened for writing: data being seeded may be read-only to
//! us, so reads fall back to a read-only handle, and a later write reopens the file read-write
//! (and fails then, with the OS's reason).

use std::collections::HashMap;
use std::fs::File;
use std::sync::Arc;

/// One cached handle.
#[derive(Debug)]
struct Entry {
    file: Arc<File>,
    writable: bool,
    /// The cache's clock when this entry was last handed out; the smallest is evicted.
    last_used: u64,
}

/// The cache proper; [`super::Storage`] keeps it behind a `Mutex`.
#[derive(Debug)]
pub(super) struct FileCache {
    max_open: usize,
    entries: HashMap<usize, Entry>,
    /// A use counter standing in for time, so eviction needs no clock.
    clock: u64,
}

impl FileCache {
    /// An empty cache holding at most `max_open` handles (at least one).
    pub(super) fn new(max_open: usize) -> FileCache {
        FileCache {
            max_open: max_open.max(1),
            entries: HashMap::new(),
            clock: 0,
        }
    }

    /// The cached handle of file `index`, if there is one good enough for the access wanted.
    pub(super) fn get(&mut self, index: usize, write: bool) -> Option<Arc<File>> {
        self.clock += 1;
        let entry = self.entries.get_mut(&index)?;
        if write && !entry.writable {
            return None;
        }
        entry.last_used = self.clock;
        Some(Arc::clone(&entry.file))
    }

    /// Caches a freshly opened handle (replacing a read-only one), evicting the least recently
    /// used entry if the cache is full, and returns it.
    pub(super) fn insert(&mut self, index: usize, file: File, writable: bool) -> Arc<File> {
        self.clock += 1;
        if !self.entries.contains_key(&index) && self.entries.len() >= self.max_open {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, entry)| entry.last_used)
                .map(|(&i, _)| i);
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        let file = Arc::new(file);
        self.entries.insert(
            index,
            Entry {
                file: Arc::clone(&file),
                writable,
                last_used: self.clock,
            },
        );
        file
    }

    /// The number of handles held.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> File {
        tempfile::tempfile().unwrap()
    }

    #[test]
    fn evicts_least_recently_used_and_upgrades_to_writable() {
        let mut cache = FileCache::new(2);
        cache.insert(0, file(), true);
        cache.insert(1, file(), false);
        assert!(cache.get(0, true).is_some());
        // 1 is read-only: no good for a write, fine for a read.
        assert!(cache.get(1, true).is_none());
        assert!(cache.get(1, false).is_some());
        cache.insert(2, file(), true); // evicts 0, used before 1
        assert_eq!(cache.len(), 2);
        assert!(cache.get(0, false).is_none());
        cache.insert(1, file(), true); // replaces, no eviction
        assert_eq!(cache.len(), 2);
        assert!(cache.get(1, true).is_some());
        assert!(cache.get(2, true).is_some());
    }
}
