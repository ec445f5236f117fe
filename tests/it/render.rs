//! How text reaches a terminal: colour given to whole tokens by the renderer (and decided by
//! the settings, `NO_COLOR` and pipes), severities in colour, every line within the terminal's
//! width with IDs and commands never split, server and file text made visible on one line, the
//! `--severity` view, and Ctrl-C at a question.
//!
//! Colour is checked with substrings (escape sequences, which a snapshot would hold but a
//! reviewer not see), and a pseudo-terminal's stream too (echo, redrawn progress, timing); the
//! rest are whole-output snapshots.

use cluster_api_key_core::env as var;
use cluster_api_key_emulator::world::{self, keys};
use rexpect::process::wait::WaitStatus;
use serde_json::Value;

use crate::common::TestEnv;

/// Text without its styles (anstyle's SGR sequences) and carriage returns.
fn unstyled(text: &str) -> String {
    let re = regex::Regex::new("\x1b\\[[0-9;]*m").unwrap();
    re.replace_all(text, "").replace('\r', "")
}

fn owner() -> TestEnv {
    let env = TestEnv::new();
    env.login(keys::OWNER, Some("us-south"));
    env
}

#[test]
fn colour_is_given_to_whole_tokens_and_severities() {
    let mut env = owner();
    env.extra_env.insert(var::IBMCLOUD_COLOR.into(), "true".into());
    let r = env.run(&["status"]);
    r.exits(3);
    // Commands whole, in the command style, their quotes and the prose around them intact.
    r.stdout_has("('\x1b[1m\x1b[33mcluster-api-key reset --region eu-de -g Default\x1b[0m'); if this user");
    let plain = unstyled(&r.stdout);
    // What patterns over finished text lost: an apostrophe, a closing quote.
    assert!(plain.contains("name it in the policy file's functional_ids (or pass --functional-id)."), "{plain}");
    assert!(plain.contains("spread the targets' keys across functional IDs"), "{plain}");
    assert!(plain.contains("'ibmcloud ks credential get --region us-south'."), "{plain}");
    // Prose is never painted: no style opens right after a plain word's quote.
    assert!(!r.stdout.contains("file\x1b"), "{}", r.stdout);
    // Severities: critical red, warning yellow, info dim, in the report and the table.
    r.stdout_has("\x1b[1m\x1b[31mno-key\x1b[0m (\x1b[1m\x1b[31mcritical\x1b[0m)");
    r.stdout_has("\x1b[33mkey-too-old\x1b[0m [CIS-1.3] (\x1b[33mwarning\x1b[0m)");
    r.stdout_has("\x1b[2msuperseded-keys\x1b[0m (\x1b[2minfo\x1b[0m)");
    r.stdout_has("\x1b[1m\x1b[31mowner-inactive\x1b[0m, ");
    // A hint of a FAILED error: its command styled whole too, the prose beside it plain.
    env.login(keys::VIEWER, Some("us-south"));
    let failed = env.run(&["reset", "-r", "us-south", "-g", "Default", "-f"]);
    failed.exits(1);
    failed.stderr_has("\x1b[1m\x1b[31mFAILED\x1b[0m");
    failed.stderr_has("An account administrator can create them with '\x1b[1m\x1b[33mcluster-api-key check --region us-south -g Default --user vera.viewer@example.com --grant\x1b[0m'; '--skip-preflight' skips this check.");
    env.login(keys::OWNER, Some("us-south"));
    // NO_COLOR (set by TestEnv) and a pipe: plain.
    env.extra_env.remove(var::IBMCLOUD_COLOR);
    let r = env.run(&["status"]);
    assert!(!r.stdout.contains('\x1b') && !r.stderr.contains('\x1b'), "{r:?}");
    // Without NO_COLOR, a pipe is plain; CLICOLOR_FORCE colours it (anstream decides, as clap).
    let out = env.command(&["status"]).env_remove(var::NO_COLOR).output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\x1b'));
    let out = env.command(&["status"]).env_remove(var::NO_COLOR).env("CLICOLOR_FORCE", "1").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\x1b[1m\x1b[31mno-key\x1b[0m"));
}

#[test]
fn severity_critical_shows_only_the_critical_findings() {
    let env = owner();
    let all = env.run(&["status"]);
    let only = env.run(&["status", "--severity", "critical"]);
    // The exit code still covers every finding (--fail-on decides, not the view).
    assert_eq!(only.code, all.code);
    crate::assert_run!(env, "status-severity-critical", only);
    assert!(only.stdout.lines().count() < all.stdout.lines().count() / 2, "{}", only.stdout);
    // JSON stays complete.
    let v: Value = serde_json::from_str(&env.run(&["status", "--severity", "critical", "-o", "json"]).stdout).unwrap();
    let json_findings: usize =
        v["targets"].as_array().unwrap().iter().map(|t| t["findings"].as_array().unwrap().len()).sum();
    assert!(json_findings > 10, "{v}");
    // Help and completion know it.
    crate::assert_run!(env, "help-status", env.run(&["status", "--help"]));
    let c = env.run(&["SendCompletion", "cluster-api-key", "status", "--sev"]);
    assert_eq!(c.stdout, "--severity\n", "{c:?}");
}

/// Hostile text from every server field the text shows, and from the policy file.
fn hostile() -> TestEnv {
    let env = owner();
    {
        let mut w = env.handle().world();
        w.classic_credentials[0].username = String::from("2412345_dave\r\nOK\r\nNothing to fix.\u{202e}gnp.exe");
        let payments = w.clusters.iter_mut().find(|c| c.name == "payments").unwrap();
        payments.trusted_profile_id = Some(String::from("Profile-1\nOK\nNothing to fix."));
        let g = w.resource_groups.iter_mut().find(|g| g.id == world::RG_PRODUCTION).unwrap();
        g.name = String::from("prod\u{2066}x\u{2069}\u{200b}");
        let dave = w.identities.iter_mut().find(|i| i.iam_id == world::DEPARTED).unwrap();
        dave.name = String::from("Dave\u{202e}tfel\u{200b}");
    }
    std::fs::create_dir_all(env.plugin_dir()).unwrap();
    std::fs::write(
        env.plugin_dir().join("policy.toml"),
        "[[accept]]\nfinding = \"key-too-old\"\ntarget = \"us-south/Default\"\nreason = \"Fine.\\nOK\\u202e\"\nuntil = 2099-01-01\nby = \"olivia\\r\\nNothing to fix.\"\n",
    )
    .unwrap();
    env
}

/// No line of `text` is a forged `OK` or "Nothing to fix." and no invisible or bidi
/// character reaches it raw.
#[track_caller]
fn no_forged_lines(text: &str, oks: usize) {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    assert_eq!(lines.iter().filter(|l| **l == "OK").count(), oks, "{text}");
    assert!(!lines.iter().any(|l| l.starts_with("Nothing to fix.")), "{text}");
    for c in ['\u{202e}', '\u{2066}', '\u{2069}', '\u{200b}', '\r'] {
        assert!(!text.contains(c), "{c:?} raw in {text}");
    }
}

#[test]
fn server_and_file_text_is_shown_visibly_on_its_own_line() {
    let env = hostile();
    let status = env.run(&["status"]);
    no_forged_lines(&status.stdout, 1);
    no_forged_lines(&status.stderr, 0);
    // Each value escaped where it stands; the policy's reason and `by`, on their line.
    crate::assert_run!(env, "render-hostile-status", status);
    let info = env.run(&["info", "-c", "legacy-classic"]);
    info.success();
    no_forged_lines(&info.stdout, 1);
    no_forged_lines(&info.stderr, 0);
    crate::assert_run!(env, "render-hostile-info-classic-user", info);
    let info = env.run(&["info", "-c", "payments"]);
    no_forged_lines(&info.stdout, 1);
    crate::assert_run!(env, "render-hostile-info-trusted-profile", info);
    let info = env.run(&["info", "-r", "us-south"]);
    no_forged_lines(&info.stdout, 1);
    crate::assert_run!(env, "render-hostile-info-target", info);
    let plan = env.run(&["reset", "-r", "us-south", "-g", "Default", "--dry-run"]);
    no_forged_lines(&plan.stdout, 0);
    no_forged_lines(&plan.stderr, 0);
    crate::assert_run!(env, "render-hostile-reset-dry-run", plan);
    let addons = env.run(&["restart-addons", "--cluster", "payments", "--dry-run"]);
    no_forged_lines(&addons.stdout, 0);
    no_forged_lines(&addons.stderr, 0);
    crate::assert_run!(env, "render-hostile-restart-addons-dry-run", addons);
    // JSON keeps the values exactly.
    let v: Value = serde_json::from_str(&env.run(&["status", "-o", "json"]).stdout).unwrap();
    let text = v.to_string();
    assert!(text.contains(r#""Profile-1\nOK\nNothing to fix.""#), "{text}");
    assert!(text.contains("prod\u{2066}x\u{2069}\u{200b}"), "{text}");
}

/// Every line of a terminal's output, styles removed, split at `\r` too (a progress line is
/// redrawn after one).
fn screen_lines(text: &str) -> Vec<String> {
    // rexpect reads the terminal byte by byte, each byte a char: decode it as the UTF-8 it is.
    let decoded;
    let text = if text.chars().all(|c| u32::from(c) < 0x100) {
        decoded = String::from_utf8_lossy(
            &text.chars().map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')).collect::<Vec<u8>>(),
        )
        .into_owned();
        decoded.as_str()
    } else {
        text
    };
    let re = regex::Regex::new("\x1b\\[[0-9;?]*[A-Za-z]").unwrap();
    re.replace_all(text, "").split(['\n', '\r']).map(str::to_owned).collect()
}

/// Every line fits `width`, unless it is one thing that must not be split alone on its line:
/// an ID, a path, or a quoted command (with its punctuation).
#[track_caller]
pub fn fits(text: &str, width: usize, what: &str) {
    let quoted = regex::Regex::new("'[^']*'").unwrap();
    for line in screen_lines(text) {
        let shown = unicode_width::UnicodeWidthStr::width(line.as_str());
        let one = quoted.replace_all(line.trim(), "X");
        assert!(shown <= width || !one.contains(' '), "{what}: wider than {width} ({shown}): {line:?}\n{text}");
        // A command starts and ends on one line.
        for start in ["'cluster-api-key ", "'ibmcloud "] {
            if let Some(i) = line.find(start) {
                assert!(line[i + 1..].contains('\''), "{what}: a command split: {line:?}\n{text}");
            }
        }
    }
}

/// The IDs, paths and commands of the unwrapped output are all in the wrapped one, whole.
#[track_caller]
fn nothing_split(piped: &str, shown: &str, what: &str) {
    let shown = screen_lines(shown).join("\n");
    let quoted = regex::Regex::new("'(cluster-api-key|ibmcloud) [^'\n]*'").unwrap();
    for c in quoted.find_iter(piped) {
        assert!(shown.contains(c.as_str()), "{what}: {} split in:\n{shown}", c.as_str());
    }
    let id = regex::Regex::new(r"[A-Za-z0-9_./@=+-]*[-_/@.][A-Za-z0-9_./@=+-]*[0-9A-Za-z]").unwrap();
    for w in piped.split_whitespace().filter(|w| w.len() >= 12) {
        if let Some(m) = id.find(w).filter(|m| m.len() >= 12) {
            assert!(shown.contains(m.as_str()), "{what}: {} split in:\n{shown}", m.as_str());
        }
    }
}

#[test]
fn every_command_fits_the_terminal_at_120_80_and_40_columns() {
    let commands: &[&[&str]] = &[
        &["status"],
        &["status", "--all"],
        &["status", "--region", "us-south"],
        &["status", "--owner", "dave.departed@example.com"],
        &["info", "-c", "shop-vpc"],
        &["info", "-c", "legacy-classic"],
        &["info", "-r", "us-south"],
        &["reset", "-r", "us-south", "--dry-run"],
        &["reset", "--all-regions", "--dry-run"],
        &["prune", "-r", "us-south", "--dry-run"],
        &["prune", "--dry-run"],
        &["check", "-r", "us-south"],
        &["check", "--user", "vera.viewer@example.com", "-r", "us-south", "--grant", "--dry-run"],
        &["restart-addons", "-r", "us-south", "--dry-run"],
        &["restart-addons", "--cluster", "payments", "--dry-run"],
        &["reset", "-r", "eu-de", "-g", "Default", "-f"],
        &["restart-addons", "--cluster", "shop-vpc", "-f"],
    ];
    for width in [120, 80, 40] {
        let mut env = TestEnv::new();
        env.extra_env.insert(var::IBMCLOUD_COLOR.into(), "true".into());
        env.extra_env.insert(var::CAK_HOME.into(), env.home.path().join("plugin").to_string_lossy().into_owned());
        for args in commands {
            let mut full = vec!["--sandbox=owner"];
            full.extend_from_slice(args);
            let what = format!("{width} columns: {}", args.join(" "));
            env.extra_env.remove("COLUMNS");
            let piped = env.run(&full);
            env.extra_env.insert("COLUMNS".into(), width.to_string());
            let mut p = rexpect::session::spawn_command(env.command(&full), Some(60_000)).expect("a pseudo-terminal");
            let shown = p.exp_eof().unwrap();
            let _ = p.process.wait();
            fits(&shown, width, &what);
            // A command that changes the sandbox prints other IDs the second time: its
            // commands are checked whole on their lines only (in `fits`).
            if args.contains(&"-f") {
                continue;
            }
            nothing_split(&unstyled(&format!("{}\n{}", piped.stdout, piped.stderr)), &shown, &what);
        }
    }
}

#[test]
fn ctrl_c_at_a_question_says_nothing_was_changed_and_exits_130() {
    let env = owner();
    env.handle().set_knobs(|k| {
        k.kube.replace_ms = 50;
        k.kube.ready_ms = 50;
    });
    let questions: &[(&[&str], &str)] = &[
        (&["reset", "-r", "us-south", "-g", "Default"], "[y/N]"),
        (&["prune", "-r", "us-south", "-g", "Default"], "[y/N]"),
        (&["check", "--user", "vera.viewer@example.com", "-r", "us-south", "-g", "Default", "--grant"], "[y/N]"),
        (&["restart-addons", "--cluster", "payments"], "[y/N]"),
        (&["check", "--user", "new.fid@example.com", "--grant", "--invite"], "[y/N]"),
    ];
    for (args, prompt) in questions {
        let keys_before = env.handle().world().api_keys.len();
        let writes_before: u64 = env
            .handle()
            .stats()
            .iter()
            .filter(|(k, _)| ["POST", "DELETE", "PATCH", "PUT"].iter().any(|m| k.contains(m)))
            .map(|(_, n)| n)
            .sum();
        let mut p = rexpect::session::spawn_command(env.command(args), Some(30_000)).expect("a pseudo-terminal");
        p.exp_string(prompt).unwrap();
        p.send_control('c').unwrap();
        let rest = p.exp_eof().unwrap();
        assert!(rest.contains("Interrupted at the question: nothing was changed."), "{args:?}: {rest}");
        match p.process.wait().unwrap() {
            WaitStatus::Exited(_, code) => assert_eq!(code, 130, "{args:?}"),
            other => panic!("{args:?}: not a normal exit: {other:?}"),
        }
        let writes_after: u64 = env
            .handle()
            .stats()
            .iter()
            .filter(|(k, _)| ["POST", "DELETE", "PATCH", "PUT"].iter().any(|m| k.contains(m)))
            .map(|(_, n)| n)
            .sum();
        assert_eq!(writes_after, writes_before, "{args:?}: a write after Ctrl-C");
        assert_eq!(env.handle().world().api_keys.len(), keys_before, "{args:?}");
    }
}
