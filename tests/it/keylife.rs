//! Issue #35, the key's own life: `expires_at` and `action_when_leaked` read from IAM as
//! findings (`key-expiring`, `key-expired`, `key-leak-action`), what cannot be read reported as
//! unchecked with the reason (never as fine), the JSON and CSV fields; and a reset whose new key
//! IAM has not replicated yet (404 `E06f9`), waited out and never reported as a failure.

use std::time::{Duration, SystemTime};

use cluster_api_key_emulator::world::keys;
use serde_json::{Value, json};

use crate::common::{Run, TestEnv};

/// The current key of us-south / production (the functional ID's, otherwise clean).
const PROD_KEY: &str = "ApiKey-2222-us-prod-cur";
/// The current key of jp-tok / staging (a service ID's).
const JP_KEY: &str = "ApiKey-4444-jp-staging-cur";

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// `days` days (and an hour, so that whole days are stable) from now.
fn in_days(days: i64) -> SystemTime {
    let hour = Duration::from_secs(3600);
    let d = Duration::from_secs(days.unsigned_abs() * 86_400);
    if days >= 0 { SystemTime::now() + d + hour } else { SystemTime::now() - d - hour }
}

/// The functional ID logged in, with `set` applied to the world's keys first.
fn env_with(set: &[(&str, Option<Value>, Option<Value>)]) -> TestEnv {
    let env = TestEnv::new();
    {
        let mut w = env.handle().world();
        for (id, expires, action) in set {
            let k = w.api_keys.iter_mut().find(|k| k.id == *id).expect("the key is in the world");
            k.expires_at.clone_from(expires);
            k.action_when_leaked.clone_from(action);
        }
    }
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env
}

fn json_of(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("one JSON document ({e}): {r:?}"))
}

fn target<'a>(v: &'a Value, region: &str, group: &str) -> &'a Value {
    crate::status::target(v, region, group)
}

/// The codes of the key's life among a target's findings.
fn codes(t: &Value) -> Vec<&str> {
    t["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .filter(|c| matches!(*c, "key-expiring" | "key-expired" | "key-leak-action"))
        .collect()
}

/// Flags that leave the functional ID's old key without other findings (it is the functional
/// ID, and old keys are not the point here).
const CLEAN: [&str; 4] = ["--functional-id", "k8s-functional@example.com", "--max-age", "1000d"];

/// A run's transcript with each date in `dates` (the day part of an RFC 3339 time made
/// relative to now) replaced by its name, so that the snapshot holds still.
fn stable(r: &Run, dates: &[(&str, &str)]) -> String {
    let mut t = r.transcript();
    for (date, name) in dates {
        t = t.replace(&date[..10], name);
    }
    t
}

#[test]
fn an_expiring_key_and_a_leak_action_are_findings_with_the_reset_that_fixes_them() {
    let expires = rfc3339(in_days(10));
    let env = env_with(&[(PROD_KEY, Some(json!(expires)), Some(json!("Delete")))]);
    let r = env.run(&[&["status", "--region", "us-south", "-g", "production"][..], &CLEAN].concat());
    crate::assert_output!(env, "keylife-expiring-and-leak-action", stable(&r, &[(&expires, "[IN-10-DAYS]")]));
    r.exits(3);
    let r =
        env.run(&[&["status", "--region", "us-south", "-g", "production", "--output", "json"][..], &CLEAN].concat());
    let v = json_of(&r);
    let t = target(&v, "us-south", "production");
    assert_eq!(codes(t), ["key-expiring", "key-leak-action"], "{t}");
    assert_eq!(t["findings"][0]["severity"], "warning");
    assert_eq!(t["findings"][1]["severity"], "info");
    assert_eq!(t["findings"].as_array().unwrap().len(), 2, "{t}");
    let detail = t["findings"][0]["detail"].as_str().unwrap();
    assert!(detail.contains(&expires[..10]) && detail.contains("in 10 days"), "{detail}");
    assert_eq!(t["key"]["expires"], expires.as_str());
    assert_eq!(t["key"]["expiresInDays"], 10);
    assert_eq!(t["key"]["actionWhenLeaked"], "delete", "any case, given as IAM names it");
    assert_eq!(t["key"]["expiryUnknownReason"], Value::Null);
    assert!(t.get("unchecked").is_none(), "everything was read: {t}");
    // The fix of each is the reset, printed as it runs; for the leak action, the leak response.
    let actions: Vec<&str> = t["findings"].as_array().unwrap().iter().map(|f| f["action"].as_str().unwrap()).collect();
    assert!(actions[0].contains("'cluster-api-key reset --region us-south -g production'"), "{actions:?}");
    assert!(actions[1].contains("'cluster-api-key reset --region us-south -g production --leaked'"), "{actions:?}");
    // `info` of the target says it where it names the key.
    let r = env.run(&["info", "--region", "us-south", "-g", "production"]);
    r.success().stdout_has(&format!("Key ID: {PROD_KEY} (expires {}, in 10 days)", &expires[..10]));
    let r = env.run(&["info", "--region", "us-south", "-g", "production", "--output", "json"]);
    let v = json_of(&r);
    assert_eq!(
        (&v["keyExpires"], &v["keyExpiresInDays"], &v["keyExpired"]),
        (&json!(expires), &json!(10), &json!(false))
    );
    // Only info left (a leak action alone): --fail-on warning passes, --fail-on info... is no
    // severity; the default fails on warnings only.
    let env = env_with(&[(PROD_KEY, None, Some(json!("disable")))]);
    let r =
        env.run(&[&["status", "--region", "us-south", "-g", "production", "--output", "json"][..], &CLEAN].concat());
    r.exits(0);
    let v = json_of(&r);
    assert_eq!(codes(target(&v, "us-south", "production")), ["key-leak-action"]);
    assert!(target(&v, "us-south", "production")["findings"][0]["detail"].as_str().unwrap().contains("IAM disables"));
}

#[test]
fn an_expired_key_is_critical_and_names_nhc009() {
    let expired = rfc3339(in_days(-3));
    let far = rfc3339(in_days(400));
    let env = env_with(&[
        (JP_KEY, Some(json!(expired)), Some(json!("none"))),
        (PROD_KEY, Some(json!(far)), None),
        ("ApiKey-5555-eu-staging-orphan", Some(json!(expired)), Some(json!("delete"))),
    ]);
    let r = env.run(&["status", "--output", "json"]);
    r.exits(3);
    let v = json_of(&r);
    let t = target(&v, "jp-tok", "staging");
    assert_eq!(codes(t)[0], "key-expired", "{t}");
    assert_eq!(t["findings"][0]["severity"], "critical");
    let detail = t["findings"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("NHC009") && detail.contains(&expired[..10]) && detail.contains("3 days ago"), "{detail}");
    assert_eq!((&t["key"]["expiresInDays"], &t["key"]["expired"]), (&json!(-3), &json!(true)));
    assert_eq!(t["key"]["actionWhenLeaked"], "none");
    assert!(!codes(t).contains(&"key-leak-action"));
    // A key that expires in more than 30 days: its date, no finding.
    let p = target(&v, "us-south", "production");
    assert_eq!(p["key"]["expires"], far.as_str());
    assert!(!codes(p).iter().any(|c| c.starts_with("key-expir")), "{p}");
    // A key no cluster uses breaks nothing when it expires or leaks: orphan-key covers it.
    let o = target(&v, "eu-de", "staging");
    assert!(codes(o).is_empty() && o["key"]["expired"] == true, "{o}");
    let r = env.run(&["status", "--region", "jp-tok", "-g", "staging"]);
    crate::assert_output!(env, "keylife-expired", stable(&r, &[(&expired, "[3-DAYS-AGO]")]));
    // CSV: the columns appended at the end.
    let r = env.run(&["status", "--region", "jp-tok", "-g", "staging", "--output", "csv"]);
    let mut lines = r.stdout.lines();
    let header = lines.next().unwrap();
    assert!(
        header.ends_with(
            ",keyExpires,keyExpiresInDays,keyActionWhenLeaked,clustersReportingCredentialFailures,clustersUnread,controls"
        ),
        "{header}"
    );
    assert!(header.starts_with("region,resourceGroup,resourceGroupId,clusters,"), "{header}");
    let row = lines.next().unwrap();
    assert!(row.ends_with(&format!(",{expired},-3,none,,,CIS-1.3")), "a negative number is no formula: {row}");
}

#[test]
fn an_expiry_or_leak_action_that_cannot_be_read_is_unchecked_never_fine() {
    // Hostile text (a direction override, an escape, a line break) far longer than a note, and
    // an action IAM does not document.
    let hostile = format!("2026-13-45\u{202e}\u{1b}[31mRED\nforged line {}", "x".repeat(5000));
    let env = env_with(&[(PROD_KEY, Some(json!(hostile)), Some(json!("explode\u{202e}")))]);
    let r = env.run(&["status", "--region", "us-south", "-g", "production", "--output", "json"]);
    let v = json_of(&r);
    let t = target(&v, "us-south", "production");
    assert!(!codes(t).iter().any(|c| c.starts_with("key-")), "nothing made up: {t}");
    assert_eq!(t["key"]["expires"], Value::Null);
    assert_eq!(t["key"]["actionWhenLeaked"], Value::Null);
    let why = t["key"]["expiryUnknownReason"].as_str().unwrap();
    assert!(why.contains(r"\u{202e}") && why.contains(r"\u{001b}") && why.contains("..."), "{why}");
    assert!(why.len() < 200, "cut short: {why}");
    assert!(!why.contains('\u{202e}') && !why.contains('\n'));
    let unchecked = t["unchecked"].as_array().unwrap();
    assert_eq!(unchecked[0]["findings"], json!(["key-expiring", "key-expired"]), "{t}");
    assert_eq!(unchecked[1]["findings"], json!(["key-leak-action"]), "{t}");
    assert!(unchecked[1]["reason"].as_str().unwrap().contains(r"'explode\u{202e}'"), "{t}");
    assert!(
        v["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("key-expiring and key-expired were not checked"))
    );
    let r = env.run(&["status", "--region", "us-south", "-g", "production"]);
    crate::assert_run!(env, "keylife-unreadable", r);
    assert!(!r.stdout.contains('\u{202e}') && !r.stderr.contains('\u{202e}') && !r.stderr.contains('\u{1b}'));

    // Wrong JSON types never fail the key list: each is unknown with what it was.
    let env = env_with(&[
        (PROD_KEY, Some(json!({"at": 1})), Some(json!(7))),
        (JP_KEY, Some(json!(1_767_225_600)), Some(json!(null))),
    ]);
    let r = env.run(&["status", "--output", "json"]);
    let v = json_of(&r);
    let p = target(&v, "us-south", "production");
    assert_eq!(p["key"]["expiryUnknownReason"], "its expiry is an object, not a time");
    assert_eq!(p["key"]["actionWhenLeakedUnknownReason"], "its action when leaked is a number, not a name");
    let j = target(&v, "jp-tok", "staging");
    assert_eq!(j["key"]["expiryUnknownReason"], "its expiry is a number, not a time");
    assert!(j["key"]["actionWhenLeakedUnknownReason"].as_str().unwrap().contains("did not say"), "{j}");
    // Absent, null or empty is no expiry.
    let env =
        env_with(&[(PROD_KEY, Some(json!("")), Some(json!("NONE"))), (JP_KEY, Some(Value::Null), Some(json!("none")))]);
    let v = json_of(&env.run(&["status", "--output", "json"]));
    for (r, g) in [("us-south", "production"), ("jp-tok", "staging")] {
        let t = target(&v, r, g);
        assert_eq!((&t["key"]["expires"], &t["key"]["expiryUnknownReason"]), (&Value::Null, &Value::Null), "{t}");
        assert_eq!(t["key"]["actionWhenLeaked"], "none");
        let unchecked = t.get("unchecked").and_then(Value::as_array).cloned().unwrap_or_default();
        assert!(!unchecked.iter().any(|u| u["findings"].to_string().contains("\"key-")), "{t}");
    }
}

#[test]
fn the_policy_file_accepts_the_new_findings() {
    let env = env_with(&[(PROD_KEY, Some(json!(rfc3339(in_days(5)))), None)]);
    std::fs::create_dir_all(env.config_dir()).unwrap();
    let p = env.config_dir().join("keylife-policy.toml");
    std::fs::write(
        &p,
        "[[accept]]\nfinding = \"key-expiring\"\ntarget = \"us-south/production\"\nreason = \"rotated on schedule\"\nuntil = 2099-01-01\n",
    )
    .unwrap();
    let p = p.to_string_lossy().into_owned();
    let r = env.run(
        &[&["status", "--region", "us-south", "-g", "production", "--policy", &p, "--output", "json"][..], &CLEAN]
            .concat(),
    );
    r.exits(0);
    let v = json_of(&r);
    let f = &target(&v, "us-south", "production")["findings"][0];
    assert_eq!(target(&v, "us-south", "production")["findings"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!((f["code"].as_str(), f["accepted"].as_bool()), (Some("key-expiring"), Some(true)), "{v}");
}

#[test]
fn a_new_key_that_iam_has_not_replicated_is_waited_out_and_verified() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env.handle().set_knobs(|k| k.new_key_not_found_secs = 2);
    let mut cmd = env.command(&["reset", "--region", "us-south", "-f", "--output", "json"]);
    cmd.env("CLUSTER_API_KEY_VERIFY_TIMEOUT_SECS", "20");
    let out = cmd.output().unwrap();
    let r = Run::from(&out);
    env.assert_no_secrets(&r);
    r.exits(0);
    let v = json_of(&r);
    assert_eq!(v["verified"], true, "{r:?}");
    assert_eq!(v["verification"], "the clusters report the new owner");
    assert!(env.handle().stat("GET /v1/logging/{id}/clusterkeyowner") >= 2, "it looked again after the E06f9");
    assert!(!r.stderr.contains("E06f9"), "a wait is no failure: {r:?}");
}

#[test]
fn a_new_key_still_not_replicated_when_the_wait_ends_is_unknown_not_failed() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env.handle().set_knobs(|k| k.new_key_not_found_secs = 3600);
    // The tests' verification timeout is 2 s: the wait ends with IAM still answering E06f9.
    let r = env.run(&["reset", "--region", "us-south", "-f"]);
    crate::assert_run!(env, "keylife-reset-not-replicated", r);
    r.exits(0);
    let r = env.run(&["reset", "--region", "us-south", "-f", "--output", "json"]);
    r.exits(0);
    let v = json_of(&r);
    assert_eq!(v["verified"], Value::Null, "neither verified nor failed: {v}");
    assert!(v["verification"].as_str().unwrap().starts_with("unknown: IAM had not replicated the new key"), "{v}");
    assert!(v["newKeyId"].is_string());
}
