//! The choker lab: the engine's `Choker` actor alone, fed synthetic peers, every decision
//! recorded with its reasons.
//!
//! Each synthetic peer is a small actor that answers the choker's `GetChokeInfo` with fixed
//! rates and interest and keeps the choke state the choker gives it, standing in for a
//! `PeerSession` (the choker only knows peers by `Recipient`s). The strategy is the engine's
//! [`TitForTat`] wrapped in [`Recording`], which passes every decision, and the peers it was
//! made on, to the lab. Time is shrunk: a rechoke every [`LabConfig::interval`] instead of
//! 10 s, the optimistic unchoke rotating every three, snubbing after five.
//!
//! [`run`] drives one scenario: six peers join while we leech (a fast, two medium and a slow
//! uploader, a peer whose rate is high but that stopped sending blocks, one that wants nothing),
//! a newcomer joins at round 4, and the torrent turns to seeding at round 7, which ranks peers
//! by how fast they take our upload instead.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::{Actor, Addr, Context, Handler, MessageResult};
use bt_engine::actors::choker::msg::{ModeChanged, PeerJoined, Shutdown};
use bt_engine::actors::choker::{Choker, ChokerSetup};
use bt_engine::actors::peer::msg::{Choke, GetChokeInfo, Unchoke};
use bt_engine::choker::{
    ChokeConfig, ChokeDecision, ChokePeer, ChokeReason, ChokeStrategy, PeerKey, TitForTat,
    TorrentMode, UnchokeReason,
};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

/// What a synthetic peer looks like to the choker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerSpec {
    /// A name for the printout.
    pub label: &'static str,
    /// Bytes per second it sends us (the leeching ranking).
    pub download_rate: u64,
    /// Bytes per second it takes from us (the seeding ranking).
    pub upload_rate: u64,
    /// Whether it wants our pieces.
    pub interested: bool,
    /// Whether it still sends blocks; one that does not is snubbed after the snub time-out,
    /// whatever its (stale) average rate says.
    pub sends_blocks: bool,
}

/// The lab's timing and peers.
#[derive(Debug, Clone)]
pub struct LabConfig {
    /// Rechoke period (10 s in the engine's defaults).
    pub interval: Duration,
    /// Decisions to record before stopping.
    pub rounds: usize,
    /// The first decision made with the newcomer present comes after this many.
    pub newcomer_after: usize,
    /// The torrent switches to seeding after this many decisions.
    pub seeding_after: usize,
    /// Seed of the strategy's random draws.
    pub seed: u64,
    /// The peers present from the start.
    pub peers: Vec<PeerSpec>,
    /// The peer that joins later.
    pub newcomer: PeerSpec,
}

impl Default for LabConfig {
    fn default() -> Self {
        const KIB: u64 = 1024;
        let peer = |label, download_kib: u64, upload_kib: u64, interested, sends_blocks| PeerSpec {
            label,
            download_rate: download_kib * KIB,
            upload_rate: upload_kib * KIB,
            interested,
            sends_blocks,
        };
        Self {
            interval: Duration::from_millis(100),
            rounds: 10,
            newcomer_after: 3,
            seeding_after: 6,
            seed: 7,
            peers: vec![
                peer("fast", 900, 100, true, true),
                peer("medium-a", 500, 300, true, true),
                peer("medium-b", 400, 800, true, true),
                peer("slow", 50, 600, true, true),
                peer("snubber", 700, 200, true, false),
                peer("uninterested", 1_000, 0, false, true),
            ],
            newcomer: peer("newcomer", 0, 400, true, true),
        }
    }
}

impl LabConfig {
    /// The choker's tunables for this lab: the engine's slots, the times shrunk.
    pub fn choke_config(&self) -> ChokeConfig {
        let optimistic_interval = self.interval * 3;
        ChokeConfig {
            rechoke_interval: self.interval,
            optimistic_interval,
            snub_timeout: self.interval * 5,
            new_peer_window: optimistic_interval * 3,
            ..ChokeConfig::default()
        }
    }
}

/// One decision: the mode, what the strategy saw, and what it decided.
#[derive(Debug, Clone)]
pub struct Round {
    /// 1 for the first decision.
    pub number: usize,
    /// Time since the lab started.
    pub at: Duration,
    /// Leeching or seeding.
    pub mode: TorrentMode,
    /// The snapshots the strategy decided on.
    pub peers: Vec<ChokePeer>,
    /// The decision, with a reason per peer.
    pub decision: ChokeDecision,
}

/// Wraps a strategy and sends every decision it makes, with its input, to a channel.
#[derive(Debug)]
pub struct Recording<S> {
    inner: S,
    started: Instant,
    count: usize,
    rounds: UnboundedSender<Round>,
}

impl<S: ChokeStrategy> Recording<S> {
    /// Records `inner`'s decisions into `rounds`.
    pub fn new(inner: S, rounds: UnboundedSender<Round>) -> Self {
        Self {
            inner,
            started: Instant::now(),
            count: 0,
            rounds,
        }
    }
}

impl<S: ChokeStrategy> ChokeStrategy for Recording<S> {
    fn rechoke(&mut self, peers: &[ChokePeer], mode: TorrentMode, now: Instant) -> ChokeDecision {
        let decision = self.inner.rechoke(peers, mode, now);
        self.count += 1;
        let _ = self.rounds.send(Round {
            number: self.count,
            at: now.saturating_duration_since(self.started),
            mode,
            peers: peers.to_vec(),
            decision: decision.clone(),
        });
        decision
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }
}

/// A synthetic peer: answers the choker with its spec and keeps its choke state.
#[derive(Debug)]
struct SyntheticPeer {
    key: PeerKey,
    spec: PeerSpec,
    choked: bool,
    connected_at: Instant,
    /// Where it records the CHOKEs and UNCHOKEs it receives.
    log: Arc<Mutex<Vec<(PeerKey, bool)>>>,
}

impl Actor for SyntheticPeer {
    type Context = Context<Self>;
}

impl Handler<Choke> for SyntheticPeer {
    type Result = ();
    fn handle(&mut self, _: Choke, _: &mut Context<Self>) {
        self.choked = true;
        self.note();
    }
}

impl Handler<Unchoke> for SyntheticPeer {
    type Result = ();
    fn handle(&mut self, _: Unchoke, _: &mut Context<Self>) {
        self.choked = false;
        self.note();
    }
}

impl Handler<GetChokeInfo> for SyntheticPeer {
    type Result = MessageResult<GetChokeInfo>;
    fn handle(&mut self, _: GetChokeInfo, _: &mut Context<Self>) -> Self::Result {
        let now = Instant::now();
        MessageResult(ChokePeer {
            key: self.key,
            interested: self.spec.interested,
            choked_by_us: self.choked,
            download_rate: self.spec.download_rate,
            upload_rate: self.spec.upload_rate,
            connected_at: self.connected_at,
            last_block_received: if self.spec.sends_blocks {
                Some(now)
            } else {
                Some(self.connected_at)
            },
        })
    }
}

impl SyntheticPeer {
    /// Records a CHOKE or UNCHOKE the choker sent.
    fn note(&self) {
        if let Ok(mut log) = self.log.lock() {
            log.push((self.key, self.choked));
        }
    }
}

/// What a lab run produced.
#[derive(Debug, Clone)]
pub struct LabRun {
    /// The peers by key (`PeerKey(i)` is `labels[i]`).
    pub labels: Vec<&'static str>,
    /// Every decision, in order.
    pub rounds: Vec<Round>,
    /// Every CHOKE (`true`) and UNCHOKE (`false`) the peers received, in order.
    pub messages: Vec<(PeerKey, bool)>,
}

impl LabRun {
    /// The label of `key`.
    pub fn label(&self, key: PeerKey) -> &'static str {
        usize::try_from(key.0)
            .ok()
            .and_then(|i| self.labels.get(i))
            .copied()
            .unwrap_or("?")
    }
}

/// Runs the scenario of the module docs; must run inside an actix `System`. Fails if the
/// choker stops deciding (no decision within ten intervals).
pub async fn run(config: LabConfig) -> anyhow::Result<LabRun> {
    let (tx, mut rx) = unbounded_channel();
    let strategy = Recording::new(TitForTat::new(config.choke_config(), config.seed), tx);
    let choker = Choker::new(ChokerSetup {
        strategy: Box::new(strategy),
        interval: config.interval,
        mode: TorrentMode::Leeching,
        span: tracing::Span::none(),
        alive: None,
    })
    .start();
    let messages = Arc::new(Mutex::new(Vec::new()));
    let mut labels = Vec::new();
    for spec in &config.peers {
        join(&choker, &mut labels, spec.clone(), &messages);
    }
    let mut rounds = Vec::new();
    let patience = config.interval * 10;
    while rounds.len() < config.rounds {
        let round = tokio::time::timeout(patience, rx.recv())
            .await
            .map_err(|_| anyhow::anyhow!("no decision within {patience:?}"))?
            .ok_or_else(|| anyhow::anyhow!("the choker stopped"))?;
        rounds.push(round);
        if rounds.len() == config.newcomer_after {
            join(&choker, &mut labels, config.newcomer.clone(), &messages);
        }
        if rounds.len() == config.seeding_after {
            choker.do_send(ModeChanged {
                mode: TorrentMode::Seeding,
            });
        }
    }
    choker.do_send(Shutdown);
    let messages = messages.lock().map(|m| m.clone()).unwrap_or_default();
    Ok(LabRun {
        labels,
        rounds,
        messages,
    })
}

/// Starts a synthetic peer and tells the choker about it.
fn join(
    choker: &Addr<Choker>,
    labels: &mut Vec<&'static str>,
    spec: PeerSpec,
    messages: &Arc<Mutex<Vec<(PeerKey, bool)>>>,
) {
    let key = PeerKey(labels.len() as u64);
    labels.push(spec.label);
    let peer = SyntheticPeer {
        key,
        spec,
        choked: true,
        connected_at: Instant::now(),
        log: Arc::clone(messages),
    }
    .start();
    choker.do_send(PeerJoined {
        key,
        choke: peer.clone().recipient(),
        unchoke: peer.clone().recipient(),
        info: peer.recipient(),
    });
}

/// A reason in words, for the printout.
pub fn describe(reason: &UnchokeReason) -> String {
    match reason {
        UnchokeReason::BestRate { rank, rate } => {
            format!("unchoked: rank {} by rate ({})", rank + 1, kib(*rate))
        }
        UnchokeReason::Optimistic { new_peer: true } => {
            "unchoked: optimistic (new peer, 3x the odds)".into()
        }
        UnchokeReason::Optimistic { new_peer: false } => "unchoked: optimistic".into(),
        UnchokeReason::Interested => "unchoked: interested".into(),
        UnchokeReason::RandomDraw => "unchoked: random draw".into(),
        UnchokeReason::Choked(why) => match why {
            ChokeReason::NotInterested => "choked: wants nothing from us".into(),
            ChokeReason::Snubbed => "choked: snubbed us (no block for the snub time-out)".into(),
            ChokeReason::Outranked { rank, rate } => {
                format!("choked: outranked, rank {} ({})", rank + 1, kib(*rate))
            }
            ChokeReason::NotDrawn => "choked: lost the random draw".into(),
            ChokeReason::FreeRiding => "choked: we upload to nobody".into(),
        },
    }
}

/// A rate in KiB/s.
pub fn kib(rate: u64) -> String {
    format!("{} KiB/s", rate / 1024)
}
