//! The default account's resource groups and clusters: one of each provider (VPC, classic,
//! Satellite) and kind (Kubernetes, `OpenShift`) over three regions and three groups, with the
//! managed add-ons IBM enables on them, and one cluster whose storage and autoscaler use a
//! trusted profile instead of the API key.

use crate::k8s::{AUTOSCALER, VPC_BLOCK_CSI};
use crate::world::{
    ACCOUNT_ID, Cluster, HealthIssue, RG_DEFAULT, RG_PRODUCTION, RG_STAGING, ResourceGroup, TRUSTED_PROFILE, Worker,
};

/// `Default` (the account's default group), `production` and `staging`.
pub(super) fn resource_groups() -> Vec<ResourceGroup> {
    let rg = |id: &str, name: &str, default| ResourceGroup {
        id: id.into(),
        name: name.into(),
        account_id: ACCOUNT_ID.into(),
        default,
    };
    vec![rg(RG_DEFAULT, "Default", true), rg(RG_PRODUCTION, "production", false), rg(RG_STAGING, "staging", false)]
}

/// A normal cluster of the default account, created on the same day as the others.
fn cluster(id: &str, name: &str, region: &str, rg: &str, provider: &str, kind: &str, location: &str) -> Cluster {
    Cluster {
        id: id.into(),
        name: name.into(),
        account_id: ACCOUNT_ID.into(),
        region: region.into(),
        resource_group_id: rg.into(),
        provider: provider.into(),
        kind: kind.into(),
        state: "normal".into(),
        location: location.into(),
        created: "2025-03-01T10:00:00Z".into(),
        addons: addons(name, provider),
        trusted_profile_id: None,
        master_status: None,
        health_issues: Vec::new(),
        workers: Vec::new(),
    }
}

/// The clusters: two targets in us-south, one in eu-de and two in jp-tok (jp-tok / Default's
/// key was deleted with its owner; eu-de / staging has none, only an orphaned key).
pub(super) fn clusters() -> Vec<Cluster> {
    vec![
        cluster("c0us1vpc00000000000a", "shop-vpc", "us-south", RG_DEFAULT, "vpc-gen2", "openshift", "us-south-1"),
        cluster("c0us2cls00000000000b", "legacy-classic", "us-south", RG_DEFAULT, "classic", "kubernetes", "dal10"),
        cluster("c0us3vpc00000000000c", "payments", "us-south", RG_PRODUCTION, "vpc-gen2", "kubernetes", "us-south-2"),
        // Its storage and autoscaler use a trusted profile, not the API key.
        Cluster {
            trusted_profile_id: Some(TRUSTED_PROFILE.into()),
            ..cluster("c0eu1vpc00000000000d", "eu-analytics", "eu-de", RG_DEFAULT, "vpc-gen2", "kubernetes", "eu-de-1")
        },
        cluster("c0jp2vpc00000000000f", "tok-batch", "jp-tok", RG_DEFAULT, "vpc-gen2", "kubernetes", "jp-tok-1"),
        cluster("c0jp1sat00000000000e", "edge-tokyo", "jp-tok", RG_STAGING, "satellite", "openshift", "tokyo-factory"),
    ]
}

/// The default world's add-ons: VPC clusters have the CSI driver (IBM enables it by default);
/// `shop-vpc`, `legacy-classic` and the Satellite cluster run the autoscaler.
fn addons(name: &str, provider: &str) -> Vec<String> {
    let mut out = Vec::new();
    if provider == "vpc-gen2" {
        out.push(VPC_BLOCK_CSI.to_owned());
    }
    if matches!(name, "shop-vpc" | "legacy-classic" | "edge-tokyo") {
        out.push(AUTOSCALER.to_owned());
    }
    out
}

/// What the sandbox's clusters report ([`crate::world::World::sandbox_world`]): `tok-batch`
/// raises NHC009 (its key is gone), and a worker of `shop-vpc` names its key's departed owner.
pub(super) fn report_credential_failures(clusters: &mut [Cluster]) {
    let worker = |c: &Cluster, n: u32, state: &str, message: &str| Worker {
        id: format!("kube-{}-default-{n:08}", c.id),
        state: state.into(),
        message: message.into(),
    };
    for c in clusters.iter_mut() {
        match c.name.as_str() {
            "tok-batch" => {
                c.state = "warning".into();
                c.health_issues = vec![HealthIssue {
                    id: "NHC009".into(),
                    component: "Network".into(),
                    severity: "Error".into(),
                    description: "The IAM token exchange request failed.".into(),
                }];
            }
            "shop-vpc" => {
                c.state = "warning".into();
                c.workers = vec![
                    worker(c, 1, "normal", ""),
                    worker(c, 2, "warning", "Provided user not found or active"),
                    worker(c, 3, "normal", ""),
                ];
            }
            _ => {}
        }
    }
}
