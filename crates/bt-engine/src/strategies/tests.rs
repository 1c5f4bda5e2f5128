//! Tests of [`Strategies`]: built-in strategies by name, the embedder's factories, seeds.

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
    fn rechoke(&mut self, _: &[ChokePeer], _: TorrentMode, _: std::time::Instant) -> ChokeDecision {
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
        config.min_blocks_in_flight = 0;
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
        r#"Strategies { choker: "custom", picker: "configured", seed: None }"#
    );
    assert_ne!(custom.clone().with_seed(1), custom);
    assert_eq!(custom.clone().with_seed(1), custom.with_seed(1));
}

#[test]
fn a_fixed_seed_derives_the_same_seeds_every_time() {
    let torrent = InfoHash([1; 20]);
    let seeded = Strategies::default().with_seed(5);
    assert_eq!(seeded.seed(), Some(5));
    assert_eq!(seeded.choker_seed(&torrent), seeded.choker_seed(&torrent));
    assert_eq!(seeded.picker_seed(&torrent), seeded.picker_seed(&torrent));
    assert_ne!(
        seeded.choker_seed(&torrent),
        seeded.picker_seed(&torrent),
        "the choker and the picker draw apart"
    );
    let next = Strategies::default().with_seed(6);
    assert_ne!(seeded.choker_seed(&torrent), next.choker_seed(&torrent));
    let other = InfoHash([2; 20]);
    assert_ne!(seeded.choker_seed(&torrent), seeded.choker_seed(&other));
}

#[test]
fn without_a_seed_every_context_gets_a_fresh_one() {
    let torrent = InfoHash([1; 20]);
    let fresh = Strategies::default();
    assert_eq!(fresh.seed(), None);
    // Two draws of 64 random bits agree once in 2^64.
    assert_ne!(fresh.choker_seed(&torrent), fresh.choker_seed(&torrent));
}

#[test]
fn the_same_seed_gives_the_same_random_piece_order() {
    let torrent = InfoHash([1; 20]);
    let order = |strategies: &Strategies| {
        let context = PickerContext {
            seed: strategies.picker_seed(&torrent),
            ..picker_context(PieceOrder::Random)
        };
        let mut picker = strategies.picker(context).expect("a picker");
        let peer = crate::choker::PeerKey(1);
        picker.peer_have_all(peer);
        picker
            .pick_blocks(peer, 10)
            .iter()
            .map(|block| block.piece.get())
            .collect::<Vec<u32>>()
    };
    let seeded = Strategies::default().with_seed(9);
    assert_eq!(order(&seeded), order(&seeded.clone()));
    let differs =
        (10..20).any(|seed| order(&Strategies::default().with_seed(seed)) != order(&seeded));
    assert!(differs, "the seed should matter");
}
