//! The choker with stub connections: interested peers are unchoked at once, the slots are
//! respected, and a departure hands its slot on.

use actix::{Actor, Addr};
use tokio::sync::mpsc::UnboundedReceiver;

use super::msg::*;
use super::*;
use crate::actors::test_support::{Recorder, Seen, next};
use crate::choker::{ChokeConfig, TitForTat};

fn choker(slots: usize) -> Addr<Choker> {
    let config = ChokeConfig {
        unchoke_slots: slots,
        optimistic_slots: 0,
        ..ChokeConfig::default()
    };
    Choker::new(ChokerSetup {
        strategy: Box::new(TitForTat::new(config, 7)),
        interval: Duration::from_secs(3600),
        mode: TorrentMode::Seeding,
        span: Span::none(),
        alive: None,
    })
    .start()
}

/// A stub peer joined to the choker, interested and uploaded to at `rate`.
fn join(choker: &Addr<Choker>, key: u64, rate: u64) -> UnboundedReceiver<Seen> {
    let (mut recorder, rx) = Recorder::new(PeerKey(key));
    recorder.info.interested = true;
    recorder.info.upload_rate = rate;
    let peer = recorder.start();
    choker.do_send(PeerJoined {
        key: PeerKey(key),
        choke: peer.clone().recipient(),
        unchoke: peer.clone().recipient(),
        info: peer.recipient(),
    });
    choker.do_send(InterestChanged { key: PeerKey(key) });
    rx
}

#[actix::test]
async fn an_interested_peer_is_unchoked_without_waiting_for_the_interval() {
    let choker = choker(3);
    let mut peer = join(&choker, 1, 0);
    assert_eq!(next(&mut peer).await, Seen::Unchoke);
}

#[actix::test]
async fn slots_go_to_the_best_rates_and_a_departure_hands_its_slot_on() {
    let choker = choker(1);
    let mut slow = join(&choker, 1, 10);
    assert_eq!(
        next(&mut slow).await,
        Seen::Unchoke,
        "alone, it gets the slot"
    );
    let mut fast = join(&choker, 2, 1_000);
    assert_eq!(next(&mut fast).await, Seen::Unchoke);
    assert_eq!(next(&mut slow).await, Seen::Choke, "outranked");
    choker.do_send(PeerLeft { key: PeerKey(2) });
    assert_eq!(
        next(&mut slow).await,
        Seen::Unchoke,
        "the slot is free again"
    );
}
