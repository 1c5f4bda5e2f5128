//! A borrowed, zero-copy view of a validated bencode document.
//!
//! serde_bencode decodes a loose value (its `Value`) by building a tree of owned vectors and
//! hash maps: tens of bytes for each byte of input, so a 64 MiB torrent of empty lists grew to
//! gigabytes. A [`Node`] instead points into the input: reading a torrent's fields costs nothing
//! beyond the typed result, and a file list full of junk fails at its first bad entry.
//!
//! Nodes are made only by [`Node::parse`], which runs the scanner over the whole input first,
//! so every read below is of well-formed bencode; the readers still return errors rather than
//! panic, should that ever not hold.

use std::fmt;

use super::{BencodeError, byte_at, integer, string_span, validate, value_end};

/// One value of a validated document, borrowing from it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Node<'a> {
    /// An integer.
    Int(i64),
    /// A byte string (not necessarily UTF-8).
    Bytes(&'a [u8]),
    /// A list; iterate it with [`Items::values`].
    List(Items<'a>),
    /// A dictionary; iterate it with [`Items::entries`].
    Dict(Items<'a>),
}

/// The contents of a list or a dictionary: the bytes between its opening letter and its `e`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Items<'a> {
    /// The whole document, so that offsets in errors are the document's.
    input: &'a [u8],
    /// The first item.
    start: usize,
    /// The closing `e`.
    end: usize,
}

impl<'a> Node<'a> {
    /// Validates `input` (one value, at most [`super::MAX_TOKENS`] values, nothing after it)
    /// and returns its top-level value.
    pub fn parse(input: &'a [u8]) -> Result<Node<'a>, BencodeError> {
        validate(input)?;
        Ok(read(input, 0)?.0)
    }

    /// The bencode type's name, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Int(_) => "an integer",
            Node::Bytes(_) => "a string",
            Node::List(_) => "a list",
            Node::Dict(_) => "a dictionary",
        }
    }
}

impl fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Int(value) => write!(f, "Int({value})"),
            Node::Bytes(bytes) => write!(f, "Bytes({:?})", String::from_utf8_lossy(bytes)),
            Node::List(items) => f
                .debug_list()
                .entries(items.values().map_while(Result::ok))
                .finish(),
            Node::Dict(items) => f
                .debug_map()
                .entries(items.entries().map_while(Result::ok))
                .finish(),
        }
    }
}

impl fmt::Debug for Items<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Items({}..{})", self.start, self.end)
    }
}

impl<'a> Items<'a> {
    /// The values of a list, in order; an item that cannot be read ends the iteration with an
    /// error.
    pub fn values(self) -> impl Iterator<Item = Result<Node<'a>, BencodeError>> + 'a {
        let mut pos = self.start;
        std::iter::from_fn(move || {
            if pos >= self.end {
                return None;
            }
            let item = read(self.input, pos).map(|(node, next)| {
                pos = next;
                node
            });
            if item.is_err() {
                pos = self.end;
            }
            Some(item)
        })
    }

    /// The `(key, value)` entries of a dictionary, in the order written (not necessarily
    /// sorted, and a key may repeat).
    pub fn entries(self) -> impl Iterator<Item = Result<(&'a [u8], Node<'a>), BencodeError>> + 'a {
        let mut pos = self.start;
        std::iter::from_fn(move || {
            if pos >= self.end {
                return None;
            }
            let entry = string_span(self.input, pos).and_then(|key| {
                let (value, next) = read(self.input, key.end)?;
                let key = self.input.get(key).unwrap_or_default();
                pos = next;
                Ok((key, value))
            });
            if entry.is_err() {
                pos = self.end;
            }
            Some(entry)
        })
    }
}

/// Reads the value at `pos` and returns it with the offset just past it.
fn read(input: &[u8], pos: usize) -> Result<(Node<'_>, usize), BencodeError> {
    match byte_at(input, pos)? {
        b'i' => {
            let (value, end) = integer(input, pos)?;
            Ok((Node::Int(value), end))
        }
        b'0'..=b'9' => {
            let span = string_span(input, pos)?;
            let end = span.end;
            Ok((Node::Bytes(input.get(span).unwrap_or_default()), end))
        }
        byte @ (b'l' | b'd') => {
            let end = value_end(input, pos)?;
            let items = Items {
                input,
                start: pos + 1,
                end: end - 1,
            };
            let node = if byte == b'l' {
                Node::List(items)
            } else {
                Node::Dict(items)
            };
            Ok((node, end))
        }
        byte => Err(BencodeError::UnexpectedByte { byte, offset: pos }),
    }
}
