//! A `PeerSession` told `WorkAvailable` while its `RequestBlocks` is on its way: the answer
//! may be the refusal that announcement follows (the disk caught up in between), so the
//! connection asks again once the answer is in, rather than waiting for its tick with
//! nothing requested.

use super::tests::{Refuse, interested_in_a_seed, recv, send};
use super::*;

/// A tick far beyond the test's time-out: only `WorkAvailable` can get the connection asking.
fn without_tick() -> PeerSettings {
    PeerSettings {
        tick_ms: 3_600_000,
        ..PeerSettings::default()
    }
}

#[actix::test]
async fn work_announced_during_a_refused_pick_is_asked_for_at_once() {
    let mut f = interested_in_a_seed(without_tick()).await;
    f.stub.send(Refuse(1)).await.unwrap();
    // The unchoke makes the connection ask; the stub refuses, announcing work first.
    send(&mut f.remote, PeerMessage::Unchoke).await;
    let message = recv(&mut f.remote).await;
    assert!(
        matches!(message, PeerMessage::Request(_)),
        "a REQUEST, not {message:?}"
    );
}
