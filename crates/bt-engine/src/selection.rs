//! [`FileSelection`]: which files of a torrent to download, and what that means for its pieces
//! and its files on disk.
//!
//! A piece is *wanted* when it holds bytes of a wanted file; the picker fetches only wanted
//! pieces, and the download is complete once every wanted piece is verified. A piece at the
//! border of a wanted file usually holds bytes of its unwanted neighbour too, so that neighbour
//! is *in use*: its bytes in the shared pieces are written (a piece is hashed whole), and the
//! storage prepares its folder. A file neither wanted nor sharing a wanted piece is never
//! created.

use bt_proto::bitfield::Bitfield;
use bt_proto::geometry::{FileMap, Lengths};
use bt_proto::metainfo::Info;

use crate::EngineError;

/// The wanted pieces and files of one torrent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSelection {
    wanted_pieces: Bitfield,
    files_in_use: Vec<bool>,
    wanted_len: u64,
    everything: bool,
}

impl FileSelection {
    /// Every file, hence every piece.
    pub fn everything(info: &Info, lengths: &Lengths) -> Self {
        Self {
            wanted_pieces: Bitfield::full(lengths.piece_count() as usize),
            files_in_use: vec![true; info.files.len()],
            wanted_len: lengths.total_len(),
            everything: true,
        }
    }

    /// The files with these indices (metainfo order, as `bt info` lists them), or every file
    /// for `None`. Fails on an index past the last file, or on an empty list.
    pub fn new(
        info: &Info,
        lengths: &Lengths,
        files: Option<&[usize]>,
    ) -> Result<Self, EngineError> {
        let Some(files) = files else {
            return Ok(Self::everything(info, lengths));
        };
        let count = info.files.len();
        if files.is_empty() {
            return Err(EngineError::FileSelection("no file selected".to_owned()));
        }
        let lens: Vec<u64> = info.files.iter().map(|f| f.length).collect();
        let map = FileMap::new(&lens)?;
        let mut wanted_files = vec![false; count];
        let mut wanted_pieces = Bitfield::new(lengths.piece_count() as usize);
        for &index in files {
            let pieces = map.file_pieces(lengths, index).ok_or_else(|| {
                EngineError::FileSelection(format!(
                    "no file {index}: the torrent has {count} (numbered from 0)"
                ))
            })?;
            wanted_files[index] = true;
            for piece in pieces {
                let _ = wanted_pieces.set(piece as usize);
            }
        }
        let files_in_use = (0..count)
            .map(|index| {
                wanted_files[index]
                    || map
                        .file_pieces(lengths, index)
                        .is_some_and(|mut pieces| pieces.any(|p| wanted_pieces.has(p as usize)))
            })
            .collect();
        let wanted_len = lengths
            .pieces()
            .filter(|p| wanted_pieces.has(p.as_usize()))
            .map(|p| u64::from(lengths.piece_len(p)))
            .sum();
        Ok(Self {
            everything: wanted_pieces.is_complete(),
            wanted_pieces,
            files_in_use,
            wanted_len,
        })
    }

    /// The pieces to download.
    pub fn wanted_pieces(&self) -> &Bitfield {
        &self.wanted_pieces
    }

    /// Whether every piece is wanted.
    pub fn is_everything(&self) -> bool {
        self.everything
    }

    /// Per file (metainfo order): whether the storage may create and write it.
    pub fn files_in_use(&self) -> &[bool] {
        &self.files_in_use
    }

    /// Bytes of the wanted pieces.
    pub fn wanted_len(&self) -> u64 {
        self.wanted_len
    }

    /// Whether `have` holds every wanted piece.
    pub fn is_complete(&self, have: &Bitfield) -> bool {
        self.wanted_pieces.iter_ones().all(|piece| have.has(piece))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bt_proto::metainfo::FileEntry;

    /// Files of 20 000, 1 001, 50 000, 0 and 7 bytes in 16 KiB pieces (the harness's tree):
    /// piece 0 is a.bin's; piece 1 holds a.bin's tail, all of c.bin and e.bin's head; pieces
    /// 2-3 are e.bin's; piece 4 holds e.bin's tail and z.txt.
    fn tree() -> (Info, Lengths) {
        let file = |name: &str, length| FileEntry {
            path: vec![name.to_owned()],
            length,
        };
        let info = Info {
            name: "tree".to_owned(),
            piece_length: 16_384,
            pieces: vec![[0; 20]; 5],
            private: false,
            multi_file: true,
            files: vec![
                file("a.bin", 20_000),
                file("c.bin", 1_001),
                file("e.bin", 50_000),
                file("empty", 0),
                file("z.txt", 7),
            ],
        };
        let lengths = Lengths::new(71_008, 16_384).unwrap();
        (info, lengths)
    }

    fn ones(bits: &Bitfield) -> Vec<usize> {
        bits.iter_ones().collect()
    }

    #[test]
    fn a_file_wants_its_pieces_and_uses_the_neighbours_it_shares_them_with() {
        let (info, lengths) = tree();
        let only_c = FileSelection::new(&info, &lengths, Some(&[1])).unwrap();
        assert_eq!(ones(only_c.wanted_pieces()), [1]);
        assert_eq!(only_c.files_in_use(), [true, true, true, false, false]);
        assert_eq!(only_c.wanted_len(), 16_384);
        assert!(!only_c.is_everything());

        let only_z = FileSelection::new(&info, &lengths, Some(&[4])).unwrap();
        assert_eq!(ones(only_z.wanted_pieces()), [4]);
        assert_eq!(only_z.files_in_use(), [false, false, true, false, true]);
        assert_eq!(only_z.wanted_len(), 71_008 - 4 * 16_384);
    }

    #[test]
    fn an_empty_file_wants_no_piece_but_is_in_use() {
        let (info, lengths) = tree();
        let empty = FileSelection::new(&info, &lengths, Some(&[3])).unwrap();
        assert!(empty.wanted_pieces().none());
        assert_eq!(empty.files_in_use(), [false, false, false, true, false]);
        assert!(empty.is_complete(&Bitfield::new(5)));
    }

    #[test]
    fn completion_needs_only_the_wanted_pieces() {
        let (info, lengths) = tree();
        let first = FileSelection::new(&info, &lengths, Some(&[0])).unwrap();
        let mut have = Bitfield::new(5);
        have.set(0).unwrap();
        assert!(!first.is_complete(&have));
        have.set(1).unwrap();
        assert!(first.is_complete(&have));
        let all = FileSelection::new(&info, &lengths, None).unwrap();
        assert!(all.is_everything() && !all.is_complete(&have));
        let named = FileSelection::new(&info, &lengths, Some(&[0, 1, 2, 3, 4])).unwrap();
        assert!(named.is_everything());
    }

    #[test]
    fn unknown_indices_and_empty_lists_are_refused() {
        let (info, lengths) = tree();
        let error = FileSelection::new(&info, &lengths, Some(&[5])).unwrap_err();
        assert!(
            error.to_string().contains("no file 5: the torrent has 5"),
            "{error}"
        );
        assert!(FileSelection::new(&info, &lengths, Some(&[])).is_err());
    }
}
