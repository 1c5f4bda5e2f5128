//! Comparing a downloaded tree with the payload, byte for byte.

use std::fs;
use std::path::Path;

use anyhow::{Context, bail};

/// Fails unless `actual` holds exactly the files and directories of `expected`, with the same
/// bytes (zero-length files included).
pub fn assert_same_tree(expected: &Path, actual: &Path) -> anyhow::Result<()> {
    let meta = fs::symlink_metadata(expected)
        .with_context(|| format!("reading {}", expected.display()))?;
    if meta.is_dir() {
        let mut want: Vec<_> = list(expected)?;
        let mut got: Vec<_> = list(actual)?;
        want.sort();
        got.sort();
        if want != got {
            bail!("{} holds {got:?}, expected {want:?}", actual.display());
        }
        for name in want {
            assert_same_tree(&expected.join(&name), &actual.join(&name))?;
        }
        return Ok(());
    }
    let want = fs::read(expected).with_context(|| format!("reading {}", expected.display()))?;
    let got = fs::read(actual).with_context(|| format!("reading {}", actual.display()))?;
    if want != got {
        let first = want.iter().zip(&got).position(|(a, b)| a != b);
        bail!(
            "{} differs from {} (lengths {} and {}, first difference at {first:?})",
            actual.display(),
            expected.display(),
            got.len(),
            want.len()
        );
    }
    Ok(())
}

fn list(dir: &Path) -> anyhow::Result<Vec<std::ffi::OsString>> {
    fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .map(|entry| Ok(entry?.file_name()))
        .collect()
}
