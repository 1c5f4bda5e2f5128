//! [`Seeder`]: `bt seed` or a libtorrent seeder serving a [`Fixture`], started once its data
//! is checked and the tracker knows it, and stopped the way a user would stop it.

use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};

use super::process::BtProcess;
use super::transfer::{Client, Fixture, Tools};
use crate::RecordedAnnounce;
use crate::reference::LibtorrentPeer;

/// A running seeder of a [`Fixture`].
#[derive(Debug)]
pub struct Seeder {
    process: SeederProcess,
}

#[derive(Debug)]
enum SeederProcess {
    Bt(BtProcess),
    Libtorrent(Box<LibtorrentPeer>),
}

impl Seeder {
    /// Starts a seeder of the fixture's data and waits until it has checked it and told the
    /// tracker.
    pub async fn start(client: Client, fixture: &Fixture, tools: &Tools) -> anyhow::Result<Self> {
        let before = fixture.peer_ids();
        let process = match client {
            Client::Bt => {
                let args = [
                    "seed".as_ref(),
                    fixture.torrent.as_os_str(),
                    "--data".as_ref(),
                    fixture.payload.data_dir().as_os_str(),
                    "--listen".as_ref(),
                    "127.0.0.1:0".as_ref(),
                ];
                SeederProcess::Bt(BtProcess::spawn(&tools.bt, &args)?)
            }
            Client::Libtorrent => {
                let mut peer = LibtorrentPeer::seeder(&fixture.torrent, fixture.payload.data_dir())
                    .tracker(fixture.tracker.http_announce_url())
                    .python(&tools.python)
                    .time_limit(tools.limit * 10)
                    .start()
                    .await?;
                peer.wait_seeding(tools.limit).await?;
                SeederProcess::Libtorrent(Box::new(peer))
            }
        };
        let hash = fixture.payload.info_hash();
        let ready = |a: &RecordedAnnounce| {
            a.info_hash == hash
                && !before.contains(&a.peer_id)
                && (a.left == 0 || client == Client::Libtorrent)
        };
        let seeder = Self { process };
        if let Err(e) = fixture
            .tracker
            .wait_for_announce_async(ready, tools.limit)
            .await
        {
            bail!("the seeder never announced: {e}; {}", seeder.stderr());
        }
        Ok(seeder)
    }

    /// Stops the seeder the way a user would (SIGTERM for `bt seed`, a closed stdin for
    /// libtorrent), so it tells the tracker `stopped` and the next leechers are not handed a
    /// dead address.
    pub async fn stop(self, limit: Duration) -> anyhow::Result<()> {
        match self.process {
            SeederProcess::Bt(mut process) => {
                let status = Command::new("kill")
                    .args(["-TERM", &process.child.id().to_string()])
                    .status()
                    .context("running kill")?;
                anyhow::ensure!(status.success(), "kill -TERM failed");
                process.wait_success(limit).await
            }
            SeederProcess::Libtorrent(peer) => peer.stop(limit).await.map(drop).map_err(Into::into),
        }
    }

    pub(super) fn pid(&self) -> u32 {
        match &self.process {
            SeederProcess::Bt(process) => process.child.id(),
            SeederProcess::Libtorrent(peer) => peer.pid(),
        }
    }

    fn stderr(&self) -> String {
        match &self.process {
            SeederProcess::Bt(process) => process.stderr(),
            SeederProcess::Libtorrent(_) => String::new(),
        }
    }
}
