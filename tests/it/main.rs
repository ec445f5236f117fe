//! The binary's integration tests: the real `cluster-api-key` binary against the emulator on
//! 127.0.0.1, with an isolated home and a cleared environment, driven the way the `ibmcloud`
//! host drives it. One test binary, a module per area (ripgrep/uv style).

mod common;

/// `info` and `reset` end to end, success and every failure path the product promises to handle.
mod commands;
/// The CLI config under concurrency and crashes.
mod config;
/// `SendMetadata` and a fake `ibmcloud` host that validates and dispatches.
mod host;
/// Packaging: golden metadata, plugin repository, versions, cargo-dist configuration.
mod release;
/// Issue #8: never misreport a reset; signals, locks, audit failures, terminal safety.
mod reliability;
/// `--sandbox`.
mod sandbox;
/// `status`: the account-wide picture.
mod status;
