//! Fuzzes the peer-wire decoder and the handshake decoder: no panic on any input, and every
//! message that decodes re-encodes to the bytes it came from.
#![no_main]

use bt_proto::wire::{DecoderConfig, Handshake, MessageDecoder};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Handshake::decode(data);
    let _ = Handshake::decode_prefix(data);

    // The first two bytes pick a piece count, so the bitfield allowance is fuzzed too.
    let (count, stream) = match data {
        [a, b, rest @ ..] => (u32::from(u16::from_be_bytes([*a, *b])), rest),
        _ => (0, data),
    };
    let config = DecoderConfig { piece_count: Some(count), ..DecoderConfig::default() };
    let mut decoder = MessageDecoder::new(config);
    let mut buf = BytesMut::from(stream);
    while let Ok(Some(message)) = decoder.decode(&mut buf) {
        let mut encoded = BytesMut::new();
        message.encode(&mut encoded);
        let again = decoder.decode(&mut encoded).expect("an encoded message decodes");
        assert_eq!(again, Some(message));
    }
});
