//! Issue #35: `reset --leaked`, the leak response. Reset, verify, delete the compromised key
//! at once (unlocking it first), re-create the add-on pods, say what stays exposed; one
//! confirmation, every record marked, the outcome of each step exactly, and a fault at each
//! step reported and audited with nothing run twice.

use cluster_api_key_emulator::FaultKind;
use cluster_api_key_emulator::world::keys;
use serde_json::Value;

use crate::addons::{env, json};
use crate::common::{TestEnv, audit_records, audited, fault};

/// eu-de / Default's current key: locked, so the response must unlock it first.
const EU_KEY: &str = "ApiKey-3333-eu-default-cur";
/// us-south / Default's current key: unlocked; its target has classic credentials set.
const US_KEY: &str = "ApiKey-1111-us-default-cur";

fn has_key(env: &TestEnv, id: &str) -> bool {
    env.cluster_keys().iter().any(|k| k.id == id)
}

fn locked(env: &TestEnv, id: &str) -> bool {
    env.cluster_keys().iter().find(|k| k.id == id).is_some_and(|k| k.locked)
}

/// Every record of the run is marked as part of the leak response.
#[track_caller]
fn all_marked(env: &TestEnv) {
    let records = audit_records(env);
    assert!(!records.is_empty());
    for r in &records {
        assert_eq!(r["leakResponse"], true, "{r}");
    }
}

#[test]
fn a_leak_response_unlocks_and_deletes_the_previous_key_at_once() {
    let env = env();
    assert!(has_key(&env, EU_KEY) && locked(&env, EU_KEY), "the control: the key is there, locked");
    let r = env.run(&["reset", "--region", "eu-de", "-g", "Default", "--leaked", "-f"]);
    crate::assert_run!(env, "leaked-eu-locked-key-deleted", r);
    assert!(!has_key(&env, EU_KEY), "the compromised key is gone");
    // The older superseded key is not the compromised one: left for a prune.
    assert!(has_key(&env, "ApiKey-3333-eu-default-old"));
    assert_eq!(audited(&env, "reset", Some("succeeded")), 1);
    assert_eq!(audited(&env, "unlock", Some("succeeded")), 1);
    assert_eq!(audited(&env, "delete", Some("succeeded")), 1);
    all_marked(&env);
    // A reset without --leaked writes records without the mark (the control for all_marked).
    let plain = TestEnv::new();
    plain.login(keys::FUNCTIONAL, Some("us-south"));
    plain.run(&["reset", "--region", "eu-de", "-g", "Default", "-f"]).success();
    let records = audit_records(&plain);
    assert_eq!(records.len(), 1);
    assert!(records[0].get("leakResponse").is_none(), "{}", records[0]);
}

#[test]
fn a_leak_response_in_json_says_each_step_and_what_stays_exposed() {
    let env = env();
    let r = env.run(&["reset", "--region", "us-south", "-g", "Default", "--leaked", "-f", "-o", "json"]);
    r.success();
    let v = json(&r);
    let prev = &v["leakResponse"]["previousKey"];
    assert_eq!(prev["id"], US_KEY);
    assert_eq!(prev["outcome"], "deleted");
    assert_eq!(prev["leftUnlocked"], false);
    assert_eq!(prev["command"], Value::Null);
    assert!(!has_key(&env, US_KEY));
    let commands: Vec<&str> =
        v["leakResponse"]["stillExposed"].as_array().unwrap().iter().filter_map(|e| e["command"].as_str()).collect();
    assert_eq!(
        commands,
        [
            "ibmcloud target -g Default && ibmcloud ks credential get --region us-south",
            "ibmcloud ks cluster pull-secret apply --cluster c0us2cls00000000000b",
            "ibmcloud ks cluster pull-secret apply --cluster c0us1vpc00000000000a",
        ]
    );
    // The add-on pods were re-created after the deletion, their records marked too.
    assert!(v["addons"]["clusters"].as_array().is_some_and(|c| !c.is_empty()), "{v}");
    assert!(audited(&env, "restart-addons", None) > 0);
    all_marked(&env);
    // No prune follow-up for the key the response deleted.
    assert!(!v["followUps"].to_string().contains("prune"), "{}", v["followUps"]);
}

#[test]
fn a_failed_deletion_relocks_the_key_exits_4_and_its_command_finishes_the_job() {
    let env = env();
    // The unlock goes through; the DELETE of the key fails for good.
    env.handle().set_knobs(|k| {
        k.faults.push(
            fault("DELETE", &format!("/v1/apikeys/{EU_KEY}"), FaultKind::Status { status: 500 }, Some(4)).after(1),
        );
    });
    let r = env.run(&["reset", "--region", "eu-de", "-g", "Default", "--leaked", "-f"]);
    crate::assert_run!(env, "leaked-deletion-failed", r);
    assert!(has_key(&env, EU_KEY) && locked(&env, EU_KEY), "still there, and locked again");
    assert_eq!(audited(&env, "reset", None), 1, "the reset ran once");
    assert_eq!(audited(&env, "delete", Some("failed")), 1);
    assert_eq!(audited(&env, "lock", Some("succeeded")), 1);
    all_marked(&env);
    // The printed command, as printed (plus -f: the test has no terminal to answer).
    let printed = "cluster-api-key prune --region eu-de -g Default --force-in-use --unlock";
    r.stderr_has(printed);
    let mut args: Vec<&str> = printed.split(' ').skip(1).collect();
    args.push("-f");
    env.run(&args).success();
    assert!(!has_key(&env, EU_KEY), "the printed command deleted it");
    assert_eq!(audited(&env, "reset", None), 1, "and reset nothing again");
}

#[test]
fn a_failed_unlock_leaves_the_key_locked_and_says_so() {
    let env = env();
    env.handle().set_knobs(|k| {
        k.faults.push(fault(
            "DELETE",
            &format!("/v1/apikeys/{EU_KEY}/lock"),
            FaultKind::Status { status: 500 },
            Some(4),
        ));
    });
    let r = env.run(&["reset", "--region", "eu-de", "-g", "Default", "--leaked", "-f", "-o", "json"]);
    r.exits(4);
    let prev = &json(&r)["leakResponse"]["previousKey"];
    assert_eq!(prev["outcome"], "failed", "{prev}");
    assert!(prev["detail"].as_str().unwrap().starts_with("unlock failed"), "{prev}");
    assert_eq!(prev["command"], "cluster-api-key prune --region eu-de -g Default --force-in-use --unlock");
    assert!(has_key(&env, EU_KEY) && locked(&env, EU_KEY));
    assert_eq!(audited(&env, "unlock", Some("failed")), 1);
    assert_eq!(audited(&env, "delete", None), 0, "no deletion was tried");
}

#[test]
fn a_deletion_answered_with_an_error_after_the_work_is_reported_as_done() {
    let env = env();
    env.handle().set_knobs(|k| {
        k.faults.push(fault("DELETE", &format!("/v1/apikeys/{US_KEY}"), FaultKind::AfterWork { status: 500 }, Some(1)));
    });
    let r = env.run(&["reset", "--region", "us-south", "-g", "Default", "--leaked", "-f", "-o", "json"]);
    r.success();
    // The transport retried the DELETE and got a 404: gone, and not claimed as someone
    // else's doing.
    let prev = &json(&r)["leakResponse"]["previousKey"];
    assert_eq!(prev["outcome"], "already gone", "{prev}");
    assert!(prev["detail"].as_str().unwrap().contains("an earlier attempt of it"), "{prev}");
    assert!(!has_key(&env, US_KEY));
    assert_eq!(audited(&env, "delete", Some("succeeded")), 1, "recorded once");
}

#[test]
fn an_unknown_reset_outcome_deletes_nothing() {
    let env = env();
    // A 200 with an HTML page where the reset's answer belongs: the outcome is unknown.
    env.handle().set_knobs(|k| k.faults.push(fault("POST", "/v1/keys", FaultKind::Html { status: 200 }, Some(1))));
    let r = env.run(&["reset", "--region", "us-south", "-g", "Default", "--leaked", "-f", "-o", "json"]);
    r.exits(5);
    let v = json(&r);
    assert_eq!(v["outcome"], "unknown", "{v}");
    assert_eq!(v["leakResponse"]["previousKey"]["outcome"], "not deleted", "{v}");
    assert_eq!(audited(&env, "delete", None), 0);
    assert!(has_key(&env, US_KEY), "the key the clusters may still use is kept");
    all_marked(&env);
}

#[test]
fn a_failed_add_on_restart_after_the_deletion_is_partial_and_marked() {
    let env = env();
    env.handle().set_knobs(|k| {
        k.faults.push(
            cluster_api_key_emulator::Fault::on(
                "DELETE",
                "/api/v1/namespaces/kube-system/pods/ibm-vpc-block-csi-controller-0",
                FaultKind::Status { status: 500 },
            )
            .times(20),
        );
    });
    let r = env.run(&["reset", "--region", "us-south", "-g", "Default", "--leaked", "-f", "-o", "json"]);
    r.exits(4);
    let v = json(&r);
    assert_eq!(v["leakResponse"]["previousKey"]["outcome"], "deleted");
    assert!(!has_key(&env, US_KEY));
    assert!(v["addons"]["clusters"].to_string().contains("failed"), "{}", v["addons"]);
    all_marked(&env);
}

#[test]
fn a_dry_run_of_a_leak_response_changes_nothing_and_says_what_it_would_not_rotate() {
    let env = env();
    let r = env.run(&["reset", "--region", "us-south", "-g", "Default", "--leaked", "--dry-run"]);
    crate::assert_run!(env, "leaked-dry-run", r);
    assert!(has_key(&env, US_KEY));
    assert!(audit_records(&env).is_empty());
    let r = env.run(&["reset", "--region", "us-south", "-g", "Default", "--leaked", "--dry-run", "-o", "json"]);
    let v = json(&r);
    assert_eq!(v["leakResponse"]["previousKey"]["outcome"], "not deleted");
    assert_eq!(v["leakResponse"]["previousKey"]["detail"], "dry run: nothing was deleted");
}

#[test]
fn a_batch_leak_response_reports_each_target_and_exits_4_when_one_key_stays() {
    let env = env();
    env.handle().set_knobs(|k| {
        k.faults.push(fault("DELETE", &format!("/v1/apikeys/{US_KEY}"), FaultKind::Status { status: 500 }, Some(4)));
    });
    let r = env.run(&["reset", "--region", "us-south", "-g", "Default,production", "--leaked", "-f"]);
    crate::assert_run!(env, "leaked-batch-one-deletion-failed", r);
    assert!(has_key(&env, US_KEY), "the failed one stays");
    assert!(!has_key(&env, "ApiKey-2222-us-prod-cur"), "the other is deleted");
    assert_eq!(audited(&env, "reset", Some("succeeded")), 2);
    all_marked(&env);
}

#[test]
fn leaked_refuses_no_verify_and_lets_wait_and_endpoint_through() {
    let env = env();
    let r = env.run(&["reset", "--region", "us-south", "--leaked", "--no-verify", "-f"]);
    r.exits(2);
    r.stderr_has("--no-verify");
    // --wait needs --restart-addons or --leaked: alone it is refused, with --leaked accepted.
    env.run(&["reset", "--region", "us-south", "--wait", "5m", "--dry-run"]).exits(2);
    env.run(&["reset", "--region", "us-south", "--leaked", "--wait", "5m", "--endpoint", "private", "--dry-run"])
        .success();
}

#[test]
fn ctrl_c_during_the_verification_deletes_nothing_and_says_how_to_finish() {
    let env = env();
    // IAM answers 404 E06f9 for the new key for a minute: the verification waits.
    env.handle().set_knobs(|k| k.new_key_not_found_secs = 60);
    let r = crate::safety::interrupt_when(
        &env,
        &["reset", "--region", "eu-de", "-g", "Default", "--leaked", "-f"],
        "-INT",
        || env.handle().stat("POST /global/v1/keys") + env.handle().stat("POST /v1/keys") > 0,
    );
    assert_eq!(r.code, 4, "{r:?}");
    r.stderr_has("The compromised key was NOT deleted: interrupted before the deletion.");
    r.stderr_has("'cluster-api-key prune --region eu-de -g Default --force-in-use --unlock'");
    r.stdout_lacks("OK\n");
    assert!(has_key(&env, EU_KEY), "nothing deleted after Ctrl-C");
    assert_eq!(audited(&env, "reset", Some("succeeded")), 1);
    assert_eq!(audited(&env, "delete", None) + audited(&env, "unlock", None), 0);
}
