//! Issue #8 end to end: the binary never misreports a reset (gateway answers, pages that are not
//! IBM's, interruptions, concurrent runs), says when the audit log misses a change, keeps the
//! terminal safe from server text and rejects absurd settings before doing anything.

use cluster_api_key_core::env as var;
use std::process::Stdio;
use std::time::{Duration, Instant};

use cluster_api_key_emulator::world::{self, keys};
use cluster_api_key_emulator::{Fault, FaultKind};
use serde_json::Value;

use crate::common::{Run, TestEnv, fault, read};

fn post_fault(kind: FaultKind) -> Fault {
    Fault::on("POST", "/v1/keys", kind).times(1)
}

/// A logged-in functional ID with a short grace period for the look after an open answer.
fn env() -> TestEnv {
    let mut env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env.extra_env.insert(var::CAK_RESET_GRACE_SECS.into(), "2".into());
    env
}

fn audit_lines(env: &TestEnv) -> Vec<Value> {
    read(&env.plugin_dir().join("audit.jsonl")).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn a_gateway_504_while_the_key_is_minted_is_reported_as_done_with_its_key() {
    let env = env();
    let before = env.cluster_keys();
    env.handle().set_knobs(|k| {
        k.faults.push(post_fault(FaultKind::Gateway { status: 504, html: true, backend_delay_ms: 500 }));
    });
    let r = env.run(&["reset", "--region", "us-south", "-f"]);
    crate::assert_run!(env, "reliability-gateway-504-key-minted", r);
    let after = env.cluster_keys();
    assert_eq!(after.len(), before.len() + 1, "exactly one key");
    let new = after.iter().find(|k| !before.iter().any(|b| b.id == k.id)).unwrap();
    // The snapshot's filter hides minted key IDs: this one is checked exactly.
    r.stdout_has(&format!("New key ID: {}", new.id));
    let audit = audit_lines(&env);
    assert_eq!(audit.last().unwrap()["outcome"], "succeeded");
    assert_eq!(audit.last().unwrap()["keyIds"][0], new.id.as_str());
}

#[test]
fn a_gateway_error_without_a_new_key_is_unknown_exit_5_never_nothing_changed() {
    for (kind, name) in [
        (FaultKind::Html { status: 504 }, "reliability-gateway-504-page-unknown"),
        (FaultKind::Gateway { status: 502, html: false, backend_delay_ms: 60_000 }, "reliability-gateway-502-unknown"),
    ] {
        let env = env();
        env.handle().set_knobs(|k| k.faults.push(post_fault(kind.clone())));
        crate::assert_run!(env, name, env.run(&["reset", "--region", "us-south", "-f"]));
        assert_eq!(audit_lines(&env).last().unwrap()["outcome"], "unknown");
    }
}

#[test]
fn a_200_html_page_is_not_ok() {
    let env = env();
    let before = env.cluster_keys().len();
    env.handle().set_knobs(|k| k.faults.push(post_fault(FaultKind::Html { status: 200 })));
    // No OK, no new owner, no follow-up of a reset that happened (see the 504 test above).
    crate::assert_run!(env, "reliability-200-html-page-unknown", env.run(&["reset", "--region", "us-south", "-f"]));
    assert_eq!(env.cluster_keys().len(), before);
    assert_eq!(audit_lines(&env).last().unwrap()["outcome"], "unknown");
}

#[test]
fn ibm_own_5xx_is_still_nothing_changed() {
    let env = env();
    env.handle().set_knobs(|k| k.faults.push(post_fault(FaultKind::Status { status: 500 })));
    crate::assert_run!(env, "reliability-ibm-5xx-nothing-changed", env.run(&["reset", "--region", "us-south", "-f"]));
}

#[test]
fn sigint_or_sigterm_during_the_post_checks_reports_and_audits() {
    for signal in ["-INT", "-TERM"] {
        let env = env();
        // The POST hangs on the server: the answer never comes in time.
        env.handle().set_knobs(|k| k.faults.push(post_fault(FaultKind::Delay { ms: 60_000 })));
        let child = env
            .command(&["reset", "--region", "us-south", "-f"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while env.handle().stat("POST /global/v1/keys") + env.handle().stat("POST /v1/keys") == 0 {
            assert!(Instant::now() < deadline, "the POST never came");
            std::thread::sleep(Duration::from_millis(20));
        }
        // The request has reached the server; give the client a moment to be waiting on it.
        std::thread::sleep(Duration::from_millis(100));
        let status = std::process::Command::new("kill").arg(signal).arg(child.id().to_string()).status().unwrap();
        assert!(status.success());
        let r = Run::from(&child.wait_with_output().unwrap());
        env.assert_no_secrets(&r);
        assert_eq!(r.code, 5, "{signal}: {r:?}");
        r.stderr_has("interrupted after the request was sent");
        let audit = audit_lines(&env);
        assert_eq!(audit.len(), 1, "one audit line");
        assert_eq!(audit[0]["outcome"], "unknown");
    }
}

#[test]
fn concurrent_resets_of_one_target_each_report_their_own_key() {
    let env = env();
    env.handle().set_knobs(|k| k.latency_ms = 40);
    let before = env.cluster_keys();
    let children: Vec<_> = (0..3)
        .map(|_| {
            env.command(&["reset", "--region", "us-south", "-f", "--no-verify", "--output", "json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ids: Vec<String> = Vec::new();
    for c in children {
        let r = Run::from(&c.wait_with_output().unwrap());
        r.exits(0);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        ids.push(v["newKeyId"].as_str().expect("its own key").to_owned());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(env.cluster_keys().len(), before.len() + 3);
    // Every key that was minted is in the audit log.
    let audited: Vec<String> =
        audit_lines(&env).iter().map(|a| a["keyIds"][0].as_str().unwrap_or_default().to_owned()).collect();
    for id in &ids {
        assert!(audited.contains(id), "{id} not audited: {audited:?}");
    }
}

#[test]
fn a_failed_audit_write_is_said_even_with_q_and_in_json() {
    let env = env();
    // A folder where the audit file should be: no write can succeed, even as root.
    std::fs::create_dir_all(env.plugin_dir().join("audit.jsonl")).unwrap();
    // The reset's own outcome is unchanged (exit 0).
    crate::assert_run!(
        env,
        "reliability-audit-write-failed-quiet",
        env.run(&["reset", "--region", "us-south", "-f", "-q"])
    );
    let r = env.run(&["reset", "--region", "us-south", "-f", "--output", "json"]);
    crate::assert_run!(env, "reliability-audit-write-failed-json", r);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["auditError"].as_str().unwrap().contains("could not be written"), "{v}");
}

#[test]
fn server_text_cannot_drive_the_terminal() {
    let env = env();
    {
        let mut w = env.handle().world();
        let dave = w.identities.iter_mut().find(|i| i.iam_id == world::DEPARTED).unwrap();
        dave.name = "Dave\x1b]0;TITLE\x07\x1b[2J Departed".into();
    }
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    // The sequences are shown escaped, inert: the reader sees that something was hidden.
    crate::assert_run!(env, "reliability-server-text-escaped-info", r);
    // (A snapshot would show a raw escape too, but not to a reviewer's eye: checked apart.)
    r.stdout_lacks("\x1b");
    r.stdout_lacks("\x07");
    let r = env.run(&["reset", "--region", "us-south", "--dry-run"]);
    crate::assert_run!(env, "reliability-server-text-escaped-reset", r);
    r.stdout_lacks("\x1b");
}

#[test]
fn absurd_settings_are_usage_errors_before_any_request() {
    let mut env = env();
    env.extra_env.insert(var::CAK_VERIFY_TIMEOUT_SECS.into(), "18446744073709551615".into());
    let before = env.cluster_keys().len();
    // The 20-digit number is shown, although the variable's name looks secret to the renderer.
    crate::assert_run!(env, "reliability-absurd-verify-timeout", env.run(&["reset", "--region", "us-south", "-f"]));
    assert_eq!(env.cluster_keys().len(), before);
    // An API key pasted where a number goes is not shown, whole or in part.
    env.extra_env.insert(var::CAK_VERIFY_TIMEOUT_SECS.into(), "Zm9vYmFyLWJhei1xdXV4LWNvcmdlLWdyYXVsdC1nYXJwbHk".into());
    crate::assert_run!(env, "reliability-key-as-verify-timeout", env.run(&["reset", "--region", "us-south", "-f"]));
    env.extra_env.insert(var::CAK_VERIFY_TIMEOUT_SECS.into(), "2".into());
    env.extra_env.insert(var::IBMCLOUD_HTTP_TIMEOUT.into(), "soon".into());
    crate::assert_run!(env, "reliability-absurd-http-timeout", env.run(&["info", "--cluster", "shop-vpc"]));
}

#[test]
fn a_refresh_that_iam_did_not_do_is_not_an_expired_session() {
    for (kind, name) in [
        // Not "has expired or is no longer valid": try again in a moment.
        (FaultKind::Status { status: 400 }, "reliability-refresh-400-try-again"),
        // IAM rotated the token, then the answer was cut off.
        (FaultKind::Truncate, "reliability-refresh-cut-off-may-have-rotated"),
    ] {
        let env = TestEnv::new();
        env.handle().world().token_lifetime_secs = 5;
        env.login(keys::VIEWER, Some("us-south"));
        env.handle().world().token_lifetime_secs = 3600;
        env.handle().set_knobs(|k| {
            k.faults.push(Fault::on("POST", "/identity/token", kind.clone()).times(1));
        });
        crate::assert_run!(env, name, env.run(&["info", "--cluster", "shop-vpc"]));
    }
}

#[test]
fn a_refresh_refused_with_429_waits_and_is_sent_again() {
    // IBM's rate limit is a refusal: nothing happened, so the refresh is sent again.
    let env = TestEnv::new();
    env.handle().world().token_lifetime_secs = 5;
    env.login(keys::VIEWER, Some("us-south"));
    env.handle().world().token_lifetime_secs = 3600;
    let token_posts = env.handle().stat("POST /identity/token");
    env.handle()
        .set_knobs(|k| k.faults.push(fault("POST", "/identity/token", FaultKind::Status { status: 429 }, Some(1))));
    crate::assert_run!(env, "reliability-refresh-429-sent-again", env.run(&["info", "--cluster", "shop-vpc"]));
    assert_eq!(env.handle().stat("POST /identity/token") - token_posts, 2, "refused once, then refreshed");
}

fn get_fault(path: &str, kind: FaultKind) -> Fault {
    Fault::on("GET", path, kind)
}

#[test]
fn an_owner_answer_that_names_nobody_is_an_error() {
    let env = env();
    env.handle().set_knobs(|k| {
        k.faults.push(get_fault("clusterkeyowner", FaultKind::Body { status: 200, body: "{}".into() }));
    });
    crate::assert_run!(env, "reliability-owner-names-nobody", env.run(&["info", "--cluster", "shop-vpc"]));
}

#[test]
fn a_runaway_answer_is_cut_off_not_read_whole() {
    let env = env();
    env.handle().set_knobs(|k| {
        k.faults.push(get_fault("clusterkeyowner", FaultKind::Oversize { bytes: 40 << 20 }));
    });
    crate::assert_run!(env, "reliability-runaway-answer-cut-off", env.run(&["info", "--cluster", "shop-vpc"]));
}

#[test]
fn a_line_break_in_a_config_guid_is_a_config_error_before_any_request() {
    let env = env();
    let mut cfg = env.read_config();
    cfg["ResourceGroup"] = serde_json::json!({"GUID": "abc\r\nX-Injected: 1", "Name": "Default"});
    env.write_config(&cfg);
    crate::assert_run!(
        env,
        "reliability-config-guid-control-character",
        env.run(&["reset", "--region", "us-south", "-f"])
    );
    assert_eq!(env.handle().stat("POST /global/v1/keys") + env.handle().stat("POST /v1/keys"), 0);
}

#[test]
fn an_insecure_override_of_one_service_fails_the_reset_with_the_reason() {
    let mut env = env();
    env.extra_env.insert(var::CAK_IAM_IDENTITY_ENDPOINT.into(), "http://192.0.2.1:9".into());
    crate::assert_run!(env, "reliability-insecure-override", env.run(&["reset", "--region", "us-south", "-f"]));
    assert_eq!(env.handle().stat("POST /global/v1/keys") + env.handle().stat("POST /v1/keys"), 0, "no reset");
}

#[test]
fn a_black_holed_endpoint_meets_the_command_deadline() {
    let mut env = env();
    env.extra_env.insert(var::IBMCLOUD_HTTP_TIMEOUT.into(), "1".into());
    env.extra_env.insert(var::CAK_DEADLINE_SECS.into(), "2".into());
    env.handle().set_knobs(|k| k.faults.push(get_fault("clusterkeyowner", FaultKind::Delay { ms: 30_000 })));
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    r.exits(1);
    // A substring: how many attempts fit in the deadline varies with the machine's load.
    r.stderr_has("time limit for requests (2 s, CLUSTER_API_KEY_DEADLINE_SECS)");
    // Two attempts fit in the budget, not the four the retry policy allows.
    assert!((1..=3).contains(&env.handle().stat("GET /v1/logging/{id}/clusterkeyowner")), "{:?}", env.handle().stats());
}

#[test]
fn a_long_retry_after_wait_is_announced() {
    let env = env();
    env.handle().set_knobs(|k| {
        k.rate_limit = true;
        // A burst of 5, then one request per 4 s.
        k.rate_limit_max = 5;
        k.rate_limit_window_ms = 20_000;
    });
    // A dry run needs more than five requests: the sixth meets the limit.
    let r = env.run(&["reset", "--region", "us-south", "--dry-run"]);
    r.exits(0);
    // A substring: which request meets the limit, and so where the note falls, varies with timing.
    r.stderr_has("asked to wait (HTTP 429): trying again in 4 s...");
}

#[test]
fn unknown_outcome_messages_read_as_sentences() {
    let env = env();
    env.handle().set_knobs(|k| k.faults.push(post_fault(FaultKind::Html { status: 504 })));
    let r = env.run(&["reset", "--region", "us-south", "-f"]);
    crate::assert_run!(env, "reliability-unknown-outcome-sentences", r);
    // The punctuation slips this test is about, kept explicit: a reviewer's eye misses them.
    r.stderr_lacks(".;");
    r.stderr_lacks("..");
    r.stderr_lacks(".).");
}

#[test]
fn an_unknown_outcome_in_json_mode_is_one_document() {
    let env = env();
    env.handle().set_knobs(|k| k.faults.push(post_fault(FaultKind::Html { status: 502 })));
    let r = env.run(&["reset", "--region", "us-south", "-f", "--output", "json"]);
    r.exits(5);
    let v: Value = serde_json::from_str(&r.stdout).expect("one JSON document");
    assert_eq!(v["outcome"], "unknown");
    assert_eq!(v["target"]["region"], "us-south");
    assert!(v["detail"].as_str().unwrap().contains("HTTP 502"), "{v}");
    assert!(v["hint"].as_str().unwrap().contains("before resetting again"), "{v}");
}
