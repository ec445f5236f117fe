//! Secrets in memory, and the registry that keeps them out of every output.
//!
//! A secret is a [`Secret`] until the one line that puts it on the wire or into the CLI config.
//! Every secret value the process handles is also registered in a process-wide set, so the trace
//! writer and the error renderer can scrub it even from places no pattern would catch (an echo
//! of a token inside an HTML error page, a URL, a JSON key we did not anticipate).

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Mutex, OnceLock};

use secrecy::ExposeSecret as _;

/// What a secret is replaced with wherever it would show: the IBM Cloud SDK's placeholder.
pub(crate) const HIDDEN: &str = "[PRIVATE DATA HIDDEN]";

/// A secret string: redacted in `Debug`, zeroed on drop, registered for scrubbing.
#[derive(Clone)]
pub struct Secret(secrecy::SecretString);

impl Secret {
    /// Wraps a value and registers it so that [`scrub`] removes it from any text.
    #[must_use]
    pub(crate) fn new(value: impl Into<String>) -> Self {
        let value: String = value.into();
        register(&value);
        Self(secrecy::SecretString::from(value))
    }

    /// The value, for the one place that sends or stores it.
    #[must_use]
    pub(crate) fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(HIDDEN)
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

fn registry() -> &'static Mutex<BTreeSet<String>> {
    static REG: OnceLock<Mutex<BTreeSet<String>>> = OnceLock::new();
    REG.get_or_init(|| Mutex::new(BTreeSet::new()))
}

/// Registers a secret value for scrubbing. Very short values are not registered: replacing
/// every `a` in a trace would make it useless, and such values are not credentials anyway.
pub(crate) fn register(value: &str) {
    let value = value.trim();
    if value.len() < 8 {
        return;
    }
    let mut reg = registry().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    reg.insert(value.to_owned());
    // A `Bearer <jwt>` value is also registered without its scheme, and a JWT's signature-less
    // prefix too, so partial echoes are caught.
    if let Some(rest) = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))
        && rest.len() >= 8
    {
        reg.insert(rest.to_owned());
    }
}

/// Replaces every registered secret in `text` with the SDK's placeholder.
#[must_use]
pub(crate) fn scrub(text: &str) -> String {
    let reg = registry().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut out = text.to_owned();
    // Longest first, so a secret that contains another is replaced whole.
    let mut values: Vec<&String> = reg.iter().collect();
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    for v in values {
        if out.contains(v.as_str()) {
            out = out.replace(v.as_str(), HIDDEN);
        }
        // Secrets also travel percent-encoded in forms and URLs.
        let enc: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
        if enc != *v && out.contains(enc.as_str()) {
            out = out.replace(enc.as_str(), HIDDEN);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("super-secret-value-123");
        assert_eq!(format!("{s:?}"), "[PRIVATE DATA HIDDEN]");
    }

    #[test]
    fn scrub_removes_registered_values_plain_and_encoded() {
        let _s = Secret::new("abc+def/ghi=jkl-xyz");
        let text = "x abc+def/ghi=jkl-xyz y abc%2Bdef%2Fghi%3Djkl-xyz z";
        let out = scrub(text);
        assert!(!out.contains("abc+def"));
        assert!(!out.contains("abc%2Bdef"));
        assert!(out.starts_with("x [PRIVATE DATA HIDDEN] y"));
    }

    #[test]
    fn bearer_values_are_registered_without_scheme() {
        register("Bearer eyJhbGciOi.payloadpart.signature1");
        assert_eq!(scrub("tok=eyJhbGciOi.payloadpart.signature1"), "tok=[PRIVATE DATA HIDDEN]");
    }
}
