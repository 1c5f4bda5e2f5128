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
// python3-libtorrent as a reference client announcing over HTTP and UDP.
mod libtorrent;
// End-to-end downloads between in-process engine sessions: single and multi-file, several
// leechers, resume, HTTP and UDP trackers.
mod swarm;
// A torrent's life through the session handle: pause and resume, removal, a full disk.
mod lifecycle;
// Protocol extensions between engine sessions: PEX (BEP 11), private torrents (BEP 27).
mod extensions;
// Magnet links (BEP 9): metadata from a seeder, bad metadata struck, oversized refused.
mod magnet;

/// Logs to the test's output when `RUST_LOG` is set (`RUST_LOG=bt_engine=debug`).
pub fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}
