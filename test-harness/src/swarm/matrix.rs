//! [`TransferMatrix`]: who sent how many payload bytes to whom in a swarm.
//!
//! Built from each member's per-peer totals ([`bt_engine::TorrentStats::peer_totals`], which
//! keep the counters of ended connections too), mapped to members by peer id. Each direction
//! is kept as both ends counted it: the sender's `uploaded` and the receiver's `downloaded`
//! (a block in flight when a connection closed counts at the sender only). Bytes exchanged
//! with peers that are not members now (a member's previous session after a restart, an
//! outside peer) are kept per member as "outside".

use std::fmt;

use bt_engine::PeerTotals;
use bt_proto::PeerId;

/// Payload bytes between the members of a swarm; indices are member indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferMatrix {
    /// `uploaded[from][to]`: what `from` counted as sent to `to`.
    uploaded: Vec<Vec<u64>>,
    /// `downloaded[to][from]`: what `to` counted as received from `from`.
    downloaded: Vec<Vec<u64>>,
    /// Per member: (sent to, received from) peers that are not members.
    outside: Vec<(u64, u64)>,
}

impl TransferMatrix {
    /// Builds the matrix from every member's peer id and per-peer totals
    /// ([`bt_engine::TorrentStats::peer_totals`]), in member order.
    pub fn from_totals(members: &[(PeerId, Vec<PeerTotals>)]) -> Self {
        let n = members.len();
        let index_of = |id: &PeerId| members.iter().position(|(member, _)| member == id);
        let mut matrix = TransferMatrix {
            uploaded: vec![vec![0; n]; n],
            downloaded: vec![vec![0; n]; n],
            outside: vec![(0, 0); n],
        };
        for (me, (_, peers)) in members.iter().enumerate() {
            for totals in peers {
                match index_of(&totals.peer_id) {
                    Some(other) => {
                        matrix.uploaded[me][other] += totals.uploaded;
                        matrix.downloaded[me][other] += totals.downloaded;
                    }
                    None => {
                        matrix.outside[me].0 += totals.uploaded;
                        matrix.outside[me].1 += totals.downloaded;
                    }
                }
            }
        }
        matrix
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.uploaded.len()
    }

    /// Whether the swarm had no members.
    pub fn is_empty(&self) -> bool {
        self.uploaded.is_empty()
    }

    /// Bytes `from` sent to `to`, as `from` counted them.
    pub fn sent(&self, from: usize, to: usize) -> u64 {
        self.uploaded[from][to]
    }

    /// Bytes `to` received from `from`, as `to` counted them.
    pub fn received(&self, to: usize, from: usize) -> u64 {
        self.downloaded[to][from]
    }

    /// Everything `from` sent to other members.
    pub fn sent_by(&self, from: usize) -> u64 {
        self.uploaded[from].iter().sum()
    }

    /// Everything `to` received from members for which `sender` holds.
    pub fn received_by_from(&self, to: usize, sender: impl Fn(usize) -> bool) -> u64 {
        (0..self.len())
            .filter(|&from| sender(from))
            .map(|from| self.downloaded[to][from])
            .sum()
    }

    /// Bytes member `i` sent to and received from peers that are not members.
    pub fn outside(&self, i: usize) -> (u64, u64) {
        self.outside[i]
    }
}

impl fmt::Display for TransferMatrix {
    /// A table of KiB sent (sender's count): one row per sender, one column per receiver.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KiB sent  ")?;
        for to in 0..self.len() {
            write!(f, "{:>8}", format!("to {to}"))?;
        }
        writeln!(f, "{:>10}", "outside")?;
        for from in 0..self.len() {
            write!(f, "from {from:<4} ")?;
            for to in 0..self.len() {
                write!(f, "{:>8}", self.uploaded[from][to] / 1024)?;
            }
            writeln!(f, "{:>10}", self.outside[from].0 / 1024)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    fn id(i: u8) -> PeerId {
        PeerId([i; 20])
    }

    fn totals(peers: &[(u8, u64, u64)]) -> Vec<PeerTotals> {
        let addr: SocketAddr = "127.0.0.1:1".parse().expect("a literal address");
        peers
            .iter()
            .map(|&(peer, downloaded, uploaded)| PeerTotals {
                peer_id: id(peer),
                addr,
                downloaded,
                uploaded,
                connections: 1,
                connected: false,
            })
            .collect()
    }

    #[test]
    fn each_direction_is_kept_as_both_ends_counted_it() {
        // Member 0 (id 10) sent 100 to member 1 (id 11), which counted 90; member 1 sent 5 to
        // id 99, which is not a member.
        let members = [
            (id(10), totals(&[(11, 0, 100)])),
            (id(11), totals(&[(10, 90, 0), (99, 7, 5)])),
        ];
        let matrix = TransferMatrix::from_totals(&members);
        assert_eq!(matrix.len(), 2);
        assert_eq!(matrix.sent(0, 1), 100);
        assert_eq!(matrix.received(1, 0), 90);
        assert_eq!(matrix.sent(1, 0), 0);
        assert_eq!(matrix.sent_by(0), 100);
        assert_eq!(matrix.received_by_from(1, |from| from == 0), 90);
        assert_eq!(matrix.received_by_from(1, |from| from == 1), 0);
        assert_eq!(matrix.outside(1), (5, 7));
        let table = matrix.to_string();
        assert!(
            table
                .lines()
                .nth(1)
                .is_some_and(|row| row.starts_with("from 0"))
        );
    }
}
