//! The nested sections of [`EngineConfig`](super::EngineConfig): plain-number views of the
//! engine's own tunables, each converted with `to_config`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::actors::announcer::AnnouncerConfig;
use crate::choker::ChokeConfig;
use crate::peer::PeerConfig;
use crate::picker::{PickerConfig, PieceOrder};

/// Milliseconds of a `Duration`, saturating (for defaults taken from the engine's structs).
fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Per-connection tunables: a subset of [`PeerConfig`] plus the connection actor's own.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct PeerSettings {
    /// [`PeerConfig::max_requests`].
    pub max_requests: usize,
    /// [`PeerConfig::min_requests`].
    pub min_requests: usize,
    /// [`PeerConfig::initial_requests`].
    pub initial_requests: usize,
    /// [`PeerConfig::max_peer_requests`].
    pub max_peer_requests: usize,
    /// [`PeerConfig::misbehaviour_limit`].
    pub misbehaviour_limit: u32,
    /// [`PeerConfig::request_timeout_min`].
    pub request_timeout_min_ms: u64,
    /// [`PeerConfig::request_timeout_max`].
    pub request_timeout_max_ms: u64,
    /// [`PeerConfig::keepalive_interval`].
    pub keepalive_interval_ms: u64,
    /// [`PeerConfig::silence_timeout`].
    pub silence_timeout_ms: u64,
    /// [`PeerConfig::snub_timeout`].
    pub snub_timeout_ms: u64,
    /// [`PeerConfig::rate_window`]: the window of the rates the choker ranks peers by;
    /// experiments that shrink the choker's intervals shrink it too.
    pub rate_window_ms: u64,
    /// How often a connection checks its timers (request time-outs, keep-alive, silence) and
    /// asks for work it could not get before.
    pub tick_ms: u64,
    /// Blocks a connection may be reading from disk at once for upload.
    pub max_reads_in_flight: usize,
    /// Bytes waiting to be written to the socket above which no more uploads are read from
    /// disk: a peer that reads slowly cannot make us buffer its whole request queue.
    pub write_buffer_limit: usize,
    /// Upload limit of each connection, payload bytes per second; 0 means unlimited. The
    /// session-wide limit (`upload_limit`) applies on top. To upload nothing at all (a free
    /// rider), keep every peer choked instead: `choke.strategy = "free-rider"`.
    pub upload_limit: u64,
    /// Download limit of each connection, payload bytes per second; 0 means unlimited. The
    /// session-wide limit (`download_limit`) applies on top.
    pub download_limit: u64,
}

impl Default for PeerSettings {
    fn default() -> Self {
        let d = PeerConfig::default();
        Self {
            max_requests: d.max_requests,
            min_requests: d.min_requests,
            initial_requests: d.initial_requests,
            max_peer_requests: d.max_peer_requests,
            misbehaviour_limit: d.misbehaviour_limit,
            request_timeout_min_ms: ms(d.request_timeout_min),
            request_timeout_max_ms: ms(d.request_timeout_max),
            keepalive_interval_ms: ms(d.keepalive_interval),
            silence_timeout_ms: ms(d.silence_timeout),
            snub_timeout_ms: ms(d.snub_timeout),
            rate_window_ms: ms(d.rate_window),
            tick_ms: 250,
            max_reads_in_flight: 32,
            write_buffer_limit: 1 << 20,
            upload_limit: 0,
            download_limit: 0,
        }
    }
}

impl PeerSettings {
    /// The engine's [`PeerConfig`] with these values.
    pub fn to_config(&self) -> PeerConfig {
        PeerConfig {
            max_requests: self.max_requests,
            min_requests: self.min_requests,
            initial_requests: self.initial_requests,
            max_peer_requests: self.max_peer_requests,
            misbehaviour_limit: self.misbehaviour_limit,
            request_timeout_min: Duration::from_millis(self.request_timeout_min_ms),
            request_timeout_max: Duration::from_millis(self.request_timeout_max_ms),
            keepalive_interval: Duration::from_millis(self.keepalive_interval_ms),
            silence_timeout: Duration::from_millis(self.silence_timeout_ms),
            snub_timeout: Duration::from_millis(self.snub_timeout_ms),
            rate_window: Duration::from_millis(self.rate_window_ms),
            ..PeerConfig::default()
        }
    }

    /// [`Self::tick_ms`] as a `Duration`.
    pub fn tick(&self) -> Duration {
        Duration::from_millis(self.tick_ms)
    }

    /// The fields that must not be 0, by name.
    pub(super) fn positive_fields(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("peer.max_requests", self.max_requests as u64),
            ("peer.min_requests", self.min_requests as u64),
            ("peer.initial_requests", self.initial_requests as u64),
            ("peer.max_peer_requests", self.max_peer_requests as u64),
            ("peer.tick_ms", self.tick_ms),
            ("peer.silence_timeout_ms", self.silence_timeout_ms),
            ("peer.keepalive_interval_ms", self.keepalive_interval_ms),
            ("peer.rate_window_ms", self.rate_window_ms),
            ("peer.max_reads_in_flight", self.max_reads_in_flight as u64),
            ("peer.write_buffer_limit", self.write_buffer_limit as u64),
        ]
    }
}

/// The piece order as written in a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PieceOrderSetting {
    /// [`PieceOrder::RarestFirst`].
    RarestFirst,
    /// [`PieceOrder::Random`].
    Random,
    /// [`PieceOrder::Sequential`].
    Sequential,
}

/// Piece-picking tunables: [`PickerConfig`] as plain values.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct PickerSettings {
    /// [`PickerConfig::order`]: `rarest-first`, `random` or `sequential`.
    pub order: PieceOrderSetting,
    /// [`PickerConfig::random_first_pieces`].
    pub random_first_pieces: usize,
    /// [`PickerConfig::max_pieces_in_flight`].
    pub max_pieces_in_flight: usize,
    /// [`PickerConfig::min_blocks_in_flight`].
    pub min_blocks_in_flight: usize,
    /// [`PickerConfig::endgame_max_duplicates`].
    pub endgame_max_duplicates: usize,
    /// [`PickerConfig::max_strikes`].
    pub max_strikes: u32,
}

impl Default for PickerSettings {
    fn default() -> Self {
        let d = PickerConfig::default();
        Self {
            order: match d.order {
                PieceOrder::RarestFirst => PieceOrderSetting::RarestFirst,
                PieceOrder::Random => PieceOrderSetting::Random,
                PieceOrder::Sequential => PieceOrderSetting::Sequential,
            },
            random_first_pieces: d.random_first_pieces,
            max_pieces_in_flight: d.max_pieces_in_flight,
            min_blocks_in_flight: d.min_blocks_in_flight,
            endgame_max_duplicates: d.endgame_max_duplicates,
            max_strikes: d.max_strikes,
        }
    }
}

impl PickerSettings {
    /// The engine's [`PickerConfig`] with these values.
    pub fn to_config(&self) -> PickerConfig {
        PickerConfig {
            order: match self.order {
                PieceOrderSetting::RarestFirst => PieceOrder::RarestFirst,
                PieceOrderSetting::Random => PieceOrder::Random,
                PieceOrderSetting::Sequential => PieceOrder::Sequential,
            },
            random_first_pieces: self.random_first_pieces,
            max_pieces_in_flight: self.max_pieces_in_flight,
            min_blocks_in_flight: self.min_blocks_in_flight,
            endgame_max_duplicates: self.endgame_max_duplicates,
            max_strikes: self.max_strikes,
        }
    }
}

/// The choking strategy as written in a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChokeStrategySetting {
    /// [`TitForTat`](crate::choker::TitForTat): regular slots by rate, a rotating optimistic
    /// unchoke.
    #[default]
    TitForTat,
    /// [`UnchokeAll`](crate::choker::UnchokeAll): every interested peer.
    UnchokeAll,
    /// [`RandomChoke`](crate::choker::RandomChoke): as many slots as tit-for-tat, drawn at
    /// random.
    Random,
    /// [`FreeRider`](crate::choker::FreeRider): nobody; the peer uploads nothing.
    FreeRider,
}

/// Choking tunables: [`ChokeConfig`] with durations in milliseconds, and the strategy.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct ChokeSettings {
    /// Which strategy decides: `tit-for-tat` (the default), `unchoke-all`, `random` or
    /// `free-rider` (uploads nothing: an upload limit of 0 means unlimited, so this is the
    /// way to make a peer that never uploads). A strategy passed in
    /// [`Strategies`](crate::Strategies) when adding a torrent overrides it.
    pub strategy: ChokeStrategySetting,
    /// [`ChokeConfig::unchoke_slots`].
    pub unchoke_slots: usize,
    /// [`ChokeConfig::optimistic_slots`].
    pub optimistic_slots: usize,
    /// [`ChokeConfig::rechoke_interval`].
    pub rechoke_interval_ms: u64,
    /// [`ChokeConfig::optimistic_interval`].
    pub optimistic_interval_ms: u64,
    /// [`ChokeConfig::snub_timeout`].
    pub snub_timeout_ms: u64,
    /// [`ChokeConfig::new_peer_weight`].
    pub new_peer_weight: u32,
}

impl Default for ChokeSettings {
    fn default() -> Self {
        let d = ChokeConfig::default();
        Self {
            strategy: ChokeStrategySetting::default(),
            unchoke_slots: d.unchoke_slots,
            optimistic_slots: d.optimistic_slots,
            rechoke_interval_ms: ms(d.rechoke_interval),
            optimistic_interval_ms: ms(d.optimistic_interval),
            snub_timeout_ms: ms(d.snub_timeout),
            new_peer_weight: d.new_peer_weight,
        }
    }
}

impl ChokeSettings {
    /// The engine's [`ChokeConfig`] with these values; the new-peer window stays three
    /// optimistic intervals, as mainline's.
    pub fn to_config(&self) -> ChokeConfig {
        let optimistic_interval = Duration::from_millis(self.optimistic_interval_ms);
        ChokeConfig {
            unchoke_slots: self.unchoke_slots,
            optimistic_slots: self.optimistic_slots,
            rechoke_interval: Duration::from_millis(self.rechoke_interval_ms),
            optimistic_interval,
            snub_timeout: Duration::from_millis(self.snub_timeout_ms),
            new_peer_window: optimistic_interval.saturating_mul(3),
            new_peer_weight: self.new_peer_weight,
        }
    }

    /// A rechoke timer of 0 would spin.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.rechoke_interval_ms == 0 {
            return Err(ConfigError(
                "choke.rechoke_interval_ms must be more than 0".into(),
            ));
        }
        Ok(())
    }
}

/// Tracker tunables: a subset of [`AnnouncerConfig`] with durations in milliseconds.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct AnnouncerSettings {
    /// [`AnnouncerConfig::numwant`].
    pub numwant: u32,
    /// [`AnnouncerConfig::stop_timeout`].
    pub stop_timeout_ms: u64,
    /// The shortest re-announce interval honoured, whatever the tracker says
    /// (`ScheduleConfig::interval_floor`); tests lower it to re-announce every second.
    pub interval_floor_ms: u64,
    /// The min interval assumed when a tracker names none (`ScheduleConfig::
    /// default_min_interval`): no announce, early or regular, comes sooner after the last.
    pub min_interval_ms: u64,
    /// The first back-off after every tracker failed (`ScheduleConfig::backoff_base`).
    pub backoff_base_ms: u64,
    /// The whole HTTP exchange (`HttpConfig::request_timeout`).
    pub http_timeout_ms: u64,
    /// The first UDP retransmission wait (`UdpConfig::retransmit_base`, BEP 15: 15 s).
    pub udp_retransmit_ms: u64,
}

impl Default for AnnouncerSettings {
    fn default() -> Self {
        let d = AnnouncerConfig::default();
        Self {
            numwant: d.numwant,
            stop_timeout_ms: ms(d.stop_timeout),
            interval_floor_ms: ms(d.schedule.interval_floor),
            min_interval_ms: ms(d.schedule.default_min_interval),
            backoff_base_ms: ms(d.schedule.backoff_base),
            http_timeout_ms: ms(d.transport.http.request_timeout),
            udp_retransmit_ms: ms(d.transport.udp.retransmit_base),
        }
    }
}

impl AnnouncerSettings {
    /// The engine's [`AnnouncerConfig`] with these values.
    pub fn to_config(&self) -> AnnouncerConfig {
        let mut config = AnnouncerConfig {
            numwant: self.numwant,
            stop_timeout: Duration::from_millis(self.stop_timeout_ms),
            ..AnnouncerConfig::default()
        };
        config.schedule.interval_floor = Duration::from_millis(self.interval_floor_ms);
        config.schedule.default_min_interval = Duration::from_millis(self.min_interval_ms);
        config.schedule.backoff_base = Duration::from_millis(self.backoff_base_ms);
        config.transport.http.request_timeout = Duration::from_millis(self.http_timeout_ms);
        config.transport.udp.retransmit_base = Duration::from_millis(self.udp_retransmit_ms);
        config
    }
}
