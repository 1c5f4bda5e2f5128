//! BEP 11 `ut_pex`: peer exchange, the peers a connected peer has met or lost since its last
//! message.
//!
//! The payload is a bencoded dictionary of compact address strings (6 bytes per IPv4 peer, 18
//! per IPv6 peer, address then port, big-endian) and one flag byte per added peer:
//! `added`, `added.f`, `added6`, `added6.f`, `dropped`, `dropped6`.
//!
//! Limits: a sender should list at most [`MAX_PEX_PEERS`] added and as many dropped peers per
//! message, at most once a minute (the convention of libtorrent, µTorrent and Vuze, which BEP 11
//! follows). The decoder keeps at most [`MAX_DECODED_PEERS`] entries of each list, twice that,
//! so a hostile peer cannot make us hold thousands of addresses from one message, and skips
//! entries with port 0. A list whose length is not a multiple of the entry size loses its
//! partial last entry (as compact tracker lists do); a flags string shorter than its list
//! leaves the remaining peers without flags.

use std::net::{IpAddr, SocketAddr};

use crate::bencode::{Node, write_bytes};
use crate::tracker::compact::{decode_compact, encode_compact};

use super::{ExtensionError, dictionary};

/// The most added (and, separately, dropped) peers to put in one message.
pub const MAX_PEX_PEERS: usize = 50;

/// The most entries kept from each list of a received message.
pub const MAX_DECODED_PEERS: usize = 2 * MAX_PEX_PEERS;

/// The flag byte of an added peer (BEP 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PexFlags(pub u8);

impl PexFlags {
    /// 0x01: the peer prefers encrypted connections.
    pub const PREFERS_ENCRYPTION: u8 = 0x01;
    /// 0x02: the peer is a seed (or upload-only).
    pub const SEED: u8 = 0x02;
    /// 0x04: the peer supports uTP.
    pub const UTP: u8 = 0x04;
    /// 0x08: the peer supports `ut_holepunch`.
    pub const HOLEPUNCH: u8 = 0x08;
    /// 0x10: the sender connected to the peer (so the address accepts connections).
    pub const REACHABLE: u8 = 0x10;

    /// The flags a client that speaks neither encryption, uTP nor hole punching can vouch
    /// for: [`Self::SEED`] for a peer known to have every piece, [`Self::REACHABLE`] for one
    /// we connected to ourselves. The other bits stay clear.
    pub fn for_peer(seed: bool, reachable: bool) -> Self {
        let mut flags = 0;
        if seed {
            flags |= Self::SEED;
        }
        if reachable {
            flags |= Self::REACHABLE;
        }
        Self(flags)
    }

    /// Whether every bit of `flag` is set.
    pub fn has(self, flag: u8) -> bool {
        self.0 & flag == flag
    }

    /// Whether the peer is a seed.
    pub fn seed(self) -> bool {
        self.has(Self::SEED)
    }

    /// Whether the sender reached the peer by dialling it.
    pub fn reachable(self) -> bool {
        self.has(Self::REACHABLE)
    }
}

/// A peer in an `added` list, with its flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PexPeer {
    /// Where it accepts connections (for a peer that dialled the sender: the port from its
    /// extension handshake).
    pub addr: SocketAddr,
    /// What the sender knows about it.
    pub flags: PexFlags,
}

/// One `ut_pex` message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PexMessage {
    /// Peers the sender connected to since its last message, IPv4 and IPv6 together.
    pub added: Vec<PexPeer>,
    /// Peers the sender lost since its last message.
    pub dropped: Vec<SocketAddr>,
}

impl PexMessage {
    /// Whether there is nothing to tell (such a message is not worth sending; µTorrent 1.8
    /// took an empty one as an error).
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.dropped.is_empty()
    }

    /// The bencoded payload, with all six keys in canonical order (empty strings where a list
    /// is empty, as libtorrent writes them).
    pub fn encode(&self) -> Vec<u8> {
        let (added4, added6): (Vec<&PexPeer>, Vec<&PexPeer>) =
            self.added.iter().partition(|p| p.addr.is_ipv4());
        let (dropped4, dropped6): (Vec<&SocketAddr>, Vec<&SocketAddr>) =
            self.dropped.iter().partition(|a| a.is_ipv4());
        let mut out = Vec::with_capacity(64 + 19 * self.added.len() + 18 * self.dropped.len());
        out.push(b'd');
        for (key, peers) in [(&b"added"[..], &added4), (&b"added6"[..], &added6)] {
            write_bytes(&mut out, key);
            write_bytes(&mut out, &compact(peers.iter().map(|p| &p.addr)));
            write_bytes(&mut out, &[key, &b".f"[..]].concat());
            let flags: Vec<u8> = peers.iter().map(|p| p.flags.0).collect();
            write_bytes(&mut out, &flags);
        }
        write_bytes(&mut out, b"dropped");
        write_bytes(&mut out, &compact(dropped4.iter().copied()));
        write_bytes(&mut out, b"dropped6");
        write_bytes(&mut out, &compact(dropped6.iter().copied()));
        out.push(b'e');
        out
    }

    /// Decodes a `ut_pex` payload; see the module docs for what is kept.
    pub fn decode(payload: &[u8]) -> Result<Self, ExtensionError> {
        let mut lists: [&[u8]; 6] = [&[]; 6];
        for entry in dictionary(payload)?.entries() {
            let (key, value) = entry?;
            let slot = match key {
                b"added" => 0,
                b"added.f" => 1,
                b"added6" => 2,
                b"added6.f" => 3,
                b"dropped" => 4,
                b"dropped6" => 5,
                _ => continue,
            };
            if let Node::Bytes(bytes) = value {
                lists[slot] = bytes;
            }
        }
        let [added4, flags4, added6, flags6, dropped4, dropped6] = lists;
        let mut message = PexMessage::default();
        for (list, flags, width) in [(added4, flags4, 6), (added6, flags6, 18)] {
            let peers = list.chunks_exact(width).zip(
                flags
                    .iter()
                    .map(|&f| PexFlags(f))
                    .chain(std::iter::repeat(PexFlags::default())),
            );
            message.added.extend(
                peers
                    .filter_map(|(entry, flags)| usable(entry).map(|addr| PexPeer { addr, flags }))
                    .take(MAX_DECODED_PEERS),
            );
        }
        for (list, width) in [(dropped4, 6), (dropped6, 18)] {
            message.dropped.extend(
                list.chunks_exact(width)
                    .filter_map(usable)
                    .take(MAX_DECODED_PEERS),
            );
        }
        Ok(message)
    }
}

/// A compact entry with a port other than 0.
fn usable(entry: &[u8]) -> Option<SocketAddr> {
    decode_compact(entry).filter(|addr| addr.port() != 0)
}

/// The compact form of a list of addresses of one family.
fn compact<'a>(addrs: impl Iterator<Item = &'a SocketAddr>) -> Vec<u8> {
    let mut out = Vec::new();
    for addr in addrs {
        encode_compact(addr, &mut out);
    }
    out
}

/// Whether an address is worth telling others about or dialling: not unspecified, not
/// multicast, with a port. (Loopback and private addresses are fine: swarms on a LAN and tests
/// on 127.0.0.1 use them.)
pub fn is_dialable(addr: &SocketAddr) -> bool {
    let ip = addr.ip();
    addr.port() != 0
        && !ip.is_unspecified()
        && !ip.is_multicast()
        && !matches!(ip, IpAddr::V4(v4) if v4.is_broadcast())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(addr: &str, flags: u8) -> PexPeer {
        PexPeer {
            addr: addr.parse().unwrap(),
            flags: PexFlags(flags),
        }
    }

    #[test]
    fn encodes_every_list_with_its_flags() {
        let message = PexMessage {
            added: vec![peer("1.2.3.4:258", 0x12), peer("[::1]:1", 0x02)],
            dropped: vec!["5.6.7.8:9".parse().unwrap()],
        };
        let mut expected = b"d5:added6:\x01\x02\x03\x04\x01\x027:added.f1:\x12".to_vec();
        expected.extend_from_slice(b"6:added618:");
        expected.extend_from_slice(&[0; 15]);
        expected.extend_from_slice(b"\x01\x00\x018:added6.f1:\x02");
        expected.extend_from_slice(b"7:dropped6:\x05\x06\x07\x08\x00\x098:dropped60:e");
        assert_eq!(message.encode(), expected);
        assert_eq!(PexMessage::decode(&expected), Ok(message));
    }

    #[test]
    fn round_trips_and_reads_flags() {
        let message = PexMessage {
            added: vec![peer("10.0.0.1:6881", PexFlags::SEED | PexFlags::REACHABLE)],
            dropped: vec!["[2001:db8::2]:7000".parse().unwrap()],
        };
        let decoded = PexMessage::decode(&message.encode()).unwrap();
        assert_eq!(decoded, message);
        assert!(decoded.added[0].flags.seed());
        assert!(decoded.added[0].flags.reachable());
        assert!(!decoded.added[0].flags.has(PexFlags::UTP));
    }

    #[test]
    fn flags_we_send_carry_seed_and_reachable_only() {
        let flags = [
            PexFlags::for_peer(true, true),
            PexFlags::for_peer(true, false),
            PexFlags::for_peer(false, true),
            PexFlags::for_peer(false, false),
        ];
        let added = flags
            .iter()
            .enumerate()
            .map(|(i, &flags)| PexPeer {
                addr: SocketAddr::from(([10, 0, 0, i as u8 + 1], 6881)),
                flags,
            })
            .collect();
        let encoded = PexMessage {
            added,
            dropped: Vec::new(),
        }
        .encode();
        // One flag byte per added IPv4 peer, in order: 0x12, 0x02, 0x10, 0x00.
        let expected = b"7:added.f4:\x12\x02\x10\x00";
        assert!(
            encoded.windows(expected.len()).any(|w| w == expected),
            "{encoded:?}"
        );
        let decoded = PexMessage::decode(&encoded).unwrap();
        let seeds: Vec<bool> = decoded.added.iter().map(|p| p.flags.seed()).collect();
        assert_eq!(seeds, [true, true, false, false]);
        let reachable: Vec<bool> = decoded.added.iter().map(|p| p.flags.reachable()).collect();
        assert_eq!(reachable, [true, false, true, false]);
        for peer in &decoded.added {
            for unsupported in [
                PexFlags::PREFERS_ENCRYPTION,
                PexFlags::UTP,
                PexFlags::HOLEPUNCH,
            ] {
                assert!(!peer.flags.has(unsupported), "{peer:?}");
            }
        }
    }

    #[test]
    fn lenient_about_partial_entries_missing_flags_and_port_zero() {
        // Two IPv4 entries and 3 stray bytes, one flag byte, and a port-0 peer.
        let payload = b"d5:added21:\x01\x01\x01\x01\x00\x01\x02\x02\x02\x02\x00\x02\
            \x03\x03\x03\x03\x00\x00xyz7:added.f1:\x02e";
        let message = PexMessage::decode(payload).unwrap();
        assert_eq!(
            message.added,
            vec![peer("1.1.1.1:1", 0x02), peer("2.2.2.2:2", 0)]
        );
        assert!(message.dropped.is_empty());
        assert_eq!(PexMessage::decode(b"de"), Ok(PexMessage::default()));
        assert_eq!(
            PexMessage::decode(b"d5:addedi3ee"),
            Ok(PexMessage::default())
        );
    }

    #[test]
    fn keeps_at_most_the_cap_of_each_list() {
        let many: Vec<PexPeer> = (0..500u32)
            .map(|i| PexPeer {
                addr: SocketAddr::new(IpAddr::from((i + 1).to_be_bytes()), 1),
                flags: PexFlags::default(),
            })
            .collect();
        let message = PexMessage {
            added: many.clone(),
            dropped: many.iter().map(|p| p.addr).collect(),
        };
        let decoded = PexMessage::decode(&message.encode()).unwrap();
        assert_eq!(decoded.added.len(), MAX_DECODED_PEERS);
        assert_eq!(decoded.dropped.len(), MAX_DECODED_PEERS);
        assert_eq!(decoded.added[..], many[..MAX_DECODED_PEERS]);
    }

    #[test]
    fn not_a_dictionary_is_an_error() {
        assert!(PexMessage::decode(b"5:added").is_err());
        assert!(PexMessage::decode(b"d5:added").is_err());
    }

    #[test]
    fn dialable_addresses() {
        for good in ["127.0.0.1:1", "192.168.1.1:6881", "[::1]:5"] {
            assert!(is_dialable(&good.parse().unwrap()), "{good}");
        }
        for bad in [
            "0.0.0.0:1",
            "1.2.3.4:0",
            "224.0.0.1:1",
            "255.255.255.255:1",
            "[::]:1",
        ] {
            assert!(!is_dialable(&bad.parse().unwrap()), "{bad}");
        }
    }
}
