//! Account Management (`GET /v4/accounts/{account}`): who owns the account, for
//! `owner-is-account-owner` (CIS IBM Cloud Foundations 1.5: no API key is owned by the account
//! owner).
//!
//! The facts this relies on come from IBM's platform-services Go SDK (`accountmanagementv4`,
//! `GetAccount`): host `accounts.cloud.ibm.com`, an `AccountResponse` with `owner_iamid` (and
//! `owner`, `owner_userid`). OPEN: which role lets a caller read it is not documented; any
//! failure (403 included) leaves the owner unknown with the reason, never "not the owner". The
//! body is decoded tolerantly: a missing, empty or wrongly typed `owner_iamid` is an unknown
//! owner, never an error of the whole run.

use serde::Deserialize;
use url::Url;

use crate::auth::Client;
use crate::error::{Error, Result, Service};
use crate::http::Request;
use crate::types::{AccountId, IamId};

/// `AccountResponse`, the part read here.
#[derive(Debug, Deserialize)]
struct AccountResponse {
    /// OPEN: IBM's SDK marks it required; kept as any JSON value so that another type is an
    /// unknown owner, not a failure to decode.
    #[serde(default)]
    owner_iamid: serde_json::Value,
}

/// The Account Management API.
pub(crate) struct AccountManagement<'a> {
    client: &'a Client,
    base: Url,
}

impl<'a> AccountManagement<'a> {
    /// A client at `base`.
    #[must_use]
    pub(crate) fn new(client: &'a Client, base: Url) -> Self {
        Self { client, base }
    }

    /// The account owner's IAM ID.
    ///
    /// # Errors
    /// Transport and API errors; an answer without an owner is [`Error::BadResponse`].
    pub(crate) async fn owner(&self, account: &AccountId) -> Result<IamId> {
        let path = format!("/v4/accounts/{}", super::segment(account.as_str()));
        let resp = self.client.send(Service::AccountManagement, Request::get(super::url(&self.base, &path))).await?;
        let a: AccountResponse = resp.json(Service::AccountManagement)?;
        owner_of(&a.owner_iamid)
    }
}

/// The owner's IAM ID in `owner_iamid`: a non-empty string, else why not.
fn owner_of(v: &serde_json::Value) -> Result<IamId> {
    let bad = |detail: &str| Error::BadResponse { service: Service::AccountManagement, detail: detail.to_owned() };
    match v {
        serde_json::Value::String(s) if !s.trim().is_empty() && s.len() <= 256 => Ok(IamId::new(s.trim())),
        serde_json::Value::Null => Err(bad("the account's answer names no owner (no owner_iamid)")),
        serde_json::Value::String(_) => Err(bad("the account's answer has an empty or oversized owner_iamid")),
        _ => Err(bad("the account's owner_iamid is not a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_is_read_tolerantly() {
        assert_eq!(owner_of(&serde_json::json!("IBMid-1")).unwrap().as_str(), "IBMid-1");
        for bad in [serde_json::json!(null), serde_json::json!(""), serde_json::json!(7), serde_json::json!({"a": 1})] {
            assert!(owner_of(&bad).is_err(), "{bad}");
        }
        assert!(owner_of(&serde_json::json!("x".repeat(10_000))).is_err());
    }
}
