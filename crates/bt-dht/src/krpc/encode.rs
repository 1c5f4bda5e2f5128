//! [`Message`] to bytes. Bencode wants dictionary keys sorted as raw byte strings; each
//! dictionary below writes its keys in that order by hand, which the tests check against the
//! examples of BEP 5.

use bt_proto::bencode::{write_bytes, write_int};

use super::{Body, ErrorReply, Message, Method, Query, Response};
use crate::compact::{encode_peer, write_nodes};

impl Message {
    /// The bencoded datagram.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        out.push(b'd');
        match &self.body {
            Body::Query(query) => {
                write_bytes(&mut out, b"a");
                write_query_args(&mut out, query);
                write_bytes(&mut out, b"q");
                write_bytes(&mut out, query.method.name());
                if self.read_only {
                    write_bytes(&mut out, b"ro");
                    write_int(&mut out, 1);
                }
            }
            Body::Response(response) => {
                write_bytes(&mut out, b"r");
                write_response(&mut out, response);
            }
            Body::Error(error) => {
                write_bytes(&mut out, b"e");
                write_error(&mut out, error);
            }
        }
        write_bytes(&mut out, b"t");
        write_bytes(&mut out, &self.transaction);
        if let Some(version) = &self.version {
            write_bytes(&mut out, b"v");
            write_bytes(&mut out, version);
        }
        write_bytes(&mut out, b"y");
        write_bytes(
            &mut out,
            match self.body {
                Body::Query(_) => b"q",
                Body::Response(_) => b"r",
                Body::Error(_) => b"e",
            },
        );
        out.push(b'e');
        out
    }
}

/// The `a` dictionary: `id` and the method's arguments, sorted.
fn write_query_args(out: &mut Vec<u8>, query: &Query) {
    out.push(b'd');
    write_bytes(out, b"id");
    write_bytes(out, query.id.as_bytes());
    match &query.method {
        Method::Ping | Method::Unknown(_) => {}
        Method::FindNode { target } => {
            write_bytes(out, b"target");
            write_bytes(out, target.as_bytes());
        }
        Method::GetPeers { info_hash } => {
            write_bytes(out, b"info_hash");
            write_bytes(out, info_hash.as_bytes());
        }
        Method::AnnouncePeer {
            info_hash,
            port,
            implied_port,
            token,
        } => {
            if *implied_port {
                write_bytes(out, b"implied_port");
                write_int(out, 1);
            }
            write_bytes(out, b"info_hash");
            write_bytes(out, info_hash.as_bytes());
            write_bytes(out, b"port");
            write_int(out, i64::from(*port));
            write_bytes(out, b"token");
            write_bytes(out, token);
        }
    }
    // `want` sorts after every other argument.
    if let Some(want) = query.want {
        write_bytes(out, b"want");
        out.push(b'l');
        for (wanted, name) in [(want.nodes4, b"n4"), (want.nodes6, b"n6")] {
            if wanted {
                write_bytes(out, name);
            }
        }
        out.push(b'e');
    }
    out.push(b'e');
}

/// The `r` dictionary: `id`, `nodes`, `nodes6`, `token`, `values`, the empty ones left out
/// (but the node lists `node_lists` names, which are written even when empty).
fn write_response(out: &mut Vec<u8>, response: &Response) {
    out.push(b'd');
    write_bytes(out, b"id");
    write_bytes(out, response.id.as_bytes());
    for (key, v6) in [(&b"nodes"[..], false), (&b"nodes6"[..], true)] {
        let written = match response.node_lists {
            Some(lists) => lists.wants(v6),
            None => response.nodes.iter().any(|node| node.addr.is_ipv6() == v6),
        };
        if written {
            let mut compact = Vec::new();
            write_nodes(&mut compact, &response.nodes, v6);
            write_bytes(out, key);
            write_bytes(out, &compact);
        }
    }
    if let Some(token) = &response.token {
        write_bytes(out, b"token");
        write_bytes(out, token);
    }
    if !response.values.is_empty() {
        write_bytes(out, b"values");
        out.push(b'l');
        for peer in &response.values {
            write_bytes(out, &encode_peer(peer));
        }
        out.push(b'e');
    }
    out.push(b'e');
}

/// The `e` list.
fn write_error(out: &mut Vec<u8>, error: &ErrorReply) {
    out.push(b'l');
    write_int(out, error.code);
    write_bytes(out, error.message.as_bytes());
    out.push(b'e');
}
