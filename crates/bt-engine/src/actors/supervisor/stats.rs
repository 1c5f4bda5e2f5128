//! The supervisor's statistics: totals over live and ended connections, the snapshot the
//! handle asks for, and the periodic progress for subscribers and trackers.

use crate::actors::announcer::msg::UpdateProgress;
use crate::torrent::{PeerInfo, TorrentEvent, TorrentStats};

use super::TorrentSupervisor;
use super::msg::PeerTransfer;

impl TorrentSupervisor {
    /// Bytes and rates over every connection, ended ones included (rates: live only).
    pub(super) fn totals(&self) -> PeerTransfer {
        let mut totals = self.closed;
        totals.download_rate = 0;
        totals.upload_rate = 0;
        for entry in self.peers.values() {
            totals.downloaded += entry.transfer.downloaded;
            totals.uploaded += entry.transfer.uploaded;
            totals.download_rate += entry.transfer.download_rate;
            totals.upload_rate += entry.transfer.upload_rate;
        }
        totals
    }

    /// The statistics now.
    pub(super) fn stats(&self) -> TorrentStats {
        let totals = self.totals();
        let mut peers: Vec<PeerInfo> = self
            .peers
            .values()
            .map(|entry| PeerInfo {
                client: self.ext.client(entry.handle.key),
                addr: entry.handle.addr,
                peer_id: entry.peer_id,
                outgoing: entry.outgoing,
                downloaded: entry.transfer.downloaded,
                uploaded: entry.transfer.uploaded,
                download_rate: entry.transfer.download_rate,
                upload_rate: entry.transfer.upload_rate,
            })
            .collect();
        peers.sort_by_key(|p| p.addr);
        TorrentStats {
            info_hash: self.info_hash,
            name: self.metainfo.info.name.clone(),
            state: self.state.clone(),
            pieces_have: self.have.count_ones() as u32,
            pieces_total: self.lengths.piece_count(),
            total_len: self.lengths.total_len(),
            wanted_len: self.selection.wanted_len(),
            left: self.selection.wanted_len().saturating_sub(self.have_bytes),
            downloaded: totals.downloaded,
            uploaded: totals.uploaded,
            download_rate: totals.download_rate,
            upload_rate: totals.upload_rate,
            peer_totals: self.ledger.totals(
                self.peers
                    .values()
                    .map(|e| (e.peer_id, e.handle.addr, &e.transfer)),
            ),
            peers,
            connecting: self.connecting.len(),
            trackers: self.trackers.clone(),
        }
    }

    /// Every statistics interval: a `Progress` event if anything moved, and the numbers for
    /// the next announce.
    pub(super) fn report_progress(&mut self) {
        let totals = self.totals();
        let have = self.have.count_ones() as u32;
        let now = (have, totals.downloaded, totals.uploaded);
        if now == self.last_progress {
            return;
        }
        self.last_progress = now;
        self.emit(TorrentEvent::Progress {
            have,
            total: self.lengths.piece_count(),
            downloaded: totals.downloaded,
            uploaded: totals.uploaded,
            peers: self.peers.len(),
        });
        if let Some(parts) = &self.parts {
            let progress = self.progress();
            parts.announcer.do_send(UpdateProgress {
                uploaded: progress.uploaded,
                downloaded: progress.downloaded,
                left: progress.left,
            });
        }
    }
}
