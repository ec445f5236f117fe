//! Issue #19: destructive commands never surprise. Each test drives the real binary against
//! the emulator in the situation that once made it do what the user did not ask for (ties,
//! keys dated in the future, keys still in use, gateways, echoing error pages, hostile names),
//! and each failed on the code before the fix.

use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use cluster_api_key_core::env as var;
use cluster_api_key_emulator::world::{self, keys};
use cluster_api_key_emulator::{Fault, FaultKind};
use serde_json::Value;

use crate::common::{TestEnv, fault, read};

const OLD: &str = "ApiKey-1111-us-default-old";
const CUR: &str = "ApiKey-1111-us-default-cur";

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

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

fn set_key(env: &TestEnv, id: &str, f: impl FnOnce(&mut world::ApiKey)) {
    let mut w = env.handle().world();
    f(w.api_keys.iter_mut().find(|k| k.id == id).unwrap());
}

fn key_ids(env: &TestEnv) -> Vec<String> {
    env.cluster_keys().into_iter().map(|k| k.id).collect()
}

fn candidate<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["keys"].as_array().unwrap().iter().find(|k| k["keyId"] == id).unwrap_or_else(|| panic!("{id} in {v}"))
}

/// Today's prune of `us-south / Default` deletes the old key: the control for the tests below,
/// which show the same command leaving keys alone only because of what they change.
#[test]
fn control_the_old_key_is_pruned_when_nothing_is_in_doubt() {
    let env = functional();
    let (code, v) = json(&env, &["prune", "-f", "-r", "us-south", "-g", "Default"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(candidate(&v, OLD)["outcome"], "deleted");
    assert!(!key_ids(&env).contains(&OLD.to_owned()) && key_ids(&env).contains(&CUR.to_owned()));
    // The text of a run that did all it was asked: OK, which the runs below must not print.
    let r = env.run(&["prune", "-f", "--include-orphans", "-r", "eu-de", "-g", "staging"]);
    crate::assert_run!(env, "safety-prune-orphan-done", r);
}

#[test]
fn keys_created_at_the_same_time_are_never_pruned() {
    let env = functional();
    set_key(&env, OLD, |k| {
        k.iam_id = world::DEPARTED.into();
        k.created_at = "2025-01-15T09:00:00Z".into();
    });
    let (code, v) = json(&env, &["prune", "-f", "-r", "us-south", "-g", "Default"]);
    assert_eq!(code, 4, "keys left for the user: {v}");
    let ids = key_ids(&env);
    assert!(ids.contains(&CUR.to_owned()) && ids.contains(&OLD.to_owned()), "both kept: {ids:?}");
    // Whichever of the two is taken for the current one, the other is not removed.
    let keys = v["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{v}");
    assert_eq!(keys[0]["skipKind"], "unsure");
    assert_eq!(keys[0]["skip"], "cannot tell which key the clusters use: keys were created at the same time", "{v}");
    // The text says why, and names the command that shows the target.
    crate::assert_run!(
        env,
        "safety-prune-same-time-kept",
        env.run(&["prune", "-f", "-r", "us-south", "-g", "Default"])
    );
    // status shows the doubt too.
    let (_, s) = json(&env, &["status", "-r", "us-south", "-g", "Default"]);
    let unsure = &s["targets"][0]["keyInUseUnknown"];
    assert_eq!(unsure["keys"].as_array().unwrap().len(), 2, "{s}");
}

#[test]
fn a_key_dated_in_the_future_is_never_pruned_nor_taken_for_the_current_one() {
    let env = functional();
    set_key(&env, OLD, |k| {
        k.iam_id = world::DEPARTED.into();
        k.created_at = "2031-03-01T09:00:00Z".into();
    });
    let (code, v) = json(&env, &["prune", "-f", "-r", "us-south", "-g", "Default"]);
    assert_eq!(code, 4, "{v}");
    let ids = key_ids(&env);
    assert!(ids.contains(&CUR.to_owned()) && ids.contains(&OLD.to_owned()), "both kept: {ids:?}");
    let c = candidate(&v, OLD);
    assert!(c["skip"].as_str().unwrap().contains("dated in the future"), "{c}");
    assert!(v["keys"].as_array().unwrap().iter().all(|k| k["outcome"] != "deleted"), "{v}");
}

#[test]
fn a_key_newer_than_the_one_in_use_is_kept_a_reset_may_be_replicating() {
    let env = functional();
    // The functional ID's key is newer than Dave's, but the clusters still report Dave.
    {
        let mut w = env.handle().world();
        let mut k = w.api_keys.iter().find(|k| k.id == CUR).unwrap().clone();
        k.id = "ApiKey-1111-us-default-new".into();
        k.iam_id = world::FUNCTIONAL.into();
        k.apikey = "emulator-ck-value-new-us-default-xxxxxxxxxxx".into();
        k.created_at = rfc3339(SystemTime::now() - Duration::from_secs(60));
        w.api_keys.push(k);
    }
    let (code, v) = json(&env, &["prune", "-f", "-r", "us-south", "-g", "Default"]);
    assert_eq!(code, 4, "{v}");
    assert!(key_ids(&env).contains(&"ApiKey-1111-us-default-new".to_owned()));
    assert!(key_ids(&env).contains(&CUR.to_owned()), "the key the clusters report survives");
    assert!(candidate(&v, "ApiKey-1111-us-default-new")["skip"].as_str().unwrap().contains("replicating"));
}

#[test]
fn a_superseded_key_that_logged_in_after_the_reset_is_kept_unless_forced() {
    let env = functional();
    // Superseded on 2025-01-15 (Dave's reset), and used yesterday: something still holds it.
    let used = rfc3339(SystemTime::now() - Duration::from_secs(86_400));
    set_key(&env, OLD, |k| {
        k.last_authn = Some(used.clone());
        k.authn_count = 7;
    });
    let (code, v) = json(&env, &["prune", "-f", "-r", "us-south", "-g", "Default"]);
    assert_eq!(code, 4, "{v}");
    let c = candidate(&v, OLD);
    assert_eq!((c["skipKind"].as_str(), c["lastUsed"].as_str()), (Some("inUse"), Some(used.as_str())), "{c}");
    assert!(key_ids(&env).contains(&OLD.to_owned()));
    crate::assert_run!(env, "safety-prune-in-use-kept", env.run(&["prune", "-f", "-r", "us-south", "-g", "Default"]));
    // Forced: removed, and the evidence is in the report.
    let (code, v) = json(&env, &["prune", "-f", "-r", "us-south", "-g", "Default", "--force-in-use"]);
    assert_eq!(code, 0, "{v}");
    let c = candidate(&v, OLD);
    assert_eq!(c["outcome"], "deleted");
    assert!(c["evidence"].as_str().unwrap().contains("--force-in-use"), "{c}");
    assert!(!key_ids(&env).contains(&OLD.to_owned()));
}

#[test]
fn activity_before_the_reset_or_none_reported_is_said_as_it_is() {
    let env = functional();
    set_key(&env, OLD, |k| k.last_authn = Some("2024-12-01T10:00:00Z".into()));
    let (code, v) = json(&env, &["prune", "--dry-run", "-r", "us-south", "-g", "Default"]);
    assert_eq!(code, 0);
    let c = candidate(&v, OLD);
    assert_eq!(c["action"], "delete");
    assert!(c["evidence"].as_str().unwrap().contains("before it was superseded"), "{c}");
    // An account without activity reporting: the evidence is missing, and the plan says so.
    env.handle().world().no_activity_reporting = true;
    let (_, v) = json(&env, &["prune", "--dry-run", "-r", "us-south", "-g", "Default"]);
    let c = candidate(&v, OLD);
    assert!(c["evidence"].as_str().unwrap().contains("no evidence either way"), "{c}");
    assert!(c["lastUsed"].is_null());
}

#[test]
fn disable_only_says_disabled_not_removed() {
    let env = functional();
    crate::assert_run!(env, "safety-prune-disable-only", env.run(&["prune", "-f", "--disable-only"]));
    let dry = env.run(&["prune", "--dry-run"]);
    dry.success();
    assert_eq!(crate::common::audited(&env, "disable", None), 2);
}

fn post_keys(kind: FaultKind, times: Option<u32>) -> Fault {
    fault("POST", "/v1/keys", kind, times)
}

fn audit_lines(env: &TestEnv) -> Vec<Value> {
    read(&env.plugin_dir().join("audit.jsonl")).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn minted(env: &TestEnv, before: &[world::ApiKey]) -> Vec<world::ApiKey> {
    env.cluster_keys().into_iter().filter(|k| !before.iter().any(|b| b.id == k.id)).collect()
}

#[test]
fn a_gateway_401_on_the_post_is_looked_into_never_posted_again() {
    // The gateway answers 401 (an HTML page, or JSON with nothing of IBM's in it) while the
    // backend mints the key: one key, found and reported, one POST.
    for html in [true, false] {
        let mut env = functional();
        env.extra_env.insert(var::CAK_RESET_GRACE_SECS.into(), "3".into());
        let before = env.cluster_keys();
        env.handle().set_knobs(|k| {
            k.faults.push(post_keys(FaultKind::Gateway { status: 401, html, backend_delay_ms: 200 }, Some(1)));
        });
        let (code, v) = json(&env, &["reset", "-r", "us-south", "-g", "Default", "-f"]);
        let new = minted(&env, &before);
        assert_eq!(new.len(), 1, "html={html}: exactly one key minted: {v}");
        assert_eq!(env.handle().stat("POST /v1/keys"), 1, "html={html}: one POST");
        assert_eq!(code, 0, "{v}");
        assert_eq!(v["newKeyId"], new[0].id.as_str(), "{v}");
        assert_eq!(audit_lines(&env).last().unwrap()["keyIds"][0], new[0].id.as_str());
    }
    // The same 401 with no key minted behind it: unknown (exit 5), still one POST.
    let mut env = functional();
    env.extra_env.insert(var::CAK_RESET_GRACE_SECS.into(), "1".into());
    env.handle().set_knobs(|k| {
        k.faults.push(post_keys(FaultKind::Body { status: 401, body: String::from("{}") }, Some(1)));
    });
    crate::assert_run!(env, "safety-gateway-401-unknown", env.run(&["reset", "-r", "us-south", "-g", "Default", "-f"]));
    assert_eq!(env.handle().stat("POST /v1/keys"), 1);
}

#[test]
fn ibm_own_401_on_the_post_refreshes_and_tries_once_more() {
    // The control: IBM's own refusal (its body, code and incident ID) allows the replay.
    let env = functional();
    let before = env.cluster_keys();
    env.handle().set_knobs(|k| k.faults.push(post_keys(FaultKind::Status { status: 401 }, Some(1))));
    env.run(&["reset", "-r", "us-south", "-g", "Default", "-f"]).success();
    assert_eq!(env.handle().stat("POST /v1/keys"), 2);
    assert_eq!(minted(&env, &before).len(), 1);
}

#[test]
fn a_429_on_the_post_is_waited_for_and_sent_again() {
    let env = functional();
    let before = env.cluster_keys();
    env.handle().set_knobs(|k| k.faults.push(post_keys(FaultKind::Status { status: 429 }, Some(2))));
    let (code, v) = json(&env, &["reset", "-r", "us-south", "-g", "Default", "-f"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(env.handle().stat("POST /v1/keys"), 3, "two refusals, then the reset");
    assert_eq!(minted(&env, &before).len(), 1);
    // DELETE too: prune meets the limit and waits.
    env.handle().set_knobs(|k| {
        k.faults.push(fault("DELETE", "/v1/apikeys/", FaultKind::Status { status: 429 }, Some(1)));
    });
    env.run(&["prune", "-f", "-r", "us-south", "-g", "Default"]).success();
}

#[test]
fn a_post_that_outlives_the_deadline_still_finds_and_audits_its_key() {
    let mut env = functional();
    env.extra_env.insert(var::CAK_DEADLINE_SECS.into(), "2".into());
    let before = env.cluster_keys();
    // Sent within the budget, answered after it.
    env.handle().set_knobs(|k| k.faults.push(post_keys(FaultKind::Delay { ms: 2500 }, Some(1))));
    let (_, v) = json(&env, &["reset", "-r", "us-south", "-g", "Default", "-f", "--no-verify"]);
    let new = minted(&env, &before);
    assert_eq!(new.len(), 1);
    assert_eq!(v["newKeyId"], new[0].id.as_str(), "{v}");
    let audit = audit_lines(&env);
    assert_eq!(audit.last().unwrap()["keyIds"][0], new[0].id.as_str(), "{audit:?}");

    // A batch: every target's POST answered after the budget; each key found and audited.
    let mut env = functional();
    env.extra_env.insert(var::CAK_DEADLINE_SECS.into(), "3".into());
    let before = env.cluster_keys();
    env.handle().set_knobs(|k| k.faults.push(post_keys(FaultKind::Delay { ms: 3500 }, None)));
    let (_, v) = json(&env, &["reset", "-r", "us-south,eu-de", "-g", "Default", "-f", "--no-verify"]);
    let new = minted(&env, &before);
    assert_eq!(new.len(), 2, "{v}");
    let reported: Vec<&str> = v["targets"].as_array().unwrap().iter().filter_map(|t| t["newKeyId"].as_str()).collect();
    assert_eq!(reported.len(), 2, "no newKeyId is null: {v}");
    let audited: Vec<String> =
        audit_lines(&env).iter().filter_map(|l| l["keyIds"][0].as_str().map(str::to_owned)).collect();
    for k in &new {
        assert!(reported.contains(&k.id.as_str()) && audited.contains(&k.id), "{} reported and audited: {v}", k.id);
    }
}

#[test]
fn names_cannot_become_formulas_or_forge_lines() {
    let env = functional();
    {
        let mut w = env.handle().world();
        let dave = w.identities.iter_mut().find(|i| i.iam_id == world::DEPARTED).unwrap();
        dave.name = String::from("=HYPERLINK(\"http://evil.example/\";\"Dave\")");
        dave.email = String::from("+dave@example.com");
        let g = w.resource_groups.iter_mut().find(|g| g.id == world::RG_PRODUCTION).unwrap();
        g.name = String::from("prod\nus-south   fake   0\tNobody");
    }
    let csv = env.run(&["status", "-o", "csv"]);
    // The owner's name and email were a formula and a sum; now they are text.
    crate::assert_run!(env, "safety-csv-formulas-are-text", csv);
    for line in csv.stdout.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        assert!(!cells.iter().any(|c| c.starts_with(['=', '+', '@'])), "{line}");
    }
    // The table keeps one row per target: the group's line break does not make a second one.
    let text = env.run(&["status"]);
    // The line break and the tab are shown escaped, not printed: the tab would shift every
    // column after it.
    crate::assert_run!(env, "safety-text-line-break-and-tab-escaped", text);
    assert!(!text.stdout.lines().any(|l| l.starts_with("us-south   fake")), "{}", text.stdout);
    assert!(!text.stdout.contains('\t'));
}

/// Every hostile cell at once, whole: a quote, a comma, a line break, and each character that
/// starts a formula (`=`, `+`, `-`, `@`, a tab). The CSV keeps one record per target, every
/// column in its place, and no cell a spreadsheet would run.
#[test]
fn csv_cells_are_quoted_and_never_formulas() {
    let env = functional();
    {
        let mut w = env.handle().world();
        let dave = w.identities.iter_mut().find(|i| i.iam_id == world::DEPARTED).unwrap();
        dave.name = String::from("-2+3, \"Dave\"");
        dave.email = String::from("@dave\tex");
        let g = w.resource_groups.iter_mut().find(|g| g.id == world::RG_PRODUCTION).unwrap();
        g.name = String::from("\tprod,\nus-south");
    }
    let r = env.run(&["status", "-o", "csv"]);
    // The emulated keys have fixed creation dates, so their age in days grows with the calendar.
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"(\d{4}-\d\d-\d\dT[^,]*Z),\d+,", "$1,[AGE],");
    settings.bind(|| crate::assert_run!(env, "status-csv-hostile-cells", r));
}

#[test]
fn an_error_page_that_echoes_the_headers_leaves_no_token_anywhere() {
    // Every command that writes meets a gateway that echoes the request, Authorization included.
    let cases: [(&str, &str, &[&str]); 4] = [
        ("POST", "/v1/keys", &["reset", "-r", "us-south", "-g", "Default", "-f"]),
        ("DELETE", "/v1/apikeys/", &["prune", "-f", "-r", "us-south", "-g", "Default"]),
        ("POST", "/disable", &["prune", "-f", "--disable-only", "-r", "us-south", "-g", "Default"]),
        (
            "POST",
            "/v1/policies",
            &["check", "--user", "vera.viewer@example.com", "-r", "us-south", "-g", "Default", "--grant", "-f"],
        ),
    ];
    for (method, path, args) in cases {
        let mut env = TestEnv::new();
        env.login(keys::OWNER, Some("us-south"));
        env.extra_env.insert(var::CAK_RESET_GRACE_SECS.into(), "1".into());
        env.handle().set_knobs(|k| {
            k.faults.push(fault(method, path, FaultKind::Echo { status: 502 }, None));
        });
        // `run` checks stdout, stderr and the trace for every secret, whole, and for `eyJ`.
        let r = env.run(args);
        assert_ne!(r.code, 0, "{args:?}: the fault was met: {r:?}");
        assert!(env.handle().stat("fault") > 0, "{args:?}");
        r.stderr_lacks("Bearer e");
        let audit = read(&env.plugin_dir().join("audit.jsonl"));
        assert!(!audit.is_empty(), "{args:?}: audited");
        for secret in env.secrets() {
            assert!(!audit.contains(&secret), "{args:?}: a secret in the audit log");
        }
        assert!(!audit.contains("eyJ") && !audit.contains("Bearer e"), "{args:?}: {audit}");
    }
}

fn owner() -> TestEnv {
    let mut env = TestEnv::new();
    env.login(keys::OWNER, Some("us-south"));
    env.extra_env.insert(var::CAK_RESET_GRACE_SECS.into(), "1".into());
    env
}

fn policies_of(env: &TestEnv, iam_id: &str) -> usize {
    env.handle().world().policies.iter().filter(|p| p.iam_id.as_deref() == Some(iam_id)).count()
}

#[test]
fn grant_goes_to_the_service_id_named_and_never_to_nobody() {
    let env = owner();
    let before = env.handle().world().policies.len();
    // A name that is no service ID: nothing is created, for nobody.
    let r = env.run(&["check", "--service-id", "no-such-robot", "-r", "us-south", "-g", "Default", "--grant", "-f"]);
    crate::assert_run!(env, "grant-no-such-service-id", r);
    assert_eq!(env.handle().world().policies.len(), before);
    assert_eq!(policies_of(&env, "iam-no-such-robot"), 0);
    // The real one, by name: its own IAM ID gets the policies.
    let had = policies_of(&env, world::SERVICE_ID);
    let (code, v) =
        json(&env, &["check", "--service-id", "ci-automation", "-r", "us-south", "-g", "Default", "--grant", "-f"]);
    assert_eq!(v["identity"]["iamId"], world::SERVICE_ID, "{v}");
    assert!(policies_of(&env, world::SERVICE_ID) > had, "{v}");
    assert_eq!(policies_of(&env, "iam-ci-automation"), 0);
    assert_eq!(
        v["targets"][0]["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == "iam-identity-operator")
            .unwrap()["state"],
        "met",
        "{v}"
    );
    assert!(code == 0 || code == 3, "{v}");
    // Two service IDs of that name: an error that lists them.
    {
        let mut w = env.handle().world();
        let mut twin = w.identities.iter().find(|i| i.iam_id == world::SERVICE_ID).unwrap().clone();
        twin.iam_id = "iam-ServiceId-5e7a1c00-0000-4000-8000-0000000000b2".into();
        w.identities.push(twin);
    }
    let r = env.run(&["check", "--service-id", "ci-automation", "--grant", "-f"]);
    crate::assert_run!(env, "grant-two-service-ids-of-that-name", r);
    // The snapshot's UUID filter makes the two IDs look alike: the twin's is checked exactly.
    r.stderr_has("ServiceId-5e7a1c00-0000-4000-8000-0000000000b2");
}

#[test]
fn grant_refuses_identities_that_cannot_own_the_key() {
    let env = owner();
    let before = env.handle().world().policies.len();
    for (args, name) in [
        (vec!["--iam-id", "IBMid-NOPE"], "grant-refused-no-such-user"),
        (vec!["--iam-id", world::REMOVED], "grant-refused-removed-user"),
        (vec!["--iam-id", world::PROFILE], "grant-refused-trusted-profile"),
        (
            vec!["--iam-id", "iam-ServiceId-00000000-0000-4000-8000-000000000000"],
            "grant-refused-no-such-service-iam-id",
        ),
        (vec!["--service-id", "ServiceId-00000000-0000-4000-8000-000000000000"], "grant-refused-no-such-service-id"),
    ] {
        let mut all = vec!["check", "-r", "us-south", "-g", "Default", "--grant", "-f"];
        all.extend_from_slice(&args);
        crate::assert_run!(env, name, env.run(&all));
    }
    assert_eq!(env.handle().world().policies.len(), before, "nothing created");
}

#[test]
fn a_policy_created_behind_a_gateway_504_is_reported_created() {
    let env = owner();
    env.handle().set_knobs(|k| {
        k.faults.push(fault(
            "POST",
            "/v1/policies",
            FaultKind::Gateway { status: 504, html: true, backend_delay_ms: 0 },
            None,
        ));
    });
    let had = policies_of(&env, world::VIEWER);
    let (code, v) =
        json(&env, &["check", "--user", "vera.viewer@example.com", "-r", "us-south", "-g", "Default", "--grant", "-f"]);
    // Gateway's backend runs in the background: give it the moment it needs, then compare.
    let created = v["grant"]["createdPolicyIds"].as_array().map(Vec::len).unwrap_or_default();
    assert!(created > 0, "reported as created, not failed: {v}");
    assert_eq!(policies_of(&env, world::VIEWER) - had, created, "{v}");
    assert!(code == 0 || code == 3, "{v}");
}

#[test]
fn every_page_of_policies_and_access_groups_is_read() {
    let env = owner();
    {
        let mut w = env.handle().world();
        // 150 policies of the functional ID on other services come before its real ones...
        let fillers: Vec<world::Policy> = (0..150)
            .map(|i| world::Policy {
                id: format!("policy-filler-{i:03}"),
                account_id: world::ACCOUNT_ID.into(),
                iam_id: Some(world::FUNCTIONAL.into()),
                service: Some(format!("cloud-object-storage-{i}")),
                roles: vec!["Viewer".into()],
                ..world::Policy::default()
            })
            .collect();
        w.policies.splice(0..0, fillers);
        // ...and Gina is in 120 access groups before the one that grants her the role.
        let groups: Vec<world::AccessGroup> = (0..120)
            .map(|i| world::AccessGroup {
                id: format!("AccessGroupId-filler-{i:03}"),
                name: format!("team-{i:03}"),
                account_id: world::ACCOUNT_ID.into(),
                members: vec![world::GROUP_MEMBER.into()],
            })
            .collect();
        w.access_groups.splice(0..0, groups);
    }
    let (_, v) = json(&env, &["check", "--iam-id", world::FUNCTIONAL, "-r", "us-south", "-g", "Default"]);
    let state = |v: &Value, code: &str| {
        v["targets"][0]["requirements"].as_array().unwrap().iter().find(|r| r["code"] == code).unwrap()["state"].clone()
    };
    assert_eq!(state(&v, "reset-administrator"), "met", "{v}");
    let (_, v) = json(&env, &["check", "--user", "gina.group@example.com", "-r", "us-south", "-g", "Default"]);
    assert_eq!(state(&v, "reset-administrator"), "met", "{v}");
    assert!(env.handle().stat("GET /v1/policies") >= 3, "more than one page was read");
}

#[test]
fn a_body_announced_too_large_is_refused_from_its_header() {
    let mut env = functional();
    // Without the header check, the stalled body below would be read until this deadline.
    env.extra_env.insert(var::CAK_DEADLINE_SECS.into(), "20".into());
    env.handle().set_knobs(|k| {
        k.faults.push(fault("GET", "clusterkeyowner", FaultKind::Announce { bytes: 1 << 30 }, None));
    });
    crate::assert_run!(env, "safety-body-announced-too-large", env.run(&["info", "--cluster", "shop-vpc"]));
}

/// Runs `args`, sends `signal` once `ready` says the moment has come, and returns the run.
pub(crate) fn interrupt_when(
    env: &TestEnv,
    args: &[&str],
    signal: &str,
    ready: impl Fn() -> bool,
) -> crate::common::Run {
    let child = env.command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "the moment to interrupt never came");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(std::process::Command::new("kill").arg(signal).arg(child.id().to_string()).status().unwrap().success());
    let r = crate::common::Run::from(&child.wait_with_output().unwrap());
    env.assert_no_secrets(&r);
    r
}

fn addons_env() -> TestEnv {
    let env = functional();
    env.handle().set_knobs(|k| {
        k.kube.replace_ms = 100;
        k.kube.ready_ms = 200;
        k.kube.secret_update_ms = 400;
    });
    env
}

#[test]
fn restart_addons_interrupted_reports_the_deleted_pods_and_how_to_finish() {
    for signal in ["-INT", "-TERM"] {
        let env = addons_env();
        // The replacements never become Ready: the command waits for them until stopped.
        env.handle().set_knobs(|k| k.kube.never_ready = vec!["payments".into()]);
        let r =
            interrupt_when(&env, &["restart-addons", "--cluster", "payments", "-f", "--wait", "5m"], signal, || {
                env.handle().stat("k8s public DELETE pods") > 0
            });
        assert_eq!(r.code, 1, "{signal}: the only cluster did not finish: {r:?}");
        r.stdout_has("interrupted").stdout_has("cluster-api-key restart-addons --cluster payments");
        r.stderr_has("Interrupted: 1 pod was deleted (ibm-vpc-block-csi-controller-");
        r.stdout_lacks("OK\n");
        assert_eq!(
            crate::common::audited(&env, "restart-addons", Some("interrupted")),
            1,
            "{signal}: the deletion is audited"
        );
    }
}

#[test]
fn reset_restart_addons_interrupted_while_the_secret_waits_is_unfinished_work() {
    let env = addons_env();
    env.handle().set_knobs(|k| k.kube.secret_update_ms = 3_600_000);
    let r = interrupt_when(
        &env,
        &["reset", "-r", "us-south", "-g", "production", "--restart-addons", "--wait", "5m", "-f"],
        "-INT",
        // Sent, and the secret read again after it (once before the reset, then while waiting).
        || {
            env.handle().stat("POST /global/v1/keys") + env.handle().stat("POST /v1/keys") > 0
                && env.handle().stat("k8s public GET secrets") >= 3
        },
    );
    // The reset happened; no pod was re-created: exit 4, and the command that finishes.
    assert_eq!(r.code, 4, "{r:?}");
    r.stdout_has("now belongs to").stdout_has("interrupted while waiting for the new key");
    r.stdout_has("restart-addons --cluster payments").stdout_lacks("OK\n");
    assert_eq!(env.handle().stat("k8s public DELETE pods"), 0);
}

fn lock_old(env: &TestEnv) {
    set_key(env, OLD, |k| k.locked = true);
}

#[test]
fn a_key_unlocked_for_a_delete_that_fails_is_locked_again_or_said_to_be_unlocked() {
    let env = functional();
    lock_old(&env);
    env.handle().set_knobs(|k| {
        // The unlock (DELETE .../lock) goes through; the key's DELETE fails.
        k.faults.push(fault("DELETE", "/lock", FaultKind::Delay { ms: 0 }, Some(1)));
        k.faults.push(fault("DELETE", OLD, FaultKind::Status { status: 500 }, None));
    });
    let (code, v) = json(&env, &["prune", "-f", "--unlock", "-r", "us-south", "-g", "Default"]);
    assert_eq!(code, 1, "{v}");
    let c = candidate(&v, OLD);
    assert_eq!((c["outcome"].as_str(), c["leftUnlocked"].as_bool()), (Some("failed"), Some(false)), "{c}");
    assert!(c["detail"].as_str().unwrap().contains("locked again"), "{c}");
    assert!(env.cluster_keys().iter().find(|k| k.id == OLD).unwrap().locked, "locked again");
    // Now locking it again fails too: the report says it is left unlocked, everywhere.
    env.handle().set_knobs(|k| {
        k.faults.clear();
        k.faults.push(fault("DELETE", "/lock", FaultKind::Delay { ms: 0 }, Some(1)));
        k.faults.push(fault("DELETE", OLD, FaultKind::Status { status: 500 }, None));
        k.faults.push(fault("POST", "/lock", FaultKind::Status { status: 500 }, None));
    });
    let r = env.run(&["prune", "-f", "--unlock", "-r", "us-south", "-g", "Default"]);
    crate::assert_run!(env, "safety-prune-key-left-unlocked", r);
    assert!(!env.cluster_keys().iter().find(|k| k.id == OLD).unwrap().locked);
    assert_eq!(crate::common::audited(&env, "lock", Some("failed")), 1);
    let audit = read(&env.plugin_dir().join("audit.jsonl"));
    assert!(audit.contains("LEFT UNLOCKED"), "{audit}");
}

#[test]
fn a_gateway_error_while_iam_deletes_is_looked_into_and_a_404_is_already_gone() {
    let env = functional();
    env.handle().set_knobs(|k| {
        k.faults.push(fault(
            "DELETE",
            OLD,
            FaultKind::Gateway { status: 504, html: true, backend_delay_ms: 100 },
            None,
        ));
    });
    let (code, v) = json(&env, &["prune", "-f", "-r", "us-south", "-g", "Default"]);
    assert_eq!(code, 0, "{v}");
    let c = candidate(&v, OLD);
    assert_eq!(c["outcome"], "deleted", "{c}");
    assert!(c["detail"].as_str().unwrap().contains("but IAM did it"), "{c}");
    assert!(!key_ids(&env).contains(&OLD.to_owned()));
    // Another prune removed it between our plan and our DELETE.
    let env = functional();
    env.handle().set_knobs(|k| k.faults.push(fault("DELETE", "ApiKey-3333", FaultKind::Status { status: 404 }, None)));
    let (code, v) = json(&env, &["prune", "-f", "-r", "eu-de", "-g", "Default"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(candidate(&v, "ApiKey-3333-eu-default-old")["outcome"], "already gone", "{v}");
}
