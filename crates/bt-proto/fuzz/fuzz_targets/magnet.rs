//! Fuzzes the magnet URI parser: no panic, and a parsed link survives printing and re-parsing.
#![no_main]

use bt_proto::magnet::MagnetLink;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(link) = MagnetLink::parse(text) {
        let again = MagnetLink::parse(&link.to_uri()).expect("a printed magnet link parses");
        assert_eq!(again, link);
    }
});
