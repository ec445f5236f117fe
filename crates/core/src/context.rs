//! What the user is logged in to and targeting: where the CLI config lives, a tolerant typed
//! view of it, and the [`Context`] every command starts from.
//!
//! The view is read field by field from a generic JSON map rather than through one strict
//! struct, so that keys of older and newer CLI versions, missing keys and odd types (a `Region`
//! object from an old CLI, a number stored as a string) never make the whole file unreadable.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};

use crate::endpoints::{ConfigIamUrls, Endpoints, Network};
use crate::env::{self, Env};
use crate::error::{Error, Result};
use crate::types::{AccountId, Region, ResourceGroup, ResourceGroupId};

/// Finds the CLI config directory exactly as the Go SDK does: `IBMCLOUD_CONFIG_HOME`; else
/// `<home>/.ibmcloud` if that folder exists, else `<home>/.bluemix`, where home is
/// `IBMCLOUD_HOME`, `BLUEMIX_HOME` or the OS home.
#[must_use]
pub fn config_dir(env: &Env) -> Option<PathBuf> {
    if let Some(dir) = env.get(env::IBMCLOUD_CONFIG_HOME) {
        return Some(PathBuf::from(dir));
    }
    let home = env.first(&[env::IBMCLOUD_HOME, env::BLUEMIX_HOME]).map(PathBuf::from).or_else(|| os_home(env))?;
    let ibmcloud = home.join(".ibmcloud");
    if ibmcloud.is_dir() { Some(ibmcloud) } else { Some(home.join(".bluemix")) }
}

fn os_home(env: &Env) -> Option<PathBuf> {
    if cfg!(windows) {
        match (env.get(env::HOMEDRIVE), env.get(env::HOMEPATH)) {
            (Some(d), Some(p)) => Some(PathBuf::from(format!("{d}{p}"))),
            _ => env.get(env::USERPROFILE).map(PathBuf::from),
        }
    } else {
        env.get(env::HOME).map(PathBuf::from)
    }
}

/// The parts of `config.json` the tool uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CliConfig {
    /// `IAMToken` (`Bearer <jwt>`), empty when logged out.
    pub iam_token: String,
    /// `IAMRefreshToken`.
    pub iam_refresh_token: String,
    /// `Region` (a name; an old `{Name}` object is accepted).
    pub region: Option<String>,
    /// `Account.GUID`.
    pub account_id: Option<String>,
    /// `Account.Name`.
    pub account_name: Option<String>,
    /// `ResourceGroup` when targeted (GUID and Name both set, as the SDK decides).
    pub resource_group: Option<(String, String)>,
    /// `IsPrivate`.
    pub is_private: bool,
    /// `IsAccessFromVPC`.
    pub is_access_from_vpc: bool,
    /// `IAMEndpoint`, `IAMPrivateEndpoint`, `IAMPrivateVPCEndpoint`.
    pub iam_urls: ConfigIamUrls,
    /// `HTTPTimeout` in seconds (0 = unset).
    pub http_timeout: u64,
    /// `Trace`.
    pub trace: String,
    /// `ColorEnabled`.
    pub color_enabled: String,
    /// `SSLDisabled`.
    pub ssl_disabled: bool,
    /// `CloudName`.
    pub cloud_name: String,
    /// `IsLoggedInAsCRI`.
    pub is_logged_in_as_cri: bool,
}

fn str_field(map: &Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn bool_field(map: &Map<String, Value>, key: &str) -> bool {
    match map.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn u64_field(map: &Map<String, Value>, key: &str) -> u64 {
    match map.get(key) {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

fn obj_str(map: &Map<String, Value>, obj: &str, key: &str) -> Option<String> {
    map.get(obj)?.as_object().and_then(|o| str_field(o, key))
}

impl CliConfig {
    /// Reads the view from the raw map.
    #[must_use]
    pub fn from_map(map: &Map<String, Value>) -> Self {
        let region = match map.get("Region") {
            Some(Value::Object(o)) => str_field(o, "Name"),
            _ => str_field(map, "Region"),
        };
        let resource_group = match (obj_str(map, "ResourceGroup", "GUID"), obj_str(map, "ResourceGroup", "Name")) {
            (Some(id), Some(name)) => Some((id, name)),
            _ => None,
        };
        Self {
            iam_token: str_field(map, "IAMToken").unwrap_or_default(),
            iam_refresh_token: str_field(map, "IAMRefreshToken").unwrap_or_default(),
            region,
            account_id: obj_str(map, "Account", "GUID"),
            account_name: obj_str(map, "Account", "Name"),
            resource_group,
            is_private: bool_field(map, "IsPrivate"),
            is_access_from_vpc: bool_field(map, "IsAccessFromVPC"),
            iam_urls: ConfigIamUrls {
                public: str_field(map, "IAMEndpoint"),
                private: str_field(map, "IAMPrivateEndpoint"),
                vpc: str_field(map, "IAMPrivateVPCEndpoint"),
            },
            http_timeout: u64_field(map, "HTTPTimeout"),
            trace: str_field(map, "Trace").unwrap_or_default(),
            color_enabled: str_field(map, "ColorEnabled").unwrap_or_default(),
            ssl_disabled: bool_field(map, "SSLDisabled"),
            cloud_name: str_field(map, "CloudName").unwrap_or_default(),
            is_logged_in_as_cri: bool_field(map, "IsLoggedInAsCRI"),
        }
    }
}

/// How the process authenticates.
#[derive(Debug, Clone)]
pub enum SessionSource {
    /// The CLI's session in `config.json`, refreshed and written back when it expires.
    CliConfig(PathBuf),
    /// `IBMCLOUD_API_KEY`: tokens stay in memory.
    ApiKey(crate::secret::Secret),
}

/// Settings that shape HTTP behaviour.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Per-request timeout.
    pub timeout: Duration,
    /// Where to trace, if anywhere (`true`/a path).
    pub trace: Option<String>,
    /// Skip TLS verification (`SSLDisabled`).
    pub ssl_disabled: bool,
    /// First retry delay.
    pub retry_base: Duration,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// The whole command's time budget for requests: reads stop retrying, and are cut short,
    /// when it runs out, so a black-holed endpoint cannot stretch a command to many minutes.
    pub deadline: Duration,
    /// Proxies from the environment.
    pub proxy: crate::net::ProxySettings,
    /// Extra certificate authorities (DER), trusted besides the system's.
    pub extra_roots: Vec<Vec<u8>>,
    /// What could not be used of `SSL_CERT_FILE` / `SSL_CERT_DIR`.
    pub warnings: Vec<String>,
    /// IBM's rate limit as (burst, per second), below IBM's own.
    pub rate_limit: (f64, f64),
    /// Where the machine's processes share the rate budget (the plugin folder's
    /// `ratelimit.json`), when there is a plugin folder.
    pub rate_state: Option<PathBuf>,
}

/// Everything a command needs to know before it calls anything.
#[derive(Debug, Clone)]
pub struct Context {
    /// The CLI config directory (it may not exist).
    pub config_dir: Option<PathBuf>,
    /// The config, when there is one.
    pub config: Option<CliConfig>,
    /// How to authenticate.
    pub session: SessionSource,
    /// Base URLs.
    pub endpoints: Endpoints,
    /// HTTP behaviour.
    pub http: HttpSettings,
    /// The host's name for hints.
    pub cli_name: String,
    /// The targeted region.
    pub region: Option<Region>,
    /// The targeted resource group.
    pub resource_group: Option<ResourceGroup>,
    /// The targeted account.
    pub account: Option<AccountId>,
    /// How long `reset` waits for the new owner to show.
    pub verify_timeout_secs: u64,
    /// How often it looks.
    pub verify_interval_ms: u64,
    /// How long `reset` looks for the new key when the answer left the outcome open.
    pub reset_grace_secs: u64,
    /// How long `reset` waits for another reset of the same target.
    pub lock_timeout_secs: u64,
}

/// Values from the config that go into HTTP headers (`X-Region`, `X-Auth-Resource-Group`,
/// `Authorization`) must be header-safe: a CR or LF in a GUID is a broken config, said before
/// any request rather than as a transport failure in the middle of a reset.
fn check_header_safe(config_dir: Option<&Path>, c: &CliConfig) -> Result<()> {
    let fields = [
        ("Region", c.region.as_deref()),
        ("Account.GUID", c.account_id.as_deref()),
        ("ResourceGroup.GUID", c.resource_group.as_ref().map(|(id, _)| id.as_str())),
        ("IAMToken", Some(c.iam_token.as_str())),
    ];
    for (name, value) in fields {
        if value.is_some_and(|v| v.chars().any(char::is_control)) {
            return Err(Error::MalformedConfig {
                path: config_dir.map(|d| d.join("config.json")).unwrap_or_default(),
                detail: format!("{name} contains a control character"),
            });
        }
    }
    Ok(())
}

/// A numeric setting from the environment (`name`, else `alias` when not empty), within
/// `range`; unset is `default`. Every number is bounded: an absurd value once overflowed a
/// deadline and panicked after a completed reset.
fn number(env: &Env, name: &str, alias: &str, default: u64, range: std::ops::RangeInclusive<u64>) -> Result<u64> {
    let (var, raw) = match (env.get(name), (!alias.is_empty()).then(|| env.get(alias)).flatten()) {
        (Some(v), _) => (name, v),
        (None, Some(v)) => (alias, v),
        (None, None) => return Ok(default),
    };
    match raw.trim().parse::<u64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(Error::bad_setting(var, raw, format!("a whole number from {} to {}", range.start(), range.end()))),
    }
}

/// The most requests in flight at once (sockets and memory stay bounded whatever the budget).
const MAX_CONCURRENCY: u64 = 128;

/// The pool, sized from the rate budget: as many requests at once as the budget lets go without
/// waiting (its burst), so that a hundred owner lookups are one round trip, not four; at most
/// [`MAX_CONCURRENCY`]. Past the burst the budget, not the pool, sets the pace.
fn default_concurrency(burst: f64) -> u64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "a burst of 1 to 95,000")]
    let burst = burst.floor().max(1.0) as u64;
    burst.min(MAX_CONCURRENCY)
}

/// `CLUSTER_API_KEY_RATE_LIMIT=REQUESTS/SECONDS`: the limit the requests of this machine must
/// stay under (IBM's is `200/10`), as the budget that keeps 5% below it: a burst of 95% of the
/// requests, refilled over the window. For a source address shared with other tools, or an
/// emulator with another limit.
fn rate_limit(env: &Env) -> Result<(f64, f64)> {
    let Some(raw) = env.get(env::CAK_RATE_LIMIT) else { return Ok(crate::ratelimit::RATE_LIMIT) };
    let parsed = raw.trim().split_once('/').and_then(|(n, s)| {
        let n = n.trim().parse::<u32>().ok().filter(|n| (1..=100_000).contains(n))?;
        let s = s.trim().parse::<u32>().ok().filter(|s| (1..=3600).contains(s))?;
        Some((f64::from(n) * 0.95, f64::from(n) * 0.95 / f64::from(s)))
    });
    parsed.ok_or_else(|| Error::bad_setting(env::CAK_RATE_LIMIT, raw, "REQUESTS/SECONDS, such as 200/10 (IBM's limit)"))
}

/// Default HTTP timeout when neither the env nor the config sets one.
pub(crate) const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(60);

impl Context {
    /// Loads the context: the config (read under the Go lock) when there is one, else an
    /// `IBMCLOUD_API_KEY` session. An API key in the environment wins over the config, as it
    /// does for `ibmcloud login`.
    ///
    /// # Errors
    /// [`Error::NotLoggedIn`] (with the recovery command), a malformed config, bad endpoints.
    pub async fn load(env: &Env) -> Result<Self> {
        let config_dir = config_dir(env);
        let config_path = config_dir.as_ref().map(|d| d.join("config.json"));
        let config = match &config_path {
            Some(p) if p.exists() => Some(CliConfig::from_map(&crate::config_file::ConfigFile::new(p).read().await?)),
            _ => None,
        };
        let session = if let Some(v) = env.first(&[env::IBMCLOUD_API_KEY, env::BLUEMIX_API_KEY]) {
            SessionSource::ApiKey(read_api_key(v)?)
        } else {
            match (&config, &config_path) {
                (Some(c), Some(p)) if !c.iam_token.is_empty() || !c.iam_refresh_token.is_empty() => {
                    SessionSource::CliConfig(p.clone())
                }
                _ => return Err(Error::NotLoggedIn),
            }
        };
        Self::from_parts(env, config_dir, config, session)
    }

    /// Builds a context from already-read parts (the sandbox and tests use this).
    ///
    /// # Errors
    /// Bad endpoint overrides.
    pub fn from_parts(
        env: &Env,
        config_dir: Option<PathBuf>,
        config: Option<CliConfig>,
        session: SessionSource,
    ) -> Result<Self> {
        let c = config.clone().unwrap_or_default();
        check_header_safe(config_dir.as_deref(), &c)?;
        let network = Network::from_flags(c.is_private, c.is_access_from_vpc);
        let endpoints = Endpoints::new(network, &c.cloud_name, &c.iam_urls, env)?;
        let timeout_secs = match env.first(&[env::IBMCLOUD_HTTP_TIMEOUT, env::BLUEMIX_HTTP_TIMEOUT]) {
            Some(_) => number(env, env::IBMCLOUD_HTTP_TIMEOUT, env::BLUEMIX_HTTP_TIMEOUT, 0, 0..=3600)?,
            None => c.http_timeout.min(3600),
        };
        let timeout = if timeout_secs > 0 { Duration::from_secs(timeout_secs) } else { DEFAULT_HTTP_TIMEOUT };
        let trace = env
            .first(&[env::IBMCLOUD_TRACE, env::BLUEMIX_TRACE])
            .map(str::to_owned)
            .or_else(|| Some(c.trace.clone()).filter(|t| !t.is_empty()))
            .filter(|t| !t.eq_ignore_ascii_case("false"));
        let retry_base = Duration::from_millis(number(env, env::CAK_RETRY_BASE_MS, "", 250, 1..=60_000)?);
        let proxy = crate::net::ProxySettings::from_env(env)?;
        let (extra_roots, tls_warnings) = crate::net::extra_roots(env);
        let region = c.region.clone().map(Region::new);
        let resource_group = c.resource_group.clone().map(|(id, name)| ResourceGroup {
            id: ResourceGroupId::new(id),
            name,
            default: false,
        });
        let rate_state = Self::plugin_dir(env, config_dir.as_deref()).map(|d| d.join(crate::ratelimit::FILE_NAME));
        let rate_limit = rate_limit(env)?;
        Ok(Self {
            config_dir,
            account: c.account_id.clone().map(AccountId::new),
            config,
            session,
            endpoints,
            http: HttpSettings {
                timeout,
                trace,
                ssl_disabled: c.ssl_disabled,
                retry_base,
                deadline: Duration::from_secs(number(env, env::CAK_DEADLINE_SECS, "", 300, 1..=86_400)?),
                concurrency: usize::try_from(number(
                    env,
                    env::CAK_CONCURRENCY,
                    "",
                    default_concurrency(rate_limit.0),
                    1..=MAX_CONCURRENCY,
                )?)
                .unwrap_or(32),
                proxy,
                extra_roots,
                warnings: tls_warnings,
                rate_limit,
                rate_state,
            },
            cli_name: env.cli_name(),
            region,
            resource_group,
            verify_timeout_secs: number(env, env::CAK_VERIFY_TIMEOUT_SECS, "", 60, 0..=3600)?,
            verify_interval_ms: number(env, env::CAK_VERIFY_INTERVAL_MS, "", 2000, 10..=60_000)?,
            reset_grace_secs: number(env, env::CAK_RESET_GRACE_SECS, "", 30, 0..=600)?,
            lock_timeout_secs: number(env, env::CAK_LOCK_TIMEOUT_SECS, "", 180, 0..=3600)?,
        })
    }

    /// The plugin's own folder (`<config dir>/plugins/cluster-api-key`), or the override.
    #[must_use]
    pub fn plugin_dir(env: &Env, config_dir: Option<&Path>) -> Option<PathBuf> {
        if let Some(d) = env.get(env::CAK_HOME) {
            return Some(PathBuf::from(d));
        }
        config_dir.map(|d| d.join("plugins").join("cluster-api-key"))
    }
}

/// Reads `IBMCLOUD_API_KEY`: a value, or `@file` whose first line is the key.
fn read_api_key(value: &str) -> Result<crate::secret::Secret> {
    if let Some(path) = value.strip_prefix('@') {
        let path = PathBuf::from(path);
        let text = std::fs::read_to_string(&path).map_err(|source| Error::ApiKeyFile { path: path.clone(), source })?;
        // Key files written by `ibmcloud iam api-key-create --file` are JSON with an `apikey`.
        let key = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(o)) => o.get("apikey").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        }
        .unwrap_or_else(|| text.lines().next().unwrap_or_default().trim().to_owned());
        if key.is_empty() {
            return Err(Error::InvalidApiKey(format!("the file '{}' holds no API key", path.display())));
        }
        Ok(crate::secret::Secret::new(key))
    } else {
        Ok(crate::secret::Secret::new(value.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_dir_precedence() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path().to_str().unwrap();
        let env = Env::from_pairs([("IBMCLOUD_CONFIG_HOME", "/cfg"), ("IBMCLOUD_HOME", t), ("HOME", "/h")]);
        assert_eq!(config_dir(&env), Some(PathBuf::from("/cfg")));
        let env = Env::from_pairs([("BLUEMIX_HOME", "/x")]);
        assert_eq!(config_dir(&env), Some(PathBuf::from("/x/.bluemix")));
        let env = Env::from_pairs([("IBMCLOUD_HOME", "/a"), ("BLUEMIX_HOME", "/b"), ("HOME", "/h")]);
        assert_eq!(config_dir(&env), Some(PathBuf::from("/a/.bluemix")));
        let env = Env::from_pairs([("HOME", "/h")]);
        if !cfg!(windows) {
            assert_eq!(config_dir(&env), Some(PathBuf::from("/h/.bluemix")));
        }
        // `.ibmcloud` is used only if it exists.
        std::fs::create_dir(tmp.path().join(".ibmcloud")).unwrap();
        let env = Env::from_pairs([("IBMCLOUD_HOME", t)]);
        assert_eq!(config_dir(&env), Some(tmp.path().join(".ibmcloud")));
        // Empty values count as unset.
        let env = Env::from_pairs([("IBMCLOUD_CONFIG_HOME", ""), ("IBMCLOUD_HOME", "/a")]);
        assert_eq!(config_dir(&env), Some(PathBuf::from("/a/.bluemix")));
        assert_eq!(config_dir(&Env::default()), None);
    }

    #[test]
    fn tolerant_view() {
        let map: Map<String, Value> = serde_json::from_str(
            r#"{"Region":{"Name":"eu-gb"},"HTTPTimeout":"30","IsPrivate":"true","Account":{"GUID":"acc"},
                "ResourceGroup":{"GUID":"rg1","Name":""},"Trace":true,"CFEETargeted":false,"SomethingNew":[1]}"#,
        )
        .unwrap();
        let c = CliConfig::from_map(&map);
        assert_eq!(c.region.as_deref(), Some("eu-gb"));
        assert_eq!(c.http_timeout, 30);
        assert!(c.is_private);
        assert_eq!(c.account_id.as_deref(), Some("acc"));
        assert_eq!(c.resource_group, None, "a group is targeted only with GUID and Name");
        assert_eq!(c.trace, "true");
        let c = CliConfig::from_map(&Map::new());
        assert_eq!(c, CliConfig::default());
        let map: Map<String, Value> = serde_json::from_str(
            r#"{"Region":"us-south","ResourceGroup":{"GUID":"g","Name":"Default","Default":true},"HTTPTimeout":15,"IsAccessFromVPC":true}"#,
        )
        .unwrap();
        let c = CliConfig::from_map(&map);
        assert_eq!(c.region.as_deref(), Some("us-south"));
        assert_eq!(c.resource_group, Some(("g".into(), "Default".into())));
        assert_eq!(c.http_timeout, 15);
        assert!(c.is_access_from_vpc && !c.is_private);
    }

    #[tokio::test]
    async fn not_logged_in_without_config_or_key() {
        let tmp = tempfile::tempdir().unwrap();
        let env = Env::from_pairs([("IBMCLOUD_HOME", tmp.path().to_str().unwrap())]);
        assert!(matches!(Context::load(&env).await, Err(Error::NotLoggedIn)));
        std::fs::create_dir(tmp.path().join(".bluemix")).unwrap();
        std::fs::write(tmp.path().join(".bluemix/config.json"), r#"{"IAMToken":""}"#).unwrap();
        assert!(matches!(Context::load(&env).await, Err(Error::NotLoggedIn)));
    }

    #[tokio::test]
    async fn api_key_from_value_or_file() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("key.json");
        std::fs::write(&file, r#"{"name":"k","apikey":"file-api-key-value"}"#).unwrap();
        let v = format!("@{}", file.display());
        let env = Env::from_pairs([("IBMCLOUD_HOME", tmp.path().to_str().unwrap()), ("IBMCLOUD_API_KEY", v.as_str())]);
        let ctx = Context::load(&env).await.unwrap();
        match ctx.session {
            SessionSource::ApiKey(k) => assert_eq!(k.expose(), "file-api-key-value"),
            SessionSource::CliConfig(_) => panic!("expected an API key session"),
        }
        let env = Env::from_pairs([("IBMCLOUD_API_KEY", "@/nonexistent/key")]);
        assert!(matches!(Context::load(&env).await, Err(Error::ApiKeyFile { .. })));
    }

    #[test]
    fn timeout_env_beats_config() {
        let cfg = CliConfig { http_timeout: 5, ..Default::default() };
        let env = Env::from_pairs([("IBMCLOUD_HTTP_TIMEOUT", "7")]);
        let ctx = Context::from_parts(&env, None, Some(cfg.clone()), SessionSource::CliConfig("x".into())).unwrap();
        assert_eq!(ctx.http.timeout, Duration::from_secs(7));
        let ctx = Context::from_parts(&Env::default(), None, Some(cfg), SessionSource::CliConfig("x".into())).unwrap();
        assert_eq!(ctx.http.timeout, Duration::from_secs(5));
        let ctx = Context::from_parts(&Env::default(), None, None, SessionSource::CliConfig("x".into())).unwrap();
        assert_eq!(ctx.http.timeout, DEFAULT_HTTP_TIMEOUT);
    }
}
