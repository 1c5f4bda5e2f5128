//! Swappable strategies in whole swarms: chokers and piece orders chosen by name in the
//! configuration, a free rider that uploads nothing, and an embedder's own choker and picker
//! passed through `AddTorrentOptions`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bt_engine::choker::{ChokeDecision, ChokePeer, ChokeStrategy, TorrentMode, UnchokeAll};
use bt_engine::config::{ChokeStrategySetting, PieceOrderSetting};
use bt_engine::picker::PieceOrder;
use bt_engine::strategies::PickerContext;
use bt_engine::{Strategies, TorrentEvent};
use bt_test_harness::{PayloadSpec, Swarm};

use crate::logs;

const TIMEOUT: Duration = Duration::from_secs(30);

/// Unchoke-all seeders, random-choke leechers picking pieces at random: the baselines run end
/// to end.
#[actix::test]
async fn baseline_strategies_named_in_the_config_complete_a_swarm() {
    logs();
    let mut seeder = Swarm::test_config();
    seeder.choke.strategy = ChokeStrategySetting::UnchokeAll;
    let mut leecher = Swarm::test_config();
    leecher.choke.strategy = ChokeStrategySetting::Random;
    leecher.picker.order = PieceOrderSetting::Random;
    let swarm = Swarm::builder()
        .payload(PayloadSpec::single_file("baseline.bin", 1 << 20), 21)
        .seeders(1)
        .leechers(2)
        .seeder_config(seeder)
        .config(leecher)
        .build()
        .await
        .unwrap();
    swarm.wait_complete(TIMEOUT).await.unwrap();
    swarm.check_leecher_files().unwrap();
    swarm.shutdown().await.unwrap();
}

/// A seeder running the free-rider choker never unchokes its leecher, which gets nothing over
/// many rechoke periods; a second, ordinary seeder then serves the whole payload.
#[actix::test]
async fn a_free_rider_uploads_nothing() {
    logs();
    let mut free_rider = Swarm::test_config();
    free_rider.choke.strategy = ChokeStrategySetting::FreeRider;
    // BEP 6 lets a choked peer fetch the allowed-fast pieces it was offered: offer none.
    free_rider.extensions.allowed_fast_count = 0;
    let mut swarm = Swarm::builder()
        .payload(PayloadSpec::single_file("free.bin", 512 * 1024), 22)
        .seeders(1)
        .leechers(1)
        .seeder_config(free_rider)
        .build()
        .await
        .unwrap();
    let leecher = 1;
    swarm.members[leecher]
        .wait_until(TIMEOUT, |s| !s.peers.is_empty())
        .await
        .unwrap();
    // Ten rechoke periods of the test configuration.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = swarm.members[leecher].stats().await.unwrap();
    let gave = swarm.members[0].stats().await.unwrap();
    assert_eq!(got.downloaded, 0, "the free rider uploaded");
    assert_eq!(gave.uploaded, 0);
    assert_eq!(got.pieces_have, 0);
    swarm.add_seeder(Swarm::test_config()).await.unwrap();
    swarm.members[leecher].wait_complete(TIMEOUT).await.unwrap();
    swarm.check_leecher_files().unwrap();
    let gave = swarm.members[0].stats().await.unwrap();
    assert_eq!(gave.uploaded, 0, "still nothing from the free rider");
    swarm.shutdown().await.unwrap();
}

/// Every decision an embedder's choker made, as (peers seen, peers unchoked).
type Log = Arc<Mutex<Vec<(usize, usize)>>>;

/// An embedder's choker: unchoke-all, logging every decision.
#[derive(Debug)]
struct Logging {
    log: Log,
}

impl ChokeStrategy for Logging {
    fn rechoke(&mut self, peers: &[ChokePeer], mode: TorrentMode, now: Instant) -> ChokeDecision {
        let decision = UnchokeAll.rechoke(peers, mode, now);
        let entry = (peers.len(), decision.unchoked().len());
        self.log.lock().expect("the log").push(entry);
        decision
    }

    fn name(&self) -> &'static str {
        "logging"
    }
}

/// The embedder's choker decides for every member: it is called, it sees the peers, and what it
/// unchokes is what gets served.
#[actix::test]
async fn an_embedders_choker_decides() {
    logs();
    let log: Log = Arc::default();
    let for_factory = Arc::clone(&log);
    let strategies = Strategies::default().with_choker(move |_context| {
        Box::new(Logging {
            log: Arc::clone(&for_factory),
        })
    });
    let swarm = Swarm::builder()
        .payload(PayloadSpec::single_file("custom.bin", 512 * 1024), 23)
        .seeders(1)
        .leechers(1)
        .strategies(strategies)
        .build()
        .await
        .unwrap();
    swarm.wait_complete(TIMEOUT).await.unwrap();
    swarm.check_leecher_files().unwrap();
    let decisions = log.lock().expect("the log").clone();
    assert!(
        decisions
            .iter()
            .any(|&(seen, unchoked)| seen > 0 && unchoked > 0),
        "no decision of the custom choker unchoked a peer: {decisions:?}"
    );
    swarm.shutdown().await.unwrap();
}

/// The embedder's picker replaces the configured one: the session says rarest-first, the
/// factory builds a sequential picker with one piece in flight, and pieces complete in index
/// order.
#[actix::test]
async fn an_embedders_picker_picks() {
    logs();
    let calls = Arc::new(Mutex::new(0usize));
    let counted = Arc::clone(&calls);
    let strategies = Strategies::default().with_picker(move |context: PickerContext| {
        *counted.lock().expect("the count") += 1;
        let mut config = context.config.clone();
        config.order = PieceOrder::Sequential;
        config.max_pieces_in_flight = 1;
        config.min_blocks_in_flight = 0;
        let context = PickerContext { config, ..context };
        Box::new(context.standard_picker().expect("a valid context"))
    });
    let spec = PayloadSpec::single_file("ordered.bin", 24 * 16 * 1024).with_piece_length(16 * 1024);
    let mut swarm = Swarm::builder()
        .payload(spec, 24)
        .seeders(1)
        .leechers(0)
        .strategies(strategies)
        .build()
        .await
        .unwrap();
    let leecher = swarm.add_leecher().await.unwrap();
    let mut events = swarm.members[leecher].torrent.subscribe();
    let mut order = Vec::new();
    let collect = async {
        while let Ok(event) = events.recv().await {
            if let TorrentEvent::PieceVerified { piece, have, total } = event {
                order.push(piece);
                if have == total {
                    break;
                }
            }
        }
    };
    tokio::time::timeout(TIMEOUT, collect).await.unwrap();
    assert_eq!(
        order,
        (0..24).collect::<Vec<u32>>(),
        "pieces in index order"
    );
    assert_eq!(
        *calls.lock().expect("the count"),
        2,
        "one picker per member"
    );
    swarm.check_leecher_files().unwrap();
    swarm.shutdown().await.unwrap();
}

/// The seeds a torrent's choker and picker factories were given.
type Seeds = Arc<Mutex<Vec<(&'static str, u64)>>>;

/// With `Strategies::with_seed`, the supervisor gives the choker and the picker the seeds
/// derived from it, not fresh ones: a member started twice with the same seed draws alike.
#[actix::test]
async fn a_seeded_torrent_gives_its_strategies_the_derived_seeds() {
    logs();
    let seeds: Seeds = Arc::default();
    let (for_choker, for_picker) = (Arc::clone(&seeds), Arc::clone(&seeds));
    let strategies = Strategies::default()
        .with_seed(42)
        .with_choker(move |context| {
            let entry = ("choker", context.seed);
            for_choker.lock().expect("the seeds").push(entry);
            Box::new(context.tit_for_tat())
        })
        .with_picker(move |context: PickerContext| {
            let entry = ("picker", context.seed);
            for_picker.lock().expect("the seeds").push(entry);
            Box::new(context.standard_picker().expect("a valid context"))
        });
    let mut swarm = Swarm::builder()
        .payload(PayloadSpec::single_file("seeded.bin", 256 * 1024), 25)
        .seeders(1)
        .leechers(1)
        .strategies(strategies.clone())
        .build()
        .await
        .unwrap();
    swarm.wait_complete(TIMEOUT).await.unwrap();
    // A restarted member (a new session) gets the same seeds again.
    swarm.restart(1, Swarm::test_config()).await.unwrap();
    swarm.members[1]
        .wait_until(TIMEOUT, |s| s.state == bt_engine::TorrentState::Seeding)
        .await
        .unwrap();
    let info_hash = swarm.metainfo.info_hash;
    let (choker, picker) = (
        strategies.choker_seed(&info_hash),
        strategies.picker_seed(&info_hash),
    );
    let mut seen = seeds.lock().expect("the seeds").clone();
    seen.sort();
    let expected = [vec![("choker", choker); 3], vec![("picker", picker); 3]].concat();
    assert_eq!(seen, expected, "three torrents started, each with both");
    swarm.shutdown().await.unwrap();
}
