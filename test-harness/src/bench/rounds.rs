//! The transfers of cases 1 to 4, run in rounds. One round runs each transfer of cases 1 to
//! 3 once (bt → bt, libtorrent → bt, libtorrent → libtorrent, bt → libtorrent), so the two
//! sides of each ratio are measured seconds apart, under the same conditions.
//!
//! The order changes from round to round: on this VM a transfer's speed depends on what ran
//! just before it (pages the previous transfer freed go back to the host and must be faulted
//! in again), so no case may always go first, or always follow the same one. Odd rounds
//! (counting from 0) run the round before backwards, which puts each of a ratio's two sides
//! first equally often; the even ones rotate the order by one more, so each case also leads
//! a round in turn. The memory case alternates its two sizes the same way.
//!
//! Every transfer starts a fresh seeder and stops it afterwards, so each runs alone on the
//! machine with a seeder that has served nobody before.

use super::seeder::Seeder;
use super::transfer::{self, Client, Fixture, Tools, Transfer};

/// One transfer of cases 1 to 3: who seeds, who leeches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pair {
    /// Case 1: `bt seed` → `bt download`.
    BtToBt,
    /// Case 2: libtorrent → `bt download`.
    LibtorrentToBt,
    /// Cases 2 and 3's reference: libtorrent → libtorrent.
    LibtorrentToLibtorrent,
    /// Case 3: `bt seed` → libtorrent.
    BtToLibtorrent,
}

impl Pair {
    /// Every transfer of a round, in the order.
    pub const ALL: [Self; 4] = [
        Self::BtToBt,
        Self::LibtorrentToBt,
        Self::LibtorrentToLibtorrent,
        Self::BtToLibtorrent,
    ];

    /// The seeding client.
    pub fn seeder(self) -> Client {
        match self {
            Self::BtToBt | Self::BtToLibtorrent => Client::Bt,
            Self::LibtorrentToBt | Self::LibtorrentToLibtorrent => Client::Libtorrent,
        }
    }

    /// The downloading client.
    pub fn leecher(self) -> Client {
        match self {
            Self::BtToBt | Self::LibtorrentToBt => Client::Bt,
            Self::LibtorrentToLibtorrent | Self::BtToLibtorrent => Client::Libtorrent,
        }
    }

    /// "bt → libtorrent".
    pub fn label(self) -> String {
        format!("{} → {}", name(self.seeder()), name(self.leecher()))
    }

    fn index(self) -> usize {
        Self::ALL
            .iter()
            .position(|&pair| pair == self)
            .expect("invariant: ALL lists every pair")
    }
}

fn name(client: Client) -> &'static str {
    match client {
        Client::Bt => "bt",
        Client::Libtorrent => "libtorrent",
    }
}

/// The order of the transfers in round `round` (0-based): [`Pair::ALL`] rotated left by
/// `round / 2`, and reversed in odd rounds.
pub fn order(round: usize) -> [Pair; 4] {
    let mut order = Pair::ALL;
    order.rotate_left(round / 2 % Pair::ALL.len());
    if round % 2 == 1 {
        order.reverse();
    }
    order
}

/// The order of the memory case's two sizes (0 the small, 1 the large) in round `round`:
/// small first in even rounds, large first in odd ones.
pub fn memory_order(round: usize) -> [usize; 2] {
    if round % 2 == 0 { [0, 1] } else { [1, 0] }
}

/// The four transfers of one round.
#[derive(Debug, Clone)]
pub struct TransferRound {
    /// The order they ran in.
    pub order: [Pair; 4],
    /// Their figures, in [`Pair::ALL`]'s order.
    transfers: [Transfer; 4],
}

impl TransferRound {
    /// A round that ran in `order`, with `transfers` in [`Pair::ALL`]'s order.
    pub fn new(order: [Pair; 4], transfers: [Transfer; 4]) -> Self {
        Self { order, transfers }
    }

    /// The figures of `pair`'s transfer.
    pub fn get(&self, pair: Pair) -> &Transfer {
        &self.transfers[pair.index()]
    }

    /// Where `pair` ran in the round (1 = first).
    pub fn position(&self, pair: Pair) -> usize {
        self.order
            .iter()
            .position(|&p| p == pair)
            .expect("invariant: every round runs every pair")
            + 1
    }
}

/// Runs round `round` of cases 1 to 3 on the fixture; `log` hears each transfer starting.
pub async fn transfer_round(
    fixture: &Fixture,
    tools: &Tools,
    round: usize,
    log: &impl Fn(&str),
) -> anyhow::Result<TransferRound> {
    let order = order(round);
    let mut slots: [Option<Transfer>; 4] = Default::default();
    for pair in order {
        log(&format!("round {}: {}", round + 1, pair.label()));
        slots[pair.index()] = Some(transfer(fixture, pair, tools).await?);
    }
    let [Some(a), Some(b), Some(c), Some(d)] = slots else {
        anyhow::bail!("invariant: a round runs every transfer");
    };
    Ok(TransferRound::new(order, [a, b, c, d]))
}

/// One download of the fixture with a fresh seeder, started before and stopped after.
pub async fn transfer(fixture: &Fixture, pair: Pair, tools: &Tools) -> anyhow::Result<Transfer> {
    let seeder = Seeder::start(pair.seeder(), fixture, tools).await?;
    let figures = transfer::download(fixture, &seeder, pair.leecher(), tools).await?;
    seeder.stop(tools.limit).await?;
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Pair::*;

    #[test]
    fn the_first_rounds_alternate_and_rotate() {
        let expected = [
            [
                BtToBt,
                LibtorrentToBt,
                LibtorrentToLibtorrent,
                BtToLibtorrent,
            ],
            [
                BtToLibtorrent,
                LibtorrentToLibtorrent,
                LibtorrentToBt,
                BtToBt,
            ],
            [
                LibtorrentToBt,
                LibtorrentToLibtorrent,
                BtToLibtorrent,
                BtToBt,
            ],
            [
                BtToBt,
                BtToLibtorrent,
                LibtorrentToLibtorrent,
                LibtorrentToBt,
            ],
        ];
        for (round, want) in expected.iter().enumerate() {
            assert_eq!(order(round), *want, "round {round}");
        }
    }

    /// Whether `a` runs before `b` in `round`.
    fn before(round: usize, a: Pair, b: Pair) -> bool {
        let order = order(round);
        order.iter().position(|&p| p == a) < order.iter().position(|&p| p == b)
    }

    #[test]
    fn each_side_of_a_ratio_goes_first_in_half_the_rounds() {
        for (a, b) in [
            (LibtorrentToBt, LibtorrentToLibtorrent),
            (BtToLibtorrent, LibtorrentToLibtorrent),
            (BtToBt, LibtorrentToBt),
        ] {
            for pair_of_rounds in 0..8 {
                let (even, odd) = (2 * pair_of_rounds, 2 * pair_of_rounds + 1);
                assert_ne!(before(even, a, b), before(odd, a, b), "{a:?}, {b:?}");
            }
        }
    }

    #[test]
    fn every_transfer_leads_a_round_in_turn_and_each_round_runs_all() {
        let leaders: Vec<Pair> = (0..8).map(|round| order(round)[0]).collect();
        for pair in Pair::ALL {
            assert_eq!(
                leaders.iter().filter(|&&p| p == pair).count(),
                2,
                "{pair:?}"
            );
        }
        for round in 0..8 {
            let mut seen = order(round).map(Pair::index);
            seen.sort_unstable();
            assert_eq!(seen, [0, 1, 2, 3]);
        }
        assert_eq!(memory_order(0), [0, 1]);
        assert_eq!(memory_order(1), [1, 0]);
    }

    #[test]
    fn pairs_name_their_clients() {
        assert_eq!(BtToLibtorrent.label(), "bt → libtorrent");
        assert_eq!(LibtorrentToBt.seeder(), Client::Libtorrent);
        assert_eq!(LibtorrentToBt.leecher(), Client::Bt);
    }
}
