//! [`MetadataFetch`]: which peer to ask for which piece of a magnet link's metadata (BEP 9),
//! and what becomes of what they send; a plain struct, without I/O or clocks, that the
//! metadata fetcher actor drives.
//!
//! # Rules
//! - A peer becomes a source once its extension handshake says it serves `ut_metadata` and
//!   gives a `metadata_size`. A size of zero or over the limit (30 MiB by default,
//!   libtorrent's) is refused: the caller strikes the peer.
//! - The first source's size starts the [`MetadataAssembler`]; only sources of that size are
//!   asked while it lasts.
//! - All requests go to one source at a time (up to [`FetchConfig::max_outstanding`] pieces),
//!   and the pieces being assembled all come from it: when another source takes over (the
//!   first rejected, timed out or left), what the first sent is dropped. Metadata is small,
//!   and so metadata failing the info-hash is always pinned on the one peer that sent it,
//!   never on an honest peer whose pieces were mixed with a liar's. A peer that rejected or
//!   timed out rests for the request timeout before it is asked again.
//! - Data we did not ask that peer for is ignored. A piece of the wrong length or a
//!   `total_size` that differs from the size being assembled strikes its sender.
//! - When the last piece arrives the metadata is hashed: a match ends the fetch; a mismatch
//!   strikes the source that supplied it, drops the pieces and starts over from the
//!   remaining sources (the next one's size).

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bt_proto::InfoHash;
use bt_proto::ext::{MetadataAssembler, MetadataError, Progress};
use bytes::Bytes;

use crate::choker::PeerKey;

/// Limits of a metadata fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchConfig {
    /// The largest `metadata_size` accepted (capped at 30 MiB whatever this says).
    pub max_metadata_size: u64,
    /// How long a piece request may go unanswered before another source is asked.
    pub request_timeout: Duration,
    /// Pieces requested from the source at once.
    pub max_outstanding: usize,
}

impl Default for FetchConfig {
    fn default() -> Self {
        Self {
            max_metadata_size: bt_proto::ext::DEFAULT_MAX_METADATA_SIZE,
            request_timeout: Duration::from_secs(10),
            max_outstanding: 16,
        }
    }
}

/// Why a peer is struck: it must be disconnected and not used again for this torrent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strike {
    /// Its `metadata_size`, or a piece it sent, cannot be right.
    Bad(MetadataError),
    /// Metadata it helped supply failed the info-hash check.
    HashMismatch,
}

/// What a piece of metadata came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PieceOutcome {
    /// Nothing to do but ask for more.
    Continue,
    /// The metadata is complete and hashes to the info-hash.
    Verified(Vec<u8>),
    /// These peers must be disconnected and banned.
    Struck(Vec<(PeerKey, Strike)>),
}

/// A peer that can serve the metadata.
#[derive(Debug, Clone, Copy)]
struct Source {
    size: u64,
    /// Not asked before this (it rejected or timed out).
    resting_until: Option<Instant>,
}

/// The metadata fetch of one torrent; see the module docs.
#[derive(Debug)]
pub struct MetadataFetch {
    info_hash: InfoHash,
    config: FetchConfig,
    assembler: Option<MetadataAssembler<PeerKey>>,
    /// The source every piece in the assembler came from (or is asked of).
    supplier: Option<PeerKey>,
    sources: BTreeMap<PeerKey, Source>,
    /// Requested pieces: from whom, since when.
    outstanding: BTreeMap<u32, (PeerKey, Instant)>,
}

impl MetadataFetch {
    /// A fetch of the metadata that hashes to `info_hash`.
    pub fn new(info_hash: InfoHash, config: FetchConfig) -> Self {
        Self {
            info_hash,
            config,
            assembler: None,
            supplier: None,
            sources: BTreeMap::new(),
            outstanding: BTreeMap::new(),
        }
    }

    /// The metadata size being assembled, once a source gave one.
    pub fn size(&self) -> Option<u64> {
        self.assembler.as_ref().map(MetadataAssembler::size)
    }

    /// Pieces received of the metadata being assembled, and how many it has.
    pub fn progress(&self) -> (u32, u32) {
        self.assembler
            .as_ref()
            .map_or((0, 0), |a| (a.received(), a.piece_count()))
    }

    /// Whether `key` is a source.
    pub fn is_source(&self, key: PeerKey) -> bool {
        self.sources.contains_key(&key)
    }

    /// A peer's extension handshake: whether it serves `ut_metadata`, and the size it gave.
    /// Returns whether it is a source now; an error means the size is refused and the peer
    /// is to be struck.
    pub fn peer_ready(
        &mut self,
        key: PeerKey,
        serves: bool,
        metadata_size: Option<u64>,
    ) -> Result<bool, MetadataError> {
        let Some(size) = metadata_size.filter(|_| serves) else {
            return Ok(false);
        };
        if size == 0 {
            return Err(MetadataError::Empty);
        }
        let max = self
            .config
            .max_metadata_size
            .min(bt_proto::ext::DEFAULT_MAX_METADATA_SIZE);
        if size > max {
            return Err(MetadataError::TooLarge { size, max });
        }
        self.sources.insert(
            key,
            Source {
                size,
                resting_until: None,
            },
        );
        Ok(true)
    }

    /// The connection ended: its requests are freed, and the pieces it supplied dropped.
    pub fn peer_left(&mut self, key: PeerKey) {
        self.sources.remove(&key);
        self.outstanding.retain(|_, (who, _)| *who != key);
        if self.supplier == Some(key) {
            self.supplier = None;
            self.assembler = None;
        }
    }

    /// The requests to send now, as `(peer, piece)`.
    pub fn requests(&mut self, now: Instant) -> Vec<(PeerKey, u32)> {
        let Some(source) = self.pick_source(now) else {
            return Vec::new();
        };
        let size = self.sources.get(&source).map(|s| s.size);
        if self.supplier != Some(source) {
            // A new source: nothing another peer sent is mixed with what this one sends.
            self.assembler = None;
            self.supplier = Some(source);
        }
        if self.assembler.is_none() {
            let Some(size) = size else {
                return Vec::new();
            };
            match MetadataAssembler::new(self.info_hash, size, self.config.max_metadata_size) {
                Ok(assembler) => self.assembler = Some(assembler),
                // Checked in `peer_ready`; drop the source should it ever happen.
                Err(_) => {
                    self.sources.remove(&source);
                    return Vec::new();
                }
            }
        }
        let Some(assembler) = &self.assembler else {
            return Vec::new();
        };
        let room = self
            .config
            .max_outstanding
            .saturating_sub(self.outstanding.len());
        let wanted: Vec<u32> = assembler
            .missing()
            .filter(|piece| !self.outstanding.contains_key(piece))
            .take(room)
            .collect();
        for piece in &wanted {
            self.outstanding.insert(*piece, (source, now));
        }
        wanted.into_iter().map(|piece| (source, piece)).collect()
    }

    /// The peer to ask: the one already asked, else the supplier of the pieces held if it is
    /// not resting, else the first source that is not resting (which starts over).
    fn pick_source(&self, now: Instant) -> Option<PeerKey> {
        if let Some((who, _)) = self.outstanding.values().next() {
            return Some(*who);
        }
        let ready = |s: &Source| s.resting_until.is_none_or(|until| until <= now);
        if let Some(supplier) = self.supplier
            && self.sources.get(&supplier).is_some_and(ready)
        {
            return Some(supplier);
        }
        self.sources
            .iter()
            .find(|(_, s)| ready(s))
            .map(|(key, _)| *key)
    }

    /// A data message from `key`.
    pub fn piece(
        &mut self,
        key: PeerKey,
        piece: u32,
        total_size: u64,
        data: Bytes,
    ) -> PieceOutcome {
        if self
            .outstanding
            .get(&piece)
            .is_none_or(|(who, _)| *who != key)
        {
            return PieceOutcome::Continue; // Not asked of it: ignored.
        }
        self.outstanding.remove(&piece);
        let Some(assembler) = &mut self.assembler else {
            return PieceOutcome::Continue;
        };
        match assembler.add(piece, total_size, data, key) {
            Ok(Progress::Incomplete | Progress::Duplicate) => PieceOutcome::Continue,
            Ok(Progress::Verified(metadata)) => {
                self.assembler = None;
                self.outstanding.clear();
                PieceOutcome::Verified(metadata)
            }
            Ok(Progress::HashMismatch { suppliers }) => {
                self.assembler = None;
                for supplier in &suppliers {
                    self.peer_left(*supplier);
                }
                PieceOutcome::Struck(
                    suppliers
                        .into_iter()
                        .map(|peer| (peer, Strike::HashMismatch))
                        .collect(),
                )
            }
            Err(error) => {
                self.peer_left(key);
                PieceOutcome::Struck(vec![(key, Strike::Bad(error))])
            }
        }
    }

    /// The peer will not send `piece`: it is freed, and the peer rests.
    pub fn rejected(&mut self, key: PeerKey, piece: u32, now: Instant) {
        if self
            .outstanding
            .get(&piece)
            .is_some_and(|(who, _)| *who == key)
        {
            self.outstanding.remove(&piece);
        }
        self.rest(key, now);
    }

    /// Frees requests older than the request timeout; their peers rest. Returns those peers.
    pub fn timed_out(&mut self, now: Instant) -> Vec<PeerKey> {
        let timeout = self.config.request_timeout;
        let late: Vec<(u32, PeerKey)> = self
            .outstanding
            .iter()
            .filter(|(_, (_, at))| now.saturating_duration_since(*at) >= timeout)
            .map(|(piece, (who, _))| (*piece, *who))
            .collect();
        let mut peers = Vec::new();
        for (piece, who) in late {
            self.outstanding.remove(&piece);
            if !peers.contains(&who) {
                peers.push(who);
            }
        }
        for who in &peers {
            self.rest(*who, now);
        }
        peers
    }

    /// Takes every request away from `key` and lets it rest for the request timeout.
    fn rest(&mut self, key: PeerKey, now: Instant) {
        self.outstanding.retain(|_, (who, _)| *who != key);
        if let Some(source) = self.sources.get_mut(&key) {
            source.resting_until = Some(now + self.config.request_timeout);
        }
    }
}
