//! The sandbox's small enterprise: the default account (`Example Corp`, the one the CLI
//! targets) and two more. `Example Corp Staging` has the owner and the functional ID as members
//! (the functional ID with the same access it has at home), one resource group and one cluster
//! whose API key the owner holds; `Example Corp Finance` belongs to the same enterprise but
//! neither is a member there, so no token can be had for it. The functional ID may read the
//! enterprise's account list (Viewer on `enterprise` in the home account).

use crate::world::{ACCOUNT_ID, Account, ApiKey, Cluster, ClusterKey, FUNCTIONAL, OWNER, Policy, ResourceGroup, World};

/// The enterprise's ID.
pub const ENTERPRISE_ID: &str = "e0a1b2c3d4e5f60718293a4b5c6d7e8f";
/// `Example Corp Staging`: readable by the owner.
pub const STAGING_ACCOUNT: &str = "b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2";
/// `Example Corp Finance`: listed in the enterprise, unreachable for the owner.
pub const FINANCE_ACCOUNT: &str = "f1e2d3c4b5a697887766554433221100";
const STAGING_RG: &str = "5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d";

impl World {
    /// Puts the world's account in an enterprise with two more accounts (see the module).
    #[must_use]
    pub fn with_enterprise(mut self) -> Self {
        for a in &mut self.accounts {
            if a.id == ACCOUNT_ID {
                a.enterprise_id = Some(ENTERPRISE_ID.into());
            }
        }
        let account = |id: &str, name: &str, owner: &str, ims: &str| Account {
            id: id.into(),
            name: name.into(),
            owner_iam_id: owner.into(),
            ims: ims.into(),
            enterprise_id: Some(ENTERPRISE_ID.into()),
        };
        self.accounts.push(account(STAGING_ACCOUNT, "Example Corp Staging", OWNER, "2412346"));
        self.accounts.push(account(FINANCE_ACCOUNT, "Example Corp Finance", "IBMid-660000FINA", "2412347"));
        // The owner's and the functional ID's memberships of the staging account.
        for who in [OWNER, FUNCTIONAL] {
            if let Some(i) = self.identities.iter().find(|i| i.iam_id == who && i.account_id == ACCOUNT_ID).cloned() {
                self.identities.push(crate::world::Identity { account_id: STAGING_ACCOUNT.into(), ..i });
            }
        }
        // The functional ID's access in staging: what it has at home, account-wide.
        let staging: Vec<Policy> = self
            .policies
            .iter()
            .filter(|p| p.account_id == ACCOUNT_ID && p.iam_id.as_deref() == Some(FUNCTIONAL))
            .map(|p| Policy {
                id: format!("{}-staging", p.id),
                account_id: STAGING_ACCOUNT.into(),
                resource: None,
                resource_group_id: None,
                ..p.clone()
            })
            .collect();
        self.policies.extend(staging);
        self.policies.push(Policy {
            id: "policy-func-enterprise".into(),
            account_id: ACCOUNT_ID.into(),
            iam_id: Some(FUNCTIONAL.into()),
            service: Some("enterprise".into()),
            roles: vec!["Viewer".into()],
            ..Policy::default()
        });
        self.resource_groups.push(ResourceGroup {
            id: STAGING_RG.into(),
            name: "Default".into(),
            account_id: STAGING_ACCOUNT.into(),
            default: true,
        });
        if let Some(c) = self.clusters.iter().find(|c| c.account_id == ACCOUNT_ID).cloned() {
            self.clusters.push(Cluster {
                id: "c0st1vpc00000000000s".into(),
                name: "stg-web".into(),
                account_id: STAGING_ACCOUNT.into(),
                region: "us-south".into(),
                resource_group_id: STAGING_RG.into(),
                location: "us-south-1".into(),
                health_issues: Vec::new(),
                workers: Vec::new(),
                master_status: None,
                trusted_profile_id: None,
                ..c
            });
        }
        if let Some(k) = self.api_keys.iter().find(|k| k.account_id == ACCOUNT_ID && k.iam_id == OWNER).cloned() {
            self.api_keys.push(ApiKey {
                id: "ApiKey-b111-stg-default-cur".into(),
                name: "containers-kubernetes-key".into(),
                account_id: STAGING_ACCOUNT.into(),
                apikey: "emulator-apikey-staging-cluster-key".into(),
                description: Some(crate::world::records::cluster_key_description("us-south", STAGING_RG)),
                created_at: "2026-10-01T09:00:00Z".into(),
                modified_at: "2026-10-01T09:00:00Z".into(),
                expires_at: None,
                action_when_leaked: None,
                ..k
            });
            self.cluster_keys.push(ClusterKey {
                account_id: STAGING_ACCOUNT.into(),
                region: "us-south".into(),
                resource_group_id: STAGING_RG.into(),
                api_key_id: "ApiKey-b111-stg-default-cur".into(),
            });
        }
        self
    }
}
