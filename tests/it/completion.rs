//! Shell completion, proven by the shells themselves: the generated script is loaded into real
//! bash (always) and fish and zsh (where installed; `.ci/run` installs them, and under `CI=true`
//! a missing one fails its test), and asked what it completes. Grepping the script proved nothing: its `case` labels once matched no command.

use std::process::Command;

fn script(shell: &str) -> String {
    let out = crate::common::cli().args(["completion", shell]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// How `.ci/run` gets the shells whose completion tests need them.
const INSTALL_SHELLS: &str = ".ci/run installs fish and zsh from Debian's packages";

/// An interactive bash in a pseudo-terminal with the script loaded, so that readline splits the
/// line into words as it does for a person (`--sandbox=ow` is three words to bash: an earlier
/// driver split at spaces only and missed that) and TAB runs the completion. A wrapper around
/// the script's function, registered with the script's own `complete` options, writes what the
/// function offered to a file. Its folder holds files whose names a file completion would offer.
struct Bash {
    p: rexpect::session::PtySession,
    dir: tempfile::TempDir,
}

impl Bash {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cluster-api-key.bash");
        std::fs::write(&file, script("bash")).unwrap();
        for name in ["status-notes.txt", "us-south.txt", "json-file", "owner.txt"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let mut cmd = Command::new("bash");
        cmd.args(["--norc", "--noprofile", "-i"]).current_dir(dir.path()).env("PS1", "$ ").env("TERM", "dumb");
        let mut p = rexpect::session::spawn_command(cmd, Some(15_000)).expect("a pseudo-terminal");
        let out = dir.path().join("offered");
        p.send_line(&format!(
            "source {}; _probe() {{ _cluster__api__key \"$@\"; printf '%s\\n' \"${{COMPREPLY[@]}}\" > {out}.tmp; mv {out}.tmp {out}; }}; eval \"$(complete -p cluster-api-key | sed 's/-F _cluster__api__key /-F _probe /')\"; echo RE''ADY",
            file.display(),
            out = out.display()
        ))
        .unwrap();
        p.exp_string("READY").unwrap();
        Self { p, dir }
    }

    /// Types `line`, presses TAB, and returns what the completion offered.
    fn tab(&mut self, line: &str) -> Vec<String> {
        let out = self.dir.path().join("offered");
        let _ = std::fs::remove_file(&out);
        self.p.send(line).unwrap();
        self.p.send("\t").unwrap();
        self.p.flush().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while !out.exists() {
            assert!(std::time::Instant::now() < deadline, "no completion for {line:?}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::fs::read_to_string(&out).unwrap().lines().filter(|l| !l.is_empty()).map(str::to_owned).collect()
    }

    /// What bash offers for `line`, the line cleared afterwards.
    fn offers(&mut self, line: &str) -> Vec<String> {
        let offered = self.tab(line);
        self.p.send_control('u').unwrap();
        offered
    }

    /// The line as it stands after typing each part and pressing TAB after it (what a person
    /// gets by taking the completions), read back through `echo`.
    fn completed(&mut self, parts: &[&str]) -> String {
        for part in parts {
            self.tab(part);
        }
        self.p.send_control('a').unwrap();
        self.p.send_line("echo LINE\"\"OUT:").unwrap();
        let (_, line) = self.p.exp_regex("LINEOUT:[^\r\n]*").unwrap();
        line.trim_start_matches("LINEOUT:").trim().to_owned()
    }
}

#[test]
fn bash_completes_commands_flags_and_values_after_a_command() {
    let mut b = Bash::new();
    assert!(b.offers("cluster-api-key sta").contains(&"status".to_owned()));
    let flags = b.offers("cluster-api-key reset --re");
    assert!(flags.contains(&"--region".to_owned()) && flags.contains(&"--resource-group".to_owned()), "{flags:?}");
    assert!(!flags.contains(&"--fail-on".to_owned()), "only reset's flags: {flags:?}");
    assert_eq!(b.offers("cluster-api-key status --fail-on "), ["critical", "warning", "never"]);
    let shells = b.offers("cluster-api-key completion ");
    for shell in ["bash", "zsh", "fish", "powershell"] {
        assert!(shells.contains(&shell.to_owned()), "{shells:?}");
    }
    // A hyphenated command too.
    assert!(b.offers("cluster-api-key restart-addons --add").contains(&"--addon".to_owned()));
    assert_eq!(b.offers("cluster-api-key restart-addons --addon "), ["vpc-block-csi", "cluster-autoscaler"]);
}

#[test]
fn fish_completes_after_a_command_where_fish_is_installed() {
    if crate::common::outside_program("fish", INSTALL_SHELLS).is_none() {
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
    // `--sandbox[=IDENTITY]` as the parser takes it: a command after a space, an identity
    // only after `=`, and a command is still found after `--sandbox=owner`.
    let after = ask("cluster-api-key --sandbox ");
    assert!(after.contains(&"status".to_owned()) && !after.contains(&"owner".to_owned()), "{after:?}");
    assert_eq!(ask("cluster-api-key --sandbox=ow"), ["--sandbox=owner"]);
    assert!(ask("cluster-api-key --sandbox=owner status --re").contains(&"--region".to_owned()));
    assert!(ask("cluster-api-key --sandbox status --re").contains(&"--region".to_owned()));
    assert_eq!(ask("cluster-api-key help st"), ["status"]);
    assert_eq!(ask("cluster-api-key reset --output "), ["json"]);
    assert_eq!(ask("cluster-api-key status --region us-s"), ["us-south"]);
}

#[test]
fn zsh_loads_the_script_where_zsh_is_installed() {
    if crate::common::outside_program("zsh", INSTALL_SHELLS).is_none() {
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

/// `--sandbox[=IDENTITY]` as the parser takes it: after `--sandbox ` comes a command (the old
/// script offered identities, and taking one gave "'owner' is not a command"); the identity
/// only after `=`; and the completed line runs.
#[test]
fn bash_completes_the_sandbox_as_the_parser_takes_it() {
    let mut b = Bash::new();
    let after = b.offers("cluster-api-key --sandbox ");
    assert!(after.contains(&"status".to_owned()) && after.contains(&"reset".to_owned()), "{after:?}");
    assert!(!after.contains(&"owner".to_owned()), "an identity after a space is a command word: {after:?}");
    assert_eq!(b.offers("cluster-api-key --sandbox st"), ["status"], "a command, not a file name");
    assert_eq!(b.offers("cluster-api-key --sandbox="), ["functional", "owner", "viewer", "service-id", "departed"]);
    assert_eq!(b.offers("cluster-api-key --sandbox=ow"), ["owner"]);
    assert_eq!(b.offers("cluster-api-key status --sandbox=vi"), ["viewer"]);
    let line = b.completed(&["cluster-api-key --sandbox=ow", "st"]);
    assert_eq!(line, "cluster-api-key --sandbox=owner status");
    // The completed line runs: in the sandbox, as the owner (3: the account has findings).
    let home = tempfile::tempdir().unwrap();
    let words: Vec<&str> = line.split_whitespace().skip(1).collect();
    let out = crate::common::cli().args(&words).env("HOME", home.path()).env("NO_COLOR", "1").output().unwrap();
    let r = crate::common::Run::from(&out);
    r.exits(3);
    assert!(!r.stderr.contains("is not a command"), "{r:?}");
}

/// Values where the parser knows them, never file names: the commands after `help`, the
/// formats each command prints, the known regions.
#[test]
fn bash_completes_commands_formats_and_regions_not_files() {
    let mut b = Bash::new();
    assert_eq!(b.offers("cluster-api-key help st"), ["status"]);
    assert_eq!(b.offers("cluster-api-key help re"), ["reset", "restart-addons"]);
    assert_eq!(b.offers("cluster-api-key reset --output "), ["json"], "reset refuses csv");
    assert_eq!(b.offers("cluster-api-key prune -o "), ["json"]);
    assert_eq!(b.offers("cluster-api-key status --output "), ["json", "csv", "sarif", "junit", "markdown"]);
    assert_eq!(
        b.offers("cluster-api-key status --control "),
        ["CIS-1.3", "CIS-1.5"],
        "the controls a finding evidences"
    );
    assert!(!b.offers("cluster-api-key completion --o").contains(&"--output".to_owned()), "completion refuses it");
    assert_eq!(b.offers("cluster-api-key status --region us-s"), ["us-south"], "a region, not us-south.txt");
    let regions = b.offers("cluster-api-key reset -r ");
    let mut sorted = regions.clone();
    sorted.sort();
    assert_eq!(regions, sorted);
    assert!(regions.contains(&"jp-tok".to_owned()) && regions.len() == 17, "{regions:?}");
    // A free value (a group, an e-mail) offers no file of the folder.
    assert!(!b.offers("cluster-api-key status --owner ow").contains(&"owner.txt".to_owned()));
    // A path still completes as one.
    assert_eq!(b.offers("cluster-api-key status --policy status-n"), ["status-notes.txt"]);
}

/// The `ibmcloud` host's delegated completion gives the same answers as the bash script.
#[test]
fn the_host_completes_as_bash_does() {
    let host = |words: &[&str]| -> Vec<String> {
        let out = crate::common::cli().arg("SendCompletion").arg("cluster-api-key").args(words).output().unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect()
    };
    let mut b = Bash::new();
    for (line, words) in [
        ("cluster-api-key --sandbox st", &["--sandbox", "st"][..]),
        ("cluster-api-key help st", &["help", "st"]),
        ("cluster-api-key help re", &["help", "re"]),
        ("cluster-api-key reset --output ", &["reset", "--output", ""]),
        ("cluster-api-key status --output ", &["status", "--output", ""]),
        ("cluster-api-key status --control ", &["status", "--control", ""]),
        ("cluster-api-key status --region us-", &["status", "--region", "us-"]),
        ("cluster-api-key info -r eu-", &["info", "-r", "eu-"]),
        ("cluster-api-key restart-addons --addon ", &["restart-addons", "--addon", ""]),
    ] {
        assert_eq!(host(words), b.offers(line), "{line}");
    }
    // A word typed in full asks for what follows it, as `reset` does.
    assert!(host(&["--sandbox"]).contains(&"status".to_owned()));
    assert_eq!(host(&["reset", "--output"]), ["json"]);
    // The host completes the whole word: `--sandbox=owner`, as bash's line ends up.
    assert_eq!(host(&["--sandbox=ow"]), ["--sandbox=owner"]);
    assert_eq!(host(&["status", "--policy", ""]), Vec::<String>::new(), "no values: nothing invented");
}

/// zsh driven through its line editor in a pseudo-terminal (compsys loaded, the script's
/// function bound to the command): the line a person gets by pressing TAB, read back through
/// `echo`. zsh's `--sandbox=-` spec takes the identity only after `=`, as the parser does.
#[test]
fn zsh_completes_the_sandbox_help_and_regions_where_zsh_is_installed() {
    if crate::common::outside_program("zsh", INSTALL_SHELLS).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("_cluster-api-key");
    std::fs::write(&file, script("zsh")).unwrap();
    std::fs::write(dir.path().join("status-notes.txt"), "").unwrap();
    let mut cmd = Command::new("zsh");
    cmd.args(["-f", "-i"]).current_dir(dir.path()).env("TERM", "dumb");
    let mut p = rexpect::session::spawn_command(cmd, Some(15_000)).expect("a pseudo-terminal");
    p.send_line(&format!(
        "PS1='$ '; autoload -U compinit && compinit -u -D && source {} && compdef _cluster-api-key cluster-api-key; echo RE''ADY",
        file.display()
    ))
    .unwrap();
    p.exp_string("READY").unwrap();
    let mut completed = |parts: &[&str]| -> String {
        for part in parts {
            p.send(part).unwrap();
            p.send("\t").unwrap();
            // zsh gives no sign that a completion is done: a pause, as a person's.
            std::thread::sleep(std::time::Duration::from_millis(700));
        }
        p.send_control('a').unwrap();
        p.send_line("echo LINE\"\"OUT:").unwrap();
        let (_, line) = p.exp_regex("LINEOUT:[^\r\n]*").unwrap();
        line.trim_start_matches("LINEOUT:").trim().to_owned()
    };
    assert_eq!(completed(&["cluster-api-key --sandbox=ow"]), "cluster-api-key --sandbox=owner");
    assert_eq!(completed(&["cluster-api-key --sandbox st"]), "cluster-api-key --sandbox status");
    assert_eq!(completed(&["cluster-api-key --sandbox=ow", "sta"]), "cluster-api-key --sandbox=owner status");
    assert_eq!(completed(&["cluster-api-key help sta"]), "cluster-api-key help status", "a command, not a file");
    assert_eq!(completed(&["cluster-api-key status --region us-so"]), "cluster-api-key status --region us-south");
}
