//! Behaviour that depends on a terminal, through a real pseudo-terminal: the prompt, Ctrl-D and
//! Ctrl-C, and text that fits the width; and the usage errors a person makes at one.

use cluster_api_key_core::env as var;
use cluster_api_key_emulator::world::keys;
use rexpect::process::wait::WaitStatus;
use rexpect::session::PtySession;
use serde_json::Value;

use crate::common::TestEnv;

fn logged_in() -> TestEnv {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env
}

fn spawn(env: &TestEnv, args: &[&str]) -> PtySession {
    rexpect::session::spawn_command(env.command(args), Some(30_000)).expect("a pseudo-terminal")
}

#[track_caller]
fn exit_code(p: &PtySession) -> i32 {
    match p.process.wait().expect("the process ends") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("not a normal exit: {other:?}"),
    }
}

#[test]
fn ctrl_d_at_the_prompt_is_no() {
    let env = logged_in();
    let before = env.cluster_keys().len();
    let mut p = spawn(&env, &["reset", "--region", "us-south"]);
    p.exp_string("[y/N]").unwrap();
    p.send_control('d').unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("The API key was not reset."), "{rest}");
    assert!(!rest.contains("FAILED"), "{rest}");
    assert_eq!(exit_code(&p), 0);
    assert_eq!(env.cluster_keys().len(), before);
}

#[test]
fn yes_at_the_prompt_resets() {
    let env = logged_in();
    let before = env.cluster_keys().len();
    let mut p = spawn(&env, &["reset", "--region", "us-south"]);
    p.exp_string("Current owner:    Dave Departed").unwrap();
    p.exp_string("[y/N]").unwrap();
    p.send_line("y").unwrap();
    p.exp_string("now belongs to").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 0);
    assert_eq!(env.cluster_keys().len(), before + 1);
}

#[test]
fn ctrl_c_while_waiting_for_the_owner_says_what_happened() {
    let mut env = logged_in();
    // The owner keeps reading as before for a minute: verification would wait.
    env.handle().set_knobs(|k| k.replication_delay_ms = 60_000);
    env.extra_env.insert(var::CAK_VERIFY_TIMEOUT_SECS.into(), "60".into());
    let before = env.cluster_keys().len();
    let mut p = spawn(&env, &["reset", "--region", "us-south", "-f"]);
    p.exp_string("Waiting for the new owner").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    p.send_control('c').unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("Interrupted: the reset happened, but the new owner was not verified"), "{rest}");
    assert!(rest.contains("New key ID: ApiKey-"), "{rest}");
    assert!(rest.contains("Next:"), "the follow-ups still come: {rest}");
    assert_eq!(exit_code(&p), 0);
    assert_eq!(env.cluster_keys().len(), before + 1);
}

#[test]
fn text_fits_the_width_and_tables_stay_whole() {
    let mut env = logged_in();
    env.extra_env.insert("COLUMNS".into(), "50".into());
    let r = env.run(&["reset", "--region", "us-south", "--dry-run"]);
    r.success();
    for line in r.stdout.lines().filter(|l| !l.contains("   ")) {
        assert!(line.chars().count() <= 50, "too wide for 50 columns: {line:?}\n{}", r.stdout);
    }
    r.stdout_has("  legacy-classic   classic    kubernetes   normal");
    // Emails and IAM IDs are never broken inside.
    r.stdout_has("dave.departed@example.com");
}

#[test]
fn quiet_removes_chatter_only() {
    let env = logged_in();
    let r = env.run(&["reset", "--region", "us-south", "-f", "-q"]);
    r.success();
    r.stdout_lacks("Collecting");
    r.stdout_lacks("\nOK\n");
    r.stdout_has("Current owner:    Dave Departed");
    r.stdout_has("New key ID:");
    r.stdout_has("ApiKey-1111-us-default-cur");
    r.stdout_has("'cluster-api-key prune --region us-south -g Default'");
    let r = env.run(&["reset", "-h"]);
    r.stdout_lacks("message of the day");
}

#[test]
fn errors_in_json_mode_are_documents_on_stdout() {
    let env = logged_in();
    let r = env.run(&["info", "--cluster", "nope", "-o", "json"]);
    r.exits(1);
    let v: Value = serde_json::from_str(&r.stdout).expect("one JSON document");
    assert_eq!(v["error"]["code"], "G0004");
    assert_eq!(v["error"]["exitCode"], 1);
    assert!(v["error"]["incidentId"].is_string());
    assert!(v["error"]["hint"].as_str().unwrap().contains("ibmcloud ks cluster ls"));
    r.stderr_has("FAILED");
    let r = env.run(&["status", "--region", "us-sooth", "--output", "json"]);
    r.exits(2);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["error"]["code"], "usage");
    assert_eq!(v["error"]["exitCode"], 2);
}

#[test]
fn usage_errors_help_a_person_at_a_terminal() {
    let env = TestEnv::new();
    let r = env.run(&["rset"]);
    r.exits(2);
    r.stderr_has("A similar subcommand exists: 'reset'");
    let r = env.run(&["reset", "--regoin", "us-south"]);
    r.exits(2);
    r.stderr_has("A similar argument exists: '--region'");
    for args in [&["info", "-c", ""][..], &["reset", "-r", " "], &["status", "-g", ""]] {
        let r = env.run(args);
        r.exits(2);
        r.stderr_has("not an empty string");
    }
    let r = env.run(&["info", "-c", "x", "--output", "yaml"]);
    r.exits(2);
    r.stderr_has("(possible values: json, csv)");
    let r = env.run(&["info"]);
    r.stderr_has("--cluster <CLUSTER>|--region <REGION>");
    assert_eq!(env.handle().stats().values().sum::<u64>(), 0, "no request for a usage error");
}

#[test]
fn the_sandbox_acts_as_each_identity_and_starts_over() {
    let mut env = TestEnv::new();
    env.extra_env.insert(var::CAK_HOME.into(), env.home.path().join("plugin").to_string_lossy().into_owned());
    let r = env.run(&["--sandbox=viewer", "reset", "--region", "us-south", "-f"]);
    r.exits(1);
    r.stderr_has("requirements are missing");
    let r = env.run(&["--sandbox=service-id", "reset", "--region", "us-south", "-f", "--skip-preflight"]);
    r.stderr_has("(A0656)");
    env.run(&["--sandbox", "reset", "--region", "us-south", "-f", "-q"]).success();
    let r = env.run(&["--sandbox", "info", "-c", "shop-vpc"]);
    r.stdout_has("Kubernetes Functional ID");
    let r = env.run(&["--sandbox", "--sandbox-reset", "info", "-c", "shop-vpc"]);
    r.stdout_has("Dave Departed");
    let r = env.run(&["help"]);
    r.stdout_has("--sandbox[=IDENTITY]");
}

#[test]
fn completion_for_shells_and_for_the_host() {
    let env = TestEnv::new();
    let r = env.run(&["completion", "bash"]);
    r.success();
    r.stdout_has("cluster-api-key");
    r.stdout_has("status");
    let r = env.run(&["SendCompletion", "cluster-api-key", "st"]);
    assert_eq!(r.stdout, "status\n");
    let r = env.run(&["SendCompletion", "cluster-api-key", "status", "--f"]);
    assert_eq!(r.stdout, "--functional-id\n--fail-on\n", "{r:?}");
}

#[test]
fn json_mode_at_a_prompt_shows_the_plan_on_stderr_and_one_document() {
    let env = logged_in();
    let mut p = spawn(&env, &["reset", "--region", "us-south", "--output", "json"]);
    p.exp_string("Current owner:    Dave Departed").unwrap();
    p.exp_string("[y/N]").unwrap();
    p.send_control('d').unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("\"cancelled\": true"), "{rest}");
    assert_eq!(exit_code(&p), 0);
}

#[test]
fn restart_addons_asks_first_and_no_deletes_nothing() {
    let env = logged_in();
    env.handle().set_knobs(|k| {
        k.kube.replace_ms = 50;
        k.kube.ready_ms = 50;
    });
    let mut p = spawn(&env, &["restart-addons", "--cluster", "payments"]);
    p.exp_string("ibm-vpc-block-csi-controller-*").unwrap();
    p.exp_string("Delete the add-on controller pods of 1 cluster, to be re-created? [y/N]").unwrap();
    p.send_line("n").unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("Nothing was restarted."), "{rest}");
    assert_eq!(exit_code(&p), 0);
    assert_eq!(env.handle().stat("k8s public DELETE pods"), 0);
    // Yes: restarted.
    let mut p = spawn(&env, &["restart-addons", "--cluster", "payments"]);
    p.exp_string("[y/N]").unwrap();
    p.send_line("y").unwrap();
    p.exp_string("restarted").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 0);
    assert_eq!(env.handle().stat("k8s public DELETE pods"), 1);
}
