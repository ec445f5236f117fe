//! Whole outputs, reviewed as snapshots (jj and uv style): each command's text and JSON on the
//! default (sandbox) world, so that any change of wording or shape shows up in review. The
//! environment's filters make them stable (ports, homes, times, ages).

use cluster_api_key_emulator::world::keys;
use serde_json::Value;

use crate::common::TestEnv;

fn as_identity(key: &str) -> TestEnv {
    let mut env = TestEnv::new();
    env.login(key, Some("us-south"));
    env.handle().set_knobs(|k| {
        k.kube.replace_ms = 50;
        k.kube.ready_ms = 50;
    });
    env.extra_env.insert("COLUMNS".into(), "200".into());
    env
}

/// The run's text, and its JSON pretty-printed.
fn both(env: &TestEnv, args: &[&str], code: i32) -> (String, String) {
    let text = env.run(args);
    text.exits(code);
    let mut all = args.to_vec();
    all.extend_from_slice(&["-o", "json"]);
    let json = env.run(&all);
    json.exits(code);
    let v: Value = serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {json:?}"));
    (text.stdout.clone(), serde_json::to_string_pretty(&v).unwrap())
}

#[test]
fn a_batch_reset_dry_run() {
    let env = as_identity(keys::FUNCTIONAL);
    let (text, json) =
        both(&env, &["reset", "--all-regions", "--all-resource-groups", "--unless-owner", "me", "--dry-run"], 0);
    crate::assert_output!(env, "reset-batch-dry-run", &text);
    crate::assert_output!(env, "reset-batch-dry-run-json", &json);
}

#[test]
fn a_prune_dry_run() {
    let env = as_identity(keys::FUNCTIONAL);
    let (text, json) = both(&env, &["prune", "--dry-run", "--include-orphans"], 0);
    crate::assert_output!(env, "prune-dry-run", &text);
    crate::assert_output!(env, "prune-dry-run-json", &json);
}

#[test]
fn a_prune() {
    let env = as_identity(keys::FUNCTIONAL);
    let r = env.run(&["prune", "-f", "-r", "us-south"]);
    r.success();
    crate::assert_output!(env, "prune-done", &r.stdout);
}

#[test]
fn a_check() {
    let env = as_identity(keys::VIEWER);
    let (text, json) = both(&env, &["check", "-r", "us-south", "-g", "Default"], 3);
    crate::assert_output!(env, "check-viewer", &text);
    crate::assert_output!(env, "check-viewer-json", &json);
}

#[test]
fn a_restart_addons() {
    let env = as_identity(keys::FUNCTIONAL);
    let (text, json) = both(&env, &["restart-addons", "-r", "us-south", "-g", "Default", "--dry-run"], 0);
    crate::assert_output!(env, "restart-addons-dry-run", &text);
    crate::assert_output!(env, "restart-addons-dry-run-json", &json);
    let r = env.run(&["restart-addons", "--cluster", "payments", "-f"]);
    r.success();
    crate::assert_output!(env, "restart-addons-done", &r.stdout);
}

#[test]
fn a_status_in_json() {
    let env = as_identity(keys::FUNCTIONAL);
    let r = env.run(&["status", "-o", "json"]);
    r.exits(3);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    crate::assert_output!(env, "status-json", &serde_json::to_string_pretty(&v).unwrap());
}
