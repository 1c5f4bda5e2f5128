//! Announcing to the mainline DHT (BEP 5) beside the trackers.
//!
//! When the supervisor hands the announcer a [`DhtLink`] (the session runs a DHT node and the
//! torrent is not private: BEP 27 keeps private torrents off the DHT), the announcer sends the
//! node an [`Announce`] for the torrent when it starts and then every `interval`: a `get_peers`
//! lookup, then `announce_peer` to the closest nodes that answered. The peers the lookup found
//! go to the supervisor as [`PeersDiscovered`] from [`PeerSource::Dht`], without our own
//! address and without duplicates. One DHT announce at a time (`send().await`, so at most one
//! message of ours waits in the node's mailbox); none while paused after `stopped`. The DHT
//! has no `stopped`: announced peers expire on their own.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use actix::{ActorFutureExt, AsyncContext, Context, Recipient, WrapFuture};
use bt_dht::actor::Announce;

use super::Announcer;
use crate::actors::supervisor::msg::{PeerSource, PeersDiscovered};

/// The session's DHT node, as one torrent's announcer uses it.
#[derive(Debug, Clone)]
pub struct DhtLink {
    /// The node's [`Announce`] handler.
    pub node: Recipient<Announce>,
    /// How often to announce (and so to ask for peers).
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
            node: node?.clone(),
            interval,
        })
    }
}

impl Announcer {
    /// Announces the torrent to the DHT through `link` as well as to its trackers.
    pub fn with_dht(mut self, link: DhtLink) -> Self {
        self.dht = Some(link);
        self
    }

    /// The first DHT announce, and the timer of the next ones.
    pub(super) fn start_dht(&mut self, ctx: &mut Context<Self>) {
        let Some(link) = &self.dht else {
            return;
        };
        ctx.run_interval(link.interval, |act, ctx| act.announce_to_dht(ctx));
        self.announce_to_dht(ctx);
    }

    fn announce_to_dht(&mut self, ctx: &mut Context<Self>) {
        if self.paused || self.dht_in_flight {
            return;
        }
        let Some(link) = &self.dht else {
            return;
        };
        self.dht_in_flight = true;
        let request = link.node.send(Announce {
            info_hash: self.info_hash,
            port: self.listen_port,
        });
        let span = self.span.clone();
        ctx.spawn(request.into_actor(self).map(move |result, act, _ctx| {
            let _entered = span.enter();
            act.dht_in_flight = false;
            match result {
                Ok(Ok(report)) => {
                    let peers = act.dht_peers(report.peers);
                    tracing::debug!(
                        peers = peers.len(),
                        nodes = report.announced_to,
                        "DHT announce ok"
                    );
                    if !peers.is_empty() {
                        let source = PeerSource::Dht;
                        act.peers_out.do_send(PeersDiscovered {
                            peers,
                            seeds: Vec::new(),
                            source,
                        });
                    }
                }
                Ok(Err(error)) => tracing::debug!(%error, "DHT announce failed"),
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

    use actix::{Actor, Context, Handler, Recipient};
    use bt_dht::DhtError;
    use bt_dht::actor::{Announce, AnnounceReport};
    use bt_proto::types::{InfoHash, PeerId};
    use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

    use super::DhtLink;
    use crate::actors::announcer::{Announcer, AnnouncerConfig, AnnouncerSetup, Progress};
    use crate::actors::supervisor::msg::{PeerSource, PeersDiscovered, TrackerStatusChanged};

    const OUR_PORT: u16 = 40_000;
    const HASH: InfoHash = InfoHash([0x22; 20]);

    /// A DHT node that answers every announce with the same peers, and counts them.
    struct StubNode {
        peers: Vec<SocketAddr>,
        announces: Arc<AtomicUsize>,
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

    fn stub_node(peers: Vec<SocketAddr>) -> (Recipient<Announce>, Arc<AtomicUsize>) {
        let announces = Arc::new(AtomicUsize::new(0));
        let node = StubNode {
            peers,
            announces: Arc::clone(&announces),
        };
        (node.start().recipient(), announces)
    }

    #[actix::test]
    async fn a_public_torrent_announces_to_the_dht_and_gets_its_peers() {
        let ours = SocketAddr::from(([127, 0, 0, 1], OUR_PORT));
        let other = SocketAddr::from(([10, 0, 0, 5], 6881));
        let (node, announces) = stub_node(vec![ours, other, other]);
        let (peers_tx, mut peers_rx) = unbounded_channel::<PeersDiscovered>();
        let (status_tx, _status_rx) = unbounded_channel::<TrackerStatusChanged>();
        let link = DhtLink::for_torrent(Some(&node), false, Duration::from_millis(50));
        let announcer = Announcer::new(AnnouncerSetup {
            info_hash: HASH,
            peer_id: PeerId([0xaa; 20]),
            listen_port: OUR_PORT,
            own_ips: Vec::new(),
            // No trackers at all: the DHT alone.
            tiers: Vec::new(),
            progress: Progress::default(),
            config: AnnouncerConfig::default(),
            peers_out: Forward(peers_tx).start().recipient(),
            status_out: Forward(status_tx).start().recipient(),
            span: tracing::Span::none(),
        })
        .with_dht(link.expect("a public torrent gets the DHT"))
        .start();
        let found = tokio::time::timeout(Duration::from_secs(5), peers_rx.recv())
            .await
            .expect("peers in time")
            .expect("a PeersDiscovered");
        // Our own address and the duplicate are gone.
        assert_eq!(found.peers, [other]);
        assert_eq!(found.source, PeerSource::Dht);
        // And again at the interval.
        tokio::time::timeout(Duration::from_secs(5), async {
            while announces.load(Ordering::SeqCst) < 3 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("announced again at the interval");
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
