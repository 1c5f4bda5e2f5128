//! The order in which a `PeerSession` tells the piece manager of what one read brought: the
//! blocks received go before a REJECT's release of the next request (BEP 6) and before the
//! connection's `PeerLeft`, so the piece manager never drops a block it was sent as no longer
//! requested.

use bt_proto::wire::BlockRequest;
use bytes::{Bytes, BytesMut};
use tokio::io::AsyncWriteExt;
use tokio_util::codec::Encoder;

use super::msg::SetInterest;
use super::tests::{Event, Fixture, event, fixture_with, recv, send};
use super::*;

/// A leecher connection to a peer that has every piece (HAVE ALL, BEP 6) and unchoked us,
/// with at least two of our requests outstanding: the first two.
async fn requesting() -> (Fixture, BlockRequest, BlockRequest) {
    let fast = Negotiated {
        fast: true,
        extension_protocol: false,
    };
    let mut f = fixture_with(false, PeerSettings::default(), PeerConfig::default(), fast).await;
    send(&mut f.remote, PeerMessage::HaveAll).await;
    f.session.do_send(SetInterest { interested: true });
    send(&mut f.remote, PeerMessage::Unchoke).await;
    let mut requests = Vec::new();
    while requests.len() < 2 {
        if let PeerMessage::Request(request) = recv(&mut f.remote).await {
            requests.push(request);
        }
    }
    (f, requests[0], requests[1])
}

/// The frames of `messages`, to be written in one go (so the connection reads them in one
/// turn).
fn frames(messages: Vec<PeerMessage>) -> BytesMut {
    let mut bytes = BytesMut::new();
    for message in messages {
        PeerCodec::default().encode(message, &mut bytes).unwrap();
    }
    bytes
}

/// The PIECE answering `request`, with the payload's bytes.
fn piece(f: &Fixture, request: BlockRequest) -> PeerMessage {
    let start = f
        .lengths
        .piece_offset(f.lengths.piece(request.piece).unwrap()) as usize
        + request.offset as usize;
    PeerMessage::Piece {
        piece: request.piece,
        offset: request.offset,
        data: Bytes::copy_from_slice(&f.data[start..start + request.length as usize]),
    }
}

/// The stub's events until `last` matches, with it.
async fn events_until(f: &mut Fixture, last: impl Fn(&Event) -> bool) -> Vec<Event> {
    let mut seen = Vec::new();
    loop {
        let next = event(&mut f.events).await;
        let done = last(&next);
        seen.push(next);
        if done {
            return seen;
        }
    }
}

#[actix::test]
async fn a_block_then_a_reject_in_one_read_reach_the_piece_manager_in_that_order() {
    let (mut f, first, second) = requesting().await;
    let read = frames(vec![piece(&f, first), PeerMessage::Reject(second)]);
    f.remote.get_mut().write_all(&read).await.unwrap();
    let seen = events_until(&mut f, |e| matches!(e, Event::Released(_))).await;
    let received: Vec<BlockRef> = seen
        .iter()
        .flat_map(|e| match e {
            Event::Received(blocks) => blocks.iter().map(|(b, _)| *b).collect(),
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(received.len(), 1, "the block, before the release: {seen:?}");
    assert_eq!(
        (received[0].piece.get(), received[0].offset),
        (first.piece, first.offset)
    );
    assert!(matches!(seen.last(), Some(Event::Released(1))), "{seen:?}");
}

#[actix::test]
async fn blocks_read_just_before_a_hang_up_reach_the_piece_manager_before_it_leaves() {
    let (mut f, first, second) = requesting().await;
    let read = frames(vec![piece(&f, first), piece(&f, second)]);
    f.remote.get_mut().write_all(&read).await.unwrap();
    f.remote.get_mut().shutdown().await.unwrap();
    let seen = events_until(&mut f, |e| matches!(e, Event::Left)).await;
    let received: usize = seen
        .iter()
        .map(|e| match e {
            Event::Received(blocks) => blocks.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(received, 2, "both blocks, before PeerLeft: {seen:?}");
}
