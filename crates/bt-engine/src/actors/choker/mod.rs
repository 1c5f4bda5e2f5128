//! `Choker`: one per torrent; decides every rechoke interval which peers we upload to.
//!
//! # What it owns
//! A [`ChokeStrategy`] (tit-for-tat by default) and the recipients of every connection; no
//! peer state: each rechoke asks every connection for a snapshot of its flags and rates
//! ([`GetChokeInfo`]), so the decision is made on fresh numbers, by message, not shared state.
//!
//! # Messages in and out
//! In ([`msg`]): [`PeerJoined`](msg::PeerJoined) and [`PeerLeft`](msg::PeerLeft) and
//! [`InterestChanged`](msg::InterestChanged) from the connections;
//! [`ModeChanged`](msg::ModeChanged) and [`Shutdown`](msg::Shutdown) from the supervisor.
//! Out: [`GetChokeInfo`] to every connection (`send`, awaited with [`INFO_TIMEOUT`] for all
//! answers together), then `Choke` / `Unchoke` (`do_send`) to the peers whose state the
//! decision changes.
//!
//! # Timers
//! `ctx.run_interval` every rechoke interval (from the config: 10 s by default, shrunk by
//! tests); an extra rechoke on the next turn after an interest change, a departure or a mode
//! change. One rechoke gathers at a time; a request for another meanwhile runs after it.
//!
//! # What stops it
//! [`msg::Shutdown`] from the supervisor.

mod handlers;
pub mod msg;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use actix::{Actor, ActorFutureExt, AsyncContext, Context, Recipient, WrapFuture};
use tracing::{Span, debug, trace};

use crate::actors::census::Alive;
use crate::actors::peer::msg::{Choke, GetChokeInfo, Unchoke};
use crate::choker::{ChokePeer, ChokeStrategy, PeerKey, TorrentMode};

/// How long a rechoke waits for all the connections' snapshots; a connection that has not
/// answered by then is left out of this round.
pub const INFO_TIMEOUT: Duration = Duration::from_secs(2);

/// Everything a [`Choker`] is built from.
#[derive(Debug)]
pub struct ChokerSetup {
    /// The strategy.
    pub strategy: Box<dyn ChokeStrategy>,
    /// How often to rechoke.
    pub interval: Duration,
    /// Leeching or seeding, at start.
    pub mode: TorrentMode,
    /// The torrent's span.
    pub span: Span,
    /// Counts the actor in its session's census.
    pub alive: Option<Alive>,
}

/// One connection's recipients.
#[derive(Debug)]
struct ChokerPeer {
    choke: Recipient<Choke>,
    unchoke: Recipient<Unchoke>,
    info: Recipient<GetChokeInfo>,
}

/// The torrent's choker; see the module docs.
#[derive(Debug)]
pub struct Choker {
    strategy: Box<dyn ChokeStrategy>,
    interval: Duration,
    mode: TorrentMode,
    peers: BTreeMap<PeerKey, ChokerPeer>,
    /// A rechoke is gathering snapshots.
    gathering: bool,
    /// Another rechoke was asked for while one was gathering.
    again: bool,
    /// A rechoke is scheduled for the next turn.
    soon: bool,
    span: Span,
    _alive: Option<Alive>,
}

impl Choker {
    /// Builds the actor; `.start()` it inside an actix `System`.
    pub fn new(setup: ChokerSetup) -> Self {
        Self {
            strategy: setup.strategy,
            interval: setup.interval,
            mode: setup.mode,
            peers: BTreeMap::new(),
            gathering: false,
            again: false,
            soon: false,
            span: setup.span,
            _alive: setup.alive,
        }
    }

    /// Rechokes on the next turn (once, however often it is asked before then).
    fn rechoke_soon(&mut self, ctx: &mut Context<Self>) {
        if !std::mem::replace(&mut self.soon, true) {
            ctx.run_later(Duration::ZERO, |act, ctx| {
                act.soon = false;
                act.rechoke(ctx);
            });
        }
    }

    /// Gathers every connection's snapshot, then decides.
    fn rechoke(&mut self, ctx: &mut Context<Self>) {
        if self.gathering {
            self.again = true;
            return;
        }
        self.gathering = true;
        // Every request is queued now, so the connections answer concurrently.
        let requests: Vec<_> = self
            .peers
            .iter()
            .map(|(key, peer)| (*key, peer.info.send(GetChokeInfo)))
            .collect();
        let gather = async move {
            let deadline = tokio::time::Instant::now() + INFO_TIMEOUT;
            let mut snapshot = Vec::with_capacity(requests.len());
            for (key, request) in requests {
                if let Ok(Ok(mut info)) = tokio::time::timeout_at(deadline, request).await {
                    info.key = key;
                    snapshot.push(info);
                }
            }
            snapshot
        };
        ctx.spawn(gather.into_actor(self).map(|snapshot, act, ctx| {
            act.gathering = false;
            act.decide(snapshot);
            if std::mem::take(&mut act.again) {
                act.rechoke(ctx);
            }
        }));
    }

    /// Runs the strategy on the snapshot and sends the changes.
    fn decide(&mut self, snapshot: Vec<ChokePeer>) {
        let _e = self.span.enter();
        let peers: Vec<ChokePeer> = snapshot
            .into_iter()
            .filter(|p| self.peers.contains_key(&p.key))
            .collect();
        let decision = self.strategy.rechoke(&peers, self.mode, Instant::now());
        let (mut choked, mut unchoked) = (0, 0);
        for peer in &peers {
            let Some(links) = self.peers.get(&peer.key) else {
                continue;
            };
            let unchoke = decision.is_unchoked(peer.key);
            if unchoke && peer.choked_by_us {
                links.unchoke.do_send(Unchoke);
                unchoked += 1;
            } else if !unchoke && !peer.choked_by_us {
                links.choke.do_send(Choke);
                choked += 1;
            }
        }
        trace!(
            peers = peers.len(),
            regular = decision.regular.len(),
            optimistic = decision.optimistic.len(),
            choked,
            unchoked,
            "rechoke"
        );
    }
}

impl Actor for Choker {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        debug!(parent: &self.span, strategy = self.strategy.name(), interval = ?self.interval, "choker started");
        ctx.run_interval(self.interval, |act, ctx| act.rechoke(ctx));
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        debug!(parent: &self.span, "choker stopped");
    }
}
