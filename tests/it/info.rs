//! `info` end to end: the owner like the official CLI, JSON, IBM's errors and pages that are
//! not IBM's, retries of reads, timeouts. Every run is checked for leaked secrets.

use cluster_api_key_core::env as var;
use cluster_api_key_emulator::FaultKind;
use cluster_api_key_emulator::world::{self, keys};
use serde_json::Value;

use crate::common::{TestEnv, fault, read};

#[test]
fn info_shows_the_owner_like_the_official_cli() {
    let env = TestEnv::new();
    env.login(keys::VIEWER, Some("us-south"));
    crate::assert_run!(env, "info-cluster", env.run(&["info", "--cluster", "shop-vpc"]));
    // By ID too, and quiet mode keeps only the table.
    crate::assert_run!(env, "info-cluster-by-id-quiet", env.run(&["info", "-c", "c0eu1vpc00000000000d", "-q"]));
}

#[test]
fn info_json_is_one_document_with_camel_case_fields() {
    let env = TestEnv::new();
    env.login(keys::VIEWER, None);
    let r = env.run(&["info", "--cluster", "payments", "--output", "Json"]);
    r.exits(0);
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
    crate::assert_run!(env, "info-unknown-cluster-odd-name", env.run(&["info", "--cluster", "no such/cluster?"]));
    // The odd name travelled as one encoded path segment.
    assert!(read(&env.trace_path()).contains("/v1/logging/no%20such%2Fcluster%3F/clusterkeyowner"));
}

#[test]
fn an_html_error_page_keeps_the_status_and_a_short_excerpt() {
    let env = TestEnv::new();
    env.login(keys::VIEWER, Some("us-south"));
    env.handle().set_knobs(|k| k.faults.push(fault("GET", "clusterkeyowner", FaultKind::Html { status: 502 }, None)));
    crate::assert_run!(env, "info-html-error-page", env.run(&["info", "--cluster", "shop-vpc"]));
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
    // Retried quietly: the same output as without the faults.
    crate::assert_run!(env, "info-cluster", env.run(&["info", "--cluster", "shop-vpc"]));
    assert_eq!(env.handle().stat("GET /v1/logging/{id}/clusterkeyowner"), 3);
}

#[test]
fn a_timeout_is_reported_with_its_hint() {
    let mut env = TestEnv::new();
    env.login(keys::VIEWER, Some("us-south"));
    env.extra_env.insert(var::IBMCLOUD_HTTP_TIMEOUT.into(), "1".into());
    env.handle().set_knobs(|k| k.faults.push(fault("GET", "clusterkeyowner", FaultKind::Delay { ms: 3000 }, None)));
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    r.exits(1);
    // Substrings: how far the retries got within the timeouts varies with the machine's load.
    r.stderr_has("timed out");
    r.stderr_has(var::IBMCLOUD_HTTP_TIMEOUT);
}

#[test]
fn outputs_are_reviewed_as_snapshots() {
    let env = TestEnv::new();
    env.login(keys::VIEWER, Some("us-south"));
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    r.success();
    crate::assert_run!(env, "info-cluster", r);
    crate::assert_run!(env, "info-unknown-cluster", env.run(&["info", "--cluster", "nope"]));
}

#[test]
fn a_resource_group_id_needs_no_lookup() {
    let env = TestEnv::new();
    env.login(keys::VIEWER, Some("us-south"));
    let r = env.run(&["info", "--cluster", "payments", "-g", world::RG_PRODUCTION]);
    crate::assert_run!(env, "info-cluster-group-by-id", r);
    assert_eq!(env.handle().stat("GET /v2/resource_groups"), 0, "one round trip, as the official CLI");
    // A name is looked up.
    env.run(&["info", "--cluster", "payments", "-g", "production"]).success();
    assert_eq!(env.handle().stat("GET /v2/resource_groups"), 1);
}
