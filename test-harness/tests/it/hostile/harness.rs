//! Each hostile script produces the bad input it promises: a plain tokio socket on the other
//! end plays the engine's part by hand and decodes every byte with bt-proto.

use super::plain::*;
use std::collections::HashSet;
use std::time::Duration;

use anyhow::{bail, ensure};
use bt_proto::InfoHash;
use bt_proto::bitfield::{Bitfield, BitfieldError};
use bt_proto::geometry::{BLOCK_LEN, GeometryError};
use bt_proto::wire::{BlockRequest, DEFAULT_MAX_MESSAGE_LEN, PeerMessage, WireError};
use bt_test_harness::hostile::{
    BadBitfield, ConnectionReport, CorruptBlocks, CorruptThenHangUp, DisconnectMidBlock, End,
    HostilePeer, NeverAnswers, OutOfRangeRequest, OversizedMessage, RequestFlood, Sent,
    UnsolicitedBlocks,
};
use bt_test_harness::{MockTracker, Payload, PayloadSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn corrupt_blocks_are_well_framed_blocks_of_the_wrong_bytes() {
    let payload = payload();
    let (hostile, mut plain) = connected(&payload, CorruptBlocks).await.unwrap();
    let pieces = lengths(&payload).piece_count();
    let request = BlockRequest {
        piece: 1,
        offset: BLOCK_LEN,
        length: BLOCK_LEN,
    };
    download_start(&mut plain, pieces, request).await.unwrap();
    let PeerMessage::Piece {
        piece,
        offset,
        data,
    } = plain.expect().await.unwrap()
    else {
        panic!("not a block");
    };
    assert_eq!(
        (piece, offset, data.len()),
        (1, BLOCK_LEN, BLOCK_LEN as usize)
    );
    assert_ne!(&data[..], &real_bytes(&payload, request)[..]);
    // And again for the short last block.
    let last = BlockRequest {
        piece: 3,
        offset: 0,
        length: 100_000 - 3 * 32 * 1024,
    };
    plain.send(PeerMessage::Request(last)).await.unwrap();
    let PeerMessage::Piece { data, .. } = plain.expect().await.unwrap() else {
        panic!("not a block");
    };
    assert_eq!(data.len(), last.length as usize);
    assert_ne!(&data[..], &real_bytes(&payload, last)[..]);
    let report = hang_up(&hostile, plain).await;
    assert!(report.outgoing);
    assert!(report.sent.contains(&Sent::Block(request)));
    assert!(report.sent.contains(&Sent::Block(last)));
    assert_eq!(report.received.requests(), vec![request, last]);
}

#[tokio::test]
async fn corrupt_then_hang_up_closes_after_its_count_on_every_connection() {
    let payload = payload();
    let script = CorruptThenHangUp { blocks: 2 };
    let hostile = HostilePeer::listen(&payload.torrent, script).unwrap();
    let addr = hostile.listen_addr().unwrap();
    for round in 1..=2 {
        let mut plain = PlainPeer::dial(addr, payload.info_hash()).await.unwrap();
        let block = |i: u32| BlockRequest {
            piece: i / 2,
            offset: (i % 2) * BLOCK_LEN,
            length: BLOCK_LEN,
        };
        download_start(&mut plain, 4, block(0)).await.unwrap();
        plain.send(PeerMessage::Request(block(1))).await.unwrap();
        plain.send(PeerMessage::Request(block(2))).await.unwrap();
        for i in 0..2 {
            let PeerMessage::Piece { data, .. } = plain.expect().await.unwrap() else {
                panic!("not a block");
            };
            assert_ne!(&data[..], &real_bytes(&payload, block(i))[..]);
        }
        assert_eq!(plain.next().await.unwrap(), Ok(None), "no third block");
        let ended = |c: &[ConnectionReport]| c.len() == round && c.iter().all(|c| c.end.is_some());
        let reports = hostile.wait_until(TIMEOUT, ended).await.unwrap();
        assert_eq!(reports[round - 1].end, Some(End::ClosedByUs));
    }
}

#[tokio::test]
async fn disconnect_mid_block_sends_half_a_piece_frame_then_closes() {
    let payload = payload();
    let tracker = MockTracker::start().unwrap();
    let hostile = HostilePeer::listen(&payload.torrent, DisconnectMidBlock).unwrap();
    hostile.announce_to(&tracker).unwrap();
    let addr = hostile.listen_addr().unwrap();
    let listed = tracker.peers(&payload.info_hash());
    assert!(listed.iter().any(|p| p.addr == addr && p.left == 0));
    let mut plain = PlainPeer::dial(addr, payload.info_hash()).await.unwrap();
    let request = BlockRequest {
        piece: 0,
        offset: 0,
        length: BLOCK_LEN,
    };
    download_start(&mut plain, 4, request).await.unwrap();
    // The decoder waits for the rest of the frame, which never comes.
    assert_eq!(plain.next().await.unwrap(), Ok(None));
    let header = &plain.buf[..];
    assert_eq!(header.len(), 13 + BLOCK_LEN as usize / 2);
    assert_eq!(&header[..5], &[0, 0, 0x40, 0x09, 7]);
    let report = hostile.wait_first_end(TIMEOUT).await.unwrap();
    assert!(!report.outgoing);
    assert_eq!(report.end, Some(End::ClosedByUs));
    let expected = Sent::TruncatedFrame {
        id: 7,
        declared: BLOCK_LEN + 9,
        written: 13 + BLOCK_LEN as usize / 2,
    };
    assert_eq!(report.sent.last(), Some(&expected));
}

#[tokio::test]
async fn never_answers_unchokes_then_stays_silent() {
    let payload = payload();
    let (hostile, mut plain) = connected(&payload, NeverAnswers).await.unwrap();
    let first = BlockRequest {
        piece: 0,
        offset: 0,
        length: BLOCK_LEN,
    };
    download_start(&mut plain, 4, first).await.unwrap();
    let second = BlockRequest {
        piece: 2,
        offset: 0,
        length: BLOCK_LEN,
    };
    plain.send(PeerMessage::Request(second)).await.unwrap();
    plain.send(PeerMessage::Cancel(first)).await.unwrap();
    let seen = |c: &[ConnectionReport]| c.first().is_some_and(|c| !c.received.cancels().is_empty());
    let reports = hostile.wait_until(TIMEOUT, seen).await.unwrap();
    assert_eq!(reports[0].received.requests(), vec![first, second]);
    assert_eq!(reports[0].received.cancels(), vec![first]);
    // Everything it sent by now: handshake, bitfield, unchoke; no block.
    let blocks = reports[0]
        .sent
        .iter()
        .filter(|s| matches!(s, Sent::Block(_)));
    assert_eq!(blocks.count(), 0);
    assert_eq!(reports[0].sent.len(), 3, "{:?}", reports[0].sent);
    // The socket holds nothing more: a read would wait.
    assert!(plain.buf.is_empty());
    let mut byte = [0u8; 1];
    let pending = tokio::time::timeout(Duration::from_millis(200), plain.stream.read(&mut byte));
    assert!(pending.await.is_err(), "the silent peer sent something");
    hang_up(&hostile, plain).await;
}

#[tokio::test]
async fn oversized_message_has_a_length_prefix_over_the_decoders_limit() {
    let payload = payload();
    let (hostile, mut plain) = connected(&payload, OversizedMessage::default())
        .await
        .unwrap();
    let max = DEFAULT_MAX_MESSAGE_LEN;
    assert_eq!(
        plain.next().await.unwrap(),
        Err(WireError::TooLong { len: max + 1, max })
    );
    // The rest of the frame follows: it really is that long.
    let mut rest = vec![0u8; 4 + max as usize + 1 - plain.buf.len()];
    let read = tokio::time::timeout(TIMEOUT, plain.stream.read_exact(&mut rest));
    read.await.unwrap().unwrap();
    let report = hang_up(&hostile, plain).await;
    let Some(Sent::Oversized { id, declared, .. }) = report.sent.last() else {
        panic!("no oversized frame in {:?}", report.sent);
    };
    assert_eq!((*id, *declared), (7, max + 1));
}

/// The bitfield a [`BadBitfield`] peer sends, checked by bt-proto for `pieces`.
async fn bad_bitfield(
    fault: BadBitfield,
    spec: PayloadSpec,
) -> anyhow::Result<Result<Bitfield, BitfieldError>> {
    let payload = Payload::generate(&spec, 3)?;
    let pieces = lengths(&payload).piece_count() as usize;
    let (hostile, mut plain) = connected(&payload, fault).await?;
    let PeerMessage::Bitfield(bits) = plain.expect().await? else {
        bail!("not a bitfield");
    };
    drop(plain);
    let report = hostile.wait_first_end(TIMEOUT).await?;
    ensure!(report.end == Some(End::ClosedByRemote), "{:?}", report.end);
    Ok(Bitfield::from_bytes(&bits, pieces))
}

#[tokio::test]
async fn bad_bitfields_have_the_wrong_length_or_spare_bits_set() {
    let four_pieces = PayloadSpec::single_file("b.bin", 100_000).with_piece_length(32 * 1024);
    assert_eq!(
        bad_bitfield(BadBitfield::WrongLength, four_pieces.clone())
            .await
            .unwrap(),
        Err(BitfieldError::WrongLength {
            expected: 1,
            actual: 2
        })
    );
    assert_eq!(
        bad_bitfield(BadBitfield::SpareBits, four_pieces)
            .await
            .unwrap(),
        Err(BitfieldError::SpareBitsSet { piece_count: 4 })
    );
    assert_eq!(BadBitfield::SpareBits.payload(4), Some(vec![0xff]));
    assert_eq!(BadBitfield::SpareBits.payload(16), None);
}

#[tokio::test]
async fn spare_bits_cannot_be_set_when_the_piece_count_is_a_multiple_of_eight() {
    let spec = PayloadSpec::single_file("e.bin", 8 * 16 * 1024).with_piece_length(16 * 1024);
    let payload = Payload::generate(&spec, 3).unwrap();
    let (hostile, mut plain) = connected(&payload, BadBitfield::SpareBits).await.unwrap();
    let report = hostile.wait_first_end(TIMEOUT).await.unwrap();
    let Some(End::Failed(why)) = report.end else {
        panic!("ended as {:?}", report.end);
    };
    assert!(why.contains("no spare bits"), "{why}");
    assert_eq!(plain.next().await.unwrap(), Ok(None), "it sent nothing");
}

#[tokio::test]
async fn out_of_range_requests_decode_but_fail_the_geometry_check() {
    let payload = payload();
    let lengths = lengths(&payload);
    let cases = [
        (
            OutOfRangeRequest::PastLastPiece,
            GeometryError::PieceOutOfRange { index: 4, count: 4 },
        ),
        (
            OutOfRangeRequest::PastPieceEnd,
            GeometryError::OutsidePiece {
                piece: 3,
                offset: 1695,
                len: BLOCK_LEN,
                piece_len: 1696,
            },
        ),
        (
            OutOfRangeRequest::TooLong,
            GeometryError::BlockTooLong {
                len: 2 * BLOCK_LEN,
                max: BLOCK_LEN,
            },
        ),
    ];
    for (fault, error) in cases {
        let (hostile, mut plain) = connected(&payload, fault).await.unwrap();
        let PeerMessage::Request(request) = plain.expect().await.unwrap() else {
            panic!("not a request");
        };
        assert_eq!(request, fault.request(&lengths));
        let checked =
            lengths.validate_request(request.piece, request.offset, request.length, BLOCK_LEN);
        assert_eq!(checked, Err(error), "{fault:?}");
        hang_up(&hostile, plain).await;
    }
    // With 32 KiB pieces, a too-long request is inside its piece: only the length is wrong.
    let too_long = OutOfRangeRequest::TooLong.request(&lengths);
    assert!(
        lengths
            .validate_request(too_long.piece, too_long.offset, too_long.length, u32::MAX)
            .is_ok()
    );
}

#[tokio::test]
async fn a_request_flood_waits_for_unchoke_then_sends_distinct_valid_requests() {
    let payload = payload();
    let lengths = lengths(&payload);
    let flood = RequestFlood { requests: 1_000 };
    let (hostile, mut plain) = connected(&payload, flood).await.unwrap();
    assert_eq!(plain.expect().await.unwrap(), PeerMessage::Interested);
    // Nothing but the INTERESTED until we unchoke.
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(200), plain.stream.read(&mut byte));
    assert!(early.await.is_err(), "it sent something before the unchoke");
    plain.send(PeerMessage::Unchoke).await.unwrap();
    let mut seen = HashSet::new();
    for _ in 0..flood.requests {
        let PeerMessage::Request(r) = plain.expect().await.unwrap() else {
            panic!("not a request");
        };
        lengths
            .validate_request(r.piece, r.offset, r.length, BLOCK_LEN)
            .unwrap();
        assert!(seen.insert(r), "{r:?} twice");
    }
    assert_eq!(seen.len(), 1_000);
    let report = hang_up(&hostile, plain).await;
    let sent = report
        .sent
        .iter()
        .filter(|s| matches!(s, Sent::Message(PeerMessage::Request(_))));
    assert_eq!(sent.count(), 1_000);
}

#[tokio::test]
async fn unsolicited_blocks_are_valid_grid_blocks_of_the_wrong_bytes() {
    let payload = payload();
    let lengths = lengths(&payload);
    let script = UnsolicitedBlocks { count: 10 };
    let (hostile, mut plain) = connected(&payload, script).await.unwrap();
    // 100 000 bytes in 16 KiB blocks of 32 KiB pieces: 7 blocks, then the first 3 again.
    for i in 0..10 {
        let PeerMessage::Piece {
            piece,
            offset,
            data,
        } = plain.expect().await.unwrap()
        else {
            panic!("not a block");
        };
        let len = u32::try_from(data.len()).unwrap();
        lengths.validate_block(piece, offset, len).unwrap();
        let expected_piece = [0, 0, 1, 1, 2, 2, 3, 0, 0, 1][i];
        assert_eq!(piece, expected_piece, "block {i}");
        let range = BlockRequest {
            piece,
            offset,
            length: len,
        };
        assert_ne!(&data[..], &real_bytes(&payload, range)[..]);
    }
    hang_up(&hostile, plain).await;
}

#[tokio::test]
async fn a_listening_peer_reports_every_connection_and_a_wrong_info_hash_fails() {
    let payload = payload();
    let hostile = HostilePeer::listen(&payload.torrent, NeverAnswers).unwrap();
    let addr = hostile.listen_addr().unwrap();
    let first = PlainPeer::dial(addr, payload.info_hash()).await.unwrap();
    let mut stranger = TcpStream::connect(addr).await.unwrap();
    stranger
        .write_all(&ours(InfoHash([9; 20])).to_bytes())
        .await
        .unwrap();
    let two_ends = |c: &[ConnectionReport]| c.len() == 2 && c[1].end.is_some();
    let reports = hostile.wait_until(TIMEOUT, two_ends).await.unwrap();
    let Some(End::Failed(why)) = &reports[1].end else {
        panic!("{:?}", reports[1].end);
    };
    assert!(why.contains("info-hash"), "{why}");
    assert_eq!(reports[0].end, None, "the first is still open");
    drop(first);
    let reports = hostile
        .wait_until(TIMEOUT, |c| c[0].end.is_some())
        .await
        .unwrap();
    assert_eq!(reports[0].end, Some(End::ClosedByRemote));
    hostile.shutdown();
}
