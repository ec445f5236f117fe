//! `status` end to end on the default world: every finding type, exit codes, filters checked
//! before any request, one target failing without hiding the others, pagination beyond 100 keys,
//! the rate-limit knob, CSV. Every run is checked for leaked secrets (`TestEnv::run`).

use cluster_api_key_emulator::world::{self, keys};
use cluster_api_key_emulator::{Fault, FaultKind, World};
use serde_json::Value;

use crate::common::TestEnv;

fn logged_in(key: &str) -> TestEnv {
    let env = TestEnv::new();
    env.login(key, Some("us-south"));
    env
}

/// `status --output json ARGS`: the exit code and the one JSON document.
pub(crate) fn json(env: &TestEnv, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["status", "--output", "json"];
    all.extend_from_slice(args);
    let r = env.run(&all);
    let v = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("one JSON document ({e}): {r:?}"));
    (r.code, v)
}

/// `status` with `args` in JSON: the whole output reviewed as the snapshot `name`, and the
/// document.
fn json_snap(env: &TestEnv, name: &str, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["status", "--output", "json"];
    all.extend_from_slice(args);
    let r = env.run(&all);
    crate::assert_run!(env, name, r);
    (r.code, serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("one JSON document ({e}): {r:?}")))
}

pub fn target<'a>(v: &'a Value, region: &str, group: &str) -> &'a Value {
    v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["region"] == region && t["resourceGroupName"] == group)
        .unwrap_or_else(|| panic!("no target {region}/{group} in {v}"))
}

fn codes(t: &Value) -> Vec<&str> {
    t["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect()
}

#[test]
fn the_default_world_shows_every_target_and_what_is_wrong() {
    let env = logged_in(keys::FUNCTIONAL);
    let (code, v) = json(&env, &[]);
    assert_eq!(code, 3, "findings at warning or above: {v}");
    let names: Vec<String> = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| format!("{}/{}", t["region"].as_str().unwrap(), t["resourceGroupName"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            "eu-de/Default",
            "eu-de/staging",
            "jp-tok/Default",
            "jp-tok/staging",
            "us-south/Default",
            "us-south/production"
        ],
        "sorted by region then group; only targets with clusters or a key"
    );
    assert_eq!(v["account"], world::ACCOUNT_ID);
    assert_eq!(v["caller"]["iamId"], world::FUNCTIONAL);

    let dave = target(&v, "us-south", "Default");
    assert_eq!(dave["owner"]["name"], "Dave Departed");
    assert_eq!(dave["owner"]["iamId"], world::DEPARTED);
    assert_eq!(dave["owner"]["kind"], "user");
    assert_eq!(dave["owner"]["state"], serde_json::json!({"kind": "member", "state": "IAMID_INVALID"}));
    assert_eq!(dave["key"]["id"], "ApiKey-1111-us-default-cur");
    assert_eq!(dave["supersededKeys"][0]["id"], "ApiKey-1111-us-default-old");
    assert_eq!(dave["clusters"].as_array().unwrap().len(), 2);
    assert_eq!(
        codes(dave),
        [
            "owner-inactive",
            "classic-credentials-owner-gone",
            "personal-owner",
            "key-too-old",
            "classic-credentials-set",
            // The functional ID may not read Dave's policies: unknown, not "lacks nothing".
            "owner-roles-unknown",
            "superseded-keys"
        ]
    );
    let f = &dave["findings"][0];
    assert_eq!(f["severity"], "critical");
    assert!(f["action"].as_str().unwrap().contains("'cluster-api-key reset --region us-south -g Default'"), "{f}");

    let rita = target(&v, "jp-tok", "Default");
    assert_eq!(codes(rita), ["no-key"], "her key was deleted with her");
    assert!(rita["key"].is_null() && rita["owner"].is_null());

    let locked = target(&v, "eu-de", "Default");
    assert_eq!(
        codes(locked),
        [
            "personal-owner",
            "key-too-old",
            "key-locked",
            "owner-roles-unknown",
            "owner-is-account-owner",
            "owner-near-key-limit",
            "superseded-keys"
        ]
    );
    assert_eq!(locked["key"]["locked"], true);

    let orphan = target(&v, "eu-de", "staging");
    assert_eq!(
        codes(orphan),
        ["personal-owner", "key-too-old", "owner-is-account-owner", "owner-near-key-limit", "orphan-key"]
    );
    assert_eq!(orphan["clusters"].as_array().unwrap().len(), 0);
    assert_eq!(orphan["owner"]["name"], "Olivia Owner", "the name from User Management when no cluster reports it");

    // A functional ID that is named is not a personal owner; a young key is not too old.
    let (code, v) = json(
        &env,
        &["--region", "us-south", "-g", "production", "--functional-id", world::FUNCTIONAL, "--max-age", "10000d"],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["summary"], serde_json::json!({"targets": 1, "critical": 0, "warnings": 0, "info": 0, "accepted": 0}));
}

#[test]
fn fail_on_decides_the_exit_code() {
    let env = logged_in(keys::FUNCTIONAL);
    let only_warnings = ["--region", "us-south", "-g", "production"];
    assert_eq!(json(&env, &only_warnings).0, 3);
    assert_eq!(json(&env, &[&only_warnings[..], &["--fail-on", "critical"]].concat()).0, 0);
    assert_eq!(json(&env, &["--fail-on", "critical"]).0, 3, "critical findings exist elsewhere");
    assert_eq!(json(&env, &["--fail-on", "never"]).0, 0);
    crate::assert_run!(env, "status-fail-on-unknown-value", env.run(&["status", "--fail-on", "sometimes"]));
}

#[test]
fn an_owner_removed_from_the_account_a_disabled_key_and_a_hidden_owner() {
    let env = logged_in(keys::FUNCTIONAL);
    {
        let mut w = env.handle().world();
        w.identities.iter_mut().find(|i| i.iam_id == world::DEPARTED).unwrap().member = false;
        w.api_keys.iter_mut().find(|k| k.id == "ApiKey-2222-us-prod-cur").unwrap().disabled = true;
    }
    let (_, v) = json(&env, &[]);
    let dave = target(&v, "us-south", "Default");
    assert_eq!(codes(dave)[0], "owner-not-in-account");
    assert_eq!(dave["owner"]["state"]["kind"], "notInAccount");
    assert!(codes(target(&v, "us-south", "production")).contains(&"key-disabled"));

    // Vera may not see other users, nor other users' keys: unknown, never "removed".
    let env = logged_in(keys::VIEWER);
    // owner-unknown, never owner-not-in-account; the note says only her own keys were listed.
    let (code, v) = json_snap(&env, "status-viewer-owner-hidden-json", &["--region", "us-south"]);
    assert_eq!(code, 3);
    let dave = target(&v, "us-south", "Default");
    assert_eq!(dave["owner"]["state"]["kind"], "unknown", "{dave}");
}

#[test]
fn bad_regions_and_groups_are_usage_errors_naming_the_valid_ones() {
    let env = logged_in(keys::FUNCTIONAL);
    // Every valid region, sorted.
    crate::assert_run!(env, "status-unknown-region-did-you-mean", env.run(&["status", "--region", "us-sooth"]));
    assert_eq!(env.handle().stats().values().sum::<u64>(), 0, "checked before any request");
    crate::assert_run!(env, "status-unknown-group-in-a-list", env.run(&["status", "-g", "Default,nope"]));
    assert_eq!(env.handle().stat("GET /v2/resource_groups"), 1);
    assert_eq!(env.handle().stat("GET /v1/apikeys"), 0, "nothing else was read");
    assert_eq!(env.handle().stat("GET /v2/vpc/getClusters"), 0, "nothing else was read");
}

#[test]
fn one_failing_target_does_not_hide_the_others() {
    let env = logged_in(keys::FUNCTIONAL);
    env.handle().set_knobs(|k| {
        k.faults.push(Fault::on("GET", "clusterkeyowner", FaultKind::Status { status: 500 }).region("eu-de"));
    });
    let (code, v) = json(&env, &[]);
    assert_eq!(code, 3);
    assert_eq!(v["targets"].as_array().unwrap().len(), 6);
    let eu = target(&v, "eu-de", "Default");
    // The owner comes from the key list, and the failed lookup is said, with IBM's code.
    assert_eq!(eu["owner"]["iamId"], world::OWNER, "{eu}");
    let unknown = eu["findings"].as_array().unwrap().iter().find(|f| f["code"] == "owner-unknown").expect("a warning");
    assert!(unknown["detail"].as_str().unwrap().contains("(E0000)"), "{unknown}");
    assert_eq!(target(&v, "us-south", "Default")["owner"]["name"], "Dave Departed", "the others are intact");
}

#[test]
fn more_than_a_hundred_keys_are_all_read() {
    let env = logged_in(keys::FUNCTIONAL);
    {
        let mut w = env.handle().world();
        for i in 0..150 {
            let mut k = w.api_keys.iter().find(|k| k.id == "ApiKey-5555-eu-staging-orphan").unwrap().clone();
            k.id = format!("ApiKey-bulk-{i:04}");
            k.apikey = format!("emulator-bulk-value-{i:04}-xxxxxxxxxxxxxxxx");
            k.created_at = format!("2022-01-01T00:{:02}:{:02}Z", i / 60, i % 60);
            w.api_keys.push(k);
        }
    }
    let (_, v) = json(&env, &["--region", "eu-de", "-g", "staging"]);
    let t = target(&v, "eu-de", "staging");
    assert_eq!(t["supersededKeys"].as_array().unwrap().len(), 150, "every page was read");
    assert_eq!(t["key"]["id"], "ApiKey-5555-eu-staging-orphan", "the newest is current");
    assert!(env.handle().stat("GET /v1/apikeys") >= 2);
}

#[test]
fn a_large_account_stays_under_the_rate_limit() {
    // 13 regions x 30 groups: more than 180 owner lookups, so the shared limiter has to hold
    // some back; the emulator enforces IBM's 200 requests per 10 s.
    let env = TestEnv::with_world(World::scaled(13, 30, 3));
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env.handle().set_knobs(|k| k.rate_limit = true);
    let (code, v) = json(&env, &["--fail-on", "never"]);
    assert_eq!(code, 0);
    assert_eq!(env.handle().stat("rate_limited"), 0, "no 429: {:?}", env.handle().stats());
    let with_clusters =
        v["targets"].as_array().unwrap().iter().filter(|t| !t["clusters"].as_array().unwrap().is_empty()).count();
    assert!(with_clusters > 180, "{with_clusters}");
    assert_eq!(
        usize::try_from(env.handle().stat("GET /v1/logging/{id}/clusterkeyowner")).unwrap(),
        with_clusters,
        "one owner lookup per target with clusters"
    );
    let owners = env.handle().stat("GET /v2/accounts/{id}/users/{id}");
    assert!(owners <= 3, "one user lookup per distinct owner: {owners}");
}

#[test]
fn text_and_csv() {
    let env = logged_in(keys::FUNCTIONAL);
    // Text mode says OK, on a line of its own on stdout; CSV mode below must not.
    crate::assert_run!(env, "status-default-world", env.run(&["status"]));
    // Nothing but the CSV document: no OK line, and nothing on stderr (no progress either).
    crate::assert_run!(env, "status-default-world-csv", env.run(&["status", "--output", "csv"]));
    // CSV was asked: no JSON error document on stdout.
    crate::assert_run!(env, "info-csv-refused", env.run(&["info", "-c", "shop-vpc", "--output", "csv"]));
}

#[test]
fn info_answers_for_a_region_and_group_without_a_cluster() {
    let env = logged_in(keys::FUNCTIONAL);
    let r = env.run(&["info", "--region", "us-south", "--output", "json"]);
    r.exits(0);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["name"], "Dave Departed");
    assert_eq!(v["iamId"], world::DEPARTED);
    assert_eq!(v["keyId"], "ApiKey-1111-us-default-cur");
    assert_eq!(v["resourceGroupName"], "Default", "the default group when none is targeted");
    // No cluster there: the key says who.
    crate::assert_run!(env, "info-target-without-clusters", env.run(&["info", "--region", "eu-de", "-g", "staging"]));
    // Clusters but no key: said, with the fix.
    crate::assert_run!(env, "info-target-without-a-key", env.run(&["info", "--region", "jp-tok", "-g", "Default"]));
    // Either --cluster or --region.
    crate::assert_run!(env, "info-without-a-cluster-or-region", env.run(&["info"]));
}

#[test]
fn the_text_report_is_reviewed_as_a_snapshot() {
    let env = logged_in(keys::FUNCTIONAL);
    crate::assert_run!(env, "status-default-world", env.run(&["status"]));
}

#[test]
fn an_owner_without_the_roles_the_clusters_need_is_critical_when_it_can_be_read() {
    // The account owner reads every policy: Dave Departed has none.
    let env = logged_in(keys::OWNER);
    // What Dave lacks, and the grant for his IAM ID; nothing for the functional ID, who has them.
    let (_, v) = json_snap(&env, "status-owner-lacks-roles-json", &["--region", "us-south"]);
    let dave = target(&v, "us-south", "Default");
    let lacks =
        dave["findings"].as_array().unwrap().iter().find(|f| f["code"] == "owner-lacks-roles").expect("a finding");
    assert_eq!(lacks["severity"], "critical");
    // The functional ID cannot read Dave's policies: not a false finding, and not silence
    // either: the roles are unknown (issue #33).
    let env = logged_in(keys::FUNCTIONAL);
    let (_, v) = json(&env, &["--region", "us-south"]);
    assert_eq!(
        codes(target(&v, "us-south", "Default")),
        [
            "owner-inactive",
            "classic-credentials-owner-gone",
            "personal-owner",
            "key-too-old",
            "classic-credentials-set",
            "owner-roles-unknown",
            "superseded-keys"
        ]
    );
}
