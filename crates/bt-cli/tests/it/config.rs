//! `bt config`: the effective configuration, layered defaults < file < BT_* < flags.

use assert_cmd::Command;

#[test]
fn config_print_shows_flags_over_environment_over_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bt.toml");
    let text = "max_connections = 11\nmax_peers_per_torrent = 12\n[choke]\nunchoke_slots = 5\n";
    std::fs::write(&file, text).unwrap();
    let output = Command::cargo_bin("bt")
        .unwrap()
        .args(["config", "--print", "--config", file.to_str().unwrap()])
        .args(["--max-peers", "14", "--listen", "127.0.0.1:7000"])
        .env("BT_MAX_PEERS_PER_TORRENT", "13")
        .env("BT_CHOKE__UNCHOKE_SLOTS", "6")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let printed: toml::Table = toml::from_str(&String::from_utf8_lossy(&output.stdout)).unwrap();
    assert_eq!(printed["max_connections"].as_integer(), Some(11), "file");
    assert_eq!(
        printed["choke"]["unchoke_slots"].as_integer(),
        Some(6),
        "env"
    );
    assert_eq!(
        printed["max_peers_per_torrent"].as_integer(),
        Some(14),
        "flag"
    );
    assert_eq!(printed["listen"].as_str(), Some("127.0.0.1:7000"), "flag");
    assert_eq!(
        printed["stats_interval_ms"].as_integer(),
        Some(500),
        "default"
    );
}

#[test]
fn config_example_is_the_documented_file_and_reads_back() {
    let output = Command::cargo_bin("bt")
        .unwrap()
        .args(["config", "--example"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let docs = crate::repo_root().join("docs/bt.example.toml");
    assert_eq!(output.stdout, std::fs::read(&docs).unwrap());
    let with_example = Command::cargo_bin("bt")
        .unwrap()
        .args(["config", "--config", docs.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(with_example.status.success(), "{with_example:?}");
}
