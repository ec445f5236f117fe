//! Sessions: the CLI config reused and refreshed once, rejected and expired sessions, broken
//! configs, standalone API-key login, credentials never over plain HTTP to a remote host.

use cluster_api_key_core::env as var;
use cluster_api_key_emulator::world::keys;
use serde_json::Value;

use crate::common::TestEnv;

#[test]
fn an_expired_token_is_refreshed_once_and_written_back() {
    let env = TestEnv::new();
    env.handle().world().token_lifetime_secs = 5; // inside the 10 s margin: expired at once
    env.login(keys::VIEWER, Some("us-south"));
    env.handle().world().token_lifetime_secs = 3600;
    let old = env.read_config();
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    r.exits(0);
    assert_eq!(env.handle().stat("grant refresh_token"), 1);
    let new = env.read_config();
    assert_ne!(new["IAMToken"], old["IAMToken"]);
    assert_ne!(new["IAMRefreshToken"], old["IAMRefreshToken"]);
    assert!(new["IAMToken"].as_str().unwrap().starts_with("Bearer "));
    assert!(new["LastSessionUpdateTime"].as_i64().unwrap() > 0);
    // Every other key and the key order are unchanged.
    let keys_of = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    let mut expected = keys_of(&old);
    expected.push("LastSessionUpdateTime".into());
    assert_eq!(keys_of(&new), expected);
    for (k, v) in old.as_object().unwrap() {
        if k != "IAMToken" && k != "IAMRefreshToken" {
            assert_eq!(&new[k], v, "{k} changed");
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(env.config_path()).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // The new token works: no second refresh.
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    r.exits(0);
    assert_eq!(env.handle().stat("grant refresh_token"), 1);
}

#[test]
fn a_rejected_refresh_token_means_log_in_again() {
    let env = TestEnv::new();
    env.handle().world().token_lifetime_secs = 5;
    env.login(keys::VIEWER, Some("us-south"));
    for t in &mut env.handle().world().refresh_tokens {
        t.spent = true;
    }
    crate::assert_run!(env, "session-refresh-rejected", env.run(&["info", "--cluster", "shop-vpc"]));
}

#[test]
fn a_token_the_service_rejects_leads_to_one_refresh_and_one_replay() {
    let env = TestEnv::new();
    env.login(keys::VIEWER, Some("us-south"));
    // The service forgets the token (as after a revocation); the client still thinks it valid.
    env.handle().world().issued_tokens.clear();
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    r.exits(0);
    assert_eq!(env.handle().stat("grant refresh_token"), 1);
    assert_eq!(env.handle().stat("GET /v1/logging/{id}/clusterkeyowner"), 2);
}

#[test]
fn not_logged_in_and_no_region_say_what_to_run() {
    let env = TestEnv::new();
    crate::assert_run!(env, "session-not-logged-in", env.run(&["info", "--cluster", "shop-vpc"]));
    env.login(keys::FUNCTIONAL, None);
    crate::assert_run!(env, "session-no-region", env.run(&["reset", "-f"]));
    crate::assert_run!(env, "session-unknown-region", env.run(&["reset", "-f", "--region", "Not A Region"]));
}

#[test]
fn a_malformed_config_is_a_clear_failure_not_a_panic() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.config_dir()).unwrap();
    std::fs::write(env.config_path(), "{\"IAMToken\": \"Bearer x.y").unwrap();
    crate::assert_run!(env, "session-malformed-config", env.run(&["info", "--cluster", "shop-vpc"]));
    // A token that is not a JWT, with no refresh token to recover.
    std::fs::write(env.config_path(), r#"{"IAMToken":"Bearer not-a-jwt","IAMRefreshToken":""}"#).unwrap();
    crate::assert_run!(env, "session-token-not-a-jwt", env.run(&["info", "--cluster", "shop-vpc"]));
}

#[test]
fn standalone_login_with_an_api_key_keeps_tokens_in_memory() {
    let mut env = TestEnv::new();
    env.extra_env.insert(var::IBMCLOUD_API_KEY.into(), keys::VIEWER.into());
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    r.exits(0);
    assert!(!env.config_path().exists(), "nothing written to a CLI config");
    assert_eq!(env.handle().stat("grant apikey"), 1);
    // The key's last use is recorded, as IAM does.
    let w = env.handle().dump();
    assert!(w.api_keys.iter().find(|k| k.apikey == keys::VIEWER).unwrap().last_authn.is_some());
    // An unknown key: BXNIM0415E, said plainly.
    env.extra_env.insert(var::IBMCLOUD_API_KEY.into(), "definitely-not-a-key-0000".into());
    // (The snapshot shows the key is not echoed back.)
    crate::assert_run!(env, "session-unknown-api-key", env.run(&["info", "--cluster", "shop-vpc"]));
}

#[test]
fn credentials_never_go_over_plain_http_to_a_remote_host() {
    let mut env = TestEnv::new();
    env.login(keys::VIEWER, Some("us-south"));
    // 192.0.2.1 is TEST-NET-1: never routed, and we must refuse before connecting anyway.
    env.extra_env.insert(var::IBMCLOUD_CS_API_ENDPOINT.into(), "http://192.0.2.1:9/global".into());
    crate::assert_run!(env, "session-no-credentials-over-plain-http", env.run(&["info", "--cluster", "shop-vpc"]));
}
