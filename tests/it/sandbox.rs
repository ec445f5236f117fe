//! `--sandbox`: the embedded emulator, persisted between invocations, isolated from the user's
//! real CLI config.

use cluster_api_key_core::env as var;

use crate::common::cli;

fn sandbox(home: &std::path::Path, args: &[&str]) -> crate::common::Run {
    let out = cli()
        .arg("--sandbox")
        .args(args)
        .env(var::HOME, home)
        .env(var::NO_COLOR, "1")
        // A real-looking session and key in the environment must be ignored.
        .env(var::IBMCLOUD_API_KEY, "a-real-key-that-must-not-be-used")
        .env(var::IAM_ENDPOINT, "https://iam.cloud.ibm.com")
        .output()
        .unwrap();
    crate::common::Run::from(&out)
}

#[test]
fn reset_then_info_shows_the_new_owner_and_persists() {
    let home = tempfile::tempdir().unwrap();
    // The user's real config: must stay byte for byte as it is.
    let real = home.path().join(".bluemix");
    std::fs::create_dir_all(&real).unwrap();
    std::fs::write(real.join("config.json"), "{\"IAMToken\":\"\"}").unwrap();
    let filters = crate::common::Sandbox(home.path());
    crate::assert_run!(filters, "sandbox-info-before-reset", sandbox(home.path(), &["info", "--cluster", "shop-vpc"]));
    crate::assert_run!(filters, "sandbox-reset", sandbox(home.path(), &["reset", "--region", "us-south", "-f"]));
    crate::assert_run!(filters, "sandbox-info-after-reset", sandbox(home.path(), &["info", "--cluster", "shop-vpc"]));
    assert_eq!(std::fs::read_to_string(real.join("config.json")).unwrap(), "{\"IAMToken\":\"\"}");
    let dir = real.join("plugins/cluster-api-key/sandbox");
    assert!(dir.join("world.json").exists());
    assert!(dir.join("audit.jsonl").exists());
}

#[test]
fn the_sandbox_resets_and_restarts_add_ons_end_to_end() {
    let home = tempfile::tempdir().unwrap();
    let r = sandbox(home.path(), &["reset", "-r", "us-south", "-g", "production", "--restart-addons", "-f"]);
    crate::assert_run!(crate::common::Sandbox(home.path()), "sandbox-reset-restart-addons", r);
    let r = sandbox(home.path(), &["restart-addons", "--cluster", "shop-vpc", "-f", "-o", "json"]);
    r.exits(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["summary"]["restarted"], 1, "{v}");
}

#[test]
fn printed_commands_carry_the_sandbox_and_run_as_printed() {
    let home = tempfile::tempdir().unwrap();
    let filters = crate::common::Sandbox(home.path());
    let r = sandbox(home.path(), &["status", "-r", "us-south", "-g", "Default"]);
    crate::assert_run!(filters, "sandbox-status-prints-sandbox-commands", r);
    // The printed command, run as printed (words after the program name), works in the sandbox.
    let r = sandbox(home.path(), &["prune", "--region", "us-south", "-g", "Default", "--dry-run"]);
    crate::assert_run!(filters, "sandbox-prune-as-printed", r);
    // As another identity, the identity is carried too.
    let out = cli()
        .args(["--sandbox=viewer", "reset", "-r", "us-south", "-f"])
        .env(var::HOME, home.path())
        .env(var::NO_COLOR, "1")
        .output()
        .unwrap();
    let r = crate::common::Run::from(&out);
    // The grant is an administrator's: in the sandbox, the seeded owner, not the refused viewer.
    crate::assert_run!(filters, "sandbox-viewer-reset-refused-names-the-owners-grant", r);
    let printed = r.stderr.split('\'').find(|p| p.contains(" check ")).expect("a printed check command").to_owned();
    let words: Vec<&str> = printed.split_whitespace().skip(1).collect();
    let run = |args: &[&str]| {
        let out = cli().args(args).env(var::HOME, home.path()).env(var::NO_COLOR, "1").output().unwrap();
        crate::common::Run::from(&out)
    };
    let mut grant = words.clone();
    grant.push("-f");
    run(&grant).success();
    // Once granted, the viewer's reset passes the pre-flight and happens.
    crate::assert_run!(
        filters,
        "sandbox-viewer-reset-after-grant",
        run(&["--sandbox=viewer", "reset", "-r", "us-south", "-f"])
    );
    // A filtered status does not call the policy's acceptance of another target stale.
    crate::assert_run!(
        filters,
        "sandbox-filtered-status-after-resets",
        sandbox(home.path(), &["status", "-r", "us-south"])
    );
}

#[test]
fn sandbox_reset_alone_starts_over_and_says_so() {
    let home = tempfile::tempdir().unwrap();
    let filters = crate::common::Sandbox(home.path());
    sandbox(home.path(), &["reset", "--region", "us-south", "-f", "-q"]).success();
    // The same info as after any reset, and then as before any.
    crate::assert_run!(filters, "sandbox-info-after-reset", sandbox(home.path(), &["info", "-c", "shop-vpc"]));
    crate::assert_run!(filters, "sandbox-reset-alone", sandbox(home.path(), &["--sandbox-reset"]));
    crate::assert_run!(filters, "sandbox-info-before-reset", sandbox(home.path(), &["info", "-c", "shop-vpc"]));
}
