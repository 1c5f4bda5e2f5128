//! What the progress display shows of one torrent (or of all of them summed), and the text
//! of a plain progress line; pure, so the wording is unit-tested.

use std::time::Duration;

use bt_engine::{TorrentState, TorrentStats};

use crate::format;

/// The status word of a magnet link's torrent while its metadata is fetched.
const METADATA: &str = "metadata";

/// One torrent as the progress display shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TorrentView {
    /// The torrent's name, or `total`.
    pub name: String,
    /// Bytes verified on disk, of the pieces we want.
    pub done: u64,
    /// Bytes of the pieces we want (the whole torrent unless files were picked).
    pub size: u64,
    /// Bytes per second received now.
    pub down_rate: u64,
    /// Bytes per second sent now.
    pub up_rate: u64,
    /// Payload bytes sent this run (for the seeding ratio).
    pub uploaded: u64,
    /// Connected peers.
    pub peers: usize,
    /// Seeders in the swarm as the trackers last counted them, if any said.
    pub seeds: Option<u32>,
    /// A word for the torrent's state: `checking`, `downloading`, `seeding`, ...
    pub status: &'static str,
}

impl TorrentView {
    /// The view of `stats`, with the trackers' seeder count.
    pub fn new(stats: &TorrentStats, seeds: Option<u32>) -> Self {
        Self {
            name: stats.name.clone(),
            done: stats.wanted_len.saturating_sub(stats.left),
            size: stats.wanted_len,
            down_rate: stats.download_rate,
            up_rate: stats.upload_rate,
            uploaded: stats.uploaded,
            peers: stats.peers.len(),
            seeds,
            status: status_word(&stats.state),
        }
    }

    /// The sum of several views, named `total`.
    pub fn total<'a>(views: impl IntoIterator<Item = &'a TorrentView>) -> Self {
        let mut total = TorrentView {
            name: "total".to_owned(),
            status: "",
            ..TorrentView::default()
        };
        for view in views {
            total.done += view.done;
            total.size += view.size;
            total.down_rate += view.down_rate;
            total.up_rate += view.up_rate;
            total.uploaded += view.uploaded;
            total.peers += view.peers;
            total.seeds = match (total.seeds, view.seeds) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            };
        }
        total
    }

    /// Percent of the wanted bytes verified, 100 for nothing wanted; 0 while a magnet link's
    /// metadata is fetched (nothing is known to be wanted yet).
    pub fn percent(&self) -> f64 {
        if self.size == 0 {
            return if self.status == METADATA { 0.0 } else { 100.0 };
        }
        self.done as f64 * 100.0 / self.size as f64
    }

    /// Time left at the current download rate; `None` when nothing arrives (or nothing is
    /// left).
    pub fn eta(&self) -> Option<Duration> {
        let left = self.size.saturating_sub(self.done);
        (left > 0 && self.down_rate > 0).then(|| Duration::from_secs(left.div_ceil(self.down_rate)))
    }

    /// Rates, ETA, peers and seeds: the part of a line after the percentage.
    pub fn details(&self) -> String {
        let eta = self.eta().map_or_else(|| "-".to_owned(), format::duration);
        let seeds = self.seeds.map_or_else(|| "-".to_owned(), |s| s.to_string());
        format!(
            "down {}  up {}  eta {eta}  peers {}  seeds {seeds}",
            format::rate(self.down_rate),
            format::rate(self.up_rate),
            self.peers,
        )
    }

    /// What a bar shows beside the bar itself, shortest first-things-first (a narrow terminal
    /// cuts the end).
    pub fn bar_message(&self) -> String {
        let eta = self.eta().map_or_else(|| "-".to_owned(), format::duration);
        let seeds = self.seeds.map_or_else(|| "-".to_owned(), |s| s.to_string());
        let status = match self.status {
            "downloading" | "" => String::new(),
            word => format!("  {word}"),
        };
        format!(
            "{}/{}  \u{2193} {}  \u{2191} {}  eta {eta}  peers {} seeds {seeds}{status}",
            format::bytes(self.done),
            format::bytes(self.size),
            format::rate(self.down_rate),
            format::rate(self.up_rate),
            self.peers,
        )
    }

    /// One plain progress line: elapsed time, name, percentage, bytes, then the details.
    pub fn plain_line(&self, elapsed: Duration) -> String {
        let status = match self.status {
            "" => String::new(),
            word => format!("  {word}"),
        };
        format!(
            "[{:>6}] {}: {:5.1}%  {}/{}  {}{status}",
            format::duration(elapsed),
            self.name,
            self.percent(),
            format::bytes(self.done),
            format::bytes(self.size),
            self.details(),
        )
    }
}

/// The word shown for a state.
fn status_word(state: &TorrentState) -> &'static str {
    match state {
        TorrentState::FetchingMetadata => METADATA,
        TorrentState::Checking => "checking",
        TorrentState::Downloading => "downloading",
        TorrentState::Seeding => "seeding",
        TorrentState::Paused => "paused",
        TorrentState::Error(_) => "error",
        TorrentState::Stopped => "stopped",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(done: u64, size: u64, down_rate: u64) -> TorrentView {
        TorrentView {
            name: "x".to_owned(),
            done,
            size,
            down_rate,
            up_rate: 512,
            uploaded: 0,
            peers: 3,
            seeds: Some(1),
            status: "downloading",
        }
    }

    #[test]
    fn eta_is_what_is_left_over_the_rate() {
        assert_eq!(view(0, 1000, 100).eta(), Some(Duration::from_secs(10)));
        assert_eq!(view(950, 1000, 100).eta(), Some(Duration::from_secs(1)));
        assert_eq!(view(0, 1000, 0).eta(), None);
        assert_eq!(view(1000, 1000, 100).eta(), None);
    }

    #[test]
    fn a_plain_line_names_every_figure() {
        let line = view(1 << 20, 4 << 20, 1 << 20).plain_line(Duration::from_secs(3));
        assert_eq!(
            line,
            "[  3.0s] x:  25.0%  1.0 MiB/4.0 MiB  down 1.0 MiB/s  up 512 B/s  eta 3.0s  \
             peers 3  seeds 1  downloading"
        );
    }

    #[test]
    fn a_bar_message_puts_bytes_and_rates_first() {
        let mut seeding = view(4 << 20, 4 << 20, 0);
        seeding.status = "seeding";
        assert_eq!(
            seeding.bar_message(),
            "4.0 MiB/4.0 MiB  \u{2193} 0 B/s  \u{2191} 512 B/s  eta -  peers 3 seeds 1  seeding"
        );
    }

    #[test]
    fn the_total_sums_bytes_rates_and_peers() {
        let mut unknown_seeds = view(10, 100, 1);
        unknown_seeds.seeds = None;
        let total = TorrentView::total(&[view(50, 100, 5), unknown_seeds]);
        assert_eq!((total.done, total.size, total.down_rate), (60, 200, 6));
        assert_eq!((total.peers, total.seeds), (6, Some(1)));
        assert_eq!(total.percent(), 30.0);
        assert_eq!(TorrentView::total(&[]).percent(), 100.0);
    }

    #[test]
    fn a_magnet_link_fetching_its_metadata_is_at_zero_percent() {
        let fetching = TorrentView {
            status: status_word(&TorrentState::FetchingMetadata),
            ..TorrentView::default()
        };
        assert_eq!(fetching.percent(), 0.0);
    }
}
