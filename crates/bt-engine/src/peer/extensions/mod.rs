//! [`ExtensionState`]: the BEP 10 side of one connection, sans I/O: our extension handshake,
//! the peer's, and the extensions carried over it (BEP 9 metadata exchange, BEP 11 peer
//! exchange).
//!
//! The `PeerSession` actor (and the metadata fetcher's connections, which have no torrent
//! geometry yet) own one each. [`PeerState`](super::PeerState) passes every `extended`
//! message through as [`PeerEvent::ExtendedMessage`](super::PeerEvent::ExtendedMessage);
//! [`ExtensionState::on_message`] decodes it and says what it means as
//! [`ExtensionEvent`]s. Time is an argument, as in `PeerState`.
//!
//! # Ids
//! BEP 10 lets each side choose the ids it receives extensions under. Ours are fixed:
//! [`UT_PEX_ID`] and [`UT_METADATA_ID`] (libtorrent's choices, so packet captures read the
//! same). We send each extension message under the id the *peer* chose in its handshake,
//! and only once its handshake arrived.
//!
//! # Rules
//! - A malformed extension handshake, metadata or PEX message ends the connection; a message
//!   under an id we never assigned is ignored (the peer may know extensions we do not).
//! - Metadata is served only when we have it, one piece per request; past
//!   [`MAX_METADATA_REQUESTS`] + twice the piece count requests per connection the answer is
//!   a reject, so a peer cannot make us upload the info dictionary over and over.
//! - PEX: see [`pex`].
//!
//! # Layout
//! - this module: [`ExtensionConfig`], [`ExtensionState`], [`ExtensionEvent`].
//! - [`pex`]: [`PexState`], what this connection has told its peer.

pub mod pex;

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use bt_proto::ext::{
    ExtensionHandshake, METADATA_PIECE_LEN, MetadataMessage, PexMessage, PexPeer, UT_METADATA,
    UT_PEX,
};
use bt_proto::wire::PeerMessage;
use bytes::Bytes;

pub use pex::PexState;

use super::PeerError;

/// The extended id we receive `ut_pex` messages under.
pub const UT_PEX_ID: u8 = 1;

/// The extended id we receive `ut_metadata` messages under.
pub const UT_METADATA_ID: u8 = 2;

/// The extended id of the extension handshake (BEP 10).
pub const HANDSHAKE_ID: u8 = 0;

/// Metadata requests served per connection beyond twice the metadata's piece count.
pub const MAX_METADATA_REQUESTS: u32 = 8;

/// What a connection offers in its extension handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionConfig {
    /// `v`: our client name.
    pub client: String,
    /// `p`: the port we accept connections on (`None` if we do not listen).
    pub listen_port: Option<u16>,
    /// `reqq`: how many requests we queue per peer.
    pub request_queue: u32,
    /// The torrent's info dictionary, if we have it: we announce `metadata_size` and serve it.
    pub metadata: Option<Bytes>,
    /// Whether we offer BEP 11 peer exchange (never for a private torrent, BEP 27).
    pub pex: bool,
    /// The shortest time between two PEX messages we send; received ones closer together
    /// than half of it are ignored.
    pub pex_interval: std::time::Duration,
}

/// What an extension message means, for the actor to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtensionEvent {
    /// The peer's extension handshake arrived (the first, or one sent again). The merged
    /// handshake is in [`ExtensionState::peer_handshake`].
    Handshake {
        /// The port the peer accepts connections on, if it said.
        listen_port: Option<u16>,
        /// The size of the metadata it can serve, if it said.
        metadata_size: Option<u64>,
    },
    /// A message to send back at once (a metadata piece, or a reject).
    Reply(PeerMessage),
    /// Peers the peer told us of (BEP 11 `added`, dialable ones only), with the flags it gave
    /// them, for the supervisor to dial.
    PeersAdded(Vec<PexPeer>),
    /// A metadata piece arrived (BEP 9 data), for a metadata fetch.
    MetadataPiece {
        /// The piece index.
        piece: u32,
        /// The metadata size the peer claims.
        total_size: u64,
        /// The piece's bytes.
        data: Bytes,
    },
    /// The peer will not send this metadata piece.
    MetadataRejected {
        /// The piece index.
        piece: u32,
    },
}

/// The extension side of one connection; see the module docs.
#[derive(Debug, Clone)]
pub struct ExtensionState {
    config: ExtensionConfig,
    /// The peer's handshake, merged over every time it sent one.
    theirs: Option<ExtensionHandshake>,
    /// Metadata requests answered with data so far.
    metadata_served: u32,
    pex: PexState,
}

impl ExtensionState {
    /// The state of a connection that has exchanged nothing yet.
    pub fn new(config: ExtensionConfig) -> Self {
        Self {
            pex: PexState::new(config.pex_interval),
            config,
            theirs: None,
            metadata_served: 0,
        }
    }

    /// Our extension handshake (extended message 0), telling a peer at `peer_ip` its address
    /// as we see it (`yourip`).
    pub fn handshake(&self, peer_ip: IpAddr) -> PeerMessage {
        let mut extensions = std::collections::BTreeMap::new();
        extensions.insert(UT_METADATA.to_owned(), UT_METADATA_ID);
        if self.config.pex {
            extensions.insert(UT_PEX.to_owned(), UT_PEX_ID);
        }
        let handshake = ExtensionHandshake {
            extensions,
            client: Some(self.config.client.clone()),
            listen_port: self.config.listen_port,
            request_queue: Some(self.config.request_queue),
            your_ip: Some(peer_ip),
            metadata_size: self.config.metadata.as_ref().map(|m| m.len() as u64),
        };
        PeerMessage::Extended {
            id: HANDSHAKE_ID,
            payload: Bytes::from(handshake.encode()),
        }
    }

    /// The peer's extension handshake, once it sent one.
    pub fn peer_handshake(&self) -> Option<&ExtensionHandshake> {
        self.theirs.as_ref()
    }

    /// Whether the peer can serve metadata (it announced `ut_metadata`).
    pub fn peer_serves_metadata(&self) -> bool {
        self.peer_id_of(UT_METADATA).is_some()
    }

    /// Applies one extended message from the peer, received at `now`.
    pub fn on_message(
        &mut self,
        id: u8,
        payload: Bytes,
        now: Instant,
    ) -> Result<Vec<ExtensionEvent>, PeerError> {
        match id {
            HANDSHAKE_ID => self.on_handshake(&payload),
            UT_METADATA_ID => self.on_metadata(&payload),
            UT_PEX_ID if self.config.pex => self.on_pex(&payload, now),
            _ => Ok(Vec::new()),
        }
    }

    /// A metadata request for `piece`, if the peer serves metadata.
    pub fn request_metadata(&self, piece: u32) -> Option<PeerMessage> {
        self.extension_message(UT_METADATA, MetadataMessage::Request { piece }.encode())
    }

    /// The PEX message to send now, if the peer speaks PEX, the interval has passed since the
    /// last one and something changed; `connected` is every peer the torrent is connected to
    /// (the peer itself, at `peer_addr`, is left out).
    pub fn pex_message(
        &mut self,
        connected: &[PexPeer],
        peer_addr: SocketAddr,
        now: Instant,
    ) -> Option<PeerMessage> {
        if !self.config.pex {
            return None;
        }
        let their_id = self.peer_id_of(UT_PEX)?;
        let message = self.pex.next_message(connected, peer_addr, now)?;
        Some(PeerMessage::Extended {
            id: their_id,
            payload: Bytes::from(message.encode()),
        })
    }

    fn on_handshake(&mut self, payload: &[u8]) -> Result<Vec<ExtensionEvent>, PeerError> {
        let handshake =
            ExtensionHandshake::decode(payload).map_err(|source| PeerError::Extension {
                message: "extension handshake",
                source,
            })?;
        let merged = match self.theirs.take() {
            Some(mut earlier) => {
                earlier.merge(handshake);
                earlier
            }
            None => handshake,
        };
        let event = ExtensionEvent::Handshake {
            listen_port: merged.listen_port,
            metadata_size: merged.metadata_size,
        };
        self.theirs = Some(merged);
        Ok(vec![event])
    }

    fn on_metadata(&mut self, payload: &Bytes) -> Result<Vec<ExtensionEvent>, PeerError> {
        let message = MetadataMessage::decode(payload).map_err(|source| PeerError::Extension {
            message: "ut_metadata",
            source,
        })?;
        Ok(match message {
            MetadataMessage::Request { piece } => self
                .serve_metadata(piece)
                .map(ExtensionEvent::Reply)
                .into_iter()
                .collect(),
            MetadataMessage::Data {
                piece,
                total_size,
                data,
            } => vec![ExtensionEvent::MetadataPiece {
                piece,
                total_size,
                data,
            }],
            MetadataMessage::Reject { piece } => vec![ExtensionEvent::MetadataRejected { piece }],
            MetadataMessage::Unknown { .. } => Vec::new(),
        })
    }

    /// The answer to a metadata request: the piece, or a reject (no metadata, no such piece,
    /// or over the limit). Nothing if the peer never announced `ut_metadata`.
    fn serve_metadata(&mut self, piece: u32) -> Option<PeerMessage> {
        let piece_data = self.config.metadata.as_ref().and_then(|metadata| {
            let pieces = metadata.len().div_ceil(METADATA_PIECE_LEN) as u32;
            let limit = pieces
                .saturating_mul(2)
                .saturating_add(MAX_METADATA_REQUESTS);
            if self.metadata_served >= limit {
                return None;
            }
            let start = (piece as usize).checked_mul(METADATA_PIECE_LEN)?;
            if start >= metadata.len() {
                return None;
            }
            let end = (start + METADATA_PIECE_LEN).min(metadata.len());
            Some((metadata.len() as u64, metadata.slice(start..end)))
        });
        let reply = match piece_data {
            Some((total_size, data)) => {
                self.metadata_served += 1;
                MetadataMessage::Data {
                    piece,
                    total_size,
                    data,
                }
            }
            None => MetadataMessage::Reject { piece },
        };
        self.extension_message(UT_METADATA, reply.encode())
    }

    fn on_pex(&mut self, payload: &[u8], now: Instant) -> Result<Vec<ExtensionEvent>, PeerError> {
        let message = PexMessage::decode(payload).map_err(|source| PeerError::Extension {
            message: "ut_pex",
            source,
        })?;
        if !self.pex.accept_received(now) {
            return Ok(Vec::new());
        }
        let added: Vec<PexPeer> = message
            .added
            .into_iter()
            .filter(|peer| bt_proto::ext::pex::is_dialable(&peer.addr))
            .collect();
        Ok(if added.is_empty() {
            Vec::new()
        } else {
            vec![ExtensionEvent::PeersAdded(added)]
        })
    }

    /// The id the peer receives `name` under, once its handshake says.
    fn peer_id_of(&self, name: &str) -> Option<u8> {
        self.theirs.as_ref()?.id_of(name)
    }

    /// An extended message of extension `name` with `payload`, if the peer speaks it.
    fn extension_message(&self, name: &str, payload: Vec<u8>) -> Option<PeerMessage> {
        Some(PeerMessage::Extended {
            id: self.peer_id_of(name)?,
            payload: Bytes::from(payload),
        })
    }
}

#[cfg(test)]
mod tests;
