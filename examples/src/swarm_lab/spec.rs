//! [`RunSpec`]: what one run varies (the choker and the piece order, by name or the
//! embedder's own), and the configuration names of the built-in ones.

use bt_engine::Strategies;
use bt_engine::choker::FreeRider;
use bt_engine::config::{ChokeStrategySetting, PieceOrderSetting};

/// One combination to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSpec {
    /// The choker of the seeder and of every contributing leecher.
    pub choker: ChokeStrategySetting,
    /// The piece order of every leecher.
    pub picker: PieceOrderSetting,
    /// The embedder's strategies and the run's name: they replace the choker or the picker
    /// they hold, in every member (free riders keep the free-rider choker).
    pub custom: Option<CustomStrategies>,
}

/// An embedder's strategies, named for the run's files and tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomStrategies {
    /// The run's name (for its files: letters, digits and dashes).
    pub name: String,
    /// Its choker factory, its picker factory, or both.
    pub strategies: Strategies,
}

impl RunSpec {
    /// A run of the built-in `choker` and `picker`.
    pub fn new(choker: ChokeStrategySetting, picker: PieceOrderSetting) -> Self {
        Self {
            choker,
            picker,
            custom: None,
        }
    }

    /// A run of the embedder's `strategies`, called `name`; what they do not replace is
    /// tit-for-tat and rarest-first.
    pub fn custom(name: impl Into<String>, strategies: Strategies) -> Self {
        Self {
            custom: Some(CustomStrategies {
                name: name.into(),
                strategies,
            }),
            ..Self::new(
                ChokeStrategySetting::TitForTat,
                PieceOrderSetting::RarestFirst,
            )
        }
    }

    /// The custom name, or `choker_picker`: for file names and tables.
    pub fn name(&self) -> String {
        match &self.custom {
            Some(custom) => custom.name.clone(),
            None => format!("{}_{}", choker_name(self.choker), picker_name(self.picker)),
        }
    }

    /// The strategies of a member: the custom ones (with the free-rider choker for a free
    /// rider) or the configured ones, seeded with `seed`.
    pub fn strategies(&self, free_rider: bool, seed: u64) -> Strategies {
        let strategies = match &self.custom {
            Some(custom) if free_rider => custom
                .strategies
                .clone()
                .with_choker(|_| Box::new(FreeRider)),
            Some(custom) => custom.strategies.clone(),
            None => Strategies::default(),
        };
        strategies.with_seed(seed)
    }

    /// The run a name stands for: `choker_picker`, or else a custom run of that name (read
    /// back from files, without its factories).
    pub fn from_name(name: &str) -> Self {
        let builtin = name
            .split_once('_')
            .and_then(|(c, p)| Some(Self::new(parse_choker(c).ok()?, parse_picker(p).ok()?)));
        builtin.unwrap_or_else(|| Self::custom(name, Strategies::default()))
    }
}

/// The configuration name of a choker.
pub fn choker_name(choker: ChokeStrategySetting) -> &'static str {
    match choker {
        ChokeStrategySetting::TitForTat => "tit-for-tat",
        ChokeStrategySetting::UnchokeAll => "unchoke-all",
        ChokeStrategySetting::Random => "random",
        ChokeStrategySetting::FreeRider => "free-rider",
    }
}

/// The configuration name of a piece order.
pub fn picker_name(picker: PieceOrderSetting) -> &'static str {
    match picker {
        PieceOrderSetting::RarestFirst => "rarest-first",
        PieceOrderSetting::Random => "random",
        PieceOrderSetting::Sequential => "sequential",
    }
}

/// A choker by its configuration name.
pub fn parse_choker(name: &str) -> anyhow::Result<ChokeStrategySetting> {
    [
        ChokeStrategySetting::TitForTat,
        ChokeStrategySetting::UnchokeAll,
        ChokeStrategySetting::Random,
        ChokeStrategySetting::FreeRider,
    ]
    .into_iter()
    .find(|c| choker_name(*c) == name)
    .ok_or_else(|| {
        anyhow::anyhow!("unknown choker {name:?} (tit-for-tat, unchoke-all, random, free-rider)")
    })
}

/// A piece order by its configuration name.
pub fn parse_picker(name: &str) -> anyhow::Result<PieceOrderSetting> {
    [
        PieceOrderSetting::RarestFirst,
        PieceOrderSetting::Random,
        PieceOrderSetting::Sequential,
    ]
    .into_iter()
    .find(|p| picker_name(*p) == name)
    .ok_or_else(|| {
        anyhow::anyhow!("unknown piece order {name:?} (rarest-first, random, sequential)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bt_engine::proto::InfoHash;

    #[test]
    fn names_go_both_ways() {
        let spec = RunSpec::new(ChokeStrategySetting::UnchokeAll, PieceOrderSetting::Random);
        assert_eq!(spec.name(), "unchoke-all_random");
        assert_eq!(RunSpec::from_name("unchoke-all_random"), spec);
        let custom = RunSpec::from_name("top-two");
        assert_eq!(custom.name(), "top-two");
        assert!(custom.custom.is_some());
        assert_eq!(
            parse_choker("tit-for-tat").unwrap(),
            ChokeStrategySetting::TitForTat
        );
        assert!(parse_picker("fastest").is_err());
    }

    #[test]
    fn every_member_is_seeded_and_free_riders_keep_their_choker() {
        let custom = RunSpec::custom(
            "unchoke-all-custom",
            Strategies::default().with_choker(|_| Box::new(bt_engine::choker::UnchokeAll)),
        );
        let torrent = InfoHash([3; 20]);
        let context = |strategies: &Strategies| bt_engine::strategies::ChokerContext {
            info_hash: torrent,
            config: bt_engine::choker::ChokeConfig::default(),
            seed: strategies.choker_seed(&torrent),
        };
        let built = |free_rider| {
            let strategies = custom.strategies(free_rider, 7);
            assert_eq!(strategies.seed(), Some(7));
            let context = context(&strategies);
            strategies
                .choker(ChokeStrategySetting::TitForTat, context)
                .name()
        };
        assert_eq!(built(false), "unchoke-all");
        assert_eq!(built(true), "free-rider");
        let plain = RunSpec::new(ChokeStrategySetting::TitForTat, PieceOrderSetting::Random);
        assert_eq!(
            plain.strategies(false, 8),
            Strategies::default().with_seed(8)
        );
    }
}
