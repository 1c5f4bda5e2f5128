//! [`ExtensionSettings`]: the tunables of the protocol extensions (BEP 6, 9, 10, 11).

use std::time::Duration;

use bt_proto::ext::DEFAULT_MAX_METADATA_SIZE;
use serde::{Deserialize, Serialize};

/// Tunables of the extension protocol and what it carries.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
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
    /// The client name we send as `v` in the extension handshake; unset, `bt` and its
    /// version (so a configuration file does not pin an old version).
    pub client_name: Option<String>,
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
            client_name: None,
        }
    }
}

impl ExtensionSettings {
    /// [`Self::pex_interval_ms`] as a `Duration`.
    pub fn pex_interval(&self) -> Duration {
        Duration::from_millis(self.pex_interval_ms)
    }

    /// The name we send as `v`: [`Self::client_name`], or `bt` and its version.
    pub fn client(&self) -> String {
        self.client_name
            .clone()
            .unwrap_or_else(|| format!("bt {}", env!("CARGO_PKG_VERSION")))
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

#[cfg(test)]
mod tests {
    use crate::config::EngineConfig;

    #[test]
    fn the_client_name_is_bt_and_its_version_unless_set() {
        let config = EngineConfig::default();
        assert_eq!(
            config.extensions.client(),
            format!("bt {}", env!("CARGO_PKG_VERSION"))
        );
        let text = "[extensions]\nclient_name = \"lab 2\"\npex = false\n";
        let config = EngineConfig::from_toml(text).unwrap();
        assert_eq!(config.extensions.client(), "lab 2");
        assert!(!config.extensions.pex);
    }

    #[test]
    fn zero_intervals_and_sizes_are_refused() {
        for key in [
            "pex_interval_ms",
            "metadata_request_timeout_ms",
            "max_metadata_size",
        ] {
            let text = format!("[extensions]\n{key} = 0\n");
            let error = EngineConfig::from_toml(&text).unwrap_err();
            assert!(error.to_string().contains(key), "{error}");
        }
    }
}
