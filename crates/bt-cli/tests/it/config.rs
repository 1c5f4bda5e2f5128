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

/// `--dht` turns the DHT on, on the UDP port of `--listen`, with its table in
/// `$XDG_DATA_HOME/bt/dht.state`; `--dht-bootstrap` names the nodes to join through.
#[test]
fn config_print_shows_where_the_dht_listens_and_keeps_its_table() {
    let output = Command::cargo_bin("bt")
        .unwrap()
        .args(["config", "--dht", "--listen", "127.0.0.1:7001"])
        .args(["--dht-bootstrap", "10.0.0.1:6881"])
        .env("XDG_DATA_HOME", "/data")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let printed: toml::Table = toml::from_str(&String::from_utf8_lossy(&output.stdout)).unwrap();
    let dht = &printed["dht"];
    assert_eq!(dht["enabled"].as_bool(), Some(true));
    assert_eq!(dht["node"]["listen"].as_str(), Some("127.0.0.1:7001"));
    assert_eq!(
        dht["node"]["state_file"].as_str(),
        Some("/data/bt/dht.state")
    );
    let bootstrap = dht["node"]["bootstrap"].as_array().unwrap();
    assert_eq!(bootstrap.len(), 1);
    assert_eq!(bootstrap[0].as_str(), Some("10.0.0.1:6881"));

    let bad = Command::cargo_bin("bt")
        .unwrap()
        .args(["config", "--dht-bootstrap", "router"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not HOST:PORT"));
}
