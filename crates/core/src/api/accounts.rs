//! The accounts an identity can reach: IBM's Enterprise Management account list
//! (`GET {enterprise}/v1/accounts?enterprise_id=...`, the `EnterpriseManagementV1` SDK's
//! `list_accounts`) and the accounts service behind `ibmcloud account list`
//! (`GET {accounts}/coe/v2/accounts`). Both are paged by a `next_url`; every field is optional
//! and decoded tolerantly (a value of the wrong type is skipped, not fatal).

use serde_json::Value;
use url::Url;

use crate::auth::Client;
use crate::error::{Result, Service};
use crate::http::Request;
use crate::types::AccountId;

/// One account as a list names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRef {
    /// BSS account ID.
    pub id: AccountId,
    /// Its name ("" when the list gave none).
    pub name: String,
    /// Its IMS (classic infrastructure) account, when the list gave one.
    pub ims: Option<String>,
    /// The enterprise it belongs to, when the list says.
    /// OPEN: that the accounts service names it (`entity.enterprise_id`) is inferred; the
    /// token's claims do not carry it.
    pub enterprise: Option<String>,
}

fn text(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str().map(str::to_owned)
}

/// Follows `next_url` over a list, collecting what `item` makes of each resource.
async fn paged(
    client: &Client,
    service: Service,
    first: Url,
    item: impl Fn(&Value) -> Option<AccountRef>,
) -> Result<Vec<AccountRef>> {
    let mut out = Vec::new();
    let mut url = Some(first);
    let mut pages = 0;
    while let Some(u) = url {
        let v: Value = client.send(service, Request::get(u.clone())).await?.json(service)?;
        if let Some(rs) = v.get("resources").and_then(Value::as_array) {
            out.extend(rs.iter().filter_map(&item));
        }
        pages += 1;
        url = super::next_page(&u, v.get("next_url").and_then(Value::as_str), pages, service, "account")?;
    }
    Ok(out)
}

/// `GET /v1/accounts?enterprise_id=...`: the enterprise's accounts.
///
/// # Errors
/// API (403 when the caller may not read the enterprise) and transport errors.
pub(crate) async fn enterprise_accounts(client: &Client, base: &Url, enterprise: &str) -> Result<Vec<AccountRef>> {
    let mut url = super::url(base, "/v1/accounts");
    url.query_pairs_mut().append_pair("enterprise_id", enterprise).append_pair("limit", "100");
    paged(client, Service::Enterprise, url, |r| {
        Some(AccountRef {
            id: AccountId::new(text(r, &["id"]).filter(|s| !s.is_empty())?),
            name: text(r, &["name"]).unwrap_or_default(),
            ims: None,
            enterprise: text(r, &["enterprise_id"]).filter(|s| !s.is_empty()),
        })
    })
    .await
}

/// `GET /coe/v2/accounts`: the accounts the caller is a member of.
///
/// # Errors
/// API and transport errors.
pub(crate) async fn member_accounts(client: &Client, base: &Url) -> Result<Vec<AccountRef>> {
    let url = super::url(base, "/coe/v2/accounts");
    paged(client, Service::Accounts, url, |r| {
        Some(AccountRef {
            id: AccountId::new(text(r, &["metadata", "guid"]).filter(|s| !s.is_empty())?),
            name: text(r, &["entity", "name"]).unwrap_or_default(),
            ims: r
                .pointer("/entity/bluemix_subscriptions/0/ims_account_id")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            enterprise: text(r, &["entity", "enterprise_id"]).filter(|s| !s.is_empty()),
        })
    })
    .await
}
