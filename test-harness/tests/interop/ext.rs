//! Interop of the protocol extensions with python3-libtorrent (`scripts/lt_ext.py`): the
//! fast extension (BEP 6) and the extension handshake (BEP 10) against a libtorrent seeder,
//! and magnet links (BEP 9) both ways.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use anyhow::{Context, anyhow, bail};
use bt_engine::{AddTorrentOptions, Session, TorrentHandle, TorrentStats};
use bt_proto::ext::ExtensionHandshake;
use bt_proto::magnet::MagnetLink;
use bt_proto::wire::{Handshake, MessageDecoder, PeerMessage, Reserved};
use bt_proto::{InfoHash, PeerId};
use bt_test_harness::reference::{PYTHON, require_libtorrent};
use bt_test_harness::{MockTracker, Payload, PayloadSpec, Swarm, assert_same_tree, wait_for_stats};
use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use super::{TIMEOUT, logs};

/// Waits up to [`TIMEOUT`] until `pred` holds for the torrent's statistics.
async fn wait_stats(
    handle: &TorrentHandle,
    pred: impl Fn(&TorrentStats) -> bool,
) -> anyhow::Result<TorrentStats> {
    wait_for_stats(handle, TIMEOUT, pred).await
}

/// The value of `key=` in one of the script's lines.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
}

/// `scripts/lt_ext.py`, running; killed when dropped.
pub struct LtExt {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: UnboundedReceiver<String>,
}

impl LtExt {
    /// Runs the script with `args` (the mode first; the time limit is appended).
    pub fn start(args: &[&std::ffi::OsStr]) -> anyhow::Result<Self> {
        require_libtorrent(Path::new(PYTHON))?;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/lt_ext.py");
        let mut child = Command::new(PYTHON)
            .arg(script)
            .args(args)
            .arg(TIMEOUT.as_secs().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting lt_ext.py")?;
        let stdout = child.stdout.take().context("the script's stdout")?;
        let (tx, lines) = unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        Ok(Self {
            child,
            stdin,
            lines,
        })
    }

    /// The script's next line starting with `prefix`; fails on `error`, `timeout` or exit.
    pub async fn expect(&mut self, prefix: &str) -> anyhow::Result<String> {
        let wait = async {
            while let Some(line) = self.lines.recv().await {
                if line.starts_with(prefix) {
                    return Ok(line);
                }
                if line.starts_with("error") || line.starts_with("timeout") {
                    bail!("libtorrent: {line}");
                }
            }
            bail!("libtorrent exited before printing {prefix:?}")
        };
        tokio::time::timeout(TIMEOUT, wait)
            .await
            .map_err(|_| anyhow!("libtorrent printed no {prefix:?} line in time"))?
    }

    /// Closes stdin (a seeder stops) and returns the `stopped` line.
    pub async fn stop(&mut self) -> anyhow::Result<String> {
        self.stdin.take();
        self.expect("stopped").await
    }
}

impl Drop for LtExt {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How fast a libtorrent seeder of [`lt_seeder`] may upload to loopback peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upload {
    /// As fast as it can: every download that is not looking at the connection itself.
    Unlimited,
    /// At most this many bytes per second, so that a connection lasts long enough for the
    /// script to see it (it samples the peers every 20 ms).
    Limited(u32),
}

/// A libtorrent seeder of `payload`, announcing to `tracker` and uploading at `upload`;
/// returns it and its address. Fails unless libtorrent holds the upload limit asked for.
pub async fn lt_seeder(
    payload: &Payload,
    tracker: &MockTracker,
    upload: Upload,
) -> anyhow::Result<(LtExt, SocketAddr)> {
    let torrent: PathBuf = payload.write_torrent_file()?;
    let url = tracker.http_announce_url();
    let limit = match upload {
        Upload::Unlimited => 0,
        Upload::Limited(bytes_per_s) => bytes_per_s,
    };
    let mut lt = LtExt::start(&[
        "seed".as_ref(),
        torrent.as_os_str(),
        payload.data_dir().as_os_str(),
        url.as_ref(),
        limit.to_string().as_ref(),
    ])?;
    let line = lt.expect("seeding").await?;
    let port: u16 = field(&line, "listen_port").context("a port")?.parse()?;
    let held: u32 = field(&line, "upload_limit")
        .context("an upload limit")?
        .parse()?;
    anyhow::ensure!(
        held == limit,
        "libtorrent uploads at {held} B/s, not {limit}"
    );
    let hash = payload.info_hash();
    tracker
        .wait_for_announce_async(|a| a.info_hash == hash && a.left == 0, TIMEOUT)
        .await?;
    Ok((lt, SocketAddr::from(([127, 0, 0, 1], port))))
}

/// Connects to `addr` as a client offering BEP 6 and BEP 10 and returns, in order, the
/// messages it sends before the first that is neither a keep-alive nor an extended message,
/// that one included, and its extension handshake.
async fn first_messages(
    addr: SocketAddr,
    info_hash: InfoHash,
) -> anyhow::Result<(PeerMessage, ExtensionHandshake)> {
    let mut reserved = Reserved::NONE;
    reserved.set_fast(true);
    reserved.set_extension_protocol(true);
    let ours = Handshake::new(reserved, info_hash, PeerId([7; 20]));
    let probe = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(&ours.to_bytes()).await?;
        let mut theirs = [0u8; Handshake::LEN];
        stream.read_exact(&mut theirs).await?;
        let theirs = Handshake::decode(&theirs)?.context("a whole handshake")?;
        anyhow::ensure!(
            theirs.reserved.fast(),
            "libtorrent offers the fast extension"
        );
        anyhow::ensure!(theirs.reserved.extension_protocol(), "and BEP 10");
        let mut decoder = MessageDecoder::default();
        let mut buf = BytesMut::new();
        let (mut first, mut extension) = (None, None);
        loop {
            while let Some(message) = decoder.decode(&mut buf)? {
                match message {
                    PeerMessage::Extended { id: 0, payload } => {
                        extension = Some(ExtensionHandshake::decode(&payload)?);
                    }
                    PeerMessage::KeepAlive | PeerMessage::Extended { .. } => {}
                    other if first.is_none() => first = Some(other),
                    _ => {}
                }
            }
            if first.is_some() && extension.is_some() {
                break;
            }
            if stream.read_buf(&mut buf).await? == 0 {
                bail!("libtorrent closed the connection; so far {first:?} {extension:?}");
            }
        }
        Ok::<_, anyhow::Error>((first, extension))
    };
    let (first, extension) = tokio::time::timeout(TIMEOUT, probe).await??;
    Ok((
        first.context("a first message")?,
        extension.context("an extension handshake")?,
    ))
}

#[actix::test]
async fn fast_extension_a_libtorrent_seeder_sends_have_all_and_bt_downloads_from_it() {
    logs();
    let tracker = MockTracker::start().unwrap();
    let spec = PayloadSpec::single_file("fast.bin", 2_000_000)
        .with_trackers([tracker.http_announce_url()]);
    let payload = Payload::generate(&spec, 31).unwrap();
    // Limited: 2 MB at 1 MB/s keep bt connected for the script to read its client name.
    let (mut lt, lt_addr) = lt_seeder(&payload, &tracker, Upload::Limited(1_000_000))
        .await
        .unwrap();

    // What our engine's handshake (BEP 6 and BEP 10 bits) gets from a libtorrent seed.
    let (first, handshake) = first_messages(lt_addr, payload.info_hash()).await.unwrap();
    assert_eq!(
        first,
        PeerMessage::HaveAll,
        "a seed says HAVE ALL, not BITFIELD"
    );
    assert!(handshake.id_of("ut_metadata").is_some(), "{handshake:?}");
    assert!(
        handshake
            .client
            .as_deref()
            .is_some_and(|v| v.starts_with("libtorrent"))
    );

    // The engine understands it: bt downloads everything from the HAVE ALL seed.
    let session = Session::start(Swarm::test_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let handle = session
        .add_torrent(payload.torrent.clone(), AddTorrentOptions::new(dir.path()))
        .await
        .unwrap();
    let stats = wait_stats(&handle, |s| s.pieces_have == s.pieces_total)
        .await
        .unwrap();
    assert_eq!(stats.left, 0);
    assert_same_tree(&payload.root, &dir.path().join("fast.bin")).unwrap();
    session.shutdown().await;
    session.wait_stopped(TIMEOUT).await.unwrap();
    // libtorrent read our extension handshake: it knows our client name.
    let stopped = lt.stop().await.unwrap();
    let clients = field(&stopped, "clients").unwrap_or_default();
    assert!(clients.contains("bt_0.1.0"), "{stopped}");
}

#[actix::test]
async fn magnet_bt_fetches_the_metadata_and_the_files_from_a_libtorrent_seeder() {
    logs();
    let tracker = MockTracker::start().unwrap();
    // 16 KiB pieces: the metadata spans two 16 KiB metadata pieces.
    let spec = PayloadSpec::single_file("lt-magnet.bin", 14 << 20)
        .with_piece_length(16 * 1024)
        .with_trackers([tracker.http_announce_url()]);
    let payload = Payload::generate(&spec, 32).unwrap();
    assert!(payload.torrent.info_bytes.len() > 16 * 1024);
    // Unlimited: at the 1 MB/s the test above needs, these 14 MiB took 15 s.
    let (mut lt, _) = lt_seeder(&payload, &tracker, Upload::Unlimited)
        .await
        .unwrap();

    let magnet = MagnetLink {
        trackers: vec![tracker.http_announce_url()],
        ..MagnetLink::new(payload.info_hash())
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
    assert_eq!(stats.name, "lt-magnet.bin");
    assert_same_tree(&payload.root, &dir.path().join("lt-magnet.bin")).unwrap();
    session.shutdown().await;
    session.wait_stopped(TIMEOUT).await.unwrap();
    lt.stop().await.unwrap();
}

#[actix::test]
async fn magnet_a_libtorrent_leecher_fetches_the_metadata_from_bt() {
    logs();
    let tracker = MockTracker::start().unwrap();
    let spec = PayloadSpec::multi_file_tree("bt-serves-metadata")
        .with_trackers([tracker.http_announce_url()]);
    let payload = Payload::generate(&spec, 33).unwrap();
    let session = Session::start(Swarm::test_config()).await.unwrap();
    session
        .add_torrent(
            payload.torrent.clone(),
            AddTorrentOptions::new(payload.data_dir()),
        )
        .await
        .unwrap();
    // libtorrent knows nothing but the info-hash and where bt listens.
    let magnet = MagnetLink {
        peers: vec![session.local_addr().to_string()],
        ..MagnetLink::new(payload.info_hash())
    };
    let dir = tempfile::tempdir().unwrap();
    let uri = magnet.to_uri();
    let mut lt = LtExt::start(&["magnet".as_ref(), uri.as_ref(), dir.path().as_os_str()]).unwrap();
    let line = lt.expect("metadata").await.unwrap();
    let size: usize = field(&line, "size").unwrap().parse().unwrap();
    assert_eq!(size, payload.torrent.info_bytes.len(), "{line}");
    lt.expect("complete").await.unwrap();
    assert_same_tree(&payload.root, &dir.path().join("bt-serves-metadata")).unwrap();
    session.shutdown().await;
    session.wait_stopped(TIMEOUT).await.unwrap();
}
