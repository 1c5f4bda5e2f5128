//! Stub actors for the actor tests: a [`Recorder`] that stands in for any peer connection,
//! supervisor or disk, and hands every message it gets to the test through a channel.

use std::time::{Duration, Instant};

use actix::{Actor, Context, Handler, MessageResult};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::actors::peer::msg::{
    CancelBlocks, Choke, Disconnect, GetChokeInfo, Have, ResumeReading, SetInterest, Unchoke,
    WorkAvailable,
};
use crate::actors::supervisor::msg::{DiskFailed, PieceFailed, PieceVerified};
use crate::choker::{ChokePeer, PeerKey};

/// Every await in the actor tests is bounded by this.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

/// A message a [`Recorder`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seen {
    Interest(bool),
    Cancel(CancelBlocks),
    Work,
    ResumeReading,
    Choke,
    Unchoke,
    Have(Have),
    Disconnect(Disconnect),
    Verified(PieceVerified),
    Failed(PieceFailed),
    DiskFailed(DiskFailed),
}

/// Records what it is sent; answers [`GetChokeInfo`] with [`Recorder::info`].
#[derive(Debug)]
pub(crate) struct Recorder {
    tx: UnboundedSender<Seen>,
    /// The choke snapshot this stub reports; `choked_by_us` follows Choke/Unchoke.
    pub(crate) info: ChokePeer,
}

impl Recorder {
    /// A recorder and the receiving end of what it records.
    pub(crate) fn new(key: PeerKey) -> (Self, UnboundedReceiver<Seen>) {
        let (tx, rx) = unbounded_channel();
        let info = ChokePeer {
            key,
            interested: false,
            choked_by_us: true,
            download_rate: 0,
            upload_rate: 0,
            connected_at: Instant::now(),
            last_block_received: None,
        };
        (Self { tx, info }, rx)
    }
}

impl Actor for Recorder {
    type Context = Context<Self>;
}

macro_rules! record {
    ($msg:ty, |$m:ident, $me:ident| $seen:expr) => {
        impl Handler<$msg> for Recorder {
            type Result = ();
            fn handle(&mut self, $m: $msg, _: &mut Context<Self>) {
                let $me = &mut *self;
                let seen = $seen;
                let _ = $me.tx.send(seen);
            }
        }
    };
}

record!(SetInterest, |m, _me| Seen::Interest(m.interested));
record!(CancelBlocks, |m, _me| Seen::Cancel(m));
record!(WorkAvailable, |_m, _me| Seen::Work);
record!(ResumeReading, |_m, _me| Seen::ResumeReading);
record!(Choke, |_m, me| {
    me.info.choked_by_us = true;
    Seen::Choke
});
record!(Unchoke, |_m, me| {
    me.info.choked_by_us = false;
    Seen::Unchoke
});
record!(Have, |m, _me| Seen::Have(m));
record!(Disconnect, |m, _me| Seen::Disconnect(m));
record!(PieceVerified, |m, _me| Seen::Verified(m));
record!(PieceFailed, |m, _me| Seen::Failed(m));
record!(DiskFailed, |m, _me| Seen::DiskFailed(m));

impl Handler<GetChokeInfo> for Recorder {
    type Result = MessageResult<GetChokeInfo>;
    fn handle(&mut self, _: GetChokeInfo, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.info.clone())
    }
}

/// The next recorded message, or a panic after [`TIMEOUT`].
pub(crate) async fn next(rx: &mut UnboundedReceiver<Seen>) -> Seen {
    tokio::time::timeout(TIMEOUT, rx.recv())
        .await
        .expect("a message within the timeout")
        .expect("the recorder is alive")
}

/// Skips recorded messages until one matches `pred`, which it returns.
pub(crate) async fn next_matching(
    rx: &mut UnboundedReceiver<Seen>,
    pred: impl Fn(&Seen) -> bool,
) -> Seen {
    loop {
        let seen = next(rx).await;
        if pred(&seen) {
            return seen;
        }
    }
}
