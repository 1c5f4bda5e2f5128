//! The BEP 10 extension handshake: a bencoded dictionary sent as extended message 0.
//!
//! | key | type | meaning |
//! |---|---|---|
//! | `m` | dict | extension name → the id the sender wants to receive it under; 0 disables |
//! | `v` | string | client name and version, for display |
//! | `p` | int | the sender's TCP listen port |
//! | `reqq` | int | how many outstanding requests the sender queues without dropping |
//! | `yourip` | string | the receiver's IP address as the sender sees it (4 or 16 bytes) |
//! | `metadata_size` | int | the size of the info dictionary in bytes (BEP 9) |
//!
//! Unknown keys are ignored, and so is a known optional key with a value of the wrong type or
//! out of range (a port of 0, a negative size): the field then reads as absent. Sizes are
//! capped: at most [`MAX_EXTENSIONS`] entries of `m` are kept (names longer than
//! [`MAX_EXTENSION_NAME_LEN`] bytes are skipped) and `v` is cut to [`MAX_CLIENT_NAME_LEN`]
//! bytes, so a hostile handshake costs no more memory than a normal one.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::bencode::{Node, write_bytes, write_int};

use super::{ExtensionError, dictionary, int};

/// The most `m` entries kept from one handshake; real clients announce about ten.
pub const MAX_EXTENSIONS: usize = 64;

/// The longest extension name kept, in bytes; real names are like `ut_metadata`.
pub const MAX_EXTENSION_NAME_LEN: usize = 64;

/// The longest client name (`v`) kept, in bytes.
pub const MAX_CLIENT_NAME_LEN: usize = 256;

/// A BEP 10 extension handshake; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExtensionHandshake {
    /// `m`: each extension the sender speaks and the extended id it wants to receive that
    /// extension's messages under. An id of 0 disables the extension: a handshake sent again
    /// later only lists changes (BEP 10), see [`ExtensionHandshake::merge`].
    pub extensions: BTreeMap<String, u8>,
    /// `v`: the client's name and version.
    pub client: Option<String>,
    /// `p`: the TCP port the sender accepts connections on (1 to 65535).
    pub listen_port: Option<u16>,
    /// `reqq`: how many requests the sender queues (at least 1).
    pub request_queue: Option<u32>,
    /// `yourip`: our address as the sender sees it.
    pub your_ip: Option<IpAddr>,
    /// `metadata_size` (BEP 9): bytes of the info dictionary.
    pub metadata_size: Option<u64>,
}

impl ExtensionHandshake {
    /// The id under which the sender wants to receive `name`'s messages, if it speaks it.
    pub fn id_of(&self, name: &str) -> Option<u8> {
        self.extensions.get(name).copied().filter(|&id| id != 0)
    }

    /// Applies a handshake the peer sent again: `m` entries are added, changed or (id 0)
    /// disabled, and every other field it carries replaces ours.
    pub fn merge(&mut self, later: ExtensionHandshake) {
        self.extensions.extend(later.extensions);
        self.client = later.client.or(self.client.take());
        self.listen_port = later.listen_port.or(self.listen_port);
        self.request_queue = later.request_queue.or(self.request_queue);
        self.your_ip = later.your_ip.or(self.your_ip);
        self.metadata_size = later.metadata_size.or(self.metadata_size);
    }

    /// The bencoded dictionary, keys in canonical order.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        out.push(b'd');
        write_bytes(&mut out, b"m");
        out.push(b'd');
        for (name, id) in &self.extensions {
            write_bytes(&mut out, name.as_bytes());
            write_int(&mut out, i64::from(*id));
        }
        out.push(b'e');
        if let Some(size) = self.metadata_size {
            write_bytes(&mut out, b"metadata_size");
            write_int(&mut out, i64::try_from(size).unwrap_or(i64::MAX));
        }
        if let Some(port) = self.listen_port {
            write_bytes(&mut out, b"p");
            write_int(&mut out, i64::from(port));
        }
        if let Some(reqq) = self.request_queue {
            write_bytes(&mut out, b"reqq");
            write_int(&mut out, i64::from(reqq));
        }
        if let Some(client) = &self.client {
            write_bytes(&mut out, b"v");
            write_bytes(&mut out, client.as_bytes());
        }
        if let Some(ip) = self.your_ip {
            write_bytes(&mut out, b"yourip");
            match ip {
                IpAddr::V4(v4) => write_bytes(&mut out, &v4.octets()),
                IpAddr::V6(v6) => write_bytes(&mut out, &v6.octets()),
            }
        }
        out.push(b'e');
        out
    }

    /// Decodes the payload of extended message 0.
    pub fn decode(payload: &[u8]) -> Result<Self, ExtensionError> {
        let mut handshake = ExtensionHandshake::default();
        for entry in dictionary(payload)?.entries() {
            let (key, value) = entry?;
            match key {
                b"m" => handshake.read_extensions(value)?,
                b"v" => handshake.client = client_name(value),
                b"p" => {
                    handshake.listen_port = int(value)
                        .and_then(|p| u16::try_from(p).ok())
                        .filter(|&p| p != 0);
                }
                b"reqq" => {
                    handshake.request_queue = int(value)
                        .and_then(|q| u32::try_from(q).ok())
                        .filter(|&q| q != 0);
                }
                b"yourip" => handshake.your_ip = ip_address(value),
                b"metadata_size" => {
                    handshake.metadata_size = int(value).and_then(|s| u64::try_from(s).ok());
                }
                _ => {}
            }
        }
        Ok(handshake)
    }

    /// Reads `m`; a value that is not a dictionary reads as no extensions.
    fn read_extensions(&mut self, value: Node<'_>) -> Result<(), ExtensionError> {
        let Node::Dict(items) = value else {
            return Ok(());
        };
        for entry in items.entries() {
            let (name, id) = entry?;
            if self.extensions.len() >= MAX_EXTENSIONS {
                break;
            }
            let Some(id) = int(id).and_then(|id| u8::try_from(id).ok()) else {
                continue;
            };
            if name.is_empty() || name.len() > MAX_EXTENSION_NAME_LEN {
                continue;
            }
            if let Ok(name) = std::str::from_utf8(name) {
                self.extensions.insert(name.to_owned(), id);
            }
        }
        Ok(())
    }
}

/// `v`, decoded lossily (it is only displayed) and cut at a character boundary to at most
/// [`MAX_CLIENT_NAME_LEN`] bytes.
fn client_name(value: Node<'_>) -> Option<String> {
    let Node::Bytes(bytes) = value else {
        return None;
    };
    let kept = bytes.get(..MAX_CLIENT_NAME_LEN).unwrap_or(bytes);
    let mut name = String::from_utf8_lossy(kept).into_owned();
    let mut end = name.len().min(MAX_CLIENT_NAME_LEN);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name.truncate(end);
    Some(name)
}

/// A 4- or 16-byte address.
fn ip_address(value: Node<'_>) -> Option<IpAddr> {
    let Node::Bytes(bytes) = value else {
        return None;
    };
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(IpAddr::V4(Ipv4Addr::from(v4)));
    }
    <[u8; 16]>::try_from(bytes)
        .ok()
        .map(|v6| IpAddr::V6(Ipv6Addr::from(v6)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ExtensionHandshake {
        ExtensionHandshake {
            extensions: [("ut_metadata".to_owned(), 2), ("ut_pex".to_owned(), 1)].into(),
            client: Some("bt 0.1.0".to_owned()),
            listen_port: Some(6881),
            request_queue: Some(250),
            your_ip: Some("10.1.2.3".parse().unwrap()),
            metadata_size: Some(31_235),
        }
    }

    #[test]
    fn encodes_canonically() {
        let bytes = sample().encode();
        assert_eq!(
            &bytes[..],
            &b"d1:md11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei31235e1:pi6881e\
               4:reqqi250e1:v8:bt 0.1.06:yourip4:\x0a\x01\x02\x03e"[..]
        );
        crate::bencode::validate(&bytes).unwrap();
    }

    #[test]
    fn round_trips() {
        let handshake = sample();
        assert_eq!(
            ExtensionHandshake::decode(&handshake.encode()),
            Ok(handshake)
        );
        let v6 = ExtensionHandshake {
            your_ip: Some("2001:db8::1".parse().unwrap()),
            ..ExtensionHandshake::default()
        };
        assert_eq!(ExtensionHandshake::decode(&v6.encode()), Ok(v6));
    }

    #[test]
    fn reads_a_libtorrent_style_handshake_and_ignores_unknown_keys() {
        // The shape libtorrent 2.0 sends, with keys we do not use.
        let payload = b"d12:complete_agoi-1e1:md11:lt_donthavei7e10:share_modei8e\
            11:upload_onlyi3e12:ut_holepunchi4e11:ut_metadatai2e6:ut_pexi1ee\
            13:metadata_sizei1234e4:reqqi500e11:upload_onlyi1e1:v17:libtorrent 2.0.10\
            6:yourip4:\x7f\x00\x00\x01e";
        let handshake = ExtensionHandshake::decode(payload).unwrap();
        assert_eq!(handshake.id_of("ut_metadata"), Some(2));
        assert_eq!(handshake.id_of("ut_pex"), Some(1));
        assert_eq!(handshake.id_of("lt_donthave"), Some(7));
        assert_eq!(handshake.metadata_size, Some(1234));
        assert_eq!(handshake.request_queue, Some(500));
        assert_eq!(handshake.client.as_deref(), Some("libtorrent 2.0.10"));
        assert_eq!(handshake.your_ip, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(handshake.listen_port, None);
    }

    #[test]
    fn fields_of_the_wrong_type_or_range_read_as_absent() {
        let payload = b"d1:m4:nope13:metadata_sizei-5e1:pi70000e4:reqqi0e1:vi3e6:yourip3:abce";
        assert_eq!(
            ExtensionHandshake::decode(payload),
            Ok(ExtensionHandshake::default())
        );
        let ids = b"d1:md1:ai256e1:bi-1e1:c3:xyz0:i5eee";
        let handshake = ExtensionHandshake::decode(ids).unwrap();
        assert!(handshake.extensions.is_empty(), "{handshake:?}");
    }

    #[test]
    fn structural_problems_are_errors() {
        assert!(matches!(
            ExtensionHandshake::decode(b"le"),
            Err(ExtensionError::NotADictionary { found: "a list" })
        ));
        assert!(matches!(
            ExtensionHandshake::decode(b"d1:m"),
            Err(ExtensionError::Bencode(_))
        ));
        assert!(matches!(
            ExtensionHandshake::decode(b"de junk"),
            Err(ExtensionError::Bencode(_))
        ));
    }

    #[test]
    fn a_later_handshake_adds_and_disables_extensions() {
        let mut handshake = sample();
        let later = ExtensionHandshake::decode(b"d1:md11:ut_metadatai0e6:lt_fooi9eee").unwrap();
        handshake.merge(later);
        assert_eq!(handshake.id_of("ut_metadata"), None);
        assert_eq!(handshake.id_of("lt_foo"), Some(9));
        assert_eq!(handshake.id_of("ut_pex"), Some(1));
        assert_eq!(handshake.listen_port, Some(6881));
    }

    #[test]
    fn sizes_are_capped() {
        let mut payload = b"d1:md".to_vec();
        for i in 0..(MAX_EXTENSIONS + 10) {
            let name = format!("ext{i:04}");
            write_bytes(&mut payload, name.as_bytes());
            write_int(&mut payload, 1);
        }
        write_bytes(&mut payload, &[b'x'; MAX_EXTENSION_NAME_LEN + 1]);
        write_int(&mut payload, 1);
        payload.extend_from_slice(b"e1:v");
        write_bytes(&mut payload, &[b'v'; 10_000]);
        payload.push(b'e');
        // Keys of `m` are unsorted here (the long name comes last); the decoder does not care.
        let handshake = ExtensionHandshake::decode(&payload).unwrap();
        assert_eq!(handshake.extensions.len(), MAX_EXTENSIONS);
        assert_eq!(handshake.client.map(|v| v.len()), Some(MAX_CLIENT_NAME_LEN));
        // Invalid UTF-8 grows when replaced; the cap holds for the result, and it round-trips.
        let mut payload = b"d1:v".to_vec();
        write_bytes(&mut payload, &[0xff; 300]);
        payload.push(b'e');
        let handshake = ExtensionHandshake::decode(&payload).unwrap();
        let client = handshake.client.clone().unwrap();
        assert!(client.len() <= MAX_CLIENT_NAME_LEN && client.starts_with('\u{fffd}'));
        assert_eq!(
            ExtensionHandshake::decode(&handshake.encode()),
            Ok(handshake)
        );
    }
}
