//! Issue #31: `--account` for the commands that act on one account (`reset`, `prune`, `check`,
//! `restart-addons`). The default world in its small enterprise (see `accounts.rs`): the
//! functional ID is logged in to Example Corp and is a member of Example Corp Staging, whose one
//! target (us-south / Default, the cluster stg-web) has a key the owner holds.

use cluster_api_key_emulator::world::{self, keys};
use serde_json::Value;

use crate::accounts::{data_requests, enterprise};
use crate::common::{TestEnv, audit_records};

const STAGING: &str = "Example Corp Staging";

/// The containers-kubernetes-key keys of `account`, by ID.
fn keys_of(env: &TestEnv, account: &str) -> Vec<String> {
    let mut ids: Vec<String> =
        env.cluster_keys().into_iter().filter(|k| k.account_id == account).map(|k| k.id).collect();
    ids.sort();
    ids
}

/// The key each target of `account` uses.
fn in_use(env: &TestEnv, account: &str) -> Vec<String> {
    env.handle().dump().cluster_keys.into_iter().filter(|c| c.account_id == account).map(|c| c.api_key_id).collect()
}

/// Every request the emulator answered.
fn requests(env: &TestEnv) -> u64 {
    env.handle().stats().values().sum()
}

/// Runs a command line as printed (`cluster-api-key ...`), word by word.
fn run_printed(env: &TestEnv, printed: &str) -> crate::common::Run {
    let words: Vec<&str> = printed.split_whitespace().collect();
    assert_eq!(words[0], "cluster-api-key", "{printed}");
    env.run(&words[1..])
}

#[test]
fn reset_on_another_account_names_it_and_changes_only_it() {
    let env = enterprise(keys::FUNCTIONAL);
    let config = std::fs::read(env.config_path()).unwrap();
    let (home_keys, home_in_use) = (keys_of(&env, world::ACCOUNT_ID), in_use(&env, world::ACCOUNT_ID));
    let staging_before = in_use(&env, world::STAGING_ACCOUNT);

    // The dry run: the plan names the account, by name and ID; nothing changes.
    let r = env.run(&["reset", "--account", STAGING, "--region", "us-south", "--dry-run"]);
    crate::assert_run!(env, "accounts-reset-dry-run", r);
    r.success().stdout_has(&format!("Account: {STAGING} ({}), not the targeted account", world::STAGING_ACCOUNT));
    assert_eq!(in_use(&env, world::STAGING_ACCOUNT), staging_before);
    let r = env.run(&["reset", "--account", STAGING, "--region", "us-south", "--dry-run", "-o", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!((v["account"].as_str(), v["accountName"].as_str()), (Some(world::STAGING_ACCOUNT), Some(STAGING)));

    // The reset: a new key in staging, owned by the caller; the targeted account untouched.
    let r = env.run(&["reset", "--account", world::STAGING_ACCOUNT, "--region", "us-south", "-f"]);
    crate::assert_run!(env, "accounts-reset-done", r);
    r.success();
    let now = in_use(&env, world::STAGING_ACCOUNT);
    assert_eq!(now.len(), 1);
    assert_ne!(now, staging_before, "the staging target has a new key");
    let new = env.cluster_keys().into_iter().find(|k| k.id == now[0]).unwrap();
    assert_eq!((new.account_id.as_str(), new.iam_id.as_str()), (world::STAGING_ACCOUNT, world::FUNCTIONAL));
    assert_eq!(keys_of(&env, world::ACCOUNT_ID), home_keys, "no key created or removed in the targeted account");
    assert_eq!(in_use(&env, world::ACCOUNT_ID), home_in_use);
    // The audit log records the account acted on.
    let audit = audit_records(&env);
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["account"], world::STAGING_ACCOUNT);
    assert_eq!(audit[0]["keyIds"][0], new.id.as_str());
    // The follow-ups carry --account; the status check runs as printed, on staging.
    let printed = r
        .stdout
        .lines()
        .chain(r.stderr.lines())
        .flat_map(|l| l.split('\''))
        .find(|p| p.starts_with("cluster-api-key status --account"))
        .unwrap_or_else(|| panic!("a printed status check: {}", r.transcript()))
        .to_owned();
    assert!(printed.contains(&format!("--account {}", world::STAGING_ACCOUNT)), "{printed}");
    let check = run_printed(&env, &printed);
    assert!([0, 3].contains(&check.code), "{}", check.transcript());
    check.stdout_has("us-south").stdout_has("Default");
    let v: Value = serde_json::from_str(&run_printed(&env, &format!("{printed} -o json")).stdout).unwrap();
    assert_eq!(v["account"], world::STAGING_ACCOUNT);
    assert_eq!(v["targets"][0]["owner"]["iamId"], world::FUNCTIONAL, "the new owner, read in staging: {v}");
    // Nothing was written to the CLI's config for staging: what differs is only what the
    // targeted session refreshes (its own token), and that token is still the targeted account's.
    let mut after = env.read_config();
    let mut before: Value = serde_json::from_slice(&config).unwrap();
    for c in [&mut after, &mut before] {
        let m = c.as_object_mut().unwrap();
        for refreshed in ["IAMToken", "IAMRefreshToken", "LastSessionUpdateTime"] {
            m.remove(refreshed);
        }
    }
    assert_eq!(after, before, "the CLI config is unchanged but for the targeted session's refresh");
    let v: Value = serde_json::from_str(&env.run(&["status", "-o", "json"]).stdout).unwrap();
    assert_eq!(v["account"], world::ACCOUNT_ID, "the CLI session is still the targeted account's");
    env.assert_no_secrets(&r);
}

#[test]
fn prune_on_another_account() {
    let env = enterprise(keys::FUNCTIONAL);
    env.run(&["reset", "--account", STAGING, "--region", "us-south", "-f"]).success();
    let home = keys_of(&env, world::ACCOUNT_ID);
    let r = env.run(&["prune", "--account", STAGING, "--dry-run"]);
    crate::assert_run!(env, "accounts-prune-dry-run", r);
    r.success().stdout_has("ApiKey-b111-stg-default-cur").stdout_has(world::STAGING_ACCOUNT);
    let r = env.run(&["prune", "--account", STAGING, "--dry-run", "-o", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["account"], world::STAGING_ACCOUNT);
    assert_eq!(v["keys"][0]["keyId"], "ApiKey-b111-stg-default-cur");
    let r = env.run(&["prune", "--account", STAGING, "-f"]);
    r.success();
    assert!(!keys_of(&env, world::STAGING_ACCOUNT).contains(&String::from("ApiKey-b111-stg-default-cur")));
    assert_eq!(keys_of(&env, world::ACCOUNT_ID), home, "nothing pruned in the targeted account");
    let deletes: Vec<Value> = audit_records(&env).into_iter().filter(|r| r["action"] == "delete").collect();
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert_eq!(deletes[0]["account"], world::STAGING_ACCOUNT);
}

#[test]
fn check_reads_another_account() {
    let env = enterprise(keys::FUNCTIONAL);
    let r = env.run(&["check", "--account", STAGING, "--region", "us-south"]);
    crate::assert_run!(env, "accounts-check", r);
    r.stdout_has(world::STAGING_ACCOUNT);
    let r = env.run(&["check", "--account", STAGING, "--region", "us-south", "-o", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!((v["account"].as_str(), v["accountName"].as_str()), (Some(world::STAGING_ACCOUNT), Some(STAGING)));
    // The targeted account, as before: no account in the document but its own.
    let v: Value = serde_json::from_str(&env.run(&["check", "--region", "us-south", "-o", "json"]).stdout).unwrap();
    assert_eq!(v["account"], world::ACCOUNT_ID);
    assert!(v.get("accountName").is_none());
}

#[test]
fn one_account_per_write_command_refused_before_any_request() {
    let env = enterprise(keys::FUNCTIONAL);
    let two = format!("{STAGING},{}", world::ACCOUNT_ID);
    for args in [
        vec!["reset", "--account", two.as_str(), "-f"],
        vec!["prune", "--account", STAGING, "--account", world::ACCOUNT_ID],
        vec!["check", "--account", two.as_str()],
        vec!["restart-addons", "--account", two.as_str(), "--cluster", "stg-web"],
        vec!["reset", "--all-accounts", "-f"],
        vec!["prune", "--all-accounts"],
    ] {
        let r = env.run(&args);
        r.exits(2).stderr_has("acts on one account per run");
        assert_eq!(requests(&env), 0, "{args:?}: {:?}", env.handle().stats());
    }
    let r = env.run(&["reset", "--account", &two, "-f"]);
    crate::assert_run!(env, "accounts-reset-two-refused", r);

    // An account that cannot be named: refused before anything of any account is read.
    env.run(&["reset", "--account", "Nobody Inc", "-f"]).exits(2).stderr_has("names no account this login can read");
    env.run(&["prune", "--account", world::FINANCE_ACCOUNT, "-f"]).exits(2).stderr_has("no member");
    env.run(&["check", "--account", "nobody"]).exits(2);
    assert_eq!(data_requests(&env), 0, "{:?}", env.handle().stats());
}

/// The findings of each account of a `status --account A,B -o json` document, as
/// `(account, region/group, code, accepted)`.
fn findings(v: &Value) -> Vec<(String, String, String, bool)> {
    let mut out = Vec::new();
    for a in v["accounts"].as_array().unwrap() {
        for t in a["targets"].as_array().unwrap() {
            for f in t["findings"].as_array().unwrap() {
                out.push((
                    a["account"]["id"].as_str().unwrap().to_owned(),
                    format!("{}/{}", t["region"].as_str().unwrap(), t["resourceGroup"].as_str().unwrap_or_default()),
                    f["code"].as_str().unwrap().to_owned(),
                    f["accepted"].as_bool().unwrap_or(false),
                ));
            }
        }
    }
    out
}

#[test]
fn acceptances_and_functional_ids_are_scoped_by_account() {
    let env = enterprise(keys::FUNCTIONAL);
    let both = format!("{},{}", world::ACCOUNT_ID, world::STAGING_ACCOUNT);
    let r = env.run(&["status", "--account", &both, "-o", "json"]);
    let all = findings(&serde_json::from_str(&r.stdout).unwrap());
    // A finding code both accounts have.
    let code = all
        .iter()
        .filter(|f| f.0 == world::STAGING_ACCOUNT)
        .map(|f| f.2.clone())
        .find(|c| all.iter().any(|f| f.0 == world::ACCOUNT_ID && &f.2 == c))
        .unwrap_or_else(|| panic!("a finding of both accounts: {all:?}"));
    let policy = env.plugin_dir().join("scoped.toml");
    std::fs::create_dir_all(env.plugin_dir()).unwrap();
    std::fs::write(
        &policy,
        format!(
            "[[accept]]\nfinding = \"{code}\"\ntarget = \"*/*\"\naccount = \"{}\"\nreason = \"staging only\"\nuntil = 2099-01-01\n",
            world::STAGING_ACCOUNT.to_uppercase()
        ),
    )
    .unwrap();
    let p = policy.to_str().unwrap();
    let r = env.run(&["status", "--account", &both, "-o", "json", "--policy", p]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let judged = findings(&v);
    let of = |account: &str| judged.iter().filter(|f| f.0 == account && f.2 == code).collect::<Vec<_>>();
    assert!(!of(world::STAGING_ACCOUNT).is_empty() && of(world::STAGING_ACCOUNT).iter().all(|f| f.3), "{judged:?}");
    assert!(
        !of(world::ACCOUNT_ID).is_empty() && of(world::ACCOUNT_ID).iter().all(|f| !f.3),
        "never in the other account: {judged:?}"
    );
    // Not unused in the account it names, and not said unused because the other has no use for it.
    for a in v["accounts"].as_array().unwrap() {
        assert!(a["policy"]["unused"].as_array().is_none_or(Vec::is_empty), "{}", a["policy"]);
    }
    // The same on the targeted account alone, and on staging alone.
    let v: Value = serde_json::from_str(&env.run(&["status", "-o", "json", "--policy", p]).stdout).unwrap();
    let home: Vec<&Value> =
        v["targets"].as_array().unwrap().iter().flat_map(|t| t["findings"].as_array().unwrap()).collect();
    assert!(home.iter().filter(|f| f["code"] == code.as_str()).all(|f| f["accepted"] != true), "{v}");
    let v: Value =
        serde_json::from_str(&env.run(&["status", "--account", STAGING, "-o", "json", "--policy", p]).stdout).unwrap();
    let staging: Vec<&Value> =
        v["targets"].as_array().unwrap().iter().flat_map(|t| t["findings"].as_array().unwrap()).collect();
    assert!(staging.iter().filter(|f| f["code"] == code.as_str()).all(|f| f["accepted"] == true), "{v}");

    // A functional ID of staging alone: the owner (Olivia) is one there, not at home.
    std::fs::write(
        &policy,
        format!("functional_ids = [{{ id = \"{}\", account = \"{}\" }}]\n", world::OWNER, world::STAGING_ACCOUNT),
    )
    .unwrap();
    let v: Value =
        serde_json::from_str(&env.run(&["status", "--account", &both, "-o", "json", "--policy", p]).stdout).unwrap();
    let judged = findings(&v);
    assert!(!judged.iter().any(|f| f.0 == world::STAGING_ACCOUNT && f.2 == "personal-owner"), "{judged:?}");
    let v: Value =
        serde_json::from_str(&env.run(&["status", "--account", STAGING, "-o", "json", "--policy", p]).stdout).unwrap();
    assert!(!v.to_string().contains("personal-owner"), "{v}");

    // Wrong values stay clear errors, before any request.
    let before = requests(&env);
    for (text, says) in [
        (
            "[[accept]]\nfinding = \"no-key\"\ntarget = \"a/b\"\naccount = \"Example Corp Staging\"\nreason = \"r\"\nuntil = 2099-01-01\n",
            "account = \"Example Corp Staging\" is not an account ID",
        ),
        (
            "[[accept]]\nfinding = \"no-key\"\ntarget = \"a/b\"\naccount = 7\nreason = \"r\"\nuntil = 2099-01-01\n",
            "account = 7 is a number, not text",
        ),
        ("functional_ids = [{ id = \"IBMid-1\" }]\n", "this functional ID has no account"),
        ("functional_ids = [{ id = \"IBMid-1\", acount = \"x\" }]\n", "unknown key 'acount' in a functional ID"),
    ] {
        std::fs::write(&policy, text).unwrap();
        let r = env.run(&["status", "--account", STAGING, "--policy", p]);
        r.exits(2).stderr_has(says);
    }
    assert_eq!(requests(&env), before, "{:?}", env.handle().stats());
}

#[test]
fn a_baseline_of_another_account_is_scoped_to_it() {
    let env = enterprise(keys::FUNCTIONAL);
    std::fs::create_dir_all(env.plugin_dir()).unwrap();
    let file = env.plugin_dir().join("baseline.toml");
    let f = file.to_str().unwrap();
    let r = env.run(&["status", "--account", STAGING, "--baseline", f]);
    r.success();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(&format!("account = \"{}\"", world::STAGING_ACCOUNT)), "{text}");
    assert_eq!(text.matches("[[accept]]").count(), text.matches("account = ").count(), "{text}");
    // It accepts in staging, and nothing at home.
    env.run(&["status", "--account", STAGING, "--policy", f]).success();
    let v: Value = serde_json::from_str(&env.run(&["status", "-o", "json", "--policy", f]).stdout).unwrap();
    assert_eq!(v["summary"]["accepted"], 0, "{v}");
    // On the targeted account: today's entries, for every account (no account field).
    let home = env.plugin_dir().join("home.toml");
    env.run(&["status", "--baseline", home.to_str().unwrap()]);
    let text = std::fs::read_to_string(&home).unwrap();
    assert!(text.contains("[[accept]]") && !text.contains("account = "), "{text}");
    // Several accounts at once: each account's entries name it, the targeted one's too; then
    // each account's findings are accepted in that account alone.
    let many = env.plugin_dir().join("many.toml");
    let both = format!("{},{}", world::ACCOUNT_ID, world::STAGING_ACCOUNT);
    let r = env.run(&["status", "--account", &both, "--baseline", many.to_str().unwrap(), "-o", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.transcript()));
    let text = std::fs::read_to_string(&many).unwrap();
    let entries = text.matches("[[accept]]").count();
    assert_eq!(entries, text.matches("account = ").count(), "{text}");
    assert!(text.contains(&format!("account = \"{}\"", world::ACCOUNT_ID)), "{text}");
    assert!(text.contains(&format!("account = \"{}\"", world::STAGING_ACCOUNT)), "{text}");
    for a in v["accounts"].as_array().unwrap() {
        assert_eq!(a["baseline"]["written"], true, "{a}");
        assert!(a["summary"]["accepted"].as_u64().unwrap() > 0, "{a}");
        assert_eq!(a["summary"]["warnings"], 0, "{a}");
    }
    // The policy is one file: it parses back, and a rerun adds nothing.
    let r = env.run(&["status", "--account", &both, "--baseline", many.to_str().unwrap(), "-f", "-o", "json"]);
    let again: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(std::fs::read_to_string(&many).unwrap().matches("[[accept]]").count(), entries, "{again}");
    // An existing file without -f and without a terminal: refused before any request.
    let before = requests(&env);
    env.run(&["status", "--all-accounts", "--baseline", many.to_str().unwrap()]).exits(1).stderr_has("exists");
    assert_eq!(requests(&env), before);
}

#[test]
fn an_unused_acceptance_of_one_account_is_said_in_that_account() {
    let env = enterprise(keys::FUNCTIONAL);
    std::fs::create_dir_all(env.plugin_dir()).unwrap();
    let policy = env.plugin_dir().join("unused.toml");
    std::fs::write(
        &policy,
        format!(
            "[[accept]]\nfinding = \"no-key\"\ntarget = \"us-south/Default\"\naccount = \"{}\"\nreason = \"r\"\nuntil = 2099-01-01\n",
            world::STAGING_ACCOUNT
        ),
    )
    .unwrap();
    let both = format!("{},{}", world::ACCOUNT_ID, world::STAGING_ACCOUNT);
    let r = env.run(&["status", "--account", &both, "-o", "json", "--policy", policy.to_str().unwrap()]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let unused = |i: usize| v["accounts"][i]["policy"]["unused"].as_array().map_or(0, Vec::len);
    assert_eq!((unused(0), unused(1)), (0, 1), "{v}");
}

#[test]
fn the_question_names_the_account_and_a_no_changes_nothing() {
    let env = enterprise(keys::FUNCTIONAL);
    let before = in_use(&env, world::STAGING_ACCOUNT);
    let mut p = rexpect::session::spawn_command(
        env.command(&["reset", "--account", STAGING, "--region", "us-south"]),
        Some(30_000),
    )
    .unwrap();
    p.exp_string(&format!("In the account {STAGING} ({}): ", world::STAGING_ACCOUNT)).unwrap();
    p.exp_string("[y/N]").unwrap();
    p.send_line("n").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(in_use(&env, world::STAGING_ACCOUNT), before, "nothing changed");
    assert!(keys_of(&env, world::STAGING_ACCOUNT).len() == 1);
}

#[test]
fn restart_addons_on_another_account() {
    let env = enterprise(keys::FUNCTIONAL);
    let r = env.run(&["restart-addons", "--account", STAGING, "--cluster", "stg-web", "--dry-run"]);
    r.success().stdout_has("not the targeted account").stdout_has("stg-web").stdout_has("nothing was changed");
    // The cluster is not in the targeted account.
    assert_ne!(env.run(&["restart-addons", "--cluster", "stg-web", "--dry-run"]).code, 0);
}

#[test]
fn status_of_another_account_prints_commands_that_run_there() {
    let env = enterprise(keys::FUNCTIONAL);
    let r = env.run(&["status", "--account", STAGING]);
    crate::assert_run!(env, "accounts-status-staging", r);
    r.exits(3).stdout_has(&format!("reset --account {} --region us-south -g Default", world::STAGING_ACCOUNT));
    assert!(!r.stdout.contains("target this one first"), "{}", r.stdout);
}
