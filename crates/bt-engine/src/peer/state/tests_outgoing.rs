//! Tests of the outgoing methods, the request pipeline sizing and the timers.

use std::time::Duration;

use bt_proto::wire::PeerMessage;
use bytes::Bytes;

use super::test_support::*;
use super::wire_request;
use crate::peer::{PeerConfig, PeerEvent};

#[test]
fn interest_and_choke_messages_only_on_change() {
    let (mut state, _) = fresh(false);
    assert_eq!(state.set_interested(true), Some(PeerMessage::Interested));
    assert_eq!(state.set_interested(true), None);
    assert_eq!(
        state.set_interested(false),
        Some(PeerMessage::NotInterested)
    );
    assert_eq!(state.unchoke(), Some(PeerMessage::Unchoke));
    assert_eq!(state.unchoke(), None);
    assert_eq!(state.choke(), [PeerMessage::Choke]);
    assert!(state.choke().is_empty());
}

#[test]
fn choking_drops_queued_requests_and_rejects_them_with_fast() {
    for fast in [false, true] {
        let (mut state, t0) = fresh(fast);
        state.unchoke();
        state
            .on_message(request_for(block(1, 0)), t0)
            .expect("request");
        state
            .on_message(request_for(block(1, 1)), t0)
            .expect("request");
        let mut expected = vec![PeerMessage::Choke];
        if fast {
            expected.push(PeerMessage::Reject(wire_request(block(1, 0))));
            expected.push(PeerMessage::Reject(wire_request(block(1, 1))));
        }
        assert_eq!(state.choke(), expected);
        assert!(state.peer_requests().is_empty());
        let data = Bytes::from(vec![0; 16_384]);
        assert!(state.take_upload(block(1, 0), data, t0).is_none());
    }
}

#[test]
fn upload_is_taken_off_the_queue_and_counted() {
    let (mut state, t0) = fresh(false);
    state.unchoke();
    state
        .on_message(request_for(block(4, 1)), t0)
        .expect("request");
    let data = Bytes::from(vec![1; 16_384]);
    let out = state
        .take_upload(block(4, 1), data.clone(), at(t0, 0.5))
        .expect("still wanted");
    assert_eq!(
        (out.piece.get(), out.offset, out.data),
        (4, 16_384, data.clone())
    );
    assert_eq!(state.stats().uploaded, 16_384);
    assert!(state.upload_rate(at(t0, 1.0)) > 0);
    assert!(
        state.take_upload(block(4, 1), data, t0).is_none(),
        "sent twice"
    );
}

#[test]
fn reject_request_answers_only_with_fast() {
    for fast in [false, true] {
        let (mut state, t0) = fresh(fast);
        state.unchoke();
        state
            .on_message(request_for(block(0, 0)), t0)
            .expect("request");
        let reply = state.reject_request(block(0, 0));
        assert_eq!(reply.is_some(), fast);
        assert!(state.peer_requests().is_empty());
        assert_eq!(state.reject_request(block(0, 0)), None);
    }
}

#[test]
fn request_skips_duplicates_and_have_names_the_piece() {
    let (mut state, t0) = fresh(false);
    let sent = state.request([block(0, 0), block(0, 1), block(0, 0)], t0);
    assert_eq!(sent.len(), 2);
    assert!(state.request([block(0, 1)], t0).is_empty());
    assert_eq!(state.outstanding_count(), 2);
    let piece = lengths().piece(7).expect("piece");
    assert_eq!(state.have(piece), PeerMessage::Have { piece: 7 });
}

#[test]
fn pipeline_starts_at_the_slow_start_value_and_is_zero_when_choked() {
    let (mut state, t0) = fresh(false);
    assert_eq!(state.wanted_requests(t0), 0, "choked and not interested");
    state.set_interested(true);
    assert_eq!(state.wanted_requests(t0), 0, "still choked");
    state.on_message(PeerMessage::Unchoke, t0).expect("unchoke");
    let initial = PeerConfig::default().initial_requests;
    assert_eq!(state.wanted_requests(t0), initial);
    state.request([block(0, 0), block(0, 1)], t0);
    assert_eq!(state.wanted_requests(t0), initial - 2);
}

#[test]
fn pipeline_grows_to_cover_a_long_fat_link() {
    // 10 MB/s at 200 ms: the bandwidth-delay product is 2 MB, about 122 blocks.
    let link = Link {
        rtt: Duration::from_millis(200),
        capacity: 10e6,
    };
    let result = simulate(&link, PeerConfig::default(), Duration::from_secs(30));
    assert!(
        result.final_depth >= 122 && result.final_depth <= 512,
        "{result:?}"
    );
    assert!(
        result.late_rate > 0.9 * link.capacity,
        "link not kept full: {result:?}"
    );
}

#[test]
fn pipeline_grows_with_rate_at_fixed_latency() {
    let depth = |capacity| {
        let link = Link {
            rtt: Duration::from_millis(100),
            capacity,
        };
        simulate(&link, PeerConfig::default(), Duration::from_secs(20)).final_depth
    };
    let (slow, medium, fast) = (depth(200e3), depth(2e6), depth(20e6));
    assert!(slow < medium && medium < fast, "{slow} {medium} {fast}");
}

#[test]
fn pipeline_grows_with_latency_at_fixed_rate() {
    let depth = |rtt_ms| {
        let link = Link {
            rtt: Duration::from_millis(rtt_ms),
            capacity: 5e6,
        };
        simulate(&link, PeerConfig::default(), Duration::from_secs(20)).final_depth
    };
    let (near, far) = (depth(20), depth(400));
    assert!(near < far, "{near} {far}");
    // 5 MB/s x 400 ms = 122 blocks; at least that many must be asked for.
    assert!(far >= 122, "{far}");
}

#[test]
fn pipeline_stays_within_its_bounds() {
    let config = PeerConfig {
        max_requests: 64,
        ..PeerConfig::default()
    };
    let huge = Link {
        rtt: Duration::from_millis(500),
        capacity: 100e6,
    };
    let result = simulate(&huge, config.clone(), Duration::from_secs(10));
    assert_eq!(result.final_depth, 64, "{result:?}");
    assert!(result.max_outstanding <= 64, "{result:?}");
    // A slow peer close by needs less than one block in flight. Its "uncongested" samples
    // still wait behind up to min - 1 blocks, so it settles between min and gain x min.
    let slow = Link {
        rtt: Duration::from_millis(10),
        capacity: 50e3,
    };
    let result = simulate(&slow, config.clone(), Duration::from_secs(30));
    assert!((4..=8).contains(&result.final_depth), "{result:?}");
    assert!(result.late_rate > 0.9 * slow.capacity, "{result:?}");
    // With no headroom the estimate falls under one block and the floor holds it.
    let no_gain = PeerConfig {
        pipeline_gain: 0.5,
        ..config
    };
    let result = simulate(&slow, no_gain, Duration::from_secs(30));
    assert_eq!(result.final_depth, 4, "{result:?}");
}

#[test]
fn requests_time_out_after_the_latency_derived_timeout() {
    let config = PeerConfig {
        request_timeout_min: Duration::from_secs(2),
        request_timeout_max: Duration::from_secs(20),
        ..PeerConfig::default()
    };
    let (mut state, t0) = state_with(negotiated(false, false), config);
    assert_eq!(
        state.request_timeout(),
        Duration::from_secs(20),
        "no latency yet"
    );
    state.request([block(0, 0), block(0, 1)], t0);
    state.request([block(1, 0)], at(t0, 1.0));
    assert!(state.timed_out_requests(at(t0, 19.9)).is_empty());
    assert_eq!(
        state.timed_out_requests(at(t0, 20.0)),
        [block(0, 0), block(0, 1)]
    );
    assert_eq!(state.outstanding_requests(), [block(1, 0)]);
    // A late block is not delivered and not held against the peer.
    let late = state
        .on_message(piece_msg(block(0, 0)), at(t0, 20.5))
        .expect("late");
    assert!(late.is_empty());
    assert_eq!((state.stats().late_blocks, state.misbehaviour()), (1, 0));
    // Measured latency 1 s (of block 1/0 sent at t0+1) -> timeout 4 s.
    state
        .on_message(piece_msg(block(1, 0)), at(t0, 2.0))
        .expect("block");
    assert_eq!(state.request_timeout(), Duration::from_secs(4));
    state.request([block(2, 0)], at(t0, 3.0));
    assert!(state.timed_out_requests(at(t0, 6.9)).is_empty());
    assert_eq!(state.timed_out_requests(at(t0, 7.0)), [block(2, 0)]);
    assert_eq!(state.stats().timed_out_requests, 3);
}

#[test]
fn timeout_has_a_floor() {
    let (mut state, t0) = fresh(false);
    state.request([block(0, 0)], t0);
    state
        .on_message(piece_msg(block(0, 0)), at(t0, 0.01))
        .expect("block");
    assert_eq!(
        state.request_timeout(),
        PeerConfig::default().request_timeout_min
    );
}

#[test]
fn keepalive_is_due_after_sending_nothing() {
    let (mut state, t0) = fresh(false);
    assert!(!state.keepalive_due(at(t0, 89.0)));
    state.note_sent(at(t0, 60.0));
    assert!(!state.keepalive_due(at(t0, 149.0)));
    assert_eq!(state.keep_alive(at(t0, 149.0)), None);
    assert_eq!(
        state.keep_alive(at(t0, 150.0)),
        Some(PeerMessage::KeepAlive)
    );
    assert_eq!(state.keep_alive(at(t0, 151.0)), None, "just sent one");
}

#[test]
fn silence_is_measured_from_the_last_message() {
    let (mut state, t0) = fresh(false);
    assert!(!state.is_silent(at(t0, 179.0)));
    assert!(state.is_silent(at(t0, 180.0)));
    state
        .on_message(PeerMessage::KeepAlive, at(t0, 100.0))
        .expect("keep-alive");
    assert!(!state.is_silent(at(t0, 279.0)));
    assert!(state.is_silent(at(t0, 280.0)));
}

#[test]
fn snubbed_after_a_minute_waiting_for_blocks() {
    let (mut state, t0) = fresh(false);
    state.set_interested(true);
    state.on_message(PeerMessage::Unchoke, t0).expect("unchoke");
    assert!(!state.is_snubbed(at(t0, 100.0)), "nothing requested");
    state.request([block(0, 0), block(0, 1)], at(t0, 10.0));
    assert!(!state.is_snubbed(at(t0, 69.0)));
    assert!(state.is_snubbed(at(t0, 70.0)));
    // Timing the requests out does not forgive the peer.
    state.timed_out_requests(at(t0, 70.0));
    assert!(state.is_snubbed(at(t0, 71.0)));
    // A block does.
    state.request([block(1, 0), block(1, 1)], at(t0, 71.0));
    let events = state
        .on_message(piece_msg(block(1, 0)), at(t0, 72.0))
        .expect("block");
    assert!(matches!(&events[..], [PeerEvent::BlockReceived { .. }]));
    assert!(!state.is_snubbed(at(t0, 131.0)));
    assert!(
        state.is_snubbed(at(t0, 132.0)),
        "still waiting for block 1/1"
    );
    state.set_interested(false);
    assert!(!state.is_snubbed(at(t0, 200.0)), "no longer waiting");
}
