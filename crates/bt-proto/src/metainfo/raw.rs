//! Helpers that turn borrowed bencode [`Node`]s into typed fields, with errors that name the key
//! that is missing, mistyped or repeated.

use crate::bencode::{Items, Node};

use super::MetainfoError;

/// The values of the `N` known `keys` of the dictionary `node` (`what` names it in errors), in
/// the order of `keys`. Other keys are ignored, whatever bytes they hold; a known key given
/// twice is an error, since two readers could then disagree on what the torrent says.
pub(super) fn read_dict<'a, const N: usize>(
    node: Node<'a>,
    what: &str,
    keys: [&str; N],
) -> Result<[Option<Node<'a>>; N], MetainfoError> {
    let Node::Dict(items) = node else {
        return Err(wrong_type(what, "a dictionary"));
    };
    let mut slots = [None; N];
    for entry in items.entries() {
        let (key, value) = entry?;
        let Some(index) = keys.iter().position(|k| k.as_bytes() == key) else {
            continue;
        };
        let slot = slots
            .get_mut(index)
            .expect("invariant: index comes from keys");
        if slot.replace(value).is_some() {
            return Err(MetainfoError::DuplicateKey {
                key: String::from_utf8_lossy(key).into_owned(),
            });
        }
    }
    Ok(slots)
}

/// The value of `key` as raw bytes, if present.
pub(super) fn bytes_field<'a>(
    value: Option<Node<'a>>,
    key: &str,
) -> Result<Option<&'a [u8]>, MetainfoError> {
    match value {
        None => Ok(None),
        Some(Node::Bytes(bytes)) => Ok(Some(bytes)),
        Some(_) => Err(wrong_type(key, "a string")),
    }
}

/// The value of `key` as an integer, if present.
pub(super) fn int_field(value: Option<Node<'_>>, key: &str) -> Result<Option<i64>, MetainfoError> {
    match value {
        None => Ok(None),
        Some(Node::Int(int)) => Ok(Some(int)),
        Some(_) => Err(wrong_type(key, "an integer")),
    }
}

/// The value of `key` as a list, if present.
pub(super) fn list_field<'a>(
    value: Option<Node<'a>>,
    key: &str,
) -> Result<Option<Items<'a>>, MetainfoError> {
    match value {
        None => Ok(None),
        Some(Node::List(items)) => Ok(Some(items)),
        Some(_) => Err(wrong_type(key, "a list")),
    }
}

/// A string value that is valid UTF-8, or `None` for anything else.
pub(super) fn text_field(value: Node<'_>) -> Option<String> {
    match value {
        Node::Bytes(bytes) => std::str::from_utf8(bytes).ok().map(str::to_owned),
        _ => None,
    }
}

/// A [`MetainfoError::WrongType`] for `key`.
pub(super) fn wrong_type(key: &str, expected: &'static str) -> MetainfoError {
    MetainfoError::WrongType {
        key: key.to_owned(),
        expected,
    }
}
