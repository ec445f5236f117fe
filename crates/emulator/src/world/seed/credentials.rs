//! The credentials the default account's targets (region, resource group) use: the history of
//! each target's cluster API key (obsolete keys beside the current one, owned by the wrong
//! people, one locked), which key is current per target, a key left for a target with no
//! clusters, and classic infrastructure credentials set by hand.

use super::key;
use crate::util::sha256_hex;
use crate::world::{
    ACCOUNT_ID, ApiKey, ClassicCredential, ClusterKey, DEPARTED, FUNCTIONAL, OWNER, RG_DEFAULT, RG_PRODUCTION,
    RG_STAGING, SERVICE_ID, cluster_key_description,
};

/// A cluster API key as IBM makes it (its name and description) for `region` / `rg`.
fn cluster_key(id: &str, region: &str, rg: &str, owner: &str, value: &str, created: &str) -> ApiKey {
    key(id, "containers-kubernetes-key", Some(cluster_key_description(region, rg)), owner, value, created)
}

/// The cluster API keys of the targets with clusters, oldest of a target first.
pub(super) fn cluster_api_keys() -> Vec<ApiKey> {
    vec![
        // us-south / Default: first Olivia's key (now obsolete), then Dave reset it.
        cluster_key(
            "ApiKey-1111-us-default-old",
            "us-south",
            RG_DEFAULT,
            OWNER,
            "emulator-ck-value-01-obsolete-us-default-xxxx",
            "2024-04-01T09:00:00Z",
        ),
        cluster_key(
            "ApiKey-1111-us-default-cur",
            "us-south",
            RG_DEFAULT,
            DEPARTED,
            "emulator-ck-value-02-current-us-default-xxxx",
            "2025-01-15T09:00:00Z",
        ),
        // us-south / production: the functional ID, as it should be.
        cluster_key(
            "ApiKey-2222-us-prod-cur",
            "us-south",
            RG_PRODUCTION,
            FUNCTIONAL,
            "emulator-ck-value-03-current-us-prod-xxxxxx",
            "2025-06-01T09:00:00Z",
        ),
        // eu-de / Default: Olivia's key, locked; an older one of Dave's is obsolete.
        cluster_key(
            "ApiKey-3333-eu-default-old",
            "eu-de",
            RG_DEFAULT,
            DEPARTED,
            "emulator-ck-value-04-obsolete-eu-default-xxx",
            "2023-11-20T09:00:00Z",
        ),
        ApiKey {
            locked: true,
            ..cluster_key(
                "ApiKey-3333-eu-default-cur",
                "eu-de",
                RG_DEFAULT,
                OWNER,
                "emulator-ck-value-05-current-eu-default-xxxx",
                "2024-09-09T09:00:00Z",
            )
        },
        // jp-tok / staging: owned by the service ID ci-automation, as IBM now recommends; it
        // lacks Operator on IAM Identity, which a service ID that owns the key needs.
        cluster_key(
            "ApiKey-4444-jp-staging-cur",
            "jp-tok",
            RG_STAGING,
            SERVICE_ID,
            "emulator-ck-value-06-current-jp-staging-xxxx",
            "2025-08-01T09:00:00Z",
        ),
    ]
}

/// A key for a target whose clusters are all gone (eu-de / staging).
pub(super) fn orphaned_keys() -> Vec<ApiKey> {
    vec![cluster_key(
        "ApiKey-5555-eu-staging-orphan",
        "eu-de",
        RG_STAGING,
        OWNER,
        "emulator-ck-value-07-orphan-eu-staging-xxxxx",
        "2023-05-05T09:00:00Z",
    )]
}

/// The key each target's clusters use now.
pub(super) fn current_keys() -> Vec<ClusterKey> {
    let current = |region: &str, rg: &str, api_key_id: &str| ClusterKey {
        account_id: ACCOUNT_ID.into(),
        region: region.into(),
        resource_group_id: rg.into(),
        api_key_id: api_key_id.into(),
    };
    vec![
        current("us-south", RG_DEFAULT, "ApiKey-1111-us-default-cur"),
        current("us-south", RG_PRODUCTION, "ApiKey-2222-us-prod-cur"),
        current("eu-de", RG_DEFAULT, "ApiKey-3333-eu-default-cur"),
        current("jp-tok", RG_STAGING, "ApiKey-4444-jp-staging-cur"),
        // Rita's key, deleted when she was removed from the account.
        current("jp-tok", RG_DEFAULT, "ApiKey-6666-jp-default-deleted"),
    ]
}

/// Dave Departed set classic infrastructure credentials for us-south / Default: they order
/// legacy-classic's infrastructure whatever the API key, and outlive a reset.
pub(super) fn classic_credentials() -> Vec<ClassicCredential> {
    vec![ClassicCredential {
        account_id: ACCOUNT_ID.into(),
        region: "us-south".into(),
        resource_group_id: RG_DEFAULT.into(),
        username: "2412345_dave.departed@example.com".into(),
        api_key_sha256: sha256_hex("emulator-classic-infrastructure-key-dave"),
    }]
}
