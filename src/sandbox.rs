//! `--sandbox`: any command against the emulator embedded in this binary.
//!
//! The emulated account lives in `<plugin dir>/sandbox/world.json` and persists between
//! invocations; the sandbox has its own CLI config home there, logged in as the default world's
//! functional ID. The user's real CLI config is never read or written (only its directory's
//! location is computed, to find the plugin's folder), every endpoint points at the emulator on
//! 127.0.0.1, and API keys in the environment are ignored.

use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cluster_api_key_core::context::{Context, config_dir};
use cluster_api_key_core::env::{self, Env};
use cluster_api_key_core::policy;
use cluster_api_key_emulator::Emulator;
use cluster_api_key_emulator::world::{self, World};
use serde_json::json;

use crate::error::CommandError;

/// A running sandbox; [`Sandbox::save`] persists the emulated account.
pub struct Sandbox {
    dir: PathBuf,
    emulator: Emulator,
    _lock: File,
}

fn io_fail(what: &str, path: &Path, e: &std::io::Error) -> CommandError {
    CommandError::failed(format!("Could not {what} '{}': {e}", path.display()))
}

/// Where the sandbox lives.
#[must_use]
pub fn dir(env: &Env) -> Option<PathBuf> {
    Context::plugin_dir(env, config_dir(env).as_deref()).map(|d| d.join("sandbox"))
}

impl Sandbox {
    /// Starts the emulator from the saved world (or the default one) and returns the
    /// environment the command must run with.
    ///
    /// # Errors
    /// When the sandbox folder cannot be used.
    pub async fn start(env: &Env, identity: &str, fresh: bool) -> Result<(Self, Env), CommandError> {
        let dir = dir(env).ok_or_else(|| {
            CommandError::failed("Cannot find a home directory for the sandbox.")
                .with_hint("Set HOME or CLUSTER_API_KEY_HOME.")
        })?;
        cluster_api_key_core::fsutil::create_private_dir(&dir).map_err(|e| CommandError::failed(e.to_string()))?;
        let lock_path = dir.join("sandbox.lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io_fail("open", &lock_path, &e))?;
        // One sandbox command at a time: two would each load the world and the last save wins.
        let deadline = Instant::now() + Duration::from_secs(30);
        while lock.try_lock().is_err() {
            if Instant::now() > deadline {
                return Err(CommandError::failed("Another sandbox command is still running."));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let world_path = dir.join("world.json");
        if fresh {
            // Start over: the default account, its policy, and new sessions for every identity.
            for stale in [world_path.clone(), dir.join("home"), dir.join(policy::FILE_NAME)] {
                let gone = if stale.is_dir() { fs::remove_dir_all(&stale) } else { fs::remove_file(&stale) };
                match gone {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_fail("remove", &stale, &e)),
                    _ => {}
                }
            }
        }
        let world = match fs::read(&world_path) {
            Ok(bytes) => serde_json::from_slice::<World>(&bytes).map_err(|e| {
                CommandError::failed(format!("The sandbox state '{}' is not readable: {e}", world_path.display()))
                    .with_hint(format!("Delete '{}' to start over with the default world.", dir.display()))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => World::sandbox_world(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0)),
            ),
            Err(e) => return Err(io_fail("read", &world_path, &e)),
        };
        write_policy(&dir)?;
        let emulator = Emulator::start(world)
            .await
            .map_err(|e| CommandError::failed(format!("Could not start the sandbox: {e}")))?;
        // One CLI config home per identity, so switching identities keeps every session.
        let home = dir.join("home").join(identity).join(".bluemix");
        cluster_api_key_core::fsutil::create_private_dir(&home).map_err(|e| CommandError::failed(e.to_string()))?;
        let config = home.join("config.json");
        if !session_valid(&config, &emulator) {
            write_config(&config, &emulator, identity)?;
        }
        let mut env = env.clone();
        for name in [
            env::IBMCLOUD_API_KEY,
            env::BLUEMIX_API_KEY,
            env::IBMCLOUD_HOME,
            env::BLUEMIX_HOME,
            env::IAM_ENDPOINT,
            env::IBMCLOUD_IAM_API_ENDPOINT,
            env::IBMCLOUD_CS_API_ENDPOINT,
            // The emulator is in this process, on 127.0.0.1: no proxy stands in between.
            env::HTTPS_PROXY,
            env::HTTPS_PROXY_LOWER,
            env::HTTP_PROXY,
            env::HTTP_PROXY_LOWER,
            env::ALL_PROXY,
            env::ALL_PROXY_LOWER,
        ] {
            env.remove(name);
        }
        env.set(env::IBMCLOUD_CONFIG_HOME, home.to_string_lossy());
        env.set(env::CAK_HOME, dir.to_string_lossy());
        for name in [
            env::CAK_IAM_ENDPOINT,
            env::CAK_IAM_IDENTITY_ENDPOINT,
            env::CAK_IAM_ACCESS_ENDPOINT,
            env::CAK_RESOURCE_MANAGER_ENDPOINT,
            env::CAK_CONTAINERS_ENDPOINT,
            env::CAK_USER_MANAGEMENT_ENDPOINT,
            env::CAK_ACCOUNT_MANAGEMENT_ENDPOINT,
            env::CAK_ACCOUNTS_ENDPOINT,
            env::CAK_ENTERPRISE_ENDPOINT,
        ] {
            env.set(name, emulator.base_url.clone());
        }
        Ok((Self { dir, emulator, _lock: lock }, env))
    }

    /// Saves the emulated account for the next invocation (write to a temp file, then rename:
    /// the file is ours alone).
    ///
    /// # Errors
    /// I/O errors.
    pub fn save(&self) -> Result<(), CommandError> {
        let world = self.emulator.handle.dump();
        // An empty world.json would lose the emulated account: a failure here is a bug, said.
        let bytes = serde_json::to_vec_pretty(&world).map_err(CommandError::internal)?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir).map_err(|e| io_fail("write in", &self.dir, &e))?;
        tmp.write_all(&bytes).map_err(|e| io_fail("write in", &self.dir, &e))?;
        let path = self.dir.join("world.json");
        tmp.persist(&path).map_err(|e| io_fail("write", &path, &e.error))?;
        Ok(())
    }
}

/// The sandbox's policy file (its plugin folder's `policy.toml`), written once: it names the
/// sandbox's functional ID, so that the first `status` does not flag it as a person, and shows
/// an accepted finding and an expired acceptance. The user may edit it; `--sandbox-reset`
/// writes it again.
fn write_policy(dir: &Path) -> Result<(), CommandError> {
    let path = dir.join(policy::FILE_NAME);
    if path.exists() {
        return Ok(());
    }
    let text = format!(
        r#"# The sandbox's policy: the account's rules and its accepted findings (see the README, "The policy file").

# The functional IDs that may own cluster API keys: their keys are not "personal-owner".
functional_ids = ["k8s-functional@example.com"]

# Accepted: shown apart, not counted toward the exit code, until the date.
[[accept]]
finding = "orphan-key"
target = "eu-de/staging"
reason = "The staging clusters come back to eu-de with the spring rebuild; the key stays for them."
until = {until}
by = "olivia.owner@example.com"

# Expired: it accepts nothing now, and says so (acceptance-expired).
[[accept]]
finding = "key-locked"
target = "eu-de/Default"
reason = "Locked while the EU migration runs."
until = 2026-06-30
by = "olivia.owner@example.com"
"#,
        until = policy::Date::days_from_now(180)
    );
    fs::write(&path, text).map_err(|e| io_fail("write", &path, &e))
}

/// Whether the sandbox config's refresh token is still known to the world.
fn session_valid(config: &Path, emu: &Emulator) -> bool {
    let Ok(bytes) = fs::read(config) else { return false };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else { return false };
    let rt = v.get("IAMRefreshToken").and_then(|r| r.as_str()).unwrap_or_default();
    emu.handle.world().refresh_tokens.iter().any(|t| t.token == rt && !t.spent)
}

/// The API key each sandbox identity logs in with.
fn key_of(identity: &str) -> &'static str {
    match identity {
        "owner" => world::keys::OWNER,
        "viewer" => world::keys::VIEWER,
        "service-id" => world::keys::SERVICE_ID,
        "departed" => world::keys::DEPARTED,
        _ => world::keys::FUNCTIONAL,
    }
}

fn write_config(path: &Path, emu: &Emulator, identity: &str) -> Result<(), CommandError> {
    let (access, refresh) = emu.handle.login(key_of(identity)).ok_or_else(|| {
        CommandError::failed(format!("The sandbox could not log in as '{identity}'.")).with_hint(
            if identity == "departed" {
                "Dave Departed left the company: his logins fail, as they would on IBM Cloud."
            } else {
                "Start over with '--sandbox --sandbox-reset'."
            },
        )
    })?;
    let config = json!({
        "APIEndpoint": "https://cloud.ibm.com",
        "IsPrivate": false,
        "IsAccessFromVPC": false,
        "CloudType": "public",
        "CloudName": "bluemix",
        "Region": "us-south",
        "IAMEndpoint": emu.base_url,
        "IAMToken": format!("Bearer {access}"),
        "IAMRefreshToken": refresh,
        "Account": {"GUID": world::ACCOUNT_ID, "Name": "Example Corp", "Owner": "olivia.owner@example.com"},
        "ResourceGroup": {"GUID": "", "Name": "", "State": "", "Default": false, "QuotaID": ""},
        "PluginRepos": [],
        "SSLDisabled": false,
        "Trace": "",
        "ColorEnabled": "",
        "HTTPTimeout": 0,
        "SDKVersion": "1.12.1",
    });
    let text = serde_json::to_vec_pretty(&config).map_err(CommandError::internal)?;
    let mut opts = File::options();
    opts.create(true).write(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| io_fail("write", path, &e))?;
    f.write_all(&text).map_err(|e| io_fail("write", path, &e))
}
