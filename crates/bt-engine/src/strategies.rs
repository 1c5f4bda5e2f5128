//! [`Strategies`]: the choking strategy and piece picker of a torrent, chosen by name in the
//! configuration or supplied by the embedder.
//!
//! By default a torrent runs the strategy named in `choke.strategy` (tit-for-tat, unchoke-all,
//! random, free-rider) and the [`StandardPicker`] with the order named in `picker.order`
//! (rarest-first, random, sequential). An embedder replaces either with its own by passing a
//! factory in [`AddTorrentOptions::strategies`](crate::AddTorrentOptions): the supervisor calls
//! it once, when the torrent's checking is done, with everything the strategy needs to start.
//!
//! ```
//! use std::time::Instant;
//! use bt_engine::choker::{ChokeDecision, ChokePeer, ChokeStrategy, TorrentMode, UnchokeReason};
//! use bt_engine::{AddTorrentOptions, Strategies};
//!
//! /// Unchokes the interested peer with the smallest key, and nobody else.
//! #[derive(Debug)]
//! struct OnlyOne;
//!
//! impl ChokeStrategy for OnlyOne {
//!     fn rechoke(&mut self, peers: &[ChokePeer], _: TorrentMode, _: Instant) -> ChokeDecision {
//!         let mut decision = ChokeDecision::default();
//!         if let Some(peer) = peers.iter().filter(|p| p.interested).min_by_key(|p| p.key) {
//!             decision.regular.insert(peer.key);
//!             decision.reasons.push((peer.key, UnchokeReason::Interested));
//!         }
//!         decision
//!     }
//!     fn name(&self) -> &'static str {
//!         "only-one"
//!     }
//! }
//!
//! let options = AddTorrentOptions::new("/tmp")
//!     .with_strategies(Strategies::default().with_choker(|_context| Box::new(OnlyOne)));
//! # let _ = options;
//! ```

use std::fmt;
use std::sync::Arc;

use bt_proto::InfoHash;
use bt_proto::bitfield::Bitfield;
use bt_proto::geometry::Lengths;

use crate::choker::{ChokeConfig, ChokeStrategy, FreeRider, RandomChoke, TitForTat, UnchokeAll};
use crate::config::ChokeStrategySetting;
use crate::picker::{PickerConfig, PickerError, PiecePicker, StandardPicker};

/// What a choker factory gets: the torrent, the configured tunables and a seed.
#[derive(Debug, Clone)]
pub struct ChokerContext {
    /// The torrent the strategy chokes for.
    pub info_hash: InfoHash,
    /// The session's choking tunables (slots, intervals, snub time-out).
    pub config: ChokeConfig,
    /// A fresh random seed for the strategy's draws (a factory may ignore it and use its own,
    /// to replay an experiment).
    pub seed: u64,
}

impl ChokerContext {
    /// The default strategy for this context, for factories that wrap it.
    pub fn tit_for_tat(&self) -> TitForTat {
        TitForTat::new(self.config.clone(), self.seed)
    }
}

/// What a picker factory gets: the torrent's geometry, the pieces we have, the configured
/// tunables and a seed.
#[derive(Debug, Clone)]
pub struct PickerContext {
    /// The torrent the picker picks for.
    pub info_hash: InfoHash,
    /// Its piece and block lengths.
    pub lengths: Lengths,
    /// The pieces the resume check found (one bit per piece).
    pub have: Bitfield,
    /// The session's picking tunables (order, pieces in flight, endgame, strikes).
    pub config: PickerConfig,
    /// A fresh random seed for the picker's draws.
    pub seed: u64,
}

impl PickerContext {
    /// The default picker for this context, for factories that wrap it or change its config.
    pub fn standard_picker(&self) -> Result<StandardPicker, PickerError> {
        StandardPicker::new(
            self.lengths,
            self.have.clone(),
            self.config.clone(),
            self.seed,
        )
    }
}

/// Builds a torrent's choking strategy.
pub type ChokerFactory = Arc<dyn Fn(ChokerContext) -> Box<dyn ChokeStrategy> + Send + Sync>;

/// Builds a torrent's piece picker. The picker must start from `context.have`: the pieces
/// it reports as ours are what the torrent announces.
pub type PickerFactory = Arc<dyn Fn(PickerContext) -> Box<dyn PiecePicker> + Send + Sync>;

/// The embedder's strategies for one torrent; `None` means the configured built-in one.
///
/// Two values are equal when they hold the same factories (by pointer), so options that
/// hold them can still be compared.
#[derive(Clone, Default)]
pub struct Strategies {
    choker: Option<ChokerFactory>,
    picker: Option<PickerFactory>,
}

impl Strategies {
    /// Uses `factory` for the choking strategy instead of `choke.strategy`.
    pub fn with_choker(
        mut self,
        factory: impl Fn(ChokerContext) -> Box<dyn ChokeStrategy> + Send + Sync + 'static,
    ) -> Self {
        self.choker = Some(Arc::new(factory));
        self
    }

    /// Uses `factory` for the piece picker instead of the [`StandardPicker`].
    pub fn with_picker(
        mut self,
        factory: impl Fn(PickerContext) -> Box<dyn PiecePicker> + Send + Sync + 'static,
    ) -> Self {
        self.picker = Some(Arc::new(factory));
        self
    }

    /// The torrent's choking strategy: the embedder's, or the built-in one `setting` names.
    pub fn choker(
        &self,
        setting: ChokeStrategySetting,
        context: ChokerContext,
    ) -> Box<dyn ChokeStrategy> {
        if let Some(factory) = &self.choker {
            return factory(context);
        }
        match setting {
            ChokeStrategySetting::TitForTat => Box::new(context.tit_for_tat()),
            ChokeStrategySetting::UnchokeAll => Box::new(UnchokeAll),
            ChokeStrategySetting::Random => {
                Box::new(RandomChoke::new(context.config, context.seed))
            }
            ChokeStrategySetting::FreeRider => Box::new(FreeRider),
        }
    }

    /// The torrent's piece picker: the embedder's, or the [`StandardPicker`] with the
    /// configured order.
    pub fn picker(&self, context: PickerContext) -> Result<Box<dyn PiecePicker>, PickerError> {
        match &self.picker {
            Some(factory) => Ok(factory(context)),
            None => Ok(Box::new(context.standard_picker()?)),
        }
    }
}

impl fmt::Debug for Strategies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |custom: bool| if custom { "custom" } else { "configured" };
        f.debug_struct("Strategies")
            .field("choker", &show(self.choker.is_some()))
            .field("picker", &show(self.picker.is_some()))
            .finish()
    }
}

impl PartialEq for Strategies {
    fn eq(&self, other: &Self) -> bool {
        fn same<T: ?Sized>(a: &Option<Arc<T>>, b: &Option<Arc<T>>) -> bool {
            match (a, b) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            }
        }
        same(&self.choker, &other.choker) && same(&self.picker, &other.picker)
    }
}

impl Eq for Strategies {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::choker::test_support::{at, interested_peer};
    use crate::choker::{ChokeDecision, ChokePeer, TorrentMode};
    use crate::picker::PieceOrder;

    fn choker_context() -> ChokerContext {
        ChokerContext {
            info_hash: InfoHash([1; 20]),
            config: ChokeConfig::default(),
            seed: 3,
        }
    }

    fn picker_context(order: PieceOrder) -> PickerContext {
        let lengths = Lengths::new(10 * 16_384, 16_384).expect("valid geometry");
        PickerContext {
            info_hash: InfoHash([1; 20]),
            lengths,
            have: Bitfield::new(10),
            config: PickerConfig {
                order,
                ..PickerConfig::default()
            },
            seed: 3,
        }
    }

    #[test]
    fn the_configured_choker_is_built_by_name() {
        let strategies = Strategies::default();
        let names = [
            (ChokeStrategySetting::TitForTat, "tit-for-tat"),
            (ChokeStrategySetting::UnchokeAll, "unchoke-all"),
            (ChokeStrategySetting::Random, "random"),
            (ChokeStrategySetting::FreeRider, "free-rider"),
        ];
        for (setting, name) in names {
            assert_eq!(strategies.choker(setting, choker_context()).name(), name);
        }
    }

    #[derive(Debug)]
    struct Nobody;

    impl ChokeStrategy for Nobody {
        fn rechoke(
            &mut self,
            _: &[ChokePeer],
            _: TorrentMode,
            _: std::time::Instant,
        ) -> ChokeDecision {
            ChokeDecision::default()
        }
        fn name(&self) -> &'static str {
            "nobody"
        }
    }

    #[test]
    fn a_custom_choker_overrides_the_setting() {
        let strategies = Strategies::default().with_choker(|_| Box::new(Nobody));
        let mut choker = strategies.choker(ChokeStrategySetting::UnchokeAll, choker_context());
        assert_eq!(choker.name(), "nobody");
        let peers = [interested_peer(1, 0)];
        assert!(
            choker
                .rechoke(&peers, TorrentMode::Leeching, at(0))
                .unchoked()
                .is_empty()
        );
    }

    #[test]
    fn the_picker_follows_the_configured_order_or_the_factory() {
        let strategies = Strategies::default();
        let mut picker = strategies
            .picker(picker_context(PieceOrder::Sequential))
            .expect("a picker");
        let peer = crate::choker::PeerKey(1);
        picker.peer_have_all(peer);
        let first = picker.pick_blocks(peer, 1);
        assert_eq!(first[0].piece.get(), 0, "sequential starts at piece 0");
        let custom = Strategies::default().with_picker(|context| {
            let mut config = context.config.clone();
            config.max_pieces_in_flight = 1;
            let context = PickerContext { config, ..context };
            Box::new(context.standard_picker().expect("valid context"))
        });
        let mut picker = custom
            .picker(picker_context(PieceOrder::Sequential))
            .expect("a picker");
        picker.peer_have_all(peer);
        assert_eq!(
            picker.pick_blocks(peer, 5).len(),
            1,
            "one piece of one block in flight"
        );
    }

    #[test]
    fn strategies_compare_by_factory_identity() {
        let custom = Strategies::default().with_choker(|_| Box::new(Nobody));
        assert_eq!(custom, custom.clone());
        assert_ne!(custom, Strategies::default());
        assert_ne!(
            custom,
            Strategies::default().with_choker(|_| Box::new(Nobody))
        );
        assert_eq!(
            format!("{custom:?}"),
            r#"Strategies { choker: "custom", picker: "configured" }"#
        );
    }
}
