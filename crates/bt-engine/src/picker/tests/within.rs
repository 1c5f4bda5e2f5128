//! Picks narrowed to a set of pieces: BEP 6 allowed-fast pieces while choked (`only`), and
//! suggested pieces as a preference.

use super::*;
use crate::picker::PieceOrder;

#[test]
fn only_picks_nothing_outside_the_set() {
    let mut p = picker(20, 2, rarest_config(), 7);
    p.peer_have_all(peer(1));
    let allowed = [piece(&p, 3), piece(&p, 11)];
    let picked = p.pick_blocks_in(peer(1), 100, &allowed, true);
    assert_eq!(pieces_of(&picked), BTreeSet::from([3, 11]));
    assert_eq!(picked.len(), 4, "both blocks of both pieces");
    assert_consistent(&p);
    // Everything in the set is requested: nothing more to pick from it.
    assert!(p.pick_blocks_in(peer(1), 100, &allowed, true).is_empty());
    assert_consistent(&p);
}

#[test]
fn only_skips_pieces_the_peer_lacks_or_we_have() {
    let mut p = picker(20, 2, rarest_config(), 7);
    p.peer_bitfield(peer(1), bits(20, [4, 5])).unwrap();
    let allowed = [piece(&p, 4), piece(&p, 9)];
    let picked = p.pick_blocks_in(peer(1), 100, &allowed, true);
    assert_eq!(pieces_of(&picked), BTreeSet::from([4]));
    let blocks = picked.clone();
    assert_eq!(receive_all(&mut p, peer(1), &blocks), vec![4]);
    assert!(p.piece_verified(piece(&p, 4)));
    assert!(p.pick_blocks_in(peer(1), 100, &allowed, true).is_empty());
    assert_consistent(&p);
}

#[test]
fn a_preference_comes_first_and_the_rest_is_picked_as_usual() {
    let mut p = picker(20, 2, rarest_config(), 7);
    p.peer_have_all(peer(1));
    let suggested = [piece(&p, 17)];
    let picked = p.pick_blocks_in(peer(1), 6, &suggested, false);
    assert_eq!(picked.len(), 6);
    assert_eq!(picked[0].piece.get(), 17);
    assert_eq!(picked[1].piece.get(), 17);
    assert_eq!(pieces_of(&picked).len(), 3);
    assert_consistent(&p);
}

#[test]
fn sequential_order_is_kept_over_hints_and_allowed_fast_pieces() {
    let config = PickerConfig {
        order: PieceOrder::Sequential,
        ..rarest_config()
    };
    let mut p = picker(20, 2, config, 7);
    p.peer_have_all(peer(1));
    let set = [piece(&p, 9), piece(&p, 15)];
    assert!(p.pick_blocks_in(peer(1), 10, &set, true).is_empty());
    let picked = p.pick_blocks_in(peer(1), 4, &set, false);
    assert_eq!(
        pieces_of(&picked),
        BTreeSet::from([0, 1]),
        "by index, not the hint"
    );
    assert_consistent(&p);
}

#[test]
fn the_default_never_picks_while_choked_and_ignores_hints() {
    /// A picker that keeps the trait's defaults for the narrowed pick.
    #[derive(Debug)]
    struct Plain(StandardPicker);
    impl PiecePicker for Plain {
        fn peer_bitfield(
            &mut self,
            peer: PeerKey,
            b: Bitfield,
        ) -> Result<(), super::super::PickerError> {
            self.0.peer_bitfield(peer, b)
        }
        fn peer_have_all(&mut self, peer: PeerKey) {
            self.0.peer_have_all(peer)
        }
        fn peer_have_none(&mut self, peer: PeerKey) {
            self.0.peer_have_none(peer)
        }
        fn peer_have(&mut self, peer: PeerKey, i: u32) -> Result<(), super::super::PickerError> {
            self.0.peer_have(peer, i)
        }
        fn peer_disconnected(&mut self, peer: PeerKey) {
            self.0.peer_disconnected(peer)
        }
        fn peer_choked(&mut self, peer: PeerKey) {
            self.0.peer_choked(peer)
        }
        fn is_interesting(&self, peer: PeerKey) -> bool {
            self.0.is_interesting(peer)
        }
        fn take_interest_changes(&mut self) -> Vec<(PeerKey, bool)> {
            self.0.take_interest_changes()
        }
        fn set_wanted(
            &mut self,
            w: Bitfield,
        ) -> Result<Vec<(PeerKey, BlockRef)>, super::super::PickerError> {
            self.0.set_wanted(w)
        }
        fn pick_blocks(&mut self, peer: PeerKey, max: usize) -> Vec<BlockRef> {
            self.0.pick_blocks(peer, max)
        }
        fn block_received(&mut self, peer: PeerKey, b: &BlockRef) -> super::super::BlockReceived {
            self.0.block_received(peer, b)
        }
        fn request_released(&mut self, peer: PeerKey, b: &BlockRef) {
            self.0.request_released(peer, b)
        }
        fn piece_verified(&mut self, piece: PieceIndex) -> bool {
            self.0.piece_verified(piece)
        }
        fn piece_failed(&mut self, piece: PieceIndex) -> Vec<PeerKey> {
            self.0.piece_failed(piece)
        }
        fn piece_contributors(&self, piece: PieceIndex) -> Vec<PeerKey> {
            self.0.piece_contributors(piece)
        }
        fn is_banned(&self, peer: PeerKey) -> bool {
            self.0.is_banned(peer)
        }
        fn have(&self) -> &Bitfield {
            self.0.have()
        }
        fn wanted(&self) -> &Bitfield {
            self.0.wanted()
        }
        fn is_complete(&self) -> bool {
            self.0.is_complete()
        }
        fn missing_count(&self) -> usize {
            self.0.missing_count()
        }
        fn availability(&self, piece: PieceIndex) -> u32 {
            self.0.availability(piece)
        }
        fn rarest_availability(&self) -> u32 {
            self.0.rarest_availability()
        }
        fn in_flight_pieces(&self) -> Vec<PieceIndex> {
            self.0.in_flight_pieces()
        }
        fn is_endgame(&self) -> bool {
            self.0.is_endgame()
        }
        fn name(&self) -> &'static str {
            "plain"
        }
    }
    let mut p = Plain(picker(20, 2, rarest_config(), 7));
    p.peer_have_all(peer(1));
    let set = [piece(&p.0, 5)];
    assert!(p.pick_blocks_in(peer(1), 10, &set, true).is_empty());
    assert_eq!(p.pick_blocks_in(peer(1), 4, &set, false).len(), 4);
}
