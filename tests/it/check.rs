//! `check` end to end: each identity of the default world, each kind of policy scope, the
//! unknown case, a restricted account, the key quota, `--grant` (then the reset succeeds), and
//! the pre-flight in front of `reset`; what `--grant` and `--invite` report of each write, and
//! the addresses and identities they refuse.

use cluster_api_key_emulator::FaultKind;
use cluster_api_key_emulator::world::{self, Policy, keys};
use serde_json::Value;

use crate::common::{TestEnv, fault};

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
    crate::assert_run!(env, "check-viewer-targeted-region", env.run(&["check", "--region", "us-south"]));
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
    crate::assert_run!(env, "check-policies-unreadable-unknown", r);
    // A caller who may not see users knows only the IAM ID, and the line says why.
    let viewer = as_identity(keys::VIEWER);
    let r = viewer.run(&["check", "--region", "us-south", "--iam-id", world::GROUP_MEMBER]);
    crate::assert_run!(viewer, "check-identity-name-unreadable", r);
    // The owner can read them: by email too.
    let env = as_identity(keys::OWNER);
    let (_, list, v) = states(&env, &["--region", "us-south", "--user", "gina.group@example.com"]);
    assert_eq!(state_of(&list, "reset-administrator"), "met", "{v}");
    assert_eq!(v["identity"]["iamId"], world::GROUP_MEMBER);
    crate::assert_run!(env, "check-no-user-with-that-email", env.run(&["check", "--user", "nobody@example.com"]));
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
    // Its way out is room for a key (a grant creates policies, not room), and one target is
    // not told to split a batch.
    crate::assert_run!(env, "check-key-limit-stops-one-reset", env.run(&["reset", "--region", "us-south", "-f"]));
    assert_eq!(env.handle().stat("POST /v1/keys"), 0);
}

#[test]
fn grant_creates_what_is_missing_then_the_reset_succeeds() {
    let env = as_identity(keys::OWNER);
    let before_policies = env.handle().dump().policies.len();
    // A dry run creates nothing.
    let r = env.run(&["check", "--region", "us-south", "--user", "vera.viewer@example.com", "--grant", "--dry-run"]);
    crate::assert_run!(env, "check-grant-targeted-group-dry-run", r);
    assert_eq!(env.handle().dump().policies.len(), before_policies);
    let r = env.run(&["check", "--region", "us-south", "--user", "vera.viewer@example.com", "--grant", "-f"]);
    crate::assert_run!(env, "check-grant-targeted-group-done", r);
    assert_eq!(env.handle().dump().policies.len(), before_policies + 4);
    assert_eq!(crate::common::audited(&env, "grant", None), 4);
    // Vera can now reset, and own the key.
    env.login(keys::VIEWER, Some("us-south"));
    env.run(&["reset", "--region", "us-south", "-f"]).success();
    // Without the right to create policies, --grant fails and says so.
    crate::assert_run!(env, "check-grant-not-authorized", env.run(&["check", "--region", "eu-de", "--grant", "-f"]));
}

#[test]
fn a_trusted_profile_is_refused_up_front_and_dry_runs_fail_for_the_viewer_and_a_typo() {
    let env = TestEnv::new();
    env.login_as(world::PROFILE, Some("us-south"));
    crate::assert_run!(env, "check-trusted-profile-refused", env.run(&["reset", "--region", "us-south", "-f"]));
    assert_eq!(env.handle().stat("POST /v1/keys"), 0);
    let env = as_identity(keys::VIEWER);
    crate::assert_run!(env, "check-viewer-dry-run-fails", env.run(&["reset", "--region", "us-south", "--dry-run"]));
    let env = as_identity(keys::FUNCTIONAL);
    crate::assert_run!(env, "check-dry-run-region-typo", env.run(&["reset", "--region", "us-sooth", "--dry-run"]));
}

/// The routes the emulator counts for a policy's creation and an invitation.
const POLICIES: &str = "POST /v1/policies";
const INVITE: &str = "POST /v2/accounts/{id}/users";
/// Vera's missing policies, granted by the owner.
const GRANT_VERA: [&str; 8] =
    ["check", "--user", "vera.viewer@example.com", "-r", "us-south", "-g", "Default", "--grant"];

fn with(base: &[&str], more: &[&str]) -> Vec<String> {
    base.iter().chain(more).map(|s| (*s).to_owned()).collect()
}

fn run(env: &TestEnv, args: &[String]) -> crate::common::Run {
    env.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn json(env: &TestEnv, args: &[String]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend(["-o".to_owned(), "json".to_owned()]);
    let r = run(env, &all);
    (r.code, serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {r:?}")))
}

fn policies_of(env: &TestEnv, iam_id: &str) -> usize {
    env.handle().world().policies.iter().filter(|p| p.iam_id.as_deref() == Some(iam_id)).count()
}

fn outcomes(v: &Value) -> Vec<String> {
    v["grant"]["results"].as_array().unwrap().iter().map(|r| r["outcome"].as_str().unwrap().to_owned()).collect()
}

/// The quoted command of the line that starts with `lead`.
fn printed(text: &str, lead: &str) -> Vec<String> {
    let line = text.lines().find(|l| l.trim_start().starts_with(lead)).unwrap_or_else(|| panic!("{lead}: {text}"));
    let cmd = line.split('\'').nth(1).unwrap_or_else(|| panic!("a quoted command: {line}"));
    // The tool's name, then its arguments.
    cmd.split(' ').skip(1).map(str::to_owned).collect()
}

#[test]
fn grant_says_whether_it_was_a_dry_run_and_what_it_created() {
    let env = as_identity(keys::OWNER);
    let had = policies_of(&env, world::VIEWER);
    let r = run(&env, &with(&GRANT_VERA, &["--dry-run"]));
    crate::assert_run!(env, "check-grant-dry-run", r);
    let (code, v) = json(&env, &with(&GRANT_VERA, &["--dry-run"]));
    assert_eq!((code, &v["grant"]["dryRun"], &v["grant"]["declined"]), (3, &Value::Bool(true), &Value::Bool(false)));
    assert_eq!(v["grant"]["planned"].as_array().map(Vec::len), Some(4), "{v}");
    assert_eq!(policies_of(&env, world::VIEWER), had);
    // Granted: each policy with its ID, no "Dry run", and the check after.
    let r = run(&env, &with(&GRANT_VERA, &["-f"]));
    crate::assert_run!(env, "check-grant-done", r);
    assert_eq!(policies_of(&env, world::VIEWER), had + 4);
    // Nothing left to create: not a dry run either, in text and in JSON.
    crate::assert_run!(env, "check-grant-none-needed", run(&env, &with(&GRANT_VERA, &["-f"])));
    let (code, v) = json(&env, &with(&GRANT_VERA, &["-f"]));
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["grant"]["dryRun"], false, "{v}");
    assert_eq!(v["grant"]["created"], 0, "{v}");
    assert_eq!(env.handle().stat(POLICIES), 4);
}

#[test]
fn a_failed_second_policy_is_reported_with_the_one_created_before_it() {
    let env = as_identity(keys::OWNER);
    let had = policies_of(&env, world::VIEWER);
    // IAM's own 500 for the second policy (nothing written): the first stays created, the
    // second failed (a look-up confirms), the rest were not attempted.
    env.handle().set_knobs(|k| {
        k.faults.push(fault("POST", "/v1/policies", FaultKind::Status { status: 500 }, Some(1)).after(1));
    });
    let r = run(&env, &with(&GRANT_VERA, &["-f"]));
    crate::assert_run!(env, "check-grant-partial", r);
    assert_eq!(env.handle().stat(POLICIES), 2, "nothing retried, nothing after the failure");
    assert_eq!(policies_of(&env, world::VIEWER), had + 1);
    // The same in JSON.
    env.handle().set_knobs(|k| {
        k.faults.push(fault("POST", "/v1/policies", FaultKind::Status { status: 500 }, Some(1)).after(1));
    });
    let (code, v) = json(&env, &with(&GRANT_VERA, &["-f"]));
    assert_eq!(code, 4, "{v}");
    assert_eq!(outcomes(&v), ["created", "failed", "notAttempted"], "{v}");
    assert_eq!(v["grant"]["createdPolicyIds"].as_array().map(Vec::len), Some(1), "{v}");
    assert!(v["grant"]["results"][1]["reason"].as_str().unwrap().contains("HTTP 500"), "{v}");
    // The printed command creates the rest, and nothing twice.
    let rest = printed(&r.stdout, "An account administrator can create");
    assert!(rest.contains(&"--grant".to_owned()), "{rest:?}");
    run(&env, &with(&rest.iter().map(String::as_str).collect::<Vec<_>>(), &["-f"])).success();
    assert_eq!(policies_of(&env, world::VIEWER), had + 4);
    env.login(keys::VIEWER, Some("us-south"));
    env.run(&["check", "-r", "us-south", "-g", "Default"]).success().stdout_has("Nothing is missing.");
}

#[test]
fn a_body_that_is_not_iams_own_leaves_the_policy_unknown_and_nothing_is_sent_again() {
    let env = as_identity(keys::OWNER);
    let had = policies_of(&env, world::VIEWER);
    // A 500 whose body has no trace (not provably IAM's): nothing written, but nothing proves it.
    let boom = r#"{"errors":[{"code":"internal_error","message":"boom"}]}"#;
    env.handle().set_knobs(|k| {
        k.faults
            .push(fault("POST", "/v1/policies", FaultKind::Body { status: 500, body: boom.into() }, Some(1)).after(1));
    });
    let r = run(&env, &with(&GRANT_VERA, &["-f"]));
    crate::assert_run!(env, "check-grant-unknown", r);
    assert_eq!(env.handle().stat(POLICIES), 2);
    assert_eq!(policies_of(&env, world::VIEWER), had + 1);
    // The command it prints to look runs as printed, and grants nothing.
    let look = printed(&r.stderr, "A policy whose outcome is unknown");
    assert!(!look.contains(&"--grant".to_owned()), "{look:?}");
    run(&env, &look).exits(3);
    assert_eq!(env.handle().stat(POLICIES), 2);
}

#[test]
fn a_policy_write_whose_answer_is_lost_is_looked_up_and_never_sent_again() {
    let cases = [
        FaultKind::Truncate,
        FaultKind::ResetAfter,
        FaultKind::Gateway { status: 502, html: true, backend_delay_ms: 0 },
        FaultKind::Gateway { status: 503, html: false, backend_delay_ms: 0 },
        FaultKind::Gateway { status: 504, html: false, backend_delay_ms: 200 },
    ];
    for kind in cases {
        let env = as_identity(keys::OWNER);
        let had = policies_of(&env, world::VIEWER);
        env.handle().set_knobs(|k| k.faults.push(fault("POST", "/v1/policies", kind.clone(), Some(1))));
        let (code, v) = json(&env, &with(&GRANT_VERA, &["-f"]));
        assert_eq!(code, 0, "{kind:?}: {v}");
        assert_eq!(outcomes(&v), ["created"; 4], "{kind:?}: {v}");
        assert!(v["grant"]["results"][0]["overruledAnswer"].is_string(), "{kind:?}: {v}");
        assert_eq!(env.handle().stat(POLICIES), 4, "{kind:?}: one POST per policy");
        assert_eq!(policies_of(&env, world::VIEWER), had + 4, "{kind:?}");
    }
    // The control: the connection drops and nothing was written. Unknown, exit 5, the rest not
    // attempted, and nothing sent again.
    let env = as_identity(keys::OWNER);
    let had = policies_of(&env, world::VIEWER);
    env.handle().set_knobs(|k| k.faults.push(fault("POST", "/v1/policies", FaultKind::Reset, Some(1))));
    let (code, v) = json(&env, &with(&GRANT_VERA, &["-f"]));
    assert_eq!(code, 5, "{v}");
    assert_eq!(outcomes(&v), ["unknown", "notAttempted", "notAttempted", "notAttempted"], "{v}");
    assert_eq!(env.handle().stat(POLICIES), 1);
    assert_eq!(policies_of(&env, world::VIEWER), had);
}

#[test]
fn an_invitation_whose_answer_is_lost_is_looked_for_and_never_sent_twice() {
    let email = "new.fid@example.com";
    let args = ["check", "--user", email, "-r", "us-south", "-g", "Default", "--grant", "--invite", "-f"];
    let invited = |env: &TestEnv| env.handle().world().identities.iter().filter(|i| i.email == email).count();
    for kind in [
        FaultKind::Truncate,
        FaultKind::ResetAfter,
        FaultKind::Gateway { status: 502, html: true, backend_delay_ms: 0 },
        FaultKind::Gateway { status: 503, html: false, backend_delay_ms: 0 },
    ] {
        let env = as_identity(keys::OWNER);
        env.handle().set_knobs(|k| k.faults.push(fault("POST", "/users", kind.clone(), Some(1))));
        let (code, v) = json(&env, &with(&args, &[]));
        assert_eq!(code, 3, "{kind:?}: {v}");
        assert_eq!(v["invite"]["outcome"], "invited", "{kind:?}: {v}");
        assert_eq!(v["invite"]["invited"]["state"], "PENDING", "{kind:?}: {v}");
        assert!(v["invite"]["invited"]["overruledAnswer"].is_string(), "{kind:?}: {v}");
        assert_eq!(env.handle().stat(INVITE), 1, "{kind:?}");
        assert_eq!(invited(&env), 1, "{kind:?}");
    }
    // The control: dropped, and not carried out. Unknown (exit 5), never sent again, and the
    // command to look runs as printed (it finds nobody).
    let env = as_identity(keys::OWNER);
    env.handle().set_knobs(|k| k.faults.push(fault("POST", "/users", FaultKind::Reset, Some(1))));
    let r = env.run(&args);
    crate::assert_run!(env, "check-invite-unknown", r);
    assert_eq!((env.handle().stat(INVITE), invited(&env)), (1, 0));
    let look = printed(&r.stderr, "Look before inviting again");
    run(&env, &look).exits(1).stderr_has("No user of the account has the email 'new.fid@example.com'");
    // User Management's own 500 (nothing done, a look-up confirms): failed, exit 1.
    env.handle().set_knobs(|k| k.faults.push(fault("POST", "/users", FaultKind::Status { status: 500 }, Some(1))));
    let (code, v) = json(&env, &with(&args, &[]));
    assert_eq!((code, &v["invite"]["outcome"]), (1, &Value::from("failed")), "{v}");
    assert_eq!((env.handle().stat(INVITE), invited(&env)), (2, 0));
}

#[test]
fn check_names_what_grants_each_requirement_and_prints_the_grant_command_that_runs_as_printed() {
    let env = as_identity(keys::GROUP_MEMBER);
    let r = env.run(&["check", "-r", "us-south", "-g", "Default"]);
    crate::assert_run!(env, "check-group-member", r);
    // Several targets: one command for all of them, which an administrator runs as printed.
    let env = as_identity(keys::VIEWER);
    let r = env.run(&["check", "-r", "us-south,eu-de", "-g", "Default"]);
    crate::assert_run!(env, "check-viewer-two-targets", r);
    let cmd = printed(&r.stdout, "An account administrator can create");
    assert_eq!(cmd.join(" "), format!("check --region us-south,eu-de -g Default --iam-id {} --grant", world::VIEWER));
    env.login(keys::OWNER, Some("us-south"));
    run(&env, &with(&cmd.iter().map(String::as_str).collect::<Vec<_>>(), &["-f"])).success();
    env.login(keys::VIEWER, Some("us-south"));
    crate::assert_run!(
        env,
        "check-viewer-two-targets-after-grant",
        env.run(&["check", "-r", "us-south,eu-de", "-g", "Default"])
    );
}

#[test]
fn look_alike_emails_are_refused_before_anything_is_sent() {
    let env = as_identity(keys::OWNER);
    let cases = [
        ("new.f\u{0456}d@example.com", r"new.f\u{0456}d@example.com", "U+0456"),
        ("v\u{0430}ra.viewer@example.com", r"v\u{0430}ra.viewer@example.com", "U+0430"),
        ("new.fid\u{200b}@example.com", r"new.fid\u{200b}@example.com", "U+200B"),
        ("new.fid@exa\u{202e}moc.elpmaxe", r"new.fid@exa\u{202e}moc.elpmaxe", "U+202E"),
        ("\u{212a}en@example.com", r"\u{212a}en@example.com", "U+212A"),
        ("new.fid@example.com\nOK", r"new.fid@example.com\u{000a}OK", "U+000A"),
        ("new.fid@example.com\n", r"new.fid@example.com\u{000a}", "U+000A"),
    ];
    for (email, shown, code_point) in cases {
        for args in [
            vec!["check", "--user", email, "-r", "us-south", "-g", "Default", "--grant", "--invite", "-f"],
            vec!["check", "--user", email, "-r", "us-south", "-g", "Default"],
        ] {
            let r = env.run(&args);
            r.exits(1).stderr_has(&format!("'{shown}' is not a plain email address: it contains {code_point}"));
            let raw: String = email.chars().filter(|c| !c.is_ascii()).collect();
            if !raw.is_empty() {
                r.stdout_lacks(&raw).stderr_lacks(&raw);
            }
        }
    }
    let r = env.run(&["check", "--user", "v\u{0430}ra.viewer@example.com", "--grant", "--invite", "-f"]);
    crate::assert_run!(env, "check-invite-look-alike", r);
    assert_eq!((env.handle().stat(INVITE), env.handle().stat(POLICIES)), (0, 0));
    // The control: the plain address is invited.
    env.run(&[
        "check",
        "--user",
        "new.fid@example.com",
        "-r",
        "us-south",
        "-g",
        "Default",
        "--grant",
        "--invite",
        "-f",
    ])
    .exits(3);
    assert_eq!(env.handle().stat(INVITE), 1);
}

#[test]
fn an_email_two_users_share_names_both_and_grants_to_neither() {
    let env = as_identity(keys::OWNER);
    // The control: while one user has it, the email names them.
    run(&env, &with(&GRANT_VERA, &["--dry-run"])).exits(3).stdout_has("Identity: vera.viewer@example.com");
    let twin = "IBMid-2700000TWN";
    {
        let mut w = env.handle().world();
        let mut other = w.identities.iter().find(|i| i.iam_id == world::VIEWER).unwrap().clone();
        other.iam_id = twin.into();
        other.name = "Vera Twin".into();
        w.identities.push(other);
    }
    let r = run(&env, &with(&GRANT_VERA, &["-f"]));
    crate::assert_run!(env, "check-shared-email", r);
    assert_eq!(env.handle().stat(POLICIES), 0);
    // Named by IAM ID: that user, and only that one.
    let had = policies_of(&env, world::VIEWER);
    env.run(&["check", "--iam-id", world::VIEWER, "-r", "us-south", "-g", "Default", "--grant", "-f"]).success();
    assert_eq!((policies_of(&env, world::VIEWER) - had, policies_of(&env, twin)), (4, 0));
}

#[test]
fn grant_and_invite_audit_lines_name_the_caller_as_actor() {
    let env = as_identity(keys::OWNER);
    run(&env, &with(&GRANT_VERA, &["-f"])).success();
    env.run(&[
        "check",
        "--user",
        "new.fid@example.com",
        "-r",
        "us-south",
        "-g",
        "Default",
        "--grant",
        "--invite",
        "-f",
    ])
    .exits(3);
    let audit = crate::common::read(&env.plugin_dir().join("audit.jsonl"));
    let lines: Vec<Value> = audit.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut actions = Vec::new();
    for l in lines.iter().filter(|l| l["action"] == "grant" || l["action"] == "invite") {
        assert_eq!(l["actor"], world::OWNER, "{l}");
        assert_eq!(l["account"], world::ACCOUNT_ID, "{l}");
        actions.push(l["action"].as_str().unwrap().to_owned());
    }
    assert_eq!(actions, ["grant", "grant", "grant", "grant", "invite"], "{audit}");
}

#[test]
fn classic_credentials_of_an_email_two_users_share_have_an_unknown_owner_in_status() {
    let env = as_identity(keys::OWNER);
    {
        let mut w = env.handle().world();
        w.classic_credentials.clear();
        w.classic_credentials.push(world::ClassicCredential {
            account_id: world::ACCOUNT_ID.into(),
            region: "us-south".into(),
            resource_group_id: world::RG_DEFAULT.into(),
            username: "2412345_vera.viewer@example.com".into(),
            api_key_sha256: String::from("0"),
        });
    }
    let owner_state = |env: &TestEnv| {
        let r = env.run(&["status", "-r", "us-south", "-g", "Default", "-o", "json"]);
        let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {r:?}"));
        crate::status::target(&v, "us-south", "Default")["classicCredentials"]["ownerState"].clone()
    };
    // The control: one user has the email, and is its owner.
    assert_eq!(owner_state(&env)["state"], "ACTIVE");
    {
        let mut w = env.handle().world();
        let mut other = w.identities.iter().find(|i| i.iam_id == world::VIEWER).unwrap().clone();
        other.iam_id = "IBMid-2700000TWN".into();
        w.identities.push(other);
    }
    // Two: which of them holds the credentials cannot be told.
    let state = owner_state(&env);
    assert_eq!(state["kind"], "unknown", "{state}");
    let reason = state["reason"].as_str().unwrap();
    assert!(reason.contains(world::VIEWER) && reason.contains("IBMid-2700000TWN"), "{state}");
}

#[test]
fn an_invitation_says_in_words_how_to_check_what_iam_cannot_tell() {
    // The invitation's requirements are the check's: classic infrastructure permissions are not
    // in IAM, and the JSON says how to check them with the command as it runs (no template).
    let env = as_identity(keys::OWNER);
    let args = ["check", "--user", "new.fid@example.com", "-r", "us-south", "-g", "Default", "--grant", "--invite"];
    let (code, v) = json(&env, &with(&args, &["--dry-run"]));
    // 3: the requirements are missing until the invitation is accepted.
    assert_eq!(code, 3, "{v}");
    let reqs = v["invite"]["requirements"][0]["requirements"].as_array().unwrap_or_else(|| panic!("{v}"));
    let classic = reqs.iter().find(|r| r["code"] == "classic-infrastructure").unwrap_or_else(|| panic!("{v}"));
    assert_eq!(
        classic["how"],
        "classic infrastructure permissions are not in IAM; check them with 'ibmcloud ks infra-permissions get --region us-south'",
        "{v}"
    );
    // The check itself says the same.
    let (_, list, v) = states(&env, &["--region", "us-south"]);
    assert_eq!(state_of(&list, "classic-infrastructure"), "notCheckable");
    let reqs = v["targets"][0]["requirements"].as_array().unwrap_or_else(|| panic!("{v}"));
    let classic = reqs.iter().find(|r| r["code"] == "classic-infrastructure").unwrap_or_else(|| panic!("{v}"));
    assert_eq!(
        classic["how"],
        "classic infrastructure permissions are not in IAM; check them with 'ibmcloud ks infra-permissions get --region us-south'"
    );
}
