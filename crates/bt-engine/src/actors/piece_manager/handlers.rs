//! The [`PieceManager`]'s message handlers: each feeds the picker and sends what follows.

use actix::{ActorContext, Context, Handler, MessageResult};
use tracing::{debug, trace};

use super::msg::{
    BitfieldReceived, BlocksReceived, HaveAllReceived, HaveReceived, PeerJoined, PeerLeft,
    RequestBlocks, RequestBlocksIn, RequestsReleased, Shutdown,
};
use super::{PeerLinks, PieceManager};
use crate::actors::peer::msg::SetInterest;

impl Handler<PeerJoined> for PieceManager {
    type Result = ();

    fn handle(&mut self, msg: PeerJoined, _: &mut Context<Self>) {
        // A peer the picker already knows (events raced ahead of this one) may be interesting
        // already; a new peer starts as not interested on both sides (BEP 3).
        if self.picker.is_interesting(msg.key) {
            msg.interest.do_send(SetInterest { interested: true });
        }
        let links = PeerLinks {
            interest: msg.interest,
            cancel: msg.cancel,
            work: msg.work,
            resume: msg.resume,
        };
        self.peers.insert(msg.key, links);
    }
}

impl Handler<BitfieldReceived> for PieceManager {
    type Result = ();

    fn handle(&mut self, msg: BitfieldReceived, _: &mut Context<Self>) {
        if let Err(error) = self.picker.peer_bitfield(msg.key, msg.bitfield) {
            // The connection validated the length; a mismatch is our bug, not the peer's.
            debug!(parent: &self.span, key = msg.key.0, %error, "bitfield refused");
        }
        self.send_interest_changes();
    }
}

impl Handler<HaveReceived> for PieceManager {
    type Result = ();

    fn handle(&mut self, msg: HaveReceived, _: &mut Context<Self>) {
        if let Err(error) = self.picker.peer_have(msg.key, msg.piece.get()) {
            debug!(parent: &self.span, key = msg.key.0, %error, "have refused");
        }
        self.send_interest_changes();
    }
}

impl Handler<HaveAllReceived> for PieceManager {
    type Result = ();

    fn handle(&mut self, msg: HaveAllReceived, _: &mut Context<Self>) {
        self.picker.peer_have_all(msg.key);
        self.send_interest_changes();
    }
}

impl Handler<PeerLeft> for PieceManager {
    type Result = ();

    fn handle(&mut self, msg: PeerLeft, _: &mut Context<Self>) {
        self.picker.peer_disconnected(msg.key);
        self.peers.remove(&msg.key);
        self.starved.remove(&msg.key);
        // Drop the interest change the departure may have queued for it.
        self.send_interest_changes();
        // Its requests are free for the others.
        self.feed_starved();
    }
}

impl Handler<RequestBlocks> for PieceManager {
    type Result = MessageResult<RequestBlocks>;

    fn handle(&mut self, msg: RequestBlocks, _: &mut Context<Self>) -> Self::Result {
        let blocks =
            self.pick_unless_backlogged(msg.key, |picker| picker.pick_blocks(msg.key, msg.max));
        trace!(parent: &self.span, key = msg.key.0, max = msg.max, picked = blocks.len(), "pick");
        MessageResult(blocks)
    }
}

impl Handler<RequestBlocksIn> for PieceManager {
    type Result = MessageResult<RequestBlocksIn>;

    fn handle(&mut self, msg: RequestBlocksIn, _: &mut Context<Self>) -> Self::Result {
        let blocks = self.pick_unless_backlogged(msg.key, |picker| {
            picker.pick_blocks_in(msg.key, msg.max, &msg.pieces, msg.only)
        });
        trace!(parent: &self.span, key = msg.key.0, max = msg.max, only = msg.only, picked = blocks.len(), "pick in");
        MessageResult(blocks)
    }
}

impl Handler<BlocksReceived> for PieceManager {
    type Result = ();

    fn handle(&mut self, msg: BlocksReceived, ctx: &mut Context<Self>) {
        self.blocks_received(ctx, msg.key, msg.blocks);
    }
}

impl Handler<RequestsReleased> for PieceManager {
    type Result = ();

    fn handle(&mut self, msg: RequestsReleased, _: &mut Context<Self>) {
        for block in &msg.blocks {
            self.picker.request_released(msg.key, block);
        }
        self.feed_starved();
    }
}

impl Handler<Shutdown> for PieceManager {
    type Result = ();

    fn handle(&mut self, _: Shutdown, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}
