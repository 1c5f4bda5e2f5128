//! Tests of [`ExtensionState`]: handshakes both ways, metadata serving, PEX in and out.

use std::time::Duration;

use bt_proto::ext::{ExtensionHandshake, PexFlags};

use super::*;

fn config(metadata: Option<&[u8]>, pex: bool) -> ExtensionConfig {
    ExtensionConfig {
        client: "bt test".to_owned(),
        listen_port: Some(7000),
        request_queue: 250,
        metadata: metadata.map(Bytes::copy_from_slice),
        pex,
        pex_interval: Duration::from_secs(60),
    }
}

/// The peer's handshake, announcing `ut_metadata` as 3 and (if `pex`) `ut_pex` as 4.
fn their_handshake(pex: bool, listen_port: Option<u16>) -> Bytes {
    let mut extensions = std::collections::BTreeMap::new();
    extensions.insert(UT_METADATA.to_owned(), 3);
    if pex {
        extensions.insert(UT_PEX.to_owned(), 4);
    }
    let handshake = ExtensionHandshake {
        extensions,
        listen_port,
        metadata_size: Some(40_000),
        ..ExtensionHandshake::default()
    };
    Bytes::from(handshake.encode())
}

fn decode_ours(message: &PeerMessage) -> ExtensionHandshake {
    let PeerMessage::Extended { id: 0, payload } = message else {
        panic!("not an extension handshake: {message:?}");
    };
    ExtensionHandshake::decode(payload).unwrap()
}

#[test]
fn our_handshake_offers_what_we_have() {
    let state = ExtensionState::new(config(Some(&[1; 100]), true));
    let ours = decode_ours(&state.handshake("10.0.0.9".parse().unwrap()));
    assert_eq!(ours.id_of(UT_METADATA), Some(UT_METADATA_ID));
    assert_eq!(ours.id_of(UT_PEX), Some(UT_PEX_ID));
    assert_eq!(ours.metadata_size, Some(100));
    assert_eq!(ours.listen_port, Some(7000));
    assert_eq!(ours.request_queue, Some(250));
    assert_eq!(ours.client.as_deref(), Some("bt test"));
    assert_eq!(ours.your_ip, Some("10.0.0.9".parse().unwrap()));
}

#[test]
fn a_private_torrent_offers_no_pex_and_ignores_it() {
    let now = Instant::now();
    let mut state = ExtensionState::new(config(Some(&[1; 100]), false));
    let ours = decode_ours(&state.handshake("10.0.0.9".parse().unwrap()));
    assert_eq!(ours.id_of(UT_PEX), None);
    state
        .on_message(HANDSHAKE_ID, their_handshake(true, None), now)
        .unwrap();
    let pex = PexMessage {
        added: vec![PexPeer {
            addr: "10.0.0.1:1".parse().unwrap(),
            flags: PexFlags::default(),
        }],
        dropped: Vec::new(),
    };
    let events = state
        .on_message(UT_PEX_ID, Bytes::from(pex.encode()), now)
        .unwrap();
    assert!(events.is_empty());
    let connected = [pex.added[0]];
    assert!(
        state
            .pex_message(&connected, "10.0.0.2:2".parse().unwrap(), now)
            .is_none()
    );
}

#[test]
fn their_handshake_is_merged_and_reported() {
    let now = Instant::now();
    let mut state = ExtensionState::new(config(None, true));
    assert!(!state.peer_serves_metadata());
    let events = state
        .on_message(HANDSHAKE_ID, their_handshake(true, Some(6881)), now)
        .unwrap();
    assert_eq!(
        events,
        vec![ExtensionEvent::Handshake {
            listen_port: Some(6881),
            metadata_size: Some(40_000)
        }]
    );
    assert!(state.peer_serves_metadata());
    // Sent again, disabling ut_metadata (BEP 10: `m` is additive, 0 disables).
    let later = Bytes::from_static(b"d1:md11:ut_metadatai0eee");
    state.on_message(HANDSHAKE_ID, later, now).unwrap();
    assert!(!state.peer_serves_metadata());
    assert_eq!(
        state.peer_handshake().and_then(|h| h.listen_port),
        Some(6881)
    );
}

#[test]
fn a_malformed_handshake_ends_the_connection() {
    let mut state = ExtensionState::new(config(None, true));
    let result = state.on_message(HANDSHAKE_ID, Bytes::from_static(b"l1:ae"), Instant::now());
    assert!(
        matches!(result, Err(PeerError::Extension { .. })),
        "{result:?}"
    );
}

#[test]
fn messages_under_ids_we_never_assigned_are_ignored() {
    let mut state = ExtensionState::new(config(None, true));
    let events = state
        .on_message(77, Bytes::from_static(b"garbage"), Instant::now())
        .unwrap();
    assert!(events.is_empty());
}

#[test]
fn metadata_is_served_under_the_peers_id_and_rejected_past_the_end() {
    let now = Instant::now();
    let metadata: Vec<u8> = (0..20_000u32).map(|i| i as u8).collect();
    let mut state = ExtensionState::new(config(Some(&metadata), true));
    state
        .on_message(HANDSHAKE_ID, their_handshake(false, None), now)
        .unwrap();
    let request = |piece| Bytes::from(MetadataMessage::Request { piece }.encode());
    let events = state.on_message(UT_METADATA_ID, request(1), now).unwrap();
    let [ExtensionEvent::Reply(PeerMessage::Extended { id: 3, payload })] = &events[..] else {
        panic!("{events:?}");
    };
    assert_eq!(
        MetadataMessage::decode(payload).unwrap(),
        MetadataMessage::Data {
            piece: 1,
            total_size: 20_000,
            data: Bytes::copy_from_slice(&metadata[METADATA_PIECE_LEN..]),
        }
    );
    let events = state.on_message(UT_METADATA_ID, request(2), now).unwrap();
    let [ExtensionEvent::Reply(PeerMessage::Extended { payload, .. })] = &events[..] else {
        panic!("{events:?}");
    };
    assert_eq!(
        MetadataMessage::decode(payload).unwrap(),
        MetadataMessage::Reject { piece: 2 }
    );
}

#[test]
fn without_metadata_every_request_is_rejected_and_repeats_are_capped() {
    let now = Instant::now();
    let mut state = ExtensionState::new(config(None, true));
    state
        .on_message(HANDSHAKE_ID, their_handshake(false, None), now)
        .unwrap();
    let request = Bytes::from(MetadataMessage::Request { piece: 0 }.encode());
    let reply = state
        .on_message(UT_METADATA_ID, request.clone(), now)
        .unwrap();
    assert!(
        matches!(&reply[..], [ExtensionEvent::Reply(PeerMessage::Extended { payload, .. })]
        if MetadataMessage::decode(payload) == Ok(MetadataMessage::Reject { piece: 0 }))
    );

    let mut served = ExtensionState::new(config(Some(&[5; 10]), true));
    served
        .on_message(HANDSHAKE_ID, their_handshake(false, None), now)
        .unwrap();
    let mut data = 0;
    for _ in 0..100 {
        let events = served
            .on_message(UT_METADATA_ID, request.clone(), now)
            .unwrap();
        if let [ExtensionEvent::Reply(PeerMessage::Extended { payload, .. })] = &events[..]
            && matches!(
                MetadataMessage::decode(payload),
                Ok(MetadataMessage::Data { .. })
            )
        {
            data += 1;
        }
    }
    assert_eq!(data, 2 + MAX_METADATA_REQUESTS);
}

#[test]
fn received_metadata_pieces_and_rejects_are_reported() {
    let now = Instant::now();
    let mut state = ExtensionState::new(config(None, true));
    let data = MetadataMessage::Data {
        piece: 0,
        total_size: 3,
        data: Bytes::from_static(b"abc"),
    };
    let events = state
        .on_message(UT_METADATA_ID, Bytes::from(data.encode()), now)
        .unwrap();
    assert_eq!(
        events,
        vec![ExtensionEvent::MetadataPiece {
            piece: 0,
            total_size: 3,
            data: Bytes::from_static(b"abc")
        }]
    );
    let reject = Bytes::from(MetadataMessage::Reject { piece: 4 }.encode());
    let events = state.on_message(UT_METADATA_ID, reject, now).unwrap();
    assert_eq!(events, vec![ExtensionEvent::MetadataRejected { piece: 4 }]);
    assert!(
        state.request_metadata(0).is_none(),
        "no request before the peer says it serves metadata"
    );
    state
        .on_message(HANDSHAKE_ID, their_handshake(false, None), now)
        .unwrap();
    let Some(PeerMessage::Extended { id: 3, payload }) = state.request_metadata(5) else {
        panic!("a request under the peer's id");
    };
    assert_eq!(
        MetadataMessage::decode(&payload),
        Ok(MetadataMessage::Request { piece: 5 })
    );
}

#[test]
fn pex_flows_both_ways_only_once_the_peer_speaks_it() {
    let now = Instant::now();
    let mut state = ExtensionState::new(config(None, true));
    let me: SocketAddr = "10.0.0.2:2".parse().unwrap();
    let other = PexPeer {
        addr: "10.0.0.1:1".parse().unwrap(),
        flags: PexFlags(PexFlags::REACHABLE),
    };
    assert!(
        state.pex_message(&[other], me, now).is_none(),
        "no handshake yet"
    );
    state
        .on_message(HANDSHAKE_ID, their_handshake(true, None), now)
        .unwrap();
    let Some(PeerMessage::Extended { id: 4, payload }) = state.pex_message(&[other], me, now)
    else {
        panic!("a pex message under the peer's id");
    };
    assert_eq!(PexMessage::decode(&payload).unwrap().added, vec![other]);

    let seed = PexPeer {
        addr: "10.0.0.3:3".parse().unwrap(),
        flags: PexFlags(PexFlags::SEED),
    };
    let incoming = PexMessage {
        added: vec![
            other,
            seed,
            PexPeer {
                addr: "0.0.0.0:5".parse().unwrap(),
                flags: PexFlags::default(),
            },
        ],
        dropped: Vec::new(),
    };
    let events = state
        .on_message(UT_PEX_ID, Bytes::from(incoming.encode()), now)
        .unwrap();
    // The undialable address is gone; the flags come along for the supervisor.
    assert_eq!(events, vec![ExtensionEvent::PeersAdded(vec![other, seed])]);
    let flood = state
        .on_message(UT_PEX_ID, Bytes::from(incoming.encode()), now)
        .unwrap();
    assert!(flood.is_empty(), "a second message at once is ignored");
    let bad = state.on_message(UT_PEX_ID, Bytes::from_static(b"i1e"), now);
    assert!(matches!(bad, Err(PeerError::Extension { .. })));
}

proptest::proptest! {
    /// Whatever a peer sends under whatever id, the state answers with events or an error,
    /// never a panic.
    #[test]
    fn never_panics_on_arbitrary_extended_messages(
        messages in proptest::collection::vec(
            (0u8..4, proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..300)),
            0..20,
        ),
    ) {
        let now = Instant::now();
        let mut state = ExtensionState::new(config(Some(&[3; 40_000]), true));
        let _ = state.on_message(HANDSHAKE_ID, their_handshake(true, Some(1)), now);
        for (id, payload) in messages {
            let _ = state.on_message(id, Bytes::from(payload), now);
        }
        let me: SocketAddr = "10.0.0.2:2".parse().unwrap();
        let _ = state.pex_message(&[], me, now);
    }
}
