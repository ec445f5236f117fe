//! Issue #23: the policy file. Its rules (functional IDs, max age, fail-on) with flags over
//! them, accepted findings (shown, not counted), expired and unused acceptances, bad files
//! refused before any request with line and column, the baseline round trip, and
//! `reset --unless-owner functional`.

use cluster_api_key_core::env as var;
use cluster_api_key_emulator::world::keys;
use serde_json::Value;

use crate::common::TestEnv;

fn functional() -> TestEnv {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env
}

fn write(env: &TestEnv, name: &str, text: &str) -> String {
    let path = env.home.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

fn status(env: &TestEnv, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["status", "-o", "json"];
    all.extend_from_slice(args);
    let r = env.run(&all);
    (r.code, serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {r:?}")))
}

/// `region/group` → the codes of its findings, `!code` when accepted.
fn findings(v: &Value) -> Vec<(String, Vec<String>)> {
    v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let codes = t["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    let c = f["code"].as_str().unwrap();
                    if f["accepted"] == true { format!("!{c}") } else { c.to_owned() }
                })
                .collect();
            (format!("{}/{}", t["region"].as_str().unwrap(), t["resourceGroupName"].as_str().unwrap()), codes)
        })
        .collect()
}

fn of<'a>(all: &'a [(String, Vec<String>)], target: &str) -> &'a [String] {
    &all.iter().find(|(t, _)| t == target).unwrap_or_else(|| panic!("{target} in {all:?}")).1
}

#[test]
fn without_a_file_the_defaults_hold() {
    let env = functional();
    let (code, v) = status(&env, &[]);
    assert_eq!(code, 3);
    assert!(v["policy"].is_null(), "{v}");
    let f = findings(&v);
    assert!(of(&f, "us-south/production").contains(&"personal-owner".to_owned()), "{f:?}");
    assert!(of(&f, "us-south/production").contains(&"key-too-old".to_owned()), "{f:?}");
}

#[test]
fn the_rules_apply_and_flags_override_them() {
    let env = functional();
    let p = write(
        &env,
        "rules.toml",
        "functional_ids = [\"K8S-Functional@example.com\"]\nmax_age = \"10000d\"\nfail_on = \"never\"\n",
    );
    let (code, v) = status(&env, &["--policy", &p]);
    assert_eq!(code, 0, "fail_on = never: {v}");
    let f = findings(&v);
    assert!(of(&f, "us-south/production").is_empty(), "the functional ID by email, no age limit: {f:?}");
    // Flags win over the file.
    let (code, v) = status(&env, &["--policy", &p, "--fail-on", "warning", "--max-age", "30d"]);
    assert_eq!(code, 3, "{v}");
    assert_eq!(of(&findings(&v), "us-south/production"), ["key-too-old"]);
    // Found through the variable, and in the plugin's folder.
    let mut env = env;
    env.extra_env.insert(var::CAK_POLICY.into(), p.clone());
    assert_eq!(status(&env, &[]).0, 0);
    env.extra_env.remove(var::CAK_POLICY);
    std::fs::create_dir_all(env.plugin_dir()).unwrap();
    std::fs::copy(&p, env.plugin_dir().join("policy.toml")).unwrap();
    let (code, v) = status(&env, &[]);
    assert_eq!(code, 0);
    assert!(v["policy"]["path"].as_str().unwrap().ends_with("policy.toml"), "{v}");
}

#[test]
fn accepted_findings_show_apart_and_do_not_count() {
    let env = functional();
    // Everything but the warnings of eu-de's key is fixed or accepted... except us-south.
    let p = write(
        &env,
        "accept.toml",
        r#"
[[accept]]
finding = "key-locked"
target = "eu-*/Default"
reason = "Locked during the migration."
until = 2099-12-31
by = "olivia"

[[accept]]
finding = "orphan-key"
target = "eu-de/9999aaaabbbbccccddddeeeeffff0000"
key = "ApiKey-5555-eu-staging-orphan"
reason = "Staging comes back."
until = "2099-01-01"

[[accept]]
finding = "no-key"
target = "jp-tok/Default"
owner = "nobody@example.com"
reason = "Does not match: no owner there."
until = 2099-01-01
"#,
    );
    let (code, v) = status(&env, &["--policy", &p]);
    assert_eq!(code, 3, "{v}");
    let f = findings(&v);
    assert!(of(&f, "eu-de/Default").contains(&"!key-locked".to_owned()), "a glob: {f:?}");
    assert!(of(&f, "eu-de/staging").contains(&"!orphan-key".to_owned()), "a group by ID, a key: {f:?}");
    assert!(of(&f, "jp-tok/Default").contains(&"no-key".to_owned()), "an owner that does not match: {f:?}");
    assert_eq!(v["summary"]["accepted"], 2, "{v}");
    let locked = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["findings"].as_array().unwrap())
        .find(|f| f["code"] == "key-locked")
        .unwrap();
    assert_eq!(
        (locked["reason"].as_str(), locked["until"].as_str(), locked["by"].as_str()),
        (Some("Locked during the migration."), Some("2099-12-31"), Some("olivia"))
    );
    // The unused acceptance is reported.
    assert_eq!(v["policy"]["unused"].as_array().unwrap().len(), 1, "{v}");
    assert!(v["policy"]["unused"][0].as_str().unwrap().contains("no-key for jp-tok/Default"), "{v}");
    // Text: a section of its own, and the warning; CSV: the column.
    let r = env.run(&["status", "--policy", &p]);
    r.exits(3)
        .stdout_has("Accepted by the policy")
        .stdout_has("until 2099-12-31, by olivia: Locked during the migration.");
    r.stderr_has("matches no finding");
    let csv = env.run(&["status", "--policy", &p, "-o", "csv"]);
    assert!(csv.stdout.lines().next().unwrap().contains(",worstSeverity,accepted,"), "{}", csv.stdout);
    assert!(
        csv.stdout.lines().any(|l| l.starts_with("eu-de,Default,") && l.ends_with(",key-locked,,,")),
        "{}",
        csv.stdout
    );
    // Accepting every warning and critical finding left makes the run pass.
    let all = write(
        &env,
        "all.toml",
        "[[accept]]\nfinding = \"no-key\"\ntarget = \"*/*\"\nreason = \"r\"\nuntil = 2099-01-01\n\n[[accept]]\nfinding = \"owner-inactive\"\ntarget = \"*/*\"\nreason = \"r\"\nuntil = 2099-01-01\n\n[[accept]]\nfinding = \"classic-credentials-owner-gone\"\ntarget = \"us-south/Default\"\nreason = \"r\"\nuntil = 2099-01-01\n",
    );
    let (_, v) = status(&env, &["--policy", &all, "--fail-on", "critical"]);
    assert_eq!(v["summary"]["critical"], 0, "{v}");
    assert_eq!(status(&env, &["--policy", &all, "--fail-on", "critical"]).0, 0);
}

#[test]
fn an_expired_acceptance_accepts_nothing_and_is_a_finding() {
    let env = functional();
    let p = write(
        &env,
        "expired.toml",
        "[[accept]]\nfinding = \"key-locked\"\ntarget = \"eu-de/Default\"\nreason = \"old\"\nuntil = 2026-01-31\n",
    );
    let (code, v) = status(&env, &["--policy", &p, "-r", "eu-de", "-g", "Default"]);
    assert_eq!(code, 3);
    let f = findings(&v);
    let eu = of(&f, "eu-de/Default");
    assert!(eu.contains(&"key-locked".to_owned()) && eu.contains(&"acceptance-expired".to_owned()), "{eu:?}");
    assert!(v["policy"]["unused"].as_array().unwrap().is_empty(), "an expired one is a finding, not unused: {v}");
}

#[test]
fn bad_files_are_refused_before_any_request_with_line_and_column() {
    let env = functional();
    for (text, says) in [
        ("functional_ids = []\nmax_agee = \"9d\"\n", ":2:1: unknown field `max_agee`"),
        (
            "[[accept]]\nfinding = \"owner-gone\"\ntarget = \"a/b\"\nreason = \"r\"\nuntil = 2099-01-01\n",
            ":2:11: 'owner-gone' is not a finding code; valid codes: no-key, owner-not-in-account",
        ),
        (
            "[[accept]]\nfinding = \"no-key\"\ntarget = \"a/b\"\nreason = \"r\"\nuntil = \"2099-02-30\"\n",
            ":5:9: until = \"2099-02-30\" is not a date",
        ),
        (
            "[[accept]]\nfinding = \"no-key\"\ntarget = \"eu-{de,gb}/b\"\nreason = \"r\"\nuntil = 2099-01-01\n",
            ":3:10: target = ",
        ),
        ("fail_on = \"often\"\n", ":1:11: fail_on = 'often' is not one of"),
    ] {
        let p = write(&env, "bad.toml", text);
        let r = env.run(&["status", "--policy", &p]);
        r.exits(2).stderr_has(&format!("{p}{says}"));
        assert_eq!(env.handle().stats().values().sum::<u64>(), 0, "no request: {text}");
    }
    // A file that is not there is the same kind of mistake.
    env.run(&["status", "--policy", "/nonexistent/policy.toml"]).exits(2).stderr_has("cannot be read");
    // In JSON mode too, before any request.
    let p = write(&env, "bad.toml", "max_age = 5\n");
    let r = env.run(&["status", "--policy", &p, "-o", "json"]);
    r.exits(2);
    assert_eq!(env.handle().stats().values().sum::<u64>(), 0);
}

#[test]
fn a_baseline_accepts_today_and_fails_only_on_what_is_new() {
    let env = functional();
    let base = env.home.path().join("baseline.toml").to_string_lossy().into_owned();
    let r = env.run(&["status", "--baseline", &base]);
    r.success().stdout_has("Wrote the baseline");
    let text = std::fs::read_to_string(&base).unwrap();
    assert!(text.contains("reason = \"baseline\"") && text.contains("[[accept]]"), "{text}");
    let (code, v) = status(&env, &["--policy", &base]);
    assert_eq!(code, 0, "the baseline accepts every finding: {v}");
    assert!(v["summary"]["accepted"].as_u64().unwrap() >= 10, "{v}");
    // Something new: a key locked today. Only that fails.
    env.handle().world().api_keys.iter_mut().find(|k| k.id == "ApiKey-2222-us-prod-cur").unwrap().locked = true;
    let (code, v) = status(&env, &["--policy", &base]);
    assert_eq!(code, 3, "{v}");
    let open: Vec<(String, Vec<String>)> =
        findings(&v).into_iter().map(|(t, c)| (t, c.into_iter().filter(|c| !c.starts_with('!')).collect())).collect();
    assert_eq!(of(&open, "us-south/production"), ["key-locked"]);
    assert!(open.iter().filter(|(t, _)| t != "us-south/production").all(|(_, c)| c.is_empty()), "{open:?}");
}

#[test]
fn a_batch_reset_skips_what_a_functional_id_already_owns() {
    let env = functional();
    let p = write(&env, "f.toml", "functional_ids = [\"k8s-functional@example.com\"]\n");
    let r = env.run(&[
        "reset",
        "--all-regions",
        "--all-resource-groups",
        "--unless-owner",
        "functional",
        "--policy",
        &p,
        "--dry-run",
        "-o",
        "json",
    ]);
    r.success();
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let skipped: Vec<String> = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["skipReason"].as_str().is_some_and(|s| s.contains("functional ID")))
        .map(|t| {
            format!(
                "{}/{}",
                t["target"]["region"].as_str().unwrap(),
                t["target"]["resourceGroup"]["name"].as_str().unwrap()
            )
        })
        .collect();
    // jp-tok/staging is the service ID's, which the policy does not name.
    assert_eq!(skipped, ["us-south/production"], "{v}");
    // Without functional IDs to go by, it is a usage error, before any request.
    let env = functional();
    let r = env.run(&["reset", "--all-regions", "--all-resource-groups", "--unless-owner", "functional", "--dry-run"]);
    r.exits(2).stderr_has("functional_ids");
}
