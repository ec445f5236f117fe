//! Before someone leaves (`status --owner`): what in the account depends on one identity, as
//! IBM's user-removal page asks first. IBM deletes a removed user's API keys at once, so every
//! target whose current key they own loses it; their superseded keys go too; classic
//! infrastructure credentials set with their user keep ordering classic clusters' infrastructure
//! until someone replaces them.

use serde::Serialize;

use super::status::{StatusReport, TargetStatus};
use super::{Caller, Session};
use crate::api::user_management::ByEmail;
use crate::error::Result;
use crate::types::{ApiKeyId, IamId};

/// The identity asked about, as it was named and as it was resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Leaver {
    /// As given (`--owner`).
    pub query: String,
    /// The IAM ID, when known.
    pub iam_id: Option<IamId>,
    /// The email, when known (it matches classic infrastructure user names).
    pub email: Option<String>,
    /// What could not be established, and why.
    pub note: Option<String>,
}

/// One thing that depends on the identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Dependency {
    /// They own the key the clusters use: removed with them, the clusters lose it at once.
    CurrentKey {
        /// The key.
        key_id: Option<ApiKeyId>,
        /// The target's clusters.
        clusters: usize,
    },
    /// They own a superseded key: removed with them (harmless unless something still uses it).
    SupersededKey {
        /// The key.
        key_id: ApiKeyId,
    },
    /// Classic infrastructure credentials set with their infrastructure user.
    ClassicCredentials {
        /// The infrastructure user name.
        username: Option<String>,
    },
}

/// A target with what depends on the identity there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dependent {
    /// Region.
    pub region: String,
    /// Resource group ID.
    pub resource_group_id: String,
    /// Resource group name.
    pub resource_group_name: String,
    /// What depends on them.
    pub depends: Vec<Dependency>,
}

/// Resolves `query` (an email or an IAM ID): an email to its user's IAM ID through User
/// Management (when the caller may see users), an IAM ID as it is.
///
/// # Errors
/// API and transport errors of the lookup.
pub async fn resolve(session: &Session, caller: &Caller, query: &str) -> Result<Leaver> {
    let query = query.trim().to_owned();
    if !query.contains('@') {
        return Ok(Leaver { iam_id: Some(IamId::new(query.clone())), query, email: None, note: None });
    }
    let email = query.to_ascii_lowercase();
    let (iam_id, note) =
        match session.user_management().find_by_email(&caller.account, &email, caller.iam_id.as_ref()).await? {
            ByEmail::Found(id, _) => (Some(id), None),
            ByEmail::Absent => (None, Some(String::from("no user of the account has this email"))),
            ByEmail::Unseen(why) => (None, Some(why)),
            ByEmail::Ambiguous(users) => (
                None,
                Some(format!(
                    "{} users of the account have this email ({}); name one by IAM ID",
                    users.len(),
                    users.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>().join(", ")
                )),
            ),
        };
    Ok(Leaver { query, iam_id, email: Some(email), note })
}

/// Every target of `report` where something depends on `leaver`, in the report's order. The
/// email, when only the IAM ID was given, is taken from the report's owners.
#[must_use]
pub fn dependents(report: &StatusReport, leaver: &mut Leaver) -> Vec<Dependent> {
    if leaver.email.is_none()
        && let Some(id) = &leaver.iam_id
    {
        leaver.email = report
            .targets
            .iter()
            .filter_map(|t| t.owner.as_ref())
            .find(|o| o.iam_id.as_ref() == Some(id) && !o.email.is_empty())
            .map(|o| o.email.to_ascii_lowercase());
    }
    report.targets.iter().filter_map(|t| dependent(t, leaver)).collect()
}

fn dependent(t: &TargetStatus, leaver: &Leaver) -> Option<Dependent> {
    let is_them = |id: Option<&IamId>, email: &str| match (&leaver.iam_id, id) {
        (Some(l), Some(i)) => l == i,
        _ => leaver.email.as_deref().is_some_and(|e| !email.is_empty() && e.eq_ignore_ascii_case(email)),
    };
    let mut depends = Vec::new();
    if let Some(o) = &t.owner
        && is_them(o.iam_id.as_ref(), &o.email)
    {
        depends
            .push(Dependency::CurrentKey { key_id: t.key.as_ref().map(|k| k.id.clone()), clusters: t.clusters.len() });
    }
    for k in &t.superseded_keys {
        if leaver.iam_id.as_ref() == Some(&k.iam_id) {
            depends.push(Dependency::SupersededKey { key_id: k.id.clone() });
        }
    }
    if let Some(c) = &t.classic_credentials
        && c.set == Some(true)
        && let (Some(mine), Some(theirs)) = (&leaver.email, &c.owner_email)
        && mine.eq_ignore_ascii_case(theirs)
    {
        depends.push(Dependency::ClassicCredentials { username: c.username.clone() });
    }
    (!depends.is_empty()).then(|| Dependent {
        region: t.region.clone(),
        resource_group_id: t.resource_group_id.clone(),
        resource_group_name: t.resource_group_name.clone(),
        depends,
    })
}
