//! Logging: tracing events (and actix's `log` records) to stderr, filtered by `RUST_LOG` or by
//! `-v`/`-vv`/`-vvv`, written through the [`Console`] so they never break the progress bars.

use std::io::{self, IsTerminal, Write};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::console::Console;

/// The filter for `-v` repeated `verbosity` times, when `RUST_LOG` is not set. Without `-v`
/// the engine's warnings about trackers are left out: the runner tells the user about
/// trackers itself, in one line each ([`crate::trackers`]).
fn default_filter(verbosity: u8) -> &'static str {
    match verbosity {
        0 => {
            "warn,bt_engine::actors::announcer=error,bt_engine::actors::supervisor::trackers=error"
        }
        1 => "warn,bt_engine=info,bt_cli=info",
        2 => "info,bt_engine=debug,bt_cli=debug",
        _ => "debug,bt_engine=trace,bt_cli=trace",
    }
}

/// Installs the subscriber: `RUST_LOG` if set, else the level `verbosity` asks for.
pub fn init(verbosity: u8, console: &Console) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(default_filter(verbosity)));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(io::stderr().is_terminal())
        .with_writer(ConsoleLog(console.clone()))
        .try_init();
}

/// Makes one [`LogLine`] per event.
struct ConsoleLog(Console);

impl<'a> MakeWriter<'a> for ConsoleLog {
    type Writer = LogLine;

    fn make_writer(&'a self) -> LogLine {
        LogLine {
            console: self.0.clone(),
            buffer: Vec::new(),
        }
    }
}

/// One formatted event, buffered and handed to the console in one piece when dropped.
struct LogLine {
    console: Console,
    buffer: Vec<u8>,
}

impl Write for LogLine {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        if !self.buffer.is_empty() {
            self.console.write_stderr(&self.buffer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_v_raises_the_level() {
        let levels: Vec<_> = (0..4).map(default_filter).collect();
        assert!(levels[0].starts_with("warn,"));
        assert!(levels[0].contains("bt_engine::actors::announcer=error"));
        assert!(levels[1].contains("bt_engine=info"));
        assert!(levels[2].contains("bt_engine=debug"));
        assert!(levels[3].contains("bt_engine=trace"));
        for filter in levels {
            assert!(EnvFilter::try_new(filter).is_ok(), "{filter}");
        }
    }
}
