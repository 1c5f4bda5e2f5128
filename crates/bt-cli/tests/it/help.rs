//! The walk-through check: `bt --help` and each command's help hold what a newcomer needs to
//! download from a client on this machine (a libtorrent seeder), with nothing else to read.

use crate::bt;

/// The help text of `bt args... --help`, which must exit 0.
fn help(args: &[&str]) -> String {
    let output = bt(&[args, &["--help"]].concat());
    assert!(output.status.success(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).expect("UTF-8 help")
}

fn assert_mentions(text: &str, phrases: &[&str]) {
    let missing: Vec<_> = phrases.iter().filter(|p| !text.contains(*p)).collect();
    assert!(missing.is_empty(), "missing {missing:?} in:\n{text}");
}

#[test]
fn bt_help_starts_a_newcomer_off() {
    assert_mentions(
        &help(&[]),
        &[
            "bt demo",
            "bt info ubuntu.torrent",
            "bt download ubuntu.torrent -o ~/Downloads",
            "Ctrl-C stops cleanly; the same\n      command resumes",
            "trackers the torrent names",
            "--dht",
            "libtorrent",
            "--listen 0.0.0.0:6882",
            "bt seed photos.torrent --data .",
            "Exit codes: 0 done, 1 failed",
            "bt download --help",
        ],
    );
}

#[test]
fn download_help_explains_files_peers_stopping_and_exit_codes() {
    assert_mentions(
        &help(&["download"]),
        &[
            "Examples:",
            "~/Downloads/NAME",
            "libtorrent seeder",
            "--listen 0.0.0.0:6882",
            "through the tracker the torrent names",
            "--only '*.iso'",
            "--download-limit 2MiB/s",
            "--dht-bootstrap HOST:PORT",
            "run\nthe same command again to resume",
            "A second Ctrl-C quits at once",
            "Exit codes: 0 once every piece is verified on disk",
            // The options themselves, with their long help.
            "-o, --output <DIR>",
            "Its routing table is kept in $XDG_DATA_HOME/bt/dht.state",
        ],
    );
}

#[test]
fn every_command_has_examples_and_the_others_say_what_a_newcomer_needs() {
    for command in ["seed", "create", "info", "verify", "config", "demo"] {
        let text = help(&[command]);
        assert!(
            text.contains(&format!("Examples:\n  bt {command}")),
            "{command}:\n{text}"
        );
    }
    assert_mentions(&help(&["seed"]), &["--data", "bt create -t URL", "--dht"]);
    assert_mentions(
        &help(&["create"]),
        &["-t udp://", "--private", "no tracker"],
    );
    assert_mentions(
        &help(&["info"]),
        &["--json", "magnet:?xt=urn:btih:", "--files"],
    );
    assert_mentions(
        &help(&["config"]),
        &["bt config --example", "BT_DHT__ENABLED"],
    );
    assert_mentions(&help(&["demo"]), &["cargo run --release -p bt-cli -- demo"]);
}

/// `-h` keeps the examples (they are the quickest way in) but the short option texts.
#[test]
fn short_help_keeps_the_examples() {
    let output = bt(&["download", "-h"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Examples:\n  bt download"), "{text}");
    assert!(!text.contains("$XDG_DATA_HOME"), "{text}");
}
