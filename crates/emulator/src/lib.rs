//! An offline, stateful emulator of the IBM Cloud APIs that `cluster-api-key` uses: the IAM
//! token endpoint, IAM Identity API keys, Resource Manager, IAM access policies and access
//! groups, the containers API's cluster API key, cluster, add-on and kubeconfig calls, and a
//! Kubernetes API (over HTTPS, with client certificates) for every emulated cluster.
//!
//! It is written from IBM's published API descriptions and SDK sources (platform-services-go-sdk,
//! bluemix-go, the Kubernetes Service API docs), not
//! from the client: it shares no request-building code with `cluster-api-key-core`, so a bug in
//! the client cannot hide behind the same bug here. Start it with [`Emulator::start`] on
//! `127.0.0.1:0`; the returned value gives its base URL and an [`Handle`] on its state and
//! knobs. Everything the handle can do is also reachable over HTTP under `/_emulator/`.

// Handlers return early with a ready `Response` as their error; boxing it would only add noise.
#![allow(clippy::result_large_err)]

mod access;
mod accounts;
mod containers;
mod iam;
mod k8s;
mod knobs;
mod rm;
mod server;
mod tls;
mod users;
mod util;
pub mod world;

pub use knobs::{Fault, FaultKind, Knobs, KubeKnobs, ReplicationMode};
pub use server::{Emulator, Handle, Stats};
pub use world::World;
