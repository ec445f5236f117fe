//! `info` and `reset` end to end against the emulator: success paths and each failure path of
//! the product promises (IBM errors, HTML pages, timeouts, lost answers, sessions), asserting the message, the exit code and the emulator's state. Every run
//! also checks that no secret reached stdout, stderr or the trace (`TestEnv::run`).

use cluster_api_key_emulator::world::{self, keys};
use cluster_api_key_emulator::{Fault, FaultKind, ReplicationMode};
use serde_json::Value;

use crate::common::{TestEnv, read};

fn fault(method: &str, path: &str, kind: FaultKind, times: Option<u32>) -> Fault {
    Fault { method: Some(method.into()), path: Some(path.into()), region: None, resource_group: None, kind, times }
}

#[test]
fn info_shows_the_owner_like_the_official_cli() {
    let env = TestEnv::new();
    env.login(keys::VIEWER, Some("us-south"));
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout,
        "Getting information about the API key owner for cluster shop-vpc...\nOK\n\
         Name            Email                       IAM ID\n\
         Dave Departed   dave.departed@example.com   IBMid-2700000DEP\n"
    );
    assert!(r.stderr.is_empty(), "{r:?}");
    // By ID too, and quiet mode keeps only the table.
    let r = env.run(&["info", "-c", "c0eu1vpc00000000000d", "-q"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("Name "), "{r:?}");
    assert!(r.stdout.contains("Olivia Owner"));
}

#[test]
fn info_json_is_one_document_with_camel_case_fields() {
    let env = TestEnv::new();
    env.login(keys::VIEWER, None);
    let r = env.run(&["info", "--cluster", "payments", "--output", "Json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).expect("only JSON on stdout");
    assert_eq!(v["cluster"], "payments");
    assert_eq!(v["name"], "Kubernetes Functional ID");
    assert_eq!(v["email"], "k8s-functional@example.com");
    assert_eq!(v["iamId"], world::FUNCTIONAL);
}

#[test]
fn unknown_cluster_is_g0004_with_hint_and_incident() {
    let env = TestEnv::new();
    env.login(keys::VIEWER, Some("us-south"));
    let r = env.run(&["info", "--cluster", "no such/cluster?"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.starts_with("FAILED\nThe specified cluster could not be found."), "{r:?}");
    assert!(r.stderr.contains("resource group. (G0004)\n\nTo list the clusters"), "{r:?}");
    assert!(r.stderr.contains("\nIncident ID: "), "{r:?}");
    // The odd name travelled as one encoded path segment.
    assert!(read(&env.trace_path()).contains("/v1/logging/no%20such%2Fcluster%3F/clusterkeyowner"));
}

#[test]
fn reset_creates_exactly_one_key_and_info_shows_the_new_owner() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    let before = env.cluster_keys();
    let r = env.run(&["reset", "--region", "us-south", "-f"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("Current owner:    Dave Departed <dave.departed@example.com> (IBMid-2700000DEP)"),
        "{r:?}"
    );
    assert!(r.stdout.contains("Clusters:         2 (legacy-classic, shop-vpc)"), "{r:?}");
    assert!(r.stdout.contains("\nOK\n"), "{r:?}");
    let after = env.cluster_keys();
    assert_eq!(after.len(), before.len() + 1, "exactly one new key");
    let new = after.iter().find(|k| !before.iter().any(|b| b.id == k.id)).unwrap();
    assert_eq!(new.iam_id, world::FUNCTIONAL);
    assert!(new.description.as_deref().unwrap().contains(world::RG_DEFAULT), "default group when none is targeted");
    assert!(r.stdout.contains(&format!("New key ID: {}", new.id)), "{r:?}");
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    assert!(r.stdout.contains("Kubernetes Functional ID"), "{r:?}");
    // The audit log has one line, with IDs and no values.
    let audit = read(&env.plugin_dir().join("audit.jsonl"));
    assert_eq!(audit.lines().count(), 1, "{audit}");
    let rec: Value = serde_json::from_str(audit.lines().next().unwrap()).unwrap();
    assert_eq!(rec["action"], "reset");
    assert_eq!(rec["outcome"], "succeeded");
    assert_eq!(rec["keyIds"][0], new.id.as_str());
    assert_eq!(rec["region"], "us-south");
    assert!(!audit.contains(&new.apikey));
}

#[test]
fn reset_takes_a_group_name_without_retargeting_and_json_output() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("eu-de"));
    let r = env.run(&["reset", "-g", "production", "--region", "us-south", "-f", "--output", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).expect("one JSON document");
    assert_eq!(v["region"], "us-south");
    assert_eq!(v["resourceGroupName"], "production");
    assert_eq!(v["resourceGroupId"], world::RG_PRODUCTION);
    assert_eq!(v["newOwner"]["iamId"], world::FUNCTIONAL);
    assert_eq!(v["previousOwner"]["iamId"], world::FUNCTIONAL);
    assert_eq!(v["clusters"], serde_json::json!(["payments"]));
    assert!(v["newKeyId"].as_str().unwrap().starts_with("ApiKey-"));
    // An unknown group name is a clear failure and nothing is created.
    let before = env.cluster_keys().len();
    let r = env.run(&["reset", "-g", "nope", "--region", "us-south", "-f"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("Resource group 'nope' was not found"), "{r:?}");
    assert_eq!(env.cluster_keys().len(), before);
}

#[test]
fn reset_without_a_terminal_or_force_refuses_and_changes_nothing() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    let before = env.cluster_keys().len();
    let r = env.run(&["reset", "--region", "us-south"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("no terminal is attached"), "{r:?}");
    assert!(r.stderr.contains("-f"), "{r:?}");
    assert_eq!(env.cluster_keys().len(), before);
}

#[test]
fn a_refused_reset_is_403_and_creates_nothing() {
    let env = TestEnv::new();
    env.login(keys::VIEWER, Some("us-south"));
    let before = env.cluster_keys().len();
    let r = env.run(&["reset", "--region", "us-south", "-f"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("(A0009)"), "{r:?}");
    assert!(r.stderr.contains("Nothing was changed"), "{r:?}");
    assert!(r.stderr.contains("Incident ID: "), "{r:?}");
    assert_eq!(env.cluster_keys().len(), before);
    // A service ID without Operator on IAM Identity is refused the way IBM refuses it.
    env.login(keys::SERVICE_ID, Some("us-south"));
    let r = env.run(&["reset", "--region", "us-south", "-f"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("(A0656)"), "{r:?}");
    assert!(
        r.stderr
            .contains("'ibmcloud iam service-policy-create SERVICE_ID --roles Operator --service-name iam-identity'"),
        "{r:?}"
    );
    assert_eq!(env.cluster_keys().len(), before);
}

#[test]
fn a_5xx_on_reset_is_not_retried_and_nothing_was_created() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env.handle().set_knobs(|k| k.faults.push(fault("POST", "/v1/keys", FaultKind::Status { status: 503 }, None)));
    let before = env.cluster_keys().len();
    let r = env.run(&["reset", "--region", "us-south", "-f"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("Nothing was changed"), "{r:?}");
    assert_eq!(env.handle().stat("POST /global/v1/keys") + env.handle().stat("POST /v1/keys"), 1, "never retried");
    assert_eq!(env.cluster_keys().len(), before);
}

#[test]
fn a_lost_answer_after_a_successful_reset_is_recognised() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    // The server creates the key, then the answer is cut off.
    env.handle().set_knobs(|k| k.faults.push(fault("POST", "/v1/keys", FaultKind::Truncate, Some(1))));
    let before = env.cluster_keys().len();
    let r = env.run(&["reset", "--region", "us-south", "-f"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("the reset happened"), "{r:?}");
    assert_eq!(env.cluster_keys().len(), before + 1, "one key, no blind retry");
}

#[test]
fn an_html_error_page_keeps_the_status_and_a_short_excerpt() {
    let env = TestEnv::new();
    env.login(keys::VIEWER, Some("us-south"));
    env.handle().set_knobs(|k| k.faults.push(fault("GET", "clusterkeyowner", FaultKind::Html { status: 502 }, None)));
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("Kubernetes Service answered with HTTP 502: 502 Bad Gateway"), "{r:?}");
    assert!(!r.stderr.contains("<html>"), "{r:?}");
    // GETs are retried on 5xx: 1 + 3 retries.
    assert_eq!(env.handle().stat("GET /v1/logging/{id}/clusterkeyowner"), 4);
}

#[test]
fn transient_5xx_and_429_on_reads_are_retried_to_success() {
    let env = TestEnv::new();
    env.login(keys::VIEWER, Some("us-south"));
    env.handle().set_knobs(|k| {
        k.faults.push(fault("GET", "clusterkeyowner", FaultKind::Status { status: 503 }, Some(1)));
        k.faults.push(fault("GET", "clusterkeyowner", FaultKind::Status { status: 429 }, Some(1)));
    });
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(env.handle().stat("GET /v1/logging/{id}/clusterkeyowner"), 3);
}

#[test]
fn a_timeout_is_reported_with_its_hint() {
    let mut env = TestEnv::new();
    env.login(keys::VIEWER, Some("us-south"));
    env.extra_env.insert("IBMCLOUD_HTTP_TIMEOUT".into(), "1".into());
    env.handle().set_knobs(|k| k.faults.push(fault("GET", "clusterkeyowner", FaultKind::Delay { ms: 3000 }, None)));
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("timed out"), "{r:?}");
    assert!(r.stderr.contains("IBMCLOUD_HTTP_TIMEOUT"), "{r:?}");
}

#[test]
fn an_expired_token_is_refreshed_once_and_written_back() {
    let env = TestEnv::new();
    env.handle().world().token_lifetime_secs = 5; // inside the 10 s margin: expired at once
    env.login(keys::VIEWER, Some("us-south"));
    env.handle().world().token_lifetime_secs = 3600;
    let old = env.read_config();
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    assert_eq!(r.code, 0, "{r:?}");
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
    assert_eq!(r.code, 0, "{r:?}");
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
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("session has expired or is no longer valid (BXNIM0407E)"), "{r:?}");
    assert!(r.stderr.contains("Log in again with 'ibmcloud login'."), "{r:?}");
}

#[test]
fn a_token_the_service_rejects_leads_to_one_refresh_and_one_replay() {
    let env = TestEnv::new();
    env.login(keys::VIEWER, Some("us-south"));
    // The service forgets the token (as after a revocation); the client still thinks it valid.
    env.handle().world().issued_tokens.clear();
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(env.handle().stat("grant refresh_token"), 1);
    assert_eq!(env.handle().stat("GET /v1/logging/{id}/clusterkeyowner"), 2);
}

#[test]
fn not_logged_in_and_no_region_say_what_to_run() {
    let env = TestEnv::new();
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(
        r.stderr,
        "FAILED\nNot logged in.\n\nLog in with 'ibmcloud login', or set IBMCLOUD_API_KEY to log in with an API key.\n\n"
    );
    env.login(keys::FUNCTIONAL, None);
    let r = env.run(&["reset", "-f"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("No region specified or targeted.\n\nSpecify one with --region, or target one with 'ibmcloud target -r REGION'."), "{r:?}");
    let r = env.run(&["reset", "-f", "--region", "Not A Region"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("'Not A Region' is not a valid region name."), "{r:?}");
}

#[test]
fn a_malformed_config_is_a_clear_failure_not_a_panic() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.config_dir()).unwrap();
    std::fs::write(env.config_path(), "{\"IAMToken\": \"Bearer x.y").unwrap();
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("could not be read"), "{r:?}");
    assert!(!r.stderr.contains("panicked"), "{r:?}");
    // A token that is not a JWT, with no refresh token to recover.
    std::fs::write(env.config_path(), r#"{"IAMToken":"Bearer not-a-jwt","IAMRefreshToken":""}"#).unwrap();
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("ibmcloud login"), "{r:?}");
}

#[test]
fn usage_errors_exit_2_with_the_command_help() {
    let env = TestEnv::new();
    let r = env.run(&["info"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.starts_with("FAILED\nIncorrect Usage"), "{r:?}");
    assert!(r.stderr.contains("NAME:\n  info - "), "{r:?}");
    assert!(r.stderr.contains("OPTIONS:\n"), "{r:?}");
    let r = env.run(&["info", "-c", "x", "--output", "yaml"]);
    assert_eq!(r.code, 2, "{r:?}");
    let r = env.run(&["frobnicate"]);
    assert_eq!(r.code, 2, "{r:?}");
    let r = env.run(&["help", "reset"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("NAME:\n  reset - Replace the API key"), "{r:?}");
    assert!(r.stdout.contains("USAGE:\n  cluster-api-key reset [--region REGION]"), "{r:?}");
    let r = env.run(&["--version"]);
    assert_eq!(r.stdout, format!("cluster-api-key {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn standalone_login_with_an_api_key_keeps_tokens_in_memory() {
    let mut env = TestEnv::new();
    env.extra_env.insert("IBMCLOUD_API_KEY".into(), keys::VIEWER.into());
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!env.config_path().exists(), "nothing written to a CLI config");
    assert_eq!(env.handle().stat("grant apikey"), 1);
    // The key's last use is recorded, as IAM does.
    let w = env.handle().dump();
    assert!(w.api_keys.iter().find(|k| k.apikey == keys::VIEWER).unwrap().last_authn.is_some());
    // An unknown key: BXNIM0415E, said plainly.
    env.extra_env.insert("IBMCLOUD_API_KEY".into(), "definitely-not-a-key-0000".into());
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("The API key is not valid: Provided API key could not be found. (BXNIM0415E)"), "{r:?}");
    assert!(!r.stderr.contains("definitely-not-a-key-0000"), "{r:?}");
}

#[test]
fn credentials_never_go_over_plain_http_to_a_remote_host() {
    let mut env = TestEnv::new();
    env.login(keys::VIEWER, Some("us-south"));
    // 192.0.2.1 is TEST-NET-1: never routed, and we must refuse before connecting anyway.
    env.extra_env.insert("IBMCLOUD_CS_API_ENDPOINT".into(), "http://192.0.2.1:9/global".into());
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("Refusing to send credentials over plain HTTP to 'http://192.0.2.1:9'"), "{r:?}");
}

#[test]
fn replication_delay_is_visible_in_the_owner_right_after_a_reset() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env.handle().set_knobs(|k| {
        k.replication_delay_ms = 60_000;
        k.replication_mode = ReplicationMode::Stale;
    });
    let r = env.run(&["reset", "--region", "us-south", "-f"]);
    assert_eq!(r.code, 0, "{r:?}");
    // Verification gave up (2 s in tests) and said so, without failing the accepted reset.
    assert!(r.stderr.contains("the new owner does not show yet (the owner still shows as Dave Departed"), "{r:?}");
    // While IAM replicates, the owner still reads as before.
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    assert!(r.stdout.contains("Dave Departed"), "{r:?}");
    env.handle().set_knobs(|k| k.replication_delay_ms = 0);
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    assert!(r.stdout.contains("Kubernetes Functional ID"), "{r:?}");
}

#[test]
fn colour_follows_ibmcloud_color_and_no_color() {
    let mut env = TestEnv::new();
    env.login(keys::VIEWER, Some("us-south"));
    // NO_COLOR is set by TestEnv and stdout is a pipe: no colour.
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    assert!(!r.stdout.contains('\x1b'), "{r:?}");
    // IBMCLOUD_COLOR=true wins over both, as in the SDK.
    env.extra_env.insert("IBMCLOUD_COLOR".into(), "true".into());
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    assert!(r.stdout.contains("\x1b[32;1mOK\x1b[0m"), "{r:?}");
    assert!(r.stdout.contains("\x1b[36;1mDave Departed\x1b[0m"), "first column cyan bold: {r:?}");
    // IBMCLOUD_COLOR=false forces it off.
    env.extra_env.insert("IBMCLOUD_COLOR".into(), "false".into());
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    assert!(!r.stdout.contains('\x1b'), "{r:?}");
}

#[test]
fn a_failing_cluster_list_does_not_block_a_reset() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env.handle().set_knobs(|k| k.faults.push(fault("GET", "satellite", FaultKind::Status { status: 404 }, None)));
    let before = env.cluster_keys().len();
    let r = env.run(&["reset", "--region", "us-south", "-f"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("Clusters:         unknown ("), "{r:?}");
    assert_eq!(env.cluster_keys().len(), before + 1);
}

#[test]
fn verification_rides_out_the_replication_404s() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env.handle().set_knobs(|k| {
        k.replication_delay_ms = 500;
        k.replication_mode = ReplicationMode::NotFound;
    });
    let r = env.run(&["reset", "--region", "us-south", "-f", "--output", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["verified"], true, "{r:?}");
    assert!(env.handle().stat("GET /v1/logging/{id}/clusterkeyowner") >= 3, "it looked again after the 404s");
    // --no-verify skips it.
    let r = env.run(&["reset", "--region", "us-south", "-f", "--no-verify", "--output", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["verified"], Value::Null);
}

#[test]
fn dry_run_shows_the_plan_and_changes_nothing() {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    let before = env.cluster_keys().len();
    let r = env.run(&["reset", "--region", "us-south", "--dry-run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("Current owner:    Dave Departed"), "{r:?}");
    assert!(r.stdout.ends_with("Dry run: nothing was changed.\n"), "{r:?}");
    let r = env.run(&["reset", "--region", "us-south", "--dry-run", "--output", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["dryRun"], true);
    assert_eq!(v["currentOwner"]["iamId"], world::DEPARTED);
    assert_eq!(v["target"]["resourceGroup"]["name"], "Default");
    assert_eq!(env.cluster_keys().len(), before);
    assert!(!env.plugin_dir().join("audit.jsonl").exists(), "nothing to audit");
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
