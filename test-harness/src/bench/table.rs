//! From the figures of every round to the rows of the table, in case order. Each row keeps
//! one figure per round; a ratio is taken within each round (see [`stats::ratios`]).

use super::inprocess::SwarmRun;
use super::report::{Row, Target};
use super::rounds::{Pair, TransferRound};
use super::stats::{self, Spread};
use super::transfer::Transfer;
use super::{MIB, Sizes, size};

/// Every figure of a run, round by round, before it becomes rows.
#[derive(Debug, Clone)]
pub(super) struct Figures {
    /// Case 7: SHA-1 on one core, bytes per second.
    pub sha1_bps: Vec<f64>,
    /// Case 7: one loopback TCP connection, bytes per second.
    pub loopback_bps: Vec<f64>,
    /// Cases 1 to 3.
    pub transfers: Vec<TransferRound>,
    /// Case 4: the small and the large payload.
    pub memory: Vec<[Transfer; 2]>,
    /// Case 5.
    pub swarm: Vec<SwarmRun>,
    /// Case 6: seconds to re-verify the payload.
    pub resume_s: Vec<f64>,
}

impl Figures {
    /// One figure of `pair`'s transfer per round.
    fn of(&self, pair: Pair, figure: impl Fn(&Transfer) -> f64) -> Vec<f64> {
        self.transfers.iter().map(|r| figure(r.get(pair))).collect()
    }

    /// Where `pair` ran in each round.
    fn positions(&self, pair: Pair) -> Vec<usize> {
        self.transfers.iter().map(|r| r.position(pair)).collect()
    }

    /// The download limit of each round: the lower of SHA-1 and loopback, MiB/s.
    fn limit_mib(&self) -> Vec<f64> {
        self.sha1_bps
            .iter()
            .zip(&self.loopback_bps)
            .map(|(sha1, loopback)| sha1.min(*loopback) / MIB as f64)
            .collect()
    }
}

/// The median of `values`, for a limit the table divides by (1.0 if there are none).
fn median(values: &[f64]) -> f64 {
    Spread::of(values).map_or(1.0, |s| s.median)
}

/// The rows of cases 1 to 3.
fn transfer_rows(f: &Figures, payload: &str, limit_mib: f64) -> Vec<Row> {
    use Pair::*;
    let case = |pair: Pair| match pair {
        BtToBt => format!("1. bt → bt, {payload}"),
        LibtorrentToBt => format!("2. libtorrent → bt, {payload}"),
        LibtorrentToLibtorrent => format!("2. libtorrent → libtorrent, {payload}"),
        BtToLibtorrent => format!("3. bt → libtorrent, {payload}"),
    };
    let row = |pair: Pair, measure: &str, figure: fn(&Transfer) -> f64| {
        Row::new(&case(pair), measure, f.of(pair, figure)).positions(f.positions(pair))
    };
    let rate = |pair| row(pair, "MiB/s", Transfer::mib_per_s).of_limit(limit_mib);
    let from_spawn = |pair| {
        row(
            pair,
            "MiB/s from the leecher's start",
            Transfer::mib_per_s_from_spawn,
        )
    };
    let leecher_cpu = |pair| row(pair, "leecher CPU s/GiB", Transfer::leecher_cpu_per_gib);
    let seeder_cpu = |pair| row(pair, "seeder CPU s/GiB", Transfer::seeder_cpu_per_gib);
    let rss = |pair| row(pair, "leecher peak RSS, MiB", peak_rss_mib);
    let ratio = |case: &str, measure: &str, (a, b): (Pair, Pair), figure: fn(&Transfer) -> f64| {
        Row::new(
            case,
            measure,
            stats::ratios(&f.of(a, figure), &f.of(b, figure)),
        )
    };
    let lt_bt_vs_lt_lt = (LibtorrentToBt, LibtorrentToLibtorrent);
    let bt_lt_vs_lt_lt = (BtToLibtorrent, LibtorrentToLibtorrent);
    vec![
        rate(BtToBt).target(Target::AtLeast(700.0)),
        from_spawn(BtToBt),
        leecher_cpu(BtToBt),
        rss(BtToBt),
        seeder_cpu(BtToBt),
        rate(LibtorrentToBt),
        from_spawn(LibtorrentToBt),
        leecher_cpu(LibtorrentToBt),
        rate(LibtorrentToLibtorrent),
        from_spawn(LibtorrentToLibtorrent),
        leecher_cpu(LibtorrentToLibtorrent),
        seeder_cpu(LibtorrentToLibtorrent),
        ratio(
            "2. ratio",
            "MiB/s, bt leecher / libtorrent leecher",
            lt_bt_vs_lt_lt,
            Transfer::mib_per_s,
        )
        .target(Target::AtLeast(1.0)),
        ratio(
            "2. ratio",
            "leecher CPU, bt / libtorrent",
            lt_bt_vs_lt_lt,
            Transfer::leecher_cpu_per_gib,
        )
        .target(Target::AtMost(1.0)),
        rate(BtToLibtorrent),
        seeder_cpu(BtToLibtorrent),
        ratio(
            "3. ratio",
            "MiB/s, bt seeder / libtorrent seeder",
            bt_lt_vs_lt_lt,
            Transfer::mib_per_s,
        )
        .target(Target::AtLeast(1.5)),
        ratio(
            "3. ratio",
            "seeder CPU, bt / libtorrent",
            bt_lt_vs_lt_lt,
            Transfer::seeder_cpu_per_gib,
        ),
    ]
}

fn peak_rss_mib(t: &Transfer) -> f64 {
    t.leecher_peak_rss_kib as f64 / 1024.0
}

/// The table, in case order.
pub(super) fn rows(f: &Figures, sizes: &Sizes) -> Vec<Row> {
    let limit_mib = median(&f.limit_mib());
    let payload = size(sizes.transfer);
    let mut rows = transfer_rows(f, &payload, limit_mib);

    let memory = |i: usize| -> Vec<f64> { f.memory.iter().map(|m| peak_rss_mib(&m[i])).collect() };
    let case4 = |len: u64| format!("4. memory, bt → bt, {}", size(len));
    let [small, large] = sizes.memory;
    let swarm = format!(
        "5. swarm, 1 + {} in-process, {}",
        sizes.swarm_leechers,
        size(sizes.swarm)
    );
    let of_swarm = |figure: fn(&SwarmRun) -> f64| f.swarm.iter().map(figure).collect();
    let resume_gbps = f
        .resume_s
        .iter()
        .map(|s| sizes.transfer as f64 / s / 1e9)
        .collect();
    let gb = |bps: &[f64]| bps.iter().map(|b| b / 1e9).collect::<Vec<_>>();
    let mib = |bps: &[f64]| bps.iter().map(|b| b / MIB as f64).collect::<Vec<_>>();
    rows.extend([
        Row::new(&case4(small), "leecher peak RSS, MiB", memory(0)).target(Target::AtMost(64.0)),
        Row::new(&case4(large), "leecher peak RSS, MiB", memory(1)).target(Target::AtMost(64.0)),
        Row::new(
            "4. ratio",
            "peak RSS, large / small",
            stats::ratios(&memory(1), &memory(0)),
        )
        .target(Target::AtMost(1.1)),
        Row::new(
            &swarm,
            "seconds until all complete",
            of_swarm(|s| s.all_complete_s),
        )
        .target(Target::AtMost(30.0)),
        Row::new(
            &swarm,
            "seeder upload / payload",
            of_swarm(|s| s.seeder_upload_copies),
        )
        .target(Target::AtMost(3.0)),
        Row::new(&format!("6. resume check, {payload}"), "GB/s", resume_gbps)
            .of_limit(median(&gb(&f.sha1_bps)))
            .target(Target::AtLeast(1.0)),
        Row::new("7. limits", "SHA-1 on one core, GB/s", gb(&f.sha1_bps)),
        Row::new(
            "7. limits",
            "loopback TCP, one connection, MiB/s",
            mib(&f.loopback_bps),
        ),
        Row::new(
            "7. limits",
            "download limit (the lower), MiB/s",
            f.limit_mib(),
        ),
    ]);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::rounds::order;

    /// A 1 GiB transfer at `mib_per_s`, its leecher using `cpu_s` and `rss_mib`.
    fn transfer(mib_per_s: f64, cpu_s: f64, rss_mib: u64) -> Transfer {
        Transfer {
            bytes: 1 << 30,
            transfer_s: 1024.0 / mib_per_s,
            from_spawn_s: 1024.0 / mib_per_s + 0.5,
            leecher_cpu_s: cpu_s,
            seeder_cpu_s: cpu_s / 2.0,
            leecher_peak_rss_kib: rss_mib * 1024,
            samples: Vec::new(),
        }
    }

    /// Two rounds in which everything ran at half the speed in the second, except libtorrent
    /// → bt, which ran at the same speed.
    fn figures() -> Figures {
        let round = |i: usize, scale: f64| {
            TransferRound::new(
                order(i),
                [
                    transfer(600.0 * scale, 2.0, 30),
                    transfer(400.0 * (1.0 + scale) / 2.0, 1.5, 30),
                    transfer(400.0 * scale, 3.0, 30),
                    transfer(500.0 * scale, 3.0, 30),
                ],
            )
        };
        Figures {
            sha1_bps: vec![2e9, 1.8e9],
            loopback_bps: vec![4e9, 3e9],
            transfers: vec![round(0, 1.0), round(1, 0.5)],
            memory: vec![
                [transfer(1.0, 1.0, 20), transfer(1.0, 1.0, 30)],
                [transfer(1.0, 1.0, 25), transfer(1.0, 1.0, 25)],
            ],
            swarm: vec![
                SwarmRun {
                    all_complete_s: 2.0,
                    seeder_upload_copies: 2.0,
                },
                SwarmRun {
                    all_complete_s: 3.0,
                    seeder_upload_copies: 2.5,
                },
            ],
            resume_s: vec![0.5, 0.25],
        }
    }

    fn find<'a>(rows: &'a [Row], case: &str, measure: &str) -> &'a Row {
        rows.iter()
            .find(|r| r.case.starts_with(case) && r.measure == measure)
            .unwrap_or_else(|| panic!("no row {case} / {measure}"))
    }

    fn close(actual: &[f64], expected: &[f64]) {
        assert_eq!(actual.len(), expected.len(), "{actual:?}");
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() < 1e-9, "{actual:?} against {expected:?}");
        }
    }

    #[test]
    fn ratios_are_taken_within_each_round() {
        let rows = rows(&figures(), &Sizes::full());
        let ratio = find(&rows, "2. ratio", "MiB/s, bt leecher / libtorrent leecher");
        // Round 1: 400 / 400; round 2: 300 / 200.
        close(&ratio.rounds, &[1.0, 1.5]);
        let upload = find(&rows, "3. ratio", "MiB/s, bt seeder / libtorrent seeder");
        close(&upload.rounds, &[1.25, 1.25]);
        close(
            &find(&rows, "2. ratio", "leecher CPU, bt / libtorrent").rounds,
            &[0.5, 0.5],
        );
        close(
            &find(&rows, "4. ratio", "peak RSS, large / small").rounds,
            &[1.5, 1.0],
        );
    }

    #[test]
    fn rows_keep_every_round_and_where_the_transfer_ran() {
        let rows = rows(&figures(), &Sizes::full());
        assert!(rows.iter().all(|r| r.rounds.len() == 2), "{rows:?}");
        let bt_bt = find(&rows, "1. bt → bt", "MiB/s");
        close(&bt_bt.rounds, &[600.0, 300.0]);
        // Round 1 runs the order, round 2 the reverse.
        assert_eq!(bt_bt.positions, [1, 4]);
        assert_eq!(find(&rows, "3. bt → libtorrent", "MiB/s").positions, [4, 1]);
        assert!(
            find(&rows, "2. ratio", "leecher CPU, bt / libtorrent")
                .positions
                .is_empty()
        );
        close(
            &find(&rows, "6. resume", "GB/s").rounds,
            &[2.147483648, 4.294967296],
        );
        let limit = find(&rows, "7. limits", "download limit (the lower), MiB/s");
        close(&limit.rounds, &[2e9 / MIB as f64, 1.8e9 / MIB as f64]);
        // The rate's share of the limit is the median rate over the median limit.
        assert_eq!(bt_bt.limit, Some(1.9e9 / MIB as f64));
    }
}
