//! [`run_experiment`]: one run, from an empty swarm to every leecher complete (or the time-out).

use std::time::{Duration, Instant};

use bt_engine::{TorrentEvent, TorrentState};
use bt_test_harness::{PayloadSpec, Swarm, SwarmMember};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use super::{ExperimentConfig, PeerClass, Recorder, RunResult, RunSpec};

/// A piece a member verified, and when.
type Verified = (usize, u32, Instant);

/// Runs `spec`: the seeder starts and checks its data; then the run's clock starts and the
/// leechers join one after another (a flash crowd); the lab records until every leecher is
/// complete or `config.timeout` passes, reads the final counters and shuts the swarm down.
/// Must run inside an actix `System`.
pub async fn run_experiment(config: &ExperimentConfig, spec: RunSpec) -> anyhow::Result<RunResult> {
    let payload =
        PayloadSpec::single_file("lab.bin", config.payload_len).with_piece_length(config.piece_len);
    let mut swarm = Swarm::builder()
        .payload(payload, config.seed)
        .seeders(1)
        .leechers(0)
        .seeder_config(config.member_config(PeerClass::Seeder, spec))
        .build()
        .await?;
    let seeding = |s: &bt_engine::TorrentStats| s.state == TorrentState::Seeding;
    swarm.members[0].wait_until(config.timeout, seeding).await?;
    let pieces = u32::try_from(swarm.metainfo.info.pieces.len())?;
    let mut recorder = Recorder::new(pieces);
    let start = Instant::now();
    recorder.add_peer(
        PeerClass::Seeder,
        swarm.members[0].peer_id(),
        Duration::ZERO,
    );
    let (tx, mut verified) = unbounded_channel();
    for class in config.leecher_classes() {
        let joined = start.elapsed();
        let index = swarm
            .add_leecher_with(config.member_config(class, spec))
            .await?;
        // No await since the torrent was added: no piece can have been verified yet.
        forward(&swarm.members[index], index, tx.clone());
        recorder.add_peer(class, swarm.members[index].peer_id(), joined);
    }
    drop(tx);
    let deadline = tokio::time::Instant::now() + config.timeout;
    let mut tick = tokio::time::interval(config.sample_interval);
    loop {
        tokio::select! {
            Some((index, piece, when)) = verified.recv() => {
                let at = when.saturating_duration_since(start);
                if recorder.piece_verified(index, piece, at) && config.leave_on_complete {
                    swarm.members[index].torrent.pause().await?;
                }
            }
            _ = tick.tick() => {
                sample(&swarm, &mut recorder, start).await;
                if recorder.all_complete() {
                    break;
                }
            }
            () = tokio::time::sleep_until(deadline) => break,
        }
    }
    let wall = start.elapsed();
    // Let the last counters reach the statistics, then read the totals.
    tokio::time::sleep(Duration::from_millis(2 * 200)).await;
    for (index, member) in swarm.members.iter().enumerate() {
        let stats = member.stats().await?;
        recorder.connections(index, &stats.peers);
        recorder.totals(index, stats.uploaded, stats.downloaded);
    }
    swarm.shutdown().await?;
    let (peers, samples) = recorder.finish();
    let capacities = PeerClass::ALL
        .into_iter()
        .map(|class| (class, config.upload_of(class)))
        .collect();
    Ok(RunResult {
        name: spec.name(),
        spec,
        peers,
        samples,
        wall,
        payload_len: config.payload_len,
        capacities,
    })
}

/// Forwards the member's verified pieces to the run.
fn forward(member: &SwarmMember, index: usize, tx: UnboundedSender<Verified>) {
    let mut events = member.torrent.subscribe();
    actix::spawn(async move {
        loop {
            match events.recv().await {
                Ok(TorrentEvent::PieceVerified { piece, .. }) => {
                    if tx.send((index, piece, Instant::now())).is_err() {
                        return;
                    }
                }
                // A lagging receiver loses events; the samples still see the piece counts.
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
        }
    });
}

/// One sample: every member's connections, and the copies of pieces.
async fn sample(swarm: &Swarm, recorder: &mut Recorder, start: Instant) {
    for (index, member) in swarm.members.iter().enumerate() {
        if let Ok(stats) = member.stats().await {
            recorder.connections(index, &stats.peers);
        }
    }
    recorder.sample(start.elapsed());
}
