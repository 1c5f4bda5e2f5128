//! Checks on the names and path components a torrent asks us to create on disk.
//!
//! A torrent's file path is a list of components, and every component (and the torrent's
//! `name`) must be safe to use as one directory entry on any common file system: nothing that
//! climbs out of the download directory, nothing that means something special on Windows.
//!
//! Across the file list, [`check_collisions`] rejects two files with the same path and a file
//! whose path is also a directory of another, comparing with ASCII case folded: the download
//! must work on case-insensitive file systems (Windows, macOS by default). Only ASCII is folded;
//! a full Unicode fold would need tables this crate does not carry, and names differing only in
//! non-ASCII case are rare.

use std::cmp::Ordering;

use super::MetainfoError;

/// Windows reserves these names, with or without an extension, in any case.
const WINDOWS_DEVICES: [&str; 4] = ["CON", "PRN", "AUX", "NUL"];

/// Characters Windows forbids in a name (besides the separators, `:` and control bytes).
const WINDOWS_FORBIDDEN: &[u8] = b"<>\"|?*";

/// Returns why `component` is unsafe as one path component, or `None` when it is fine.
///
/// Rejected: the empty string, `.` and `..`, anything containing `/`, `\` or NUL (so nothing
/// absolute either), a `:` anywhere (a Windows drive such as `C:`, or an NTFS alternate data
/// stream such as `a:stream`), the characters `<>"|?*` and control bytes 0x01-0x1f that Windows
/// forbids, a trailing `.` or space (Windows strips them, so `a.` and `a` are one file), and the
/// Windows device names (`CON`, `PRN`, `AUX`, `NUL`, `COM1`-`COM9`, `LPT1`-`LPT9`, in any case,
/// with or without an extension, as in `nul.txt`).
pub fn path_component_problem(component: &str) -> Option<&'static str> {
    let bytes = component.as_bytes();
    if bytes.is_empty() {
        return Some("empty component");
    }
    if component == "." || component == ".." {
        return Some("refers to a directory itself or its parent");
    }
    if bytes.iter().any(|&b| b == b'/' || b == b'\\') {
        return Some("contains a path separator");
    }
    if bytes.contains(&0) {
        return Some("contains a NUL byte");
    }
    if bytes.contains(&b':') {
        return Some("contains a colon (a Windows drive or an NTFS data stream)");
    }
    if bytes.iter().any(|b| WINDOWS_FORBIDDEN.contains(b)) {
        return Some("contains a character Windows forbids");
    }
    if bytes.iter().any(|&b| (0x01..=0x1f).contains(&b)) {
        return Some("contains a control character");
    }
    if matches!(bytes.last(), Some(b'.' | b' ')) {
        return Some("ends with a dot or a space");
    }
    if is_windows_device(component) {
        return Some("is a reserved Windows device name");
    }
    None
}

/// True for `CON`, `nul.txt`, `Com3`, `LPT1.tar.gz` and the like.
fn is_windows_device(component: &str) -> bool {
    let stem = component.split('.').next().unwrap_or(component);
    // Windows ignores trailing spaces in a name, so "CON " is CON too.
    let stem = stem.trim_end_matches(' ');
    if WINDOWS_DEVICES.iter().any(|d| stem.eq_ignore_ascii_case(d)) {
        return true;
    }
    match stem.as_bytes() {
        [a, b, c, digit] => {
            let prefix = [*a, *b, *c];
            (prefix.eq_ignore_ascii_case(b"COM") || prefix.eq_ignore_ascii_case(b"LPT"))
                && (b'1'..=b'9').contains(digit)
        }
        _ => false,
    }
}

/// One file's path for [`check_collisions`].
pub(super) struct PathKey<'a> {
    /// The components as written.
    pub(super) path: &'a [String],
    /// BEP 47 padding file: padding files may share a path (libtorrent names them `.pad/N`
    /// after their size), since their content is zeros and they need not be written.
    pub(super) padding: bool,
}

/// Rejects two files with the same path (unless both are padding files) and a file whose path
/// is a directory of another's, comparing components with ASCII case folded. Sorts references,
/// so it copies no path.
pub(super) fn check_collisions(files: &[PathKey<'_>]) -> Result<(), MetainfoError> {
    let mut sorted: Vec<&PathKey<'_>> = files.iter().collect();
    // Sorted component-wise, every path that has `p` as a prefix directly follows `p`, so
    // comparing neighbours finds every collision.
    sorted.sort_by(|a, b| cmp_folded(a.path, b.path));
    for pair in sorted.windows(2) {
        let [a, b] = pair else {
            continue;
        };
        let Some(common) = b.path.get(..a.path.len()) else {
            continue; // `b` is shorter, so `a` cannot be its prefix
        };
        if cmp_folded(a.path, common).is_ne() {
            continue;
        }
        if a.path.len() < b.path.len() {
            return Err(MetainfoError::PathCollision {
                file: a.path.join("/"),
                other: b.path.join("/"),
            });
        }
        if !(a.padding && b.padding) {
            return Err(MetainfoError::DuplicatePath {
                path: b.path.join("/"),
            });
        }
    }
    Ok(())
}

/// A component's bytes with ASCII case folded.
fn fold(component: &str) -> impl Iterator<Item = u8> + '_ {
    component.bytes().map(|b| b.to_ascii_lowercase())
}

/// Compares two paths component by component, ignoring ASCII case.
fn cmp_folded(a: &[String], b: &[String]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| fold(x).cmp(fold(y)))
        .find(|order| order.is_ne())
        .unwrap_or_else(|| a.len().cmp(&b.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_pass() {
        for ok in [
            "a",
            "file.txt",
            ".hidden",
            ".pad",
            "con-artist",
            "COM10",
            "LPT0",
            "a.b",
            " lead",
            "é",
        ] {
            assert_eq!(path_component_problem(ok), None, "{ok}");
        }
    }

    #[test]
    fn unsafe_names_fail() {
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "/etc",
            "a\\b",
            "\\x",
            "a\0b",
            "C:",
            "c:evil",
            "CON",
            "con",
            "nul.txt",
            "Aux.tar.gz",
            "PRN",
            "com1",
            "LPT9.log",
            "CON ",
            "ab:c",
            "1:x",
            "file.txt:stream",
            "a<b",
            "a>b",
            "a\"b",
            "a|b",
            "a?",
            "*",
            "tab\there",
            "\x1f",
            "trailing.",
            "trailing ",
        ] {
            assert!(path_component_problem(bad).is_some(), "{bad:?}");
        }
    }
}
