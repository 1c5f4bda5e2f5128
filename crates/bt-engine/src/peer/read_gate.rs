//! [`ReadGate`]: lets a connection stop reading from its socket, and [`Gated`], the frame
//! stream that obeys it.
//!
//! A received block stays in memory until its piece is on disk, so the disk's pace bounds
//! what a download may hold. Handing out no new requests while the disk is behind is not
//! enough: the blocks already requested (a pipeline of up to `max_requests`, plus the
//! blocks picked in reserve) keep arriving and pile up. While the gate is closed the
//! connection reads nothing, so those blocks wait in the kernel's socket buffer, TCP's flow
//! control slows the sender, and the memory held stays where the piece manager closed the
//! gate. The connection's actor opens and closes it as the piece manager says; the stream
//! only checks it before each read.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use actix::prelude::Stream;

/// Whether a connection may read from its socket, shared by handle between the connection's
/// actor (which sets it) and its frame stream ([`Gated`], which obeys it). Open when made.
#[derive(Debug, Clone, Default)]
pub struct ReadGate(Arc<Mutex<GateState>>);

#[derive(Debug, Default)]
struct GateState {
    closed: bool,
    /// The stream that found the gate closed, woken when it opens.
    waiting: Option<Waker>,
}

impl ReadGate {
    /// A gate, open.
    pub fn new() -> Self {
        Self::default()
    }

    /// Closes the gate (no more reads) or opens it (and wakes the stream waiting on it).
    pub fn set_closed(&self, closed: bool) {
        let waiting = {
            let mut state = self.lock();
            state.closed = closed;
            if closed { None } else { state.waiting.take() }
        };
        if let Some(waker) = waiting {
            waker.wake();
        }
    }

    /// Whether reads are stopped.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// `stream`, polled only while this gate is open.
    pub fn wrap<S>(&self, stream: S) -> Gated<S> {
        Gated {
            inner: stream,
            gate: self.clone(),
        }
    }

    /// Whether the gate is closed; if so, `waker` is woken when it opens.
    fn closed_for(&self, waker: &Waker) -> bool {
        let mut state = self.lock();
        if state.closed {
            state.waiting = Some(waker.clone());
        }
        state.closed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A stream read only while its [`ReadGate`] is open: while closed, it is pending and its
/// inner stream is not polled (so nothing is read from the socket).
#[derive(Debug)]
pub struct Gated<S> {
    inner: S,
    gate: ReadGate,
}

impl<S: Stream + Unpin> Stream for Gated<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        if self.gate.closed_for(cx.waker()) {
            return Poll::Pending;
        }
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use super::*;

    /// A stream of 1, 2, 3, ... that counts its polls.
    struct Counting {
        polls: Arc<AtomicUsize>,
    }

    impl Stream for Counting {
        type Item = usize;
        fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<usize>> {
            Poll::Ready(Some(self.polls.fetch_add(1, Ordering::SeqCst) + 1))
        }
    }

    struct Flag(AtomicUsize);

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_closed_gate_reads_nothing_and_wakes_the_stream_when_it_opens() {
        let polls = Arc::new(AtomicUsize::new(0));
        let gate = ReadGate::new();
        let mut stream = gate.wrap(Counting {
            polls: polls.clone(),
        });
        let woken = Arc::new(Flag(AtomicUsize::new(0)));
        let waker = Waker::from(woken.clone());
        let mut cx = Context::from_waker(&waker);
        let mut poll = || Pin::new(&mut stream).poll_next(&mut cx);
        assert_eq!(poll(), Poll::Ready(Some(1)), "open when made");
        gate.set_closed(true);
        assert!(gate.is_closed());
        assert_eq!(poll(), Poll::Pending);
        assert_eq!(poll(), Poll::Pending);
        assert_eq!(polls.load(Ordering::SeqCst), 1, "the socket is left alone");
        assert_eq!(woken.0.load(Ordering::SeqCst), 0);
        gate.set_closed(false);
        assert_eq!(woken.0.load(Ordering::SeqCst), 1, "woken to read again");
        assert_eq!(poll(), Poll::Ready(Some(2)));
    }

    #[tokio::test]
    async fn a_stream_waiting_on_the_gate_resumes_when_another_task_opens_it() {
        let gate = ReadGate::new();
        gate.set_closed(true);
        let mut stream = gate.wrap(Counting {
            polls: Arc::new(AtomicUsize::new(0)),
        });
        let opener = gate.clone();
        let open_later = tokio::spawn(async move {
            tokio::task::yield_now().await;
            opener.set_closed(false);
        });
        let first = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)),
        )
        .await
        .expect("the gate opened");
        assert_eq!(first, Some(1));
        open_later.await.unwrap();
    }
}
