//! `reset`: replace the cluster API key of a region and resource group with one of the caller.
//!
//! `POST /v1/keys` mints a new key every time, so it is never retried blindly. Only two answers
//! say the reset did not happen: IBM's own refusal (its error body with code and incident ID)
//! and a connection that was never made. Any other answer (a gateway's 504, an HTML page, a
//! timeout, a dropped connection) leaves the outcome open, and so does a 2xx that is not IBM's:
//! then we look at the caller's `containers-kubernetes-key` keys for a while. A key for this
//! target that was not there before means the reset happened; none means the outcome is still
//! unknown, and we say how to check it rather than guess.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::discovery::TargetFacts;
use super::lock::TargetLock;
use super::{Caller, KEY_NAME, Session, Target, is_key_for};
use crate::api::containers::{Cluster, KeyOwner, ResetAnswer};
use crate::api::iam_identity::{ApiKey, ListQuery};
use crate::api::user_management::Membership;
use crate::audit::{AuditLog, Record};
use crate::error::{Error, Result, clause};
use crate::types::{ApiKeyId, Known};

/// Everything known before the reset.
#[derive(Debug, Clone)]
pub struct ResetPlan {
    /// Region and resource group.
    pub target: Target,
    /// Who will own the new key.
    pub caller: Caller,
    /// Clusters in the target (every one of them uses the key); unknown when they could not be
    /// listed (the reset does not need them).
    pub clusters: Known<Vec<Cluster>>,
    /// The current owner, when a cluster exists to ask about.
    pub current_owner: Known<KeyOwner>,
    /// The current owner's state in the account (User Management), when it can be read.
    pub owner_state: Known<Membership>,
    /// The key the clusters use now (it becomes obsolete), when the key list shows it.
    pub current_key: Known<ApiKey>,
    /// Whether the key owner answered that a previous reset is still replicating (`A0055`).
    pub replicating: bool,
    /// The target has clusters and no API key yet (IBM's "no credentials", `E0051`, or no key
    /// listed where every key can be listed and no owner reported: `status`'s `no-key`): a
    /// reset creates the first one, and there is no previous key or owner to speak of.
    pub no_key: bool,
    /// The caller's `containers-kubernetes-key` keys, when they could be listed: one snapshot
    /// shared by every target of a batch (a thousand copies of a page of keys is tens of MiB).
    pub existing_keys: Option<std::sync::Arc<Vec<ApiKey>>>,
}

impl ResetPlan {
    /// The clusters, none when they are unknown.
    #[must_use]
    pub fn clusters(&self) -> &[Cluster] {
        self.clusters.known().map_or(&[], Vec::as_slice)
    }
}

/// What a reset did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetReport {
    /// Region.
    pub region: String,
    /// Resource group ID.
    pub resource_group_id: String,
    /// Resource group name.
    pub resource_group_name: String,
    /// The new owner (the caller).
    pub new_owner: Caller,
    /// The owner before the reset, when known.
    pub previous_owner: Option<KeyOwner>,
    /// Names of the clusters that use the key.
    pub clusters: Vec<String>,
    /// The new key's ID, when it could be found.
    pub new_key_id: Option<ApiKeyId>,
    /// True when the request itself failed but the check afterwards showed the new key.
    pub confirmed_after_error: bool,
    /// Things the user should know that do not change the outcome.
    pub warnings: Vec<String>,
    /// Why the audit log could not be written, when it could not.
    pub audit_error: Option<String>,
}

/// What verification saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// The owner is the caller.
    Verified,
    /// The caller owned the key before the reset, so the owner proves nothing; only the new
    /// key's existence in IAM can be checked.
    AlreadyOwner,
    /// There is no cluster to ask the owner of.
    NoClusters,
    /// The owner did not turn into the caller in time; the last thing seen.
    TimedOut(String),
    /// IAM had not replicated the new key when the wait for it ended (it still answered 404
    /// `E06f9`): whether the clusters use the new key is unknown, neither failed nor verified;
    /// why, in words.
    NotReplicated(String),
}

/// How long verification waits out a new key that IAM has not replicated yet (404 `E06f9`),
/// at most (and never past the verification's own timeout).
const REPLICATION_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The longest pause between two looks while IAM has not replicated the new key.
const REPLICATION_BACKOFF_MAX: std::time::Duration = std::time::Duration::from_secs(8);

/// Whether `e` says that IAM has not replicated a brand-new key yet: 404 `E06f9` ("The specified
/// API key could not be found.").
///
/// OPEN: IBM's sources (terraform-provider-ibm #3561, IBM's own Terraform module, which slept
/// 10 s) give the code and message for a key a few seconds old, not which service answers it
/// nor its body: the code is matched in any service's error body, any case, on a 404 only.
fn not_replicated(e: &Error) -> bool {
    matches!(e, Error::Api(a) if a.status == 404 && a.code.as_deref().is_some_and(|c| c.eq_ignore_ascii_case("E06f9")))
}

/// Waits until the key owner of the target is the caller, riding out IAM's replication delay
/// (404s, or the previous owner still reported, right after a reset).
pub async fn verify(
    session: &Session,
    plan: &ResetPlan,
    timeout: std::time::Duration,
    interval: std::time::Duration,
) -> Verification {
    let Some(cluster) = plan.clusters().first() else { return Verification::NoClusters };
    if plan.current_owner.known().is_some_and(|o| o.iam_id.is_some() && o.iam_id == plan.caller.iam_id) {
        return Verification::AlreadyOwner;
    }
    let Ok(containers) = session.containers(Some(&plan.target.region)) else {
        return Verification::TimedOut(String::from("no containers endpoint"));
    };
    let started = tokio::time::Instant::now();
    let deadline = started + timeout;
    // A new key IAM has not replicated yet is waited out with a growing pause, for
    // [`REPLICATION_WAIT`] at most: it is no failure.
    let replication_deadline = started + timeout.min(REPLICATION_WAIT);
    let mut pause = interval;
    loop {
        let (seen, replicating) = match containers.key_owner(&cluster.id, Some(&plan.target.resource_group.id)).await {
            Ok(o) if o.iam_id.is_some() && o.iam_id == plan.caller.iam_id => return Verification::Verified,
            // Without an IAM ID in the answer, the email is the next best identity.
            Ok(o) if o.iam_id.is_none() && !o.email.is_empty() && o.email == plan.caller.display => {
                return Verification::Verified;
            }
            Ok(o) => (format!("the owner still shows as {} <{}>", o.name, o.email), false),
            Err(e) => (e.to_string(), not_replicated(&e)),
        };
        let now = tokio::time::Instant::now();
        if replicating {
            if now + pause > replication_deadline {
                return Verification::NotReplicated(format!(
                    "IAM still answered 404 E06f9 (the new key could not be found: it has not replicated yet) after {} s",
                    now.duration_since(started).as_secs()
                ));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(REPLICATION_BACKOFF_MAX.max(interval));
            continue;
        }
        pause = interval;
        if now + interval > deadline {
            return Verification::TimedOut(seen);
        }
        tokio::time::sleep(interval).await;
    }
}

impl ResetPlan {
    /// The plan of a reset of the target `facts` describe, by `caller`: the one builder for a
    /// single reset and for every target of a batch. `existing_keys` is the caller's key snapshot
    /// that the new key is found against.
    #[must_use]
    pub(crate) fn from_facts(
        caller: &Caller,
        facts: &TargetFacts,
        existing_keys: Option<std::sync::Arc<Vec<ApiKey>>>,
    ) -> Self {
        let mut clusters = facts.clusters.clone();
        if let Known::Known(list) = &mut clusters {
            list.sort_by(|a, b| a.name.cmp(&b.name));
        }
        let owner_state = match facts.membership.known() {
            Some(m) => Known::Known(m.clone()),
            None => match facts.owner.known().and_then(|o| o.iam_id.as_ref()) {
                Some(id)
                    if crate::types::IdentityKind::from_iam_id(id.as_str())
                        != Some(crate::types::IdentityKind::User) =>
                {
                    Known::Unknown(String::from("the owner is not a user of the account"))
                }
                Some(_) => facts.membership.clone(),
                None => Known::Unknown(String::from("the owner is not known")),
            },
        };
        let current_key = facts.current_key();
        // The same rule as `status`'s `no-key`, so that both say the same of a target.
        let no_key = clusters.known().is_some_and(|c| !c.is_empty())
            && current_key.known().is_none()
            && facts.owner.known().is_none()
            && (facts.key_gone || matches!(facts.key_scope, super::discovery::KeyScope::Account));
        Self {
            target: facts.target.clone(),
            caller: caller.clone(),
            clusters,
            current_owner: facts.owner.clone(),
            owner_state,
            current_key,
            replicating: facts.replicating,
            no_key,
            existing_keys,
        }
    }
}

/// Reads what the reset will touch.
///
/// # Errors
/// Auth, target resolution and API errors. Failing to read the current owner is not an error:
/// the official tools treat that lookup as best effort too.
pub async fn plan(session: &Session, region: Option<&crate::types::Region>, group: Option<&str>) -> Result<ResetPlan> {
    let caller = session.caller().await?;
    let target = session.target(&caller, region.map(crate::types::Region::as_str), group).await?;
    let facts = read_target(session, &caller, target).await?;
    // Best effort, but a setup error (an insecure endpoint override) is the user's to fix: it
    // must not silently turn off the lost-answer check that needs this list.
    let existing_keys = match caller_keys(session, &caller).await {
        Ok(k) => Some(std::sync::Arc::new(k)),
        Err(e) if e.is_setup() => return Err(e),
        Err(_) => None,
    };
    Ok(ResetPlan::from_facts(&caller, &facts, existing_keys))
}

/// The facts of one target, read for it alone (a batch reads them for the whole account in
/// `status`): its clusters, the owner the first of them reports, that owner's membership, and
/// the target's keys.
async fn read_target(session: &Session, caller: &Caller, target: Target) -> Result<TargetFacts> {
    let containers = session.containers(Some(&target.region))?;
    // The cluster list only informs the user; a failing provider list must not block a reset.
    let clusters = match containers.clusters(Some(&target.resource_group.id)).await {
        Ok(mut c) => {
            c.sort_by(|a, b| a.name.cmp(&b.name));
            Known::Known(c)
        }
        Err(e) if e.is_setup() => return Err(e),
        Err(e) => Known::Unknown(e.to_string()),
    };
    let mut replicating = false;
    let mut key_gone = false;
    let owner = match &clusters {
        Known::Unknown(_) => Known::Unknown(String::from("the clusters could not be listed")),
        Known::Known(c) => match c.first() {
            None => Known::Unknown(String::from("no clusters in this region and resource group")),
            Some(c) => match containers.key_owner(&c.id, Some(&target.resource_group.id)).await {
                Ok(o) => Known::Known(o),
                Err(e) if e.is_setup() => return Err(e),
                Err(e) => {
                    replicating = matches!(&e, Error::Api(a) if a.code.as_deref() == Some("A0055"));
                    key_gone = matches!(&e, Error::Api(a) if a.status == 404 && a.code.as_deref() == Some("E0051"));
                    Known::Unknown(clause(&e.to_string()).to_owned())
                }
            },
        },
    };
    let membership = match owner.known().and_then(|o| o.iam_id.as_ref()) {
        Some(id) if crate::types::IdentityKind::from_iam_id(id.as_str()) == Some(crate::types::IdentityKind::User) => {
            match session.user_management().membership(&caller.account, id).await {
                Ok(m) => Known::Known(m),
                Err(e) => Known::Unknown(clause(&e.to_string()).to_owned()),
            }
        }
        Some(_) => Known::Unknown(String::from("the owner is not a user of the account")),
        None => Known::Unknown(String::from("the owner is not known")),
    };
    let (keys, key_scope) = match super::discovery::keys(session, caller).await {
        Ok((keys, scope)) => (keys.into_iter().filter(|k| is_key_for(k, &target)).collect(), scope),
        Err(e) if e.is_setup() => return Err(e),
        Err(e) => (Vec::new(), super::discovery::KeyScope::CallerOnly(clause(&e.to_string()).to_owned())),
    };
    Ok(TargetFacts { target, clusters, keys, key_scope, owner, replicating, membership, key_gone })
}

/// The caller's newest `containers-kubernetes-key` keys (one page, newest first: see
/// [`new_key`]).
pub(crate) async fn caller_keys(session: &Session, caller: &Caller) -> Result<Vec<ApiKey>> {
    caller_keys_until(session, caller, None).await
}

/// [`caller_keys`], with a deadline of its own when `until` is given.
async fn caller_keys_until(
    session: &Session,
    caller: &Caller,
    until: Option<std::time::Instant>,
) -> Result<Vec<ApiKey>> {
    let q = ListQuery {
        account_id: Some(caller.account.clone()),
        iam_id: caller.iam_id.clone(),
        scope_account: false,
        key_type: None,
    };
    let ids = session.iam_identity();
    let keys = match until {
        Some(u) => ids.newest_until(&q, u).await?,
        None => ids.newest(&q).await?,
    };
    Ok(keys.into_iter().filter(|k| k.name == KEY_NAME).collect())
}

/// Time set aside for one read of the key list after the POST, beyond the grace period: the
/// POST may have used the whole command budget, and the key it minted must still be found.
const LOOK_RESERVE: Duration = Duration::from_secs(15);

/// The key a reset of `target` minted: a key in `after` that is not in `before`.
///
/// INFERRED (no public copy of IBM's wording): the key's description names the region and the
/// resource group ID ([`is_key_for`]). Should IBM word it otherwise, a reset that IBM accepted
/// must not read as "no new key", so a single new `containers-kubernetes-key` is taken as ours
/// when none matches the description rule and its description names no region at all (a
/// description that names a region belongs where it says: in a batch, that is another target's
/// key). This is the only place that makes that call.
fn new_key(target: &Target, before: &[ApiKey], after: &[ApiKey]) -> Option<ApiKey> {
    // Both lists are newest pages: a key older than the oldest one seen before is not new, it
    // just did not fit on the page then.
    let oldest_before = before.iter().filter_map(|k| k.created_at.as_deref()).min();
    let fresh: Vec<&ApiKey> = after
        .iter()
        .filter(|k| !before.iter().any(|b| b.id == k.id))
        .filter(|k| oldest_before.is_none_or(|o| k.created_at.as_deref().is_some_and(|c| c >= o)))
        .collect();
    if let Some(k) = fresh.iter().rev().find(|k| is_key_for(k, target)) {
        return Some((*k).clone());
    }
    match fresh.as_slice() {
        [only]
            if only
                .description
                .as_deref()
                .is_none_or(|d| !crate::types::KNOWN_REGIONS.iter().any(|r| d.contains(r))) =>
        {
            Some((*only).clone())
        }
        _ => None,
    }
}

/// How `execute` works around the POST.
#[derive(Debug, Clone)]
pub struct ExecuteOptions {
    /// Where the audit log is, if anywhere.
    pub audit: Option<AuditLog>,
    /// Where the per-target lock files go (the plugin folder), if anywhere.
    pub lock_dir: Option<PathBuf>,
    /// How long to wait for another reset of the same target to finish.
    pub lock_timeout: Duration,
    /// How long to look for the new key when the answer leaves the outcome open.
    pub grace: Duration,
    /// How long to look after an interruption (short: the user wants to stop).
    pub interrupted_grace: Duration,
    /// How often to look.
    pub interval: Duration,
    /// Whether to take the key snapshot again under the lock (a single reset: another process
    /// may have reset the target since the plan). A batch plans from one snapshot taken just
    /// before and saves the request: its own resets are of other targets.
    pub fresh_snapshot: bool,
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        Self {
            audit: None,
            lock_dir: None,
            lock_timeout: Duration::from_secs(180),
            grace: Duration::from_secs(30),
            interrupted_grace: Duration::from_secs(3),
            interval: Duration::from_secs(2),
            fresh_snapshot: true,
        }
    }
}

/// What the POST's answer says on its own.
enum Answer {
    /// IBM accepted it.
    Accepted,
    /// IBM refused it, or it was never sent: the reset did not happen (unless the key list
    /// says otherwise, which is checked for IBM's 5xx).
    Refused(Error),
    /// Anything else: the outcome is open; why.
    Open(String),
}

/// Looks for the new key until `grace` has passed. `Ok(None)`: the list was read and no new
/// key is there; `Err`: it could not be read at all.
async fn look_for_new_key(
    session: &Session,
    plan: &ResetPlan,
    before: &[ApiKey],
    grace: Duration,
    interval: Duration,
) -> Result<Option<ApiKey>> {
    let deadline = tokio::time::Instant::now() + grace;
    // The look's own budget, apart from the command's (which the POST may have spent).
    let until = std::time::Instant::now() + grace + LOOK_RESERVE;
    let mut last = None;
    loop {
        match caller_keys_until(session, &plan.caller, Some(until)).await {
            Ok(after) => {
                if let Some(k) = new_key(&plan.target, before, &after) {
                    return Ok(Some(k));
                }
                last = Some(Ok(None));
            }
            // One good read that showed nothing beats a later read that failed.
            Err(e) => {
                if !matches!(last, Some(Ok(None))) {
                    last = Some(Err(e));
                }
            }
        }
        if tokio::time::Instant::now() + interval > deadline {
            return last.unwrap_or(Ok(None));
        }
        tokio::time::sleep(interval).await;
    }
}

/// Runs the reset, then records it in the audit log.
///
/// Around the POST it holds the target's lock (when `opts.lock_dir` is given), so that the key
/// list taken just before and the one read just after differ by exactly the key this process
/// minted. If `interrupted` completes while the POST is in flight, the answer is abandoned and
/// a short look at the key list decides between "it happened" and "unknown".
///
/// Success is IBM's answer *and*, when the key list can be read, a new key (a 200 HTML
/// page from a proxy once read as success). IBM's own refusal, or a connection never made,
/// means nothing changed. Everything else (a gateway's 5xx, an HTML page, an empty body, a
/// timeout, a cut connection, an interruption) leads to a look for the new key over the grace
/// period, and ends in "it happened" or [`Error::ResetOutcomeUnknown`], never "nothing changed".
///
/// # Errors
/// The API error when the reset certainly did not happen; [`Error::ResetOutcomeUnknown`] when
/// it may have.
pub async fn execute(
    session: &Session,
    plan: &ResetPlan,
    opts: &ExecuteOptions,
    interrupted: impl std::future::Future<Output = ()>,
) -> Result<ResetReport> {
    let t = &plan.target;
    let audit = opts.audit.as_ref();
    let mut warnings = Vec::new();
    let _lock = match &opts.lock_dir {
        Some(dir) => match TargetLock::acquire(dir, "reset", t, opts.lock_timeout).await {
            Ok(l) => Some(l),
            Err(e @ Error::LockTimeout { .. }) => {
                record(audit, plan, "failed", Vec::new(), &format!("another reset of this target kept running: {e}"));
                return Err(e);
            }
            Err(e) => {
                warnings.push(format!(
                    "Could not take the lock that keeps two resets of this target apart ({e}); the new key is found without it."
                ));
                None
            }
        },
        None => None,
    };
    // The snapshot that decides which key is ours, taken under the lock; the plan's copy is the
    // fallback, and comparing the two shows a reset that finished since the plan was made.
    let fresh = if opts.fresh_snapshot || plan.existing_keys.is_none() {
        Some(caller_keys(session, &plan.caller).await)
    } else {
        None
    };
    let before = match fresh {
        Some(Ok(now)) => {
            if let Some(planned) = &plan.existing_keys {
                for k in now.iter().filter(|k| is_key_for(k, t) && !planned.iter().any(|p| p.id == k.id)) {
                    warnings.push(format!(
                        "Another reset of this target finished moments ago (key {}, created {}); this one replaces that key again.",
                        k.id,
                        k.created_at.as_deref().unwrap_or("just now")
                    ));
                }
            }
            Some(std::sync::Arc::new(now))
        }
        // No fresh snapshot (a batch), or it could not be read: the plan's.
        None | Some(Err(_)) => plan.existing_keys.clone(),
    };

    let containers = session.containers(Some(&t.region))?;
    let post = containers.reset_key(Some(&t.resource_group.id));
    tokio::pin!(post);
    tokio::pin!(interrupted);
    let (answer, grace) = tokio::select! {
        r = &mut post => match r {
            Ok(ResetAnswer::Accepted) => (Answer::Accepted, opts.grace),
            Ok(ResetAnswer::NotIbm(what)) => (Answer::Open(what), opts.grace),
            Err(e) if e.outcome_unknown() => (Answer::Open(e.to_string()), opts.grace),
            Err(e) => (Answer::Refused(e), opts.grace),
        },
        () = &mut interrupted => (
            Answer::Open(String::from("interrupted after the request was sent, before its answer came")),
            opts.interrupted_grace,
        ),
    };

    let mut confirmed_after_error = false;
    let new_key_id = match answer {
        Answer::Accepted => match &before {
            // Without a snapshot there is nothing to compare with: IBM's answer is all we have.
            None => None,
            Some(before) => match look_for_new_key(session, plan, before, grace, opts.interval).await {
                Ok(Some(k)) => Some(k.id),
                // The list was unreadable after the reset: IBM's answer stands.
                Err(_) => None,
                Ok(None) => {
                    let detail = format!(
                        "IBM accepted the request, but no new {KEY_NAME} has appeared among your keys in {} s",
                        grace.as_secs()
                    );
                    return Err(unknown(audit, plan, detail, &warnings));
                }
            },
        },
        Answer::Refused(e) => {
            // IBM's own 5xx says the request was processed and failed; a key that appeared
            // anyway overrules it (one look, no waiting).
            let server_side = matches!(&e, Error::Api(api) if api.status >= 500);
            if server_side
                && let Some(before) = &before
                && let Ok(Some(k)) = look_for_new_key(session, plan, before, Duration::ZERO, opts.interval).await
            {
                confirmed_after_error = true;
                warnings
                    .push(format!("The request reported an error ({e}), but the new key exists: the reset happened."));
                Some(k.id)
            } else {
                record(audit, plan, "failed", Vec::new(), &format!("reset did not happen: {e}"));
                return Err(e);
            }
        }
        Answer::Open(why) => {
            let found = match &before {
                Some(before) => look_for_new_key(session, plan, before, grace, opts.interval).await,
                None => Err(Error::Transport {
                    message: String::from("the key list could not be read before the reset"),
                    timeout: false,
                    not_sent: true,
                }),
            };
            match found {
                Ok(Some(k)) => {
                    confirmed_after_error = true;
                    warnings.push(format!(
                        "The answer left the outcome open ({}), but the new key exists: the reset happened.",
                        clause(&why)
                    ));
                    Some(k.id)
                }
                Ok(None) => {
                    let detail = format!(
                        "{}; no new key has appeared in {} s, but the request may still be processed",
                        clause(&why),
                        grace.as_secs()
                    );
                    return Err(unknown(audit, plan, detail, &warnings));
                }
                Err(check) => {
                    return Err(unknown(
                        audit,
                        plan,
                        format!("{}; checking afterwards failed too: {}", clause(&why), clause(&check.to_string())),
                        &warnings,
                    ));
                }
            }
        }
    };

    let ids: Vec<String> = new_key_id.iter().map(ToString::to_string).collect();
    let detail = match plan.current_owner.known() {
        Some(o) => format!("{KEY_NAME} replaced; previous owner {} <{}>", o.name, o.email),
        None => format!("{KEY_NAME} replaced"),
    };
    let audit_error = record(audit, plan, "succeeded", ids, &detail);
    Ok(ResetReport {
        region: t.region.to_string(),
        resource_group_id: t.resource_group.id.to_string(),
        resource_group_name: t.resource_group.name.clone(),
        new_owner: plan.caller.clone(),
        previous_owner: plan.current_owner.known().cloned(),
        clusters: plan.clusters().iter().map(|c| c.name.clone()).collect(),
        new_key_id,
        confirmed_after_error,
        warnings,
        audit_error,
    })
}

fn unknown(audit: Option<&AuditLog>, plan: &ResetPlan, detail: String, warnings: &[String]) -> Error {
    record(audit, plan, "unknown", Vec::new(), &detail);
    let mut detail = detail;
    for w in warnings {
        detail.push_str(". ");
        detail.push_str(w.trim_end_matches('.'));
    }
    Error::ResetOutcomeUnknown {
        region: plan.target.region.to_string(),
        group: plan.target.resource_group.name.clone(),
        detail,
    }
}

/// Appends the audit record; returns why it could not be written, if it could not.
fn record(
    audit: Option<&AuditLog>,
    plan: &ResetPlan,
    outcome: &str,
    key_ids: Vec<String>,
    detail: &str,
) -> Option<String> {
    let log = audit?;
    let mut r = Record::now("reset", outcome);
    r.actor = plan.caller.iam_id.as_ref().map(ToString::to_string);
    r.account = Some(plan.caller.account.to_string());
    r.region = Some(plan.target.region.to_string());
    r.resource_group_id = Some(plan.target.resource_group.id.to_string());
    r.key_ids = key_ids;
    detail.clone_into(&mut r.detail);
    // A failed write does not change the reset's outcome; the log remembers it for the binary
    // to show, and the report carries it for JSON.
    log.record(&r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{IamId, Region, ResourceGroup, ResourceGroupId};

    fn key(id: &str, desc: Option<&str>) -> ApiKey {
        ApiKey {
            id: ApiKeyId::new(id),
            name: KEY_NAME.into(),
            description: desc.map(str::to_owned),
            iam_id: IamId::new("IBMid-1"),
            account_id: None,
            created_at: Some(String::from("2026-11-29T10:00:00Z")),
            created_by: None,
            locked: false,
            disabled: false,
            entity_tag: None,
            activity: None,
            expires_at: None,
            action_when_leaked: None,
        }
    }

    #[test]
    fn a_new_key_of_another_target_is_never_taken_for_ours() {
        let eu = Target {
            region: Region::new("eu-de"),
            resource_group: ResourceGroup { id: ResourceGroupId::new("g1"), name: "Default".into(), default: true },
        };
        let before = [key("old", Some("eu-de g1"))];
        // A batch minted a key for us-south meanwhile: it names its region, so it is not ours.
        assert_eq!(new_key(&eu, &before, &[key("old", Some("eu-de g1")), key("other", Some("us-south g1"))]), None);
        // Ours, by the rule.
        let ours = new_key(&eu, &before, &[key("other", Some("us-south g1")), key("ours", Some("for eu-de and g1"))]);
        assert_eq!(ours.map(|k| k.id.to_string()).as_deref(), Some("ours"));
        // A wording that names no region at all: the single new key is ours.
        let ours = new_key(&eu, &before, &[key("ours", Some("Kubernetes Service key"))]);
        assert_eq!(ours.map(|k| k.id.to_string()).as_deref(), Some("ours"));
    }
}
