//! The extension side of a `PeerSession`, over a real socket with the test as the remote
//! peer: the BEP 10 handshake both ways, BEP 9 metadata served, BEP 11 PEX both ways, and
//! BEP 6 allowed fast (offered and used), suggestions and rejects.

use std::net::SocketAddr;
use std::sync::Arc;

use bt_proto::ext::{ExtensionHandshake, MetadataMessage, PexFlags, PexMessage, PexPeer};
use bt_proto::wire::BlockRequest;
use bytes::Bytes;

use super::msg::{SetInterest, UpdatePex};
use super::tests::{Event, Fixture, PIECE, event, fixture_with, recv, send};
use super::*;
use crate::peer::extensions::{UT_METADATA_ID, UT_PEX_ID};

fn both() -> Negotiated {
    Negotiated {
        fast: true,
        extension_protocol: true,
    }
}

/// The remote's extension handshake: `ut_metadata` as 3, `ut_pex` as 4, listening on 6000.
fn remote_handshake() -> PeerMessage {
    let handshake = ExtensionHandshake {
        extensions: [("ut_metadata".to_owned(), 3), ("ut_pex".to_owned(), 4)].into(),
        client: Some("remote 1.0".to_owned()),
        listen_port: Some(6000),
        ..ExtensionHandshake::default()
    };
    PeerMessage::Extended {
        id: 0,
        payload: Bytes::from(handshake.encode()),
    }
}

/// Reads frames until one matches, skipping the others (keep-alives, HAVE ALL, ...).
async fn until<T>(f: &mut Fixture, mut pick: impl FnMut(PeerMessage) -> Option<T>) -> T {
    loop {
        if let Some(found) = pick(recv(&mut f.remote).await) {
            return found;
        }
    }
}

/// Waits for the first stub event that matches.
async fn until_event<T>(f: &mut Fixture, mut pick: impl FnMut(Event) -> Option<T>) -> T {
    loop {
        if let Some(found) = pick(event(&mut f.events).await) {
            return found;
        }
    }
}

#[actix::test]
async fn handshakes_both_ways_and_serves_the_metadata() {
    let mut f = fixture_with(true, PeerSettings::default(), PeerConfig::default(), both()).await;
    assert_eq!(
        recv(&mut f.remote).await,
        PeerMessage::HaveAll,
        "BEP 6 instead of a bitfield"
    );
    let ours = until(&mut f, |m| match m {
        PeerMessage::Extended { id: 0, payload } => ExtensionHandshake::decode(&payload).ok(),
        _ => None,
    })
    .await;
    assert_eq!(ours.id_of("ut_metadata"), Some(UT_METADATA_ID));
    assert_eq!(ours.id_of("ut_pex"), Some(UT_PEX_ID));
    assert_eq!(ours.metadata_size, Some(f.info_bytes.len() as u64));
    assert_eq!(ours.listen_port, Some(7777));
    assert_eq!(ours.your_ip, Some("127.0.0.1".parse().unwrap()));

    send(&mut f.remote, remote_handshake()).await;
    let (port, client) = until_event(&mut f, |e| match e {
        Event::Extended(port, client) => Some((port, client)),
        _ => None,
    })
    .await;
    assert_eq!((port, client.as_deref()), (Some(6000), Some("remote 1.0")));

    let request = MetadataMessage::Request { piece: 0 }.encode();
    send(
        &mut f.remote,
        PeerMessage::Extended {
            id: UT_METADATA_ID,
            payload: Bytes::from(request),
        },
    )
    .await;
    let reply = until(&mut f, |m| match m {
        PeerMessage::Extended { id: 3, payload } => MetadataMessage::decode(&payload).ok(),
        _ => None,
    })
    .await;
    assert_eq!(
        reply,
        MetadataMessage::Data {
            piece: 0,
            total_size: f.info_bytes.len() as u64,
            data: Bytes::from(f.info_bytes.clone()),
        }
    );
}

#[actix::test]
async fn pex_goes_out_with_the_torrents_peers_and_comes_in_to_the_supervisor() {
    let mut f = fixture_with(
        false,
        PeerSettings::default(),
        PeerConfig::default(),
        both(),
    )
    .await;
    send(&mut f.remote, remote_handshake()).await;
    until_event(&mut f, |e| matches!(e, Event::Extended(..)).then_some(())).await;
    let other = PexPeer {
        addr: "10.1.1.1:5000".parse().unwrap(),
        flags: PexFlags(PexFlags::REACHABLE),
    };
    // The remote itself (at its listen port) is in the list too, and is left out.
    let itself = PexPeer {
        addr: "127.0.0.1:6000".parse().unwrap(),
        flags: PexFlags::default(),
    };
    f.session.do_send(UpdatePex {
        peers: Arc::from(vec![other, itself]),
    });
    let told = until(&mut f, |m| match m {
        PeerMessage::Extended { id: 4, payload } => PexMessage::decode(&payload).ok(),
        _ => None,
    })
    .await;
    assert_eq!(told.added, vec![other]);

    let incoming = PexMessage {
        added: vec![PexPeer {
            addr: "10.2.2.2:6881".parse().unwrap(),
            flags: PexFlags::default(),
        }],
        dropped: Vec::new(),
    };
    send(
        &mut f.remote,
        PeerMessage::Extended {
            id: UT_PEX_ID,
            payload: Bytes::from(incoming.encode()),
        },
    )
    .await;
    let peers = until_event(&mut f, |e| match e {
        Event::Discovered(peers) => Some(peers),
        _ => None,
    })
    .await;
    assert_eq!(peers, vec!["10.2.2.2:6881".parse::<SocketAddr>().unwrap()]);
}

#[actix::test]
async fn a_malformed_extension_message_ends_the_connection() {
    let mut f = fixture_with(
        false,
        PeerSettings::default(),
        PeerConfig::default(),
        both(),
    )
    .await;
    send(
        &mut f.remote,
        PeerMessage::Extended {
            id: 0,
            payload: Bytes::from_static(b"i42e"),
        },
    )
    .await;
    let exit = until_event(&mut f, |e| match e {
        Event::Disconnected(exit) => Some(exit),
        _ => None,
    })
    .await;
    assert!(
        matches!(exit, PeerExit::Error(PeerError::Extension { .. })),
        "{exit}"
    );
}

#[actix::test]
async fn a_seed_offers_its_allowed_fast_set_and_serves_it_while_choking() {
    let mut f = fixture_with(true, PeerSettings::default(), PeerConfig::default(), both()).await;
    // Three pieces, a set of ten: every piece is allowed (BEP 6 for small torrents).
    let mut allowed = Vec::new();
    while allowed.len() < 3 {
        if let PeerMessage::AllowedFast { piece } = recv(&mut f.remote).await {
            allowed.push(piece);
        }
    }
    allowed.sort_unstable();
    assert_eq!(allowed, vec![0, 1, 2]);
    // Still choked, the request is served.
    let request = BlockRequest {
        piece: 1,
        offset: 16_384,
        length: 16_384,
    };
    send(&mut f.remote, PeerMessage::Request(request)).await;
    let (piece, data) = until(&mut f, |m| match m {
        PeerMessage::Piece { piece, data, .. } => Some((piece, data)),
        PeerMessage::Unchoke => panic!("served without unchoking"),
        _ => None,
    })
    .await;
    assert_eq!(piece, 1);
    let start = PIECE as usize + 16_384;
    assert_eq!(&data[..], &f.data[start..start + 16_384]);
}

#[actix::test]
async fn a_choked_leecher_requests_only_allowed_fast_pieces() {
    let mut f = fixture_with(
        false,
        PeerSettings::default(),
        PeerConfig::default(),
        both(),
    )
    .await;
    send(&mut f.remote, PeerMessage::HaveAll).await;
    send(&mut f.remote, PeerMessage::AllowedFast { piece: 1 }).await;
    f.session.do_send(SetInterest { interested: true });
    let (pieces, only) = until_event(&mut f, |e| match e {
        Event::RequestIn(pieces, only) => Some((pieces, only)),
        _ => None,
    })
    .await;
    assert_eq!((pieces, only), (vec![1], true));
    // Both blocks of piece 1 are requested, though the remote never unchoked.
    let mut requested = Vec::new();
    while requested.len() < 2 {
        if let PeerMessage::Request(r) = recv(&mut f.remote).await {
            requested.push((r.piece, r.offset));
        }
    }
    assert_eq!(requested, vec![(1, 0), (1, 16_384)]);
    // A reject hands the block back to the piece manager.
    send(
        &mut f.remote,
        PeerMessage::Reject(BlockRequest {
            piece: 1,
            offset: 0,
            length: 16_384,
        }),
    )
    .await;
    let released = until_event(&mut f, |e| match e {
        Event::Released(n) => Some(n),
        _ => None,
    })
    .await;
    assert_eq!(released, 1);
}

#[actix::test]
async fn suggestions_are_preferred_in_the_next_pick() {
    let mut f = fixture_with(
        false,
        PeerSettings::default(),
        PeerConfig::default(),
        both(),
    )
    .await;
    send(&mut f.remote, PeerMessage::HaveAll).await;
    send(&mut f.remote, PeerMessage::Suggest { piece: 2 }).await;
    f.session.do_send(SetInterest { interested: true });
    send(&mut f.remote, PeerMessage::Unchoke).await;
    let (pieces, only) = until_event(&mut f, |e| match e {
        Event::RequestIn(pieces, only) => Some((pieces, only)),
        _ => None,
    })
    .await;
    assert_eq!((pieces, only), (vec![2], false));
    let first = until(&mut f, |m| match m {
        PeerMessage::Request(r) => Some(r.piece),
        _ => None,
    })
    .await;
    assert_eq!(first, 2);
}
