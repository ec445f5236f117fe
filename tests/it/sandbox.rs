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
    let r = sandbox(home.path(), &["info", "--cluster", "shop-vpc"]);
    r.exits(0);
    r.stdout_has("Dave Departed");
    let r = sandbox(home.path(), &["reset", "--region", "us-south", "-f"]);
    r.exits(0);
    let r = sandbox(home.path(), &["info", "--cluster", "shop-vpc"]);
    r.exits(0);
    r.stdout_has("Kubernetes Functional ID");
    assert_eq!(std::fs::read_to_string(real.join("config.json")).unwrap(), "{\"IAMToken\":\"\"}");
    let dir = real.join("plugins/cluster-api-key/sandbox");
    assert!(dir.join("world.json").exists());
    assert!(dir.join("audit.jsonl").exists());
}

#[test]
fn the_sandbox_resets_and_restarts_add_ons_end_to_end() {
    let home = tempfile::tempdir().unwrap();
    let r = sandbox(home.path(), &["reset", "-r", "us-south", "-g", "production", "--restart-addons", "-f"]);
    r.exits(0);
    r.stdout_has("payments   vpc-block-csi   restarted");
    let r = sandbox(home.path(), &["restart-addons", "--cluster", "shop-vpc", "-f", "-o", "json"]);
    r.exits(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["summary"]["restarted"], 1, "{v}");
}

#[test]
fn printed_commands_carry_the_sandbox_and_run_as_printed() {
    let home = tempfile::tempdir().unwrap();
    let r = sandbox(home.path(), &["status", "-r", "us-south", "-g", "Default"]);
    r.exits(3).stdout_has("'cluster-api-key --sandbox prune --region us-south -g Default'");
    // The printed command, run as printed (words after the program name), works in the sandbox.
    let r = sandbox(home.path(), &["prune", "--region", "us-south", "-g", "Default", "--dry-run"]);
    r.success().stdout_has("ApiKey-1111-us-default-old");
    // As another identity, the identity is carried too.
    let out = cli()
        .args(["--sandbox=viewer", "reset", "-r", "us-south", "-f"])
        .env(var::HOME, home.path())
        .env(var::NO_COLOR, "1")
        .output()
        .unwrap();
    let r = crate::common::Run::from(&out);
    // The grant is an administrator's: in the sandbox, the seeded owner, not the refused viewer.
    r.exits(1).stderr_has("'cluster-api-key --sandbox=owner check --region us-south");
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
    run(&["--sandbox=viewer", "reset", "-r", "us-south", "-f"]).success().stdout_has("now belongs to");
    // A filtered status does not call the policy's acceptance of another target stale.
    sandbox(home.path(), &["status", "-r", "us-south"]).stderr_lacks("matches no finding");
}

#[test]
fn sandbox_reset_alone_starts_over_and_says_so() {
    let home = tempfile::tempdir().unwrap();
    sandbox(home.path(), &["reset", "--region", "us-south", "-f", "-q"]).success();
    sandbox(home.path(), &["info", "-c", "shop-vpc"]).stdout_has("Kubernetes Functional ID");
    let r = sandbox(home.path(), &["--sandbox-reset"]);
    r.success().stdout_has("The sandbox starts over").stdout_lacks("USAGE");
    sandbox(home.path(), &["info", "-c", "shop-vpc"]).stdout_has("Dave Departed");
}
