//! `TestEnv`: an emulator, a temp home with a logged-in CLI config, and a way to run the
//! binary with a cleared environment (jj's `TestEnvironment`, in miniature).

use cluster_api_key_core::env as var;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::assert::Assert;
use predicates::prelude::*;

use cluster_api_key_emulator::world::{self, World};
use cluster_api_key_emulator::{Emulator, Fault, FaultKind, Handle};
use serde_json::{Value, json};

/// The binary under test (`assert_cmd`'s `cargo_bin!`, which also works with a custom build
/// directory).
pub fn bin() -> &'static Path {
    assert_cmd::cargo::cargo_bin!("cluster-api-key")
}

/// `assert_cmd`'s command for the binary, with nothing of this process's environment.
/// `--sandbox ARGS` with `home` as HOME, without colour: the run (for the report formats'
/// sandbox snapshots).
pub fn sandbox_run(home: &std::path::Path, args: &[&str]) -> Run {
    let out = cli()
        .arg("--sandbox")
        .args(args)
        .env(cluster_api_key_core::env::HOME, home)
        .env(cluster_api_key_core::env::NO_COLOR, "1")
        .output()
        .unwrap();
    Run::from(&out)
}

pub fn cli() -> assert_cmd::Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("cluster-api-key");
    cmd.env_clear();
    cmd
}

pub struct TestEnv {
    pub emu: Emulator,
    pub home: tempfile::TempDir,
    pub extra_env: BTreeMap<String, String>,
    // Last, so the emulator's task is dropped before its runtime.
    _rt: tokio::runtime::Runtime,
}

/// A finished run: its output, checked with `assert_cmd`'s [`Assert`] and `predicates`.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    output: Output,
}

impl Run {
    pub fn from(o: &Output) -> Self {
        Self {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            output: o.clone(),
        }
    }

    /// The `assert_cmd` assertion on this run (its failure messages show the whole output).
    pub fn assert(&self) -> Assert {
        Assert::new(self.output.clone())
    }

    /// The whole of what a user sees, as uv's `uv_snapshot!` shows it: the exit code, stdout and
    /// stderr together, so a snapshot of it shows a changed exit code or a stray stderr line too.
    pub fn transcript(&self) -> String {
        format!("exit code: {}\n----- stdout -----\n{}\n----- stderr -----\n{}", self.code, self.stdout, self.stderr)
    }

    /// Asserts exit 0; reads as a specification: `env.run(&[...]).success()`.
    #[track_caller]
    pub fn success(&self) -> &Self {
        self.assert().success();
        self
    }

    /// Asserts an exit code.
    #[track_caller]
    pub fn exits(&self, code: i32) -> &Self {
        self.assert().code(code);
        self
    }

    /// Asserts that stdout contains `text`.
    #[track_caller]
    pub fn stdout_has(&self, text: &str) -> &Self {
        self.assert().stdout(predicate::str::contains(text));
        self
    }

    /// Asserts that stdout does not contain `text`.
    #[track_caller]
    pub fn stdout_lacks(&self, text: &str) -> &Self {
        self.assert().stdout(predicate::str::contains(text).not());
        self
    }

    /// Asserts that stderr contains `text`.
    #[track_caller]
    pub fn stderr_has(&self, text: &str) -> &Self {
        self.assert().stderr(predicate::str::contains(text));
        self
    }

    /// Asserts that stderr does not contain `text`.
    #[track_caller]
    pub fn stderr_lacks(&self, text: &str) -> &Self {
        self.assert().stderr(predicate::str::contains(text).not());
        self
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

impl TestEnv {
    /// An emulator with the default world and an empty home (not logged in).
    pub fn new() -> Self {
        Self::with_world(World::default_world())
    }

    /// Over HTTPS, as users reach IBM Cloud: the emulator's CA is trusted through
    /// `SSL_CERT_FILE`, the way a corporate CA is, so every test goes through rustls.
    pub fn with_world(world: World) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let emu = rt.block_on(Emulator::start_tls(world)).unwrap();
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("corporate-ca.pem"), emu.handle.ca_pem()).unwrap();
        let mut extra_env = BTreeMap::new();
        extra_env
            .insert(var::SSL_CERT_FILE.to_owned(), home.path().join("corporate-ca.pem").to_string_lossy().into_owned());
        Self { emu, home, extra_env, _rt: rt }
    }

    /// The same over plain HTTP (loopback only), for what only plain HTTP can show.
    pub fn plain() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let emu = rt.block_on(Emulator::start(World::default_world())).unwrap();
        let home = tempfile::tempdir().unwrap();
        Self { emu, home, extra_env: BTreeMap::new(), _rt: rt }
    }

    pub fn handle(&self) -> &Handle {
        &self.emu.handle
    }

    pub fn config_dir(&self) -> PathBuf {
        self.home.path().join(".bluemix")
    }

    pub fn config_path(&self) -> PathBuf {
        self.config_dir().join("config.json")
    }

    pub fn trace_path(&self) -> PathBuf {
        self.home.path().join("trace.log")
    }

    pub fn plugin_dir(&self) -> PathBuf {
        self.config_dir().join("plugins").join("cluster-api-key")
    }

    /// Logs in with an API key of the world, as `ibmcloud login --apikey` would, and writes a
    /// CLI config (shaped like the Go CLI's `config.json`) targeting `region`.
    pub fn login(&self, api_key: &str, region: Option<&str>) {
        let tokens = self.handle().login(api_key).expect("login");
        self.login_with(tokens, region);
    }

    /// Logs in as an identity without an API key (a trusted profile).
    pub fn login_as(&self, iam_id: &str, region: Option<&str>) {
        let tokens = self.handle().login_as(iam_id).expect("login");
        self.login_with(tokens, region);
    }

    fn login_with(&self, (access, refresh): (String, String), region: Option<&str>) {
        let cfg = json!({
            "APIEndpoint": "https://cloud.ibm.com",
            "IsPrivate": false,
            "IsAccessFromVPC": false,
            "ConsoleEndpoint": "https://cloud.ibm.com",
            "CloudType": "public",
            "CloudName": "bluemix",
            "Region": region.unwrap_or(""),
            "IAMEndpoint": "https://iam.cloud.ibm.com",
            "IAMToken": format!("Bearer {access}"),
            "IAMRefreshToken": refresh,
            "Account": {"GUID": world::ACCOUNT_ID, "Name": "Example Corp", "Owner": "olivia.owner@example.com"},
            "ResourceGroup": {"GUID": "", "Name": "", "State": "", "Default": false, "QuotaID": ""},
            "LoginAt": "2026-11-28T09:00:00Z",
            "PluginRepos": [{"Name": "IBM Cloud", "URL": "https://plugins.cloud.ibm.com"}],
            "SSLDisabled": false,
            "Locale": "",
            "Trace": "",
            "ColorEnabled": "",
            "HTTPTimeout": 0,
            "ZFutureKey": {"kept": [1, 2, 3]},
            "SDKVersion": "1.12.1",
            "UpdateCheckInterval": 0
        });
        self.write_config(&cfg);
    }

    pub fn write_config(&self, cfg: &Value) {
        std::fs::create_dir_all(self.config_dir()).unwrap();
        std::fs::write(self.config_path(), serde_json::to_string_pretty(cfg).unwrap()).unwrap();
    }

    pub fn read_config(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.config_path()).unwrap()).unwrap()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.args(args).env_clear();
        let base = &self.emu.base_url;
        cmd.env(var::HOME, self.home.path())
            .env(var::IBMCLOUD_HOME, self.home.path())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env(var::NO_COLOR, "1")
            .env(var::IBMCLOUD_TRACE, self.trace_path())
            .env(var::CAK_RETRY_BASE_MS, "1")
            .env(var::CAK_VERIFY_TIMEOUT_SECS, "2")
            .env(var::CAK_VERIFY_INTERVAL_MS, "50")
            // The documented host overrides for IAM and the containers API...
            .env(var::IAM_ENDPOINT, base)
            .env(var::IBMCLOUD_CS_API_ENDPOINT, format!("{base}/global"))
            // ...and ours for the rest.
            .env(var::CAK_RESOURCE_MANAGER_ENDPOINT, base)
            .env(var::CAK_USER_MANAGEMENT_ENDPOINT, base)
            .env(var::CAK_ACCOUNT_MANAGEMENT_ENDPOINT, base)
            .env(var::CAK_ACCOUNTS_ENDPOINT, base)
            .env(var::CAK_ENTERPRISE_ENDPOINT, base);
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs the binary (through `assert_cmd`) and checks that no secret reached stdout, stderr
    /// or the trace.
    pub fn run(&self, args: &[&str]) -> Run {
        let out = assert_cmd::Command::from_std(self.command(args)).output().unwrap();
        let run = Run::from(&out);
        self.assert_no_secrets(&run);
        run
    }

    /// Every secret the emulator knows: API-key values, refresh tokens, access-token
    /// signatures, plus the tokens in the CLI config.
    pub fn secrets(&self) -> Vec<String> {
        let w = self.handle().dump();
        let mut s: Vec<String> = w.api_keys.iter().map(|k| k.apikey.clone()).collect();
        s.extend(w.refresh_tokens.iter().map(|r| r.token.clone()));
        s.extend(w.issued_tokens.iter().map(|t| t.signature.clone()));
        if let Ok(bytes) = std::fs::read(self.config_path())
            && let Ok(v) = serde_json::from_slice::<Value>(&bytes)
        {
            for k in ["IAMToken", "IAMRefreshToken"] {
                if let Some(t) = v.get(k).and_then(Value::as_str).filter(|t| !t.is_empty()) {
                    s.push(t.trim_start_matches("Bearer ").to_owned());
                }
            }
        }
        // Admin kubeconfigs: each certificate and key, as PEM lines and as the base64 of the
        // whole PEM (how a kubeconfig inlines them).
        for pem in self.handle().issued_credentials() {
            use base64::Engine as _;
            s.push(base64::engine::general_purpose::STANDARD.encode(&pem));
            s.extend(pem.lines().filter(|l| !l.starts_with("-----")).map(str::to_owned));
        }
        s.retain(|x| x.len() >= 8);
        s
    }

    pub fn assert_no_secrets(&self, run: &Run) {
        let trace = std::fs::read_to_string(self.trace_path()).unwrap_or_default();
        for secret in self.secrets() {
            run.stdout_lacks(&secret);
            run.stderr_lacks(&secret);
            assert!(!trace.contains(&secret), "secret in the trace");
        }
        for text in [&run.stdout, &run.stderr, &trace] {
            assert!(!text.contains("-----BEGIN"), "a PEM block in the output or trace: {run:?}");
        }
        // The payload of any JWT (and so its claims) must not appear either.
        assert!(!trace.contains("eyJ"), "a JWT in the trace");
        run.stdout_lacks("eyJ");
        run.stderr_lacks("eyJ");
    }

    /// The containers-kubernetes-key keys in the emulator.
    pub fn cluster_keys(&self) -> Vec<world::ApiKey> {
        self.handle().dump().api_keys.into_iter().filter(|k| k.name == "containers-kubernetes-key").collect()
    }
}

impl TestEnv {
    /// The filters that make output comparable between runs: the emulator's port, this run's
    /// home, incident IDs, minted key IDs, times and key ages (which grow every day).
    pub fn filters(&self) -> Vec<(String, String)> {
        home_filters(self.home.path())
    }
}

/// A sandbox's home (no emulator of the test's own), for `assert_run!`'s filters.
pub struct Sandbox<'a>(pub &'a Path);

impl Sandbox<'_> {
    /// [`TestEnv::filters`] for this home, and the date until which the sandbox's policy
    /// accepts its orphan key: 180 days from today (`src/sandbox.rs`), so it moves every day;
    /// likewise the expiry of its expiring key.
    pub fn filters(&self) -> Vec<(String, String)> {
        let mut filters = home_filters(self.0);
        let in_180_days = std::time::SystemTime::now() + std::time::Duration::from_secs(180 * 86_400);
        let date = humantime::format_rfc3339_seconds(in_180_days).to_string();
        filters.push((format!("until {}", &date[..10]), String::from("until [TODAY + 180 DAYS]")));
        // The sandbox's expiring key expires ten days and a half after its world was made.
        let expiring = std::time::SystemTime::now()
            + std::time::Duration::from_secs(world::SANDBOX_EXPIRES_IN_SECS.unsigned_abs());
        let date = humantime::format_rfc3339_seconds(expiring).to_string();
        filters.push((date[..10].to_owned(), String::from("[TODAY + 10 DAYS]")));
        filters
    }
}

/// No home at all (the binary run bare, `cli()`), for `assert_run!`'s filters.
pub struct Bare;

impl Bare {
    /// [`TestEnv::filters`] but the home's.
    #[allow(clippy::unused_self, reason = "called as `$env.filters()` by `assert_output!`, like a `TestEnv`'s")]
    pub fn filters(&self) -> Vec<(String, String)> {
        output_filters()
    }
}

fn home_filters(home: &Path) -> Vec<(String, String)> {
    let mut filters = vec![(regex::escape(&home.to_string_lossy()), String::from("[HOME]"))];
    filters.extend(output_filters());
    filters
}

fn output_filters() -> Vec<(String, String)> {
    vec![
        (String::from(r"127\.0\.0\.1:\d+"), String::from("[EMULATOR]")),
        (String::from(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), String::from("[UUID]")),
        (String::from(r"ApiKey-[0-9a-f]{8}-[0-9a-f]{16}"), String::from("[NEW_KEY_ID]")),
        (String::from(r"policy-[0-9]{8}-[0-9a-f]{16}"), String::from("[NEW_POLICY_ID]")),
        // A Deployment's pod names end in a random suffix (the emulator's, as Kubernetes').
        (
            String::from(r"ibm-iks-cluster-autoscaler-[0-9a-z]+-[0-9a-z]{5}\b"),
            String::from("ibm-iks-cluster-autoscaler-[POD]"),
        ),
        // The IAM ID the emulator mints for an invited user.
        (String::from(r"IBMid-[0-9A-F]{8}-[0-9A-F]{16}"), String::from("[NEW_IAM_ID]")),
        (String::from(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), String::from("[TIME]")),
        // Ages grow, and so can their column: normalise the padding after one too.
        (String::from(r"\b\d+d {2,}"), String::from("[N]d   ")),
        (String::from(r"\b\d+d\b"), String::from("[N]d")),
        (String::from(r"is \d+ days old"), String::from("is [N] days old")),
        (String::from(r#""ageDays": \d+"#), String::from(r#""ageDays": [N]"#)),
        // CSV's keyAgeDays column, after keyCreated (already [TIME] here).
        (String::from(r",\[TIME\],\d+,"), String::from(",[TIME],[N],")),
    ]
}

/// Compares `text` with the named snapshot in `tests/it/snapshots/`, after the environment's
/// filters; a wording change then shows up in review.
#[macro_export]
macro_rules! assert_output {
    ($env:expr, $name:expr, $text:expr) => {{
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        for (re, with) in $env.filters() {
            settings.add_filter(&re, with);
        }
        settings.bind(|| insta::assert_snapshot!($name, $text));
    }};
}

/// Compares a run's whole output (exit code, stdout, stderr: [`Run::transcript`]) with the
/// named snapshot in `tests/it/snapshots/`, after the environment's filters. The default for a
/// test of what the tool prints; a substring check only where a snapshot cannot be stable.
#[macro_export]
macro_rules! assert_run {
    ($env:expr, $name:expr, $run:expr) => {{ $crate::assert_output!($env, $name, $run.transcript()) }};
}

/// A fault on `method` requests whose path contains `path` (`times`: only the first so many).
pub fn fault(method: &str, path: &str, kind: FaultKind, times: Option<u32>) -> Fault {
    let f = Fault::on(method, path, kind);
    match times {
        Some(n) => f.times(n),
        None => f,
    }
}

/// Reads a path's text or empty.
pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// Whether this is a CI run: `CI=true` (or `1`), as CI services set it and `.ci/run` exports it
/// for the test step.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// An outside program a test runs (fish, zsh...), found on `PATH`. Where it is missing, the test
/// cannot check anything: under CI that FAILS the test, naming the program and how `.ci/run`
/// installs it (a CI run that silently checked nothing would pass for the wrong reason);
/// elsewhere the caller skips, and the skip is said on stderr.
#[track_caller]
pub fn outside_program(name: &str, install: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file()));
    if found.is_none() {
        unavailable(&format!("{name} is not installed"), install);
    }
    found
}

/// A test cannot run here (`why`): fails under CI, else says on stderr that it skipped.
#[track_caller]
pub fn unavailable(why: &str, install: &str) {
    skip_or_fail(in_ci(), why, install);
}

#[track_caller]
#[allow(clippy::print_stderr, reason = "a skipped test says so")]
fn skip_or_fail(ci: bool, why: &str, install: &str) {
    assert!(!ci, "{why}, and under CI=true this test must run, not skip: {install}");
    eprintln!("{why}: skipped ({install}; under CI=true this fails)");
}

#[test]
fn a_missing_outside_program_fails_under_ci_and_is_skipped_aloud_elsewhere() {
    let failed = std::panic::catch_unwind(|| skip_or_fail(true, "zsh is not installed", ".ci/run installs zsh"))
        .expect_err("under CI a missing program fails the test");
    let message = failed.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("zsh is not installed") && message.contains(".ci/run installs zsh"), "{message}");
    // Outside CI the same call returns (the caller skips), having said so on stderr.
    skip_or_fail(false, "zsh is not installed", ".ci/run installs zsh");
}

/// The audit log's records (`audit.jsonl`, one JSON document a line), read as documents so a
/// test checks their fields, not their text.
pub fn audit_records(env: &TestEnv) -> Vec<Value> {
    read(&env.plugin_dir().join("audit.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("an audit line that is not JSON ({e}): {l}")))
        .collect()
}

/// How many audit records have this action (and this outcome, when given).
pub fn audited(env: &TestEnv, action: &str, outcome: Option<&str>) -> usize {
    audit_records(env).iter().filter(|r| r["action"] == action && outcome.is_none_or(|o| r["outcome"] == o)).count()
}
