//! The [`PeerSession`]'s handlers: the frame stream, the commands, the choker's query.

use std::time::Instant;

use actix::{Context, Handler, MessageResult, StreamHandler};
use bt_proto::wire::PeerMessage;
use tracing::trace;

use super::PeerSession;
use super::msg::{
    CancelBlocks, Choke, Disconnect, GetChokeInfo, Have, ResumeReading, SetInterest, Unchoke,
    WorkAvailable,
};
use crate::choker::ChokePeer;
use crate::peer::PeerError;

impl StreamHandler<Result<PeerMessage, PeerError>> for PeerSession {
    fn handle(&mut self, item: Result<PeerMessage, PeerError>, ctx: &mut Context<Self>) {
        let now = Instant::now();
        let events = item.and_then(|message| {
            trace!(parent: &self.span, ?message, "received");
            self.state.on_message(message, now)
        });
        match events {
            Ok(events) => {
                for event in events {
                    self.on_event(ctx, event);
                }
                self.maybe_request(ctx);
                // After the turn, so the requests of every frame read in it are read from
                // disk together.
                self.schedule_uploads(ctx);
                self.flush(ctx);
            }
            Err(error) => self.fail(ctx, error),
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        let eof = std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the peer closed the connection",
        );
        self.fail(ctx, PeerError::Io(eof));
    }
}

impl Handler<ResumeReading> for PeerSession {
    type Result = ();

    fn handle(&mut self, _: ResumeReading, _: &mut Context<Self>) {
        if self.reader.gate.is_closed() {
            trace!(parent: &self.span, "the disk caught up: reads resume");
            self.reader.gate.set_closed(false);
        }
    }
}

impl Handler<Choke> for PeerSession {
    type Result = ();

    fn handle(&mut self, _: Choke, ctx: &mut Context<Self>) {
        // BEP 3: choking drops the peer's queued requests (but those for pieces we allowed
        // fast, BEP 6); reads in flight find their request gone and are not sent.
        for message in self.state.choke() {
            self.send(ctx, message);
        }
        let kept = self.state.peer_requests();
        self.uploads.retain(|block| kept.contains(block));
        self.flush(ctx);
    }
}

impl Handler<Unchoke> for PeerSession {
    type Result = ();

    fn handle(&mut self, _: Unchoke, ctx: &mut Context<Self>) {
        if let Some(message) = self.state.unchoke() {
            self.send(ctx, message);
            self.flush(ctx);
        }
    }
}

impl Handler<Have> for PeerSession {
    type Result = ();

    fn handle(&mut self, msg: Have, ctx: &mut Context<Self>) {
        let _ = self.have.set(msg.piece.as_usize());
        let message = self.state.have(msg.piece);
        self.send(ctx, message);
        self.flush(ctx);
    }
}

impl Handler<CancelBlocks> for PeerSession {
    type Result = ();

    fn handle(&mut self, msg: CancelBlocks, ctx: &mut Context<Self>) {
        let now = Instant::now();
        // The piece manager has released these already, picked or requested.
        self.picked.retain(|b| !msg.blocks.contains(b));
        for block in msg.blocks {
            if let Some(message) = self.state.cancel(block, now) {
                self.send(ctx, message);
            }
        }
        self.maybe_request(ctx);
        self.flush(ctx);
    }
}

impl Handler<SetInterest> for PeerSession {
    type Result = ();

    fn handle(&mut self, msg: SetInterest, ctx: &mut Context<Self>) {
        if let Some(message) = self.state.set_interested(msg.interested) {
            self.send(ctx, message);
            self.maybe_request(ctx);
            self.flush(ctx);
        }
    }
}

impl Handler<WorkAvailable> for PeerSession {
    type Result = ();

    fn handle(&mut self, _: WorkAvailable, ctx: &mut Context<Self>) {
        // While a pick is on its way, `maybe_request` asks nothing; its answer may be the
        // refusal this follows (the disk caught up in between), so ask again once it is in.
        self.work_announced |= self.asking;
        self.maybe_request(ctx);
        self.flush(ctx);
    }
}

impl Handler<Disconnect> for PeerSession {
    type Result = ();

    fn handle(&mut self, msg: Disconnect, ctx: &mut Context<Self>) {
        self.close(ctx, msg.reason);
    }
}

impl Handler<GetChokeInfo> for PeerSession {
    type Result = MessageResult<GetChokeInfo>;

    fn handle(&mut self, _: GetChokeInfo, _: &mut Context<Self>) -> Self::Result {
        MessageResult(ChokePeer {
            key: self.key,
            interested: self.state.peer_interested(),
            choked_by_us: self.state.am_choking(),
            download_rate: self.state.download_rate(Instant::now()),
            upload_rate: self.state.upload_rate(Instant::now()),
            connected_at: self.state.connected_at(),
            last_block_received: self.state.last_block_received(),
        })
    }
}
