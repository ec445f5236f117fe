//! What the clusters themselves say about their credentials: their health issues (`NHC009`, "The
//! IAM token exchange request failed") and their workers' messages ("Provided user not found or
//! active", ...), read for the clusters whose list entry signals trouble (every cluster with
//! `--read-clusters`), and judged into `cluster-credential-failure`.
//!
//! [`CREDENTIAL_FAILURES`] and [`CREDENTIAL_HEALTH_ISSUES`] are the one place that says which
//! message points at which credential (IBM's "Resolving permission and credential errors" and
//! "Worker common issues" pages, `shared/docs/cluster-credentials.md` §7).

use std::collections::BTreeMap;

use futures_util::stream::{self, StreamExt as _};

use super::Session;
use crate::api::containers::{Cluster, HealthIssue, Worker};
use crate::error::clause;
use crate::model::{
    ClassicStatus, ClusterReports, Culprit, Finding, KeyInfo, Owner, ReportedIssue, TargetStatus, WorkerMessage,
};
use crate::types::{Region, ResourceGroupId};

/// Fragments of IBM's messages (matched without regard to case) and the credential each points
/// at. Texts from IBM's troubleshooting pages; a fragment is the part that does not change with
/// the worker, the provider or the item.
pub(crate) const CREDENTIAL_FAILURES: &[(&str, Culprit)] = &[
    // The key is disabled, expired or deleted (NHC009's text, and what workers and orders say).
    ("iam token exchange request failed", Culprit::Key),
    // The key's owner left, or is not active.
    ("provided user not found or active", Culprit::KeyOwner),
    ("user account is currently cancel_pending", Culprit::KeyOwner),
    // The credentials that order classic infrastructure: set by hand, or else the key owner's.
    ("infrastructure authentication credentials are not authorized", Culprit::ClassicCredentials),
    ("must be ordered with permission", Culprit::ClassicCredentials),
    ("infrastructure user permissions", Culprit::ClassicCredentials),
];

/// Health issue IDs that are credential failures whatever their text says.
pub(crate) const CREDENTIAL_HEALTH_ISSUES: &[(&str, Culprit)] = &[("NHC009", Culprit::Key)];

/// The credential a message points at, if it is one of [`CREDENTIAL_FAILURES`].
#[must_use]
pub(crate) fn culprit_of_message(message: &str) -> Option<Culprit> {
    let lower = message.to_lowercase();
    CREDENTIAL_FAILURES.iter().find(|(fragment, _)| lower.contains(fragment)).map(|(_, c)| *c)
}

/// The credential a health issue points at: by its ID ([`CREDENTIAL_HEALTH_ISSUES`]), else by
/// its text.
#[must_use]
pub(crate) fn culprit_of_issue(issue: &HealthIssue) -> Option<Culprit> {
    CREDENTIAL_HEALTH_ISSUES
        .iter()
        .find(|(id, _)| issue.id.trim().eq_ignore_ascii_case(id))
        .map(|(_, c)| *c)
        .or_else(|| culprit_of_message(&issue.description))
}

/// Whether a cluster's list entry signals trouble: a state other than `normal`, a master that
/// is not `Ready`, a master health other than `normal`, or a status line other than IBM's
/// all-is-well (`All Workers Normal`). An empty member signals nothing.
#[must_use]
pub(crate) fn troubled(c: &Cluster) -> bool {
    let not = |v: &str, fine: &[&str]| {
        let v = v.trim();
        !v.is_empty() && !fine.iter().any(|f| v.eq_ignore_ascii_case(f))
    };
    let master = c.master_status().trim().to_ascii_lowercase();
    not(&c.state, &["normal"])
        || (!master.is_empty() && !master.starts_with("ready"))
        || not(c.master_health(), &["normal"])
        || not(&c.status, &["normal", "all workers normal"])
}

/// The longest message quoted, in characters.
const QUOTED_MAX: usize = 240;

/// IBM's text as a finding quotes it: on one line, every control or format character (line
/// breaks, escapes, bidi overrides, zero-width characters) written escaped, and at most
/// [`QUOTED_MAX`] characters.
#[must_use]
pub(crate) fn quoted(text: &str) -> String {
    let mut out = String::new();
    for (n, c) in text.trim().chars().enumerate() {
        if n == QUOTED_MAX {
            out.push('…');
            break;
        }
        if c.is_control() || hidden(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Unicode format characters that reorder or hide text (bidi controls, zero-width characters,
/// the soft hyphen, tags) and the line and paragraph separators.
fn hidden(c: char) -> bool {
    matches!(
        u32::from(c),
        0xAD | 0x61C
            | 0x180E
            | 0x200B..=0x200F
            | 0x2028..=0x202E
            | 0x2060..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0xE0000..=0xE007F
    )
}

/// Reads one cluster's health issues and workers (two requests, together).
pub(crate) async fn read(session: &Session, c: &Cluster) -> ClusterReports {
    let api = match session.containers(Some(&Region::new(c.region.clone()))) {
        Ok(api) => api,
        Err(e) => {
            let why = clause(&e.to_string()).to_owned();
            return ClusterReports {
                health_issues: None,
                worker_credential_messages: None,
                more_worker_messages: 0,
                unread: vec![format!("health issues and workers: {why}")],
            };
        }
    };
    let group = (!c.resource_group.is_empty()).then(|| ResourceGroupId::new(c.resource_group.clone()));
    let (issues, workers) =
        tokio::join!(api.health_issues(&c.id, group.as_ref()), api.workers(&c.id, &c.provider, group.as_ref()));
    let mut unread = Vec::new();
    let health_issues = match issues {
        Ok(list) => Some(
            list.iter()
                .map(|i| ReportedIssue {
                    id: quoted(&i.id),
                    severity: quoted(&i.severity),
                    description: quoted(&i.description),
                    points_at: culprit_of_issue(i),
                })
                .collect(),
        ),
        Err(e) => {
            unread.push(format!("health issues: {}", clause(&e.to_string())));
            None
        }
    };
    let mut more_worker_messages = 0;
    let worker_credential_messages = match workers {
        Ok(list) => {
            let mut all = worker_messages(&list);
            more_worker_messages = all.len().saturating_sub(LISTED_MAX);
            all.truncate(LISTED_MAX);
            Some(all)
        }
        Err(e) => {
            unread.push(format!("workers: {}", clause(&e.to_string())));
            None
        }
    };
    ClusterReports { health_issues, worker_credential_messages, more_worker_messages, unread }
}

/// The most workers' credential messages a cluster's report lists.
const LISTED_MAX: usize = 100;

/// The workers' messages that point at a credential.
fn worker_messages(workers: &[Worker]) -> Vec<WorkerMessage> {
    workers
        .iter()
        .flat_map(|w| {
            w.messages.iter().filter_map(move |m| {
                culprit_of_message(m).map(|points_at| WorkerMessage {
                    worker: quoted(&w.id),
                    state: quoted(&w.state),
                    message: quoted(m),
                    points_at,
                })
            })
        })
        .collect()
}

/// Reads the clusters to read (those that signal trouble, or all with `every`), `concurrency`
/// at once, within the session's rate limit: the reports by cluster ID.
pub(crate) async fn read_clusters(
    session: &Session,
    clusters: &[&Cluster],
    every: bool,
    concurrency: usize,
) -> BTreeMap<String, ClusterReports> {
    stream::iter(clusters.iter().filter(|c| every || troubled(c)))
        .map(|c| async move { (c.id.clone(), read(session, c).await) })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// What [`wait`] found at its last look.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClustersWait {
    /// No cluster reports a credential failure, and every one could be read.
    pub cleared: bool,
    /// The clusters that still report one, with what they say (quoted, escaped).
    pub failing: Vec<FailingCluster>,
    /// The clusters that could not be read at the last look, with why (unknown, not cleared).
    pub unread: Vec<FailingCluster>,
    /// How long it waited, in whole seconds.
    pub waited_secs: u64,
}

/// A cluster and what it says (or why it could not be read).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailingCluster {
    /// Its name.
    pub cluster: String,
    /// Its credential messages, or why it could not be read.
    pub messages: Vec<String>,
}

/// After a reset: reads the clusters' health issues and workers every `interval` until none
/// reports a credential failure and every one could be read, or until `timeout` (the last look
/// is what is returned).
pub async fn wait(
    session: &Session,
    clusters: &[Cluster],
    timeout: std::time::Duration,
    interval: std::time::Duration,
) -> ClustersWait {
    let start = std::time::Instant::now();
    loop {
        let all: Vec<&Cluster> = clusters.iter().collect();
        let reports = read_clusters(session, &all, true, 8).await;
        let mut failing = Vec::new();
        let mut unread = Vec::new();
        for c in clusters {
            let Some(r) = reports.get(&c.id) else { continue };
            let mut messages: Vec<String> = r
                .health_issues
                .iter()
                .flatten()
                .filter(|i| i.points_at.is_some())
                .map(|i| format!("health issue {} \"{}\"", i.id, i.description))
                .collect();
            messages.extend(
                r.worker_credential_messages.iter().flatten().map(|w| format!("worker {} \"{}\"", w.worker, w.message)),
            );
            if !messages.is_empty() {
                failing.push(FailingCluster { cluster: quoted(&c.name), messages });
            }
            if !r.unread.is_empty() {
                unread.push(FailingCluster { cluster: quoted(&c.name), messages: r.unread.clone() });
            }
        }
        let cleared = failing.is_empty() && unread.is_empty();
        let elapsed = start.elapsed();
        if cleared || elapsed >= timeout {
            return ClustersWait { cleared, failing, unread, waited_secs: elapsed.as_secs() };
        }
        tokio::time::sleep(interval.min(timeout.saturating_sub(elapsed))).await;
    }
}

/// The most messages quoted per cluster, and workers named per message.
const MESSAGES_PER_CLUSTER: usize = 3;
const WORKERS_NAMED: usize = 5;

/// The `cluster-credential-failure` findings of a target (one per credential pointed at, most
/// certain first), from its clusters' reports; and, when some clusters could not be read, why
/// (the finding cannot be judged for them: never taken for "fine").
#[must_use]
pub(crate) fn judge(t: &TargetStatus) -> (Vec<Finding>, Option<String>) {
    let read: Vec<(&str, &ClusterReports)> =
        t.clusters.iter().filter_map(|c| c.reports.as_ref().map(|r| (c.name.as_str(), r))).collect();
    judge_reports(&read, t.owner.as_ref(), t.key.as_ref(), t.classic_credentials.as_ref())
}

/// [`judge`] for one cluster (`info --cluster`), whose key is not read.
#[must_use]
pub(crate) fn judge_one(
    name: &str,
    reports: &ClusterReports,
    owner: Option<&Owner>,
    classic: Option<&ClassicStatus>,
) -> Vec<Finding> {
    judge_reports(&[(name, reports)], owner, None, classic).0
}

/// The findings of clusters' reports, tied to the target's key, owner and classic credentials.
fn judge_reports(
    clusters: &[(&str, &ClusterReports)],
    owner: Option<&Owner>,
    key: Option<&KeyInfo>,
    classic: Option<&ClassicStatus>,
) -> (Vec<Finding>, Option<String>) {
    // The infrastructure credentials are the classic ones set by hand when they are; without
    // them (or for a VPC cluster, which never uses them), the key owner's own.
    let manual_classic = classic.is_none_or(|c| c.set != Some(false));
    let resolve = |c: Culprit| match c {
        Culprit::ClassicCredentials if !manual_classic => Culprit::KeyOwner,
        other => other,
    };
    // Per culprit: per cluster, the evidence lines.
    let mut by: BTreeMap<Culprit, Vec<String>> = BTreeMap::new();
    let mut unread: Vec<String> = Vec::new();
    for (name, r) in clusters {
        if !r.unread.is_empty() {
            unread.push(format!("{} ({})", quoted(name), r.unread.join("; ")));
        }
        let mut lines: BTreeMap<Culprit, Vec<String>> = BTreeMap::new();
        for i in r.health_issues.iter().flatten() {
            if let Some(p) = i.points_at {
                lines.entry(resolve(p)).or_default().push(format!("health issue {} \"{}\"", i.id, i.description));
            }
        }
        // Workers grouped by their message.
        let mut messages: Vec<(Culprit, &str, Vec<&str>)> = Vec::new();
        for w in r.worker_credential_messages.iter().flatten() {
            let p = resolve(w.points_at);
            match messages.iter_mut().find(|(q, m, _)| *q == p && *m == w.message) {
                Some((_, _, ws)) => ws.push(&w.worker),
                None => messages.push((p, &w.message, vec![&w.worker])),
            }
        }
        for (p, m, ws) in messages {
            let named: Vec<&str> = ws.iter().take(WORKERS_NAMED).copied().collect();
            let more = ws.len().saturating_sub(WORKERS_NAMED);
            let who = format!(
                "worker{} {}{}",
                if ws.len() == 1 { "" } else { "s" },
                named.join(", "),
                if more > 0 { format!(" and {more} more") } else { String::new() }
            );
            lines.entry(p).or_default().push(format!("{who} \"{m}\""));
        }
        for (p, mut l) in lines {
            let extra = l.len().saturating_sub(MESSAGES_PER_CLUSTER);
            l.truncate(MESSAGES_PER_CLUSTER);
            if extra > 0 {
                l.push(format!("{extra} more"));
            }
            by.entry(p).or_default().push(format!("{}: {}", quoted(name), l.join(", ")));
        }
    }
    let owner = owner.map(|o| {
        let id = o.iam_id.as_ref().map(ToString::to_string).unwrap_or_default();
        match (o.name.is_empty(), id.is_empty()) {
            (false, false) => format!("{} ({id})", o.name),
            (false, true) => o.name.clone(),
            _ => id,
        }
    });
    let findings = by
        .into_iter()
        .map(|(p, evidence)| {
            let what = match p {
                Culprit::Key => match (key, &owner) {
                    (Some(k), Some(o)) => format!("the API key {} of {o} (disabled, expired or deleted)", k.id),
                    (Some(k), None) => format!("the API key {} (disabled, expired or deleted)", k.id),
                    (None, Some(o)) => format!("the API key of {o} (disabled, expired or deleted)"),
                    _ => String::from("the target's API key (disabled, expired or deleted)"),
                },
                Culprit::KeyOwner => match &owner {
                    Some(o) => format!("the key's owner, {o}"),
                    None => String::from("the key's owner"),
                },
                Culprit::ClassicCredentials => match classic.and_then(|c| c.username.as_deref()) {
                    Some(u) => format!("the classic infrastructure credentials of {}", quoted(u)),
                    None => String::from("the classic infrastructure credentials"),
                },
            };
            let n = evidence.len();
            let detail = format!(
                "{} report{} a credential failure that points at {what}: {}",
                if n == 1 { String::from("1 cluster") } else { format!("{n} clusters") },
                if n == 1 { "s" } else { "" },
                evidence.join("; ")
            );
            Finding { points_at: Some(p), ..Finding::new(crate::model::Code::ClusterCredentialFailure, detail) }
        })
        .collect();
    let why = (!unread.is_empty()).then(|| {
        format!(
            "what {} report{} could not be read: {}",
            if unread.len() == 1 { "1 cluster" } else { "these clusters" },
            if unread.len() == 1 { "s" } else { "" },
            unread.join(", ")
        )
    });
    (findings, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_point_at_their_credential_in_any_case() {
        assert_eq!(culprit_of_message("The IAM token exchange request failed."), Some(Culprit::Key));
        assert_eq!(culprit_of_message("The IAM token exchange request failed with the message: x"), Some(Culprit::Key));
        assert_eq!(culprit_of_message("PROVIDED USER NOT FOUND OR ACTIVE"), Some(Culprit::KeyOwner));
        assert_eq!(culprit_of_message("User account is currently cancel_pending."), Some(Culprit::KeyOwner));
        assert_eq!(
            culprit_of_message("The infrastructure authentication credentials are not authorized for the request."),
            Some(Culprit::ClassicCredentials)
        );
        assert_eq!(
            culprit_of_message(
                "The worker node instance 'kube-1' can't be found. Review 'softlayer' infrastructure user permissions."
            ),
            Some(Culprit::ClassicCredentials)
        );
        assert_eq!(culprit_of_message("Ready"), None);
        let issue = |id: &str, d: &str| HealthIssue {
            id: id.into(),
            component: String::new(),
            severity: String::new(),
            description: d.into(),
        };
        assert_eq!(culprit_of_issue(&issue("nhc009", "")), Some(Culprit::Key));
        assert_eq!(culprit_of_issue(&issue("NHC001", "disk full")), None);
    }

    #[test]
    fn quoted_text_is_one_bounded_line() {
        assert_eq!(quoted("a\nb\u{202e}c\u{1b}[31m"), "a\\u{a}b\\u{202e}c\\u{1b}[31m");
        let long = "x".repeat(10_000);
        assert_eq!(quoted(&long).chars().count(), QUOTED_MAX + 1);
    }

    #[test]
    fn trouble_is_what_the_list_entry_signals() {
        let c = |state: &str, status: &str, master: &str, health: &str| {
            let mut v = serde_json::json!({"id": "c", "state": state, "status": status, "masterStatus": master, "masterHealth": health});
            v["x"] = serde_json::Value::Null;
            serde_json::from_value::<Cluster>(v).unwrap()
        };
        assert!(!troubled(&c("normal", "", "Ready", "normal")));
        assert!(!troubled(&c("normal", "All Workers Normal", "Ready (2 days ago)", "")));
        assert!(troubled(&c("warning", "", "Ready", "normal")));
        assert!(troubled(&c("normal", "", "Not Ready", "normal")));
        assert!(troubled(&c("normal", "", "Ready", "critical")));
        assert!(troubled(&c("normal", "Some workers failed", "Ready", "normal")));
        // Wrong types read as nothing said.
        let odd: Cluster = serde_json::from_str(
            r#"{"id":"c","state":"normal","status":7,"masterStatus":{"a":1},"masterHealth":null}"#,
        )
        .unwrap();
        assert!(!troubled(&odd));
        // The v2 lifecycle when the top-level members are missing.
        let v2: Cluster =
            serde_json::from_str(r#"{"id":"c","state":"normal","lifecycle":{"masterStatus":"Deploy failed"}}"#)
                .unwrap();
        assert!(troubled(&v2));
    }
}
