//! `status`: for every target of the account, who owns the cluster API key, whether that person
//! is still in the account, how old the key is, and what needs fixing.
//!
//! One discovery ([`super::discovery`]), then, in a bounded pool, one owner lookup per target
//! with clusters and one User Management lookup per distinct owner. A target whose own lookups
//! fail is still reported, with the reason, and never hides the others; only an account that
//! cannot be read at all is an error.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use futures_util::stream::{self, StreamExt as _};
use serde::Serialize;

use super::discovery::{self, Found, KeyScope, Scope};
use super::{Caller, Session, Target};
use crate::api::containers::{ClassicCredentials, KeyOwner};
use crate::api::iam_identity::ApiKey;
use crate::api::user_management::{ByEmail, Membership};
use crate::error::{Error, Result, clause};
use crate::types::{AccountId, ApiKeyId, IamId, IdentityKind};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Should be fixed.
    Warning,
    /// Clusters are or will be broken.
    Critical,
}

/// What is wrong, as a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// Clusters exist and there is no key.
    NoKey,
    /// The owner is no longer in the account.
    OwnerNotInAccount,
    /// The owner is in the account but not active.
    OwnerInactive,
    /// The owner lacks roles the clusters need from the key (when the owner's policies can be
    /// read).
    OwnerLacksRoles,
    /// The owner (or their state) could not be established.
    OwnerUnknown,
    /// The owner's roles could not be read by the caller: whether they lack what the clusters
    /// need (`owner-lacks-roles`) is unknown.
    OwnerRolesUnknown,
    /// The key is older than `--max-age`.
    KeyTooOld,
    /// A person owns the key rather than a service ID or a functional ID.
    PersonalOwner,
    /// The key is locked.
    KeyLocked,
    /// The key is disabled.
    KeyDisabled,
    /// Older keys of the target are still there.
    SupersededKeys,
    /// A key for a target with no clusters.
    OrphanKey,
    /// An acceptance of the policy file is past its date: it accepts nothing any more.
    AcceptanceExpired,
    /// Classic infrastructure credentials are set by hand: they, not the API key, order the
    /// classic clusters' infrastructure, so who owns them matters as much.
    ClassicCredentialsSet,
    /// The user behind the classic infrastructure credentials is no longer in the account, or
    /// not active (matched by the email in the infrastructure user name).
    ClassicCredentialsOwnerGone,
    /// The owner holds at least 80% of IAM's per-identity API key limit: the next reset or
    /// cluster creation as that identity fails (`BXNIM0151E`, `A03e9b`).
    OwnerNearKeyLimit,
}

impl Code {
    /// Its severity.
    #[must_use]
    pub fn severity(self) -> Severity {
        match self {
            Self::NoKey
            | Self::OwnerNotInAccount
            | Self::OwnerInactive
            | Self::OwnerLacksRoles
            | Self::ClassicCredentialsOwnerGone => Severity::Critical,
            Self::ClassicCredentialsSet
            | Self::OwnerNearKeyLimit
            | Self::OwnerUnknown
            | Self::OwnerRolesUnknown
            | Self::KeyTooOld
            | Self::PersonalOwner
            | Self::KeyLocked
            | Self::KeyDisabled
            | Self::AcceptanceExpired => Severity::Warning,
            Self::SupersededKeys | Self::OrphanKey => Severity::Info,
        }
    }

    /// Its stable name (`owner-not-in-account`), as JSON, CSV and the policy file write it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoKey => "no-key",
            Self::OwnerNotInAccount => "owner-not-in-account",
            Self::OwnerInactive => "owner-inactive",
            Self::OwnerLacksRoles => "owner-lacks-roles",
            Self::OwnerUnknown => "owner-unknown",
            Self::OwnerRolesUnknown => "owner-roles-unknown",
            Self::KeyTooOld => "key-too-old",
            Self::PersonalOwner => "personal-owner",
            Self::KeyLocked => "key-locked",
            Self::KeyDisabled => "key-disabled",
            Self::SupersededKeys => "superseded-keys",
            Self::OrphanKey => "orphan-key",
            Self::AcceptanceExpired => "acceptance-expired",
            Self::ClassicCredentialsSet => "classic-credentials-set",
            Self::ClassicCredentialsOwnerGone => "classic-credentials-owner-gone",
            Self::OwnerNearKeyLimit => "owner-near-key-limit",
        }
    }

    /// Every code, for documentation and tests.
    pub const ALL: [Self; 16] = [
        Self::NoKey,
        Self::OwnerNotInAccount,
        Self::OwnerInactive,
        Self::OwnerLacksRoles,
        Self::OwnerUnknown,
        Self::OwnerRolesUnknown,
        Self::KeyTooOld,
        Self::PersonalOwner,
        Self::KeyLocked,
        Self::KeyDisabled,
        Self::SupersededKeys,
        Self::OrphanKey,
        Self::AcceptanceExpired,
        Self::ClassicCredentialsSet,
        Self::ClassicCredentialsOwnerGone,
        Self::OwnerNearKeyLimit,
    ];
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// Stable code.
    pub code: Code,
    /// Severity.
    pub severity: Severity,
    /// The facts behind it.
    pub detail: String,
    /// Accepted by the policy file: shown, not counted toward the exit code.
    pub accepted: bool,
    /// The acceptance's reason, date and author, when accepted.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub acceptance: Option<Accepted>,
}

/// Why and until when a finding is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    /// Why.
    pub reason: String,
    /// Until when (`YYYY-MM-DD`).
    pub until: String,
    /// Who accepted it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

impl Finding {
    pub(crate) fn new(code: Code, detail: impl Into<String>) -> Self {
        Self { code, severity: code.severity(), detail: detail.into(), accepted: false, acceptance: None }
    }

    /// Marks it accepted.
    pub(crate) fn accept(&mut self, reason: String, until: String, by: Option<String>) {
        self.accepted = true;
        self.acceptance = Some(Accepted { reason, until, by });
    }
}

/// What the policy file did to a report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyNotes {
    /// The file, when there was one.
    pub path: Option<String>,
    /// Acceptances (still in date) that matched no finding: `line N: code for target`.
    pub unused: Vec<String>,
    /// Acceptances that matched no finding where the caller could not check the finding they
    /// are about (not unused: it may be there, unseen).
    pub unchecked: Vec<UncheckedAcceptance>,
}

/// An acceptance whose finding the caller could not check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UncheckedAcceptance {
    /// `line N: code for target`, as [`PolicyNotes::unused`] names them.
    pub acceptance: String,
    /// What could not be read.
    pub reason: String,
}

/// Findings that could not be judged for a target, and why: what the caller could not read.
/// Never the same as "not found": the policy file does not call an acceptance of them unused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unchecked {
    /// The finding codes that could not be judged.
    pub findings: Vec<Code>,
    /// Why (what could not be read, and what would let the caller read it).
    pub reason: String,
}

/// The owner's standing in the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum OwnerState {
    /// A member, in this User Management state (`ACTIVE`, `PENDING`, ...).
    Member {
        /// As IBM spells it.
        state: String,
    },
    /// Not in the account.
    NotInAccount,
    /// A service ID that exists (IAM Identity): it has no User Management membership.
    ServiceId {
        /// Locked against changes and deletion.
        locked: bool,
    },
    /// Could not be established.
    Unknown {
        /// Why.
        reason: String,
    },
}

/// Who owns a target's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    /// Name, when known.
    pub name: String,
    /// Email, when known.
    pub email: String,
    /// IAM ID, when known.
    pub iam_id: Option<IamId>,
    /// User, service ID, trusted profile (from the IAM ID).
    pub kind: Option<IdentityKind>,
    /// Standing in the account.
    pub state: OwnerState,
    /// The email User Management has on record for this IAM ID, when it could be read: the only
    /// email that names the owner for certain (a reported email is not checked against the
    /// account, and a display name is whatever the user typed).
    #[serde(skip)]
    pub account_email: Option<String>,
}

/// A target's current key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyInfo {
    /// Its ID.
    pub id: ApiKeyId,
    /// When it was created.
    pub created: Option<String>,
    /// Its age in whole days.
    pub age_days: Option<u64>,
    /// Locked against deletion.
    pub locked: bool,
    /// Disabled.
    pub disabled: bool,
    /// Last use, when IAM reports it.
    pub last_used: Option<String>,
    /// Owner's IAM ID.
    pub iam_id: IamId,
}

/// A superseded key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OldKey {
    /// Its ID.
    pub id: ApiKeyId,
    /// When it was created.
    pub created: Option<String>,
    /// When the next newer key of the target was created (the reset that superseded it), when
    /// there is one and the creation times can be read.
    pub superseded_at: Option<String>,
    /// Locked against deletion.
    pub locked: bool,
    /// Disabled.
    pub disabled: bool,
    /// Owner's IAM ID.
    pub iam_id: IamId,
}

/// A cluster of a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterBrief {
    /// Name.
    pub name: String,
    /// ID.
    pub id: String,
    /// Provider.
    pub provider: String,
    /// State.
    pub state: String,
    /// The trusted profile its storage and autoscaler use instead of the API key, when set.
    pub trusted_profile_id: Option<String>,
}

/// One target's status.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetStatus {
    /// Region.
    pub region: String,
    /// Resource group ID.
    pub resource_group_id: String,
    /// Resource group name.
    pub resource_group_name: String,
    /// Its clusters.
    pub clusters: Vec<ClusterBrief>,
    /// The current key, when one is visible.
    pub key: Option<KeyInfo>,
    /// The owner, when known; `ownerUnknownReason` says why not.
    pub owner: Option<Owner>,
    /// Why the owner is not known.
    pub owner_unknown_reason: Option<String>,
    /// Older keys still present.
    pub superseded_keys: Vec<OldKey>,
    /// When it cannot be told which key the clusters use: the keys that could be it, and why.
    /// Destructive commands leave those keys alone.
    pub key_in_use_unknown: Option<discovery::Unsure>,
    /// The classic infrastructure credentials set by hand, for a target with classic clusters
    /// (`null` without them: VPC and Satellite clusters never use such credentials).
    pub classic_credentials: Option<ClassicStatus>,
    /// What is wrong.
    pub findings: Vec<Finding>,
    /// What could not be judged here, and why (left out when everything was).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unchecked: Vec<Unchecked>,
    /// The target itself (its JSON is the flat fields above).
    #[serde(skip)]
    pub target: Target,
}

impl TargetStatus {
    /// Records that `findings` could not be judged here, and why.
    pub(crate) fn not_checked(&mut self, findings: &[Code], reason: impl Into<String>) {
        self.unchecked.push(Unchecked { findings: findings.to_vec(), reason: reason.into() });
    }

    /// Why `code` could not be judged here, when it could not.
    #[must_use]
    pub fn unchecked_reason(&self, code: Code) -> Option<&str> {
        self.unchecked.iter().find(|u| u.findings.contains(&code)).map(|u| u.reason.as_str())
    }

    /// The worst severity of its findings not accepted, if any.
    #[must_use]
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().filter(|f| !f.accepted).map(|f| f.severity).max()
    }

    /// Its region and resource group (the group as Resource Manager gives it).
    #[must_use]
    pub fn target(&self) -> Target {
        self.target.clone()
    }
}

/// What is known of a target's classic infrastructure credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassicStatus {
    /// Whether credentials are set; `null` when they could not be read (`unknownReason`).
    pub set: Option<bool>,
    /// The infrastructure user name, when set and named.
    pub username: Option<String>,
    /// The account user it was matched to, by the email in the user name.
    pub owner_email: Option<String>,
    /// That user's standing in the account; `Unknown` with the reason when it cannot be told
    /// (no email in the user name, or users not visible to the caller): never a false "removed".
    pub owner_state: Option<OwnerState>,
    /// Why the credentials could not be read.
    pub unknown_reason: Option<String>,
}

impl ClassicStatus {
    /// The findings it makes: `classic-credentials-set` whenever they are set, and
    /// `classic-credentials-owner-gone` when their user left or is not active.
    #[must_use]
    pub fn findings(&self) -> Vec<Finding> {
        if self.set != Some(true) {
            return Vec::new();
        }
        let who = self.username.as_deref().unwrap_or("an unnamed infrastructure user");
        let owner = match &self.owner_state {
            Some(OwnerState::Unknown { reason }) => format!("; the state of their owner is unknown: {reason}"),
            _ => String::new(),
        };
        let mut out = vec![Finding::new(
            Code::ClassicCredentialsSet,
            format!(
                "classic infrastructure credentials of {who} are set here: they, not the API key, order the classic clusters' infrastructure{owner}"
            ),
        )];
        let email = self.owner_email.as_deref().unwrap_or(who);
        match &self.owner_state {
            Some(OwnerState::NotInAccount) => out.push(Finding::new(
                Code::ClassicCredentialsOwnerGone,
                format!("the classic infrastructure credentials belong to {email}, who is no longer in the account"),
            )),
            Some(OwnerState::Member { state }) if state != "ACTIVE" => out.push(Finding::new(
                Code::ClassicCredentialsOwnerGone,
                format!(
                    "the classic infrastructure credentials belong to {email}, who is {state} in the account{}",
                    crate::api::user_management::state_clause(state)
                ),
            )),
            _ => {}
        }
        out
    }
}

/// Counts by severity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Targets reported.
    pub targets: usize,
    /// Critical findings.
    pub critical: usize,
    /// Warnings.
    pub warnings: usize,
    /// Info findings.
    pub info: usize,
    /// Findings the policy accepts (not in the counts above).
    pub accepted: usize,
}

/// The account's status.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    /// The account.
    pub account: AccountId,
    /// Who asked.
    pub caller: Caller,
    /// Every target, by region then group.
    pub targets: Vec<TargetStatus>,
    /// Counts.
    pub summary: Summary,
    /// What the report could not cover (keys of other users not visible, ...).
    pub notes: Vec<String>,
    /// What the policy file did, when one was applied.
    pub policy: Option<PolicyNotes>,
    /// Why some targets may be missing from the report altogether (a target without clusters
    /// shows only through its key, and not every key could be listed); `None` when none are.
    #[serde(skip)]
    pub unseen_targets: Option<String>,
}

impl StatusReport {
    /// The worst severity of the findings not accepted, if any.
    #[must_use]
    pub fn worst(&self) -> Option<Severity> {
        self.targets.iter().filter_map(TargetStatus::worst).max()
    }

    /// Counts the findings again (after the policy accepted some).
    pub fn recount(&mut self) {
        let mut summary = Summary { targets: self.targets.len(), ..Summary::default() };
        for f in self.targets.iter().flat_map(|t| &t.findings) {
            match (f.accepted, f.severity) {
                (true, _) => summary.accepted += 1,
                (false, Severity::Critical) => summary.critical += 1,
                (false, Severity::Warning) => summary.warnings += 1,
                (false, Severity::Info) => summary.info += 1,
            }
        }
        self.summary = summary;
    }
}

/// What `status` looks at and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Only these regions (none: every region).
    pub regions: Vec<crate::types::Region>,
    /// Only these groups (none named: every group).
    pub groups: crate::types::GroupSelector,
    /// Keys older than this are flagged.
    pub max_age: Duration,
    /// Functional IDs (IAM IDs or emails): users that may own keys.
    pub functional_ids: Vec<String>,
    /// Lookups in flight at once.
    pub concurrency: usize,
}

/// Told about progress, per target (the core never prints).
pub trait Reporter: Sync {
    /// `n` targets will be checked.
    fn targets(&self, _n: usize) {}
    /// One target is done.
    fn checked(&self, _target: &Target) {}
}

/// A reporter that says nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Reporter for Silent {}

/// Whole days since an RFC 3339 time (fractions of a second and the `Z` tolerated).
pub(crate) fn age_days(created: Option<&str>, now: SystemTime) -> Option<u64> {
    let t = discovery::parse_time(created?)?;
    now.duration_since(t).ok().map(|d| d.as_secs() / 86_400)
}

/// Looks at the account.
///
/// # Errors
/// [`Error::UnknownRegions`] / [`Error::UnknownGroups`] before any request that is not needed
/// to check them; errors reading the account as a whole (groups, clusters, keys).
pub async fn status(session: &Session, opts: &Options, reporter: &dyn Reporter) -> Result<StatusReport> {
    Ok(status_and_facts(session, opts, reporter).await?.0)
}

/// [`status`], with the facts each target's status was judged from (in the same order), for
/// the commands that act on them (a batch reset plans each target from its facts).
///
/// # Errors
/// As [`status`].
pub async fn status_and_facts(
    session: &Session,
    opts: &Options,
    reporter: &dyn Reporter,
) -> Result<(StatusReport, Vec<discovery::TargetFacts>)> {
    let regions = opts.regions.clone();
    let caller = session.caller().await?;
    // The groups, and the clusters that the owner lookups need. A `-g` filter is checked
    // against the groups before anything else is read; without one, both are read together.
    let rm = session.resource_manager();
    let (all_groups, clusters) = if opts.groups.is_empty() {
        let (g, c) = tokio::join!(rm.list(&caller.account), discovery::clusters(session));
        (g?, c)
    } else {
        let g = rm.list(&caller.account).await?;
        discovery::groups(&opts.groups, &g)?;
        (g, discovery::clusters(session).await)
    };
    let scope = Scope { regions, groups: discovery::groups(&opts.groups, &all_groups)? };
    let clusters = clusters?;
    let to_ask = discovery::cluster_targets(&clusters, &scope);
    reporter.targets(to_ask.len());

    // The key pages and one owner lookup per target with clusters, in parallel, in the pool.
    let owner_lookups = stream::iter(to_ask.iter())
        .map(|((region, group), cluster)| async move {
            let region = crate::types::Region::new(region.clone());
            let group = crate::types::ResourceGroupId::new(group.clone());
            let r = match session.containers(Some(&region)) {
                Ok(api) => api.key_owner(&cluster.id, Some(&group)).await,
                Err(e) => Err(e),
            };
            reporter.checked(&Target {
                region: region.clone(),
                resource_group: crate::types::ResourceGroup { id: group.clone(), name: String::new(), default: false },
            });
            ((region.to_string(), group.to_string()), r)
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect::<BTreeMap<(String, String), std::result::Result<KeyOwner, Error>>>();
    // Classic infrastructure credentials win over the key for classic clusters: one read per
    // target that has some, alongside.
    let classic_targets: Vec<(String, String)> = to_ask
        .keys()
        .filter(|(region, group)| {
            clusters.iter().any(|c| c.provider == "classic" && &c.region == region && &c.resource_group == group)
        })
        .cloned()
        .collect();
    let classic_lookups = stream::iter(classic_targets)
        .map(|(region, group)| async move {
            let r = match session.containers(Some(&crate::types::Region::new(region.clone()))) {
                Ok(api) => api.classic_credentials(Some(&crate::types::ResourceGroupId::new(group.clone()))).await,
                Err(e) => Err(e),
            };
            ((region, group), r)
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect::<BTreeMap<(String, String), Result<ClassicCredentials>>>();
    let (keys, mut owners, classic) = tokio::join!(discovery::keys(session, &caller), owner_lookups, classic_lookups);
    let (keys, key_scope) = keys?;
    let account = discovery::Account { groups: all_groups, clusters, keys, key_scope };
    let found = account.targets(&scope);
    // `None`: no cluster to ask (the owner then comes from the key).
    let owners: Vec<Option<std::result::Result<KeyOwner, Error>>> = found
        .iter()
        .map(|f| owners.remove(&(f.target.region.to_string(), f.target.resource_group.id.to_string())))
        .collect();

    // One membership lookup per distinct user that owns a key; one IAM Identity lookup per
    // distinct service ID.
    let mut owner_ids: Vec<IamId> = Vec::new();
    let mut service_ids: Vec<IamId> = Vec::new();
    for (f, o) in found.iter().zip(&owners) {
        let id = match o {
            Some(Ok(o)) => o.iam_id.clone(),
            _ => f.current.as_ref().map(|k| k.iam_id.clone()),
        };
        match id.as_ref().map(|i| (IdentityKind::from_iam_id(i.as_str()), i)) {
            Some((Some(IdentityKind::User), i)) if !owner_ids.contains(i) => owner_ids.push(i.clone()),
            Some((Some(IdentityKind::ServiceId), i)) if !service_ids.contains(i) => service_ids.push(i.clone()),
            _ => {}
        }
    }
    let account_id = &caller.account;
    // What each owner of clusters' key may do: one policy read per distinct owner, alongside
    // the membership lookups (both need only the owners).
    let mut key_owners: Vec<IamId> = Vec::new();
    for o in owners.iter().flatten().flatten() {
        if let Some(id) = &o.iam_id
            && !key_owners.contains(id)
        {
            key_owners.push(id.clone());
        }
    }
    let caller_id = caller.iam_id.clone();
    let quota_ids: Vec<IamId> = owner_ids.iter().chain(&service_ids).cloned().collect();
    let memberships = stream::iter(owner_ids)
        .map(|id| async move {
            let m = session.user_management().membership(account_id, &id).await;
            (id, m)
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect::<BTreeMap<IamId, std::result::Result<Membership, Error>>>();
    let owner_policies = stream::iter(key_owners)
        .map(|id| {
            let caller_id = caller_id.clone();
            async move {
                let p = super::check::read_policies(session, account_id, &id, caller_id.as_ref()).await;
                (id, p)
            }
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect::<BTreeMap<IamId, super::check::Policies>>();
    // IAM's per-identity API key limit, for every owner of a current key.
    let quotas = stream::iter(quota_ids)
        .map(|id| async move {
            let q = session.iam_identity().api_key_quota(account_id, &id).await;
            (id, q)
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect::<BTreeMap<IamId, Result<(u64, u64)>>>();
    let standings = stream::iter(service_ids)
        .map(|id| async move {
            let s = service_id_standing(session, &id).await;
            (id, s)
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect::<Vec<_>>();
    // The classic credentials' owners depend only on the credentials: looked up alongside, not
    // after (one round trip less).
    let classic_owners = classic_owner_states(session, account_id, caller_id.as_ref(), &classic, opts.concurrency);
    let (mut memberships, owner_policies, standings, quotas, classic_owners) =
        tokio::join!(memberships, owner_policies, standings, quotas, classic_owners);
    memberships.extend(standings);

    let now = SystemTime::now();
    let mut targets = Vec::with_capacity(found.len());
    let mut facts = Vec::with_capacity(found.len());
    for (f, o) in found.into_iter().zip(owners) {
        facts.push(target_facts(&f, o.as_ref(), &memberships, &account.key_scope));
        // What the owner lacks, or why that cannot be told (their policies are not readable
        // by the caller): never "lacks nothing" for what could not be read.
        let lacks: Option<std::result::Result<Vec<String>, String>> = match (&o, f.clusters.is_empty()) {
            (Some(Ok(owner)), false) => owner.iam_id.as_ref().map(|id| {
                let vpc = f.clusters.iter().any(|c| c.provider.starts_with("vpc"));
                let kind = IdentityKind::from_iam_id(id.as_str());
                match owner_policies.get(id) {
                    Some(p) => super::check::owner_lacks(p, &f.target, vpc, kind).ok_or_else(|| {
                        p.unknown.clone().unwrap_or_else(|| String::from("their policies could not be read"))
                    }),
                    None => Err(String::from("their policies were not read")),
                }
            }),
            _ => None,
        };
        let key = (f.target.region.to_string(), f.target.resource_group.id.to_string());
        let classic_status = classic.get(&key).map(|c| classic_status(c, &classic_owners));
        let mut t = judge(f, o, &memberships, &account.key_scope, opts, now);
        if let Some(c) = classic_status {
            t.findings.extend(c.findings());
            t.findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
            t.classic_credentials = Some(c);
        }
        let who = t.owner.as_ref().map(|o| o.name.clone()).unwrap_or_default();
        match lacks {
            Some(Ok(lacks)) if !lacks.is_empty() => {
                t.findings.push(Finding::new(Code::OwnerLacksRoles, format!("{who} lacks {}", lacks.join(", "))));
            }
            Some(Err(why)) => {
                t.findings.push(Finding::new(
                    Code::OwnerRolesUnknown,
                    format!(
                        "the roles of {who} could not be read ({why}): whether they lack what the clusters need is unknown"
                    ),
                ));
                t.not_checked(&[Code::OwnerLacksRoles], format!("the roles of {who} could not be read ({why})"));
            }
            _ => {}
        }
        t.findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        targets.push(t);
    }

    // A status of some targets cannot say what an account-wide prune would remove.
    near_key_limit(&mut targets, &quotas, !opts.regions.is_empty() || !opts.groups.is_empty());

    let mut notes = Vec::new();
    if let KeyScope::CallerOnly(why) = &account.key_scope {
        notes.push(format!("Only your own keys could be listed ({why}): keys of other owners are not shown."));
    }
    notes.extend(unread_notes(&mut targets, &quotas, &account.key_scope));
    let unattributed = account.unattributed();
    if !unattributed.is_empty() {
        notes.push(format!(
            "{} name{} no known region and resource group: {}.",
            match unattributed.len() {
                1 => String::from("1 containers-kubernetes-key key"),
                n => format!("{n} containers-kubernetes-key keys"),
            },
            if unattributed.len() == 1 { "s" } else { "" },
            unattributed.iter().map(|k| k.id.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    let mut report = StatusReport {
        account: caller.account.clone(),
        caller,
        targets,
        summary: Summary::default(),
        notes,
        policy: None,
        unseen_targets: match &account.key_scope {
            KeyScope::CallerOnly(why) => Some(format!(
                "only your own keys could be listed ({why}), and a region and resource group without clusters shows only through its key"
            )),
            KeyScope::Account => None,
        },
    };
    report.recount();
    Ok((report, facts))
}

/// What each target's status could not judge for lack of a read that is not already a finding
/// (the key limit, classic credentials, other owners' keys), recorded on the target; and the
/// notes that say so in the report, once per cause.
fn unread_notes(
    targets: &mut [TargetStatus],
    quotas: &BTreeMap<IamId, Result<(u64, u64)>>,
    scope: &KeyScope,
) -> Vec<String> {
    let mut notes = Vec::new();
    let mut limits_unread: Vec<String> = Vec::new();
    for t in targets.iter_mut() {
        let place = format!("{} / {}", t.region, t.resource_group_name);
        if let Some(o) = &t.owner
            && let Some(id) = &o.iam_id
            && let Some(Err(e)) = quotas.get(id)
        {
            let who = if o.name.is_empty() { id.to_string() } else { o.name.clone() };
            let line = format!("the API key limit of {who} could not be read ({})", clause(&e.to_string()));
            t.not_checked(&[Code::OwnerNearKeyLimit], line.clone());
            if !limits_unread.contains(&line) {
                limits_unread.push(line);
            }
        }
        if let Some(c) = &t.classic_credentials {
            if let Some(why) = &c.unknown_reason {
                let line = format!("the classic infrastructure credentials could not be read ({why})");
                t.not_checked(&[Code::ClassicCredentialsSet, Code::ClassicCredentialsOwnerGone], line.clone());
                notes.push(format!("{place}: {line}: whether they are set, and whose they are, is unknown."));
            } else if let Some(OwnerState::Unknown { reason }) = &c.owner_state {
                t.not_checked(
                    &[Code::ClassicCredentialsOwnerGone],
                    format!("the state of the classic infrastructure credentials' owner is unknown: {reason}"),
                );
            }
        }
        if let KeyScope::CallerOnly(why) = scope {
            // Other owners' older keys are never listed; without a visible current key, nothing
            // about the key could be judged.
            let codes: &[Code] = if t.key.is_none() {
                &[Code::KeyTooOld, Code::KeyLocked, Code::KeyDisabled, Code::OrphanKey, Code::SupersededKeys]
            } else {
                &[Code::SupersededKeys]
            };
            t.not_checked(codes, format!("only your own keys could be listed ({why})"));
        }
        let unknown_owner = match &t.owner {
            Some(o) => match &o.state {
                OwnerState::Unknown { reason } => Some(reason.clone()),
                _ => None,
            },
            None => t.owner_unknown_reason.clone(),
        };
        if let Some(why) = unknown_owner {
            let mut codes = vec![Code::OwnerNotInAccount, Code::OwnerInactive];
            if t.owner.is_none() {
                codes.extend([Code::NoKey, Code::PersonalOwner, Code::OwnerLacksRoles, Code::OwnerNearKeyLimit]);
            }
            t.not_checked(&codes, format!("the owner or their state is unknown: {why}"));
        }
    }
    for line in limits_unread {
        notes.push(format!("{}: owner-near-key-limit was not checked for them.", upper_first(&line)));
    }
    notes
}

/// `text` with its first letter in upper case (a clause made a sentence).
fn upper_first(text: &str) -> String {
    let mut c = text.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

/// `owner-near-key-limit` on every target whose key's owner holds at least 80% of IAM's
/// per-identity limit, with the superseded keys of that owner that `prune` would remove (those
/// of the targets in the report, not the ones whose use is in doubt).
fn near_key_limit(targets: &mut [TargetStatus], quotas: &BTreeMap<IamId, Result<(u64, u64)>>, partial: bool) {
    let prunable = |id: &IamId, targets: &[TargetStatus]| -> Vec<String> {
        targets
            .iter()
            .filter(|t| !t.clusters.is_empty())
            .flat_map(|t| {
                let unsure: Vec<&ApiKeyId> = t.key_in_use_unknown.iter().flat_map(|u| &u.keys).collect();
                t.superseded_keys
                    .iter()
                    .filter(move |k| &k.iam_id == id && !unsure.contains(&&k.id))
                    .map(|k| k.id.to_string())
            })
            .collect()
    };
    let mut found = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let Some(id) = t.owner.as_ref().and_then(|o| o.iam_id.as_ref()) else { continue };
        let Some(Ok((limit, count))) = quotas.get(id) else { continue };
        if *limit == 0 || count * 5 < limit * 4 {
            continue;
        }
        let who = t.owner.as_ref().map(|o| if o.name.is_empty() { id.to_string() } else { o.name.clone() });
        let keys = prunable(id, targets);
        let prune = match (keys.len(), partial) {
            (0, false) => String::from("prune would remove none of them"),
            (n, false) => format!("prune would remove {n}: {}", keys.join(", ")),
            (0, true) => {
                String::from("in the targets shown, prune would remove none of them (other targets were not read)")
            }
            (n, true) => {
                format!(
                    "in the targets shown, prune would remove {n}: {} (other targets were not read)",
                    keys.join(", ")
                )
            }
        };
        found.push((
            i,
            Finding::new(
                Code::OwnerNearKeyLimit,
                format!(
                    "{} holds {count} of the {limit} API keys IAM allows an identity: at {limit}, a reset or a cluster creation as that identity fails (BXNIM0151E, A03e9b); {prune}",
                    who.unwrap_or_default()
                ),
            ),
        ));
    }
    for (i, f) in found {
        targets[i].findings.push(f);
        targets[i].findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    }
}

/// A user's standing, from what User Management answered about them.
fn user_state(m: &std::result::Result<Membership, Error>) -> OwnerState {
    match m {
        Ok(Membership::Member { state, .. }) => OwnerState::Member { state: state.clone() },
        Ok(Membership::NotInAccount) => OwnerState::NotInAccount,
        Ok(Membership::Hidden(why)) => OwnerState::Unknown { reason: why.clone() },
        Err(e) => OwnerState::Unknown { reason: clause(&e.to_string()).to_owned() },
    }
}

/// What stands for a membership for a service ID's standing, in the one map `judge_owner` reads:
/// its state `LOCKED` or `ACTIVE`, its name; deleted (IAM answers 404) is "not in the account".
const LOCKED: &str = "LOCKED";

/// A service ID's standing, read from IAM Identity (`GET /v1/serviceids/{id}`), in the shape of a
/// membership so that one map serves both kinds of owner.
async fn service_id_standing(session: &Session, id: &IamId) -> std::result::Result<Membership, Error> {
    match session.iam_identity().service_id(id.as_str().trim_start_matches("iam-")).await {
        Ok(Some(s)) => Ok(Membership::Member {
            state: String::from(if s.locked { LOCKED } else { "ACTIVE" }),
            email: String::new(),
            name: s.name,
        }),
        Ok(None) => Ok(Membership::NotInAccount),
        Err(Error::Api(e)) if e.status == 403 => Ok(Membership::Hidden(String::from(
            "you cannot see the account's service IDs (a role on IAM Identity is needed)",
        ))),
        Err(e) => Err(e),
    }
}

/// The standing in the account of each classic infrastructure user that names an email: the
/// email is looked up in User Management, whose list carries the state. An email that matches
/// no user, or a caller who may not see users, gets `Unknown` with the reason, never a false
/// "not in the account".
async fn classic_owner_states(
    session: &Session,
    account: &AccountId,
    caller: Option<&IamId>,
    classic: &BTreeMap<(String, String), Result<ClassicCredentials>>,
    concurrency: usize,
) -> BTreeMap<String, OwnerState> {
    let mut emails: Vec<String> = classic
        .values()
        .filter_map(|c| match c {
            Ok(ClassicCredentials::Set { username: Some(u) }) => ClassicCredentials::email_of(u),
            _ => None,
        })
        .collect();
    emails.sort();
    emails.dedup();
    stream::iter(emails)
        .map(|email| async move {
            let users = session.user_management();
            let state = match users.find_by_email(account, &email, caller).await {
                // No user of the account has this email: the infrastructure user may have left,
                // or be linked to a user whose IBMid email differs (`+infra` aliases, an old
                // address). Either is possible, so the state is unknown, never "removed".
                Ok(ByEmail::Absent) => OwnerState::Unknown {
                    reason: format!(
                        "no user of the account has the email {email}: the user may have left, or their IBMid email may differ from the infrastructure user name"
                    ),
                },
                Ok(ByEmail::Unseen(why)) => OwnerState::Unknown { reason: why },
                // The list entry carries the state: no second lookup.
                Ok(ByEmail::Found(_, state)) => OwnerState::Member { state },
                // Which of them the infrastructure user is cannot be told from the email.
                Ok(ByEmail::Shared(ids)) => OwnerState::Unknown {
                    reason: format!(
                        "{} users of the account have this email ({}): which one it is cannot be told",
                        ids.len(),
                        ids.iter().map(IamId::as_str).collect::<Vec<_>>().join(", ")
                    ),
                },
                Err(Error::Api(e)) if e.status == 403 => OwnerState::Unknown {
                    reason: String::from("you cannot see the users of the account (a User Management role is needed)"),
                },
                Err(e) => OwnerState::Unknown { reason: clause(&e.to_string()).to_owned() },
            };
            (email, state)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// One target's classic credentials, read and judged as `status` does for every target with
/// classic clusters (for `info` and a single reset, which have no status report to take them
/// from).
pub async fn classic_credentials(session: &Session, target: &Target) -> ClassicStatus {
    let read = match session.containers(Some(&target.region)) {
        Ok(api) => api.classic_credentials(Some(&target.resource_group.id)).await,
        Err(e) => Err(e),
    };
    let key = (target.region.to_string(), target.resource_group.id.to_string());
    let reads = BTreeMap::from([(key.clone(), read)]);
    let owners = match session.caller().await {
        Ok(c) => classic_owner_states(session, &c.account, c.iam_id.as_ref(), &reads, 1).await,
        Err(_) => BTreeMap::new(),
    };
    classic_status(&reads[&key], &owners)
}

/// A target's classic credentials as reported: set or not, whose, and that user's standing.
fn classic_status(read: &Result<ClassicCredentials>, owners: &BTreeMap<String, OwnerState>) -> ClassicStatus {
    match read {
        Ok(ClassicCredentials::None) => ClassicStatus {
            set: Some(false),
            username: None,
            owner_email: None,
            owner_state: None,
            unknown_reason: None,
        },
        Ok(ClassicCredentials::Set { username }) => {
            let email = username.as_deref().and_then(ClassicCredentials::email_of);
            let state = match (&email, username) {
                (Some(e), _) => owners.get(e).cloned(),
                (None, Some(u)) => Some(OwnerState::Unknown {
                    reason: format!("the infrastructure user name '{u}' names no email to match to an account user"),
                }),
                (None, None) => {
                    Some(OwnerState::Unknown { reason: String::from("the answer names no infrastructure user") })
                }
            };
            ClassicStatus {
                set: Some(true),
                username: username.clone(),
                owner_email: email,
                owner_state: state,
                unknown_reason: None,
            }
        }
        Err(e) => ClassicStatus {
            set: None,
            username: None,
            owner_email: None,
            owner_state: None,
            unknown_reason: Some(clause(&e.to_string()).to_owned()),
        },
    }
}

/// What was read about one target, as the facts a reset plans from (the same shape a single
/// reset reads for itself).
fn target_facts(
    f: &Found,
    owner: Option<&std::result::Result<KeyOwner, Error>>,
    memberships: &BTreeMap<IamId, std::result::Result<Membership, Error>>,
    scope: &KeyScope,
) -> discovery::TargetFacts {
    use crate::types::Known;
    let owner_known = match owner {
        Some(Ok(o)) => Known::Known(o.clone()),
        Some(Err(e)) => Known::Unknown(clause(&e.to_string()).to_owned()),
        None => Known::Unknown(String::from("no clusters in this region and resource group")),
    };
    let replicating = matches!(owner, Some(Err(Error::Api(a))) if a.code.as_deref() == Some("A0055"));
    let key_gone = matches!(owner, Some(Err(Error::Api(a))) if a.status == 404 && a.code.as_deref() == Some("E0051"));
    let membership = match owner_known.known().and_then(|o| o.iam_id.as_ref()) {
        Some(id) => match memberships.get(id) {
            Some(Ok(m)) => Known::Known(m.clone()),
            Some(Err(e)) => Known::Unknown(clause(&e.to_string()).to_owned()),
            None => Known::Unknown(String::from("the owner is not a user of the account")),
        },
        None => Known::Unknown(String::from("the owner is not known")),
    };
    let mut keys = f.superseded.clone();
    keys.extend(f.current.clone());
    discovery::TargetFacts {
        target: f.target.clone(),
        clusters: Known::Known(f.clusters.clone()),
        keys,
        key_scope: scope.clone(),
        owner: owner_known,
        replicating,
        membership,
        key_gone,
    }
}

/// What the clusters' owner lookup said, read once for the three parts of the judgement.
struct Lookup {
    /// The owner the clusters report.
    reported: Option<KeyOwner>,
    /// Why it could not be read (not when there was no cluster to ask).
    error: Option<Error>,
    /// The containers API said "no credentials" (E0051): the target's key is gone.
    key_gone: bool,
}

impl Lookup {
    fn new(owner: Option<std::result::Result<KeyOwner, Error>>) -> Self {
        let (reported, error) = match owner {
            Some(Ok(o)) => (Some(o), None),
            Some(Err(e)) => (None, Some(e)),
            None => (None, None),
        };
        let key_gone = error
            .as_ref()
            .is_some_and(|e| matches!(e, Error::Api(a) if a.status == 404 && a.code.as_deref() == Some("E0051")));
        Self { reported, error, key_gone }
    }
}

/// The target's keys as judged: the one in use, the superseded ones, and any doubt.
struct Keys {
    current: Option<ApiKey>,
    key: Option<KeyInfo>,
    superseded: Vec<OldKey>,
    unsure: Option<discovery::Unsure>,
}

/// Part one: which key the clusters use ([`discovery::key_in_use`], the one place that decides)
/// and when each other key was superseded (the creation of the next newer key of the target).
fn judge_keys(keys: Vec<ApiKey>, lookup: &Lookup, has_clusters: bool, now: SystemTime) -> Keys {
    let owner_read = lookup.reported.is_some() || !has_clusters;
    let owner = lookup.reported.as_ref().and_then(|o| o.iam_id.as_ref());
    let in_use = discovery::key_in_use(keys, owner, owner_read, now);
    let times: Vec<SystemTime> = in_use.others.iter().chain(&in_use.current).filter_map(discovery::created).collect();
    let superseded_at = |k: &ApiKey| -> Option<String> {
        let mine = discovery::created(k)?;
        let next = times.iter().filter(|t| **t > mine).min()?;
        Some(humantime::format_rfc3339_seconds(*next).to_string())
    };
    let key = in_use.current.as_ref().map(|k| KeyInfo {
        id: k.id.clone(),
        created: k.created_at.clone(),
        age_days: age_days(k.created_at.as_deref(), now),
        locked: k.locked,
        disabled: k.disabled,
        last_used: k.activity.as_ref().and_then(|a| a.last_authn.clone()),
        iam_id: k.iam_id.clone(),
    });
    let superseded = in_use
        .others
        .iter()
        .map(|k| OldKey {
            id: k.id.clone(),
            created: k.created_at.clone(),
            superseded_at: superseded_at(k),
            locked: k.locked,
            disabled: k.disabled,
            iam_id: k.iam_id.clone(),
        })
        .collect();
    Keys { current: in_use.current, key, superseded, unsure: in_use.unsure }
}

/// Part two: who owns the key (the owner the clusters report, else the current key's) and their
/// standing in the account; else why no owner is known.
fn judge_owner(
    lookup: &Lookup,
    current: Option<&ApiKey>,
    memberships: &BTreeMap<IamId, std::result::Result<Membership, Error>>,
    has_clusters: bool,
) -> (Option<Owner>, Option<String>) {
    let reported = lookup.reported.as_ref();
    let owner_id = reported.and_then(|o| o.iam_id.clone()).or_else(|| current.map(|k| k.iam_id.clone()));
    let state = owner_id.as_ref().map(|id| match IdentityKind::from_iam_id(id.as_str()) {
        // A service ID's standing comes from IAM Identity (see `service_id_standing`): deleted
        // (its keys with it) or existing, locked or not; never from User Management.
        Some(IdentityKind::ServiceId) => match memberships.get(id) {
            Some(Ok(Membership::Member { state, .. })) => OwnerState::ServiceId { locked: state == LOCKED },
            Some(Ok(Membership::NotInAccount)) => OwnerState::NotInAccount,
            Some(Ok(Membership::Hidden(why))) => OwnerState::Unknown { reason: why.clone() },
            Some(Err(e)) => OwnerState::Unknown { reason: clause(&e.to_string()).to_owned() },
            None => OwnerState::Unknown { reason: String::from("the service ID was not looked up") },
        },
        // IAM lets only users and service IDs hold API keys (IBM: "If you are applying a
        // trusted profile, you can't create a user API key"): a key that names a profile is
        // not something to judge, and User Management, which knows only users, is not asked.
        Some(IdentityKind::TrustedProfile) => OwnerState::Unknown {
            reason: String::from(
                "a trusted profile, which IAM does not let own an API key; how the key came to name it is not known",
            ),
        },
        _ => match memberships.get(id) {
            Some(m) => user_state(m),
            None => OwnerState::Unknown { reason: String::from("not a user of the account") },
        },
    });
    let (name_from_users, email_from_users) = match owner_id.as_ref().and_then(|id| memberships.get(id)) {
        Some(Ok(Membership::Member { email, name, .. })) => (Some(name.clone()), Some(email.clone())),
        _ => (None, None),
    };
    let owner = match (reported, owner_id, state) {
        (_, Some(id), Some(state)) => Some(Owner {
            name: reported.map(|o| o.name.clone()).filter(|n| !n.is_empty()).or(name_from_users).unwrap_or_default(),
            email: reported
                .map(|o| o.email.clone())
                .filter(|e| !e.is_empty())
                .or_else(|| email_from_users.clone())
                .unwrap_or_default(),
            kind: IdentityKind::from_iam_id(id.as_str()),
            account_email: email_from_users.clone().filter(|e| !e.trim().is_empty()),
            iam_id: Some(id),
            state,
        }),
        (Some(o), None, _) => Some(Owner {
            name: o.name.clone(),
            email: o.email.clone(),
            iam_id: None,
            kind: None,
            state: OwnerState::Unknown { reason: String::from("the owner's IAM ID is not reported") },
            account_email: None,
        }),
        _ => None,
    };
    let unknown_reason = match (&owner, &lookup.error) {
        (None, Some(e)) if !lookup.key_gone => Some(clause(&e.to_string()).to_owned()),
        (None, _) if has_clusters && !lookup.key_gone => Some(String::from("no key is visible for this target")),
        _ => None,
    };
    (owner, unknown_reason)
}

/// The functional ID that a user owner may be but could not be confirmed to be: named by the
/// email the clusters report for the owner, while the account's record of the user (the only
/// email that counts) could not be read.
fn unconfirmed_functional<'a>(o: &Owner, functional_ids: &'a [String]) -> Option<&'a String> {
    if o.kind != Some(IdentityKind::User) || functional_ids.iter().any(|f| crate::policy::owner_is(o, f)) {
        return None;
    }
    functional_ids.iter().find(|f| crate::policy::owner_unverified(o, f))
}

/// Part three: what is wrong, most severe first.
fn judge_findings(
    t: &TargetStatus,
    lookup: &Lookup,
    current_visible: bool,
    scope: &KeyScope,
    opts: &Options,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let has_clusters = !t.clusters.is_empty();
    let no_visible_key = !current_visible && matches!(scope, KeyScope::Account);
    if has_clusters && (lookup.key_gone || (no_visible_key && lookup.reported.is_none())) {
        findings.push(Finding::new(
            Code::NoKey,
            match t.clusters.len() {
                1 => String::from("1 cluster and no API key: it cannot order infrastructure"),
                n => format!("{n} clusters and no API key: they cannot order infrastructure"),
            },
        ));
    }
    if let Some(o) = &t.owner {
        let who = if o.name.is_empty() {
            o.iam_id.as_ref().map(ToString::to_string).unwrap_or_default()
        } else {
            o.name.clone()
        };
        match &o.state {
            OwnerState::NotInAccount if o.kind == Some(IdentityKind::ServiceId) => findings.push(Finding::new(
                Code::OwnerNotInAccount,
                format!("the service ID {who} no longer exists; IAM deleted its API keys with it"),
            )),
            OwnerState::NotInAccount => findings.push(Finding::new(
                Code::OwnerNotInAccount,
                format!("{who} is no longer in the account; IBM deletes a removed user's API keys"),
            )),
            OwnerState::Member { state } if state != "ACTIVE" => {
                findings.push(Finding::new(
                    Code::OwnerInactive,
                    format!("{who} is {state} in the account{}", crate::api::user_management::state_clause(state)),
                ));
            }
            OwnerState::Unknown { reason } => {
                findings.push(Finding::new(Code::OwnerUnknown, format!("the state of {who} is unknown: {reason}")));
            }
            _ => {}
        }
        // A functional ID is recognised by IAM ID or by the email the account has on record
        // for the user, never by a display name (anyone can call themselves anything).
        if o.kind == Some(IdentityKind::User)
            && o.iam_id.is_some()
            && !opts.functional_ids.iter().any(|f| crate::policy::owner_is(o, f))
        {
            if let Some(f) = unconfirmed_functional(o, &opts.functional_ids) {
                let why = match &o.state {
                    OwnerState::Unknown { reason } => reason.clone(),
                    _ => String::from("the account's record of this user could not be read"),
                };
                // One owner-unknown finding per owner: when their state is unknown already,
                // this is said in the same finding.
                let unconfirmed = format!(
                    "whether {who} is the functional ID {f} is unknown: the reported email matches, but the account's record of the user could not be read to confirm it"
                );
                match findings.iter_mut().find(|x| x.code == Code::OwnerUnknown) {
                    Some(x) => x.detail.push_str(&format!("; {unconfirmed}")),
                    None => findings.push(Finding::new(Code::OwnerUnknown, format!("{unconfirmed} ({why})"))),
                }
            } else {
                findings.push(Finding::new(
                    Code::PersonalOwner,
                    format!(
                        "{who} is taken for a person: a user that neither --functional-id nor the policy's functional_ids names (by IAM ID, or by the email the account has on record)"
                    ),
                ));
            }
        }
        // The clusters could not say who owns their key: the newest key's owner is shown, an
        // inference worth a warning.
        if lookup.reported.is_none()
            && has_clusters
            && let Some(e) = lookup.error.as_ref().filter(|_| !lookup.key_gone)
        {
            findings.push(Finding::new(
                Code::OwnerUnknown,
                format!(
                    "the clusters' key owner could not be read ({}); the newest key's owner is shown",
                    clause(&e.to_string())
                ),
            ));
        }
    } else if let Some(why) = &t.owner_unknown_reason {
        findings.push(Finding::new(Code::OwnerUnknown, format!("the owner could not be read: {why}")));
    }
    if let Some(k) = &t.key {
        let max_days = opts.max_age.as_secs() / 86_400;
        if k.age_days.is_some_and(|d| d > max_days) {
            findings.push(Finding::new(
                Code::KeyTooOld,
                format!("the key is {} days old (more than {max_days})", k.age_days.unwrap_or_default()),
            ));
        }
        if k.locked {
            findings.push(Finding::new(Code::KeyLocked, format!("key {} is locked", k.id)));
        }
        if k.disabled {
            findings
                .push(Finding::new(Code::KeyDisabled, format!("key {} is disabled: the clusters cannot use it", k.id)));
        }
    }
    if !t.superseded_keys.is_empty() {
        let n = t.superseded_keys.len();
        let mut detail = format!("{n} older key{} still present", if n == 1 { "" } else { "s" });
        if let Some(u) = &t.key_in_use_unknown {
            let ids: Vec<&str> = u.keys.iter().map(ApiKeyId::as_str).collect();
            detail.push_str(&format!("; {} ({})", u.reason, ids.join(", ")));
        }
        findings.push(Finding::new(Code::SupersededKeys, detail));
    }
    if !has_clusters && t.key.is_some() {
        findings.push(Finding::new(Code::OrphanKey, "a key for a region and resource group with no clusters"));
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    findings
}

/// Turns what was read about one target into its status: the key in use, the owner, then the
/// findings ([`judge_keys`], [`judge_owner`], [`judge_findings`]).
fn judge(
    f: Found,
    owner: Option<std::result::Result<KeyOwner, Error>>,
    memberships: &BTreeMap<IamId, std::result::Result<Membership, Error>>,
    scope: &KeyScope,
    opts: &Options,
    now: SystemTime,
) -> TargetStatus {
    let has_clusters = !f.clusters.is_empty();
    let lookup = Lookup::new(owner);
    let mut all = f.superseded;
    all.extend(f.current);
    let keys = judge_keys(all, &lookup, has_clusters, now);
    let (owner, owner_unknown_reason) = judge_owner(&lookup, keys.current.as_ref(), memberships, has_clusters);
    let mut t = TargetStatus {
        target: f.target.clone(),
        region: f.target.region.to_string(),
        resource_group_id: f.target.resource_group.id.to_string(),
        resource_group_name: f.target.resource_group.name.clone(),
        clusters: f
            .clusters
            .iter()
            .map(|c| ClusterBrief {
                name: c.name.clone(),
                id: c.id.clone(),
                provider: c.provider.clone(),
                state: c.state.clone(),
                trusted_profile_id: c.trusted_profile_id.clone(),
            })
            .collect(),
        key: keys.key,
        owner,
        owner_unknown_reason,
        superseded_keys: keys.superseded,
        key_in_use_unknown: keys.unsure,
        classic_credentials: None,
        findings: Vec::new(),
        unchecked: Vec::new(),
    };
    t.findings = judge_findings(&t, &lookup, keys.current.is_some(), scope, opts);
    if let Some(o) = &t.owner
        && let Some(f) = unconfirmed_functional(o, &opts.functional_ids)
    {
        let reason = format!("whether the owner is the functional ID {f} could not be confirmed");
        t.not_checked(&[Code::PersonalOwner], reason);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_are_stable() {
        assert_eq!(Code::NoKey.severity(), Severity::Critical);
        assert_eq!(Code::OwnerUnknown.severity(), Severity::Warning);
        assert_eq!(Code::OrphanKey.severity(), Severity::Info);
        assert!(Severity::Critical > Severity::Warning && Severity::Warning > Severity::Info);
        assert_eq!(serde_json::to_value(Code::OwnerNotInAccount).unwrap(), "owner-not-in-account");
    }

    #[test]
    fn key_age_in_days() {
        let now = humantime::parse_rfc3339("2026-11-29T00:00:00Z").unwrap();
        assert_eq!(age_days(Some("2026-11-19T00:00:00Z"), now), Some(10));
        assert_eq!(age_days(Some("2026-11-19T00:00:00.123Z"), now), Some(10));
        assert_eq!(age_days(Some("garbage"), now), None);
        assert_eq!(age_days(None, now), None);
    }
}
