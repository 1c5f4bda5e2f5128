//! Leaving the swarms: `stopped` to every tracker that knows us, for a pause (the actor stays)
//! or a shutdown (the actor stops after).

use actix::{ActorContext, ActorFutureExt, AsyncContext, Context, WrapFuture};
use bt_proto::tracker::AnnounceEvent;

use super::Announcer;

impl Announcer {
    /// Pauses announcing and returns a future that sends `stopped` to every tracker that knows
    /// us, concurrently, for at most `stop_timeout`.
    pub(super) fn leave_swarms(
        &mut self,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = ()> + use<> {
        self.paused = true;
        for handle in [self.timer.take(), self.in_flight.take()]
            .into_iter()
            .flatten()
        {
            ctx.cancel_future(handle);
        }
        self.rerun = false;
        let mut leaving = std::mem::take(&mut self.joined);
        // The tracker of a cancelled announce may have counted us: tell it too.
        leaving.extend(self.in_flight_url.take());
        let mut tasks = tokio::task::JoinSet::new();
        for url in leaving {
            let span = tracing::info_span!(parent: &self.span, "announce", tracker = %url);
            let fut = self.announce_future(&url, AnnounceEvent::Stopped, span.clone());
            tasks.spawn(async move {
                match fut.await {
                    Ok(_) => tracing::info!(parent: &span, "announce ok: stopped"),
                    Err(error) => tracing::debug!(parent: &span, error = %error, "stopped failed"),
                }
            });
        }
        let limit = self.config.stop_timeout;
        async move {
            // A timeout drops the set, which aborts the stragglers.
            let _ =
                tokio::time::timeout(limit, async { while tasks.join_next().await.is_some() {} })
                    .await;
        }
    }
}

/// Runs [`Announcer::leave_swarms`] on the actor, then `after` on it.
pub(super) fn leave_then(
    act: &mut Announcer,
    ctx: &mut Context<Announcer>,
    after: fn(&mut Announcer, &mut Context<Announcer>),
) -> impl actix::ActorFuture<Announcer, Output = ()> + 'static {
    let leave = act.leave_swarms(ctx);
    leave
        .into_actor(act)
        .map(move |(), act, ctx| after(act, ctx))
}

/// Stops the actor; the `after` step of [`super::msg::Shutdown`].
pub(super) fn stop(_act: &mut Announcer, ctx: &mut Context<Announcer>) {
    ctx.stop();
}
