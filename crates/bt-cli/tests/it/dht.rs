//! `--dht`: a torrent that names no tracker, and a bare magnet link (`magnet:?xt=urn:btih:`
//! and nothing else), download from `bt seed` through the DHT alone, both processes joining
//! through one in-process bt-dht node on loopback; each keeps its routing table where it was
//! told (`dht.node.state_file`) or in the per-user data directory.

use std::time::Duration;

use bt_dht::{DhtConfig, DhtHandle, DhtNode};
use bt_proto::magnet::MagnetLink;
use bt_test_harness::{Payload, PayloadSpec, assert_same_tree};

use crate::download_args;
use crate::proc::Running;
use crate::swarm::TIMEOUT;

/// Loopback-friendly DHT settings: announce often, short time-outs, and no query rate limit
/// (every node shares 127.0.0.1).
const DHT_ENV: [(&str, &str); 6] = [
    ("BT_DHT__ANNOUNCE_INTERVAL_MS", "300"),
    ("BT_DHT__NODE__QUERY_TIMEOUT_MS", "1000"),
    ("BT_DHT__NODE__BOOTSTRAP_RETRY_MS", "1000"),
    ("BT_DHT__NODE__QUERIES_PER_IP_PER_SEC", "100000"),
    ("BT_DHT__NODE__QUERY_BURST_PER_IP", "100000"),
    ("BT_DHT__NODE__QUERIES_PER_SEC", "100000"),
];

#[actix_rt::test]
async fn a_torrent_with_no_tracker_downloads_from_bt_seed_through_the_dht() {
    let router = DhtNode::start(DhtConfig::loopback(&[])).await.unwrap();
    let router_addr = router.local_addr().to_string();
    let spec = PayloadSpec::single_file("dht.bin", 300_000);
    assert!(spec.trackers.is_empty(), "the DHT must be the only way");
    let payload = Payload::generate(&spec, 8).unwrap();
    let torrent = payload.write_torrent_file().unwrap();
    let torrent = torrent.to_str().unwrap();

    let seeder_home = tempfile::tempdir().unwrap();
    let seeder_table = seeder_home.path().join("named/table");
    let seeder_env = [
        ("XDG_DATA_HOME", seeder_home.path().to_str().unwrap()),
        ("BT_DHT__NODE__STATE_FILE", seeder_table.to_str().unwrap()),
    ];
    let data = payload.data_dir().to_str().unwrap();
    let seed_args = ["seed", torrent, "--data", data, "--listen", "127.0.0.1:0"];
    let mut seeder = Running::start_env(
        &[&seed_args[..], &["--dht-bootstrap", &router_addr]].concat(),
        &[&DHT_ENV[..], &seeder_env[..]].concat(),
    );

    let leecher_home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut args = download_args(torrent, out.path());
    args.extend(["--dht", "--dht-bootstrap", &router_addr]);
    let leecher_env = [("XDG_DATA_HOME", leecher_home.path().to_str().unwrap())];
    let mut leecher = Running::start_env(&args, &[&DHT_ENV[..], &leecher_env[..]].concat());
    let status = leecher.wait_async(TIMEOUT).await;
    assert!(
        status.success(),
        "{}\nseeder: {}",
        leecher.outputs(),
        seeder.outputs()
    );
    assert_same_tree(&payload.root, &out.path().join("dht.bin")).unwrap();
    assert!(
        leecher_home.path().join("bt/dht.state").is_file(),
        "the leecher's table is in $XDG_DATA_HOME/bt"
    );

    seeder.interrupt();
    let status = seeder.wait_async(TIMEOUT).await;
    assert!(status.success(), "{}", seeder.outputs());
    assert!(
        seeder_table.is_file(),
        "the seeder's table is where it was named"
    );
    assert!(!seeder_home.path().join("bt").exists());
    let nodes = router.stats().await.unwrap().dht.nodes;
    assert!(
        nodes >= 2,
        "both bt nodes joined through the router: {nodes}"
    );
    stop(router).await;
}

#[actix_rt::test]
async fn a_bare_magnet_link_downloads_from_bt_seed_through_the_dht() {
    let router = DhtNode::start(DhtConfig::loopback(&[])).await.unwrap();
    let router_addr = router.local_addr().to_string();
    let payload = Payload::generate(&PayloadSpec::multi_file_tree("dht-magnet"), 9).unwrap();
    assert!(payload.torrent.announce.is_none(), "no tracker");
    let torrent = payload.write_torrent_file().unwrap();
    let data = payload.data_dir().to_str().unwrap();
    let homes = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let env = |home: &tempfile::TempDir| {
        let home = home.path().to_str().unwrap().to_owned();
        let mut env: Vec<(&str, String)> = DHT_ENV.map(|(k, v)| (k, v.to_owned())).to_vec();
        env.push(("XDG_DATA_HOME", home));
        env
    };
    let seed_args = ["seed", torrent.to_str().unwrap(), "--data", data];
    let seed_args = [&seed_args[..], &["--listen", "127.0.0.1:0"]].concat();
    let mut seeder = start(
        &[&seed_args[..], &["--dht-bootstrap", &router_addr]].concat(),
        &env(&homes[0]),
    );

    let magnet = MagnetLink::new(payload.info_hash()).to_uri();
    assert!(!magnet.contains('&'), "a bare magnet link: {magnet}");
    let out = tempfile::tempdir().unwrap();
    let mut args = download_args(&magnet, out.path());
    args.extend(["--dht", "--dht-bootstrap", &router_addr]);
    let mut leecher = start(&args, &env(&homes[1]));
    let status = leecher.wait_async(TIMEOUT).await;
    assert!(
        status.success(),
        "{}\nseeder: {}",
        leecher.outputs(),
        seeder.outputs()
    );
    let stdout = leecher.stdout();
    let metadata = format!("{}: metadata received: dht-magnet", payload.info_hash());
    assert!(stdout.contains(&metadata), "{stdout}");
    assert_same_tree(&payload.root, &out.path().join("dht-magnet")).unwrap();

    seeder.interrupt();
    let status = seeder.wait_async(TIMEOUT).await;
    assert!(status.success(), "{}", seeder.outputs());
    stop(router).await;
}

/// Starts `bt` with `args` and the environment `env`.
fn start(args: &[&str], env: &[(&str, String)]) -> Running {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Running::start_env(args, &env)
}

/// Shuts the router down, in bounded time.
async fn stop(router: DhtHandle) {
    tokio::time::timeout(Duration::from_secs(10), router.shutdown())
        .await
        .expect("the router stops")
        .expect("the router stops cleanly");
}
