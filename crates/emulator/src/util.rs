//! Shared helpers: error bodies in each service's shape, bearer-token checks, time.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::server::Shared;
use crate::world::IssuedToken;

/// Which API a route belongs to (decides the error shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    /// IAM token endpoint: `{errorCode, errorMessage, context}`.
    Token,
    /// IAM Identity / policies / groups / User Management: `{errors[], status_code, trace}`.
    Identity,
    /// Resource Manager: `{message, status_code, error_code, transaction_id}`.
    ResourceManager,
    /// Containers: `{incidentID, code, description, type, recoveryCLI}`.
    Containers,
}

/// Which API a path belongs to.
pub(crate) fn api_of(path: &str) -> Api {
    if path.starts_with("/identity/") {
        Api::Token
    } else if path.starts_with("/v1/apikeys")
        || path.starts_with("/v1/policies")
        || path.starts_with("/v2/groups")
        || path.starts_with("/v2/accounts")
        || path.starts_with("/v1/accounts")
        || path.starts_with("/v2/policies")
        || path.starts_with("/coe/")
    {
        Api::Identity
    } else if path.starts_with("/v2/resource_groups") {
        Api::ResourceManager
    } else {
        Api::Containers
    }
}

fn json_response(status: u16, body: &Value) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, [("content-type", "application/json")], body.to_string()).into_response()
}

/// A containers API error.
pub(crate) fn containers_error(
    status: u16,
    code: &str,
    description: &str,
    kind: &str,
    recovery: Option<&str>,
) -> Response {
    let mut body = json!({
        "incidentID": uuid::Uuid::new_v4().to_string(),
        "code": code,
        "description": description,
        "type": kind,
    });
    if let Some(r) = recovery {
        body["recoveryCLI"] = Value::from(r);
    }
    json_response(status, &body)
}

/// An IAM token endpoint error.
pub(crate) fn token_error(status: u16, code: &str, message: &str) -> Response {
    let body = json!({
        "context": {
            "requestId": uuid::Uuid::new_v4().simple().to_string(),
            "requestType": "incoming.Identity_Token",
            "url": "https://iam.cloud.ibm.com",
            "instanceId": "iamid-emulator",
            "locale": "en_US",
            "clusterName": "iam-id-emulator",
        },
        "errorCode": code,
        "errorMessage": message,
    });
    json_response(status, &body)
}

/// An IAM Identity v1 error.
pub(crate) fn identity_error(status: u16, code: &str, message_code: &str, message: &str) -> Response {
    let body = json!({
        "errors": [{"code": code, "message_code": message_code, "message": message}],
        "status_code": status,
        "trace": format!("emulator-{}", uuid::Uuid::new_v4().simple()),
    });
    json_response(status, &body)
}

/// A Resource Manager error.
pub(crate) fn rm_error(status: u16, code: &str, message: &str) -> Response {
    let body = json!({
        "message": message,
        "status_code": status,
        "error_code": code,
        "transaction_id": uuid::Uuid::new_v4().to_string(),
    });
    json_response(status, &body)
}

/// A generic error in the shape of the API that owns `path`.
pub(crate) fn error_for(path: &str, status: u16) -> Response {
    let reason = StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error");
    match api_of(path) {
        Api::Token => token_error(status, "BXNIM0400E", reason),
        Api::Identity => identity_error(status, "internal_server_error", "BXNIM0001E", reason),
        Api::ResourceManager => rm_error(status, "RG-INTERNAL", reason),
        Api::Containers => containers_error(
            status,
            "E0000",
            reason,
            "General",
            Some("Try again later. Contact support if the problem persists."),
        ),
    }
}

/// A JSON 200.
/// SHA-256 of `text`, hex: what the emulator keeps of a secret it is given.
#[must_use]
pub(crate) fn sha256_hex(text: &str) -> String {
    crate::tls::fingerprint(text.as_bytes())
}

pub(crate) fn ok(body: &Value) -> Response {
    json_response(200, body)
}

/// A JSON response with a status.
pub(crate) fn with_status(status: u16, body: &Value) -> Response {
    json_response(status, body)
}

/// 204.
pub(crate) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// The caller behind a valid bearer token.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// IAM ID.
    pub iam_id: String,
    /// Account.
    pub account_id: String,
}

/// Checks `Authorization: Bearer <jwt>` (scheme case-insensitive) against the issued tokens.
pub(crate) fn bearer(shared: &Shared, headers: &HeaderMap) -> Option<Caller> {
    let value = headers.get("authorization")?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let signature = token.trim().rsplit('.').next()?;
    let world = shared.world();
    let now = shared.now_secs(&world);
    let t: &IssuedToken = world.issued_tokens.iter().find(|t| t.signature == signature)?;
    if t.exp <= now {
        return None;
    }
    // Tokens of users removed from the account stop working too.
    let active = world.identities.iter().any(|i| i.iam_id == t.iam_id && i.active);
    active.then(|| Caller { iam_id: t.iam_id.clone(), account_id: t.account_id.clone() })
}

/// The unauthenticated answer of each API.
pub(crate) fn unauthorized(api: Api) -> Response {
    match api {
        Api::Containers => containers_error(
            401,
            "A0003",
            "Your IAM token could not be verified. To retrieve your access tokens, run 'ibmcloud iam oauth-tokens'. Then use the IAM token for the Authorization header.",
            "Authentication",
            Some("To log in to IBM Cloud, run 'ibmcloud login'."),
        ),
        Api::Identity => {
            identity_error(401, "invalid_token", "BXNIM0308E", "The provided token is not valid or has expired.")
        }
        Api::ResourceManager => rm_error(401, "RG-UNAUTHORIZED", "The provided token is not valid or has expired."),
        Api::Token => token_error(401, "BXNIM0109E", "Authorization failed."),
    }
}

/// A header's value; empty counts as absent (bluemix-go always sends all target headers).
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

/// Unix seconds of an RFC 3339 time (UTC; fractions of a second tolerated).
pub(crate) fn parse_rfc3339(text: &str) -> Option<i64> {
    let t = humantime::parse_rfc3339_weak(text.trim_end_matches('Z').split('.').next()?).ok()?;
    i64::try_from(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs()).ok()
}

/// Unix seconds as RFC 3339 (UTC, whole seconds).
pub(crate) fn rfc3339(secs: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(secs).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}
