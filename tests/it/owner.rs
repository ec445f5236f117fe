//! Issue #33, `status --owner`: the offboarding answer gates a checklist, so it is exactly
//! true. An identity the account does not know is refused before anything is read; every form
//! the tool takes elsewhere names the same identity; what could not be read makes the answer
//! unknown (exit 3), never "nothing depends"; the printed plan runs as printed.

use cluster_api_key_emulator::FaultKind;
use cluster_api_key_emulator::world::{self, IdentityKind, keys};
use serde_json::Value;

use crate::common::{TestEnv, fault};

fn as_identity(key: &str) -> TestEnv {
    let env = TestEnv::new();
    env.login(key, Some("us-south"));
    env
}

/// `status --owner QUERY -o json`: the exit code and the one owner document.
fn owner_json(env: &TestEnv, query: &str) -> (i32, Value) {
    let r = env.run(&["status", "--owner", query, "-o", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {r:?}"));
    (r.code, v["owners"][0].clone())
}

/// Whether any request read the account's clusters or keys.
fn account_read(env: &TestEnv) -> bool {
    env.handle().stats().keys().any(|k| k.contains("getClusters") || k.contains("/v1/apikeys"))
}

#[test]
fn an_identity_the_account_does_not_know_is_refused_before_the_account_is_read() {
    let env = as_identity(keys::OWNER);
    // The control: the right email is answered, after the account was read.
    env.run(&["status", "--owner", "dave.departed@example.com"]).exits(3);
    assert!(account_read(&env), "the control reads the account: {:?}", env.handle().stats());

    // A typo of his email: not an answer, a refusal (exit 1, as `check` refuses an identity
    // that does not exist), before the clusters or keys are read.
    let env = as_identity(keys::OWNER);
    let r = env.run(&["status", "--owner", "dave.departd@example.com"]);
    crate::assert_run!(env, "owner-unknown-email", r);
    assert!(!account_read(&env), "refused first: {:?}", env.handle().stats());

    // The same for every other form that matches nothing: a one-letter typo of an IAM ID, a
    // service ID's name, a service ID, and what is none of these.
    for (query, name) in [
        ("IBMid-2700000DEQ", "owner-no-such-user"),
        ("ci-automaton", "owner-no-service-id-of-that-name"),
        ("ServiceId-5e7a1c00-0000-4000-8000-00000000dead", "owner-no-such-service-id"),
        (world::PROFILE, "owner-trusted-profile"),
    ] {
        let env = as_identity(keys::OWNER);
        crate::assert_run!(env, name, env.run(&["status", "--owner", query]));
        assert!(!account_read(&env), "{query}: refused first: {:?}", env.handle().stats());
        // JSON mode: the error document, with the same exit code.
        let r = env.run(&["status", "--owner", query, "-o", "json"]);
        r.exits(1);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["error"]["exitCode"], 1, "{v}");
    }
}

#[test]
fn every_form_the_tool_takes_names_the_same_identity() {
    let env = as_identity(keys::OWNER);
    let (code, exact) = owner_json(&env, "dave.departed@example.com");
    assert_eq!(code, 3);
    assert!(!exact["dependents"].as_array().unwrap().is_empty(), "{exact}");
    for query in ["DAVE.Departed@Example.com", world::DEPARTED, "ibmid-2700000dep", "IBMID-2700000dep"] {
        let (code, o) = owner_json(&env, query);
        assert_eq!(code, 3, "{query}: {o}");
        assert_eq!(o["owner"]["iamId"], world::DEPARTED, "{query}: {o}");
        assert_eq!(o["owner"]["email"], "dave.departed@example.com", "{query}: {o}");
        assert_eq!(o["dependents"], exact["dependents"], "{query}");
        assert_eq!(o["plan"], exact["plan"], "{query}");
    }
    // A service ID: by its IAM ID, without `iam-` (as `check --service-id` takes it), in
    // another case, and by its name.
    let (code, exact) = owner_json(&env, world::SERVICE_ID);
    assert_eq!(code, 3);
    assert_eq!(exact["dependents"][0]["resourceGroupName"], "staging", "{exact}");
    let bare = world::SERVICE_ID.trim_start_matches("iam-");
    for query in [bare, &bare.to_lowercase(), "IAM-SERVICEID-5e7a1c00-0000-4000-8000-00000000c1a0", "ci-automation"] {
        let (code, o) = owner_json(&env, query);
        assert_eq!(code, 3, "{query}: {o}");
        assert_eq!(o["owner"]["iamId"], world::SERVICE_ID, "{query}: {o}");
        assert_eq!(o["owner"]["kind"], "serviceId", "{query}: {o}");
        assert_eq!(o["owner"]["name"], "ci-automation", "{query}: {o}");
        assert_eq!(o["dependents"], exact["dependents"], "{query}");
    }
    // `check` takes the same spellings.
    let r = env.run(&["check", "--iam-id", "ibmid-2700000dep", "-r", "us-south", "-g", "Default"]);
    crate::assert_run!(env, "owner-check-takes-the-same-spellings", r);
}

#[test]
fn an_email_two_users_share_is_ambiguous_and_both_are_named() {
    let env = as_identity(keys::OWNER);
    let twin = "IBMid-2700000TWN";
    env.handle().world().identities.push(world::Identity {
        iam_id: twin.into(),
        kind: IdentityKind::User,
        name: "Dave Twin".into(),
        email: "Dave.Departed@example.com".into(),
        account_id: world::ACCOUNT_ID.into(),
        active: true,
        state: None,
        member: true,
    });
    let r = env.run(&["status", "--owner", "dave.departed@example.com"]);
    crate::assert_run!(env, "owner-shared-email", r);
    assert!(!account_read(&env), "refused first: {:?}", env.handle().stats());
    // Named by IAM ID, each is answered for: Dave's keys are his; the classic credentials name
    // the email both have, so whose they are is unknown, for either (never picked silently).
    let (code, o) = owner_json(&env, world::DEPARTED);
    assert_eq!((code, o["answer"].as_str()), (3, Some("depends")), "{o}");
    let r = env.run(&["status", "--owner", twin]);
    crate::assert_run!(env, "owner-shared-email-by-iam-id", r);
    for (who, other) in [(world::DEPARTED, twin), (twin, world::DEPARTED)] {
        let (_, o) = owner_json(&env, who);
        assert!(!o["dependents"].to_string().contains("classicCredentials"), "{o}");
        let u = o["unknown"].as_array().unwrap().iter().find(|u| u["what"] == "classicUser").expect("unknown");
        assert!(u["reason"].as_str().unwrap().contains(other), "{u}");
    }
    // `check --user` does not pick one either.
    let r = env.run(&["check", "--user", "dave.departed@example.com", "-r", "us-south", "-g", "Default"]);
    crate::assert_run!(env, "owner-check-shared-email", r);
}

#[test]
fn classic_credentials_that_could_not_be_read_make_the_answer_unknown() {
    let env = as_identity(keys::OWNER);
    // The control: everything read, nothing of Gina's: exit 0.
    crate::assert_run!(env, "owner-nothing-depends-on-gina", env.run(&["status", "--owner", "gina.group@example.com"]));
    // The credentials answered 500: whether they are hers is not known.
    env.handle().set_knobs(|k| k.faults.push(fault("GET", "/v1/credentials", FaultKind::Status { status: 500 }, None)));
    let r = env.run(&["status", "--owner", "gina.group@example.com"]);
    crate::assert_run!(env, "owner-unknown-classic-credentials", r);
    let (code, o) = owner_json(&env, "gina.group@example.com");
    assert_eq!((code, o["answer"].as_str()), (3, Some("unknown")), "{o}");
    let u = &o["unknown"][0];
    assert_eq!((u["what"].as_str(), u["region"].as_str()), (Some("classicCredentials"), Some("us-south")), "{o}");
    // A gateway's HTML page instead: the same.
    env.handle().set_knobs(|k| {
        k.faults.clear();
        k.faults.push(fault("GET", "/v1/credentials", FaultKind::Html { status: 502 }, None));
    });
    let (code, o) = owner_json(&env, "gina.group@example.com");
    assert_eq!((code, o["answer"].as_str()), (3, Some("unknown")), "{o}");
    // A service ID has no classic infrastructure user: unreadable credentials leave its answer.
    env.handle().world().api_keys.retain(|k| k.iam_id != world::SERVICE_ID || !k.name.contains("containers"));
    let (code, o) = owner_json(&env, "ci-automation");
    assert_eq!((code, o["answer"].as_str()), (0, Some("nothing")), "{o}");
}

#[test]
fn credentials_whose_user_names_no_email_are_unknown_for_every_user() {
    let env = as_identity(keys::OWNER);
    env.handle().world().classic_credentials.iter_mut().for_each(|c| c.username = String::from("2412345_infra"));
    let (code, o) = owner_json(&env, "gina.group@example.com");
    assert_eq!((code, o["answer"].as_str()), (3, Some("unknown")), "{o}");
    assert_eq!(o["unknown"][0]["what"], "classicUser", "{o}");
    assert_eq!(o["unknown"][0]["username"], "2412345_infra", "{o}");
    // Named with an email, they are someone's: not Gina's, so her answer is "nothing".
    env.handle().world().classic_credentials.iter_mut().for_each(|c| {
        c.username = String::from("2412345_olivia.owner@example.com");
    });
    assert_eq!(owner_json(&env, "gina.group@example.com").0, 0);
}

#[test]
fn a_caller_who_cannot_see_users_or_keys_gets_unknown_not_nothing() {
    // The account owner sees everything: nothing depends on Paul Pending.
    let env = as_identity(keys::OWNER);
    assert_eq!(owner_json(&env, world::PENDING).0, 0);
    // The viewer sees neither users nor other users' keys: the same question is unknown.
    let env = as_identity(keys::VIEWER);
    let r = env.run(&["status", "--owner", world::PENDING]);
    crate::assert_run!(env, "owner-unknown-viewer", r);
    let (code, o) = owner_json(&env, world::PENDING);
    assert_eq!((code, o["answer"].as_str()), (3, Some("unknown")), "{o}");
    let what: Vec<&str> = o["unknown"].as_array().unwrap().iter().map(|u| u["what"].as_str().unwrap()).collect();
    // Classic credentials name an email, and Paul's is not known to this caller.
    assert_eq!(what, ["identity", "otherOwnersKeys", "classicUser"], "{o}");
    // The owner's record says it is unverified: reading users needs a User Management role.
    crate::assert_run!(env, "owner-unknown-viewer-json", env.run(&["status", "--owner", world::PENDING, "-o", "json"]));
    // By email, whether anyone has it cannot be told: refused with what to give instead.
    crate::assert_run!(
        env,
        "owner-by-email-unknown-to-the-viewer",
        env.run(&["status", "--owner", "paul.pending@example.com"])
    );
}

#[test]
fn the_owner_report_counts_clusters_and_says_when_nothing_breaks() {
    let env = as_identity(keys::OWNER);
    // Olivia: a locked current key of 1 cluster, the key of a target without clusters, and a
    // superseded key; the service ID: the key of 1 cluster.
    let r = env.run(&["status", "--owner", "olivia.owner@example.com"]);
    crate::assert_run!(env, "owner-olivia", r);
    let r = env.run(&["status", "--owner", "ci-automation"]);
    crate::assert_run!(env, "owner-service-id", r);
    let r = env.run(&["status", "--owner", "dave.departed@example.com"]);
    crate::assert_run!(env, "owner-dave", r);
}

#[test]
fn the_printed_plan_runs_as_printed_and_leaves_nothing_behind() {
    let env = as_identity(keys::OWNER);
    let (code, o) = owner_json(&env, "olivia.owner@example.com");
    assert_eq!(code, 3);
    let plan: Vec<String> = o["plan"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    // Where a key of hers is locked, prune unlocks it; where there are no clusters, prune takes
    // orphans; no reset of a target without clusters.
    assert_eq!(
        plan,
        [
            "cluster-api-key reset --region eu-de -g Default",
            "cluster-api-key restart-addons --region eu-de -g Default --refresh-masters",
            "cluster-api-key prune --region eu-de -g Default --unlock",
            "cluster-api-key prune --region eu-de -g staging --include-orphans",
            "cluster-api-key prune --region us-south -g Default"
        ]
    );
    // As a functional ID, each command as printed (with -f: no terminal to answer).
    env.login(keys::FUNCTIONAL, Some("us-south"));
    for c in &plan {
        let mut args: Vec<&str> = c.split(' ').skip(1).collect();
        args.push("-f");
        let r = env.run(&args);
        assert!(r.code == 0, "{c}: {r:?}");
    }
    // IBM's master refresh ran once for the target's cluster.
    assert_eq!(env.handle().stat("master refresh c0eu1vpc00000000000d"), 1);
    // Nothing of hers is left for the clusters to lose: the answer is now "nothing".
    env.login(keys::OWNER, Some("us-south"));
    let (code, o) = owner_json(&env, "olivia.owner@example.com");
    assert_eq!((code, o["answer"].as_str()), (0, Some("nothing")), "{o}");
}

#[test]
fn the_owner_document_spells_every_key_in_camel_case() {
    fn keys_of(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    out.push(k.clone());
                    keys_of(v, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| keys_of(v, out)),
            _ => {}
        }
    }
    let env = as_identity(keys::OWNER);
    let (_, o) = owner_json(&env, "olivia.owner@example.com");
    let mut all = Vec::new();
    keys_of(&o, &mut all);
    // The members that were snake_case before: now there, in camelCase.
    for k in ["keyId", "resourceGroupId", "iamId"] {
        assert!(all.iter().any(|a| a == k), "{k} in {o}");
    }
    assert!(all.iter().all(|k| !k.contains('_') && !k.contains('-')), "{all:?}");
}

#[test]
fn a_key_owner_the_clusters_could_not_report_makes_their_keys_unknown() {
    let env = as_identity(keys::OWNER);
    // The control: read, us-south / Default's old key is Olivia's superseded key, no doubt.
    let (_, o) = owner_json(&env, "olivia.owner@example.com");
    assert!(o["unknown"].as_array().unwrap().is_empty(), "{o}");
    // The clusters cannot say whose key they use: with two keys there, hers could be it.
    env.handle().set_knobs(|k| {
        k.faults.push(fault("GET", "clusterkeyowner", FaultKind::Status { status: 500 }, None));
    });
    let (code, o) = owner_json(&env, "olivia.owner@example.com");
    assert_eq!(code, 3, "{o}");
    let u = o["unknown"].as_array().unwrap().iter().find(|u| u["what"] == "keyInUse").expect("keyInUse");
    assert_eq!((u["region"].as_str(), u["resourceGroupName"].as_str()), (Some("us-south"), Some("Default")), "{u}");
    assert_eq!(u["keyIds"], serde_json::json!(["ApiKey-1111-us-default-old"]), "{u}");
    // A caller who sees only their own keys does not even see a key there: who owns the one
    // the clusters use is unknown, for anyone asked about.
    env.login(keys::VIEWER, Some("us-south"));
    let r = env.run(&["status", "--owner", world::DEPARTED]);
    crate::assert_run!(env, "owner-key-in-use-unknown-to-the-viewer", r);
    let (_, o) = owner_json(&env, world::DEPARTED);
    assert_eq!(o["answer"], "unknown", "{o}");
}

#[test]
fn a_group_name_two_groups_answer_to_is_refused_naming_the_flag_that_takes_an_id() {
    let env = TestEnv::new();
    env.login(keys::OWNER, Some("us-south"));
    {
        let mut w = env.handle().world();
        let account = w.resource_groups[0].account_id.clone();
        w.resource_groups.push(world::ResourceGroup {
            id: String::from("5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"),
            name: String::from("Staging"),
            account_id: account,
            default: false,
        });
    }
    // `staging` and `Staging` both answer to `STAGING`: which one is meant cannot be told.
    let r = env.run(&["info", "-r", "us-south", "-g", "STAGING"]);
    crate::assert_run!(env, "info-ambiguous-group", r);
}
