//! [`PeerEvent`]: what an incoming message means for the rest of the torrent.

use std::fmt;

use bt_proto::bitfield::Bitfield;
use bt_proto::geometry::{BlockRef, PieceIndex};
use bt_proto::wire::PeerMessage;
use bytes::Bytes;

/// One consequence of a message from the peer, for the `PeerSession` actor to act on (forward
/// to the piece manager, the choker, the disk writer) or to send back.
///
/// Events are emitted on *change* only: a second INTERESTED, a HAVE for a piece the peer
/// already announced, or an UNCHOKE while unchoked produce nothing, so availability counts and
/// choker state never double-count.
#[derive(Clone, PartialEq, Eq)]
pub enum PeerEvent {
    /// The peer's BITFIELD: its pieces, validated against the piece count.
    PeerBitfield(Bitfield),
    /// The peer announced a piece it did not have before (HAVE).
    PeerHas(PieceIndex),
    /// The peer has every piece (BEP 6 HAVE ALL). HAVE NONE produces no event: an empty set
    /// changes nothing.
    PeerHasAll,
    /// The peer choked us. Without the fast extension BEP 3 says the peer discards our pending
    /// requests, so they are forgotten here and handed back for the picker to release. With
    /// BEP 6 a choke rejects nothing: each request still pending is answered by a REJECT
    /// ([`PeerEvent::Rejected`]) or a block, so `forgotten` is empty.
    Choked {
        /// Our requests the peer will not answer, oldest first.
        forgotten: Vec<BlockRef>,
    },
    /// The peer will answer our requests again.
    Unchoked,
    /// The peer wants pieces we have: a candidate for an upload slot.
    Interested,
    /// The peer wants nothing from us.
    NotInterested,
    /// A block we requested arrived; it is no longer outstanding. Blocks we never requested (or
    /// cancelled, or gave up on) are counted in the stats and dropped, not reported.
    BlockReceived {
        /// The block, one of the torrent's 16 KiB grid blocks.
        block: BlockRef,
        /// Its bytes, sharing the receive buffer.
        data: Bytes,
    },
    /// The peer asks for a block while we unchoke it: read it from disk and pass it to
    /// [`PeerState::take_upload`](super::PeerState::take_upload).
    BlockRequested(BlockRef),
    /// The peer withdrew a request still queued with us: skip it if it is not sent yet.
    RequestCancelled(BlockRef),
    /// The peer will not send a block we requested (BEP 6): release it in the picker.
    Rejected(BlockRef),
    /// The peer suggests we download this piece (BEP 6); only a hint.
    Suggested(PieceIndex),
    /// We may request this piece even while choked (BEP 6).
    AllowedFast(PieceIndex),
    /// A BEP 10 extension message, for the extension handlers (metadata, PEX).
    ExtendedMessage {
        /// 0 for the extension handshake, otherwise the id we assigned in our `m` dictionary.
        id: u8,
        /// The bencoded dictionary and whatever follows it.
        payload: Bytes,
    },
    /// The peer's DHT node listens on this UDP port (BEP 5).
    Port(u16),
    /// A message the actor must send back at once: a BEP 6 REJECT for a request we will not
    /// serve (we choke the peer).
    Reply(PeerMessage),
}

impl fmt::Debug for PeerEvent {
    /// Payload lengths instead of payload bytes, so a block stays one log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PeerBitfield(bits) => write!(f, "PeerBitfield({} pieces)", bits.count_ones()),
            Self::PeerHas(piece) => write!(f, "PeerHas({piece})"),
            Self::PeerHasAll => f.write_str("PeerHasAll"),
            Self::Choked { forgotten } => write!(f, "Choked {{ forgotten: {forgotten:?} }}"),
            Self::Unchoked => f.write_str("Unchoked"),
            Self::Interested => f.write_str("Interested"),
            Self::NotInterested => f.write_str("NotInterested"),
            Self::BlockReceived { block, data } => {
                write!(f, "BlockReceived {{ {block:?}, {} bytes }}", data.len())
            }
            Self::BlockRequested(block) => write!(f, "BlockRequested({block:?})"),
            Self::RequestCancelled(block) => write!(f, "RequestCancelled({block:?})"),
            Self::Rejected(block) => write!(f, "Rejected({block:?})"),
            Self::Suggested(piece) => write!(f, "Suggested({piece})"),
            Self::AllowedFast(piece) => write!(f, "AllowedFast({piece})"),
            Self::ExtendedMessage { id, payload } => {
                write!(f, "ExtendedMessage {{ id: {id}, {} bytes }}", payload.len())
            }
            Self::Port(port) => write!(f, "Port({port})"),
            Self::Reply(message) => write!(f, "Reply({message:?})"),
        }
    }
}
