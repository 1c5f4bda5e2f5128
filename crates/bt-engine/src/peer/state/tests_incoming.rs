//! Tests of [`PeerState::on_message`]: one per protocol rule.

use bt_proto::bitfield::BitfieldError;
use bt_proto::geometry::GeometryError;
use bt_proto::wire::{BlockRequest, PeerMessage};
use bytes::Bytes;

use super::test_support::*;
use super::wire_request;
use crate::peer::{PeerConfig, PeerError, PeerEvent};

#[test]
fn starts_choked_both_ways_and_not_interested() {
    let (state, _) = fresh(false);
    assert!(state.am_choking() && state.peer_choking());
    assert!(!state.am_interested() && !state.peer_interested());
    assert!(state.peer_pieces().none());
}

#[test]
fn bitfield_is_accepted_first_even_after_keepalive_and_extended() {
    let (mut state, t0) = state_with(negotiated(false, true), PeerConfig::default());
    state
        .on_message(PeerMessage::KeepAlive, t0)
        .expect("keep-alive");
    let ext = PeerMessage::Extended {
        id: 0,
        payload: Bytes::from_static(b"de"),
    };
    let events = state.on_message(ext, t0).expect("extended");
    assert!(matches!(
        &events[..],
        [PeerEvent::ExtendedMessage { id: 0, .. }]
    ));
    let bits = Bytes::from_static(&[0b1000_0000, 0b0100_0000]);
    let events = state
        .on_message(PeerMessage::Bitfield(bits), t0)
        .expect("bitfield");
    let [PeerEvent::PeerBitfield(got)] = &events[..] else {
        panic!("{events:?}");
    };
    assert!(got.has(0) && got.has(9) && got.count_ones() == 2);
    assert_eq!(state.peer_pieces(), got);
}

#[test]
fn bitfield_only_as_first_message() {
    let (mut state, t0) = fresh(false);
    state
        .on_message(PeerMessage::Have { piece: 1 }, t0)
        .expect("have");
    let bits = PeerMessage::Bitfield(Bytes::from_static(&[0, 0]));
    let err = state
        .on_message(bits.clone(), t0)
        .expect_err("late bitfield");
    assert!(matches!(err, PeerError::NotFirstMessage("bitfield")));

    let (mut state, t0) = fresh(false);
    state.on_message(bits.clone(), t0).expect("first bitfield");
    assert!(matches!(
        state.on_message(bits, t0),
        Err(PeerError::NotFirstMessage(_))
    ));
}

#[test]
fn bitfield_of_wrong_length_is_an_error() {
    for bytes in [&[0u8][..], &[0, 0, 0][..], &[][..]] {
        let (mut state, t0) = fresh(false);
        let msg = PeerMessage::Bitfield(Bytes::copy_from_slice(bytes));
        let err = state.on_message(msg, t0).expect_err("wrong length");
        assert!(
            matches!(
                err,
                PeerError::BadBitfield(BitfieldError::WrongLength { expected: 2, .. })
            ),
            "{err:?}"
        );
    }
}

#[test]
fn bitfield_with_spare_bits_is_an_error() {
    let (mut state, t0) = fresh(false);
    let msg = PeerMessage::Bitfield(Bytes::from_static(&[0xff, 0b1110_0000]));
    let err = state.on_message(msg, t0).expect_err("spare bits");
    assert!(matches!(
        err,
        PeerError::BadBitfield(BitfieldError::SpareBitsSet { .. })
    ));
}

#[test]
fn have_sets_a_piece_once_and_rejects_out_of_range() {
    let (mut state, t0) = fresh(false);
    let events = state
        .on_message(PeerMessage::Have { piece: 9 }, t0)
        .expect("have");
    assert!(matches!(&events[..], [PeerEvent::PeerHas(p)] if p.get() == 9));
    let again = state
        .on_message(PeerMessage::Have { piece: 9 }, t0)
        .expect("again");
    assert!(again.is_empty(), "duplicate HAVE must not count twice");
    let err = state
        .on_message(PeerMessage::Have { piece: 10 }, t0)
        .expect_err("out of range");
    assert!(matches!(
        err,
        PeerError::PieceOutOfRange {
            index: 10,
            count: 10,
            ..
        }
    ));
    assert!(
        state
            .on_message(PeerMessage::Have { piece: u32::MAX }, t0)
            .is_err()
    );
}

#[test]
fn flag_messages_report_changes_only() {
    let (mut state, t0) = fresh(false);
    let step = |state: &mut super::PeerState, msg| state.on_message(msg, t0).expect("flag");
    assert_eq!(
        step(&mut state, PeerMessage::Interested),
        [PeerEvent::Interested]
    );
    assert!(step(&mut state, PeerMessage::Interested).is_empty());
    assert_eq!(
        step(&mut state, PeerMessage::Unchoke),
        [PeerEvent::Unchoked]
    );
    assert!(step(&mut state, PeerMessage::Unchoke).is_empty());
    assert!(!state.peer_choking() && state.peer_interested());
    assert_eq!(
        step(&mut state, PeerMessage::NotInterested),
        [PeerEvent::NotInterested]
    );
    assert!(step(&mut state, PeerMessage::NotInterested).is_empty());
    let choked = step(&mut state, PeerMessage::Choke);
    assert_eq!(choked, [PeerEvent::Choked { forgotten: vec![] }]);
    assert!(step(&mut state, PeerMessage::Choke).is_empty());
}

#[test]
fn request_while_we_choke_is_ignored_without_fast() {
    let (mut state, t0) = fresh(false);
    let events = state
        .on_message(request(0, 0, 16_384), t0)
        .expect("request");
    assert!(events.is_empty());
    assert_eq!(state.stats().ignored_requests, 1);
    assert!(state.peer_requests().is_empty());
}

#[test]
fn request_while_we_choke_is_rejected_with_fast() {
    let (mut state, t0) = fresh(true);
    let raw = BlockRequest {
        piece: 0,
        offset: 0,
        length: 16_384,
    };
    let events = state
        .on_message(PeerMessage::Request(raw), t0)
        .expect("request");
    assert_eq!(events, [PeerEvent::Reply(PeerMessage::Reject(raw))]);
}

#[test]
fn request_is_queued_once_when_unchoked() {
    let (mut state, t0) = fresh(false);
    state.unchoke();
    let events = state
        .on_message(request_for(block(3, 1)), t0)
        .expect("request");
    assert_eq!(events, [PeerEvent::BlockRequested(block(3, 1))]);
    assert!(
        state
            .on_message(request_for(block(3, 1)), t0)
            .expect("dup")
            .is_empty()
    );
    // Unaligned requests are allowed (BEP 3 does not require the grid).
    let odd = state
        .on_message(request(3, 100, 1000), t0)
        .expect("odd request");
    assert_eq!(odd.len(), 1);
    assert_eq!(state.peer_requests().len(), 2);
}

#[test]
fn request_too_large_or_outside_the_torrent_is_an_error() {
    let bad = [
        (request(0, 0, 16_385), "too long"),
        (request(0, 0, 0), "empty"),
        (request(10, 0, 16_384), "piece out of range"),
        (request(9, 16_384, 16_384), "past the last piece's end"),
        (request(0, u32::MAX, 16_384), "offset overflow"),
    ];
    for (msg, why) in bad {
        let (mut state, t0) = fresh(false);
        state.unchoke();
        let err = state.on_message(msg, t0).expect_err(why);
        assert!(
            matches!(
                err,
                PeerError::BadRequest {
                    message: "request",
                    ..
                }
            ),
            "{why}: {err}"
        );
    }
    let (mut state, t0) = fresh(false);
    let err = state
        .on_message(request(0, 0, 32_768), t0)
        .expect_err("too long");
    assert!(matches!(
        err,
        PeerError::BadRequest {
            reason: GeometryError::BlockTooLong { max: 16_384, .. },
            ..
        }
    ));
}

#[test]
fn request_flood_is_an_error() {
    let config = PeerConfig {
        max_peer_requests: 3,
        ..PeerConfig::default()
    };
    let (mut state, t0) = state_with(negotiated(false, false), config);
    state.unchoke();
    for (piece, index) in [(0, 0), (0, 1), (1, 0)] {
        state
            .on_message(request_for(block(piece, index)), t0)
            .expect("within cap");
    }
    let err = state
        .on_message(request_for(block(1, 1)), t0)
        .expect_err("flood");
    assert!(matches!(err, PeerError::RequestFlood(3)));
}

/// libtorrent keeps up to 500 requests outstanding on a fast link; with the default limit
/// they are all queued, not taken for a flood (it was 250, and bt dropped libtorrent leechers).
#[test]
fn a_libtorrent_sized_pipeline_is_not_a_flood() {
    let lengths = bt_proto::geometry::Lengths::new(64 << 20, 1 << 20).expect("geometry");
    let t0 = std::time::Instant::now();
    let mut state =
        super::PeerState::new(lengths, negotiated(false, false), PeerConfig::default(), t0);
    state.unchoke();
    let blocks = (0..lengths.piece_count()).flat_map(|piece| {
        let piece = lengths.piece(piece).expect("piece");
        (0..lengths.block_count(piece)).map(move |index| (piece, index))
    });
    for (n, (piece, index)) in blocks.take(500).enumerate() {
        let block = lengths.block(piece, index).expect("block");
        state
            .on_message(request_for(block), t0)
            .unwrap_or_else(|e| panic!("request {n}: {e}"));
    }
}

#[test]
fn cancel_removes_a_queued_request() {
    let (mut state, t0) = fresh(false);
    state.unchoke();
    state
        .on_message(request_for(block(2, 0)), t0)
        .expect("request");
    let cancel = PeerMessage::Cancel(wire_request(block(2, 0)));
    let events = state.on_message(cancel.clone(), t0).expect("cancel");
    assert_eq!(events, [PeerEvent::RequestCancelled(block(2, 0))]);
    assert!(state.on_message(cancel, t0).expect("again").is_empty());
    let data = Bytes::from(vec![0; 16_384]);
    assert!(state.take_upload(block(2, 0), data, t0).is_none());
    let bad = PeerMessage::Cancel(wire_request(block(2, 0)).with_piece(99));
    assert!(state.on_message(bad, t0).is_err());
}

/// Test-only: the same range in another piece.
trait WithPiece {
    fn with_piece(self, piece: u32) -> Self;
}

impl WithPiece for BlockRequest {
    fn with_piece(mut self, piece: u32) -> Self {
        self.piece = piece;
        self
    }
}

#[test]
fn requested_block_is_delivered_and_counted() {
    let (mut state, t0) = fresh(false);
    state.set_interested(true);
    state.on_message(PeerMessage::Unchoke, t0).expect("unchoke");
    state.request([block(9, 1)], t0);
    let now = at(t0, 0.25);
    let events = state
        .on_message(piece_msg(block(9, 1)), now)
        .expect("block");
    let [PeerEvent::BlockReceived { block: got, data }] = &events[..] else {
        panic!("{events:?}");
    };
    assert_eq!((*got, data.len()), (block(9, 1), 3616));
    assert_eq!(state.stats().downloaded, 3616);
    assert_eq!(state.outstanding_count(), 0);
    assert_eq!(
        state.request_latency(),
        Some(std::time::Duration::from_millis(250))
    );
    assert_eq!(state.last_block_received(), Some(now));
    assert!(state.download_rate(now) > 0);
}

#[test]
fn unrequested_block_is_ignored_and_scored_but_not_an_error() {
    let (mut state, t0) = fresh(false);
    let events = state
        .on_message(piece_msg(block(0, 0)), t0)
        .expect("ignored");
    assert!(events.is_empty());
    assert_eq!(state.stats().unrequested_blocks, 1);
    assert_eq!(state.stats().wasted, 16_384);
    assert_eq!(state.misbehaviour(), 1);
}

#[test]
fn cancelled_block_arriving_late_is_not_held_against_the_peer() {
    let (mut state, t0) = fresh(false);
    state.request([block(0, 0)], t0);
    assert!(state.cancel(block(0, 0), t0).is_some());
    assert!(state.cancel(block(0, 0), t0).is_none());
    let events = state.on_message(piece_msg(block(0, 0)), t0).expect("late");
    assert!(events.is_empty());
    assert_eq!(state.stats().late_blocks, 1);
    assert_eq!(state.misbehaviour(), 0);
}

#[test]
fn too_many_unrequested_blocks_end_the_connection() {
    let config = PeerConfig {
        misbehaviour_limit: 3,
        ..PeerConfig::default()
    };
    let (mut state, t0) = state_with(negotiated(false, false), config);
    state.on_message(piece_msg(block(0, 0)), t0).expect("1");
    state.on_message(piece_msg(block(0, 1)), t0).expect("2");
    let err = state.on_message(piece_msg(block(1, 0)), t0).expect_err("3");
    assert!(matches!(err, PeerError::Misbehaving { score: 3, limit: 3 }));
}

#[test]
fn block_outside_the_geometry_is_an_error() {
    let data = |len: usize| Bytes::from(vec![0; len]);
    let bad = [
        (10, 0, data(16_384), "piece out of range"),
        (0, 100, data(16_384), "unaligned"),
        (0, 0, data(100), "short"),
        (9, 16_384, data(16_384), "long last block"),
        (0, 32_768, data(16_384), "past the piece"),
        (0, 0, data(0), "empty"),
    ];
    for (piece, offset, data, why) in bad {
        let (mut state, t0) = fresh(false);
        let msg = PeerMessage::Piece {
            piece,
            offset,
            data,
        };
        let err = state.on_message(msg, t0).expect_err(why);
        assert!(matches!(err, PeerError::BadBlock(_)), "{why}: {err}");
    }
}

#[test]
fn choke_forgets_requests_without_fast() {
    let (mut state, t0) = fresh(false);
    state.set_interested(true);
    state.on_message(PeerMessage::Unchoke, t0).expect("unchoke");
    state.request([block(1, 0)], t0);
    state.request([block(0, 0), block(0, 1)], at(t0, 1.0));
    let events = state
        .on_message(PeerMessage::Choke, at(t0, 2.0))
        .expect("choke");
    // Oldest first; requests sent together come in block order.
    let expected = vec![block(1, 0), block(0, 0), block(0, 1)];
    assert_eq!(
        events,
        [PeerEvent::Choked {
            forgotten: expected
        }]
    );
    assert_eq!(state.outstanding_count(), 0);
    assert_eq!(
        state.wanted_requests(at(t0, 2.0)),
        0,
        "choked: request nothing"
    );
}

#[test]
fn choke_keeps_requests_with_fast_and_reject_releases_them() {
    let (mut state, t0) = fresh(true);
    state.set_interested(true);
    state.on_message(PeerMessage::Unchoke, t0).expect("unchoke");
    state.request([block(0, 0), block(0, 1)], t0);
    let events = state.on_message(PeerMessage::Choke, t0).expect("choke");
    assert_eq!(events, [PeerEvent::Choked { forgotten: vec![] }]);
    assert_eq!(state.outstanding_count(), 2);
    let reject = PeerMessage::Reject(wire_request(block(0, 1)));
    assert_eq!(
        state.on_message(reject.clone(), t0).expect("reject"),
        [PeerEvent::Rejected(block(0, 1))]
    );
    assert!(
        state
            .on_message(reject, t0)
            .expect("stale reject")
            .is_empty()
    );
    assert_eq!(state.outstanding_requests(), [block(0, 0)]);
}

#[test]
fn fast_extension_messages_without_negotiation_are_errors() {
    let raw = wire_request(block(0, 0));
    let messages = [
        PeerMessage::HaveAll,
        PeerMessage::HaveNone,
        PeerMessage::Suggest { piece: 0 },
        PeerMessage::AllowedFast { piece: 0 },
        PeerMessage::Reject(raw),
    ];
    for msg in messages {
        let (mut state, t0) = fresh(false);
        let err = state
            .on_message(msg.clone(), t0)
            .expect_err("not negotiated");
        assert!(matches!(err, PeerError::NotNegotiated(_)), "{msg:?}: {err}");
    }
    let (mut state, t0) = fresh(true);
    let ext = PeerMessage::Extended {
        id: 1,
        payload: Bytes::new(),
    };
    assert!(matches!(
        state.on_message(ext, t0),
        Err(PeerError::NotNegotiated("extended message"))
    ));
}

#[test]
fn fast_extension_messages_with_negotiation() {
    let (mut state, t0) = fresh(true);
    assert_eq!(
        state
            .on_message(PeerMessage::HaveAll, t0)
            .expect("have all"),
        [PeerEvent::PeerHasAll]
    );
    assert!(state.peer_pieces().is_complete());
    assert!(matches!(
        state.on_message(PeerMessage::HaveNone, t0),
        Err(PeerError::NotFirstMessage("have none"))
    ));
    let (mut state, t0) = fresh(true);
    assert!(
        state
            .on_message(PeerMessage::HaveNone, t0)
            .expect("none")
            .is_empty()
    );
    let events = state
        .on_message(PeerMessage::Suggest { piece: 4 }, t0)
        .expect("suggest");
    assert!(matches!(&events[..], [PeerEvent::Suggested(p)] if p.get() == 4));
    let events = state
        .on_message(PeerMessage::AllowedFast { piece: 5 }, t0)
        .expect("allowed fast");
    assert!(matches!(&events[..], [PeerEvent::AllowedFast(p)] if p.get() == 5));
    assert!(
        state
            .on_message(PeerMessage::AllowedFast { piece: 10 }, t0)
            .is_err()
    );
    assert!(state.on_message(PeerMessage::HaveAll, t0).is_err());
}

#[test]
fn port_passes_through_and_unknown_ids_are_capped() {
    let config = PeerConfig {
        max_unknown_messages: 2,
        ..PeerConfig::default()
    };
    let (mut state, t0) = state_with(negotiated(false, false), config);
    assert_eq!(
        state.on_message(PeerMessage::Port(6881), t0).expect("port"),
        [PeerEvent::Port(6881)]
    );
    let unknown = PeerMessage::Unknown {
        id: 99,
        payload: Bytes::from_static(b"x"),
    };
    assert!(state.on_message(unknown.clone(), t0).expect("1").is_empty());
    assert!(state.on_message(unknown.clone(), t0).expect("2").is_empty());
    assert!(matches!(
        state.on_message(unknown, t0),
        Err(PeerError::TooManyUnknownMessages(3))
    ));
}
