//! `status`: for every target of the account, who owns the cluster API key, whether that person
//! is still in the account, how old the key is, and what needs fixing.
//!
//! One discovery ([`super::discovery`]), then, in a bounded pool, one owner lookup per target
//! with clusters and one User Management lookup per distinct owner. A target whose own lookups
//! fail is still reported, with the reason, and never hides the others; only an account that
//! cannot be read at all is an error.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::discovery::{self, Found, KeyScope, Scope};
use super::{Session, Target};
use crate::api::containers::{ClassicCredentials, KeyOwner};
use crate::api::iam_identity::ApiKey;
use crate::api::user_management::{ByEmail, Membership};
use crate::error::{Error, Result, clause};
use crate::model::{
    ClassicStatus, ClusterBrief, Code, EXPIRING_DAYS, Finding, KeyInfo, OldKey, Owner, OwnerState, SettingsPart,
    StatusReport, Summary, TargetStatus, age_days,
};
use crate::types::{AccountId, ApiKeyId, IamId, IdentityKind};
use futures_util::stream::{self, StreamExt as _};

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
    /// Whose health issues and workers to read.
    pub read_clusters: ClusterReads,
}

/// Which clusters' own reports (health issues, workers) a status reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterReads {
    /// None (commands that only need the keys and owners).
    Skip,
    /// Those whose list entry signals trouble (`status`'s default): two requests each.
    Troubled,
    /// Every cluster (`status --read-clusters`): two requests each.
    Every,
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

/// Looks at the account.
///
/// # Errors
/// [`Error::UnknownRegions`] / [`Error::UnknownGroups`] before any request that is not needed
/// to check them; errors reading the account as a whole (groups, clusters, keys).
pub(crate) async fn status(session: &Session, opts: &Options, reporter: &dyn Reporter) -> Result<StatusReport> {
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
    let account_id = &caller.account;
    let caller_id = caller.iam_id.clone();
    // A `-g` filter is checked against the groups before anything else is read.
    let rm = session.resource_manager();
    let checked_groups = if opts.groups.is_empty() {
        None
    } else {
        let g = rm.list(account_id).await?;
        discovery::groups(&opts.groups, &g)?;
        Some(g)
    };
    // What the owners' reads have in common (their groups' policies), read once.
    let shared = super::check::SharedReads::default();
    // The round trips (see the README's Performance): the key pages need nothing but the
    // account, so they run from the first round trip to their last page, alongside everything
    // else; the owners' reads start as soon as the owner lookups end, not after the last key
    // page; the classic credentials' owners as soon as those credentials are read.
    let keys = discovery::keys(session, &caller);
    // On the heap: this future holds every read of the run, and every command that reads the
    // account's status awaits it.
    let rest = Box::pin(async {
        // The groups, and the clusters that the owner lookups need.
        let (all_groups, clusters) = if let Some(g) = checked_groups {
            (g, discovery::clusters(session).await)
        } else {
            let (g, c) = tokio::join!(rm.list(account_id), discovery::clusters(session));
            (g?, c)
        };
        let scope = Scope { regions, groups: discovery::groups(&opts.groups, &all_groups)? };
        let clusters = clusters?;
        let to_ask = discovery::cluster_targets(&clusters, &scope);
        reporter.targets(to_ask.len());

        // One owner lookup per target with clusters, in the pool; then, at once, the reads of
        // the owners they name.
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
                    resource_group: crate::types::ResourceGroup {
                        id: group.clone(),
                        name: String::new(),
                        default: false,
                    },
                });
                ((region.to_string(), group.to_string()), r)
            })
            .buffer_unordered(opts.concurrency.max(1))
            .collect::<BTreeMap<(String, String), std::result::Result<KeyOwner, Error>>>();
        let lookups_then_owners = async {
            let owners = owner_lookups.await;
            let mut ids = OwnerIds::default();
            for o in owners.values().flatten() {
                if let Some(id) = &o.iam_id {
                    ids.add(id);
                    // What each owner of clusters' key may do: their policies.
                    if !ids.key_owners.contains(id) {
                        ids.key_owners.push(id.clone());
                    }
                }
            }
            let reads = owner_reads(session, account_id, caller_id.as_ref(), ids, opts.concurrency, &shared).await;
            (owners, reads)
        };
        // Classic infrastructure credentials win over the key for classic clusters: one read
        // per target that has some, alongside; then their owners.
        let classic_targets: Vec<(String, String)> = to_ask
            .keys()
            .filter(|(region, group)| {
                clusters.iter().any(|c| c.provider == "classic" && &c.region == region && &c.resource_group == group)
            })
            .cloned()
            .collect();
        let classic_then_owners = async {
            let classic = stream::iter(classic_targets)
                .map(|(region, group)| async move {
                    let r = match session.containers(Some(&crate::types::Region::new(region.clone()))) {
                        Ok(api) => {
                            api.classic_credentials(Some(&crate::types::ResourceGroupId::new(group.clone()))).await
                        }
                        Err(e) => Err(e),
                    };
                    ((region, group), r)
                })
                .buffer_unordered(opts.concurrency.max(1))
                .collect::<BTreeMap<(String, String), Result<ClassicCredentials>>>()
                .await;
            let owners =
                classic_owner_states(session, account_id, caller_id.as_ref(), &classic, opts.concurrency).await;
            (classic, owners)
        };
        // What the clusters say about their credentials: the troubled ones (every one with
        // `--read-clusters`), alongside.
        let mut in_scope: Vec<&crate::api::containers::Cluster> = clusters
            .iter()
            .filter(|c| {
                (scope.regions.is_empty() || scope.regions.iter().any(|r| r.as_str() == c.region))
                    && (scope.groups.is_empty() || scope.groups.iter().any(|g| g.id.as_str() == c.resource_group))
            })
            .collect();
        if opts.read_clusters == ClusterReads::Skip {
            in_scope.clear();
        }
        let cluster_reads = super::clusters::read_clusters(
            session,
            &in_scope,
            opts.read_clusters == ClusterReads::Every,
            opts.concurrency,
        );
        let ((owners, reads), (classic, classic_owners), reports) =
            tokio::join!(lookups_then_owners, classic_then_owners, cluster_reads);
        Ok::<_, Error>(Listed { all_groups, clusters, scope, owners, reads, classic, classic_owners, reports })
    });
    // Who owns the account (CIS 1.5: no API key is owned by the account owner): one request,
    // needing only the account.
    let account_owner = async { Ok(session.account_management().owner(account_id).await) };
    let ((keys, key_scope), listed, account_owner) = tokio::try_join!(keys, rest, account_owner)?;
    let Listed { all_groups, clusters, scope, mut owners, reads, classic, classic_owners, mut reports } = listed;
    let account = discovery::Account { groups: all_groups, clusters, keys, key_scope };
    let found = account.targets(&scope);
    // `None`: no cluster to ask (the owner then comes from the key).
    let owners: Vec<Option<std::result::Result<KeyOwner, Error>>> = found
        .iter()
        .map(|f| owners.remove(&(f.target.region.to_string(), f.target.resource_group.id.to_string())))
        .collect();

    // The owners only the keys name (targets without clusters, lookups that failed): one
    // membership lookup per distinct user, one IAM Identity lookup per distinct service ID, and
    // their key limits, now.
    let mut more = OwnerIds::default();
    for (f, o) in found.iter().zip(&owners) {
        let id = match o {
            Some(Ok(o)) => o.iam_id.clone(),
            _ => f.current.as_ref().map(|k| k.iam_id.clone()),
        };
        if let Some(id) = id
            && !reads.memberships.contains_key(&id)
        {
            more.add(&id);
        }
    }
    let OwnerReads { memberships, policies: owner_policies, quotas } =
        reads.merge(owner_reads(session, account_id, caller_id.as_ref(), more, opts.concurrency, &shared).await);

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
        for c in &mut t.clusters {
            c.reports = reports.remove(&c.id);
        }
        let (failures, unread) = super::clusters::judge(&t);
        t.findings.extend(failures);
        if let Some(why) = unread {
            t.not_checked(&[Code::ClusterCredentialFailure], why);
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

    let account_owner_note = account_owner_findings(&mut targets, &account_owner);
    // A status of some targets cannot say what an account-wide prune would remove.
    near_key_limit(&mut targets, &quotas, !opts.regions.is_empty() || !opts.groups.is_empty());

    let mut notes = Vec::new();
    if let KeyScope::CallerOnly(why) = &account.key_scope {
        notes.push(format!("Only your own keys could be listed ({why}): keys of other owners are not shown."));
    }
    notes.extend(unread_notes(&mut targets, &quotas, &account.key_scope));
    notes.extend(account_owner_note);
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

/// What the first part of a status read, besides the keys: handed from the reads that run
/// alongside the key pages.
struct Listed {
    all_groups: Vec<crate::types::ResourceGroup>,
    clusters: Vec<crate::api::containers::Cluster>,
    scope: Scope,
    owners: BTreeMap<(String, String), std::result::Result<KeyOwner, Error>>,
    reads: OwnerReads,
    classic: BTreeMap<(String, String), Result<ClassicCredentials>>,
    classic_owners: BTreeMap<String, OwnerState>,
    reports: BTreeMap<String, crate::model::ClusterReports>,
}

/// The identities whose reads [`owner_reads`] makes.
#[derive(Default)]
struct OwnerIds {
    /// Users: their membership and key limit.
    users: Vec<IamId>,
    /// Service IDs: their standing and key limit.
    services: Vec<IamId>,
    /// Owners of a key that clusters use: their policies too.
    key_owners: Vec<IamId>,
}

impl OwnerIds {
    /// Adds an owner by the kind its IAM ID says (others, such as trusted profiles, have
    /// nothing to read).
    fn add(&mut self, id: &IamId) {
        let list = match IdentityKind::from_iam_id(id.as_str()) {
            Some(IdentityKind::User) => &mut self.users,
            Some(IdentityKind::ServiceId) => &mut self.services,
            _ => return,
        };
        if !list.contains(id) {
            list.push(id.clone());
        }
    }
}

/// What was read of the owners: users' memberships and service IDs' standings (one map: both
/// say whether the identity can still act), key owners' policies, and key limits.
#[derive(Default)]
struct OwnerReads {
    memberships: BTreeMap<IamId, std::result::Result<Membership, Error>>,
    policies: BTreeMap<IamId, super::check::Policies>,
    quotas: BTreeMap<IamId, Result<(u64, u64)>>,
}

impl OwnerReads {
    fn merge(mut self, other: Self) -> Self {
        self.memberships.extend(other.memberships);
        self.policies.extend(other.policies);
        self.quotas.extend(other.quotas);
        self
    }
}

/// One membership lookup per user, one IAM Identity lookup per service ID, one policy read per
/// key owner and IAM's per-identity key limit for every one of them: all at once, in the pool.
async fn owner_reads(
    session: &Session,
    account_id: &AccountId,
    caller_id: Option<&IamId>,
    ids: OwnerIds,
    concurrency: usize,
    shared: &super::check::SharedReads,
) -> OwnerReads {
    let OwnerIds { users, services, key_owners } = ids;
    let quota_ids: Vec<IamId> = users.iter().chain(&services).cloned().collect();
    let memberships = stream::iter(users)
        .map(|id| async move {
            let m = session.user_management().membership(account_id, &id).await;
            (id, m)
        })
        .buffer_unordered(concurrency.max(1))
        .collect::<BTreeMap<IamId, std::result::Result<Membership, Error>>>();
    let policies = stream::iter(key_owners)
        .map(|id| async move {
            let p = super::check::read_policies(session, account_id, &id, caller_id, shared).await;
            (id, p)
        })
        .buffer_unordered(concurrency.max(1))
        .collect::<BTreeMap<IamId, super::check::Policies>>();
    let quotas = stream::iter(quota_ids)
        .map(|id| async move {
            let q = session.iam_identity().api_key_quota(account_id, &id).await;
            (id, q)
        })
        .buffer_unordered(concurrency.max(1))
        .collect::<BTreeMap<IamId, Result<(u64, u64)>>>();
    let standings = stream::iter(services)
        .map(|id| async move {
            let s = service_id_standing(session, &id).await;
            (id, s)
        })
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<_>>();
    let (mut memberships, policies, quotas, standings) = tokio::join!(memberships, policies, quotas, standings);
    memberships.extend(standings);
    OwnerReads { memberships, policies, quotas }
}

/// `owner-is-account-owner` on each target whose current key the account owner owns; when the
/// account's owner could not be read, the finding is unchecked on every target with a key (never
/// taken for "not the owner"), and the note that says so.
fn account_owner_findings(targets: &mut [TargetStatus], owner: &Result<IamId>) -> Option<String> {
    let owner = match owner {
        Ok(o) => o,
        Err(e) => {
            let why = format!("the account's owner could not be read ({e})");
            let mut any = false;
            for t in targets.iter_mut().filter(|t| t.key.is_some()) {
                t.not_checked(&[Code::OwnerIsAccountOwner], why.clone());
                any = true;
            }
            return any.then(|| {
                format!(
                    "{}: whether the account owner owns a key (owner-is-account-owner) is unknown.",
                    upper_first(&why)
                )
            });
        }
    };
    for t in targets.iter_mut() {
        let Some(k) = &t.key else { continue };
        if !k.iam_id.as_str().eq_ignore_ascii_case(owner.as_str()) {
            continue;
        }
        let who = t
            .owner
            .as_ref()
            .map(|o| o.name.trim())
            .filter(|n| !n.is_empty())
            .map_or_else(|| k.iam_id.to_string(), |n| format!("{n} ({})", k.iam_id));
        t.findings.push(Finding::new(
            Code::OwnerIsAccountOwner,
            format!("key {} is owned by {who}, the account owner: CIS 1.5 asks that no API key be owned by the account owner", k.id),
        ));
        t.findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    }
    None
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
        if let Some(why) = t.unchecked_reason(Code::ClusterCredentialFailure) {
            notes.push(format!(
                "{place}: {why}: whether they report a credential failure is unknown (cluster-credential-failure was not checked for them)."
            ));
        }
        for u in &t.unchecked {
            let what = match u.findings.as_slice() {
                [Code::KeyExpiring, Code::KeyExpired] => "key-expiring and key-expired were",
                [Code::KeyLeakAction] => "key-leak-action was",
                _ => continue,
            };
            notes.push(format!("{place}: {}: {what} not checked.", u.reason));
        }
        if let KeyScope::CallerOnly(why) = scope {
            // Other owners' older keys are never listed; without a visible current key, nothing
            // about the key could be judged.
            let codes: &[Code] = if t.key.is_none() {
                &[
                    Code::KeyTooOld,
                    Code::KeyLocked,
                    Code::KeyDisabled,
                    Code::OrphanKey,
                    Code::SupersededKeys,
                    Code::KeyExpiring,
                    Code::KeyExpired,
                    Code::KeyLeakAction,
                ]
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
    let key = in_use.current.as_ref().map(|k| {
        let mut info = KeyInfo {
            id: k.id.clone(),
            created: k.created_at.clone(),
            age_days: age_days(k.created_at.as_deref(), now),
            locked: k.locked,
            disabled: k.disabled,
            last_used: k.activity.as_ref().and_then(|a| a.last_authn.clone()),
            iam_id: k.iam_id.clone(),
            expires: None,
            expires_in_days: None,
            expired: false,
            expiry_unknown_reason: None,
            action_when_leaked: None,
            action_when_leaked_unknown_reason: None,
        };
        info.life(k, now);
        info
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
    if o.kind != Some(IdentityKind::User) || functional_ids.iter().any(|f| o.is(f)) {
        return None;
    }
    functional_ids.iter().find(|f| o.unverified(f))
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
        if o.kind == Some(IdentityKind::User) && o.iam_id.is_some() && !opts.functional_ids.iter().any(|f| o.is(f)) {
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
                findings.push(Finding {
                    settings: Some(SettingsPart::NoFunctionalIdNames { who: who.clone() }),
                    ..Finding::new(
                        Code::PersonalOwner,
                        format!(
                            "{who} is taken for a person: a user that no functional ID names (by IAM ID, or by the email the account has on record)"
                        ),
                    )
                });
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
        // A key no cluster uses breaks nothing when it expires or leaks: `orphan-key` says what
        // to do with it.
        if has_clusters {
            findings.extend(life_findings(k));
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

/// What the key's own life makes of it: `key-expired`, `key-expiring` (within
/// [`EXPIRING_DAYS`] days) and `key-leak-action` (IAM disables or deletes it if it leaks).
fn life_findings(k: &KeyInfo) -> Vec<Finding> {
    let mut out = Vec::new();
    if let (Some(at), Some(days)) = (&k.expires, k.expires_in_days) {
        let date = at.get(..10).unwrap_or(at);
        if k.expired {
            let ago = match -days {
                0 => String::from("less than a day ago"),
                1 => String::from("1 day ago"),
                n => format!("{n} days ago"),
            };
            out.push(Finding::new(
                Code::KeyExpired,
                format!(
                    "key {} expired on {date} ({ago}): the clusters cannot use it, as with a disabled key, and report health issue NHC009 (the IAM token exchange request failed)",
                    k.id
                ),
            ));
        } else if days < EXPIRING_DAYS {
            let left = match days {
                0 => String::from("in less than a day"),
                1 => String::from("in 1 day"),
                n => format!("in {n} days"),
            };
            out.push(Finding::new(
                Code::KeyExpiring,
                format!(
                    "key {} expires on {date}, {left}: then the clusters cannot use it and report health issue NHC009",
                    k.id
                ),
            ));
        }
    }
    if let Some(action @ ("disable" | "delete")) = k.action_when_leaked.as_deref() {
        let does = if action == "delete" { "deletes" } else { "disables" };
        out.push(Finding::new(
            Code::KeyLeakAction,
            format!(
                "IAM {does} key {} if it finds it leaked (action_when_leaked: {action}): a leak of the clusters' key becomes an outage unless the key is reset first",
                k.id
            ),
        ));
    }
    out
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
                status: c.status.clone(),
                master_status: c.master_status().to_owned(),
                master_health: c.master_health().to_owned(),
                reports: None,
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
    if let Some(k) = t.key.as_ref().filter(|_| has_clusters) {
        let (id, expiry, leak) =
            (k.id.clone(), k.expiry_unknown_reason.clone(), k.action_when_leaked_unknown_reason.clone());
        if let Some(why) = expiry {
            t.not_checked(&[Code::KeyExpiring, Code::KeyExpired], format!("key {id}: {why}"));
        }
        if let Some(why) = leak {
            t.not_checked(&[Code::KeyLeakAction], format!("key {id}: {why}"));
        }
    }
    if let Some(o) = &t.owner
        && let Some(f) = unconfirmed_functional(o, &opts.functional_ids)
    {
        let reason = format!("whether the owner is the functional ID {f} could not be confirmed");
        t.not_checked(&[Code::PersonalOwner], reason);
    }
    t
}
