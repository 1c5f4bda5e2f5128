//! [`EngineConfig`]: every tunable of a session in one struct, loadable from layered sources.
//!
//! The layers, later ones winning: the defaults ([`EngineConfig::default`]) < a TOML file <
//! environment variables named `BT_` plus the key, with `__` between nested keys
//! (`BT_MAX_CONNECTIONS=100`, `BT_CHOKE__RECHOKE_INTERVAL_MS=500`). Every field has a default,
//! so a file or the environment names only what it changes.
//!
//! The engine's own tunables (`PeerConfig`, `PickerConfig`, `ChokeConfig`, `AnnouncerConfig`)
//! hold `Duration`s and are not serde types; this module exposes the useful subset of each as
//! plain numbers (durations in milliseconds, suffixed `_ms`) in a `*Settings` section, and
//! converts a section to the engine's struct with `to_config`. Fields not exposed keep the
//! engine's defaults.
//!
//! # Layout
//! - this module: [`EngineConfig`], loading, [`ConfigError`].
//! - `sections`: [`PeerSettings`], [`PickerSettings`] (with [`PieceOrderSetting`]),
//!   [`ChokeSettings`] (with [`ChokeStrategySetting`]), [`AnnouncerSettings`].
//! - `dht`: [`DhtSettings`], the session's DHT node (BEP 5).
//! - `extensions`: [`ExtensionSettings`] (PEX, allowed-fast, metadata exchange).

mod dht;
mod extensions;
mod sections;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use dht::DhtSettings;
pub use extensions::ExtensionSettings;
pub use sections::{
    AnnouncerSettings, ChokeSettings, ChokeStrategySetting, PeerSettings, PickerSettings,
    PieceOrderSetting,
};

/// The prefix of the environment variables read by [`EngineConfig::load`].
pub const ENV_PREFIX: &str = "BT";

/// Why a configuration could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

/// Everything a [`Session`](crate::Session) can be tuned with; see the module docs for how to
/// load it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct EngineConfig {
    /// Where the session accepts peer connections. Port 0 lets the OS choose (tests); the
    /// session reports the address it bound.
    pub listen: SocketAddr,
    /// Peer connections open at once across all torrents (connecting ones included): each
    /// costs a socket, buffers and a share of the upload, so this bounds the process.
    pub max_connections: usize,
    /// Peer connections per torrent: beyond a few dozen, more peers add overhead, not speed.
    pub max_peers_per_torrent: usize,
    /// Outgoing connection attempts in progress per torrent: bounds half-open sockets when a
    /// tracker hands us many dead addresses.
    pub max_connecting: usize,
    /// How long a TCP connect may take before the address counts as failed.
    pub connect_timeout_ms: u64,
    /// How long the BitTorrent handshake may take once connected.
    pub handshake_timeout_ms: u64,
    /// Worker Arbiters (threads) the peer connections are spread over; 0 means one per core.
    pub arbiters: usize,
    /// Disk worker threads per torrent (writes, reads, hashing); 0 means one per core.
    pub disk_threads: usize,
    /// Bytes of received pieces a torrent keeps in memory until each is complete, then hashes
    /// from memory and writes in one go (no read-back; a corrupt piece is never written).
    /// Pieces that find it full are written block by block and hashed by reading them back.
    /// 0 writes every block through.
    pub piece_buffer_limit: u64,
    /// Bytes of a torrent's received blocks that only the disk can free (pieces being hashed
    /// and written, and blocks read but not handled yet) beyond which no more blocks are
    /// requested and every connection stops reading from its socket until half of it is
    /// written: with the pieces being received, what a download holds in memory. At least two
    /// pieces, whatever this says. Less saves memory and costs speed when the disk stalls
    /// (measured on a 2-core machine: 4 MiB about 5% slower than 8, 2 MiB a fifth).
    pub disk_backlog: u64,
    /// How often the supervisor retries known peers it is not connected to, and how long a
    /// failed address waits (doubled per failure) before it is tried again.
    pub redial_interval_ms: u64,
    /// How often peer connections report their transfer counters to the supervisor, which
    /// sums them into the torrent's statistics and progress events.
    pub stats_interval_ms: u64,
    /// Upload limit of the whole session, payload bytes per second over every connection of
    /// every torrent; 0 means unlimited. Per-connection limits are `peer.upload_limit`.
    pub upload_limit: u64,
    /// Download limit of the whole session, payload bytes per second; 0 means unlimited.
    /// Per-connection limits are `peer.download_limit`.
    pub download_limit: u64,
    /// Per-connection tunables.
    pub peer: PeerSettings,
    /// Piece-picking tunables.
    pub picker: PickerSettings,
    /// Choking tunables.
    pub choke: ChokeSettings,
    /// Tracker tunables.
    pub announcer: AnnouncerSettings,
    /// Protocol-extension tunables.
    pub extensions: ExtensionSettings,
    /// The mainline DHT (off by default).
    pub dht: DhtSettings,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 6881)),
            max_connections: 200,
            max_peers_per_torrent: 50,
            max_connecting: 16,
            connect_timeout_ms: 5_000,
            handshake_timeout_ms: 10_000,
            arbiters: 0,
            disk_threads: 0,
            piece_buffer_limit: crate::actors::piece_manager::DEFAULT_BUFFER_LIMIT,
            disk_backlog: crate::actors::piece_manager::DEFAULT_DISK_BACKLOG,
            redial_interval_ms: 2_000,
            stats_interval_ms: 500,
            upload_limit: 0,
            download_limit: 0,
            peer: PeerSettings::default(),
            picker: PickerSettings::default(),
            choke: ChokeSettings::default(),
            announcer: AnnouncerSettings::default(),
            extensions: ExtensionSettings::default(),
            dht: DhtSettings::default(),
        }
    }
}

impl EngineConfig {
    /// The defaults, overridden by `file` (TOML) if given, overridden by the process's `BT_*`
    /// environment variables.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, None)
    }

    /// Like [`load`](Self::load), but with `env` standing in for the process environment when
    /// given (tests, embedders with their own variables). Keys are full variable names
    /// (`BT_PEER__MAX_REQUESTS`); variables without the prefix are ignored.
    pub fn load_from(
        file: Option<&Path>,
        env: Option<HashMap<String, String>>,
    ) -> Result<Self, ConfigError> {
        let mut builder = ::config::Config::builder();
        if let Some(path) = file {
            builder = builder.add_source(
                ::config::File::from(path)
                    .format(::config::FileFormat::Toml)
                    .required(true),
            );
        }
        let environment = ::config::Environment::with_prefix(ENV_PREFIX)
            .prefix_separator("_")
            .separator("__")
            .try_parsing(true)
            .source(env);
        let config = builder
            .add_source(environment)
            .build()
            .map_err(|e| ConfigError(e.to_string()))?
            .try_deserialize::<EngineConfig>()
            .map_err(|e| ConfigError(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Parses a TOML document over the defaults (no environment); for tests and embedders
    /// that keep their configuration elsewhere.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config = ::config::Config::builder()
            .add_source(::config::File::from_str(text, ::config::FileFormat::Toml))
            .build()
            .map_err(|e| ConfigError(e.to_string()))?
            .try_deserialize::<EngineConfig>()
            .map_err(|e| ConfigError(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Rejects values no engine could run with (zero limits, zero intervals).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("max_connections", self.max_connections as u64),
            ("max_peers_per_torrent", self.max_peers_per_torrent as u64),
            ("max_connecting", self.max_connecting as u64),
            ("connect_timeout_ms", self.connect_timeout_ms),
            ("handshake_timeout_ms", self.handshake_timeout_ms),
            ("redial_interval_ms", self.redial_interval_ms),
            ("stats_interval_ms", self.stats_interval_ms),
        ];
        let sections = self
            .peer
            .positive_fields()
            .into_iter()
            .chain(self.extensions.positive_fields());
        for (name, value) in positive.into_iter().chain(sections) {
            if value == 0 {
                return Err(ConfigError(format!("{name} must be more than 0")));
            }
        }
        self.choke.validate()?;
        Ok(())
    }

    /// [`Self::arbiters`] with 0 resolved to the number of cores.
    pub fn arbiter_count(&self) -> usize {
        resolve_threads(self.arbiters)
    }

    /// [`Self::disk_threads`] with 0 resolved to the number of cores.
    pub fn disk_thread_count(&self) -> usize {
        resolve_threads(self.disk_threads)
    }

    /// [`Self::connect_timeout_ms`] as a `Duration`.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    /// [`Self::handshake_timeout_ms`] as a `Duration`.
    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_millis(self.handshake_timeout_ms)
    }

    /// [`Self::redial_interval_ms`] as a `Duration`.
    pub fn redial_interval(&self) -> Duration {
        Duration::from_millis(self.redial_interval_ms)
    }

    /// [`Self::stats_interval_ms`] as a `Duration`.
    pub fn stats_interval(&self) -> Duration {
        Duration::from_millis(self.stats_interval_ms)
    }
}

/// `n`, or the number of cores when `n` is 0.
fn resolve_threads(n: usize) -> usize {
    if n > 0 {
        return n;
    }
    std::thread::available_parallelism().map_or(1, usize::from)
}
