//! Ctrl-C and SIGTERM: the first asks for a clean stop, a second one ends the process at once.

use anyhow::Context;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;

/// The exit code after a second Ctrl-C: 128 + SIGINT, as a shell reports a killed process.
const FORCED_EXIT: i32 = 130;

/// Tells whether a stop was asked for; clone it into every wait.
#[derive(Debug, Clone)]
pub struct Interrupt {
    asked: watch::Receiver<bool>,
}

impl Interrupt {
    /// Installs the handlers (inside a runtime). From now on SIGINT and SIGTERM no longer kill
    /// the process: the first one is reported here, and the second exits with code 130.
    pub fn install() -> anyhow::Result<Interrupt> {
        let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
        let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
        let (tell, asked) = watch::channel(false);
        tokio::spawn(async move {
            next(&mut int, &mut term).await;
            eprintln!("bt: stopping: telling the trackers (Ctrl-C again to quit at once)");
            let _ = tell.send(true);
            next(&mut int, &mut term).await;
            eprintln!("bt: interrupted again, exiting at once");
            std::process::exit(FORCED_EXIT);
        });
        Ok(Interrupt { asked })
    }

    /// Resolves once a stop is asked for (at once if it was already).
    pub async fn wait(&mut self) {
        // An error means the handler task ended, which only happens when the process exits.
        let _ = self.asked.wait_for(|asked| *asked).await;
    }
}

/// The next SIGINT or SIGTERM.
async fn next(int: &mut Signal, term: &mut Signal) {
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
}
