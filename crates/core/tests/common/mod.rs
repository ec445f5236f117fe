//! The fixture the core's integration tests share: an emulator on 127.0.0.1 and a CLI config
//! logged in to it.

#![allow(dead_code, reason = "each test binary uses part of it")]

use std::path::PathBuf;

use cluster_api_key_core::context::{CliConfig, Context, SessionSource};
use cluster_api_key_core::env::Env;
use cluster_api_key_core::ops::Session;
use cluster_api_key_emulator::world;
use cluster_api_key_emulator::{Emulator, World};
use serde_json::json;

pub struct Fixture {
    pub emu: Emulator,
    pub _dir: tempfile::TempDir,
    pub config: PathBuf,
}

/// An emulator and a CLI config logged in as `key`, with a token that is already expired for
/// the client when `expired` is set.
pub async fn fixture(key: &str, expired: bool) -> Fixture {
    let emu = Emulator::start(World::default_world()).await.unwrap();
    if expired {
        emu.handle.world().token_lifetime_secs = 5;
    }
    let (at, rt) = emu.handle.login(key).unwrap();
    emu.handle.world().token_lifetime_secs = 3600;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    let cfg = json!({
        "IAMToken": format!("Bearer {at}"),
        "IAMRefreshToken": rt,
        "Region": "us-south",
        "Account": {"GUID": world::ACCOUNT_ID, "Name": "Example Corp"},
        "Other": "kept",
    });
    std::fs::write(&config, serde_json::to_vec_pretty(&cfg).unwrap()).unwrap();
    Fixture { emu, _dir: dir, config }
}

impl Fixture {
    pub async fn session(&self) -> Session {
        let env = Env::from_pairs([
            ("CLUSTER_API_KEY_IAM_ENDPOINT", self.emu.base_url.as_str()),
            ("CLUSTER_API_KEY_RESOURCE_MANAGER_ENDPOINT", self.emu.base_url.as_str()),
            ("CLUSTER_API_KEY_CONTAINERS_ENDPOINT", self.emu.base_url.as_str()),
            ("CLUSTER_API_KEY_RETRY_BASE_MS", "1"),
        ]);
        let map = cluster_api_key_core::config_file::ConfigFile::new(&self.config).read().await.unwrap();
        let cfg = CliConfig::from_map(&map);
        let ctx = Context::from_parts(&env, None, Some(cfg), SessionSource::CliConfig(self.config.clone())).unwrap();
        Session::new(ctx).unwrap()
    }
}
