//! `status`: the account-wide picture. Core reads and judges ([`status::status`]); this module
//! adds what to do about each finding (in the host's words) and renders the table, JSON or CSV.

use cluster_api_key_core::ops::Target;
use cluster_api_key_core::ops::status::{self, Code, OwnerState, Severity, StatusReport, TargetStatus};
use cluster_api_key_core::types::IamId;
use indicatif::ProgressBar;

use super::{ExitStatus, Here, Render};
use crate::cli::{FailOn, StatusArgs};
use crate::error::{CommandError, to_json};
use crate::ui::Ui;

/// The line that says what to do about a finding.
fn action(code: Code, t: &TargetStatus, ui: &Ui) -> String {
    let (me, cli) = (&ui.me, &ui.cli);
    let group = crate::ui::group_arg(&t.resource_group_name, &t.resource_group_id);
    let reset = format!("'{me} reset --region {} -g {group}'", t.region);
    let key = t.key.as_ref().map_or_else(|| String::from("KEY_ID"), |k| k.id.to_string());
    match code {
        Code::NoKey => format!("Create the key as a functional ID: {reset}."),
        Code::OwnerNotInAccount | Code::OwnerInactive => {
            format!("Reset the key now, as a functional ID, before the clusters break: {reset}.")
        }
        Code::OwnerLacksRoles => {
            let id = t
                .owner
                .as_ref()
                .and_then(|o| o.iam_id.as_ref())
                .map_or_else(|| String::from("IAM_ID"), ToString::to_string);
            format!(
                "Grant them ('{me} check --region {} -g {group} --iam-id {id} --grant') or reset as an identity that has them: {reset}.",
                t.region
            )
        }
        Code::OwnerUnknown => String::from(
            "Run status as a user with a User Management role (Viewer is enough) to see the owner's state, or ask an account administrator.",
        ),
        Code::KeyTooOld => format!("Rotate it: {reset}."),
        Code::PersonalOwner => format!(
            "Reset it as a functional ID or service ID ({reset}); if this user is a functional ID, pass --functional-id IAM_ID."
        ),
        Code::KeyLocked => {
            format!("A locked key cannot be deleted after a reset; unlock it then: '{cli} iam api-key-unlock {key}'.")
        }
        Code::KeyDisabled => format!("Enable it ('{cli} iam api-key-enable {key}') or reset: {reset}."),
        Code::SupersededKeys => {
            let ids: Vec<&str> = t.superseded_keys.iter().map(|k| k.id.as_str()).collect();
            format!("Delete the older keys once nothing uses them: '{cli} iam api-key-delete {}'.", ids.join(" "))
        }
        Code::OrphanKey => format!("No cluster uses it; delete it: '{cli} iam api-key-delete {key}'."),
    }
}

/// The report with the actions, and how to end.
struct Report {
    status: StatusReport,
    fail_on: FailOn,
    /// Actions per target, per finding, in the report's order.
    actions: Vec<Vec<String>>,
}

fn state_text(s: &OwnerState) -> String {
    match s {
        OwnerState::Member { state } => state.clone(),
        OwnerState::NotInAccount => String::from("NOT IN ACCOUNT"),
        OwnerState::ServiceId => String::from("service ID"),
        OwnerState::Unknown { .. } => String::from("unknown"),
    }
}

fn owner_text(t: &TargetStatus) -> String {
    match &t.owner {
        Some(o) if !o.name.is_empty() => o.name.clone(),
        Some(o) => o.iam_id.as_ref().map_or_else(String::new, ToString::to_string),
        None => String::from("-"),
    }
}

/// RFC 4180: quote a field that holds a comma, a quote or a line break.
/// One CSV cell. A cell that a spreadsheet would read as a formula (it begins with `=`, `+`,
/// `-`, `@`, a tab or a carriage return: OWASP's list) gets a leading `'`, so that a name chosen
/// by someone else cannot run in the auditor's spreadsheet; then RFC 4180 quoting.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_owned() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

impl Render for Report {
    fn json(&self) -> Result<serde_json::Value, CommandError> {
        let mut v = to_json(&self.status)?;
        if let Some(targets) = v.get_mut("targets").and_then(serde_json::Value::as_array_mut) {
            for (t, actions) in targets.iter_mut().zip(&self.actions) {
                if let Some(findings) = t.get_mut("findings").and_then(serde_json::Value::as_array_mut) {
                    for (f, a) in findings.iter_mut().zip(actions) {
                        f["action"] = serde_json::Value::from(a.as_str());
                    }
                }
            }
        }
        Ok(v)
    }

    fn text(&self, ui: &Ui) {
        let r = &self.status;
        ui.ok();
        if r.targets.is_empty() {
            ui.say("No region and resource group has clusters or a containers-kubernetes-key key.");
        } else {
            let rows: Vec<Vec<String>> = r
                .targets
                .iter()
                .map(|t| {
                    vec![
                        t.region.clone(),
                        t.resource_group_name.clone(),
                        t.clusters.len().to_string(),
                        owner_text(t),
                        t.owner.as_ref().map_or_else(|| String::from("-"), |o| state_text(&o.state)),
                        t.key.as_ref().and_then(|k| k.age_days).map_or_else(|| String::from("-"), |d| format!("{d}d")),
                        if t.findings.is_empty() {
                            String::from("-")
                        } else {
                            t.findings.iter().map(|f| serde_plain(f.code)).collect::<Vec<_>>().join(", ")
                        },
                    ]
                })
                .collect();
            ui.table(&["Region", "Resource group", "Clusters", "Owner", "State", "Key age", "Findings"], &rows);
        }
        let s = &r.summary;
        ui.say("");
        ui.say(&format!(
            "{} target{}: {} critical, {} warning{}, {} info.",
            s.targets,
            if s.targets == 1 { "" } else { "s" },
            s.critical,
            s.warnings,
            if s.warnings == 1 { "" } else { "s" },
            s.info
        ));
        for note in &r.notes {
            ui.warn(note);
        }
        let with_findings: Vec<(&TargetStatus, &Vec<String>)> =
            r.targets.iter().zip(&self.actions).filter(|(t, _)| !t.findings.is_empty()).collect();
        if with_findings.is_empty() {
            return;
        }
        ui.say("");
        ui.say("What to fix:");
        for (t, actions) in with_findings {
            ui.say("");
            ui.say(&format!("{} / {}", ui.entity(&t.region), ui.entity(&t.resource_group_name)));
            for (f, a) in t.findings.iter().zip(actions) {
                let sev = match f.severity {
                    Severity::Critical => "critical",
                    Severity::Warning => "warning",
                    Severity::Info => "info",
                };
                ui.say(&format!("  {} ({sev}): {}.", serde_plain(f.code), crate::ui::one_line(&f.detail)));
                ui.say(&format!("    {}", ui.highlight(a)));
            }
        }
    }

    fn csv(&self) -> Option<String> {
        let mut out = String::from(
            "region,resourceGroup,resourceGroupId,clusters,ownerName,ownerEmail,ownerIamId,ownerState,keyId,keyCreated,keyAgeDays,supersededKeys,findings,worstSeverity\n",
        );
        for t in &self.status.targets {
            let o = t.owner.as_ref();
            let k = t.key.as_ref();
            let fields = [
                t.region.clone(),
                t.resource_group_name.clone(),
                t.resource_group_id.clone(),
                t.clusters.len().to_string(),
                o.map(|o| o.name.clone()).unwrap_or_default(),
                o.map(|o| o.email.clone()).unwrap_or_default(),
                o.and_then(|o| o.iam_id.as_ref()).map(ToString::to_string).unwrap_or_default(),
                o.map(|o| state_text(&o.state)).unwrap_or_default(),
                k.map(|k| k.id.to_string()).unwrap_or_default(),
                k.and_then(|k| k.created.clone()).unwrap_or_default(),
                k.and_then(|k| k.age_days).map(|d| d.to_string()).unwrap_or_default(),
                t.superseded_keys.iter().map(|k| k.id.as_str()).collect::<Vec<_>>().join(" "),
                t.findings.iter().map(|f| serde_plain(f.code)).collect::<Vec<_>>().join(" "),
                t.findings.iter().map(|f| f.severity).max().map(serde_plain).unwrap_or_default(),
            ];
            out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        Some(out)
    }

    fn status(&self) -> ExitStatus {
        let threshold = match self.fail_on {
            FailOn::Critical => Some(Severity::Critical),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Never => None,
        };
        match (threshold, self.status.worst()) {
            (Some(t), Some(w)) if w >= t => ExitStatus::Findings,
            _ => ExitStatus::Success,
        }
    }
}

/// A unit enum's JSON name (`owner-not-in-account`, `critical`) as plain text.
fn serde_plain(v: impl serde::Serialize) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// A progress bar on stderr while targets are checked; hidden off a terminal, with -q and in
/// JSON or CSV mode.
struct Bar(ProgressBar);

impl Bar {
    fn new(ui: &Ui) -> Self {
        Self(ui.progress_bar(Some(0), "{spinner} Checking {pos}/{len} targets {wide_bar} {elapsed}"))
    }
}

impl status::Reporter for Bar {
    fn targets(&self, n: usize) {
        self.0.set_length(n as u64);
    }

    fn checked(&self, _target: &Target) {
        self.0.inc(1);
    }
}

/// Runs `status`.
///
/// # Errors
/// Usage errors for unknown regions and groups; errors reading the account.
pub async fn run(here: &Here, ui: &Ui, args: &StatusArgs) -> Result<Box<dyn Render>, CommandError> {
    let opts = status::Options {
        regions: args.region.clone(),
        groups: args.resource_group.clone(),
        max_age: args.max_age,
        functional_ids: args.functional_id.iter().map(|i| IamId::new(i.trim())).collect(),
        concurrency: here.session.ctx.http.concurrency,
    };
    ui.progress("Reading the account's clusters, API keys and owners...");
    let bar = Bar::new(ui);
    let report = status::status(&here.session, &opts, &bar).await;
    bar.0.finish_and_clear();
    let report = report?;
    let actions = report.targets.iter().map(|t| t.findings.iter().map(|f| action(f.code, t, ui)).collect()).collect();
    Ok(Box::new(Report { status: report, fail_on: args.fail_on, actions }))
}
