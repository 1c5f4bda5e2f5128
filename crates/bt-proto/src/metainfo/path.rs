//! Checks on the names and path components a torrent asks us to create on disk.
//!
//! A torrent's file path is a list of components, and every component (and the torrent's
//! `name`) must be safe to use as one directory entry on any common file system: nothing that
//! climbs out of the download directory, nothing that means something special on Windows.

/// Windows reserves these names, with or without an extension, in any case.
const WINDOWS_DEVICES: [&str; 4] = ["CON", "PRN", "AUX", "NUL"];

/// Returns why `component` is unsafe as one path component, or `None` when it is fine.
///
/// Rejected: the empty string, `.` and `..`, anything containing `/`, `\` or NUL (so nothing
/// absolute either), a Windows drive prefix such as `C:`, and the Windows device names (`CON`,
/// `PRN`, `AUX`, `NUL`, `COM1`-`COM9`, `LPT1`-`LPT9`, in any case, with or without an
/// extension, as in `nul.txt`).
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
    if matches!(bytes, [letter, b':', ..] if letter.is_ascii_alphabetic()) {
        return Some("looks like a Windows drive");
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
            "ab:c",
            "1:x",
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
        ] {
            assert!(path_component_problem(bad).is_some(), "{bad:?}");
        }
    }
}
