//! The command line itself: usage errors with the command's help, help texts (snapshots),
//! colour, a closed stdout.

use cluster_api_key_core::env as var;
use cluster_api_key_emulator::world::keys;

use crate::common::TestEnv;

#[test]
fn usage_errors_exit_2_with_the_command_help() {
    let env = TestEnv::new();
    crate::assert_run!(env, "cli-info-without-a-target", env.run(&["info"]));
    crate::assert_run!(env, "cli-info-output-yaml", env.run(&["info", "-c", "x", "--output", "yaml"]));
    crate::assert_run!(env, "cli-unknown-command", env.run(&["frobnicate"]));
    crate::assert_run!(env, "cli-help-reset", env.run(&["help", "reset"]));
    let r = env.run(&["--version"]);
    assert_eq!(r.stdout, format!("cluster-api-key {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn colour_follows_ibmcloud_color_and_no_color() {
    let mut env = TestEnv::new();
    env.login(keys::VIEWER, Some("us-south"));
    // NO_COLOR is set by TestEnv and stdout is a pipe: no colour.
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    r.stdout_lacks("\x1b");
    // IBMCLOUD_COLOR=true wins over both, as in the SDK.
    env.extra_env.insert(var::IBMCLOUD_COLOR.into(), "true".into());
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    // Substrings: escape sequences, which a snapshot would show but a reviewer not see.
    r.stdout_has("\x1b[1m\x1b[32mOK\x1b[0m");
    r.stdout_has("\x1b[1m\x1b[36mDave Departed\x1b[0m");
    // IBMCLOUD_COLOR=false forces it off.
    env.extra_env.insert(var::IBMCLOUD_COLOR.into(), "false".into());
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    r.stdout_lacks("\x1b");
}

#[test]
fn a_closed_stdout_is_not_a_panic() {
    let env = TestEnv::new();
    env.login(keys::VIEWER, Some("us-south"));
    // The answer comes 300 ms late, so the table is written after the reader has gone.
    env.handle().set_knobs(|k| k.latency_ms = 300);
    let mut child = env
        .command(&["info", "--cluster", "shop-vpc"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn help_texts_are_reviewed_as_snapshots() {
    let env = TestEnv::new();
    for (name, args) in [
        ("help-root", &["help"][..]),
        ("help-status", &["status", "-h"]),
        ("help-reset", &["reset", "--help"]),
        ("help-info", &["help", "info"]),
        ("help-prune", &["prune", "-h"]),
        ("help-check", &["help", "check"]),
        ("help-restart-addons", &["restart-addons", "-h"]),
    ] {
        crate::assert_run!(env, name, env.run(args));
    }
}

#[test]
fn in_json_mode_a_usage_error_is_a_json_document_and_ages_ask_for_a_day_unit() {
    for args in [
        &["status", "-o", "json", "--regoin", "x"][..],
        &["status", "--max-age", "5x", "--output=JSON"],
        &["status", "-ojson", "--fail-on", "often"],
    ] {
        let out = crate::common::cli().args(args).output().unwrap();
        let r = crate::common::Run::from(&out);
        r.exits(2);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{args:?} ({e}): {r:?}"));
        assert_eq!((v["error"]["code"].as_str(), v["error"]["exitCode"].as_u64()), (Some("usage"), Some(2)), "{v}");
    }
    // Text mode: nothing on stdout, the error and the help on stderr.
    let out = crate::common::cli().args(["status", "--regoin", "x"]).output().unwrap();
    let r = crate::common::Run::from(&out);
    r.exits(2);
    assert!(r.stdout.is_empty(), "{r:?}");
    // A key age without a unit: a day unit is suggested, not seconds.
    let out = crate::common::cli().args(["reset", "--if-older-than", "90", "--all-regions"]).output().unwrap();
    let r = crate::common::Run::from(&out);
    crate::assert_run!(crate::common::Bare, "cli-age-without-a-unit", r);
    // The snapshot's age filter shows "90d" as "[N]d": the suggested unit is checked here.
    r.stderr_has("for example 90d (days)");
}

#[test]
fn help_help_and_completion_say_what_they_take() {
    for (name, args) in [
        ("cli-help-help", &["help", "help"][..]),
        ("cli-completion-help", &["completion", "--help"]),
        ("cli-completion-unknown-shell", &["completion", "elvish"]),
    ] {
        let out = crate::common::cli().args(args).output().unwrap();
        crate::assert_run!(crate::common::Bare, name, crate::common::Run::from(&out));
    }
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = crate::common::cli().args(["completion", shell]).output().unwrap();
        crate::common::Run::from(&out).success();
    }
}

#[test]
fn each_command_names_the_formats_it_prints_and_completion_takes_none() {
    let help = |cmd: &str| {
        let out = crate::common::cli().args([cmd, "--help"]).output().unwrap();
        crate::common::Run::from(&out).success().stdout.clone()
    };
    let status = help("status");
    assert!(
        status.contains("-o, --output FORMAT") && status.contains("in FORMAT: json, csv, sarif, junit or markdown"),
        "{status}"
    );
    for cmd in ["reset", "prune", "check", "info", "restart-addons"] {
        let text = help(cmd);
        assert!(text.contains("-o, --output json "), "{cmd}: {text}");
        assert!(
            !text.contains("csv") && !text.contains("sarif") && !text.contains("status also"),
            "{cmd} speaks of another command: {text}"
        );
    }
    // completion prints a script: no --output in its help, and refused on its line.
    assert!(!help("completion").contains("--output"));
    let out = crate::common::cli().args(["completion", "bash", "-o", "text"]).output().unwrap();
    crate::common::Run::from(&out).exits(2);
    // No script after a refusal.
    let out = crate::common::cli().args(["completion", "bash", "--output", "json"]).output().unwrap();
    crate::assert_run!(crate::common::Bare, "cli-completion-output-json-refused", crate::common::Run::from(&out));
}

#[test]
fn a_mistyped_command_suggests_the_closest_first() {
    // stat, statu: status; rest: reset, or restart-addons; prun: prune; chek: check.
    for typed in ["stat", "statu", "rest", "prun", "chek"] {
        let out = crate::common::cli().arg(typed).output().unwrap();
        crate::assert_run!(crate::common::Bare, format!("cli-mistyped-{typed}"), crate::common::Run::from(&out));
    }
    // `help` takes the same suggestion; a word far from every command gets none.
    let out = crate::common::cli().args(["help", "stat"]).output().unwrap();
    crate::assert_run!(crate::common::Bare, "cli-help-mistyped-stat", crate::common::Run::from(&out));
    let out = crate::common::cli().arg("zzzzzz").output().unwrap();
    crate::assert_run!(crate::common::Bare, "cli-mistyped-far-from-every-command", crate::common::Run::from(&out));
}

/// A format that does not exist, or that the command does not print: a plain-text usage error
/// (exit 2) that says which formats exist and which this command prints, never clap's
/// "'--output <json>'" nor a JSON document for a CSV request.
#[test]
fn a_refused_output_format_says_which_formats_the_command_prints() {
    let env = TestEnv::new();
    for (name, args) in [
        ("output-yaml-status", &["status", "--output", "yaml"][..]),
        ("output-yaml-reset", &["reset", "-o", "yaml"]),
        ("output-missing", &["prune", "--output"]),
        ("output-csv-reset", &["reset", "-o", "csv"]),
        ("output-csv-info", &["info", "-c", "x", "--output=CSV"]),
        ("output-sarif-reset", &["reset", "-o", "sarif"]),
        ("output-json-completion", &["completion", "bash", "-o", "json"]),
    ] {
        let r = env.run(args);
        r.exits(2);
        assert!(!r.stdout.contains('{'), "no JSON document: {r:?}");
        assert!(!r.stderr.contains("<json>"), "{r:?}");
        // The command's help follows the error (other tests snapshot the help texts): the
        // error itself is reviewed here, with the help's first line to show it is the command's.
        let head: String = r.stderr.lines().take(4).flat_map(|l| [l, "\n"]).collect();
        crate::assert_output!(
            env,
            name,
            format!("exit code: {}\n----- stdout -----\n{}\n----- stderr (head) -----\n{head}", r.code, r.stdout)
        );
    }
}

/// An unknown region or group: the closest names first ("did you mean"), then every valid one,
/// sorted.
#[test]
fn an_unknown_region_or_group_suggests_the_closest() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    for (name, args) in [
        ("unknown-region-typo", &["status", "--region", "us-sout"][..]),
        ("unknown-regions-two", &["reset", "-r", "eu-dee,jp-tk", "--dry-run"]),
        ("unknown-region-none-close", &["info", "-r", "mars-1"]),
        // Refused with its settings, before the progress line of a read that never starts.
        ("unknown-region-check", &["check", "-r", "mars-1"]),
        ("unknown-group-typo", &["status", "-g", "defualt"]),
        ("unknown-group-prefix", &["prune", "-g", "prod", "--dry-run"]),
    ] {
        let r = env.run(args);
        r.exits(2);
        crate::assert_run!(env, name, r);
    }
}
