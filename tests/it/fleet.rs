//! Fleet `reset` and `prune` end to end: selection by each filter and the skip reasons, partial
//! failure on some targets only (exit 4, each target reported), unknown outcomes, nothing
//! succeeding (exit 1), Ctrl-C mid-batch, and `prune` of superseded keys while the current ones
//! survive, locked keys, orphans, `--disable-only` then delete, and the audit log of all of it.

use std::time::{Duration, SystemTime};

use cluster_api_key_emulator::world::keys;
use cluster_api_key_emulator::{Fault, FaultKind};
use rexpect::process::wait::WaitStatus;
use serde_json::Value;

use crate::common::{TestEnv, read};

fn functional() -> TestEnv {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env
}

fn days_ago(days: u64) -> String {
    humantime::format_rfc3339_seconds(SystemTime::now() - Duration::from_secs(days * 86_400)).to_string()
}

fn json(env: &TestEnv, args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend_from_slice(&["-o", "json"]);
    let r = env.run(&all);
    (r.code, serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {r:?}")))
}

/// `region/group` → (selected, skip reason, outcome).
fn by_target(v: &Value) -> Vec<(String, bool, String, String)> {
    v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                format!(
                    "{}/{}",
                    t["target"]["region"].as_str().unwrap(),
                    t["target"]["resourceGroup"]["name"].as_str().unwrap()
                ),
                t["selected"].as_bool().unwrap(),
                t["skipReason"].as_str().unwrap_or_default().to_owned(),
                t["outcome"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn selected(v: &Value) -> Vec<String> {
    by_target(v).into_iter().filter(|t| t.1).map(|t| t.0).collect()
}

fn post_fault(region: &str, kind: FaultKind) -> Fault {
    Fault::on("POST", "/v1/keys", kind).region(region)
}

const ALL: [&str; 2] = ["--all-regions", "--all-resource-groups"];

#[test]
fn every_filter_selects_and_says_why_it_skips() {
    let env = functional();
    {
        let mut w = env.handle().world();
        for k in &mut w.api_keys {
            k.created_at = if k.id == "ApiKey-2222-us-prod-cur" { days_ago(10) } else { days_ago(400) };
        }
    }
    let (code, v) = json(&env, &["reset", ALL[0], ALL[1], "--dry-run"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        selected(&v),
        ["eu-de/Default", "jp-tok/Default", "jp-tok/staging", "us-south/Default", "us-south/production"]
    );
    let orphan = by_target(&v).into_iter().find(|t| t.0 == "eu-de/staging").unwrap();
    assert_eq!(orphan.2, "no clusters: the key would not be used (--include-empty resets it)", "{orphan:?}");
    assert_eq!(v["summary"]["selected"], 5);
    // --if-missing: the key that is gone (jp-tok/Default) and the inactive owner (Dave).
    let (_, v) = json(&env, &["reset", ALL[0], ALL[1], "--if-missing", "--dry-run"]);
    assert_eq!(selected(&v), ["jp-tok/Default", "us-south/Default"]);
    assert!(by_target(&v).iter().any(|t| t.2.contains("--if-missing")));
    // --if-older-than: all but the 10-day-old key.
    let (_, v) = json(&env, &["reset", ALL[0], ALL[1], "--if-older-than", "30d", "--dry-run"]);
    assert!(!selected(&v).contains(&"us-south/production".to_owned()), "{v}");
    assert!(by_target(&v).iter().any(|t| t.2.contains("10 days old")), "{v}");
    // --unless-owner me: the functional ID's own target is skipped (jp-tok/staging is the
    // service ID's).
    let (_, v) = json(&env, &["reset", ALL[0], ALL[1], "--unless-owner", "me", "--dry-run"]);
    assert_eq!(selected(&v), ["eu-de/Default", "jp-tok/Default", "jp-tok/staging", "us-south/Default"]);
    // Lists of regions and groups, and filters combined.
    let (_, v) = json(&env, &["reset", "-r", "us-south,eu-de", "-g", "Default", "--if-missing", "--dry-run"]);
    assert_eq!(selected(&v), ["us-south/Default"]);
    assert_eq!(env.handle().stat("POST /v1/keys"), 0, "dry runs change nothing");
}

#[test]
fn a_batch_resets_every_target_with_its_own_report() {
    let env = functional();
    let before = env.cluster_keys().len();
    let (code, v) = json(&env, &["reset", ALL[0], ALL[1], "-f"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["summary"]["reset"], 5);
    assert_eq!(env.cluster_keys().len(), before + 5, "exactly one key per selected target");
    for t in v["targets"].as_array().unwrap().iter().filter(|t| t["selected"] == true) {
        assert_eq!(t["outcome"], "reset", "{t}");
        assert!(t["newKeyId"].as_str().unwrap().starts_with("ApiKey-"), "{t}");
        assert!(t["followUps"].is_array(), "the single-target document: {t}");
    }
    assert_eq!(crate::common::audited(&env, "reset", Some("succeeded")), 5);
    // Requests per reset target, besides verification: the lock's key list, the POST, the look
    // for the new key.
    assert_eq!(env.handle().stat("POST /v1/keys"), 5);
}

#[test]
fn some_targets_failing_or_unknown_is_exit_4_and_each_is_reported() {
    let mut env = functional();
    env.extra_env.insert("CLUSTER_API_KEY_RESET_GRACE_SECS".into(), "1".into());
    env.handle().set_knobs(|k| {
        k.faults.push(post_fault("eu-de", FaultKind::Status { status: 500 }));
        k.faults.push(post_fault("jp-tok", FaultKind::Html { status: 502 }));
    });
    // Exit 4, each target's outcome, real commands one per target where a template once stood,
    // and no OK.
    crate::assert_run!(env, "fleet-some-failed-some-unknown", env.run(&["reset", ALL[0], ALL[1], "-f"]));
    let (code, v) =
        json(&env, &["reset", "-r", "us-south,eu-de,jp-tok", ALL[1], "--unless-owner", "IBMid-NOBODY", "-f"]);
    assert_eq!(code, 4);
    let outcomes: Vec<(String, String)> = by_target(&v).into_iter().filter(|t| t.1).map(|t| (t.0, t.3)).collect();
    let outcomes: Vec<(&str, &str)> = outcomes.iter().map(|(t, o)| (t.as_str(), o.as_str())).collect();
    assert_eq!(
        outcomes,
        [
            ("eu-de/Default", "failed"),
            ("jp-tok/Default", "unknown"),
            ("jp-tok/staging", "unknown"),
            ("us-south/Default", "reset"),
            ("us-south/production", "reset")
        ]
    );
    // When none succeeds: exit 1.
    env.handle().set_knobs(|k| k.faults.push(post_fault("us-south", FaultKind::Status { status: 500 })));
    crate::assert_run!(env, "fleet-none-succeeded", env.run(&["reset", "-r", "us-south,eu-de", "-g", "Default", "-f"]));
}

#[test]
fn ctrl_c_mid_batch_stops_starting_targets_and_reports_each() {
    let env = functional();
    // One target at a time, each POST slow: Ctrl-C lands while the first is in flight.
    env.handle().set_knobs(|k| {
        k.faults.push(Fault::on("POST", "/v1/keys", FaultKind::Delay { ms: 1500 }));
    });
    let mut p = rexpect::session::spawn_command(
        env.command(&["reset", ALL[0], ALL[1], "-f", "--concurrency", "1", "--no-verify"]),
        Some(60_000),
    )
    .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while env.handle().stat("POST /v1/keys") == 0 {
        assert!(std::time::Instant::now() < deadline, "no POST");
        std::thread::sleep(Duration::from_millis(20));
    }
    p.send_control('c').unwrap();
    let out = p.exp_eof().unwrap();
    let code = match p.process.wait().unwrap() {
        WaitStatus::Exited(_, c) => c,
        other => panic!("{other:?}"),
    };
    assert_eq!(code, 4, "{out}");
    // Substring checks: a pseudo-terminal's byte stream, and a Ctrl-C whose moment varies.
    assert!(out.contains("interrupted before it started"), "{out}");
    assert!(out.contains("1 of 5 selected targets reset"), "the one in flight finished: {out}");
    assert_eq!(env.handle().stat("POST /v1/keys"), 1);
}

#[test]
fn prune_removes_superseded_keys_and_keeps_the_current_ones() {
    let env = functional();
    let current: Vec<String> = env.handle().dump().cluster_keys.iter().map(|c| c.api_key_id.clone()).collect();
    let (code, v) = json(&env, &["prune", "--dry-run"]);
    assert_eq!(code, 0);
    let planned: Vec<&str> = v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| !k["action"].is_null())
        .map(|k| k["keyId"].as_str().unwrap())
        .collect();
    assert_eq!(planned, ["ApiKey-3333-eu-default-old", "ApiKey-1111-us-default-old"]);
    let orphan = v["keys"].as_array().unwrap().iter().find(|k| k["keyId"] == "ApiKey-5555-eu-staging-orphan").unwrap();
    assert!(orphan["skip"].as_str().unwrap().contains("--include-orphans"), "{orphan}");
    env.run(&["prune", "-f"]).success();
    let left: Vec<String> = env.cluster_keys().iter().map(|k| k.id.clone()).collect();
    assert!(
        !left.contains(&"ApiKey-1111-us-default-old".to_owned())
            && !left.contains(&"ApiKey-3333-eu-default-old".to_owned())
    );
    for c in current.iter().filter(|c| !c.contains("deleted")) {
        assert!(left.contains(c), "the current key {c} survives");
    }
    assert!(left.contains(&"ApiKey-5555-eu-staging-orphan".to_owned()), "orphans only when asked");
    env.run(&["prune", "-f", "--include-orphans"]).success();
    assert!(!env.cluster_keys().iter().any(|k| k.id == "ApiKey-5555-eu-staging-orphan"));
    assert_eq!(crate::common::audited(&env, "delete", None), 3);
}

#[test]
fn locked_keys_need_unlock_and_disable_only_comes_first() {
    let env = functional();
    env.handle().world().api_keys.iter_mut().find(|k| k.id == "ApiKey-1111-us-default-old").unwrap().locked = true;
    let (_, v) = json(&env, &["prune", "-f"]);
    let locked = v["keys"].as_array().unwrap().iter().find(|k| k["keyId"] == "ApiKey-1111-us-default-old").unwrap();
    assert_eq!(locked["outcome"], "skipped");
    assert!(locked["skip"].as_str().unwrap().contains("--unlock"), "{locked}");
    assert!(env.cluster_keys().iter().any(|k| k.id == "ApiKey-1111-us-default-old"));
    // Disable first (reversible), then delete on a later run.
    let r = env.run(&["prune", "-f", "--unlock", "--disable-only", "-r", "us-south"]);
    r.success();
    let k = env.cluster_keys().into_iter().find(|k| k.id == "ApiKey-1111-us-default-old").unwrap();
    assert!(k.disabled && !k.locked, "unlocked and disabled: {k:?}");
    env.run(&["prune", "-f", "-r", "us-south"]).success();
    assert!(!env.cluster_keys().iter().any(|k| k.id == "ApiKey-1111-us-default-old"), "deleted on the later run");
    let records = crate::common::audit_records(&env);
    for action in ["unlock", "disable", "delete"] {
        assert!(
            records
                .iter()
                .any(|r| r["action"] == action && r["keyIds"] == serde_json::json!(["ApiKey-1111-us-default-old"])),
            "{action} audited: {records:?}"
        );
    }
    let audit = read(&env.plugin_dir().join("audit.jsonl"));
    assert!(!audit.contains("emulator-ck-value"), "never a key value");
}

#[test]
fn a_batch_dry_run_says_of_each_target_what_a_single_dry_run_says() {
    let env = functional();
    let (code, batch) = json(&env, &["reset", "--dry-run", "-r", "us-south,eu-de,jp-tok", "-g", "Default"]);
    assert_eq!(code, 0, "{batch}");
    let targets = batch["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 3, "{batch}");
    for t in targets {
        let region = t["target"]["region"].as_str().unwrap();
        let (_, single) = json(&env, &["reset", "--dry-run", "-r", region, "-g", "Default"]);
        let mut t = t.clone();
        let obj = t.as_object_mut().unwrap();
        obj.remove("selected");
        obj.remove("skipReason");
        assert_eq!(t, single, "{region}: the batch's document and the single one differ");
    }
    // The seam that once showed: the group's `default` and each cluster's type.
    assert_eq!(targets[0]["target"]["resourceGroup"]["default"], true, "{batch}");
    assert!(
        targets.iter().flat_map(|t| t["clusters"].as_array().unwrap()).all(|c| !c["type"].as_str().unwrap().is_empty()),
        "{batch}"
    );
}

#[test]
fn one_preflight_for_one_target_or_many_with_the_same_fixes() {
    let env = TestEnv::new();
    env.login(keys::VIEWER, Some("us-south"));
    crate::assert_run!(env, "preflight-one-target", env.run(&["reset", "-r", "us-south", "-g", "Default", "-f"]));
    // The same fix for the same requirement, named per target in a batch; the command that
    // grants them runs as printed: check takes the same lists.
    crate::assert_run!(
        env,
        "preflight-many-targets",
        env.run(&["reset", "-r", "us-south,eu-de", "-g", "Default", "-f"])
    );
    let check = env.run(&["check", "--region", "us-south,eu-de", "-g", "Default", "--user", "vera.viewer@example.com"]);
    crate::assert_run!(env, "preflight-many-targets-check", check);
    assert_eq!(env.handle().stat("POST /v1/keys"), 0);
}

#[test]
fn unless_owner_says_when_it_names_nobody() {
    let env = crate::common::TestEnv::new();
    env.login(cluster_api_key_emulator::world::keys::FUNCTIONAL, Some("us-south"));
    // Not an IAM ID at all: refused before anything is read.
    let r = env.run(&["reset", "--all-regions", "--unless-owner", "bob", "--dry-run"]);
    crate::assert_run!(env, "unless-owner-not-an-iam-id", r);
    // An IAM ID nobody in the account has: said, and the plan goes on (it skips nothing).
    let r = env.run(&["reset", "--all-regions", "--unless-owner", "IBMid-NOPE", "--dry-run"]);
    crate::assert_run!(env, "unless-owner-no-such-user", r);
    let r = env.run(&["reset", "--all-regions", "--unless-owner", "iam-ServiceId-00000000-nope", "--dry-run"]);
    crate::assert_run!(env, "unless-owner-no-such-service-id", r);
    // A member: no warning (the sentence could appear, as shown above).
    let r = env.run(&["reset", "--all-regions", "--unless-owner", "IBMid-2700000DEP", "--dry-run"]);
    crate::assert_run!(env, "unless-owner-a-member", r);
}
