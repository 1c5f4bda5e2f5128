//! Magnet links (BEP 9) between in-process engine sessions: the metadata is fetched from a
//! bt seeder, metadata that does not hash to the info-hash is thrown away and its sender
//! struck, and an oversized `metadata_size` is refused. The fake peers here are played by
//! the test over raw sockets.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use bt_engine::{
    AddTorrentOptions, EngineConfig, Session, TorrentEvent, TorrentHandle, TorrentState,
    TorrentStats,
};
use bt_proto::ext::{ExtensionHandshake, MetadataMessage};
use bt_proto::magnet::MagnetLink;
use bt_proto::tracker::AnnounceEvent;
use bt_proto::wire::{Handshake, MessageDecoder, PeerMessage, Reserved};
use bt_proto::{InfoHash, PeerId};
use bt_test_harness::{PayloadSpec, Swarm, TrackerMode, assert_same_tree, wait_for_stats};
use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast::error::RecvError;

use crate::logs;

/// Every wait in this file is bounded by this.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Waits up to [`TIMEOUT`] until `pred` holds for the torrent's statistics.
async fn wait_stats(
    handle: &TorrentHandle,
    pred: impl Fn(&TorrentStats) -> bool,
) -> anyhow::Result<TorrentStats> {
    wait_for_stats(handle, TIMEOUT, pred).await
}

/// Waits for the first event matching `pred` on `events`.
async fn wait_event(
    events: &mut tokio::sync::broadcast::Receiver<TorrentEvent>,
    pred: impl Fn(&TorrentEvent) -> bool,
) -> anyhow::Result<TorrentEvent> {
    let wait = async {
        loop {
            match events.recv().await {
                Ok(event) if pred(&event) => return Ok(event),
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => bail!("the torrent stopped"),
            }
        }
    };
    tokio::time::timeout(TIMEOUT, wait).await?
}

/// Waits for `addr`'s connection to end, and says why.
async fn disconnect_reason(
    events: &mut tokio::sync::broadcast::Receiver<TorrentEvent>,
    addr: std::net::SocketAddr,
) -> anyhow::Result<String> {
    let event = wait_event(
        events,
        |e| matches!(e, TorrentEvent::PeerDisconnected { addr: a, .. } if *a == addr),
    )
    .await?;
    let TorrentEvent::PeerDisconnected { reason, .. } = event else {
        unreachable!("the predicate matched a disconnect")
    };
    Ok(reason)
}

/// A seeder swarm (no leechers) of a 14 MiB file in 16 KiB pieces, so that its metadata
/// (20 bytes a piece) spans two 16 KiB metadata pieces.
async fn seeded_swarm(config: EngineConfig) -> anyhow::Result<Swarm> {
    logs();
    let spec = PayloadSpec::single_file("magnet.bin", 14 << 20).with_piece_length(16 * 1024);
    Swarm::builder()
        .payload(spec, 41)
        .seeders(1)
        .leechers(0)
        .config(config)
        .build()
        .await
}

#[actix::test]
async fn a_magnet_link_downloads_from_a_bt_seeder_through_its_tracker() {
    let swarm = seeded_swarm(Swarm::test_config()).await.unwrap();
    let metainfo = &swarm.metainfo;
    assert!(
        metainfo.info_bytes.len() > 16 * 1024,
        "metadata of several pieces"
    );
    let magnet = MagnetLink {
        display_name: Some("from a magnet".to_owned()),
        trackers: vec![swarm.tracker.http_announce_url()],
        ..MagnetLink::new(metainfo.info_hash)
    };
    let session = Session::start(Swarm::test_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let handle = session
        .add_magnet(magnet, AddTorrentOptions::new(dir.path()))
        .await
        .unwrap();
    let mut events = handle.subscribe();
    let first = handle.stats().await.unwrap();
    assert_eq!(first.name, "from a magnet");
    assert!(
        !first.is_complete(),
        "no pieces are known yet: not complete"
    );

    let received = wait_event(&mut events, |e| {
        matches!(e, TorrentEvent::MetadataReceived { .. })
    })
    .await
    .unwrap();
    assert_eq!(
        received,
        TorrentEvent::MetadataReceived {
            name: metainfo.info.name.clone(),
            piece_length: metainfo.info.piece_length,
            private: false,
        }
    );
    let stats = wait_stats(&handle, TorrentStats::is_complete)
        .await
        .unwrap();
    assert_eq!(stats.name, metainfo.info.name);
    assert_eq!(stats.total_len, metainfo.info.total_length());
    assert_same_tree(&swarm.payload.root, &dir.path().join(&metainfo.info.name)).unwrap();
    assert_eq!(session.torrents().await, vec![metainfo.info_hash]);
    // The fetch joined the swarm as a leecher of unknown size; the switch to the supervisor
    // never told the tracker we left.
    let ours = session.peer_id();
    let announces: Vec<_> = swarm
        .tracker
        .announces()
        .into_iter()
        .filter(|a| a.peer_id == ours)
        .collect();
    assert_eq!(announces[0].event, AnnounceEvent::Started);
    assert!(announces[0].left > 0, "not announced as a seed");
    assert!(announces.iter().all(|a| a.event != AnnounceEvent::Stopped));
    session.shutdown().await;
    session.wait_stopped(TIMEOUT).await.unwrap();
    swarm.shutdown().await.unwrap();
}

#[actix::test]
async fn a_torrent_from_a_magnet_link_serves_its_metadata_to_the_next_magnet() {
    let swarm = seeded_swarm(Swarm::test_config()).await.unwrap();
    let hash = swarm.metainfo.info_hash;
    let seeder = swarm.members[0].session.local_addr();
    let first = Session::start(Swarm::test_config()).await.unwrap();
    let first_dir = tempfile::tempdir().unwrap();
    let magnet = MagnetLink {
        peers: vec![seeder.to_string()],
        ..MagnetLink::new(hash)
    };
    let handle = first
        .add_magnet(magnet, AddTorrentOptions::new(first_dir.path()))
        .await
        .unwrap();
    wait_stats(&handle, TorrentStats::is_complete)
        .await
        .unwrap();
    // The second knows only the first, which has the metadata only from the seeder.
    swarm.members[0].session.shutdown().await;
    let second = Session::start(Swarm::test_config()).await.unwrap();
    let second_dir = tempfile::tempdir().unwrap();
    let magnet = MagnetLink {
        peers: vec![first.local_addr().to_string()],
        ..MagnetLink::new(hash)
    };
    let handle = second
        .add_magnet(magnet, AddTorrentOptions::new(second_dir.path()))
        .await
        .unwrap();
    wait_stats(&handle, TorrentStats::is_complete)
        .await
        .unwrap();
    let name = &swarm.metainfo.info.name;
    assert_same_tree(&swarm.payload.root, &second_dir.path().join(name)).unwrap();
    for session in [first, second] {
        session.shutdown().await;
        session.wait_stopped(TIMEOUT).await.unwrap();
    }
    swarm.shutdown().await.unwrap();
}

/// A peer played by the test: it answers handshakes for one torrent, announces
/// `metadata_size` in its extension handshake, and answers every metadata request with
/// `bytes`' piece (whatever they are). It records who connected (by peer id) and the
/// extension handshakes they sent, and counts metadata requests.
struct FakePeer {
    addr: SocketAddr,
    connections: Arc<std::sync::Mutex<Vec<PeerId>>>,
    requests: Arc<AtomicUsize>,
    offers: Arc<std::sync::Mutex<Vec<ExtensionHandshake>>>,
}

/// What a [`FakePeer`]'s connections record.
#[derive(Clone)]
struct Records {
    who: Arc<std::sync::Mutex<Vec<PeerId>>>,
    asked: Arc<AtomicUsize>,
    offers: Arc<std::sync::Mutex<Vec<ExtensionHandshake>>>,
}

impl FakePeer {
    async fn start(info_hash: InfoHash, metadata_size: u64, bytes: Vec<u8>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let records = Records {
            who: Arc::new(std::sync::Mutex::new(Vec::new())),
            asked: Arc::new(AtomicUsize::new(0)),
            offers: Arc::new(std::sync::Mutex::new(Vec::new())),
        };
        let fake = Self {
            addr,
            connections: Arc::clone(&records.who),
            requests: Arc::clone(&records.asked),
            offers: Arc::clone(&records.offers),
        };
        let bytes = Bytes::from(bytes);
        actix_rt::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (records, bytes) = (records.clone(), bytes.clone());
                actix_rt::spawn(async move {
                    let _ = serve(stream, info_hash, metadata_size, bytes, records).await;
                });
            }
        });
        fake
    }

    /// How many times `peer` connected.
    fn connections_from(&self, peer: PeerId) -> usize {
        let who = self.connections.lock().expect("not poisoned");
        who.iter().filter(|id| **id == peer).count()
    }
}

/// One connection of a [`FakePeer`].
async fn serve(
    mut stream: TcpStream,
    info_hash: InfoHash,
    metadata_size: u64,
    bytes: Bytes,
    records: Records,
) -> anyhow::Result<()> {
    let mut theirs = [0u8; Handshake::LEN];
    stream.read_exact(&mut theirs).await?;
    let theirs = Handshake::decode(&theirs)?.context("a whole handshake")?;
    records
        .who
        .lock()
        .expect("not poisoned")
        .push(theirs.peer_id);
    let mut reserved = Reserved::NONE;
    reserved.set_extension_protocol(true);
    let ours = Handshake::new(reserved, info_hash, PeerId([0xfa; 20]));
    stream.write_all(&ours.to_bytes()).await?;
    let handshake = ExtensionHandshake {
        extensions: [("ut_metadata".to_owned(), 3)].into(),
        metadata_size: Some(metadata_size),
        ..ExtensionHandshake::default()
    };
    let mut out = BytesMut::new();
    PeerMessage::Extended {
        id: 0,
        payload: Bytes::from(handshake.encode()),
    }
    .encode(&mut out);
    stream.write_all(&out).await?;
    let mut decoder = MessageDecoder::default();
    let mut buf = BytesMut::new();
    loop {
        while let Some(message) = decoder.decode(&mut buf)? {
            if let PeerMessage::Extended { id: 0, payload } = &message {
                let offer = ExtensionHandshake::decode(payload)?;
                records.offers.lock().expect("not poisoned").push(offer);
            }
            let PeerMessage::Extended { id: 3, payload } = message else {
                continue;
            };
            let MetadataMessage::Request { piece } = MetadataMessage::decode(&payload)? else {
                continue;
            };
            records.asked.fetch_add(1, Ordering::SeqCst);
            let start = (piece as usize * 16_384).min(bytes.len());
            let end = (start + 16_384).min(bytes.len());
            let data = MetadataMessage::Data {
                piece,
                total_size: metadata_size,
                data: bytes.slice(start..end),
            };
            let their_id = 2; // the engine's ut_metadata id (libtorrent's too)
            let mut out = BytesMut::new();
            PeerMessage::Extended {
                id: their_id,
                payload: Bytes::from(data.encode()),
            }
            .encode(&mut out);
            stream.write_all(&out).await?;
        }
        if stream.read_buf(&mut buf).await? == 0 {
            return Ok(());
        }
    }
}

#[actix::test]
async fn metadata_that_fails_the_info_hash_is_thrown_away_and_its_sender_struck() {
    let swarm = seeded_swarm(Swarm::test_config()).await.unwrap();
    let metainfo = swarm.metainfo.clone();
    let size = metainfo.info_bytes.len();
    // The right size, the wrong bytes (one flipped), so every piece has the right length.
    let mut lie = metainfo.info_bytes.clone();
    lie[size / 2] ^= 0xff;
    let fake = FakePeer::start(metainfo.info_hash, size as u64, lie).await;
    swarm
        .tracker
        .set_mode(TrackerMode::FixedPeers(vec![fake.addr]))
        .unwrap();
    let magnet = MagnetLink {
        trackers: vec![swarm.tracker.http_announce_url()],
        ..MagnetLink::new(metainfo.info_hash)
    };
    let session = Session::start(Swarm::test_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let handle = session
        .add_magnet(magnet, AddTorrentOptions::new(dir.path()))
        .await
        .unwrap();
    let mut events = handle.subscribe();
    let reason = disconnect_reason(&mut events, fake.addr).await.unwrap();
    assert!(reason.contains("info-hash"), "{reason}");
    assert!(fake.requests.load(Ordering::SeqCst) > 0, "it was asked");
    assert_eq!(
        handle.stats().await.unwrap().state,
        TorrentState::FetchingMetadata
    );

    // Now the tracker names the honest seeder too (and still the liar).
    let seeder = swarm.members[0].session.local_addr();
    swarm
        .tracker
        .set_mode(TrackerMode::FixedPeers(vec![fake.addr, seeder]))
        .unwrap();
    wait_stats(&handle, TorrentStats::is_complete)
        .await
        .unwrap();
    assert_same_tree(&swarm.payload.root, &dir.path().join(&metainfo.info.name)).unwrap();
    // Never dialled again, neither for the metadata nor for the pieces.
    assert_eq!(fake.connections_from(session.peer_id()), 1);
    session.shutdown().await;
    session.wait_stopped(TIMEOUT).await.unwrap();
    swarm.shutdown().await.unwrap();
}

#[actix::test]
async fn an_oversized_metadata_size_is_refused_before_anything_is_asked() {
    logs();
    let hash = InfoHash([0x5a; 20]);
    let huge = 100 << 20; // 100 MiB, over the 30 MiB limit
    let fake = FakePeer::start(hash, huge, vec![0; 16_384]).await;
    let magnet = MagnetLink {
        peers: vec![fake.addr.to_string()],
        ..MagnetLink::new(hash)
    };
    let session = Session::start(Swarm::test_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let handle = session
        .add_magnet(magnet, AddTorrentOptions::new(dir.path()))
        .await
        .unwrap();
    let mut events = handle.subscribe();
    let reason = disconnect_reason(&mut events, fake.addr).await.unwrap();
    assert!(reason.contains("over the limit"), "{reason}");
    // Several redial intervals: still refused, nothing asked, still fetching.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(fake.requests.load(Ordering::SeqCst), 0);
    let redials = fake.connections_from(session.peer_id());
    assert_eq!(redials, 1, "struck, not redialled");
    let stats = handle.stats().await.context("stats").unwrap();
    assert_eq!(stats.state, TorrentState::FetchingMetadata);
    // The fetch speaks ut_metadata and, the torrent being possibly private, no PEX (BEP 27).
    let offers = fake.offers.lock().expect("not poisoned").clone();
    assert!(!offers.is_empty(), "an extension handshake");
    for offer in offers {
        assert!(offer.id_of("ut_metadata").is_some(), "{offer:?}");
        assert_eq!(offer.id_of("ut_pex"), None, "{offer:?}");
    }
    session.shutdown().await;
    session.wait_stopped(TIMEOUT).await.unwrap();
}

#[actix::test]
async fn a_paused_magnet_link_fetches_nothing_until_resumed() {
    let swarm = seeded_swarm(Swarm::test_config()).await.unwrap();
    let hash = swarm.metainfo.info_hash;
    let magnet = MagnetLink {
        trackers: vec![swarm.tracker.http_announce_url()],
        ..MagnetLink::new(hash)
    };
    let session = Session::start(Swarm::test_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = AddTorrentOptions {
        paused: true,
        ..AddTorrentOptions::new(dir.path())
    };
    let handle = session.add_magnet(magnet, options).await.unwrap();
    // Several announce intervals: nothing announced, nobody dialled.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let stats = handle.stats().await.unwrap();
    assert_eq!(stats.state, TorrentState::Paused);
    assert!(stats.peers.is_empty());
    let ours = session.peer_id();
    assert!(swarm.tracker.announces().iter().all(|a| a.peer_id != ours));

    handle.resume().await.unwrap();
    let stats = wait_stats(&handle, TorrentStats::is_complete)
        .await
        .unwrap();
    assert_eq!(
        stats.state,
        TorrentState::Seeding,
        "not paused after the switch"
    );
    session.shutdown().await;
    session.wait_stopped(TIMEOUT).await.unwrap();
    swarm.shutdown().await.unwrap();
}

/// `x.pe=localhost:PORT`: the host name is resolved and the link downloads from the seeder
/// there, with no tracker and no DHT; a name that does not resolve beside it is only a
/// warning.
#[actix::test]
async fn an_x_pe_host_name_is_resolved_and_dialled() {
    logs();
    let spec = PayloadSpec::single_file("by-name.bin", 300_000);
    let swarm = Swarm::builder()
        .payload(spec, 43)
        .seeders(1)
        .leechers(0)
        .build()
        .await
        .unwrap();
    let port = swarm.members[0].session.local_addr().port();
    let magnet = MagnetLink {
        // `.invalid` never resolves (RFC 2606).
        peers: vec![
            "no-such-peer.invalid:6881".to_owned(),
            format!("localhost:{port}"),
        ],
        ..MagnetLink::new(swarm.metainfo.info_hash)
    };
    let session = Session::start(Swarm::test_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let handle = session
        .add_magnet(magnet, AddTorrentOptions::new(dir.path()))
        .await
        .unwrap();
    let stats = wait_stats(&handle, TorrentStats::is_complete)
        .await
        .unwrap();
    assert_eq!(stats.name, "by-name.bin");
    assert_same_tree(&swarm.payload.root, &dir.path().join("by-name.bin")).unwrap();
    session.shutdown().await;
    session.wait_stopped(TIMEOUT).await.unwrap();
    swarm.shutdown().await.unwrap();
}
