//! The choker lab's run: the engine's Choker actor, driven by its own timer, decides as
//! tit-for-tat says for the lab's synthetic peers.

use bt_engine::choker::{ChokeReason, PeerKey, TorrentMode, UnchokeReason};
use bt_examples::choker_lab::{LabConfig, LabRun, run};

fn key(lab: &LabRun, label: &str) -> PeerKey {
    let index = lab.labels.iter().position(|l| *l == label).expect(label);
    PeerKey(index as u64)
}

#[actix::test]
async fn the_lab_records_tit_for_tat_decisions() {
    let config = LabConfig::default();
    let slots = config.choke_config();
    let lab = run(config.clone()).await.unwrap();
    assert_eq!(lab.rounds.len(), config.rounds);
    let (fast, medium_b) = (key(&lab, "fast"), key(&lab, "medium-b"));
    let (snubber, uninterested) = (key(&lab, "snubber"), key(&lab, "uninterested"));
    let newcomer = key(&lab, "newcomer");
    let mut snubbed = false;
    for round in &lab.rounds {
        let decision = &round.decision;
        assert!(decision.regular.len() <= slots.unchoke_slots);
        assert!(decision.optimistic.len() <= slots.optimistic_slots);
        assert_eq!(
            decision.reasons.len(),
            round.peers.len(),
            "a reason per peer"
        );
        assert_eq!(
            decision.reason_for(uninterested),
            Some(&UnchokeReason::Choked(ChokeReason::NotInterested))
        );
        match round.mode {
            TorrentMode::Leeching => {
                // The fastest uploader to us always holds the first regular slot.
                assert!(
                    matches!(
                        decision.reason_for(fast),
                        Some(UnchokeReason::BestRate { rank: 0, .. })
                    ),
                    "round {}: {:?}",
                    round.number,
                    decision.reason_for(fast)
                );
                snubbed |= decision.reason_for(snubber)
                    == Some(&UnchokeReason::Choked(ChokeReason::Snubbed));
            }
            TorrentMode::Seeding => {
                // The fastest taker of our upload holds the first regular slot.
                assert!(matches!(
                    decision.reason_for(medium_b),
                    Some(UnchokeReason::BestRate { rank: 0, .. })
                ));
            }
        }
    }
    assert!(snubbed, "the peer that stopped sending was snubbed");
    assert!(
        lab.rounds.iter().any(|r| r.mode == TorrentMode::Seeding),
        "the lab switched to seeding"
    );
    assert!(
        lab.rounds.iter().any(|r| r.decision.is_unchoked(newcomer)),
        "the newcomer got a slot"
    );
    assert!(
        lab.messages
            .iter()
            .any(|(peer, choked)| *peer == fast && !choked),
        "the peers received the choker's UNCHOKEs"
    );
}
