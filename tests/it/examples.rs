//! Issue #32: the CI recipes in `examples/` are true. Each file parses as YAML with the keys its
//! CI expects, and its shell runs as the CI would run it, against the sandbox: a
//! `cluster-api-key` on `PATH` that is this binary with `--sandbox` (the sandbox ignores the
//! `IBMCLOUD_API_KEY` the recipe sets), the CI's files and variables in a scratch folder. The
//! release installer is not run (no network here): its URL is checked to be the release's, from
//! the repository URL in `Cargo.toml`.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// A recipe, parsed.
fn recipe(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{name} is not YAML: {e}"))
}

/// The installer every recipe fetches: the latest release's, of the repository `Cargo.toml`
/// names.
fn installer_url() -> String {
    let cargo: toml::Table =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap().parse().unwrap();
    let repo = cargo["workspace"]["package"]["repository"].as_str().unwrap();
    format!("{repo}/releases/latest/download/cluster-api-key-installer.sh")
}

/// Whether a line installs the tool (checked, not run), and if so that it runs the release's
/// installer.
#[track_caller]
fn installs(line: &str) -> bool {
    if !line.contains("installer.sh") {
        return false;
    }
    assert!(line.contains(&format!("curl -LsSf {} | sh", installer_url())), "not the release installer: {line}");
    true
}

/// `dir/cluster-api-key`: this binary in the sandbox.
fn shim(dir: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("cluster-api-key");
    std::fs::write(&path, format!("#!/bin/sh\nexec '{}' --sandbox \"$@\"\n", env!("CARGO_BIN_EXE_cluster-api-key")))
        .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A scratch CI machine: a work folder, a home for the sandbox, and `cluster-api-key` as this
/// binary in the sandbox, at `bin/` (on `PATH`) or wherever a recipe installs it.
struct Machine {
    root: tempfile::TempDir,
}

impl Machine {
    fn new() -> Self {
        let m = Self { root: tempfile::tempdir().unwrap() };
        std::fs::create_dir_all(m.work()).unwrap();
        shim(&m.root.path().join("bin"));
        m
    }

    fn work(&self) -> PathBuf {
        self.root.path().join("work")
    }

    /// `script` run by `bash` with `flags` in the work folder, with `env` and the CI's API key.
    fn bash(&self, flags: &[&str], script: &str, env: &[(&str, String)]) -> std::process::Output {
        let path = format!("{}:/usr/local/bin:/usr/bin:/bin", self.root.path().join("bin").display());
        std::process::Command::new("bash")
            .args(["--noprofile", "--norc"])
            .args(flags)
            .arg("-c")
            .arg(script)
            .current_dir(self.work())
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.root.path().join("home"))
            .env("NO_COLOR", "1")
            .env("IBMCLOUD_API_KEY", "a-secret-the-sandbox-ignores")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .unwrap()
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.work().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}

fn said(out: &std::process::Output) -> String {
    format!(
        "exit {:?}\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `${{ secrets.X }}` and `${{ steps.ID.outputs.KEY }}`, as GitHub fills them in.
fn github_expression(s: &str, outputs: &std::collections::BTreeMap<String, String>) -> String {
    let re = regex::Regex::new(r"\$\{\{\s*([^}]+?)\s*\}\}").unwrap();
    re.replace_all(s, |c: &regex::Captures| {
        let e = &c[1];
        if e.starts_with("secrets.") {
            return String::from("a-secret-the-sandbox-ignores");
        }
        let parts: Vec<&str> = e.split('.').collect();
        match parts.as_slice() {
            ["steps", id, "outputs", key] => outputs.get(&format!("{id}.{key}")).cloned().unwrap_or_default(),
            _ => panic!("an expression the test does not know: {e}"),
        }
    })
    .into_owned()
}

#[test]
fn the_github_workflow_uploads_sarif_and_fails_on_critical() {
    let w = recipe("github-actions.yml");
    assert!(w["on"]["schedule"][0]["cron"].is_string(), "a daily schedule: {w}");
    assert_eq!(w["permissions"]["security-events"], "write", "upload-sarif needs it");
    let job = &w["jobs"]["status"];
    assert!(job["runs-on"].is_string());
    assert_eq!(job["env"]["IBMCLOUD_API_KEY"], "${{ secrets.IBMCLOUD_API_KEY }}");
    let steps = job["steps"].as_array().unwrap();
    let upload =
        steps.iter().find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@")));
    let upload = upload.expect("a github/codeql-action/upload-sarif step");
    let sarif_file = upload["with"]["sarif_file"].as_str().unwrap();

    let m = Machine::new();
    let files = ["GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_PATH", "GITHUB_ENV"];
    let env: Vec<(&str, String)> = files.iter().map(|f| (*f, m.root.path().join(f).display().to_string())).collect();
    let mut outputs = std::collections::BTreeMap::new();
    let mut last_failed = false;
    for (i, step) in steps.iter().enumerate() {
        assert!(!last_failed, "a step failed before the last: {step}");
        if step.get("uses").is_some() {
            // The upload: the file it names is valid SARIF, as code scanning requires.
            let text = m.read(sarif_file);
            let v: Value = serde_json::from_str(&text).unwrap();
            crate::sarif::valid(m.root.path(), &text, &v);
            assert!(!v["runs"][0]["results"].as_array().unwrap().is_empty());
            continue;
        }
        let script = step["run"].as_str().unwrap_or_else(|| panic!("a step runs or uses: {step}"));
        if script.lines().any(installs) {
            continue;
        }
        let mut step_env = env.clone();
        if let Some(e) = step["env"].as_object() {
            for (k, v) in e {
                step_env.push((k.as_str(), github_expression(v.as_str().unwrap(), &outputs)));
            }
        }
        let _ = std::fs::write(m.root.path().join("GITHUB_OUTPUT"), "");
        // GitHub runs a `run` step with `bash -e {0}`.
        let out = m.bash(&["-e"], &github_expression(script, &outputs), &step_env);
        if let Some(id) = step["id"].as_str() {
            for line in std::fs::read_to_string(m.root.path().join("GITHUB_OUTPUT")).unwrap_or_default().lines() {
                if let Some((k, v)) = line.split_once('=') {
                    outputs.insert(format!("{id}.{k}"), v.to_owned());
                }
            }
        }
        if i + 1 == steps.len() {
            // The sandbox has critical findings: the last step fails the job, saying why.
            assert_eq!(out.status.code(), Some(1), "{}", said(&out));
            assert!(String::from_utf8_lossy(&out.stderr).contains("critical findings"), "{}", said(&out));
        } else {
            last_failed = !out.status.success();
            assert!(out.status.success(), "step {:?}: {}", step["name"], said(&out));
        }
    }
    assert_eq!(outputs.get("status.code").map(String::as_str), Some("3"), "{outputs:?}");
    let summary = std::fs::read_to_string(m.root.path().join("GITHUB_STEP_SUMMARY")).unwrap();
    let html = crate::markdown::rendered(&summary);
    assert!(html.contains("fails at <code>--fail-on critical</code>"), "{html}");
}

#[test]
fn the_gitlab_job_reports_junit() {
    let g = recipe("gitlab-ci.yml");
    let job = &g["cluster-api-key"];
    assert!(job["image"].is_string() && job["rules"].is_array(), "{job}");
    assert_eq!(job["artifacts"]["when"], "always", "the report of a failed job too");
    let report = job["artifacts"]["reports"]["junit"].as_str().expect("artifacts:reports:junit");
    // GitLab runs before_script and script in one shell, stopping at the first line that fails.
    let mut lines = Vec::new();
    for l in job["before_script"].as_array().unwrap().iter().chain(job["script"].as_array().unwrap()) {
        let l = l.as_str().unwrap();
        if installs(l) || l.starts_with("apt-get ") {
            continue;
        }
        lines.push(l.to_owned());
    }
    let m = Machine::new();
    let out = m.bash(&["-e"], &lines.join("\n"), &[]);
    assert_eq!(out.status.code(), Some(3), "critical findings fail the job: {}", said(&out));
    let suites = crate::junit::read(m.root.path(), &m.read(report));
    assert!(
        suites.failures > 0
            && suites.suites.iter().all(|s| s
                .cases
                .iter()
                .all(|c| { !c.status.is_failure() || c.status.failure_as_ref().failure_type == "critical" }))
    );
}

#[test]
fn the_tekton_task_writes_junit_and_its_exit_code() {
    let t = recipe("tekton-task.yml");
    assert!(t["apiVersion"].as_str().unwrap().starts_with("tekton.dev/"));
    assert_eq!(t["kind"], "Task");
    let spec = &t["spec"];
    let defaults: Vec<(String, String)> = spec["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_owned(), p["default"].as_str().unwrap().to_owned()))
        .collect();
    assert!(spec["workspaces"].as_array().unwrap().iter().any(|w| w["name"] == "output"));
    assert!(spec["results"].as_array().unwrap().iter().any(|r| r["name"] == "exit-code"));
    let steps = spec["steps"].as_array().unwrap();
    for s in steps {
        assert!(s["name"].is_string() && s["image"].is_string() && s["script"].is_string(), "{s}");
    }
    let status = steps.iter().find(|s| s["name"] == "status").unwrap();
    let key = status["env"].as_array().unwrap().iter().find(|e| e["name"] == "IBMCLOUD_API_KEY").unwrap();
    let secret = &key["valueFrom"]["secretKeyRef"];
    assert!(secret["name"].as_str().unwrap().starts_with("$(params.") && secret["key"].is_string(), "{key}");

    let m = Machine::new();
    let ws = m.work();
    let result = m.root.path().join("exit-code");
    let fill = |s: &str| {
        let mut s = s.replace("$(workspaces.output.path)", &ws.display().to_string());
        s = s.replace("$(results.exit-code.path)", &result.display().to_string());
        for (k, v) in &defaults {
            s = s.replace(&format!("$(params.{k})"), v);
        }
        assert!(!s.contains("$(params.") && !s.contains("$(workspaces.") && !s.contains("$(results."), "{s}");
        s
    };
    for s in steps {
        let script = fill(s["script"].as_str().unwrap());
        if script.lines().any(installs) {
            // Where the install step puts it (CARGO_HOME in the workspace), the status step finds it.
            let home = s["env"].as_array().unwrap().iter().find(|e| e["name"] == "CARGO_HOME").unwrap();
            shim(&Path::new(&fill(home["value"].as_str().unwrap())).join("bin"));
            continue;
        }
        assert!(script.starts_with("#!/bin/bash\n"), "{script}");
        let out = m.bash(&[], &script, &[]);
        assert_eq!(out.status.code(), Some(3), "critical findings fail the task: {}", said(&out));
    }
    assert_eq!(std::fs::read_to_string(&result).unwrap(), "3");
    let suites = crate::junit::read(m.root.path(), &m.read("cluster-api-key.xml"));
    assert!(suites.failures > 0);
}

#[test]
fn the_examples_readme_names_every_recipe() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    for e in std::fs::read_dir(&dir).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if Path::new(&name).extension().is_some_and(|x| x == "yml") {
            assert!(readme.contains(&format!("`{name}`")), "examples/README.md does not name {name}");
        }
    }
}
