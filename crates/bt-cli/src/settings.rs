//! The effective configuration: the engine's defaults < `--config FILE` (TOML) < `BT_*`
//! environment variables < command-line flags, merged by the `config` crate.
//!
//! Flags are applied as the crate's overrides under the same keys a file or a variable would
//! use (`--upload-limit 1MiB/s` is `upload_limit = 1048576`), so each setting has one name
//! wherever it is given. A key the engine does not know is ignored when the configuration is
//! read, which lets a flag name a setting before the engine acts on it.
//!
//! Two defaults differ from the engine's, for a person at a command line (see [`DhtArgs`]):
//! the DHT node listens on the address of `listen` (UDP, same port) unless `dht.node.listen`
//! is set, and its routing table is kept in the per-user data directory unless
//! `dht.node.state_file` is set.

use std::collections::HashMap;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use bt_engine::EngineConfig;
use bt_engine::config::ENV_PREFIX;

use crate::format;

/// The flags that set engine configuration, shared by the commands that start a session.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Network")]
pub struct SessionArgs {
    /// Where to accept peer connections [config: listen; default 0.0.0.0:6881].
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Most peer connections per torrent [config: max_peers_per_torrent].
    #[arg(long, value_name = "N")]
    pub max_peers: Option<usize>,
    /// Download rate cap for the session, e.g. 10MiB/s; 0 for none [config: download_limit].
    #[arg(long, value_name = "RATE", value_parser = format::parse_rate)]
    pub download_limit: Option<u64>,
    /// Upload rate cap for the session, e.g. 500KiB/s; 0 for none [config: upload_limit].
    #[arg(long, value_name = "RATE", value_parser = format::parse_rate)]
    pub upload_limit: Option<u64>,
}

/// A flag's setting: its configuration key and value.
pub type Override = (&'static str, config::Value);

impl SessionArgs {
    /// The flags given, as configuration keys and values.
    pub fn overrides(&self) -> Vec<Override> {
        let mut pairs: Vec<Override> = Vec::new();
        if let Some(listen) = self.listen {
            pairs.push(("listen", listen.to_string().into()));
        }
        if let Some(n) = self.max_peers {
            pairs.push(("max_peers_per_torrent", (n as u64).into()));
        }
        if let Some(rate) = self.download_limit {
            pairs.push(("download_limit", rate.into()));
        }
        if let Some(rate) = self.upload_limit {
            pairs.push(("upload_limit", rate.into()));
        }
        pairs
    }
}

/// The DHT flags of the commands that download or seed.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Network")]
pub struct DhtArgs {
    /// Also find peers through the mainline DHT (BEP 5), as a torrent with no tracker needs
    /// [config: dht.enabled]
    ///
    /// The DHT uses the UDP port of --listen [config: dht.node.listen]. Its routing table is
    /// kept in $XDG_DATA_HOME/bt/dht.state, else ~/.local/share/bt/dht.state
    /// [config: dht.node.state_file].
    #[arg(long)]
    pub dht: bool,
    /// Join the DHT through this node instead of the public routers; repeat for more;
    /// implies --dht [config: dht.node.bootstrap].
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_host_port)]
    pub dht_bootstrap: Vec<String>,
}

impl DhtArgs {
    /// The flags given, as configuration keys and values.
    pub fn overrides(&self) -> Vec<Override> {
        let mut pairs: Vec<Override> = Vec::new();
        if self.dht || !self.dht_bootstrap.is_empty() {
            pairs.push(("dht.enabled", true.into()));
        }
        if !self.dht_bootstrap.is_empty() {
            pairs.push(("dht.node.bootstrap", self.dht_bootstrap.clone().into()));
        }
        pairs
    }
}

/// `HOST:PORT` (a name, an IPv4 address, or `[IPv6]`), with a port from 1 to 65535.
fn parse_host_port(text: &str) -> Result<String, String> {
    let bad = || format!("{text:?} is not HOST:PORT (e.g. router.bittorrent.com:6881)");
    let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
    match port.parse::<u16>() {
        Ok(port) if port > 0 && !host.is_empty() && !host.contains(char::is_whitespace) => {
            Ok(text.to_owned())
        }
        _ => Err(bad()),
    }
}

/// bt's per-user data directory (the XDG base directory spec): `$XDG_DATA_HOME/bt`, else
/// `$HOME/.local/share/bt`; `None` when neither names an absolute path. `var` reads the
/// environment.
pub fn data_dir(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let absolute = |name: &str| {
        var(name)
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
    };
    let base = absolute("XDG_DATA_HOME").or_else(|| Some(absolute("HOME")?.join(".local/share")));
    Some(base?.join("bt"))
}

/// The file the DHT's routing table is kept in when `dht.node.state_file` is not set.
pub const DHT_STATE_FILE: &str = "dht.state";

/// Where the configuration comes from, besides the defaults.
#[derive(Debug, Clone, Default)]
pub struct Layers {
    /// `--config FILE`.
    pub file: Option<PathBuf>,
    /// The environment, or `None` for the process's own.
    pub env: Option<HashMap<String, String>>,
    /// Flags, as keys and values.
    pub overrides: Vec<Override>,
}

impl Layers {
    /// The process's environment, `file` and the flags of `args`.
    pub fn new(file: Option<&Path>, args: &SessionArgs) -> Self {
        Self {
            file: file.map(Path::to_path_buf),
            env: None,
            overrides: args.overrides(),
        }
    }

    /// These layers with the DHT flags of `args` too.
    pub fn with_dht(mut self, args: &DhtArgs) -> Self {
        self.overrides.extend(args.overrides());
        self
    }

    /// A variable of the environment these layers read.
    fn var(&self, name: &str) -> Option<OsString> {
        match &self.env {
            Some(env) => env.get(name).map(OsString::from),
            None => std::env::var_os(name),
        }
    }

    /// Every layer merged, keys the engine does not know included.
    pub fn merged(&self) -> anyhow::Result<config::Config> {
        let mut builder = config::Config::builder();
        if let Some(path) = &self.file {
            if !path.is_file() {
                bail!("config file {} not found", path.display());
            }
            builder = builder.add_source(
                config::File::from(path.as_path())
                    .format(config::FileFormat::Toml)
                    .required(true),
            );
        }
        let environment = config::Environment::with_prefix(ENV_PREFIX)
            .prefix_separator("_")
            .separator("__")
            .try_parsing(true)
            .source(self.env.clone());
        builder = builder.add_source(environment);
        for (key, value) in &self.overrides {
            builder = builder.set_override(*key, value.clone())?;
        }
        let described = match &self.file {
            Some(path) => format!("invalid configuration in {} or BT_*", path.display()),
            None => "invalid configuration in BT_*".to_owned(),
        };
        builder.build().context(described)
    }

    /// The engine's configuration, with the command line's DHT defaults (module docs).
    pub fn engine(&self) -> anyhow::Result<EngineConfig> {
        let merged = self.merged()?;
        let dht_listen_set = merged.get::<String>("dht.node.listen").is_ok();
        let mut config: EngineConfig = merged.try_deserialize().context("invalid configuration")?;
        if !dht_listen_set {
            config.dht.node.listen = config.listen;
        }
        if config.dht.node.state_file.is_none() {
            let dir = data_dir(|name| self.var(name));
            config.dht.node.state_file = dir.map(|dir| dir.join(DHT_STATE_FILE));
        }
        config.validate()?;
        Ok(config)
    }
}

/// The configuration as a TOML document.
pub fn to_toml(config: &EngineConfig) -> anyhow::Result<String> {
    toml::to_string(config).context("writing the configuration as TOML")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Option<HashMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
        std::fs::write(file.path(), text).unwrap();
        file
    }

    #[test]
    fn flags_beat_the_environment_which_beats_the_file() {
        let toml = file("max_peers_per_torrent = 7\nmax_connections = 77\nstats_interval_ms = 9\n");
        let layers = Layers {
            file: Some(toml.path().to_path_buf()),
            env: env(&[
                ("BT_MAX_PEERS_PER_TORRENT", "8"),
                ("BT_MAX_CONNECTIONS", "88"),
            ]),
            overrides: SessionArgs {
                max_peers: Some(9),
                ..SessionArgs::default()
            }
            .overrides(),
        };
        let config = layers.engine().unwrap();
        assert_eq!(config.stats_interval_ms, 9, "from the file");
        assert_eq!(config.max_connections, 88, "the environment over the file");
        assert_eq!(config.max_peers_per_torrent, 9, "the flag over both");
        assert_eq!(
            config.connect_timeout_ms,
            EngineConfig::default().connect_timeout_ms
        );
    }

    #[test]
    fn rate_flags_reach_the_engine_keys_over_file_and_environment() {
        let toml = file("upload_limit = 1\ndownload_limit = 2\n");
        let args = SessionArgs {
            upload_limit: Some(format::parse_rate("10MiB/s").unwrap()),
            ..SessionArgs::default()
        };
        let layers = Layers {
            file: Some(toml.path().to_path_buf()),
            env: env(&[("BT_DOWNLOAD_LIMIT", "3")]),
            overrides: args.overrides(),
        };
        let merged = layers.merged().unwrap();
        assert_eq!(merged.get::<u64>("upload_limit").unwrap(), 10 << 20);
        assert_eq!(merged.get::<u64>("download_limit").unwrap(), 3);
    }

    #[test]
    fn the_dht_listens_where_peers_are_accepted_unless_told_otherwise() {
        let args = SessionArgs {
            listen: Some("127.0.0.1:0".parse().unwrap()),
            ..SessionArgs::default()
        };
        let dht = DhtArgs {
            dht_bootstrap: vec!["127.0.0.1:7000".to_owned(), "[::1]:7001".to_owned()],
            ..DhtArgs::default()
        };
        let layers = Layers {
            env: env(&[]),
            ..Layers::new(None, &args).with_dht(&dht)
        };
        let config = layers.engine().unwrap();
        assert!(config.dht.enabled, "--dht-bootstrap implies --dht");
        assert_eq!(config.dht.node.bootstrap, ["127.0.0.1:7000", "[::1]:7001"]);
        assert_eq!(config.dht.node.listen, config.listen);

        let set = Layers {
            env: env(&[("BT_DHT__NODE__LISTEN", "127.0.0.1:7002")]),
            ..Layers::new(None, &args)
        };
        let config = set.engine().unwrap();
        assert!(!config.dht.enabled);
        assert_eq!(config.dht.node.listen.port(), 7002);
    }

    #[test]
    fn the_dht_table_is_kept_in_the_data_dir_unless_a_file_is_named() {
        let layers = |pairs: &[(&str, &str)]| Layers {
            env: env(pairs),
            ..Layers::default()
        };
        let state = |pairs| layers(pairs).engine().unwrap().dht.node.state_file;
        assert_eq!(
            state(&[("XDG_DATA_HOME", "/x"), ("HOME", "/h")]),
            Some(PathBuf::from("/x/bt/dht.state"))
        );
        assert_eq!(
            state(&[("HOME", "/h")]),
            Some(PathBuf::from("/h/.local/share/bt/dht.state"))
        );
        assert_eq!(
            state(&[("XDG_DATA_HOME", "relative"), ("HOME", "/h")]),
            Some(PathBuf::from("/h/.local/share/bt/dht.state")),
            "a relative XDG_DATA_HOME is ignored, as the spec says"
        );
        assert_eq!(state(&[]), None);
        assert_eq!(
            state(&[("HOME", "/h"), ("BT_DHT__NODE__STATE_FILE", "/s/table")]),
            Some(PathBuf::from("/s/table"))
        );
    }

    #[test]
    fn dht_bootstrap_takes_host_and_port() {
        for good in ["router.bittorrent.com:6881", "127.0.0.1:1", "[::1]:6881"] {
            assert_eq!(parse_host_port(good).as_deref(), Ok(good));
        }
        for bad in ["router", "host:", ":6881", "host:0", "host:70000", "a b:1"] {
            assert!(parse_host_port(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_missing_or_broken_file_is_one_clear_error() {
        let missing = Layers {
            file: Some(PathBuf::from("/nonexistent/bt.toml")),
            env: env(&[]),
            ..Layers::default()
        };
        let error = format!("{:#}", missing.engine().unwrap_err());
        assert!(error.contains("/nonexistent/bt.toml not found"), "{error}");

        let broken = file("max_connections = \"many\"\n");
        let layers = Layers {
            file: Some(broken.path().to_path_buf()),
            env: env(&[]),
            ..Layers::default()
        };
        let error = format!("{:#}", layers.engine().unwrap_err());
        assert!(error.contains("max_connections"), "{error}");
    }

    #[test]
    fn the_printed_toml_reads_back_as_the_same_configuration() {
        let mut config = EngineConfig {
            max_connections: 12,
            ..EngineConfig::default()
        };
        config.choke.rechoke_interval_ms = 1234;
        let text = to_toml(&config).unwrap();
        assert_eq!(EngineConfig::from_toml(&text).unwrap(), config);
    }
}
