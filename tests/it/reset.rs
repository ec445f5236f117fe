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
    r.exits(0);
    r.stdout_has("Current owner:    Dave Departed <dave.departed@example.com> (IBMid-2700000DEP)");
    r.stdout_has("Clusters:         2\n");
    r.stdout_has("  legacy-classic   classic    kubernetes   normal\n");
    r.stdout_has("\nOK\n");
    let after = env.cluster_keys();
    assert_eq!(after.len(), before.len() + 1, "exactly one new key");
    let new = after.iter().find(|k| !before.iter().any(|b| b.id == k.id)).unwrap();
    assert_eq!(new.iam_id, world::FUNCTIONAL);
    assert!(new.description.as_deref().unwrap().contains(world::RG_DEFAULT), "default group when none is targeted");
    r.stdout_has(&format!("New key ID: {}", new.id));
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    r.stdout_has("Kubernetes Functional ID");
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
    r.exits(0);
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
    assert!(v["verification"].as_str().unwrap().contains("already you"), "{v}");
    let follow: Vec<&str> = v["followUps"].as_array().unwrap().iter().filter_map(|f| f["command"].as_str()).collect();
    assert!(follow.iter().any(|c| c.contains("cluster-api-key prune --region us-south -g production")), "{follow:?}");
    assert!(v["followUps"].to_string().contains("ApiKey-2222-us-prod-cur"), "the superseded key is named");
    assert!(follow.contains(&"cluster-api-key restart-addons --region us-south -g production"), "{follow:?}");
    // An unknown group name is a clear failure and nothing is created.
    let before = env.cluster_keys().len();
    let r = env.run(&["reset", "-g", "nope", "--region", "us-south", "-f"]);
    r.exits(2);
    r.stderr_has("Unknown resource group: nope. The account has: Default, production, staging.");
    assert_eq!(env.cluster_keys().len(), before);
}

#[test]
fn reset_without_a_terminal_or_force_refuses_and_changes_nothing() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    let before = env.cluster_keys().len();
    let r = env.run(&["reset", "--region", "us-south"]);
    r.exits(1);
    r.stderr_has("no terminal is attached");
    r.stderr_has("-f");
    assert_eq!(env.cluster_keys().len(), before);
}

#[test]
fn a_refused_reset_is_403_and_creates_nothing() {
    let env = TestEnv::new();
    env.login(keys::VIEWER, Some("us-south"));
    let before = env.cluster_keys().len();
    // The pre-flight says so first, with the fixes, and sends nothing.
    let r = env.run(&["reset", "--region", "us-south", "-f"]);
    r.exits(1);
    r.stderr_has("requirements are missing. Nothing was changed.");
    r.stderr_has("'ibmcloud iam user-policy-create vera.viewer@example.com --roles Administrator --service-name containers-kubernetes --region us-south --resource-group-name Default'");
    r.stderr_has("--user vera.viewer@example.com --grant");
    assert_eq!(env.handle().stat("POST /v1/keys"), 0);
    // Past the pre-flight, IBM refuses it the same way.
    let r = env.run(&["reset", "--region", "us-south", "-f", "--skip-preflight"]);
    r.exits(1);
    r.stderr_has("(A0009)");
    r.stderr_has("Nothing was changed");
    r.stderr_has("Incident ID: ");
    assert_eq!(env.cluster_keys().len(), before);
    // A service ID without Operator on IAM Identity is refused the way IBM refuses it.
    env.login(keys::SERVICE_ID, Some("us-south"));
    let r = env.run(&["reset", "--region", "us-south", "-f"]);
    r.exits(1);
    r.stderr_has("'ibmcloud iam service-policy-create ServiceId-5e7a1c00-0000-4000-8000-00000000c1a0 --roles Operator --service-name iam-identity'");
    let r = env.run(&["reset", "--region", "us-south", "-f", "--skip-preflight"]);
    r.exits(1);
    r.stderr_has("(A0656)");
    assert!(
        r.stderr
            .contains("'ibmcloud iam service-policy-create SERVICE_ID --roles Operator --service-name iam-identity'"),
        "{r:?}"
    );
    assert_eq!(env.cluster_keys().len(), before);
}

#[test]
fn a_5xx_on_reset_is_not_retried_and_nothing_was_created() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env.handle().set_knobs(|k| k.faults.push(fault("POST", "/v1/keys", FaultKind::Status { status: 503 }, None)));
    let before = env.cluster_keys().len();
    let r = env.run(&["reset", "--region", "us-south", "-f"]);
    r.exits(1);
    r.stderr_has("Nothing was changed");
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
    let r = env.run(&["reset", "--region", "us-south", "-f"]);
    r.exits(0);
    r.stderr_has("the reset happened");
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
    r.exits(0);
    // Verification gave up (2 s in tests) and said so, without failing the accepted reset.
    r.stderr_has("the new owner does not show yet (the owner still shows as Dave Departed");
    // While IAM replicates, the owner still reads as before.
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    r.stdout_has("Dave Departed");
    env.handle().set_knobs(|k| k.replication_delay_ms = 0);
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    r.stdout_has("Kubernetes Functional ID");
}

#[test]
fn a_failing_cluster_list_does_not_block_a_reset() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env.handle().set_knobs(|k| k.faults.push(fault("GET", "satellite", FaultKind::Status { status: 404 }, None)));
    let before = env.cluster_keys().len();
    let r = env.run(&["reset", "--region", "us-south", "-f"]);
    r.exits(0);
    r.stdout_has("Clusters:         unknown (");
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
    let r = env.run(&["reset", "--region", "us-south", "--dry-run"]);
    r.exits(0);
    r.stdout_has("Current owner:    Dave Departed");
    assert!(r.stdout.ends_with("Dry run: nothing was changed.\n"), "{r:?}");
    let r = env.run(&["reset", "--region", "us-south", "--dry-run", "--output", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["dryRun"], true);
    assert_eq!(v["previousOwner"]["iamId"], world::DEPARTED, "the same names as the real reset");
    assert_eq!(v["target"]["resourceGroup"]["name"], "Default");
    assert_eq!(v["clusters"].as_array().unwrap().len(), 2);
    assert!(v["warnings"][0].as_str().unwrap().contains("IAMID_INVALID"), "{v}");
    assert_eq!(env.cluster_keys().len(), before);
    assert!(!env.plugin_dir().join("audit.jsonl").exists(), "nothing to audit");
}

#[test]
fn the_dry_run_and_the_report_are_reviewed_as_snapshots() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    let r = env.run(&["reset", "--region", "us-south", "--dry-run"]);
    r.success();
    crate::assert_output!(env, "reset-dry-run", &r.stdout);
    let r = env.run(&["reset", "--region", "us-south", "-f"]);
    r.success();
    crate::assert_output!(env, "reset-done", &r.stdout);
}

#[test]
fn warnings_before_a_reset_that_may_not_be_what_you_want() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    // No cluster in eu-de / staging: the key would not be used (asked for all the same).
    let r = env.run(&["reset", "--region", "eu-de", "-g", "staging", "--include-empty", "--dry-run"]);
    r.success();
    r.stderr_has("No cluster is in this region and resource group");
    // A reset whose new key is still replicating: the owner answers A0055.
    env.handle().set_knobs(|k| {
        k.replication_delay_ms = 60_000;
        k.replication_mode = ReplicationMode::NotFound;
    });
    env.run(&["reset", "--region", "us-south", "-f", "--no-verify", "-q"]).success();
    let r = env.run(&["reset", "--region", "us-south", "--dry-run", "--output", "json"]);
    r.success();
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("still replicating")), "{v}");
    assert!(v["previousOwnerUnknownReason"].as_str().unwrap().contains("A0055"), "a reason for the null: {v}");
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
