//! The text after the options in `bt --help` and in each subcommand's help: examples first,
//! then what a newcomer needs to know (where files land, how peers are found, stopping and
//! resuming, exit codes).
//!
//! Every example line (two spaces, then `bt ...`) is parsed by the real command line in the
//! tests, so an example cannot name a flag that does not exist.

/// After `bt --help`: the commands in the order a newcomer meets them.
pub const BT: &str = "\
Getting started:
  bt demo
      A whole download on this machine (a seeder and a tracker of its own): no network.
  bt info ubuntu.torrent
      What a torrent holds: name, size, files, trackers.
  bt download ubuntu.torrent -o ~/Downloads
      Downloads into ~/Downloads/NAME with a progress bar. Ctrl-C stops cleanly; the same
      command resumes without fetching the verified pieces again.
  bt create ./photos -t udp://tracker.example.org:6969/announce -o photos.torrent
  bt seed photos.torrent --data .
      Share files: --data is the directory that holds them (as bt download -o left them).

Finding peers: bt asks the trackers the torrent names (http:// and udp://); a tracker that
fails or cannot be used is named on stderr. For a torrent with no tracker add --dht.

Another client on this machine (qBittorrent, Transmission, a libtorrent program) usually
holds port 6881: give bt another one with --listen 0.0.0.0:6882.

Exit codes: 0 done, 1 failed (one line on stderr says why), 2 bad usage.
Settings: flags, BT_* variables, or a file (--config FILE; see bt config --example).
Each command explains itself: bt download --help, bt seed --help, ...";

/// After `bt download --help`.
pub const DOWNLOAD: &str = "\
Examples:
  bt download ubuntu.torrent -o ~/Downloads
      Files land in ~/Downloads/NAME (a file, or a directory for a multi-file torrent).
  bt download ubuntu.torrent -o ~/Downloads --listen 0.0.0.0:6882
      From a client on this machine (qBittorrent, a libtorrent seeder), which holds port
      6881: bt finds it through the tracker the torrent names.
  bt download a.torrent b.torrent -o downloads --progress plain
  bt download big.torrent -o . --only '*.iso'
      One file of many (bt info lists them; --files 0,2 picks by number).
  bt download x.torrent -o . --seed-ratio 2 --download-limit 2MiB/s
      Download at most 2 MiB/s, then seed until twice the size went out.
  bt download trackerless.torrent -o . --dht
      Find peers through the DHT (--dht-bootstrap HOST:PORT joins through a node you know).
  bt download 'magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a' -o . --dht
      A magnet link: the torrent's metadata comes from peers first (the link's tr= trackers,
      x.pe= peers, or the DHT); --files works once it is there, --only needs a .torrent file.

Peers come from the torrent's trackers and, with --dht, from the DHT. A tracker that fails is
named once on stderr while bt keeps retrying; if every tracker refuses, the download ends.

Ctrl-C (or SIGTERM) announces `stopped` to the trackers and keeps every verified piece: run
the same command again to resume. A second Ctrl-C quits at once.
Exit codes: 0 once every piece is verified on disk (and seeding, if asked, is over); 1 on a
failure or an interrupted download; 2 for bad usage.";

/// After `bt seed --help`.
pub const SEED: &str = "\
Examples:
  bt seed photos.torrent --data .
      Serves ./NAME (as bt download -o . writes it) until Ctrl-C.
  bt seed photos.torrent --data /srv/share --seed-time 2h --upload-limit 1MiB/s
  bt seed photos.torrent --data . --listen 0.0.0.0:51413 --dht

The data is checked first: every piece must be there (bt download --seed shares a partial
download). Peers find bt through the torrent's trackers (bt create -t URL names them) or,
with --dht, the DHT. Ctrl-C announces `stopped` and exits 0.";

/// After `bt create --help`.
pub const CREATE: &str = "\
Examples:
  bt create ./photos -t udp://tracker.example.org:6969/announce -o photos.torrent
  bt create movie.mkv -t http://a.example/announce,http://b.example/announce -o movie.torrent
      Two trackers in one tier (tried in turn); repeat -t for backup tiers.
  bt create ./notes -o notes.torrent --private -t http://tracker.example/announce
      Private (BEP 27): peers only from the tracker, never the DHT.

With no -t the torrent names no tracker: peers then find each other only through the DHT
(bt seed --dht, bt download --dht).";

/// After `bt info --help`.
pub const INFO: &str = "\
Examples:
  bt info ubuntu.torrent
  bt info ubuntu.torrent --json
  bt info 'magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a'

Files are numbered from 0, the numbers bt download --files takes.";

/// After `bt verify --help`.
pub const VERIFY: &str = "\
Examples:
  bt verify ubuntu.torrent --data ~/Downloads
      Hashes ~/Downloads/NAME piece by piece: good, bad and missing pieces; exit 1 if a
      piece is bad. Nothing is written.";

/// After `bt config --help`.
pub const CONFIG: &str = "\
Examples:
  bt config
      The configuration in effect, as TOML: defaults < --config FILE < BT_* variables < flags.
  bt config --example
      Every setting, documented, with its default: a starting point for --config FILE.
  bt config --config bt.toml --upload-limit 500KiB/s --dht

A variable is BT_ plus the key, with __ between a section and its key:
BT_MAX_CONNECTIONS=100, BT_DHT__ENABLED=true.";

/// After `bt demo --help`.
pub const DEMO: &str = "\
Examples:
  bt demo
  bt demo --size 1GiB --piece-length 1MiB

Runs a tracker and a seeder on 127.0.0.1 with a generated file, downloads it with the usual
progress display, checks every piece, prints the rate, and removes what it made. Try the
release build for the real speed: cargo run --release -p bt-cli -- demo";

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use crate::Cli;

    /// Every `bt ...` example line of every help text, as arguments (quotes stripped).
    fn examples() -> Vec<Vec<String>> {
        let command = Cli::command();
        let texts = std::iter::once(command.get_after_help().map(ToString::to_string))
            .chain(
                command
                    .get_subcommands()
                    .map(|sub| sub.get_after_help().map(ToString::to_string)),
            )
            .flatten()
            .collect::<Vec<_>>();
        texts
            .iter()
            .flat_map(|text| text.lines())
            .filter(|line| line.starts_with("  bt "))
            .map(|line| {
                line.split_whitespace()
                    .map(|word| word.trim_matches('\'').to_owned())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn every_example_parses_as_a_command_line() {
        let examples = examples();
        assert!(examples.len() >= 20, "{} examples", examples.len());
        for example in examples {
            if let Err(error) = Cli::try_parse_from(&example) {
                panic!("{}: {error}", example.join(" "));
            }
        }
    }

    #[test]
    fn every_subcommand_has_examples() {
        for sub in Cli::command().get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            let text = sub.get_after_help().map(ToString::to_string);
            let text = text.unwrap_or_default();
            assert!(
                text.starts_with("Examples:\n  bt "),
                "{}: {text}",
                sub.get_name()
            );
        }
    }
}
