//! Every environment variable the tool reads, in one place.
//!
//! The names marked "host" are set or documented by the `ibmcloud` CLI and its Go SDK; the
//! `CLUSTER_API_KEY_*` names are ours. Reading goes through [`Env`], a snapshot of the process
//! environment, so that unit tests can describe an environment without touching the real one.

use std::collections::BTreeMap;

/// Config directory, highest priority (host, SDK).
pub const IBMCLOUD_CONFIG_HOME: &str = "IBMCLOUD_CONFIG_HOME";
/// Home under which `.bluemix` / `.ibmcloud` lives (host, SDK).
pub const IBMCLOUD_HOME: &str = "IBMCLOUD_HOME";
/// Deprecated alias of [`IBMCLOUD_HOME`].
pub const BLUEMIX_HOME: &str = "BLUEMIX_HOME";
/// The OS home directory.
pub const HOME: &str = "HOME";
/// Windows fallbacks for the OS home.
pub(crate) const HOMEDRIVE: &str = "HOMEDRIVE";
/// Windows fallbacks for the OS home.
pub(crate) const HOMEPATH: &str = "HOMEPATH";
/// Windows fallbacks for the OS home.
pub(crate) const USERPROFILE: &str = "USERPROFILE";
/// `true` traces HTTP to stderr, a path appends to that file (host, SDK).
pub const IBMCLOUD_TRACE: &str = "IBMCLOUD_TRACE";
/// Deprecated alias of [`IBMCLOUD_TRACE`].
pub(crate) const BLUEMIX_TRACE: &str = "BLUEMIX_TRACE";
/// `true` / `false` forces colour (host, SDK).
pub const IBMCLOUD_COLOR: &str = "IBMCLOUD_COLOR";
/// Deprecated alias of [`IBMCLOUD_COLOR`].
pub const BLUEMIX_COLOR: &str = "BLUEMIX_COLOR";
/// Disables colour whatever else says (<https://no-color.org>).
pub const NO_COLOR: &str = "NO_COLOR";
/// HTTP timeout in seconds (host docs); wins over the config's `HTTPTimeout`.
pub const IBMCLOUD_HTTP_TIMEOUT: &str = "IBMCLOUD_HTTP_TIMEOUT";
/// Deprecated alias of [`IBMCLOUD_HTTP_TIMEOUT`].
pub(crate) const BLUEMIX_HTTP_TIMEOUT: &str = "BLUEMIX_HTTP_TIMEOUT";
/// An API key value or `@file`: log in without the CLI config (host docs).
pub const IBMCLOUD_API_KEY: &str = "IBMCLOUD_API_KEY";
/// Deprecated alias of [`IBMCLOUD_API_KEY`].
pub const BLUEMIX_API_KEY: &str = "BLUEMIX_API_KEY";
/// Fully-qualified namespace of the invoked command (set by the host).
pub const IBMCLOUD_PLUGIN_NAMESPACE: &str = "IBMCLOUD_PLUGIN_NAMESPACE";
/// Deprecated alias of [`IBMCLOUD_PLUGIN_NAMESPACE`].
pub const BLUEMIX_PLUGIN_NAMESPACE: &str = "BLUEMIX_PLUGIN_NAMESPACE";
/// Name of the host binary, for hints such as `'ibmcloud login'` (set by the host).
pub const IBMCLOUD_CLI: &str = "IBMCLOUD_CLI";
/// Deprecated alias of [`IBMCLOUD_CLI`].
pub(crate) const BLUEMIX_CLI: &str = "BLUEMIX_CLI";
/// IAM base URL for token refresh (SDK `core_config/repository.go`).
pub const IAM_ENDPOINT: &str = "IAM_ENDPOINT";
/// IAM base URL (bluemix-go `endpoints.go`).
pub const IBMCLOUD_IAM_API_ENDPOINT: &str = "IBMCLOUD_IAM_API_ENDPOINT";
/// Containers API base URL (bluemix-go `endpoints.go`).
pub const IBMCLOUD_CS_API_ENDPOINT: &str = "IBMCLOUD_CS_API_ENDPOINT";

/// Our override of the IAM token endpoint's base URL.
pub const CAK_IAM_ENDPOINT: &str = "CLUSTER_API_KEY_IAM_ENDPOINT";
/// Our override of the IAM Identity (API keys) base URL.
pub const CAK_IAM_IDENTITY_ENDPOINT: &str = "CLUSTER_API_KEY_IAM_IDENTITY_ENDPOINT";
/// Our override of the IAM Policy Management / Access Groups base URL.
pub const CAK_IAM_ACCESS_ENDPOINT: &str = "CLUSTER_API_KEY_IAM_ACCESS_ENDPOINT";
/// Our override of the Resource Manager base URL.
pub const CAK_RESOURCE_MANAGER_ENDPOINT: &str = "CLUSTER_API_KEY_RESOURCE_MANAGER_ENDPOINT";
/// Our override of the containers API base URL.
pub const CAK_CONTAINERS_ENDPOINT: &str = "CLUSTER_API_KEY_CONTAINERS_ENDPOINT";
/// Requests in flight at once, process-wide (default 32; the rate limiter still holds the
/// rate below IBM's limit).
pub(crate) const CAK_CONCURRENCY: &str = "CLUSTER_API_KEY_CONCURRENCY";
/// Overrides the accounts service's base URL (`/coe/v2/accounts`).
pub const CAK_ACCOUNTS_ENDPOINT: &str = "CLUSTER_API_KEY_ACCOUNTS_ENDPOINT";
/// Overrides Enterprise Management's base URL (`/v1/accounts?enterprise_id=...`).
pub const CAK_ENTERPRISE_ENDPOINT: &str = "CLUSTER_API_KEY_ENTERPRISE_ENDPOINT";
/// Overrides the User Management base URL.
pub const CAK_USER_MANAGEMENT_ENDPOINT: &str = "CLUSTER_API_KEY_USER_MANAGEMENT_ENDPOINT";
/// Overrides the Account Management base URL (the account's owner).
pub const CAK_ACCOUNT_MANAGEMENT_ENDPOINT: &str = "CLUSTER_API_KEY_ACCOUNT_MANAGEMENT_ENDPOINT";
/// Testing hook: makes the config writer abort at a chosen point (see `config_file`).
pub const CAK_FAILPOINT: &str = "CLUSTER_API_KEY_FAILPOINT";
/// Base delay of the retry backoff in milliseconds (default 250); tests lower it.
pub const CAK_RETRY_BASE_MS: &str = "CLUSTER_API_KEY_RETRY_BASE_MS";
/// How long `reset` waits for the new owner to show, in seconds (default 60).
pub const CAK_VERIFY_TIMEOUT_SECS: &str = "CLUSTER_API_KEY_VERIFY_TIMEOUT_SECS";
/// How often `reset` looks at the owner while verifying, in milliseconds (default 2000).
pub const CAK_VERIFY_INTERVAL_MS: &str = "CLUSTER_API_KEY_VERIFY_INTERVAL_MS";
/// How long `reset` looks for the new key when the answer left the outcome open (seconds).
pub const CAK_RESET_GRACE_SECS: &str = "CLUSTER_API_KEY_RESET_GRACE_SECS";
/// How long `reset` waits for another reset of the same target to finish (seconds).
pub(crate) const CAK_LOCK_TIMEOUT_SECS: &str = "CLUSTER_API_KEY_LOCK_TIMEOUT_SECS";
/// The time budget of one command's requests, in seconds (default 300).
pub const CAK_DEADLINE_SECS: &str = "CLUSTER_API_KEY_DEADLINE_SECS";
/// Overrides the plugin's own folder (audit log, sandbox, locks).
pub const CAK_HOME: &str = "CLUSTER_API_KEY_HOME";
/// The policy file, when `--policy` is not given (else `policy.toml` in the plugin's folder).
pub const CAK_POLICY: &str = "CLUSTER_API_KEY_POLICY";
/// The request limit the machine's commands share, as `REQUESTS/SECONDS` (default IBM's `200/10`).
pub const CAK_RATE_LIMIT: &str = "CLUSTER_API_KEY_RATE_LIMIT";

/// The proxy for `https://` URLs (also read in lower case, first).
pub const HTTPS_PROXY: &str = "HTTPS_PROXY";
/// Lower-case `HTTPS_PROXY`.
pub const HTTPS_PROXY_LOWER: &str = "https_proxy";
/// The proxy for `http://` URLs.
pub const HTTP_PROXY: &str = "HTTP_PROXY";
/// Lower-case `HTTP_PROXY`.
pub const HTTP_PROXY_LOWER: &str = "http_proxy";
/// The proxy for both, when the specific one is unset.
pub const ALL_PROXY: &str = "ALL_PROXY";
/// Lower-case `ALL_PROXY`.
pub const ALL_PROXY_LOWER: &str = "all_proxy";
/// Hosts, domains, addresses and CIDR blocks reached without a proxy.
pub const NO_PROXY: &str = "NO_PROXY";
/// Lower-case `NO_PROXY`.
pub const NO_PROXY_LOWER: &str = "no_proxy";
/// A PEM bundle of extra certificate authorities to trust.
pub const SSL_CERT_FILE: &str = "SSL_CERT_FILE";
/// Folders of PEM certificates of extra authorities to trust.
pub const SSL_CERT_DIR: &str = "SSL_CERT_DIR";

/// A snapshot of the environment. Empty values count as unset, as in the Go SDK.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// The process environment (variables that are not valid Unicode are ignored).
    #[must_use]
    pub fn from_process() -> Self {
        Self { vars: std::env::vars().collect() }
    }

    /// An environment made of the given pairs (for tests).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self { vars: pairs.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect() }
    }

    /// The value of `name`, or `None` when unset or empty.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// The first of `names` that is set.
    #[must_use]
    pub fn first(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| self.get(n))
    }

    /// Sets a variable (for tests and the sandbox).
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.vars.insert(name.to_owned(), value.into());
    }

    /// Removes a variable.
    pub fn remove(&mut self, name: &str) {
        self.vars.remove(name);
    }

    /// The host's CLI name for hints (`ibmcloud` unless the host says otherwise).
    #[must_use]
    pub fn cli_name(&self) -> String {
        self.first(&[IBMCLOUD_CLI, BLUEMIX_CLI]).unwrap_or("ibmcloud").to_owned()
    }
}
