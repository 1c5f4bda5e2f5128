//! Messages the [`MetadataFetcher`](super::MetadataFetcher) handles besides the torrent
//! messages it shares with the supervisor (`PeersDiscovered`, `TrackerStatusChanged`,
//! `IncomingPeer`, `GetStats`, `Pause`, `Resume`, `Shutdown`), and the one it sends the
//! session.
//!
//! # Backpressure
//! [`MetadataPeerEvent`]s come from the fetcher's own connection tasks by `do_send`: one per
//! extension handshake, per metadata piece or reject (each answering one of our requests,
//! at most 16 outstanding), and one as a connection ends. [`MetadataFetched`] goes to the
//! session once per fetch.

use std::net::SocketAddr;
use std::sync::Arc;

use actix::Message;
use bt_proto::InfoHash;
use bt_proto::metainfo::Metainfo;
use bytes::Bytes;

use crate::actors::supervisor::msg::PeerExit;
use crate::choker::PeerKey;

/// What happened on one of the fetcher's connections.
#[derive(Debug)]
pub enum ConnectionEvent {
    /// The peer's extension handshake arrived.
    Ready {
        /// Whether it announced `ut_metadata`.
        serves: bool,
        /// The metadata size it gave.
        metadata_size: Option<u64>,
        /// Its listen port, if it said.
        listen_port: Option<u16>,
        /// Its client name, if it said.
        client: Option<String>,
    },
    /// A metadata piece arrived.
    Piece {
        /// The piece index.
        piece: u32,
        /// The size of the whole metadata, as the peer claims.
        total_size: u64,
        /// The piece's bytes.
        data: Bytes,
    },
    /// The peer will not send this piece.
    Rejected {
        /// The piece index.
        piece: u32,
    },
    /// The connection ended.
    Closed(PeerExit),
}

/// Event (from a connection task): what happened on connection `key`.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct MetadataPeerEvent {
    /// The connection.
    pub key: PeerKey,
    /// What happened.
    pub event: ConnectionEvent,
}

/// Event (from the fetcher, to the session): the metadata arrived and checked out; start
/// the torrent's supervisor with it. The session stops the fetcher after the switch.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct MetadataFetched {
    /// The torrent.
    pub info_hash: InfoHash,
    /// The torrent built from the metadata and the magnet link's trackers.
    pub metainfo: Arc<Metainfo>,
    /// Peers the fetch knew of (struck ones left out), for the supervisor to dial.
    pub peers: Vec<SocketAddr>,
    /// Addresses the fetch struck for bad metadata: the supervisor never dials them.
    pub banned: Vec<SocketAddr>,
}
