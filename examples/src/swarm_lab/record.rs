//! [`Recorder`]: what one run measures, fed events and samples by the run, read by the report.
//!
//! - Per peer: its class, when it started and completed (from its `PieceVerified` events),
//!   when it had 90 % of the pieces (the start of its "last pieces" phase), its final upload
//!   and download totals, and whom its bytes came from, by class.
//! - Over time, among the *sharers* (the contributing leechers still in the swarm; the
//!   seeder's copy is not counted, nor a free rider's, which serves nobody): the copies of
//!   the rarest piece, the mean copies per piece, how many sharers are complete and how many
//!   still downloading; whether the seeder is still there; and how many pieces neither the
//!   seeder nor any sharer holds (lost: whoever lacks them can never complete).
//!
//! "From whom" sums the counters each connection last reported before a sample: a connection
//! that closes loses what it moved since the last sample (at most a sample interval's worth),
//! so those figures are shares, not exact totals; the upload and download totals are exact.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::Duration;

use bt_engine::PeerInfo;
use bt_engine::proto::PeerId;

use super::PeerClass;

/// One peer of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerRecord {
    /// Its index among the swarm's members (the seeder is 0).
    pub index: usize,
    /// Its class.
    pub class: PeerClass,
    /// Its peer id.
    pub peer_id: PeerId,
    /// When it started, since the run started.
    pub started: Duration,
    /// When it had 90 % of the pieces, since the run started.
    pub ninety: Option<Duration>,
    /// When it had every piece, since the run started.
    pub completed: Option<Duration>,
    /// Pieces verified.
    pub pieces: u32,
    /// Payload bytes it sent, in total.
    pub uploaded: u64,
    /// Payload bytes it received, in total.
    pub downloaded: u64,
    /// Payload bytes it received, by the sender's class (see the module docs).
    pub from: BTreeMap<PeerClass, u64>,
}

impl PeerRecord {
    /// Seconds from its start to its completion.
    pub fn completion_secs(&self) -> Option<f64> {
        self.completed
            .map(|done| done.saturating_sub(self.started).as_secs_f64())
    }

    /// Seconds from 90 % of the pieces to all of them.
    pub fn tail_secs(&self) -> Option<f64> {
        Some(self.completed?.saturating_sub(self.ninety?).as_secs_f64())
    }
}

/// The copies of pieces among the sharers (see the module docs) at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RarestSample {
    /// Since the run started.
    pub at: Duration,
    /// Copies of the rarest piece among the sharers.
    pub min_copies: u32,
    /// Mean copies per piece among the sharers.
    pub mean_copies: f64,
    /// Sharers that have every piece.
    pub complete: usize,
    /// Sharers still downloading.
    pub downloading: usize,
    /// Whether the seeder is still in the swarm.
    pub seeder_present: bool,
    /// Pieces neither the seeder nor any sharer holds.
    pub lost: u32,
}

impl RarestSample {
    /// Copies of the rarest piece among the sharers still downloading: a complete sharer
    /// has every piece, so this is `min_copies - complete`.
    pub fn rarest_incomplete(&self) -> u32 {
        let complete = u32::try_from(self.complete).unwrap_or(u32::MAX);
        self.min_copies.saturating_sub(complete)
    }
}

/// What a run measures; see the module docs.
#[derive(Debug, Clone)]
pub struct Recorder {
    pieces: u32,
    peers: Vec<PeerRecord>,
    classes: HashMap<PeerId, PeerClass>,
    /// Per member, the pieces it verified.
    have: Vec<Vec<bool>>,
    /// Per member, whether it is still in the swarm.
    present: Vec<bool>,
    /// Per piece, the sharers that have it.
    copies: Vec<u32>,
    /// When a leecher last verified a piece.
    last_progress: Duration,
    /// Per (member, connection address): the remote peer and the bytes received from it.
    connections: HashMap<(usize, SocketAddr), (PeerId, u64)>,
    samples: Vec<RarestSample>,
}

impl Recorder {
    /// A recorder for a torrent of `pieces` pieces.
    pub fn new(pieces: u32) -> Self {
        Self {
            pieces,
            peers: Vec::new(),
            classes: HashMap::new(),
            have: Vec::new(),
            present: Vec::new(),
            copies: vec![0; pieces as usize],
            last_progress: Duration::ZERO,
            connections: HashMap::new(),
            samples: Vec::new(),
        }
    }

    /// A member started (members are added in index order; the seeder first, complete).
    pub fn add_peer(&mut self, class: PeerClass, peer_id: PeerId, started: Duration) -> usize {
        let index = self.peers.len();
        let seeder = class == PeerClass::Seeder;
        self.peers.push(PeerRecord {
            index,
            class,
            peer_id,
            started,
            ninety: seeder.then_some(started),
            completed: seeder.then_some(started),
            pieces: if seeder { self.pieces } else { 0 },
            uploaded: 0,
            downloaded: 0,
            from: BTreeMap::new(),
        });
        self.classes.insert(peer_id, class);
        self.have.push(vec![seeder; self.pieces as usize]);
        self.present.push(true);
        index
    }

    /// Member `index` left the swarm: its pieces no longer count as copies.
    pub fn peer_left(&mut self, index: usize) {
        let Some(present) = self.present.get_mut(index) else {
            return;
        };
        if !std::mem::replace(present, false) {
            return;
        }
        if !shares(self.peers[index].class) {
            return;
        }
        for (piece, have) in self.have[index].iter().enumerate() {
            if *have {
                self.copies[piece] -= 1;
            }
        }
    }

    /// Whether member `index` is still in the swarm.
    pub fn is_present(&self, index: usize) -> bool {
        self.present.get(index).copied().unwrap_or(false)
    }

    /// When a leecher last verified a piece (the run's start if none has).
    pub fn last_progress(&self) -> Duration {
        self.last_progress
    }

    /// Pieces neither the seeder nor any sharer holds: none while the seeder is present.
    pub fn lost_pieces(&self) -> u32 {
        let seeder_present = self
            .peers
            .iter()
            .any(|p| p.class == PeerClass::Seeder && self.present[p.index]);
        if seeder_present {
            return 0;
        }
        let lost = self.copies.iter().filter(|c| **c == 0).count();
        u32::try_from(lost).unwrap_or(u32::MAX)
    }

    /// Member `index` verified `piece` at `at`; true if that completed it.
    pub fn piece_verified(&mut self, index: usize, piece: u32, at: Duration) -> bool {
        let (Some(have), Some(peer)) = (self.have.get_mut(index), self.peers.get_mut(index)) else {
            return false;
        };
        let Some(slot) = have.get_mut(piece as usize) else {
            return false;
        };
        if std::mem::replace(slot, true) {
            return false;
        }
        peer.pieces += 1;
        if peer.class != PeerClass::Seeder {
            self.last_progress = self.last_progress.max(at);
        }
        if shares(peer.class) && self.present[index] {
            self.copies[piece as usize] += 1;
        }
        if peer.ninety.is_none() && u64::from(peer.pieces) * 10 >= u64::from(self.pieces) * 9 {
            peer.ninety = Some(at);
        }
        if peer.pieces == self.pieces {
            peer.completed = Some(at);
            return true;
        }
        false
    }

    /// Member `index`'s connections now: their counters replace the ones seen before.
    pub fn connections(&mut self, index: usize, peers: &[PeerInfo]) {
        for info in peers {
            self.connections
                .insert((index, info.addr), (info.peer_id, info.downloaded));
        }
    }

    /// Member `index`'s final totals.
    pub fn totals(&mut self, index: usize, uploaded: u64, downloaded: u64) {
        if let Some(peer) = self.peers.get_mut(index) {
            peer.uploaded = uploaded;
            peer.downloaded = downloaded;
        }
    }

    /// Records the copies of pieces at `at`.
    pub fn sample(&mut self, at: Duration) {
        let min_copies = self.copies.iter().copied().min().unwrap_or(0);
        let sum: u64 = self.copies.iter().map(|c| u64::from(*c)).sum();
        let mean_copies = sum as f64 / f64::from(self.pieces.max(1));
        let present: Vec<&PeerRecord> = self
            .peers
            .iter()
            .filter(|p| shares(p.class) && self.present[p.index])
            .collect();
        let complete = present.iter().filter(|p| p.completed.is_some()).count();
        let seeder_present = self
            .peers
            .iter()
            .any(|p| p.class == PeerClass::Seeder && self.present[p.index]);
        self.samples.push(RarestSample {
            at,
            min_copies,
            mean_copies,
            complete,
            downloading: present.len() - complete,
            seeder_present,
            lost: self.lost_pieces(),
        });
    }

    /// Whether every leecher has every piece.
    pub fn all_complete(&self) -> bool {
        self.leechers().all(|p| p.completed.is_some())
    }

    fn leechers(&self) -> impl Iterator<Item = &PeerRecord> {
        // Free riders included: the run waits for them too.
        self.peers.iter().filter(|p| p.class != PeerClass::Seeder)
    }

    /// The peers, with "from whom" filled in, and the samples.
    pub fn finish(mut self) -> (Vec<PeerRecord>, Vec<RarestSample>) {
        for ((index, _), (sender, bytes)) in &self.connections {
            let class = self.classes.get(sender).copied();
            if let (Some(peer), Some(class)) = (self.peers.get_mut(*index), class) {
                *peer.from.entry(class).or_default() += bytes;
            }
        }
        (self.peers, self.samples)
    }
}

/// Whether a peer of `class` is a sharer: a leecher whose pieces others can get.
fn shares(class: PeerClass) -> bool {
    !matches!(class, PeerClass::Seeder | PeerClass::FreeRider)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> PeerId {
        PeerId([n; 20])
    }

    fn info(addr: &str, peer_id: PeerId, downloaded: u64) -> PeerInfo {
        PeerInfo {
            addr: addr.parse().expect("an address"),
            peer_id,
            client: None,
            outgoing: true,
            downloaded,
            uploaded: 0,
            download_rate: 0,
            upload_rate: 0,
        }
    }

    #[test]
    fn completion_tail_and_copies_follow_the_events() {
        let mut rec = Recorder::new(10);
        let secs = Duration::from_secs;
        rec.add_peer(PeerClass::Seeder, id(0), secs(0));
        let a = rec.add_peer(PeerClass::Fast, id(1), secs(1));
        let b = rec.add_peer(PeerClass::FreeRider, id(2), secs(1));
        rec.sample(secs(1));
        for piece in 0..9 {
            assert!(!rec.piece_verified(a, piece, secs(2 + u64::from(piece))));
        }
        assert!(
            rec.piece_verified(a, 9, secs(11)),
            "the last piece completes it"
        );
        assert!(
            !rec.piece_verified(a, 3, secs(30)),
            "a duplicate changes nothing"
        );
        rec.piece_verified(b, 0, secs(5));
        rec.sample(secs(12));
        assert!(!rec.all_complete());
        rec.connections(
            b,
            &[
                info("127.0.0.1:1", id(1), 100),
                info("127.0.0.1:2", id(0), 50),
            ],
        );
        rec.connections(b, &[info("127.0.0.1:1", id(1), 300)]);
        rec.totals(a, 1_000, 2_000);
        let (peers, samples) = rec.finish();
        assert_eq!(peers[a].completion_secs(), Some(10.0));
        assert_eq!(
            peers[a].tail_secs(),
            Some(1.0),
            "90 % at piece 9, all at piece 10"
        );
        assert_eq!(peers[b].completion_secs(), None);
        assert_eq!(peers[b].from.get(&PeerClass::Fast), Some(&300));
        assert_eq!(peers[b].from.get(&PeerClass::Seeder), Some(&50));
        assert_eq!((peers[a].uploaded, peers[a].downloaded), (1_000, 2_000));
        assert_eq!(samples[0].min_copies, 0);
        assert_eq!(samples[1].min_copies, 1, "every piece at a");
        assert!(
            (samples[1].mean_copies - 1.0).abs() < 1e-9,
            "b's piece 0 is a free rider's copy: it serves nobody"
        );
        assert_eq!(samples[1].complete, 1);
        assert_eq!(samples[1].downloading, 0, "b is no sharer");
        assert!(samples[1].seeder_present);
    }

    #[test]
    fn leavers_take_their_copies_and_a_piece_nobody_holds_is_lost() {
        let mut rec = Recorder::new(3);
        let secs = Duration::from_secs;
        let seeder = rec.add_peer(PeerClass::Seeder, id(0), secs(0));
        let a = rec.add_peer(PeerClass::Medium, id(1), secs(0));
        let b = rec.add_peer(PeerClass::Slow, id(2), secs(0));
        let free = rec.add_peer(PeerClass::FreeRider, id(3), secs(0));
        for piece in 0..3 {
            rec.piece_verified(a, piece, secs(1));
        }
        rec.piece_verified(b, 0, secs(2));
        rec.piece_verified(free, 1, secs(2));
        assert_eq!(rec.last_progress(), secs(2));
        rec.peer_left(seeder);
        assert_eq!(rec.lost_pieces(), 0, "a holds every piece");
        rec.peer_left(a);
        rec.peer_left(a);
        assert!(!rec.is_present(a));
        assert_eq!(
            rec.lost_pieces(),
            2,
            "pieces 1 and 2 left with a (the free rider's piece 1 serves nobody)"
        );
        rec.sample(secs(3));
        let (peers, samples) = rec.finish();
        assert_eq!(
            peers[a].completion_secs(),
            Some(1.0),
            "a leaver stays complete"
        );
        let sample = samples[0];
        assert_eq!(
            (sample.min_copies, sample.complete, sample.downloading),
            (0, 0, 1)
        );
        assert!(!sample.seeder_present);
        assert_eq!(sample.lost, 2);
    }
}
