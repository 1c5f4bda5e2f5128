//! Property test: arbitrary sequences of plausible messages and commands never panic, and the
//! state's invariants hold after every accepted step.

use std::time::Duration;

use bt_proto::wire::{BlockRequest, PeerMessage};
use bytes::Bytes;
use proptest::prelude::*;

use super::test_support::*;
use crate::peer::PeerConfig;

/// One step: a message from the peer or a command from the actor.
#[derive(Debug, Clone)]
enum Step {
    /// A message from the peer.
    Incoming(PeerMessage),
    /// We request grid block `index` of `piece` (wrapped into range).
    Request(u32, u32),
    /// We cancel that block.
    Cancel(u32, u32),
    /// We choke or unchoke the peer.
    Choke(bool),
    /// We change our interest.
    Interested(bool),
    /// Time passes (milliseconds), and the timers run.
    Tick(u64),
}

/// Mostly small numbers, so messages often hit the torrent, sometimes huge ones.
fn number() -> impl Strategy<Value = u32> {
    prop_oneof![8 => 0u32..12, 4 => (0u32..3).prop_map(|k| k * 16_384), 1 => any::<u32>()]
}

fn range() -> impl Strategy<Value = BlockRequest> {
    let length = prop_oneof![Just(16_384u32), Just(3616), number()];
    (number(), number(), length).prop_map(|(piece, offset, length)| BlockRequest {
        piece,
        offset,
        length,
    })
}

fn payload() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        3 => Just(Bytes::from(vec![0u8; 16_384])),
        1 => Just(Bytes::from(vec![0u8; 3616])),
        2 => proptest::collection::vec(any::<u8>(), 0..4).prop_map(Bytes::from),
    ]
}

fn message() -> impl Strategy<Value = PeerMessage> {
    prop_oneof![
        Just(PeerMessage::KeepAlive),
        Just(PeerMessage::Choke),
        Just(PeerMessage::Unchoke),
        Just(PeerMessage::Interested),
        Just(PeerMessage::NotInterested),
        Just(PeerMessage::HaveAll),
        Just(PeerMessage::HaveNone),
        number().prop_map(|piece| PeerMessage::Have { piece }),
        number().prop_map(|piece| PeerMessage::Suggest { piece }),
        number().prop_map(|piece| PeerMessage::AllowedFast { piece }),
        payload().prop_map(PeerMessage::Bitfield),
        range().prop_map(PeerMessage::Request),
        range().prop_map(PeerMessage::Cancel),
        range().prop_map(PeerMessage::Reject),
        (number(), number(), payload()).prop_map(|(piece, offset, data)| PeerMessage::Piece {
            piece,
            offset,
            data
        }),
        any::<u16>().prop_map(PeerMessage::Port),
        (any::<u8>(), payload()).prop_map(|(id, payload)| PeerMessage::Extended { id, payload }),
        (21u8.., payload()).prop_map(|(id, payload)| PeerMessage::Unknown { id, payload }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => message().prop_map(Step::Incoming),
        2 => (0u32..10, 0u32..2).prop_map(|(p, b)| Step::Request(p, b)),
        1 => (0u32..10, 0u32..2).prop_map(|(p, b)| Step::Cancel(p, b)),
        1 => any::<bool>().prop_map(Step::Choke),
        1 => any::<bool>().prop_map(Step::Interested),
        1 => (0u64..200_000).prop_map(Step::Tick),
    ]
}

proptest! {
    #[test]
    fn arbitrary_sequences_never_panic(
        fast in any::<bool>(),
        extended in any::<bool>(),
        steps in proptest::collection::vec(step(), 0..80),
    ) {
        let config = PeerConfig {
            max_peer_requests: 8,
            max_requests: 32,
            ..PeerConfig::default()
        };
        let (mut state, t0) = state_with(negotiated(fast, extended), config);
        let mut now = t0;
        for step in steps {
            match step {
                Step::Incoming(message) => {
                    if state.on_message(message, now).is_err() {
                        break;
                    }
                }
                Step::Request(piece, index) => {
                    state.request([block(piece, index)], now);
                }
                Step::Cancel(piece, index) => {
                    state.cancel(block(piece, index), now);
                }
                Step::Choke(true) => {
                    state.choke();
                }
                Step::Choke(false) => {
                    state.unchoke();
                }
                Step::Interested(on) => {
                    state.set_interested(on);
                }
                Step::Tick(ms) => {
                    now += Duration::from_millis(ms);
                    state.timed_out_requests(now);
                    state.keep_alive(now);
                    let _ = (state.is_silent(now), state.is_snubbed(now));
                }
            }
            let wanted = state.wanted_requests(now);
            prop_assert!(state.outstanding_count() + wanted <= 32);
            prop_assert!(state.peer_requests().len() <= 8);
            prop_assert_eq!(state.peer_pieces().piece_count(), 10);
            let _ = (state.download_rate(now), state.upload_rate(now), state.request_timeout());
        }
    }
}
