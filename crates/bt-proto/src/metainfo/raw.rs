//! Helpers that turn loose serde_bencode [`Value`]s into typed fields, with errors that name the
//! key that is missing or mistyped.

use serde_bencode::value::Value;

use super::MetainfoError;

/// The value of `key` as raw bytes, if present.
pub(super) fn bytes_field(
    value: Option<Value>,
    key: &str,
) -> Result<Option<Vec<u8>>, MetainfoError> {
    match value {
        None => Ok(None),
        Some(Value::Bytes(bytes)) => Ok(Some(bytes)),
        Some(_) => Err(wrong_type(key, "a string")),
    }
}

/// The value of `key` as UTF-8 text, if present; bytes that are not UTF-8 are an error.
pub(super) fn utf8_field(value: Option<Value>, key: &str) -> Result<Option<String>, MetainfoError> {
    bytes_field(value, key)?
        .map(|bytes| {
            String::from_utf8(bytes).map_err(|_| MetainfoError::NotUtf8 {
                key: key.to_owned(),
            })
        })
        .transpose()
}

/// The value of `key` as an integer, if present.
pub(super) fn int_field(value: Option<Value>, key: &str) -> Result<Option<i64>, MetainfoError> {
    match value {
        None => Ok(None),
        Some(Value::Int(int)) => Ok(Some(int)),
        Some(_) => Err(wrong_type(key, "an integer")),
    }
}

/// The value of `key` as a list, if present.
pub(super) fn list_field(
    value: Option<Value>,
    key: &str,
) -> Result<Option<Vec<Value>>, MetainfoError> {
    match value {
        None => Ok(None),
        Some(Value::List(list)) => Ok(Some(list)),
        Some(_) => Err(wrong_type(key, "a list")),
    }
}

/// A string value that is valid UTF-8, or `None`.
pub(super) fn text_field(value: Value) -> Option<String> {
    match value {
        Value::Bytes(bytes) => String::from_utf8(bytes).ok(),
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
