//! Sans-IO BitTorrent protocol codecs and types.
//!
//! Everything here works on byte buffers and plain values: no sockets, no runtime, no logging.
//! Callers (the `bt-engine` actors, the CLI, tests) do the I/O and decide what to log. Every
//! decoder takes untrusted bytes, checks each length against a limit before it allocates, and
//! returns a typed error; "need more bytes" is `Ok(None)`, never an error.
//!
//! # Layout
//! - [`types`]: newtypes for what peers and trackers send us ([`InfoHash`], [`PeerId`]).
//! - [`bencode`]: a depth- and token-limited bencode scanner that validates input and finds the
//!   byte span of a dictionary value (the info-hash is SHA-1 over the original bytes of `info`),
//!   and a zero-copy reader of validated documents.
//! - [`metainfo`]: `.torrent` files (BEP 3, BEP 12 announce-list, BEP 27 private), validation of
//!   every field and path component, and the info-hash.
//! - [`create`]: building a metainfo from a file or directory, hashing its pieces.
//! - [`magnet`]: magnet URIs (BEP 9): `xt=urn:btih:` in hex or base32, `dn`, `tr`, `x.pe`.
//! - [`ext`]: what the BEP 10 extension protocol carries: the extension handshake, BEP 9
//!   `ut_metadata` messages and the [`ext::MetadataAssembler`], BEP 11 `ut_pex`, and the BEP 6
//!   allowed-fast set.
//! - [`wire`]: the peer wire protocol: handshake, BEP 3 messages, BEP 5 `port`, BEP 6 fast
//!   extension, BEP 10 extended envelope; a length-limited incremental decoder.
//! - [`tracker`]: HTTP tracker announce/scrape URLs and responses (BEP 3, BEP 23, BEP 7) and UDP
//!   tracker packets (BEP 15).
//! - [`bitfield`]: a peer's piece bitfield, checked against the piece count.
//! - [`geometry`]: piece and block lengths, validated piece indices, and the map from a byte
//!   range of a piece to segments of the torrent's files.
#![warn(missing_docs)]

pub mod bencode;
pub mod bitfield;
pub mod create;
pub mod ext;
pub mod geometry;
pub mod magnet;
pub mod metainfo;
pub mod tracker;
pub mod types;
pub mod wire;

pub use types::{InfoHash, PeerId};
