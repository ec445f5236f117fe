//! `check` end to end: each identity of the default world, each kind of policy scope, the
//! unknown case, a restricted account, the key quota, `--grant` (then the reset succeeds), and
//! the pre-flight in front of `reset`.

use cluster_api_key_emulator::world::{self, Policy, keys};
use serde_json::Value;

use crate::common::TestEnv;

fn states(env: &TestEnv, args: &[&str]) -> (i32, Vec<(String, String)>, Value) {
    let mut all = vec!["check", "-o", "json"];
    all.extend_from_slice(args);
    let r = env.run(&all);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {r:?}"));
    let list = v["targets"][0]["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| (q["code"].as_str().unwrap().to_owned(), q["state"].as_str().unwrap().to_owned()))
        .collect();
    (r.code, list, v)
}

fn state_of<'a>(list: &'a [(String, String)], code: &str) -> &'a str {
    list.iter().find(|(c, _)| c == code).map_or("absent", |(_, s)| s.as_str())
}

fn as_identity(key: &str) -> TestEnv {
    let env = TestEnv::new();
    env.login(key, Some("us-south"));
    env
}

#[test]
fn the_functional_id_and_the_owner_have_everything() {
    for key in [keys::FUNCTIONAL, keys::OWNER] {
        let env = as_identity(key);
        let (code, list, v) = states(&env, &["--region", "us-south"]);
        assert_eq!(code, 0, "{v}");
        for c in
            ["reset-administrator", "api-key-quota", "service-writer", "resource-group-viewer", "vpc-infrastructure"]
        {
            assert_eq!(state_of(&list, c), "met", "{c}: {v}");
        }
        // Classic infrastructure is not in IAM: never "met".
        assert_eq!(state_of(&list, "classic-infrastructure"), "notCheckable");
        assert!(v["identity"]["isCaller"].as_bool().unwrap());
    }
}

#[test]
fn the_viewer_misses_roles_and_a_one_cluster_policy_does_not_count() {
    let env = as_identity(keys::VIEWER);
    let (code, list, v) = states(&env, &["--region", "us-south"]);
    assert_eq!(code, 3, "{v}");
    // Vera is Administrator of one cluster only (serviceInstance): not of the target.
    assert_eq!(state_of(&list, "reset-administrator"), "missing");
    let cmd = v["targets"][0]["requirements"][0]["command"].as_str().unwrap();
    assert_eq!(
        cmd,
        "ibmcloud iam user-policy-create vera.viewer@example.com --roles Administrator --service-name containers-kubernetes --region us-south --resource-group-name Default"
    );
    let r = env.run(&["check", "--region", "us-south"]);
    r.exits(3);
    r.stdout_has("Something is missing.");
}

#[test]
fn a_service_id_needs_operator_on_iam_identity_which_all_services_does_not_give() {
    let env = as_identity(keys::SERVICE_ID);
    {
        // "All Identity and Access enabled services" does not cover IAM Identity.
        let mut w = env.handle().world();
        w.policies.push(Policy {
            id: "policy-svc-all-services".into(),
            account_id: world::ACCOUNT_ID.into(),
            iam_id: Some(world::SERVICE_ID.into()),
            service_type: Some("service".into()),
            roles: vec!["Administrator".into(), "Operator".into(), "Writer".into()],
            ..Policy::default()
        });
    }
    let (code, list, v) = states(&env, &["--region", "us-south"]);
    assert_eq!(code, 3);
    assert_eq!(state_of(&list, "reset-administrator"), "met");
    assert_eq!(state_of(&list, "service-writer"), "met", "all services cover Kubernetes Service: {v}");
    assert_eq!(state_of(&list, "iam-identity-operator"), "missing", "{v}");
    let op = v["targets"][0]["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["code"] == "iam-identity-operator")
        .unwrap();
    assert!(op["command"].as_str().unwrap().starts_with("ibmcloud iam service-policy-create ServiceId-"), "{op}");
}

#[test]
fn an_access_group_member_gets_what_the_group_has_in_its_region_and_group_only() {
    let env = as_identity(keys::GROUP_MEMBER);
    let (code, list, v) = states(&env, &["--region", "us-south", "-g", "Default"]);
    assert_eq!(state_of(&list, "reset-administrator"), "met", "through the group, region scope: {v}");
    assert_eq!(state_of(&list, "resource-group-viewer"), "met", "resource group scope: {v}");
    assert!(v["targets"][0]["requirements"][0]["by"].as_str().unwrap().contains("policy-group-us"));
    assert_eq!(code, 3, "no VPC infrastructure role: {v}");
    let (_, list, _) = states(&env, &["--region", "eu-de", "-g", "staging"]);
    assert_eq!(state_of(&list, "reset-administrator"), "missing", "another region");
    assert_eq!(state_of(&list, "resource-group-viewer"), "missing", "another group");
    // Several targets at once.
    let (_, _, v) = states(&env, &["--region", "us-south,eu-de", "-g", "Default"]);
    assert_eq!(v["targets"].as_array().unwrap().len(), 2);
}

#[test]
fn policies_you_may_not_read_are_unknown_not_missing() {
    // The functional ID cannot read other identities' policies.
    let env = as_identity(keys::FUNCTIONAL);
    let (code, list, v) = states(&env, &["--region", "us-south", "--iam-id", world::GROUP_MEMBER]);
    assert_eq!(state_of(&list, "reset-administrator"), "unknown", "{v}");
    assert!(!list.iter().any(|(c, s)| s == "missing" && c != "api-key-quota"), "{v}");
    // Nothing proven missing, but an unknown is not a pass.
    assert_eq!(code, 3, "{v}");
    let r = env.run(&["check", "--region", "us-south", "--iam-id", world::GROUP_MEMBER]);
    r.exits(3).stdout_lacks("Nothing is missing.").stdout_has("could not be checked").stdout_has("reset-administrator");
    r.stdout_has(&format!("Identity: gina.group@example.com ({})", world::GROUP_MEMBER));
    // A caller who may not see users knows only the IAM ID, and the line says why.
    let r = as_identity(keys::VIEWER).run(&["check", "--region", "us-south", "--iam-id", world::GROUP_MEMBER]);
    r.stdout_has(&format!("Identity: {} (its name and email could not be read: ", world::GROUP_MEMBER));
    // The owner can read them: by email too.
    let env = as_identity(keys::OWNER);
    let (_, list, v) = states(&env, &["--region", "us-south", "--user", "gina.group@example.com"]);
    assert_eq!(state_of(&list, "reset-administrator"), "met", "{v}");
    assert_eq!(v["identity"]["iamId"], world::GROUP_MEMBER);
    let r = env.run(&["check", "--user", "nobody@example.com"]);
    r.exits(1);
    r.stderr_has("No user of the account has the email 'nobody@example.com'").stderr_has("--grant --invite");
}

#[test]
fn a_restricted_account_and_a_full_quota() {
    let env = as_identity(keys::GROUP_MEMBER);
    env.handle().world().settings.restrict_create_platform_apikey = "RESTRICTED".into();
    let (_, list, v) = states(&env, &["--region", "us-south"]);
    assert_eq!(state_of(&list, "api-key-creator"), "missing", "{v}");
    let env = as_identity(keys::FUNCTIONAL);
    env.handle().world().settings.restrict_create_platform_apikey = "RESTRICTED".into();
    let (_, list, _) = states(&env, &["--region", "us-south"]);
    assert_eq!(state_of(&list, "api-key-creator"), "met", "the functional ID has UserApiKeyCreator");
    env.handle().world().apikeys_per_identity = 1;
    let (_, list, v) = states(&env, &["--region", "us-south"]);
    assert_eq!(state_of(&list, "api-key-quota"), "missing", "{v}");
    // The pre-flight stops the reset before IBM would refuse it.
    let r = env.run(&["reset", "--region", "us-south", "-f"]);
    r.exits(1);
    r.stderr_has("Room for one more API key");
    assert_eq!(env.handle().stat("POST /v1/keys"), 0);
}

#[test]
fn grant_creates_what_is_missing_then_the_reset_succeeds() {
    let env = as_identity(keys::OWNER);
    let before_policies = env.handle().dump().policies.len();
    // A dry run creates nothing.
    let r = env.run(&["check", "--region", "us-south", "--user", "vera.viewer@example.com", "--grant", "--dry-run"]);
    r.exits(3);
    assert!(
        r.stdout
            .contains("Would create: 'ibmcloud iam user-policy-create vera.viewer@example.com --roles Administrator"),
        "{r:?}"
    );
    assert_eq!(env.handle().dump().policies.len(), before_policies);
    let r = env.run(&["check", "--region", "us-south", "--user", "vera.viewer@example.com", "--grant", "-f"]);
    r.success();
    r.stdout_has("Created 4 policies");
    r.stdout_has("Nothing is missing.");
    assert_eq!(env.handle().dump().policies.len(), before_policies + 4);
    let audit = crate::common::read(&env.plugin_dir().join("audit.jsonl"));
    assert_eq!(audit.lines().filter(|l| l.contains("\"action\":\"grant\"")).count(), 4, "{audit}");
    // Vera can now reset, and own the key.
    env.login(keys::VIEWER, Some("us-south"));
    env.run(&["reset", "--region", "us-south", "-f"]).success();
    // Without the right to create policies, --grant fails and says so.
    let r = env.run(&["check", "--region", "eu-de", "--grant", "-f"]);
    r.exits(1);
    assert!(r.stderr.contains("BXNIM0513E") || r.stderr.contains("not authorized"), "{r:?}");
}

#[test]
fn a_trusted_profile_is_refused_up_front_and_dry_runs_fail_for_the_viewer_and_a_typo() {
    let env = TestEnv::new();
    env.login_as(world::PROFILE, Some("us-south"));
    let r = env.run(&["reset", "--region", "us-south", "-f"]);
    r.exits(1);
    r.stderr_has("A trusted profile cannot own the cluster API key");
    assert_eq!(env.handle().stat("POST /v1/keys"), 0);
    let env = as_identity(keys::VIEWER);
    env.run(&["reset", "--region", "us-south", "--dry-run"]).exits(1);
    let env = as_identity(keys::FUNCTIONAL);
    let r = env.run(&["reset", "--region", "us-sooth", "--dry-run"]);
    r.exits(2);
    r.stderr_has("Unknown region: us-sooth");
}
