//! The binary's integration tests: the real `cluster-api-key` binary against the emulator on
//! 127.0.0.1, with an isolated home and a cleared environment, driven the way the `ibmcloud`
//! host drives it. One test binary, a module per area (ripgrep/uv style).

mod common;

/// Issue #31: every account of an enterprise in one status.
mod accounts;
mod accounts_write;
/// `restart-addons` and `reset --restart-addons`: add-on pods through the Kubernetes API.
mod addons;
/// `check`: the permission pre-flight.
mod check;
/// The command line: usage, help, colour.
mod cli;
/// Issue #35: what the clusters say about their credentials.
mod clusters;
/// Shell completion, run in the real shells.
mod completion;
/// The CLI config under concurrency and crashes.
mod config;
/// Issue #22: classic infrastructure credentials and every kind of owner.
mod credentials;
/// Issue #32: the CI recipes in `examples/`, parsed and run against the sandbox.
mod examples;
/// Fleet `reset` and `prune`.
mod fleet;
/// `SendMetadata` and a fake `ibmcloud` host that validates and dispatches.
mod host;
/// `info` end to end.
mod info;
/// Issue #32: `status -o junit`, read by JUnit consumers.
mod junit;
/// Issue #35: the key's own life (expiry, leak action) and a new key's 404 E06f9 after reset.
mod keylife;
/// Issue #35: `reset --leaked`, the leak response.
mod leaked;
/// Issue #32: `status -o markdown`, rendered by a GFM renderer.
mod markdown;
/// HTTPS with a corporate CA, and proxies.
mod network;
/// Whole outputs of each command, reviewed as snapshots.
mod outputs;
/// Issue #33: `status --owner`, exactly true.
mod owner;
/// Issue #23: the policy file.
mod policy;
/// Every command line of the README, run.
mod readme;
/// Packaging: golden metadata, plugin repository, versions, cargo-dist configuration.
mod release;
/// Issue #8: never misreport a reset; signals, locks, audit failures, terminal safety.
mod reliability;
/// Issue #33: colour, width, terminal-safe text, `--severity`, Ctrl-C at a question.
mod render;
/// `reset` end to end.
mod reset;
/// Issue #33: what reset, prune and info print is exactly true.
mod reset_prune_info;
/// Issue #19: destructive commands under ties, gateways, signals and hostile data.
mod safety;
/// `--sandbox`.
mod sandbox;
/// Issue #32: `status -o sarif`, the controls findings evidence, `--control`.
mod sarif;
/// Issue #25: scale; one rate budget for every process.
mod scale;
/// Sessions: reuse, refresh, login, broken configs.
mod session;
/// `status`: the account-wide picture.
mod status;
/// Prompts, Ctrl-C/Ctrl-D and width through a pseudo-terminal; usage at a terminal.
mod terminal;
mod truth;
