//! [`ArbiterPool`]: the worker Arbiters that peer connections are spread over.

use actix_rt::ArbiterHandle;

/// Worker Arbiters (threads, each with its own runtime), handed out round-robin. The session
/// owns the Arbiters; each torrent supervisor holds a pool of their handles.
#[derive(Debug, Clone)]
pub struct ArbiterPool {
    handles: Vec<ArbiterHandle>,
    next: usize,
}

impl ArbiterPool {
    /// A pool over `handles`; with none, every connection runs on the current Arbiter.
    pub fn new(handles: Vec<ArbiterHandle>) -> Self {
        Self { handles, next: 0 }
    }

    /// The Arbiter for the next connection.
    pub fn pick(&mut self) -> ArbiterHandle {
        if self.handles.is_empty() {
            return actix_rt::Arbiter::current();
        }
        self.next = (self.next + 1) % self.handles.len();
        self.handles[self.next].clone()
    }
}
