//! Bytes to [`Message`]: validation by bt-proto's scanner, then a zero-copy walk with its
//! [`Node`] reader. Unknown keys are ignored; of a repeated key, the first wins.

use bt_proto::InfoHash;
use bt_proto::bencode::{self, BencodeError, Items, Node};

use super::{
    Body, DecodeFailure, ErrorReply, KrpcError, MAX_ERROR_MESSAGE_LEN, MAX_MESSAGE_LEN,
    MAX_TOKEN_LEN, MAX_TRANSACTION_LEN, MAX_VALUES, Message, Method, Query, Response, Want,
};
use crate::compact::{decode_nodes, decode_peer};
use crate::id::NodeId;

/// Decodes one datagram.
pub fn decode(bytes: &[u8]) -> Result<Message, DecodeFailure> {
    let fail = |error: KrpcError| DecodeFailure {
        error,
        query_transaction: None,
    };
    if bytes.len() > MAX_MESSAGE_LEN {
        return Err(fail(KrpcError::TooLong {
            len: bytes.len(),
            max: MAX_MESSAGE_LEN,
        }));
    }
    // The value limit first: `Node::parse` alone would allow bt-proto's torrent-sized limit.
    let end = bencode::value_end_limited(bytes, 0, MAX_VALUES).map_err(|e| fail(e.into()))?;
    if end != bytes.len() {
        return Err(fail(BencodeError::TrailingBytes { offset: end }.into()));
    }
    let Node::Dict(top) = Node::parse(bytes).map_err(|e| fail(e.into()))? else {
        return Err(fail(KrpcError::NotADictionary("the message")));
    };
    let transaction = bytes_of(top, "t").map_err(fail)?;
    if transaction.len() > MAX_TRANSACTION_LEN {
        return Err(fail(KrpcError::BadLength {
            key: "t",
            len: transaction.len(),
        }));
    }
    let kind = bytes_of(top, "y").map_err(fail)?;
    let body = match kind {
        b"q" => decode_query(top)
            .map(Body::Query)
            .map_err(|error| DecodeFailure {
                error,
                query_transaction: Some(transaction.to_vec()),
            })?,
        b"r" => Body::Response(decode_response(top).map_err(fail)?),
        b"e" => Body::Error(decode_error(top).map_err(fail)?),
        _ => return Err(fail(KrpcError::UnknownType)),
    };
    let version = match get(top, "v").map_err(fail)? {
        Some(Node::Bytes(v)) => Some(v.to_vec()),
        _ => None,
    };
    let read_only = matches!(get(top, "ro").map_err(fail)?, Some(Node::Int(1)));
    Ok(Message {
        transaction: transaction.to_vec(),
        version,
        read_only,
        body,
    })
}

/// `q` and `a` of a query.
fn decode_query(top: Items<'_>) -> Result<Query, KrpcError> {
    let name = bytes_of(top, "q")?;
    let args = dict_of(top, "a")?;
    let id = id_of(args, "id")?;
    let method = match name {
        b"ping" => Method::Ping,
        b"find_node" => Method::FindNode {
            target: id_of(args, "target")?,
        },
        b"get_peers" => Method::GetPeers {
            info_hash: InfoHash(id_of(args, "info_hash")?.0),
        },
        b"announce_peer" => decode_announce(args)?,
        other => Method::Unknown(other.to_vec()),
    };
    Ok(Query {
        id,
        method,
        want: decode_want(args)?,
    })
}

/// BEP 32 `want`: a list of `n4` and `n6`. Other items are ignored (later BEPs may add
/// families), and so is a `want` that is not a list or names neither.
fn decode_want(args: Items<'_>) -> Result<Option<Want>, KrpcError> {
    let Some(Node::List(items)) = get(args, "want")? else {
        return Ok(None);
    };
    let mut want = Want::default();
    for item in items.values() {
        match item? {
            Node::Bytes(b"n4") => want.nodes4 = true,
            Node::Bytes(b"n6") => want.nodes6 = true,
            _ => {}
        }
    }
    Ok((want != Want::default()).then_some(want))
}

/// The arguments of `announce_peer`.
fn decode_announce(args: Items<'_>) -> Result<Method, KrpcError> {
    let info_hash = InfoHash(id_of(args, "info_hash")?.0);
    let implied_port = match get(args, "implied_port")? {
        None => false,
        Some(Node::Int(value)) => value != 0,
        Some(_) => return Err(KrpcError::WrongType("implied_port")),
    };
    // BEP 5: with implied_port the port argument is ignored, so it may be absent.
    let port = match get(args, "port")? {
        Some(Node::Int(value)) => {
            u16::try_from(value).map_err(|_| KrpcError::OutOfRange("port"))?
        }
        Some(_) => return Err(KrpcError::WrongType("port")),
        None if implied_port => 0,
        None => return Err(KrpcError::MissingKey("port")),
    };
    let token = bytes_of(args, "token")?;
    if token.len() > MAX_TOKEN_LEN {
        return Err(KrpcError::BadLength {
            key: "token",
            len: token.len(),
        });
    }
    Ok(Method::AnnouncePeer {
        info_hash,
        port,
        implied_port,
        token: token.to_vec(),
    })
}

/// The `r` dictionary.
fn decode_response(top: Items<'_>) -> Result<Response, KrpcError> {
    let r = dict_of(top, "r")?;
    let id = id_of(r, "id")?;
    let mut nodes = Vec::new();
    for (key, v6) in [("nodes", false), ("nodes6", true)] {
        match get(r, key)? {
            None => {}
            Some(Node::Bytes(compact)) => nodes.extend(decode_nodes(compact, v6)),
            Some(_) => return Err(KrpcError::WrongType(key)),
        }
    }
    let values = match get(r, "values")? {
        None => Vec::new(),
        // A malformed entry is skipped, as libtorrent does; the rest are still useful.
        Some(Node::List(items)) => items
            .values()
            .filter_map(|item| match item {
                Ok(Node::Bytes(peer)) => decode_peer(peer),
                _ => None,
            })
            .collect(),
        Some(_) => return Err(KrpcError::WrongType("values")),
    };
    let token = match get(r, "token")? {
        None => None,
        Some(Node::Bytes(token)) if token.len() <= MAX_TOKEN_LEN => Some(token.to_vec()),
        Some(Node::Bytes(token)) => {
            return Err(KrpcError::BadLength {
                key: "token",
                len: token.len(),
            });
        }
        Some(_) => return Err(KrpcError::WrongType("token")),
    };
    Ok(Response {
        id,
        nodes,
        node_lists: None,
        values,
        token,
    })
}

/// The `e` list: `[code, message]`.
fn decode_error(top: Items<'_>) -> Result<ErrorReply, KrpcError> {
    let Some(Node::List(items)) = get(top, "e")? else {
        return Err(KrpcError::WrongType("e"));
    };
    let mut values = items.values();
    let Some(Ok(Node::Int(code))) = values.next() else {
        return Err(KrpcError::WrongType("e"));
    };
    let message = match values.next() {
        Some(Ok(Node::Bytes(text))) => {
            let text = text.get(..MAX_ERROR_MESSAGE_LEN).unwrap_or(text);
            String::from_utf8_lossy(text).into_owned()
        }
        _ => String::new(),
    };
    Ok(ErrorReply { code, message })
}

/// The value under `key` (the first, if repeated).
fn get<'a>(dict: Items<'a>, key: &str) -> Result<Option<Node<'a>>, KrpcError> {
    for entry in dict.entries() {
        let (name, value) = entry?;
        if name == key.as_bytes() {
            return Ok(Some(value));
        }
    }
    Ok(None)
}

/// The required string under `key`.
fn bytes_of<'a>(dict: Items<'a>, key: &'static str) -> Result<&'a [u8], KrpcError> {
    match get(dict, key)? {
        Some(Node::Bytes(bytes)) => Ok(bytes),
        Some(_) => Err(KrpcError::WrongType(key)),
        None => Err(KrpcError::MissingKey(key)),
    }
}

/// The required dictionary under `key`.
fn dict_of<'a>(dict: Items<'a>, key: &'static str) -> Result<Items<'a>, KrpcError> {
    match get(dict, key)? {
        Some(Node::Dict(items)) => Ok(items),
        Some(_) => Err(KrpcError::NotADictionary(key)),
        None => Err(KrpcError::MissingKey(key)),
    }
}

/// The required 20-byte string under `key`.
fn id_of(dict: Items<'_>, key: &'static str) -> Result<NodeId, KrpcError> {
    let bytes = bytes_of(dict, key)?;
    NodeId::from_slice(bytes).ok_or(KrpcError::BadLength {
        key,
        len: bytes.len(),
    })
}
