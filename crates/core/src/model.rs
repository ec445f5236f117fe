//! The account model every command shares: targets, keys, owners and their standing, findings
//! with their codes and severities, and the report that holds them.
//!
//! `status` gathers and judges it ([`crate::ops::status`]); `prune`, `fleet`, `offboard`,
//! `info`, `check`, the policy file and the binary read it. It depends on no command, so that
//! commands depend on the model and never on one another.

use std::time::SystemTime;

use serde::Serialize;

use crate::ops::discovery;
use crate::ops::{Caller, Target};
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
    /// The key expires within [`EXPIRING_DAYS`] days.
    KeyExpiring,
    /// The key has expired: the clusters cannot use it (IBM's clusters report NHC009).
    KeyExpired,
    /// IAM disables or deletes the key if it finds it leaked: a leak becomes an outage.
    KeyLeakAction,
    /// The clusters themselves report a credential failure (a health issue such as `NHC009`,
    /// or a worker's message): the key, its owner or the classic infrastructure credentials.
    ClusterCredentialFailure,
    /// The account owner owns the key (CIS IBM Cloud Foundations 1.5: no API key is owned by
    /// the account owner).
    OwnerIsAccountOwner,
}

/// A key that expires within this many days is `key-expiring`.
pub(crate) const EXPIRING_DAYS: i64 = 30;

impl Code {
    /// Its severity.
    #[must_use]
    pub fn severity(self) -> Severity {
        match self {
            Self::NoKey
            | Self::OwnerNotInAccount
            | Self::OwnerInactive
            | Self::OwnerLacksRoles
            | Self::ClassicCredentialsOwnerGone
            | Self::KeyExpired
            | Self::ClusterCredentialFailure => Severity::Critical,
            Self::ClassicCredentialsSet
            | Self::OwnerNearKeyLimit
            | Self::OwnerUnknown
            | Self::OwnerRolesUnknown
            | Self::KeyTooOld
            | Self::PersonalOwner
            | Self::KeyLocked
            | Self::KeyDisabled
            | Self::AcceptanceExpired
            | Self::KeyExpiring
            | Self::OwnerIsAccountOwner => Severity::Warning,
            Self::SupersededKeys | Self::OrphanKey | Self::KeyLeakAction => Severity::Info,
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
            Self::KeyExpiring => "key-expiring",
            Self::KeyExpired => "key-expired",
            Self::KeyLeakAction => "key-leak-action",
            Self::ClusterCredentialFailure => "cluster-credential-failure",
            Self::OwnerIsAccountOwner => "owner-is-account-owner",
        }
    }

    /// Every code, for documentation, SARIF's rules and tests.
    pub const ALL: [Self; 21] = [
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
        Self::KeyExpiring,
        Self::KeyExpired,
        Self::KeyLeakAction,
        Self::ClusterCredentialFailure,
        Self::OwnerIsAccountOwner,
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
    /// The part of the detail that is about the user's settings, which the binary words (it
    /// knows their flags; the core names none). `detail` says it without them.
    #[serde(skip)]
    pub settings: Option<SettingsPart>,
    /// `cluster-credential-failure`: the credential IBM's message points at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points_at: Option<Culprit>,
}

/// The credential a cluster's credential failure points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Culprit {
    /// The target's API key itself (disabled, expired, deleted).
    Key,
    /// The user or service ID that owns the key (gone, inactive, lacking permission).
    KeyOwner,
    /// The classic infrastructure credentials that order the classic clusters' infrastructure
    /// (set by hand, or else the key owner's linked classic account).
    ClassicCredentials,
}

/// What a finding's detail says about the user's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingsPart {
    /// `personal-owner`: `who` is a user that no functional ID names, neither among those given
    /// for the run nor in the policy file.
    NoFunctionalIdNames {
        /// The owner, as the detail names them.
        who: String,
    },
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
        Self {
            code,
            severity: code.severity(),
            detail: detail.into(),
            accepted: false,
            acceptance: None,
            settings: None,
            points_at: None,
        }
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

impl Owner {
    /// Whether this owner is the one named: by IAM ID, or by the email the account has on record
    /// for that user (User Management's), any case. Never by display name, which a user sets to
    /// anything, and never by an email the account did not confirm: used for functional IDs
    /// (`personal-owner`, `--unless-owner functional`) and for an acceptance's `owner`.
    #[must_use]
    pub(crate) fn is(&self, named: &str) -> bool {
        let named = named.trim();
        self.iam_id.as_ref().is_some_and(|i| i.as_str().eq_ignore_ascii_case(named))
            || self.account_email.as_deref().is_some_and(|e| e.trim().eq_ignore_ascii_case(named))
    }

    /// Whether this owner may be the one named but it cannot be confirmed: the reported email
    /// matches while the account's record of the user could not be read.
    #[must_use]
    pub(crate) fn unverified(&self, named: &str) -> bool {
        let named = named.trim();
        self.account_email.is_none() && !self.email.is_empty() && self.email.trim().eq_ignore_ascii_case(named)
    }
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
    /// When it expires (RFC 3339, UTC); `null` when it never does or when that could not be
    /// read (`expiryUnknownReason` then says why).
    pub expires: Option<String>,
    /// Whole days until it expires, or since it expired (negative); `null` with `expires`.
    pub expires_in_days: Option<i64>,
    /// Whether it has expired (`expires` is past).
    pub expired: bool,
    /// Why its expiry could not be read, when it could not.
    pub expiry_unknown_reason: Option<String>,
    /// What IAM does to it when it finds it leaked (`none`, `disable`, `delete`); `null` when
    /// that could not be read (`actionWhenLeakedUnknownReason` then says why).
    pub action_when_leaked: Option<String>,
    /// Why its action when leaked could not be read, when it could not.
    pub action_when_leaked_unknown_reason: Option<String>,
}

impl KeyInfo {
    /// Its expiry and leak action read from `k` ([`crate::api::iam_identity::expiry`],
    /// [`crate::api::iam_identity::leak_action`]), `now` for the days left.
    pub(crate) fn life(&mut self, k: &crate::api::iam_identity::ApiKey, now: SystemTime) {
        use crate::api::iam_identity::{Expiry, expiry, leak_action};
        match expiry(k.expires_at.as_ref()) {
            Expiry::Never => {}
            Expiry::At(at, text) => {
                self.expires = Some(text);
                self.expires_in_days = Some(days_until(at, now));
                self.expired = at <= now;
            }
            Expiry::Unknown(why) => self.expiry_unknown_reason = Some(why),
        }
        let action = leak_action(k.action_when_leaked.as_ref());
        match action.as_str() {
            Some(a) => self.action_when_leaked = Some(a.to_owned()),
            None => {
                if let crate::api::iam_identity::LeakAction::Unknown(why) = action {
                    self.action_when_leaked_unknown_reason = Some(why);
                }
            }
        }
    }
}

/// Whole days from `now` until `at`, or since `at` (negative), rounded toward zero: 3 days and
/// an hour ago is -3.
pub(crate) fn days_until(at: SystemTime, now: SystemTime) -> i64 {
    match at.duration_since(now) {
        Ok(d) => i64::try_from(d.as_secs() / 86_400).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs() / 86_400).unwrap_or(i64::MAX),
    }
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
    /// Its status line, when the list carries one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// Its master's status (`Ready`, ...), when the list carries it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub master_status: String,
    /// Its master's health (`normal`, ...), when the list carries it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub master_health: String,
    /// What the cluster itself reported, when it was read (its list entry signals trouble, or
    /// `--read-clusters`); absent when it was not asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reports: Option<ClusterReports>,
}

/// What a cluster reports about itself: its health issues and its workers' messages, or why
/// they could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterReports {
    /// Its health issues, every one (`null` when they could not be read).
    pub health_issues: Option<Vec<ReportedIssue>>,
    /// Its workers that report a credential failure (`null` when the workers could not be
    /// read; empty when none does).
    pub worker_credential_messages: Option<Vec<WorkerMessage>>,
    /// How many more workers' credential messages there were than are listed (a cluster lists
    /// at most 100).
    #[serde(skip_serializing_if = "is_zero")]
    pub more_worker_messages: usize,
    /// What could not be read, and why: never taken for "fine".
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<String>,
}

#[allow(clippy::trivially_copy_pass_by_ref, reason = "serde's skip_serializing_if passes a reference")]
fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A health issue, as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportedIssue {
    /// `NHC009`, ...
    pub id: String,
    /// Severity as IBM spells it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub severity: String,
    /// IBM's description (escaped, bounded).
    pub description: String,
    /// The credential it points at, when it is a credential failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points_at: Option<Culprit>,
}

/// A worker's message that points at a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkerMessage {
    /// The worker's ID.
    pub worker: String,
    /// Its state.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub state: String,
    /// IBM's message (escaped, bounded).
    pub message: String,
    /// The credential it points at.
    pub points_at: Culprit,
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
    pub(crate) fn unchecked_reason(&self, code: Code) -> Option<&str> {
        self.unchecked.iter().find(|u| u.findings.contains(&code)).map(|u| u.reason.as_str())
    }

    /// The worst severity of its findings not accepted, if any.
    #[must_use]
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().filter(|f| !f.accepted).map(|f| f.severity).max()
    }

    /// The checks `status` makes here, as the finding codes they look for, in [`Code::ALL`]'s
    /// order: the one list of them (`status -o junit` makes a test case of each). A check that
    /// cannot apply is not made: `no-key` and the clusters' own reports need clusters,
    /// `orphan-key` a target without them; the key's checks need a key, the owner's an owner
    /// (or a key whose owner could not be read), the roles' and the key's life's clusters too;
    /// the classic credentials' need classic clusters; `acceptance-expired` a policy file
    /// (`policy`). Every code that was found or could not be judged here is listed, whatever
    /// the rules above say: a finding never goes missing from the list.
    #[must_use]
    pub fn checks(&self, policy: bool) -> Vec<Code> {
        let clusters = !self.clusters.is_empty();
        let key = self.key.is_some();
        let owner = key || self.owner.is_some() || self.owner_unknown_reason.is_some();
        Code::ALL
            .into_iter()
            .filter(|&code| {
                let applies = match code {
                    Code::NoKey | Code::ClusterCredentialFailure => clusters,
                    Code::OrphanKey => !clusters,
                    Code::OwnerNotInAccount
                    | Code::OwnerInactive
                    | Code::OwnerUnknown
                    | Code::PersonalOwner
                    | Code::OwnerNearKeyLimit
                    | Code::OwnerIsAccountOwner => owner,
                    Code::OwnerLacksRoles | Code::OwnerRolesUnknown => owner && clusters,
                    Code::KeyTooOld | Code::KeyLocked | Code::KeyDisabled => key,
                    Code::KeyExpiring | Code::KeyExpired | Code::KeyLeakAction => key && clusters,
                    Code::SupersededKeys => true,
                    Code::AcceptanceExpired => policy,
                    Code::ClassicCredentialsSet | Code::ClassicCredentialsOwnerGone => {
                        self.classic_credentials.is_some()
                    }
                };
                applies
                    || self.findings.iter().any(|f| f.code == code)
                    || self.unchecked.iter().any(|u| u.findings.contains(&code))
            })
            .collect()
    }

    /// Its region and resource group (the group as Resource Manager gives it).
    #[must_use]
    pub(crate) fn target(&self) -> Target {
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
    pub(crate) fn recount(&mut self) {
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

/// Whole days since an RFC 3339 time (fractions of a second and the `Z` tolerated).
pub(crate) fn age_days(created: Option<&str>, now: SystemTime) -> Option<u64> {
    let t = discovery::parse_time(created?)?;
    now.duration_since(t).ok().map(|d| d.as_secs() / 86_400)
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
