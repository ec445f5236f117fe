//! Master refresh: `ibmcloud ks cluster master refresh` for many clusters at once, as IBM's
//! steps after a key owner leaves ask for it (the master's API servers restart and read the
//! credentials again). Each refresh is one `PUT`, never repeated blindly: an answer that was
//! lost makes the outcome unknown, said as such. Every refresh is audited.

use futures_util::stream::{self, StreamExt as _};
use serde::Serialize;

use super::Session;
use crate::audit::{AuditLog, Record};
use crate::error::clause;
use crate::types::{Region, ResourceGroupId};

/// A cluster whose master is to be refreshed.
#[derive(Debug, Clone)]
pub struct MasterTarget {
    /// Name.
    pub name: String,
    /// ID.
    pub id: String,
    /// Region.
    pub region: String,
    /// Resource group ID.
    pub resource_group_id: String,
}

/// How a refresh ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// IBM accepted the refresh.
    Refreshed,
    /// IBM refused it (or it was never sent): nothing happened.
    Failed,
    /// The answer was lost: the refresh may or may not be under way.
    Unknown,
    /// Not started (interrupted).
    Skipped,
}

impl Outcome {
    /// As JSON and the table say it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Refreshed => "refreshed",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
            Self::Skipped => "skipped",
        }
    }
}

/// What happened to one cluster's master.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MasterResult {
    /// Cluster name.
    pub cluster: String,
    /// Cluster ID.
    pub id: String,
    /// What happened.
    pub outcome: Outcome,
    /// Why (failed, unknown, skipped).
    pub detail: Option<String>,
}

/// Refreshes each cluster's master, `concurrency` at a time; stops starting clusters once
/// `stop` says so (those are skipped).
pub async fn refresh(
    session: &Session,
    clusters: &[MasterTarget],
    concurrency: usize,
    audit: Option<&AuditLog>,
    stop: &(dyn Fn() -> bool + Sync),
) -> Vec<MasterResult> {
    let caller = session.caller().await.ok();
    stream::iter(clusters)
        .map(|c| {
            let caller = caller.as_ref();
            async move {
                let result = |outcome, detail: Option<String>| MasterResult {
                    cluster: c.name.clone(),
                    id: c.id.clone(),
                    outcome,
                    detail,
                };
                if stop() {
                    return result(Outcome::Skipped, Some(String::from("interrupted before it started")));
                }
                let region = Region::new(&c.region);
                let group = ResourceGroupId::new(&c.resource_group_id);
                let answer = match session.containers(Some(&region)) {
                    Ok(api) => api.refresh_master(&c.id, Some(&group)).await,
                    Err(e) => Err(e),
                };
                // Why an answer was lost, for the audit log (the report says what it means).
                let mut lost = None;
                let r = match answer {
                    Ok(()) => result(Outcome::Refreshed, None),
                    Err(e) if e.outcome_unknown() => {
                        lost = Some(clause(&e.to_string()).to_owned());
                        result(
                            Outcome::Unknown,
                            Some(String::from(
                                "the answer was lost: the refresh may be under way; see the master's state before refreshing again",
                            )),
                        )
                    }
                    Err(e) => result(Outcome::Failed, Some(clause(&e.to_string()).to_owned())),
                };
                if let Some(log) = audit {
                    let mut rec = Record::now(
                        "refresh-master",
                        match r.outcome {
                            Outcome::Refreshed => "succeeded",
                            Outcome::Unknown => "unknown",
                            _ => "failed",
                        },
                    );
                    rec.actor = caller.and_then(|c| c.iam_id.as_ref()).map(ToString::to_string);
                    rec.account = caller.map(|c| c.account.to_string());
                    rec.region = Some(c.region.clone());
                    rec.resource_group_id = Some(c.resource_group_id.clone());
                    rec.detail = match (&r.detail, &lost) {
                        (Some(d), Some(why)) => format!("{} ({}): {d} ({why})", c.name, c.id),
                        (Some(d), None) => format!("{} ({}): {d}", c.name, c.id),
                        _ => format!("{} ({})", c.name, c.id),
                    };
                    log.record(&rec);
                }
                r
            }
        })
        .buffered(concurrency.max(1))
        .collect()
        .await
}
