//! `restart-addons` and `reset --restart-addons` end to end: the binary, the containers API
//! (add-ons, admin kubeconfig ZIP) and each cluster's Kubernetes API over HTTPS with a client
//! certificate, all on 127.0.0.1.

use cluster_api_key_emulator::world::keys;
use serde_json::Value;

use crate::common::TestEnv;

/// Logged in as the functional ID, with short Kubernetes delays.
pub(crate) fn env() -> TestEnv {
    let mut env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env.handle().set_knobs(|k| {
        k.kube.replace_ms = 100;
        k.kube.ready_ms = 200;
        k.kube.secret_update_ms = 400;
    });
    // The kubeconfig must never reach the disk: the temporary folder stays empty.
    let tmp = env.home.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    env.extra_env.insert("TMPDIR".into(), tmp.to_string_lossy().into_owned());
    env
}

pub(crate) fn json(r: &crate::common::Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {r:?}"))
}

/// No file holding a certificate or key, nor a kubeconfig, anywhere under the home.
#[track_caller]
fn nothing_on_disk(env: &TestEnv) {
    let mut stack = vec![env.home.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            assert!(!text.contains("PRIVATE KEY"), "a private key in {}", p.display());
            // The one certificate on disk is the test's own corporate CA.
            let ours = p.file_name().is_some_and(|n| n == "corporate-ca.pem");
            assert!(ours || !text.contains("-----BEGIN CERTIFICATE"), "a certificate in {}", p.display());
            assert!(!text.contains("client-certificate"), "a kubeconfig in {}", p.display());
        }
    }
    let tmp = env.home.path().join("tmp");
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "TMPDIR was written to");
}

/// Rows (cluster, add-on, outcome) of a JSON report, sorted.
fn outcomes(clusters: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for c in clusters.as_array().unwrap() {
        let name = c["cluster"].as_str().unwrap().to_owned();
        let addons = c["addons"].as_array().unwrap();
        if addons.is_empty() {
            out.push((name.clone(), "-".into(), c["outcome"].as_str().unwrap().to_owned()));
        }
        for a in addons {
            out.push((name.clone(), a["addon"].as_str().unwrap().into(), a["outcome"].as_str().unwrap().into()));
        }
    }
    out.sort();
    out
}

fn row(c: &str, a: &str, o: &str) -> (String, String, String) {
    (c.into(), a.into(), o.into())
}

#[test]
fn add_ons_are_found_per_provider_and_a_dry_run_touches_nothing() {
    let env = env();
    let plan = |region: &str, group: &str| {
        let r = env.run(&["restart-addons", "-r", region, "-g", group, "--dry-run", "-o", "json"]);
        r.success();
        let v = json(&r);
        assert_eq!(v["dryRun"], true);
        v["plan"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let addons: Vec<&str> = c["addons"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
                (c["name"].as_str().unwrap().to_owned(), c["provider"].as_str().unwrap().to_owned(), addons.join(","))
            })
            .collect::<Vec<_>>()
    };
    // VPC: the CSI driver (on by default) and here the autoscaler; classic: no CSI driver.
    assert_eq!(
        plan("us-south", "Default"),
        [
            ("legacy-classic".into(), "classic".into(), "cluster-autoscaler".into()),
            ("shop-vpc".into(), "vpc-gen2".into(), "vpc-block-csi,cluster-autoscaler".into())
        ]
    );
    assert_eq!(plan("us-south", "production"), [("payments".into(), "vpc-gen2".into(), "vpc-block-csi".into())]);
    assert_eq!(plan("jp-tok", "staging"), [("edge-tokyo".into(), "satellite".into(), "cluster-autoscaler".into())]);
    // Satellite's hand-made secret is said, not ignored.
    let r = env.run(&["restart-addons", "-r", "jp-tok", "-g", "staging", "--dry-run"]);
    crate::assert_run!(env, "addons-satellite-dry-run", r);
    // --addon narrows; a cluster without it is not affected.
    let r = env.run(&[
        "restart-addons",
        "-r",
        "us-south",
        "-g",
        "production",
        "--addon",
        "cluster-autoscaler",
        "--dry-run",
    ]);
    crate::assert_run!(env, "addons-narrowed-to-an-addon-the-cluster-lacks", r);
    // Nothing was asked of a cluster: no kubeconfig, no Kubernetes request.
    assert_eq!(env.handle().stat("POST /v2/applyRBACAndGetKubeconfig"), 0);
    assert!(env.handle().stats().keys().all(|k| !k.starts_with("k8s ")), "{:?}", env.handle().stats());
    nothing_on_disk(&env);
}

#[test]
fn controller_pods_are_re_created_and_node_pods_left_alone() {
    let env = env();
    let r = env.run(&["restart-addons", "--cluster", "shop-vpc", "-f", "-o", "json"]);
    r.success();
    let v = json(&r);
    assert_eq!(
        outcomes(&v["clusters"]),
        [row("shop-vpc", "cluster-autoscaler", "restarted"), row("shop-vpc", "vpc-block-csi", "restarted")]
    );
    let csi = &v["clusters"][0]["addons"][0];
    assert_eq!(csi["addon"], "vpc-block-csi");
    assert_eq!(csi["deleted"], serde_json::json!(["ibm-vpc-block-csi-controller-0"]));
    assert_eq!(csi["ready"], serde_json::json!(["ibm-vpc-block-csi-controller-0"]));
    let ca = &v["clusters"][0]["addons"][1];
    assert_ne!(ca["deleted"], ca["ready"], "a Deployment's pod comes back with a new name");
    assert_eq!(v["summary"]["restarted"], 1);
    // Two deletions: the two controllers. The CSI node DaemonSet's pods (same app label) and
    // every other kube-system pod were not touched.
    assert_eq!(env.handle().stat("k8s public DELETE pods"), 2);
    assert_eq!(env.handle().stat("POST /v2/applyRBACAndGetKubeconfig"), 1);
    assert!(env.handle().stat("GET /v2/getRBACStatus") >= 1);
    // The text form, and the trace, hold no certificate or key (run() checks the output).
    let r = env.run(&["restart-addons", "--cluster", "payments", "-f"]);
    crate::assert_run!(env, "addons-restart-payments", r);
    let trace = crate::common::read(&env.trace_path());
    assert!(trace.contains("applyRBACAndGetKubeconfig") && trace.contains("[SKIP BINARY"), "the ZIP is not traced");
    // The Kubernetes calls are traced too: what, where and how they ended, nothing more.
    assert!(trace.contains("KUBERNETES: DELETE pod ibm-vpc-block-csi-controller-0 on https://127.0.0.1:"), "{trace}");
    assert!(trace.contains("KUBERNETES: GET pods on https://127.0.0.1:"), "{trace}");
    // Each cluster's deletions are in the audit log: the pods about to go before the first
    // DELETE, then the outcome; by whom, in which account.
    let audit = crate::common::read(&env.plugin_dir().join("audit.jsonl"));
    let lines: Vec<Value> = audit.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4, "{audit}");
    assert_eq!(lines[2]["action"], "restart-addons");
    assert_eq!(lines[2]["outcome"], "started");
    assert_eq!(lines[2]["detail"], "vpc-block-csi on payments: deleting [ibm-vpc-block-csi-controller-0]");
    assert_eq!(lines[3]["outcome"], "succeeded");
    assert!(
        lines[3]["detail"]
            .as_str()
            .unwrap()
            .contains("vpc-block-csi on payments: deleted [ibm-vpc-block-csi-controller-0]"),
        "{audit}"
    );
    for l in &lines {
        assert_eq!(l["actor"], cluster_api_key_emulator::world::FUNCTIONAL, "{l}");
        assert_eq!(l["account"], cluster_api_key_emulator::world::ACCOUNT_ID, "{l}");
        assert_eq!(l["region"], "us-south", "{l}");
    }
    nothing_on_disk(&env);
}

#[test]
fn an_unreachable_cluster_among_healthy_ones_is_exit_4_and_each_is_reported() {
    let env = env();
    env.handle().set_knobs(|k| k.kube.unreachable = vec!["legacy-classic".into()]);
    let r = env.run(&["restart-addons", "-r", "us-south", "-g", "Default", "-f", "-o", "json"]);
    r.exits(4);
    let v = json(&r);
    assert_eq!(
        outcomes(&v["clusters"]),
        [
            row("legacy-classic", "-", "failed"),
            row("shop-vpc", "cluster-autoscaler", "restarted"),
            row("shop-vpc", "vpc-block-csi", "restarted")
        ]
    );
    let failed = v["clusters"].as_array().unwrap().iter().find(|c| c["cluster"] == "legacy-classic").unwrap();
    let reason = failed["reason"].as_str().unwrap();
    assert!(reason.contains("127.0.0.1:1") && reason.to_lowercase().contains("connect"), "{reason}");
    assert_eq!(v["summary"]["failed"], 1);
    // In text: a row per cluster, and the failure's reason.
    let r = env.run(&["restart-addons", "-r", "us-south", "-g", "Default", "-f"]);
    crate::assert_run!(env, "addons-one-cluster-failed", r);
}

#[test]
fn a_replacement_that_never_becomes_ready_fails_when_the_wait_ends() {
    let env = env();
    env.handle().set_knobs(|k| k.kube.never_ready = vec!["payments".into()]);
    let r = env.run(&["restart-addons", "--cluster", "payments", "--wait", "1s", "-f", "-o", "json"]);
    // The only cluster failed: nothing succeeded.
    r.exits(1);
    let a = &json(&r)["clusters"][0]["addons"][0];
    assert_eq!(a["outcome"], "failed");
    let reason = a["reason"].as_str().unwrap();
    assert!(reason.contains("not Ready in time") && reason.contains("CrashLoopBackOff"), "{reason}");
}

#[test]
fn private_and_vpe_endpoints_are_asked_for() {
    let env = env();
    env.run(&["restart-addons", "--cluster", "payments", "--endpoint", "private", "-f"]).success();
    assert_eq!(env.handle().stat("k8s private DELETE pods"), 1);
    let r = env.run(&["restart-addons", "-r", "us-south", "-g", "Default", "--endpoint", "VPE", "-f", "-o", "json"]);
    r.success();
    // VPE for the VPC cluster; a classic cluster has none, so its private endpoint, said.
    assert_eq!(env.handle().stat("k8s vpe DELETE pods"), 2);
    assert_eq!(env.handle().stat("k8s private DELETE pods"), 2);
    assert_eq!(env.handle().stat("k8s public DELETE pods"), 0);
    // The classic cluster's warning says it has no VPE.
    crate::assert_run!(env, "addons-vpe-asked-classic-falls-back-json", r);
    let v = json(&r);
    let classic = v["clusters"].as_array().unwrap().iter().find(|c| c["cluster"] == "legacy-classic").unwrap();
    assert_eq!(classic["endpoint"], "private");
    // Satellite goes through its Link endpoint whatever is asked.
    env.run(&["restart-addons", "-r", "jp-tok", "-g", "staging", "-f", "--satellite-secret-updated"]).success();
    assert_eq!(env.handle().stat("k8s link DELETE pods"), 1);
}

#[test]
fn a_satellite_autoscaler_is_restarted_only_once_the_user_says_its_secret_holds_the_key() {
    let env = env();
    // With -f alone: skipped with the reason, the warning said once, nothing deleted.
    let r = env.run(&["restart-addons", "-c", "edge-tokyo", "-f"]);
    crate::assert_run!(env, "addons-satellite-skipped-without-the-flag", r);
    assert_eq!(env.handle().stat("k8s link DELETE pods"), 0);
    // Said with the flag: restarted.
    let r = env.run(&["restart-addons", "-c", "edge-tokyo", "-f", "--satellite-secret-updated", "-o", "json"]);
    r.success();
    assert_eq!(outcomes(&json(&r)["clusters"]), [row("edge-tokyo", "cluster-autoscaler", "restarted")]);
    assert_eq!(env.handle().stat("k8s link DELETE pods"), 1);
}

#[test]
fn reset_restarts_add_ons_once_the_new_key_reaches_the_secret() {
    let env = env();
    let r = env.run(&["reset", "-r", "us-south", "-g", "Default", "--restart-addons", "-f", "-o", "json"]);
    r.success();
    let v = json(&r);
    assert_eq!(
        outcomes(&v["addons"]["clusters"]),
        [
            row("legacy-classic", "cluster-autoscaler", "restarted"),
            row("shop-vpc", "cluster-autoscaler", "restarted"),
            row("shop-vpc", "vpc-block-csi", "restarted")
        ]
    );
    for c in v["addons"]["clusters"].as_array().unwrap() {
        assert_eq!(c["secretUpdated"], true, "{c}");
    }
    // The secret was read before the reset and again until it changed.
    assert!(env.handle().stat("k8s public GET secrets") >= 4, "{:?}", env.handle().stats());
    // Nothing left to do for the add-ons: the follow-ups name only the superseded key.
    let follow = v["followUps"].to_string();
    assert!(!follow.contains("restart-addons") && follow.contains("prune"), "{follow}");
    nothing_on_disk(&env);
}

#[test]
fn reset_does_not_restart_add_ons_before_the_new_key_arrives() {
    let env = env();
    env.handle().set_knobs(|k| k.kube.secret_update_ms = 3_600_000);
    let r = env.run(&["reset", "-r", "us-south", "-g", "production", "--restart-addons", "--wait", "1s", "-f"]);
    // The reset happened; the add-ons did not restart: a partial success.
    crate::assert_run!(env, "addons-reset-secret-not-updated-in-time", r);
    assert_eq!(env.handle().stat("k8s public DELETE pods"), 0, "no pod deleted");
}

#[test]
fn reset_leaves_satellite_autoscalers_to_the_user() {
    let env = env();
    let r = env.run(&["reset", "-r", "jp-tok", "-g", "staging", "--restart-addons", "-f", "-o", "json"]);
    r.success();
    // Skipped, with the hand-made storage-secret-store as the reason.
    crate::assert_run!(env, "addons-reset-satellite-left-to-the-user-json", r);
    assert_eq!(json(&r)["addons"]["clusters"][0]["outcome"], "skipped");
    assert_eq!(env.handle().stat("k8s link DELETE pods"), 0);
    // Nothing to wait for there, so no admin kubeconfig is asked for.
    assert_eq!(env.handle().stat("POST /v2/applyRBACAndGetKubeconfig"), 0);
}

#[test]
fn a_batch_reset_restarts_the_add_ons_of_every_target_it_reset() {
    let env = env();
    let r = env.run(&["reset", "-r", "us-south", "-g", "Default,production", "--restart-addons", "-f", "-o", "json"]);
    r.success();
    let v = json(&r);
    assert_eq!(v["summary"]["reset"], 2, "{v}");
    assert_eq!(
        outcomes(&v["addons"]["clusters"]),
        [
            row("legacy-classic", "cluster-autoscaler", "restarted"),
            row("payments", "vpc-block-csi", "restarted"),
            row("shop-vpc", "cluster-autoscaler", "restarted"),
            row("shop-vpc", "vpc-block-csi", "restarted")
        ]
    );
    for c in v["addons"]["clusters"].as_array().unwrap() {
        assert_eq!(c["secretUpdated"], true, "{c}");
    }
    // A target whose reset fails gets no restart: no new key is coming there.
    let env = self::env();
    env.handle().set_knobs(|k| {
        k.faults.push(
            cluster_api_key_emulator::Fault::on(
                "POST",
                "/v1/keys",
                cluster_api_key_emulator::FaultKind::Status { status: 403 },
            )
            .group(cluster_api_key_emulator::world::RG_PRODUCTION),
        );
    });
    let r = env.run(&["reset", "-r", "us-south", "-g", "Default,production", "--restart-addons", "-f", "-o", "json"]);
    r.exits(4);
    let v = json(&r);
    let names: Vec<&str> =
        v["addons"]["clusters"].as_array().unwrap().iter().map(|c| c["cluster"].as_str().unwrap()).collect();
    assert_eq!(names, ["legacy-classic", "shop-vpc"], "{v}");
}

#[test]
fn restart_addons_needs_a_cluster_or_a_region() {
    let env = env();
    crate::assert_run!(env, "addons-needs-a-cluster-or-a-region", env.run(&["restart-addons", "-f"]));
    crate::assert_run!(env, "addons-wait-needs-restart-addons", env.run(&["reset", "--wait", "5m", "-f"]));
    crate::assert_run!(env, "addons-unknown-cluster", env.run(&["restart-addons", "--cluster", "nope", "-f"]));
}

/// The audit log's lines.
fn audit_lines(env: &TestEnv) -> Vec<Value> {
    crate::common::read(&env.plugin_dir().join("audit.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A fault on one pod's path in every cluster's Kubernetes API.
fn pod_fault(method: &str, kind: cluster_api_key_emulator::FaultKind) -> cluster_api_key_emulator::Fault {
    cluster_api_key_emulator::Fault::on(
        method,
        "/api/v1/namespaces/kube-system/pods/ibm-vpc-block-csi-controller-0",
        kind,
    )
    .times(1)
}

#[test]
fn a_deletion_answered_500_is_looked_up_before_it_is_reported() {
    use cluster_api_key_emulator::FaultKind;
    // Deleted, then answered 500: the pod is gone, so it was deleted; the answer is said.
    let env = env();
    env.handle().set_knobs(|k| k.faults.push(pod_fault("DELETE", FaultKind::AfterWork { status: 500 })));
    let r = env.run(&["restart-addons", "--cluster", "payments", "-f"]);
    crate::assert_run!(env, "restart-addons-deleted-despite-500", r);
    // The outcome line of the audit log says it too.
    let lines = audit_lines(&env);
    assert_eq!(lines[1]["outcome"], "succeeded", "{lines:?}");
    assert!(lines[1]["detail"].as_str().unwrap().contains("but the pod was deleted all the same"), "{lines:?}");
    // The control: refused for real (the pod is still there): not deleted, and said so.
    let env = self::env();
    env.handle().set_knobs(|k| k.faults.push(pod_fault("DELETE", FaultKind::Status { status: 500 })));
    let r = env.run(&["restart-addons", "--cluster", "payments", "-f", "-o", "json"]);
    r.exits(1);
    let a = &json(&r)["clusters"][0]["addons"][0];
    assert_eq!(a["outcome"], "failed");
    assert_eq!(a["deleted"], serde_json::json!([]));
    assert!(a["reason"].as_str().unwrap().ends_with("; the pod is still there, not deleted"), "{a}");
    // Deleted, answered 500, and the look-up fails too: unknown, never "not deleted". (A 500:
    // kube-rs retries a 503 by itself, and the second look would succeed.)
    let env = self::env();
    env.handle().set_knobs(|k| {
        k.faults.push(pod_fault("DELETE", FaultKind::AfterWork { status: 500 }));
        k.faults.push(pod_fault("GET", FaultKind::Status { status: 500 }));
    });
    let r = env.run(&["restart-addons", "--cluster", "payments", "-f", "-o", "json"]);
    r.exits(1);
    // Whether the pod was deleted is unknown: looking it up failed too.
    crate::assert_run!(env, "addons-deletion-unknown-json", r);
    // The audit log named the pod before the DELETE whose outcome is unknown.
    let lines = audit_lines(&env);
    assert_eq!(lines[0]["outcome"], "started", "{lines:?}");
    assert_eq!(lines[1]["outcome"], "failed", "{lines:?}");
}

#[test]
fn a_killed_restart_leaves_the_pods_it_deletes_on_record() {
    let env = env();
    // The replacement never becomes Ready: the command is still waiting when it is killed.
    env.handle().set_knobs(|k| k.kube.never_ready = vec!["payments".into()]);
    let mut child = env
        .command(&["restart-addons", "--cluster", "payments", "-f", "--wait", "10m"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while env.handle().stat("k8s public DELETE pods") == 0 {
        assert!(std::time::Instant::now() < deadline, "no pod was deleted: {:?}", env.handle().stats());
        assert!(child.try_wait().unwrap().is_none(), "the command ended before deleting");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // SIGKILL: no outcome line, but the deletion is on record, with who made it.
    let lines = audit_lines(&env);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["action"], "restart-addons");
    assert_eq!(lines[0]["outcome"], "started");
    assert_eq!(lines[0]["detail"], "vpc-block-csi on payments: deleting [ibm-vpc-block-csi-controller-0]");
    assert_eq!(lines[0]["actor"], cluster_api_key_emulator::world::FUNCTIONAL);
    assert_eq!(lines[0]["account"], cluster_api_key_emulator::world::ACCOUNT_ID);
}

#[test]
fn reset_restart_addons_wait_bounds_the_ready_wait_too() {
    let env = env();
    // The key arrives at once; the replacement never becomes Ready. Before, the Ready wait was
    // a fixed ten minutes whatever --wait said.
    env.handle().set_knobs(|k| {
        k.kube.secret_update_ms = 0;
        k.kube.never_ready = vec!["payments".into()];
    });
    let r = env.run(&[
        "reset",
        "-r",
        "us-south",
        "-g",
        "production",
        "--restart-addons",
        "--wait",
        "3s",
        "-f",
        "-o",
        "json",
    ]);
    r.exits(4);
    let c = &json(&r)["addons"]["clusters"][0];
    assert_eq!(c["secretUpdated"], true, "{c}");
    assert_eq!(c["addons"][0]["outcome"], "failed", "{c}");
    let reason = c["addons"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("not Ready in time") && reason.contains("CrashLoopBackOff"), "{reason}");
}

#[test]
fn refresh_masters_refreshes_each_cluster_once_before_the_pods() {
    let env = env();
    // The control: a dry run refreshes nothing, and says what it would do.
    let r = env.run(&["restart-addons", "-r", "us-south", "-g", "Default", "--refresh-masters", "--dry-run"]);
    r.success();
    r.stdout_has("the masters of 2 clusters would be refreshed");
    assert_eq!(env.handle().stat("master refresh c0us1vpc00000000000a"), 0);
    let r = env.run(&["restart-addons", "-r", "us-south", "-g", "Default", "--refresh-masters", "-f"]);
    crate::assert_run!(env, "addons-refresh-masters", r);
    for id in ["c0us1vpc00000000000a", "c0us2cls00000000000b"] {
        assert_eq!(env.handle().stat(&format!("master refresh {id}")), 1, "{id}");
    }
    assert_eq!(crate::common::audited(&env, "refresh-master", Some("succeeded")), 2);
    assert_eq!(env.handle().stat("k8s public DELETE pods"), 3, "and the pods after");
}

#[test]
fn a_refused_refresh_fails_and_a_lost_answer_is_unknown_never_sent_twice() {
    use cluster_api_key_emulator::{Fault, FaultKind};
    let env = env();
    env.handle().set_knobs(|k| {
        k.faults.push(Fault::on("PUT", "/v1/clusters/c0us1vpc00000000000a/masters", FaultKind::Status { status: 403 }));
    });
    let r = env.run(&["restart-addons", "-r", "us-south", "-g", "Default", "--refresh-masters", "-f", "-o", "json"]);
    r.exits(4);
    let v = json(&r);
    let outcome =
        |name: &str| v["masters"].as_array().unwrap().iter().find(|m| m["cluster"] == name).unwrap()["outcome"].clone();
    assert_eq!(outcome("shop-vpc"), "failed", "{v}");
    assert_eq!(outcome("legacy-classic"), "refreshed", "{v}");
    assert_eq!(crate::common::audited(&env, "refresh-master", Some("failed")), 1);
    // The answer is lost after IBM started the refresh: unknown, exit 5, and not sent again.
    let env = crate::addons::env();
    env.handle().set_knobs(|k| {
        k.faults.push(Fault::on("PUT", "/v1/clusters/c0us1vpc00000000000a/masters", FaultKind::ResetAfter));
    });
    let r = env.run(&["restart-addons", "-c", "shop-vpc", "--refresh-masters", "-f"]);
    crate::assert_run!(env, "addons-refresh-master-answer-lost", r);
    assert_eq!(env.handle().stat("master refresh c0us1vpc00000000000a"), 1, "carried out once, never repeated");
    assert_eq!(crate::common::audited(&env, "refresh-master", Some("unknown")), 1);
}
