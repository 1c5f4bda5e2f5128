//! Integration tests of bt-proto against real `.torrent` files made by real tools.
//!
//! Modules:
//! - `real_torrents`: files from mktorrent and libtorrent in `tests/data/`, with the info-hash
//!   each tool reported.

mod real_torrents;
