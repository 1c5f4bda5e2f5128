//! The BitTorrent mainline DHT (BEP 5).
#![warn(missing_docs)]

pub mod compact;
pub mod id;
pub mod krpc;
pub mod peer_store;
pub mod rate;
pub mod table;
pub mod token;
