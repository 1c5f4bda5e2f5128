//! BEP 11's `added.f` flags, seen from a hand-written peer: the engine flags a peer it knows to
//! be a seed with 0x02 and one it dialled with 0x10 (and nothing else: no encryption, uTP or
//! hole punching), and a complete engine does not dial the peers a PEX message flags as seeds.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use bt_proto::InfoHash;
use bt_proto::PeerId;
use bt_proto::ext::{ExtensionHandshake, PexFlags, PexMessage, PexPeer};
use bt_proto::wire::{Handshake, MessageDecoder, PeerMessage, Reserved};
use bt_test_harness::{PayloadSpec, Swarm, TrackerMode};
use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::extensions::pex_config;
use crate::logs;

/// Every wait in this file is bounded by this.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The id our probe receives `ut_pex` messages under.
const PROBE_PEX_ID: u8 = 1;

/// A peer written by hand: it speaks BEP 10 and offers `ut_pex`, has no pieces, and sends or
/// reads PEX messages.
struct PexProbe {
    stream: TcpStream,
    decoder: MessageDecoder,
    buf: BytesMut,
    /// The id the engine receives `ut_pex` under, once its extension handshake came.
    their_pex_id: Option<u8>,
}

impl PexProbe {
    /// Dials `addr`, exchanges handshakes for `info_hash` (the extension bit only) and sends
    /// our extension handshake.
    async fn connect(addr: SocketAddr, info_hash: InfoHash) -> anyhow::Result<Self> {
        let mut stream = TcpStream::connect(addr).await?;
        let mut reserved = Reserved::NONE;
        reserved.set_extension_protocol(true);
        let ours = Handshake::new(reserved, info_hash, PeerId([0x9e; 20]));
        stream.write_all(&ours.to_bytes()).await?;
        let mut theirs = [0u8; Handshake::LEN];
        stream.read_exact(&mut theirs).await?;
        let theirs = Handshake::decode(&theirs)?.context("a whole handshake")?;
        anyhow::ensure!(
            theirs.reserved.extension_protocol(),
            "the engine offers BEP 10"
        );
        let handshake = ExtensionHandshake {
            extensions: [("ut_pex".to_owned(), PROBE_PEX_ID)].into(),
            ..ExtensionHandshake::default()
        };
        let mut probe = Self {
            stream,
            decoder: MessageDecoder::default(),
            buf: BytesMut::new(),
            their_pex_id: None,
        };
        probe
            .send(PeerMessage::Extended {
                id: 0,
                payload: Bytes::from(handshake.encode()),
            })
            .await?;
        Ok(probe)
    }

    async fn send(&mut self, message: PeerMessage) -> anyhow::Result<()> {
        let mut out = BytesMut::new();
        message.encode(&mut out);
        self.stream.write_all(&out).await?;
        Ok(())
    }

    /// The engine's next message, noting its extension handshake on the way.
    async fn recv(&mut self) -> anyhow::Result<PeerMessage> {
        loop {
            if let Some(message) = self.decoder.decode(&mut self.buf)? {
                if let PeerMessage::Extended { id: 0, payload } = &message {
                    let handshake = ExtensionHandshake::decode(payload)?;
                    self.their_pex_id = self.their_pex_id.or(handshake.id_of("ut_pex"));
                }
                return Ok(message);
            }
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                bail!("the engine closed the connection");
            }
        }
    }

    /// The engine's next PEX message.
    async fn recv_pex(&mut self) -> anyhow::Result<PexMessage> {
        loop {
            if let PeerMessage::Extended {
                id: PROBE_PEX_ID,
                payload,
            } = self.recv().await?
            {
                return Ok(PexMessage::decode(&payload)?);
            }
        }
    }

    /// Sends a PEX message, once the engine's extension handshake said it speaks `ut_pex`.
    async fn send_pex(&mut self, message: &PexMessage) -> anyhow::Result<()> {
        while self.their_pex_id.is_none() {
            self.recv().await?;
        }
        let id = self.their_pex_id.context("the engine's ut_pex id")?;
        let payload = Bytes::from(message.encode());
        self.send(PeerMessage::Extended { id, payload }).await
    }
}

/// Seeder A, and leecher B (downloading slowly, so it is still a leecher when asked) that
/// dialled A; a probe connected to B hears of A with flags 0x12: a seed, reachable.
#[actix::test]
async fn pex_flags_a_seed_we_dialled_as_seed_and_reachable() -> anyhow::Result<()> {
    logs();
    let spec = PayloadSpec::single_file("pex-flags.bin", 3 << 20).with_piece_length(64 * 1024);
    let mut swarm = Swarm::builder()
        .payload(spec, 12)
        .seeders(1)
        .leechers(0)
        .config(pex_config(true))
        .seeder_config(pex_config(false))
        .build()
        .await?;
    let a = swarm.members[0].session.local_addr();
    // The tracker names A alone, so B dials A and A (hearing only of itself) dials nobody.
    swarm.tracker.set_mode(TrackerMode::FixedPeers(vec![a]))?;
    let mut slow = pex_config(true);
    slow.download_limit = 256 * 1024;
    let b_index = swarm.add_leecher_with(slow).await?;
    let b = &swarm.members[b_index];
    // B counted bytes from A: the connection's statistics, which say A is a seed, arrived.
    let stats = b
        .wait_until(TIMEOUT, |s| s.downloaded > 0 && s.peers.len() == 1)
        .await
        .context("B downloads from A")?;
    anyhow::ensure!(
        stats.peers[0].outgoing && stats.peers[0].addr == a,
        "B dialled A: {:?}",
        stats.peers
    );

    let mut probe = PexProbe::connect(b.session.local_addr(), swarm.payload.info_hash()).await?;
    let pex = tokio::time::timeout(TIMEOUT, probe.recv_pex())
        .await
        .context("a PEX message from B")??;
    let entry = pex
        .added
        .iter()
        .find(|peer| peer.addr == a)
        .with_context(|| format!("A in B's PEX: {pex:?}"))?;
    assert_eq!(
        entry.flags,
        PexFlags(PexFlags::SEED | PexFlags::REACHABLE),
        "{pex:?}"
    );
    anyhow::ensure!(!stats.is_complete(), "B was a leecher all along");
    swarm.shutdown().await
}

/// Counts the connections a listener accepts; each is closed at once.
async fn counting_listener() -> anyhow::Result<(SocketAddr, Arc<AtomicUsize>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    actix_rt::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    Ok((addr, accepted))
}

/// A complete engine hears, by PEX, of a seed (flag 0x02) and of a peer without flags: it
/// dials the second and never the first.
#[actix::test]
async fn pex_flags_a_complete_node_does_not_dial_pex_seeds() -> anyhow::Result<()> {
    logs();
    let spec = PayloadSpec::single_file("pex-seed.bin", 200_000);
    let swarm = Swarm::builder()
        .payload(spec, 13)
        .seeders(1)
        .leechers(0)
        .config(pex_config(true))
        .build()
        .await?;
    let seeder = &swarm.members[0];
    seeder.wait_complete(TIMEOUT).await?;
    let (seed, seed_dials) = counting_listener().await?;
    let (plain, plain_dials) = counting_listener().await?;

    let mut probe =
        PexProbe::connect(seeder.session.local_addr(), swarm.payload.info_hash()).await?;
    let message = PexMessage {
        added: vec![
            PexPeer {
                addr: seed,
                flags: PexFlags(PexFlags::SEED),
            },
            PexPeer {
                addr: plain,
                flags: PexFlags::default(),
            },
        ],
        dropped: Vec::new(),
    };
    probe.send_pex(&message).await?;
    // The PEX message was used: the unflagged peer is dialled...
    tokio::time::timeout(TIMEOUT, async {
        while plain_dials.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .context("the complete node dials the peer without flags")?;
    // ...and, over several more redial intervals, the seed never is.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        seed_dials.load(Ordering::SeqCst),
        0,
        "a PEX seed was dialled"
    );
    drop(probe);
    swarm.shutdown().await
}
