//! The IAM token endpoint, `POST {iam}/identity/token`.

use serde::Deserialize;
use url::Url;

use crate::error::{Result, Service};
use crate::http::{Body, Http, Request};
use crate::secret::Secret;

/// The ibmcloud CLI's own OAuth client (`bx`/`bx`), which the refresh grant requires.
const CLI_CLIENT_BASIC: &str = "Basic Yng6Yng=";

/// A token response (unknown keys ignored).
#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    /// The access token (a JWT).
    #[serde(deserialize_with = "secret")]
    pub access_token: Secret,
    /// The rotated refresh token; `not_supported` without client credentials.
    #[serde(default, deserialize_with = "opt_secret")]
    pub refresh_token: Option<Secret>,
    /// `Bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
}

impl TokenResponse {
    /// The token type, `Bearer` when absent.
    #[must_use]
    pub(crate) fn token_type_or_bearer(&self) -> &str {
        self.token_type.as_deref().filter(|t| !t.is_empty()).unwrap_or("Bearer")
    }
}

fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
    Ok(Secret::new(String::deserialize(d)?))
}

fn opt_secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(Secret::new))
}

/// The token URL, refusing plain HTTP to a remote host: the form carries a refresh token or an
/// API key, which deserve the same protection as a bearer token.
fn token_url(iam: &Url) -> Result<Url> {
    let url = crate::endpoints::join(iam, "/identity/token");
    crate::endpoints::require_secure(&url)?;
    Ok(url)
}

/// The refresh grant with the CLI's client, as `ibmcloud` does it.
///
/// # Errors
/// [`crate::Error::Api`] with IAM's error body (`BXNIM0407E`, ...), transport errors.
pub(crate) async fn refresh(http: &Http, iam: &Url, refresh_token: &Secret) -> Result<TokenResponse> {
    refresh_in(http, iam, refresh_token, None).await
}

/// Another account's token for the identity (`bss_account`, and `ims_account` when known), as
/// `ibmcloud target -c` asks for it (IBM's CLI SDK, `RefreshTokenToLinkAccounts`).
fn account_fields(account: Option<(&str, Option<&str>)>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some((bss, ims)) = account {
        out.push(("bss_account".into(), bss.to_owned()));
        if let Some(ims) = ims.filter(|i| !i.is_empty()) {
            out.push(("ims_account".into(), ims.to_owned()));
        }
    }
    out
}

/// The refresh grant, for the home account or `account` (BSS ID, IMS ID).
///
/// # Errors
/// As [`refresh`].
pub(crate) async fn refresh_in(
    http: &Http,
    iam: &Url,
    refresh_token: &Secret,
    account: Option<(&str, Option<&str>)>,
) -> Result<TokenResponse> {
    let mut form = vec![
        ("grant_type".into(), "refresh_token".into()),
        ("refresh_token".into(), refresh_token.expose().to_owned()),
        ("response_type".into(), "cloud_iam".into()),
    ];
    form.extend(account_fields(account));
    let req = Request::new(reqwest::Method::POST, token_url(iam)?)
        .header("Authorization", CLI_CLIENT_BASIC)
        .header("X-Request-ID", uuid::Uuid::new_v4().to_string())
        .body(Body::Form(form))
        // A refresh is not safe to repeat: the first attempt may have spent the token.
        .idempotent(false);
    http.send(Service::IamToken, &req).await?.json(Service::IamToken)
}

/// The API-key grant (standalone login).
///
/// # Errors
/// [`crate::Error::Api`] (`BXNIM0415E` for an unknown key), transport errors.
pub(crate) async fn api_key_grant(http: &Http, iam: &Url, api_key: &Secret) -> Result<TokenResponse> {
    api_key_grant_in(http, iam, api_key, None).await
}

/// The API-key grant for the key's home account or `account` (BSS ID, IMS ID).
///
/// # Errors
/// As [`api_key_grant`].
pub(crate) async fn api_key_grant_in(
    http: &Http,
    iam: &Url,
    api_key: &Secret,
    account: Option<(&str, Option<&str>)>,
) -> Result<TokenResponse> {
    let mut form = vec![
        ("grant_type".into(), "urn:ibm:params:oauth:grant-type:apikey".into()),
        ("apikey".into(), api_key.expose().to_owned()),
        ("response_type".into(), "cloud_iam".into()),
    ];
    form.extend(account_fields(account));
    let req = Request::new(reqwest::Method::POST, token_url(iam)?)
        .header("X-Request-ID", uuid::Uuid::new_v4().to_string())
        .body(Body::Form(form))
        // Repeating an API-key grant has no side effect.
        .idempotent(true);
    http.send(Service::IamToken, &req).await?.json(Service::IamToken)
}
