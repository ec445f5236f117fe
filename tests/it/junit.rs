//! Issue #32: `status -o junit`. Every document the tests make is read by a JUnit consumer
//! (`junit-parser`, a reader CI tools' Rust ports use) and by a strict XML 1.0 parser (Python's
//! expat, which rejects any character XML forbids), and its counts are checked against its
//! cases.

use cluster_api_key_emulator::World;
use cluster_api_key_emulator::world::{self, keys};
use junit_parser::{TestCase, TestSuite, TestSuites};

use crate::common::{Run, TestEnv};

fn functional() -> TestEnv {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env
}

/// Whether `c` is a character XML 1.0 allows (its `Char` production).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// `text` read as JUnit: by `junit-parser`, by expat (where python3 is installed; CI installs
/// it; its file written in `dir`), with every character one XML allows and the counts of every
/// suite its cases'.
#[track_caller]
pub(crate) fn read(dir: &std::path::Path, text: &str) -> TestSuites {
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "), "{text}");
    if let Some(bad) = text.chars().find(|c| !xml_char(*c)) {
        panic!("a character XML 1.0 forbids: {bad:?}");
    }
    if let Some(python) = crate::common::outside_program("python3", ".ci/run installs python3 from Debian's packages") {
        let file = dir.join("status.xml");
        std::fs::write(&file, text).unwrap();
        let out = std::process::Command::new(python)
            .args(["-c", "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success(), "expat: {}", String::from_utf8_lossy(&out.stderr));
    }
    let suites = junit_parser::from_reader(std::io::Cursor::new(text.as_bytes()))
        .unwrap_or_else(|e| panic!("junit-parser cannot read it ({e}): {text}"));
    let (mut tests, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
    for s in &suites.suites {
        let count = |f: fn(&TestCase) -> bool| s.cases.iter().filter(|c| f(c)).count() as u64;
        assert_eq!(s.tests, s.cases.len() as u64, "{}", s.name);
        assert_eq!(s.failures, count(|c| c.status.is_failure()), "{}", s.name);
        assert_eq!(s.errors, count(|c| c.status.is_error()), "{}", s.name);
        assert_eq!(s.skipped, count(|c| c.status.is_skipped()), "{}", s.name);
        (tests, failures, errors, skipped) =
            (tests + s.tests, failures + s.failures, errors + s.errors, skipped + s.skipped);
    }
    assert_eq!((suites.tests, suites.failures, suites.errors, suites.skipped), (tests, failures, errors, skipped));
    suites
}

/// `status -o junit ARGS`, read.
#[track_caller]
fn junit(env: &TestEnv, args: &[&str]) -> (Run, TestSuites) {
    let mut all = vec!["status", "-o", "junit"];
    all.extend_from_slice(args);
    let r = env.run(&all);
    assert!(r.code == 0 || r.code == 3, "{r:?}");
    let suites = read(env.home.path(), &r.stdout);
    (r, suites)
}

fn suite<'a>(s: &'a TestSuites, name: &str) -> &'a TestSuite {
    s.suites
        .iter()
        .find(|x| x.name == name)
        .unwrap_or_else(|| panic!("no suite {name}: {:?}", s.suites.iter().map(|x| &x.name).collect::<Vec<_>>()))
}

fn case<'a>(s: &'a TestSuite, name: &str) -> &'a TestCase {
    s.cases.iter().find(|c| c.original_name == name).unwrap_or_else(|| panic!("no case {name} in {}", s.name))
}

fn target_suite<'a>(s: &'a TestSuites, region: &str, group: &str) -> &'a TestSuite {
    suite(s, &format!("{}/{region}/{group}", world::ACCOUNT_ID))
}

#[test]
fn the_sandbox_status_as_junit() {
    let home = tempfile::tempdir().unwrap();
    let r = crate::common::sandbox_run(home.path(), &["status", "-o", "junit"]);
    r.exits(3);
    assert!(r.stderr.is_empty(), "{r:?}");
    crate::assert_run!(crate::common::Sandbox(home.path()), "junit-sandbox-status", r);
}

#[test]
fn a_suite_per_target_a_case_per_check_failures_at_fail_on() {
    let env = functional();
    let (r, s) = junit(&env, &[]);
    r.exits(3);
    crate::assert_run!(env, "junit-status", r);
    // Every target of the JSON report is a suite, and the account has its own.
    let v: serde_json::Value = serde_json::from_str(&env.run(&["status", "-o", "json"]).stdout).unwrap();
    let targets = v["targets"].as_array().unwrap();
    assert_eq!(s.suites.len(), targets.len() + 1, "{:?}", s.suites.iter().map(|x| &x.name).collect::<Vec<_>>());
    let account = suite(&s, world::ACCOUNT_ID);
    assert!(case(account, "account-read").status.is_success());
    for t in targets {
        let x = target_suite(&s, t["region"].as_str().unwrap(), t["resourceGroupName"].as_str().unwrap());
        assert_eq!(x.properties.hashmap["region"], t["region"].as_str().unwrap());
        assert_eq!(x.properties.hashmap["resourceGroupId"], t["resourceGroupId"].as_str().unwrap());
        assert!(x.cases.len() >= 3, "a case per check made, passing ones too: {x:?}");
        // Each finding is a case of its code; default --fail-on warning: warnings and critical
        // ones fail, info ones pass with the finding on record.
        for f in t["findings"].as_array().unwrap() {
            let c = case(x, f["code"].as_str().unwrap());
            match f["severity"].as_str().unwrap() {
                "info" => {
                    assert!(c.status.is_success(), "{c:?}");
                    assert!(c.system_out.as_deref().unwrap().contains(f["detail"].as_str().unwrap()), "{c:?}");
                }
                sev => {
                    assert!(c.status.is_failure(), "{c:?}");
                    let failure = c.status.failure_as_ref();
                    assert_eq!(failure.failure_type, sev);
                    // junit-parser 1.7 drops entity references in text (`&apos;`) and joins
                    // the pieces with line breaks, trimmed: compared without any of them or spaces.
                    let bare = |s: &str| s.chars().filter(|c| !" \n'\"<>&".contains(*c)).collect::<String>();
                    assert!(bare(&failure.text).contains(&bare(f["action"].as_str().unwrap())), "the action: {c:?}");
                }
            }
        }
    }
    // The controls a check evidences, as properties, passing or not.
    let prod = target_suite(&s, "us-south", "production");
    let too_old = case(prod, "key-too-old");
    assert!(too_old.properties.vec.contains(&(String::from("control"), String::from("CIS-1.3"))), "{too_old:?}");
    assert!(case(prod, "owner-is-account-owner").properties.vec.iter().any(|(k, v)| k == "control" && v == "CIS-1.5"));
    let eu = target_suite(&s, "eu-de", "Default");
    let owner = case(eu, "owner-is-account-owner");
    assert!(owner.status.is_failure(), "{owner:?}");

    // --fail-on critical: warnings pass, on record; --fail-on never: nothing fails, as the exit code.
    let (_, critical) = junit(&env, &["--fail-on", "critical"]);
    let eu = target_suite(&critical, "eu-de", "Default");
    let c = case(eu, "key-too-old");
    assert!(c.status.is_success() && c.system_out.as_deref().unwrap().contains("key-too-old (warning)"), "{c:?}");
    let failing: Vec<&TestCase> =
        critical.suites.iter().flat_map(|x| &x.cases).filter(|c| c.status.is_failure()).collect();
    assert!(!failing.is_empty() && failing.iter().all(|c| c.status.failure_as_ref().failure_type == "critical"));
    let (r, never) = junit(&env, &["--fail-on", "never"]);
    r.exits(0);
    assert_eq!(never.failures, 0);
}

#[test]
fn a_clean_target_shows_passing_cases() {
    let env = functional();
    // The production group's key belongs to the functional ID: named as one, and with a
    // longer maximum age, nothing is found there.
    let (r, s) = junit(
        &env,
        &["-r", "us-south", "-g", "production", "--functional-id", world::FUNCTIONAL, "--max-age", "5000d"],
    );
    r.exits(0);
    let prod = target_suite(&s, "us-south", "production");
    let names: Vec<&str> = prod.cases.iter().map(|c| c.original_name.as_str()).collect();
    for check in [
        "no-key",
        "owner-not-in-account",
        "key-too-old",
        "owner-is-account-owner",
        "superseded-keys",
        "cluster-credential-failure",
    ] {
        assert!(names.contains(&check), "{check} is a check made there: {names:?}");
    }
    assert!(
        !names.contains(&"orphan-key") && !names.contains(&"classic-credentials-set"),
        "checks that cannot apply: {names:?}"
    );
    assert_eq!(prod.failures + prod.errors + prod.skipped, 0, "{prod:?}");
    assert!(prod.cases.iter().all(|c| c.status.is_success() && c.system_out.is_none()), "{prod:?}");
}

#[test]
fn control_lists_only_the_checks_that_evidence_it() {
    let env = functional();
    // A finding --control leaves out is not a pass: its check is not listed.
    let (_, s) = junit(&env, &["--control", "CIS-1.5"]);
    for x in s.suites.iter().filter(|x| x.name.contains('/')) {
        let names: Vec<&str> = x.cases.iter().map(|c| c.original_name.as_str()).collect();
        assert!(names.iter().all(|n| *n == "owner-is-account-owner"), "{}: {names:?}", x.name);
    }
    assert!(case(target_suite(&s, "eu-de", "Default"), "owner-is-account-owner").status.is_failure());
    assert!(target_suite(&s, "jp-tok", "Default").cases.is_empty(), "no key there: nothing of CIS-1.5 to check");
}

#[test]
fn an_accepted_finding_is_skipped_with_its_reason_date_and_author() {
    let env = functional();
    let policy = env.home.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[[accept]]\nfinding = \"key-too-old\"\ntarget = \"us-south/Default\"\nreason = \"Rotated with the <migration> ]]>.\"\nuntil = 2099-01-01\nby = \"olivia.owner@example.com\"\n",
    )
    .unwrap();
    let (_, s) = junit(&env, &["--policy", policy.to_str().unwrap()]);
    let c = case(target_suite(&s, "us-south", "Default"), "key-too-old");
    assert!(c.status.is_skipped(), "{c:?}");
    let skipped = c.status.skipped_as_ref();
    assert_eq!(skipped.skipped_type, "accepted");
    assert_eq!(
        skipped.message,
        "accepted by the policy until 2099-01-01, by olivia.owner@example.com: Rotated with the <migration> ]]>."
    );
}

#[test]
fn what_could_not_be_checked_is_an_error_never_a_pass() {
    let env = functional();
    env.handle().set_knobs(|k| {
        k.faults.push(crate::common::fault(
            "GET",
            "/v4/accounts/",
            cluster_api_key_emulator::FaultKind::Html { status: 502 },
            None,
        ));
    });
    let (_, s) = junit(&env, &[]);
    let c = case(target_suite(&s, "eu-de", "Default"), "owner-is-account-owner");
    assert!(c.status.is_error(), "{c:?}");
    let e = c.status.error_as_ref();
    assert_eq!(e.error_type, "unchecked");
    assert!(e.message.starts_with("not checked: the account's owner could not be read ("), "{e:?}");
    // The report's notes are the account suite's output.
    let account = suite(&s, world::ACCOUNT_ID);
    assert!(account.system_out.as_deref().unwrap().contains("(owner-is-account-owner) is unknown"), "{account:?}");
}

#[test]
fn only_own_keys_listed_makes_every_target_seen_an_error() {
    let env = TestEnv::new();
    // The viewer may list only their own keys: targets without clusters may be missing.
    env.login(keys::VIEWER, Some("us-south"));
    let (_, s) = junit(&env, &[]);
    let c = case(suite(&s, world::ACCOUNT_ID), "every-target-seen");
    assert!(c.status.is_error(), "{c:?}");
    assert!(c.status.error_as_ref().message.contains("only your own keys could be listed"), "{c:?}");
}

#[test]
fn many_accounts_each_have_suites_and_an_unread_one_is_an_error() {
    let env = TestEnv::with_world(World::default_world().with_enterprise());
    env.login(keys::FUNCTIONAL, Some("us-south"));
    let (r, s) = junit(&env, &["--all-accounts"]);
    r.exits(3);
    let finance = suite(&s, world::FINANCE_ACCOUNT);
    let read = case(finance, "account-read");
    assert!(read.status.is_error(), "{read:?}");
    assert!(read.status.error_as_ref().message.contains("no access"), "{read:?}");
    assert_eq!(finance.properties.hashmap["accountName"], "Example Corp Finance");
    let staging = suite(&s, world::STAGING_ACCOUNT);
    assert!(case(staging, "account-read").status.is_success());
    assert!(s.suites.iter().any(|x| x.name.starts_with(&format!("{}/", world::STAGING_ACCOUNT))), "its targets");
    assert!(s.suites.iter().any(|x| x.name.starts_with(&format!("{}/", world::ACCOUNT_ID))), "its targets");
}

#[test]
fn hostile_names_stay_well_formed_xml() {
    let env = functional();
    let huge = "x<]]>&".repeat(20_000);
    {
        let mut w = env.handle().world();
        let g = w.resource_groups.iter_mut().find(|g| g.id == world::RG_DEFAULT).unwrap();
        g.name = format!("De]]>fault<b>\u{202e}\u{2066}\r\n\t\u{0}\u{1b}[31m\u{fffe}\u{ffff}\u{7f}\u{85}{huge}");
        let dave = w.identities.iter_mut().find(|i| i.iam_id == world::DEPARTED).unwrap();
        dave.name = String::from("Dave\u{202e}tfel\u{200b}|\"'\\<!--");
    }
    let (_, s) = junit(&env, &["-r", "us-south"]);
    let name = s.suites.iter().map(|x| x.name.as_str()).find(|n| n.contains("De]]>fault")).unwrap();
    assert!(
        name.starts_with(&format!(
            "{}/us-south/De]]>fault<b>\\u{{202e}}\\u{{2066}}\\r\\n\\t\\u{{0}}",
            world::ACCOUNT_ID
        )),
        "{name}"
    );
    assert!(name.contains("\\u{fffe}\\u{ffff}\\u{7f}\\u{85}"), "shown escaped, never dropped: {name}");
    assert!(name.ends_with("x<]]>&"), "whole: {}", name.len());
}

#[test]
fn junit_is_only_for_status_and_not_with_owner() {
    let env = functional();
    let r = env.run(&["info", "--region", "us-south", "-o", "junit"]);
    r.exits(2);
    assert!(r.stdout.is_empty(), "{r:?}");
    crate::assert_run!(env, "junit-info-refused", r);
    let r = env.run(&["status", "--owner", "dave.departed@example.com", "-o", "junit"]);
    r.exits(2);
    assert!(r.stderr.contains("not JUnit"), "{r:?}");
}
