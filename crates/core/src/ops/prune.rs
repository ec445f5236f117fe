//! `prune`: removes superseded `containers-kubernetes-key` keys, safely.
//!
//! The targets and their keys come from `status` (one discovery, the owner the clusters
//! report deciding which key they use, in [`super::discovery::key_in_use`]). For each target,
//! every key but the one in use is a candidate; the key in use never is, nor a key that could
//! be it (ties, keys dated in the future, an owner that could not be read), nor a key that names
//! no known target, and a target without clusters only with `--include-orphans`. Before a key
//! is removed, IAM's activity for it is read: a key that logged in after the reset that
//! superseded it is still used by something (an add-on pod not re-created yet) and is kept
//! unless `--force-in-use`. Locked keys are skipped unless `--unlock` (and locked again when
//! the removal then fails); `--disable-only` disables instead of deleting. An answer that
//! leaves the outcome open (a gateway's 504) is followed by a look at the key. Every unlock,
//! lock, disable and delete is recorded in the audit log.

use std::time::{Duration, SystemTime};

use futures_util::stream::{self, StreamExt as _};
use serde::Serialize;

use super::discovery;
use super::status::{self, Silent};
use super::{Session, Target};
use crate::audit::{AuditLog, Record};
use crate::error::{Error, Result, clause};
use crate::model::{KeyInfo, OldKey, age_days};
use crate::types::{ApiKeyId, IamId};

/// What prune looks at and does.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only these regions (none: every region).
    pub regions: Vec<crate::types::Region>,
    /// Only these groups (none named: every group).
    pub groups: crate::types::GroupSelector,
    /// Only keys older than this.
    pub older_than: Option<Duration>,
    /// Also keys of targets without clusters.
    pub include_orphans: bool,
    /// Disable instead of deleting.
    pub disable_only: bool,
    /// Unlock locked keys first.
    pub unlock: bool,
    /// Remove keys that logged in after they were superseded.
    pub force_in_use: bool,
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

/// Why a key is left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SkipKind {
    /// The user's choice (`--include-orphans`, `--older-than`, `--unlock` not given, already
    /// disabled, already gone): nothing left to do.
    NotAsked,
    /// It cannot be told whether the clusters use it: left for a person to decide.
    Unsure,
    /// It logged in after it was superseded: something still uses it.
    InUse,
}

/// Why a key is left alone: data, which the binary puts in words (and names its flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// It cannot be told whether the clusters use it; the reason.
    Unsure(String),
    /// Its target has no clusters left, and orphans were not asked for.
    Orphan,
    /// Younger than the `--older-than` limit.
    YoungerThan {
        /// Its age.
        days: u64,
        /// The limit.
        limit_days: u64,
    },
    /// Locked, and unlocking was not asked for.
    Locked,
    /// Already disabled (`--disable-only`).
    AlreadyDisabled,
    /// Gone before it was looked at.
    AlreadyGone,
    /// It logged in after the reset that superseded it.
    InUse {
        /// Its last login.
        last_used: String,
        /// When it was superseded.
        superseded_at: String,
    },
}

impl Why {
    fn kind(&self) -> SkipKind {
        match self {
            Self::Unsure(_) => SkipKind::Unsure,
            Self::InUse { .. } => SkipKind::InUse,
            _ => SkipKind::NotAsked,
        }
    }
}

impl SkipKind {
    /// Whether the key is left for the user to deal with (the command's work is unfinished).
    #[must_use]
    pub(crate) fn needs_attention(self) -> bool {
        matches!(self, Self::Unsure | Self::InUse)
    }
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
    /// When the reset that superseded it happened, when known.
    pub superseded_at: Option<String>,
    /// Why it is obsolete (superseded by the current key, or no clusters left).
    pub reason: String,
    /// Locked.
    pub locked: bool,
    /// Disabled.
    pub disabled: bool,
    /// Its last login, when IAM reports it.
    pub last_used: Option<String>,
    /// What IAM's activity says about its use (or that it says nothing), for keys to remove.
    pub evidence: Option<String>,
    /// What will be done, if anything.
    pub action: Option<Action>,
    /// Whether it is unlocked first.
    pub unlock_first: bool,
    /// Why nothing is done, if nothing is (the binary words it as `skip`).
    #[serde(skip)]
    pub why: Option<Why>,
    /// What kind of reason that is.
    pub skip_kind: Option<SkipKind>,
    /// It logged in after its supersession and is removed anyway (`--force-in-use`).
    pub forced_in_use: bool,
}

impl Candidate {
    fn skip(&mut self, why: Why) {
        self.action = None;
        self.unlock_first = false;
        self.skip_kind = Some(why.kind());
        self.why = Some(why);
    }
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

impl Plan {
    /// Keys left for the user to deal with (unsure, or still in use).
    #[must_use]
    pub fn needing_attention(&self) -> usize {
        self.candidates.iter().filter(|c| c.skip_kind.is_some_and(SkipKind::needs_attention)).count()
    }
}

/// How a key ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Deleted.
    Deleted,
    /// Disabled.
    Disabled,
    /// Already gone when it was to be deleted (another prune, or a person, removed it).
    Gone,
    /// Left alone (the plan said so, or an interruption).
    Skipped,
    /// The removal failed.
    Failed,
}

impl Outcome {
    /// As JSON and the table say it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deleted => "deleted",
            Self::Disabled => "disabled",
            Self::Gone => "already gone",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
        }
    }
}

/// What happened to a key.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Done {
    /// The key.
    pub key_id: ApiKeyId,
    /// What happened.
    pub outcome: Outcome,
    /// Why (for skipped and failed), or what else is worth knowing.
    pub detail: Option<String>,
    /// The key was unlocked for the removal, the removal failed and it could not be locked
    /// again: it is left unlocked.
    pub left_unlocked: bool,
}

/// Plans the prune (reads only): the account's keys as `status` sees them, then IAM's activity
/// for each key that would be removed.
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
        read_clusters: status::ClusterReads::Skip,
    };
    let report = status::status(session, &sopts, &Silent).await?;
    let now = SystemTime::now();
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
                    superseded_at: None,
                    locked: c.locked,
                    disabled: c.disabled,
                    iam_id: c.iam_id.clone(),
                },
                String::from("no clusters left in this region and resource group"),
            ));
        }
        for (k, reason) in keys {
            let mut c = Candidate {
                target: target.clone(),
                key_id: k.id.clone(),
                iam_id: k.iam_id.clone(),
                created: k.created.clone(),
                superseded_at: k.superseded_at.clone(),
                reason,
                locked: k.locked,
                disabled: k.disabled,
                last_used: None,
                evidence: None,
                action: Some(if opts.disable_only { Action::Disable } else { Action::Delete }),
                unlock_first: k.locked,
                why: None,
                skip_kind: None,
                forced_in_use: false,
            };
            // Certainty first: a key that could be the one in use is never touched, whatever
            // the flags say.
            let unsure = t.key_in_use_unknown.as_ref().filter(|u| u.keys.contains(&k.id));
            // Without clusters, the key in use is the one a cluster created there would get: the
            // current key (or any that could be it), kept unless orphans are asked for. Its
            // superseded keys are superseded as anywhere, so the prune a reset there suggests
            // removes them and keeps the new key.
            let orphan_key = orphan && (current.is_some_and(|c| c.id == k.id) || unsure.is_some());
            if let Some(u) = unsure.filter(|_| !orphan) {
                c.skip(Why::Unsure(u.reason.clone()));
            } else if orphan_key && !opts.include_orphans {
                c.skip(Why::Orphan);
            } else if let (Some(min), Some(days)) = (opts.older_than, age_days(k.created.as_deref(), now))
                && days.saturating_mul(86_400) < min.as_secs()
            {
                c.skip(Why::YoungerThan { days, limit_days: min.as_secs() / 86_400 });
            } else if k.locked && !opts.unlock {
                c.skip(Why::Locked);
            } else if opts.disable_only && k.disabled {
                c.skip(Why::AlreadyDisabled);
            }
            candidates.push(c);
        }
    }
    // The evidence of use, for the keys that would be removed: one read each, in the pool.
    let ids = session.iam_identity();
    let looks: Vec<(usize, Result<crate::api::iam_identity::ApiKey>)> = stream::iter(
        candidates.iter().enumerate().filter(|(_, c)| c.action.is_some()).map(|(i, c)| (i, c.key_id.clone())),
    )
    .map(|(i, id)| {
        let ids = &ids;
        async move { (i, ids.get(&id).await) }
    })
    .buffer_unordered(opts.concurrency.max(1))
    .collect()
    .await;
    for (i, look) in looks {
        judge_use(&mut candidates[i], look, opts.force_in_use);
    }
    Ok(Plan { candidates, notes: report.notes })
}

/// What IAM's activity says about a key about to be removed; keeps a key still in use.
fn judge_use(c: &mut Candidate, look: Result<crate::api::iam_identity::ApiKey>, force_in_use: bool) {
    let key = match look {
        Ok(k) => k,
        Err(Error::Api(e)) if e.is_not_found() => {
            c.skip(Why::AlreadyGone);
            return;
        }
        Err(e) => {
            c.evidence =
                Some(format!("its activity could not be read ({}): no evidence it is unused", clause(&e.to_string())));
            return;
        }
    };
    let Some(activity) = key.activity else {
        // INFERRED from IBM's scripts: an account without activity reporting answers without
        // `activity`; that is missing evidence, not evidence of disuse.
        c.evidence = Some(String::from("IAM reports no activity for it: no evidence either way"));
        return;
    };
    c.last_used.clone_from(&activity.last_authn);
    let (Some(used), superseded) = (activity.last_authn.as_deref(), c.superseded_at.as_deref()) else {
        // No last login is not "never used": IAM records logins only while the account's
        // activity reporting is on (a key the clusters used for years shows none when it was
        // off). Missing evidence, said as such.
        c.evidence =
            Some(String::from("no login reported (activity may not have been recorded): no evidence either way"));
        return;
    };
    let after = match (discovery::parse_time(used), superseded.and_then(discovery::parse_time)) {
        (Some(u), Some(s)) => u > s,
        _ => false,
    };
    if !after {
        c.evidence = Some(match superseded {
            Some(s) => format!("last used {used}, before it was superseded ({s})"),
            None => format!("last used {used}"),
        });
        return;
    }
    let s = superseded.unwrap_or_default();
    if force_in_use {
        c.evidence = Some(format!("still in use: it logged in at {used}, after it was superseded ({s})"));
        c.forced_in_use = true;
    } else {
        c.skip(Why::InUse { last_used: used.to_owned(), superseded_at: s.to_owned() });
    }
}

/// Carries the plan out in the pool; each unlock, lock, disable and delete is audited. An
/// error answer is followed by a look at the key (a gateway's 504 can come back while IAM did
/// the work). Stops starting keys once `stop` says so (Ctrl-C); those are reported as skipped.
pub async fn execute(
    session: &Session,
    plan: &Plan,
    concurrency: usize,
    audit: Option<&AuditLog>,
    stop: &(dyn Fn() -> bool + Sync),
) -> Vec<Done> {
    stream::iter(plan.candidates.iter())
        .map(|c| async move {
            let Some(action) = c.action else {
                return Done {
                    key_id: c.key_id.clone(),
                    outcome: Outcome::Skipped,
                    detail: None,
                    left_unlocked: false,
                };
            };
            if stop() {
                return Done {
                    key_id: c.key_id.clone(),
                    outcome: Outcome::Skipped,
                    detail: Some(String::from("interrupted before it started")),
                    left_unlocked: false,
                };
            }
            remove(session, c, action, audit).await
        })
        .buffered(concurrency.max(1))
        .collect()
        .await
}

/// The leak response's deletion (`reset --leaked`): the key `key` of `target`, superseded by
/// `new_key` a moment ago, is compromised, so it is deleted at once, without the in-use wait a
/// prune makes (a thief's logins would count as use). Unlocked first when it is locked, locked
/// again when the deletion fails; an error answer is followed by a look, as in a prune. Each
/// step is audited through `audit` (the caller passes the leak-response handle).
pub async fn delete_leaked(
    session: &Session,
    target: &Target,
    key: &crate::api::iam_identity::ApiKey,
    new_key: Option<&ApiKeyId>,
    audit: Option<&AuditLog>,
) -> Done {
    let c = Candidate {
        target: target.clone(),
        key_id: key.id.clone(),
        iam_id: key.iam_id.clone(),
        created: key.created_at.clone(),
        superseded_at: None,
        reason: match new_key {
            Some(n) => format!("leak response: compromised, superseded by {n}"),
            None => String::from("leak response: compromised, superseded by the reset"),
        },
        locked: key.locked,
        disabled: key.disabled,
        last_used: None,
        evidence: None,
        action: Some(Action::Delete),
        unlock_first: key.locked,
        why: None,
        skip_kind: None,
        forced_in_use: true,
    };
    remove(session, &c, Action::Delete, audit).await
}

/// What a key looks like after an error answer.
enum Seen {
    Gone,
    Key(Box<crate::api::iam_identity::ApiKey>),
    Unreadable,
}

async fn look(session: &Session, id: &ApiKeyId) -> Seen {
    match session.iam_identity().get(id).await {
        Ok(k) => Seen::Key(Box::new(k)),
        // Only IAM's own 404 says the key is gone; a gateway's says nothing.
        Err(Error::Api(e)) if e.is_not_found() => Seen::Gone,
        Err(_) => Seen::Unreadable,
    }
}

use super::{LOOK_GAP, LOOKS};

/// An answer as it stands after looking: an error answer becomes `Ok` when the key shows that
/// IAM did the work after all (`done`), within a few looks.
async fn after_looking(
    session: &Session,
    id: &ApiKeyId,
    answer: Result<()>,
    done: impl Fn(&Seen) -> bool,
) -> std::result::Result<Option<Error>, Error> {
    let Err(e) = answer else { return Ok(None) };
    for i in 0..LOOKS {
        if i > 0 {
            tokio::time::sleep(LOOK_GAP).await;
        }
        if done(&look(session, id).await) {
            return Ok(Some(e));
        }
    }
    Err(e)
}

/// Unlocks (when planned), removes, and locks again when the removal failed after an unlock.
async fn remove(session: &Session, c: &Candidate, action: Action, audit: Option<&AuditLog>) -> Done {
    let ids = session.iam_identity();
    let record = |verb: &str, ok: bool, detail: String| {
        let Some(log) = audit else { return };
        let mut r = Record::now(verb, if ok { "succeeded" } else { "failed" });
        // The account acted on (another one than the targeted with `--account`).
        r.account = session.ctx.account.as_ref().map(ToString::to_string);
        r.region = Some(c.target.region.to_string());
        r.resource_group_id = Some(c.target.resource_group.id.to_string());
        r.key_ids = vec![c.key_id.to_string()];
        r.detail = detail;
        log.record(&r);
    };
    let failed = |detail: String, left_unlocked: bool| Done {
        key_id: c.key_id.clone(),
        outcome: Outcome::Failed,
        detail: Some(detail),
        left_unlocked,
    };
    if c.unlock_first {
        // After an error answer, the key says whether the unlock happened.
        let r =
            after_looking(session, &c.key_id, ids.unlock(&c.key_id).await, |s| matches!(s, Seen::Key(k) if !k.locked))
                .await
                .map(|_| ());
        record(
            "unlock",
            r.is_ok(),
            match &r {
                Ok(()) => c.reason.clone(),
                Err(e) => format!("{}: {}", c.reason, clause(&e.to_string())),
            },
        );
        if let Err(e) = r {
            return failed(format!("unlock failed: {}", clause(&e.to_string())), false);
        }
    }
    let (verb, outcome) = match action {
        Action::Delete => ("delete", Outcome::Deleted),
        Action::Disable => ("disable", Outcome::Disabled),
    };
    let answer = match action {
        Action::Delete => ids.delete(&c.key_id).await,
        Action::Disable => ids.disable(&c.key_id).await,
    };
    let result: std::result::Result<(Outcome, Option<String>), Error> = match answer {
        Ok(()) => Ok((outcome, None)),
        // A 404 on DELETE: gone before this answer. The transport retries a DELETE answered
        // with an error, so the first attempt may have done it (IAM deleted it and answered
        // 500); or someone (a concurrent prune) removed it first. Which, the 404 cannot tell.
        Err(Error::Api(e)) if e.is_not_found() && action == Action::Delete => Ok((
            Outcome::Gone,
            Some(String::from(
                "already gone when the deletion was answered: an earlier attempt of it (retried after an error answer), or someone else, removed it",
            )),
        )),
        Err(e) => after_looking(session, &c.key_id, Err(e), |s| match (action, s) {
            (Action::Delete, Seen::Gone) => true,
            (Action::Disable, Seen::Key(k)) => k.disabled,
            _ => false,
        })
        .await
        .map(|e| {
            let why = e.map(|e| clause(&e.to_string()).to_owned()).unwrap_or_default();
            (outcome, Some(format!("the answer was an error ({why}), but IAM did it")))
        }),
    };
    match result {
        Ok((outcome, note)) => {
            record(
                verb,
                true,
                match &note {
                    Some(n) => format!("{}; {n}", c.reason),
                    None => c.reason.clone(),
                },
            );
            Done { key_id: c.key_id.clone(), outcome, detail: note, left_unlocked: false }
        }
        Err(e) => {
            let why = clause(&e.to_string()).to_owned();
            if !c.unlock_first {
                record(verb, false, format!("{}: {why}", c.reason));
                return failed(why, false);
            }
            // It was unlocked for nothing: lock it again, or say that it is left unlocked.
            let relock =
                after_looking(session, &c.key_id, ids.lock(&c.key_id).await, |s| matches!(s, Seen::Key(k) if k.locked))
                    .await
                    .map(|_| ());
            record(
                "lock",
                relock.is_ok(),
                match &relock {
                    Ok(()) => format!("locked again after the {verb} failed"),
                    Err(e) => format!("could not lock it again after the {verb} failed: {}", clause(&e.to_string())),
                },
            );
            match relock {
                Ok(()) => {
                    record(verb, false, format!("{}: {why}; locked again", c.reason));
                    failed(format!("{why}; locked again"), false)
                }
                Err(l) => {
                    record(verb, false, format!("{}: {why}; LEFT UNLOCKED (locking again failed)", c.reason));
                    failed(
                        format!(
                            "{why}; the key is left UNLOCKED (locking it again failed: {})",
                            clause(&l.to_string())
                        ),
                        true,
                    )
                }
            }
        }
    }
}
