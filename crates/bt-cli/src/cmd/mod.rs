//! The subcommands of `bt`, one module each; every module exposes an `Args` struct and `run`.

pub mod create;
pub mod info;
