//! Compact contact information (BEP 5; IPv6 forms from BEP 32).
//!
//! A peer is 6 bytes (IPv4 address, port, network byte order) or 18 bytes (IPv6). A node is
//! its 20-byte id followed by the peer form: 26 bytes for IPv4 (`nodes`), 38 for IPv6
//! (`nodes6`). Node lists are one string of concatenated entries; a partial entry at the end is
//! ignored, as libtorrent does.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::id::{ID_LEN, NodeId};

/// A compact IPv4 peer: 4 address bytes and 2 port bytes.
pub const PEER4_LEN: usize = 6;
/// A compact IPv6 peer: 16 address bytes and 2 port bytes.
pub const PEER6_LEN: usize = 18;
/// A compact IPv4 node: id then peer.
pub const NODE4_LEN: usize = ID_LEN + PEER4_LEN;
/// A compact IPv6 node: id then peer.
pub const NODE6_LEN: usize = ID_LEN + PEER6_LEN;

/// A DHT node: its id and where it listens.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct NodeInfo {
    /// The id it announced.
    pub id: NodeId,
    /// Its UDP address.
    pub addr: SocketAddr,
}

/// Appends the compact form of `addr` (6 or 18 bytes).
pub fn write_peer(out: &mut Vec<u8>, addr: &SocketAddr) {
    match addr.ip() {
        IpAddr::V4(ip) => out.extend_from_slice(&ip.octets()),
        IpAddr::V6(ip) => out.extend_from_slice(&ip.octets()),
    }
    out.extend_from_slice(&addr.port().to_be_bytes());
}

/// The compact form of `addr`.
pub fn encode_peer(addr: &SocketAddr) -> Vec<u8> {
    let mut out = Vec::with_capacity(PEER6_LEN);
    write_peer(&mut out, addr);
    out
}

/// Reads a compact peer of 6 or 18 bytes; any other length is `None`.
pub fn decode_peer(bytes: &[u8]) -> Option<SocketAddr> {
    let (ip, port) = match bytes.len() {
        PEER4_LEN => {
            let octets: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
            (IpAddr::V4(Ipv4Addr::from(octets)), bytes.get(4..6)?)
        }
        PEER6_LEN => {
            let octets: [u8; 16] = bytes.get(..16)?.try_into().ok()?;
            (IpAddr::V6(Ipv6Addr::from(octets)), bytes.get(16..18)?)
        }
        _ => return None,
    };
    let port = u16::from_be_bytes(port.try_into().ok()?);
    Some(SocketAddr::new(ip, port))
}

/// Appends the compact form of each node of the given family (IPv4 for `nodes`, IPv6 for
/// `nodes6`); nodes of the other family are skipped.
pub fn write_nodes<'a>(out: &mut Vec<u8>, nodes: impl IntoIterator<Item = &'a NodeInfo>, v6: bool) {
    for node in nodes {
        if node.addr.is_ipv6() == v6 {
            out.extend_from_slice(node.id.as_bytes());
            write_peer(out, &node.addr);
        }
    }
}

/// Reads a `nodes` (IPv4, `v6` false) or `nodes6` string; a partial trailing entry is ignored.
pub fn decode_nodes(bytes: &[u8], v6: bool) -> Vec<NodeInfo> {
    let len = if v6 { NODE6_LEN } else { NODE4_LEN };
    bytes
        .chunks_exact(len)
        .filter_map(|entry| {
            let (id, peer) = entry.split_at(ID_LEN);
            Some(NodeInfo {
                id: NodeId::from_slice(id)?,
                addr: decode_peer(peer)?,
            })
        })
        .collect()
}

/// Whether a node or peer address is worth contacting: a real address and a non-zero port.
pub fn is_usable(addr: &SocketAddr) -> bool {
    addr.port() != 0 && !addr.ip().is_unspecified() && !addr.ip().is_multicast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_round_trip_in_both_families() {
        let v4: SocketAddr = "1.2.3.4:6881".parse().unwrap();
        assert_eq!(encode_peer(&v4), [1, 2, 3, 4, 0x1a, 0xe1]);
        assert_eq!(decode_peer(&encode_peer(&v4)), Some(v4));
        let v6: SocketAddr = "[2001:db8::1]:443".parse().unwrap();
        assert_eq!(encode_peer(&v6).len(), PEER6_LEN);
        assert_eq!(decode_peer(&encode_peer(&v6)), Some(v6));
        assert_eq!(decode_peer(&[1, 2, 3]), None);
    }

    #[test]
    fn nodes_round_trip_and_ignore_a_partial_tail() {
        let nodes = [
            NodeInfo {
                id: NodeId([1; 20]),
                addr: "10.0.0.1:1".parse().unwrap(),
            },
            NodeInfo {
                id: NodeId([2; 20]),
                addr: "[::1]:2".parse().unwrap(),
            },
            NodeInfo {
                id: NodeId([3; 20]),
                addr: "10.0.0.3:3".parse().unwrap(),
            },
        ];
        let mut v4 = Vec::new();
        write_nodes(&mut v4, &nodes, false);
        assert_eq!(v4.len(), 2 * NODE4_LEN);
        v4.extend_from_slice(&[9; 10]);
        assert_eq!(decode_nodes(&v4, false), vec![nodes[0], nodes[2]]);
        let mut v6 = Vec::new();
        write_nodes(&mut v6, &nodes, true);
        assert_eq!(decode_nodes(&v6, true), vec![nodes[1]]);
    }

    #[test]
    fn port_zero_and_unspecified_addresses_are_unusable() {
        assert!(is_usable(&"1.2.3.4:1".parse().unwrap()));
        assert!(!is_usable(&"1.2.3.4:0".parse().unwrap()));
        assert!(!is_usable(&"0.0.0.0:6881".parse().unwrap()));
    }
}
