//! A fake `ibmcloud` host: it asks for the metadata, validates it with the rules of the SDK's
//! metadata validator (`plugin/metadata_validator.go` in the IBM Cloud CLI SDK), then dispatches `ibmcloud <namespace> <command> ...`
//! as the real host does: argv without the namespace words, the namespace in the environment.

use cluster_api_key_core::env as var;
use serde_json::Value;

use predicates::prelude::*;

use crate::common::{TestEnv, cli};

fn send_metadata() -> (Value, String) {
    let out = cli().arg("SendMetadata").assert().success().stderr(predicate::str::is_empty()).get_output().clone();
    let text = String::from_utf8(out.stdout).unwrap();
    (serde_json::from_str(&text).expect("stdout is exactly one JSON document"), text)
}

fn version_at_least(v: &Value, major: u64, minor: u64, build: u64) -> bool {
    let t = (v["Major"].as_u64().unwrap(), v["Minor"].as_u64().unwrap(), v["Build"].as_u64().unwrap());
    t >= (major, minor, build)
}

fn balanced(s: &str) -> bool {
    let mut stack = Vec::new();
    for c in s.chars() {
        match c {
            '(' | '[' | '{' | '<' => stack.push(c),
            ')' | ']' | '}' | '>' => {
                let open = match c {
                    ')' => '(',
                    ']' => '[',
                    '}' => '{',
                    _ => '<',
                };
                if stack.pop() != Some(open) {
                    return false;
                }
            }
            _ => {}
        }
    }
    stack.is_empty()
}

/// The SDK validator's rules; returns every violation.
pub fn validate(m: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    let name = m["Name"].as_str().unwrap_or_default();
    if name.is_empty() || name.chars().any(|c| c.is_ascii_uppercase()) {
        errs.push(format!("Plugin name '{name}' contains uppercase letters. Use lowercase with hyphens."));
    }
    if !m["Version"].is_object() {
        errs.push("Version missing".into());
    }
    if !version_at_least(&m["MinCliVersion"], 2, 0, 0) {
        errs.push("MinCliVersion below 2.0.0".into());
    }
    let namespaces: Vec<String> = m["Namespaces"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|n| {
            let parent = n["ParentName"].as_str().unwrap_or_default();
            let own = n["Name"].as_str().unwrap_or_default();
            if parent.is_empty() { own.to_owned() } else { format!("{parent} {own}") }
        })
        .collect();
    if namespaces.is_empty() {
        errs.push("at least one namespace is required".into());
    }
    let cmds = m["Commands"].as_array().cloned().unwrap_or_default();
    if cmds.is_empty() {
        errs.push("at least one command is required".into());
    }
    let banned = ["this command", "plugin to", "commands to", "this plugin", "this is"];
    for c in &cmds {
        let cname = c["Name"].as_str().unwrap_or_default();
        let ns = c["Namespace"].as_str().unwrap_or_default();
        if !namespaces.iter().any(|n| n == ns) {
            errs.push(format!(
                "Namespace '{ns}' in the plug-in being installed is not recognized. Ensure it's defined."
            ));
        }
        if ["--version", "-v", "--help", "-h"].contains(&cname) {
            errs.push(format!("command named {cname}"));
        }
        let words: Vec<&str> = ns.split_whitespace().chain(cname.split_whitespace()).collect();
        if words.len() > 3 {
            errs.push(format!("{cname}: depth > 3"));
        }
        if cname.split('-').any(|seg| seg.len() < 2) {
            errs.push(format!("{cname}: word segment shorter than 2"));
        }
        let desc = c["Description"].as_str().unwrap_or_default();
        if !desc.chars().next().is_some_and(char::is_uppercase) {
            errs.push(format!("{cname}: description must start with a capital"));
        }
        if banned.iter().any(|b| desc.to_lowercase().starts_with(b)) {
            errs.push(format!("{cname}: description starts with a banned phrase"));
        }
        if desc.split_whitespace().count() > 15 {
            errs.push(format!("{cname}: description longer than 15 words"));
        }
        let usage = c["Usage"].as_str().unwrap_or_default();
        if usage.is_empty() || usage.contains("[arguments...]") || usage.contains("[options...]") || !balanced(usage) {
            errs.push(format!("{cname}: bad usage '{usage}'"));
        }
        // Positional arguments in usage must be UPPERCASE; values that follow a flag are exempt.
        let mut prev_flag = false;
        for tok in usage.split_whitespace().skip(3) {
            let t = tok.trim_matches(|ch| "[](){}".contains(ch)).trim_end_matches(',');
            if t.starts_with('-') {
                prev_flag = true;
                continue;
            }
            if !prev_flag && t.chars().any(|ch| ch.is_ascii_lowercase()) {
                errs.push(format!("{cname}: positional '{t}' is not uppercase"));
            }
            prev_flag = false;
        }
        for f in c["Flags"].as_array().cloned().unwrap_or_default() {
            let fname = f["Name"].as_str().unwrap_or_default();
            if fname.is_empty() || fname.contains('<') || fname.contains('>') {
                errs.push(format!("{cname}: bad flag name '{fname}'"));
            }
            if f["Description"].as_str().unwrap_or_default().is_empty() {
                errs.push(format!("{cname}: flag {fname} has no description"));
            }
        }
    }
    errs
}

#[test]
fn metadata_is_compact_static_and_valid() {
    let (m, text) = send_metadata();
    assert!(!text.contains('\n'), "compact, no trailing newline");
    assert_eq!(validate(&m), Vec::<String>::new());
    assert_eq!(m["Name"], "cluster-api-key");
    assert_eq!(
        m["Version"]["Minor"].as_u64().unwrap().to_string(),
        env!("CARGO_PKG_VERSION").split('.').nth(1).unwrap()
    );
    assert_eq!(m["PrivateEndpointSupported"], true);
    assert_eq!(m["IsAccessFromVPC"], true);
    assert!(!text.contains("sandbox"), "--sandbox is hidden from the host");
    let names: Vec<&str> = m["Commands"].as_array().unwrap().iter().map(|c| c["Name"].as_str().unwrap()).collect();
    assert_eq!(names, ["status", "reset", "info", "prune", "check", "restart-addons"]);
    // Static: the same bytes with a hostile environment (no config reads, no network).
    cli()
        .arg("SendMetadata")
        .env(var::IBMCLOUD_CONFIG_HOME, "/nonexistent")
        .env(var::IBMCLOUD_TRACE, "true")
        .env(var::IBMCLOUD_API_KEY, "whatever-key-value")
        .assert()
        .success()
        .stdout(predicate::eq(text.as_str()))
        .stderr(predicate::str::is_empty());
}

#[test]
fn the_metadata_is_reviewed_as_a_snapshot() {
    let (_, text) = send_metadata();
    let pretty = xtask::pretty_metadata(&text).unwrap();
    let env = TestEnv::new();
    crate::assert_output!(env, "metadata", &pretty);
}

#[test]
fn the_validator_catches_bad_metadata() {
    let (mut m, _) = send_metadata();
    m["Name"] = "Cluster-API".into();
    m["Commands"][0]["Description"] = "this command does things".into();
    m["Commands"][0]["Usage"] = "${COMMAND_NAME} x reset [options...] (".into();
    m["Commands"][1]["Namespace"] = "ks".into();
    m["MinCliVersion"]["Major"] = 1.into();
    assert_eq!(validate(&m).len(), 7, "{:?}", validate(&m));
}

/// Dispatches `ibmcloud <words...>` like the host.
fn host_run(env: &TestEnv, words: &[&str]) -> crate::common::Run {
    let (m, _) = send_metadata();
    let cmds = m["Commands"].as_array().unwrap();
    // Longest namespace match, then the command (or alias) name.
    let ns = "cluster-api-key";
    assert_eq!(words[0], ns);
    let name = words[1];
    assert!(cmds.iter().any(|c| c["Namespace"] == ns && c["Name"] == name), "unknown command {name}");
    let mut cmd = env.command(&words[1..]);
    cmd.env(var::IBMCLOUD_PLUGIN_NAMESPACE, ns).env(var::IBMCLOUD_CLI, "ibmcloud");
    let run = crate::common::Run::from(&cmd.output().unwrap());
    env.assert_no_secrets(&run);
    run
}

#[test]
fn the_host_dispatches_reset_and_info() {
    let env = TestEnv::new();
    env.login(cluster_api_key_emulator::world::keys::FUNCTIONAL, Some("us-south"));
    let before = env.cluster_keys().len();
    let r = host_run(&env, &["cluster-api-key", "reset", "--region", "us-south", "-f"]);
    r.exits(0);
    assert_eq!(env.cluster_keys().len(), before + 1);
    let r = host_run(&env, &["cluster-api-key", "info", "--cluster", "shop-vpc"]);
    crate::assert_run!(env, "host-info-after-reset", r);
    // Hints name the host's CLI; help shows the host's command path.
    crate::assert_run!(env, "host-help-info", host_run(&env, &["cluster-api-key", "info", "--help"]));
}
