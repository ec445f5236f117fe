//! IBM's own SDKs against the emulator: Python (`ibm-platform-services`, pinned in
//! `sdk/python/requirements.txt`) and Node (`@ibm-cloud/platform-services`, pinned in
//! `sdk/node/package.json`). Each makes every call the tool makes of IAM Identity, IAM Policy
//! Management, IAM Access Groups, Resource Manager and User Management, plus the account settings,
//! one access group, an invitation and a v2 policy creation, and Enterprise Management's account
//! list (one page, then the SDK's `AccountsPager` a page of one at a time, which must list the
//! enterprise's three accounts unchanged), through the SDK's service classes,
//! and checks each answer against the SDK's own model (`sdk/python/check_models.py`: the models'
//! `from_dict`, which refuses an answer without a member it requires; `sdk/node/check_models.mjs`:
//! the required members of the TypeScript interface the SDK names for it). That is how the
//! emulator's gaps were found.
//!
//! The Python venv and the Node packages are installed in cargo's test scratch folder the first
//! time (from `PyPI` and the npm registry, which CI reaches) and kept. Where Python, Node or a
//! registry is missing, the test fails under `CI=true` (`.ci/run` installs Debian's `python3`,
//! `python3-venv`, `nodejs` and `npm`) and elsewhere skips, saying so on stderr (`common`); an
//! answer a model refuses fails it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use cluster_api_key_emulator::world::{self, keys};
use cluster_api_key_emulator::{Emulator, World};
use serde_json::{Value, json};

/// The pinned version, read from the requirements file the venv is made from.
fn pinned() -> String {
    let req = std::fs::read_to_string(sdk_dir().join("requirements.txt")).unwrap();
    req.lines().find_map(|l| l.strip_prefix("ibm-platform-services==")).unwrap().trim().to_owned()
}

fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sdk/python")
}

fn scratch(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// How `.ci/run` provides what the Python suite needs (the SDK itself comes from `PyPI`).
const INSTALL_PYTHON: &str = ".ci/run installs Debian's python3 and python3-venv; pip then installs the pinned SDK";
/// How `.ci/run` provides what the Node suite needs (the SDK itself comes from the npm registry).
const INSTALL_NODE: &str = ".ci/run installs Debian's nodejs and npm; npm then installs the pinned SDK";

/// The venv's Python, with the pinned SDK in it; `Err` says why there is none.
fn venv() -> Result<PathBuf, String> {
    let dir = scratch("sdk-python-venv");
    let python = dir.join("bin/python");
    let version = pinned();
    let has = |python: &Path| {
        Command::new(python)
            .args(["-c", "import importlib.metadata as m; print(m.version('ibm-platform-services'))"])
            .output()
            .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == version)
    };
    if has(&python) {
        return Ok(python);
    }
    let made = Command::new("python3").arg("-m").arg("venv").arg("--clear").arg(&dir).output();
    match made {
        Ok(o) if o.status.success() => {}
        Ok(o) => return Err(format!("python3 -m venv failed: {}", String::from_utf8_lossy(&o.stderr))),
        Err(e) => return Err(format!("python3 cannot run: {e}")),
    }
    let pip = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(sdk_dir().join("requirements.txt"))
        .output()
        .map_err(|e| e.to_string())?;
    if !pip.status.success() {
        return Err(format!("pip could not install the SDK: {}", String::from_utf8_lossy(&pip.stderr)));
    }
    if has(&python) { Ok(python) } else { Err("the SDK is not importable after pip installed it".into()) }
}

/// Every call the script must report: it cannot leave one out and still pass.
const CALLS: [&str; 33] = [
    "list_api_keys",
    "list_api_keys (scope account)",
    "list_api_keys (next page)",
    "get_api_key (include_activity)",
    "get_api_keys_details",
    "create_api_key",
    "create_api_key (expires_at, action_when_leaked)",
    "lock_api_key",
    "unlock_api_key",
    "disable_api_key",
    "enable_api_key",
    "delete_api_key",
    "get_service_id",
    "list_service_ids",
    "get_account_settings",
    "get_account_limits",
    "list_policies (iam_id)",
    "list_policies (access_group_id)",
    "list_v2_policies",
    "create_policy",
    "create_v2_policy",
    "list_access_groups (iam_id)",
    "get_access_group",
    "list_access_group_members",
    "is_member_of_access_group",
    "list_resource_groups",
    "get_resource_group",
    "list_users",
    "list_users (next page)",
    "get_user_profile",
    "invite_users",
    "list_accounts (enterprise_id)",
    "AccountsPager (limit 1)",
];

/// The emulator (in a runtime of its own, kept with it), the world's IDs the suites call with, and
/// the enterprise's accounts (id and name, in the world's order) its pager must list.
fn emulator() -> (tokio::runtime::Runtime, Emulator, Value, Value) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // The default world in the sandbox's enterprise: three accounts, Enterprise Management lists them.
    let w = World::default_world().with_enterprise();
    let enterprise: Value = w
        .accounts
        .iter()
        .filter(|a| a.enterprise_id.as_deref() == Some(world::ENTERPRISE_ID))
        .map(|a| json!({"id": a.id, "name": a.name}))
        .collect();
    assert_eq!(enterprise.as_array().map(Vec::len), Some(3), "{enterprise}");
    // A key nobody logs in with and no cluster uses: the one the SDK locks, disables and deletes.
    let spare = w
        .api_keys
        .iter()
        .find(|k| k.iam_id == world::DEPARTED && !k.locked && !w.cluster_keys.iter().any(|c| c.api_key_id == k.id))
        .expect("the departed user has a spare key")
        .id
        .clone();
    let cluster_key = w.cluster_keys[0].api_key_id.clone();
    let emu = rt.block_on(Emulator::start(w)).unwrap();
    let args = json!({
        "base_url": emu.base_url,
        "api_key": keys::OWNER,
        "account_id": world::ACCOUNT_ID,
        "owner_iam_id": world::OWNER,
        "functional_iam_id": world::FUNCTIONAL,
        "group_member_iam_id": world::GROUP_MEMBER,
        "new_iam_id": world::VIEWER,
        "service_id": world::SERVICE_ID.trim_start_matches("iam-"),
        "access_group_id": "AccessGroupId-k8s-us",
        "resource_group_id": world::RG_DEFAULT,
        "cluster_key_id": cluster_key,
        "spare_key_id": spare,
        "expires_at": "2031-01-02T03:04:05Z",
        "invite_email": "sdk.check@example.com",
        "enterprise_id": world::ENTERPRISE_ID,
    });
    (rt, emu, args, enterprise)
}

/// Runs a suite's script and checks its report: every call made, in order, every answer accepted,
/// and the SDK's accounts pager, a page of one at a time, listing the enterprise's accounts
/// unchanged, in order, and ending after the last.
fn run_suite(mut command: Command, args: &Value, enterprise: &Value) {
    let out = command.arg(args.to_string()).env("NO_PROXY", "127.0.0.1").output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    let report = report.as_array().unwrap();
    let failed: Vec<&Value> = report.iter().filter(|e| e["ok"] != true).collect();
    assert!(failed.is_empty(), "the SDK's models refuse these answers: {failed:#?}");
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let calls: Vec<&str> = report.iter().map(|e| e["call"].as_str().unwrap()).collect();
    assert_eq!(calls, CALLS, "every call is made and reported");
    // Each answer with a body went through a model (the others are 204s IBM documents).
    let models = report.iter().filter(|e| e["model"].is_string()).count();
    assert_eq!(models, CALLS.len() - 6, "{report:#?}");
    let one_page = report.iter().find(|e| e["call"] == "list_accounts (enterprise_id)").unwrap();
    assert_eq!(&one_page["listed"], enterprise, "one page lists the world's accounts unchanged");
    assert_eq!(one_page["next_url"], Value::Null, "and has no next page");
    let pager = report.iter().find(|e| e["call"] == "AccountsPager (limit 1)").unwrap();
    assert_eq!(&pager["listed"], enterprise, "the pager lists the world's accounts unchanged");
    assert_eq!(pager["pages"], json!([1, 1, 1]), "one account a page, and no empty page after the last");
}

#[test]
fn ibm_python_sdk_models_load_every_answer() {
    let python = match venv() {
        Ok(p) => p,
        Err(why) => {
            common::unavailable(&format!("IBM's Python SDK cannot be set up here ({why})"), INSTALL_PYTHON);
            return;
        }
    };
    let (_rt, _emu, args, enterprise) = emulator();
    let mut command = Command::new(&python);
    command.arg(sdk_dir().join("check_models.py"));
    run_suite(command, &args, &enterprise);
}

/// The Node packages, installed from `sdk/node/package.json`; `Err` says why there are none.
fn node_modules() -> Result<PathBuf, String> {
    let dir = scratch("sdk-node");
    let package = std::fs::read_to_string(node_dir().join("package.json")).map_err(|e| e.to_string())?;
    let installed = std::fs::read_to_string(dir.join("package.json")).unwrap_or_default();
    if installed == package && dir.join("node_modules/@ibm-cloud/platform-services").is_dir() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("package.json"), &package).map_err(|e| e.to_string())?;
    let npm = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--silent"])
        .current_dir(&dir)
        .output()
        .map_err(|e| format!("npm cannot run: {e}"))?;
    if !npm.status.success() {
        return Err(format!("npm could not install the SDK: {}", String::from_utf8_lossy(&npm.stderr)));
    }
    Ok(dir)
}

fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sdk/node")
}

#[test]
fn ibm_node_sdk_models_fit_every_answer() {
    if common::outside_program("node", INSTALL_NODE).is_none() {
        return;
    }
    let dir = match node_modules() {
        Ok(d) => d,
        Err(why) => {
            common::unavailable(&format!("IBM's Node SDK cannot be set up here ({why})"), INSTALL_NODE);
            return;
        }
    };
    // The script runs from the install folder, where Node finds the packages.
    let script = dir.join("check_models.mjs");
    std::fs::copy(node_dir().join("check_models.mjs"), &script).unwrap();
    let (_rt, _emu, args, enterprise) = emulator();
    let mut command = Command::new("node");
    command.arg(&script);
    run_suite(command, &args, &enterprise);
}
