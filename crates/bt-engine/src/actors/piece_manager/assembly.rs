//! [`Assembly`]: where the received blocks of each piece in flight wait until the piece is
//! complete, and how the piece then reaches the disk.
//!
//! A piece is *buffered* when its first block arrives and the buffer limit has room for the
//! whole piece: its blocks wait in memory as the `Bytes` the connection read them into (never
//! copied), and once the piece is complete they go to the disk pool together, which hashes
//! them from memory and writes the piece only if it matches. So a piece costs one hand-off to
//! a disk thread instead of one per block, it is never read back to be hashed, and a piece
//! that fails its hash never touches the disk.
//!
//! A piece that finds the limit full is *written through*: each block goes to disk as it
//! arrives and the piece is hashed by reading it back once its last write is done. The limit
//! thus bounds memory whatever the piece length, and pieces left partial by departed peers
//! cannot hold more than it. What is on its way to disk (pieces to store, blocks to write) is
//! capped too ([`Assembly::is_backlogged`]): beyond the backlog (`disk_backlog`, 8 MiB by
//! default, or two pieces) the piece manager
//! hands out no more blocks, and the connections stop reading from their sockets (see
//! [`DiskBacklog`](super::DiskBacklog), which counts the same bytes with the blocks not
//! handled yet), so the blocks already requested wait in the kernel instead of piling up
//! here. A slow disk slows the peers, and memory holds no more than the pieces being
//! received plus that much.
//!
//! Plain bookkeeping: no actor, no I/O. The picker decides which blocks are new; this only
//! keeps them, so the two agree as long as every block the picker calls new comes here.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use bt_proto::geometry::{BlockRef, Lengths, PieceIndex};
use bytes::Bytes;

/// The default `disk_backlog`: bytes on their way to disk (pieces to store, blocks to write)
/// from which no more blocks are handed out, enough that the disk always has the next piece
/// and rides out its stalls (measured: at 8 MiB no slower than without a cap, and half the
/// memory; with the connections stopping to read, 4 MiB about 5% slower, 2 MiB a fifth).
pub const DEFAULT_DISK_BACKLOG: u64 = 8 << 20;

/// The backlog of a torrent of `lengths` given the setting `disk_backlog`: at least two
/// pieces, so a piece can be received while the one before is written.
pub(super) fn backlog_limit(lengths: &Lengths, disk_backlog: u64) -> u64 {
    disk_backlog.max(2 * u64::from(lengths.default_piece_len()))
}

/// What to do with a block the picker accepted.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Placed {
    /// Kept in memory with the rest of its piece.
    Buffered,
    /// Write it to disk now, then report it with [`Assembly::written`].
    Write(BlockRef, Bytes),
}

/// What to do next with a piece, once its every block has arrived.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// Hash these blocks (the whole piece, in order) and write them if they match; then
    /// call [`Assembly::stored`].
    Store(Vec<Bytes>),
    /// Every block is on disk: hash the piece there.
    Verify,
    /// Nothing yet: writes are still on their way, or blocks are still to come.
    Wait,
    /// One of its writes failed (a disk error, already reported): there is nothing sound to
    /// hash, and the piece is left as it is.
    Abandon,
}

/// One piece in flight with at least one block received.
#[derive(Debug)]
enum Piece {
    /// Its blocks by index in the piece's grid.
    Buffered(Vec<Option<Bytes>>),
    /// Blocks written block by block.
    WriteThrough {
        /// Writes sent and not yet done.
        pending: u32,
        /// Every block has arrived.
        complete: bool,
        /// A write failed.
        failed: bool,
    },
}

/// The blocks of the pieces in flight; see the module docs.
#[derive(Debug)]
pub(super) struct Assembly {
    lengths: Lengths,
    /// Bytes that buffered pieces may reserve.
    limit: u64,
    /// Bytes reserved: a whole piece from its first block until it is stored.
    reserved: u64,
    pieces: HashMap<PieceIndex, Piece>,
    /// Bytes handed to the disk and not yet stored or written.
    to_disk: u64,
    /// `to_disk` from which the disk is behind.
    backlog: u64,
}

impl Assembly {
    /// An empty assembly for a torrent of `lengths`, buffering at most `limit` bytes of pieces,
    /// behind from `backlog` bytes on their way to disk.
    pub(super) fn new(lengths: Lengths, limit: u64, backlog: u64) -> Self {
        Self {
            lengths,
            limit,
            reserved: 0,
            pieces: HashMap::new(),
            to_disk: 0,
            backlog,
        }
    }

    /// Takes a block the picker called new.
    pub(super) fn place(&mut self, block: BlockRef, data: Bytes) -> Placed {
        let piece = match self.pieces.entry(block.piece) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                let piece_len = u64::from(self.lengths.piece_len(block.piece));
                if self.reserved + piece_len <= self.limit {
                    self.reserved += piece_len;
                    let count = self.lengths.block_count(block.piece) as usize;
                    entry.insert(Piece::Buffered(vec![None; count]))
                } else {
                    entry.insert(Piece::WriteThrough {
                        pending: 0,
                        complete: false,
                        failed: false,
                    })
                }
            }
        };
        match piece {
            Piece::Buffered(blocks) => {
                let index = self.lengths.block_index(&block);
                if let Some(slot) = index.and_then(|i| blocks.get_mut(i as usize)) {
                    *slot = Some(data);
                    return Placed::Buffered;
                }
                // Off the grid (the picker accepts only grid blocks): written where it says.
                self.to_disk += u64::from(block.len);
                Placed::Write(block, data)
            }
            Piece::WriteThrough { pending, .. } => {
                *pending += 1;
                self.to_disk += u64::from(block.len);
                Placed::Write(block, data)
            }
        }
    }

    /// The picker says every block of `piece` has arrived.
    pub(super) fn complete(&mut self, piece: PieceIndex) -> Next {
        match self.pieces.get_mut(&piece) {
            Some(Piece::WriteThrough {
                pending, complete, ..
            }) if *pending > 0 => {
                *complete = true;
                Next::Wait
            }
            Some(Piece::WriteThrough { failed, .. }) => {
                let failed = *failed;
                self.pieces.remove(&piece);
                if failed { Next::Abandon } else { Next::Verify }
            }
            Some(Piece::Buffered(blocks)) => {
                let blocks = std::mem::take(blocks);
                self.pieces.remove(&piece);
                match blocks.into_iter().collect::<Option<Vec<Bytes>>>() {
                    Some(blocks) => {
                        self.to_disk += u64::from(self.lengths.piece_len(piece));
                        Next::Store(blocks)
                    }
                    // Cannot happen while the picker and the assembly agree; the missing
                    // blocks are not on disk either, so the hash fails and the piece is
                    // fetched again.
                    None => {
                        self.release(piece);
                        Next::Verify
                    }
                }
            }
            // Cannot happen (no block of it came here): hash what is on disk.
            None => Next::Verify,
        }
    }

    /// A buffered piece handed over with [`Next::Store`] is done with (stored, failed, or
    /// lost to a disk error): its reservation is free again, and it is off the disk's way.
    pub(super) fn stored(&mut self, piece: PieceIndex) {
        let piece_len = u64::from(self.lengths.piece_len(piece));
        self.to_disk = self.to_disk.saturating_sub(piece_len);
        self.release(piece);
    }

    /// Frees a buffered piece's reservation.
    fn release(&mut self, piece: PieceIndex) {
        let piece_len = u64::from(self.lengths.piece_len(piece));
        self.reserved = self.reserved.saturating_sub(piece_len);
    }

    /// A write-through write is done (`ok`) or failed: [`Next::Verify`] or [`Next::Abandon`]
    /// if it was the last one of a complete piece, else [`Next::Wait`].
    pub(super) fn written(&mut self, block: &BlockRef, ok: bool) -> Next {
        self.to_disk = self.to_disk.saturating_sub(u64::from(block.len));
        let Some(Piece::WriteThrough {
            pending,
            complete,
            failed,
        }) = self.pieces.get_mut(&block.piece)
        else {
            return Next::Wait;
        };
        *pending = pending.saturating_sub(1);
        *failed |= !ok;
        if *pending > 0 || !*complete {
            return Next::Wait;
        }
        let failed = *failed;
        self.pieces.remove(&block.piece);
        if failed { Next::Abandon } else { Next::Verify }
    }

    /// The backlog (or more) is on its way to disk: hand out no
    /// more blocks.
    pub(super) fn is_backlogged(&self) -> bool {
        self.to_disk >= self.backlog
    }

    /// Bytes on their way to disk: pieces handed over with [`Next::Store`] and blocks with
    /// [`Placed::Write`], until they are [`stored`](Self::stored) or
    /// [`written`](Self::written).
    pub(super) fn to_disk(&self) -> u64 {
        self.to_disk
    }

    /// Bytes reserved by buffered pieces.
    #[cfg(test)]
    pub(super) fn reserved(&self) -> u64 {
        self.reserved
    }
}

#[cfg(test)]
mod tests {
    use bt_proto::geometry::BLOCK_LEN;

    use super::*;

    /// 4 pieces of 2 blocks, the last piece one short block.
    fn lengths() -> Lengths {
        Lengths::new(3 * 32_768 + 1_000, 32_768).unwrap()
    }

    fn block(lengths: &Lengths, piece: u32, index: u32) -> BlockRef {
        lengths.block(lengths.piece(piece).unwrap(), index).unwrap()
    }

    fn data(block: &BlockRef) -> Bytes {
        Bytes::from(vec![
            block.offset as u8 + block.piece.get() as u8;
            block.len as usize
        ])
    }

    #[test]
    fn a_buffered_piece_comes_out_whole_and_in_order() {
        let l = lengths();
        let mut assembly = Assembly::new(l, 1 << 20, backlog_limit(&l, DEFAULT_DISK_BACKLOG));
        let (first, second) = (block(&l, 1, 0), block(&l, 1, 1));
        assert_eq!(assembly.place(second, data(&second)), Placed::Buffered);
        assert_eq!(
            assembly.reserved(),
            32_768,
            "the whole piece, from its first block"
        );
        assert_eq!(assembly.place(first, data(&first)), Placed::Buffered);
        assert_eq!(assembly.reserved(), 32_768);
        let piece = l.piece(1).unwrap();
        assert_eq!(
            assembly.complete(piece),
            Next::Store(vec![data(&first), data(&second)])
        );
        assert_eq!(assembly.reserved(), 32_768, "held until stored");
        assembly.stored(piece);
        assert_eq!(assembly.reserved(), 0);
    }

    #[test]
    fn pieces_beyond_the_limit_are_written_through_and_verified_after_their_last_write() {
        let l = lengths();
        // Room for one piece (not even for the short last one besides).
        let mut assembly = Assembly::new(l, 33_000, backlog_limit(&l, DEFAULT_DISK_BACKLOG));
        let a = block(&l, 0, 0);
        assert_eq!(assembly.place(a, data(&a)), Placed::Buffered);
        let (b0, b1) = (block(&l, 2, 0), block(&l, 2, 1));
        assert_eq!(assembly.place(b0, data(&b0)), Placed::Write(b0, data(&b0)));
        assert_eq!(assembly.place(b1, data(&b1)), Placed::Write(b1, data(&b1)));
        assert_eq!(assembly.written(&b0, true), Next::Wait);
        let piece = l.piece(2).unwrap();
        assert_eq!(
            assembly.complete(piece),
            Next::Wait,
            "a write is on its way"
        );
        assert_eq!(assembly.written(&b1, true), Next::Verify);
        // A piece whose writes were all done before it completed is verified at once.
        let (c0, c1) = (block(&l, 3, 0), block(&l, 1, 0));
        assert!(matches!(assembly.place(c0, data(&c0)), Placed::Write(..)));
        assert_eq!(assembly.written(&c0, true), Next::Wait);
        assert_eq!(assembly.complete(l.piece(3).unwrap()), Next::Verify);
        assert!(matches!(assembly.place(c1, data(&c1)), Placed::Write(..)));
    }

    #[test]
    fn a_failed_write_abandons_its_piece() {
        let l = lengths();
        let mut assembly = Assembly::new(l, 0, backlog_limit(&l, DEFAULT_DISK_BACKLOG));
        let (b0, b1) = (block(&l, 0, 0), block(&l, 0, 1));
        assembly.place(b0, data(&b0));
        assembly.place(b1, data(&b1));
        assert_eq!(assembly.written(&b0, false), Next::Wait);
        assert_eq!(assembly.complete(l.piece(0).unwrap()), Next::Wait);
        assert_eq!(assembly.written(&b1, true), Next::Abandon);
    }

    #[test]
    fn what_is_on_its_way_to_disk_caps_the_work_handed_out() {
        // Write-through blocks.
        let l = Lengths::new(2 * DEFAULT_DISK_BACKLOG, 1 << 20).unwrap();
        let mut assembly = Assembly::new(l, 0, backlog_limit(&l, DEFAULT_DISK_BACKLOG));
        let count = (DEFAULT_DISK_BACKLOG / u64::from(BLOCK_LEN)) as usize;
        let blocks: Vec<BlockRef> = l.pieces().flat_map(|p| l.blocks(p)).take(count).collect();
        for block in &blocks {
            assert!(!assembly.is_backlogged());
            assembly.place(*block, Bytes::new());
        }
        assert!(assembly.is_backlogged());
        assembly.written(&blocks[0], true);
        assert!(!assembly.is_backlogged());
        // Pieces to store, from the moment they are handed over until they are stored.
        let piece_len = DEFAULT_DISK_BACKLOG / 2;
        let l = Lengths::new(piece_len * 3, piece_len as u32).unwrap();
        let mut assembly = Assembly::new(l, 1 << 30, backlog_limit(&l, DEFAULT_DISK_BACKLOG));
        for index in 0..2 {
            let piece = l.piece(index).unwrap();
            for block in l.blocks(piece) {
                assembly.place(block, Bytes::new());
            }
            assert!(
                !assembly.is_backlogged(),
                "kept in memory, not on its way yet"
            );
            assert!(matches!(assembly.complete(piece), Next::Store(_)));
        }
        assert!(assembly.is_backlogged());
        assembly.stored(l.piece(0).unwrap());
        assert!(!assembly.is_backlogged());
        // Pieces longer than half the backlog: two of them.
        let l = Lengths::new(DEFAULT_DISK_BACKLOG * 3, DEFAULT_DISK_BACKLOG as u32).unwrap();
        let mut assembly = Assembly::new(l, 1 << 30, backlog_limit(&l, DEFAULT_DISK_BACKLOG));
        let first = l.piece(0).unwrap();
        for block in l.blocks(first) {
            assembly.place(block, Bytes::new());
        }
        assert!(matches!(assembly.complete(first), Next::Store(_)));
        assert!(!assembly.is_backlogged(), "room for a second piece");
    }

    #[test]
    fn the_limit_is_freed_for_the_next_piece_once_one_is_stored() {
        let l = lengths();
        let mut assembly = Assembly::new(l, 32_768, backlog_limit(&l, DEFAULT_DISK_BACKLOG));
        let (a, b) = (block(&l, 0, 0), block(&l, 1, 0));
        assert_eq!(assembly.place(a, data(&a)), Placed::Buffered);
        assert!(matches!(assembly.place(b, data(&b)), Placed::Write(..)));
        let a1 = block(&l, 0, 1);
        assembly.place(a1, data(&a1));
        assert!(matches!(
            assembly.complete(l.piece(0).unwrap()),
            Next::Store(_)
        ));
        assembly.stored(l.piece(0).unwrap());
        let c = block(&l, 2, 0);
        assert_eq!(assembly.place(c, data(&c)), Placed::Buffered);
    }
}
