//! Compact peer entries shared by HTTP (BEP 23, BEP 7) and UDP (BEP 15) trackers: the address
//! bytes (4 or 16) then the port, big-endian.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Decodes one entry of 6 or 18 bytes; `None` for any other length.
pub(crate) fn decode_compact(chunk: &[u8]) -> Option<SocketAddr> {
    let split = chunk.len().checked_sub(2)?;
    let (ip, port) = chunk.split_at(split);
    let port = u16::from_be_bytes(port.try_into().ok()?);
    let ip = match ip.len() {
        4 => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(ip).ok()?)),
        16 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(ip).ok()?)),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// Appends the entry for `addr`: 6 bytes for IPv4, 18 for IPv6.
pub(crate) fn encode_compact(addr: &SocketAddr, out: &mut Vec<u8>) {
    match addr.ip() {
        IpAddr::V4(ip) => out.extend_from_slice(&ip.octets()),
        IpAddr::V6(ip) => out.extend_from_slice(&ip.octets()),
    }
    out.extend_from_slice(&addr.port().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_decode_by_length() {
        let v4 = decode_compact(&[0x7f, 0, 0, 1, 0x1a, 0xe1]);
        assert_eq!(v4, Some("127.0.0.1:6881".parse().unwrap()));
        let mut v6 = vec![0u8; 15];
        v6.extend_from_slice(&[1, 0x1a, 0xe1]);
        assert_eq!(decode_compact(&v6), Some("[::1]:6881".parse().unwrap()));
        assert_eq!(decode_compact(&[1, 2, 3]), None);
        assert_eq!(decode_compact(&[]), None);
    }

    #[test]
    fn entries_round_trip() {
        for addr in ["10.0.0.1:1", "[2001:db8::7]:65535"] {
            let addr: SocketAddr = addr.parse().unwrap();
            let mut out = Vec::new();
            encode_compact(&addr, &mut out);
            assert_eq!(decode_compact(&out), Some(addr));
        }
    }
}
