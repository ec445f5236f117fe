//! Before someone leaves (`status --owner`): what in the account depends on one identity, as
//! IBM's user-removal page asks first. IBM deletes a removed user's API keys at once (IAM a
//! deleted service ID's), so every target whose current key they own loses it; their superseded
//! keys go too; classic infrastructure credentials set with their user keep ordering classic
//! clusters' infrastructure until someone replaces them.
//!
//! The answer gates an offboarding checklist, so it is one of three, never a guess: something
//! depends on them, nothing does, or it is unknown because something that could name them
//! could not be read (listed with the reason). The identity is resolved first, as `check`
//! resolves its identities ([`super::check::resolve`]): an identity the account does not know
//! is refused, not answered "nothing depends on it".

use serde::Serialize;

use super::check::{Subject, resolve as resolve_identity};
use super::discovery::{KeyScope, TargetFacts};
use super::{Caller, Session};
use crate::api::user_management::ByEmail;
use crate::error::Result;
use crate::model::{OwnerState, StatusReport, TargetStatus};
use crate::types::{ApiKeyId, IamId, IdentityKind};

/// The identity asked about, as it was named and as it was resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Leaver {
    /// As given (`--owner`).
    pub query: String,
    /// The IAM ID, in IBM's spelling.
    pub iam_id: IamId,
    /// User or service ID (from the IAM ID).
    pub kind: Option<IdentityKind>,
    /// A service ID's name, when it is one.
    pub name: Option<String>,
    /// A user's email, when known (it matches classic infrastructure user names).
    pub email: Option<String>,
    /// Why their being in the account could not be confirmed, when it could not (the caller
    /// may not see users): the answer is then unknown.
    pub unverified: Option<String>,
    /// The other users of the account with the same email (IBM does not keep emails unique):
    /// classic credentials that name it could be theirs as well.
    pub email_shared_with: Vec<IamId>,
}

impl Leaver {
    /// Whether `id` is theirs (IAM IDs compared in any case, as people type them).
    fn is(&self, id: &IamId) -> bool {
        self.iam_id.as_str().eq_ignore_ascii_case(id.as_str())
    }

    /// Whether `email` is theirs, when both are known.
    fn has_email(&self, email: &str) -> Option<bool> {
        let mine = self.email.as_deref()?;
        (!email.trim().is_empty()).then(|| mine.eq_ignore_ascii_case(email.trim()))
    }

    /// Whether they are a user (only users have classic infrastructure users and emails).
    fn is_user(&self) -> bool {
        self.kind == Some(IdentityKind::User)
    }
}

/// One thing that depends on the identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase", tag = "kind")]
pub enum Dependency {
    /// They own the key the clusters use: removed with them, the clusters lose it at once.
    CurrentKey {
        /// The key, when visible.
        key_id: Option<ApiKeyId>,
        /// Locked against deletion (prune removes it only with `--unlock`).
        locked: bool,
    },
    /// They own a superseded key: removed with them (harmless unless something still uses it).
    SupersededKey {
        /// The key.
        key_id: ApiKeyId,
        /// Locked against deletion (prune removes it only with `--unlock`).
        locked: bool,
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
    /// How many clusters the target has (none: nothing there breaks).
    pub clusters: usize,
    /// What depends on them.
    pub depends: Vec<Dependency>,
}

impl Dependent {
    /// Whether they own the key the target's clusters use.
    #[must_use]
    pub fn owns_current_key(&self) -> bool {
        self.depends.iter().any(|d| matches!(d, Dependency::CurrentKey { .. }))
    }

    /// Whether any of their keys here is locked (removing it takes `prune --unlock`).
    #[must_use]
    pub fn has_locked_key(&self) -> bool {
        self.depends.iter().any(|d| {
            matches!(d, Dependency::CurrentKey { locked: true, .. } | Dependency::SupersededKey { locked: true, .. })
        })
    }
}

/// Something that could name the identity and could not be read: while any is left, "nothing
/// depends on them" cannot be said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase", tag = "what")]
pub enum Unread {
    /// Whether they are in the account could not be told.
    Identity {
        /// Why.
        reason: String,
    },
    /// Only the caller's keys could be listed: theirs are not seen.
    OtherOwnersKeys {
        /// Why.
        reason: String,
    },
    /// Who owns the key a target's clusters use could not be read.
    KeyOwner {
        /// Why.
        reason: String,
    },
    /// Which key the clusters use cannot be told, and one of theirs could be it.
    KeyInUse {
        /// Their keys that could be the one in use.
        key_ids: Vec<ApiKeyId>,
        /// Why it cannot be told.
        reason: String,
    },
    /// The target's classic infrastructure credentials could not be read.
    ClassicCredentials {
        /// Why.
        reason: String,
    },
    /// Classic infrastructure credentials are set, and whose they are cannot be told.
    ClassicUser {
        /// The infrastructure user name, when there is one.
        username: Option<String>,
        /// Why.
        reason: String,
    },
}

/// One thing that could not be read, where (no region for what concerns the whole account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unknown {
    /// Region, when it concerns one target.
    pub region: Option<String>,
    /// Resource group ID, when it concerns one target.
    pub resource_group_id: Option<String>,
    /// Resource group name, when it concerns one target.
    pub resource_group_name: Option<String>,
    /// What, and why.
    #[serde(flatten)]
    pub unread: Unread,
}

impl Unknown {
    fn account(unread: Unread) -> Self {
        Self { region: None, resource_group_id: None, resource_group_name: None, unread }
    }

    fn at(t: &TargetStatus, unread: Unread) -> Self {
        Self {
            region: Some(t.region.clone()),
            resource_group_id: Some(t.resource_group_id.clone()),
            resource_group_name: Some(t.resource_group_name.clone()),
            unread,
        }
    }
}

/// The answer for one identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Answer {
    /// Something depends on them (more may, when something could not be read).
    Depends,
    /// Everything was read, and nothing depends on them.
    Nothing,
    /// Nothing was found, but not everything could be read.
    Unknown,
}

/// What depends on one identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Offboarding {
    /// Who.
    pub owner: Leaver,
    /// The answer.
    pub answer: Answer,
    /// Every target where something depends on them, in the report's order.
    pub dependents: Vec<Dependent>,
    /// What could not be read: the account's first, then per target.
    pub unknown: Vec<Unknown>,
}

/// Resolves `query` to an identity of the account, before anything else is read: an email
/// (through User Management; shared by two users, it is refused naming both), a user's IAM ID
/// in any case, a service ID (`iam-ServiceId-…` or `ServiceId-…`) or a service ID's name. The
/// same rules as `check`'s, in the same place.
///
/// # Errors
/// [`crate::Error::UnknownUser`] and [`crate::Error::BadIdentity`] for an identity that matches
/// nothing, is ambiguous or cannot own a key; API errors.
pub async fn resolve(session: &Session, caller: &Caller, query: &str) -> Result<Leaver> {
    let query = query.trim().to_owned();
    let canonical = IdentityKind::canonical_prefix(&query);
    let subject = if query.contains('@') {
        Subject::User(query.clone())
    } else if canonical.starts_with("ServiceId-") || canonical.starts_with("iam-ServiceId-") {
        Subject::ServiceId(canonical)
    } else if canonical.starts_with("Profile-") {
        // A trusted profile without its `iam-`: refused as one, not looked up as a name.
        Subject::IamId(format!("iam-{canonical}"))
    } else if IdentityKind::from_iam_id(&canonical).is_some() {
        Subject::IamId(canonical)
    } else {
        // Not an email and not an IAM ID: the name of a service ID (the one name IAM keeps).
        Subject::ServiceId(query.clone())
    };
    let by_email = matches!(subject, Subject::User(_));
    let found = resolve_identity(session, caller, &subject).await?;
    let kind = IdentityKind::from_iam_id(found.iam_id.as_str());
    let (name, email) = match kind {
        Some(IdentityKind::ServiceId) => (Some(found.display.clone()), None),
        _ => (None, found.display.contains('@').then(|| found.display.to_ascii_lowercase())),
    };
    // Named by email, the email is theirs alone (a shared one is refused); named by IAM ID,
    // whether another user has their email is asked, since classic credentials name emails.
    let mut email_shared_with = Vec::new();
    if let Some(e) = email.as_deref().filter(|_| !by_email)
        && let ByEmail::Shared(ids) =
            session.user_management().find_by_email(&caller.account, e, caller.iam_id.as_ref()).await?
    {
        email_shared_with = ids.into_iter().filter(|i| i != &found.iam_id).collect();
    }
    Ok(Leaver { query, iam_id: found.iam_id, kind, name, email, unverified: found.unverified, email_shared_with })
}

/// What depends on `leaver` in `report` (read with `facts`, in any order): their current and
/// superseded keys and classic credentials, and what could not be read that could name them.
/// A user's email, when only the IAM ID is known, is taken from the report's owners.
#[must_use]
pub fn offboarding(report: &StatusReport, facts: &[TargetFacts], mut leaver: Leaver) -> Offboarding {
    if leaver.email.is_none() && leaver.is_user() {
        leaver.email = report
            .targets
            .iter()
            .filter_map(|t| t.owner.as_ref())
            .find(|o| o.iam_id.as_ref().is_some_and(|i| leaver.is(i)) && !o.email.trim().is_empty())
            .map(|o| o.email.trim().to_ascii_lowercase());
    }
    let mut unknown = Vec::new();
    if let Some(why) = &leaver.unverified {
        unknown.push(Unknown::account(Unread::Identity { reason: why.clone() }));
    }
    // Only the caller's keys listed: anyone else's keys, current or superseded, are not seen.
    let is_caller = report.caller.iam_id.as_ref().is_some_and(|c| leaver.is(c));
    let hidden = facts.iter().find_map(|f| match &f.key_scope {
        KeyScope::CallerOnly(why) => Some(why.clone()),
        KeyScope::Account => None,
    });
    let hidden = hidden.filter(|_| !is_caller);
    if let Some(why) = &hidden {
        unknown.push(Unknown::account(Unread::OtherOwnersKeys { reason: why.clone() }));
    }
    let mut dependents = Vec::new();
    for t in &report.targets {
        let f = facts.iter().find(|f| {
            f.target.region.as_str() == t.region && f.target.resource_group.id.as_str() == t.resource_group_id
        });
        let (depends, mut unread) = target(t, f, &leaver, hidden.is_some());
        unknown.append(&mut unread);
        if !depends.is_empty() {
            dependents.push(Dependent {
                region: t.region.clone(),
                resource_group_id: t.resource_group_id.clone(),
                resource_group_name: t.resource_group_name.clone(),
                clusters: t.clusters.len(),
                depends,
            });
        }
    }
    let answer = match (dependents.is_empty(), unknown.is_empty()) {
        (false, _) => Answer::Depends,
        (true, true) => Answer::Nothing,
        (true, false) => Answer::Unknown,
    };
    Offboarding { owner: leaver, answer, dependents, unknown }
}

/// What depends on `leaver` in one target, and what there could not be read.
fn target(
    t: &TargetStatus,
    f: Option<&TargetFacts>,
    leaver: &Leaver,
    others_hidden: bool,
) -> (Vec<Dependency>, Vec<Unknown>) {
    let mut depends = Vec::new();
    let mut unread = Vec::new();
    let has_clusters = !t.clusters.is_empty();
    // The current key: the owner the clusters report, else the key's.
    match &t.owner {
        Some(o) => {
            let theirs = match &o.iam_id {
                Some(id) => Some(leaver.is(id)),
                None => leaver.has_email(&o.email),
            };
            match theirs {
                Some(true) => depends.push(Dependency::CurrentKey {
                    key_id: t.key.as_ref().map(|k| k.id.clone()),
                    locked: t.key.as_ref().is_some_and(|k| k.locked),
                }),
                Some(false) => {
                    // The clusters could not say, and the owner shown is the newest visible
                    // key's: with other owners' keys hidden, theirs could be the one in use.
                    if let Some(why) = f.and_then(|f| f.owner.reason()).filter(|_| has_clusters && others_hidden) {
                        unread.push(Unknown::at(t, Unread::KeyOwner { reason: why.to_owned() }));
                    }
                }
                None => unread.push(Unknown::at(
                    t,
                    Unread::KeyOwner {
                        reason: String::from("the key's owner is reported without an IAM ID or an email to match"),
                    },
                )),
            }
        }
        None => {
            if let Some(why) = &t.owner_unknown_reason {
                unread.push(Unknown::at(t, Unread::KeyOwner { reason: why.clone() }));
            }
        }
    }
    for k in t.superseded_keys.iter().filter(|k| leaver.is(&k.iam_id)) {
        depends.push(Dependency::SupersededKey { key_id: k.id.clone(), locked: k.locked });
    }
    // One of their superseded keys could be the one in use.
    if let Some(u) = &t.key_in_use_unknown {
        let theirs: Vec<ApiKeyId> = t
            .superseded_keys
            .iter()
            .filter(|k| leaver.is(&k.iam_id) && u.keys.contains(&k.id))
            .map(|k| k.id.clone())
            .collect();
        if !theirs.is_empty() {
            unread.push(Unknown::at(t, Unread::KeyInUse { key_ids: theirs, reason: u.reason.clone() }));
        }
    }
    // Classic infrastructure users are users': a service ID has none.
    if leaver.is_user()
        && let Some(c) = &t.classic_credentials
    {
        match (c.set, &c.owner_email) {
            (None, _) => unread.push(Unknown::at(
                t,
                Unread::ClassicCredentials {
                    reason: c.unknown_reason.clone().unwrap_or_else(|| String::from("no reason given")),
                },
            )),
            (Some(false), _) => {}
            (Some(true), Some(email)) => match leaver.has_email(email) {
                Some(true) if leaver.email_shared_with.is_empty() => {
                    depends.push(Dependency::ClassicCredentials { username: c.username.clone() });
                }
                Some(true) => unread.push(Unknown::at(
                    t,
                    Unread::ClassicUser {
                        username: c.username.clone(),
                        reason: format!(
                            "they name {email}, which {} {} {} too",
                            if leaver.email_shared_with.len() == 1 { "the user" } else { "the users" },
                            leaver.email_shared_with.iter().map(IamId::as_str).collect::<Vec<_>>().join(", "),
                            if leaver.email_shared_with.len() == 1 { "has" } else { "have" }
                        ),
                    },
                )),
                Some(false) => {}
                None => unread.push(Unknown::at(
                    t,
                    Unread::ClassicUser {
                        username: c.username.clone(),
                        reason: format!("they name {email}, and the email of {} is not known", leaver.iam_id),
                    },
                )),
            },
            (Some(true), None) => unread.push(Unknown::at(
                t,
                Unread::ClassicUser {
                    username: c.username.clone(),
                    reason: match &c.owner_state {
                        Some(OwnerState::Unknown { reason }) => reason.clone(),
                        _ => String::from("the infrastructure user names no email to match to an account user"),
                    },
                },
            )),
        }
    }
    (depends, unread)
}
