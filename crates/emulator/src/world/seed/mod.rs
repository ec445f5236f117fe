//! The default world: the one account the sandbox and every test start from, built a concern
//! at a time (its people, resource groups and clusters, the credentials its targets use, who
//! may do what). Each part explains the situation it stages; `tests/seed.rs` keeps the result
//! byte for byte, order of every list included.

mod access;
mod clusters;
mod credentials;
mod enterprise;
mod people;

pub use enterprise::{ENTERPRISE_ID, FINANCE_ACCOUNT, STAGING_ACCOUNT};

use super::{ACCOUNT_ID, Account, AccountSettings, OWNER, World};

impl World {
    /// The default world: one account, three regions, three resource groups, clusters of each
    /// provider, the owner, a functional ID, a departed user, a viewer, a service ID, obsolete
    /// cluster keys and one locked key.
    #[must_use]
    pub fn default_world() -> Self {
        // The API keys, in the order the dump lists them: the people's login keys, the targets'
        // cluster API keys, the owner's scripts' keys, then the orphaned cluster API key.
        let mut api_keys = people::login_keys();
        api_keys.extend(credentials::cluster_api_keys());
        api_keys.extend(people::owner_script_keys());
        api_keys.extend(credentials::orphaned_keys());
        Self {
            accounts: vec![Account {
                id: ACCOUNT_ID.into(),
                name: "Example Corp".into(),
                owner_iam_id: OWNER.into(),
                ims: "2412345".into(),
                enterprise_id: None,
            }],
            identities: people::identities(),
            resource_groups: clusters::resource_groups(),
            clusters: clusters::clusters(),
            api_keys,
            cluster_keys: credentials::current_keys(),
            classic_credentials: credentials::classic_credentials(),
            policies: access::policies(),
            access_groups: access::access_groups(),
            settings: AccountSettings::default(),
            apikeys_per_identity: 20,
            refresh_tokens: Vec::new(),
            issued_tokens: Vec::new(),
            token_lifetime_secs: 3600,
            clock_offset_secs: 0,
            next_id: 1,
            no_activity_reporting: false,
        }
    }

    /// The sandbox's world: the default one, and the key's own life on two of its targets,
    /// relative to `now` (Unix seconds) since an expiry is a date: us-south / production's key
    /// (the functional ID's) expires in 10 days (`key-expiring`), and IAM deletes jp-tok /
    /// staging's key (the service ID's) if it finds it leaked (`key-leak-action`). Tests keep
    /// the default world, whose dates never move.
    #[must_use]
    pub fn sandbox_world(now: i64) -> Self {
        let mut w = Self::default_world();
        for k in &mut w.api_keys {
            match k.id.as_str() {
                // Half a day past the tenth day: "in 10 days" all day long.
                SANDBOX_EXPIRING_KEY => {
                    k.expires_at = Some(crate::util::rfc3339(now + SANDBOX_EXPIRES_IN_SECS).into());
                }
                "ApiKey-4444-jp-staging-cur" => k.action_when_leaked = Some("delete".into()),
                _ => {}
            }
        }
        // What the clusters say: jp-tok / Default, whose key was deleted with its owner, raises
        // `NHC009`; a worker of us-south / Default, whose key's owner is no longer valid, says
        // "Provided user not found or active". A reset of the target clears them.
        clusters::report_credential_failures(&mut w.clusters);
        // A small enterprise around the targeted account, for `--account` / `--all-accounts`.
        w.with_enterprise()
    }
}

/// The sandbox key that expires soon ([`World::sandbox_world`]).
const SANDBOX_EXPIRING_KEY: &str = "ApiKey-2222-us-prod-cur";

/// How long after the sandbox's world is made its expiring key expires: 10 days and a half.
pub const SANDBOX_EXPIRES_IN_SECS: i64 = 10 * 86_400 + 43_200;

/// A fresh, unlocked key of the default account.
fn key(id: &str, name: &str, description: Option<String>, owner: &str, value: &str, created: &str) -> super::ApiKey {
    super::ApiKey::new(
        id.into(),
        name.into(),
        description,
        owner.into(),
        ACCOUNT_ID.into(),
        value.into(),
        created.into(),
    )
}
