//! `restart-addons` in the core against the emulator: kube-rs over real HTTPS with the admin
//! kubeconfig's client certificate, pod selection, waiting for Ready, the secret after a reset.

mod common;

use std::time::Duration;

use cluster_api_key_core::ops::addons::{self, AddonKind, Endpoint, Options, Outcome, Selection, Silent};
use cluster_api_key_emulator::world::keys;
use common::fixture;

fn quick() -> Options {
    Options { interval: Duration::from_millis(50), ready_wait: Duration::from_secs(20), ..Options::default() }
}

fn fast_pods(f: &common::Fixture) {
    f.emu.handle.set_knobs(|k| {
        k.kube.replace_ms = 100;
        k.kube.ready_ms = 150;
        k.kube.secret_update_ms = 300;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_the_controllers_of_one_cluster_and_waits_for_ready() {
    let f = fixture(keys::FUNCTIONAL, false).await;
    fast_pods(&f);
    let s = f.session().await;
    let sel = Selection::Cluster { name: "shop-vpc".into(), region: None, group: None };
    let plan = addons::plan(&s, &sel, &quick()).await.unwrap();
    assert_eq!(plan.clusters.len(), 1);
    assert_eq!(plan.clusters[0].addons, [AddonKind::VpcBlockCsi, AddonKind::ClusterAutoscaler]);
    let results = addons::restart(&s, &plan, &quick(), &Silent).await;
    let r = &results[0];
    assert_eq!(r.outcome, Outcome::Restarted, "{r:?}");
    assert_eq!(r.endpoint.as_deref(), Some("public"));
    let csi = &r.addons[0];
    assert_eq!(csi.deleted, ["ibm-vpc-block-csi-controller-0"]);
    // A StatefulSet's replacement keeps the name.
    assert_eq!(csi.ready, ["ibm-vpc-block-csi-controller-0"]);
    let ca = &r.addons[1];
    assert_eq!(ca.deleted.len(), 1);
    assert!(ca.ready[0].starts_with("ibm-iks-cluster-autoscaler-857c4d9d54-"), "{ca:?}");
    assert_ne!(ca.ready, ca.deleted, "a ReplicaSet's replacement has a new name");
    // Only the controllers were deleted: two pod deletions, on the public endpoint.
    assert_eq!(f.emu.handle.stat("k8s public DELETE pods"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_is_awaited_after_a_reset_then_pods_restart() {
    let f = fixture(keys::FUNCTIONAL, false).await;
    fast_pods(&f);
    let s = f.session().await;
    let sel = Selection::Target {
        region: Some(cluster_api_key_core::types::Region::new("us-south")),
        group: Some("Default".into()),
    };
    let opts = Options { endpoint: Endpoint::Vpe, ..quick() };
    let plan = addons::plan(&s, &sel, &opts).await.unwrap();
    let names: Vec<_> = plan.clusters.iter().map(|c| (c.name.as_str(), c.addons.len())).collect();
    assert_eq!(names, [("legacy-classic", 1), ("shop-vpc", 2)]);
    let prepared = addons::prepare(&s, &plan, &opts).await;
    let region = cluster_api_key_core::types::Region::new("us-south");
    let group = cluster_api_key_core::types::ResourceGroupId::new(cluster_api_key_emulator::world::RG_DEFAULT);
    s.containers(Some(&region)).unwrap().reset_key(Some(&group)).await.unwrap();
    let results = addons::restart_after_reset(&prepared, &opts, Duration::from_secs(20), &Silent).await;
    for r in &results {
        assert_eq!(r.outcome, Outcome::Restarted, "{r:?}");
        assert_eq!(r.secret_updated, Some(true));
    }
    // VPE for the VPC cluster; a classic cluster has none, and its private endpoint is used.
    assert_eq!(f.emu.handle.stat("k8s vpe DELETE pods"), 2);
    assert_eq!(f.emu.handle.stat("k8s private DELETE pods"), 1);
    assert_eq!(f.emu.handle.stat("k8s public DELETE pods"), 0);
    assert!(results[0].warnings.iter().any(|w| w.contains("no VPE")), "{:?}", results[0].warnings);
}
