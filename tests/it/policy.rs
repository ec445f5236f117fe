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
    assert_eq!(of(&f, "us-south/production"), ["personal-owner", "key-too-old"], "{f:?}");
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
    // A glob; a group by ID and a key; an owner that does not match.
    assert_eq!(
        of(&f, "eu-de/Default"),
        [
            "personal-owner",
            "key-too-old",
            "!key-locked",
            "owner-roles-unknown",
            "owner-is-account-owner",
            "owner-near-key-limit",
            "superseded-keys"
        ],
        "{f:?}"
    );
    assert_eq!(
        of(&f, "eu-de/staging"),
        ["personal-owner", "key-too-old", "owner-is-account-owner", "owner-near-key-limit", "!orphan-key"],
        "{f:?}"
    );
    assert_eq!(of(&f, "jp-tok/Default"), ["no-key"], "{f:?}");
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
    assert_eq!(v["policy"]["unused"][0], "line 16: no-key for jp-tok/Default", "{v}");
    // Text: a section of its own, and the warning; CSV: the column.
    crate::assert_run!(env, "policy-accepted-text", env.run(&["status", "--policy", &p]));
    crate::assert_run!(env, "policy-accepted-csv", env.run(&["status", "--policy", &p, "-o", "csv"]));
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
    assert_eq!(
        of(&f, "eu-de/Default"),
        [
            "personal-owner",
            "key-too-old",
            "key-locked",
            "owner-roles-unknown",
            "owner-is-account-owner",
            "owner-near-key-limit",
            "acceptance-expired",
            "superseded-keys"
        ],
        "{f:?}"
    );
    assert!(v["policy"]["unused"].as_array().unwrap().is_empty(), "an expired one is a finding, not unused: {v}");
}

#[test]
fn bad_files_are_refused_before_any_request_with_line_and_column() {
    let env = functional();
    // Each with its line and column.
    for (text, name) in [
        ("functional_ids = []\nmax_agee = \"9d\"\n", "policy-bad-unknown-key"),
        (
            "[[accept]]\nfinding = \"owner-gone\"\ntarget = \"a/b\"\nreason = \"r\"\nuntil = 2099-01-01\n",
            "policy-bad-finding-code",
        ),
        (
            "[[accept]]\nfinding = \"no-key\"\ntarget = \"a/b\"\nreason = \"r\"\nuntil = \"2099-02-30\"\n",
            "policy-bad-date",
        ),
        (
            "[[accept]]\nfinding = \"no-key\"\ntarget = \"eu-{de/b\"\nreason = \"r\"\nuntil = 2099-01-01\n",
            "policy-bad-unclosed-brace",
        ),
        ("fail_on = \"often\"\n", "policy-bad-fail-on"),
    ] {
        let p = write(&env, "bad.toml", text);
        crate::assert_run!(env, name, env.run(&["status", "--policy", &p]));
        assert_eq!(env.handle().stats().values().sum::<u64>(), 0, "no request: {text}");
    }
    // A file that is not there is the same kind of mistake.
    let r = env.run(&["status", "--policy", "/nonexistent/policy.toml"]);
    crate::assert_run!(env, "policy-bad-nonexistent", r);
    // In JSON mode too, before any request.
    let p = write(&env, "bad.toml", "max_age = 5\n");
    crate::assert_run!(env, "policy-bad-json-mode", env.run(&["status", "--policy", &p, "-o", "json"]));
    assert_eq!(env.handle().stats().values().sum::<u64>(), 0);
}

#[test]
fn a_baseline_accepts_today_and_fails_only_on_what_is_new() {
    let env = functional();
    let base = env.home.path().join("baseline.toml").to_string_lossy().into_owned();
    // Critical findings too, asked for: this test is about the round trip.
    let r = env.run(&["status", "--baseline", &base, "--baseline-critical"]);
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
    // Followed by reset's help, as every usage error is by its command's (the root help once).
    crate::assert_run!(
        env,
        "policy-unless-functional-without-ids",
        env.run(&["reset", "--all-regions", "--all-resource-groups", "--unless-owner", "functional", "--dry-run"])
    );
}

/// The JSON document of a run (any exit code).
fn json(r: &crate::common::Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {r:?}"))
}

#[test]
fn a_baseline_leaves_critical_findings_open_unless_asked_and_counts_each_severity() {
    let env = functional();
    let base = env.home.path().join("baseline.toml").to_string_lossy().into_owned();
    // The account has critical findings (no-key, owner-inactive, classic-credentials-owner-gone).
    let (_, before) = status(&env, &[]);
    let critical = before["summary"]["critical"].as_u64().unwrap();
    assert!(critical > 0, "{before}");
    let r = env.run(&["status", "--baseline", &base, "-o", "json"]);
    let v = json(&r);
    assert_eq!(r.code, 3, "the critical findings still fail: {v}");
    assert_eq!(v["baseline"]["notAccepted"]["critical"], critical, "{v}");
    assert_eq!(v["baseline"]["accepted"]["critical"], 0, "{v}");
    assert!(v["baseline"]["accepted"]["warnings"].as_u64().unwrap() > 0, "{v}");
    assert!(v["baseline"]["accepted"]["info"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(v["baseline"]["written"], true);
    assert_eq!(v["summary"]["critical"], critical, "{v}");
    // The next run says the same: the criticals are open, nothing else is.
    let (code, next) = status(&env, &["--policy", &base]);
    assert_eq!((code, &next["summary"]["critical"], &next["summary"]["warnings"]), (3, &critical.into(), &0.into()));
    // Text: each severity counted, and how to accept the criticals too.
    std::fs::remove_file(&base).unwrap();
    let r = env.run(&["status", "--baseline", &base]);
    r.exits(3).stdout_has(&format!(
        "accepts {} more findings until",
        v["baseline"]["accepted"]["warnings"].as_u64().unwrap() + v["baseline"]["accepted"]["info"].as_u64().unwrap()
    ));
    r.stdout_has(&format!("(0 critical, {} warnings, ", v["baseline"]["accepted"]["warnings"]));
    r.stdout_has(&format!(
        "{critical} critical findings not accepted: fix them, or accept them too with --baseline-critical."
    ));
    // Asked for: the criticals too, counted.
    std::fs::remove_file(&base).unwrap();
    let r = env.run(&["status", "--baseline", &base, "--baseline-critical", "-o", "json"]);
    let v = json(&r);
    assert_eq!(r.code, 0, "{v}");
    assert_eq!(v["baseline"]["accepted"]["critical"], critical, "{v}");
    assert_eq!(v["baseline"]["notAccepted"]["critical"], 0, "{v}");
    // --baseline-critical and -f mean nothing without --baseline: a usage error.
    env.run(&["status", "--baseline-critical"]).exits(2);
}

#[cfg(unix)]
#[test]
fn a_baseline_adds_to_a_policy_and_never_rewrites_what_a_person_wrote() {
    use std::os::unix::fs::PermissionsExt as _;
    let env = functional();
    let written = "# Our policy. Reviewed by the platform team.\nfunctional_ids = [\"k8s-functional@example.com\"] # the CI identity\n\n# Only this key, while the migration runs.\n[[accept]]\nfinding = \"key-locked\"\ntarget = \"eu-de/Default\"\nkey = \"ApiKey-3333-eu-default-cur\"\nreason = \"Migration.\"\nuntil = 2099-12-31\nby = \"olivia\"\n\n# Another region's, out of the run's scope.\n[[accept]]\nfinding = \"orphan-key\"\ntarget = \"eu-de/staging\"\nreason = \"Staging comes back.\"\nuntil = 2099-01-01\nby = \"olivia\"\n\n# Matches nothing today: kept all the same.\n[[accept]]\nfinding = \"no-key\"\ntarget = \"ap-*/Default\"\nreason = \"Not yet.\"\nuntil = 2099-01-01\n";
    let dir = env.home.path().join("policies");
    std::fs::create_dir(&dir).unwrap();
    let file = dir.join("policy.toml");
    std::fs::write(&file, written).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let link = env.home.path().join("link.toml");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    let link_s = link.to_string_lossy().into_owned();
    // In a pipe, without -f: refused before any request, nothing written.
    let r = env.run(&["status", "-r", "us-south", "--baseline", &link_s]);
    crate::assert_run!(env, "policy-baseline-exists-in-a-pipe", r);
    assert_eq!(env.handle().stats().values().sum::<u64>(), 0, "no request");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), written);
    // With -f, filtered to one region: added to, every byte a person wrote kept.
    let r = env.run(&["status", "-r", "us-south", "--baseline", &link_s, "-f", "-o", "json"]);
    let v = json(&r);
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(after.starts_with(written), "{after}");
    let added = &after[written.len()..];
    assert!(added.contains("[[accept]]") && added.contains("target = \"us-south/"), "{added}");
    assert!(!added.contains("eu-de") && !added.contains("2099"), "only this run's findings, 90 days: {added}");
    assert!(v["baseline"]["accepted"]["warnings"].as_u64().unwrap() > 0, "{v}");
    // The link is still a link, the file keeps its mode, no temporary file is left.
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o644);
    let names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["policy.toml"]);
    // It reads back, the key-scoped acceptance still key-scoped, the stale one still reported.
    let (_, v) = status(&env, &["--policy", &link_s]);
    let unused: Vec<&str> = v["policy"]["unused"].as_array().unwrap().iter().map(|u| u.as_str().unwrap()).collect();
    assert!(unused.iter().any(|u| u.contains("no-key for ap-*/Default")), "{unused:?}");
    // Run again: nothing new to add, the file is not touched.
    env.run(&["status", "-r", "us-south", "--baseline", &link_s, "-f"]).stdout_has("nothing to add");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), after);
}

#[test]
fn a_baseline_round_trips_group_names_with_pattern_characters() {
    let env = functional();
    {
        let mut w = env.handle().world();
        for g in &mut w.resource_groups {
            match g.name.as_str() {
                "production" => g.name = String::from("prod[1]{a,b}*"),
                "staging" => g.name = String::from("st/aging"),
                _ => {}
            }
        }
    }
    let base = env.home.path().join("b.toml").to_string_lossy().into_owned();
    let r = env.run(&["status", "--baseline", &base, "--baseline-critical", "-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let text = std::fs::read_to_string(&base).unwrap();
    assert!(text.contains("target = \"us-south/prod[[]1[]][{]a,b[}][*]\""), "{text}");
    // The group with a '/' is written by its ID.
    assert!(!text.contains("st/aging"), "{text}");
    let (code, v) = status(&env, &["--policy", &base]);
    assert_eq!(code, 0, "the same run's file reads and accepts: {v}");
    assert_eq!(v["policy"]["unused"].as_array().unwrap().len(), 0, "{v}");
}

#[test]
fn a_policy_error_is_a_failed_line_in_our_words_even_with_q() {
    let env = functional();
    let cases = [
        ("max_age = \"soon\"\n", "policy-error-duration"),
        ("max_age = 90\n", "policy-error-no-unit"),
        (
            "[[accept]]\nfinding = \"acceptance-expired\"\ntarget = \"*/*\"\nreason = \"r\"\nuntil = 2099-01-01\n",
            "policy-error-accept-expired",
        ),
        (
            "[[accept]]\nfinding = \"no-key\"\ntarget = \"us-south/Default\"\nuntil = 2099-01-01\n",
            "policy-error-missing-reason",
        ),
    ];
    for (text, name) in cases {
        let p = write(&env, "bad.toml", text);
        let r = env.run(&["status", "-q", "--policy", &p]);
        crate::assert_run!(env, name, r);
    }
    // A missing file: FAILED, the path and the reason, exit 2, no help.
    let r = env.run(&["status", "-q", "--policy", "missing.toml"]);
    crate::assert_run!(env, "policy-error-missing-file", r);
    assert_eq!(env.handle().stats().values().sum::<u64>(), 0, "no request");
}

#[cfg(unix)]
#[test]
fn a_policy_that_is_not_a_regular_file_is_refused_without_reading() {
    let env = functional();
    let fifo = env.home.path().join("fifo.toml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    // A FIFO with no writer: reading it would wait forever.
    let r = env.run(&["status", "--policy", &fifo.to_string_lossy()]);
    crate::assert_run!(env, "policy-error-fifo", r);
    let r = env.run(&["status", "--policy", "/dev/zero"]);
    crate::assert_run!(env, "policy-error-device", r);
    // Larger than the cap: refused, and the cap said.
    let big = env.home.path().join("big.toml");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(16 * 1024 * 1024 + 1).unwrap();
    crate::assert_run!(env, "policy-error-too-large", env.run(&["status", "--policy", &big.to_string_lossy()]));
}

#[test]
fn q_keeps_the_failed_line_of_every_error() {
    // Not only the policy's: a failure reading the account, with -q, still says FAILED.
    let env = functional();
    env.handle().set_knobs(|k| {
        k.faults.push(crate::common::fault(
            "GET",
            "/v2/resource_groups",
            cluster_api_key_emulator::FaultKind::Status { status: 500 },
            None,
        ));
    });
    crate::assert_run!(env, "policy-q-keeps-failed-line", env.run(&["status", "-q"]));
}

#[cfg(unix)]
#[test]
fn adding_to_an_existing_baseline_asks_on_a_terminal() {
    let env = functional();
    let base = env.home.path().join("b.toml");
    std::fs::write(&base, "# ours\n").unwrap();
    let base_s = base.to_string_lossy().into_owned();
    let spawn = |args: &[&str]| rexpect::session::spawn_command(env.command(args), Some(30_000)).unwrap();
    let mut p = spawn(&["status", "-r", "us-south", "--baseline", &base_s]);
    p.exp_string("to the policy '").unwrap();
    p.exp_string("[y/N]").unwrap();
    p.send_line("n").unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("Did not write the baseline"), "{rest}");
    assert_eq!(std::fs::read_to_string(&base).unwrap(), "# ours\n");
    let mut p = spawn(&["status", "-r", "us-south", "--baseline", &base_s]);
    p.exp_string("[y/N]").unwrap();
    p.send_line("y").unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("Added to the baseline"), "{rest}");
    let text = std::fs::read_to_string(&base).unwrap();
    assert!(text.starts_with("# ours\n") && text.contains("[[accept]]"), "{text}");
}
