//! Fuzzes the `.torrent` parser and the bare info-dictionary parser (BEP 9 metadata): neither may
//! panic, and whatever parses must re-encode to a torrent with the same info-hash.
#![no_main]

use bt_proto::metainfo::{Info, Metainfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(metainfo) = Metainfo::from_bytes(data) {
        let again = Metainfo::from_bytes(&metainfo.to_bytes()).expect("a parsed torrent re-parses");
        assert_eq!(again.info_hash, metainfo.info_hash);
    }
    let _ = Info::from_bytes(data);
});
