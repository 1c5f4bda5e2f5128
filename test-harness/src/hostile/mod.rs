//! Hostile peers: hand-written peer wire clients that break the protocol on purpose, to prove
//! that an engine under test survives them.
//!
//! A [`HostilePeer`] runs one [`Script`] on its own thread (with its own current-thread tokio
//! runtime, so it works under `#[test]`, `#[tokio::test]` and `#[actix::test]`). It either
//! [dials](HostilePeer::connect) an engine's listening address, or [listens](HostilePeer::listen)
//! on `127.0.0.1:0` and is [announced](HostilePeer::announce_to) to a [`MockTracker`] so the
//! engine dials it; in that mode every connection accepted runs the script. Valid parts of
//! the conversation are encoded by bt-proto; the faults are raw bytes. Each connection's
//! [`ConnectionReport`] says what was sent, what came back, and how the connection ended, so
//! a test can assert that the engine hung up, and on what.
//!
//! | script | poses as | the fault |
//! |---|---|---|
//! | [`CorruptBlocks`] | seeder | answers every REQUEST with a well-framed PIECE of random bytes |
//! | [`CorruptThenHangUp`] | seeder | the same, but hangs up after a few blocks, and again on every new connection |
//! | [`DisconnectMidBlock`] | seeder | answers the first REQUEST with half a PIECE frame, then closes |
//! | [`NeverAnswers`] | seeder | unchokes, then never answers a REQUEST (and sends nothing else) |
//! | [`OversizedMessage`] | - | a frame whose length prefix is over the 2^17 + 13 byte limit |
//! | [`BadBitfield`] | - | a BITFIELD one byte too long, or with spare bits set |
//! | [`OutOfRangeRequest`] | leecher | a REQUEST past the last piece, past a piece's end, or over 16 KiB |
//! | [`RequestFlood`] | leecher | once unchoked, many more REQUESTs than any queue limit |
//! | [`UnsolicitedBlocks`] | - | PIECE frames of random bytes that nobody requested |
//!
//! Every connection lives at most [`CONNECTION_LIFETIME`]; dropping the handle (or
//! [`HostilePeer::shutdown`]) closes every socket and joins the thread.
//!
//! ```no_run
//! # async fn demo(swarm: &bt_test_harness::Swarm) -> anyhow::Result<()> {
//! use std::time::Duration;
//! use bt_test_harness::hostile::{HostilePeer, OversizedMessage};
//!
//! let leecher = swarm.leechers().next().expect("a leecher");
//! let hostile = HostilePeer::connect(
//!     &swarm.metainfo,
//!     OversizedMessage::default(),
//!     leecher.session.local_addr(),
//! )?;
//! let reports = hostile
//!     .wait_until(Duration::from_secs(10), |c| c.iter().any(|c| c.end.is_some()))
//!     .await?;
//! assert!(reports[0].closed_by_remote());
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//! - this module: [`HostilePeer`], [`Script`], the thread and its connections.
//! - `conn`: [`WireConn`], the wire-level connection scripts drive.
//! - `report`: [`ConnectionReport`], [`Sent`], [`Received`], [`End`].
//! - `seeder`: scripts that pose as seeders: [`CorruptBlocks`], [`CorruptThenHangUp`],
//!   [`DisconnectMidBlock`], [`NeverAnswers`].
//! - `malformed`: [`OversizedMessage`], [`BadBitfield`], [`OutOfRangeRequest`],
//!   [`UnsolicitedBlocks`].
//! - `flood`: [`RequestFlood`].

mod conn;
mod flood;
mod malformed;
mod report;
mod seeder;

use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use bt_proto::geometry::Lengths;
use bt_proto::metainfo::Metainfo;
use bt_proto::{InfoHash, PeerId};
use tokio::sync::oneshot;
use tokio::task::LocalSet;

pub use conn::WireConn;
pub use flood::RequestFlood;
pub use malformed::{BadBitfield, OutOfRangeRequest, OversizedMessage, UnsolicitedBlocks};
pub use report::{ConnectionReport, End, Received, Sent};
pub use seeder::{CorruptBlocks, CorruptThenHangUp, DisconnectMidBlock, NeverAnswers};

use crate::{MockTracker, SwarmPeer};
use conn::Identity;
use report::Reports;

/// The longest any one connection of a hostile peer lives; then it ends as [`End::Expired`].
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);

/// How long [`HostilePeer::connect`] waits for the TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What a hostile peer does on each connection, after the handshakes.
///
/// Returning ends the connection (we close it); an error whose cause is the remote hanging up
/// counts as [`End::ClosedByRemote`]. The connection's lifetime bounds every wait, so a script
/// may wait for the remote without time-outs of its own. Implement it to write new faults.
pub trait Script: Send + Sync + 'static {
    /// Runs one connection.
    fn run(&self, conn: &mut WireConn) -> impl Future<Output = io::Result<()>>;
}

/// A running hostile peer; see the module docs.
#[derive(Debug)]
pub struct HostilePeer {
    info_hash: InfoHash,
    peer_id: PeerId,
    /// Where it accepts connections, when it listens.
    listen_addr: Option<SocketAddr>,
    reports: Arc<Reports>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// How the thread gets its connections.
enum Mode {
    Listen(TcpListener),
    Connect(TcpStream),
}

impl HostilePeer {
    /// Listens on `127.0.0.1:0` and runs `script` on every connection it accepts for
    /// `torrent`. Announce it with [`Self::announce_to`] so engines dial it.
    pub fn listen<S: Script>(torrent: &Metainfo, script: S) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").context("binding a hostile peer")?;
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        Self::start(torrent, script, Mode::Listen(listener), Some(addr))
    }

    /// Dials `remote` (an engine session's listening address) and runs `script` on that one
    /// connection for `torrent`.
    pub fn connect<S: Script>(
        torrent: &Metainfo,
        script: S,
        remote: SocketAddr,
    ) -> anyhow::Result<Self> {
        // Loopback connects finish (or are refused) at once; the time-out is a safety net.
        let stream = TcpStream::connect_timeout(&remote, CONNECT_TIMEOUT)
            .with_context(|| format!("hostile peer connecting to {remote}"))?;
        stream.set_nonblocking(true)?;
        Self::start(torrent, script, Mode::Connect(stream), None)
    }

    fn start<S: Script>(
        torrent: &Metainfo,
        script: S,
        mode: Mode,
        listen_addr: Option<SocketAddr>,
    ) -> anyhow::Result<Self> {
        let lengths = Lengths::new(torrent.info.total_length(), torrent.info.piece_length)
            .context("the torrent's geometry")?;
        let mut id = *b"-HO0001-000000000000";
        id[8..].copy_from_slice(&rand::random::<[u8; 12]>());
        let identity = Arc::new(Identity {
            info_hash: torrent.info_hash,
            lengths,
            peer_id: PeerId(id),
        });
        let reports = Reports::new();
        let (stop, stop_rx) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("building a hostile peer's runtime")?;
        let (task_identity, task_reports) = (Arc::clone(&identity), Arc::clone(&reports));
        let script = Arc::new(script);
        let thread = std::thread::Builder::new()
            .name("hostile-peer".into())
            .spawn(move || {
                let local = LocalSet::new();
                local.block_on(&runtime, async move {
                    tokio::select! {
                        _ = stop_rx => {}
                        () = serve(script, mode, task_identity, task_reports) => {}
                    }
                });
                // Dropping the LocalSet and the runtime cancels every connection task and
                // closes its socket.
            })
            .context("spawning a hostile peer's thread")?;
        Ok(Self {
            info_hash: identity.info_hash,
            peer_id: identity.peer_id,
            listen_addr,
            reports,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Our peer id (the same on every connection).
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// Where it accepts connections; `None` for a peer made with [`Self::connect`].
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.listen_addr
    }

    /// Puts this (listening) peer into the tracker's swarm as a seeder, so every announce
    /// for the torrent hands it out.
    pub fn announce_to(&self, tracker: &MockTracker) -> anyhow::Result<()> {
        let addr = self
            .listen_addr
            .ok_or_else(|| anyhow!("only a listening hostile peer can be announced"))?;
        tracker.add_peer(
            self.info_hash,
            SwarmPeer {
                peer_id: self.peer_id,
                addr,
                left: 0,
            },
        );
        Ok(())
    }

    /// Every connection so far, in the order they opened.
    pub fn connections(&self) -> Vec<ConnectionReport> {
        self.reports.snapshot()
    }

    /// Waits until `pred` holds for the connections, and returns them; fails after `timeout`
    /// with what was seen.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        pred: impl Fn(&[ConnectionReport]) -> bool,
    ) -> anyhow::Result<Vec<ConnectionReport>> {
        let mut changes = self.reports.subscribe();
        let work = async {
            loop {
                let connections = self.reports.snapshot();
                if pred(&connections) {
                    return Ok(connections);
                }
                if changes.changed().await.is_err() {
                    bail!("the hostile peer's reports are gone");
                }
            }
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(anyhow!(
                "condition not met within {timeout:?}; connections: {:#?}",
                summarize(&self.reports.snapshot())
            )),
        }
    }

    /// Waits until the first connection has ended, and returns its report.
    pub async fn wait_first_end(&self, timeout: Duration) -> anyhow::Result<ConnectionReport> {
        let ended = |c: &[ConnectionReport]| c.first().is_some_and(|c| c.end.is_some());
        let mut connections = self.wait_until(timeout, ended).await?;
        Ok(connections.swap_remove(0))
    }

    /// Closes every connection and joins the thread; dropping the handle does the same.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::warn!("hostile peer thread panicked");
        }
    }
}

impl Drop for HostilePeer {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// A report without the long lists, for time-out messages.
fn summarize(connections: &[ConnectionReport]) -> Vec<String> {
    connections
        .iter()
        .map(|c| {
            format!(
                "{} (outgoing {}): sent {} items / {} bytes, received {} messages + {} blocks / {} bytes, end {:?}",
                c.remote,
                c.outgoing,
                c.sent.len(),
                c.bytes_sent,
                c.received.messages.len(),
                c.received.blocks.len(),
                c.received.bytes,
                c.end
            )
        })
        .collect()
}

/// The thread's main task: the one dialled connection, or an accept loop.
async fn serve<S: Script>(
    script: Arc<S>,
    mode: Mode,
    identity: Arc<Identity>,
    reports: Arc<Reports>,
) {
    match mode {
        Mode::Connect(stream) => match tokio::net::TcpStream::from_std(stream) {
            Ok(stream) => run_connection(script, stream, true, identity, reports).await,
            Err(e) => tracing::warn!(%e, "hostile peer: registering its socket"),
        },
        Mode::Listen(listener) => {
            let listener = match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => listener,
                Err(e) => return tracing::warn!(%e, "hostile peer: registering its listener"),
            };
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        let connection = run_connection(
                            Arc::clone(&script),
                            stream,
                            false,
                            Arc::clone(&identity),
                            Arc::clone(&reports),
                        );
                        tokio::task::spawn_local(connection);
                    }
                    Err(e) => tracing::debug!(%e, "hostile peer: accept failed"),
                }
            }
        }
    }
}

/// One connection: report, handshake, script, and how it ended.
async fn run_connection<S: Script>(
    script: Arc<S>,
    stream: tokio::net::TcpStream,
    outgoing: bool,
    identity: Arc<Identity>,
    reports: Arc<Reports>,
) {
    let (Ok(remote), Ok(local)) = (stream.peer_addr(), stream.local_addr()) else {
        return; // Reset before we could even look at it: nothing to report.
    };
    let slot = reports.open(ConnectionReport::new(remote, local, outgoing));
    let mut conn = WireConn::new(stream, identity, slot.clone());
    let work = async {
        conn.handshake(outgoing).await?;
        script.run(&mut conn).await
    };
    let result = tokio::time::timeout(CONNECTION_LIFETIME, work).await;
    let end = match result {
        _ if conn.remote_closed() => End::ClosedByRemote,
        Err(_) => End::Expired,
        Ok(Ok(())) => End::ClosedByUs,
        Ok(Err(e)) => End::Failed(e.to_string()),
    };
    drop(conn);
    slot.end(end);
}
