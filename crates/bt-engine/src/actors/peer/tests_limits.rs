//! A connection's limits, against a remote peer played by the test: what it uploads and what
//! it requests follow `peer.upload_limit` and `peer.download_limit`, and it reads nothing
//! while the torrent's disk backlog is full.
//!
//! The assertions are lower bounds on time that the token bucket guarantees (at most
//! `burst + rate × t` bytes plus one overdrawing block by time `t`), so a slow machine can
//! only make them hold more easily.

use std::num::NonZeroU64;
use std::time::{Duration, Instant};

use bt_proto::bitfield::Bitfield;
use bt_proto::geometry::BLOCK_LEN;
use bt_proto::wire::{BlockRequest, PeerMessage};

use super::msg::{ResumeReading, SetInterest, Unchoke};
use super::tests::{Event, LEN, downloading_from_a_seed, event, fixture, recv, send};
use crate::actors::piece_manager::DiskBacklog;
use crate::config::PeerSettings;
use crate::peer::PeerConfig;
use crate::shaping::default_burst;

/// The limit under test, bytes per second.
const LIMIT: u64 = 32 * 1024;

/// The earliest moment, after the bucket was created full, by which `bytes` can have passed a
/// bucket of [`LIMIT`].
fn earliest(bytes: u64) -> Duration {
    let burst = default_burst(NonZeroU64::new(LIMIT).expect("non-zero"));
    let free = burst + u64::from(BLOCK_LEN);
    Duration::from_secs_f64(bytes.saturating_sub(free) as f64 / LIMIT as f64)
}

#[actix::test]
async fn uploads_follow_the_connection_upload_limit() {
    let settings = PeerSettings {
        upload_limit: LIMIT,
        ..PeerSettings::default()
    };
    let mut f = fixture(true, settings, PeerConfig::default()).await;
    let started = Instant::now();
    assert!(matches!(
        recv(&mut f.remote).await,
        PeerMessage::Bitfield(_)
    ));
    send(&mut f.remote, PeerMessage::Interested).await;
    f.session.do_send(Unchoke);
    assert_eq!(recv(&mut f.remote).await, PeerMessage::Unchoke);
    let blocks: Vec<_> = f
        .lengths
        .pieces()
        .flat_map(|p| f.lengths.blocks(p))
        .collect();
    for block in &blocks {
        let request = BlockRequest {
            piece: block.piece.get(),
            offset: block.offset,
            length: block.len,
        };
        send(&mut f.remote, PeerMessage::Request(request)).await;
    }
    let mut received = 0u64;
    for _ in &blocks {
        let PeerMessage::Piece { data, .. } = recv(&mut f.remote).await else {
            panic!("only blocks follow");
        };
        received += data.len() as u64;
    }
    assert_eq!(received, LEN as u64);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= earliest(received),
        "{received} bytes uploaded in {elapsed:?} under {LIMIT} B/s"
    );
}

#[actix::test]
async fn requests_follow_the_connection_download_limit() {
    let settings = PeerSettings {
        download_limit: LIMIT,
        ..PeerSettings::default()
    };
    let mut f = fixture(false, settings, PeerConfig::default()).await;
    let started = Instant::now();
    assert!(matches!(event(&mut f.events).await, Event::Joined));
    let full = Bitfield::full(f.lengths.piece_count() as usize);
    send(&mut f.remote, PeerMessage::Bitfield(full.to_bytes().into())).await;
    f.session.do_send(SetInterest { interested: true });
    assert_eq!(recv(&mut f.remote).await, PeerMessage::Interested);
    send(&mut f.remote, PeerMessage::Unchoke).await;
    let total = f.lengths.total_len();
    let mut requested = 0u64;
    while requested < total {
        let PeerMessage::Request(BlockRequest {
            piece,
            offset,
            length,
        }) = recv(&mut f.remote).await
        else {
            continue;
        };
        requested += u64::from(length);
        let elapsed = started.elapsed();
        assert!(
            elapsed >= earliest(requested),
            "{requested} bytes requested after {elapsed:?} under {LIMIT} B/s"
        );
        // Answer at once: only the throttle can hold the requests back.
        f.answer(piece, offset, length).await;
    }
    assert!(
        started.elapsed() >= earliest(total),
        "the whole payload took at least its share of the limit"
    );
}

#[actix::test]
async fn a_connection_that_fills_the_disk_backlog_reads_nothing_until_told_to_resume() {
    // A backlog that one block fills; the stub piece manager never takes it down.
    let backlog = DiskBacklog::new(u64::from(BLOCK_LEN));
    let mut f = downloading_from_a_seed(backlog.clone()).await;
    let mut requests = Vec::new();
    while requests.len() < 2 {
        if let PeerMessage::Request(request) = recv(&mut f.remote).await {
            requests.push(request);
        }
    }
    let (first, second) = (requests[0], requests[1]);
    f.answer(first.piece, first.offset, first.length).await;
    let blocks = next_received(&mut f.events).await;
    assert_eq!(blocks.len(), 1);
    assert_eq!(
        backlog.bytes(),
        u64::from(BLOCK_LEN),
        "counted as handed over"
    );
    // The backlog is full: the next block must stay in the socket.
    f.answer(second.piece, second.offset, second.length).await;
    let early = tokio::time::timeout(Duration::from_millis(300), next_received(&mut f.events));
    assert!(early.await.is_err(), "read with the backlog full");
    f.session.do_send(ResumeReading);
    let blocks = next_received(&mut f.events).await;
    assert_eq!(
        (blocks[0].0.piece.get(), blocks[0].0.offset),
        (second.piece, second.offset)
    );
}

/// The blocks of the next `Received` event (the other events are skipped).
async fn next_received(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<Event>,
) -> Vec<(bt_proto::geometry::BlockRef, bytes::Bytes)> {
    loop {
        if let Event::Received(blocks) = event(events).await {
            return blocks;
        }
    }
}
