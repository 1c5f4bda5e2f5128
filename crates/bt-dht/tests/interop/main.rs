//! Interop with a real DHT implementation: python3-libtorrent's node on loopback, bootstrapped
//! from bt-dht nodes (`cargo test -p bt-dht --test interop`). A machine without libtorrent
//! fails these tests with the install hint.
//!
//! Both directions: libtorrent finds a peer announced through bt-dht nodes, and bt-dht finds a
//! peer libtorrent announced; on the way, libtorrent's node is verified into our table.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use bt_dht::{DhtConfig, DhtHandle, DhtNode};
use bt_proto::InfoHash;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// The interpreter Debian's python3-libtorrent is installed for.
const PYTHON: &str = "/usr/bin/python3";

/// `lt_dht.py` running; killed when dropped.
struct LibtorrentNode {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: UnboundedReceiver<String>,
}

impl LibtorrentNode {
    /// Starts the script; `arg` is the port sought (`get_peers`) or the directory of the
    /// torrent (`announce`).
    fn start(mode: &str, bootstrap: SocketAddr, info_hash: InfoHash, arg: &str) -> Self {
        let importable = Command::new(PYTHON)
            .args(["-c", "import libtorrent"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        assert!(
            importable,
            "{PYTHON} cannot import libtorrent: apt-get install python3-libtorrent"
        );
        let mut child = Command::new(PYTHON)
            .arg(script())
            .args([mode, &bootstrap.to_string(), &info_hash.to_string()])
            .args([arg, "60"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting lt_dht.py");
        let stdout = child.stdout.take().expect("the script's stdout");
        let (sender, lines) = unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        Self {
            child,
            stdin,
            lines,
        }
    }

    /// The script's next line starting with `prefix`; fails on `timeout`, exit, or after
    /// `secs` seconds.
    async fn expect(&mut self, prefix: &str, secs: u64) -> String {
        let wait = async {
            while let Some(line) = self.lines.recv().await {
                if line.starts_with(prefix) {
                    return line;
                }
                assert!(!line.starts_with("timeout"), "libtorrent: {line}");
            }
            panic!("libtorrent exited before printing {prefix:?}")
        };
        tokio::time::timeout(Duration::from_secs(secs), wait)
            .await
            .unwrap_or_else(|_| panic!("libtorrent printed no {prefix:?} within {secs} s"))
    }
}

impl Drop for LibtorrentNode {
    fn drop(&mut self) {
        self.stdin.take();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/lt_dht.py")
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
}

/// `count` bt-dht nodes on loopback, all joined through the first.
async fn network(count: usize) -> Vec<DhtHandle> {
    let first = DhtNode::start(DhtConfig::loopback(&[]))
        .await
        .expect("start");
    let mut nodes = vec![first];
    for _ in 1..count {
        let config = DhtConfig::loopback(&[nodes[0].local_addr()]);
        let node = DhtNode::start(config).await.expect("start");
        nodes.push(node);
    }
    for node in &nodes[1..] {
        wait_for(20, "joining", || async {
            let stats = node.stats().await.expect("stats").dht;
            stats.lookups == 0 && stats.nodes >= 1
        })
        .await;
    }
    nodes
}

async fn wait_for<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let wait = async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(secs), wait)
        .await
        .unwrap_or_else(|_| panic!("{what}: not within {secs} s"));
}

#[actix::test]
async fn libtorrent_finds_a_peer_announced_through_bt_nodes() {
    let nodes = network(8).await;
    let info_hash = InfoHash(*b"interop: lt finds it");
    let port = 41_001;
    let report = nodes[5].announce(info_hash, port).await.expect("announce");
    assert!(report.announced_to >= 1, "{report:?}");

    let lt_port = port.to_string();
    let mut lt = LibtorrentNode::start("get_peers", nodes[0].local_addr(), info_hash, &lt_port);
    let line = lt.expect("node", 20).await;
    let lt_port: u16 = field(&line, "port")
        .and_then(|p| p.parse().ok())
        .expect("port");
    lt.expect("bootstrapped", 30).await;
    let found = lt.expect("found", 40).await;
    assert!(found.contains(&format!("127.0.0.1:{port}")), "{found}");

    // libtorrent's node queried ours, and answered our verification ping: it is in the table.
    let libtorrent = SocketAddr::from(([127, 0, 0, 1], lt_port));
    wait_for(10, "libtorrent in our table", || async {
        let table = nodes[0].nodes().await.expect("nodes");
        table.iter().any(|node| node.addr == libtorrent)
    })
    .await;
    drop(lt);
    for node in &nodes {
        node.shutdown().await.expect("shutdown");
    }
}

#[actix::test]
async fn bt_finds_a_peer_libtorrent_announced() {
    let nodes = network(8).await;
    let info_hash = InfoHash(*b"interop: bt finds it");
    let dir = tempfile::tempdir().expect("tempdir");
    let save_dir = dir.path().to_str().expect("a UTF-8 path");
    let mut lt = LibtorrentNode::start("announce", nodes[0].local_addr(), info_hash, save_dir);
    let line = lt.expect("node", 20).await;
    let lt_port: u16 = field(&line, "port")
        .and_then(|p| p.parse().ok())
        .expect("port");
    lt.expect("bootstrapped", 30).await;
    lt.expect("announced", 10).await;
    // libtorrent announces with implied_port: its peer is its DHT address.
    let wanted = SocketAddr::from(([127, 0, 0, 1], lt_port));
    // libtorrent's announce runs its own lookup, then announce_peer with our tokens; search
    // until one of our nodes stores it.
    wait_for(40, "bt finds libtorrent's peer", || async {
        let peers = nodes[7].get_peers(info_hash).await.expect("get_peers");
        peers.contains(&wanted)
    })
    .await;
    drop(lt);
    for node in &nodes {
        node.shutdown().await.expect("shutdown");
    }
}
