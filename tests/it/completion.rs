//! Shell completion, proven by the shells themselves: the generated script is loaded into real
//! bash (always) and fish and zsh (where installed; `.ci/run` installs them), and asked what it
//! completes. Grepping the script proved nothing: its `case` labels once matched no command.
#![allow(clippy::print_stderr, reason = "a test that cannot run says why")]

use std::process::Command;

fn script(shell: &str) -> String {
    let out = crate::common::cli().args(["completion", shell]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn installed(shell: &str) -> bool {
    Command::new(shell).arg("--version").output().is_ok_and(|o| o.status.success())
}

/// What bash completes for `line` (the cursor at its end), through the generated function as
/// `complete -F` calls it: `$1` the command, `$2` the word being completed, `$3` the one before.
fn bash(line: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cluster-api-key.bash");
    std::fs::write(&file, script("bash")).unwrap();
    let driver = r#"
source "$1"
read -ra COMP_WORDS <<< "$2"
[[ "$2" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="$2"; COMP_POINT=${#COMP_LINE}
cur="${COMP_WORDS[COMP_CWORD]}"; prev="${COMP_WORDS[COMP_CWORD-1]}"
_cluster__api__key cluster-api-key "$cur" "$prev"
printf '%s\n' "${COMPREPLY[@]}"
"#;
    let out = Command::new("bash").args(["-c", driver, "driver"]).arg(&file).arg(line).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().lines().filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

#[test]
fn bash_completes_commands_flags_and_values_after_a_command() {
    assert!(bash("cluster-api-key sta").contains(&"status".to_owned()));
    let flags = bash("cluster-api-key reset --re");
    assert!(flags.contains(&"--region".to_owned()) && flags.contains(&"--resource-group".to_owned()), "{flags:?}");
    assert!(!flags.contains(&"--fail-on".to_owned()), "only reset's flags: {flags:?}");
    assert_eq!(bash("cluster-api-key status --fail-on "), ["critical", "warning", "never"]);
    let shells = bash("cluster-api-key completion ");
    for shell in ["bash", "zsh", "fish", "powershell"] {
        assert!(shells.contains(&shell.to_owned()), "{shells:?}");
    }
    // A hyphenated command too.
    assert!(bash("cluster-api-key restart-addons --add").contains(&"--addon".to_owned()));
    assert_eq!(bash("cluster-api-key restart-addons --addon "), ["vpc-block-csi", "cluster-autoscaler"]);
}

#[test]
fn fish_completes_after_a_command_where_fish_is_installed() {
    if !installed("fish") {
        eprintln!("fish is not installed: skipped (.ci/run installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cluster-api-key.fish");
    std::fs::write(&file, script("fish")).unwrap();
    let ask = |line: &str| -> Vec<String> {
        let cmd = format!("source {}; complete -C '{line}'", file.display());
        let out = Command::new("fish").args(["--no-config", "-c", &cmd]).output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines().map(|l| l.split('\t').next().unwrap_or_default().to_owned()).collect()
    };
    let flags = ask("cluster-api-key reset --re");
    assert!(flags.contains(&"--region".to_owned()) && !flags.contains(&"--fail-on".to_owned()), "{flags:?}");
    let mut values = ask("cluster-api-key status --fail-on ");
    values.sort();
    assert_eq!(values, ["critical", "never", "warning"]);
    let shells = ask("cluster-api-key completion ");
    assert!(shells.contains(&"zsh".to_owned()) && !shells.iter().any(|s| s.contains('/')), "{shells:?}");
}

#[test]
fn zsh_loads_the_script_where_zsh_is_installed() {
    if !installed("zsh") {
        eprintln!("zsh is not installed: skipped (.ci/run installs it)");
        return;
    }
    // zsh's completion needs a terminal to drive (zpty); loading the script into compsys and
    // finding its function defined is what is checked here.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("_cluster-api-key");
    std::fs::write(&file, script("zsh")).unwrap();
    let cmd =
        format!("autoload -U compinit && compinit -u -D && source {} && whence -w _cluster-api-key", file.display());
    let out = Command::new("zsh").args(["-f", "-c", &cmd]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("_cluster-api-key: function"), "{out:?}");
}
