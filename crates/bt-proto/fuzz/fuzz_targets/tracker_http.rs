//! Fuzzes the HTTP tracker parsers, both sides: responses (announce and scrape) as a client
//! reads them, and announce/scrape queries as our mock tracker reads them. An announce response
//! that parses must survive encoding and parsing again.
#![no_main]

use bt_proto::tracker::http;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(response) = http::parse_announce_response(data) {
        for compact in [false, true] {
            let again = http::parse_announce_response(&http::encode_announce_response(&response, compact))
                .expect("an encoded response parses");
            assert_eq!(again.interval, response.interval);
            assert_eq!(again.peers.len(), response.peers.len());
        }
    }
    let _ = http::parse_scrape_response(data);
    if let Ok(query) = std::str::from_utf8(data) {
        let _ = http::parse_announce_request(query);
        let _ = http::parse_scrape_request(query);
    }
});
