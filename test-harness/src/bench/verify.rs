//! Checking a downloaded file against the payload, byte for byte, in 1 MiB reads (the
//! payloads run to gigabytes).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use anyhow::{Context, bail};

const CHUNK: usize = 1 << 20;

/// Fails unless `actual` holds exactly the bytes of `expected`.
pub fn same_file(expected: &Path, actual: &Path) -> anyhow::Result<()> {
    let open = |path: &Path| {
        File::open(path)
            .map(|f| BufReader::with_capacity(CHUNK, f))
            .with_context(|| format!("opening {}", path.display()))
    };
    let (mut want, mut got) = (open(expected)?, open(actual)?);
    let (mut a, mut b) = (vec![0u8; CHUNK], vec![0u8; CHUNK]);
    let mut offset = 0u64;
    loop {
        let n = fill(&mut want, &mut a)?;
        let m = fill(&mut got, &mut b)?;
        if n != m || a[..n] != b[..m] {
            bail!(
                "{} differs from {} in the MiB at offset {offset}",
                actual.display(),
                expected.display()
            );
        }
        if n == 0 {
            return Ok(());
        }
        offset += n as u64;
    }
}

/// Reads until `buffer` is full or the file ends; returns the bytes read.
fn fill(reader: &mut impl Read, buffer: &mut [u8]) -> anyhow::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        let n = reader.read(&mut buffer[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_files_pass_and_any_difference_fails() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..3 * CHUNK + 17).map(|i| (i % 253) as u8).collect();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, &data).unwrap();
        std::fs::write(&b, &data).unwrap();
        same_file(&a, &b).unwrap();
        let mut changed = data.clone();
        changed[2 * CHUNK + 5] ^= 1;
        std::fs::write(&b, &changed).unwrap();
        assert!(same_file(&a, &b).is_err());
        std::fs::write(&b, &data[..data.len() - 1]).unwrap();
        assert!(same_file(&a, &b).is_err());
    }
}
