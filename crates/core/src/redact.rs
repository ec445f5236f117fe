//! The redaction rules: what never reaches a trace, an error, a log or the audit log.
//!
//! The SDK hides `Authorization:`/`X-Auth*:` header values, `password|token|apikey|passcode`
//! form pairs and JSON members whose key contains `password|token|apikey`. A list of spellings
//! misses the next one (`api_key`, `api-key`, `private_key`, `userpass`, `infrastructure_api_key`
//! all passed it), so names are normalised first ([`normalise_name`]: lower case, letters and
//! digits only) and judged by [`is_secret_name`]; headers, form and query pairs and JSON members
//! all go through it. The body of `GET /v1/credentials`, which carries the classic
//! infrastructure API key under a name IBM does not document, is hidden whole except the
//! members known to be plain (an allow-list, [`CLASSIC_USER_NAME_FIELDS`] and the few others,
//! which the decoder in [`crate::api::containers`] reads too: it reads nothing the trace would
//! hide). On top of that every JWT-looking string and every registered secret value is hidden
//! anywhere (URLs, bodies, HTML error pages), so no token, refresh token or API key survives.
//!
//! A leaf: it depends on [`crate::secret`] only, so that errors, the trace and the audit log can
//! all redact without depending on one another.

use std::sync::OnceLock;

use regex::Regex;

use crate::secret::HIDDEN;

struct Rules {
    header: Regex,
    inline_auth: Regex,
    bearer: Regex,
    form: Regex,
    json: Regex,
    jwt: Regex,
    jwt_part: Regex,
    pem: Regex,
}

fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| Rules {
        // Header lines (`Name: value`): the name is judged by `is_secret_header`.
        header: Regex::new(r"(?m)^([A-Za-z0-9_.-]+)(:[ \t]*)[^\r\n]*").expect("static regex"),
        // The same headers echoed inside a line (an error page that shows the request's
        // headers in a table or a sentence): the value up to the end of the line or a tag.
        inline_auth: Regex::new(
            r#"(?i)((?:proxy-)?authorization["']?\s*(?:[:=]|</t[dh]>\s*<t[dh][^>]*>)\s*)[^\r\n<"]*"#,
        )
        .expect("static regex"),
        // A bearer credential anywhere, whatever its length (a page may show only a prefix).
        bearer: Regex::new(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+").expect("static regex"),
        // Form and query pairs (`name=value`): the name is judged by `is_secret_name`.
        form: Regex::new(r"([A-Za-z0-9_.%-]+)=([^&\s]*)").expect("static regex"),
        // JSON string members (`"name": "value"`, escapes respected): the name is judged by
        // `is_secret_name`.
        json: Regex::new(r#""((?:[^"\\]|\\.)*)"(\s*:\s*)"(?:[^"\\]|\\.)*""#).expect("static regex"),
        // Any JWT: three base64url segments, the first starting with `eyJ` (`{"`).
        jwt: Regex::new(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*").expect("static regex"),
        // What is left of a JWT cut short (an excerpt, a truncated echo): `eyJ` and what follows.
        jwt_part: Regex::new(r"eyJ[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*)*").expect("static regex"),
        // A PEM private key block, whatever its kind.
        pem: Regex::new(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[^-]*-----END [A-Z ]*PRIVATE KEY-----")
            .expect("static regex"),
    })
}

/// A member, header or parameter name as the redaction rules compare it: lower case, ASCII
/// letters and digits only, so that `API_KEY`, `api-key`, `apiKey` and `api.key` are one name.
#[must_use]
pub(crate) fn normalise_name(name: &str) -> String {
    name.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// What a name that holds a secret contains, normalised. Deliberately broad (`key` hides
/// `api_key`, `private_key`, `infrastructure_api_key`, `softlayer_api_key` and a bare `key`;
/// `pass` hides `password`, `passcode` and `userpass`): a trace that hides a harmless value is
/// still a trace, one that shows a key is a leak.
const SECRET_PARTS: [&str; 10] =
    ["pass", "pwd", "token", "secret", "key", "credential", "private", "signature", "cookie", "auth"];

/// Names that contain a part above but are known to hold no secret (normalised): the SDK keeps
/// `token_type` ("Bearer"); IAM's key activity (`last_authn`, `authn_count`) says when a key
/// was used, which is what a trace of `prune` is read for.
const PLAIN_NAMES: [&str; 3] = ["tokentype", "lastauthn", "authncount"];

/// Whether a member, parameter or header named `name` holds a secret (any case, any
/// separator): see [`SECRET_PARTS`]; a name ending in `pw` (`userPw`) too.
#[must_use]
pub(crate) fn is_secret_name(name: &str) -> bool {
    let n = normalise_name(name);
    !PLAIN_NAMES.contains(&n.as_str()) && (SECRET_PARTS.iter().any(|p| n.contains(p)) || n.ends_with("pw"))
}

/// Whether a header's value is hidden: the SDK's (`Authorization`, `X-Auth*`) and every name
/// [`is_secret_name`] hides (`IAM-ApiKey`, `Cookie`, `X-Auth-Softlayer-APIKey`, ...).
fn is_secret_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("x-auth") || is_secret_name(name)
}

/// The JSON name as written (`\\u005f` and the like decoded), for judging.
fn json_name(raw: &str) -> String {
    serde_json::from_str::<String>(&format!("\"{raw}\"")).unwrap_or_else(|_| raw.to_owned())
}

/// Hides every value of a JSON document except the scalar members `plain` names: how the body
/// of `GET /v1/credentials` is traced (see [`classic_field_is_plain`]).
fn hide_all_but(v: &mut serde_json::Value, plain: &dyn Fn(&str) -> bool) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            for (k, member) in map.iter_mut() {
                match member {
                    Value::Object(_) | Value::Array(_) => hide_all_but(member, plain),
                    _ if plain(k) => {}
                    _ => *member = Value::String(HIDDEN.to_owned()),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(_) | Value::Array(_) => hide_all_but(item, plain),
                    _ => *item = Value::String(HIDDEN.to_owned()),
                }
            }
        }
        other => *other = Value::String(HIDDEN.to_owned()),
    }
}

/// A response body as traced: the credentials body through its allow-list (when it is JSON;
/// anything else, an error page, goes through the common rules like every body).
pub(crate) fn traced_body(path: &str, body: &str) -> String {
    if path.trim_end_matches('/').ends_with("/v1/credentials")
        && let Ok(mut v) = serde_json::from_str::<serde_json::Value>(body)
    {
        hide_all_but(&mut v, &classic_field_is_plain);
        return v.to_string();
    }
    body.to_owned()
}

/// Redacts every secret form from `text`.
#[must_use]
pub fn redact(text: &str) -> String {
    let r = rules();
    let out = r.header.replace_all(text, |caps: &regex::Captures<'_>| {
        if is_secret_header(&caps[1]) { format!("{}{}{HIDDEN}", &caps[1], &caps[2]) } else { caps[0].to_owned() }
    });
    let out = r.inline_auth.replace_all(&out, format!("${{1}}{HIDDEN}").as_str());
    let out = r.bearer.replace_all(&out, format!("${{1}}{HIDDEN}").as_str());
    let out = r.form.replace_all(&out, |caps: &regex::Captures<'_>| {
        let name = percent_decoded(&caps[1]);
        if is_secret_name(&name) { format!("{}={HIDDEN}", &caps[1]) } else { caps[0].to_owned() }
    });
    let out = r.json.replace_all(&out, |caps: &regex::Captures<'_>| {
        if is_secret_name(&json_name(&caps[1])) {
            format!("\"{}\"{}\"{HIDDEN}\"", &caps[1], &caps[2])
        } else {
            caps[0].to_owned()
        }
    });
    let out = r.jwt.replace_all(&out, HIDDEN);
    let out = r.jwt_part.replace_all(&out, HIDDEN);
    let out = r.pem.replace_all(&out, HIDDEN);
    crate::secret::scrub(&out)
}

/// A form or query name with its `%XX` escapes decoded (`api%5Fkey` is `api_key`).
fn percent_decoded(name: &str) -> String {
    url::form_urlencoded::parse(format!("{name}=").as_bytes())
        .next()
        .map_or_else(|| name.to_owned(), |(k, _)| k.into_owned())
}

/// The members of a `GET /v1/credentials` body that name the infrastructure user, normalised
/// ([`normalise_name`]: lower case, letters and digits only), preferred first.
/// An allow-list: a member is a user name only when its name says exactly that, so that
/// `user_token`, `userSecret`, `userpass`, `userPw`, `infrastructure_user_credential` or
/// `softlayerUserAuth` (secrets whose names merely contain "user") are never shown as one.
pub(crate) const CLASSIC_USER_NAME_FIELDS: [&str; 9] = [
    "infrastructureusername",
    "softlayerusername",
    "infrausername",
    "slusername",
    "username",
    "infrastructureuser",
    "softlayeruser",
    "infrauser",
    "user",
];

/// The other members of a `GET /v1/credentials` body known to hold no secret (normalised).
const CLASSIC_PLAIN_FIELDS: [&str; 4] = ["region", "resourcegroupid", "resourcegroup", "resourcegroupname"];

/// Whether the member `name` of a `GET /v1/credentials` body may be written to the trace: only
/// the fields above. Every other value of that body is hidden there, whatever its name, since
/// the body carries the infrastructure API key under a name nobody documents.
#[must_use]
fn classic_field_is_plain(name: &str) -> bool {
    let n = normalise_name(name);
    CLASSIC_USER_NAME_FIELDS.contains(&n.as_str()) || CLASSIC_PLAIN_FIELDS.contains(&n.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_hidden_case_insensitively() {
        let t = "Authorization: Bearer abc.def\r\nx-auth-refresh-token: rt\r\nX-Auth-Resource-Group: g\r\nIAM-ApiKey: k\r\nAccept: application/json\r\n";
        let r = redact(t);
        assert!(r.contains("Authorization: [PRIVATE DATA HIDDEN]\r\n"));
        assert!(r.contains("x-auth-refresh-token: [PRIVATE DATA HIDDEN]\r\n"));
        assert!(r.contains("IAM-ApiKey: [PRIVATE DATA HIDDEN]"));
        assert!(r.contains("Accept: application/json"));
        assert!(!r.contains("abc.def") && !r.contains(": rt") && !r.contains(": k\r"));
    }

    #[test]
    fn form_and_query_pairs_are_hidden() {
        let t = "grant_type=refresh_token&refresh_token=OPAQUE123&response_type=cloud_iam";
        assert_eq!(redact(t), "grant_type=refresh_token&refresh_token=[PRIVATE DATA HIDDEN]&response_type=cloud_iam");
        let t = "grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&apikey=KEYVALUE";
        assert!(!redact(t).contains("KEYVALUE"));
        let t = "GET /x?access_token=SECRETT&a=1 HTTP/1.1";
        assert!(!redact(t).contains("SECRETT"));
    }

    #[test]
    fn json_members_are_hidden_but_token_type_kept() {
        let t = r#"{"access_token":"AAA","refresh_token": "BBB","token_type":"Bearer","apikey":"CCC","expires_in":3600,"IAMToken":"DDD","name":"x"}"#;
        let r = redact(t);
        for s in ["AAA", "BBB", "CCC", "DDD"] {
            assert!(!r.contains(s), "{s} survived: {r}");
        }
        assert!(r.contains(r#""token_type":"Bearer""#));
        assert!(r.contains(r#""name":"x""#));
        // Escaped quotes inside the value do not end the redaction early.
        let r = redact(r#"{"apikey":"a\"SECRETTAIL"}"#);
        assert!(!r.contains("SECRETTAIL"), "{r}");
    }

    #[test]
    fn every_spelling_of_a_secret_name_is_hidden() {
        for name in [
            "infrastructure_api_key",
            "softlayer_api_key",
            "api_key",
            "api-key",
            "API_KEY",
            "apiKey",
            "key",
            "private_key",
            "userpass",
            "userPw",
            "api\\u005fkey",
        ] {
            let r = redact(&format!(r#"{{"{name}": "SLKEY-0123456789", "name": "n"}}"#));
            assert!(!r.contains("SLKEY-0123456789"), "{name}: {r}");
            assert!(r.contains(r#""name": "n""#), "{name}: {r}");
            let r = redact(&format!("GET /x?{name}=SLKEY-0123456789&a=1"));
            assert!(!r.contains("SLKEY-0123456789") && r.contains("&a=1"), "{name}: {r}");
            if !name.contains('\\') {
                let r = redact(&format!("X-{name}: SLKEY-0123456789\r\nAccept: */*\r\n"));
                assert!(!r.contains("SLKEY-0123456789") && r.contains("Accept: */*"), "{name}: {r}");
            }
        }
        // Activity stays readable: it says when a key was used.
        let r = redact(r#"{"last_authn": "2026-01-01T00:00:00Z"}"#);
        assert!(r.contains("2026-01-01T00:00:00Z"), "{r}");
    }

    #[test]
    fn a_credentials_body_keeps_only_what_is_known_to_be_plain() {
        let body = r#"{"infrastructure_username":"2412345_a@b.c","region":"us-south","mystery":"SLKEY-1","nested":{"x":"SLKEY-2"},"list":["SLKEY-3"],"n":987654}"#;
        let t = traced_body("/v1/credentials", body);
        for s in ["SLKEY-1", "SLKEY-2", "SLKEY-3", "987654"] {
            assert!(!t.contains(s), "{s}: {t}");
        }
        assert!(
            t.contains(r#""infrastructure_username":"2412345_a@b.c""#) && t.contains(r#""region":"us-south""#),
            "{t}"
        );
        // Another path's body, or a body that is not JSON, is left to the common rules.
        assert_eq!(traced_body("/v1/clusters", body), body);
        assert_eq!(traced_body("/v1/credentials", "<html>502</html>"), "<html>502</html>");
    }

    #[test]
    fn jwts_anywhere_are_hidden() {
        let t =
            "<html>echo eyJhbGciOiJSUzI1NiJ9.eyJpYW1faWQiOiJ4In0.c2lnbmF0dXJl</html> and /path?x=eyJabcd.efghij.klm";
        let r = redact(t);
        assert!(!r.contains("eyJ"), "{r}");
    }

    #[test]
    fn pem_private_keys_are_hidden() {
        let t = "a\n-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\nb -----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----";
        let r = redact(t);
        assert!(!r.contains("MIGHAgEA") && !r.contains("MHcCAQEE"), "{r}");
        assert!(r.starts_with("a\n") && r.contains("b "), "{r}");
    }

    #[test]
    fn registered_secrets_are_hidden_in_urls_and_text() {
        let _k = crate::secret::Secret::new("my-plain-api-key-0001");
        let r = redact("error: key my-plain-api-key-0001 rejected; url http://x/?k=my-plain-api-key-0001");
        assert!(!r.contains("my-plain-api-key-0001"));
    }
}
