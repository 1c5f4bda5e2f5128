//! The subcommands of `bt`, one module each; every module exposes an `Args` struct and `run`.

use std::path::PathBuf;

use crate::console::Console;

pub mod common;
pub mod config;
pub mod create;
pub mod demo;
pub mod download;
pub mod info;
pub mod seed;
pub mod verify;

/// What every command gets besides its own arguments: the console and the global flags.
#[derive(Debug, Clone)]
pub struct Context {
    /// Where progress and messages go.
    pub console: Console,
    /// `--config FILE`.
    pub config_file: Option<PathBuf>,
}
