//! [`run_experiment`]: one run, from an empty swarm to its end (every leecher complete, a
//! piece lost, a stall or the time-out).

use std::time::{Duration, Instant};

use bt_engine::{TorrentEvent, TorrentState};
use bt_test_harness::{PayloadSpec, Role, Swarm, SwarmMember};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use super::{ExperimentConfig, PeerClass, Recorder, RunEnd, RunResult, RunSpec};

/// A piece a member verified, and when.
type Verified = (usize, u32, Instant);

/// How long pieces must stay lost before the run ends for it: a piece verified just before
/// its last holder left may still be on its way to the recorder.
const LOST_GRACE: Duration = Duration::from_secs(2);

/// Runs `spec`: the seeder starts and checks its data; then the run's clock starts and the
/// leechers join one after another (a flash crowd); the lab records, lets peers leave as the
/// config says, and stops when every leecher is complete, when pieces are lost, when nothing
/// was verified for `config.stall_timeout`, or at `config.timeout`; then it reads the final
/// counters and shuts the swarm down. Must run inside an actix `System`.
pub async fn run_experiment(config: &ExperimentConfig, spec: RunSpec) -> anyhow::Result<RunResult> {
    let payload =
        PayloadSpec::single_file("lab.bin", config.payload_len).with_piece_length(config.piece_len);
    let mut swarm = Swarm::builder()
        .payload(payload, config.seed)
        .seeders(0)
        .leechers(0)
        .build()
        .await?;
    let seeder = start_member(&mut swarm, config, &spec, PeerClass::Seeder).await?;
    let seeding = |s: &bt_engine::TorrentStats| s.state == TorrentState::Seeding;
    swarm.members[seeder]
        .wait_until(config.timeout, seeding)
        .await?;
    let pieces = u32::try_from(swarm.metainfo.info.pieces.len())?;
    let mut recorder = Recorder::new(pieces);
    let start = Instant::now();
    recorder.add_peer(
        PeerClass::Seeder,
        swarm.members[seeder].peer_id(),
        Duration::ZERO,
    );
    let (tx, mut verified) = unbounded_channel();
    for class in config.leecher_classes() {
        let joined = start.elapsed();
        let index = start_member(&mut swarm, config, &spec, class).await?;
        // No await since the torrent was added: no piece can have been verified yet.
        forward(&swarm.members[index], index, tx.clone());
        recorder.add_peer(class, swarm.members[index].peer_id(), joined);
    }
    drop(tx);
    let seeder_quota = config
        .seeder_leaves_after
        .map(|copies| (copies * config.payload_len as f64) as u64);
    let mut seeder_left = None;
    let mut lost_since = None;
    let mut end = RunEnd::TimedOut;
    let deadline = tokio::time::Instant::now() + config.timeout;
    let mut tick = tokio::time::interval(config.sample_interval);
    loop {
        tokio::select! {
            Some((index, piece, when)) = verified.recv() => {
                let at = when.saturating_duration_since(start);
                if recorder.piece_verified(index, piece, at) && config.leave_on_complete {
                    swarm.members[index].torrent.pause().await?;
                    recorder.peer_left(index);
                }
            }
            _ = tick.tick() => {
                let seeder_uploaded = sample(&swarm, &mut recorder).await;
                let now = start.elapsed();
                if seeder_left.is_none() && seeder_quota.is_some_and(|q| seeder_uploaded >= q) {
                    swarm.members[seeder].torrent.pause().await?;
                    recorder.peer_left(seeder);
                    seeder_left = Some(now);
                }
                recorder.sample(now);
                if recorder.all_complete() {
                    end = RunEnd::Complete;
                    break;
                }
                if recorder.lost_pieces() == 0 {
                    lost_since = None;
                } else if now.saturating_sub(*lost_since.get_or_insert(now)) >= LOST_GRACE {
                    end = RunEnd::PiecesLost;
                    break;
                }
                if now.saturating_sub(recorder.last_progress()) >= config.stall_timeout {
                    end = RunEnd::Stalled;
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
        end,
        seeder_left,
        payload_len: config.payload_len,
        capacities,
    })
}

/// Starts the next member, of `class`: the seeder reads the payload's directory, a leecher
/// starts empty; each with its class's configuration and its own seed. Returns its index.
async fn start_member(
    swarm: &mut Swarm,
    config: &ExperimentConfig,
    spec: &RunSpec,
    class: PeerClass,
) -> anyhow::Result<usize> {
    let index = swarm.members.len();
    let engine = config.member_config(class, spec);
    let strategies = spec.strategies(class == PeerClass::FreeRider, config.member_seed(index));
    let (role, dir, temp) = if class == PeerClass::Seeder {
        let dir = swarm.payload.data_dir().to_path_buf();
        (Role::Seeder, dir, None)
    } else {
        let temp = tempfile::Builder::new().prefix("bt-lab-").tempdir()?;
        (Role::Leecher, temp.path().to_path_buf(), Some(temp))
    };
    let member =
        SwarmMember::start_with(role, engine, strategies, &swarm.metainfo, dir, temp).await?;
    swarm.members.push(member);
    Ok(index)
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
                // A lagging receiver loses events (the channel holds far more than a run's
                // pieces, so it does not happen at the lab's sizes).
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
        }
    });
}

/// One sample of every member's connections; returns what the seeder (member 0) uploaded.
async fn sample(swarm: &Swarm, recorder: &mut Recorder) -> u64 {
    let mut seeder_uploaded = 0;
    for (index, member) in swarm.members.iter().enumerate() {
        if let Ok(stats) = member.stats().await {
            recorder.connections(index, &stats.peers);
            if index == 0 {
                seeder_uploaded = stats.uploaded;
            }
        }
    }
    seeder_uploaded
}
