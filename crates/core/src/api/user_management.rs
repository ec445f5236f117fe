//! User Management (`/v2/accounts/{account}/users`): whether a key owner is still in the
//! account, and in which state.
//!
//! The facts this relies on (IBM's platform-services Go SDK, `usermanagementv1`): a user is a
//! `UserProfile` with a `state` (`ACTIVE`, `PENDING`, `PROCESSING`, `DISABLED_CLASSIC_INFRASTRUCTURE`,
//! `VPN_ONLY`, ...; any value but `ACTIVE` counts as not active); reading other users needs a
//! User Management role, and without one the API shows only the caller, so a 403 means
//! "unknown", never "removed". A user removed from the account is answered 404 (INFERRED: IBM
//! does not document the status; handled here and nowhere else), in IBM's own error body: a
//! gateway's 404 (HTML, empty) is an error, never "not in the account"
//! ([`crate::error::ApiError::is_not_found`]).

use serde::Deserialize;
use url::Url;

use crate::auth::Client;
use crate::error::{Error, Result, Service};
use crate::http::Request;
use crate::types::{AccountId, IamId};

/// A user looked for in the account's user list (by email, or by IAM ID in any case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ByEmail {
    /// A member has it: their IAM ID and their state as the list reports it (`ACTIVE`,
    /// `PENDING`, ...; `UNKNOWN` when the entry has none).
    Found(IamId, String),
    /// More than one member has it (IBM does not keep emails unique in an account): their IAM
    /// IDs, in the list's order. Taking the first would act on a guess.
    Shared(Vec<IamId>),
    /// The caller sees the account's users, and none has it.
    Absent,
    /// The caller sees only themselves: whether anyone has it cannot be told (why).
    Unseen(String),
}

/// What User Management says of one IAM ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Membership {
    /// In the account, in this state (`ACTIVE`, `PENDING`, ...).
    Member {
        /// The state, as IBM spells it.
        state: String,
        /// The user's email.
        email: String,
        /// First and last name.
        name: String,
    },
    /// Not (or no longer) in the account.
    NotInAccount,
    /// The caller may not see it; why.
    Hidden(String),
}

/// What a User Management state other than `ACTIVE` means for someone who owns a key, as a
/// clause that follows the state (`IAMID_INVALID in the account: ...`); `None` for `ACTIVE` and
/// for a state IBM has not described. The states are IBM's ("User account status", User
/// Management API); `IAMID_INVALID` is not in IBM's table: INFERRED from accounts that show it
/// for users whose `IBMid` was closed or deactivated.
#[must_use]
pub(crate) fn state_meaning(state: &str) -> Option<&'static str> {
    Some(match state {
        "IAMID_INVALID" => "their IBMid is no longer valid, so they cannot log in",
        "PENDING" => "invited, and the invitation is not accepted yet, so they cannot log in",
        "PROCESSING" => "still being added to the account, so they cannot log in yet",
        "SUSPENDED" => "suspended in the account, so they cannot log in",
        "VPN_ONLY" => "they cannot log in through the IBM Cloud console, only the classic infrastructure VPN",
        "DISABLED_CLASSIC_INFRASTRUCTURE" => "they cannot use classic infrastructure (SoftLayer) resources",
        _ => return None,
    })
}

/// `": "` and [`state_meaning`], or nothing: appended where a state is named.
#[must_use]
pub fn state_clause(state: &str) -> String {
    state_meaning(state).map(|m| format!(": {m}")).unwrap_or_default()
}

/// What User Management answered an invitation (its `InvitedUserList`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invited {
    /// The invited user's IAM ID, when the answer carries one.
    pub iam_id: Option<IamId>,
    /// The invitation's state (`PENDING`, `PROCESSING`, ...; `UNKNOWN` when not given).
    pub state: String,
}

impl Invited {
    /// Reads the entry for `email` (or the only entry) of an `InvitedUserList`
    /// (`{"resources": [{"email", "id", "state"}]}`). INFERRED: IBM's SDKs call the member
    /// `id` and say only "the id associated with the invited user"; it is taken for the IAM ID
    /// only when it looks like one (`IBMid-...`), and otherwise left out, so that nothing
    /// downstream acts on a guess.
    #[must_use]
    pub(crate) fn decode(v: &serde_json::Value, email: &str) -> Self {
        let list = v["resources"].as_array().map(Vec::as_slice).unwrap_or_default();
        let entry = list
            .iter()
            .find(|u| u["email"].as_str().is_some_and(|e| e.eq_ignore_ascii_case(email.trim())))
            .or(if list.len() == 1 { list.first() } else { None });
        let field = |name: &str| entry.and_then(|u| u[name].as_str()).map(str::trim).filter(|s| !s.is_empty());
        Self {
            iam_id: field("id").filter(|id| id.starts_with("IBMid-")).map(IamId::new),
            state: field("state").unwrap_or("UNKNOWN").to_ascii_uppercase(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct UserProfile {
    #[serde(default)]
    state: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    firstname: String,
    #[serde(default)]
    lastname: String,
}

/// The User Management client.
#[derive(Debug, Clone)]
pub struct UserManagement<'a> {
    client: &'a Client,
    base: Url,
}

impl<'a> UserManagement<'a> {
    /// A client at `base`.
    #[must_use]
    pub(crate) fn new(client: &'a Client, base: Url) -> Self {
        Self { client, base }
    }

    /// `GET /v2/accounts/{account}/users/{iam_id}`.
    ///
    /// # Errors
    /// Transport errors and API errors other than 403 and IBM's own 404 (which are answers
    /// here); a 404 that is not IBM's answer is an error, so the membership stays unknown.
    pub async fn membership(&self, account: &AccountId, iam_id: &IamId) -> Result<Membership> {
        let path =
            format!("/v2/accounts/{}/users/{}", super::segment(account.as_str()), super::segment(iam_id.as_str()));
        match self.client.send(Service::UserManagement, Request::get(super::url(&self.base, &path))).await {
            Ok(resp) => {
                let p: UserProfile = resp.json(Service::UserManagement)?;
                let state = if p.state.trim().is_empty() { String::from("UNKNOWN") } else { p.state.trim().to_owned() };
                let name = format!("{} {}", p.firstname.trim(), p.lastname.trim()).trim().to_owned();
                Ok(Membership::Member { state, email: p.email, name })
            }
            Err(Error::Api(e)) if e.is_not_found() => Ok(Membership::NotInAccount),
            Err(Error::Api(e)) if e.status == 403 => Ok(Membership::Hidden(String::from(
                "you cannot see other users of the account (a User Management role is needed)",
            ))),
            Err(e) => Err(e),
        }
    }

    /// `POST /v2/accounts/{account}/users`: invites `email` as a member of the account, with
    /// `iam_policy` (User Management's `InviteUserIamPolicy` objects: `type`, `roles`,
    /// `resources`) in the same request. IBM creates the user in `PROCESSING`, then `PENDING`
    /// until the invitation is accepted. Never retried: a second invitation is a second email.
    ///
    /// # Errors
    /// API and transport errors.
    pub(crate) async fn invite(
        &self,
        account: &AccountId,
        email: &str,
        iam_policy: Vec<serde_json::Value>,
    ) -> Result<Invited> {
        let url = super::url(&self.base, &format!("/v2/accounts/{}/users", super::segment(account.as_str())));
        let body = serde_json::json!({
            "users": [{"email": email, "account_role": "Member"}],
            "iam_policy": iam_policy,
        });
        let req = Request::new(reqwest::Method::POST, url).body(crate::http::Body::Json(body)).idempotent(false);
        let v: serde_json::Value =
            self.client.send(Service::UserManagement, req).await?.json(Service::UserManagement)?;
        Ok(Invited::decode(&v, email))
    }

    /// The member whose email is `email` (any case), reading the whole user list page by page
    /// (`next_url` carries `_start`): a second member with the same email makes the answer
    /// [`ByEmail::Shared`]. A caller without a User Management role is shown only their own
    /// user: when `caller` is the only user listed, absence proves nothing, and the answer is
    /// [`ByEmail::Unseen`], never [`ByEmail::Absent`].
    ///
    /// # Errors
    /// API and transport errors.
    pub(crate) async fn find_by_email(
        &self,
        account: &AccountId,
        email: &str,
        caller: Option<&IamId>,
    ) -> Result<ByEmail> {
        let email = email.trim();
        self.find(account, caller, |u| u["email"].as_str().is_some_and(|e| e.eq_ignore_ascii_case(email))).await
    }

    /// The member whose IAM ID is `iam_id` in any case (`ibmid-2700000dep` for
    /// `IBMid-2700000DEP`), from the user list as [`Self::find_by_email`] reads it: what a
    /// person typed, in the spelling IBM's APIs expect.
    ///
    /// # Errors
    /// API and transport errors.
    pub(crate) async fn find_by_iam_id_any_case(
        &self,
        account: &AccountId,
        iam_id: &str,
        caller: Option<&IamId>,
    ) -> Result<ByEmail> {
        let iam_id = iam_id.trim();
        self.find(account, caller, |u| u["iam_id"].as_str().is_some_and(|i| i.eq_ignore_ascii_case(iam_id))).await
    }

    /// The members of the user list that `wanted` picks, every page read.
    async fn find(
        &self,
        account: &AccountId,
        caller: Option<&IamId>,
        wanted: impl Fn(&serde_json::Value) -> bool,
    ) -> Result<ByEmail> {
        let mut start: Option<String> = None;
        let mut others = false;
        let mut found: Vec<(IamId, String)> = Vec::new();
        for _ in 0..1000 {
            let mut url = super::url(&self.base, &format!("/v2/accounts/{}/users", super::segment(account.as_str())));
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("limit", "100");
                if let Some(s) = &start {
                    q.append_pair("_start", s);
                }
            }
            let v: serde_json::Value =
                self.client.send(Service::UserManagement, Request::get(url)).await?.json(Service::UserManagement)?;
            let users = v["resources"].as_array().map(Vec::as_slice).unwrap_or_default();
            for u in users.iter().filter(|u| wanted(u)) {
                let Some(id) = u["iam_id"].as_str().map(str::trim).filter(|i| !i.is_empty()) else { continue };
                if found.iter().any(|(f, _)| f.as_str() == id) {
                    continue;
                }
                let state = u["state"].as_str().map(str::trim).filter(|s| !s.is_empty()).unwrap_or("UNKNOWN");
                found.push((IamId::new(id), state.to_ascii_uppercase()));
            }
            others |= users.iter().any(|u| caller.is_none_or(|c| u["iam_id"].as_str() != Some(c.as_str())));
            start = v["next_url"].as_str().and_then(|n| {
                url::Url::parse(&format!("http://x{n}"))
                    .ok()?
                    .query_pairs()
                    .find(|(k, _)| k == "_start")
                    .map(|(_, v)| v.into_owned())
            });
            if start.is_none() {
                break;
            }
        }
        Ok(match found.len() {
            0 if others => ByEmail::Absent,
            0 => ByEmail::Unseen(String::from(
                "you cannot see other users of the account (a User Management role is needed)",
            )),
            1 => {
                let (id, state) = found.remove(0);
                ByEmail::Found(id, state)
            }
            _ => ByEmail::Shared(found.into_iter().map(|(id, _)| id).collect()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invitation_answer_is_read_tolerantly() {
        let v = serde_json::json!({"resources": [
            {"email": "Other@Example.com", "id": "IBMid-1", "state": "PENDING"},
            {"email": "fid@example.com", "id": "IBMid-2", "state": "processing"},
        ]});
        assert_eq!(
            Invited::decode(&v, "FID@example.com"),
            Invited { iam_id: Some(IamId::new("IBMid-2")), state: String::from("PROCESSING") }
        );
        // An `id` that is not an IAM ID is not taken for one; a missing state is not guessed.
        let v = serde_json::json!({"resources": [{"email": "fid@example.com", "id": "user-9"}]});
        assert_eq!(Invited::decode(&v, "fid@example.com"), Invited { iam_id: None, state: String::from("UNKNOWN") });
        assert_eq!(
            Invited::decode(&serde_json::json!({}), "fid@example.com"),
            Invited { iam_id: None, state: String::from("UNKNOWN") }
        );
    }
}
