//! [`PeerHandle`]: the `Recipient`s through which other actors command one peer connection.
//!
//! The supervisor, the choker and the piece manager never name the `PeerSession` type; they
//! hold the recipients they need, so a test can stand a stub actor in for a connection.

use std::net::SocketAddr;

use actix::{Actor, Addr, Handler};

use super::msg::{
    CancelBlocks, Choke, Disconnect, GetChokeInfo, Have, SetInterest, Unchoke, UpdatePex,
};
use crate::choker::PeerKey;

/// Every command a connection accepts, by recipient.
#[derive(Debug, Clone)]
pub struct PeerHandle {
    /// The torrent's key for this connection.
    pub key: PeerKey,
    /// The peer's address.
    pub addr: SocketAddr,
    /// [`Choke`].
    pub choke: actix::Recipient<Choke>,
    /// [`Unchoke`].
    pub unchoke: actix::Recipient<Unchoke>,
    /// [`Have`].
    pub have: actix::Recipient<Have>,
    /// [`CancelBlocks`].
    pub cancel: actix::Recipient<CancelBlocks>,
    /// [`SetInterest`].
    pub interest: actix::Recipient<SetInterest>,
    /// [`Disconnect`].
    pub disconnect: actix::Recipient<Disconnect>,
    /// [`GetChokeInfo`].
    pub choke_info: actix::Recipient<GetChokeInfo>,
    /// [`UpdatePex`].
    pub pex: actix::Recipient<UpdatePex>,
}

impl PeerHandle {
    /// The handle of any actor that handles every peer command (the real session or a stub).
    pub fn of<A>(key: PeerKey, addr: SocketAddr, actor: &Addr<A>) -> Self
    where
        A: Actor<Context = actix::Context<A>>
            + Handler<Choke>
            + Handler<Unchoke>
            + Handler<Have>
            + Handler<CancelBlocks>
            + Handler<SetInterest>
            + Handler<Disconnect>
            + Handler<GetChokeInfo>
            + Handler<UpdatePex>,
    {
        Self {
            key,
            addr,
            choke: actor.clone().recipient(),
            unchoke: actor.clone().recipient(),
            have: actor.clone().recipient(),
            cancel: actor.clone().recipient(),
            interest: actor.clone().recipient(),
            disconnect: actor.clone().recipient(),
            choke_info: actor.clone().recipient(),
            pex: actor.clone().recipient(),
        }
    }
}
