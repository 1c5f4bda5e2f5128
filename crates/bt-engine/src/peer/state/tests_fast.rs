//! Tests of the BEP 6 allowed-fast and suggest rules of [`PeerState`] (`fast.rs`).

use bt_proto::wire::PeerMessage;

use super::fast::MAX_SUGGESTED;
use super::test_support::*;
use crate::peer::{PeerError, PeerEvent};

fn piece(index: u32) -> bt_proto::geometry::PieceIndex {
    lengths().piece(index).expect("piece")
}

#[test]
fn allowed_fast_pieces_may_be_requested_while_choked_if_the_peer_has_them() {
    let (mut state, t0) = fresh(true);
    let events = state
        .on_message(PeerMessage::AllowedFast { piece: 3 }, t0)
        .expect("allowed fast");
    assert_eq!(events, vec![PeerEvent::AllowedFast(piece(3))]);
    state
        .on_message(PeerMessage::AllowedFast { piece: 5 }, t0)
        .expect("allowed fast");
    state.set_interested(true);
    // The peer has neither piece yet: nothing to ask for.
    assert!(state.allowed_fast().is_empty());
    assert_eq!(state.wanted_fast_requests(t0), 0);
    state
        .on_message(PeerMessage::Have { piece: 5 }, t0)
        .expect("have");
    assert_eq!(state.allowed_fast(), vec![piece(5)]);
    assert!(state.is_allowed_fast(piece(5)) && !state.is_allowed_fast(piece(3)));
    assert!(state.peer_choking());
    assert!(state.wanted_fast_requests(t0) > 0);
    assert_eq!(
        state.wanted_requests(t0),
        0,
        "the regular pipeline waits for unchoke"
    );
    // Unchoked, the regular pipeline takes over.
    state.on_message(PeerMessage::Unchoke, t0).expect("unchoke");
    assert_eq!(state.wanted_fast_requests(t0), 0);
    assert!(state.wanted_requests(t0) > 0);
}

#[test]
fn allowed_fast_needs_the_fast_extension_and_a_valid_piece() {
    let (mut state, t0) = fresh(false);
    let err = state
        .on_message(PeerMessage::AllowedFast { piece: 1 }, t0)
        .expect_err("not negotiated");
    assert!(matches!(err, PeerError::NotNegotiated("allowed fast")));
    let (mut state, t0) = fresh(true);
    let err = state
        .on_message(PeerMessage::AllowedFast { piece: 10 }, t0)
        .expect_err("out of range");
    assert!(matches!(err, PeerError::PieceOutOfRange { .. }));
}

#[test]
fn repeated_allowed_fast_messages_count_once() {
    let (mut state, t0) = fresh(true);
    state
        .on_message(PeerMessage::HaveAll, t0)
        .expect("have all");
    for _ in 0..3 {
        for p in 0..10 {
            state
                .on_message(PeerMessage::AllowedFast { piece: p }, t0)
                .expect("allowed fast");
        }
    }
    assert_eq!(state.allowed_fast().len(), 10);
}

#[test]
fn suggestions_are_kept_once_each_and_handed_out_once() {
    let (mut state, t0) = fresh(true);
    for p in [4, 2, 4] {
        let events = state
            .on_message(PeerMessage::Suggest { piece: p }, t0)
            .expect("suggest");
        assert_eq!(events, vec![PeerEvent::Suggested(piece(p))]);
    }
    assert_eq!(state.take_suggestions(), vec![piece(4), piece(2)]);
    assert!(state.take_suggestions().is_empty());
    for round in 0..(MAX_SUGGESTED + 5) {
        state
            .on_message(
                PeerMessage::Suggest {
                    piece: (round % 10) as u32,
                },
                t0,
            )
            .expect("suggest");
    }
    assert!(state.take_suggestions().len() <= MAX_SUGGESTED);
}

#[test]
fn requests_for_pieces_we_offered_are_served_while_choking_and_survive_a_choke() {
    let (mut state, t0) = fresh(true);
    let offered = state.offer_allowed_fast([piece(1), piece(2), piece(1)]);
    assert_eq!(
        offered,
        vec![
            PeerMessage::AllowedFast { piece: 1 },
            PeerMessage::AllowedFast { piece: 2 }
        ]
    );
    assert!(
        state.offer_allowed_fast([piece(2)]).is_empty(),
        "offered once"
    );
    assert!(state.am_choking());
    // Offered piece: queued although we choke.
    let events = state
        .on_message(request_for(block(1, 0)), t0)
        .expect("request");
    assert_eq!(events, vec![PeerEvent::BlockRequested(block(1, 0))]);
    // Any other piece: rejected (BEP 6).
    let events = state
        .on_message(request_for(block(3, 0)), t0)
        .expect("request");
    assert!(matches!(
        &events[..],
        [PeerEvent::Reply(PeerMessage::Reject(_))]
    ));
    // Unchoke, queue one of each, choke again: only the offered one stays.
    state.unchoke();
    state
        .on_message(request_for(block(3, 0)), t0)
        .expect("request");
    let messages = state.choke();
    assert_eq!(messages.len(), 2, "choke and one reject: {messages:?}");
    assert_eq!(state.peer_requests(), &[block(1, 0)]);
}

#[test]
fn nothing_is_offered_without_the_fast_extension() {
    let (mut state, _) = fresh(false);
    assert!(state.offer_allowed_fast([piece(1)]).is_empty());
}
