//! The [`Announcer`]'s message handlers; the logic they call lives in `mod.rs`.

use std::time::Instant;

use actix::{ActorContext, AsyncContext, Context, Handler, ResponseActFuture};
use bt_proto::tracker::AnnounceEvent;

use super::leave::{leave_then, stop};
use super::msg::{AnnounceNow, Detach, Shutdown, UpdateProgress, WantMorePeers};
use super::{Announcer, Progress};

impl Handler<UpdateProgress> for Announcer {
    type Result = ();

    fn handle(&mut self, msg: UpdateProgress, _ctx: &mut Context<Self>) {
        self.progress = Progress {
            uploaded: msg.uploaded,
            downloaded: msg.downloaded,
            left: msg.left,
        };
    }
}

impl Handler<AnnounceNow> for Announcer {
    type Result = ();

    fn handle(&mut self, msg: AnnounceNow, ctx: &mut Context<Self>) {
        let span = self.span.clone();
        let _entered = span.enter();
        match msg.event {
            AnnounceEvent::Started => {
                self.paused = false;
                self.joined.clear();
                self.announce(ctx);
            }
            AnnounceEvent::Completed => {
                self.completed_pending = true;
                self.announce(ctx);
            }
            AnnounceEvent::None => self.announce(ctx),
            AnnounceEvent::Stopped => {
                let leave = leave_then(self, ctx, |_, _| {});
                ctx.spawn(leave);
            }
        }
    }
}

impl Handler<WantMorePeers> for Announcer {
    type Result = ();

    fn handle(&mut self, _msg: WantMorePeers, ctx: &mut Context<Self>) {
        if self.paused || self.in_flight.is_some() {
            return;
        }
        self.schedule.want_more_peers(Instant::now());
        self.arm_timer(ctx);
    }
}

impl Handler<Shutdown> for Announcer {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, _msg: Shutdown, ctx: &mut Context<Self>) -> Self::Result {
        let span = self.span.clone();
        let _entered = span.enter();
        tracing::debug!(trackers = self.joined.len(), "leaving the swarm");
        Box::pin(leave_then(self, ctx, stop))
    }
}

impl Handler<Detach> for Announcer {
    type Result = ();

    fn handle(&mut self, _: Detach, ctx: &mut Context<Self>) {
        tracing::debug!(parent: &self.span, "detached, no stopped");
        ctx.stop();
    }
}
