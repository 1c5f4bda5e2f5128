//! A small, depth-limited bencode scanner (BEP 3) and the few encoding helpers we write by hand.
//!
//! The scanner validates that a buffer holds exactly one well-formed bencode value and finds the
//! byte span of a value in a top-level dictionary. It is how the info-hash is computed: SHA-1 over
//! the *original* bytes of the `info` value, never over a re-encoding (a re-encoding drops unknown
//! keys and reorders keys, and so changes the hash).
//!
//! It runs before serde_bencode ever sees the input, so the typed decoder never meets hostile
//! input: nesting is limited to [`MAX_DEPTH`] (the scanner keeps its own fixed-size stack, so
//! 10,000 nested lists are an error, not a stack overflow), every string length prefix is
//! checked against the bytes that remain before anything else happens, and the number of values
//! is limited to [`MAX_TOKENS`] (or a caller's lower limit), so that a small document cannot
//! make a decoder build millions of values. The scanner allocates nothing.
//!
//! [`Node`] then reads a validated document without copying: strings are borrowed slices of the
//! input, lists and dictionaries are iterators over it. The metainfo parser uses it, so that
//! what a torrent costs in memory is the typed result and nothing more.
//!
//! What it checks: integers are canonical (no `-0`, no leading zeros, not empty, fit in an
//! `i64`); string lengths have no leading zeros; dictionary keys are strings; there are no
//! trailing bytes. What it does not check: that dictionary keys are sorted or unique. Real
//! torrents sometimes have keys out of order, and the hash must be over whatever bytes they hold.
//!
//! # Layout
//! - `node`: [`Node`] and [`Items`], the borrowed reader.

mod node;

use std::ops::Range;

use thiserror::Error;

pub use node::{Items, Node};

/// The deepest nesting of lists and dictionaries the scanner accepts. Real torrents nest about
/// four deep (`info` → `files` → entry → `path`).
pub const MAX_DEPTH: usize = 64;

/// The most values one document may hold, counting every integer, string (dictionary keys
/// included), list and dictionary as one token; the same count and the same limit as
/// libtorrent's `max_decode_tokens` for torrent files (3,000,000).
///
/// What a real torrent needs: `pieces` is one token however many pieces there are, so the count
/// is driven by the file list. An entry `{length, path: [a, b, c]}` is 8 tokens; BEP 47 `attr`
/// and padding entries, `path.utf-8` copies and `sha1`/`mtime` keys bring that to about 20 per
/// file, so 100,000 files need about 2,000,000 tokens and fit with room to spare. Hostile input
/// such as 64 MiB of `le` (33 million empty lists) stops here, before anything is built.
pub const MAX_TOKENS: usize = 3_000_000;

/// What is wrong with a bencode document, and the byte offset where the scanner noticed it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BencodeError {
    /// The input ended inside a value (or was empty).
    #[error("unexpected end of input at byte {offset}")]
    UnexpectedEnd {
        /// Offset of the end of the input.
        offset: usize,
    },
    /// A byte that cannot start a value here.
    #[error("unexpected byte 0x{byte:02x} at byte {offset}")]
    UnexpectedByte {
        /// The offending byte.
        byte: u8,
        /// Where it is.
        offset: usize,
    },
    /// An integer that is empty, `-0`, has leading zeros, or holds a non-digit.
    #[error("malformed integer at byte {offset}")]
    MalformedInteger {
        /// Offset of the `i` that starts the integer.
        offset: usize,
    },
    /// An integer outside the range of `i64`.
    #[error("integer out of range at byte {offset}")]
    IntegerOutOfRange {
        /// Offset of the `i` that starts the integer.
        offset: usize,
    },
    /// A string length prefix with leading zeros, or too many digits to be a length.
    #[error("malformed string length at byte {offset}")]
    MalformedLength {
        /// Offset of the first digit of the length.
        offset: usize,
    },
    /// A string whose length prefix claims more bytes than the input holds.
    #[error("string at byte {offset} claims {len} bytes but only {available} remain")]
    StringTooLong {
        /// Offset of the first digit of the length.
        offset: usize,
        /// The claimed length.
        len: usize,
        /// How many bytes follow the `:`.
        available: usize,
    },
    /// A dictionary key that is not a string.
    #[error("dictionary key at byte {offset} is not a string")]
    KeyNotString {
        /// Where the key starts.
        offset: usize,
    },
    /// A dictionary that ends after a key, before its value.
    #[error("dictionary key without a value at byte {offset}")]
    MissingValue {
        /// Offset of the `e` that ended the dictionary.
        offset: usize,
    },
    /// Lists and dictionaries nested deeper than [`MAX_DEPTH`].
    #[error("nesting deeper than {max} levels at byte {offset}")]
    TooDeep {
        /// Offset of the list or dictionary that went too deep.
        offset: usize,
        /// The limit, [`MAX_DEPTH`].
        max: usize,
    },
    /// More values than the limit ([`MAX_TOKENS`] or the caller's).
    #[error("more than {max} values, at byte {offset}")]
    TooManyTokens {
        /// Offset of the value that went over the limit.
        offset: usize,
        /// The limit.
        max: usize,
    },
    /// Bytes after the end of the single top-level value.
    #[error("trailing bytes after the value, at byte {offset}")]
    TrailingBytes {
        /// Offset of the first trailing byte.
        offset: usize,
    },
    /// The top-level value is not a dictionary (when one was asked for).
    #[error("top-level value is not a dictionary")]
    NotADictionary,
}

/// Checks that `input` is exactly one well-formed bencode value of at most [`MAX_TOKENS`]
/// values, with nothing after it.
pub fn validate(input: &[u8]) -> Result<(), BencodeError> {
    let end = value_end(input, 0)?;
    if end != input.len() {
        return Err(BencodeError::TrailingBytes { offset: end });
    }
    Ok(())
}

/// Validates `input` as one top-level dictionary and returns the byte span of the value stored
/// under `key`, or `None` if the key is absent. If the key appears more than once, the first one
/// wins.
pub fn dict_value_span(input: &[u8], key: &[u8]) -> Result<Option<Range<usize>>, BencodeError> {
    validate(input)?;
    if input.first() != Some(&b'd') {
        return Err(BencodeError::NotADictionary);
    }
    let mut pos = 1;
    while byte_at(input, pos)? != b'e' {
        let key_span = string_span(input, pos)?;
        let value_start = key_span.end;
        let value_stop = value_end(input, value_start)?;
        if input.get(key_span.start..key_span.end) == Some(key) {
            return Ok(Some(value_start..value_stop));
        }
        pos = value_stop;
    }
    Ok(None)
}

/// One open container on the scanner's stack.
#[derive(Clone, Copy)]
enum Frame {
    List,
    /// A dictionary; `want_key` is true when the next item must be a key (or the closing `e`).
    Dict {
        want_key: bool,
    },
}

/// Returns the offset just past the single value that starts at `start`, which may hold at most
/// [`MAX_TOKENS`] values. Bytes after it are not looked at.
pub fn value_end(input: &[u8], start: usize) -> Result<usize, BencodeError> {
    value_end_limited(input, start, MAX_TOKENS)
}

/// Like [`value_end`], with a caller's limit on the number of values (tracker responses use a
/// much lower one than torrents).
///
/// Iterative, with a fixed-size stack of [`MAX_DEPTH`] frames, so it neither recurses nor
/// allocates.
pub fn value_end_limited(
    input: &[u8],
    start: usize,
    max_tokens: usize,
) -> Result<usize, BencodeError> {
    let mut stack = [Frame::List; MAX_DEPTH];
    let mut depth = 0usize;
    let mut pos = start;
    let mut tokens = 0usize;
    loop {
        let byte = byte_at(input, pos)?;
        let top = depth.checked_sub(1).and_then(|i| stack.get_mut(i));
        // Everything but a closing `e` starts a value (or is an error caught below).
        if byte != b'e' {
            tokens += 1;
            if tokens > max_tokens {
                return Err(BencodeError::TooManyTokens {
                    offset: pos,
                    max: max_tokens,
                });
            }
        }
        match (top, byte) {
            (Some(Frame::Dict { want_key: false }), b'e') => {
                return Err(BencodeError::MissingValue { offset: pos });
            }
            (Some(_), b'e') => {
                pos += 1;
                depth -= 1;
            }
            (Some(Frame::Dict { want_key }), _) if *want_key => {
                if !byte.is_ascii_digit() {
                    return Err(BencodeError::KeyNotString { offset: pos });
                }
                pos = string_span(input, pos)?.end;
                *want_key = false;
                continue;
            }
            (_, b'l' | b'd') => {
                let frame = stack.get_mut(depth).ok_or(BencodeError::TooDeep {
                    offset: pos,
                    max: MAX_DEPTH,
                })?;
                *frame = if byte == b'l' {
                    Frame::List
                } else {
                    Frame::Dict { want_key: true }
                };
                depth += 1;
                pos += 1;
                continue;
            }
            (_, b'i') => pos = integer(input, pos)?.1,
            (_, b'0'..=b'9') => pos = string_span(input, pos)?.end,
            (_, _) => return Err(BencodeError::UnexpectedByte { byte, offset: pos }),
        }
        // A whole value just ended at `pos`: a scalar, or a container that just closed.
        if depth == 0 {
            return Ok(pos);
        }
        if let Some(Frame::Dict { want_key }) = stack.get_mut(depth - 1) {
            *want_key = true;
        }
    }
}

/// The byte at `pos`, or an end-of-input error.
fn byte_at(input: &[u8], pos: usize) -> Result<u8, BencodeError> {
    input.get(pos).copied().ok_or(BencodeError::UnexpectedEnd {
        offset: input.len(),
    })
}

/// Parses the integer `i...e` at `start` and returns its value and the offset past its `e`.
fn integer(input: &[u8], start: usize) -> Result<(i64, usize), BencodeError> {
    let malformed = BencodeError::MalformedInteger { offset: start };
    let body_start = start + 1;
    let rest = input.get(body_start..).unwrap_or_default();
    let len = rest
        .iter()
        .position(|&b| b == b'e')
        .ok_or(BencodeError::UnexpectedEnd {
            offset: input.len(),
        })?;
    let body = rest.get(..len).unwrap_or_default();
    let digits = body.strip_prefix(b"-").unwrap_or(body);
    let canonical = match digits {
        [] => false,
        [b'0'] => digits.len() == body.len(), // "0" is fine, "-0" is not
        [b'0', ..] => false,
        _ => digits.iter().all(u8::is_ascii_digit),
    };
    if !canonical {
        return Err(malformed);
    }
    // All ASCII digits with an optional sign, so this is valid UTF-8 and only range can fail.
    let text = std::str::from_utf8(body).map_err(|_| malformed)?;
    let value = text
        .parse::<i64>()
        .map_err(|_| BencodeError::IntegerOutOfRange { offset: start })?;
    Ok((value, body_start + len + 1))
}

/// Parses the length prefix of the string at `start` and returns the span of its contents,
/// after checking the length against the bytes that remain.
fn string_span(input: &[u8], start: usize) -> Result<Range<usize>, BencodeError> {
    let malformed = BencodeError::MalformedLength { offset: start };
    let mut len: usize = 0;
    let mut pos = start;
    loop {
        let byte = byte_at(input, pos)?;
        match byte {
            b':' if pos > start => break,
            b'0'..=b'9' => {
                if pos > start && input.get(start) == Some(&b'0') {
                    return Err(malformed); // leading zero
                }
                len = len
                    .checked_mul(10)
                    .and_then(|l| l.checked_add(usize::from(byte - b'0')))
                    .ok_or(malformed.clone())?;
            }
            _ => return Err(BencodeError::UnexpectedByte { byte, offset: pos }),
        }
        pos += 1;
    }
    let content_start = pos + 1;
    let available = input.len().saturating_sub(content_start);
    if len > available {
        return Err(BencodeError::StringTooLong {
            offset: start,
            len,
            available,
        });
    }
    Ok(content_start..content_start + len)
}

/// Appends a bencoded byte string (`<len>:<bytes>`).
pub fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(bytes.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(bytes);
}

/// Appends a bencoded integer (`i<n>e`).
pub fn write_int(out: &mut Vec<u8>, value: i64) {
    out.push(b'i');
    out.extend_from_slice(value.to_string().as_bytes());
    out.push(b'e');
}

#[cfg(test)]
mod tests;
