//! Issue #33, "exactly true": what the tool could not read is unknown, never absent or fine.
//! The trace hides every spelling of a classic infrastructure key; a secret-valued member is
//! never a user name; a classic email that matches no user, and a gateway's 404, are unknown,
//! never "removed"; a display name never passes for a functional ID; what a caller cannot read
//! in `status` (an owner's roles) is said, and a policy acceptance of a finding the caller could
//! not check is not called unused.

use cluster_api_key_emulator::FaultKind;
use cluster_api_key_emulator::world::{self, ClassicCredential, keys};
use serde_json::Value;

use crate::common::{TestEnv, fault, read};
use crate::status::target;

fn as_identity(key: &str) -> TestEnv {
    let env = TestEnv::new();
    env.login(key, Some("us-south"));
    env
}

fn json(env: &TestEnv, args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend(["--output", "json"]);
    let r = env.run(&all);
    (r.code, serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {r:?}")))
}

/// `args` in JSON: the whole output reviewed as the snapshot `name`, and the document.
fn json_snap(env: &TestEnv, name: &str, args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend(["--output", "json"]);
    let r = env.run(&all);
    crate::assert_run!(env, name, r);
    (r.code, serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {r:?}")))
}

fn codes(t: &Value) -> Vec<String> {
    t["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_owned()).collect()
}

fn write(env: &TestEnv, name: &str, text: &str) -> String {
    let path = env.home.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// Sets the classic credentials of us-south / Default to `username`.
fn set_classic(env: &TestEnv, username: &str) {
    let mut w = env.handle().world();
    w.classic_credentials.clear();
    w.classic_credentials.push(ClassicCredential {
        account_id: world::ACCOUNT_ID.into(),
        region: "us-south".into(),
        resource_group_id: world::RG_DEFAULT.into(),
        username: username.into(),
        api_key_sha256: String::from("0"),
    });
}

/// `GET /v1/credentials` answers 200 with exactly `body`.
fn credentials_body(env: &TestEnv, body: &str) {
    env.handle().set_knobs(|k| {
        k.faults.clear();
        k.faults.push(fault("GET", "/v1/credentials", FaultKind::Body { status: 200, body: body.to_owned() }, None));
    });
}

/// Every spelling the adversarial pass found in clear in the trace, each with its own value.
const KEY_SPELLINGS: [&str; 9] = [
    "infrastructure_api_key",
    "softlayer_api_key",
    "api_key",
    "api-key",
    "API_KEY",
    "key",
    "private_key",
    "userpass",
    "a_name_nobody_documents",
];

#[test]
fn the_trace_hides_every_spelling_of_a_classic_infrastructure_key() {
    let env = as_identity(keys::FUNCTIONAL);
    let mut body = serde_json::Map::new();
    body.insert("infrastructure_username".into(), "2412345_dave.departed@example.com".into());
    body.insert("region".into(), "us-south".into());
    for (i, name) in KEY_SPELLINGS.iter().enumerate() {
        body.insert((*name).to_owned(), format!("SLKEY-{i}-0123456789abcdef").into());
    }
    credentials_body(&env, &Value::Object(body).to_string());
    let r = env.run(&["info", "--cluster", "legacy-classic"]);
    crate::assert_run!(env, "truth-classic-key-spellings-info", r);
    let trace = read(&env.trace_path());
    // The body was traced (the control: its plain members are there, and so would a key be)...
    assert!(trace.contains("/v1/credentials HTTP/1.1"), "{trace}");
    assert!(
        trace.contains(r#""infrastructure_username":"2412345_dave.departed@example.com","region":"us-south""#),
        "{trace}"
    );
    // ...and no value of any spelling, nor one under a name nobody documents.
    for (i, name) in KEY_SPELLINGS.iter().enumerate() {
        assert!(!trace.contains(&format!("SLKEY-{i}-")), "{name} in the trace: {trace}");
        assert!(trace.contains(&format!(r#""{name}":"[PRIVATE DATA HIDDEN]""#)), "{name}: {trace}");
    }
    for text in [&r.stdout, &r.stderr] {
        assert!(!text.contains("SLKEY-"), "{r:?}");
    }
}

#[test]
fn a_secret_valued_member_is_never_shown_as_the_classic_user_name() {
    let env = as_identity(keys::FUNCTIONAL);
    for name in
        ["user_token", "userSecret", "userpass", "userPw", "infrastructure_user_credential", "softlayerUserAuth"]
    {
        credentials_body(&env, &format!(r#"{{"{name}": "tok-0123456789abcdef"}}"#));
        // The same whole output for every such member: none is shown.
        crate::assert_run!(
            env,
            "truth-classic-secret-is-no-user-name",
            env.run(&["info", "--cluster", "legacy-classic"])
        );
        let (_, v) = json(&env, &["status", "-r", "us-south", "-g", "Default"]);
        let c = &target(&v, "us-south", "Default")["classicCredentials"];
        assert_eq!((c["set"].as_bool(), c["username"].is_null()), (Some(true), true), "{name}: {c}");
    }
    // The control: a member that is a user name is shown as one.
    credentials_body(&env, r#"{"user_token": "tok-0123456789abcdef", "softlayer_username": "SL-0042"}"#);
    crate::assert_run!(env, "truth-classic-user-name-member-shown", env.run(&["info", "--cluster", "legacy-classic"]));
}

#[test]
fn a_classic_email_that_matches_no_user_is_unknown_never_removed() {
    let env = as_identity(keys::OWNER);
    // The control: the email of a user who is in the account but not active is critical.
    set_classic(&env, "2412345_dave.departed@example.com");
    json_snap(&env, "classic-owner-gone-control-json", &["status", "-r", "us-south", "-g", "Default"]);
    // Gina is in the account as gina.group@example.com; `+infra` matches nobody: unknown, with
    // the reason, and not classic-credentials-owner-gone.
    set_classic(&env, "2412345_gina.group+infra@example.com");
    let (_, v) =
        json_snap(&env, "truth-classic-email-matches-no-user-json", &["status", "-r", "us-south", "-g", "Default"]);
    let t = target(&v, "us-south", "Default");
    assert_eq!(t["classicCredentials"]["ownerState"]["kind"], "unknown", "{t}");
    let unchecked = t["unchecked"].as_array().unwrap();
    assert!(unchecked.iter().any(|u| u["findings"][0] == "classic-credentials-owner-gone"), "{t}");
    crate::assert_run!(
        env,
        "truth-classic-email-matches-no-user-status",
        env.run(&["status", "-r", "us-south", "-g", "Default"])
    );
    crate::assert_run!(
        env,
        "truth-classic-email-matches-no-user-info",
        env.run(&["info", "--cluster", "legacy-classic"])
    );
}

/// The owner's state and findings of a target, with a fault on the lookup of its owner.
fn owner_with(env: &TestEnv, region: &str, group: &str, path: &str, kind: FaultKind) -> (Value, Vec<String>) {
    env.handle().set_knobs(|k| {
        k.faults.clear();
        k.faults.push(fault("GET", path, kind, None));
    });
    let (_, v) = json(env, &["status", "-r", region, "-g", group]);
    let t = target(&v, region, group).clone();
    (t["owner"]["state"].clone(), codes(&t))
}

#[test]
fn a_gateways_404_is_unknown_and_only_ibms_own_404_means_removed() {
    let env = as_identity(keys::OWNER);
    let user = format!("/users/{}", world::DEPARTED);
    let service_id = world::SERVICE_ID.trim_start_matches("iam-");
    // The controls: IBM's own 404 body says the user left, the service ID was deleted.
    let (state, found) = owner_with(&env, "us-south", "Default", &user, FaultKind::Status { status: 404 });
    assert_eq!(state["kind"], "notInAccount", "{state}");
    assert!(found.contains(&"owner-not-in-account".into()), "{found:?}");
    let (state, found) = owner_with(&env, "jp-tok", "staging", service_id, FaultKind::Status { status: 404 });
    assert_eq!(state["kind"], "notInAccount", "{state}");
    assert!(found.contains(&"owner-not-in-account".into()), "{found:?}");
    // A gateway's 404, an HTML page or an empty body: unknown, like a 500.
    for kind in [FaultKind::Html { status: 404 }, FaultKind::Body { status: 404, body: String::new() }] {
        for (region, group, path) in [("us-south", "Default", user.as_str()), ("jp-tok", "staging", service_id)] {
            let (state, found) = owner_with(&env, region, group, path, kind.clone());
            assert_eq!(state["kind"], "unknown", "{region}/{group} {kind:?}: {state}");
            assert!(!found.contains(&"owner-not-in-account".into()), "{found:?}");
            assert!(found.contains(&"owner-unknown".into()), "{found:?}");
        }
    }
    env.handle().set_knobs(|k| {
        k.faults.clear();
        k.faults.push(fault("GET", service_id, FaultKind::Html { status: 404 }, None));
    });
    crate::assert_run!(env, "truth-gateway-404-owner-unknown", env.run(&["status", "-r", "jp-tok", "-g", "staging"]));
}

#[test]
fn a_display_name_never_passes_for_a_functional_id() {
    let env = as_identity(keys::OWNER);
    let p = write(&env, "f.toml", "functional_ids = [\"k8s-functional@example.com\"]\n");
    // The control: the functional ID itself is recognised by the email the account has for it.
    // personal-owner for Dave (us-south / Default), not for the functional ID (production).
    json_snap(&env, "truth-functional-id-by-email-json", &["status", "-r", "us-south", "--policy", &p]);
    // Dave names himself after the functional ID: he is still a person.
    for i in env.handle().world().identities.iter_mut().filter(|i| i.iam_id == world::DEPARTED) {
        i.name = String::from("k8s-functional@example.com");
    }
    let (_, v) =
        json_snap(&env, "truth-display-name-not-functional-json", &["status", "-r", "us-south", "--policy", &p]);
    assert_eq!(target(&v, "us-south", "Default")["owner"]["name"], "k8s-functional@example.com", "{v}");
    // So does --functional-id (the same document but the policy's), and an acceptance's owner.
    let args = ["status", "-r", "us-south", "--functional-id", "k8s-functional@example.com"];
    json_snap(&env, "truth-display-name-not-functional-flag-json", &args);
    let accepting = write(
        &env,
        "a.toml",
        "[[accept]]\nfinding = \"personal-owner\"\ntarget = \"us-south/*\"\nowner = \"k8s-functional@example.com\"\nreason = \"r\"\nuntil = 2099-01-01\n",
    );
    let (_, v) = json(&env, &["status", "-r", "us-south", "--policy", &accepting]);
    let f = target(&v, "us-south", "Default")["findings"].as_array().unwrap().clone();
    assert!(f.iter().any(|f| f["code"] == "personal-owner" && f["accepted"] == false), "{f:?}");
    // And a batch reset does not skip his target as the functional ID's.
    let r = env.run(&[
        "reset",
        "--region",
        "us-south",
        "--all-resource-groups",
        "--unless-owner",
        "functional",
        "--policy",
        &p,
        "--dry-run",
        "-o",
        "json",
    ]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:?}"));
    let skipped: Vec<&str> = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["skipReason"].as_str().is_some_and(|s| s.contains("functional ID")))
        .map(|t| t["target"]["resourceGroup"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["production"], "{v}");
}

#[test]
fn what_the_caller_cannot_read_in_status_is_unknown_with_what_would_read_it() {
    // The control: the account owner reads every owner's policies and finds what they lack.
    let env = as_identity(keys::OWNER);
    let (_, v) = json(&env, &["status"]);
    for (r, g) in [("jp-tok", "staging"), ("us-south", "Default")] {
        assert!(codes(target(&v, r, g)).contains(&"owner-lacks-roles".into()), "{r}/{g}: {v}");
    }
    // The functional ID may not read them: unknown, per target, in JSON and text.
    let env = as_identity(keys::FUNCTIONAL);
    let (_, v) = json(&env, &["status"]);
    for (r, g) in [("jp-tok", "staging"), ("us-south", "Default"), ("eu-de", "Default")] {
        let t = target(&v, r, g);
        assert!(!codes(t).contains(&"owner-lacks-roles".into()), "{t}");
        assert!(codes(t).contains(&"owner-roles-unknown".into()), "{r}/{g}: {t}");
        let u = t["unchecked"].as_array().unwrap();
        assert!(u.iter().any(|u| u["findings"][0] == "owner-lacks-roles"), "{t}");
    }
    // Its own roles it reads: nothing unknown there.
    assert!(!codes(target(&v, "us-south", "production")).contains(&"owner-roles-unknown".into()), "{v}");
    let r = env.run(&["status", "-r", "jp-tok", "-g", "staging"]);
    crate::assert_run!(env, "truth-status-owner-roles-unknown", r);
}

#[test]
fn an_acceptance_the_caller_could_not_check_is_not_called_unused() {
    let env = as_identity(keys::VIEWER);
    let p = write(
        &env,
        "p.toml",
        "[[accept]]\nfinding = \"orphan-key\"\ntarget = \"eu-de/staging\"\nreason = \"r\"\nuntil = 2099-01-01\n\n[[accept]]\nfinding = \"no-key\"\ntarget = \"us-south/production\"\nreason = \"r\"\nuntil = 2099-01-01\n",
    );
    let (_, v) = json(&env, &["status", "--policy", &p]);
    // The control: a finding the viewer can check (the clusters report their key's owner) and
    // that is not there is unused...
    assert_eq!(v["policy"]["unused"], serde_json::json!(["line 7: no-key for us-south/production"]), "{v}");
    // ...an orphan key in a group without clusters is invisible to her (only her own keys).
    let unchecked = v["policy"]["unchecked"].as_array().unwrap();
    assert_eq!(unchecked.len(), 1, "{v}");
    assert_eq!(unchecked[0]["acceptance"], "line 1: orphan-key for eu-de/staging", "{v}");
    assert!(unchecked[0]["reason"].as_str().unwrap().contains("only your own keys could be listed"), "{v}");
    crate::assert_run!(env, "truth-acceptance-unchecked-not-unused", env.run(&["status", "--policy", &p]));
}

#[test]
fn the_sandbox_viewer_is_told_what_she_could_not_check() {
    let home = tempfile::tempdir().unwrap();
    let run = |identity: &str| {
        let out = crate::common::cli()
            .args([identity, "status"])
            .env(cluster_api_key_core::env::HOME, home.path())
            .env(cluster_api_key_core::env::NO_COLOR, "1")
            .output()
            .unwrap();
        crate::common::Run::from(&out)
    };
    let home = crate::common::Sandbox(home.path());
    // The control: the functional ID sees the orphan key the sandbox's policy accepts.
    crate::assert_run!(home, "truth-sandbox-functional-sees-the-orphan-key", run("--sandbox"));
    // The viewer cannot list others' keys: the acceptance is not called unused.
    crate::assert_run!(home, "truth-sandbox-viewer-told-what-she-could-not-check", run("--sandbox=viewer"));
}

#[test]
fn prune_takes_a_gateways_404_for_unknown_never_for_already_gone() {
    let env = as_identity(keys::OWNER);
    let old = "/v1/apikeys/ApiKey-1111-us-default-old";
    // The control: IAM's own 404 says the key is gone.
    env.handle().set_knobs(|k| k.faults.push(fault("GET", old, FaultKind::Status { status: 404 }, None)));
    json_snap(
        &env,
        "truth-prune-iam-404-already-gone-json",
        &["prune", "-r", "us-south", "-g", "Default", "--dry-run"],
    );
    // A gateway's page is no evidence of anything.
    env.handle().set_knobs(|k| {
        k.faults.clear();
        k.faults.push(fault("GET", old, FaultKind::Html { status: 404 }, None));
    });
    let args = ["prune", "-r", "us-south", "-g", "Default", "--dry-run"];
    json_snap(&env, "truth-prune-gateway-404-unknown-json", &args);
}

#[test]
fn unread_classic_credentials_and_key_limits_are_said_never_left_out() {
    let env = as_identity(keys::OWNER);
    // The control: read, the key limit of Olivia makes a finding, and no note says otherwise.
    crate::assert_run!(env, "truth-key-limit-read", env.run(&["status", "-r", "eu-de", "-g", "Default"]));
    env.handle().set_knobs(|k| {
        k.faults.push(fault("GET", "/v1/credentials", FaultKind::Status { status: 500 }, None));
        k.faults.push(fault("GET", "/limits/identity", FaultKind::Status { status: 500 }, None));
    });
    crate::assert_run!(env, "truth-key-limit-unread", env.run(&["status", "-r", "eu-de", "-g", "Default"]));
    crate::assert_run!(
        env,
        "truth-classic-credentials-unread",
        env.run(&["status", "-r", "us-south", "-g", "Default"])
    );
    // The note says the classic infrastructure credentials could not be read.
    let (_, v) =
        json_snap(&env, "truth-classic-credentials-unread-json", &["status", "-r", "us-south", "-g", "Default"]);
    let t = target(&v, "us-south", "Default");
    let unchecked: Vec<&Value> =
        t["unchecked"].as_array().unwrap().iter().flat_map(|u| u["findings"].as_array().unwrap()).collect();
    for code in ["classic-credentials-set", "classic-credentials-owner-gone", "owner-near-key-limit"] {
        assert!(unchecked.iter().any(|c| *c == code), "{code}: {t}");
    }
}
