//! Fuzzes the extension-protocol decoders (BEP 10 handshake, BEP 9 `ut_metadata`, BEP 11
//! `ut_pex`): no panic, and whatever decodes survives encoding and decoding again.
#![no_main]

use bt_proto::ext::{ExtensionHandshake, MetadataMessage, PexMessage};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(handshake) = ExtensionHandshake::decode(data) {
        let again = ExtensionHandshake::decode(&handshake.encode()).expect("encoded handshake");
        assert_eq!(again, handshake);
    }
    if let Ok(message) = MetadataMessage::decode(&Bytes::copy_from_slice(data)) {
        if !matches!(message, MetadataMessage::Unknown { .. }) {
            let again = MetadataMessage::decode(&Bytes::from(message.encode()));
            assert_eq!(again.expect("encoded metadata message"), message);
        }
    }
    if let Ok(pex) = PexMessage::decode(data) {
        let again = PexMessage::decode(&pex.encode()).expect("encoded pex message");
        assert_eq!(again, pex);
    }
});
