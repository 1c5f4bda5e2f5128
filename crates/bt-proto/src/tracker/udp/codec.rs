//! Byte layouts of the BEP 15 packets: `encode` and `decode` for each direction.

use std::net::Ipv4Addr;

use super::{
    Action, AddressFamily, AnnounceRequest, AnnounceResponse, ConnectRequest, ConnectResponse,
    ErrorResponse, PROTOCOL_ID, Request, Response, ScrapeRequest, ScrapeResponse, UdpTrackerError,
    decode_peers, encode_peers,
};
use crate::tracker::{AnnounceEvent, ScrapeStats};
use crate::types::{InfoHash, PeerId};

/// connection_id, action, transaction_id.
const REQUEST_HEADER: usize = 16;
/// The header, info_hash, peer_id, downloaded, left, uploaded, event, ip, key, num_want, port.
const ANNOUNCE_REQUEST_LEN: usize = 98;
/// action, transaction_id.
const RESPONSE_HEADER: usize = 8;
/// The header and connection_id.
const CONNECT_RESPONSE_LEN: usize = 16;
/// The header, interval, leechers, seeders.
const ANNOUNCE_RESPONSE_LEN: usize = 20;
/// seeders, completed, leechers.
const SCRAPE_ENTRY: usize = 12;

/// Reads big-endian fields front to back; `None` once the bytes run out.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, tail) = self.rest.split_at_checked(N)?;
        self.rest = tail;
        head.try_into().ok()
    }

    fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_be_bytes)
    }

    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_be_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_be_bytes)
    }
}

/// Fails with [`UdpTrackerError::TooShort`] unless `buf` holds at least `min` bytes.
fn need(buf: &[u8], what: &'static str, min: usize) -> Result<(), UdpTrackerError> {
    if buf.len() < min {
        return Err(UdpTrackerError::TooShort {
            what,
            len: buf.len(),
            min,
        });
    }
    Ok(())
}

impl ConnectRequest {
    /// Appends the 16-byte packet.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&PROTOCOL_ID.to_be_bytes());
        out.extend_from_slice(&Action::Connect.to_u32().to_be_bytes());
        out.extend_from_slice(&self.transaction_id.to_be_bytes());
    }
}

impl AnnounceRequest {
    /// Appends the 98-byte packet.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.connection_id.to_be_bytes());
        out.extend_from_slice(&Action::Announce.to_u32().to_be_bytes());
        out.extend_from_slice(&self.transaction_id.to_be_bytes());
        out.extend_from_slice(self.info_hash.as_bytes());
        out.extend_from_slice(self.peer_id.as_bytes());
        out.extend_from_slice(&self.downloaded.to_be_bytes());
        out.extend_from_slice(&self.left.to_be_bytes());
        out.extend_from_slice(&self.uploaded.to_be_bytes());
        out.extend_from_slice(&self.event.to_udp().to_be_bytes());
        out.extend_from_slice(&self.ip.octets());
        out.extend_from_slice(&self.key.to_be_bytes());
        out.extend_from_slice(&self.num_want.to_be_bytes());
        out.extend_from_slice(&self.port.to_be_bytes());
    }

    /// Reads the fields after the header (the reader is past it).
    fn decode_body(
        connection_id: u64,
        transaction_id: u32,
        r: &mut Reader<'_>,
    ) -> Option<Result<Self, UdpTrackerError>> {
        let info_hash = InfoHash(r.array()?);
        let peer_id = PeerId(r.array()?);
        let (downloaded, left, uploaded) = (r.u64()?, r.u64()?, r.u64()?);
        let event = r.u32()?;
        let Some(event) = AnnounceEvent::from_udp(event) else {
            return Some(Err(UdpTrackerError::UnknownEvent(event)));
        };
        let ip = Ipv4Addr::from(r.array::<4>()?);
        let key = r.u32()?;
        let num_want = i32::from_be_bytes(r.array()?);
        let port = r.u16()?;
        Some(Ok(Self {
            connection_id,
            transaction_id,
            info_hash,
            peer_id,
            downloaded,
            left,
            uploaded,
            event,
            ip,
            key,
            num_want,
            port,
        }))
    }
}

impl ScrapeRequest {
    /// Appends the packet: 16 bytes then 20 per info-hash.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.connection_id.to_be_bytes());
        out.extend_from_slice(&Action::Scrape.to_u32().to_be_bytes());
        out.extend_from_slice(&self.transaction_id.to_be_bytes());
        for hash in &self.info_hashes {
            out.extend_from_slice(hash.as_bytes());
        }
    }
}

impl Request {
    /// Appends the packet.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Connect(r) => r.encode(out),
            Self::Announce(r) => r.encode(out),
            Self::Scrape(r) => r.encode(out),
        }
    }

    /// Decodes a packet a client sent (server side).
    pub fn decode(buf: &[u8]) -> Result<Self, UdpTrackerError> {
        need(buf, "request", REQUEST_HEADER)?;
        let short = |what, min| UdpTrackerError::TooShort {
            what,
            len: buf.len(),
            min,
        };
        let mut r = Reader { rest: buf };
        let header = (r.u64(), r.u32(), r.u32());
        let (Some(connection_id), Some(action), Some(transaction_id)) = header else {
            return Err(short("request", REQUEST_HEADER));
        };
        match Action::from_u32(action) {
            Some(Action::Connect) if connection_id != PROTOCOL_ID => {
                Err(UdpTrackerError::BadProtocolId(connection_id))
            }
            Some(Action::Connect) => Ok(Self::Connect(ConnectRequest { transaction_id })),
            Some(Action::Announce) => {
                need(buf, "announce request", ANNOUNCE_REQUEST_LEN)?;
                AnnounceRequest::decode_body(connection_id, transaction_id, &mut r)
                    .ok_or_else(|| short("announce request", ANNOUNCE_REQUEST_LEN))?
                    .map(Self::Announce)
            }
            Some(Action::Scrape) => {
                let chunks = r.rest.chunks_exact(20);
                if !chunks.remainder().is_empty() {
                    return Err(UdpTrackerError::Trailing {
                        len: r.rest.len(),
                        entry: 20,
                    });
                }
                let info_hashes = chunks
                    .filter_map(|c| c.try_into().ok())
                    .map(InfoHash)
                    .collect();
                let req = ScrapeRequest {
                    connection_id,
                    transaction_id,
                    info_hashes,
                };
                Ok(Self::Scrape(req))
            }
            Some(Action::Error) | None => Err(UdpTrackerError::UnknownAction(action)),
        }
    }
}

impl ConnectResponse {
    /// Appends the 16-byte packet.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&Action::Connect.to_u32().to_be_bytes());
        out.extend_from_slice(&self.transaction_id.to_be_bytes());
        out.extend_from_slice(&self.connection_id.to_be_bytes());
    }
}

impl AnnounceResponse {
    /// Appends the packet: 20 bytes then one entry per peer of the socket's `family`.
    pub fn encode(&self, family: AddressFamily, out: &mut Vec<u8>) {
        out.extend_from_slice(&Action::Announce.to_u32().to_be_bytes());
        out.extend_from_slice(&self.transaction_id.to_be_bytes());
        out.extend_from_slice(&self.interval.to_be_bytes());
        out.extend_from_slice(&self.leechers.to_be_bytes());
        out.extend_from_slice(&self.seeders.to_be_bytes());
        encode_peers(&self.peers, family, out);
    }
}

impl ScrapeResponse {
    /// Appends the packet: 8 bytes then seeders, completed, leechers per torrent.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&Action::Scrape.to_u32().to_be_bytes());
        out.extend_from_slice(&self.transaction_id.to_be_bytes());
        for stats in &self.stats {
            out.extend_from_slice(&stats.complete.to_be_bytes());
            out.extend_from_slice(&stats.downloaded.to_be_bytes());
            out.extend_from_slice(&stats.incomplete.to_be_bytes());
        }
    }
}

impl ErrorResponse {
    /// Appends the packet: 8 bytes then the message's bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&Action::Error.to_u32().to_be_bytes());
        out.extend_from_slice(&self.transaction_id.to_be_bytes());
        out.extend_from_slice(self.message.as_bytes());
    }
}

impl Response {
    /// Appends the packet; `family` is that of the socket it goes out on.
    pub fn encode(&self, family: AddressFamily, out: &mut Vec<u8>) {
        match self {
            Self::Connect(r) => r.encode(out),
            Self::Announce(r) => r.encode(family, out),
            Self::Scrape(r) => r.encode(out),
            Self::Error(r) => r.encode(out),
        }
    }

    /// Decodes a packet a tracker sent, on a socket of `family`, without checking that it
    /// answers any request (see [`super::decode_response`]).
    pub fn decode(buf: &[u8], family: AddressFamily) -> Result<Self, UdpTrackerError> {
        need(buf, "response", RESPONSE_HEADER)?;
        let mut r = Reader { rest: buf };
        let (Some(action), Some(transaction_id)) = (r.u32(), r.u32()) else {
            return Err(UdpTrackerError::TooShort {
                what: "response",
                len: buf.len(),
                min: 8,
            });
        };
        match Action::from_u32(action) {
            Some(Action::Connect) => {
                need(buf, "connect response", CONNECT_RESPONSE_LEN)?;
                let connection_id = r.u64().unwrap_or_default();
                Ok(Self::Connect(ConnectResponse {
                    transaction_id,
                    connection_id,
                }))
            }
            Some(Action::Announce) => {
                need(buf, "announce response", ANNOUNCE_RESPONSE_LEN)?;
                let (interval, leechers, seeders) = (r.u32(), r.u32(), r.u32());
                let peers = decode_peers(r.rest, family);
                Ok(Self::Announce(AnnounceResponse {
                    transaction_id,
                    interval: interval.unwrap_or_default(),
                    leechers: leechers.unwrap_or_default(),
                    seeders: seeders.unwrap_or_default(),
                    peers,
                }))
            }
            Some(Action::Scrape) => decode_scrape(transaction_id, r.rest).map(Self::Scrape),
            Some(Action::Error) => {
                let message = String::from_utf8_lossy(r.rest).into_owned();
                Ok(Self::Error(ErrorResponse {
                    transaction_id,
                    message,
                }))
            }
            None => Err(UdpTrackerError::UnknownAction(action)),
        }
    }
}

/// The entries of a scrape response after its header.
fn decode_scrape(transaction_id: u32, rest: &[u8]) -> Result<ScrapeResponse, UdpTrackerError> {
    let chunks = rest.chunks_exact(SCRAPE_ENTRY);
    if !chunks.remainder().is_empty() {
        return Err(UdpTrackerError::Trailing {
            len: rest.len(),
            entry: SCRAPE_ENTRY,
        });
    }
    let stats = chunks
        .filter_map(|chunk| {
            let mut r = Reader { rest: chunk };
            let (complete, downloaded, incomplete) = (r.u32()?, r.u32()?, r.u32()?);
            Some(ScrapeStats {
                complete,
                downloaded,
                incomplete,
            })
        })
        .collect();
    Ok(ScrapeResponse {
        transaction_id,
        stats,
    })
}
