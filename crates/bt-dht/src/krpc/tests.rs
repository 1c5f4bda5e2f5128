//! KRPC tests: the example packets of BEP 5 byte for byte, hostile input, and two properties
//! (arbitrary bytes never panic; every message survives encode then decode).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use bt_proto::InfoHash;
use proptest::prelude::*;

use super::*;
use crate::compact::NodeInfo;

fn id(text: &[u8; 20]) -> NodeId {
    NodeId(*text)
}

fn query(method: Method) -> Message {
    Message {
        transaction: b"aa".to_vec(),
        version: None,
        read_only: false,
        body: Body::Query(Query {
            id: id(b"abcdefghij0123456789"),
            method,
            want: None,
        }),
    }
}

fn response(response: Response) -> Message {
    Message {
        transaction: b"aa".to_vec(),
        version: None,
        read_only: false,
        body: Body::Response(response),
    }
}

/// Checks both directions: the example decodes to `message`, and `message` encodes to it.
fn check_example(bytes: &[u8], message: Message) {
    assert_eq!(decode(bytes).unwrap(), message);
    assert_eq!(message.encode(), bytes);
}

#[test]
fn bep5_ping_example() {
    check_example(
        b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
        query(Method::Ping),
    );
    check_example(
        b"d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re",
        response(Response::id_only(id(b"mnopqrstuvwxyz123456"))),
    );
}

#[test]
fn bep5_find_node_example() {
    check_example(
        b"d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe",
        query(Method::FindNode {
            target: id(b"mnopqrstuvwxyz123456"),
        }),
    );
}

#[test]
fn bep5_get_peers_examples() {
    check_example(
        b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe",
        query(Method::GetPeers {
            info_hash: InfoHash(*b"mnopqrstuvwxyz123456"),
        }),
    );
    let peers = vec![
        SocketAddr::from((
            Ipv4Addr::new(b'a', b'x', b'j', b'e'),
            u16::from_be_bytes(*b".u"),
        )),
        SocketAddr::from((
            Ipv4Addr::new(b'i', b'd', b'h', b't'),
            u16::from_be_bytes(*b"nm"),
        )),
    ];
    check_example(
        b"d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re",
        response(Response {
            id: id(b"abcdefghij0123456789"),
            nodes: Vec::new(),
            node_lists: None,
            values: peers,
            token: Some(b"aoeusnth".to_vec()),
        }),
    );
}

#[test]
fn bep5_announce_peer_example() {
    check_example(
        b"d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
        query(Method::AnnouncePeer {
            info_hash: InfoHash(*b"mnopqrstuvwxyz123456"),
            port: 6881,
            implied_port: true,
            token: b"aoeusnth".to_vec(),
        }),
    );
}

#[test]
fn bep32_want_is_read_and_written_in_the_arguments() {
    let both = Want {
        nodes4: true,
        nodes6: true,
    };
    let mut message = query(Method::FindNode {
        target: id(b"mnopqrstuvwxyz123456"),
    });
    if let Body::Query(query) = &mut message.body {
        query.want = Some(both);
    }
    check_example(
        b"d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz1234564:wantl2:n42:n6ee1:q9:find_node1:t2:aa1:y1:qe",
        message,
    );
    // Unknown families are ignored; a want naming none, or not a list, is no want.
    let decoded = |bytes: &[u8]| match decode(bytes).unwrap().body {
        Body::Query(query) => query.want,
        other => panic!("not a query: {other:?}"),
    };
    assert_eq!(
        decoded(b"d1:ad2:id20:abcdefghij01234567894:wantl2:n52:n6ee1:q4:ping1:t2:aa1:y1:qe"),
        Some(Want::family(true))
    );
    assert_eq!(
        decoded(b"d1:ad2:id20:abcdefghij01234567894:wantl2:n5ee1:q4:ping1:t2:aa1:y1:qe"),
        None
    );
    assert_eq!(
        decoded(b"d1:ad2:id20:abcdefghij01234567894:wanti4ee1:q4:ping1:t2:aa1:y1:qe"),
        None
    );
}

#[test]
fn a_wanted_node_list_is_written_even_when_empty() {
    let message = response(Response {
        node_lists: Some(Want::family(true)),
        ..Response::id_only(id(b"mnopqrstuvwxyz123456"))
    });
    assert_eq!(
        message.encode(),
        b"d1:rd2:id20:mnopqrstuvwxyz1234566:nodes60:e1:t2:aa1:y1:re"
    );
}

#[test]
fn bep5_error_example() {
    check_example(
        b"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
        Message {
            transaction: b"aa".to_vec(),
            version: None,
            read_only: false,
            body: Body::Error(ErrorReply {
                code: code::GENERIC,
                message: "A Generic Error Ocurred".to_owned(),
            }),
        },
    );
}

#[test]
fn nodes_and_nodes6_are_read_from_a_response() {
    let v4 = NodeInfo {
        id: NodeId([7; 20]),
        addr: SocketAddr::from((Ipv4Addr::new(10, 1, 2, 3), 4000)),
    };
    let v6 = NodeInfo {
        id: NodeId([8; 20]),
        addr: SocketAddr::from((Ipv6Addr::LOCALHOST, 5000)),
    };
    let message = response(Response {
        id: NodeId([1; 20]),
        nodes: vec![v4, v6],
        node_lists: None,
        values: Vec::new(),
        token: None,
    });
    let bytes = message.encode();
    assert!(bytes.windows(7).any(|w| w == b"5:nodes"));
    assert!(bytes.windows(8).any(|w| w == b"6:nodes6"));
    assert_eq!(decode(&bytes).unwrap(), message);
}

#[test]
fn version_and_read_only_flags_are_kept() {
    let mut message = query(Method::Ping);
    message.version = Some(b"LT\x02\x00".to_vec());
    message.read_only = true;
    let bytes = message.encode();
    assert_eq!(decode(&bytes).unwrap(), message);
}

#[test]
fn unknown_methods_decode_so_the_server_can_answer_204() {
    let bytes = b"d1:ad2:id20:abcdefghij0123456789e1:q17:sample_infohashes1:t2:xy1:y1:qe";
    let message = decode(bytes).unwrap();
    let Body::Query(query) = message.body else {
        panic!("not a query")
    };
    assert_eq!(query.method, Method::Unknown(b"sample_infohashes".to_vec()));
}

#[test]
fn a_malformed_query_keeps_its_transaction_for_error_203() {
    // The id is 3 bytes long.
    let failure = decode(b"d1:ad2:id3:abce1:q4:ping1:t2:zz1:y1:qe").unwrap_err();
    assert_eq!(failure.query_transaction, Some(b"zz".to_vec()));
    assert_eq!(failure.error, KrpcError::BadLength { key: "id", len: 3 });
    // A malformed response has nobody to answer.
    let failure = decode(b"d1:rd2:id3:abce1:t2:zz1:y1:re").unwrap_err();
    assert_eq!(failure.query_transaction, None);
}

#[test]
fn hostile_datagrams_are_refused_with_a_reason() {
    let too_long = vec![b'x'; MAX_MESSAGE_LEN + 1];
    assert!(matches!(
        decode(&too_long).unwrap_err().error,
        KrpcError::TooLong { .. }
    ));
    // A thousand-odd values in a small datagram.
    let mut many = b"d1:rd2:id20:abcdefghij01234567896:valuesl".to_vec();
    many.extend(std::iter::repeat_n(&b"0:"[..], MAX_VALUES).flatten());
    many.extend_from_slice(b"ee1:t2:aa1:y1:re");
    assert!(matches!(
        decode(&many).unwrap_err().error,
        KrpcError::Bencode(BencodeError::TooManyTokens { .. })
    ));
    let deep = [vec![b'l'; 100], vec![b'e'; 100]].concat();
    assert!(decode(&deep).is_err());
    assert!(matches!(
        decode(b"d1:t2:aa1:y1:qee").unwrap_err().error,
        KrpcError::Bencode(BencodeError::TrailingBytes { .. })
    ));
    assert_eq!(
        decode(b"d1:t2:aa1:y1:xe").unwrap_err().error,
        KrpcError::UnknownType
    );
    assert_eq!(
        decode(b"li1ee").unwrap_err().error,
        KrpcError::NotADictionary("the message")
    );
    let long_t = format!("d1:t{}:{}1:y1:qe", 33, "x".repeat(33));
    assert_eq!(
        decode(long_t.as_bytes()).unwrap_err().error,
        KrpcError::BadLength { key: "t", len: 33 }
    );
    let port = b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti70000e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe";
    assert_eq!(
        decode(port).unwrap_err().error,
        KrpcError::OutOfRange("port")
    );
}

#[test]
fn announce_with_implied_port_may_omit_port() {
    let bytes = b"d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234565:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe";
    let Body::Query(query) = decode(bytes).unwrap().body else {
        panic!("not a query")
    };
    assert!(matches!(
        query.method,
        Method::AnnouncePeer {
            implied_port: true,
            port: 0,
            ..
        }
    ));
}

fn arb_id() -> impl Strategy<Value = NodeId> {
    any::<[u8; 20]>().prop_map(NodeId)
}

fn arb_addr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::from((ip, port))),
        (any::<[u8; 16]>(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::from((ip, port))),
    ]
}

fn arb_nodes() -> impl Strategy<Value = Vec<NodeInfo>> {
    let v4 = proptest::collection::vec(
        (arb_id(), any::<[u8; 4]>(), any::<u16>()).prop_map(|(id, ip, port)| NodeInfo {
            id,
            addr: SocketAddr::from((ip, port)),
        }),
        0..8,
    );
    let v6 = proptest::collection::vec(
        (arb_id(), any::<[u8; 16]>(), any::<u16>()).prop_map(|(id, ip, port)| NodeInfo {
            id,
            addr: SocketAddr::from((ip, port)),
        }),
        0..8,
    );
    // Encoding writes `nodes` before `nodes6`, so that is the order decoding gives back.
    (v4, v6).prop_map(|(mut v4, v6)| {
        v4.extend(v6);
        v4
    })
}

fn arb_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..=max)
}

fn arb_method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Ping),
        arb_id().prop_map(|target| Method::FindNode { target }),
        any::<[u8; 20]>().prop_map(|h| Method::GetPeers {
            info_hash: InfoHash(h)
        }),
        (
            any::<[u8; 20]>(),
            any::<u16>(),
            any::<bool>(),
            arb_bytes(MAX_TOKEN_LEN)
        )
            .prop_map(|(h, port, implied_port, token)| Method::AnnouncePeer {
                info_hash: InfoHash(h),
                port,
                implied_port,
                token,
            }),
        "[a-z_]{1,20}"
            .prop_filter("a known method", |name| {
                !["ping", "find_node", "get_peers", "announce_peer"].contains(&name.as_str())
            })
            .prop_map(|name| Method::Unknown(name.into_bytes())),
    ]
}

/// Absent, or naming at least one family (a `want` naming none decodes as absent).
fn arb_want() -> impl Strategy<Value = Option<Want>> {
    prop_oneof![
        Just(None),
        Just(Some(Want::family(false))),
        Just(Some(Want::family(true))),
        Just(Some(Want {
            nodes4: true,
            nodes6: true
        })),
    ]
}

fn arb_body() -> impl Strategy<Value = Body> {
    prop_oneof![
        (arb_id(), arb_method(), arb_want()).prop_map(|(id, method, want)| Body::Query(Query {
            id,
            method,
            want
        })),
        (
            arb_id(),
            arb_nodes(),
            proptest::collection::vec(arb_addr(), 0..100),
            proptest::option::of(arb_bytes(MAX_TOKEN_LEN)),
        )
            .prop_map(|(id, nodes, values, token)| Body::Response(Response {
                id,
                nodes,
                node_lists: None,
                values,
                token
            })),
        (any::<i64>(), "[ -~]{0,256}")
            .prop_map(|(code, message)| Body::Error(ErrorReply { code, message })),
    ]
}

fn arb_message() -> impl Strategy<Value = Message> {
    (
        arb_bytes(MAX_TRANSACTION_LEN),
        proptest::option::of(arb_bytes(8)),
        any::<bool>(),
        arb_body(),
    )
        .prop_map(|(transaction, version, read_only, body)| Message {
            transaction,
            version,
            // Only queries carry `ro`.
            read_only: read_only && matches!(body, Body::Query(_)),
            body,
        })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in arb_bytes(2048)) {
        let _ = decode(&bytes);
    }

    #[test]
    fn mutated_messages_never_panic(message in arb_message(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut bytes = message.encode();
        for (at, byte) in flips {
            let len = bytes.len();
            bytes[at % len] = byte;
        }
        let _ = decode(&bytes);
    }

    #[test]
    fn messages_round_trip(message in arb_message()) {
        let bytes = message.encode();
        prop_assert!(bytes.len() <= MAX_MESSAGE_LEN);
        prop_assert_eq!(decode(&bytes).unwrap(), message);
    }
}
