//! Fleet `reset`: many targets in one run, selected by filters for automation, planned once,
//! confirmed once, executed in the pool with the single-target rules for each (the per-target
//! lock, never a blind retry, a look for the new key after a lost answer), verified
//! concurrently.
//!
//! The targets come from `status` (one discovery for all); each target's [`ResetPlan`] is built
//! from the facts `status` judged, by the same builder as a single reset's
//! ([`ResetPlan::from_facts`]), so that a reset costs the lock's key snapshot, the POST and the
//! look for the new key, and nothing more.

use std::time::Duration;

use futures_util::stream::{self, StreamExt as _};

use super::reset::{self, ExecuteOptions, ResetPlan, ResetReport, Verification};
use super::status::{self, Silent};
use super::{Session, Target};
use crate::error::{Error, Result};
use crate::model::{ClassicStatus, OwnerState};
use crate::types::IamId;

/// Which targets, and which of them to reset.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// These regions (none: the targeted region, unless `all_regions`).
    pub regions: Vec<crate::types::Region>,
    /// These groups (none named: the targeted group, unless `all_groups`).
    pub groups: crate::types::GroupSelector,
    /// Every region.
    pub all_regions: bool,
    /// Every resource group.
    pub all_groups: bool,
    /// Also targets without clusters (`--include-empty`): their new key is used only once a
    /// cluster is created there, so they are reset only when asked for.
    pub include_empty: bool,
    /// Only targets whose key is missing or whose owner is not active.
    pub if_missing: bool,
    /// Only targets whose key is older than this (or missing).
    pub if_older_than: Option<Duration>,
    /// Skip targets already owned by this IAM ID (`me`: the caller).
    pub unless_owner: Option<IamId>,
    /// Skip targets already owned by one of these functional IDs (IAM IDs or emails: the
    /// policy's, for `--unless-owner functional`).
    pub unless_functional: Vec<String>,
}

/// Why a target is not selected: data, which the binary puts in words (and names its flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// It has no clusters: a new key would not be used (reset only with `--include-empty`).
    NoClusters,
    /// `--if-missing`: a key exists and its owner is active.
    KeyPresent,
    /// `--if-older-than`: the key is not older than the limit.
    YoungEnough {
        /// The key's age.
        days: u64,
        /// The limit.
        limit_days: u64,
    },
    /// `--unless-owner me`: the caller owns it already.
    OwnedByCaller,
    /// `--unless-owner IAM_ID`: that identity owns it already.
    OwnedBy(IamId),
    /// `--unless-owner functional`: one of the policy's functional IDs owns it already.
    OwnedByFunctional(String),
    /// Not started: the user stopped the batch.
    Interrupted,
}

/// One target of the plan.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// What a reset of it would change.
    pub plan: ResetPlan,
    /// The key's age in days, when known.
    pub key_age_days: Option<u64>,
    /// Why it is not selected, when it is not.
    pub skip: Option<Skip>,
    /// Its classic infrastructure credentials, as `status` read them (targets with classic
    /// clusters only).
    pub classic_credentials: Option<ClassicStatus>,
}

/// What happened to a target.
#[derive(Debug)]
pub enum Outcome {
    /// Reset, with the verification when one ran.
    Reset(Box<ResetReport>, Option<Verification>),
    /// Not reset: the error says why (IBM's refusal, a request never sent).
    Failed(Error),
    /// May or may not have been reset.
    Unknown(Error),
    /// Not selected, or not started (interrupted).
    Skipped(Skip),
}

/// Reads every target in scope and decides which to reset.
///
/// # Errors
/// As `status` (unknown regions and groups before anything else).
pub async fn plan(session: &Session, sel: &Selection, concurrency: usize) -> Result<Vec<Candidate>> {
    let caller = session.caller().await?;
    let regions = if sel.all_regions {
        Vec::new()
    } else if sel.regions.is_empty() {
        vec![session.region(None)?]
    } else {
        sel.regions.clone()
    };
    let groups = if sel.all_groups {
        crate::types::GroupSelector::default()
    } else if sel.groups.is_empty() {
        crate::types::GroupSelector::new(&[session.resource_group(&caller.account, None).await?.id.to_string()])
    } else {
        sel.groups.clone()
    };
    let opts = status::Options {
        regions,
        groups,
        max_age: Duration::MAX,
        functional_ids: Vec::new(),
        concurrency,
        read_clusters: status::ClusterReads::Skip,
    };
    let (report, facts) = status::status_and_facts(session, &opts, &Silent).await?;
    let unless = match &sel.unless_owner {
        Some(id) if id.as_str() == "me" => caller.iam_id.clone(),
        other => other.clone(),
    };
    // One snapshot of the caller's newest keys for every target: each target's new key is the
    // one that appears for it (see `reset::execute`).
    let snapshot = reset::caller_keys(session, &caller).await.ok().map(std::sync::Arc::new);
    let mut out = Vec::new();
    for (t, f) in report.targets.iter().zip(&facts) {
        // The same builder as a single reset's: one target reads the same in both.
        let plan = ResetPlan::from_facts(&caller, f, snapshot.clone());
        let age = t.key.as_ref().and_then(|k| k.age_days);
        let owner_id = t.owner.as_ref().and_then(|o| o.iam_id.clone());
        let active = matches!(t.owner.as_ref().map(|o| &o.state), Some(OwnerState::Member { state }) if state == "ACTIVE")
            || matches!(t.owner.as_ref().map(|o| &o.state), Some(OwnerState::ServiceId { .. }));
        let mut skip = None;
        if t.clusters.is_empty() && !sel.include_empty {
            skip = Some(Skip::NoClusters);
        } else if sel.if_missing && t.key.is_some() && active {
            skip = Some(Skip::KeyPresent);
        } else if let (Some(max), Some(days)) = (sel.if_older_than, age)
            && days.saturating_mul(86_400) <= max.as_secs()
        {
            skip = Some(Skip::YoungEnough { days, limit_days: max.as_secs() / 86_400 });
        } else if let (Some(u), Some(o)) = (&unless, &owner_id)
            && u == o
        {
            skip = Some(if caller.iam_id.as_ref() == Some(u) { Skip::OwnedByCaller } else { Skip::OwnedBy(u.clone()) });
        } else if let Some(o) = t.owner.as_ref()
            && let Some(f) = sel.unless_functional.iter().find(|f| o.is(f))
        {
            skip = Some(Skip::OwnedByFunctional(f.clone()));
        }
        out.push(Candidate { plan, key_age_days: age, skip, classic_credentials: t.classic_credentials.clone() });
    }
    Ok(out)
}

/// Resets the selected candidates in the pool, each with the single-target rules, and verifies
/// each reset concurrently. `stop` says when to stop starting targets (Ctrl-C); those in flight
/// finish. `done` is told as each target ends (progress).
pub async fn execute(
    session: &Session,
    candidates: &[Candidate],
    opts: &ExecuteOptions,
    verify: Option<(Duration, Duration)>,
    concurrency: usize,
    stop: &(dyn Fn() -> bool + Sync),
    done: &(dyn Fn(&Target) + Sync),
) -> Vec<Outcome> {
    stream::iter(candidates.iter())
        .map(|c| async move {
            if let Some(why) = &c.skip {
                return Outcome::Skipped(why.clone());
            }
            if stop() {
                return Outcome::Skipped(Skip::Interrupted);
            }
            let out = match reset::execute(session, &c.plan, opts, std::future::pending()).await {
                Ok(report) => {
                    let v = match verify {
                        Some((timeout, interval)) if !c.plan.clusters().is_empty() => {
                            Some(reset::verify(session, &c.plan, timeout, interval).await)
                        }
                        _ => None,
                    };
                    Outcome::Reset(Box::new(report), v)
                }
                Err(e @ Error::ResetOutcomeUnknown { .. }) => Outcome::Unknown(e),
                Err(e) => Outcome::Failed(e),
            };
            done(&c.plan.target);
            out
        })
        .buffered(concurrency.max(1))
        .collect()
        .await
}
