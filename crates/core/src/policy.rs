//! The policy file: the account's rules and its accepted findings, in one reviewed TOML file.
//!
//! Found through `--policy FILE`, else `CLUSTER_API_KEY_POLICY`, else `policy.toml` in the
//! plugin's folder; none is fine (the defaults). It holds the functional IDs, `max_age` and
//! `fail_on` (flags override them), and `[[accept]]` entries that accept a finding of a target
//! (a `region/group` pattern with `*` and `?`), with a mandatory reason and an `until` date. An
//! accepted finding is still reported but does not count toward the exit code; an acceptance
//! past its date accepts nothing and is itself a finding (`acceptance-expired`); one that
//! matches nothing is reported, so that exceptions do not rot unseen.
//!
//! A bad file is refused before any request, with the file, line and column of what is wrong,
//! as TOML tools do.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::{Error, Result};
use crate::ops::status::{Code, Finding, Owner, Severity, StatusReport, TargetStatus};

/// The file name in the plugin's folder.
pub const FILE_NAME: &str = "policy.toml";

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

    fn name(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Warning => "warning",
            Self::Never => "never",
        }
    }
}

/// A calendar date, `YYYY-MM-DD` (it sorts as text).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Date(String);

impl Date {
    /// `text` when it is a real date in `YYYY-MM-DD` form.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
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

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acceptance {
    /// The finding's code.
    pub finding: Code,
    /// `region/group`, each part a name (the group's name or ID) or a pattern with `*` and `?`.
    pub target: String,
    /// Only this key (the target's current key or one of its superseded keys).
    pub key: Option<String>,
    /// Only this owner (IAM ID, email or name).
    pub owner: Option<String>,
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
    /// IAM IDs, emails or service-ID names of the functional IDs.
    pub functional_ids: Vec<String>,
    /// Keys older than this are flagged.
    pub max_age: Option<Duration>,
    /// Which findings fail a run.
    pub fail_on: Option<FailOn>,
    /// Accepted findings.
    pub accept: Vec<Acceptance>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    functional_ids: Vec<Spanned<String>>,
    #[serde(default)]
    max_age: Option<Spanned<String>>,
    #[serde(default)]
    fail_on: Option<Spanned<String>>,
    #[serde(default)]
    accept: Vec<Spanned<RawAccept>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccept {
    finding: Spanned<String>,
    target: Spanned<String>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    owner: Option<String>,
    reason: Spanned<String>,
    until: Spanned<toml::Value>,
    #[serde(default)]
    by: Option<String>,
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

/// Line and column (1-based, in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The valid finding codes, as the README's table names them.
fn codes() -> String {
    Code::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
}

/// Whether a target pattern is one this policy can match: `region/group`, with `*` and `?`.
fn pattern_error(p: &str) -> Option<&'static str> {
    if p.matches('/').count() != 1 || p.starts_with('/') || p.ends_with('/') {
        return Some("a target is 'region/group' (for example 'us-south/Default' or 'eu-*/staging')");
    }
    if p.contains(['[', ']', '{', '}', '\\']) {
        return Some("a target pattern takes only '*' (any characters) and '?' (one character)");
    }
    None
}

impl Policy {
    /// Reads and checks the file at `path`.
    ///
    /// # Errors
    /// [`Error::BadPolicy`] with the line and column of what is wrong; [`Error::Io`] when it
    /// cannot be read.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
        Self::parse(&text, Some(path))
    }

    /// Parses a policy's text (`path` names it in errors).
    ///
    /// # Errors
    /// [`Error::BadPolicy`] with the line and column of what is wrong.
    pub fn parse(text: &str, path: Option<&Path>) -> Result<Self> {
        let bad = |span: Range<usize>, message: String| {
            let (line, column) = line_col(text, span.start);
            Error::BadPolicy {
                path: path.map_or_else(|| PathBuf::from("(policy)"), Path::to_path_buf),
                line,
                column,
                message,
            }
        };
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let message = e.message().trim().to_owned();
            bad(e.span().unwrap_or(0..0), message)
        })?;
        let max_age = match raw.max_age {
            None => None,
            Some(m) => Some(humantime::parse_duration(m.get_ref().trim()).map_err(|e| {
                bad(m.span(), format!("max_age = '{}' is not a duration ({e}); for example \"90d\"", m.get_ref()))
            })?),
        };
        let fail_on = match raw.fail_on {
            None => None,
            Some(f) => Some(match f.get_ref().trim().to_ascii_lowercase().as_str() {
                "critical" => FailOn::Critical,
                "warning" => FailOn::Warning,
                "never" => FailOn::Never,
                other => {
                    return Err(bad(f.span(), format!("fail_on = '{other}' is not one of: critical, warning, never")));
                }
            }),
        };
        let mut accept = Vec::new();
        for entry in raw.accept {
            let line = line_col(text, entry.span().start).0;
            let a = entry.into_inner();
            let finding =
                Code::ALL.iter().copied().find(|c| c.as_str() == a.finding.get_ref().trim()).ok_or_else(|| {
                    bad(
                        a.finding.span(),
                        format!("'{}' is not a finding code; valid codes: {}", a.finding.get_ref(), codes()),
                    )
                })?;
            let target = a.target.get_ref().trim().to_owned();
            if let Some(why) = pattern_error(&target) {
                return Err(bad(a.target.span(), format!("target = '{target}': {why}")));
            }
            if a.reason.get_ref().trim().is_empty() {
                return Err(bad(a.reason.span(), String::from("reason must say why the finding is accepted")));
            }
            let until = match a.until.get_ref() {
                toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => Date::parse(&d.to_string()),
                toml::Value::String(s) => Date::parse(s.trim()),
                _ => None,
            }
            .ok_or_else(|| {
                bad(a.until.span(), format!("until = {} is not a date; write it as 2027-03-31", a.until.get_ref()))
            })?;
            accept.push(Acceptance {
                finding,
                target,
                key: a.key.map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()),
                owner: a.owner.map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()),
                reason: a.reason.into_inner().trim().to_owned(),
                until,
                by: a.by.map(|b| b.trim().to_owned()).filter(|b| !b.is_empty()),
                line,
            });
        }
        Ok(Self {
            path: path.map(Path::to_path_buf),
            functional_ids: raw.functional_ids.into_iter().map(|f| f.into_inner().trim().to_owned()).collect(),
            max_age,
            fail_on,
            accept,
        })
    }

    /// Applies the acceptances to a report (judged with this policy's functional IDs and max
    /// age): marks each accepted finding, adds `acceptance-expired` findings, recounts, and
    /// records the acceptances that matched nothing. `whole_account`: the report covers every
    /// target, so an acceptance that matches no target is stale too (in a filtered report it is
    /// only out of scope).
    pub fn apply(&self, report: &mut StatusReport, today: &Date, whole_account: bool) {
        let mut used = vec![false; self.accept.len()];
        for t in &mut report.targets {
            // Expired acceptances of this target: a finding each, and they accept nothing.
            let expired: Vec<&Acceptance> =
                self.accept.iter().filter(|a| &a.until < today && target_matches(&a.target, t)).collect();
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
                if let Some(i) = self.accept.iter().position(|a| &a.until >= today && accepts(a, f, t)) {
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
        for (a, _) in self.accept.iter().zip(&used).filter(|(a, used)| !**used && a.until >= *today) {
            let mut matching = report.targets.iter().filter(|t| target_matches(&a.target, t)).peekable();
            if !whole_account && matching.peek().is_none() {
                continue;
            }
            let entry = format!("line {}: {} for {}", a.line, a.finding.as_str(), a.target);
            let why = matching.find_map(|t| t.unchecked_reason(a.finding)).map(str::to_owned).or_else(|| {
                report.unseen_targets.clone().filter(|_| !report.targets.iter().any(|t| target_matches(&a.target, t)))
            });
            match why {
                Some(reason) => {
                    unchecked.push(crate::ops::status::UncheckedAcceptance { acceptance: entry, reason });
                }
                None => unused.push(entry),
            }
        }
        report.policy = Some(crate::ops::status::PolicyNotes {
            path: self.path.as_ref().map(|p| p.display().to_string()),
            unused,
            unchecked,
        });
    }

    /// A policy that accepts every finding of `report` (the ones already accepted keep their
    /// reason and date), `days` ahead, with this policy's rules: what `status --baseline` writes.
    #[must_use]
    pub fn baseline(&self, report: &StatusReport, days: u64, by: &str) -> String {
        let until = Date::days_from_now(days);
        let mut out = format!(
            "# The policy of cluster-api-key (https://github.com/cluster-api-key/cluster-api-key).\n# A baseline written by 'status --baseline' on {}: every finding then is accepted until {until}.\n# Review each entry, give it a real reason, or fix it and remove the entry.\n\n",
            Date::today()
        );
        let table = Baseline {
            functional_ids: self.functional_ids.clone(),
            max_age: self.max_age.map(|d| humantime::format_duration(d).to_string()),
            fail_on: self.fail_on.map(|f| f.name().to_owned()),
            accept: report
                .targets
                .iter()
                .flat_map(|t| {
                    let until = &until;
                    t.findings.iter().filter(|f| f.code != Code::AcceptanceExpired).map(move |f| BaselineEntry {
                        finding: f.code.as_str().to_owned(),
                        target: format!("{}/{}", t.region, group_pattern(t)),
                        reason: f.acceptance.as_ref().map_or_else(|| String::from("baseline"), |a| a.reason.clone()),
                        until: date_value(f.acceptance.as_ref().map_or(until.as_str(), |a| a.until.as_str())),
                        by: f.acceptance.as_ref().and_then(|a| a.by.clone()).or_else(|| Some(by.to_owned())),
                    })
                })
                .collect(),
        };
        out.push_str(&toml::to_string(&table).unwrap_or_default());
        out
    }
}

#[derive(Serialize)]
struct Baseline {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    functional_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_age: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fail_on: Option<String>,
    accept: Vec<BaselineEntry>,
}

#[derive(Serialize)]
struct BaselineEntry {
    finding: String,
    target: String,
    reason: String,
    until: toml::value::Datetime,
    #[serde(skip_serializing_if = "Option::is_none")]
    by: Option<String>,
}

/// A `YYYY-MM-DD` as a TOML date (written bare, `until = 2027-03-31`).
fn date_value(d: &str) -> toml::value::Datetime {
    d.parse().unwrap_or(toml::value::Datetime { date: None, time: None, offset: None })
}

/// The group part of a target pattern that names exactly this group: its name, or its ID when
/// the name holds a character a pattern gives meaning to.
fn group_pattern(t: &TargetStatus) -> &str {
    if t.resource_group_name.is_empty() || t.resource_group_name.contains(['*', '?', '/', '[', ']', '{', '}', '\\']) {
        &t.resource_group_id
    } else {
        &t.resource_group_name
    }
}

/// `*` any run of characters, `?` one character.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether `region/group` matches the target (the group by name or ID).
fn target_matches(pattern: &str, t: &TargetStatus) -> bool {
    let Some((r, g)) = pattern.split_once('/') else { return false };
    glob(r, &t.region) && (glob(g, &t.resource_group_name) || glob(g, &t.resource_group_id))
}

/// Whether an owner is the one named: by IAM ID, or by the email the account has on record for
/// that user (User Management's), any case. Never by display name, which a user sets to
/// anything, and never by an email the account did not confirm: used for functional IDs
/// (`personal-owner`, `--unless-owner functional`) and for an acceptance's `owner`.
#[must_use]
pub fn owner_is(owner: &Owner, named: &str) -> bool {
    let named = named.trim();
    owner.iam_id.as_ref().is_some_and(|i| i.as_str().eq_ignore_ascii_case(named))
        || owner.account_email.as_deref().is_some_and(|e| e.trim().eq_ignore_ascii_case(named))
}

/// Whether the owner may be the one named but it cannot be confirmed: the reported email
/// matches while the account's record of the user could not be read.
#[must_use]
pub fn owner_unverified(owner: &Owner, named: &str) -> bool {
    let named = named.trim();
    owner.account_email.is_none() && !owner.email.is_empty() && owner.email.trim().eq_ignore_ascii_case(named)
}

fn accepts(a: &Acceptance, f: &Finding, t: &TargetStatus) -> bool {
    a.finding == f.code
        && target_matches(&a.target, t)
        && a.key.as_ref().is_none_or(|k| {
            t.key.as_ref().is_some_and(|c| c.id.as_str() == k) || t.superseded_keys.iter().any(|s| s.id.as_str() == k)
        })
        && a.owner.as_ref().is_none_or(|o| t.owner.as_ref().is_some_and(|w| owner_is(w, o)))
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
    fn bad_files_say_where_and_what() {
        let e = err("functional_ids = []\nmax_agee = \"30d\"\n");
        assert!(e.starts_with("p.toml:2:1: ") && e.contains("unknown field `max_agee`"), "{e}");
        let e = err("[[accept]]\nfinding = \"key-lockd\"\ntarget = \"a/b\"\nreason = \"r\"\nuntil = 2027-01-01\n");
        assert!(
            e.starts_with("p.toml:2:11: ")
                && e.contains("'key-lockd' is not a finding code")
                && e.contains("key-locked"),
            "{e}"
        );
        let e = err("[[accept]]\nfinding = \"no-key\"\ntarget = \"a/b\"\nreason = \"r\"\nuntil = \"2027-02-30\"\n");
        assert!(e.starts_with("p.toml:5:9: ") && e.contains("not a date"), "{e}");
        let e =
            err("[[accept]]\nfinding = \"no-key\"\ntarget = \"us-[south]/b\"\nreason = \"r\"\nuntil = 2027-01-01\n");
        assert!(e.starts_with("p.toml:3:10: ") && e.contains("only '*'"), "{e}");
        let e = err("[[accept]]\nfinding = \"no-key\"\ntarget = \"a\"\nreason = \"r\"\nuntil = 2027-01-01\n");
        assert!(e.contains("'region/group'"), "{e}");
        let e = err("[[accept]]\nfinding = \"no-key\"\ntarget = \"a/b\"\nuntil = 2027-01-01\n");
        assert!(e.contains("missing field `reason`"), "{e}");
        let e = err("max_age = \"soon\"\n");
        assert!(e.starts_with("p.toml:1:11: ") && e.contains("not a duration"), "{e}");
        let e = err("fail_on = \"sometimes\"\n");
        assert!(e.contains("critical, warning, never"), "{e}");
        let e = err("max_age = \n");
        assert!(e.starts_with("p.toml:1:"), "{e}");
    }

    #[test]
    fn globs() {
        assert!(glob("eu-*", "eu-de") && glob("*", "") && glob("us-?outh", "us-south"));
        assert!(!glob("eu-*", "us-south") && !glob("us-?", "us-south"));
        assert!(glob("*-*", "jp-tok") && glob("a*b*c", "aXbYc") && !glob("a*b*c", "aXbY"));
    }
}
