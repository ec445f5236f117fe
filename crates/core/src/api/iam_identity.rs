//! IAM Identity: API keys (`/v1/apikeys`). Key values are never read or kept: the list and get
//! calls do not return them for user keys, and we never ask.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::auth::Client;
use crate::error::{Result, Service};
use crate::http::Request;
use crate::types::{AccountId, ApiKeyId, IamId};

/// Longest page IAM Identity serves.
pub(crate) const MAX_PAGE_SIZE: u32 = 100;

/// When a key was last used to log in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// RFC 3339 time of the last authentication.
    #[serde(default)]
    pub last_authn: Option<String>,
    /// Number of authentications.
    #[serde(default)]
    pub authn_count: Option<u64>,
}

/// An API key's metadata (never its value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// ID.
    pub id: ApiKeyId,
    /// Name (not unique).
    #[serde(default)]
    pub name: String,
    /// Description (absent when none was set).
    #[serde(default)]
    pub description: Option<String>,
    /// Owner's IAM ID.
    pub iam_id: IamId,
    /// Account.
    #[serde(default)]
    pub account_id: Option<AccountId>,
    /// RFC 3339 creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Creator's IAM ID.
    #[serde(default)]
    pub created_by: Option<String>,
    /// Locked keys cannot be deleted.
    #[serde(default)]
    pub locked: bool,
    /// Disabled keys cannot log in.
    #[serde(default)]
    pub disabled: bool,
    /// Entity tag for updates.
    #[serde(default)]
    pub entity_tag: Option<String>,
    /// Present with `include_activity=true`.
    #[serde(default)]
    pub activity: Option<Activity>,
    /// When the key stops working, as IAM sent it (any JSON: read it with [`expiry`], which
    /// never fails the key list over it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<serde_json::Value>,
    /// What IAM does to the key when it finds it leaked, as IAM sent it (read it with
    /// [`leak_action`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_when_leaked: Option<serde_json::Value>,
}

/// When a key expires, as far as it can be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// No expiry: absent, `null` or empty.
    Never,
    /// At this time (its RFC 3339 form to the second, in UTC).
    At(std::time::SystemTime, String),
    /// Could not be read: why (the raw value escaped and cut short).
    Unknown(String),
}

/// What IAM does to a key it finds leaked (`action_when_leaked`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LeakAction {
    /// Nothing: the key keeps working.
    None,
    /// IAM disables the key.
    Disable,
    /// IAM deletes the key.
    Delete,
    /// Could not be read: why (the raw value escaped and cut short).
    Unknown(String),
}

impl LeakAction {
    /// Its name as IAM spells it; `None` when unknown.
    #[must_use]
    pub(crate) fn as_str(&self) -> Option<&'static str> {
        match self {
            Self::None => Some("none"),
            Self::Disable => Some("disable"),
            Self::Delete => Some("delete"),
            Self::Unknown(_) => None,
        }
    }
}

/// The longest part of a value that IAM sent which a note quotes.
const QUOTED_CHARS: usize = 40;

/// A value IAM sent, quoted for a note: cut to [`QUOTED_CHARS`] characters, every character
/// that is not printable ASCII escaped, so that nothing it holds can forge or hide text.
fn quoted(raw: &str) -> String {
    let cut: String = raw.chars().take(QUOTED_CHARS).collect();
    let more = if raw.chars().nth(QUOTED_CHARS).is_some() { "..." } else { "" };
    format!("'{}{more}'", escaped(&cut))
}

/// `text` with every character that is not printable ASCII (or a space) written as `\u{...}`.
fn escaped(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c.to_string() } else { format!("\\u{{{:04x}}}", u32::from(c)) })
        .collect()
}

/// An RFC 3339 time in UTC (`Z`, or no zone), fractions of a second tolerated.
fn utc_time(t: &str) -> Option<std::time::SystemTime> {
    let t = t.strip_suffix('Z').or_else(|| t.strip_suffix('z')).unwrap_or(t);
    let main = match t.split_once('.') {
        // A fraction of a second is digits only: anything after them (a zone offset) is not UTC.
        Some((main, fraction)) if !fraction.is_empty() && fraction.bytes().all(|b| b.is_ascii_digit()) => main,
        Some(_) => return None,
        None => t,
    };
    humantime::parse_rfc3339_weak(main).ok()
}

/// What kind of JSON value `v` is, in words, for a note about a value of the wrong type.
fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// A key's expiry from IAM's `expires_at`: absent, `null` or `""` is no expiry; an RFC 3339
/// time is when; anything else (unparseable text, a number, an object) is unknown with the
/// reason, never "no expiry" and never a failure of the whole key list.
///
/// OPEN: IBM documents `expires_at` as a string (its SDK's example is the placeholder
/// `"ExpiresAt"`), not its format; the other times of the same object are RFC 3339, so this one
/// is read as RFC 3339 too (fractions of a second and a zone offset tolerated).
#[must_use]
pub(crate) fn expiry(raw: Option<&serde_json::Value>) -> Expiry {
    match raw {
        None | Some(serde_json::Value::Null) => Expiry::Never,
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => Expiry::Never,
        Some(serde_json::Value::String(s)) => {
            let t = s.trim();
            let parsed = utc_time(t).or_else(|| offset_time(t));
            match parsed {
                Some(at) => Expiry::At(at, humantime::format_rfc3339_seconds(at).to_string()),
                None => Expiry::Unknown(format!("its expiry {} is not a time", quoted(s))),
            }
        }
        Some(other) => Expiry::Unknown(format!("its expiry is {}, not a time", json_kind(other))),
    }
}

/// An RFC 3339 time with a numeric zone offset (`2026-12-01T10:00:00+02:00`), which humantime
/// does not read: the offset applied by hand.
fn offset_time(t: &str) -> Option<std::time::SystemTime> {
    let (main, sign, off) = match t.get(19..)?.find(['+', '-']) {
        Some(i) => {
            let at = 19 + i;
            (t.get(..at)?, t.get(at..=at)?, t.get(at + 1..)?)
        }
        None => return None,
    };
    let (h, m) = off.split_once(':')?;
    let (h, m): (u64, u64) = (h.parse().ok()?, m.parse().ok()?);
    if h > 23 || m > 59 {
        return None;
    }
    let base = utc_time(main)?;
    let shift = std::time::Duration::from_secs(h * 3600 + m * 60);
    if sign == "+" { base.checked_sub(shift) } else { base.checked_add(shift) }
}

/// A key's `action_when_leaked`: `none`, `disable` or `delete`, any case; anything else, or
/// nothing at all, is unknown with the reason.
///
/// OPEN: IBM lists the three values; whether IAM leaves the field out for keys made before it
/// existed, and what that would mean, is not documented: absent is read as unknown, never as
/// `none`.
#[must_use]
pub(crate) fn leak_action(raw: Option<&serde_json::Value>) -> LeakAction {
    match raw {
        None | Some(serde_json::Value::Null) => {
            LeakAction::Unknown(String::from("IAM did not say what it does to the key if it leaks"))
        }
        Some(serde_json::Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "none" => LeakAction::None,
            "disable" => LeakAction::Disable,
            "delete" => LeakAction::Delete,
            _ => LeakAction::Unknown(format!("its action when leaked {} is not one IAM documents", quoted(s))),
        },
        Some(other) => LeakAction::Unknown(format!("its action when leaked is {}, not a name", json_kind(other))),
    }
}

#[derive(Debug, Deserialize)]
struct ApiKeyList {
    #[serde(default)]
    apikeys: Vec<ApiKey>,
    #[serde(default)]
    next: Option<String>,
}

/// A service ID (`GET /v1/serviceids/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ServiceId {
    /// `ServiceId-<uuid>`.
    pub id: String,
    /// `iam-ServiceId-<uuid>`.
    pub iam_id: IamId,
    /// Its name (not unique).
    #[serde(default)]
    pub name: String,
    /// Locked against changes and deletion (Secrets Manager locks the service IDs it manages).
    #[serde(default)]
    pub locked: bool,
}

#[derive(Debug, Deserialize)]
struct ServiceIdList {
    #[serde(default)]
    serviceids: Vec<ServiceId>,
    #[serde(default)]
    next: Option<String>,
}

/// Which keys to list.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Account (required by IAM for `scope=account`).
    pub account_id: Option<AccountId>,
    /// Only this identity's keys.
    pub iam_id: Option<IamId>,
    /// `entity` (default) or `account`.
    pub scope_account: bool,
    /// `user` or `serviceid`; `None` for both.
    pub key_type: Option<&'static str>,
}

/// The IAM Identity client.
#[derive(Debug, Clone)]
pub struct IamIdentity<'a> {
    client: &'a Client,
    base: Url,
}

impl<'a> IamIdentity<'a> {
    /// A client at `base`.
    #[must_use]
    pub(crate) fn new(client: &'a Client, base: Url) -> Self {
        Self { client, base }
    }

    /// Lists every key matching `q`, following `next` across pages.
    ///
    /// # Errors
    /// API and transport errors.
    pub async fn list(&self, q: &ListQuery) -> Result<Vec<ApiKey>> {
        self.pages(q, false, None).await
    }

    /// The newest keys only: one page of [`MAX_PAGE_SIZE`], newest first. A key minted a moment
    /// ago is on it, so finding one costs one request however many keys the identity has.
    ///
    /// # Errors
    /// API and transport errors.
    pub(crate) async fn newest(&self, q: &ListQuery) -> Result<Vec<ApiKey>> {
        self.pages(q, true, None).await
    }

    /// [`IamIdentity::newest`] with its own deadline instead of the command's (see
    /// [`Request::until`]).
    ///
    /// # Errors
    /// API and transport errors.
    pub(crate) async fn newest_until(&self, q: &ListQuery, until: std::time::Instant) -> Result<Vec<ApiKey>> {
        self.pages(q, true, Some(until)).await
    }

    async fn pages(
        &self,
        q: &ListQuery,
        newest_page_only: bool,
        until: Option<std::time::Instant>,
    ) -> Result<Vec<ApiKey>> {
        let mut url = super::url(&self.base, "/v1/apikeys");
        {
            let mut qp = url.query_pairs_mut();
            if let Some(a) = &q.account_id {
                qp.append_pair("account_id", a.as_str());
            }
            if let Some(i) = &q.iam_id {
                qp.append_pair("iam_id", i.as_str());
            }
            if q.scope_account {
                qp.append_pair("scope", "account");
            }
            if let Some(t) = q.key_type {
                qp.append_pair("type", t);
            }
            qp.append_pair("pagesize", &MAX_PAGE_SIZE.to_string());
            qp.append_pair("sort", "created_at");
            if newest_page_only {
                qp.append_pair("order", "desc");
            }
        }
        let mut out = Vec::new();
        let mut next = Some(url);
        let mut pages = 0;
        while let Some(u) = next.take() {
            pages += 1;
            // A list read to its end is a chain (each page waits for the one before): its pages
            // go ahead of independent requests.
            let page: ApiKeyList = self
                .client
                .send(Service::IamIdentity, Request::get(u.clone()).until(until).lead(!newest_page_only))
                .await?
                .json(Service::IamIdentity)?;
            out.extend(page.apikeys);
            if newest_page_only {
                break;
            }
            // `next` is a full URL, followed on our own host (see `api::next_page`).
            next = super::next_page(&u, page.next.as_deref(), pages, Service::IamIdentity, "key")?;
        }
        Ok(out)
    }

    /// `GET /v1/apikeys/{id}?include_activity=true`.
    ///
    /// # Errors
    /// API and transport errors.
    pub(crate) async fn get(&self, id: &ApiKeyId) -> Result<ApiKey> {
        let mut url = super::url(&self.base, &format!("/v1/apikeys/{}", super::segment(id.as_str())));
        url.query_pairs_mut().append_pair("include_activity", "true");
        self.client.send(Service::IamIdentity, Request::get(url)).await?.json(Service::IamIdentity)
    }

    async fn call(&self, method: reqwest::Method, path: String) -> Result<()> {
        // Disable/enable/lock/unlock/delete are idempotent in effect; a retry after a lost
        // answer does no harm.
        let req = Request::new(method, super::url(&self.base, &path)).idempotent(true);
        self.client.send(Service::IamIdentity, req).await.map(|_| ())
    }

    /// `POST /v1/apikeys/{id}/disable`.
    ///
    /// # Errors
    /// API and transport errors.
    pub(crate) async fn disable(&self, id: &ApiKeyId) -> Result<()> {
        self.call(reqwest::Method::POST, format!("/v1/apikeys/{}/disable", super::segment(id.as_str()))).await
    }

    /// `POST /v1/apikeys/{id}/lock`.
    ///
    /// # Errors
    /// API and transport errors.
    pub(crate) async fn lock(&self, id: &ApiKeyId) -> Result<()> {
        self.call(reqwest::Method::POST, format!("/v1/apikeys/{}/lock", super::segment(id.as_str()))).await
    }

    /// `DELETE /v1/apikeys/{id}/lock`.
    ///
    /// # Errors
    /// API and transport errors.
    pub(crate) async fn unlock(&self, id: &ApiKeyId) -> Result<()> {
        self.call(reqwest::Method::DELETE, format!("/v1/apikeys/{}/lock", super::segment(id.as_str()))).await
    }

    /// `DELETE /v1/apikeys/{id}`.
    ///
    /// # Errors
    /// API and transport errors (a locked key cannot be deleted).
    pub(crate) async fn delete(&self, id: &ApiKeyId) -> Result<()> {
        self.call(reqwest::Method::DELETE, format!("/v1/apikeys/{}", super::segment(id.as_str()))).await
    }

    /// `GET /v1/serviceids/{id}`: one service ID; `Ok(None)` when IAM answers 404 in its own
    /// error body (it does not exist, or was deleted with its keys).
    ///
    /// # Errors
    /// API and transport errors, a gateway's 404 (HTML, empty body) among them: it is no
    /// evidence that the service ID is gone ([`crate::error::ApiError::is_not_found`]).
    pub async fn service_id(&self, id: &str) -> Result<Option<ServiceId>> {
        let url = super::url(&self.base, &format!("/v1/serviceids/{}", super::segment(id)));
        match self.client.send(Service::IamIdentity, Request::get(url)).await {
            Ok(r) => Ok(Some(r.json(Service::IamIdentity)?)),
            Err(crate::Error::Api(e)) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /v1/serviceids/?account_id=&name=`: the account's service IDs with exactly this name
    /// (names are not unique), every page.
    ///
    /// # Errors
    /// API and transport errors.
    pub(crate) async fn service_ids_named(&self, account: &AccountId, name: &str) -> Result<Vec<ServiceId>> {
        let mut url = super::url(&self.base, "/v1/serviceids/");
        url.query_pairs_mut()
            .append_pair("account_id", account.as_str())
            .append_pair("name", name)
            .append_pair("pagesize", &MAX_PAGE_SIZE.to_string());
        let mut out = Vec::new();
        let mut next = Some(url);
        let mut pages = 0;
        while let Some(u) = next.take() {
            pages += 1;
            let page: ServiceIdList =
                self.client.send(Service::IamIdentity, Request::get(u.clone())).await?.json(Service::IamIdentity)?;
            out.extend(page.serviceids);
            next = super::next_page(&u, page.next.as_deref(), pages, Service::IamIdentity, "service ID")?;
        }
        // The filter is IBM's; the exact name is ours to check.
        out.retain(|s| s.name == name);
        Ok(out)
    }

    /// `GET /v1/accounts/{account}/settings/identity`: whether creating user API keys is
    /// restricted (`restrict_create_platform_apikey`: `RESTRICTED`, `NOT_RESTRICTED`,
    /// `NOT_SET`).
    ///
    /// # Errors
    /// API and transport errors.
    pub(crate) async fn api_key_creation_restricted(&self, account: &AccountId) -> Result<bool> {
        let path = format!("/v1/accounts/{}/settings/identity", super::segment(account.as_str()));
        let v: serde_json::Value = self
            .client
            .send(Service::IamIdentity, Request::get(super::url(&self.base, &path)))
            .await?
            .json(Service::IamIdentity)?;
        Ok(v.get("restrict_create_platform_apikey").and_then(serde_json::Value::as_str) == Some("RESTRICTED"))
    }

    /// `GET /v1/accounts/{account}/limits/identity?apikeys_per_identity=IAM_ID`: (limit, count)
    /// of API keys for one identity.
    ///
    /// # Errors
    /// API and transport errors; a body without the numbers.
    pub(crate) async fn api_key_quota(&self, account: &AccountId, iam_id: &IamId) -> Result<(u64, u64)> {
        let mut url =
            super::url(&self.base, &format!("/v1/accounts/{}/limits/identity", super::segment(account.as_str())));
        url.query_pairs_mut().append_pair("apikeys_per_identity", iam_id.as_str());
        let v: serde_json::Value =
            self.client.send(Service::IamIdentity, Request::get(url)).await?.json(Service::IamIdentity)?;
        let per = &v["apikeys_per_identity"];
        let limit = per["limit"].as_u64();
        let count = per["identities"]
            .as_array()
            .and_then(|a| a.iter().find(|i| i["iam_id"] == iam_id.as_str()))
            .and_then(|i| i["count"].as_u64());
        match (limit, count) {
            (Some(l), Some(c)) => Ok((l, c)),
            _ => Err(crate::error::Error::BadResponse {
                service: Service::IamIdentity,
                detail: String::from("no API key limit for the identity"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expiry_is_never_a_time_or_unknown_and_never_fails() {
        assert_eq!(expiry(None), Expiry::Never);
        assert_eq!(expiry(Some(&json!(null))), Expiry::Never);
        assert_eq!(expiry(Some(&json!("  "))), Expiry::Never);
        let at = |s: &str| match expiry(Some(&json!(s))) {
            Expiry::At(_, text) => text,
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(at("2026-12-16T10:00:00Z"), "2026-12-16T10:00:00Z");
        assert_eq!(at("2026-12-16T10:00:00.123Z"), "2026-12-16T10:00:00Z");
        assert_eq!(at("2026-12-16T10:00:00+02:00"), "2026-12-16T08:00:00Z");
        assert_eq!(at("2026-12-16T10:00:00.5-01:30"), "2026-12-16T11:30:00Z");
        for bad in ["ExpiresAt", "2026-13-45T00:00:00Z", "2026-12-16", "2026-12-16T10:00:00+99:00", "\u{202e}"] {
            assert!(matches!(expiry(Some(&json!(bad))), Expiry::Unknown(_)), "{bad}");
        }
        let Expiry::Unknown(why) = expiry(Some(&json!(format!("\u{1b}[2J{}", "9".repeat(100_000))))) else {
            panic!("unknown")
        };
        assert!(
            why.starts_with(r"its expiry '\u{001b}[2J999") && why.ends_with("...' is not a time") && why.len() < 80
        );
        assert_eq!(expiry(Some(&json!(5))), Expiry::Unknown(String::from("its expiry is a number, not a time")));
        assert_eq!(expiry(Some(&json!([]))), Expiry::Unknown(String::from("its expiry is a list, not a time")));
    }

    #[test]
    fn leak_action_is_one_of_three_any_case_else_unknown() {
        assert_eq!(leak_action(Some(&json!("none"))), LeakAction::None);
        assert_eq!(leak_action(Some(&json!("DISABLE"))), LeakAction::Disable);
        assert_eq!(leak_action(Some(&json!(" Delete "))), LeakAction::Delete);
        assert!(matches!(leak_action(None), LeakAction::Unknown(_)));
        assert!(matches!(leak_action(Some(&json!(null))), LeakAction::Unknown(_)));
        assert!(matches!(leak_action(Some(&json!(true))), LeakAction::Unknown(_)));
        let LeakAction::Unknown(why) = leak_action(Some(&json!("rotate\u{2066}"))) else { panic!("unknown") };
        assert_eq!(why, r"its action when leaked 'rotate\u{2066}' is not one IAM documents");
    }

    #[test]
    fn a_key_list_with_wrong_types_in_the_life_fields_still_decodes() {
        let page: ApiKeyList = serde_json::from_value(json!({"apikeys": [
            {"id": "ApiKey-1", "iam_id": "IBMid-1", "expires_at": {"x": 1}, "action_when_leaked": 7},
            {"id": "ApiKey-2", "iam_id": "IBMid-1"}
        ]}))
        .unwrap();
        assert_eq!(page.apikeys.len(), 2);
        assert!(matches!(expiry(page.apikeys[0].expires_at.as_ref()), Expiry::Unknown(_)));
        assert_eq!(expiry(page.apikeys[1].expires_at.as_ref()), Expiry::Never);
    }
}
