//! The policy file: the account's rules and its accepted findings, in one reviewed TOML file.
//!
//! Found through `--policy FILE`, else `CLUSTER_API_KEY_POLICY`, else `policy.toml` in the
//! plugin's folder; none is fine (the defaults). It holds the functional IDs, `max_age` and
//! `fail_on` (flags override them), and `[[accept]]` entries that accept a finding of a target
//! (a `region/group` glob: `*`, `?`, `[abc]`, `{a,b}`), with a mandatory reason and an `until`
//! date, optionally scoped to one `account` (its ID; absent: every account, and the same for a
//! functional ID written `{ id, account }`). An accepted finding is still reported but does not count toward the exit code; an
//! acceptance past its date accepts nothing and is itself a finding (`acceptance-expired`,
//! which no acceptance can accept: the file refuses it); one that matches nothing is reported,
//! so that exceptions do not rot unseen.
//!
//! A bad file is refused before any request, with the file, line and column of what is wrong
//! and, in our words, what is expected there with an example. Only a regular file of at most
//! [`MAX_BYTES`] is read: a FIFO would hang the run, a device would be read without end.
//!
//! The file is read from TOML's parse tree (spanned keys and values), not through serde, so
//! that every message is ours and the work is linear in the file's size.
//!
//! [`baseline`] adds acceptances to a policy's text and never rewrites what is there: what a
//! person wrote (entries, comments, layout) is kept byte for byte.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::error::{Error, Result};
use crate::model::{Code, Finding, Severity, StatusReport, TargetStatus};

/// The file name in the plugin's folder.
pub const FILE_NAME: &str = "policy.toml";

/// The most a policy file may hold (16 MiB: about 150,000 acceptances).
pub(crate) const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// Which findings fail a run (`fail_on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// Only critical findings.
    Critical,
    /// Warnings and critical findings.
    Warning,
    /// None.
    Never,
}

impl FailOn {
    /// The lowest severity that fails, if any.
    #[must_use]
    pub fn threshold(self) -> Option<Severity> {
        match self {
            Self::Critical => Some(Severity::Critical),
            Self::Warning => Some(Severity::Warning),
            Self::Never => None,
        }
    }
}

/// A calendar date, `YYYY-MM-DD` (it sorts as text).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Date(String);

impl Date {
    /// `text` when it is a real date in `YYYY-MM-DD` form.
    #[must_use]
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let ok = text.len() == 10
            && text.as_bytes().iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() })
            // humantime checks the day against the month (and leap years).
            && humantime::parse_rfc3339(&format!("{text}T00:00:00Z")).is_ok();
        ok.then(|| Self(text.to_owned()))
    }

    /// The date (UTC) `days` after now.
    #[must_use]
    pub fn days_from_now(days: u64) -> Self {
        let t = SystemTime::now() + Duration::from_secs(days * 86_400);
        Self(humantime::format_rfc3339_seconds(t).to_string()[..10].to_owned())
    }

    /// Today (UTC).
    #[must_use]
    pub fn today() -> Self {
        Self::days_from_now(0)
    }

    /// As written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One part of a target pattern (the region's or the group's): a name, or a glob.
#[derive(Debug, Clone)]
enum Part {
    /// No glob character: compared as it is (most patterns; no matcher to build).
    Literal(String),
    /// `*`, `?`, `[...]`, `{a,b}` (globset's syntax, without backslash escapes: `[*]` is a
    /// literal `*`, on every platform).
    Glob(globset::GlobMatcher),
}

impl Part {
    fn new(pattern: &str) -> std::result::Result<Self, String> {
        if !pattern.contains(['*', '?', '[', ']', '{', '}']) {
            return Ok(Self::Literal(pattern.to_owned()));
        }
        globset::GlobBuilder::new(pattern)
            .literal_separator(false)
            .backslash_escape(false)
            .build()
            .map(|g| Self::Glob(g.compile_matcher()))
            .map_err(|e| glob_error(e.kind()))
    }

    fn matches(&self, text: &str) -> bool {
        match self {
            Self::Literal(l) => l == text,
            Self::Glob(g) => g.is_match(text),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Self::Literal(l) => l,
            Self::Glob(g) => g.glob().glob(),
        }
    }
}

impl PartialEq for Part {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Part {}

/// What is wrong with a glob, in our words, with how to write it.
fn glob_error(kind: &globset::ErrorKind) -> String {
    use globset::ErrorKind as K;
    match kind {
        K::UnclosedClass => String::from(
            "a '[' is not closed: '[...]' matches one of the characters inside (for example 'us-[se]*'); '[[]' matches a '[' itself",
        ),
        K::InvalidRange(a, b) => {
            format!("'{a}-{b}' is not a range: its first character must come before its last (for example '[a-z]')")
        }
        K::UnopenedAlternates => String::from("a '}' has no '{' before it; '[}]' matches a '}' itself"),
        K::UnclosedAlternates => String::from(
            "a '{' is not closed: '{a,b}' matches either (for example 'eu-{de,gb}'); '[{]' matches a '{' itself",
        ),
        K::NestedAlternates | K::TooManyNestedAlternates => {
            String::from("'{...}' cannot hold another '{...}' (write 'eu-{de,gb,es}', not 'eu-{de,{gb,es}}')")
        }
        _ => String::from(
            "it is not a pattern: '*' matches any characters, '?' one, '[abc]' one of them, '{a,b}' either ('[*]' matches a '*' itself)",
        ),
    }
}

/// A target pattern, `region/group` (the group by name or ID).
#[derive(Debug, Clone, PartialEq, Eq)]
struct TargetPattern {
    region: Part,
    group: Part,
}

impl TargetPattern {
    /// `region/group`: split at the first `/` (a region has none; a group ID may, so the
    /// group is the rest).
    fn new(pattern: &str) -> std::result::Result<Self, String> {
        let Some((r, g)) = pattern.split_once('/').filter(|(r, g)| !r.is_empty() && !g.is_empty()) else {
            return Err(String::from("a target is 'region/group' (for example 'us-south/Default' or 'eu-*/staging')"));
        };
        Ok(Self { region: Part::new(r)?, group: Part::new(g)? })
    }

    fn matches(&self, t: &TargetStatus) -> bool {
        self.region.matches(&t.region)
            && (self.group.matches(&t.resource_group_name) || self.group.matches(&t.resource_group_id))
    }
}

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acceptance {
    /// The finding's code.
    pub finding: Code,
    /// `region/group`, each part a name (the group's name or ID) or a glob.
    pub target: String,
    /// `target`, ready to match.
    pattern: TargetPattern,
    /// Only this key (the target's current key or one of its superseded keys).
    pub key: Option<String>,
    /// Only this owner (IAM ID, email or name).
    pub owner: Option<String>,
    /// Only in this account (its ID); `None`: in every account.
    pub account: Option<String>,
    /// Why it is accepted.
    pub reason: String,
    /// Until when (inclusive).
    pub until: Date,
    /// Who accepted it.
    pub by: Option<String>,
    /// Its line in the file.
    pub line: usize,
}

/// The policy; [`Policy::default`] when there is no file.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// The file it came from.
    pub path: Option<PathBuf>,
    /// IAM IDs, emails or service-ID names of the functional IDs, in every account.
    pub functional_ids: Vec<String>,
    /// Functional IDs of one account each: `(account ID, IAM ID or email)`
    /// (`{ id = "...", account = "..." }` in `functional_ids`).
    pub account_functional_ids: Vec<(String, String)>,
    /// Keys older than this are flagged.
    pub max_age: Option<Duration>,
    /// Which findings fail a run.
    pub fail_on: Option<FailOn>,
    /// Accepted findings.
    pub accept: Vec<Acceptance>,
}

/// Where the policy is: the flag, else the variable, else the plugin folder's file if it exists.
#[must_use]
pub fn find(flag: Option<&Path>, variable: Option<&str>, plugin_dir: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = flag {
        return Some(p.to_owned());
    }
    if let Some(v) = variable.filter(|v| !v.trim().is_empty()) {
        return Some(PathBuf::from(v));
    }
    plugin_dir.map(|d| d.join(FILE_NAME)).filter(|p| p.is_file())
}

/// The text of a policy file: only a regular file (a symbolic link to one is followed), of at
/// most [`MAX_BYTES`], in UTF-8.
///
/// # Errors
/// [`Error::PolicyUnreadable`] with the reason in words.
pub fn read_text(path: &Path) -> Result<String> {
    use std::io::Read as _;
    let unreadable = |reason: String| Error::PolicyUnreadable { path: path.to_owned(), reason };
    let os = |e: &std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => String::from("there is no such file"),
        std::io::ErrorKind::PermissionDenied => String::from("permission to read it is denied"),
        _ => format!("the system says: {e}"),
    };
    // Looked at before it is opened: opening a FIFO for reading waits for a writer.
    let meta = std::fs::metadata(path).map_err(|e| unreadable(os(&e)))?;
    if let Some(what) = not_regular(meta.file_type()) {
        return Err(unreadable(format!("it is {what}, not a regular file")));
    }
    let file = std::fs::File::open(path).map_err(|e| unreadable(os(&e)))?;
    let mut bytes = Vec::new();
    // One byte past the cap tells "too large" from "exactly the cap" (and bounds a file that
    // was swapped for something endless after it was looked at).
    file.take(MAX_BYTES + 1).read_to_end(&mut bytes).map_err(|e| unreadable(os(&e)))?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(unreadable(format!(
            "it is larger than {} MiB, the most a policy file may hold",
            MAX_BYTES / (1024 * 1024)
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        unreadable(format!("byte {} is not UTF-8 text, which a TOML file must be", e.utf8_error().valid_up_to() + 1))
    })
}

/// What a file that is not a regular file is, in words.
fn not_regular(t: std::fs::FileType) -> Option<&'static str> {
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_fifo() {
            return Some("a named pipe (FIFO)");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("a device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a file")
}

/// Line and column (1-based, in characters) of byte offsets, from the line starts found once:
/// a lookup is a binary search, so naming each of many entries' lines stays linear overall.
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Self { text, starts }
    }

    fn at(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|s| *s <= offset);
        let start = self.starts[line.saturating_sub(1)];
        let col = self.text.get(start..offset).map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }
}

/// The valid finding codes, as the README's table names them (all but `acceptance-expired`,
/// which cannot be accepted).
fn codes() -> String {
    Code::ALL.iter().filter(|c| **c != Code::AcceptanceExpired).map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
}

/// The keys of an `[[accept]]` entry, for the message about one that is not.
const ACCEPT_KEYS: &str = "finding, target, reason and until, and optionally key, owner, account and by";

/// A value as the file writes it, on one line and short, for messages.
fn written(text: &str, span: Range<usize>) -> String {
    let raw = text.get(span).unwrap_or_default().trim();
    let line = raw.lines().next().unwrap_or_default();
    if line.chars().count() > 60 || line.len() < raw.len() {
        format!("{}...", line.chars().take(60).collect::<String>())
    } else {
        line.to_owned()
    }
}

/// The TOML type of a value, in words.
fn kind(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "text",
        DeValue::Integer(_) => "a number",
        DeValue::Float(_) => "a decimal number",
        DeValue::Boolean(_) => "true or false",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

impl Policy {
    /// Reads and checks the file at `path`.
    ///
    /// # Errors
    /// [`Error::BadPolicy`] with the line and column of what is wrong;
    /// [`Error::PolicyUnreadable`] when it cannot be read ([`read_text`]).
    pub fn load(path: &Path) -> Result<Self> {
        let text = read_text(path)?;
        Self::parse(&text, Some(path))
    }

    /// Parses a policy's text (`path` names it in errors).
    ///
    /// # Errors
    /// [`Error::BadPolicy`] with the line and column of what is wrong.
    pub fn parse(text: &str, path: Option<&Path>) -> Result<Self> {
        let lines = Lines::new(text);
        let file = path.map_or_else(|| PathBuf::from("(policy)"), Path::to_path_buf);
        let bad = |span: Range<usize>, message: String| {
            let (line, column) = lines.at(span.start);
            Error::BadPolicy { path: file.clone(), line, column, message }
        };
        let root = DeTable::parse(text).map_err(|e| {
            // The parser's own words name the token; ours say what a line must look like.
            let detail = e.message().lines().next().unwrap_or_default().trim().trim_end_matches('.').to_owned();
            bad(
                e.span().unwrap_or(0..0),
                format!(
                    "this is not TOML ({detail}): write a setting as key = value, for example max_age = \"90d\", and an acceptance under [[accept]]"
                ),
            )
        })?;
        let mut entries: Vec<_> = root.into_inner().into_iter().collect();
        // In the file's order, so that the first mistake is the one reported.
        entries.sort_by_key(|(k, _)| k.span().start);
        let mut policy = Self { path: path.map(Path::to_path_buf), ..Self::default() };
        for (key, value) in entries {
            let raw = written(text, value.span());
            match key.get_ref().as_ref() {
                "functional_ids" => {
                    const EXAMPLE: &str = "functional_ids = [\"IBMid-2700000FUN\", \"k8s-functional@example.com\"]";
                    let DeValue::Array(items) = value.get_ref() else {
                        return Err(bad(
                            value.span(),
                            format!(
                                "functional_ids = {raw} is not a list: write the IAM IDs or emails in brackets, for example {EXAMPLE}"
                            ),
                        ));
                    };
                    for item in items {
                        if let DeValue::Table(t) = item.get_ref() {
                            let (id, account) = functional_of_one_account(text, item.span(), t, &bad)?;
                            policy.account_functional_ids.push((account, id));
                            continue;
                        }
                        let DeValue::String(s) = item.get_ref() else {
                            return Err(bad(
                                item.span(),
                                format!(
                                    "{} in functional_ids is {}, not text: write each IAM ID or email in quotes, for example {EXAMPLE} (or {{ id = \"IBMid-...\", account = \"ACCOUNT_ID\" }} for one account's)",
                                    written(text, item.span()),
                                    kind(item.get_ref())
                                ),
                            ));
                        };
                        let s = s.trim();
                        if !s.is_empty() {
                            policy.functional_ids.push(s.to_owned());
                        }
                    }
                }
                "max_age" => {
                    let duration = match value.get_ref() {
                        DeValue::String(s) => parse_age(s),
                        _ => None,
                    };
                    let Some(d) = duration else {
                        let why = match value.get_ref() {
                            DeValue::Integer(_) => String::from("has no unit"),
                            DeValue::String(_) => String::from("is not a duration"),
                            other => format!("is {}, not a duration", kind(other)),
                        };
                        return Err(bad(
                            value.span(),
                            format!(
                                "max_age = {raw} {why}: write a number and a unit in quotes, for example max_age = \"90d\" (days; also \"12w\" for weeks, \"2160h\" for hours)"
                            ),
                        ));
                    };
                    policy.max_age = Some(d);
                }
                "fail_on" => {
                    let f = match value.get_ref() {
                        DeValue::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                            "critical" => Some(FailOn::Critical),
                            "warning" => Some(FailOn::Warning),
                            "never" => Some(FailOn::Never),
                            _ => None,
                        },
                        _ => None,
                    };
                    let Some(f) = f else {
                        return Err(bad(
                            value.span(),
                            format!(
                                "fail_on = {raw} is not one of critical, warning or never: for example fail_on = \"critical\""
                            ),
                        ));
                    };
                    policy.fail_on = Some(f);
                }
                "accept" => {
                    let DeValue::Array(items) = value.get_ref() else {
                        return Err(bad(
                            key.span(),
                            String::from(
                                "write each acceptance under its own [[accept]] (two brackets: a policy can hold many)",
                            ),
                        ));
                    };
                    for item in items {
                        let entry = parse_accept(text, &lines, item, &bad)?;
                        policy.accept.push(entry);
                    }
                }
                other => {
                    return Err(bad(
                        key.span(),
                        format!(
                            "unknown key '{other}': a policy has functional_ids, max_age and fail_on, then [[accept]] entries"
                        ),
                    ));
                }
            }
        }
        Ok(policy)
    }
}

/// `max_age`'s duration, as `--max-age` reads it (a unit is needed).
fn parse_age(s: &str) -> Option<Duration> {
    let t = s.trim();
    if t.is_empty() || t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    humantime::parse_duration(t).ok()
}

/// One `[[accept]]` entry.
fn parse_accept(
    text: &str,
    lines: &Lines<'_>,
    item: &Spanned<DeValue<'_>>,
    bad: &dyn Fn(Range<usize>, String) -> Error,
) -> Result<Acceptance> {
    let DeValue::Table(table) = item.get_ref() else {
        return Err(bad(
            item.span(),
            format!(
                "{} in accept is {}, not an acceptance: write each one under [[accept]], with {ACCEPT_KEYS}",
                written(text, item.span()),
                kind(item.get_ref())
            ),
        ));
    };
    let line = lines.at(item.span().start).0;
    let mut fields: Vec<_> = table.iter().collect();
    fields.sort_by_key(|(k, _)| k.span().start);
    let (mut finding, mut target, mut key, mut owner, mut reason, mut until, mut by) =
        (None, None, None, None, None, None, None);
    let mut account = None;
    for (k, v) in fields {
        let name = k.get_ref().as_ref();
        // Every key but `until` is text.
        let as_text = || match v.get_ref() {
            DeValue::String(s) => Ok(s.trim().to_owned()),
            other => Err(bad(
                v.span(),
                format!(
                    "{name} = {} is {}, not text: write it in quotes, for example {}",
                    written(text, v.span()),
                    kind(other),
                    example(name)
                ),
            )),
        };
        match name {
            "finding" => {
                let code = as_text()?;
                if code == Code::AcceptanceExpired.as_str() {
                    return Err(bad(
                        v.span(),
                        String::from(
                            "'acceptance-expired' cannot be accepted: renew the expired acceptance (a new until, a reason that still holds) or remove it",
                        ),
                    ));
                }
                finding = Some(Code::ALL.iter().copied().find(|c| c.as_str() == code).ok_or_else(|| {
                    bad(v.span(), format!("'{code}' is not a finding code; valid codes: {}", codes()))
                })?);
            }
            "target" => {
                let t = as_text()?;
                let pattern = TargetPattern::new(&t).map_err(|why| bad(v.span(), format!("target = '{t}': {why}")))?;
                target = Some((t, pattern));
            }
            "key" => key = Some(as_text()?).filter(|k| !k.is_empty()),
            "owner" => owner = Some(as_text()?).filter(|o| !o.is_empty()),
            "by" => by = Some(as_text()?).filter(|b| !b.is_empty()),
            "account" => account = Some(account_id(text, v, bad)?),
            "reason" => {
                let r = as_text()?;
                if r.is_empty() {
                    return Err(bad(v.span(), String::from("reason must say why the finding is accepted")));
                }
                reason = Some(r);
            }
            "until" => {
                let date = match v.get_ref() {
                    DeValue::Datetime(d) if d.time.is_none() && d.offset.is_none() => Date::parse(&d.to_string()),
                    DeValue::String(s) => Date::parse(s.trim()),
                    _ => None,
                };
                until = Some(date.ok_or_else(|| {
                    bad(v.span(), format!("until = {} is not a date; write it as 2027-03-31", written(text, v.span())))
                })?);
            }
            other => {
                return Err(bad(
                    k.span(),
                    format!("unknown key '{other}' in [[accept]]: an acceptance has {ACCEPT_KEYS}"),
                ));
            }
        }
    }
    let missing = |name: &str| {
        bad(item.span(), format!("this [[accept]] (line {line}) has no {name}: for example {}", example(name)))
    };
    let finding = finding.ok_or_else(|| missing("finding"))?;
    let (target, pattern) = target.ok_or_else(|| missing("target"))?;
    let reason = reason.ok_or_else(|| missing("reason"))?;
    let until = until.ok_or_else(|| missing("until"))?;
    Ok(Acceptance { finding, target, pattern, key, owner, account, reason, until, by, line })
}

/// An `account` value: an account's ID.
///
/// OPEN: IBM's account IDs (BSS) are 32 hexadecimal characters in every document and sample
/// seen; the shape is inferred, not specified. It is checked so that a name, which would match
/// nothing and so accept nothing, is refused with what to write instead; the ID is kept
/// lowercase, as IBM writes it.
fn account_id(text: &str, v: &Spanned<DeValue<'_>>, bad: &dyn Fn(Range<usize>, String) -> Error) -> Result<String> {
    let DeValue::String(s) = v.get_ref() else {
        return Err(bad(
            v.span(),
            format!(
                "account = {} is {}, not text: write the account's ID in quotes, for example {}",
                written(text, v.span()),
                kind(v.get_ref()),
                example("account")
            ),
        ));
    };
    let id = s.trim();
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(
            v.span(),
            format!(
                "account = {} is not an account ID: write the account's ID (32 hexadecimal characters, as 'ibmcloud account list' shows it), not its name, for example {}",
                written(text, v.span()),
                example("account")
            ),
        ));
    }
    Ok(id.to_ascii_lowercase())
}

/// A functional ID of one account: `{ id = "IBMid-...", account = "ACCOUNT_ID" }`.
fn functional_of_one_account(
    text: &str,
    span: Range<usize>,
    table: &DeTable<'_>,
    bad: &dyn Fn(Range<usize>, String) -> Error,
) -> Result<(String, String)> {
    const EXAMPLE: &str = "{ id = \"IBMid-2700000FUN\", account = \"b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2\" }";
    let mut fields: Vec<_> = table.iter().collect();
    fields.sort_by_key(|(k, _)| k.span().start);
    let (mut id, mut account) = (None, None);
    for (k, v) in fields {
        match k.get_ref().as_ref() {
            "id" => match v.get_ref() {
                DeValue::String(s) if !s.trim().is_empty() => id = Some(s.trim().to_owned()),
                other => {
                    return Err(bad(
                        v.span(),
                        format!(
                            "id = {} is {}: write the functional ID's IAM ID or email in quotes, for example {EXAMPLE}",
                            written(text, v.span()),
                            if matches!(other, DeValue::String(_)) { "empty" } else { kind(other) }
                        ),
                    ));
                }
            },
            "account" => account = Some(account_id(text, v, bad)?),
            other => {
                return Err(bad(
                    k.span(),
                    format!(
                        "unknown key '{other}' in a functional ID of functional_ids: it has id and account, for example {EXAMPLE}"
                    ),
                ));
            }
        }
    }
    match (id, account) {
        (Some(id), Some(account)) => Ok((id, account)),
        (None, _) => Err(bad(span, format!("this functional ID has no id: for example {EXAMPLE}"))),
        (_, None) => Err(bad(
            span,
            format!(
                "this functional ID has no account: write a functional ID of every account as text, one of a single account as {EXAMPLE}"
            ),
        )),
    }
}

/// An example line for an `[[accept]]` key.
fn example(name: &str) -> &'static str {
    match name {
        "finding" => "finding = \"key-locked\" (a code of the status table)",
        "target" => "target = \"eu-*/staging\" (region/group)",
        "key" => "key = \"ApiKey-3333-eu-default-cur\"",
        "owner" => "owner = \"olivia.owner@example.com\"",
        "reason" => "reason = \"Locked while the EU migration runs.\"",
        "until" => "until = 2027-03-31",
        "account" => "account = \"b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2\" (the account's ID; absent: every account)",
        _ => "by = \"olivia.owner@example.com\"",
    }
}

impl Policy {
    /// Applies the acceptances to a report (judged with this policy's functional IDs and max
    /// age): marks each accepted finding, adds `acceptance-expired` findings, recounts, and
    /// records the acceptances that matched nothing. `whole_account`: the report covers every
    /// target, so an acceptance that matches no target is stale too (in a filtered report it is
    /// only out of scope).
    pub fn apply(&self, report: &mut StatusReport, today: &Date, whole_account: bool) {
        let mut used = vec![false; self.accept.len()];
        // An acceptance of another account is not about this report at all: it neither accepts
        // nor expires nor goes unused here.
        let here =
            |a: &Acceptance| a.account.as_deref().is_none_or(|id| id.eq_ignore_ascii_case(report.account.as_str()));
        let mine: Vec<bool> = self.accept.iter().map(here).collect();
        for t in &mut report.targets {
            // Expired acceptances of this target: a finding each, and they accept nothing.
            let expired: Vec<&Acceptance> = self
                .accept
                .iter()
                .zip(&mine)
                .filter(|(a, mine)| **mine && &a.until < today && a.pattern.matches(t))
                .map(|(a, _)| a)
                .collect();
            for a in expired {
                t.findings.push(Finding::new(
                    Code::AcceptanceExpired,
                    format!(
                        "the policy's acceptance of {} (line {}) expired on {}: it accepts nothing now",
                        a.finding.as_str(),
                        a.line,
                        a.until
                    ),
                ));
            }
            let mut findings = std::mem::take(&mut t.findings);
            for f in &mut findings {
                // `acceptance-expired` is never accepted (the file refuses it; this holds for
                // a policy built any other way too).
                if f.code == Code::AcceptanceExpired {
                    continue;
                }
                if let Some(i) =
                    self.accept.iter().zip(&mine).position(|(a, mine)| *mine && &a.until >= today && accepts(a, f, t))
                {
                    used[i] = true;
                    let a = &self.accept[i];
                    f.accept(a.reason.clone(), a.until.to_string(), a.by.clone());
                }
            }
            findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
            t.findings = findings;
        }
        report.recount();
        // An acceptance that matched nothing is unused only where its finding was checked: when
        // the caller could not read what it is about (a target's unchecked findings, or targets
        // that may not be visible at all), it is reported as not checkable, with why.
        let (mut unused, mut unchecked) = (Vec::new(), Vec::new());
        for ((a, _), _) in
            self.accept.iter().zip(&used).zip(&mine).filter(|((a, used), mine)| **mine && !**used && a.until >= *today)
        {
            let mut matching = report.targets.iter().filter(|t| a.pattern.matches(t)).peekable();
            if !whole_account && matching.peek().is_none() {
                continue;
            }
            let entry = format!("line {}: {} for {}", a.line, a.finding.as_str(), a.target);
            let why = matching.find_map(|t| t.unchecked_reason(a.finding)).map(str::to_owned).or_else(|| {
                report.unseen_targets.clone().filter(|_| !report.targets.iter().any(|t| a.pattern.matches(t)))
            });
            match why {
                Some(reason) => {
                    unchecked.push(crate::model::UncheckedAcceptance { acceptance: entry, reason });
                }
                None => unused.push(entry),
            }
        }
        report.policy = Some(crate::model::PolicyNotes {
            path: self.path.as_ref().map(|p| p.display().to_string()),
            unused,
            unchecked,
        });
    }
}

impl Policy {
    /// The functional IDs of one account only (`{ id, account }` entries naming `account`).
    pub fn functional_ids_of(&self, account: &str) -> impl Iterator<Item = &String> {
        self.account_functional_ids.iter().filter(move |(a, _)| a.eq_ignore_ascii_case(account)).map(|(_, id)| id)
    }
}

/// How many findings, by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Critical findings.
    pub critical: usize,
    /// Warnings.
    pub warnings: usize,
    /// Info findings.
    pub info: usize,
}

impl Counts {
    fn add(&mut self, s: Severity) {
        match s {
            Severity::Critical => self.critical += 1,
            Severity::Warning => self.warnings += 1,
            Severity::Info => self.info += 1,
        }
    }

    /// All of them.
    #[must_use]
    pub fn total(&self) -> usize {
        self.critical + self.warnings + self.info
    }
}

/// What `status --baseline` writes, and what it accepts.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// The policy's new text: the base, then the added entries.
    pub text: String,
    /// The findings it accepts that the base did not, by severity.
    pub added: Counts,
    /// Critical findings left open (not accepted without `critical`).
    pub left_open: Counts,
    /// Until when the added entries accept.
    pub until: Date,
}

/// A baseline: `base` (a policy's text, empty for a new file) with an `[[accept]]` entry added
/// for each finding of `report` that is open (the report is judged with `base`'s policy), `days`
/// ahead, by `by`. Critical findings only when `critical`: a baseline that accepts a broken
/// cluster would make the next run say "0 critical". `acceptance-expired` never. `scoped`: each
/// entry names the report's account (`account = "ID"`), so that it accepts nothing elsewhere.
///
/// The entries are appended as text, so that what a person wrote (entries the run did not
/// match, entries of regions the run did not read, `key =` and `owner =` scopes, comments,
/// layout) stays as it is; each new target is written escaped, so that it matches exactly its
/// own region and group whatever characters they hold.
#[must_use]
pub fn baseline(base: &str, report: &StatusReport, days: u64, by: &str, critical: bool, scoped: bool) -> Baseline {
    let until = Date::days_from_now(days);
    let (mut added, mut left_open) = (Counts::default(), Counts::default());
    let mut entries = String::new();
    let mut seen = std::collections::HashSet::new();
    for t in &report.targets {
        for f in t.findings.iter().filter(|f| !f.accepted && f.code != Code::AcceptanceExpired) {
            if f.severity == Severity::Critical && !critical {
                left_open.add(f.severity);
                continue;
            }
            let target = format!("{}/{}", globset::escape(&t.region), globset::escape(group_of(t)));
            if !seen.insert((f.code.as_str(), target.clone())) {
                continue;
            }
            added.add(f.severity);
            // `scoped`: the entry accepts the finding in the report's account only.
            let account =
                if scoped { format!("account = {}\n", quoted(report.account.as_str())) } else { String::new() };
            entries.push_str(&format!(
                "\n[[accept]]\nfinding = {}\ntarget = {}\n{account}reason = \"baseline\"\nuntil = {until}\nby = {}\n",
                quoted(f.code.as_str()),
                quoted(&target),
                quoted(by)
            ));
        }
    }
    let mut text = base.to_owned();
    if text.trim().is_empty() {
        text = String::from(
            "# The policy of cluster-api-key (https://github.com/cluster-api-key/cluster-api-key): the account's rules\n# and its accepted findings. See the README, \"The policy file\".\n",
        );
    }
    if !entries.is_empty() {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!(
            "\n# Added by 'status --baseline' on {}: the findings open then, accepted until {until}.\n# Review each entry: give it a real reason, or fix the finding and remove the entry.\n",
            Date::today()
        ));
        text.push_str(&entries);
    }
    Baseline { text, added, left_open, until }
}

/// A TOML basic string (escaped: a name from a server cannot end the string or the line).
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// The group part of a target that names exactly this group: its name, or its ID when the name
/// is empty, holds a `/` (the region/group separator) or spaces at its ends (trimmed on read).
fn group_of(t: &TargetStatus) -> &str {
    let n = &t.resource_group_name;
    if n.is_empty() || n.contains('/') || n.trim() != n { &t.resource_group_id } else { n }
}

fn accepts(a: &Acceptance, f: &Finding, t: &TargetStatus) -> bool {
    a.finding == f.code
        && a.pattern.matches(t)
        && a.key.as_ref().is_none_or(|k| {
            t.key.as_ref().is_some_and(|c| c.id.as_str() == k) || t.superseded_keys.iter().any(|s| s.id.as_str() == k)
        })
        && a.owner.as_ref().is_none_or(|o| t.owner.as_ref().is_some_and(|w| w.is(o)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Policy::parse(text, Some(Path::new("p.toml"))).unwrap_err().to_string()
    }

    #[test]
    fn a_complete_policy_reads() {
        let p = Policy::parse(
            "functional_ids = [\"IBMid-1\", \"k8s@example.com\"]\nmax_age = \"30d\"\nfail_on = \"Critical\"\n\n[[accept]]\nfinding = \"key-locked\"\ntarget = \"eu-*/staging\"\nreason = \"migration\"\nuntil = 2027-03-31\nby = \"olivia\"\n",
            None,
        )
        .unwrap();
        assert_eq!(p.functional_ids, ["IBMid-1", "k8s@example.com"]);
        assert_eq!(p.max_age, Some(Duration::from_secs(30 * 86_400)));
        assert_eq!(p.fail_on, Some(FailOn::Critical));
        assert_eq!(p.accept[0].finding, Code::KeyLocked);
        assert_eq!((p.accept[0].until.as_str(), p.accept[0].line), ("2027-03-31", 5));
        // A quoted date reads too.
        let p = Policy::parse(
            "[[accept]]\nfinding = \"no-key\"\ntarget = \"a/b\"\nreason = \"r\"\nuntil = \"2027-01-02\"\n",
            None,
        );
        assert_eq!(p.unwrap().accept[0].until.as_str(), "2027-01-02");
    }

    #[test]
    fn bad_files_say_where_and_what_in_our_words() {
        let e = err("functional_ids = []\nmax_agee = \"30d\"\n");
        assert_eq!(
            e,
            "p.toml:2:1: unknown key 'max_agee': a policy has functional_ids, max_age and fail_on, then [[accept]] entries"
        );
        let e = err("[[accept]]\nfinding = \"key-lockd\"\ntarget = \"a/b\"\nreason = \"r\"\nuntil = 2027-01-01\n");
        assert!(
            e.starts_with("p.toml:2:11: ")
                && e.contains("'key-lockd' is not a finding code")
                && e.contains("key-locked"),
            "{e}"
        );
        let e = err("[[accept]]\nfinding = \"no-key\"\ntarget = \"a/b\"\nreason = \"r\"\nuntil = \"2027-02-30\"\n");
        assert_eq!(e, "p.toml:5:9: until = \"2027-02-30\" is not a date; write it as 2027-03-31");
        let e = err("[[accept]]\nfinding = \"no-key\"\ntarget = \"us-[south/b\"\nreason = \"r\"\nuntil = 2027-01-01\n");
        assert!(e.starts_with("p.toml:3:10: target = 'us-[south/b': a '[' is not closed"), "{e}");
        let e = err("[[accept]]\nfinding = \"no-key\"\ntarget = \"a\"\nreason = \"r\"\nuntil = 2027-01-01\n");
        assert!(e.contains("'region/group'"), "{e}");
        let e = err("[[accept]]\nfinding = \"no-key\"\ntarget = \"a/b\"\nuntil = 2027-01-01\n");
        assert_eq!(
            e,
            "p.toml:1:1: this [[accept]] (line 1) has no reason: for example reason = \"Locked while the EU migration runs.\""
        );
        // The duration and the number: ours, never the parser's ("time unit needed",
        // "expected number at 0").
        for (text, says) in [
            ("max_age = \"soon\"\n", "p.toml:1:11: max_age = \"soon\" is not a duration: write a number and a unit"),
            ("max_age = \"90\"\n", "p.toml:1:11: max_age = \"90\" is not a duration"),
            ("max_age = 90\n", "p.toml:1:11: max_age = 90 has no unit: write a number and a unit in quotes"),
            ("max_age = true\n", "p.toml:1:11: max_age = true is true or false, not a duration"),
        ] {
            let e = err(text);
            assert!(e.starts_with(says) && e.contains("max_age = \"90d\""), "{e}");
            assert!(!e.contains("time unit needed") && !e.contains("expected number"), "{e}");
        }
        let e = err("fail_on = \"sometimes\"\n");
        assert_eq!(
            e,
            "p.toml:1:11: fail_on = \"sometimes\" is not one of critical, warning or never: for example fail_on = \"critical\""
        );
        let e = err("functional_ids = [\"a\", 5]\n");
        assert!(e.starts_with("p.toml:1:24: 5 in functional_ids is a number, not text"), "{e}");
        let e = err("[accept]\nfinding = \"no-key\"\n");
        assert!(e.starts_with("p.toml:1:2: write each acceptance under its own [[accept]]"), "{e}");
        let e = err("[[accept]]\nfinding = 3\n");
        assert!(e.starts_with("p.toml:2:11: finding = 3 is a number, not text: write it in quotes"), "{e}");
        let e = err("[[accept]]\nfindings = \"no-key\"\n");
        assert!(e.starts_with("p.toml:2:1: unknown key 'findings' in [[accept]]"), "{e}");
        let e = err("max_age = \n");
        assert!(e.starts_with("p.toml:1:") && e.contains("this is not TOML ("), "{e}");
    }

    #[test]
    fn acceptances_and_functional_ids_of_one_account() {
        let p = Policy::parse(
            "functional_ids = [\"IBMid-1\", { id = \"k8s@example.com\", account = \"B7C8D9E0F1A2B3C4D5E6F7A8B9C0D1E2\" }]\n[[accept]]\nfinding = \"no-key\"\ntarget = \"a/b\"\naccount = \"b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2\"\nreason = \"r\"\nuntil = 2027-01-01\n",
            None,
        )
        .unwrap();
        assert_eq!(p.functional_ids, ["IBMid-1"]);
        let staging = "b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2";
        assert_eq!(p.functional_ids_of(staging).collect::<Vec<_>>(), ["k8s@example.com"]);
        assert_eq!(p.functional_ids_of("a1b2c3d4e5f60718293a4b5c6d7e8f90").count(), 0);
        assert_eq!(p.accept[0].account.as_deref(), Some(staging));
        let e = err(
            "[[accept]]\nfinding = \"no-key\"\ntarget = \"a/b\"\naccount = \"Staging\"\nreason = \"r\"\nuntil = 2027-01-01\n",
        );
        assert!(e.starts_with("p.toml:4:11: account = \"Staging\" is not an account ID"), "{e}");
        let e = err("functional_ids = [{ id = 3, account = \"b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2\" }]\n");
        assert!(e.starts_with("p.toml:1:26: id = 3 is a number"), "{e}");
        let e = err("functional_ids = [{ account = \"b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2\" }]\n");
        assert!(e.contains("this functional ID has no id"), "{e}");
    }

    #[test]
    fn acceptance_expired_cannot_be_accepted() {
        let e =
            err("[[accept]]\nfinding = \"acceptance-expired\"\ntarget = \"*/*\"\nreason = \"r\"\nuntil = 2099-01-01\n");
        assert!(e.starts_with("p.toml:2:11: 'acceptance-expired' cannot be accepted"), "{e}");
        // Nor is it offered as a valid code.
        let e = err("[[accept]]\nfinding = \"nope\"\n");
        assert!(!e.contains("acceptance-expired"), "{e}");
    }

    #[test]
    fn globs() {
        let m = |p: &str, t: &str| Part::new(p).unwrap().matches(t);
        assert!(m("eu-*", "eu-de") && m("*", "") && m("us-?outh", "us-south"));
        assert!(!m("eu-*", "us-south") && !m("us-?", "us-south"));
        assert!(m("*-*", "jp-tok") && m("a*b*c", "aXbYc") && !m("a*b*c", "aXbY"));
        // Classes and alternatives, and the escapes the baseline writes.
        assert!(m("eu-{de,gb}", "eu-gb") && !m("eu-{de,gb}", "eu-es") && m("us-[se]*", "us-south"));
        for name in ["g[1]", "a*b", "{x}", "?", "[!]"] {
            let escaped = globset::escape(name);
            assert!(m(&escaped, name), "{escaped}");
            assert!(!m(&escaped, "other"), "{escaped}");
        }
        assert!(!m(&globset::escape("a*b"), "aXb"));
        // A group ID with a '/': the group is what follows the first '/'.
        let p = TargetPattern::new("us-south/a/b").unwrap();
        assert_eq!(p.group.as_str(), "a/b");
    }

    #[test]
    fn lines_and_columns() {
        let l = Lines::new("ab\né\n\nxyz");
        assert_eq!(l.at(0), (1, 1));
        assert_eq!(l.at(2), (1, 3));
        assert_eq!(l.at(3), (2, 1));
        assert_eq!(l.at(5), (2, 2));
        assert_eq!(l.at(7), (4, 1));
        assert_eq!(l.at(9), (4, 3));
        assert_eq!(l.at(99), (4, 4));
    }
}
