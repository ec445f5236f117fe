//! The core of `cluster-api-key`: everything except the user interface.
//!
//! It finds and reuses the `ibmcloud` CLI session ([`context`], [`config_file`], [`auth`]),
//! talks to IBM Cloud over HTTP with tracing, redaction and retries ([`http`], [`trace`], [`redact`]),
//! through the proxies and with the extra CAs of the environment ([`net`]),
//! wraps the few IBM Cloud REST APIs the tool needs in typed clients ([`api`]), holds the account
//! model every command shares ([`model`]) and implements the commands as plan/execute pairs
//! ([`ops`]).
//!
//! The core never prints and never prompts: it returns typed plans, reports and errors, and the
//! binary decides how to show them.

pub mod api;
pub mod audit;
pub mod auth;
pub mod config_file;
pub mod context;
pub mod controls;
pub mod endpoints;
pub mod env;
pub mod error;
pub mod fsutil;
pub mod http;
pub mod jwt;
pub mod model;
pub mod net;
pub mod ops;
pub mod policy;
pub mod ratelimit;
pub mod redact;
pub mod secret;
pub mod trace;
pub mod types;

pub use error::{Error, Result};

#[cfg(test)]
mod dead_pub;
#[cfg(test)]
mod import_graph;
