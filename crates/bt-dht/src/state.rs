//! The routing table saved between runs: our node id and the nodes we knew.
//!
//! A restarted node that keeps its id and asks the nodes it knew rejoins the network at once,
//! without the bootstrap routers, and keeps serving the part of the id space around it. The
//! file is one bencoded dictionary, in the spirit of libtorrent's DHT state:
//!
//! ```text
//! d 2:id 20:<our id>  5:nodes <26 bytes per IPv4 node>  6:nodes6 <38 bytes per IPv6 node> e
//! ```
//!
//! The nodes are not trusted on reload: they are asked again and enter the table only if they
//! answer. Reading refuses files over [`MAX_STATE_LEN`] and anything malformed, with a reason.

use bt_proto::bencode::{self, BencodeError, Node, write_bytes};
use thiserror::Error;

use crate::compact::{NodeInfo, decode_nodes, write_nodes};
use crate::id::NodeId;

/// The largest state file read: a full table is 160 buckets of 8 nodes of 38 bytes, about
/// 50 KB; anything much bigger is not ours.
pub const MAX_STATE_LEN: usize = 1024 * 1024;

/// What a state file holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedState {
    /// Our node id.
    pub id: NodeId,
    /// The nodes of the table.
    pub nodes: Vec<NodeInfo>,
}

/// Why a state file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StateError {
    /// Bigger than [`MAX_STATE_LEN`].
    #[error("state file of {0} bytes is too big")]
    TooBig(usize),
    /// Not bencode.
    #[error("state file is not bencode")]
    Bencode(#[from] BencodeError),
    /// Bencode, but not a dictionary with a 20-byte `id`.
    #[error("state file has no valid node id")]
    NoId,
}

impl SavedState {
    /// The bencoded file contents.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![b'd'];
        write_bytes(&mut out, b"id");
        write_bytes(&mut out, self.id.as_bytes());
        for (key, v6) in [(&b"nodes"[..], false), (&b"nodes6"[..], true)] {
            let mut compact = Vec::new();
            write_nodes(&mut compact, &self.nodes, v6);
            write_bytes(&mut out, key);
            write_bytes(&mut out, &compact);
        }
        out.push(b'e');
        out
    }

    /// Reads file contents written by [`encode`](Self::encode).
    pub fn decode(bytes: &[u8]) -> Result<Self, StateError> {
        if bytes.len() > MAX_STATE_LEN {
            return Err(StateError::TooBig(bytes.len()));
        }
        // A handful of values; the limit keeps a hostile file from costing anything.
        let end = bencode::value_end_limited(bytes, 0, 64)?;
        if end != bytes.len() {
            return Err(BencodeError::TrailingBytes { offset: end }.into());
        }
        let Node::Dict(items) = Node::parse(bytes)? else {
            return Err(StateError::NoId);
        };
        let mut id = None;
        let mut nodes = Vec::new();
        for entry in items.entries() {
            match entry? {
                (b"id", Node::Bytes(raw)) => id = NodeId::from_slice(raw),
                (b"nodes", Node::Bytes(raw)) => nodes.extend(decode_nodes(raw, false)),
                (b"nodes6", Node::Bytes(raw)) => nodes.extend(decode_nodes(raw, true)),
                _ => {}
            }
        }
        Ok(Self {
            id: id.ok_or(StateError::NoId)?,
            nodes,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    #[test]
    fn the_state_round_trips() {
        let state = SavedState {
            id: NodeId([5; 20]),
            nodes: vec![
                NodeInfo {
                    id: NodeId([1; 20]),
                    addr: SocketAddr::from(([127, 0, 0, 1], 4000)),
                },
                NodeInfo {
                    id: NodeId([2; 20]),
                    addr: "[::1]:5000".parse().unwrap(),
                },
            ],
        };
        assert_eq!(SavedState::decode(&state.encode()).unwrap(), state);
    }

    #[test]
    fn damaged_files_are_refused_with_a_reason() {
        assert_eq!(SavedState::decode(b"d5:nodes0:e"), Err(StateError::NoId));
        assert_eq!(SavedState::decode(b"d2:id3:abce"), Err(StateError::NoId));
        assert!(matches!(
            SavedState::decode(b"d2:id20:abc"),
            Err(StateError::Bencode(_))
        ));
        assert!(matches!(
            SavedState::decode(&vec![b'd'; MAX_STATE_LEN + 1]),
            Err(StateError::TooBig(_))
        ));
    }
}
