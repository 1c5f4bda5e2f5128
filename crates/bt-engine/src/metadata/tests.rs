//! Tests of [`MetadataFetch`]: sources, requests, strikes, rests.

use bt_proto::ext::METADATA_PIECE_LEN;
use sha1::{Digest, Sha1};

use super::*;

const A: PeerKey = PeerKey(1);
const B: PeerKey = PeerKey(2);

/// Metadata of `len` bytes and its hash.
fn metadata(len: usize) -> (Vec<u8>, InfoHash) {
    let bytes: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
    let hash = InfoHash(Sha1::digest(&bytes).into());
    (bytes, hash)
}

fn piece_of(bytes: &[u8], piece: u32) -> Bytes {
    let start = piece as usize * METADATA_PIECE_LEN;
    let end = (start + METADATA_PIECE_LEN).min(bytes.len());
    Bytes::copy_from_slice(&bytes[start..end])
}

fn fetch(hash: InfoHash) -> MetadataFetch {
    MetadataFetch::new(hash, FetchConfig::default())
}

#[test]
fn fetches_every_piece_from_one_source_and_verifies() {
    let (bytes, hash) = metadata(2 * METADATA_PIECE_LEN + 7);
    let size = bytes.len() as u64;
    let mut f = fetch(hash);
    let now = Instant::now();
    assert!(f.requests(now).is_empty(), "no source yet");
    assert_eq!(f.peer_ready(A, true, Some(size)), Ok(true));
    assert_eq!(f.peer_ready(B, true, Some(size)), Ok(true));
    let requests = f.requests(now);
    assert_eq!(
        requests,
        vec![(A, 0), (A, 1), (A, 2)],
        "one source at a time"
    );
    assert!(f.requests(now).is_empty(), "nothing asked twice");
    assert_eq!(
        f.piece(A, 2, size, piece_of(&bytes, 2)),
        PieceOutcome::Continue
    );
    assert_eq!(
        f.piece(A, 0, size, piece_of(&bytes, 0)),
        PieceOutcome::Continue
    );
    assert_eq!(f.progress(), (2, 3));
    assert_eq!(
        f.piece(A, 1, size, piece_of(&bytes, 1)),
        PieceOutcome::Verified(bytes)
    );
}

#[test]
fn peers_without_ut_metadata_or_a_size_are_not_sources() {
    let mut f = fetch(InfoHash([1; 20]));
    assert_eq!(f.peer_ready(A, false, Some(100)), Ok(false));
    assert_eq!(f.peer_ready(B, true, None), Ok(false));
    assert!(!f.is_source(A) && !f.is_source(B));
    assert!(f.requests(Instant::now()).is_empty());
}

#[test]
fn an_oversized_or_empty_metadata_size_is_refused() {
    let mut f = fetch(InfoHash([1; 20]));
    let max = bt_proto::ext::DEFAULT_MAX_METADATA_SIZE;
    assert_eq!(
        f.peer_ready(A, true, Some(max + 1)),
        Err(MetadataError::TooLarge { size: max + 1, max })
    );
    assert_eq!(f.peer_ready(B, true, Some(0)), Err(MetadataError::Empty));
    let mut small = MetadataFetch::new(
        InfoHash([1; 20]),
        FetchConfig {
            max_metadata_size: 1000,
            ..FetchConfig::default()
        },
    );
    assert!(small.peer_ready(A, true, Some(1001)).is_err());
    assert_eq!(small.peer_ready(A, true, Some(1000)), Ok(true));
    assert!(f.requests(Instant::now()).is_empty());
}

#[test]
fn metadata_failing_the_hash_strikes_its_supplier_and_another_source_takes_over() {
    let (bytes, hash) = metadata(METADATA_PIECE_LEN + 10);
    let size = bytes.len() as u64;
    let mut f = fetch(hash);
    let now = Instant::now();
    f.peer_ready(A, true, Some(size)).unwrap();
    f.peer_ready(B, true, Some(size)).unwrap();
    assert_eq!(f.requests(now), vec![(A, 0), (A, 1)]);
    assert_eq!(
        f.piece(A, 0, size, piece_of(&bytes, 0)),
        PieceOutcome::Continue
    );
    let garbage = Bytes::from(vec![0u8; 10]);
    assert_eq!(
        f.piece(A, 1, size, garbage),
        PieceOutcome::Struck(vec![(A, Strike::HashMismatch)])
    );
    assert!(!f.is_source(A));
    assert_eq!(f.requests(now), vec![(B, 0), (B, 1)], "all again, from B");
    f.piece(B, 0, size, piece_of(&bytes, 0));
    assert_eq!(
        f.piece(B, 1, size, piece_of(&bytes, 1)),
        PieceOutcome::Verified(bytes)
    );
}

#[test]
fn a_liar_about_the_size_is_struck_and_the_next_source_sets_the_size() {
    let (bytes, hash) = metadata(100);
    let mut f = fetch(hash);
    let now = Instant::now();
    f.peer_ready(A, true, Some(5000)).unwrap();
    f.peer_ready(B, true, Some(100)).unwrap();
    assert_eq!(f.requests(now), vec![(A, 0)]);
    assert_eq!(f.size(), Some(5000));
    // A's piece is 5000 bytes of garbage: the right length, the wrong hash.
    let outcome = f.piece(A, 0, 5000, Bytes::from(vec![9; 5000]));
    assert_eq!(
        outcome,
        PieceOutcome::Struck(vec![(A, Strike::HashMismatch)])
    );
    assert_eq!(f.requests(now), vec![(B, 0)]);
    assert_eq!(f.size(), Some(100));
    assert_eq!(
        f.piece(B, 0, 100, Bytes::from(bytes.clone())),
        PieceOutcome::Verified(bytes)
    );
}

#[test]
fn a_piece_of_the_wrong_length_strikes_at_once() {
    let (bytes, hash) = metadata(100);
    let mut f = fetch(hash);
    f.peer_ready(A, true, Some(100)).unwrap();
    f.requests(Instant::now());
    let outcome = f.piece(A, 0, 100, Bytes::from(bytes[..50].to_vec()));
    assert!(matches!(
        outcome,
        PieceOutcome::Struck(ref struck)
            if matches!(struck[..], [(A, Strike::Bad(MetadataError::WrongLength { .. }))])
    ));
}

#[test]
fn data_not_asked_of_that_peer_is_ignored() {
    let (bytes, hash) = metadata(100);
    let mut f = fetch(hash);
    f.peer_ready(A, true, Some(100)).unwrap();
    f.peer_ready(B, true, Some(100)).unwrap();
    f.requests(Instant::now());
    // B was not asked: its (garbage) piece changes nothing.
    assert_eq!(
        f.piece(B, 0, 100, Bytes::from(vec![0; 100])),
        PieceOutcome::Continue
    );
    assert_eq!(
        f.piece(A, 0, 100, Bytes::from(bytes.clone())),
        PieceOutcome::Verified(bytes)
    );
}

#[test]
fn rejects_and_time_outs_move_on_to_another_source_and_the_first_rests() {
    let (_, hash) = metadata(100);
    let mut f = fetch(hash);
    let t0 = Instant::now();
    f.peer_ready(A, true, Some(100)).unwrap();
    f.peer_ready(B, true, Some(100)).unwrap();
    assert_eq!(f.requests(t0), vec![(A, 0)]);
    f.rejected(A, 0, t0);
    assert_eq!(f.requests(t0), vec![(B, 0)]);
    let late = t0 + FetchConfig::default().request_timeout;
    assert_eq!(f.timed_out(late), vec![B]);
    // A's rest is over, B's has begun.
    assert_eq!(f.requests(late), vec![(A, 0)]);
}

#[test]
fn a_departed_source_frees_its_requests() {
    let (_, hash) = metadata(100);
    let mut f = fetch(hash);
    let now = Instant::now();
    f.peer_ready(A, true, Some(100)).unwrap();
    f.peer_ready(B, true, Some(100)).unwrap();
    assert_eq!(f.requests(now), vec![(A, 0)]);
    f.peer_left(A);
    assert_eq!(f.requests(now), vec![(B, 0)]);
}

proptest::proptest! {
    /// Honest and lying sources in any order, with rejects sprinkled in: the fetch ends with
    /// the true metadata, and only liars are struck.
    #[test]
    fn ends_with_the_true_metadata_whoever_lies(
        len in 1usize..(3 * METADATA_PIECE_LEN),
        liars in proptest::collection::vec(proptest::arbitrary::any::<bool>(), 1..5),
        rejects in proptest::collection::vec(proptest::arbitrary::any::<bool>(), 0..20),
    ) {
        let (bytes, hash) = metadata(len);
        let size = bytes.len() as u64;
        let mut f = fetch(hash);
        let mut now = Instant::now();
        let keys: Vec<PeerKey> = (0..liars.len() as u64).map(PeerKey).collect();
        for key in &keys {
            f.peer_ready(*key, true, Some(size)).unwrap();
        }
        let honest_exists = liars.iter().any(|l| !l);
        let mut rejects = rejects.into_iter();
        let mut struck = Vec::new();
        let mut verified = None;
        for _ in 0..200 {
            let requests = f.requests(now);
            if requests.is_empty() {
                // Everyone is resting (or struck): let time pass.
                now += FetchConfig::default().request_timeout;
                if keys.iter().all(|k| struck.contains(k)) {
                    break;
                }
                continue;
            }
            for (key, piece) in requests {
                if rejects.next().unwrap_or(false) {
                    f.rejected(key, piece, now);
                    continue;
                }
                let mut data = piece_of(&bytes, piece).to_vec();
                if liars[key.0 as usize] {
                    data[0] ^= 1;
                }
                match f.piece(key, piece, size, Bytes::from(data)) {
                    PieceOutcome::Continue => {}
                    PieceOutcome::Verified(metadata) => verified = Some(metadata),
                    PieceOutcome::Struck(peers) => {
                        struck.extend(peers.into_iter().map(|(peer, _)| peer));
                    }
                }
            }
            if verified.is_some() {
                break;
            }
        }
        for key in &struck {
            proptest::prop_assert!(liars[key.0 as usize], "an honest peer was struck");
        }
        if honest_exists {
            proptest::prop_assert_eq!(verified, Some(bytes));
        } else {
            proptest::prop_assert!(verified.is_none());
        }
    }
}

#[test]
fn a_new_source_starts_over_so_pieces_are_never_mixed() {
    let (bytes, hash) = metadata(METADATA_PIECE_LEN + 10);
    let size = bytes.len() as u64;
    let mut f = fetch(hash);
    let now = Instant::now();
    f.peer_ready(A, true, Some(size)).unwrap();
    f.peer_ready(B, true, Some(size)).unwrap();
    assert_eq!(f.requests(now), vec![(A, 0), (A, 1)]);
    // A (a liar) sends piece 1 and rejects piece 0.
    let lie = Bytes::from(vec![7; 10]);
    assert_eq!(f.piece(A, 1, size, lie), PieceOutcome::Continue);
    f.rejected(A, 0, now);
    // B takes over from scratch: A's piece 1 is not kept.
    assert_eq!(f.requests(now), vec![(B, 0), (B, 1)]);
    assert_eq!(f.progress(), (0, 2));
    f.piece(B, 0, size, piece_of(&bytes, 0));
    assert_eq!(
        f.piece(B, 1, size, piece_of(&bytes, 1)),
        PieceOutcome::Verified(bytes),
        "B is not blamed for A's piece"
    );
}

#[test]
fn a_departed_supplier_of_another_size_does_not_wedge_the_fetch() {
    let (bytes, hash) = metadata(100);
    let mut f = fetch(hash);
    let now = Instant::now();
    f.peer_ready(A, true, Some(5000)).unwrap();
    assert_eq!(f.requests(now), vec![(A, 0)]);
    f.peer_ready(B, true, Some(100)).unwrap();
    f.peer_left(A);
    assert_eq!(f.requests(now), vec![(B, 0)]);
    assert_eq!(
        f.piece(B, 0, 100, Bytes::from(bytes.clone())),
        PieceOutcome::Verified(bytes)
    );
}
