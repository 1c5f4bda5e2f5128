//! python3-libtorrent, a reference client, announces to the mock tracker over HTTP and UDP;
//! the tracker records the announce and libtorrent reports a successful reply.
//!
//! The client is `scripts/lt_announce.py` run by `/usr/bin/python3`; a missing libtorrent fails
//! these tests with the install hint rather than skipping them.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bt_proto::PeerId;
use bt_proto::tracker::AnnounceEvent;
use bt_test_harness::{MockTracker, Payload, PayloadSpec, SwarmPeer, Transport};

const PYTHON: &str = "/usr/bin/python3";
/// libtorrent starts and announces in well under a second; this bounds a hang.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(20);

/// Fails with the install hint unless `/usr/bin/python3` can import libtorrent.
fn require_libtorrent() {
    let status = Command::new(PYTHON)
        .args(["-c", "import libtorrent"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    assert!(
        matches!(status, Ok(s) if s.success()),
        "{PYTHON} cannot import libtorrent: apt-get install python3-libtorrent"
    );
}

/// Runs the announce script against `tracker_url`, killing it past [`CLIENT_TIMEOUT`]; returns
/// its first output line.
fn libtorrent_announce(payload: &Payload, tracker_url: &str) -> anyhow::Result<String> {
    require_libtorrent();
    let torrent = payload.write_torrent_file()?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/lt_announce.py");
    let inner_timeout = (CLIENT_TIMEOUT - Duration::from_secs(5)).as_secs();
    let mut child = Command::new(PYTHON)
        .arg(script)
        .arg(&torrent)
        .arg(payload.data_dir())
        .arg(tracker_url)
        .arg(inner_timeout.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Drain both pipes on threads so a chatty client cannot block on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + CLIENT_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            child.kill()?;
            child.wait()?;
            anyhow::bail!("libtorrent did not finish within {CLIENT_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let join = |t: std::thread::JoinHandle<String>| t.join().unwrap_or_default();
    let (out, err) = (join(out), join(err));
    anyhow::ensure!(status.success(), "libtorrent: {status}\n{out}\n{err}");
    Ok(out.lines().next().unwrap_or_default().to_owned())
}

/// The value of `key=` in the script's output line.
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key} in {line:?}"))
}

/// libtorrent announces `payload` (which it finds complete, so `left` is 0), gets the one peer
/// the tracker knows, and the tracker records the announce.
fn check_reference_announce(
    tracker: &MockTracker,
    url: &str,
    transport: Transport,
) -> anyhow::Result<()> {
    let payload = Payload::generate(&PayloadSpec::multi_file_tree("lt"), 11)?;
    let hash = payload.info_hash();
    let fake = SwarmPeer {
        peer_id: PeerId([7; 20]),
        addr: "127.0.0.1:9".parse()?,
        left: 0,
    };
    tracker.add_peer(hash, fake);
    let line = libtorrent_announce(&payload, url)?;
    assert!(line.starts_with("reply "), "{line}");
    assert_eq!(field(&line, "info_hash"), hash.to_string(), "{line}");
    assert_eq!(field(&line, "num_peers"), "1", "{line}");
    let listen_port: u16 = field(&line, "listen_port").parse()?;
    let recorded = tracker.wait_for_announce(|a| a.info_hash == hash, Duration::from_secs(5))?;
    assert_eq!(recorded.transport, transport);
    assert_eq!(recorded.source.ip().to_string(), "127.0.0.1");
    assert_eq!(recorded.port, listen_port);
    assert_eq!((recorded.event, recorded.left), (AnnounceEvent::Started, 0));
    assert!(recorded.peer_id.as_bytes().starts_with(b"-LT"));
    // Whether libtorrent says `stopped` on exit (it does over HTTP) is its business, so the
    // swarm is not checked beyond the injected peer.
    assert!(tracker.peers(&hash).contains(&fake));
    Ok(())
}

#[test]
fn libtorrent_announces_over_http() {
    let tracker = MockTracker::start().unwrap();
    check_reference_announce(&tracker, &tracker.http_announce_url(), Transport::Http).unwrap();
}

#[test]
fn libtorrent_announces_over_udp() {
    let tracker = MockTracker::start().unwrap();
    check_reference_announce(&tracker, &tracker.udp_announce_url(), Transport::Udp).unwrap();
}
