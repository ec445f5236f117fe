//! `prune`: removes superseded `containers-kubernetes-key` keys, safely.
//!
//! The targets and their keys come from `status` (one discovery, the owner the clusters
//! report deciding which key they use). For each target, every key older than the current one
//! is a candidate; the current key never is, nor a key that names no known target, and a
//! target without clusters only with `--include-orphans`. Locked keys are skipped unless
//! `--unlock`; `--disable-only` disables instead of deleting, and a later prune deletes what it
//! disabled. Every unlock, disable and delete is recorded in the audit log.

use std::time::{Duration, SystemTime};

use futures_util::stream::{self, StreamExt as _};
use serde::Serialize;

use super::status::{self, KeyInfo, OldKey, Silent};
use super::{Session, Target};
use crate::audit::{AuditLog, Record};
use crate::error::{Result, clause};
use crate::types::{ApiKeyId, IamId};

/// What prune looks at and does.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--region` values.
    pub regions: Vec<String>,
    /// `-g` values.
    pub groups: Vec<String>,
    /// Only keys older than this.
    pub older_than: Option<Duration>,
    /// Also keys of targets without clusters.
    pub include_orphans: bool,
    /// Disable instead of deleting.
    pub disable_only: bool,
    /// Unlock locked keys first.
    pub unlock: bool,
    /// Requests in flight at once.
    pub concurrency: usize,
}

/// What will be done to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    /// Delete it.
    Delete,
    /// Disable it (reversible).
    Disable,
}

/// A key prune looked at.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    /// Its target.
    pub target: Target,
    /// Its ID.
    pub key_id: ApiKeyId,
    /// Its owner.
    pub iam_id: IamId,
    /// When it was created.
    pub created: Option<String>,
    /// Why it is obsolete (superseded by the current key, or no clusters left).
    pub reason: String,
    /// Locked.
    pub locked: bool,
    /// Disabled.
    pub disabled: bool,
    /// What will be done, if anything.
    pub action: Option<Action>,
    /// Whether it is unlocked first.
    pub unlock_first: bool,
    /// Why nothing is done, if nothing is.
    pub skip: Option<String>,
}

/// The plan.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// Every key looked at.
    pub candidates: Vec<Candidate>,
    /// What the plan could not cover.
    pub notes: Vec<String>,
}

/// What happened to a key.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Done {
    /// The key.
    pub key_id: ApiKeyId,
    /// `deleted`, `disabled`, `skipped`, `failed`.
    pub outcome: &'static str,
    /// Why (for skipped and failed).
    pub detail: Option<String>,
}

/// Plans the prune (reads only).
///
/// # Errors
/// As `status`.
pub async fn plan(session: &Session, opts: &Options) -> Result<Plan> {
    let sopts = status::Options {
        regions: opts.regions.clone(),
        groups: opts.groups.clone(),
        max_age: Duration::MAX,
        functional_ids: Vec::new(),
        concurrency: opts.concurrency,
    };
    let report = status::status(session, &sopts, &Silent).await?;
    let mut candidates = Vec::new();
    for t in &report.targets {
        let target = t.target();
        let orphan = t.clusters.is_empty();
        let current = t.key.as_ref();
        let mut keys: Vec<(OldKey, String)> = t
            .superseded_keys
            .iter()
            .map(|k| {
                let why =
                    current.map_or_else(|| String::from("superseded"), |c: &KeyInfo| format!("superseded by {}", c.id));
                (k.clone(), why)
            })
            .collect();
        if orphan && let Some(c) = current {
            keys.push((
                OldKey {
                    id: c.id.clone(),
                    created: c.created.clone(),
                    locked: c.locked,
                    disabled: c.disabled,
                    iam_id: c.iam_id.clone(),
                },
                String::from("no clusters left in this region and resource group"),
            ));
        }
        for (k, reason) in keys {
            let mut skip = None;
            if orphan && !opts.include_orphans {
                skip = Some(String::from("no clusters left: pruned only with --include-orphans"));
            } else if let (Some(min), Some(days)) =
                (opts.older_than, status::age_days(k.created.as_deref(), SystemTime::now()))
                && days.saturating_mul(86_400) < min.as_secs()
            {
                skip = Some(format!("{days} days old, younger than --older-than"));
            }
            if skip.is_none() && k.locked && !opts.unlock {
                skip = Some(String::from("locked: pruned only with --unlock"));
            }
            if skip.is_none() && opts.disable_only && k.disabled {
                skip = Some(String::from("already disabled"));
            }
            let action = skip.is_none().then_some(if opts.disable_only { Action::Disable } else { Action::Delete });
            candidates.push(Candidate {
                target: target.clone(),
                key_id: k.id.clone(),
                iam_id: k.iam_id.clone(),
                created: k.created.clone(),
                reason,
                locked: k.locked,
                disabled: k.disabled,
                action,
                unlock_first: action.is_some() && k.locked,
                skip,
            });
        }
    }
    Ok(Plan { candidates, notes: report.notes })
}

/// Carries the plan out in the pool; each unlock, disable and delete is audited. Stops starting
/// keys once `stop` says so (Ctrl-C); those are reported as skipped.
pub async fn execute(
    session: &Session,
    plan: &Plan,
    concurrency: usize,
    audit: Option<&AuditLog>,
    stop: &(dyn Fn() -> bool + Sync),
) -> Vec<Done> {
    let ids = session.iam_identity();
    let record = |c: &Candidate, action: &str, ok: bool, detail: String| {
        let Some(log) = audit else { return };
        let mut r = Record::now(action, if ok { "succeeded" } else { "failed" });
        r.region = Some(c.target.region.to_string());
        r.resource_group_id = Some(c.target.resource_group.id.to_string());
        r.key_ids = vec![c.key_id.to_string()];
        r.detail = detail;
        log.record(&r);
    };
    stream::iter(plan.candidates.iter())
        .map(|c| {
            let ids = &ids;
            let record = &record;
            async move {
                let Some(action) = c.action else {
                    return Done { key_id: c.key_id.clone(), outcome: "skipped", detail: c.skip.clone() };
                };
                if stop() {
                    return Done {
                        key_id: c.key_id.clone(),
                        outcome: "skipped",
                        detail: Some(String::from("interrupted before it started")),
                    };
                }
                if c.unlock_first {
                    let r = ids.unlock(&c.key_id).await;
                    record(
                        c,
                        "unlock",
                        r.is_ok(),
                        format!("{}: {}", c.reason, r.as_ref().err().map_or_else(String::new, ToString::to_string)),
                    );
                    if let Err(e) = r {
                        return Done {
                            key_id: c.key_id.clone(),
                            outcome: "failed",
                            detail: Some(format!("unlock failed: {}", clause(&e.to_string()))),
                        };
                    }
                }
                let (r, verb, outcome) = match action {
                    Action::Delete => (ids.delete(&c.key_id).await, "delete", "deleted"),
                    Action::Disable => (ids.disable(&c.key_id).await, "disable", "disabled"),
                };
                record(
                    c,
                    verb,
                    r.is_ok(),
                    match &r {
                        Ok(()) => c.reason.clone(),
                        Err(e) => format!("{}: {}", c.reason, clause(&e.to_string())),
                    },
                );
                match r {
                    Ok(()) => Done { key_id: c.key_id.clone(), outcome, detail: None },
                    Err(e) => Done {
                        key_id: c.key_id.clone(),
                        outcome: "failed",
                        detail: Some(clause(&e.to_string()).to_owned()),
                    },
                }
            }
        })
        .buffered(concurrency.max(1))
        .collect()
        .await
}
