//! Issue #33, second pass: what `reset`, `prune` and `info` print is exactly true. One rule
//! for a target without clusters (status, single reset, batch reset, prune); every printed
//! follow-up runs as printed and does what it says; counts that count every key; no talk of an
//! old key where there was none; IBM's states and service names explained; every warning of
//! the text in the JSON too.

use cluster_api_key_emulator::world::keys;
use serde_json::Value;

use crate::common::{Run, TestEnv};

fn functional() -> TestEnv {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env
}

fn json(env: &TestEnv, args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend_from_slice(&["-o", "json"]);
    let r = env.run(&all);
    (r.code, serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {r:?}")))
}

/// The commands a run prints between quotes that start with the binary's name, as a user would
/// copy them.
fn printed_commands(r: &Run, verb: &str) -> Vec<Vec<String>> {
    let text = format!("{}{}", r.stdout, r.stderr);
    let start = format!("'cluster-api-key {verb} ");
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find(&start) {
        let after = &rest[i + 1..];
        let end = after.find('\'').unwrap();
        out.push(after[..end].split_whitespace().skip(1).map(str::to_owned).collect());
        rest = &after[end..];
    }
    out
}

/// Runs a printed command as printed (without the binary's name), with `extra` appended.
fn run_printed(env: &TestEnv, command: &[String], extra: &[&str]) -> Run {
    let mut args: Vec<&str> = command.iter().map(String::as_str).collect();
    args.extend_from_slice(extra);
    env.run(&args)
}

#[test]
fn a_target_without_clusters_is_reset_only_when_asked_by_every_command() {
    let env = functional();
    // A single reset refuses it, dry run or not, and says how to go on: no key is minted.
    let r = env.run(&["reset", "--region", "eu-de", "-g", "staging", "--dry-run"]);
    crate::assert_run!(env, "empty-target-single-reset-refused", r);
    crate::assert_run!(
        env,
        "empty-target-single-reset-refused",
        env.run(&["reset", "--region", "eu-de", "-g", "staging", "-f"])
    );
    // JSON: the hint names --include-empty.
    let r = env.run(&["reset", "--region", "eu-de", "-g", "staging", "-f", "-o", "json"]);
    crate::assert_run!(env, "empty-target-single-reset-refused-json", r);
    assert_eq!(env.handle().stat("POST /v1/keys"), 0, "no key minted for an empty target");
    // A batch skips it with the same flag named; with the flag it selects it.
    let (_, v) = json(&env, &["reset", "-r", "eu-de", "-g", "Default,staging", "--dry-run"]);
    let staging = v["targets"].as_array().unwrap().iter().find(|t| t["target"]["resourceGroup"]["name"] == "staging");
    let staging = staging.unwrap();
    assert_eq!(staging["selected"], false);
    assert_eq!(staging["skipReason"], "no clusters: the key would not be used (--include-empty resets it)");
    let (_, v) = json(&env, &["reset", "-r", "eu-de", "-g", "Default,staging", "--include-empty", "--dry-run"]);
    assert_eq!(v["summary"]["selected"], 2, "{v}");
    // Status: every reset it advises there carries the flag (and runs as printed), and prune
    // is offered for the key no cluster uses.
    let r = env.run(&["status", "--region", "eu-de", "-g", "staging"]);
    crate::assert_run!(env, "empty-target-status", r);
    let resets = printed_commands(&r, "reset");
    assert!(!resets.is_empty(), "status advises a reset there: {r:?}");
    for c in &resets {
        assert!(c.contains(&"--include-empty".to_owned()), "{c:?} in {r:?}");
        run_printed(&env, c, &["--dry-run"]).success();
    }
    // status --owner's plan for Olivia, who owns the empty target's key: the key no cluster
    // uses is removed (not replaced by a second unused one), and every step runs as printed.
    let (_, v) = json(&env, &["status", "--owner", "olivia.owner@example.com"]);
    let plan: Vec<&str> = v["owners"][0]["plan"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    let staging: Vec<&&str> = plan.iter().filter(|c| c.contains("-g staging")).collect();
    assert_eq!(staging, [&"cluster-api-key prune --region eu-de -g staging --include-orphans"], "{plan:?}");
    assert!(plan.iter().any(|c| c.starts_with("cluster-api-key reset ")), "the other target is reset: {plan:?}");
    for c in &plan {
        let args: Vec<&str> = c.split_whitespace().skip(1).chain(["--dry-run"]).collect();
        env.run(&args).success();
    }
    assert_eq!(env.handle().stat("POST /v1/keys"), 0);
}

#[test]
fn the_prune_a_reset_of_an_empty_target_prints_removes_the_old_key_and_keeps_the_new() {
    let env = functional();
    let before: Vec<String> = env.cluster_keys().into_iter().map(|k| k.id).collect();
    let r = env.run(&["reset", "--region", "eu-de", "-g", "staging", "--include-empty", "-f"]);
    r.success();
    let new = env.cluster_keys().into_iter().find(|k| !before.contains(&k.id)).unwrap().id;
    let prunes = printed_commands(&r, "prune");
    assert_eq!(prunes.len(), 1, "{r:?}");
    // As printed: it removes the superseded key, keeps the new one, and says so in a line.
    crate::assert_run!(env, "rpi-printed-prune-after-empty-reset", run_printed(&env, &prunes[0], &["-f"]));
    let left: Vec<String> = env.cluster_keys().into_iter().map(|k| k.id).collect();
    assert!(!left.contains(&"ApiKey-5555-eu-staging-orphan".to_owned()), "the old key is gone: {left:?}");
    assert!(left.contains(&new), "the new key is kept: {left:?}");
    // Nothing left to do: said, with the count, not silence.
    crate::assert_run!(env, "rpi-printed-prune-nothing-left", run_printed(&env, &prunes[0], &["-f"]));
    // The orphan's own key is still removed only when asked.
    env.run(&["prune", "-r", "eu-de", "-g", "staging", "--include-orphans", "-f"]).success();
    assert!(!env.cluster_keys().iter().any(|k| k.id == new));
}

#[test]
fn a_locked_previous_key_gets_unlock_in_every_printed_prune() {
    let env = functional();
    env.handle().world().api_keys.iter_mut().find(|k| k.id == "ApiKey-1111-us-default-cur").unwrap().locked = true;
    // A batch (as a single reset already did): the printed prune unlocks.
    let r = env.run(&["reset", "-r", "us-south", "-g", "Default,production", "-f", "--no-verify"]);
    r.success();
    let prunes = printed_commands(&r, "prune");
    assert_eq!(prunes.len(), 1, "{r:?}");
    assert!(prunes[0].contains(&"--unlock".to_owned()), "{prunes:?}");
    run_printed(&env, &prunes[0], &["-f"]).success();
    assert!(
        !env.cluster_keys().iter().any(|k| k.id == "ApiKey-1111-us-default-cur"),
        "the locked previous key was removed as the follow-up said"
    );
    // A single reset's sentence reads right: "(locked)" next to the key, no stray comma.
    let env = functional();
    env.handle().world().api_keys.iter_mut().find(|k| k.id == "ApiKey-1111-us-default-cur").unwrap().locked = true;
    let r = env.run(&["reset", "-r", "us-south", "-g", "Default", "-f", "--no-verify"]);
    crate::assert_run!(env, "rpi-reset-locked-previous-key", r);
    let prunes = printed_commands(&r, "prune");
    assert!(prunes.iter().all(|p| p.contains(&"--unlock".to_owned())), "{prunes:?}");
    // A batch of one target speaks of one new key; of two, of keys.
    let r = env.run(&["reset", "-r", "us-south", "-g", "production", "--if-older-than", "1d", "-f", "--no-verify"]);
    crate::assert_run!(env, "rpi-batch-of-one-new-key", r);
    let r = env.run(&["reset", "-r", "us-south", "-g", "Default,production", "-f", "--no-verify"]);
    crate::assert_run!(env, "rpi-batch-of-two-new-keys", r);
}

#[test]
fn a_target_with_no_key_yet_says_so_and_speaks_of_no_old_key() {
    let env = functional();
    let r = env.run(&["reset", "--region", "jp-tok", "-g", "Default", "--dry-run"]);
    crate::assert_run!(env, "no-key-yet-dry-run", r);
    let (_, v) = json(&env, &["reset", "--region", "jp-tok", "-g", "Default", "--dry-run"]);
    assert_eq!(v["previousOwnerUnknownReason"], "there is no API key for this region and resource group yet");
    assert_eq!(v["previousKeyUnknownReason"], "there is no API key for this region and resource group yet");
    assert_eq!(v["clustersUnknownReason"], Value::Null, "the clusters are known: {v}");
    let r = env.run(&["reset", "--region", "jp-tok", "-g", "Default", "-f"]);
    // The advice that a single reset gives where there was a key (the control)...
    let control = env.run(&["reset", "--region", "us-south", "-g", "production", "-f"]);
    crate::assert_run!(env, "rpi-reset-where-there-was-a-key", control);
    // ...is not given where there was none; nor is the lookup's error shown as an owner.
    crate::assert_run!(env, "rpi-reset-where-there-was-no-key", r);
}

#[test]
fn iamid_invalid_is_explained_wherever_it_is_shown() {
    const MEANING: &str = "IAMID_INVALID in the account: their IBMid is no longer valid, so they cannot log in";
    let env = functional();
    let r = env.run(&["status", "--region", "us-south", "-g", "Default"]);
    // Substrings beside the snapshot: the sentence, wherever it is shown, is this test's point.
    crate::assert_run!(env, "rpi-status-iamid-invalid-explained", r);
    r.stdout_has(&format!("Dave Departed is {MEANING}."));
    r.stdout_has(&format!("dave.departed@example.com, who is {MEANING}."));
    let r = env.run(&["reset", "--region", "us-south", "-g", "Default", "--dry-run"]);
    crate::assert_run!(env, "classic-reset-dry-run-says-them", r);
    r.stderr_has(&format!("The current owner, Dave Departed, is {MEANING}."));
    // info, by cluster and by target: the owner's state, explained, and the fix.
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    crate::assert_run!(env, "info-cluster-owner-invalid", r);
    let r = env.run(&["info", "--region", "us-south", "-g", "Default"]);
    crate::assert_run!(env, "info-target-owner-invalid", r);
    // The fix it prints runs as printed.
    let resets = printed_commands(&r, "reset");
    assert_eq!(resets.len(), 1, "{r:?}");
    run_printed(&env, &resets[0], &["--dry-run"]).success();
    // The control: an active owner gets no such alert.
    crate::assert_run!(env, "rpi-info-active-owner-no-alert", env.run(&["info", "--cluster", "payments"]));
    let (_, v) = json(&env, &["info", "--cluster", "shop-vpc"]);
    assert_eq!(v["state"], serde_json::json!({"kind": "member", "state": "IAMID_INVALID"}), "{v}");
}

#[test]
fn every_warning_of_a_reset_dry_run_is_in_its_json() {
    let env = functional();
    let text = env.run(&["reset", "--region", "us-south", "-g", "Default", "--dry-run"]);
    text.success();
    let (_, v) = json(&env, &["reset", "--region", "us-south", "-g", "Default", "--dry-run"]);
    let warnings: Vec<&str> = v["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    let shown: Vec<&str> = text.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(shown.iter().any(|l| l.contains("classic infrastructure credentials")), "{text:?}");
    assert_eq!(shown, warnings, "the text's warnings, in the JSON");
}

#[test]
fn prune_counts_every_key_and_says_unknown_for_unreported_logins() {
    let env = functional();
    let r = env.run(&["prune", "--dry-run"]);
    crate::assert_run!(env, "prune-dry-run-counts", r);
    // A key that IAM reports no login for is not "never used".
    r.stdout_lacks("never used");
    let (_, v) = json(&env, &["prune", "--dry-run"]);
    let keys = v["keys"].as_array().unwrap();
    let skipped = keys.iter().filter(|k| k["action"].is_null()).count();
    assert_eq!(skipped, 1);
    assert_eq!(v["summary"]["skipped"], skipped, "{v}");
    assert_eq!(v["summary"]["planned"], keys.len() - skipped, "{v}");
    crate::assert_run!(env, "rpi-prune-done-counts", env.run(&["prune", "-f"]));
    let (_, v) = json(&env, &["prune", "--dry-run"]);
    assert_eq!(v["summary"]["skipped"], 1, "{v}");
}

#[test]
fn services_are_named_as_ibm_names_them() {
    let env = TestEnv::new();
    env.login(keys::OWNER, Some("us-south"));
    let args = ["check", "--user", "new.fid@example.com", "-r", "us-south", "-g", "Default", "--grant", "--invite"];
    let mut args = args.to_vec();
    args.push("--dry-run");
    // The same invitation dry run as credentials.rs shows, reached with the flags in this order.
    crate::assert_run!(env, "invite-dry-run", env.run(&args));
}
