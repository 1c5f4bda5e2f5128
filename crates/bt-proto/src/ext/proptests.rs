//! Property tests of the extension codecs: decoders never panic on arbitrary bytes, and what
//! the encoders write decodes to the same value.

use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use proptest::prelude::*;
use sha1::{Digest, Sha1};

use super::*;
use crate::InfoHash;

fn arb_addr() -> impl Strategy<Value = SocketAddr> {
    let ip = prop_oneof![
        any::<std::net::Ipv4Addr>().prop_map(IpAddr::V4),
        any::<std::net::Ipv6Addr>().prop_map(IpAddr::V6),
    ];
    (ip, 1..=u16::MAX).prop_map(|(ip, port)| SocketAddr::new(ip, port))
}

fn arb_handshake() -> impl Strategy<Value = ExtensionHandshake> {
    let extensions = proptest::collection::btree_map("[a-z_]{1,20}", any::<u8>(), 0..10);
    let fields = (
        proptest::option::of("[ -~]{0,40}"),
        proptest::option::of(1..=u16::MAX),
        proptest::option::of(1..=u32::MAX),
        proptest::option::of(arb_addr().prop_map(|a| a.ip())),
        proptest::option::of(0..=i64::MAX as u64),
    );
    (extensions, fields).prop_map(
        |(extensions, (client, listen_port, request_queue, your_ip, metadata_size))| {
            ExtensionHandshake {
                extensions,
                client,
                listen_port,
                request_queue,
                your_ip,
                metadata_size,
            }
        },
    )
}

fn arb_metadata_message() -> impl Strategy<Value = MetadataMessage> {
    prop_oneof![
        any::<u32>().prop_map(|piece| MetadataMessage::Request { piece }),
        any::<u32>().prop_map(|piece| MetadataMessage::Reject { piece }),
        (
            any::<u32>(),
            0..=i64::MAX as u64,
            proptest::collection::vec(any::<u8>(), 0..=METADATA_PIECE_LEN)
        )
            .prop_map(|(piece, total_size, data)| MetadataMessage::Data {
                piece,
                total_size,
                data: Bytes::from(data),
            }),
    ]
}

fn arb_pex() -> impl Strategy<Value = PexMessage> {
    let peer = (arb_addr(), any::<u8>()).prop_map(|(addr, flags)| PexPeer {
        addr,
        flags: PexFlags(flags),
    });
    (
        proptest::collection::vec(peer, 0..pex::MAX_PEX_PEERS),
        proptest::collection::vec(arb_addr(), 0..pex::MAX_PEX_PEERS),
    )
        .prop_map(|(mut added, mut dropped)| {
            // The encoding groups IPv4 before IPv6; so does the decoder's output.
            added.sort_by_key(|p| p.addr.is_ipv6());
            dropped.sort_by_key(SocketAddr::is_ipv6);
            PexMessage { added, dropped }
        })
}

proptest! {
    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = ExtensionHandshake::decode(&bytes);
        let _ = MetadataMessage::decode(&Bytes::from(bytes.clone()));
        let _ = PexMessage::decode(&bytes);
    }

    #[test]
    fn decoders_never_panic_on_near_valid_dictionaries(
        keys in proptest::collection::vec(
            prop_oneof![
                Just("m"), Just("p"), Just("v"), Just("reqq"), Just("yourip"),
                Just("metadata_size"), Just("msg_type"), Just("piece"), Just("total_size"),
                Just("added"), Just("added.f"), Just("added6"), Just("dropped"), Just("dropped6"),
            ],
            0..6,
        ),
        values in proptest::collection::vec(
            prop_oneof![
                any::<i64>().prop_map(|i| format!("i{i}e")),
                proptest::collection::vec(any::<u8>(), 0..40)
                    .prop_map(|b| format!("{}:{}", b.len(), "x".repeat(b.len()))),
                Just("le".to_owned()),
                Just("d3:fooi1ee".to_owned()),
            ],
            6,
        ),
        tail in proptest::collection::vec(any::<u8>(), 0..100),
    ) {
        let mut payload = b"d".to_vec();
        for (key, value) in keys.iter().zip(&values) {
            payload.extend_from_slice(format!("{}:{key}{value}", key.len()).as_bytes());
        }
        payload.push(b'e');
        let _ = ExtensionHandshake::decode(&payload);
        let _ = PexMessage::decode(&payload);
        payload.extend_from_slice(&tail);
        let _ = MetadataMessage::decode(&Bytes::from(payload));
    }

    #[test]
    fn handshakes_round_trip(handshake in arb_handshake()) {
        prop_assert_eq!(ExtensionHandshake::decode(&handshake.encode()), Ok(handshake));
    }

    #[test]
    fn metadata_messages_round_trip(message in arb_metadata_message()) {
        let bytes = Bytes::from(message.encode());
        prop_assert_eq!(MetadataMessage::decode(&bytes), Ok(message));
    }

    #[test]
    fn pex_messages_round_trip(message in arb_pex()) {
        prop_assert_eq!(PexMessage::decode(&message.encode()), Ok(message));
    }

    #[test]
    fn assembler_accepts_the_true_metadata_in_any_order(
        len in 1usize..(5 * METADATA_PIECE_LEN),
        seed in any::<u64>(),
    ) {
        let bytes: Vec<u8> = (0..len).map(|i| (i as u64 ^ seed).wrapping_mul(31) as u8).collect();
        let hash = InfoHash(Sha1::digest(&bytes).into());
        let mut assembler =
            MetadataAssembler::new(hash, len as u64, DEFAULT_MAX_METADATA_SIZE).unwrap();
        let count = assembler.piece_count();
        let mut order: Vec<u32> = (0..count).collect();
        order.rotate_left((seed % u64::from(count)) as usize);
        let mut last = None;
        for piece in order {
            let start = piece as usize * METADATA_PIECE_LEN;
            let end = (start + METADATA_PIECE_LEN).min(len);
            let data = Bytes::copy_from_slice(&bytes[start..end]);
            last = Some(assembler.add(piece, len as u64, data, ()).unwrap());
        }
        prop_assert_eq!(last, Some(Progress::Verified(bytes)));
    }

    #[test]
    fn allowed_fast_sets_are_distinct_valid_pieces(
        ip in any::<std::net::Ipv4Addr>(),
        hash in any::<[u8; 20]>(),
        piece_count in 0u32..5000,
        k in 0usize..20,
    ) {
        let set = allowed_fast_set(ip, InfoHash(hash), piece_count, k);
        prop_assert_eq!(set.len(), k.min(piece_count as usize));
        prop_assert!(set.iter().all(|&p| p < piece_count));
        let mut unique = set.clone();
        unique.sort_unstable();
        unique.dedup();
        prop_assert_eq!(unique.len(), set.len());
    }
}
