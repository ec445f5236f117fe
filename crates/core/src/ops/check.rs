//! `check`: may an identity reset the cluster API key of a target, and does it have what the
//! clusters need from the key's owner? Evaluated client-side from the identity's IAM policies
//! (direct and through access groups), the account's API-key settings and the identity's key
//! quota; IBM's authorization service for providers is not open to ordinary tokens.
//!
//! The policy model, as IBM documents it (IAM policy management, platform-services-go-sdk):
//! a policy grants roles (role CRNs ending in `role:NAME` or `serviceRole:NAME`) on resources
//! described by attributes. Empty attributes widen the scope: no `region` is every region, no
//! `resourceGroupId` every group; no `serviceName` is every service, narrowed by `serviceType`
//! (`service`: not the account-management services such as IAM Identity; `platform_service`:
//! only those). A policy on one `serviceInstance` (one cluster) does not cover a region-wide
//! action. `resourceType=resource-group` grants access to resource groups themselves.
//! All of this is decided in [`grants`] and nowhere else.
//!
//! INFERRED: `GET /v1/policies?iam_id=` returns only policies whose subject is that IAM ID, so
//! access-group policies are read per group. "Only policies the caller may read are returned":
//! an empty list for someone else is "unknown", never "missing".

use serde::Serialize;

use super::{Session, Target};
use crate::api::iam_access::Policy;
use crate::api::user_management::{ByEmail, Membership};
use crate::error::{Error, Result, clause};
use crate::types::{AccountId, IamId, IdentityKind, Region, ResourceGroup};

/// Services whose policies "all services" (`serviceType=service`) does not cover.
const ACCOUNT_MANAGEMENT: [&str; 5] =
    ["iam-identity", "iam-access-management", "iam-groups", "user-management", "billing"];

/// Platform roles (the rest are service roles).
const PLATFORM_ROLES: [&str; 4] = ["Administrator", "Operator", "Editor", "Viewer"];

/// The role CRN of a role name on a service.
#[must_use]
pub(crate) fn role_crn(service: Option<&str>, role: &str) -> String {
    if PLATFORM_ROLES.contains(&role) {
        format!("crn:v1:bluemix:public:iam::::role:{role}")
    } else {
        format!("crn:v1:bluemix:public:{}::::serviceRole:{role}", service.unwrap_or("iam"))
    }
}

/// What a requirement is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Purpose {
    /// Running the reset.
    Reset,
    /// Owning the key (what the clusters need from it).
    Own,
}

/// The access a missing requirement needs: roles on a service in a region and group, or on a
/// resource group itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    /// Role names.
    pub roles: Vec<String>,
    /// Service name, for service access.
    pub service: Option<String>,
    /// Region scope.
    pub region: Option<String>,
    /// Resource group scope (ID).
    pub resource_group_id: Option<String>,
    /// Resource group scope (name, for commands).
    pub resource_group_name: Option<String>,
    /// `resource-group` for access to a group itself.
    pub resource_type: Option<String>,
}

/// Where a requirement stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum State {
    /// Met, and by what (a policy ID, the quota figures).
    Met {
        /// What satisfies it.
        by: String,
    },
    /// Missing; what would satisfy it.
    Missing {
        /// What to do, when access would fix it.
        grant: Option<Grant>,
        /// Why, in words.
        detail: String,
        /// What else would satisfy it, when no grant does (the binary words it).
        #[serde(skip_serializing_if = "Option::is_none")]
        remedy: Option<Remedy>,
    },
    /// Could not be established.
    Unknown {
        /// Why.
        reason: String,
    },
    /// Cannot be read through IAM at all; how to check it by hand.
    NotCheckable {
        /// How (the binary words it, with the command to run).
        how: ByHand,
    },
}

/// What would satisfy a missing requirement that no grant satisfies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Remedy {
    /// Room under the identity's API key limit: remove obsolete keys (`prune`), split the batch
    /// across functional IDs, or ask IBM for a higher limit.
    MakeRoomForKeys,
}

/// How to check by hand what IAM cannot tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum ByHand {
    /// Classic infrastructure permissions are not in IAM: the containers service lists them for
    /// a region (`ks infra-permissions get`).
    ClassicInfraPermissions {
        /// The region to ask about.
        region: crate::types::Region,
    },
}

/// One requirement.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Requirement {
    /// Stable code.
    pub code: &'static str,
    /// Reset or own.
    pub purpose: Purpose,
    /// What is required, in words.
    pub what: String,
    /// Where it stands.
    #[serde(flatten)]
    pub state: State,
}

/// One target's requirements.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetCheck {
    /// Region and group.
    pub target: Target,
    /// The requirements.
    pub requirements: Vec<Requirement>,
}

/// The identity checked.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// IAM ID.
    pub iam_id: IamId,
    /// User, service ID, trusted profile.
    pub kind: Option<IdentityKind>,
    /// How it was named (email, ID).
    pub display: String,
    /// Whether it is the caller.
    pub is_caller: bool,
    /// Why its existence in the account could not be confirmed, when it could not (nothing is
    /// granted to it then).
    pub unverified: Option<String>,
    /// A user's state in the account when it is not `ACTIVE` (`PENDING`: invited, not yet
    /// accepted): such a user cannot log in, so cannot reset, whatever its policies.
    pub inactive_state: Option<String>,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    /// The account.
    pub account: AccountId,
    /// Who was checked.
    pub identity: Identity,
    /// Per target.
    pub targets: Vec<TargetCheck>,
}

impl CheckReport {
    /// Whether anything is missing.
    #[must_use]
    pub fn missing(&self) -> bool {
        self.targets.iter().flat_map(|t| &t.requirements).any(|r| matches!(r.state, State::Missing { .. }))
    }

    /// The requirements that could not be checked, as `region / group: what`.
    #[must_use]
    pub fn unknown(&self) -> Vec<String> {
        self.targets
            .iter()
            .flat_map(|t| {
                t.requirements
                    .iter()
                    .filter(|r| matches!(r.state, State::Unknown { .. }))
                    .map(move |r| format!("{} / {}: {}", t.target.region, t.target.resource_group.name, r.code))
            })
            .collect()
    }
}

/// Which identity to check.
#[derive(Debug, Clone)]
pub enum Subject {
    /// The caller.
    Caller,
    /// An IAM ID.
    IamId(String),
    /// A user, by email.
    User(String),
    /// A service ID (`ServiceId-...` or `iam-ServiceId-...`).
    ServiceId(String),
}

/// `text` with every character that is not printable ASCII written as `\u{...}`: how an
/// address that is not plain is shown, so that what looks like `a` but is not, an invisible
/// character, a direction override or a line break can be seen for what it is.
#[must_use]
pub(crate) fn escaped(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_graphic() { c.to_string() } else { format!("\\u{{{:04x}}}", u32::from(c)) })
        .collect()
}

/// What a character that has no place in a plain address is, in words.
fn what_char(c: char) -> &'static str {
    match c {
        '\n' | '\r' | '\u{2028}' | '\u{2029}' | '\u{85}' => "a line break",
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}' => {
            "a control that reorders the text around it"
        }
        '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{ad}' | '\u{34f}' | '\u{180e}' => {
            "an invisible character"
        }
        c if c.is_control() => "a control character",
        c if c.is_whitespace() => "a space",
        c if !c.is_ascii() => "a character outside ASCII, which can look like an ASCII one",
        _ => "a character an address cannot have",
    }
}

/// Whether `email` is a plain address: one `@` between a local part of ASCII letters, digits
/// and the punctuation RFC 5322 allows unquoted, and a domain of at least two dot-separated
/// labels of ASCII letters, digits and inner hyphens. Everything else is refused with why, the
/// address shown escaped ([`escaped`]): a look-alike (Cyrillic `а`, the Kelvin sign `K`), an
/// invisible or reordering character, or a line break would otherwise reach an invitation, a
/// policy or the screen as if it were the address it imitates. Spaces around it are ignored,
/// as they are wherever an email is taken.
///
/// # Errors
/// Why it is not plain, as a sentence.
pub(crate) fn plain_email(email: &str) -> std::result::Result<(), String> {
    let e = email.trim_matches(' ');
    let shown = escaped(e);
    let mut odd: Vec<char> = Vec::new();
    for c in e.chars().filter(|c| !c.is_ascii_graphic()) {
        if !odd.contains(&c) {
            odd.push(c);
        }
    }
    if !odd.is_empty() {
        let list: Vec<String> = odd.iter().map(|c| format!("U+{:04X} ({})", u32::from(*c), what_char(*c))).collect();
        return Err(format!("'{shown}' is not a plain email address: it contains {}", list.join(", ")));
    }
    let Some((local, domain)) = e.split_once('@') else {
        return Err(format!("'{shown}' is not an email address: it has no '@'"));
    };
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let local_ok = !local.is_empty() && local.split('.').all(|part| !part.is_empty() && part.chars().all(atext));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok {
        Ok(())
    } else {
        Err(format!("'{shown}' is not a plain email address (name@example.com)"))
    }
}

/// Whether `p` grants one of `roles` on `service` in `region` / `group` (service access), the
/// one place that reads the policy model.
#[must_use]
pub(crate) fn grants(p: &Policy, service: &str, roles: &[&str], region: &Region, group: &ResourceGroup) -> bool {
    let attr = |n: &str| p.resource(n);
    let service_ok = match (attr("serviceName"), attr("serviceType").as_deref()) {
        (Some(s), _) => s == service,
        (None, Some("service")) => !ACCOUNT_MANAGEMENT.contains(&service),
        (None, Some("platform_service")) => ACCOUNT_MANAGEMENT.contains(&service),
        (None, _) => true,
    };
    service_ok
        && attr("serviceInstance").is_none()
        && attr("resourceType").is_none()
        && attr("region").is_none_or(|r| r == region.as_str())
        && attr("resourceGroupId").is_none_or(|g| g == group.id.as_str())
        && p.role_names().iter().any(|r| roles.contains(r))
}

/// Whether `p` grants one of `roles` on the resource group itself.
#[must_use]
pub(crate) fn grants_on_group(p: &Policy, roles: &[&str], group: &ResourceGroup) -> bool {
    let attr = |n: &str| p.resource(n);
    let unscoped = attr("serviceName").is_none()
        && attr("serviceType").is_none()
        && attr("serviceInstance").is_none()
        && attr("resourceType").is_none();
    let on_groups = attr("resourceType").as_deref() == Some("resource-group")
        && attr("resource").is_none_or(|r| r == group.id.as_str());
    (unscoped || on_groups) && p.role_names().iter().any(|r| roles.contains(r))
}

/// What was read about the identity, once for all targets.
struct Access {
    policies: Option<Vec<Policy>>,
    unknown: Option<String>,
    /// The access groups the policies came through: (ID, name).
    groups: Vec<(String, String)>,
    restricted: std::result::Result<bool, String>,
    quota: std::result::Result<(u64, u64), String>,
}

/// An identity's policies, direct and through its access groups, as far as they can be read.
#[derive(Debug, Clone)]
pub struct Policies {
    /// The policies, when they could be listed.
    pub list: Option<Vec<Policy>>,
    /// Why the list may be incomplete or empty for lack of visibility.
    pub unknown: Option<String>,
    /// The identity's access groups whose policies are in the list: (ID, name), so that a
    /// policy can be named with the group it comes through.
    pub groups: Vec<(String, String)>,
}

/// What several identities' policy reads in one run have in common, read once: the policies of
/// each access group (many owners are in the same groups) and whether the caller reads other
/// identities' policies (the same answer for every owner). `status` reads the policies of every
/// owner of a key with one of these; without it, 60 owners in two groups cost 60 reads of the
/// account's policies and 80 of the groups', where 1 and 2 tell the same.
#[derive(Debug, Default)]
pub(crate) struct SharedReads {
    others: tokio::sync::OnceCell<bool>,
    groups: std::sync::Mutex<std::collections::BTreeMap<String, std::sync::Arc<GroupPolicies>>>,
}

/// One access group's policies, read once (the error kept as its words: it is only shown).
type GroupPolicies = tokio::sync::OnceCell<std::result::Result<Vec<Policy>, String>>;

impl SharedReads {
    /// The policies of access group `group`: read by the first identity that needs them, and
    /// awaited by the others meanwhile.
    async fn group(
        &self,
        session: &Session,
        account: &AccountId,
        group: &str,
    ) -> std::result::Result<Vec<Policy>, String> {
        let cell = {
            let mut groups = self.groups.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            std::sync::Arc::clone(groups.entry(group.to_owned()).or_default())
        };
        cell.get_or_init(|| async {
            session.iam_access().policies(account, None, Some(group)).await.map_err(|e| e.to_string())
        })
        .await
        .clone()
    }

    /// Whether the caller reads policies of identities other than themself: asked once.
    async fn reads_others(&self, session: &Session, account: &AccountId, caller: Option<&IamId>) -> bool {
        *self.others.get_or_init(|| reads_others(session, account, caller)).await
    }
}

/// Reads an identity's policies (direct and through its access groups), sharing with other
/// identities' reads of the same run what they have in common (`shared`).
pub(crate) async fn read_policies(
    session: &Session,
    account: &AccountId,
    id: &IamId,
    caller: Option<&IamId>,
    shared: &SharedReads,
) -> Policies {
    let is_caller = caller == Some(id);
    let access = session.iam_access();
    let mut unknown = None;
    let mut names = Vec::new();
    // The direct policies and the access groups are independent: read them together.
    let (direct, groups) = tokio::join!(access.policies(account, Some(id), None), access.groups_of(account, id));
    let policies = match direct {
        Ok(mut direct) => {
            match groups {
                Ok(groups) => {
                    // The groups' policies are independent of each other: read together.
                    let read =
                        futures_util::future::join_all(groups.iter().map(|g| shared.group(session, account, &g.id)))
                            .await;
                    for (g, r) in groups.into_iter().zip(read) {
                        match r {
                            Ok(p) => {
                                direct.extend(p);
                                names.push((g.id, g.name));
                            }
                            Err(e) => {
                                unknown = Some(format!(
                                    "the policies of access group {} could not be read: {}",
                                    g.name,
                                    clause(&e)
                                ));
                            }
                        }
                    }
                }
                Err(e) => unknown = Some(format!("the access groups could not be read: {}", clause(&e.to_string()))),
            }
            // An empty list proves nothing unless the caller demonstrably reads other
            // identities' policies (the account's list shows a policy that is not theirs).
            if direct.is_empty() && !is_caller && !shared.reads_others(session, account, caller).await {
                unknown = Some(String::from(
                    "no policy of this identity is visible to you; you may not be allowed to read them",
                ));
            }
            Some(direct)
        }
        Err(e) => {
            unknown = Some(format!("the policies could not be read: {}", clause(&e.to_string())));
            None
        }
    };
    Policies { list: policies, unknown, groups: names }
}

/// Whether the caller can read policies of identities other than themself.
async fn reads_others(session: &Session, account: &AccountId, caller: Option<&IamId>) -> bool {
    let Ok(all) = session.iam_access().policies(account, None, None).await else { return false };
    all.iter().any(|p| {
        p.subjects
            .iter()
            .flat_map(|s| &s.attributes)
            .any(|a| a.name == "iam_id" && a.value.as_str().is_some_and(|v| Some(v) != caller.map(IamId::as_str)))
    })
}

/// What the clusters of `target` need from the key's owner that `policies` do not grant:
/// `None` when that cannot be told (the policies could not be read).
#[must_use]
pub(crate) fn owner_lacks(
    policies: &Policies,
    target: &Target,
    vpc: bool,
    kind: Option<IdentityKind>,
) -> Option<Vec<String>> {
    let list = policies.list.as_ref()?;
    if policies.unknown.is_some() {
        return None;
    }
    let mut lacks = Vec::new();
    if !list
        .iter()
        .any(|p| grants(p, "containers-kubernetes", &["Writer", "Manager"], &target.region, &target.resource_group))
    {
        lacks.push(String::from("Writer or Manager on Kubernetes Service"));
    }
    if !list
        .iter()
        .any(|p| grants_on_group(p, &["Viewer", "Operator", "Editor", "Administrator"], &target.resource_group))
    {
        lacks.push(format!("Viewer on the resource group {}", target.resource_group.name));
    }
    if vpc && !list.iter().any(|p| grants(p, "is", &["Administrator"], &target.region, &target.resource_group)) {
        lacks.push(String::from("Administrator on VPC Infrastructure Services"));
    }
    // IBM: a service ID that resets the key (and so owns it) needs Operator on IAM Identity.
    if kind == Some(IdentityKind::ServiceId)
        && !list
            .iter()
            .any(|p| grants(p, "iam-identity", &["Operator", "Administrator"], &target.region, &target.resource_group))
    {
        lacks.push(String::from("Operator on IAM Identity (a service ID that owns the key)"));
    }
    Some(lacks)
}

async fn read_access(session: &Session, account: &AccountId, id: &IamId, caller: Option<&IamId>) -> Access {
    let Policies { list: policies, unknown, groups } =
        read_policies(session, account, id, caller, &SharedReads::default()).await;
    let identity = session.iam_identity();
    let restricted = identity.api_key_creation_restricted(account).await.map_err(|e| clause(&e.to_string()).to_owned());
    let quota = identity.api_key_quota(account, id).await.map_err(|e| clause(&e.to_string()).to_owned());
    Access { policies, unknown, groups, restricted, quota }
}

fn service_requirement(
    access: &Access,
    code: &'static str,
    purpose: Purpose,
    what: String,
    grant: Grant,
    target: &Target,
) -> Requirement {
    let service = grant.service.clone().unwrap_or_default();
    let roles: Vec<&str> = grant.roles.iter().map(String::as_str).collect();
    let on_group = grant.resource_type.is_some();
    let state = match &access.policies {
        Some(ps) => {
            let by = ps.iter().find(|p| {
                if on_group {
                    grants_on_group(p, &roles, &target.resource_group)
                } else {
                    grants(p, &service, &roles, &target.region, &target.resource_group)
                }
            });
            match (by, &access.unknown) {
                (Some(p), _) => State::Met { by: policy_words(p, &access.groups) },
                (None, Some(why)) => State::Unknown { reason: why.clone() },
                (None, None) => {
                    State::Missing { grant: Some(grant), detail: String::from("no policy grants it"), remedy: None }
                }
            }
        }
        None => State::Unknown { reason: access.unknown.clone().unwrap_or_default() },
    };
    Requirement { code, purpose, what, state }
}

/// A policy as the requirement it meets names it: its ID, and the access group it comes
/// through when it is a group's (the name, or the ID when the name is not known).
fn policy_words(p: &Policy, groups: &[(String, String)]) -> String {
    let group = p
        .subjects
        .iter()
        .flat_map(|s| &s.attributes)
        .find(|a| a.name == "access_group_id")
        .and_then(|a| a.value.as_str())
        .map(|id| groups.iter().find(|(g, _)| g == id).map_or(id, |(_, name)| name.as_str()));
    match group {
        Some(g) => format!("policy {}, through access group {g}", p.id),
        None => format!("policy {}", p.id),
    }
}

/// Access on `service`, for the target's region and group when `scoped`.
fn grant_for(target: &Target, roles: &[&str], service: &str, scoped: bool) -> Grant {
    Grant {
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        service: Some(service.to_owned()),
        region: scoped.then(|| target.region.to_string()),
        resource_group_id: scoped.then(|| target.resource_group.id.to_string()),
        resource_group_name: scoped.then(|| target.resource_group.name.clone()),
        resource_type: None,
    }
}

/// The roles an identity of `kind` needs to reset `target`: Administrator on Kubernetes
/// Service; Operator on IAM Identity for a service ID; User API key creator where the account
/// restricts API key creation (unknown when the settings cannot be read).
fn reset_roles(access: &Access, kind: Option<IdentityKind>, target: &Target) -> Vec<Requirement> {
    let mut reqs = vec![service_requirement(
        access,
        "reset-administrator",
        Purpose::Reset,
        String::from("Administrator platform role on Kubernetes Service in the region and resource group"),
        grant_for(target, &["Administrator"], "containers-kubernetes", true),
        target,
    )];
    if kind == Some(IdentityKind::ServiceId) {
        reqs.push(service_requirement(
            access,
            "iam-identity-operator",
            Purpose::Reset,
            String::from("Operator platform role on IAM Identity (a service ID creates the key)"),
            grant_for(target, &["Operator"], "iam-identity", false),
            target,
        ));
    }
    match &access.restricted {
        Ok(true) => reqs.push(service_requirement(
            access,
            "api-key-creator",
            Purpose::Reset,
            String::from("User API key creator role on IAM Identity (the account restricts API key creation)"),
            grant_for(target, &["UserApiKeyCreator"], "iam-identity", false),
            target,
        )),
        Ok(false) => {}
        Err(why) => reqs.push(Requirement {
            code: "api-key-creator",
            purpose: Purpose::Reset,
            what: String::from("User API key creator role, if the account restricts API key creation"),
            state: State::Unknown { reason: format!("the account settings could not be read: {why}") },
        }),
    }
    reqs
}

/// An identity `subject` names, found.
pub(crate) struct Resolved {
    pub(crate) iam_id: IamId,
    pub(crate) display: String,
    pub(crate) unverified: Option<String>,
    /// User Management's state, for a user.
    pub(crate) state: Option<String>,
}

impl Resolved {
    fn new(iam_id: IamId, display: String) -> Self {
        Self { iam_id, display, unverified: None, state: None }
    }
}

/// The identity `subject` names, once it is known to exist and to be able to own the key: a
/// service ID by name or ID through IAM Identity, a user by email or IAM ID (its prefix and the
/// rest in any case) through User Management. Nothing is checked, and nothing granted, for an
/// identity that does not exist, left the account, is a trusted profile, or (a service ID's
/// name, an email two users share) is ambiguous. `status --owner` resolves its identities here
/// too.
///
/// # Errors
/// [`Error::UnknownUser`], [`Error::NotPlainEmail`] and [`Error::BadIdentity`] naming what is
/// wrong; API errors.
pub(crate) async fn resolve(session: &Session, caller: &super::Caller, subject: &Subject) -> Result<Resolved> {
    let account = &caller.account;
    let ids = session.iam_identity();
    let ids = &ids;
    let by_service_id = |given: String| async move {
        let given = IdentityKind::canonical_prefix(&given);
        let id = given.trim_start_matches("iam-");
        match ids.service_id(id).await? {
            Some(s) => Ok(Resolved::new(s.iam_id, if s.name.is_empty() { given.clone() } else { s.name })),
            None => Err(Error::BadIdentity(format!("No service ID '{given}' exists in the account."))),
        }
    };
    match subject {
        Subject::Caller => Ok(Resolved::new(caller.iam_id.clone().ok_or(Error::NoAccount)?, caller.display.clone())),
        Subject::User(email) => {
            // Before anything is read: a look-alike address must not be taken for, or invited
            // as, the address it imitates.
            plain_email(email).map_err(|why| Error::NotPlainEmail { why })?;
            match session.user_management().find_by_email(account, email, caller.iam_id.as_ref()).await? {
                ByEmail::Found(id, state) => {
                    Ok(Resolved { state: Some(state), ..Resolved::new(id, email.trim().to_owned()) })
                }
                ByEmail::Shared(ids) => Err(Error::BadIdentity(format!(
                    "{} users of the account have the email '{}': {}. Name one by its IAM ID.",
                    ids.len(),
                    email.trim(),
                    ids.iter().map(IamId::as_str).collect::<Vec<_>>().join(", ")
                ))),
                ByEmail::Absent => Err(Error::UnknownUser(email.trim().to_owned())),
                ByEmail::Unseen(why) => Err(Error::BadIdentity(format!(
                    "Whether a user has the email '{}' cannot be told: {why}. Name the user by their IAM ID (IBMid-...).",
                    email.trim()
                ))),
            }
        }
        Subject::ServiceId(s) => {
            let s = s.trim();
            let id = IdentityKind::canonical_prefix(s);
            if id.starts_with("ServiceId-") || id.starts_with("iam-ServiceId-") {
                return by_service_id(id).await;
            }
            let found = ids.service_ids_named(account, s).await?;
            match found.as_slice() {
                [] => Err(Error::BadIdentity(format!("No service ID named '{s}' exists in the account."))),
                [one] => Ok(Resolved::new(one.iam_id.clone(), one.name.clone())),
                many => Err(Error::BadIdentity(format!(
                    "{} service IDs are named '{s}': {}. Name one by its ID.",
                    many.len(),
                    many.iter().map(|m| m.id.as_str()).collect::<Vec<_>>().join(", ")
                ))),
            }
        }
        Subject::IamId(i) => {
            let i = IdentityKind::canonical_prefix(i);
            let i = i.as_str();
            match IdentityKind::from_iam_id(i) {
                Some(IdentityKind::ServiceId) => by_service_id(i.to_owned()).await,
                Some(IdentityKind::TrustedProfile) => Err(Error::BadIdentity(format!(
                    "'{i}' is a trusted profile: it cannot own the cluster API key (a user or a service ID must)."
                ))),
                Some(IdentityKind::User) => {
                    if let Some(me) = caller.iam_id.as_ref().filter(|c| c.as_str().eq_ignore_ascii_case(i)) {
                        return Ok(Resolved::new(me.clone(), caller.display.clone()));
                    }
                    let users = session.user_management();
                    let mut id = IamId::new(i);
                    let mut membership = users.membership(account, &id).await?;
                    // Not under this spelling: the same ID in another case (`ibmid-2700000dep`)
                    // is the user IBM spells `IBMid-2700000DEP`, found in the user list.
                    if membership == Membership::NotInAccount
                        && let ByEmail::Found(other, _) =
                            users.find_by_iam_id_any_case(account, i, caller.iam_id.as_ref()).await?
                        && other != id
                    {
                        membership = users.membership(account, &other).await?;
                        id = other;
                    }
                    let shown = id.to_string();
                    match membership {
                        Membership::Member { email, state, .. } => Ok(Resolved {
                            state: Some(state),
                            ..Resolved::new(id, if email.is_empty() { shown } else { email })
                        }),
                        Membership::NotInAccount => Err(Error::BadIdentity(format!(
                            "No user '{shown}' is in the account (or was removed from it)."
                        ))),
                        // Cannot be told: the requirements still say what they can, and
                        // `--grant` refuses ([`Identity::unverified`]).
                        Membership::Hidden(why) => Ok(Resolved { unverified: Some(why), ..Resolved::new(id, shown) }),
                    }
                }
                None => Err(Error::BadIdentity(format!(
                    "'{i}' is not an IAM ID (IBMid-..., iam-ServiceId-... or a user's IAM ID)."
                ))),
            }
        }
    }
}

/// Every requirement of one target, for an identity whose access was read once: what `check`
/// reports and what the reset pre-flight checks (`clusters`: the target's, or why they could not
/// be listed).
fn target_requirements(
    access: &Access,
    kind: Option<IdentityKind>,
    target: &Target,
    clusters: std::result::Result<&[crate::api::containers::Cluster], &str>,
) -> Vec<Requirement> {
    let svc = |roles: &[&str], service: &str, scoped: bool| grant_for(target, roles, service, scoped);
    let mut reqs = reset_roles(access, kind, target);
    reqs.push(Requirement {
        code: "api-key-quota",
        purpose: Purpose::Reset,
        what: String::from("Room for one more API key under the identity's limit"),
        state: match &access.quota {
            Ok((limit, count)) if count < limit => State::Met { by: format!("{count} of {limit} keys") },
            Ok((limit, count)) => State::Missing {
                grant: None,
                detail: format!("{count} of {limit} keys: delete an obsolete key first"),
                remedy: None,
            },
            Err(why) => State::Unknown { reason: format!("the key quota could not be read: {why}") },
        },
    });
    reqs.push(service_requirement(
        access,
        "service-writer",
        Purpose::Own,
        String::from("Writer or Manager service role on Kubernetes Service in the region and resource group"),
        svc(&["Writer", "Manager"], "containers-kubernetes", true),
        target,
    ));
    reqs.push(service_requirement(
        access,
        "resource-group-viewer",
        Purpose::Own,
        format!("Viewer role on the resource group {}", target.resource_group.name),
        Grant {
            roles: vec![
                String::from("Viewer"),
                String::from("Operator"),
                String::from("Editor"),
                String::from("Administrator"),
            ],
            service: None,
            region: None,
            resource_group_id: Some(target.resource_group.id.to_string()),
            resource_group_name: Some(target.resource_group.name.clone()),
            resource_type: Some(String::from("resource-group")),
        },
        target,
    ));
    match clusters {
        Ok(cs) => {
            if cs.iter().any(|c| c.provider.starts_with("vpc")) {
                reqs.push(service_requirement(
                    access,
                    "vpc-infrastructure",
                    Purpose::Own,
                    String::from("Administrator role on VPC Infrastructure Services (VPC clusters)"),
                    svc(&["Administrator"], "is", false),
                    target,
                ));
            }
            if cs.iter().any(|c| c.provider == "classic") {
                reqs.push(Requirement {
                    code: "classic-infrastructure",
                    purpose: Purpose::Own,
                    what: String::from("Classic infrastructure permissions (classic clusters)"),
                    state: State::NotCheckable {
                        how: ByHand::ClassicInfraPermissions { region: target.region.clone() },
                    },
                });
            }
        }
        Err(why) => reqs.push(Requirement {
            code: "cluster-infrastructure",
            purpose: Purpose::Own,
            what: String::from("Infrastructure roles for the target's clusters"),
            state: State::Unknown { reason: format!("the clusters could not be listed: {why}") },
        }),
    }
    reqs
}

/// Checks `subject` against every target.
///
/// # Errors
/// An identity that cannot be found, unknown resource groups (both before anything is checked),
/// errors reading the targets' clusters.
pub async fn check(
    session: &Session,
    subject: &Subject,
    regions: &[Region],
    groups: &crate::types::GroupSelector,
) -> Result<CheckReport> {
    let caller = session.caller().await?;
    let account = caller.account.clone();
    // The identity first: an email that is not in the account ends here, and `--invite` then
    // reads the targets once, in `plan_invite`.
    let Resolved { iam_id, display, unverified, state } = resolve(session, &caller, subject).await?;
    let targets = selected_targets(session, &caller, regions, groups).await?;
    let kind = IdentityKind::from_iam_id(iam_id.as_str());
    let is_caller = caller.iam_id.as_ref() == Some(&iam_id);
    let access = read_access(session, &account, &iam_id, caller.iam_id.as_ref()).await;
    let out = requirements_per_target(session, &access, kind, targets).await?;
    let inactive_state = state.filter(|s| s != "ACTIVE");
    Ok(CheckReport {
        account,
        identity: Identity { iam_id, kind, display, is_caller, unverified, inactive_state },
        targets: out,
    })
}

/// The targets `check` is about: the `-r` regions × `-g` groups, or the CLI's target.
async fn selected_targets(
    session: &Session,
    caller: &super::Caller,
    regions: &[Region],
    groups: &crate::types::GroupSelector,
) -> Result<Vec<Target>> {
    if regions.is_empty() && groups.is_empty() {
        return Ok(vec![session.target(caller, None, None).await?]);
    }
    let all = session.resource_manager().list(&caller.account).await?;
    let gs = if groups.is_empty() {
        vec![session.resource_group(&caller.account, None).await?]
    } else {
        super::discovery::groups(groups, &all)?
    };
    let rs = if regions.is_empty() { vec![session.region(None)?] } else { regions.to_vec() };
    Ok(rs.iter().flat_map(|r| gs.iter().map(|g| Target { region: r.clone(), resource_group: g.clone() })).collect())
}

/// Each target's requirements for an identity whose access was read (its clusters listed here).
async fn requirements_per_target(
    session: &Session,
    access: &Access,
    kind: Option<IdentityKind>,
    targets: Vec<Target>,
) -> Result<Vec<TargetCheck>> {
    // One target: its own cluster list (one request). More: the account's cluster lists, read
    // once as `status` reads them (a few requests, however many targets), then split.
    let all = if targets.len() > 1 {
        Some(super::discovery::clusters(session).await.map_err(|e| clause(&e.to_string()).to_owned()))
    } else {
        None
    };
    let mut out = Vec::with_capacity(targets.len());
    for target in targets {
        let clusters = match &all {
            Some(Ok(all)) => Ok(all
                .iter()
                .filter(|c| c.region == target.region.as_str() && c.resource_group == target.resource_group.id.as_str())
                .cloned()
                .collect()),
            Some(Err(why)) => Err(why.clone()),
            None => session
                .containers(Some(&target.region))?
                .clusters(Some(&target.resource_group.id))
                .await
                .map_err(|e| clause(&e.to_string()).to_owned()),
        };
        let reqs = target_requirements(access, kind, &target, clusters.as_deref().map_err(String::as_str));
        out.push(TargetCheck { target, requirements: reqs });
    }
    Ok(out)
}

/// What inviting a user who is not in the account would do (`check --user EMAIL --grant
/// --invite`): the requirements a new user has (none is met: a new user has no policy and no
/// key), and the policies the invitation carries so that they are in place when it is accepted.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitePlan {
    /// The account.
    pub account: AccountId,
    /// Who is invited.
    pub email: String,
    /// Per target: what the new user will need.
    pub targets: Vec<TargetCheck>,
    /// The policies the invitation creates.
    pub policies: Vec<PlannedGrant>,
}

/// Plans the invitation of `email`, which the caller has seen is not in the account.
///
/// # Errors
/// Unknown regions or groups; errors reading the account settings and the targets' clusters.
pub async fn plan_invite(
    session: &Session,
    email: &str,
    regions: &[Region],
    groups: &crate::types::GroupSelector,
) -> Result<InvitePlan> {
    plain_email(email).map_err(Error::BadIdentity)?;
    let caller = session.caller().await?;
    let account = caller.account.clone();
    let targets = selected_targets(session, &caller, regions, groups).await?;
    let restricted = session
        .iam_identity()
        .api_key_creation_restricted(&account)
        .await
        .map_err(|e| clause(&e.to_string()).to_owned());
    // A user who does not exist yet has no policy, no access group and no key: nothing is
    // unknown, and the key limit is no concern.
    let access =
        Access { policies: Some(Vec::new()), unknown: None, groups: Vec::new(), restricted, quota: Ok((1, 0)) };
    let mut out = requirements_per_target(session, &access, Some(IdentityKind::User), targets).await?;
    for t in &mut out {
        t.requirements.retain(|r| r.code != "api-key-quota");
    }
    let policies = planned_grants(&out);
    Ok(InvitePlan { account, email: email.trim().to_owned(), targets: out, policies })
}

/// Why a reset of `targets` does not fit under the caller's key limit: which targets would fit
/// (what to do then is [`Remedy::MakeRoomForKeys`]).
fn quota_detail<'a>(limit: u64, count: u64, targets: impl Iterator<Item = &'a Target>) -> String {
    let targets: Vec<String> = targets.map(|t| format!("{} / {}", t.region, t.resource_group.name)).collect();
    let room = usize::try_from(limit.saturating_sub(count)).unwrap_or(usize::MAX);
    let fit = match room {
        0 => String::from("no target fits"),
        n => format!("only {n} of the {} targets fit ({})", targets.len(), targets[..n.min(targets.len())].join(", ")),
    };
    // "2 of the 1 keys" reads wrong once an identity is over a lowered limit.
    format!("you hold {count} API keys, IAM allows an identity {limit} and each reset creates one: {fit}")
}

/// The reset pre-flight for the caller and every target of a reset, single or batch: each
/// target's requirements that are not met (the same ones `check` reports, from one read of the
/// caller's access), and room under the caller's API key limit for one new key per target.
///
/// # Errors
/// The caller cannot be established.
pub async fn reset_preflight(
    session: &Session,
    targets: &[(Target, crate::types::Known<Vec<crate::api::containers::Cluster>>)],
) -> Result<Vec<(Target, Vec<Requirement>)>> {
    let caller = session.caller().await?;
    let id = caller.iam_id.clone().ok_or(Error::NoAccount)?;
    let kind = IdentityKind::from_iam_id(id.as_str());
    let access = read_access(session, &caller.account, &id, Some(&id)).await;
    let mut out = Vec::new();
    for (target, clusters) in targets {
        let clusters = match clusters {
            crate::types::Known::Known(c) => Ok(c.as_slice()),
            crate::types::Known::Unknown(why) => Err(why.as_str()),
        };
        let mut reqs = target_requirements(&access, kind, target, clusters);
        // The key limit is checked once, for every target together (below).
        reqs.retain(|r| r.code != "api-key-quota" && !matches!(r.state, State::Met { .. }));
        out.push((target.clone(), reqs));
    }
    if let Some((_, first)) = out.first_mut() {
        let needed = targets.len() as u64;
        match &access.quota {
            Ok((limit, count)) if count + needed > *limit => first.push(Requirement {
                code: "api-key-quota",
                purpose: Purpose::Reset,
                what: if needed == 1 {
                    String::from("Room for one more API key under the identity's limit")
                } else {
                    format!("Room for {needed} more API keys under the identity's limit")
                },
                state: State::Missing {
                    grant: None,
                    detail: quota_detail(*limit, *count, targets.iter().map(|(t, _)| t)),
                    remedy: Some(Remedy::MakeRoomForKeys),
                },
            }),
            Ok(_) => {}
            Err(why) => first.push(Requirement {
                code: "api-key-quota",
                purpose: Purpose::Reset,
                what: String::from("Room under the identity's API key limit"),
                state: State::Unknown { reason: format!("the key quota could not be read: {why}") },
            }),
        }
    }
    Ok(out)
}

/// One policy to create.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedGrant {
    /// The requirement it fixes.
    pub code: &'static str,
    /// The target.
    pub target: Target,
    /// The access.
    pub grant: Grant,
}

/// The policies that would fix what is missing (one per missing requirement with a grant).
#[must_use]
pub fn grant_plan(report: &CheckReport) -> Vec<PlannedGrant> {
    planned_grants(&report.targets)
}

fn planned_grants(targets: &[TargetCheck]) -> Vec<PlannedGrant> {
    let mut out: Vec<PlannedGrant> = Vec::new();
    for t in targets {
        for r in &t.requirements {
            if let State::Missing { grant: Some(g), .. } = &r.state
                && !out.iter().any(|p| &p.grant == g)
            {
                out.push(PlannedGrant { code: r.code, target: t.target.clone(), grant: g.clone() });
            }
        }
    }
    out
}

impl Grant {
    /// The role to grant and the resource attributes of the policy that grants it: the first
    /// role is the one (for "Writer or Manager", Writer is enough).
    #[must_use]
    pub(crate) fn policy(&self, account: &AccountId) -> (String, Vec<(String, String)>) {
        let role = self.roles.first().cloned().unwrap_or_default();
        let mut resource = vec![(String::from("accountId"), account.to_string())];
        if let Some(s) = &self.service {
            resource.push((String::from("serviceName"), s.clone()));
        }
        if let Some(r) = &self.region {
            resource.push((String::from("region"), r.clone()));
        }
        match &self.resource_type {
            Some(t) => {
                resource.push((String::from("resourceType"), t.clone()));
                if let Some(id) = &self.resource_group_id {
                    resource.push((String::from("resource"), id.clone()));
                }
            }
            None => {
                if let Some(id) = &self.resource_group_id {
                    resource.push((String::from("resourceGroupId"), id.clone()));
                }
            }
        }
        (role, resource)
    }
}

/// How an error answer to a write leaves the write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// The service's own refusal (a 4xx with its code and incident ID), or a 429 (refused by
    /// whoever sent it): not done.
    Refused,
    /// The service's own 5xx: it says it failed, but it may have written first.
    ServerError,
    /// Nothing says what happened: a gateway's answer, an empty or cut-off body, a connection
    /// that dropped after the request was sent.
    Open,
}

fn answer_of(e: &Error) -> Answer {
    match e {
        Error::Api(a) if a.status == 429 => Answer::Refused,
        Error::Api(a) if a.is_own_answer() && a.status < 500 => Answer::Refused,
        Error::Api(a) if a.is_own_answer() => Answer::ServerError,
        e if e.outcome_unknown() => Answer::Open,
        _ => Answer::Refused,
    }
}

/// An error answer in words, with the status when the service's own body hides it.
fn answer_words(e: &Error) -> String {
    match e {
        Error::Api(a) if a.structured => {
            format!("{} answered HTTP {}: {}", a.service, a.status, clause(&a.to_string()))
        }
        e => clause(&e.to_string()).to_owned(),
    }
}

/// An error answer to a write, settled: a look-up found the write done (what it found, and the
/// answer it overrules), or it failed, or its outcome is unknown (why).
enum Settled<T> {
    Done(T, String),
    Failed(String),
    Unknown(String),
}

/// Settles the error answer `e` to a write: IAM's (or User Management's) own refusal is taken
/// at its word; after any other answer, `look` is asked a few times, a moment apart, whether
/// the write was done after all. Nothing is ever written a second time here.
async fn settle<T, F, Fut>(e: Error, look: F) -> Settled<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<Option<T>, String>>,
{
    let answer = answer_of(&e);
    let why = answer_words(&e);
    if answer == Answer::Refused {
        return Settled::Failed(why);
    }
    let mut unreadable = None;
    for i in 0..super::LOOKS {
        if i > 0 {
            tokio::time::sleep(super::LOOK_GAP).await;
        }
        match look().await {
            Ok(Some(found)) => return Settled::Done(found, why),
            Ok(None) => unreadable = None,
            Err(w) => unreadable = Some(w),
        }
    }
    let waited = super::LOOK_GAP.as_millis() * u128::from(super::LOOKS - 1);
    match (answer, unreadable) {
        // The service's own word, and nothing was found: it failed.
        (Answer::ServerError, None) => Settled::Failed(format!("{why} (a look-up confirmed it was not done)")),
        (Answer::ServerError, Some(_)) => Settled::Failed(why),
        (_, None) => Settled::Unknown(format!(
            "{why}; a look-up has not found it in {:.1} s, but the request may still be carried out",
            // Milliseconds as seconds, for the sentence.
            f64::from(u32::try_from(waited).unwrap_or(u32::MAX)) / 1000.0
        )),
        (_, Some(w)) => Settled::Unknown(format!("{why}; whether it was done could not be looked up: {w}")),
    }
}

/// A policy of `identity` that grants `role` on exactly `resource` (`None`: there is none), or
/// why the list could not be read.
async fn existing_policy(
    session: &Session,
    account: &AccountId,
    identity: &IamId,
    role: &str,
    resource: &[(String, String)],
) -> std::result::Result<Option<String>, String> {
    let policies = session
        .iam_access()
        .policies(account, Some(identity), None)
        .await
        .map_err(|e| clause(&e.to_string()).to_owned())?;
    Ok(policies
        .into_iter()
        .find(|p| p.role_names().contains(&role) && resource.iter().all(|(n, v)| p.resource(n).as_deref() == Some(v)))
        .map(|p| p.id))
}

/// What one write came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum Written {
    /// Created: the policy's ID; and when the answer was an error that a look-up overruled
    /// (the policy exists), that answer.
    Created {
        /// The policy's ID.
        #[serde(rename = "policyId")]
        policy_id: String,
        /// The error answer the look-up overruled.
        #[serde(rename = "overruledAnswer")]
        overruled: Option<String>,
    },
    /// Not created, and why.
    Failed {
        /// Why.
        reason: String,
    },
    /// Whether it was created cannot be told: the answer left it open and no look-up found it.
    Unknown {
        /// Why.
        reason: String,
    },
    /// Not tried: an earlier write did not succeed.
    NotAttempted,
}

/// One planned policy and what became of it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantResult {
    /// The policy.
    #[serde(flatten)]
    pub planned: PlannedGrant,
    /// What became of it.
    #[serde(flatten)]
    pub outcome: Written,
}

/// Creates the planned policies for `identity`, one at a time, recording each write in the
/// audit log (with the caller as its actor). Returns every planned policy's outcome, in
/// order: after an error answer, a look-up decides between created, failed and unknown
/// ([`settle`]); the first policy that is not created stops the run, and the rest are
/// [`Written::NotAttempted`] (what IAM refused once it would likely refuse again, and an
/// unknown outcome must be looked at before anything else is written).
pub async fn grant(
    session: &Session,
    account: &AccountId,
    identity: &IamId,
    plan: &[PlannedGrant],
    audit: Option<&crate::audit::AuditLog>,
) -> Vec<GrantResult> {
    let actor = session.caller().await.ok().and_then(|c| c.iam_id).map(|id| id.to_string());
    let mut out: Vec<GrantResult> = Vec::with_capacity(plan.len());
    for p in plan {
        if out.iter().any(|r| !matches!(r.outcome, Written::Created { .. })) {
            out.push(GrantResult { planned: p.clone(), outcome: Written::NotAttempted });
            continue;
        }
        let g = &p.grant;
        let (role, resource) = g.policy(account);
        let outcome = match session
            .iam_access()
            .create_policy(("iam_id", identity.as_str()), &[role_crn(g.service.as_deref(), &role)], &resource)
            .await
        {
            Ok(id) => Written::Created { policy_id: id, overruled: None },
            Err(e) => match settle(e, || existing_policy(session, account, identity, &role, &resource)).await {
                Settled::Done(id, answer) => Written::Created { policy_id: id, overruled: Some(answer) },
                Settled::Failed(reason) => Written::Failed { reason },
                Settled::Unknown(reason) => Written::Unknown { reason },
            },
        };
        let (word, how) = match &outcome {
            Written::Created { policy_id, overruled: None } => ("succeeded", format!(": policy {policy_id}")),
            Written::Created { policy_id, overruled: Some(a) } => {
                ("succeeded", format!(": policy {policy_id} (found after the answer: {a})"))
            }
            Written::Failed { reason } => ("failed", format!(": {reason}")),
            Written::Unknown { reason } => ("unknown", format!(": {reason}")),
            Written::NotAttempted => ("failed", String::new()),
        };
        let mut r = crate::audit::Record::now("grant", word);
        r.actor.clone_from(&actor);
        r.account = Some(account.to_string());
        r.region = Some(p.target.region.to_string());
        r.resource_group_id = Some(p.target.resource_group.id.to_string());
        r.detail = format!(
            "{role} on {} for {identity} ({}){how}",
            g.service.as_deref().unwrap_or("the resource group"),
            p.code,
        );
        if let Some(log) = audit {
            log.record(&r);
        }
        out.push(GrantResult { planned: p.clone(), outcome });
    }
    out
}

/// What became of an invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum InviteResult {
    /// Invited: the user's IAM ID when known, its state (`PENDING` until the invitation is
    /// accepted), and when the answer was an error that a look-up overruled, that answer.
    Invited {
        /// Their IAM ID, when User Management gave one.
        #[serde(rename = "iamId")]
        iam_id: Option<IamId>,
        /// Their state (`PENDING`, `PROCESSING`, ...).
        state: String,
        /// The error answer the look-up overruled.
        #[serde(rename = "overruledAnswer")]
        overruled: Option<String>,
    },
    /// Not invited, and why.
    Failed {
        /// Why.
        reason: String,
    },
    /// Whether the invitation went out cannot be told.
    Unknown {
        /// Why.
        reason: String,
    },
}

/// What an invitation did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteOutcome {
    /// Who was invited.
    pub email: String,
    /// How many policies the invitation carried.
    pub policies: usize,
    /// What became of it.
    #[serde(flatten)]
    pub result: InviteResult,
}

/// Invites `plan.email` with `plan.policies`, in one User Management request, and records it in
/// the audit log (with the caller as its actor). After an error answer, a look for the user
/// decides between invited, failed and unknown ([`settle`]); the invitation is never sent a
/// second time.
pub async fn invite(session: &Session, plan: &InvitePlan, audit: Option<&crate::audit::AuditLog>) -> InviteOutcome {
    let iam_policy: Vec<serde_json::Value> = plan
        .policies
        .iter()
        .map(|p| {
            let (role, resource) = p.grant.policy(&plan.account);
            serde_json::json!({
                "type": "access",
                "roles": [{"role_id": role_crn(p.grant.service.as_deref(), &role)}],
                "resources": [{"attributes": resource.iter().map(|(n, v)| serde_json::json!({"name": n, "value": v})).collect::<Vec<_>>()}],
            })
        })
        .collect();
    let caller = session.caller().await.ok();
    let caller_id = caller.as_ref().and_then(|c| c.iam_id.clone());
    let users = session.user_management();
    let result = if let Err(why) = plain_email(&plan.email) {
        // [`plan_invite`] refuses such an address; should one get here, it is not sent.
        InviteResult::Failed { reason: why }
    } else {
        match users.invite(&plan.account, &plan.email, iam_policy).await {
            Ok(i) => InviteResult::Invited { iam_id: i.iam_id, state: i.state, overruled: None },
            Err(e) => {
                let look = || async {
                    match users.find_by_email(&plan.account, &plan.email, caller_id.as_ref()).await {
                        Ok(ByEmail::Found(id, state)) => Ok(Some((id, state))),
                        Ok(ByEmail::Absent) => Ok(None),
                        Ok(ByEmail::Unseen(why)) => Err(why),
                        Ok(ByEmail::Shared(found)) => Err(format!(
                            "{} users have the email now ({})",
                            found.len(),
                            found.iter().map(IamId::as_str).collect::<Vec<_>>().join(", ")
                        )),
                        Err(e) => Err(clause(&e.to_string()).to_owned()),
                    }
                };
                match settle(e, look).await {
                    Settled::Done((id, state), answer) => {
                        InviteResult::Invited { iam_id: Some(id), state, overruled: Some(answer) }
                    }
                    Settled::Failed(reason) => InviteResult::Failed { reason },
                    Settled::Unknown(reason) => InviteResult::Unknown { reason },
                }
            }
        }
    };
    let (word, how) = match &result {
        InviteResult::Invited { iam_id: Some(id), state, .. } => ("succeeded", format!(": {id}, {state}")),
        InviteResult::Invited { iam_id: None, state, .. } => ("succeeded", format!(": {state}")),
        InviteResult::Failed { reason } => ("failed", format!(": {reason}")),
        InviteResult::Unknown { reason } => ("unknown", format!(": {reason}")),
    };
    let mut r = crate::audit::Record::now("invite", word);
    r.actor = caller_id.map(|id| id.to_string());
    r.account = Some(plan.account.to_string());
    r.detail = format!(
        "{} with {} {}{how}",
        escaped(&plan.email),
        plan.policies.len(),
        if plan.policies.len() == 1 { "policy" } else { "policies" },
    );
    if let Some(log) = audit {
        log.record(&r);
    }
    InviteOutcome { email: plan.email.clone(), policies: plan.policies.len(), result }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_addresses_pass_and_everything_else_says_why() {
        for ok in ["new.fid@example.com", "a+tag@sub.example.co", " spaced@example.com ", "o'neil@example.com"] {
            assert_eq!(plain_email(ok), Ok(()), "{ok}");
        }
        for (bad, says) in [
            ("new.fid@example", "not a plain email address (name@example.com)"),
            ("new.fid", "it has no '@'"),
            ("a@@example.com", "not a plain email address"),
            ("a..b@example.com", "not a plain email address"),
            ("a@-example.com", "not a plain email address"),
            ("a b@example.com", "U+0020 (a space)"),
            (
                "\u{212a}@example.com",
                "'\\u{212a}@example.com' is not a plain email address: it contains U+212A (a character outside ASCII",
            ),
            ("a\u{2066}@example.com", "U+2066 (a control that reorders the text around it)"),
            ("a\u{feff}@example.com", "U+FEFF (an invisible character)"),
            ("a\u{7}@example.com", "U+0007 (a control character)"),
            ("a@example.com\r\n", "U+000D (a line break), U+000A (a line break)"),
        ] {
            let why = plain_email(bad).unwrap_err();
            assert!(why.contains(says), "{bad:?}: {why}");
            assert!(why.chars().all(|c| c.is_ascii() && !c.is_ascii_control()), "shown escaped: {why:?}");
        }
    }

    #[test]
    fn only_a_services_own_refusal_is_taken_at_its_word() {
        let api = |status: u16, body: &str| {
            Error::Api(crate::error::ApiError::parse(crate::error::Service::IamAccess, status, body.as_bytes()))
        };
        let own = r#"{"errors":[{"code":"forbidden","message":"no"}],"trace":"abc"}"#;
        assert_eq!(answer_of(&api(403, own)), Answer::Refused);
        assert_eq!(answer_of(&api(500, own)), Answer::ServerError);
        assert_eq!(answer_of(&api(429, "")), Answer::Refused);
        assert_eq!(answer_of(&api(500, r#"{"errors":[{"code":"internal_error","message":"boom"}]}"#)), Answer::Open);
        assert_eq!(answer_of(&api(502, "<html>Bad Gateway</html>")), Answer::Open);
        let sent = Error::Transport { message: String::from("reset"), timeout: false, not_sent: false };
        assert_eq!(answer_of(&sent), Answer::Open);
        let unsent = Error::Transport { message: String::from("refused"), timeout: false, not_sent: true };
        assert_eq!(answer_of(&unsent), Answer::Refused);
    }
}
