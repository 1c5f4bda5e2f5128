//! BEP 9 `ut_metadata`: the messages that carry a torrent's info dictionary between peers.
//!
//! The info dictionary (the "metadata") is cut into pieces of [`METADATA_PIECE_LEN`] bytes,
//! the last one shorter. Each message is a bencoded dictionary:
//!
//! | `msg_type` | message | other keys |
//! |---|---|---|
//! | 0 | request | `piece` |
//! | 1 | data | `piece`, `total_size` (the whole metadata's size); the piece's bytes follow the dictionary |
//! | 2 | reject | `piece` |
//!
//! A `msg_type` this crate does not know decodes as [`MetadataMessage::Unknown`]: BEP 9 says
//! an unrecognised message must be ignored, not treated as an error.

use bytes::Bytes;
use sha1::{Digest, Sha1};

use crate::InfoHash;
use crate::bencode::{self, write_bytes, write_int};
use crate::metainfo::{Info, Metainfo, MetainfoError};

use super::{ExtensionError, dictionary, int};

/// Bytes of every metadata piece but the last (BEP 9).
pub const METADATA_PIECE_LEN: usize = 16 * 1024;

/// One `ut_metadata` message; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataMessage {
    /// Asks for a piece of the metadata.
    Request {
        /// The piece index.
        piece: u32,
    },
    /// A piece of the metadata.
    Data {
        /// The piece index.
        piece: u32,
        /// The size of the whole metadata, as the sender claims it.
        total_size: u64,
        /// The piece's bytes (at most [`METADATA_PIECE_LEN`]), sharing the receive buffer.
        data: Bytes,
    },
    /// The sender will not send this piece (it lacks the metadata, or limits its uploads).
    Reject {
        /// The piece index.
        piece: u32,
    },
    /// A `msg_type` this crate does not know, to be ignored.
    Unknown {
        /// The message type as sent.
        msg_type: i64,
    },
}

impl MetadataMessage {
    /// The message's payload: the dictionary, then for data the piece's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let (msg_type, piece) = match self {
            Self::Request { piece } => (0, i64::from(*piece)),
            Self::Data { piece, .. } => (1, i64::from(*piece)),
            Self::Reject { piece } => (2, i64::from(*piece)),
            Self::Unknown { msg_type } => (*msg_type, 0),
        };
        let data_len = match self {
            Self::Data { data, .. } => data.len(),
            _ => 0,
        };
        let mut out = Vec::with_capacity(64 + data_len);
        out.push(b'd');
        write_bytes(&mut out, b"msg_type");
        write_int(&mut out, msg_type);
        write_bytes(&mut out, b"piece");
        write_int(&mut out, piece);
        if let Self::Data {
            total_size, data, ..
        } = self
        {
            write_bytes(&mut out, b"total_size");
            write_int(&mut out, i64::try_from(*total_size).unwrap_or(i64::MAX));
            out.push(b'e');
            out.extend_from_slice(data);
        } else {
            out.push(b'e');
        }
        out
    }

    /// Decodes a `ut_metadata` payload. For a data message, the bytes after the dictionary
    /// are split off `payload` without a copy.
    pub fn decode(payload: &Bytes) -> Result<Self, ExtensionError> {
        let end = bencode::value_end(payload, 0)?;
        let dict = payload.get(..end).unwrap_or_default();
        let trailing = payload.len() - end;
        let (mut msg_type, mut piece, mut total_size) = (None, None, None);
        for entry in dictionary(dict)?.entries() {
            let (key, value) = entry?;
            match key {
                b"msg_type" => msg_type = int(value),
                b"piece" => piece = int(value),
                b"total_size" => total_size = int(value),
                _ => {}
            }
        }
        let msg_type = msg_type.ok_or(ExtensionError::MissingField { field: "msg_type" })?;
        if !(0..=2).contains(&msg_type) {
            return Ok(Self::Unknown { msg_type });
        }
        let piece = piece.ok_or(ExtensionError::MissingField { field: "piece" })?;
        let piece = u32::try_from(piece).map_err(|_| ExtensionError::OutOfRange {
            field: "piece",
            value: piece,
        })?;
        if msg_type != 1 {
            if trailing != 0 {
                return Err(ExtensionError::TrailingBytes { len: trailing });
            }
            return Ok(if msg_type == 0 {
                Self::Request { piece }
            } else {
                Self::Reject { piece }
            });
        }
        let total_size = total_size.ok_or(ExtensionError::MissingField {
            field: "total_size",
        })?;
        let total_size = u64::try_from(total_size).map_err(|_| ExtensionError::OutOfRange {
            field: "total_size",
            value: total_size,
        })?;
        if trailing > METADATA_PIECE_LEN {
            return Err(ExtensionError::DataTooLong {
                len: trailing,
                max: METADATA_PIECE_LEN,
            });
        }
        Ok(Self::Data {
            piece,
            total_size,
            data: payload.slice(end..),
        })
    }
}

/// Builds a torrent from metadata fetched over BEP 9 (and verified against its info-hash by
/// the [`MetadataAssembler`](super::MetadataAssembler)): validates the info dictionary as a
/// `.torrent`'s would be and adds the trackers, one tier each in order, as a magnet link's
/// `tr` parameters are used. The info-hash is the SHA-1 of `info_bytes`.
pub fn metainfo_from_metadata(
    info_bytes: Vec<u8>,
    trackers: &[String],
) -> Result<Metainfo, MetainfoError> {
    let info = Info::from_bytes(&info_bytes)?;
    Ok(Metainfo {
        info,
        info_hash: InfoHash(Sha1::digest(&info_bytes).into()),
        info_bytes,
        announce: trackers.first().cloned(),
        announce_list: trackers.iter().map(|url| vec![url.clone()]).collect(),
        comment: None,
        created_by: None,
        creation_date: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_the_bep_9_examples() {
        // The three examples of BEP 9, byte for byte.
        assert_eq!(
            MetadataMessage::Request { piece: 0 }.encode(),
            b"d8:msg_typei0e5:piecei0ee"
        );
        let data = MetadataMessage::Data {
            piece: 0,
            total_size: 3425,
            data: Bytes::from_static(b"xxxx"),
        };
        assert_eq!(
            data.encode(),
            b"d8:msg_typei1e5:piecei0e10:total_sizei3425eexxxx"
        );
        assert_eq!(
            MetadataMessage::Reject { piece: 0 }.encode(),
            b"d8:msg_typei2e5:piecei0ee"
        );
    }

    #[test]
    fn round_trips() {
        for message in [
            MetadataMessage::Request { piece: 7 },
            MetadataMessage::Reject { piece: u32::MAX },
            MetadataMessage::Data {
                piece: 1,
                total_size: 20_000,
                data: Bytes::from(vec![0xab; 20_000 - METADATA_PIECE_LEN]),
            },
            MetadataMessage::Data {
                piece: 0,
                total_size: 5,
                data: Bytes::new(),
            },
        ] {
            let bytes = Bytes::from(message.encode());
            assert_eq!(MetadataMessage::decode(&bytes), Ok(message));
        }
    }

    #[test]
    fn data_shares_the_payload_buffer() {
        let payload = Bytes::from(
            MetadataMessage::Data {
                piece: 0,
                total_size: 3,
                data: Bytes::from_static(b"abc"),
            }
            .encode(),
        );
        let Ok(MetadataMessage::Data { data, .. }) = MetadataMessage::decode(&payload) else {
            panic!("not data");
        };
        assert_eq!(data.as_ptr(), payload[payload.len() - 3..].as_ptr());
    }

    #[test]
    fn unknown_types_are_reported_for_ignoring() {
        let payload = Bytes::from_static(b"d8:msg_typei9e5:piecei0ee");
        assert_eq!(
            MetadataMessage::decode(&payload),
            Ok(MetadataMessage::Unknown { msg_type: 9 })
        );
    }

    #[test]
    fn bad_messages_are_errors() {
        type Check = fn(&ExtensionError) -> bool;
        let cases: [(&[u8], Check); 7] = [
            (b"d5:piecei0ee", |e| {
                matches!(e, ExtensionError::MissingField { field: "msg_type" })
            }),
            (b"d8:msg_typei0ee", |e| {
                matches!(e, ExtensionError::MissingField { field: "piece" })
            }),
            (b"d8:msg_typei0e5:piecei-1ee", |e| {
                matches!(e, ExtensionError::OutOfRange { field: "piece", .. })
            }),
            (b"d8:msg_typei1e5:piecei0ee", |e| {
                matches!(
                    e,
                    ExtensionError::MissingField {
                        field: "total_size"
                    }
                )
            }),
            (b"d8:msg_typei0e5:piecei0eexx", |e| {
                matches!(e, ExtensionError::TrailingBytes { len: 2 })
            }),
            (b"i3e", |e| {
                matches!(e, ExtensionError::NotADictionary { .. })
            }),
            (b"d8:msg_type", |e| matches!(e, ExtensionError::Bencode(_))),
        ];
        for (payload, expected) in cases {
            let error = MetadataMessage::decode(&Bytes::from_static(payload)).unwrap_err();
            assert!(expected(&error), "{payload:?}: {error:?}");
        }
        let mut long = b"d8:msg_typei1e5:piecei0e10:total_sizei99999ee".to_vec();
        long.extend_from_slice(&[0; METADATA_PIECE_LEN + 1]);
        assert!(matches!(
            MetadataMessage::decode(&Bytes::from(long)),
            Err(ExtensionError::DataTooLong { .. })
        ));
    }

    #[test]
    fn metainfo_is_built_from_metadata() {
        let info = b"d6:lengthi5e4:name1:a12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae";
        let trackers = vec!["http://t1/announce".to_owned(), "udp://t2:1".to_owned()];
        let metainfo = metainfo_from_metadata(info.to_vec(), &trackers).unwrap();
        assert_eq!(metainfo.info.name, "a");
        assert_eq!(metainfo.info_hash, InfoHash(Sha1::digest(info).into()));
        assert_eq!(metainfo.info_bytes, info);
        assert_eq!(
            metainfo.tracker_tiers(),
            vec![vec![trackers[0].clone()], vec![trackers[1].clone()]]
        );
        let unsafe_name =
            b"d6:lengthi5e4:name2:..12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae";
        assert!(metainfo_from_metadata(unsafe_name.to_vec(), &trackers).is_err());
    }
}
