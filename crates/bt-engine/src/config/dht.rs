//! [`DhtSettings`]: whether the session runs a mainline DHT node (BEP 5), and how.

use std::time::Duration;

use bt_dht::DhtConfig;
use serde::{Deserialize, Serialize};

/// The session's DHT: off unless `enabled`. When on, the session starts one
/// [`bt_dht::DhtNode`] and every public torrent's announcer announces to it (and takes the
/// peers it finds) beside the trackers; a private torrent never does (BEP 27).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct DhtSettings {
    /// Run a DHT node (`BT_DHT__ENABLED=true`, or `enabled = true` under `[dht]`).
    pub enabled: bool,
    /// How often each public torrent announces itself to the DHT and asks it for peers
    /// (libtorrent's `dht_announce_interval`: 15 minutes).
    pub announce_interval_ms: u64,
    /// The node: its UDP address, bootstrap nodes (the public routers by default), the file
    /// its routing table is saved to, time-outs and rate limits (`[dht.node]`).
    pub node: DhtConfig,
}

impl Default for DhtSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            announce_interval_ms: 15 * 60 * 1000,
            node: DhtConfig::default(),
        }
    }
}

impl DhtSettings {
    /// [`Self::announce_interval_ms`] as a `Duration` (at least 1 ms).
    pub fn announce_interval(&self) -> Duration {
        Duration::from_millis(self.announce_interval_ms.max(1))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::config::EngineConfig;

    #[test]
    fn the_dht_is_off_unless_enabled() {
        let config = EngineConfig::default();
        assert!(!config.dht.enabled);
        assert_eq!(config.dht.node.bootstrap.len(), 3);
    }

    #[test]
    fn the_dht_section_loads_from_toml_and_the_environment() {
        let text = "[dht]\nenabled = true\nannounce_interval_ms = 500\n\n[dht.node]\nlisten = \"127.0.0.1:0\"\nbootstrap = [\"127.0.0.1:7000\"]\nstate_file = \"/tmp/bt-dht.state\"\n";
        let config = EngineConfig::from_toml(text).unwrap();
        assert!(config.dht.enabled);
        assert_eq!(config.dht.announce_interval().as_millis(), 500);
        assert_eq!(config.dht.node.bootstrap, ["127.0.0.1:7000"]);
        assert_eq!(config.dht.node.listen.port(), 0);
        assert!(config.dht.node.state_file.is_some());
        let env = HashMap::from([("BT_DHT__ENABLED".to_owned(), "true".to_owned())]);
        let config = EngineConfig::load_from(None, Some(env)).unwrap();
        assert!(config.dht.enabled);
    }
}
