//! Unit tests of the scanner and the node reader: one byte-literal case per error, and
//! never-panics property tests.

use super::*;
use proptest::prelude::*;

fn err(input: &[u8]) -> BencodeError {
    validate(input).expect_err("input should be rejected")
}

#[test]
fn accepts_well_formed_values() {
    for input in [
        &b"i0e"[..],
        b"i-42e",
        b"i9223372036854775807e",
        b"0:",
        b"4:spam",
        b"le",
        b"de",
        b"l4:spami3ee",
        b"d3:cow3:moo4:spaml1:a1:bee",
        b"d1:b0:1:a0:e", // keys out of order are fine
    ] {
        assert_eq!(
            validate(input),
            Ok(()),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn rejects_non_canonical_integers() {
    for input in [
        &b"i-0e"[..],
        b"i03e",
        b"i-03e",
        b"iee",
        b"i-e",
        b"i1-e",
        b"i+1e",
    ] {
        assert_eq!(err(input), BencodeError::MalformedInteger { offset: 0 });
    }
    assert_eq!(
        err(b"i9223372036854775808e"),
        BencodeError::IntegerOutOfRange { offset: 0 }
    );
    assert_eq!(err(b"i12"), BencodeError::UnexpectedEnd { offset: 3 });
}

#[test]
fn rejects_bad_strings() {
    assert_eq!(err(b"03:abc"), BencodeError::MalformedLength { offset: 0 });
    assert_eq!(
        err(b"5:abc"),
        BencodeError::StringTooLong {
            offset: 0,
            len: 5,
            available: 3
        }
    );
    assert_eq!(err(b"3"), BencodeError::UnexpectedEnd { offset: 1 });
    assert_eq!(
        err(b"3x"),
        BencodeError::UnexpectedByte {
            byte: b'x',
            offset: 1
        }
    );
}

#[test]
fn huge_length_prefix_is_rejected_before_allocating() {
    assert_eq!(
        err(b"99999999999999:a"),
        BencodeError::StringTooLong {
            offset: 0,
            len: 99_999_999_999_999,
            available: 1
        }
    );
    let overflowing = format!("{}:a", "9".repeat(40));
    assert_eq!(
        err(overflowing.as_bytes()),
        BencodeError::MalformedLength { offset: 0 }
    );
}

#[test]
fn rejects_bad_structure() {
    assert_eq!(err(b""), BencodeError::UnexpectedEnd { offset: 0 });
    assert_eq!(
        err(b"e"),
        BencodeError::UnexpectedByte {
            byte: b'e',
            offset: 0
        }
    );
    assert_eq!(err(b"l"), BencodeError::UnexpectedEnd { offset: 1 });
    assert_eq!(err(b"di1e0:e"), BencodeError::KeyNotString { offset: 1 });
    assert_eq!(err(b"d1:ae"), BencodeError::MissingValue { offset: 4 });
    assert_eq!(err(b"i1ei2e"), BencodeError::TrailingBytes { offset: 3 });
    assert_eq!(
        err(b"x"),
        BencodeError::UnexpectedByte {
            byte: b'x',
            offset: 0
        }
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let mut deep = vec![b'l'; 10_000];
    deep.extend(vec![b'e'; 10_000]);
    assert_eq!(
        err(&deep),
        BencodeError::TooDeep {
            offset: MAX_DEPTH,
            max: MAX_DEPTH
        }
    );
    let mut ok = vec![b'l'; MAX_DEPTH];
    ok.extend(vec![b'e'; MAX_DEPTH]);
    assert_eq!(validate(&ok), Ok(()));
    let dicts = "d1:a".repeat(10_000);
    assert!(matches!(
        err(dicts.as_bytes()),
        BencodeError::TooDeep { .. }
    ));
}

#[test]
fn finds_the_span_of_a_key() {
    let doc = b"d1:zi1e4:infod1:bi2e1:ai3ee3:fooli1eee";
    let span = dict_value_span(doc, b"info")
        .expect("valid")
        .expect("present");
    assert_eq!(&doc[span], b"d1:bi2e1:ai3ee");
    assert_eq!(dict_value_span(doc, b"nope"), Ok(None));
    assert_eq!(
        dict_value_span(b"le", b"info"),
        Err(BencodeError::NotADictionary)
    );
    assert_eq!(
        dict_value_span(b"d4:infoi1ee ", b"info"),
        Err(BencodeError::TrailingBytes { offset: 11 })
    );
}

#[test]
fn memory_amplification_token_cap_counts_every_value() {
    // `d1:ali1ei2eee`: the dict, the key, the list, two integers.
    assert_eq!(value_end_limited(b"d1:ali1ei2eee", 0, 5), Ok(13));
    assert_eq!(
        value_end_limited(b"d1:ali1ei2eee", 0, 4),
        Err(BencodeError::TooManyTokens { offset: 8, max: 4 })
    );
    let mut lists = vec![b'l'];
    lists.extend(std::iter::repeat_n(*b"le", MAX_TOKENS).flatten());
    lists.push(b'e');
    assert_eq!(
        validate(&lists),
        Err(BencodeError::TooManyTokens {
            offset: 1 + 2 * (MAX_TOKENS - 1),
            max: MAX_TOKENS
        })
    );
    lists.truncate(lists.len() - 3);
    lists.push(b'e');
    assert_eq!(validate(&lists), Ok(()), "exactly MAX_TOKENS values");
}

#[test]
fn nodes_borrow_from_the_input() {
    let doc = b"d1:bi-2e1:al3:xyzdee1:c0:e";
    let Ok(Node::Dict(items)) = Node::parse(doc) else {
        panic!("a dictionary");
    };
    let entries: Vec<_> = items.entries().map(|e| e.expect("valid")).collect();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0], (&b"b"[..], Node::Int(-2)));
    assert_eq!(entries[2], (&b"c"[..], Node::Bytes(b"")));
    let (key, Node::List(list)) = entries[1] else {
        panic!("a list");
    };
    assert_eq!(key, b"a");
    let values: Vec<_> = list.values().map(|v| v.expect("valid")).collect();
    assert_eq!(values[0], Node::Bytes(b"xyz"));
    assert_eq!(values[1].kind(), "a dictionary");
    assert_eq!(values.len(), 2);
    assert!(Node::parse(b"d1:ae").is_err());
    assert!(Node::parse(b"i1e ").is_err(), "trailing bytes");
    assert_eq!(
        format!("{:?}", Node::parse(b"l1:ai3ee")),
        "Ok([Bytes(\"a\"), Int(3)])"
    );
}

#[test]
fn writers_produce_bencode() {
    let mut out = Vec::new();
    write_bytes(&mut out, b"spam");
    write_int(&mut out, -3);
    assert_eq!(out, b"4:spami-3e");
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_bytes(input in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = validate(&input);
        let _ = dict_value_span(&input, b"info");
    }

    #[test]
    fn never_panics_on_bencode_like_bytes(
        input in proptest::collection::vec(
            prop::sample::select(b"ilde0123456789:-a".to_vec()), 0..128)
    ) {
        if validate(&input).is_ok() {
            prop_assert_eq!(value_end(&input, 0), Ok(input.len()));
            let node = Node::parse(&input).expect("validated");
            if let Node::List(items) | Node::Dict(items) = node {
                let _ = items.values().count();
                let _ = items.entries().count();
            }
        }
        let _ = dict_value_span(&input, b"a");
    }
}
