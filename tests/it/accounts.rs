//! Issue #31: every account of an enterprise in one status. The default world in a small
//! enterprise (`World::with_enterprise`): Example Corp (targeted), Example Corp Staging (the
//! functional ID and the owner are members) and Example Corp Finance (neither is).

use cluster_api_key_core::env as var;
use cluster_api_key_emulator::World;
use cluster_api_key_emulator::world::{self, keys};
use serde_json::Value;

use crate::common::TestEnv;

pub(crate) fn enterprise(key: &str) -> TestEnv {
    let env = TestEnv::with_world(World::default_world().with_enterprise());
    env.login(key, Some("us-south"));
    env
}

use crate::status::json;

/// The requests that read an account's data (not the token, not the account lists).
pub(crate) fn data_requests(env: &TestEnv) -> u64 {
    env.handle()
        .stats()
        .iter()
        .filter(|(k, _)| {
            (k.starts_with("GET ") || k.starts_with("POST ") || k.starts_with("DELETE "))
                && !k.contains("/identity/token")
                && !k.contains("/coe/v2/accounts")
                && !k.ends_with(" /v1/accounts")
        })
        .map(|(_, n)| n)
        .sum()
}

#[test]
fn two_accounts_merged_in_text_json_and_csv() {
    let env = enterprise(keys::FUNCTIONAL);
    let r = env.run(&["status", "--account", "Example Corp,example corp staging", "--severity", "critical"]);
    crate::assert_run!(env, "accounts-two-text", r);
    r.exits(3).stdout_has("Example Corp Staging").stdout_lacks("target this one first");
    // Every command printed for the other account carries its ID; the targeted one's do not.
    let r = env.run(&["status", "--account", "Example Corp,Example Corp Staging", "--all"]);
    let staging = r.stdout.split("Account Example Corp Staging").nth(1).unwrap_or_default();
    assert!(
        staging.contains(&format!("reset --account {} --region us-south -g Default", world::STAGING_ACCOUNT)),
        "{staging}"
    );
    let home = r.stdout.split("Account Example Corp Staging").next().unwrap_or_default();
    assert!(home.contains("cluster-api-key reset --region") && !home.contains("--account"), "{home}");

    let (code, v) = json(&env, &["--account", world::ACCOUNT_ID, "--account", world::STAGING_ACCOUNT]);
    assert_eq!(code, 3);
    let accounts = v["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    assert_eq!(accounts[0]["account"]["id"], world::ACCOUNT_ID);
    assert_eq!(accounts[1]["account"]["id"], world::STAGING_ACCOUNT);
    assert_eq!(accounts[1]["account"]["name"], "Example Corp Staging");
    let staging = accounts[1]["targets"].as_array().unwrap();
    assert_eq!(staging.len(), 1);
    assert_eq!(staging[0]["clusters"][0]["name"], "stg-web");
    assert!(accounts[0]["targets"].as_array().unwrap().len() > 1);
    assert_eq!(v["summary"]["accounts"], 2);
    assert_eq!(v["summary"]["unreadAccounts"], 0);
    assert_eq!(v["source"], "enterprise");
    let targets = accounts.iter().map(|a| a["summary"]["targets"].as_u64().unwrap()).sum::<u64>();
    assert_eq!(v["summary"]["targets"].as_u64(), Some(targets));

    let r = env.run(&["status", "--output", "csv", "--account", "Example Corp Staging,Example Corp"]);
    let mut lines = r.stdout.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("region,resourceGroup,resourceGroupId,clusters,"), "{header}");
    assert!(header.ends_with(",clustersUnread,controls,account"), "the account column last: {header}");
    let rows: Vec<&str> = lines.collect();
    assert!(rows[0].ends_with(world::STAGING_ACCOUNT), "in the order named: {rows:?}");
    assert!(rows[1..].iter().all(|l| l.ends_with(world::ACCOUNT_ID)), "{rows:?}");

    // One account asked for: the one-account document, unchanged in shape.
    let (_, one) = json(&env, &["--account", "Example Corp Staging"]);
    assert!(one.get("accounts").is_none());
    assert_eq!(one["account"], world::STAGING_ACCOUNT);
    assert_eq!(one["targets"][0]["clusters"][0]["name"], "stg-web");
}

#[test]
fn an_unreadable_account_is_reported_and_counted() {
    let env = enterprise(keys::FUNCTIONAL);
    let r = env.run(&["status", "--all-accounts", "--severity", "critical"]);
    crate::assert_run!(env, "accounts-all-text", r);
    r.exits(3).stdout_has("unknown: no access");
    let (code, v) = json(&env, &["--all-accounts", "--fail-on", "never"]);
    assert_eq!(code, 0, "--fail-on never: not even an unread account fails");
    let accounts = v["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 3, "never silently skipped");
    let finance = accounts.iter().find(|a| a["account"]["id"] == world::FINANCE_ACCOUNT).unwrap();
    assert!(finance["unread"].as_str().unwrap().contains("no access"), "{finance}");
    assert_eq!(v["summary"]["unreadAccounts"], 1);
    let r = env.run(&["status", "--output", "csv", "--all-accounts"]);
    let unread: Vec<&str> = r.stdout.lines().filter(|l| l.ends_with(world::FINANCE_ACCOUNT)).collect();
    assert_eq!(unread.len(), 1, "{}", r.stdout);
    assert!(unread[0].contains("account-unread"), "{}", unread[0]);

    // An account whose own reads are refused (403 on every read there) is unknown too.
    let env = enterprise(keys::FUNCTIONAL);
    env.handle().set_knobs(|k| {
        k.faults.push(crate::common::fault(
            "GET",
            "/v2/resource_groups",
            cluster_api_key_emulator::FaultKind::Status { status: 403 },
            None,
        ));
    });
    let (code, v) = json(&env, &["--account", "Example Corp Staging,Example Corp", "--fail-on", "warning"]);
    assert_eq!(code, 3, "{v}");
    assert!(v["accounts"].as_array().unwrap().iter().all(|a| a["unread"].is_string()), "{v}");
}

#[test]
fn accounts_that_cannot_be_named_are_usage_errors_before_any_read() {
    let env = enterprise(keys::FUNCTIONAL);
    let r = env.run(&["status", "--account", "Nobody Inc"]);
    crate::assert_run!(env, "accounts-unknown", r);
    r.exits(2).stderr_has("names no account this login can read");
    let r = env.run(&["status", "--account", world::FINANCE_ACCOUNT]);
    r.exits(2).stderr_has("no member");
    assert_eq!(data_requests(&env), 0, "no account was read: {:?}", env.handle().stats());

    let mut w = World::default_world().with_enterprise();
    for a in &mut w.accounts {
        if a.id == world::FINANCE_ACCOUNT {
            a.name = "Example Corp Staging".into();
        }
    }
    let env = TestEnv::with_world(w);
    env.login(keys::FUNCTIONAL, Some("us-south"));
    let r = env.run(&["status", "--account", "example corp staging"]);
    crate::assert_run!(env, "accounts-ambiguous", r);
    r.exits(2).stderr_has("matches 2 accounts");
    assert_eq!(data_requests(&env), 0);
    // --all-accounts with --account, or with --owner: refused by the command line.
    env.run(&["status", "--all-accounts", "--account", "x"]).exits(2);
    env.run(&["status", "--all-accounts", "--owner", "a@example.com"]).exits(2);
}

#[test]
fn each_account_has_its_own_rate_budget() {
    let mut env = enterprise(keys::FUNCTIONAL);
    env.extra_env.insert(var::CAK_RATE_LIMIT.into(), "20/2".into());
    env.handle().set_knobs(|k| {
        k.rate_limit = true;
        k.rate_limit_max = 20;
        k.rate_limit_window_ms = 2_000;
    });
    let (code, v) = json(&env, &["--account", "Example Corp,Example Corp Staging"]);
    assert_eq!(code, 3, "{v}");
    assert_eq!(v["summary"]["unreadAccounts"], 0, "{v}");
    assert_eq!(env.handle().stat("rate_limited"), 0, "no 429 at all: {:?}", env.handle().stats());
    assert!(env.plugin_dir().join("ratelimit.json").is_file());
    assert!(env.plugin_dir().join(format!("ratelimit.{}.json", world::STAGING_ACCOUNT)).is_file());
}

#[test]
fn the_cli_session_stays_valid_and_an_api_key_works_too() {
    let env = enterprise(keys::FUNCTIONAL);
    let before = env.read_config();
    let (code, _) = json(&env, &["--account", "Example Corp,Example Corp Staging"]);
    assert_eq!(code, 3);
    // The staging token was not written; the config holds a session for the targeted account.
    let after = env.read_config();
    assert_eq!(after["Account"], before["Account"]);
    let (code, v) = json(&env, &[]);
    assert_eq!(code, 3, "the targeted session still works: {v}");
    assert_eq!(v["account"], world::ACCOUNT_ID);

    let mut env = TestEnv::with_world(World::default_world().with_enterprise());
    env.extra_env.insert(var::IBMCLOUD_API_KEY.into(), keys::FUNCTIONAL.into());
    let (code, v) = json(&env, &["--all-accounts"]);
    assert_eq!(code, 3, "{v}");
    assert_eq!(v["accounts"].as_array().unwrap().len(), 3);
    assert_eq!(v["summary"]["unreadAccounts"], 1);
    assert!(!env.config_path().exists(), "nothing written for an API key session");
}

#[test]
fn info_reads_another_account() {
    let env = enterprise(keys::FUNCTIONAL);
    let r = env.run(&["info", "--account", "Example Corp Staging", "--cluster", "stg-web"]);
    crate::assert_run!(env, "accounts-info-staging", r);
    r.success().stdout_has("Olivia Owner");
    // The cluster is not in the targeted account.
    assert_ne!(env.run(&["info", "--cluster", "stg-web"]).code, 0);
    env.run(&["info", "--account", world::FINANCE_ACCOUNT, "--cluster", "stg-web"]).exits(2).stderr_has("no member");
}

/// Token requests of a run (every grant, answered or refused).
fn token_requests(env: &TestEnv) -> u64 {
    env.handle().stat("POST /identity/token")
}

/// An enterprise of `n` accounts whose people are members of every one, logged in with the CLI.
fn scaled_enterprise(n: usize) -> TestEnv {
    let env = TestEnv::with_world(World::enterprise_scaled(n, 1, 1, 31));
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env
}

#[test]
fn a_cli_session_gets_the_accounts_tokens_in_one_chain() {
    let env = scaled_enterprise(5);
    let before = env.read_config();
    let (_, v) = json(&env, &["--all-accounts"]);
    assert_eq!(v["summary"]["accounts"], 5, "{v}");
    assert_eq!(v["summary"]["unreadAccounts"], 0, "{v}");
    // 4 other accounts: one exchange each in one chain, and one back to the targeted account.
    assert_eq!(token_requests(&env), 5, "N+1 token requests: {:?}", env.handle().stats());
    let after = env.read_config();
    assert_eq!(after["Account"], before["Account"]);
    assert_ne!(after["IAMRefreshToken"], before["IAMRefreshToken"], "the rotated refresh token was saved");
    assert_ne!(after["IAMToken"], before["IAMToken"], "the targeted account's new token was saved");
    // The config holds a working session: a second run chains again from the saved token.
    let (_, v) = json(&env, &["--all-accounts"]);
    assert_eq!(v["summary"]["unreadAccounts"], 0, "{v}");
    assert_eq!(token_requests(&env), 10, "{:?}", env.handle().stats());
    let (_, v) = json(&env, &[]);
    assert_eq!(v["account"], world::ACCOUNT_ID, "{v}");

    // An API key login: one grant per other account, in parallel, no chain, nothing written.
    let mut env = TestEnv::with_world(World::enterprise_scaled(5, 1, 1, 31));
    env.extra_env.insert(var::IBMCLOUD_API_KEY.into(), keys::FUNCTIONAL.into());
    let (_, v) = json(&env, &["--all-accounts"]);
    assert_eq!(v["summary"]["unreadAccounts"], 0, "{v}");
    assert_eq!(env.handle().stat("grant refresh_token"), 0);
    assert!(!env.config_path().exists());
}

#[test]
fn an_exchange_refused_in_the_middle_of_the_chain_is_that_accounts_alone() {
    let env = scaled_enterprise(5);
    // The second exchange of the chain (the third account listed) is refused.
    env.handle().set_knobs(|k| {
        k.faults.push(
            crate::common::fault(
                "POST",
                "/identity/token",
                cluster_api_key_emulator::FaultKind::Status { status: 403 },
                Some(1),
            )
            .after(1),
        );
    });
    let (code, v) = json(&env, &["--all-accounts", "--fail-on", "never"]);
    assert_eq!(code, 0, "{v}");
    let accounts = v["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 5);
    let unread: Vec<&Value> = accounts.iter().filter(|a| a["unread"].is_string()).collect();
    assert_eq!(unread.len(), 1, "only the refused account: {v}");
    assert_eq!(unread[0]["account"], accounts[2]["account"], "{v}");
    assert!(unread[0]["unread"].as_str().unwrap().contains("no access"), "{v}");
    // 2 in the chain (one answered, one refused), 1 back home, then 2 each for the last two.
    assert_eq!(token_requests(&env), 7, "{:?}", env.handle().stats());
    // The config still holds a working session.
    env.handle().set_knobs(|k| k.faults.clear());
    let (_, v) = json(&env, &["--all-accounts"]);
    assert_eq!(v["summary"]["unreadAccounts"], 0, "{v}");
    assert_eq!(token_requests(&env), 12, "{:?}", env.handle().stats());

    // IAM failing (503) on the first exchange: nothing was spent, nothing is written, the
    // accounts get their tokens the usual way, and the session still works.
    let env = scaled_enterprise(3);
    let before = env.read_config();
    env.handle().set_knobs(|k| {
        k.faults.push(crate::common::fault(
            "POST",
            "/identity/token",
            cluster_api_key_emulator::FaultKind::Status { status: 503 },
            Some(1),
        ));
    });
    let (_, v) = json(&env, &["--all-accounts", "--fail-on", "never"]);
    assert_eq!(v["summary"]["accounts"], 3, "{v}");
    let (_, v) = json(&env, &["--all-accounts"]);
    assert_eq!(v["summary"]["unreadAccounts"], 0, "{v}");
    assert_ne!(env.read_config()["IAMRefreshToken"], before["IAMRefreshToken"]);
}

#[test]
fn an_exchange_whose_answer_is_lost_tries_home_once_and_writes_only_on_success() {
    let env = scaled_enterprise(4);
    let before = env.read_config();
    // IAM carries the first exchange out (spending the stored refresh token) and the answer
    // is lost: one try back home with that token (refused: it was spent), then nothing more is
    // sent and nothing is written.
    env.handle().set_knobs(|k| {
        k.faults.push(crate::common::fault(
            "POST",
            "/identity/token",
            cluster_api_key_emulator::FaultKind::ResetAfter,
            Some(1),
        ));
    });
    let (code, v) = json(&env, &["--all-accounts", "--fail-on", "never"]);
    assert_eq!(code, 0, "{v}");
    let accounts = v["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 4);
    assert!(accounts[0]["unread"].is_null(), "the targeted account's own token still works: {v}");
    for a in &accounts[1..] {
        assert!(a["unread"].as_str().unwrap().contains("lost"), "{v}");
    }
    assert_eq!(token_requests(&env), 2, "{:?}", env.handle().stats());
    assert_eq!(env.read_config()["IAMRefreshToken"], before["IAMRefreshToken"]);

    // The answer of the second exchange lost: the first account served keeps its token; the
    // try back home with the token the lost exchange sent fails (IAM spent it), nothing written.
    let env = scaled_enterprise(4);
    let before = env.read_config();
    env.handle().set_knobs(|k| {
        k.faults.push(
            crate::common::fault("POST", "/identity/token", cluster_api_key_emulator::FaultKind::ResetAfter, Some(1))
                .after(1),
        );
    });
    let (_, v) = json(&env, &["--all-accounts", "--fail-on", "never"]);
    let accounts = v["accounts"].as_array().unwrap();
    assert!(accounts[1]["unread"].is_null(), "{v}");
    assert!(accounts[2]["unread"].as_str().unwrap().contains("lost"), "{v}");
    assert!(accounts[3]["unread"].as_str().unwrap().contains("lost"), "{v}");
    assert_eq!(token_requests(&env), 3, "{:?}", env.handle().stats());
    assert_eq!(env.read_config()["IAMRefreshToken"], before["IAMRefreshToken"]);

    // The answer lost before IAM did anything (the connection dropped after the headers): the
    // try back home works, the config holds the new session, the last account gets its token
    // the usual way.
    let env = scaled_enterprise(4);
    let before = env.read_config();
    env.handle().set_knobs(|k| {
        k.faults.push(
            crate::common::fault("POST", "/identity/token", cluster_api_key_emulator::FaultKind::Reset, Some(1))
                .after(1),
        );
    });
    let (_, v) = json(&env, &["--all-accounts", "--fail-on", "never"]);
    let accounts = v["accounts"].as_array().unwrap();
    let unread: Vec<&Value> = accounts.iter().filter(|a| a["unread"].is_string()).collect();
    assert_eq!(unread.len(), 1, "{v}");
    assert_eq!(unread[0]["account"], accounts[2]["account"], "{v}");
    assert_eq!(token_requests(&env), 5, "{:?}", env.handle().stats());
    assert_ne!(env.read_config()["IAMRefreshToken"], before["IAMRefreshToken"]);
    let (_, v) = json(&env, &["--all-accounts"]);
    assert_eq!(v["summary"]["unreadAccounts"], 0, "{v}");
}
