//! The [`Choker`]'s message handlers.

use actix::{ActorContext, Context, Handler};

use super::msg::{InterestChanged, ModeChanged, PeerJoined, PeerLeft, Shutdown};
use super::{Choker, ChokerPeer};

impl Handler<PeerJoined> for Choker {
    type Result = ();

    fn handle(&mut self, msg: PeerJoined, _: &mut Context<Self>) {
        let peer = ChokerPeer {
            choke: msg.choke,
            unchoke: msg.unchoke,
            info: msg.info,
        };
        self.peers.insert(msg.key, peer);
    }
}

impl Handler<PeerLeft> for Choker {
    type Result = ();

    fn handle(&mut self, msg: PeerLeft, ctx: &mut Context<Self>) {
        if self.peers.remove(&msg.key).is_some() {
            self.rechoke_soon(ctx);
        }
    }
}

impl Handler<InterestChanged> for Choker {
    type Result = ();

    fn handle(&mut self, msg: InterestChanged, ctx: &mut Context<Self>) {
        if self.peers.contains_key(&msg.key) {
            self.rechoke_soon(ctx);
        }
    }
}

impl Handler<ModeChanged> for Choker {
    type Result = ();

    fn handle(&mut self, msg: ModeChanged, ctx: &mut Context<Self>) {
        if self.mode != msg.mode {
            self.mode = msg.mode;
            self.rechoke_soon(ctx);
        }
    }
}

impl Handler<Shutdown> for Choker {
    type Result = ();

    fn handle(&mut self, _: Shutdown, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}
