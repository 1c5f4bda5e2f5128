//! Loading [`EngineConfig`]: defaults, TOML, environment, and the order between them.

use std::collections::HashMap;
use std::time::Duration;

use super::*;
use crate::picker::PieceOrder;

fn env(pairs: &[(&str, &str)]) -> Option<HashMap<String, String>> {
    Some(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

#[test]
fn nothing_given_means_the_defaults() {
    let loaded = EngineConfig::load_from(None, env(&[])).unwrap();
    assert_eq!(loaded, EngineConfig::default());
    assert_eq!(loaded.peer.to_config(), crate::peer::PeerConfig::default());
    assert_eq!(
        loaded.picker.to_config(),
        crate::picker::PickerConfig::default()
    );
    assert_eq!(
        loaded.choke.to_config(),
        crate::choker::ChokeConfig::default()
    );
    assert_eq!(
        loaded.announcer.to_config(),
        crate::actors::announcer::AnnouncerConfig::default()
    );
}

#[test]
fn toml_overrides_defaults_field_by_field() {
    let config = EngineConfig::from_toml(
        r#"
        listen = "127.0.0.1:0"
        max_connections = 7
        [choke]
        rechoke_interval_ms = 200
        [picker]
        order = "sequential"
        "#,
    )
    .unwrap();
    assert_eq!(config.listen, "127.0.0.1:0".parse().unwrap());
    assert_eq!(config.max_connections, 7);
    assert_eq!(
        config.choke.to_config().rechoke_interval,
        Duration::from_millis(200)
    );
    assert_eq!(
        config.choke.unchoke_slots, 3,
        "untouched fields keep defaults"
    );
    assert_eq!(config.picker.to_config().order, PieceOrder::Sequential);
}

#[test]
fn environment_overrides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bt.toml");
    std::fs::write(
        &path,
        "max_connections = 7\nmax_peers_per_torrent = 9\n[peer]\nmax_requests = 100\n",
    )
    .unwrap();
    let config = EngineConfig::load_from(
        Some(&path),
        env(&[
            ("BT_MAX_CONNECTIONS", "11"),
            ("BT_PEER__MAX_REQUESTS", "64"),
            ("BT_LISTEN", "127.0.0.1:7000"),
            ("OTHER_MAX_CONNECTIONS", "99"),
        ]),
    )
    .unwrap();
    assert_eq!(config.max_connections, 11);
    assert_eq!(config.max_peers_per_torrent, 9);
    assert_eq!(config.peer.max_requests, 64);
    assert_eq!(config.listen.port(), 7000);
}

#[test]
fn bad_values_are_errors_naming_the_field() {
    let err = EngineConfig::from_toml("max_connections = \"many\"").unwrap_err();
    assert!(err.to_string().contains("max_connections"), "{err}");
    let err = EngineConfig::from_toml("[choke]\nrechoke_interval_ms = 0").unwrap_err();
    assert!(err.to_string().contains("rechoke_interval_ms"), "{err}");
    let err = EngineConfig::from_toml("[peer]\ntick_ms = 0").unwrap_err();
    assert!(err.to_string().contains("peer.tick_ms"), "{err}");
    let err = EngineConfig::from_toml("[picker]\norder = \"fastest\"").unwrap_err();
    assert!(err.to_string().contains("fastest"), "{err}");
    let missing = std::path::Path::new("/nonexistent/bt.toml");
    assert!(EngineConfig::load_from(Some(missing), env(&[])).is_err());
}

#[test]
fn zero_threads_mean_one_per_core() {
    let config = EngineConfig::default();
    assert!(config.arbiter_count() >= 1);
    let config = EngineConfig {
        disk_threads: 3,
        ..EngineConfig::default()
    };
    assert_eq!(config.disk_thread_count(), 3);
}

#[test]
fn rate_limits_load_from_toml_and_environment_and_default_to_unlimited() {
    let defaults = EngineConfig::default();
    assert_eq!((defaults.upload_limit, defaults.download_limit), (0, 0));
    assert_eq!(
        (defaults.peer.upload_limit, defaults.peer.download_limit),
        (0, 0)
    );
    let config = EngineConfig::from_toml(
        "upload_limit = 1048576\ndownload_limit = 2097152\n[peer]\nupload_limit = 65536\n",
    )
    .unwrap();
    assert_eq!(config.upload_limit, 1 << 20);
    assert_eq!(config.download_limit, 2 << 20);
    assert_eq!(config.peer.upload_limit, 1 << 16);
    assert_eq!(config.peer.download_limit, 0);
    let config = EngineConfig::load_from(
        None,
        env(&[
            ("BT_UPLOAD_LIMIT", "1000"),
            ("BT_PEER__DOWNLOAD_LIMIT", "500"),
        ]),
    )
    .unwrap();
    assert_eq!(config.upload_limit, 1000);
    assert_eq!(config.peer.download_limit, 500);
}

#[test]
fn the_choke_strategy_is_chosen_by_name() {
    assert_eq!(
        EngineConfig::default().choke.strategy,
        ChokeStrategySetting::TitForTat
    );
    for (name, setting) in [
        ("tit-for-tat", ChokeStrategySetting::TitForTat),
        ("unchoke-all", ChokeStrategySetting::UnchokeAll),
        ("random", ChokeStrategySetting::Random),
        ("free-rider", ChokeStrategySetting::FreeRider),
    ] {
        let config = EngineConfig::from_toml(&format!("[choke]\nstrategy = \"{name}\"")).unwrap();
        assert_eq!(config.choke.strategy, setting);
    }
    let err = EngineConfig::from_toml("[choke]\nstrategy = \"generous\"").unwrap_err();
    assert!(err.to_string().contains("generous"), "{err}");
}
