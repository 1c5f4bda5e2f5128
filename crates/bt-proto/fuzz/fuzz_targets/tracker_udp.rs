//! Fuzzes the UDP tracker packet decoders (BEP 15), both directions and both address families:
//! no panic, and a packet that decodes re-encodes to a packet that decodes to the same value.
#![no_main]

use bt_proto::tracker::udp::{AddressFamily, Request, Response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = Request::decode(data) {
        let mut out = Vec::new();
        request.encode(&mut out);
        assert_eq!(Request::decode(&out).expect("an encoded request decodes"), request);
    }
    for family in [AddressFamily::V4, AddressFamily::V6] {
        if let Ok(response) = Response::decode(data, family) {
            let mut out = Vec::new();
            response.encode(family, &mut out);
            let again = Response::decode(&out, family).expect("an encoded response decodes");
            assert_eq!(again.transaction_id(), response.transaction_id());
        }
    }
});
