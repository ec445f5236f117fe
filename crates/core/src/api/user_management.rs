//! User Management (`/v2/accounts/{account}/users`): whether a key owner is still in the
//! account, and in which state.
//!
//! The facts this relies on (IBM's platform-services Go SDK, `usermanagementv1`): a user is a
//! `UserProfile` with a `state` (`ACTIVE`, `PENDING`, `PROCESSING`, `DISABLED_CLASSIC_INFRASTRUCTURE`,
//! `VPN_ONLY`, ...; any value but `ACTIVE` counts as not active); reading other users needs a
//! User Management role, and without one the API shows only the caller, so a 403 means
//! "unknown", never "removed". A user removed from the account is answered 404 (INFERRED: IBM
//! does not document the status; handled here and nowhere else).

use serde::Deserialize;
use url::Url;

use crate::auth::Client;
use crate::error::{Error, Result, Service};
use crate::http::Request;
use crate::types::{AccountId, IamId};

/// A user looked for by email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ByEmail {
    /// A member has it.
    Found(IamId),
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
    pub fn new(client: &'a Client, base: Url) -> Self {
        Self { client, base }
    }

    /// `GET /v2/accounts/{account}/users/{iam_id}`.
    ///
    /// # Errors
    /// Transport errors and API errors other than 403 and 404 (which are answers here).
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
            Err(Error::Api(e)) if e.status == 404 => Ok(Membership::NotInAccount),
            Err(Error::Api(e)) if e.status == 403 => Ok(Membership::Hidden(String::from(
                "you cannot see other users of the account (a User Management role is needed)",
            ))),
            Err(e) => Err(e),
        }
    }

    /// The member whose email is `email` (any case), reading the user list page by page
    /// (`next_url` carries `_start`). A caller without a User Management role is shown only
    /// their own user: when `caller` is the only user listed, absence proves nothing, and the
    /// answer is [`ByEmail::Unseen`], never [`ByEmail::Absent`].
    ///
    /// # Errors
    /// API and transport errors.
    pub async fn find_by_email(&self, account: &AccountId, email: &str, caller: Option<&IamId>) -> Result<ByEmail> {
        let mut start: Option<String> = None;
        let mut others = false;
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
            let found = v["resources"].as_array().and_then(|users| {
                users.iter().find(|u| u["email"].as_str().is_some_and(|e| e.eq_ignore_ascii_case(email.trim())))
            });
            if let Some(id) = found.and_then(|u| u["iam_id"].as_str()) {
                return Ok(ByEmail::Found(IamId::new(id)));
            }
            others |= v["resources"].as_array().is_some_and(|users| {
                users.iter().any(|u| caller.is_none_or(|c| u["iam_id"].as_str() != Some(c.as_str())))
            });
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
        Ok(if others {
            ByEmail::Absent
        } else {
            ByEmail::Unseen(String::from(
                "you cannot see other users of the account (a User Management role is needed)",
            ))
        })
    }
}
