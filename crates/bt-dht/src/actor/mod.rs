//! [`DhtNode`]: the actix actor around the sans-IO [`Dht`].
//!
//! It owns the UDP socket and the [`Dht`]; nothing else touches either. Every datagram read
//! from the socket goes to [`Dht::handle`]; a timer (`tick_interval_ms`) calls [`Dht::tick`];
//! after each, what the machine queued is sent with a non-blocking `try_send_to` (when the
//! socket is not ready, datagrams wait in a bounded backlog until it is writable), and
//! finished lookups answer the messages waiting for them.
//!
//! Messages in: [`GetPeers`], [`Announce`] (each answered when its lookup ends, by a oneshot
//! channel per lookup), [`GetStats`], [`GetNodes`], [`AddNode`], [`Shutdown`]. Nothing goes out but
//! datagrams.
//!
//! Start: binds the socket, reads the state file (our id and the nodes we knew; a damaged
//! file is logged and ignored), then, in `started`, resolves the bootstrap host names (each
//! bounded by `resolve_timeout_ms`) and bootstraps from them and the saved nodes. While the
//! table is empty it resolves and bootstraps again every `bootstrap_retry_ms`.
//!
//! Timers: the tick; the save of the table to `state_file` every `save_interval_ms` (written
//! on a blocking thread). Stops on [`Shutdown`] (which saves the table first and reports a
//! failed save) or when its last address is dropped (then it saves in `stopping`).
//!
//! # Layout
//! - this module: [`DhtNode`], [`DhtNode::start`], the socket stream, the timer.
//! - `msg`: the messages and [`DhtError`].
//! - `handlers`: the message handlers.
//! - `handle`: [`DhtHandle`], typed calls for embedders.
//! - `state_file`: reading and writing the state file.

mod handle;
mod handlers;
pub mod msg;
mod state_file;

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use actix::prelude::*;
use rand::RngExt;
use tokio::io::ReadBuf;
use tokio::net::UdpSocket;
use tokio::sync::oneshot;
use tracing::{Span, debug, info, trace, warn};

pub use handle::DhtHandle;
pub use msg::{
    AddNode, Announce, AnnounceReport, DhtError, GetNodes, GetPeers, GetStats, NodeStats, Shutdown,
};

use crate::compact::NodeInfo;
use crate::config::DhtConfig;
use crate::id::NodeId;
use crate::machine::{Dht, LookupId, LookupOutcome, Transmit};

/// The largest UDP payload; longer KRPC messages are refused by the decoder anyway.
const RECEIVE_BUFFER: usize = 65_536;

/// Datagrams waiting for the socket to become writable; beyond this they are dropped (UDP
/// may drop them anyway, and the queries among them will be retried).
const MAX_BACKLOG: usize = 1024;

/// The DHT node actor. See the module docs.
pub struct DhtNode {
    config: DhtConfig,
    machine: Dht,
    socket: Arc<UdpSocket>,
    local_addr: SocketAddr,
    /// Datagrams waiting for the socket to become writable.
    backlog: VecDeque<Transmit>,
    /// Whether a wait for writability is running.
    waiting_writable: bool,
    /// Who waits for which lookup.
    waiters: HashMap<LookupId, oneshot::Sender<LookupOutcome>>,
    /// Nodes from the state file, asked in the first bootstrap.
    saved_nodes: Vec<NodeInfo>,
    resolving: bool,
    last_resolve: Option<Instant>,
    last_save: Instant,
    /// Set once [`Shutdown`] saved the table, so `stopping` does not save it again.
    saved_for_shutdown: bool,
    send_failures: u64,
    span: Span,
}

impl std::fmt::Debug for DhtNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DhtNode")
            .field("local_addr", &self.local_addr)
            .field("id", &self.machine.id())
            .finish_non_exhaustive()
    }
}

impl DhtNode {
    /// Binds the socket, reads the state file and starts the node on the current Arbiter
    /// (inside an actix `System`). Bootstrapping starts at once, in the background.
    pub async fn start(config: DhtConfig) -> Result<DhtHandle, DhtError> {
        let socket = UdpSocket::bind(config.listen)
            .await
            .map_err(|source| DhtError::Bind {
                addr: config.listen,
                source,
            })?;
        let local_addr = socket.local_addr().map_err(|source| DhtError::Bind {
            addr: config.listen,
            source,
        })?;
        let span = tracing::info_span!("dht", port = local_addr.port());
        let saved = match &config.state_file {
            Some(path) => state_file::load(path).unwrap_or_else(|error| {
                warn!(parent: &span, %error, "starting with an empty table");
                None
            }),
            None => None,
        };
        let mut rng = rand::rng();
        let id = saved
            .as_ref()
            .map_or_else(|| NodeId::random(&mut rng), |state| state.id);
        let now = Instant::now();
        let machine = Dht::new(id, config.settings(), now, rng.random());
        let saved_nodes = saved.map(|state| state.nodes).unwrap_or_default();
        info!(parent: &span, %id, %local_addr, saved = saved_nodes.len(), "DHT node starting");
        let socket = Arc::new(socket);
        let addr = DhtNode::create(|ctx| {
            ctx.add_stream(Datagrams {
                socket: Arc::clone(&socket),
                buffer: vec![0; RECEIVE_BUFFER],
            });
            DhtNode {
                config,
                machine,
                socket,
                local_addr,
                backlog: VecDeque::new(),
                waiting_writable: false,
                waiters: HashMap::new(),
                saved_nodes,
                resolving: false,
                last_resolve: None,
                last_save: now,
                saved_for_shutdown: false,
                send_failures: 0,
                span,
            }
        });
        Ok(DhtHandle::new(addr, local_addr))
    }

    /// Sends what the machine queued, and hands finished lookups to their waiters.
    fn flush(&mut self, ctx: &mut Context<Self>) {
        while let Some(transmit) = self.machine.poll_transmit() {
            if self.backlog.is_empty() {
                self.send(transmit, ctx);
            } else if self.backlog.len() < MAX_BACKLOG {
                self.backlog.push_back(transmit);
            } else {
                self.send_failures += 1;
            }
        }
        while let Some(outcome) = self.machine.poll_outcome() {
            if let Some(waiter) = self.waiters.remove(&outcome.id) {
                // The asker may have given up waiting; nothing to do then.
                let _ = waiter.send(outcome);
            }
        }
    }

    /// Sends one datagram without blocking; if the socket is not ready (its first send, or a
    /// full buffer), the datagram waits in the backlog until it is.
    fn send(&mut self, transmit: Transmit, ctx: &mut Context<Self>) {
        match self.socket.try_send_to(&transmit.bytes, transmit.to) {
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                self.backlog.push_front(transmit);
                self.wait_writable(ctx);
            }
            Err(error) => {
                self.send_failures += 1;
                trace!(parent: &self.span, to = %transmit.to, %error, "datagram not sent");
            }
        }
    }

    /// Sends the backlog once the socket is writable.
    fn wait_writable(&mut self, ctx: &mut Context<Self>) {
        if self.waiting_writable {
            return;
        }
        self.waiting_writable = true;
        let socket = Arc::clone(&self.socket);
        let writable = async move { socket.writable().await };
        ctx.spawn(writable.into_actor(self).map(|_, act, ctx| {
            act.waiting_writable = false;
            while let Some(transmit) = act.backlog.pop_front() {
                act.send(transmit, ctx);
                if act.waiting_writable {
                    return;
                }
            }
        }));
    }

    /// Starts a lookup with `start` and returns the channel its outcome will come on.
    fn start_lookup(
        &mut self,
        ctx: &mut Context<Self>,
        start: impl FnOnce(&mut Dht, Instant) -> LookupId,
    ) -> oneshot::Receiver<LookupOutcome> {
        let id = start(&mut self.machine, Instant::now());
        let (sender, receiver) = oneshot::channel();
        self.waiters.insert(id, sender);
        self.flush(ctx);
        receiver
    }

    /// Resolves the bootstrap host names off the actor's turn, then bootstraps.
    fn resolve_and_bootstrap(&mut self, ctx: &mut Context<Self>) {
        if self.resolving {
            return;
        }
        self.resolving = true;
        self.last_resolve = Some(Instant::now());
        let hosts = self.config.bootstrap.clone();
        let limit = Duration::from_millis(self.config.resolve_timeout_ms);
        let span = self.span.clone();
        let resolve = async move {
            let mut found = Vec::new();
            for host in hosts {
                match tokio::time::timeout(limit, tokio::net::lookup_host(host.as_str())).await {
                    Ok(Ok(addrs)) => found.extend(addrs),
                    Ok(Err(error)) => debug!(parent: &span, %host, %error, "cannot resolve"),
                    Err(_) => debug!(parent: &span, %host, "resolving timed out"),
                }
            }
            found
        };
        ctx.spawn(resolve.into_actor(self).map(|mut addrs, act, ctx| {
            act.resolving = false;
            // A socket of one family cannot reach the other.
            addrs.retain(|addr| addr.is_ipv6() == act.local_addr.is_ipv6());
            addrs.dedup();
            debug!(parent: &act.span, routers = addrs.len(), "bootstrapping");
            act.machine.set_bootstrap(addrs);
            let known = std::mem::take(&mut act.saved_nodes);
            act.machine.bootstrap(&known, Instant::now());
            act.flush(ctx);
        }));
    }

    /// The timer: the machine's tick, bootstrap retries, periodic saves.
    fn on_tick(&mut self, ctx: &mut Context<Self>) {
        let now = Instant::now();
        self.machine.tick(now);
        let retry = Duration::from_millis(self.config.bootstrap_retry_ms);
        let resolve_due = self
            .last_resolve
            .is_none_or(|at| now.saturating_duration_since(at) >= retry);
        if self.machine.table().is_empty()
            && !self.machine.has_bootstrap()
            && !self.config.bootstrap.is_empty()
            && resolve_due
        {
            self.resolve_and_bootstrap(ctx);
        }
        if self.config.state_file.is_some()
            && now.saturating_duration_since(self.last_save) >= self.config.save_interval()
        {
            self.last_save = now;
            self.save_in_background();
        }
        self.flush(ctx);
    }

    /// The file contents and path to save, if a state file is configured.
    fn state_to_save(&self) -> Option<(std::path::PathBuf, Vec<u8>)> {
        let path = self.config.state_file.clone()?;
        Some((path, self.machine.saved_state(Instant::now()).encode()))
    }

    /// Saves the table on a blocking thread (the periodic save).
    fn save_in_background(&self) {
        let Some((path, bytes)) = self.state_to_save() else {
            return;
        };
        let span = self.span.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(error) = state_file::save(&path, &bytes) {
                warn!(parent: &span, %error, "saving the DHT table failed");
            }
        });
    }

    /// Saves the table now, on this thread (at shutdown; the file is a few kilobytes).
    fn save_now(&self) -> Result<(), DhtError> {
        match self.state_to_save() {
            Some((path, bytes)) => state_file::save(&path, &bytes),
            None => Ok(()),
        }
    }
}

impl Actor for DhtNode {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(self.config.tick_interval(), |act, ctx| act.on_tick(ctx));
        if self.config.bootstrap.is_empty() {
            let known = std::mem::take(&mut self.saved_nodes);
            self.machine.bootstrap(&known, Instant::now());
            self.flush(ctx);
        } else {
            self.resolve_and_bootstrap(ctx);
        }
    }

    fn stopping(&mut self, _ctx: &mut Self::Context) -> Running {
        if !self.saved_for_shutdown
            && let Err(error) = self.save_now()
        {
            warn!(parent: &self.span, %error, "saving the DHT table failed");
        }
        info!(parent: &self.span, "DHT node stopped");
        Running::Stop
    }
}

/// The datagrams read from the socket, as a stream the actor handles one by one.
struct Datagrams {
    socket: Arc<UdpSocket>,
    buffer: Vec<u8>,
}

impl Stream for Datagrams {
    type Item = io::Result<(Vec<u8>, SocketAddr)>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let mut read = ReadBuf::new(&mut this.buffer);
        match this.socket.poll_recv_from(cx, &mut read) {
            Poll::Ready(Ok(from)) => Poll::Ready(Some(Ok((read.filled().to_vec(), from)))),
            Poll::Ready(Err(error)) => Poll::Ready(Some(Err(error))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl StreamHandler<io::Result<(Vec<u8>, SocketAddr)>> for DhtNode {
    fn handle(&mut self, item: io::Result<(Vec<u8>, SocketAddr)>, ctx: &mut Self::Context) {
        match item {
            Ok((bytes, from)) => {
                self.machine.handle(&bytes, from, Instant::now());
                self.flush(ctx);
            }
            // ICMP errors of earlier sends show up here on some systems; the socket is fine.
            Err(error) => trace!(parent: &self.span, %error, "receive error"),
        }
    }

    fn finished(&mut self, _ctx: &mut Self::Context) {
        // The socket stream never ends on its own; keep the node running regardless.
    }
}
