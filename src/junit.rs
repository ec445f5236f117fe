//! `status -o junit`: the report as JUnit XML, the test report every CI system reads (GitLab's
//! `artifacts:reports:junit`, Jenkins, Azure Pipelines, Tekton dashboards), written with
//! `quick-junit` (nextest's writer).
//!
//! - One `<testsuite>` per account (`ACCOUNT`): whether the account could be read, and whether
//!   every target could be seen; and one per target (`ACCOUNT/REGION/GROUP`), its facts as
//!   properties.
//! - One `<testcase>` per check made there ([`TargetStatus::checks`], the one list), named by
//!   its finding code, with its severity and the controls it evidences as properties: a clean
//!   target shows passing cases, not nothing.
//! - A finding at or above `--fail-on` is a `<failure>` (its type the severity); one below it a
//!   passing case whose `<system-out>` says it (the job passes as the exit code does, and the
//!   finding is still on record); an accepted one `<skipped>`, with the acceptance's reason,
//!   date and author.
//! - What could not be judged is an `<error>` with the reason, never a pass; so is an account
//!   that could not be read, and targets that may not have been seen.
//!
//! Every string is made safe for XML 1.0 here ([`xml_safe`]): controls and format characters
//! (bidi overrides) shown escaped as the terminal shows them, and the two non-characters XML
//! forbids too; `quick-junit` escapes `<`, `&` and quotes.

use cluster_api_key_core::controls;
use cluster_api_key_core::model::{Code, Finding, Severity, StatusReport, TargetStatus};
use cluster_api_key_core::policy::FailOn;
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::error::CommandError;
use crate::ui::Text;

/// An account of the report, as the suites name it.
pub struct Account<'a> {
    /// Its ID: the first part of every suite's name.
    pub id: &'a str,
    /// Its name, when known (several accounts).
    pub name: Option<&'a str>,
}

/// An account's report as judged.
pub struct Judged<'a> {
    /// The report.
    pub report: &'a StatusReport,
    /// What to do about each finding (per target, in the report's order).
    pub actions: &'a [Vec<Text>],
    /// `--control`: the report is limited to the findings that evidence these, and so are the
    /// checks listed (a check it left out is not a pass). None: every check.
    pub controls: &'a [&'static controls::Control],
}

/// What was read of an account.
pub enum Read<'a> {
    /// Its report.
    Report(Judged<'a>),
    /// It could not be read, and why.
    Unread(&'a str),
}

/// Text as XML 1.0 may hold it: every character a terminal would not show as it is escaped
/// visibly (`\u{202e}`, `\n`), and U+FFFE and U+FFFF, which XML forbids and no category above
/// covers. The rest is `quick-junit`'s to escape.
fn xml_safe(s: &str) -> String {
    crate::ui::visible(s).replace('\u{fffe}', "\\u{fffe}").replace('\u{ffff}', "\\u{ffff}")
}

/// The lines of a text node or attribute, each made [`xml_safe`], joined by line breaks.
fn lines<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    parts.into_iter().map(xml_safe).collect::<Vec<_>>().join("\n")
}

fn property(name: &str, value: &str) -> Property {
    Property::new(name, xml_safe(value))
}

/// A test case of `suite`, named by `code`, with the code's severity and controls.
fn case(suite: &str, code: Code, status: TestCaseStatus) -> TestCase {
    let mut c = TestCase::new(code.as_str(), status);
    c.set_classname(suite);
    c.add_property(property("severity", crate::ui::severity_word(code.severity())));
    for control in controls::of(code) {
        c.add_property(property("control", control.id));
    }
    c
}

/// The case of `code` on target `t`: its findings there (and what to do about each), or what
/// kept it from being judged, or a pass.
fn target_case(suite: &str, t: &TargetStatus, code: Code, found: &[(&Finding, &Text)], fail_on: FailOn) -> TestCase {
    let open: Vec<&(&Finding, &Text)> = found.iter().filter(|(f, _)| !f.accepted).collect();
    let failing = |f: &Finding| fail_on.threshold().is_some_and(|th| f.severity >= th);
    let said = |list: &[&(&Finding, &Text)]| {
        let mut out = Vec::new();
        for (f, a) in list {
            out.push(format!("{} ({}): {}.", code.as_str(), crate::ui::severity_word(f.severity), f.detail));
            out.push(a.to_plain());
        }
        out
    };
    if open.iter().any(|(f, _)| failing(f)) {
        let worst = open.iter().map(|(f, _)| f.severity).max().unwrap_or(Severity::Info);
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status.set_type(crate::ui::severity_word(worst));
        status.set_message(lines(open.iter().map(|(f, _)| f.detail.as_str())).replace('\n', "; "));
        let text = said(&open);
        status.set_description(lines(text.iter().map(String::as_str)));
        return case(suite, code, status);
    }
    if !open.is_empty() {
        // Below --fail-on: the job passes as the exit code does; the finding stays on record.
        let mut c = case(suite, code, TestCaseStatus::success());
        let text = said(&open);
        c.set_system_out(lines(text.iter().map(String::as_str)));
        return c;
    }
    if let Some((f, _)) = found.first() {
        let mut status = TestCaseStatus::skipped();
        status.set_type("accepted");
        let message = match &f.acceptance {
            Some(a) => format!(
                "accepted by the policy until {}{}: {}",
                a.until,
                a.by.as_ref().map(|b| format!(", by {b}")).unwrap_or_default(),
                a.reason
            ),
            None => String::from("accepted by the policy"),
        };
        status.set_message(xml_safe(&message));
        status.set_description(lines([format!("{}: {}.", code.as_str(), f.detail).as_str()]));
        return case(suite, code, status);
    }
    if let Some(u) = t.unchecked.iter().find(|u| u.findings.contains(&code)) {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_type("unchecked");
        status.set_message(xml_safe(&format!("not checked: {}", u.reason)));
        return case(suite, code, status);
    }
    case(suite, code, TestCaseStatus::success())
}

/// The suite of target `t` of `account`.
fn target_suite(account: &Account, j: &Judged, t: &TargetStatus, actions: &[Text], fail_on: FailOn) -> TestSuite {
    let name = format!("{}/{}/{}", account.id, xml_safe(&t.region), xml_safe(&t.resource_group_name));
    let mut suite = TestSuite::new(name.as_str());
    suite.add_property(property("account", account.id));
    if let Some(n) = account.name {
        suite.add_property(property("accountName", n));
    }
    suite.add_property(property("region", &t.region));
    suite.add_property(property("resourceGroup", &t.resource_group_name));
    suite.add_property(property("resourceGroupId", &t.resource_group_id));
    suite.add_property(property("clusters", &t.clusters.len().to_string()));
    if let Some(k) = &t.key {
        suite.add_property(property("keyId", k.id.as_str()));
    }
    if let Some(o) = &t.owner {
        let who = if o.name.is_empty() {
            o.iam_id.as_ref().map(ToString::to_string).unwrap_or_default()
        } else {
            o.name.clone()
        };
        suite.add_property(property("keyOwner", &who));
    }
    for c in controls::CONTROLS.iter().filter(|c| t.findings.iter().any(|f| c.codes.contains(&f.code))) {
        suite.add_property(property("control", c.id));
    }
    let with: Vec<(&Finding, &Text)> = t.findings.iter().zip(actions).collect();
    let kept = |code: &Code| j.controls.is_empty() || j.controls.iter().any(|c| c.codes.contains(code));
    for code in t.checks(j.report.policy.is_some()).into_iter().filter(kept) {
        let found: Vec<(&Finding, &Text)> = with.iter().filter(|(f, _)| f.code == code).copied().collect();
        suite.add_test_case(target_case(&name, t, code, &found, fail_on));
    }
    suite
}

/// The account's own suite: whether it was read, whether every target was seen, and the
/// report's notes (what it could not cover) as its output.
fn account_suite(account: &Account, read: &Read) -> TestSuite {
    let name = account.id;
    let mut suite = TestSuite::new(name);
    suite.add_property(property("account", account.id));
    if let Some(n) = account.name {
        suite.add_property(property("accountName", n));
    }
    let error = |kind: &str, message: String| {
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
        s.set_type(kind);
        s.set_message(xml_safe(&message));
        s
    };
    let mut cases = Vec::new();
    let mut case = |test: &str, status: TestCaseStatus| {
        let mut c = TestCase::new(test, status);
        c.set_classname(name);
        cases.push(c);
    };
    match read {
        Read::Unread(why) => case("account-read", error("unread", format!("the account could not be read: {why}"))),
        Read::Report(Judged { report: r, .. }) => {
            case("account-read", TestCaseStatus::success());
            case(
                "every-target-seen",
                match &r.unseen_targets {
                    Some(why) => error("unchecked", format!("some targets may not be in the report: {why}")),
                    None => TestCaseStatus::success(),
                },
            );
            let mut notes: Vec<String> = r.notes.clone();
            if let Some(p) = &r.policy {
                notes.extend(p.unused.iter().map(|u| {
                    format!("The policy's acceptance at {u} matches no finding: remove it, or correct its target, key or owner.")
                }));
                notes.extend(p.unchecked.iter().map(|u| {
                    format!("The policy's acceptance at {} could not be checked: {}.", u.acceptance, u.reason)
                }));
            }
            if !notes.is_empty() {
                suite.set_system_out(lines(notes.iter().map(String::as_str)));
            }
        }
    }
    suite.add_test_cases(cases);
    suite
}

/// The document over `accounts` (one or many), `fail_on` deciding which findings fail.
///
/// # Errors
/// Only a bug: the writer writes into memory.
pub fn document(accounts: &[(Account, Read)], fail_on: FailOn) -> Result<String, CommandError> {
    let mut report = Report::new(format!("{} status", crate::names::PLUGIN_NAME));
    for (account, read) in accounts {
        report.add_test_suite(account_suite(account, read));
        if let Read::Report(j) = read {
            for (t, a) in j.report.targets.iter().zip(j.actions.iter()) {
                report.add_test_suite(target_suite(account, j, t, a, fail_on));
            }
        }
    }
    report.to_string().map_err(CommandError::internal)
}
