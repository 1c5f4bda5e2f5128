//! [`ExtensionSettings`]: the tunables of the protocol extensions (BEP 6, 9, 10, 11).

use std::time::Duration;

use bt_proto::ext::DEFAULT_MAX_METADATA_SIZE;
use serde::Deserialize;

/// Tunables of the extension protocol and what it carries.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct ExtensionSettings {
    /// Exchange peers with connected peers (BEP 11). Never for private torrents (BEP 27),
    /// whatever this says.
    pub pex: bool,
    /// How often a connection may send a peer-exchange message: BEP 11 clients agree on at
    /// most once a minute. Received messages closer together than half of this are ignored.
    pub pex_interval_ms: u64,
    /// The most peer addresses a torrent keeps learning from PEX: past this many known
    /// addresses, PEX adds no more (trackers still do).
    pub max_pex_known_peers: usize,
    /// Pieces in the BEP 6 allowed-fast set we offer each IPv4 peer (those of the set we
    /// have): the peer may request them while we choke it. 0 offers none.
    pub allowed_fast_count: usize,
    /// The largest `metadata_size` a magnet download accepts from a peer; the limit is
    /// capped at 30 MiB, libtorrent's default `max_metadata_size`.
    pub max_metadata_size: u64,
    /// How long a metadata piece request may go unanswered before it is asked of another
    /// peer.
    pub metadata_request_timeout_ms: u64,
    /// The client name we send as `v` in the extension handshake.
    pub client_name: String,
}

impl Default for ExtensionSettings {
    fn default() -> Self {
        Self {
            pex: true,
            pex_interval_ms: 60_000,
            max_pex_known_peers: 2_000,
            allowed_fast_count: 10,
            max_metadata_size: DEFAULT_MAX_METADATA_SIZE,
            metadata_request_timeout_ms: 10_000,
            client_name: format!("bt {}", env!("CARGO_PKG_VERSION")),
        }
    }
}

impl ExtensionSettings {
    /// [`Self::pex_interval_ms`] as a `Duration`.
    pub fn pex_interval(&self) -> Duration {
        Duration::from_millis(self.pex_interval_ms)
    }

    /// [`Self::metadata_request_timeout_ms`] as a `Duration`.
    pub fn metadata_request_timeout(&self) -> Duration {
        Duration::from_millis(self.metadata_request_timeout_ms)
    }

    /// The fields that must be more than 0.
    pub(super) fn positive_fields(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("extensions.pex_interval_ms", self.pex_interval_ms),
            (
                "extensions.metadata_request_timeout_ms",
                self.metadata_request_timeout_ms,
            ),
            ("extensions.max_metadata_size", self.max_metadata_size),
        ]
    }
}
