//! Behaviour that depends on a terminal, through a real pseudo-terminal: the prompt, Ctrl-D and
//! Ctrl-C, and text that fits the width; and the usage errors a person makes at one.
//!
//! What a pseudo-terminal shows is checked with substrings, not snapshots: its byte stream holds
//! the echo of what was typed, progress lines redrawn with `\r`, and output whose interleaving
//! depends on when a key was pressed, none of which a snapshot can hold stable. Runs through a
//! pipe here are whole-output snapshots, as everywhere else.

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

/// Asserts that every line of `text` fits `width` columns, unless it is one thing that cannot
/// be broken alone on its line (an ID, a quoted command): [`crate::render::fits`].
#[track_caller]
fn fits(text: &str, width: usize) {
    crate::render::fits(text, width, "terminal");
}

fn at_width(env: &mut TestEnv, columns: usize) {
    env.extra_env.insert("COLUMNS".into(), columns.to_string());
}

#[test]
fn help_errors_and_plans_wrap_at_40_columns() {
    let mut env = logged_in();
    at_width(&mut env, 40);
    // Help: the usage keeps `[--flag VALUE]` parts whole; an option's description goes under
    // its name when the name column is too wide to share the line.
    let help = env.run(&["reset", "--help"]);
    help.success();
    fits(&help.stdout, 40);
    help.stdout_has("\n    [--if-older-than DURATION]\n");
    help.stdout_has("\n  -g, --resource-group RESOURCE_GROUP\n      Resource groups, by name or ID\n");
    // A usage error's help and message on stderr.
    let usage = env.run(&["status", "--regoin", "x"]);
    usage.exits(2);
    fits(&usage.stderr, 40);
    // A FAILED error with its hint.
    let failed = env.run(&["reset", "--region", "us-south"]);
    failed.exits(1);
    fits(&failed.stderr, 40);
    failed.stderr_has("Confirmation is required, but no\n");
    // The plan's cluster table does not fit: each cluster becomes a record, never a broken row.
    let plan = env.run(&["reset", "--region", "us-south", "--dry-run"]);
    plan.success();
    fits(&plan.stdout, 40);
    plan.stdout_has("  Name:       legacy-classic\n  Provider:   classic\n");
    plan.stdout_has("dave.departed@example.com");
}

#[test]
fn tables_are_whole_at_160_columns_and_records_at_120_and_40() {
    let mut env = TestEnv::new();
    env.login(keys::OWNER, Some("us-south"));
    // At 120 the Findings column would have 28 columns, and `classic-credentials-owner-gone,`
    // takes 31: a row of the table would stick out, so each target is a record.
    at_width(&mut env, 120);
    let records = env.run(&["status"]);
    fits(&records.stdout, 120);
    // Every record line (`Label:   value`) fits, the code whole in it.
    let lines: Vec<&str> = records.stdout.lines().take_while(|l| !l.starts_with("What to fix")).collect();
    assert!(lines.iter().all(|l| l.chars().count() <= 120), "{}", records.stdout);
    assert!(
        lines.iter().any(|l| l.starts_with("Findings:") && l.contains(" classic-credentials-owner-gone,")),
        "{}",
        records.stdout
    );
    at_width(&mut env, 160);
    let wide = env.run(&["status"]);
    wide.exits(3);
    // The same table a pipe gets: one row per target, its columns aligned.
    fits(&wide.stdout, 160);
    let header = wide.stdout.lines().find(|l| l.starts_with("Region")).expect("a table header").to_owned();
    assert!(header.contains("   Resource group   Clusters   Owner"), "{header}");
    // The findings that do not fit continue in their own column, never under another one.
    let column = header.find("Findings").expect("a Findings column");
    let table = wide.stdout.lines().skip_while(|l| !l.starts_with("Region")).take_while(|l| !l.is_empty());
    let continued: Vec<&str> = table.filter(|l| l.starts_with(' ')).collect();
    assert!(!continued.is_empty(), "Dave Departed's seven findings are wider than 160: {}", wide.stdout);
    for l in continued {
        assert_eq!(l.len() - l.trim_start().len(), column, "{l:?}\n{}", wide.stdout);
    }
    at_width(&mut env, 40);
    let narrow = env.run(&["status"]);
    narrow.exits(3);
    fits(&narrow.stdout, 40);
    assert!(!narrow.stdout.contains("Region   Resource group"), "no table row is wider than 40: {}", narrow.stdout);
    narrow.stdout_has("Region:           us-south\nResource group:   Default\n");
    // Every target of the wide table is a record of the narrow one.
    assert_eq!(narrow.stdout.matches("\nRegion:   ").count(), targets_in(&wide.stdout));
}

#[test]
fn the_prompt_and_the_interrupted_line_wrap_at_40_columns() {
    let mut env = logged_in();
    at_width(&mut env, 40);
    let mut p = spawn(&env, &["reset", "--region", "us-south"]);
    let before = p.exp_string("[y/N]").unwrap();
    p.send_line("n").unwrap();
    let after = p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 0);
    fits(&before, 40);
    fits(&after, 40);
    // The owner's email does not fit beside the label: the value goes under it, whole.
    assert!(before.contains("Current owner:\r\n    Dave Departed\r\n    <dave.departed@example.com>"), "{before:?}");

    env.handle().set_knobs(|k| k.replication_delay_ms = 60_000);
    env.extra_env.insert(var::CAK_VERIFY_TIMEOUT_SECS.into(), "60".into());
    let mut p = spawn(&env, &["reset", "--region", "us-south", "-f"]);
    let mut seen = p.exp_string("Waiting for the new owner").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    p.send_control('c').unwrap();
    seen.push_str(&p.exp_eof().unwrap());
    assert_eq!(exit_code(&p), 0);
    fits(&seen, 40);
    assert!(seen.contains("Interrupted: the reset happened, but"), "{seen}");
}

/// The number of targets in a status table (its rows, without continuation lines).
fn targets_in(stdout: &str) -> usize {
    let rows = stdout.lines().skip_while(|l| !l.starts_with("Region")).skip(1).take_while(|l| !l.trim().is_empty());
    rows.filter(|l| !l.starts_with(' ')).count()
}

#[test]
fn quiet_removes_chatter_only() {
    let env = logged_in();
    // No progress, no OK; the plan, the new key and what to do next stay.
    crate::assert_run!(env, "terminal-reset-quiet", env.run(&["reset", "--region", "us-south", "-f", "-q"]));
    crate::assert_run!(env, "help-reset", env.run(&["reset", "-h"]));
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
    crate::assert_run!(env, "terminal-unknown-cluster-json", r);
    let r = env.run(&["status", "--region", "us-sooth", "--output", "json"]);
    crate::assert_run!(env, "terminal-unknown-region-json", r);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["error"]["code"], "usage");
    assert_eq!(v["error"]["exitCode"], 2);
}

#[test]
fn usage_errors_help_a_person_at_a_terminal() {
    let env = TestEnv::new();
    crate::assert_run!(env, "terminal-mistyped-rset", env.run(&["rset"]));
    crate::assert_run!(env, "terminal-similar-argument", env.run(&["reset", "--regoin", "us-south"]));
    for (args, name) in [
        (&["info", "-c", ""][..], "terminal-empty-cluster"),
        (&["reset", "-r", " "], "terminal-blank-region"),
        (&["status", "-g", ""], "terminal-empty-group"),
    ] {
        crate::assert_run!(env, name, env.run(args));
    }
    // Which formats exist and which info prints, not clap's "'--output <json>'".
    crate::assert_run!(env, "cli-info-output-yaml", env.run(&["info", "-c", "x", "--output", "yaml"]));
    crate::assert_run!(env, "cli-info-without-a-target", env.run(&["info"]));
    assert_eq!(env.handle().stats().values().sum::<u64>(), 0, "no request for a usage error");
}

#[test]
fn the_sandbox_acts_as_each_identity_and_starts_over() {
    let mut env = TestEnv::new();
    env.extra_env.insert(var::CAK_HOME.into(), env.home.path().join("plugin").to_string_lossy().into_owned());
    let r = env.run(&["--sandbox=viewer", "reset", "--region", "us-south", "-f"]);
    crate::assert_run!(env, "sandbox-viewer-reset-refused-names-the-owners-grant", r);
    let r = env.run(&["--sandbox=service-id", "reset", "--region", "us-south", "-f", "--skip-preflight"]);
    crate::assert_run!(env, "terminal-sandbox-service-id-refused-by-iam", r);
    env.run(&["--sandbox", "reset", "--region", "us-south", "-f", "-q"]).success();
    crate::assert_run!(env, "sandbox-info-after-reset", env.run(&["--sandbox", "info", "-c", "shop-vpc"]));
    let r = env.run(&["--sandbox", "--sandbox-reset", "info", "-c", "shop-vpc"]);
    crate::assert_run!(env, "sandbox-info-before-reset", r);
    crate::assert_run!(env, "help-root", env.run(&["help"]));
}

#[test]
fn completion_for_shells_and_for_the_host() {
    let env = TestEnv::new();
    let r = env.run(&["completion", "bash"]);
    r.success();
    // Substrings: the script is proven by running it in bash (completion.rs).
    r.stdout_has("cluster-api-key");
    r.stdout_has("status");
    let r = env.run(&["SendCompletion", "cluster-api-key", "st"]);
    assert_eq!(r.stdout, "status\n");
    let r = env.run(&["SendCompletion", "cluster-api-key", "status", "--f"]);
    // --force: adding to an existing --baseline file without asking.
    assert_eq!(r.stdout, "--functional-id\n--fail-on\n--force\n", "{r:?}");
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
    // The declined document has the same fields as a dry run's and a reset's.
    let start = rest.find("{\r\n").or_else(|| rest.find("{\n")).expect("a JSON document");
    let declined: Value = serde_json::from_str(&rest[start..].replace("\r\n", "\n")).expect("one JSON document");
    let dry: Value =
        serde_json::from_str(&env.run(&["reset", "-r", "us-south", "--dry-run", "-o", "json"]).stdout).unwrap();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<std::collections::BTreeSet<_>>();
    assert_eq!(keys(&declined), keys(&dry));
    assert_eq!(declined["outcome"], "cancelled");
    assert_eq!(declined["newKeyIdUnknownReason"], "the confirmation was declined: nothing was reset");
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

#[test]
fn a_satellite_cluster_is_asked_about_its_hand_made_secret() {
    let env = logged_in();
    env.handle().set_knobs(|k| {
        k.kube.replace_ms = 50;
        k.kube.ready_ms = 50;
    });
    // No: nothing else to do, so no second question, and nothing deleted.
    let mut p = spawn(&env, &["restart-addons", "--cluster", "edge-tokyo"]);
    p.exp_string("Does the storage-secret-store of edge-tokyo (Satellite) hold the new key?").unwrap();
    p.send_line("n").unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("skipped") && !rest.contains("Delete the add-on"), "{rest}");
    assert_eq!(exit_code(&p), 0);
    assert_eq!(env.handle().stat("k8s link DELETE pods"), 0);
    // Yes, then yes: restarted.
    let mut p = spawn(&env, &["restart-addons", "--cluster", "edge-tokyo"]);
    p.exp_string("(Satellite) hold the new key?").unwrap();
    p.send_line("y").unwrap();
    p.exp_string("Delete the add-on controller pods of 1 cluster, to be re-created? [y/N]").unwrap();
    p.send_line("y").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 0);
    assert_eq!(env.handle().stat("k8s link DELETE pods"), 1);
}

#[test]
fn no_at_the_invitation_prompt_invites_nobody_and_says_so_once() {
    let env = TestEnv::new();
    env.login(keys::OWNER, Some("us-south"));
    let mut p = spawn(&env, &["check", "--user", "new.fid@example.com", "--grant", "--invite"]);
    let before = p.exp_string("[y/N]").unwrap();
    assert!(before.contains("carries 4 policies:"), "the plan comes before the question: {before}");
    assert!(before.contains("Administrator on Kubernetes Service"), "{before}");
    p.send_line("n").unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("new.fid@example.com was not invited; nothing was changed."), "{rest}");
    // The plan is not shown a second time after the answer, and a declined invitation is no
    // success: no `OK` (which a yes prints, below).
    assert!(!rest.contains("Administrator on Kubernetes Service"), "{rest}");
    assert!(!rest.lines().any(|l| l.trim() == "OK"), "{rest}");
    assert_eq!(exit_code(&p), 3);
    assert_eq!(env.handle().stat("POST /v2/accounts/{id}/users"), 0);
    let mut p = spawn(&env, &["check", "--user", "new.fid@example.com", "--grant", "--invite"]);
    p.exp_string("[y/N]").unwrap();
    p.send_line("y").unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.lines().any(|l| l.trim() == "OK") && rest.contains("Invited new.fid@example.com"), "{rest}");
    assert_eq!(exit_code(&p), 3);
    assert_eq!(env.handle().stat("POST /v2/accounts/{id}/users"), 1);
}

#[test]
fn no_at_the_grant_prompt_creates_nothing_and_is_no_dry_run() {
    let env = TestEnv::new();
    env.login(keys::OWNER, Some("us-south"));
    let args = ["check", "--user", "vera.viewer@example.com", "-r", "us-south", "-g", "Default", "--grant"];
    let mut p = spawn(&env, &args);
    let before = p.exp_string("[y/N]").unwrap();
    assert!(before.contains("The policies to create:"), "{before}");
    p.send_line("n").unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("No policy was created: the 4 policies were not confirmed."), "{rest}");
    assert!(!rest.contains("Dry run"), "{rest}");
    assert!(!rest.lines().any(|l| l.trim() == "OK"), "{rest}");
    assert_eq!(exit_code(&p), 3);
    assert_eq!(env.handle().stat("POST /v1/policies"), 0);
    // Yes: created, and then `OK`.
    let mut p = spawn(&env, &args);
    p.exp_string("[y/N]").unwrap();
    p.send_line("y").unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.lines().any(|l| l.trim() == "OK") && rest.contains("Created 4 policies:"), "{rest}");
    assert!(!rest.contains("Dry run"), "{rest}");
    assert_eq!(exit_code(&p), 0);
    assert_eq!(env.handle().stat("POST /v1/policies"), 4);
}

/// The progress bar's frames in a pseudo-terminal's output: the text drawn after each clear of
/// the line (`\r` and erase-line), up to the next one.
/// A line's width in a console's columns (the bar's text here is ASCII and escapes).
fn console_width(line: &str) -> usize {
    line.chars().count()
}

fn bar_frames(raw: &str) -> Vec<&str> {
    raw.split("\r\x1b[2K").skip(1).filter_map(|f| f.split(['\r', '\n']).next()).filter(|f| !f.is_empty()).collect()
}

/// Words only: a wrapped paragraph compares whole.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every frame of the add-ons spinner leaves room for the `^C` a terminal echoes (else the echo
/// wraps the line, and clearing the bar leaves its first line on screen), says whole phrases,
/// and the last one is cleared before the report.
#[track_caller]
fn spinner_fits_and_is_cleared(raw: &str, columns: usize) {
    // rexpect hands the bytes over one char each: decode them as the terminal does (UTF-8).
    let raw = &String::from_utf8_lossy(&raw.chars().map(|c| u8::try_from(c).unwrap_or(b'?')).collect::<Vec<u8>>())
        .into_owned();
    let frames: Vec<&str> = bar_frames(raw).into_iter().filter(|f| f.contains("/1")).collect();
    assert!(!frames.is_empty(), "the spinner was drawn: {raw:?}");
    let phrases = [
        "clusters",
        "(Ctrl-C stops waiting)",
        "waiting for the new key",
        "deleting the add-on pods",
        "waiting for Ready pods",
        "getting an admin kubeconfig",
    ];
    for f in &frames {
        assert!(console_width(f) <= columns - 3, "no room for an echoed ^C ({columns} columns): {f:?}");
        // The spinner, the text, the elapsed time ("0s").
        let words: Vec<&str> = f.split_whitespace().collect();
        let text = words[1..words.len() - 1].join(" ");
        assert!(phrases.iter().any(|p| text.ends_with(p)), "a phrase cut short: {f:?} in {frames:?}");
    }
    let after = raw.rsplit("\r\x1b[2K").next().unwrap_or_default();
    assert!(!after.chars().any(|c| ('\u{2800}'..='\u{28ff}').contains(&c)), "the spinner stays on screen: {after:?}");
}

#[test]
fn ctrl_c_while_a_reset_waits_for_the_key_says_nothing_was_deleted() {
    let mut env = logged_in();
    at_width(&mut env, 40);
    // The new key never reaches the cluster while the test runs.
    env.handle().set_knobs(|k| k.kube.secret_update_ms = 3_600_000);
    let mut p = spawn(&env, &["reset", "-r", "us-south", "-g", "production", "--restart-addons", "-f"]);
    // (`exp_string` returns what came before the text it waited for.)
    let mut seen = p.exp_string("waiting for the new key").unwrap() + "waiting for the new key";
    p.send_control('c').unwrap();
    seen.push_str(&p.exp_eof().unwrap());
    // The reset happened, the add-ons were not restarted: unfinished work.
    assert_eq!(exit_code(&p), 4);
    let text = flat(&seen);
    assert!(
        text.contains("Interrupted before any pod was deleted. To finish, once the new key has reached the cluster (this deletes the add-on pods and waits for Ready replacements): 'cluster-api-key restart-addons --cluster payments'"),
        "{seen}"
    );
    assert!(!text.contains("pods were deleted") && !text.contains("(none)"), "{seen}");
    assert_eq!(env.handle().stat("k8s public DELETE pods"), 0);
    spinner_fits_and_is_cleared(&seen, 40);
}

#[test]
fn ctrl_c_while_replacements_are_awaited_names_the_deleted_pod_and_a_typable_command() {
    let mut env = logged_in();
    at_width(&mut env, 80);
    // A cluster whose name a shell would split: the command to finish names it by ID.
    let id = {
        let mut w = env.handle().world();
        let c = w.clusters.iter_mut().find(|c| c.name == "payments").unwrap();
        c.name = String::from("pay ments");
        c.id.clone()
    };
    env.handle().set_knobs(|k| {
        k.kube.replace_ms = 50;
        k.kube.never_ready = vec![id.clone()];
    });
    let mut p = spawn(&env, &["restart-addons", "--cluster", &id, "-f"]);
    let mut seen = p.exp_string("waiting for Ready pods").unwrap() + "waiting for Ready pods";
    p.send_control('c').unwrap();
    seen.push_str(&p.exp_eof().unwrap());
    // The only cluster did not finish.
    assert_eq!(exit_code(&p), 1);
    let text = flat(&seen);
    assert!(
        text.contains(&format!("Interrupted: 1 pod was deleted (ibm-vpc-block-csi-controller-0); its replacement was not seen Ready yet. To finish (this deletes the add-on pods and waits for Ready replacements): 'cluster-api-key restart-addons --cluster {id}'")),
        "{seen}"
    );
    assert_eq!(env.handle().stat("k8s public DELETE pods"), 1);
    spinner_fits_and_is_cleared(&seen, 80);
}
