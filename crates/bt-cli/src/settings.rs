//! The effective configuration: the engine's defaults < `--config FILE` (TOML) < `BT_*`
//! environment variables < command-line flags, merged by the `config` crate.
//!
//! Flags are applied as the crate's overrides under the same keys a file or a variable would
//! use (`--upload-limit 1MiB/s` is `upload_limit = 1048576`), so each setting has one name
//! wherever it is given. A key the engine does not know is ignored when the configuration is
//! read, which lets a flag name a setting before the engine acts on it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use bt_engine::EngineConfig;
use bt_engine::config::ENV_PREFIX;

use crate::format;

/// The flags that set engine configuration, shared by the commands that start a session.
#[derive(Debug, Clone, Default, clap::Args)]
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

impl SessionArgs {
    /// The flags given, as configuration keys and values.
    pub fn overrides(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(listen) = self.listen {
            pairs.push(("listen", listen.to_string()));
        }
        if let Some(n) = self.max_peers {
            pairs.push(("max_peers_per_torrent", n.to_string()));
        }
        if let Some(rate) = self.download_limit {
            pairs.push(("download_limit", rate.to_string()));
        }
        if let Some(rate) = self.upload_limit {
            pairs.push(("upload_limit", rate.to_string()));
        }
        pairs
    }
}

/// Where the configuration comes from, besides the defaults.
#[derive(Debug, Clone, Default)]
pub struct Layers {
    /// `--config FILE`.
    pub file: Option<PathBuf>,
    /// The environment, or `None` for the process's own.
    pub env: Option<HashMap<String, String>>,
    /// Flags, as keys and values.
    pub overrides: Vec<(&'static str, String)>,
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
            builder = builder.set_override(*key, value.as_str())?;
        }
        let described = match &self.file {
            Some(path) => format!("invalid configuration in {} or BT_*", path.display()),
            None => "invalid configuration in BT_*".to_owned(),
        };
        builder.build().context(described)
    }

    /// The engine's configuration.
    pub fn engine(&self) -> anyhow::Result<EngineConfig> {
        let config: EngineConfig = self
            .merged()?
            .try_deserialize()
            .context("invalid configuration")?;
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
