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
    let req = Request::new(reqwest::Method::POST, token_url(iam)?)
        .header("Authorization", CLI_CLIENT_BASIC)
        .header("X-Request-ID", uuid::Uuid::new_v4().to_string())
        .body(Body::Form(vec![
            ("grant_type".into(), "refresh_token".into()),
            ("refresh_token".into(), refresh_token.expose().to_owned()),
            ("response_type".into(), "cloud_iam".into()),
        ]))
        // A refresh is not safe to repeat: the first attempt may have spent the token.
        .idempotent(false);
    http.send(Service::IamToken, &req).await?.json(Service::IamToken)
}

/// The API-key grant (standalone login).
///
/// # Errors
/// [`crate::Error::Api`] (`BXNIM0415E` for an unknown key), transport errors.
pub(crate) async fn api_key_grant(http: &Http, iam: &Url, api_key: &Secret) -> Result<TokenResponse> {
    let req = Request::new(reqwest::Method::POST, token_url(iam)?)
        .header("X-Request-ID", uuid::Uuid::new_v4().to_string())
        .body(Body::Form(vec![
            ("grant_type".into(), "urn:ibm:params:oauth:grant-type:apikey".into()),
            ("apikey".into(), api_key.expose().to_owned()),
            ("response_type".into(), "cloud_iam".into()),
        ]))
        // Repeating an API-key grant has no side effect.
        .idempotent(true);
    http.send(Service::IamToken, &req).await?.json(Service::IamToken)
}
