//! Asking the mainline DHT (BEP 5) for peers beside the trackers, and announcing there.
//!
//! When the supervisor hands the announcer a [`DhtLink`] (the session runs a DHT node and the
//! torrent is not private: BEP 27 keeps private torrents off the DHT), the announcer sends the
//! node an [`Announce`] for the torrent when it starts and then every `interval`: a `get_peers`
//! lookup, then `announce_peer` to the closest nodes that answered. A magnet link's metadata
//! fetch gets a [`DhtLink::search_only`] instead: the same lookups ([`GetPeers`]), never
//! `announce_peer`, since whether the torrent is private is unknown until its metadata
//! arrives (BEP 27); once it is known, the supervisor announces a public torrent and keeps a
//! private one off the DHT. The peers a lookup found go to the supervisor (or the fetcher) as
//! [`PeersDiscovered`] from [`PeerSource::Dht`], without our own address and without
//! duplicates. One DHT request at a time (`send().await`, so at most one message of ours
//! waits in the node's mailbox); none while paused after `stopped`. The DHT has no
//! `stopped`: announced peers expire on their own.

use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use actix::{ActorFutureExt, AsyncContext, Context, MailboxError, Recipient, WrapFuture};
use bt_dht::DhtError;
use bt_dht::actor::{Announce, GetPeers};

use super::Announcer;
use crate::actors::supervisor::msg::{PeerSource, PeersDiscovered};

/// What the announcer asks the DHT node each time.
#[derive(Debug, Clone)]
pub enum DhtRequest {
    /// `get_peers`, then `announce_peer` (a torrent known to be public).
    Announce(Recipient<Announce>),
    /// `get_peers` only (a magnet link's fetch, before the private flag is known).
    GetPeers(Recipient<GetPeers>),
}

/// The session's DHT node, as one torrent's announcer uses it.
#[derive(Debug, Clone)]
pub struct DhtLink {
    /// What to ask the node.
    pub request: DhtRequest,
    /// How often to ask.
    pub interval: Duration,
}

impl DhtLink {
    /// The link a torrent's announcer gets: none without a DHT node, and none for a private
    /// torrent, which takes peers from its trackers only (BEP 27).
    pub fn for_torrent(
        node: Option<&Recipient<Announce>>,
        private: bool,
        interval: Duration,
    ) -> Option<DhtLink> {
        if private {
            return None;
        }
        Some(DhtLink {
            request: DhtRequest::Announce(node?.clone()),
            interval,
        })
    }

    /// The link of a magnet link's metadata fetch: lookups only, never `announce_peer`, so a
    /// torrent that turns out to be private was never announced (BEP 27). None without a DHT
    /// node.
    pub fn search_only(node: Option<Recipient<GetPeers>>, interval: Duration) -> Option<DhtLink> {
        Some(DhtLink {
            request: DhtRequest::GetPeers(node?),
            interval,
        })
    }
}

/// A DHT request on its way: the peers found and, for an announce, the nodes that took it.
type DhtReply = Pin<Box<dyn Future<Output = Result<Result<Found, DhtError>, MailboxError>>>>;

/// What one DHT request brought.
struct Found {
    peers: Vec<SocketAddr>,
    /// Nodes that acknowledged our `announce_peer` (`None`: a lookup only).
    announced_to: Option<usize>,
}

impl Announcer {
    /// Uses the DHT through `link` as well as the trackers.
    pub fn with_dht(mut self, link: DhtLink) -> Self {
        self.dht = Some(link);
        self
    }

    /// The first DHT request, and the timer of the next ones.
    pub(super) fn start_dht(&mut self, ctx: &mut Context<Self>) {
        let Some(link) = &self.dht else {
            return;
        };
        ctx.run_interval(link.interval, |act, ctx| act.ask_dht(ctx));
        self.ask_dht(ctx);
    }

    fn ask_dht(&mut self, ctx: &mut Context<Self>) {
        if self.paused || self.dht_in_flight {
            return;
        }
        let Some(link) = &self.dht else {
            return;
        };
        self.dht_in_flight = true;
        let info_hash = self.info_hash;
        let reply: DhtReply = match &link.request {
            DhtRequest::Announce(node) => {
                let port = self.listen_port;
                let sent = node.send(Announce { info_hash, port });
                Box::pin(async move {
                    sent.await.map(|answer| {
                        answer.map(|report| Found {
                            peers: report.peers,
                            announced_to: Some(report.announced_to),
                        })
                    })
                })
            }
            DhtRequest::GetPeers(node) => {
                let sent = node.send(GetPeers { info_hash });
                Box::pin(async move {
                    sent.await.map(|answer| {
                        answer.map(|peers| Found {
                            peers,
                            announced_to: None,
                        })
                    })
                })
            }
        };
        let span = self.span.clone();
        ctx.spawn(reply.into_actor(self).map(move |result, act, _ctx| {
            let _entered = span.enter();
            act.dht_in_flight = false;
            match result {
                Ok(Ok(found)) => {
                    let peers = act.dht_peers(found.peers);
                    tracing::debug!(
                        peers = peers.len(),
                        announced_to = ?found.announced_to,
                        "DHT lookup ok"
                    );
                    if !peers.is_empty() {
                        act.peers_out.do_send(PeersDiscovered {
                            peers,
                            seeds: Vec::new(),
                            source: PeerSource::Dht,
                        });
                    }
                }
                Ok(Err(error)) => tracing::debug!(%error, "DHT lookup failed"),
                Err(error) => tracing::debug!(%error, "the DHT node is gone"),
            }
        }));
    }

    /// Peers from the DHT minus ourselves and duplicates, in order.
    fn dht_peers(&self, peers: Vec<SocketAddr>) -> Vec<SocketAddr> {
        let mut seen = HashSet::new();
        peers
            .into_iter()
            .filter(|addr| addr.port() != 0 && !self.is_own(addr))
            .filter(|addr| seen.insert(*addr))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use actix::{Actor, Addr, Context, Handler, Recipient};
    use bt_dht::DhtError;
    use bt_dht::actor::{Announce, AnnounceReport, GetPeers};
    use bt_proto::types::{InfoHash, PeerId};
    use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

    use super::DhtLink;
    use crate::actors::announcer::{Announcer, AnnouncerConfig, AnnouncerSetup, Progress};
    use crate::actors::supervisor::msg::{PeerSource, PeersDiscovered, TrackerStatusChanged};

    const OUR_PORT: u16 = 40_000;
    const HASH: InfoHash = InfoHash([0x22; 20]);

    /// A DHT node that answers every announce and lookup with the same peers, and counts
    /// them.
    struct StubNode {
        peers: Vec<SocketAddr>,
        announces: Arc<AtomicUsize>,
        lookups: Arc<AtomicUsize>,
    }

    impl Actor for StubNode {
        type Context = Context<Self>;
    }

    impl Handler<Announce> for StubNode {
        type Result = Result<AnnounceReport, DhtError>;

        fn handle(&mut self, msg: Announce, _ctx: &mut Context<Self>) -> Self::Result {
            assert_eq!((msg.info_hash, msg.port), (HASH, OUR_PORT));
            self.announces.fetch_add(1, Ordering::SeqCst);
            Ok(AnnounceReport {
                peers: self.peers.clone(),
                announced_to: 8,
            })
        }
    }

    impl Handler<GetPeers> for StubNode {
        type Result = Result<Vec<SocketAddr>, DhtError>;

        fn handle(&mut self, msg: GetPeers, _ctx: &mut Context<Self>) -> Self::Result {
            assert_eq!(msg.info_hash, HASH);
            self.lookups.fetch_add(1, Ordering::SeqCst);
            Ok(self.peers.clone())
        }
    }

    /// Forwards what it gets to a channel.
    struct Forward<M: actix::Message<Result = ()> + Send>(UnboundedSender<M>);

    impl<M: actix::Message<Result = ()> + Send + 'static> Actor for Forward<M> {
        type Context = Context<Self>;
    }

    impl<M: actix::Message<Result = ()> + Send + 'static> Handler<M> for Forward<M> {
        type Result = ();

        fn handle(&mut self, msg: M, _ctx: &mut Context<Self>) {
            let _ = self.0.send(msg);
        }
    }

    /// A stub node, and its counts of announces and of lookups.
    fn stub(peers: Vec<SocketAddr>) -> (Addr<StubNode>, Arc<AtomicUsize>, Arc<AtomicUsize>) {
        let announces = Arc::new(AtomicUsize::new(0));
        let lookups = Arc::new(AtomicUsize::new(0));
        let node = StubNode {
            peers,
            announces: Arc::clone(&announces),
            lookups: Arc::clone(&lookups),
        };
        (node.start(), announces, lookups)
    }

    fn stub_node(peers: Vec<SocketAddr>) -> (Recipient<Announce>, Arc<AtomicUsize>) {
        let (node, announces, _) = stub(peers);
        (node.recipient(), announces)
    }

    /// An announcer with no tracker at all, the DHT alone through `link`; it sends what it
    /// finds to the returned channel.
    fn dht_only_announcer(
        link: DhtLink,
    ) -> (
        actix::Addr<Announcer>,
        tokio::sync::mpsc::UnboundedReceiver<PeersDiscovered>,
    ) {
        let (peers_tx, peers_rx) = unbounded_channel::<PeersDiscovered>();
        let (status_tx, _status_rx) = unbounded_channel::<TrackerStatusChanged>();
        let announcer = Announcer::new(AnnouncerSetup {
            info_hash: HASH,
            peer_id: PeerId([0xaa; 20]),
            listen_port: OUR_PORT,
            own_ips: Vec::new(),
            tiers: Vec::new(),
            progress: Progress::default(),
            config: AnnouncerConfig::default(),
            peers_out: Forward(peers_tx).start().recipient(),
            status_out: Forward(status_tx).start().recipient(),
            span: tracing::Span::none(),
        })
        .with_dht(link)
        .start();
        (announcer, peers_rx)
    }

    async fn wait_count(counter: &AtomicUsize, at_least: usize) {
        tokio::time::timeout(Duration::from_secs(5), async {
            while counter.load(Ordering::SeqCst) < at_least {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("asked again at the interval");
    }

    #[actix::test]
    async fn a_public_torrent_announces_to_the_dht_and_gets_its_peers() {
        let ours = SocketAddr::from(([127, 0, 0, 1], OUR_PORT));
        let other = SocketAddr::from(([10, 0, 0, 5], 6881));
        let (node, announces) = stub_node(vec![ours, other, other]);
        let link = DhtLink::for_torrent(Some(&node), false, Duration::from_millis(50));
        let (announcer, mut peers_rx) =
            dht_only_announcer(link.expect("a public torrent gets the DHT"));
        let found = tokio::time::timeout(Duration::from_secs(5), peers_rx.recv())
            .await
            .expect("peers in time")
            .expect("a PeersDiscovered");
        // Our own address and the duplicate are gone.
        assert_eq!(found.peers, [other]);
        assert_eq!(found.source, PeerSource::Dht);
        // And again at the interval.
        wait_count(&announces, 3).await;
        drop(announcer);
    }

    /// A magnet link's fetch: lookups at the interval, never an announce (BEP 27: the torrent
    /// may turn out to be private).
    #[actix::test]
    async fn a_search_only_link_looks_up_and_never_announces() {
        let other = SocketAddr::from(([10, 0, 0, 6], 6881));
        let (node, announces, lookups) = stub(vec![other]);
        let link = DhtLink::search_only(Some(node.recipient()), Duration::from_millis(50));
        let (announcer, mut peers_rx) = dht_only_announcer(link.expect("a DHT node"));
        let found = tokio::time::timeout(Duration::from_secs(5), peers_rx.recv())
            .await
            .expect("peers in time")
            .expect("a PeersDiscovered");
        assert_eq!((found.peers, found.source), (vec![other], PeerSource::Dht));
        wait_count(&lookups, 3).await;
        assert_eq!(announces.load(Ordering::SeqCst), 0, "announce_peer sent");
        assert!(DhtLink::search_only(None, Duration::from_secs(1)).is_none());
        drop(announcer);
    }

    #[actix::test]
    async fn a_private_torrent_never_gets_the_dht() {
        let (node, _) = stub_node(Vec::new());
        let interval = Duration::from_secs(1);
        assert!(DhtLink::for_torrent(Some(&node), true, interval).is_none());
        assert!(DhtLink::for_torrent(None, false, interval).is_none());
        assert!(DhtLink::for_torrent(Some(&node), false, interval).is_some());
    }
}
