//! [`DhtConfig`]: everything the DHT actor can be tuned with, as plain numbers (durations in
//! milliseconds, suffixed `_ms`) so that it loads from TOML or the environment like the
//! engine's configuration.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::machine::DhtSettings;
use crate::peer_store::PeerStoreLimits;
use crate::rate::RateLimits;

/// The public routers a new node bootstraps from (mainline, Transmission, µTorrent).
pub const DEFAULT_BOOTSTRAP: [&str; 3] = [
    "router.bittorrent.com:6881",
    "dht.transmissionbt.com:6881",
    "router.utorrent.com:6881",
];

/// The DHT node's configuration. Every field has a default.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct DhtConfig {
    /// The UDP address the node listens on (port 0: the OS chooses; tests use
    /// `127.0.0.1:0`).
    pub listen: SocketAddr,
    /// `host:port` of nodes to join through when the table is empty: the public routers by
    /// default; tests and demos name loopback nodes.
    pub bootstrap: Vec<String>,
    /// Where the routing table (our id and the nodes we know) is saved every
    /// `save_interval_ms` and on shutdown, and read at start. `None` (the default) keeps
    /// nothing between runs; the `bt` command sets it to a file in its data directory. The
    /// file is replaced atomically (written beside it, then renamed).
    pub state_file: Option<PathBuf>,
    /// How long a query waits for its answer before it is resent or given up.
    pub query_timeout_ms: u64,
    /// How many times an unanswered query is resent.
    pub query_retries: u32,
    /// How long a lookup may run in all.
    pub lookup_timeout_ms: u64,
    /// How often the node's timers run (time-outs, rotation, refresh).
    pub tick_interval_ms: u64,
    /// How often the routing table is saved to `state_file`.
    pub save_interval_ms: u64,
    /// How long a bucket may go unchanged before it is refreshed (BEP 5: 15 minutes).
    pub bucket_refresh_ms: u64,
    /// How often the token secret changes (BEP 5: 5 minutes).
    pub token_rotation_ms: u64,
    /// While the table is empty, how often the bootstrap nodes are asked (and resolved) again.
    pub bootstrap_retry_ms: u64,
    /// How long resolving one bootstrap host name may take.
    pub resolve_timeout_ms: u64,
    /// Queries served per second to one IP (libtorrent: 5).
    pub queries_per_ip_per_sec: f64,
    /// Queries one IP may send in a burst.
    pub query_burst_per_ip: f64,
    /// Queries served per second in all.
    pub queries_per_sec: f64,
    /// How long a peer announced to us is served.
    pub peer_ttl_ms: u64,
}

impl Default for DhtConfig {
    fn default() -> Self {
        let settings = DhtSettings::default();
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 6881)),
            bootstrap: DEFAULT_BOOTSTRAP.iter().map(|s| (*s).to_owned()).collect(),
            state_file: None,
            query_timeout_ms: ms(settings.query_timeout),
            query_retries: settings.query_retries,
            lookup_timeout_ms: ms(settings.lookup_timeout),
            tick_interval_ms: 100,
            save_interval_ms: 5 * 60 * 1000,
            bucket_refresh_ms: ms(settings.bucket_refresh),
            token_rotation_ms: ms(settings.token_rotation),
            bootstrap_retry_ms: ms(settings.bootstrap_retry),
            resolve_timeout_ms: 5_000,
            queries_per_ip_per_sec: settings.rate.per_ip_per_sec,
            query_burst_per_ip: settings.rate.per_ip_burst,
            queries_per_sec: settings.rate.global_per_sec,
            peer_ttl_ms: ms(settings.peers.ttl),
        }
    }
}

impl DhtConfig {
    /// A configuration for tests: listens on `127.0.0.1:0`, bootstraps from `bootstrap`,
    /// short time-outs, and rate limits high enough for many nodes sharing one IP.
    pub fn loopback(bootstrap: &[SocketAddr]) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            bootstrap: bootstrap.iter().map(ToString::to_string).collect(),
            query_timeout_ms: 1_000,
            lookup_timeout_ms: 20_000,
            bootstrap_retry_ms: 1_000,
            resolve_timeout_ms: 1_000,
            queries_per_ip_per_sec: 100_000.0,
            query_burst_per_ip: 100_000.0,
            queries_per_sec: 100_000.0,
            ..Self::default()
        }
    }

    /// The sans-IO node's settings.
    pub fn settings(&self) -> DhtSettings {
        let defaults = DhtSettings::default();
        DhtSettings {
            query_timeout: Duration::from_millis(self.query_timeout_ms),
            query_retries: self.query_retries,
            lookup_timeout: Duration::from_millis(self.lookup_timeout_ms),
            token_rotation: Duration::from_millis(self.token_rotation_ms),
            bucket_refresh: Duration::from_millis(self.bucket_refresh_ms),
            bootstrap_retry: Duration::from_millis(self.bootstrap_retry_ms),
            rate: RateLimits {
                per_ip_per_sec: self.queries_per_ip_per_sec,
                per_ip_burst: self.query_burst_per_ip,
                global_per_sec: self.queries_per_sec,
                ..defaults.rate
            },
            peers: PeerStoreLimits {
                ttl: Duration::from_millis(self.peer_ttl_ms),
                ..defaults.peers
            },
            ..defaults
        }
    }

    /// [`Self::tick_interval_ms`] as a `Duration` (at least 1 ms).
    pub fn tick_interval(&self) -> Duration {
        Duration::from_millis(self.tick_interval_ms.max(1))
    }

    /// [`Self::save_interval_ms`] as a `Duration` (at least 1 ms).
    pub fn save_interval(&self) -> Duration {
        Duration::from_millis(self.save_interval_ms.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_bep5_and_name_the_public_routers() {
        let config = DhtConfig::default();
        assert_eq!(config.bootstrap.len(), 3);
        assert!(
            config
                .bootstrap
                .contains(&"router.bittorrent.com:6881".to_owned())
        );
        let settings = config.settings();
        assert_eq!(settings.token_rotation, Duration::from_secs(300));
        assert_eq!(settings.bucket_refresh, Duration::from_secs(900));
        assert_eq!(settings.rate, RateLimits::default());
        assert_eq!(config.state_file, None);
    }
}
