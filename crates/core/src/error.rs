//! The core's error type, and the one parser for IBM Cloud error bodies.
//!
//! Every error knows the recovery hint the user needs (`'ibmcloud login'`, ...), so the binary
//! only has to print `FAILED`, the message and the hints. Messages never contain secrets: bodies
//! are shortened and scrubbed before they are kept.

use std::path::PathBuf;

use serde_json::Value;

use crate::jwt::JwtError;

/// A message as a clause inside a sentence: without its final full stop, so that composing two
/// never gives `.;` or `..`.
#[must_use]
pub fn clause(message: &str) -> &str {
    message.trim_end().trim_end_matches('.')
}

/// Result alias for the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which IBM Cloud API answered (it decides how an error body is read and what to suggest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// The IAM token endpoint.
    IamToken,
    /// IAM Identity (API keys).
    IamIdentity,
    /// IAM Policy Management and Access Groups.
    IamAccess,
    /// Resource Manager (resource groups).
    ResourceManager,
    /// The Kubernetes Service / `OpenShift` containers API.
    Containers,
    /// User Management.
    UserManagement,
    /// Account Management (the account's owner).
    AccountManagement,
    /// The accounts service (`ibmcloud account list`).
    Accounts,
    /// Enterprise Management.
    Enterprise,
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::IamToken => "IAM",
            Self::IamIdentity => "IAM Identity",
            Self::IamAccess => "IAM Access Management",
            Self::ResourceManager => "Resource Manager",
            Self::Containers => "Kubernetes Service",
            Self::UserManagement => "User Management",
            Self::AccountManagement => "Account Management",
            Self::Accounts => "Accounts",
            Self::Enterprise => "Enterprise Management",
        })
    }
}

/// A non-success answer from an IBM Cloud API, in whichever of its shapes it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Which API answered.
    pub service: Service,
    /// IBM's error code (`G0004`, `BXNIM0415E`, `not_found`, ...), when the body had one.
    pub code: Option<String>,
    /// What went wrong, in IBM's words, or a short safe excerpt of a body that was not JSON.
    pub description: String,
    /// The containers API's `recoveryCLI`, when present.
    pub recovery: Option<String>,
    /// The containers API's `incidentID`, IAM's `requestId` or IAM Identity's `trace`.
    pub incident_id: Option<String>,
    /// Whether the body was one of IBM's JSON error shapes (false: HTML, empty, truncated...).
    pub structured: bool,
}

/// Longest excerpt of an unstructured body kept in an error.
const EXCERPT_CHARS: usize = 200;

impl ApiError {
    /// Reads an error body: containers `{incidentID, code, description, type, recoveryCLI}`,
    /// IAM token `{errorCode, errorMessage, context}`, IAM Identity `{errors[], status_code,
    /// trace}`, the generic `{error | message}`; anything else keeps the status and a short,
    /// scrubbed excerpt.
    #[must_use]
    pub fn parse(service: Service, status: u16, body: &[u8]) -> Self {
        let mut err = Self {
            status,
            service,
            code: None,
            description: String::new(),
            recovery: None,
            incident_id: None,
            structured: false,
        };
        if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
            let s = |k: &str| map.get(k).and_then(Value::as_str).map(str::to_owned);
            if let Some(desc) = s("description") {
                err.code = s("code");
                err.description = desc;
                err.recovery = s("recoveryCLI").filter(|r| !r.is_empty());
                err.incident_id = s("incidentID");
                err.structured = true;
            } else if let Some(msg) = s("errorMessage") {
                err.code = s("errorCode");
                err.description = msg;
                err.incident_id =
                    map.get("context").and_then(|c| c.get("requestId")).and_then(Value::as_str).map(str::to_owned);
                err.structured = true;
            } else if let Some(first) = map.get("errors").and_then(Value::as_array).and_then(|a| a.first()) {
                let f = |k: &str| first.get(k).and_then(Value::as_str).map(str::to_owned);
                err.code = f("message_code").or_else(|| f("code"));
                err.description = match (f("message"), f("details")) {
                    (Some(m), Some(d)) if d != m => format!("{m} {d}"),
                    (Some(m), _) => m,
                    (None, Some(d)) => d,
                    (None, None) => String::from("(no message)"),
                };
                err.incident_id = s("trace");
                err.structured = true;
            } else if let Some(msg) = s("message").or_else(|| s("error")) {
                err.code = s("code").or_else(|| s("errorCode"));
                err.description = msg;
                err.structured = true;
            }
        }
        if !err.structured {
            // Redacted whole, before it is cut: a page that echoes the request's headers must
            // not leave a token's prefix in the excerpt, where no pattern could tell it apart.
            err.description = excerpt(&crate::redact::redact(&String::from_utf8_lossy(body)));
        }
        // Server text is shown and stored (the audit log): no credential of any shape survives.
        err.description = crate::redact::redact(&err.description);
        err.recovery = err.recovery.map(|r| crate::redact::redact(&r));
        err
    }

    /// Whether this answer is demonstrably IBM's own: the containers API's error body with both
    /// its code and its incident ID. Only such an answer says the request was processed and
    /// refused; a gateway's 502/503/504, an HTML page or an empty body says nothing about what
    /// the backend did (a 504 came back while the key was still being minted).
    ///
    /// INFERRED (from IBM's published error samples and public issue threads): every containers error body carries
    /// `incidentID` and `code`; gateways in front of the API are not known to forge them.
    #[must_use]
    pub fn is_ibm_refusal(&self) -> bool {
        self.service == Service::Containers
            && self.structured
            && self.code.as_deref().is_some_and(|c| !c.is_empty())
            && self.incident_id.as_deref().is_some_and(|i| !i.is_empty())
    }

    /// Whether this answer is demonstrably the service's own, whichever service: one of IBM's
    /// JSON error shapes with both a code and an incident ID (`incidentID`, IAM's `requestId`
    /// or `trace`). A gateway's page, an empty body or a bare `{"message"}` is not.
    #[must_use]
    pub(crate) fn is_own_answer(&self) -> bool {
        self.structured
            && self.code.as_deref().is_some_and(|c| !c.is_empty())
            && self.incident_id.as_deref().is_some_and(|i| !i.is_empty())
    }

    /// Whether this answer says "no such thing": a 404 that is the service's own error body
    /// ([`Self::is_own_answer`]: IBM's JSON error shape with a code and an incident ID, such as
    /// User Management's and IAM Identity's `{"errors": [{"code": "not_found", ...}],
    /// "status_code": 404, "trace": ...}`). A 404 from a gateway, a proxy or a misrouted
    /// request (an HTML page, an empty body) says only that the request did not reach the
    /// service: it is no evidence that a user left or a service ID was deleted, so it is an
    /// error like a 500, and whatever depended on it is unknown. The one place that decides.
    #[must_use]
    pub(crate) fn is_not_found(&self) -> bool {
        self.status == 404 && self.is_own_answer()
    }
}

/// A short, single-line, scrubbed excerpt of an unstructured body.
fn excerpt(text: &str) -> String {
    let text = if text.trim_start().starts_with('<') { strip_tags(text) } else { text.to_owned() };
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        return String::from("(empty response body)");
    }
    let mut out: String = one_line.chars().take(EXCERPT_CHARS).collect();
    if one_line.chars().count() > EXCERPT_CHARS {
        out.push_str("...");
    }
    out
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.structured {
            match &self.code {
                Some(code) => write!(f, "{} ({code})", self.description),
                None => write!(f, "{}", self.description),
            }
        } else {
            write!(f, "{} answered with HTTP {}: {}", self.service, self.status, self.description)
        }
    }
}

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No `config.json` where the host keeps it.
    #[error("No IBM Cloud CLI configuration was found at '{}'.", path.display())]
    NoConfig {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The CLI config is not a JSON object.
    #[error("The IBM Cloud CLI configuration at '{}' could not be read: {detail}", path.display())]
    MalformedConfig {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// Reading or writing a file failed.
    #[error("Could not access '{}': {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Another process held the config lock for too long.
    #[error("Timed out waiting for the lock on '{}'.", path.display())]
    LockTimeout {
        /// The file.
        path: PathBuf,
    },
    /// No session in the config and no `IBMCLOUD_API_KEY`.
    #[error("Not logged in.")]
    NotLoggedIn,
    /// The stored access token is not a readable JWT.
    #[error("The stored IAM access token is not valid: {0}")]
    BadToken(#[from] JwtError),
    /// IAM rejected the refresh token (`BXNIM0407E`, `BXNIM0408E`, ...): the session is over.
    #[error("Your IBM Cloud session has expired or is no longer valid{}.", code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    SessionExpired {
        /// IAM's error code.
        code: Option<String>,
    },
    /// Refreshing the session failed in a way that does not prove it is over.
    #[error("{detail}")]
    RefreshFailed {
        /// What happened.
        detail: String,
        /// Whether IAM may have spent the refresh token (the answer was lost).
        spent: bool,
    },
    /// The session has no refresh token (for example a compute-resource login) and has expired.
    #[error("The IAM access token has expired and the session cannot be refreshed.")]
    CannotRefresh,
    /// IAM gives no token for the account: the identity is no member there.
    #[error("No access to the account {account}: {detail}")]
    AccountUnreachable {
        /// The account's ID.
        account: String,
        /// IAM's answer.
        detail: String,
    },
    /// IAM rejected the API key (`BXNIM0415E`).
    #[error("The API key is not valid: {0}")]
    InvalidApiKey(String),
    /// `IBMCLOUD_API_KEY=@file` names a file that cannot be read.
    #[error("Could not read the API key file '{}': {source}", path.display())]
    ApiKeyFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// No account is targeted and the token names none.
    #[error("No account targeted.")]
    NoAccount,
    /// No region from the flags or the target.
    #[error("No region specified or targeted.")]
    NoRegion,
    /// A region name that cannot be one.
    #[error("'{0}' is not a valid region name.")]
    BadRegion(String),
    /// A cluster name or ID that cannot be one.
    #[error("'{0}' is not a valid cluster name or ID.")]
    InvalidCluster(String),
    /// `--region` values that are not regions of the Kubernetes Service.
    #[error("{}", unknown_message("region", "Valid regions", given, valid))]
    UnknownRegions {
        /// What was given.
        given: Vec<String>,
        /// The valid ones.
        valid: Vec<String>,
    },
    /// `-g` values that are not resource groups of the account.
    #[error("{}", unknown_message("resource group", "The account has", given, valid))]
    UnknownGroups {
        /// What was given.
        given: Vec<String>,
        /// The valid ones (names).
        valid: Vec<String>,
    },
    /// `--user EMAIL` names nobody in the account (the caller sees its users).
    #[error("No user of the account has the email '{0}'.")]
    UnknownUser(String),
    /// A policy file that cannot be used: where, and what is wrong.
    #[error("{}:{line}:{column}: {message}", path.display())]
    BadPolicy { path: PathBuf, line: usize, column: usize, message: String },
    /// A policy file that cannot be read at all: missing, not a regular file, too large, not
    /// UTF-8 (the reason is ours, in words).
    #[error("The policy file '{}' cannot be read: {reason}.", path.display())]
    PolicyUnreadable { path: PathBuf, reason: String },
    /// An identity named on the command line that cannot be used: it does not exist, left the
    /// account, is ambiguous, or cannot own the key (the message says which).
    #[error("{0}")]
    BadIdentity(String),
    /// An email named on the command line that is not plain ASCII (a look-alike of another
    /// address); the binary says how else to name the user.
    #[error("{why}. Type the address in plain ASCII, or name the user by IAM ID.")]
    NotPlainEmail {
        /// What is not plain in it.
        why: String,
    },
    /// Neither clusters nor a key for a region and resource group.
    #[error(
        "No API key owner is known for region '{region}' and resource group '{group}': no key is visible and no cluster reports one."
    )]
    NoKeyForTarget {
        /// Region.
        region: String,
        /// Resource group name.
        group: String,
    },
    /// A resource group name or ID that the account does not have.
    /// Several groups match a name (Resource Manager allows this across accounts only, but be safe).
    #[error("Resource group name '{0}' is ambiguous: pass its ID instead.")]
    ResourceGroupAmbiguous(String),
    /// No default resource group could be found.
    #[error("The account has no default resource group.")]
    NoDefaultResourceGroup,
    /// A setting in the environment that is out of range or not a number. Made by
    /// [`Error::bad_setting`], which decides what of the value may be shown. Worded without
    /// `NAME=VALUE`: the error renderer hides the value of any such pair whose name looks
    /// secret, and `CLUSTER_API_KEY_...` does, which once hid a mistyped number.
    #[error("{name} is {value}, not {expected}.")]
    BadSetting {
        /// The variable.
        name: String,
        /// Its value as shown: quoted, or what it is when it is not shown.
        value: String,
        /// What it must be.
        expected: String,
    },
    /// An endpoint override that is not a URL.
    #[error("The endpoint '{value}' given in {name} is not a valid http(s) URL.")]
    BadEndpoint {
        /// The variable or config key.
        name: String,
        /// Its value.
        value: String,
    },
    /// A bearer token would have gone over plain HTTP to a non-loopback host.
    #[error("Refusing to send credentials over plain HTTP to '{0}'. Use an https:// endpoint.")]
    InsecureEndpoint(String),
    /// The API answered with an error.
    #[error("{0}")]
    Api(ApiError),
    /// The request never got an answer (DNS, connect, TLS, timeout, truncated body).
    #[error("{message}")]
    Transport {
        /// What happened, scrubbed.
        message: String,
        /// Whether it was a timeout.
        timeout: bool,
        /// Whether the connection was never made (DNS, refused, TLS handshake), so the request
        /// certainly did not reach the server.
        not_sent: bool,
    },
    /// A successful response whose body could not be read.
    #[error("{service} returned a response that could not be read: {detail}")]
    BadResponse {
        /// Which API.
        service: Service,
        /// Why.
        detail: String,
    },
    /// A reset whose outcome could not be established (the request failed in a way that leaves
    /// open whether the key was replaced, and the check afterwards failed too).
    #[error(
        "The API key reset for region '{region}' and resource group '{group}' may or may not have happened: {detail}."
    )]
    ResetOutcomeUnknown {
        /// Region.
        region: String,
        /// Resource group name.
        group: String,
        /// What failed.
        detail: String,
    },
}

/// The longest setting value an error shows (a `u64` has 20 digits).
const SHOWN_SETTING_CHARS: usize = 24;

impl Error {
    /// A setting's bad value, shown only when it cannot be a credential: a short value without
    /// control characters (a mistyped number, `soon`, `200/10s`) is quoted; a longer one is
    /// described, not shown. The `CLUSTER_API_KEY_...` names invite pasting the API key itself,
    /// and IBM's keys are 44 characters.
    #[must_use]
    pub fn bad_setting(name: &str, raw: &str, expected: impl Into<String>) -> Self {
        let raw = raw.trim();
        let count = raw.chars().count();
        let value = if count <= SHOWN_SETTING_CHARS && !raw.chars().any(char::is_control) {
            format!("'{raw}'")
        } else {
            format!("a value of {count} characters (not shown: it could be a credential)")
        };
        Self::BadSetting { name: name.to_owned(), value, expected: expected.into() }
    }

    /// The incident ID to print, when IBM gave one.
    #[must_use]
    pub fn incident_id(&self) -> Option<&str> {
        match self {
            Self::Api(api) => api.incident_id.as_deref(),
            _ => None,
        }
    }

    /// Whether this is a mistake in the user's setup (an endpoint override, a setting, the
    /// config) rather than something the service did: best-effort reads must not swallow it.
    #[must_use]
    pub(crate) fn is_setup(&self) -> bool {
        matches!(
            self,
            Self::InsecureEndpoint(_)
                | Self::BadEndpoint { .. }
                | Self::BadSetting { .. }
                | Self::MalformedConfig { .. }
        )
    }

    /// Whether a non-idempotent call that ended in this error may have been processed, so its
    /// outcome is unknown until someone looks. Only two answers say "not processed": IBM's own
    /// refusal ([`ApiError::is_ibm_refusal`]) and a connection that was never made. Errors
    /// raised before anything was sent (config, endpoints, auth) are not processed either.
    #[must_use]
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Self::Transport { not_sent, .. } => !not_sent,
            // 429 is a refusal whoever sends it: the request was not processed.
            Self::Api(api) => api.status != 429 && !api.is_ibm_refusal(),
            Self::BadResponse { .. } => true,
            _ => false,
        }
    }
}

/// "Unknown region: us-sout. Did you mean 'us-south'? Valid regions: ap-north, ..., us-south.":
/// the names within a few edits of each one given (or that it begins), closest first, then every
/// valid name, sorted, so that the right one is found by reading.
fn unknown_message(what: &str, intro: &str, given: &[String], valid: &[String]) -> String {
    let mut sorted: Vec<&str> = valid.iter().map(String::as_str).collect();
    sorted.sort_unstable_by_key(|v| (v.to_lowercase(), *v));
    sorted.dedup();
    let plural = if given.len() == 1 { "" } else { "s" };
    let mut s = format!("Unknown {what}{plural}: {}.", given.join(", "));
    for g in given {
        let close = similar(g, &sorted);
        let quoted: Vec<String> = close.iter().map(|c| format!("'{c}'")).collect();
        let for_which = if given.len() == 1 { String::new() } else { format!(" for '{g}'") };
        match quoted.as_slice() {
            [] => {}
            [one] => s.push_str(&format!(" Did you mean {one}{for_which}?")),
            [first, rest @ ..] => s.push_str(&format!(" Did you mean {first} (or {}){for_which}?", rest.join(", "))),
        }
    }
    s.push_str(&format!(" {intro}: {}.", sorted.join(", ")));
    s
}

/// The names close to `word`, closest first: within a third of its length in edits (at least
/// 2), or that it begins; case is ignored, as the command line's own suggestions do.
fn similar<'a>(word: &str, names: &[&'a str]) -> Vec<&'a str> {
    let word = word.trim().to_lowercase();
    if word.is_empty() {
        return Vec::new();
    }
    let most = (word.chars().count() / 3).max(2);
    let mut close: Vec<(usize, &str)> = names
        .iter()
        .map(|n| (edits(&word, &n.to_lowercase()), *n))
        .filter(|(d, n)| *d <= most || n.to_lowercase().starts_with(&word))
        .collect();
    close.sort_unstable();
    close.into_iter().map(|(_, n)| n).collect()
}

/// The Levenshtein distance between two words: what "did you mean" suggestions are ranked by,
/// here and for the command line's own (one rule for both).
#[must_use]
pub fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real bodies, from IBM's docs, SDK tests and public issue threads.
    const G0004: &str = r#"{"incidentID":"9b8fd6b3-bd93-4449-90df-1f28ef7ff303","code":"G0004","description":"The specified cluster could not be found. If applicable, make sure that you target the correct account and resource group.","type":"General","recoveryCLI":"To list the clusters you have access to, run 'ibmcloud ks cluster ls'. To list the resource groups that you have access to, run 'ibmcloud resource groups'. To target the resource group, run 'ibmcloud target -g \u003cresource_group\u003e'."}"#;
    const P0005: &str = r#"{"incidentID":"ae7d3cb3-2ace-48c2-81d7-6de32f8a3080","code":"P0005","description":"The IAM token exchange request failed with the message: Provided API key could not be found","type":"Authorization","recoveryCLI":"Try again later. Contact support if the problem persists."}"#;
    const A03E9B: &str = r#"{"incidentID":"83498d57-69a3-4d59-bd9b-f67d58c891d5","code":"A03e9b","description":"Failed to create an API key with IAM. Revise your request and try again.","type":"Authentication"}"#;
    const A0003: &str = r#"{"incidentID":"00426a14-c976-46d7-934e-c766156e073e","code":"A0003","description":"Your IAM token could not be verified. To retrieve your access tokens, run 'ibmcloud iam oauth-tokens'. Then use the IAM token for the Authorization header.","type":"Authentication","recoveryCLI":"To log in to IBM Cloud, run 'ibmcloud login'."}"#;
    const E0008: &str = r#"{"incidentID":"<id-number>","code":"E0008","description":"The specified cluster could not be found.","recoveryCLI":"Run 'ibmcloud cs clusters' to list all clusters you have access to.","type":"Provisioning"}"#;
    const BXNIM0415E: &str = r#"{"context":{"requestId":"38a0e9c226d94764820d92aa623eb0f6","requestType":"incoming.Identity_Token","userAgent":"ibm-python-sdk-core-1.0.0","url":"https://iam.cloud.ibm.com","instanceId":"iamid-4.5-6788-90b137c-75f48695b5-kl4wx","threadId":"169de5","host":"iamid-4.5-6788-90b137c-75f48695b5-kl4wx","startTime":"29.10.2019 12:31:00:300 GMT","endTime":"29.10.2019 12:31:00:381 GMT","elapsedTime":"81","locale":"en_US","clusterName":"iam-id-prdal12-8brn"},"errorCode":"BXNIM0415E","errorMessage":"Provided API key could not be found"}"#;
    const F7: &str = r#"{"errors":[{"code":"invalid_state","details":"Unable to process this request as Template with ID 'ProfileTemplate-8b16cb82-b9b4-434a-b678-12c82033e9a7' and version '1' is in a committed state.","message":"Template in committed state.","message_code":"BXNIM0908E"}],"status_code":422,"trace":"OXRxZ2M-8c573b755d4f4a28bb60756766ea1c64"}"#;

    #[test]
    fn a_bad_setting_shows_a_mistyped_number_and_never_what_could_be_a_key() {
        // The name looks secret to the renderer's rules; a `NAME=VALUE` message once lost the
        // number to them.
        let e = Error::bad_setting("CLUSTER_API_KEY_VERIFY_TIMEOUT_SECS", "18446744073709551615", "a whole number");
        let shown = crate::redact::redact(&e.to_string());
        assert_eq!(shown, "CLUSTER_API_KEY_VERIFY_TIMEOUT_SECS is '18446744073709551615', not a whole number.");
        // An API key pasted where a number goes is described, not shown, whole or in part.
        let key = "Zm9vYmFyLWJhei1xdXV4LWNvcmdlLWdyYXVsdC1nYXJwbHk";
        let e = Error::bad_setting("CLUSTER_API_KEY_CONCURRENCY", key, "a whole number");
        assert_eq!(
            e.to_string(),
            "CLUSTER_API_KEY_CONCURRENCY is a value of 47 characters (not shown: it could be a credential), \
             not a whole number."
        );
        let e = Error::bad_setting("X", "1\u{1b}[2J", "a whole number");
        assert!(e.to_string().starts_with("X is a value of 5 characters"), "{e}");
    }

    #[test]
    fn containers_bodies() {
        let e = ApiError::parse(Service::Containers, 404, G0004.as_bytes());
        assert_eq!(e.code.as_deref(), Some("G0004"));
        assert_eq!(e.incident_id.as_deref(), Some("9b8fd6b3-bd93-4449-90df-1f28ef7ff303"));
        assert!(e.recovery.as_deref().unwrap().contains("'ibmcloud target -g <resource_group>'"));
        assert!(e.to_string().ends_with("resource group. (G0004)"));

        let e = ApiError::parse(Service::Containers, 401, P0005.as_bytes());
        assert_eq!(e.code.as_deref(), Some("P0005"));
        assert_eq!(e.recovery.as_deref(), Some("Try again later. Contact support if the problem persists."));

        let e = ApiError::parse(Service::Containers, 400, A03E9B.as_bytes());
        assert_eq!(e.code.as_deref(), Some("A03e9b"));
        assert_eq!(e.recovery, None);

        let e = ApiError::parse(Service::Containers, 401, A0003.as_bytes());
        assert_eq!(e.code.as_deref(), Some("A0003"));

        let e = ApiError::parse(Service::Containers, 404, E0008.as_bytes());
        assert_eq!(e.code.as_deref(), Some("E0008"));
    }

    #[test]
    fn iam_token_and_identity_bodies() {
        let e = ApiError::parse(Service::IamToken, 400, BXNIM0415E.as_bytes());
        assert_eq!(e.code.as_deref(), Some("BXNIM0415E"));
        assert_eq!(e.description, "Provided API key could not be found");
        assert_eq!(e.incident_id.as_deref(), Some("38a0e9c226d94764820d92aa623eb0f6"));

        let e = ApiError::parse(Service::IamIdentity, 422, F7.as_bytes());
        assert_eq!(e.code.as_deref(), Some("BXNIM0908E"));
        assert!(e.description.starts_with("Template in committed state. Unable"));
        assert_eq!(e.incident_id.as_deref(), Some("OXRxZ2M-8c573b755d4f4a28bb60756766ea1c64"));
    }

    #[test]
    fn an_echoed_token_leaves_no_prefix_in_the_excerpt() {
        // The token is longer than the excerpt: cut first, a prefix with no dots would survive.
        let token = format!("eyJhbGciOiJSUzI1NiJ9.{}.{}", "a".repeat(400), "s".repeat(80));
        for page in [
            format!(
                "<html><body><h1>502</h1><table><tr><td>authorization</td><td>Bearer {token}</td></tr></table></body></html>"
            ),
            format!("<pre>GET /v1/keys\r\nAuthorization: Bearer {token}\r\n</pre>"),
            format!("upstream said: bearer {} and apikey=abc123secret", &token[..40]),
        ] {
            let e = ApiError::parse(Service::Containers, 502, page.as_bytes());
            assert!(!e.description.contains("eyJ") && !e.description.to_lowercase().contains("bearer e"), "{e}");
            assert!(!e.description.contains("abc123secret"), "{e}");
        }
    }

    #[test]
    fn unstructured_bodies_keep_status_and_a_short_excerpt() {
        let html = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>";
        let e = ApiError::parse(Service::Containers, 502, html);
        assert!(!e.structured);
        assert_eq!(e.description, "502 Bad Gateway 502 Bad Gateway");
        assert_eq!(e.to_string(), "Kubernetes Service answered with HTTP 502: 502 Bad Gateway 502 Bad Gateway");

        let e = ApiError::parse(Service::IamIdentity, 500, b"");
        assert_eq!(e.description, "(empty response body)");

        let e = ApiError::parse(Service::Containers, 500, br#"{"incidentID":"x","code":"#);
        assert!(!e.structured);

        let long = "x".repeat(5000);
        let e = ApiError::parse(Service::Containers, 500, long.as_bytes());
        assert!(e.description.len() < 220);
    }

    #[test]
    fn error_text_is_scrubbed() {
        let _s = crate::secret::Secret::new("leaked-refresh-token-value");
        let e = ApiError::parse(
            Service::IamToken,
            400,
            br#"{"errorCode":"X","errorMessage":"bad token leaked-refresh-token-value"}"#,
        );
        assert!(!e.description.contains("leaked-refresh-token-value"));
    }
}
