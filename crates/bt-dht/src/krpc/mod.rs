//! KRPC, the DHT's message layer (BEP 5): one bencoded dictionary per UDP datagram.
//!
//! Every message has a transaction id `t` (echoed by the reply) and a type `y`: `q` (a query,
//! with the method name in `q` and the arguments in `a`), `r` (a response, values in `r`) or
//! `e` (an error, `[code, message]` in `e`). The four queries are `ping`, `find_node`,
//! `get_peers` and `announce_peer`. A response does not name its method: the asker knows it
//! from the transaction id, so [`Response`] holds every field a reply may carry.
//!
//! Decoding never trusts the input: a datagram over [`MAX_MESSAGE_LEN`] bytes or of more than
//! [`MAX_VALUES`] bencode values is refused before anything is built (bt-proto's scanner checks
//! both, and its depth limit), ids and info-hashes must be exactly 20 bytes, and the echoed
//! strings (transaction id, token) have caps. A query that cannot be understood yields a
//! [`DecodeFailure`] that still carries its transaction id, so the server can answer with
//! error 203 as BEP 5 asks.
//!
//! Also understood: the optional `v` (client version) and, from BEP 43, `ro` (a read-only node
//! that must not enter routing tables); from BEP 32, `nodes6` beside `nodes`, and the `want`
//! argument of `find_node` and `get_peers` (`n4`, `n6`: which node lists the asker wants).
//!
//! # Layout
//! - `decode`: [`decode`], bytes to [`Message`].
//! - `encode`: [`Message::encode`], with the keys in canonical (sorted) order.

mod decode;
mod encode;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;

use bt_proto::InfoHash;
use bt_proto::bencode::BencodeError;
use thiserror::Error;

pub use decode::decode;

use crate::compact::NodeInfo;
use crate::id::NodeId;

/// The largest datagram decoded. Real KRPC messages fit one Ethernet frame (about 1,500 bytes);
/// the margin is for `values` lists of a hundred peers and future keys.
pub const MAX_MESSAGE_LEN: usize = 16 * 1024;
/// The most bencode values (strings, integers, lists, dictionaries) one message may hold.
pub const MAX_VALUES: usize = 1024;
/// The longest transaction id accepted (they are echoed back, so they are capped; typical ids
/// are 2 to 4 bytes).
pub const MAX_TRANSACTION_LEN: usize = 32;
/// The longest token accepted (ours are 20 bytes, libtorrent's 4).
pub const MAX_TOKEN_LEN: usize = 64;
/// Error messages are cut to this many bytes.
pub const MAX_ERROR_MESSAGE_LEN: usize = 256;

/// KRPC error codes (BEP 5).
pub mod code {
    /// Generic error.
    pub const GENERIC: i64 = 201;
    /// Server error.
    pub const SERVER: i64 = 202;
    /// Protocol error: a malformed packet, invalid arguments, or a bad token.
    pub const PROTOCOL: i64 = 203;
    /// Method unknown.
    pub const METHOD_UNKNOWN: i64 = 204;
}

/// One KRPC message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The transaction id (`t`), chosen by the querier and echoed in the reply.
    pub transaction: Vec<u8>,
    /// The sender's client version (`v`), if it said.
    pub version: Option<Vec<u8>>,
    /// BEP 43: the sender is read-only (answers no queries), so it stays out of routing tables.
    pub read_only: bool,
    /// The query, response or error.
    pub body: Body,
}

/// What a message carries (`y`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// `y = q`.
    Query(Query),
    /// `y = r`.
    Response(Response),
    /// `y = e`.
    Error(ErrorReply),
}

/// A query: who asks (`a.id`) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The querying node's id.
    pub id: NodeId,
    /// The method and its arguments.
    pub method: Method,
    /// BEP 32 `want` (meant for `find_node` and `get_peers`): the node lists the asker wants;
    /// `None` when absent, or when it names neither `n4` nor `n6` (then the asker gets the
    /// nodes of its own address family).
    pub want: Option<Want>,
}

/// BEP 32 `want`: which node lists, `nodes` (IPv4, `n4`) and `nodes6` (IPv6, `n6`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Want {
    /// `n4`: `nodes`.
    pub nodes4: bool,
    /// `n6`: `nodes6`.
    pub nodes6: bool,
}

impl Want {
    /// The list of one address family: `nodes6` for IPv6, `nodes` for IPv4.
    pub fn family(v6: bool) -> Self {
        Self {
            nodes4: !v6,
            nodes6: v6,
        }
    }

    /// Whether the list of this family (`v6`: `nodes6`) is wanted.
    pub fn wants(self, v6: bool) -> bool {
        if v6 { self.nodes6 } else { self.nodes4 }
    }
}

/// The four queries of BEP 5, and any other method name (answered with error 204).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Method {
    /// `ping`: are you there?
    Ping,
    /// `find_node`: the nodes you know closest to `target`.
    FindNode {
        /// The id sought.
        target: NodeId,
    },
    /// `get_peers`: peers of the torrent, or the nodes closest to it; with a token.
    GetPeers {
        /// The torrent.
        info_hash: InfoHash,
    },
    /// `announce_peer`: the querying node's peer downloads the torrent.
    AnnouncePeer {
        /// The torrent.
        info_hash: InfoHash,
        /// The peer's TCP port (ignored when `implied_port`).
        port: u16,
        /// Use the UDP source port instead of `port` (behind NATs).
        implied_port: bool,
        /// The token from our earlier `get_peers` reply to the same IP.
        token: Vec<u8>,
    },
    /// A method this node does not implement (BEP 44 `get`, BEP 51 `sample_infohashes`, ...).
    Unknown(Vec<u8>),
}

/// A response. Which fields are set depends on the query it answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The responding node's id.
    pub id: NodeId,
    /// Closest nodes (`nodes`, and `nodes6` for IPv6 ones), for `find_node` and `get_peers`.
    pub nodes: Vec<NodeInfo>,
    /// Which of `nodes` and `nodes6` to write even when empty, as a BEP 32 `want` asked;
    /// `None`: each list that has nodes. Encoding only: decoding leaves it `None`.
    pub node_lists: Option<Want>,
    /// Peers of the torrent (`values`), for `get_peers`.
    pub values: Vec<SocketAddr>,
    /// The token for a later `announce_peer` (`get_peers` replies).
    pub token: Option<Vec<u8>>,
}

/// An error reply (`e = [code, message]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorReply {
    /// One of the [`code`]s, or whatever the peer sent.
    pub code: i64,
    /// The human-readable part.
    pub message: String,
}

impl Response {
    /// A response that carries only the responder's id (`ping`, `announce_peer`).
    pub fn id_only(id: NodeId) -> Self {
        Self {
            id,
            nodes: Vec::new(),
            node_lists: None,
            values: Vec::new(),
            token: None,
        }
    }
}

impl Method {
    /// The method name as sent in `q`.
    pub fn name(&self) -> &[u8] {
        match self {
            Method::Ping => b"ping",
            Method::FindNode { .. } => b"find_node",
            Method::GetPeers { .. } => b"get_peers",
            Method::AnnouncePeer { .. } => b"announce_peer",
            Method::Unknown(name) => name,
        }
    }
}

/// What is wrong with a datagram.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum KrpcError {
    /// Longer than [`MAX_MESSAGE_LEN`].
    #[error("datagram of {len} bytes is over the {max}-byte limit")]
    TooLong {
        /// Its length.
        len: usize,
        /// [`MAX_MESSAGE_LEN`].
        max: usize,
    },
    /// Not well-formed bencode (or over the value or depth limit).
    #[error("invalid bencode")]
    Bencode(#[from] BencodeError),
    /// The top-level value (or `a`, `r`) is not a dictionary.
    #[error("{0} is not a dictionary")]
    NotADictionary(&'static str),
    /// A required key is missing.
    #[error("missing key {0:?}")]
    MissingKey(&'static str),
    /// A key holds the wrong bencode type.
    #[error("key {0:?} has the wrong type")]
    WrongType(&'static str),
    /// A string of the wrong length (ids must be 20 bytes; ids and tokens have caps).
    #[error("key {key:?} has {len} bytes, which is not allowed")]
    BadLength {
        /// The key.
        key: &'static str,
        /// The length found.
        len: usize,
    },
    /// An integer out of its range (a port over 65535).
    #[error("key {0:?} is out of range")]
    OutOfRange(&'static str),
    /// `y` is not `q`, `r` or `e`.
    #[error("unknown message type")]
    UnknownType,
}

/// A datagram that could not be decoded. When it was a query with a readable transaction id,
/// `query_transaction` holds the id, so the server can reply with error 203.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("malformed KRPC message: {error}")]
pub struct DecodeFailure {
    /// What was wrong.
    pub error: KrpcError,
    /// The transaction id of a malformed query (`y = q`), if it had one.
    pub query_transaction: Option<Vec<u8>>,
}
