//! The emulated account's state, its seed-file format (JSON) and the seeded worlds.
//!
//! Everything the emulator knows is in [`World`], which serializes to the same JSON that seed
//! files use, so a dump can be edited and loaded again and the sandbox can persist between runs.
//! API-key values are part of the state on purpose: the emulator is a test double, and tests
//! need to log in with them.
//!
//! - `records`: the records a world is made of (accounts, identities, clusters, keys,
//!   policies, ...) and what a policy grants;
//! - `names`: the default world's fixed IDs and login-key values ([`keys`]);
//! - `seed`: the default world, one concern a file (people, clusters, credentials, access);
//! - `scaled`: the generated worlds of any size, for benchmarks and large-account tests.
//!
//! `tests/seed.rs` holds the seeded worlds byte for byte (golden files of the state dump).

mod names;
mod records;
mod scaled;
mod seed;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

pub use names::*;
pub use records::*;
pub use seed::{ENTERPRISE_ID, FINANCE_ACCOUNT, SANDBOX_EXPIRES_IN_SECS, STAGING_ACCOUNT};

/// The whole state.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct World {
    /// Accounts.
    pub accounts: Vec<Account>,
    /// Identities.
    pub identities: Vec<Identity>,
    /// Resource groups.
    pub resource_groups: Vec<ResourceGroup>,
    /// Clusters.
    pub clusters: Vec<Cluster>,
    /// API keys.
    pub api_keys: Vec<ApiKey>,
    /// Current cluster API key per target.
    pub cluster_keys: Vec<ClusterKey>,
    /// Classic infrastructure credentials set by hand, per target.
    #[serde(default)]
    pub classic_credentials: Vec<ClassicCredential>,
    /// Policies.
    pub policies: Vec<Policy>,
    /// Access groups.
    pub access_groups: Vec<AccessGroup>,
    /// Identity account settings.
    #[serde(default)]
    pub settings: AccountSettings,
    /// API keys allowed per identity.
    #[serde(default = "twenty")]
    pub apikeys_per_identity: u64,
    /// Refresh tokens.
    #[serde(default)]
    pub refresh_tokens: Vec<RefreshToken>,
    /// Access tokens issued.
    #[serde(default)]
    pub issued_tokens: Vec<IssuedToken>,
    /// Lifetime of new access tokens, seconds.
    #[serde(default = "hour")]
    pub token_lifetime_secs: i64,
    /// Added to the system clock (tests move time with it).
    #[serde(default)]
    pub clock_offset_secs: i64,
    /// Sequence for generated IDs (deterministic across runs of the same world).
    #[serde(default)]
    pub next_id: u64,
    /// The account does not report API-key activity: `include_activity=true` answers carry no
    /// `activity` member (IBM's scripts guard against its absence).
    #[serde(default)]
    pub no_activity_reporting: bool,
}

fn hour() -> i64 {
    3600
}

fn twenty() -> u64 {
    20
}

impl World {
    /// Every IAM ID that `iam_id` acts as for access decisions: itself and its access groups.
    #[must_use]
    pub(crate) fn subjects_of(&self, iam_id: &str) -> BTreeSet<String> {
        let mut s = BTreeSet::new();
        s.insert(iam_id.to_owned());
        for g in &self.access_groups {
            if g.members.iter().any(|m| m == iam_id) {
                s.insert(g.id.clone());
            }
        }
        s
    }

    /// Whether `iam_id` holds `role` on `service` for the region and group (or account-wide).
    #[must_use]
    pub(crate) fn has_role(
        &self,
        account: &str,
        iam_id: &str,
        service: &str,
        roles: &[&str],
        region: Option<&str>,
        rg: Option<&str>,
    ) -> bool {
        let subjects = self.subjects_of(iam_id);
        self.policies.iter().any(|p| {
            p.account_id == account
                && (p.iam_id.as_ref().is_some_and(|i| subjects.contains(i))
                    || p.access_group_id.as_ref().is_some_and(|g| subjects.contains(g)))
                && p.grants(service, roles, region, rg)
        })
    }

    /// A fresh, unique ID with a prefix.
    pub(crate) fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        let rand = fastrand::u64(..);
        format!("{prefix}{:08x}-{:016x}", self.next_id, rand)
    }
}
