//! [`Scenario`]: the lab's preset experiments, each a way peers leave the swarm and the runs
//! that show its effect.

use bt_engine::config::{ChokeStrategySetting, PieceOrderSetting};

use super::{ExperimentConfig, RunSpec};

/// A preset experiment: how peers leave, and which chokers and piece orders to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Its name, also the directory of its files.
    pub name: &'static str,
    /// What it is for, in a sentence.
    pub about: &'static str,
    /// The chokers it runs (each with each piece order).
    pub chokers: &'static [ChokeStrategySetting],
    /// The piece orders it runs.
    pub pickers: &'static [PieceOrderSetting],
    /// Leechers leave as soon as they complete.
    pub leave_on_complete: bool,
    /// The seeder leaves once it has uploaded this many copies.
    pub seeder_leaves_after: Option<f64>,
    /// Seeds each combination runs under by default: a scenario whose effect is modest
    /// needs more free riders than one run has.
    pub repeat: u64,
}

/// The lab's scenarios, in the order a full run runs them.
pub const SCENARIOS: [Scenario; 2] = [
    Scenario {
        name: "incentives",
        about: "do free riders finish later than contributors? Leechers leave once complete, \
                the seeder stays",
        chokers: &[
            ChokeStrategySetting::TitForTat,
            ChokeStrategySetting::UnchokeAll,
        ],
        pickers: &[PieceOrderSetting::RarestFirst],
        leave_on_complete: true,
        seeder_leaves_after: None,
        repeat: 2,
    },
    Scenario {
        name: "seeder-leaves",
        about: "does the piece order keep every piece in the swarm? The seeder leaves after \
                uploading 1.25 copies, leechers seed once complete",
        chokers: &[ChokeStrategySetting::TitForTat],
        pickers: &[
            PieceOrderSetting::RarestFirst,
            PieceOrderSetting::Random,
            PieceOrderSetting::Sequential,
        ],
        leave_on_complete: false,
        seeder_leaves_after: Some(1.25),
        repeat: 1,
    },
];

impl Scenario {
    /// The scenario called `name`.
    pub fn by_name(name: &str) -> anyhow::Result<Scenario> {
        SCENARIOS
            .iter()
            .find(|s| s.name == name)
            .cloned()
            .ok_or_else(|| {
                let names: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
                anyhow::anyhow!("unknown scenario {name:?} ({})", names.join(", "))
            })
    }

    /// `base` with this scenario's way of leaving.
    pub fn config(&self, base: &ExperimentConfig) -> ExperimentConfig {
        ExperimentConfig {
            leave_on_complete: self.leave_on_complete,
            seeder_leaves_after: self.seeder_leaves_after,
            ..base.clone()
        }
    }

    /// Every combination of its chokers and piece orders, or of the ones given instead.
    pub fn runs(
        &self,
        chokers: Option<&[ChokeStrategySetting]>,
        pickers: Option<&[PieceOrderSetting]>,
    ) -> Vec<RunSpec> {
        let chokers = chokers.unwrap_or(self.chokers);
        let pickers = pickers.unwrap_or(self.pickers);
        chokers
            .iter()
            .flat_map(|c| pickers.iter().map(|p| RunSpec::new(*c, *p)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenarios_set_how_peers_leave_and_what_runs() {
        let base = ExperimentConfig::default();
        let incentives = Scenario::by_name("incentives").unwrap();
        assert!(incentives.config(&base).leave_on_complete);
        let names: Vec<String> = incentives
            .runs(None, None)
            .iter()
            .map(|r| r.name())
            .collect();
        assert_eq!(
            names,
            ["tit-for-tat_rarest-first", "unchoke-all_rarest-first"]
        );
        let leaves = Scenario::by_name("seeder-leaves").unwrap();
        let config = leaves.config(&base);
        assert_eq!(config.seeder_leaves_after, Some(1.25));
        assert!(!config.leave_on_complete);
        assert_eq!(leaves.runs(None, None).len(), 3);
        let only = leaves.runs(None, Some(&[PieceOrderSetting::Sequential]));
        assert_eq!(only[0].name(), "tit-for-tat_sequential");
        assert!(Scenario::by_name("nothing").is_err());
    }
}
