//! The caller's identity, read from the access token's JWT payload.
//!
//! Like the Go SDK (`core_config/iam_token.go`) we decode without verifying the signature: the
//! token is only used to know who we are and when it expires; the services verify it. Nothing
//! here may panic on a malformed token: it is input from a file the user can edit.

use base64::Engine as _;
use serde::Deserialize;

use crate::types::{AccountId, IamId, IdentityKind};

/// The SDK's expiry margin: a token counts as expired 10 s before `exp`.
pub(crate) const EXPIRY_MARGIN_SECS: i64 = 10;

/// Why a token could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Fewer than three dot-separated parts.
    #[error("the access token is not a JWT (expected three parts separated by '.')")]
    NotAJwt,
    /// The payload is not base64url.
    #[error("the access token's payload is not valid base64url")]
    BadBase64,
    /// The payload is not a JSON object with the expected claim types.
    #[error("the access token's payload is not valid JSON: {0}")]
    BadJson(String),
}

#[derive(Debug, Default, Deserialize)]
struct RawClaims {
    #[serde(default)]
    iam_id: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    sub_type: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    account: Option<RawAccount>,
    #[serde(default)]
    exp: Option<f64>,
    #[serde(default)]
    iat: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
struct RawAccount {
    #[serde(default)]
    bss: Option<String>,
}

/// Who a token says the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `iam_id` (the SDK's `IAMID()`).
    pub iam_id: Option<IamId>,
    /// `email`, else `sub` (the SDK's `UserDisplayText()`).
    pub display: Option<String>,
    /// `email` only.
    pub email: Option<String>,
    /// `name`, when the token carries it.
    pub name: Option<String>,
    /// From `sub_type`.
    pub kind: IdentityKind,
    /// `account.bss`.
    pub account: Option<AccountId>,
    /// `exp` in Unix seconds; `None` means the token never expires (SDK rule).
    pub expires_at: Option<i64>,
    /// `iat` in Unix seconds.
    pub issued_at: Option<i64>,
    /// Whether the `id` claim is present; the SDK treats a token without it as expired.
    pub has_id: bool,
}

impl Identity {
    /// Whether the token is expired at `now` (Unix seconds), with the SDK's 10 s margin.
    #[must_use]
    pub(crate) fn is_expired_at(&self, now: i64) -> bool {
        if !self.has_id {
            return true;
        }
        match self.expires_at {
            None => false,
            Some(exp) => exp < now + EXPIRY_MARGIN_SECS,
        }
    }
}

/// Decodes a token as stored in the CLI config (`Bearer <jwt>`) or bare.
///
/// # Errors
/// [`JwtError`] when the token is not a JWT with a JSON object payload.
pub fn decode(token: &str) -> Result<Identity, JwtError> {
    let token = token.trim();
    let token = token.strip_prefix("Bearer ").or_else(|| token.strip_prefix("bearer ")).unwrap_or(token).trim();
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() < 3 {
        return Err(JwtError::NotAJwt);
    }
    // The SDK uses RawURLEncoding; accept padded input too, since some writers pad.
    let payload = parts[1].trim_end_matches('=');
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).map_err(|_| JwtError::BadBase64)?;
    let raw: RawClaims = serde_json::from_slice(&bytes).map_err(|e| JwtError::BadJson(e.to_string()))?;
    let kind = match raw.sub_type.as_deref() {
        Some("ServiceId") => IdentityKind::ServiceId,
        Some("Profile") => IdentityKind::TrustedProfile,
        _ => raw
            .iam_id
            .as_deref()
            .and_then(IdentityKind::from_iam_id)
            .filter(|k| *k != IdentityKind::User || raw.sub_type.is_none())
            .unwrap_or(IdentityKind::User),
    };
    let display = raw.email.clone().filter(|e| !e.is_empty()).or(raw.sub.clone());
    #[allow(clippy::cast_possible_truncation)]
    let to_secs = |v: f64| if v.is_finite() { Some(v as i64) } else { None };
    Ok(Identity {
        iam_id: raw.iam_id.filter(|s| !s.is_empty()).map(IamId::new),
        display,
        email: raw.email.filter(|e| !e.is_empty()),
        name: raw.name.filter(|n| !n.is_empty()),
        kind,
        account: raw.account.and_then(|a| a.bss).filter(|s| !s.is_empty()).map(AccountId::new),
        expires_at: raw.exp.and_then(to_secs),
        issued_at: raw.iat.and_then(to_secs),
        has_id: raw.id.is_some_and(|s| !s.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    fn token(payload: &str) -> String {
        format!("Bearer {}.{}.sig", b64(r#"{"alg":"RS256"}"#), b64(payload))
    }

    /// A fake token shaped like the CLI's: an `IBMid` user's claims, unsigned.
    const DOC_TOKEN: &str = "Bearer eyJraWQiOiIyMDI2MDcwMSIsImFsZyI6IlJTMjU2In0.eyJpYW1faWQiOiJJQk1pZC0wMDAwMDAwMDAwIiwiaWQiOiJJQk1pZC0wMDAwMDAwMDAwIiwiZW1haWwiOiJ1c2VyQGV4YW1wbGUuY29tIiwic3ViIjoidXNlckBleGFtcGxlLmNvbSIsInN1Yl90eXBlIjoiVXNlciIsImFjY291bnQiOnsiYnNzIjoiMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYiLCJpbXMiOiIxMjM0NTY3IiwidmFsaWQiOnRydWV9LCJpYXQiOjE3ODMwMDAwMDAsImV4cCI6MTc4MzAwMzYwMH0.ZmFrZS1zaWduYXR1cmU";

    #[test]
    fn decodes_the_documented_token() {
        let id = decode(DOC_TOKEN).unwrap();
        assert_eq!(id.iam_id.unwrap().as_str(), "IBMid-0000000000");
        assert_eq!(id.email.as_deref(), Some("user@example.com"));
        assert_eq!(id.kind, IdentityKind::User);
        assert_eq!(id.account.unwrap().as_str(), "0123456789abcdef0123456789abcdef");
        assert_eq!(id.expires_at, Some(1_783_003_600));
        assert!(id.has_id);
    }

    #[test]
    fn expiry_uses_the_ten_second_margin() {
        let id = decode(&token(r#"{"id":"x","exp":1000}"#)).unwrap();
        assert!(!id.is_expired_at(989));
        assert!(id.is_expired_at(991));
        assert!(id.is_expired_at(2000));
    }

    #[test]
    fn no_exp_never_expires_and_no_id_is_expired() {
        assert!(!decode(&token(r#"{"id":"x"}"#)).unwrap().is_expired_at(i64::MAX / 2));
        assert!(decode(&token(r#"{"exp":99999999999}"#)).unwrap().is_expired_at(0));
    }

    #[test]
    fn service_id_and_profile_kinds() {
        let s = decode(&token(r#"{"id":"x","iam_id":"iam-ServiceId-1","sub_type":"ServiceId","sub":"ServiceId-1"}"#))
            .unwrap();
        assert_eq!(s.kind, IdentityKind::ServiceId);
        assert_eq!(s.display.as_deref(), Some("ServiceId-1"));
        let p = decode(&token(r#"{"id":"x","iam_id":"iam-Profile-1","sub_type":"Profile"}"#)).unwrap();
        assert_eq!(p.kind, IdentityKind::TrustedProfile);
    }

    #[test]
    fn malformed_tokens_are_errors_not_panics() {
        assert_eq!(decode(""), Err(JwtError::NotAJwt));
        assert_eq!(decode("Bearer "), Err(JwtError::NotAJwt));
        assert_eq!(decode("a.b"), Err(JwtError::NotAJwt));
        assert_eq!(decode("a.!!!.c"), Err(JwtError::BadBase64));
        assert!(matches!(decode(&format!("a.{}.c", b64("not json"))), Err(JwtError::BadJson(_))));
        assert!(matches!(decode(&format!("a.{}.c", b64("[1,2]"))), Err(JwtError::BadJson(_))));
        assert!(matches!(decode(&format!("a.{}.c", b64(r#"{"exp":"soon"}"#))), Err(JwtError::BadJson(_))));
        // Multi-byte garbage must not panic either.
        let _ = decode("é.é.é");
        let _ = decode("..");
    }

    #[test]
    fn padded_payload_and_float_exp_are_accepted() {
        let padded = format!("a.{}==.c", b64(r#"{"id":"x","exp":1.5e3}"#));
        assert_eq!(decode(&padded).unwrap().expires_at, Some(1500));
    }
}
