//! The engine's `Choker` actor alone, fed synthetic peers with given rates and interest;
//! prints each round's unchoke decisions and why.
//!
//! ```text
//! cargo run -p bt-examples --example embed_choker
//! ```
//!
//! The scenario (see `bt_examples::choker_lab`): six peers while we leech, a newcomer at
//! round 4, seeding from round 7; rechoke every 100 ms (10 s in a real client), optimistic
//! unchoke every 300 ms, snubbed after 500 ms without a block.

use bt_engine::choker::TorrentMode;
use bt_examples::choker_lab::{LabConfig, describe, kib, run};

fn main() -> anyhow::Result<()> {
    let config = LabConfig::default();
    let lab = actix::System::new().block_on(run(config.clone()))?;
    let slots = config.choke_config();
    println!(
        "tit-for-tat: {} regular slots + {} optimistic, rechoke every {:?}, optimistic every {:?}, snubbed after {:?}",
        slots.unchoke_slots,
        slots.optimistic_slots,
        slots.rechoke_interval,
        slots.optimistic_interval,
        slots.snub_timeout
    );
    for round in &lab.rounds {
        let mode = match round.mode {
            TorrentMode::Leeching => "leeching: ranked by their rate to us",
            TorrentMode::Seeding => "seeding: ranked by our rate to them",
        };
        println!(
            "\nround {} at {:.1} s ({mode})",
            round.number,
            round.at.as_secs_f64()
        );
        println!(
            "  {:<13} {:>12} {:>12} {:>10}  verdict",
            "peer", "to us", "from us", "interested"
        );
        for peer in &round.peers {
            let reason = round
                .decision
                .reason_for(peer.key)
                .map(describe)
                .unwrap_or_else(|| "no verdict".into());
            println!(
                "  {:<13} {:>12} {:>12} {:>10}  {reason}",
                lab.label(peer.key),
                kib(peer.download_rate),
                kib(peer.upload_rate),
                if peer.interested { "yes" } else { "no" },
            );
        }
    }
    let unchokes = lab.messages.iter().filter(|(_, choked)| !choked).count();
    println!(
        "\n{} decisions; the peers received {unchokes} UNCHOKE and {} CHOKE messages",
        lab.rounds.len(),
        lab.messages.len() - unchokes
    );
    Ok(())
}
