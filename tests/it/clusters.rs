//! Issue #35, what the clusters say: health issues (`NHC009`) and workers' messages, read for
//! the clusters whose list entry signals trouble (every one with `--read-clusters`), judged into
//! `cluster-credential-failure` naming the credential they point at; clusters that could not
//! be read are unknown, never fine; IBM's text is quoted escaped and bounded.

use cluster_api_key_emulator::FaultKind;
use cluster_api_key_emulator::world::{self, HealthIssue, Worker, keys};
use serde_json::Value;

use crate::common::{TestEnv, fault};
use crate::status::target;

fn as_owner() -> TestEnv {
    let env = TestEnv::new();
    env.login(keys::OWNER, Some("us-south"));
    env
}

fn json(env: &TestEnv, args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend(["--output", "json"]);
    let r = env.run(&all);
    (r.code, serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {r:?}")))
}

/// Changes the cluster named `name` in the emulator's world.
fn cluster(env: &TestEnv, name: &str, f: impl FnOnce(&mut world::Cluster)) {
    let mut w = env.handle().world();
    f(w.clusters.iter_mut().find(|c| c.name == name).expect("a cluster of the default world"));
}

fn nhc009() -> HealthIssue {
    HealthIssue {
        id: "NHC009".into(),
        component: "Network".into(),
        severity: "Error".into(),
        description: "The IAM token exchange request failed.".into(),
    }
}

fn worker(id: &str, state: &str, message: &str) -> Worker {
    Worker { id: id.into(), state: state.into(), message: message.into() }
}

fn failures(t: &Value) -> Vec<&Value> {
    t["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "cluster-credential-failure").collect()
}

#[test]
fn nhc009_points_at_the_key_and_a_reset_clears_it() {
    let env = as_owner();
    cluster(&env, "payments", |c| {
        c.state = "warning".into();
        c.health_issues = vec![nhc009()];
    });
    let r = env.run(&["status", "-r", "us-south", "-g", "production"]);
    crate::assert_run!(env, "clusters-nhc009-status", r);
    r.exits(3);
    let (_, v) = json(&env, &["status", "-r", "us-south", "-g", "production"]);
    let t = target(&v, "us-south", "production");
    let f = failures(t);
    assert_eq!(f.len(), 1, "{t}");
    assert_eq!(f[0]["severity"], "critical");
    assert_eq!(f[0]["pointsAt"], "key");
    let detail = f[0]["detail"].as_str().unwrap();
    let key = t["key"]["id"].as_str().unwrap();
    assert!(detail.contains(key) && detail.contains("Kubernetes Functional ID"), "{detail}");
    assert!(detail.contains("payments") && detail.contains("The IAM token exchange request failed."), "{detail}");
    let reports = &t["clusters"][0]["reports"];
    assert_eq!(reports["healthIssues"][0]["id"], "NHC009", "{reports}");
    assert_eq!(reports["healthIssues"][0]["pointsAt"], "key", "{reports}");
    assert_eq!(reports["workerCredentialMessages"], serde_json::json!([]), "{reports}");
    // The reset of the target's key clears what the old key caused.
    env.run(&["reset", "-r", "us-south", "-g", "production", "-f", "-q"]).success();
    let (_, v) = json(&env, &["status", "-r", "us-south", "-g", "production", "--read-clusters"]);
    let t = target(&v, "us-south", "production");
    assert!(failures(t).is_empty(), "{t}");
    assert_eq!(t["clusters"][0]["reports"]["healthIssues"], serde_json::json!([]), "{t}");
}

#[test]
fn a_workers_message_points_at_the_keys_owner() {
    let env = as_owner();
    cluster(&env, "payments", |c| {
        c.state = "warning".into();
        c.workers = vec![
            worker("kube-pay-1", "warning", "Provided user not found or active"),
            worker("kube-pay-2", "warning", "Provided user not found or active"),
            worker("kube-pay-3", "critical", "User account is currently cancel_pending."),
            worker("kube-pay-4", "normal", ""),
        ];
    });
    let (code, v) = json(&env, &["status", "-r", "us-south", "-g", "production"]);
    assert_eq!(code, 3);
    let t = target(&v, "us-south", "production");
    let f = failures(t);
    assert_eq!(f.len(), 1, "one finding for one credential: {t}");
    assert_eq!(f[0]["pointsAt"], "keyOwner");
    let detail = f[0]["detail"].as_str().unwrap();
    assert!(detail.contains("workers kube-pay-1, kube-pay-2 \"Provided user not found or active\""), "{detail}");
    assert!(detail.contains("worker kube-pay-3 \"User account is currently cancel_pending.\""), "{detail}");
    assert!(detail.contains("IBMid-2700000FUN"), "tied to the key's owner: {detail}");
    let messages = t["clusters"][0]["reports"]["workerCredentialMessages"].as_array().unwrap();
    assert_eq!(messages.len(), 3, "{t}");
    let r = env.run(&["status", "-r", "us-south", "-g", "production"]);
    crate::assert_run!(env, "clusters-worker-owner-status", r);
}

#[test]
fn the_infrastructure_message_points_at_the_classic_credentials_or_else_the_owner() {
    let env = as_owner();
    let msg = "The infrastructure authentication credentials are not authorized for the request.";
    cluster(&env, "legacy-classic", |c| {
        c.master_status = Some("Deploy failed".into());
        c.workers = vec![worker("kube-dal10-1", "failed", msg)];
    });
    // Classic credentials are set by hand here (Dave Departed's): they are the culprit.
    let (_, v) = json(&env, &["status", "-r", "us-south", "-g", "Default"]);
    let t = target(&v, "us-south", "Default");
    let f = failures(t);
    assert_eq!(f.len(), 1, "{t}");
    assert_eq!(f[0]["pointsAt"], "classicCredentials");
    assert!(f[0]["detail"].as_str().unwrap().contains("2412345_dave.departed@example.com"), "{}", f[0]);
    assert!(f[0]["action"].as_str().unwrap().contains("ks credential set classic"), "{}", f[0]);
    let c = t["clusters"].as_array().unwrap().iter().find(|c| c["name"] == "legacy-classic").unwrap();
    assert_eq!(c["masterStatus"], "Deploy failed", "{c}");
    // None set: the infrastructure is ordered with the key owner's own classic permissions.
    env.handle().world().classic_credentials.clear();
    let (_, v) = json(&env, &["status", "-r", "us-south", "-g", "Default"]);
    let f = failures(target(&v, "us-south", "Default")).into_iter().cloned().collect::<Vec<_>>();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["pointsAt"], "keyOwner", "{}", f[0]);
    // Classic clusters' workers are read through the v1 API, VPC ones' through v2.
    assert_eq!(env.handle().stat("GET /v1/clusters/{id}/workers"), 2);
    assert_eq!(env.handle().stat("GET /v2/vpc/getWorkers"), 0);
}

#[test]
fn clusters_that_cannot_be_read_are_unknown_never_fine() {
    let env = as_owner();
    cluster(&env, "payments", |c| c.state = "warning".into());
    env.handle().set_knobs(|k| {
        k.faults.push(fault("GET", "getClusterHealthIssues", FaultKind::Html { status: 502 }, None));
        k.faults.push(fault("GET", "getWorkers", FaultKind::Truncate, None));
    });
    let r = env.run(&["status", "-r", "us-south", "-g", "production"]);
    crate::assert_run!(env, "clusters-unread-status", r);
    let (_, v) = json(&env, &["status", "-r", "us-south", "-g", "production"]);
    let t = target(&v, "us-south", "production");
    assert!(failures(t).is_empty());
    let reports = &t["clusters"][0]["reports"];
    assert!(reports["healthIssues"].is_null() && reports["workerCredentialMessages"].is_null(), "{reports}");
    assert_eq!(reports["unread"].as_array().unwrap().len(), 2, "{reports}");
    let unchecked = t["unchecked"].as_array().unwrap();
    assert!(unchecked.iter().any(|u| u["findings"][0] == "cluster-credential-failure"), "{t}");
    assert!(v["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("payments")), "{v}");
    let r = env.run(&["status", "-r", "us-south", "-g", "production", "-o", "csv"]);
    crate::assert_run!(env, "clusters-unread-status-csv", r);
}

#[test]
fn hostile_messages_are_quoted_escaped_and_bounded() {
    let env = as_owner();
    let huge = format!("Provided user not found or active {}", "A".repeat(200_000));
    cluster(&env, "payments", |c| {
        c.state = "warning".into();
        c.health_issues = vec![HealthIssue {
            description: "The IAM token exchange request failed.\n\u{1b}[31mFAKE LINE\u{202e}evil".into(),
            ..nhc009()
        }];
        c.workers = vec![worker("kube-\u{202e}1", "warning", &huge)];
    });
    for output in [None, Some("json"), Some("csv")] {
        let mut args = vec!["status", "-r", "us-south", "-g", "production"];
        args.extend(output.map(|o| ["-o", o]).iter().flatten());
        let r = env.run(&args);
        r.exits(3);
        assert!(!r.stdout.contains('\u{1b}') && !r.stdout.contains('\u{202e}'), "{output:?}: {r:?}");
        assert!(!r.stdout.contains("\nFAKE LINE"), "{output:?}: {r:?}");
        assert!(r.stdout.len() < 20_000, "{output:?}: {} bytes", r.stdout.len());
    }
    let (_, v) = json(&env, &["status", "-r", "us-south", "-g", "production"]);
    let t = target(&v, "us-south", "production");
    let f = failures(t);
    assert_eq!(f.len(), 2, "{t}");
    assert!(f.iter().any(|f| f["detail"].as_str().unwrap().contains("\\u{1b}[31mFAKE LINE\\u{202e}evil")), "{t}");
    // Thousands of failing workers: a bounded list, and how many more there were.
    cluster(&env, "payments", |c| {
        c.workers =
            (0..2_000).map(|n| worker(&format!("kube-{n}"), "warning", "Provided user not found or active")).collect();
    });
    let (_, v) = json(&env, &["status", "-r", "us-south", "-g", "production"]);
    let t = target(&v, "us-south", "production");
    let reports = &t["clusters"][0]["reports"];
    assert_eq!(reports["workerCredentialMessages"].as_array().unwrap().len(), 100);
    assert_eq!(reports["moreWorkerMessages"], 1_900);
    let owner = failures(t).into_iter().find(|f| f["pointsAt"] == "keyOwner").unwrap().clone();
    assert!(owner["detail"].as_str().unwrap().contains("kube-4 and 95 more"), "{owner}");
}

#[test]
fn requests_cost_two_per_troubled_cluster_and_two_per_cluster_with_read_clusters() {
    let env = as_owner();
    // Every cluster normal: nothing more is read.
    env.run(&["status"]).exits(3);
    let reads = |env: &TestEnv| {
        (
            env.handle().stat("GET /v2/getClusterHealthIssues"),
            env.handle().stat("GET /v2/vpc/getWorkers")
                + env.handle().stat("GET /v2/getWorkers")
                + env.handle().stat("GET /v1/clusters/{id}/workers"),
        )
    };
    assert_eq!(reads(&env), (0, 0));
    // One troubled cluster: two requests.
    cluster(&env, "payments", |c| c.state = "warning".into());
    env.run(&["status"]).exits(3);
    assert_eq!(reads(&env), (1, 1));
    // Every cluster (six, one of each provider): two requests each.
    env.run(&["status", "--read-clusters"]).exits(3);
    assert_eq!(reads(&env), (7, 7));
    assert_eq!(env.handle().stat("GET /v2/getWorkers"), 1, "the Satellite cluster");
}

#[test]
fn info_cluster_shows_its_health_and_the_workers_credential_messages() {
    let env = as_owner();
    cluster(&env, "payments", |c| {
        c.state = "warning".into();
        c.health_issues = vec![nhc009()];
        c.workers = vec![worker("kube-pay-1", "warning", "Provided user not found or active")];
    });
    let r = env.run(&["info", "--cluster", "payments"]);
    crate::assert_run!(env, "clusters-info-health", r);
    let (_, v) = json(&env, &["info", "--cluster", "payments"]);
    let h = &v["health"];
    assert_eq!(h["state"], "warning", "{v}");
    assert_eq!(h["masterStatus"], "Ready", "{v}");
    assert_eq!(h["healthIssues"][0]["id"], "NHC009", "{v}");
    assert_eq!(h["workerCredentialMessages"][0]["pointsAt"], "keyOwner", "{v}");
    assert_eq!(h["credentialFailures"].as_array().unwrap().len(), 2, "{v}");
    // Unreadable: said as unknown.
    env.handle()
        .set_knobs(|k| k.faults.push(fault("GET", "getClusterHealthIssues", FaultKind::Status { status: 500 }, None)));
    let r = env.run(&["info", "--cluster", "payments"]);
    r.success().stderr_has("Health issues: unknown");
}

#[test]
fn reset_wait_clusters_waits_until_they_clear_and_names_those_still_failing_on_timeout() {
    let env = as_owner();
    cluster(&env, "payments", |c| {
        c.state = "warning".into();
        c.health_issues = vec![nhc009()];
    });
    // The clusters clear a while after the reset: waited for.
    env.handle().set_knobs(|k| k.cluster_reports_clear_ms = 1_000);
    let r = env.run(&["reset", "-r", "us-south", "-g", "production", "-f", "--wait-clusters", "30s"]);
    r.success().stdout_has("The clusters no longer report a credential failure");
    r.stdout_has("status --read-clusters --region us-south -g production");
    // They do not clear in time: exit 4, naming the cluster and what it still says.
    cluster(&env, "payments", |c| c.health_issues = vec![nhc009()]);
    env.handle().set_knobs(|k| k.cluster_reports_clear_ms = 600_000);
    let r = env.run(&["reset", "-r", "us-south", "-g", "production", "-f", "--wait-clusters", "2s"]);
    crate::assert_run!(env, "clusters-reset-wait-timeout", r);
    r.exits(4);
    let (code, v) = json(&env, &["reset", "-r", "us-south", "-g", "production", "-f", "--wait-clusters", "1s"]);
    assert_eq!(code, 4);
    assert_eq!(v["clustersWait"]["cleared"], false, "{v}");
    assert_eq!(v["clustersWait"]["failing"][0]["cluster"], "payments", "{v}");
    // One target only.
    let r = env.run(&["reset", "--all-regions", "--all-resource-groups", "-f", "--wait-clusters", "1m"]);
    r.exits(2).stderr_has("--wait-clusters waits for one target's clusters");
}
