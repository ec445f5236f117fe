//! IBM's Python SDK (`ibm-platform-services`, the version `sdk/python/requirements.txt` pins)
//! against the emulator: every call the tool makes of IAM Identity, IAM Policy Management, IAM
//! Access Groups, Resource Manager and User Management, plus the account settings, one access
//! group, an invitation and a v2 policy creation, each answer loaded into the SDK's own model
//! (`sdk/python/check_models.py`). A model refuses an answer that lacks a member it requires,
//! which is how the emulator's gaps were found.
//!
//! The venv is made in cargo's test scratch folder the first time (`python3 -m venv`, then pip
//! from `PyPI`, which CI reaches) and kept. Where Python or the package index is missing, the test
//! says so on stderr and checks nothing; a model that refuses an answer fails it.
#![allow(clippy::print_stderr, reason = "a test that cannot run says why")]

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

/// The venv's Python, with the pinned SDK in it; `Err` says why there is none.
fn venv() -> Result<PathBuf, String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sdk-python-venv");
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
const CALLS: [&str; 28] = [
    "list_api_keys",
    "list_api_keys (scope account)",
    "get_api_key (include_activity)",
    "get_api_keys_details",
    "create_api_key",
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
    "get_user_profile",
    "invite_users",
];

#[test]
fn ibm_python_sdk_models_load_every_answer() {
    let python = match venv() {
        Ok(p) => p,
        Err(why) => {
            eprintln!("IBM's Python SDK cannot be set up here ({why}): skipped");
            return;
        }
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let w = World::default_world();
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
        "invite_email": "sdk.check@example.com",
    });
    let out = Command::new(&python)
        .arg(sdk_dir().join("check_models.py"))
        .arg(args.to_string())
        .env("NO_PROXY", "127.0.0.1")
        .output()
        .unwrap();
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
}
