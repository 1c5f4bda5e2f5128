//! The machine's limits, measured in the same run as the cases (case 7): SHA-1 on one core
//! (a leecher hashes every byte it receives) and one TCP connection over loopback (every byte
//! crosses one). A download on this machine cannot beat the slower of the two.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

use anyhow::Context;
use sha1::{Digest, Sha1};

/// The buffer hashed over and over, and the size of each socket read and write.
const CHUNK: usize = 1 << 20;

/// Bytes per second that SHA-1 (the `sha1` crate the engine uses) hashes on this thread,
/// over `total` bytes hashed as whole 1 MiB chunks, the way pieces are.
pub fn sha1_rate(total: u64) -> f64 {
    let buffer: Vec<u8> = (0..CHUNK).map(|i| (i * 31 % 251) as u8).collect();
    let chunks = total.div_ceil(CHUNK as u64).max(1);
    let started = Instant::now();
    let mut digest_bytes = 0u8;
    for _ in 0..chunks {
        let digest = Sha1::digest(&buffer);
        // Use the result so the work cannot be optimised away.
        digest_bytes ^= digest[0];
    }
    let seconds = started.elapsed().as_secs_f64();
    std::hint::black_box(digest_bytes);
    (chunks * CHUNK as u64) as f64 / seconds
}

/// Bytes per second through one TCP connection on 127.0.0.1, a writer thread to a reader
/// thread in 1 MiB calls, over `total` bytes.
pub fn loopback_rate(total: u64) -> anyhow::Result<f64> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding a loopback socket")?;
    let addr = listener.local_addr()?;
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        let mut stream = TcpStream::connect(addr)?;
        let chunk = vec![0x5a_u8; CHUNK];
        let mut left = total;
        while left > 0 {
            let n = left.min(CHUNK as u64) as usize;
            stream.write_all(&chunk[..n])?;
            left -= n as u64;
        }
        Ok(())
    });
    let (mut stream, _) = listener
        .accept()
        .context("accepting the loopback connection")?;
    let started = Instant::now();
    let mut buffer = vec![0u8; CHUNK];
    let mut received = 0u64;
    loop {
        let n = stream.read(&mut buffer).context("reading from loopback")?;
        if n == 0 {
            break;
        }
        received += n as u64;
    }
    let seconds = started.elapsed().as_secs_f64();
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("the loopback writer panicked"))?
        .context("writing to loopback")?;
    anyhow::ensure!(received == total, "received {received} of {total} bytes");
    Ok(received as f64 / seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_limits_are_positive_rates() {
        assert!(sha1_rate(4 << 20) > 0.0);
        assert!(loopback_rate(8 << 20).unwrap() > 0.0);
    }
}
