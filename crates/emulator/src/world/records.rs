//! The records the emulated account is made of: the account, its identities, resource groups,
//! clusters, API keys, the current cluster API key and classic credentials per target, access
//! policies and groups, and the tokens the emulator issued. Each serializes to its part of the
//! seed-file format; [`super::World`] holds them all.

use serde::{Deserialize, Serialize};

/// One account.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// BSS account ID.
    pub id: String,
    /// Name.
    pub name: String,
    /// IAM ID of the owner.
    pub owner_iam_id: String,
    /// IMS account number (in tokens).
    #[serde(default)]
    pub ims: String,
    /// The enterprise the account belongs to (Enterprise Management's `enterprise_id`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<String>,
}

/// The kind of an identity.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// A person.
    User,
    /// A service ID.
    ServiceId,
    /// A trusted profile.
    Profile,
}

/// A user, service ID or trusted profile.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// IAM ID (`IBMid-...`, `iam-ServiceId-...`).
    pub iam_id: String,
    /// Kind.
    pub kind: IdentityKind,
    /// Display name.
    pub name: String,
    /// Email (users) or empty.
    #[serde(default)]
    pub email: String,
    /// Account.
    pub account_id: String,
    /// False once the user has left the company: their keys remain, logins fail.
    #[serde(default = "yes")]
    pub active: bool,
    /// The user's state in the account as User Management reports it (`ACTIVE`, `PENDING`,
    /// ...); when absent, `ACTIVE` for an active identity and `IAMID_INVALID` otherwise.
    #[serde(default)]
    pub state: Option<String>,
    /// False once the user was removed from the account (User Management answers 404; IBM
    /// deletes the user's API keys with it).
    #[serde(default = "yes")]
    pub member: bool,
}

impl Identity {
    /// The state User Management reports.
    #[must_use]
    pub(crate) fn user_state(&self) -> String {
        self.state.clone().unwrap_or_else(|| String::from(if self.active { "ACTIVE" } else { "IAMID_INVALID" }))
    }
}

fn yes() -> bool {
    true
}

/// A resource group.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ResourceGroup {
    /// ID.
    pub id: String,
    /// Name.
    pub name: String,
    /// Account.
    pub account_id: String,
    /// The account's default group.
    #[serde(default)]
    pub default: bool,
}

/// A cluster.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// ID.
    pub id: String,
    /// Name.
    pub name: String,
    /// Account.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// Resource group ID.
    pub resource_group_id: String,
    /// `classic`, `vpc-gen2`, `satellite`.
    pub provider: String,
    /// `kubernetes` or `openshift`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `normal`, ...
    #[serde(default = "normal")]
    pub state: String,
    /// Location (zone, data centre or Satellite location).
    #[serde(default)]
    pub location: String,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created: String,
    /// Enabled managed add-ons (`vpc-block-csi-driver`, `cluster-autoscaler`, ...).
    #[serde(default)]
    pub addons: Vec<String>,
    /// The trusted profile its storage and autoscaler components use instead of the API key
    /// (`ibmcloud oc experimental trusted-profile set`; irreversible).
    #[serde(default)]
    pub trusted_profile_id: Option<String>,
    /// The master's status the lists report (`Ready` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_status: Option<String>,
    /// Its health issues (`ibmcloud ks cluster health issues`), none when absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub health_issues: Vec<HealthIssue>,
    /// Its workers, with their states and messages; when absent, three normal workers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workers: Vec<Worker>,
}

/// A cluster's health issue.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HealthIssue {
    /// `NHC009`, ...
    pub id: String,
    /// `Network`, ...
    #[serde(default)]
    pub component: String,
    /// `Error`, `Warning`, ...
    #[serde(default)]
    pub severity: String,
    /// IBM's description.
    pub description: String,
}

/// A cluster's worker node.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Worker {
    /// ID (`kube-<cluster>-<pool>-<n>`).
    pub id: String,
    /// `normal`, `warning`, `critical`, `failed`, ...
    #[serde(default = "normal")]
    pub state: String,
    /// What it reports (empty: nothing).
    #[serde(default)]
    pub message: String,
}

fn normal() -> String {
    String::from("normal")
}

/// An IAM API key, value included.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    /// `ApiKey-...`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Owner.
    pub iam_id: String,
    /// Account.
    pub account_id: String,
    /// The secret value.
    pub apikey: String,
    /// RFC 3339.
    pub created_at: String,
    /// Creator's IAM ID.
    pub created_by: String,
    /// RFC 3339.
    #[serde(default)]
    pub modified_at: String,
    /// Locked keys cannot be deleted or changed.
    #[serde(default)]
    pub locked: bool,
    /// Disabled keys cannot log in.
    #[serde(default)]
    pub disabled: bool,
    /// Last login with the key.
    #[serde(default)]
    pub last_authn: Option<String>,
    /// Logins with the key.
    #[serde(default)]
    pub authn_count: u64,
    /// Bumped on every change.
    #[serde(default)]
    pub entity_tag: u64,
    /// When the key stops working (IBM's `expires_at`; RFC 3339). Kept as any JSON so that a
    /// test world can serve what IBM might (a wrong type, garbage); absent: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<serde_json::Value>,
    /// What IAM does to the key when it finds it leaked (IBM's `action_when_leaked`: `none`,
    /// `disable`, `delete`), kept as any JSON likewise; absent: served as `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_when_leaked: Option<serde_json::Value>,
}

impl ApiKey {
    /// A fresh, unlocked, enabled, never-used key created by its owner at `created_at`.
    #[must_use]
    pub(crate) fn new(
        id: String,
        name: String,
        description: Option<String>,
        iam_id: String,
        account_id: String,
        apikey: String,
        created_at: String,
    ) -> Self {
        Self {
            id,
            name,
            description,
            created_by: iam_id.clone(),
            iam_id,
            account_id,
            apikey,
            modified_at: created_at.clone(),
            created_at,
            locked: false,
            disabled: false,
            last_authn: None,
            authn_count: 0,
            entity_tag: 1,
            expires_at: None,
            action_when_leaked: None,
        }
    }
}

/// The current cluster API key of a (region, resource group).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClusterKey {
    /// Account.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// Resource group ID.
    pub resource_group_id: String,
    /// The key in use.
    pub api_key_id: String,
}

/// Classic infrastructure credentials set by hand for a (region, resource group) (`ibmcloud ks
/// credential set classic`): they order the classic clusters' infrastructure there instead of
/// the API key. The emulator keeps the user name and only a digest of the key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClassicCredential {
    /// Account.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// Resource group ID.
    pub resource_group_id: String,
    /// The classic infrastructure user name (`<account number>_<email>` for linked accounts).
    pub username: String,
    /// SHA-256 of the infrastructure API key, hex (the key itself is never kept).
    pub api_key_sha256: String,
}

/// An access policy: `roles` on `service` for a subject, optionally narrowed to a region and
/// resource group.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// ID.
    pub id: String,
    /// Account.
    pub account_id: String,
    /// Subject: an IAM ID...
    #[serde(default)]
    pub iam_id: Option<String>,
    /// ...or an access group.
    #[serde(default)]
    pub access_group_id: Option<String>,
    /// `containers-kubernetes`, `iam-identity`, ... (`None` = all IAM-enabled services).
    #[serde(default)]
    pub service: Option<String>,
    /// Role names: `Administrator`, `Operator`, `Editor`, `Viewer`, `Manager`, `Writer`,
    /// `Reader`, `UserApiKeyCreator`...
    pub roles: Vec<String>,
    /// Region scope.
    #[serde(default)]
    pub region: Option<String>,
    /// Resource group scope.
    #[serde(default)]
    pub resource_group_id: Option<String>,
    /// One service instance (a cluster ID): such a policy covers that cluster only.
    #[serde(default)]
    pub service_instance: Option<String>,
    /// `service` ("All Identity and Access enabled services": not the account-management
    /// services such as IAM Identity) or `platform_service` (only those), when no `service`.
    #[serde(default)]
    pub service_type: Option<String>,
    /// `resource-group`: access to a resource group itself (`resource` is its ID; absent: all).
    #[serde(default)]
    pub resource_type: Option<String>,
    /// The resource of `resource_type`.
    #[serde(default)]
    pub resource: Option<String>,
}

/// The account-management services: not covered by a policy for "all services"
/// (`serviceType=service`), only by `serviceType=platform_service` or by name.
pub(crate) const ACCOUNT_MANAGEMENT: [&str; 5] =
    ["iam-identity", "iam-access-management", "iam-groups", "user-management", "billing"];

impl Policy {
    /// Whether this policy grants one of `roles` on `service` for the region and group (a
    /// service-wide action, so a policy on one instance does not count).
    #[must_use]
    pub(crate) fn grants(&self, service: &str, roles: &[&str], region: Option<&str>, rg: Option<&str>) -> bool {
        let service_ok = match (&self.service, self.service_type.as_deref()) {
            (Some(s), _) => s == service,
            (None, Some("service")) => !ACCOUNT_MANAGEMENT.contains(&service),
            (None, Some("platform_service")) => ACCOUNT_MANAGEMENT.contains(&service),
            (None, _) => true,
        };
        service_ok
            && self.service_instance.is_none()
            && self.resource_type.is_none()
            && self.region.as_deref().is_none_or(|r| Some(r) == region)
            && self.resource_group_id.as_deref().is_none_or(|g| Some(g) == rg)
            && self.roles.iter().any(|r| roles.contains(&r.as_str()))
    }
}

/// Identity account settings (`/v1/accounts/{account}/settings/identity`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AccountSettings {
    /// `RESTRICTED`, `NOT_RESTRICTED` or `NOT_SET`.
    pub restrict_create_platform_apikey: String,
    /// Likewise for service IDs.
    pub restrict_create_service_id: String,
}

impl Default for AccountSettings {
    fn default() -> Self {
        Self { restrict_create_platform_apikey: "NOT_SET".into(), restrict_create_service_id: "NOT_SET".into() }
    }
}

/// An access group.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AccessGroup {
    /// `AccessGroupId-...`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Account.
    pub account_id: String,
    /// Member IAM IDs.
    pub members: Vec<String>,
}

/// A refresh token and whom it belongs to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RefreshToken {
    /// The opaque value.
    pub token: String,
    /// Owner.
    pub iam_id: String,
    /// Account.
    pub account_id: String,
    /// Spent by a refresh (refresh tokens rotate).
    #[serde(default)]
    pub spent: bool,
}

/// An access token the emulator issued.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct IssuedToken {
    /// The JWT's signature part, which identifies it.
    pub signature: String,
    /// Owner.
    pub iam_id: String,
    /// Account.
    pub account_id: String,
    /// Expiry, Unix seconds (emulator clock).
    pub exp: i64,
}

/// The description IBM gives a cluster API key. INFERRED: IBM's exact wording is not public
/// (no public copy was found); IBM's own cleanup script finds a key by the region and the resource
/// group ID in it, so it contains both.
#[must_use]
pub(crate) fn cluster_key_description(region: &str, rg_id: &str) -> String {
    format!(
        "API key for the IBM Cloud Kubernetes Service in region {region} and resource group {rg_id}. Do not delete."
    )
}
