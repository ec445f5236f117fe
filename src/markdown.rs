//! `status -o markdown`: the report as GitHub-flavoured Markdown, for a pull request comment or
//! a CI job's summary (`$GITHUB_STEP_SUMMARY`, GitLab's and others' Markdown views): whether
//! the run fails at `--fail-on`, the counts, a table of the targets with findings, and each
//! target's findings in a collapsed `<details>` block with what to do, its commands in code
//! spans.
//!
//! Names and messages are other people's words, and Markdown interprets punctuation: every
//! piece of text goes out through one of three functions, by where it lands. [`prose`]
//! backslash-escapes every ASCII punctuation character Markdown could read as markup or a link
//! (`*_[]<>#|` and `.:@`, which GitHub's autolinks look for); [`code`] makes a code span whose
//! fence is longer than any run of backticks inside it (and, in a table, escapes `|`, which GFM
//! reads as a cell's end even there); [`html`] escapes what HTML interprets in the `<summary>`
//! line, which is HTML. Each first makes control and format characters (line breaks, bidi
//! overrides) visible as the terminal shows them, so that no text can end a table row or a
//! block.

use cluster_api_key_core::model::{Code, Finding, Severity, StatusReport, TargetStatus};
use cluster_api_key_core::policy::FailOn;

use crate::ui::{Text, severity_word};

/// An account of the report, as its section names it.
pub struct Account<'a> {
    /// Its ID.
    pub id: &'a str,
    /// Its name, when known (several accounts).
    pub name: Option<&'a str>,
}

/// What was read of an account.
pub enum Read<'a> {
    /// Its report, with what to do about each finding (per target, in the report's order).
    Report(&'a StatusReport, &'a [Vec<Text>]),
    /// It could not be read, and why.
    Unread(&'a str),
}

/// The ASCII punctuation that Markdown (GitHub's) can read as markup anywhere in a line:
/// emphasis, code, links and images, HTML and entities, table cells, strikethrough, math, emoji
/// (`:name:`) and the autolinks of URLs (`scheme:`) and emails (`@`). The rest (`-+.()` and
/// the like) only means something at the start of a line, where this module puts no text, or
/// after one of these; a `.` is escaped after `www`, GitHub's other autolink.
const MARKUP: &str = "\\`*_[]<>|~&!#$:@";

/// Text as literal Markdown prose: visible, and the punctuation Markdown reads escaped.
fn prose(s: &str) -> String {
    let shown = crate::ui::visible(s);
    let mut out = String::with_capacity(shown.len() + shown.len() / 8);
    for c in shown.chars() {
        let www = c == '.'
            && out.len() >= 3
            && out.is_char_boundary(out.len() - 3)
            && out[out.len() - 3..].eq_ignore_ascii_case("www");
        if MARKUP.contains(c) || www {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `s` as a code span (`-` when empty): a fence longer than any run of backticks in it, with
/// a space inside each end when it begins or ends with a backtick or a space (CommonMark strips
/// one from each end). `in_table`: `|` escaped, as GFM wants it even inside a code span.
fn code(s: &str, in_table: bool) -> String {
    let shown = crate::ui::visible(s);
    if shown.is_empty() {
        return String::from("-");
    }
    let longest = shown.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if shown.starts_with(['`', ' ']) || shown.ends_with(['`', ' ']) { " " } else { "" };
    let body = if in_table { shown.replace('|', "\\|") } else { shown.into_owned() };
    format!("{fence}{pad}{body}{pad}{fence}")
}

/// Text inside an HTML element (the `<summary>` line): visible, and HTML's characters escaped.
fn html(s: &str) -> String {
    crate::ui::visible(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// What to do, as Markdown: the words as prose, the commands as code spans.
fn action(a: &Text) -> String {
    a.commands_apart().into_iter().map(|(command, s)| if command { code(s, false) } else { prose(s) }).collect()
}

/// `n critical, n warnings, n info`.
fn counts(critical: usize, warnings: usize, info: usize) -> String {
    format!("{critical} critical, {}, {info} info", crate::ui::count(warnings, "warning"))
}

fn fail_on_flag(fail_on: FailOn) -> &'static str {
    match fail_on {
        FailOn::Critical => "--fail-on critical",
        FailOn::Warning => "--fail-on warning",
        FailOn::Never => "--fail-on never",
    }
}

/// The owner cell: their name, else their IAM ID.
fn owner(t: &TargetStatus) -> String {
    match &t.owner {
        Some(o) if !o.name.is_empty() => code(&o.name, true),
        Some(o) => o.iam_id.as_ref().map_or_else(|| String::from("-"), |i| code(i.as_str(), true)),
        None => String::from("-"),
    }
}

/// The Findings cell: the open findings, worst first, each code with its severity; then how
/// many are accepted, and how many checks could not be made.
fn findings_cell(t: &TargetStatus) -> String {
    let mut parts: Vec<String> = t
        .findings
        .iter()
        .filter(|f| !f.accepted)
        .map(|f| {
            let word = severity_word(f.severity);
            let sev = if f.severity == Severity::Critical { format!("**{word}**") } else { word.to_owned() };
            format!("{} ({sev})", code(f.code.as_str(), true))
        })
        .collect();
    let accepted = t.findings.iter().filter(|f| f.accepted).count();
    if accepted > 0 {
        parts.push(format!("{accepted} accepted"));
    }
    let unchecked: usize = t.unchecked.iter().map(|u| u.findings.len()).sum();
    if unchecked > 0 {
        parts.push(format!("{unchecked} not checked"));
    }
    parts.join(", ")
}

/// One finding in the details, with what to do about it.
fn finding_item(f: &Finding, a: &Text) -> String {
    let word = severity_word(f.severity);
    if let Some(acc) = &f.acceptance {
        let by = acc.by.as_deref().map(|b| format!(", by {}", prose(b))).unwrap_or_default();
        return format!(
            "- {} ({word}), accepted by the policy until {}{by}: {}\n  {}\\.\n",
            code(f.code.as_str(), false),
            prose(&acc.until),
            prose(&acc.reason),
            prose(&f.detail),
        );
    }
    format!("- **{}** ({word}): {}\\.\n  {}\n", code(f.code.as_str(), false), prose(&f.detail), action(a))
}

/// A target's `<details>` block: its findings, accepted ones last, and what could not be
/// checked there.
fn details(t: &TargetStatus, actions: &[Text]) -> String {
    let open: Vec<&Finding> = t.findings.iter().filter(|f| !f.accepted).collect();
    let n = |s: Severity| open.iter().filter(|f| f.severity == s).count();
    let mut summary = format!(
        "{} / {}: {}",
        html(&t.region),
        html(&t.resource_group_name),
        counts(n(Severity::Critical), n(Severity::Warning), n(Severity::Info))
    );
    let accepted = t.findings.len() - open.len();
    if accepted > 0 {
        summary.push_str(&format!(", {accepted} accepted"));
    }
    let mut out = format!("<details>\n<summary>{summary}</summary>\n\n");
    let with: Vec<(&Finding, &Text)> = t.findings.iter().zip(actions).collect();
    for (f, a) in with.iter().filter(|(f, _)| !f.accepted).chain(with.iter().filter(|(f, _)| f.accepted)) {
        out.push_str(&finding_item(f, a));
    }
    for u in &t.unchecked {
        let codes: Vec<String> = u.findings.iter().map(|c: &Code| code(c.as_str(), false)).collect();
        out.push_str(&format!("- Not checked: {}: {}\\.\n", codes.join(", "), prose(&u.reason)));
    }
    out.push_str("\n</details>\n\n");
    out
}

/// One account's section (`heading`: its title, when there are several).
fn account_section(account: &Account, r: &StatusReport, actions: &[Vec<Text>], heading: bool) -> String {
    let s = &r.summary;
    let mut out = String::new();
    if heading {
        let name = account.name.filter(|n| !n.is_empty()).map(|n| format!("{} ", prose(n))).unwrap_or_default();
        out.push_str(&format!("### Account {name}({})\n\n", code(account.id, false)));
    } else {
        out.push_str(&format!("Account {}\\.\n\n", code(account.id, false)));
    }
    let mut line = format!("{}: {}", crate::ui::count(s.targets, "target"), counts(s.critical, s.warnings, s.info));
    if s.accepted > 0 {
        line.push_str(&format!("; {} accepted by the policy", s.accepted));
    }
    out.push_str(&format!("{line}\\.\n\n"));
    let with: Vec<(&TargetStatus, &Vec<Text>)> =
        r.targets.iter().zip(actions).filter(|(t, _)| !t.findings.is_empty() || !t.unchecked.is_empty()).collect();
    if !with.is_empty() {
        out.push_str("| Region | Resource group | Clusters | Owner | Key age | Findings |\n");
        out.push_str("| --- | --- | ---: | --- | --- | --- |\n");
        for (t, _) in &with {
            let age = t.key.as_ref().and_then(|k| k.age_days).map_or_else(|| String::from("-"), |d| format!("{d}d"));
            out.push_str(&format!(
                "| {} | {} | {} | {} | {age} | {} |\n",
                code(&t.region, true),
                code(&t.resource_group_name, true),
                t.clusters.len(),
                owner(t),
                findings_cell(t)
            ));
        }
        out.push('\n');
    }
    let clean = r.targets.len() - with.len();
    if clean > 0 {
        out.push_str(&format!("{} without findings: not listed\\.\n\n", crate::ui::count(clean, "target")));
    }
    for (t, a) in &with {
        out.push_str(&details(t, a));
    }
    let mut notes: Vec<String> = r.notes.clone();
    if let Some(why) = &r.unseen_targets {
        notes.push(format!("Some targets may not be in this report: {why}."));
    }
    if let Some(p) = &r.policy {
        notes.extend(p.unused.iter().map(|u| format!("The policy's acceptance at {u} matches no finding.")));
        notes.extend(
            p.unchecked
                .iter()
                .map(|u| format!("The policy's acceptance at {} could not be checked: {}.", u.acceptance, u.reason)),
        );
    }
    if !notes.is_empty() {
        out.push_str("Not covered:\n\n");
        for n in notes {
            out.push_str(&format!("- {}\n", prose(&n)));
        }
        out.push('\n');
    }
    out
}

/// The document over `accounts` (one or many): `fails` says whether the run exits 3 at
/// `fail_on`.
#[must_use]
pub fn document(accounts: &[(Account, Read)], fail_on: FailOn, fails: bool) -> String {
    let verdict = if fails {
        format!("fails at {}", code(fail_on_flag(fail_on), false))
    } else {
        format!("passes at {}", code(fail_on_flag(fail_on), false))
    };
    let mut out = format!("## {} status: {verdict}\n\n", code(crate::names::PLUGIN_NAME, false));
    let many = accounts.len() > 1;
    if many {
        let unread = accounts.iter().filter(|(_, r)| matches!(r, Read::Unread(_))).count();
        let read = match unread {
            0 => String::from("every one read"),
            n => format!("{n} could not be read, counted as a warning each"),
        };
        out.push_str(&format!("{}: {read}\\.\n\n", crate::ui::count(accounts.len(), "account")));
    }
    for (account, read) in accounts {
        match read {
            Read::Report(r, actions) => out.push_str(&account_section(account, r, actions, many)),
            Read::Unread(why) => {
                let name = account.name.filter(|n| !n.is_empty()).map(|n| format!("{} ", prose(n))).unwrap_or_default();
                out.push_str(&format!(
                    "### Account {name}({})\n\n**Could not be read** (unknown, not fine): {}\\.\n\n",
                    code(account.id, false),
                    prose(why)
                ));
            }
        }
    }
    out
}
