//! Issue #32: `status -o sarif` (SARIF 2.1.0, checked against OASIS's schema, vendored, and with
//! Microsoft's SARIF Multitool when it is installed), the controls findings evidence, and
//! `status --control`.

use cluster_api_key_emulator::world::{self, keys};
use serde_json::Value;

use crate::common::TestEnv;

/// The vendored OASIS SARIF 2.1.0 schema (errata 01).
const SCHEMA: &str = include_str!("schemas/sarif-schema-2.1.0.json");

fn functional() -> TestEnv {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env
}

/// The document of `status -o sarif ARGS`, checked against the schema and, where it is
/// installed, by the SARIF Multitool (its own rules and GitHub's).
#[track_caller]
fn sarif(env: &TestEnv, args: &[&str]) -> Value {
    let mut all = vec!["status", "-o", "sarif"];
    all.extend_from_slice(args);
    let r = env.run(&all);
    assert!(r.code == 0 || r.code == 3, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("one JSON document ({e}): {r:?}"));
    valid(env.home.path(), &r.stdout, &v);
    v
}

/// `text` (parsed: `v`) is valid SARIF: the schema, and the Multitool where installed (its file
/// written in `dir`).
#[track_caller]
pub(crate) fn valid(dir: &std::path::Path, text: &str, v: &Value) {
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    let validator = jsonschema::draft4::new(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator.iter_errors(v).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "not valid SARIF 2.1.0: {errors:#?}");
    multitool(dir, text);
}

/// `sarif-multitool validate FILE`, with its SARIF rules and GitHub's (`--rule-kind Gh`): no
/// error from either.
#[track_caller]
fn multitool(dir: &std::path::Path, text: &str) {
    let Some(tool) = crate::common::outside_program(
        "sarif-multitool",
        ".ci/run installs it with npm (npm install -g @microsoft/sarif-multitool)",
    ) else {
        return;
    };
    let file = dir.join("status.sarif");
    std::fs::write(&file, text).unwrap();
    for kinds in ["Sarif", "Gh"] {
        let out = std::process::Command::new(&tool)
            .arg("validate")
            .arg(&file)
            .args(["--rule-kind", kinds])
            .output()
            .expect("sarif-multitool runs");
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "sarif-multitool failed ({kinds}): {said}");
        assert!(said.contains("Analysis completed successfully"), "{said}");
        assert!(!said.contains(": error "), "sarif-multitool found errors ({kinds}): {said}");
    }
}

#[test]
fn status_as_sarif_is_a_valid_document_with_a_rule_per_code() {
    let env = functional();
    let r = env.run(&["status", "-o", "sarif"]);
    r.exits(3);
    assert!(r.stderr.is_empty(), "{r:?}");
    crate::assert_run!(env, "sarif-status", r);
    let v = sarif(&env, &[]);
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), cluster_api_key_core::model::Code::ALL.len());
    let too_old = rules.iter().find(|r| r["id"] == "key-too-old").unwrap();
    assert_eq!(too_old["defaultConfiguration"]["level"], "warning");
    assert!(too_old["properties"]["tags"].as_array().unwrap().contains(&Value::from("CIS-1.3")), "{too_old}");
    assert!(too_old["helpUri"].as_str().unwrap().ends_with("#findings"));
    let no_key = rules.iter().find(|r| r["id"] == "no-key").unwrap();
    assert_eq!(no_key["defaultConfiguration"]["level"], "error");
    for result in run["results"].as_array().unwrap() {
        let loc = &result["locations"][0]["logicalLocations"][0];
        assert_eq!(loc["kind"], "resource");
        assert!(loc["fullyQualifiedName"].as_str().unwrap().starts_with(world::ACCOUNT_ID), "{loc}");
        let rule = &rules[usize::try_from(result["ruleIndex"].as_u64().unwrap()).unwrap()];
        assert_eq!(rule["id"], result["ruleId"]);
    }
}

#[test]
fn an_accepted_finding_is_an_external_suppression_with_its_reason_date_and_author() {
    let env = functional();
    let policy = env.home.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[[accept]]\nfinding = \"key-too-old\"\ntarget = \"us-south/Default\"\nreason = \"Rotated with the migration.\"\nuntil = 2099-01-01\nby = \"olivia.owner@example.com\"\n",
    )
    .unwrap();
    let v = sarif(&env, &["--policy", policy.to_str().unwrap()]);
    let results = v["runs"][0]["results"].as_array().unwrap();
    let suppressed: Vec<&Value> = results.iter().filter(|r| r.get("suppressions").is_some()).collect();
    assert_eq!(suppressed.len(), 1, "{v}");
    let s = &suppressed[0];
    assert_eq!(s["ruleId"], "key-too-old");
    assert_eq!(s["properties"]["region"], "us-south");
    assert_eq!(
        s["suppressions"],
        serde_json::json!([{"kind": "external", "status": "accepted", "justification": "Rotated with the migration.",
            "properties": {"until": "2099-01-01", "by": "olivia.owner@example.com"}}])
    );
}

#[test]
fn hostile_names_stay_valid_json_and_valid_sarif() {
    let env = functional();
    let huge = "x|".repeat(20_000);
    {
        let mut w = env.handle().world();
        let g = w.resource_groups.iter_mut().find(|g| g.id == world::RG_DEFAULT).unwrap();
        g.name = format!("De|fault\u{202e}\u{2066}\r\n\t\u{0}\u{1b}[31m{huge}");
        let dave = w.identities.iter_mut().find(|i| i.iam_id == world::DEPARTED).unwrap();
        dave.name = String::from("Dave\u{202e}tfel\u{200b}|\"\\");
    }
    let v = sarif(&env, &["-r", "us-south"]);
    let names: Vec<&str> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["locations"][0]["logicalLocations"][0]["name"].as_str())
        .collect();
    assert!(names.iter().any(|n| n.starts_with("De|fault\u{202e}\u{2066}\r\n\t\u{0}")), "kept exactly: {names:?}");
}

#[test]
fn findings_carry_their_controls_in_json_csv_and_text() {
    let env = functional();
    let r = env.run(&["status", "-o", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let findings: Vec<&Value> =
        v["targets"].as_array().unwrap().iter().flat_map(|t| t["findings"].as_array().unwrap()).collect();
    assert!(findings.iter().all(|f| f["controls"].is_array()), "{v}");
    let too_old = findings.iter().find(|f| f["code"] == "key-too-old").unwrap();
    assert_eq!(too_old["controls"], serde_json::json!(["CIS-1.3"]));
    let csv = env.run(&["status", "-o", "csv"]);
    let header = csv.stdout.lines().next().unwrap();
    assert!(header.ends_with(",clustersUnread,controls"), "appended at the end: {header}");
    assert!(csv.stdout.lines().skip(1).any(|l| l.ends_with(",CIS-1.3")), "{}", csv.stdout);
    let text = env.run(&["status"]);
    assert!(text.stdout.contains("key-too-old [CIS-1.3] (warning)"), "{}", text.stdout);
}

#[test]
fn control_limits_the_report_to_the_findings_that_evidence_it() {
    let env = functional();
    let r = env.run(&["status", "-o", "json", "--control", "cis-1.3"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:?}"));
    let codes: Vec<&str> = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["findings"].as_array().unwrap())
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(!codes.is_empty() && codes.iter().all(|c| *c == "key-too-old"), "{codes:?}");
    assert_eq!(v["summary"]["critical"], 0, "the counts cover what is kept: {v}");
    // The exit code too: only warnings are left, and --fail-on critical passes.
    env.run(&["status", "--control", "CIS-1.3", "--fail-on", "critical"]).exits(0);
    // A comma list and a repeated flag are the same.
    let both = env.run(&["status", "-o", "json", "--control", "CIS-1.3,CIS-1.5"]);
    assert_eq!(both.code, env.run(&["status", "-o", "json", "--control", "CIS-1.3", "--control", "CIS-1.5"]).code);
    // An unknown control, or one no finding evidences, is a usage error naming the valid ones.
    for bad in ["CIS-9.9", "CIS-1.2"] {
        let r = env.run(&["status", "--control", bad]);
        r.exits(2);
        assert!(r.stderr.contains("CIS-1.3, CIS-1.5"), "{r:?}");
    }
    crate::assert_run!(env, "sarif-control-unknown", env.run(&["status", "--control", "CIS-1.2"]));
}

#[test]
fn sarif_is_only_for_status_and_not_with_owner() {
    let env = functional();
    let r = env.run(&["info", "--region", "us-south", "-o", "sarif"]);
    r.exits(2);
    assert!(r.stdout.is_empty(), "{r:?}");
    let r = env.run(&["status", "--owner", "dave.departed@example.com", "-o", "sarif"]);
    r.exits(2);
    assert!(r.stderr.contains("not SARIF"), "{r:?}");
}

#[test]
fn the_readme_controls_table_is_the_code_table() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let rows: Vec<Vec<String>> = readme
        .lines()
        .filter(|l| l.starts_with("| `CIS-"))
        .map(|l| l.trim_matches('|').split(" | ").map(|c| c.trim().to_owned()).collect())
        .collect();
    let table = cluster_api_key_core::controls::CONTROLS;
    assert_eq!(rows.len(), table.len(), "one README row per control: {rows:?}");
    for (row, c) in rows.iter().zip(table) {
        assert_eq!(row[0], format!("`{}`", c.id));
        assert_eq!(row[1], c.title);
        assert_eq!(row[2], c.source);
        let codes: Vec<String> = c.codes.iter().map(|k| format!("`{}`", k.as_str())).collect();
        if codes.is_empty() {
            assert!(row[3].starts_with("none"), "{row:?}");
        } else {
            assert_eq!(row[3], codes.join(", "), "{row:?}");
        }
    }
}

/// The owner's findings and what `status` could not judge, by target (`region/group`).
fn judged(env: &TestEnv) -> (i32, Value) {
    let r = env.run(&["status", "-o", "json"]);
    (r.code, serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:?}")))
}

fn target<'a>(v: &'a Value, region: &str, group: &str) -> &'a Value {
    v["targets"].as_array().unwrap().iter().find(|t| t["region"] == region && t["resourceGroupName"] == group).unwrap()
}

#[test]
fn a_key_of_the_account_owner_is_cis_1_5() {
    let env = functional();
    let (_, v) = judged(&env);
    // Olivia Owner owns the account and eu-de / Default's key.
    let t = target(&v, "eu-de", "Default");
    let f = t["findings"].as_array().unwrap().iter().find(|f| f["code"] == "owner-is-account-owner").unwrap();
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["controls"], serde_json::json!(["CIS-1.5"]));
    assert!(f["detail"].as_str().unwrap().contains("Olivia Owner (IBMid-2700000OWN), the account owner"), "{f}");
    assert!(f["action"].as_str().unwrap().contains("reset --region eu-de -g Default"), "{f}");
    // The functional ID's key is not the owner's.
    let prod = target(&v, "us-south", "production");
    assert!(!prod["findings"].as_array().unwrap().iter().any(|f| f["code"] == "owner-is-account-owner"), "{prod}");
    // --control CIS-1.5 keeps only it.
    let r = env.run(&["status", "--control", "CIS-1.5"]);
    crate::assert_run!(env, "sarif-control-cis-1-5", r);
}

#[test]
fn an_account_owner_that_cannot_be_read_is_unchecked_never_fine() {
    use cluster_api_key_emulator::FaultKind;
    for kind in [
        FaultKind::Status { status: 403 },
        FaultKind::Html { status: 502 },
        FaultKind::Body { status: 200, body: String::from(r#"{"owner_iamid": ["IBMid-2700000OWN"]}"#) },
        FaultKind::Body { status: 200, body: String::from(r#"{"name": "no owner here"}"#) },
    ] {
        let env = functional();
        env.handle().set_knobs(|k| {
            k.faults.push(crate::common::fault("GET", "/v4/accounts/", kind.clone(), None));
        });
        let (code, v) = judged(&env);
        assert_eq!(code, 3, "{v}");
        let t = target(&v, "eu-de", "Default");
        assert!(!t["findings"].as_array().unwrap().iter().any(|f| f["code"] == "owner-is-account-owner"), "{t}");
        let unchecked = t["unchecked"].as_array().unwrap();
        let u = unchecked
            .iter()
            .find(|u| u["findings"].as_array().unwrap().contains(&Value::from("owner-is-account-owner")));
        let u = u.unwrap_or_else(|| panic!("{kind:?}: {t}"));
        assert!(u["reason"].as_str().unwrap().starts_with("the account's owner could not be read ("), "{u}");
        let notes = v["notes"].as_array().unwrap();
        assert!(
            notes.iter().any(|n| n
                .as_str()
                .unwrap()
                .contains("whether the account owner owns a key (owner-is-account-owner) is unknown")),
            "{notes:?}"
        );
        // Every output stays a valid document.
        sarif(&env, &[]);
    }
}

#[test]
fn many_accounts_are_one_run_each_and_an_unread_one_is_said_not_skipped() {
    let env = TestEnv::with_world(world::World::default_world().with_enterprise());
    env.login(keys::FUNCTIONAL, Some("us-south"));
    let v = sarif(&env, &["--all-accounts"]);
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3, "one run per account: {v}");
    let ids: std::collections::BTreeSet<&str> =
        runs.iter().map(|r| r["automationDetails"]["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3, "a category per run, as code scanning wants: {ids:?}");
    let finance =
        runs.iter().find(|r| r["automationDetails"]["id"].as_str().unwrap().contains(world::FINANCE_ACCOUNT)).unwrap();
    assert_eq!(finance["invocations"][0]["executionSuccessful"], false, "{finance}");
    let said = finance["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"].as_str().unwrap();
    assert!(said.contains("could not be read") && said.contains("no access"), "{said}");
    // The read accounts carry their findings.
    assert!(runs.iter().any(|r| !r["results"].as_array().unwrap().is_empty()));
}
