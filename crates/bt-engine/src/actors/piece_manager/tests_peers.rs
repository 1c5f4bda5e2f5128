//! The piece manager with the connections' other news on the batched data path: a rejected
//! block goes back to the picker and its piece still completes from another peer; a peer
//! that leaves right after its last blocks loses none of them; BEP 6 picks (allowed-fast
//! pieces, suggestions) from a peer that sent HAVE ALL wait for the disk like any other.

use bt_proto::geometry::{BlockRef, PieceIndex};
use tokio::sync::mpsc::UnboundedReceiver;

use super::msg::*;
use super::tests::{
    BOTH_WAYS, Fixture, ask, bytes_of, deliver, fixture, gated_fixture, join, join_seed,
};
use super::*;
use crate::actors::supervisor::msg::PieceVerified;
use crate::actors::test_support::{Seen, next, next_matching};
use crate::picker::PickerConfig;

/// A stub connection whose peer sent HAVE ALL (BEP 6) instead of a bitfield.
fn join_have_all(f: &Fixture, key: u64) -> UnboundedReceiver<Seen> {
    let rx = join(f, key);
    f.manager.do_send(HaveAllReceived { key: PeerKey(key) });
    rx
}

/// What a connection asks for with BEP 6 pieces to prefer (`only`: nothing else).
async fn ask_in(
    f: &Fixture,
    key: u64,
    max: usize,
    pieces: &[PieceIndex],
    only: bool,
) -> Vec<BlockRef> {
    f.manager
        .send(RequestBlocksIn {
            key: PeerKey(key),
            max,
            pieces: pieces.to_vec(),
            only,
        })
        .await
        .unwrap()
}

/// Delivers `blocks` from connection `key`, with their bytes.
fn deliver_all(f: &Fixture, key: u64, blocks: &[BlockRef]) {
    deliver(
        f,
        key,
        blocks.iter().map(|b| (*b, bytes_of(f, b))).collect(),
    );
}

/// The pieces verified until `count` are, sorted.
async fn verified(f: &mut Fixture, count: usize) -> Vec<u32> {
    let mut pieces = Vec::new();
    while pieces.len() < count {
        match next(&mut f.supervisor).await {
            Seen::Verified(PieceVerified { piece }) => pieces.push(piece.get()),
            other => panic!("{other:?}"),
        }
    }
    pieces.sort_unstable();
    pieces
}

#[actix::test]
async fn a_rejected_block_goes_back_to_the_picker_and_its_piece_completes_from_another_peer() {
    for limit in BOTH_WAYS {
        let mut f = fixture(PickerConfig::default(), limit);
        let _rejecter = join_have_all(&f, 1);
        let _other = join_seed(&f, 2).await;
        let first = ask(&f, 1, 2).await;
        assert_eq!(first.len(), 2);
        assert_eq!(first[0].piece, first[1].piece, "a piece at a time");
        let (kept, rejected) = (first[0], first[1]);
        // One block arrives; the peer rejects the other (BEP 6), in this order.
        deliver_all(&f, 1, &[kept]);
        f.manager.do_send(RequestsReleased {
            key: PeerKey(1),
            blocks: vec![rejected],
        });
        let rest = ask(&f, 2, 100).await;
        assert!(rest.contains(&rejected), "limit {limit}: {rest:?}");
        assert!(
            !rest.contains(&kept),
            "limit {limit}: kept, never asked again"
        );
        deliver_all(&f, 2, &rest);
        assert_eq!(verified(&mut f, 3).await, vec![0, 1, 2], "limit {limit}");
    }
}

#[actix::test]
async fn a_peer_that_leaves_right_after_its_last_blocks_loses_none_of_them() {
    for limit in BOTH_WAYS {
        let mut f = fixture(PickerConfig::default(), limit);
        let _leaver = join_seed(&f, 1).await;
        let first = ask(&f, 1, 3).await;
        assert_eq!(first.len(), 3);
        let whole = first[0].piece;
        assert_eq!(first[1].piece, whole, "a piece at a time");
        // Its blocks, then its departure: the order a connection sends them in.
        deliver_all(&f, 1, &first);
        f.manager.do_send(PeerLeft { key: PeerKey(1) });
        assert_eq!(
            verified(&mut f, 1).await,
            vec![whole.get()],
            "limit {limit}: the piece it completed"
        );
        let _heir = join_seed(&f, 2).await;
        let rest = ask(&f, 2, 100).await;
        assert!(
            first.iter().all(|b| !rest.contains(b)),
            "limit {limit}: none of its blocks is fetched again: {rest:?}"
        );
        assert_eq!(
            rest.len(),
            3,
            "limit {limit}: the half piece and the last one"
        );
        deliver_all(&f, 2, &rest);
        let mut all = verified(&mut f, 2).await;
        all.push(whole.get());
        all.sort_unstable();
        assert_eq!(all, vec![0, 1, 2], "limit {limit}");
    }
}

#[actix::test]
async fn allowed_fast_and_suggested_picks_wait_for_the_disk_like_any_other() {
    // Peer 1 completes enough pieces to fill the disk's backlog.
    let (mut f, open, pieces) = gated_fixture();
    let mut fast = join_have_all(&f, 2);
    let allowed = f.lengths.piece(pieces as u32 + 1).unwrap();
    let picked = ask_in(&f, 2, 100, &[allowed], true).await;
    assert_eq!(picked.len(), 2, "both blocks of the allowed piece");
    assert!(picked.iter().all(|b| b.piece == allowed), "{picked:?}");

    let _seed = join_seed(&f, 1).await;
    let blocks = ask(&f, 1, pieces * 2).await;
    assert_eq!(blocks.len(), pieces * 2, "every block of {pieces} pieces");
    deliver_all(&f, 1, &blocks);
    let left = f
        .lengths
        .pieces()
        .find(|p| *p != allowed && blocks.iter().all(|b| b.piece != *p))
        .unwrap();
    assert!(
        ask_in(&f, 2, 10, &[left], true).await.is_empty(),
        "allowed fast: the disk is behind"
    );
    assert!(
        ask_in(&f, 2, 10, &[left], false).await.is_empty(),
        "suggested: the disk is behind"
    );

    open.send(true).unwrap();
    assert_eq!(
        next_matching(&mut fast, |s| matches!(s, Seen::Work)).await,
        Seen::Work,
        "told once the disk caught up"
    );
    let suggested = ask_in(&f, 2, 10, &[left], false).await;
    assert_eq!(suggested.len(), 2, "{suggested:?}");
    assert!(suggested.iter().all(|b| b.piece == left), "{suggested:?}");
    assert_eq!(verified(&mut f, pieces).await.len(), pieces);
}
