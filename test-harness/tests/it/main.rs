//! Integration tests of bt-test-harness, in one test binary (`cargo test -p bt-test-harness`).

// Shared clients: raw HTTP requests over a TcpStream, a blocking BEP 15 UDP client.
mod util;

// The HTTP tracker byte for byte: BEP 3 dictionary peers, BEP 23 compact, BEP 7 peers6, BEP 48
// scrape, swarm bookkeeping, 404s.
mod http_tracker;
// The UDP tracker (BEP 15): connect, announce, scrape, error packets for bad connection ids.
mod udp_tracker;
// Modes (failure, silent, fixed peers, down and up on the same port), waits, runtimes, shutdown.
mod modes;
// Seeded payloads and their torrents.
mod payload;
// python3-libtorrent as a reference peer: announcing over HTTP and UDP, its errors, time
// limit and kill on drop.
mod libtorrent;
// The swarm test README.md opens with, and the check that the page still shows it.
mod readme;
// End-to-end downloads between in-process engine sessions: single and multi-file, several
// leechers, HTTP and UDP trackers.
mod swarm;
// A torrent's life through the session handle: pause and resume, removal, a full disk.
mod lifecycle;
// Protocol extensions between engine sessions: PEX (BEP 11), private torrents (BEP 27).
mod extensions;
// BEP 11 flags seen by a hand-written peer: seeds and reachable peers flagged, PEX seeds not
// dialled by a complete node.
mod pex_flags;
// Magnet links (BEP 9): metadata from a seeder, bad metadata struck, oversized refused.
mod magnet;
// Engine scenarios of issue 3: leechers feeding each other, a seeder leaving, a tracker down at
// first, an https-only torrent, resume after a partial download with data synced to disk.
mod scenarios;
// Session-wide upload and download limits in whole swarms.
mod limits;
// Chokers and piece orders by name, a free rider, an embedder's own choker and picker.
mod strategies;
// No tracker, the mainline DHT only: a public torrent and a bare magnet link download, a
// private one (BEP 27) never touches the DHT.
mod dht;
// Hostile peers: each produces its fault; the engine disconnects, bans, times out, survives.
mod hostile;

/// Logs to the test's output when `RUST_LOG` is set (`RUST_LOG=bt_engine=debug`).
pub fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}
