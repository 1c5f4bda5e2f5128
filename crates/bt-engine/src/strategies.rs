//! [`Strategies`]: the choking strategy and piece picker of a torrent, chosen by name in the
//! configuration or supplied by the embedder.
//!
//! By default a torrent runs the strategy named in `choke.strategy` (tit-for-tat, unchoke-all,
//! random, free-rider) and the [`StandardPicker`] with the order named in `picker.order`
//! (rarest-first, random, sequential). An embedder replaces either with its own by passing a
//! factory in [`AddTorrentOptions::strategies`](crate::AddTorrentOptions): the supervisor calls
//! it once, when the torrent's checking is done, with everything the strategy needs to start.
//!
//! The seed in each context is fresh from the OS unless the embedder fixed one with
//! [`Strategies::with_seed`]: then the choker's and the picker's seeds are derived from it and
//! the info-hash, so an experiment that gives every peer its own seed replays the same random
//! draws (optimistic unchokes, tie-breaks, random piece orders) from run to run, as far as the
//! timing of the network allows.
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
    /// The seed for the strategy's draws: fresh, or derived from [`Strategies::with_seed`].
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
    /// The seed for the picker's draws: fresh, or derived from [`Strategies::with_seed`].
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
/// Two values are equal when they hold the same factories (by pointer) and the same seed, so
/// options that hold them can still be compared.
#[derive(Clone, Default)]
pub struct Strategies {
    choker: Option<ChokerFactory>,
    picker: Option<PickerFactory>,
    /// The embedder's seed, from which the contexts' seeds are derived; `None`: fresh ones.
    seed: Option<u64>,
}

/// Tells the choker's seed from the picker's when both derive from one seed.
#[derive(Debug, Clone, Copy)]
enum SeedUse {
    Choker = 1,
    Picker = 2,
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

    /// Seeds the random draws of the torrent's choker and picker (built-in or the embedder's,
    /// through their context's `seed`) from `seed` instead of fresh OS randomness, so that a
    /// run can be replayed. Give each peer of an experiment its own seed: two peers with the
    /// same seed draw alike.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The seed [`with_seed`](Self::with_seed) set, if any.
    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// The seed of the choker of torrent `info_hash`: derived from the embedder's seed and
    /// the info-hash, or fresh if there is none.
    pub fn choker_seed(&self, info_hash: &InfoHash) -> u64 {
        self.derive_seed(info_hash, SeedUse::Choker)
    }

    /// The seed of the picker of torrent `info_hash`; see [`choker_seed`](Self::choker_seed).
    pub fn picker_seed(&self, info_hash: &InfoHash) -> u64 {
        self.derive_seed(info_hash, SeedUse::Picker)
    }

    fn derive_seed(&self, info_hash: &InfoHash, usage: SeedUse) -> u64 {
        let Some(seed) = self.seed else {
            return rand::random();
        };
        // SplitMix64 steps over the seed, the use and the info-hash: nearby seeds (peer 1,
        // peer 2) give unrelated streams, and one seed gives each torrent its own.
        let mut state = mix(seed ^ mix(usage as u64));
        for chunk in info_hash.0.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            state = mix(state ^ u64::from_le_bytes(word));
        }
        state
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

/// One step of SplitMix64 (Steele, Lea and Flood 2014): a bijection that scatters its input.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl fmt::Debug for Strategies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |custom: bool| if custom { "custom" } else { "configured" };
        f.debug_struct("Strategies")
            .field("choker", &show(self.choker.is_some()))
            .field("picker", &show(self.picker.is_some()))
            .field("seed", &self.seed)
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
        same(&self.choker, &other.choker)
            && same(&self.picker, &other.picker)
            && self.seed == other.seed
    }
}

impl Eq for Strategies {}

#[cfg(test)]
mod tests;
