//! Messages the [`Choker`](super::Choker) handles.
//!
//! # Backpressure
//! All are small events or commands sent with `do_send`: one per connection start or end,
//! per interest change of a peer, per mode change of the torrent.

use actix::{Message, Recipient};

use crate::actors::peer::msg::{Choke, GetChokeInfo, Unchoke};
use crate::choker::{PeerKey, TorrentMode};

/// Event (from a connection, as it starts): a peer to consider at the next rechoke, starting
/// choked (BEP 3).
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct PeerJoined {
    /// The connection.
    pub key: PeerKey,
    /// Where CHOKE decisions go.
    pub choke: Recipient<Choke>,
    /// Where UNCHOKE decisions go.
    pub unchoke: Recipient<Unchoke>,
    /// Where the rechoke asks for the peer's rates and flags.
    pub info: Recipient<GetChokeInfo>,
}

/// Event (from a connection, as it stops): forget the peer; its slot, if it had one, is
/// given away at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct PeerLeft {
    /// The connection.
    pub key: PeerKey,
}

/// Event (from a connection): the peer became interested or lost interest. The choker
/// rechokes at once rather than at the next interval, so a newly interested peer is served
/// without waiting (the optimistic unchoke does not rotate early: the strategy keeps its
/// own clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct InterestChanged {
    /// The connection.
    pub key: PeerKey,
}

/// Command (from the supervisor): the torrent started or stopped seeding, which changes what
/// a good peer is (rate to us while leeching, rate from us while seeding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct ModeChanged {
    /// The new mode.
    pub mode: TorrentMode,
}

/// Command (from the supervisor): stop; peers keep whatever choke state they have until
/// they close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct Shutdown;
