//! The threads that read a reference peer's pipes: stdout decoded into events on a channel,
//! and the tail of stderr kept for error messages.

use std::io::{BufRead, BufReader, Read};
use std::sync::Mutex;

use tokio::sync::mpsc::UnboundedSender;

use super::error::ReferenceError;
use super::event::LtEvent;

/// How much of the child's stderr is kept for error messages.
const STDERR_TAIL: usize = 8 * 1024;

/// Decodes stdout line by line onto the channel, until the pipe or the receiver closes.
pub(super) fn pump_events(stdout: impl Read, tx: UnboundedSender<Result<LtEvent, ReferenceError>>) {
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        let item =
            serde_json::from_str(&line).map_err(|source| ReferenceError::BadLine { line, source });
        if tx.send(item).is_err() {
            return;
        }
    }
}

/// Keeps the last [`STDERR_TAIL`] bytes of `pipe` in `tail`.
pub(super) fn keep_tail(pipe: impl Read, tail: &Mutex<String>) {
    for line in BufReader::new(pipe).lines().map_while(Result::ok) {
        let Ok(mut tail) = tail.lock() else { return };
        tail.push_str(&line);
        tail.push('\n');
        if tail.len() > STDERR_TAIL {
            let cut = tail.len() - STDERR_TAIL;
            let cut = (cut..tail.len())
                .find(|&i| tail.is_char_boundary(i))
                .unwrap_or(tail.len());
            tail.drain(..cut);
        }
    }
}

/// Whether a Python traceback says the libtorrent module is missing.
pub(super) fn lacks_libtorrent(stderr: &str) -> bool {
    stderr.contains("No module named 'libtorrent'")
}
