//! `bt config`: show the effective configuration (defaults < `--config FILE` < `BT_*`
//! variables < flags) as TOML, or the documented example file.

use super::Context;
use crate::settings::{DhtArgs, Layers, SessionArgs, to_toml};

/// The documented example configuration, `docs/bt.example.toml`.
pub const EXAMPLE: &str = include_str!("../../../../docs/bt.example.toml");

/// Arguments of `bt config`.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// Print the effective configuration as TOML (what `bt download` would use with the same
    /// --config, environment and flags); the default.
    #[arg(long, conflicts_with = "example")]
    pub print: bool,
    /// Print the documented example configuration file instead.
    #[arg(long)]
    pub example: bool,
    #[command(flatten)]
    pub session: SessionArgs,
    #[command(flatten)]
    pub dht: DhtArgs,
}

/// Prints the configuration; see the module docs.
pub fn run(args: &ConfigArgs, context: &Context) -> anyhow::Result<()> {
    if args.example {
        print!("{EXAMPLE}");
        return Ok(());
    }
    let config = Layers::new(context.config_file.as_deref(), &args.session)
        .with_dht(&args.dht)
        .engine()?;
    print!("{}", to_toml(&config)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bt_engine::EngineConfig;

    /// Every key path of a TOML table: `max_connections`, `peer.tick_ms`, ...
    fn keys(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
        for (key, value) in table {
            let path = format!("{prefix}{key}");
            match value {
                toml::Value::Table(inner) => keys(inner, &format!("{path}."), out),
                _ => out.push(path),
            }
        }
    }

    #[test]
    fn the_example_reads_as_the_defaults() {
        assert_eq!(
            EngineConfig::from_toml(EXAMPLE).unwrap(),
            EngineConfig::default()
        );
    }

    #[test]
    fn the_example_documents_every_setting_and_the_rate_limits() {
        let example: toml::Table = toml::from_str(EXAMPLE).unwrap();
        let defaults: toml::Table =
            toml::from_str(&crate::settings::to_toml(&EngineConfig::default()).unwrap()).unwrap();
        let (mut documented, mut settings) = (Vec::new(), Vec::new());
        keys(&example, "", &mut documented);
        keys(&defaults, "", &mut settings);
        let missing: Vec<_> = settings
            .iter()
            .filter(|k| !documented.contains(k))
            .collect();
        assert!(
            missing.is_empty(),
            "not in docs/bt.example.toml: {missing:?}"
        );
        for key in ["upload_limit", "download_limit"] {
            assert!(documented.iter().any(|k| k == key), "{key}");
        }
    }
}
