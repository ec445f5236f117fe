//! `reset` end to end: exactly one key, groups by name, confirmation, refusals, lost answers,
//! replication, verification, dry runs. Every run is checked for leaked secrets.

use cluster_api_key_emulator::world::{self, keys};
use cluster_api_key_emulator::{FaultKind, ReplicationMode};
use serde_json::Value;

use crate::common::{TestEnv, fault, read};

#[test]
fn reset_creates_exactly_one_key_and_info_shows_the_new_owner() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    let before = env.cluster_keys();
    let r = env.run(&["reset", "--region", "us-south", "-f"]);
    // The whole report, as the snapshot test below reviews it.
    crate::assert_run!(env, "reset-done", r);
    let after = env.cluster_keys();
    assert_eq!(after.len(), before.len() + 1, "exactly one new key");
    let new = after.iter().find(|k| !before.iter().any(|b| b.id == k.id)).unwrap();
    assert_eq!(new.iam_id, world::FUNCTIONAL);
    assert!(new.description.as_deref().unwrap().contains(world::RG_DEFAULT), "default group when none is targeted");
    // The snapshot's filter hides minted key IDs: this one is checked exactly.
    r.stdout_has(&format!("New key ID: {}", new.id));
    crate::assert_run!(env, "reset-then-info-new-owner", env.run(&["info", "--cluster", "shop-vpc"]));
    // The audit log has one line, with IDs and no values.
    let audit = read(&env.plugin_dir().join("audit.jsonl"));
    assert_eq!(audit.lines().count(), 1, "{audit}");
    let rec: Value = serde_json::from_str(audit.lines().next().unwrap()).unwrap();
    assert_eq!(rec["action"], "reset");
    assert_eq!(rec["outcome"], "succeeded");
    assert_eq!(rec["keyIds"][0], new.id.as_str());
    assert_eq!(rec["region"], "us-south");
    assert!(!audit.contains(&new.apikey));
}

#[test]
fn reset_takes_a_group_name_without_retargeting_and_json_output() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("eu-de"));
    let r = env.run(&["reset", "-g", "production", "--region", "us-south", "-f", "--output", "json"]);
    // The verification says the owner was already you; the follow-ups name the superseded key,
    // the prune and the restart of the add-ons.
    crate::assert_run!(env, "reset-group-by-name-json", r);
    let v: Value = serde_json::from_str(&r.stdout).expect("one JSON document");
    assert_eq!(v["dryRun"], false);
    assert_eq!(v["target"]["region"], "us-south");
    assert_eq!(v["target"]["resourceGroup"]["name"], "production");
    assert_eq!(v["target"]["resourceGroup"]["id"], world::RG_PRODUCTION);
    assert_eq!(v["newOwner"]["iamId"], world::FUNCTIONAL);
    assert_eq!(v["previousOwner"]["iamId"], world::FUNCTIONAL);
    assert_eq!(v["clusters"][0]["name"], "payments", "clusters as objects");
    assert!(v["newKeyId"].as_str().unwrap().starts_with("ApiKey-"));
    assert_eq!(v["previousKey"]["id"], "ApiKey-2222-us-prod-cur");
    // The functional ID already owned it: the owner proves nothing, and JSON does not say
    // "verified".
    assert_eq!(v["verified"], Value::Null);
    let follow: Vec<&str> = v["followUps"].as_array().unwrap().iter().filter_map(|f| f["command"].as_str()).collect();
    assert_eq!(
        follow,
        [
            "cluster-api-key restart-addons --region us-south -g production",
            "cluster-api-key status --read-clusters --region us-south -g production",
            "cluster-api-key prune --region us-south -g production"
        ]
    );
    // An unknown group name is a clear failure and nothing is created.
    let before = env.cluster_keys().len();
    crate::assert_run!(env, "reset-unknown-group", env.run(&["reset", "-g", "nope", "--region", "us-south", "-f"]));
    assert_eq!(env.cluster_keys().len(), before);
}

#[test]
fn reset_without_a_terminal_or_force_refuses_and_changes_nothing() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    let before = env.cluster_keys().len();
    crate::assert_run!(env, "reset-no-terminal-no-force", env.run(&["reset", "--region", "us-south"]));
    assert_eq!(env.cluster_keys().len(), before);
}

#[test]
fn a_refused_reset_is_403_and_creates_nothing() {
    let env = TestEnv::new();
    env.login(keys::VIEWER, Some("us-south"));
    let before = env.cluster_keys().len();
    // The pre-flight says so first, with the fixes, and sends nothing.
    crate::assert_run!(env, "reset-preflight-refuses-viewer", env.run(&["reset", "--region", "us-south", "-f"]));
    assert_eq!(env.handle().stat("POST /v1/keys"), 0);
    // Past the pre-flight, IBM refuses it the same way.
    let r = env.run(&["reset", "--region", "us-south", "-f", "--skip-preflight"]);
    crate::assert_run!(env, "reset-refused-by-iam-a0009", r);
    assert_eq!(env.cluster_keys().len(), before);
    // A service ID without Operator on IAM Identity is refused the way IBM refuses it.
    env.login(keys::SERVICE_ID, Some("us-south"));
    crate::assert_run!(env, "reset-preflight-refuses-service-id", env.run(&["reset", "--region", "us-south", "-f"]));
    let r = env.run(&["reset", "--region", "us-south", "-f", "--skip-preflight"]);
    crate::assert_run!(env, "reset-refused-by-iam-a0656", r);
    assert_eq!(env.cluster_keys().len(), before);
}

#[test]
fn a_5xx_on_reset_is_not_retried_and_nothing_was_created() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env.handle().set_knobs(|k| k.faults.push(fault("POST", "/v1/keys", FaultKind::Status { status: 503 }, None)));
    let before = env.cluster_keys().len();
    crate::assert_run!(env, "reset-5xx-nothing-changed", env.run(&["reset", "--region", "us-south", "-f"]));
    assert_eq!(env.handle().stat("POST /global/v1/keys") + env.handle().stat("POST /v1/keys"), 1, "never retried");
    assert_eq!(env.cluster_keys().len(), before);
}

#[test]
fn a_lost_answer_after_a_successful_reset_is_recognised() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    // The server creates the key, then the answer is cut off.
    env.handle().set_knobs(|k| k.faults.push(fault("POST", "/v1/keys", FaultKind::Truncate, Some(1))));
    let before = env.cluster_keys().len();
    crate::assert_run!(env, "reset-lost-answer-recognised", env.run(&["reset", "--region", "us-south", "-f"]));
    assert_eq!(env.cluster_keys().len(), before + 1, "one key, no blind retry");
}

#[test]
fn replication_delay_is_visible_in_the_owner_right_after_a_reset() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env.handle().set_knobs(|k| {
        k.replication_delay_ms = 60_000;
        k.replication_mode = ReplicationMode::Stale;
    });
    let r = env.run(&["reset", "--region", "us-south", "-f"]);
    // Verification gave up (2 s in tests) and said so, without failing the accepted reset.
    crate::assert_run!(env, "reset-verification-gave-up", r);
    // While IAM replicates, the owner still reads as before.
    crate::assert_run!(env, "reset-info-while-replicating", env.run(&["info", "--cluster", "shop-vpc"]));
    env.handle().set_knobs(|k| k.replication_delay_ms = 0);
    crate::assert_run!(env, "reset-then-info-new-owner", env.run(&["info", "--cluster", "shop-vpc"]));
}

#[test]
fn a_failing_cluster_list_does_not_block_a_reset() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env.handle().set_knobs(|k| k.faults.push(fault("GET", "satellite", FaultKind::Status { status: 404 }, None)));
    let before = env.cluster_keys().len();
    crate::assert_run!(env, "reset-cluster-list-failing", env.run(&["reset", "--region", "us-south", "-f"]));
    assert_eq!(env.cluster_keys().len(), before + 1);
}

#[test]
fn verification_rides_out_the_replication_404s() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env.handle().set_knobs(|k| {
        k.replication_delay_ms = 500;
        k.replication_mode = ReplicationMode::NotFound;
    });
    let r = env.run(&["reset", "--region", "us-south", "-f", "--output", "json"]);
    r.exits(0);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["verified"], true, "{r:?}");
    assert!(env.handle().stat("GET /v1/logging/{id}/clusterkeyowner") >= 3, "it looked again after the 404s");
    // --no-verify skips it.
    let r = env.run(&["reset", "--region", "us-south", "-f", "--no-verify", "--output", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["verified"], Value::Null);
}

#[test]
fn dry_run_shows_the_plan_and_changes_nothing() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    let before = env.cluster_keys().len();
    crate::assert_run!(env, "reset-dry-run", env.run(&["reset", "--region", "us-south", "--dry-run"]));
    let r = env.run(&["reset", "--region", "us-south", "--dry-run", "--output", "json"]);
    // Its warnings say the current owner is IAMID_INVALID.
    crate::assert_run!(env, "reset-dry-run-json", r);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["dryRun"], true);
    assert_eq!(v["previousOwner"]["iamId"], world::DEPARTED, "the same names as the real reset");
    assert_eq!(v["target"]["resourceGroup"]["name"], "Default");
    assert_eq!(v["clusters"].as_array().unwrap().len(), 2);
    assert_eq!(env.cluster_keys().len(), before);
    assert!(!env.plugin_dir().join("audit.jsonl").exists(), "nothing to audit");
}

#[test]
fn the_dry_run_and_the_report_are_reviewed_as_snapshots() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    crate::assert_run!(env, "reset-dry-run", env.run(&["reset", "--region", "us-south", "--dry-run"]));
    crate::assert_run!(env, "reset-done", env.run(&["reset", "--region", "us-south", "-f"]));
}

#[test]
fn warnings_before_a_reset_that_may_not_be_what_you_want() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    // No cluster in eu-de / staging: the key would not be used (asked for all the same).
    let r = env.run(&["reset", "--region", "eu-de", "-g", "staging", "--include-empty", "--dry-run"]);
    crate::assert_run!(env, "reset-empty-target-included-warns", r);
    // A reset whose new key is still replicating: the owner answers A0055.
    env.handle().set_knobs(|k| {
        k.replication_delay_ms = 60_000;
        k.replication_mode = ReplicationMode::NotFound;
    });
    env.run(&["reset", "--region", "us-south", "-f", "--no-verify", "-q"]).success();
    // A warning that the key is still replicating, and A0055 as the reason the owner is null.
    let r = env.run(&["reset", "--region", "us-south", "--dry-run", "--output", "json"]);
    crate::assert_run!(env, "reset-dry-run-while-replicating-json", r);
}

#[test]
fn a_dry_run_and_a_reset_are_one_schema() {
    let env = crate::common::TestEnv::new();
    env.login(cluster_api_key_emulator::world::keys::FUNCTIONAL, Some("us-south"));
    let doc = |args: &[&str]| -> serde_json::Value {
        let r = env.run(args);
        r.success();
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {r:?}"))
    };
    let keys =
        |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<std::collections::BTreeSet<_>>();
    let dry = doc(&["reset", "-r", "us-south", "--dry-run", "-o", "json"]);
    let done = doc(&["reset", "-r", "us-south", "-f", "-o", "json"]);
    assert_eq!(keys(&dry), keys(&done), "dry run {dry}\nreset {done}");
    for field in ["followUps", "newKeyId", "verified", "verification", "auditError", "confirmedAfterError", "outcome"] {
        assert!(dry.get(field).is_some(), "{field} missing from the dry run: {dry}");
    }
    assert_eq!(dry["outcome"], "dry-run");
    assert_eq!(done["outcome"], "reset");
    assert!(dry["newKeyId"].is_null() && dry["newKeyIdUnknownReason"] == "dry run: nothing was reset", "{dry}");
    assert_eq!(dry["followUps"], serde_json::json!([]));
    assert!(done["newKeyId"].is_string(), "{done}");
    // A batch's targets share it too, skipped or not.
    let batch = doc(&["reset", "--all-regions", "--if-older-than", "600d", "--dry-run", "-o", "json"]);
    let targets = batch["targets"].as_array().unwrap();
    let first = keys(&targets[0]);
    assert!(targets.iter().all(|t| keys(t) == first), "{batch}");
    assert!(
        targets.iter().any(|t| t["outcome"] == "skipped") && targets.iter().any(|t| t["outcome"] == "dry-run"),
        "{batch}"
    );
}
