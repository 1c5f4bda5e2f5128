//! [`LeaveNotice`]: the connection's `PeerLeft` to the piece manager, sent only once every
//! block the connection received has been answered.
//!
//! A received block travels in a task detached from the actor, whose `BlockReceived` may wait
//! for room in the piece manager's mailbox, while `PeerLeft` is a `do_send` that never waits.
//! Sent from `stopped`, `PeerLeft` could overtake those blocks; the piece manager would then
//! release the peer's requests first and drop the late blocks as unrequested, and they would
//! be downloaded again. So the actor and each block task share this notice, and the last one
//! to let go of it sends `PeerLeft`.

use actix::Recipient;

use crate::actors::piece_manager::msg::PeerLeft;
use crate::choker::PeerKey;

/// Sends `PeerLeft { key }` when dropped; shared by `Arc`, see the module docs.
#[derive(Debug)]
pub(super) struct LeaveNotice {
    left: Recipient<PeerLeft>,
    key: PeerKey,
}

impl LeaveNotice {
    /// A notice for connection `key`.
    pub(super) fn new(left: Recipient<PeerLeft>, key: PeerKey) -> Self {
        Self { left, key }
    }
}

impl Drop for LeaveNotice {
    fn drop(&mut self) {
        self.left.do_send(PeerLeft { key: self.key });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use actix::{Actor, Context, Handler};
    use tokio::sync::mpsc;

    use super::*;

    struct Collector(mpsc::UnboundedSender<PeerKey>);

    impl Actor for Collector {
        type Context = Context<Self>;
    }

    impl Handler<PeerLeft> for Collector {
        type Result = ();

        fn handle(&mut self, msg: PeerLeft, _: &mut Context<Self>) {
            let _ = self.0.send(msg.key);
        }
    }

    #[actix::test]
    async fn peer_left_goes_when_the_last_holder_lets_go() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let left = Collector(tx).start().recipient();
        let notice = Arc::new(LeaveNotice::new(left, PeerKey(7)));
        let block_task = Arc::clone(&notice);
        drop(notice); // the actor stopped
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(rx.try_recv().is_err(), "a block is still on its way");
        drop(block_task);
        let key = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
        assert_eq!(key.unwrap(), Some(PeerKey(7)));
        assert!(rx.try_recv().is_err(), "sent once");
    }
}
