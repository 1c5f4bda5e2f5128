//! The supervisor's side of the protocol extensions: what each connection's extension
//! handshake told us (listen port, client name), BEP 11 peer exchange (the connected peers
//! sent to a connection as soon as its extension handshake arrives, then to every connection
//! once per PEX interval, flagged as seeds (0x02) where their connection says they have every
//! piece and as reachable (0x10) where we dialled them; received peers learned within a cap,
//! those flagged as seeds never dialled while we seed), and BEP 27: a private torrent takes
//! peers from its trackers only (none from the DHT, PEX or a magnet link's fetch) and
//! exchanges none.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use actix::{AsyncContext, Context, Handler};
use bt_proto::ext::{PexFlags, PexPeer};
use bytes::Bytes;

use super::msg::{BanPeers, ExtensionHandshakeReceived, PeerSource, PeersDiscovered};
use super::{Known, TorrentSupervisor};
use crate::actors::peer::PeerExtensionSetup;
use crate::actors::peer::msg::UpdatePex;
use crate::choker::PeerKey;
use crate::peer::ExtensionConfig;

/// The torrent's metadata as connections serve it, and what the connections' extension
/// handshakes told the supervisor.
#[derive(Debug)]
pub(super) struct ExtensionBook {
    /// The info dictionary (BEP 9 metadata), shared by every connection without a copy.
    metadata: Bytes,
    /// Each connection's listen port (`p`), where it said.
    listen_ports: HashMap<PeerKey, u16>,
    /// Each connection's client name (`v`), where it said.
    clients: HashMap<PeerKey, String>,
    /// The connections whose peer has every piece, as their last statistics said.
    seeds: HashSet<PeerKey>,
}

impl ExtensionBook {
    /// A book for a torrent with this info dictionary.
    pub(super) fn new(info_bytes: &[u8]) -> Self {
        Self {
            metadata: Bytes::copy_from_slice(info_bytes),
            listen_ports: HashMap::new(),
            clients: HashMap::new(),
            seeds: HashSet::new(),
        }
    }

    /// Records whether a connection's peer has every piece.
    pub(super) fn set_seed(&mut self, key: PeerKey, seed: bool) {
        if seed {
            self.seeds.insert(key);
        } else {
            self.seeds.remove(&key);
        }
    }

    /// Forgets an ended connection.
    pub(super) fn forget(&mut self, key: PeerKey) {
        self.listen_ports.remove(&key);
        self.clients.remove(&key);
        self.seeds.remove(&key);
    }

    /// The connection's client name, if its extension handshake said.
    pub(super) fn client(&self, key: PeerKey) -> Option<String> {
        self.clients.get(&key).cloned()
    }
}

impl TorrentSupervisor {
    /// Whether this torrent exchanges peers: PEX enabled and the torrent not private
    /// (BEP 27).
    fn pex_enabled(&self) -> bool {
        self.config.extensions.pex && !self.metainfo.info.private
    }

    /// What a new connection needs for the extensions.
    pub(super) fn extension_setup(&self) -> PeerExtensionSetup {
        let settings = &self.config.extensions;
        PeerExtensionSetup {
            config: ExtensionConfig {
                client: settings.client(),
                listen_port: Some(self.listen_port).filter(|&p| p != 0),
                request_queue: u32::try_from(self.config.peer.max_peer_requests)
                    .unwrap_or(u32::MAX),
                metadata: Some(self.ext.metadata.clone()),
                pex: self.pex_enabled(),
                pex_interval: settings.pex_interval(),
            },
            info_hash: self.info_hash,
            allowed_fast_count: settings.allowed_fast_count,
        }
    }

    /// Starts the PEX timer (not for a private torrent).
    pub(super) fn start_extension_timers(&mut self, ctx: &mut Context<Self>) {
        if self.pex_enabled() {
            let interval = self.config.extensions.pex_interval();
            ctx.run_interval(interval, |act, _| act.send_pex());
        }
    }

    /// Sends every connection the torrent's connected peers (see [`Self::pex_peers`]).
    fn send_pex(&mut self) {
        if !self.is_active() || self.peers.len() < 2 {
            return;
        }
        let peers = self.pex_peers();
        for entry in self.peers.values() {
            entry.handle.pex.do_send(UpdatePex {
                peers: Arc::clone(&peers),
            });
        }
    }

    /// The torrent's connected peers, each where it accepts connections: the address we
    /// dialled (flagged reachable), or for a peer that dialled us, its address with the port
    /// from its extension handshake (left out without one); flagged as seeds where they have
    /// every piece.
    fn pex_peers(&self) -> Arc<[PexPeer]> {
        let peers: Vec<PexPeer> = self
            .peers
            .iter()
            .filter_map(|(key, entry)| {
                let flags = PexFlags::for_peer(self.ext.seeds.contains(key), entry.outgoing);
                let addr = if entry.outgoing {
                    entry.handle.addr
                } else {
                    let port = *self.ext.listen_ports.get(key)?;
                    SocketAddr::new(entry.handle.addr.ip(), port)
                };
                Some(PexPeer { addr, flags })
            })
            .collect();
        peers.into()
    }

    /// Whether to learn a batch of discovered peers: a private torrent only takes its
    /// trackers' (BEP 27), not the DHT's, PEX's, nor those a magnet link's fetch knew; PEX
    /// adds nothing once the torrent knows `max_pex_known_peers` addresses. PEX addresses
    /// that are our own listening address on loopback are dropped (the handshake would
    /// refuse them anyway).
    pub(super) fn filter_discovered(&self, msg: &mut PeersDiscovered) -> bool {
        if self.metainfo.info.private && !private_may_use(&msg.source) {
            return false;
        }
        match msg.source {
            PeerSource::Tracker(_) | PeerSource::Magnet | PeerSource::Dht => true,
            PeerSource::Pex => {
                if !self.pex_enabled()
                    || self.known.len() >= self.config.extensions.max_pex_known_peers
                {
                    return false;
                }
                let own_port = self.listen_port;
                msg.peers
                    .retain(|addr| !(addr.port() == own_port && addr.ip().is_loopback()));
                let room = self.config.extensions.max_pex_known_peers - self.known.len();
                msg.peers.truncate(room);
                let kept: HashSet<SocketAddr> = msg.peers.iter().copied().collect();
                msg.seeds.retain(|addr| kept.contains(addr));
                !msg.peers.is_empty()
            }
        }
    }

    /// Marks the addresses a peer's PEX flagged as seeds (BEP 11, 0x02), before they are
    /// learned: like a seed we met ourselves, such an address is not dialled while we seed.
    pub(super) fn note_pex_seeds(&mut self, seeds: &[SocketAddr]) {
        let now = Instant::now();
        for &addr in seeds {
            self.known
                .entry(addr)
                .or_insert(Known {
                    failures: 0,
                    retry_at: now,
                    peer_id: None,
                    seed: true,
                })
                .seed = true;
        }
    }
}

/// Whether a private torrent takes peers from `source`: from its trackers only (BEP 27),
/// never from the DHT, peer exchange, or the fetch of a magnet link (which may have used the
/// DHT before the private flag was known).
fn private_may_use(source: &PeerSource) -> bool {
    match source {
        PeerSource::Tracker(_) => true,
        PeerSource::Dht | PeerSource::Pex | PeerSource::Magnet => false,
    }
}

impl Handler<ExtensionHandshakeReceived> for TorrentSupervisor {
    type Result = ();

    fn handle(&mut self, msg: ExtensionHandshakeReceived, _: &mut Context<Self>) {
        if !self.peers.contains_key(&msg.key) {
            return;
        }
        if let Some(port) = msg.listen_port {
            self.ext.listen_ports.insert(msg.key, port);
        }
        if let Some(client) = msg.client {
            self.ext.clients.insert(msg.key, client);
        }
        // A new peer hears of the swarm at once, not a PEX interval later (its connection
        // keeps the once-per-interval rule from then on).
        if self.pex_enabled() && self.is_active() && self.peers.len() > 1 {
            if let Some(entry) = self.peers.get(&msg.key) {
                entry.handle.pex.do_send(UpdatePex {
                    peers: self.pex_peers(),
                });
            }
        }
    }
}

impl Handler<BanPeers> for TorrentSupervisor {
    type Result = ();

    fn handle(&mut self, msg: BanPeers, _: &mut Context<Self>) {
        for addr in msg.addrs {
            self.known.remove(&addr);
            self.banned_addrs.insert(addr);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_torrent_takes_its_trackers_peers_only() {
        assert!(private_may_use(&PeerSource::Tracker(
            "http://t/a".to_owned()
        )));
        for source in [PeerSource::Dht, PeerSource::Pex, PeerSource::Magnet] {
            assert!(!private_may_use(&source), "{source:?}");
        }
    }
}
