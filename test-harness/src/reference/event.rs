//! What the reference peer's script reports: one JSON object per line, decoded into
//! [`LtEvent`], with the torrent's figures in [`LtStats`] and the process's resource usage in
//! [`LtUsage`]. The field names are the script's (`scripts/lt_peer.py` documents them).

use serde::Deserialize;

/// libtorrent's state of the torrent (`torrent_status::state_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LtState {
    /// Waiting for its turn to check files.
    QueuedForChecking,
    /// Hashing the data it found on disk.
    CheckingFiles,
    /// Fetching the info dictionary (magnet links only).
    DownloadingMetadata,
    /// Downloading.
    Downloading,
    /// Has every piece it wants (not necessarily every piece).
    Finished,
    /// Has every piece.
    Seeding,
    /// Allocating disk space.
    Allocating,
    /// Checking resume data.
    CheckingResumeData,
    /// A state this harness does not know.
    #[serde(other)]
    Other,
}

/// The torrent's figures at one moment, as libtorrent counts them (`torrent_status`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LtStats {
    /// Where the torrent is in its life.
    pub state: LtState,
    /// Fraction of the wanted bytes present, 0 to 1.
    pub progress: f64,
    /// Pieces present and verified.
    pub pieces: u32,
    /// Pieces in the torrent.
    pub pieces_total: u32,
    /// Bytes present and verified.
    pub total_done: u64,
    /// Bytes wanted (the whole torrent here).
    pub total_wanted: u64,
    /// Payload bytes received from peers since the process started.
    pub payload_downloaded: u64,
    /// Payload bytes sent to peers since the process started.
    pub payload_uploaded: u64,
    /// Payload bytes per second received, libtorrent's moving average.
    pub download_rate: u64,
    /// Payload bytes per second sent.
    pub upload_rate: u64,
    /// Bytes received in pieces that failed their hash check: a peer sent bad data.
    pub failed_bytes: u64,
    /// Bytes received more than once (endgame duplicates, late blocks).
    pub redundant_bytes: u64,
    /// Connected peers.
    pub peers: u32,
    /// Seconds since the script started.
    pub elapsed_s: f64,
}

impl LtStats {
    /// Whether every piece is present.
    pub fn is_complete(&self) -> bool {
        self.pieces_total > 0 && self.pieces == self.pieces_total
    }
}

/// The script's own resource usage (`getrusage(RUSAGE_SELF)`) when it reported.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct LtUsage {
    /// User CPU seconds.
    pub cpu_user_s: f64,
    /// System CPU seconds.
    pub cpu_system_s: f64,
    /// Peak resident set size, KiB.
    pub max_rss_kib: u64,
}

impl LtUsage {
    /// User plus system CPU seconds.
    pub fn cpu_s(&self) -> f64 {
        self.cpu_user_s + self.cpu_system_s
    }
}

/// The figures of an ending: the torrent's last statistics and the process's usage.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LtReport {
    /// The torrent's figures.
    #[serde(flatten)]
    pub stats: LtStats,
    /// The process's resource usage.
    #[serde(flatten)]
    pub usage: LtUsage,
}

/// One line of the script's output.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LtEvent {
    /// The session listens; always the first line.
    Listening {
        /// Its TCP port on 127.0.0.1.
        listen_port: u16,
        /// The torrent's v1 info-hash, hex.
        info_hash: String,
        /// What starting Python and libtorrent cost, to subtract from later figures.
        #[serde(flatten)]
        usage: LtUsage,
    },
    /// A tracker answered an announce.
    TrackerReply {
        /// The tracker.
        url: String,
        /// Peers in its answer.
        num_peers: u32,
    },
    /// A tracker announce failed; libtorrent retries it.
    TrackerError {
        /// The tracker.
        url: String,
        /// libtorrent's description.
        message: String,
    },
    /// Periodic figures.
    Stats(LtStats),
    /// The data is complete and being served (after the check for a seeder, after the
    /// download for a leecher that keeps seeding).
    Seeding(LtStats),
    /// A leecher verified every piece; unless it keeps seeding, the process then exits.
    Complete(LtReport),
    /// The harness asked it to stop (closed its stdin); the process exits.
    Stopped(LtReport),
    /// The torrent failed; the process exits.
    Error {
        /// libtorrent's description.
        message: String,
        /// The figures at the failure.
        #[serde(flatten)]
        report: LtReport,
    },
    /// The script's own time limit passed; the process exits.
    Timeout(LtReport),
}

impl LtEvent {
    /// The torrent's figures, for the events that carry them.
    pub fn stats(&self) -> Option<&LtStats> {
        match self {
            Self::Stats(stats) | Self::Seeding(stats) => Some(stats),
            Self::Complete(report)
            | Self::Stopped(report)
            | Self::Timeout(report)
            | Self::Error { report, .. } => Some(&report.stats),
            Self::Listening { .. } | Self::TrackerReply { .. } | Self::TrackerError { .. } => None,
        }
    }

    /// The event's name as the script prints it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Listening { .. } => "listening",
            Self::TrackerReply { .. } => "tracker_reply",
            Self::TrackerError { .. } => "tracker_error",
            Self::Stats(_) => "stats",
            Self::Seeding(_) => "seeding",
            Self::Complete(_) => "complete",
            Self::Stopped(_) => "stopped",
            Self::Error { .. } => "error",
            Self::Timeout(_) => "timeout",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATS: &str = r#""state": "seeding", "progress": 1.0, "pieces": 5, "pieces_total": 5,
        "total_done": 71008, "total_wanted": 71008, "payload_downloaded": 0,
        "payload_uploaded": 71008, "download_rate": 0, "upload_rate": 1200, "failed_bytes": 0,
        "redundant_bytes": 0, "peers": 1, "elapsed_s": 0.75"#;
    const USAGE: &str = r#""cpu_user_s": 0.25, "cpu_system_s": 0.5, "max_rss_kib": 40000"#;

    #[test]
    fn decodes_the_first_line() {
        let line = format!(
            r#"{{"listen_port": 40123, "info_hash": "ab01", {USAGE}, "event": "listening"}}"#
        );
        let event: LtEvent = serde_json::from_str(&line).unwrap();
        assert_eq!(
            event,
            LtEvent::Listening {
                listen_port: 40123,
                info_hash: "ab01".into(),
                usage: LtUsage {
                    cpu_user_s: 0.25,
                    cpu_system_s: 0.5,
                    max_rss_kib: 40_000
                }
            }
        );
        assert_eq!(event.stats(), None);
    }

    #[test]
    fn decodes_stats_and_a_report() {
        let stats: LtEvent = serde_json::from_str(&format!(r#"{{{STATS}, "event": "stats"}}"#))
            .expect("a stats line");
        let figures = stats.stats().unwrap();
        assert_eq!(figures.state, LtState::Seeding);
        assert!(figures.is_complete());
        assert_eq!(figures.payload_uploaded, 71_008);
        let line = format!(r#"{{"event": "stopped", {STATS}, {USAGE}}}"#);
        let LtEvent::Stopped(report) = serde_json::from_str(&line).unwrap() else {
            panic!("not a stopped event: {line}");
        };
        assert_eq!(report.usage.max_rss_kib, 40_000);
        assert!((report.usage.cpu_s() - 0.75).abs() < 1e-9);
        assert_eq!(report.stats, *figures);
    }

    #[test]
    fn decodes_an_error_with_its_figures() {
        let line = format!(r#"{{"event": "error", "message": "disk full", {STATS}, {USAGE}}}"#);
        let event: LtEvent = serde_json::from_str(&line).unwrap();
        assert_eq!(event.name(), "error");
        let LtEvent::Error { message, report } = event else {
            panic!("not an error event");
        };
        assert_eq!(message, "disk full");
        assert_eq!(report.stats.pieces, 5);
    }

    #[test]
    fn an_unknown_state_decodes_as_other() {
        let line = format!(r#"{{"event": "stats", {STATS}}}"#).replace("seeding", "moving");
        let event: LtEvent = serde_json::from_str(&line).unwrap();
        assert_eq!(event.stats().unwrap().state, LtState::Other);
    }

    #[test]
    fn a_line_without_its_fields_is_an_error() {
        assert!(serde_json::from_str::<LtEvent>(r#"{"event": "stats"}"#).is_err());
        assert!(serde_json::from_str::<LtEvent>(r#"{"event": "dance"}"#).is_err());
        assert!(serde_json::from_str::<LtEvent>("complete downloaded=5").is_err());
    }
}
