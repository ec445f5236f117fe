//! `reset`: replace the cluster API key of a region and resource group with one of the caller.
//!
//! `POST /v1/keys` mints a new key every time, so it is never retried blindly. When the call
//! fails in a way that leaves its outcome open (a timeout, a dropped connection, a 5xx), we look
//! at the caller's `containers-kubernetes-key` keys: a key for this target that was not there
//! before means the reset happened; none means it did not; if even that cannot be read, we say
//! the outcome is unknown and how to check it, rather than guess.

use serde::Serialize;

use super::{Caller, KEY_NAME, Session, Target, is_key_for};
use crate::api::containers::{Cluster, KeyOwner};
use crate::api::iam_identity::{ApiKey, ListQuery};
use crate::audit::{AuditLog, Record};
use crate::error::{Error, Result};
use crate::types::ApiKeyId;

/// Everything known before the reset.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetPlan {
    /// Region and resource group.
    pub target: Target,
    /// Who will own the new key.
    pub caller: Caller,
    /// Clusters in the target (every one of them uses the key).
    pub clusters: Vec<Cluster>,
    /// Why the clusters could not be listed, if they could not (the reset does not need them).
    pub clusters_unknown_reason: Option<String>,
    /// The current owner, when a cluster exists to ask about.
    pub current_owner: Option<KeyOwner>,
    /// Why the current owner is unknown, if it is.
    pub owner_unknown_reason: Option<String>,
    /// The caller's existing keys for this target, when they could be listed.
    #[serde(skip)]
    pub existing_keys: Option<Vec<ApiKey>>,
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
    /// Whether the key owner was seen to be the caller after the reset; `None` when not checked
    /// (no clusters to ask about, or verification turned off).
    pub verified: Option<bool>,
}

/// What verification saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// The owner is the caller.
    Verified,
    /// There is no cluster to ask the owner of.
    NoClusters,
    /// The owner did not turn into the caller in time; the last thing seen.
    TimedOut(String),
}

/// Waits until the key owner of the target is the caller, riding out IAM's replication delay
/// (404s, or the previous owner still reported, right after a reset).
pub async fn verify(
    session: &Session,
    plan: &ResetPlan,
    timeout: std::time::Duration,
    interval: std::time::Duration,
) -> Verification {
    let Some(cluster) = plan.clusters.first() else { return Verification::NoClusters };
    let Ok(containers) = session.containers(Some(&plan.target.region)) else {
        return Verification::TimedOut(String::from("no containers endpoint"));
    };
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let seen = match containers.key_owner(&cluster.id, Some(&plan.target.resource_group.id)).await {
            Ok(o) if o.iam_id.is_some() && o.iam_id == plan.caller.iam_id => return Verification::Verified,
            // Without an IAM ID in the answer, the email is the next best identity.
            Ok(o) if o.iam_id.is_none() && !o.email.is_empty() && o.email == plan.caller.display => {
                return Verification::Verified;
            }
            Ok(o) => format!("the owner still shows as {} <{}>", o.name, o.email),
            Err(e) => e.to_string(),
        };
        if tokio::time::Instant::now() + interval > deadline {
            return Verification::TimedOut(seen);
        }
        tokio::time::sleep(interval).await;
    }
}

/// Reads what the reset will touch.
///
/// # Errors
/// Auth, target resolution and API errors. Failing to read the current owner is not an error:
/// the official tools treat that lookup as best effort too.
pub async fn plan(session: &Session, region: Option<&str>, group: Option<&str>) -> Result<ResetPlan> {
    let caller = session.caller().await?;
    let target = session.target(&caller, region, group).await?;
    let containers = session.containers(Some(&target.region))?;
    // The cluster list only informs the user; a failing provider list must not block a reset.
    let (clusters, clusters_unknown_reason) = match containers.clusters(Some(&target.resource_group.id)).await {
        Ok(c) => (c, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let (current_owner, owner_unknown_reason) = match clusters.first() {
        None if clusters_unknown_reason.is_some() => (None, Some(String::from("the clusters could not be listed"))),
        None => (None, Some(String::from("no clusters in this region and resource group"))),
        Some(c) => match containers.key_owner(&c.id, Some(&target.resource_group.id)).await {
            Ok(o) => (Some(o), None),
            Err(e) => (None, Some(e.to_string())),
        },
    };
    let existing_keys = caller_keys(session, &caller, &target).await.ok();
    Ok(ResetPlan {
        target,
        caller,
        clusters,
        clusters_unknown_reason,
        current_owner,
        owner_unknown_reason,
        existing_keys,
    })
}

async fn caller_keys(session: &Session, caller: &Caller, target: &Target) -> Result<Vec<ApiKey>> {
    let q = ListQuery {
        account_id: Some(caller.account.clone()),
        iam_id: caller.iam_id.clone(),
        scope_account: false,
        key_type: None,
    };
    let keys = session.iam_identity().list(&q).await?;
    Ok(keys.into_iter().filter(|k| is_key_for(k, target)).collect())
}

fn new_keys<'a>(before: &[ApiKey], after: &'a [ApiKey]) -> Vec<&'a ApiKey> {
    after.iter().filter(|k| !before.iter().any(|b| b.id == k.id)).collect()
}

/// Runs the reset, then records it in the audit log (when `audit` is given).
///
/// # Errors
/// The API error when the reset certainly did not happen; [`Error::ResetOutcomeUnknown`] when
/// it may have.
pub async fn execute(session: &Session, plan: &ResetPlan, audit: Option<&AuditLog>) -> Result<ResetReport> {
    let t = &plan.target;
    let result = session.containers(Some(&t.region))?.reset_key(Some(&t.resource_group.id)).await;
    let mut confirmed_after_error = false;
    let mut new_key_id = None;
    match result {
        Ok(()) => {
            if let (Some(before), Ok(after)) = (&plan.existing_keys, caller_keys(session, &plan.caller, t).await) {
                new_key_id = new_keys(before, &after).last().map(|k| k.id.clone());
            }
        }
        Err(e) if e.outcome_unknown() => {
            // A 5xx means the server finished with the request: if no new key exists, the reset
            // did not happen. A timeout or a dropped connection means the request may still be
            // in flight, so look a few times before concluding anything, and even then only
            // say "unknown".
            let in_flight = matches!(e, Error::Transport { .. });
            let looks = if in_flight { 3 } else { 1 };
            let mut check = Err(Error::Transport {
                message: String::from("the key list could not be read before the reset"),
                timeout: false,
            });
            if let Some(before) = &plan.existing_keys {
                for i in 0..looks {
                    if i > 0 {
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                    check = caller_keys(session, &plan.caller, t)
                        .await
                        .map(|after| new_keys(before, &after).last().map(|k| k.id.clone()));
                    if matches!(check, Ok(Some(_))) {
                        break;
                    }
                }
            }
            match check {
                Ok(Some(id)) => {
                    confirmed_after_error = true;
                    new_key_id = Some(id);
                }
                Ok(None) if !in_flight => {
                    record(audit, plan, "failed", Vec::new(), &format!("reset did not happen: {e}"));
                    return Err(e);
                }
                unknown => {
                    let detail = match unknown {
                        Err(check_err) => format!("{e}; checking afterwards failed too: {check_err}"),
                        Ok(_) => format!("{e}; no new key has appeared so far, but the request may still be processed"),
                    };
                    record(audit, plan, "unknown", Vec::new(), &detail);
                    return Err(Error::ResetOutcomeUnknown {
                        region: t.region.to_string(),
                        group: t.resource_group.name.clone(),
                        detail,
                    });
                }
            }
        }
        Err(e) => {
            record(audit, plan, "failed", Vec::new(), &e.to_string());
            return Err(e);
        }
    }
    let ids: Vec<String> = new_key_id.iter().map(ToString::to_string).collect();
    let detail = match &plan.current_owner {
        Some(o) => format!("{KEY_NAME} replaced; previous owner {} <{}>", o.name, o.email),
        None => format!("{KEY_NAME} replaced"),
    };
    record(audit, plan, "succeeded", ids, &detail);
    Ok(ResetReport {
        region: t.region.to_string(),
        resource_group_id: t.resource_group.id.to_string(),
        resource_group_name: t.resource_group.name.clone(),
        new_owner: plan.caller.clone(),
        previous_owner: plan.current_owner.clone(),
        clusters: plan.clusters.iter().map(|c| c.name.clone()).collect(),
        new_key_id,
        confirmed_after_error,
        verified: None,
    })
}

fn record(audit: Option<&AuditLog>, plan: &ResetPlan, outcome: &str, key_ids: Vec<String>, detail: &str) {
    let Some(log) = audit else { return };
    let mut r = Record::now("reset", outcome);
    r.actor = plan.caller.iam_id.as_ref().map(ToString::to_string);
    r.account = Some(plan.caller.account.to_string());
    r.region = Some(plan.target.region.to_string());
    r.resource_group_id = Some(plan.target.resource_group.id.to_string());
    r.key_ids = key_ids;
    r.detail = detail.to_owned();
    // The audit log must not turn a done reset into a reported failure; a write error is
    // swallowed here and the binary warns from the log's absence is not worth a failure.
    let _ = log.append(&r);
}
