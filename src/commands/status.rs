//! `status`: the account-wide picture. Core reads and judges ([`status::status`]); this module
//! adds what to do about each finding (in the host's words) and renders the table, JSON or CSV.

use cluster_api_key_core::model::{
    Code, Culprit, Finding, OwnerState, SettingsPart, Severity, StatusReport, TargetStatus,
};
use cluster_api_key_core::ops::Target;
use cluster_api_key_core::ops::offboard::{self, Answer, Dependency, Dependent, Leaver, Offboarding, Unknown, Unread};
use cluster_api_key_core::ops::status;
use cluster_api_key_core::policy::{Date, FailOn, Policy};
use cluster_api_key_core::types::IdentityKind;
use indicatif::ProgressBar;

use super::{ExitStatus, Here, Render};
use crate::cli::StatusArgs;
use crate::error::{CommandError, to_json};
use crate::settings::StatusSettings;
use crate::ui::{Text, Ui};

/// The line that says what to do about a finding, its commands styled as commands.
fn action(f: &Finding, t: &TargetStatus, ui: &Ui) -> Text {
    let code = f.code;
    let cli = &ui.cli;
    let group = crate::ui::group_arg(&t.resource_group_name, &t.resource_group_id);
    let reset = format!("{} --region {} -g {group}", ui.cmd("reset"), t.region);
    let prune = format!("{} --region {} -g {group}", ui.cmd("prune"), t.region);
    let key = t.key.as_ref().map_or_else(|| String::from("KEY_ID"), |k| k.id.to_string());
    let say = Text::from;
    // A target without clusters: no cluster uses its key, and a reset there is made only with
    // --include-empty (as a batch skips it). What to do about its key is the same whatever the
    // finding: remove it, or replace it before a cluster is created there.
    if t.clusters.is_empty() {
        let unlock = if t.key.as_ref().is_some_and(|k| k.locked) { " --unlock" } else { "" };
        let replace = say("No cluster uses this key: remove it (")
            .cmd(format!("{prune} --include-orphans{unlock}"))
            .plain("), or replace it as a functional ID before a cluster is created here (")
            .cmd(format!("{reset} --include-empty"))
            .plain(")");
        match code {
            Code::OwnerNotInAccount
            | Code::OwnerInactive
            | Code::OwnerLacksRoles
            | Code::KeyTooOld
            | Code::KeyDisabled
            | Code::KeyExpiring
            | Code::KeyExpired
            | Code::KeyLeakAction
            | Code::OwnerIsAccountOwner
            | Code::KeyLocked => return replace.plain("."),
            Code::PersonalOwner => {
                return replace.plain(
                    "; if this user is a functional ID, name it in the policy file's functional_ids (or pass --functional-id).",
                );
            }
            _ => {}
        }
    }
    match code {
        Code::NoKey => say("Create the key as a functional ID: ").cmd(&reset).plain("."),
        Code::OwnerNotInAccount | Code::OwnerInactive => {
            say("Reset the key now, as a functional ID, before the clusters break: ").cmd(&reset).plain(".")
        }
        Code::OwnerLacksRoles => {
            let id = t
                .owner
                .as_ref()
                .and_then(|o| o.iam_id.as_ref())
                .map_or_else(|| String::from("IAM_ID"), ToString::to_string);
            say("Grant them (")
                .cmd(format!(
                    "{} --region {} -g {group} --iam-id {id} --grant",
                    ui.admin_cmd("check"),
                    t.region
                ))
                .plain(") or reset as an identity that has them: ")
                .cmd(&reset)
                .plain(".")
        }
        Code::OwnerRolesUnknown => say(
            "Run status as an identity that may read other identities' access policies (the account owner, or Viewer on IAM Access Management), or ask an account administrator to check: ",
        )
        .cmd(format!(
            "{} --region {} -g {group} --iam-id {}",
            ui.admin_cmd("check"),
            t.region,
            t.owner
                .as_ref()
                .and_then(|o| o.iam_id.as_ref())
                .map_or_else(|| String::from("IAM_ID"), ToString::to_string)
        ))
        .plain("."),
        Code::OwnerUnknown => say(
            "Run status as a user with a User Management role (Viewer is enough) to see the owner's state, or ask an account administrator.",
        ),
        Code::KeyTooOld => say("Rotate it: ").cmd(&reset).plain("."),
        Code::PersonalOwner => say("Reset it as a functional ID or service ID (").cmd(&reset).plain(
            "); if this user is a functional ID, name it in the policy file's functional_ids (or pass --functional-id).",
        ),
        Code::KeyLocked => say(
            "A locked key cannot be deleted after a reset until it is unlocked; prune does both once it is superseded: ",
        )
        .cmd(format!("{prune} --unlock"))
        .plain("."),
        Code::KeyExpiring => say("Reset it before it expires: ").cmd(&reset).plain("."),
        Code::KeyExpired => say("Reset it now; the clusters cannot use an expired key: ").cmd(&reset).plain("."),
        Code::KeyLeakAction => say("If it leaks, respond at once, before IAM acts on it: ")
            .cmd(format!("{reset} --leaked"))
            .plain(" (reset, delete the leaked key, re-create the add-on pods)."),
        Code::OwnerIsAccountOwner => say("The account owner should own no API key (CIS 1.5): reset it as a functional ID or service ID: ")
            .cmd(&reset)
            .plain("."),
        Code::KeyDisabled => {
            say("Enable it (").cmd(ui.in_account(format!("{cli} iam api-key-enable {key}"))).plain(") or reset: ").cmd(&reset).plain(".")
        }
        Code::SupersededKeys => {
            let them = if t.superseded_keys.len() == 1 { "it" } else { "them" };
            Text::from(format!("Remove {them} once nothing uses {them} (prune checks that first): ")).cmd(&prune).plain(".")
        }
        Code::OrphanKey => say("No cluster uses it; remove it: ").cmd(format!("{prune} --include-orphans")).plain("."),
        Code::AcceptanceExpired => say(
            "Renew the acceptance in the policy file (a new 'until', and a reason that still holds), or fix the finding and remove the entry.",
        ),
        Code::OwnerNearKeyLimit => say("Remove obsolete keys first (")
            .cmd(ui.cmd("prune"))
            .plain("), spread the targets' keys across functional IDs, or ask IBM for a higher API key limit."),
        Code::ClusterCredentialFailure => {
            let check = format!("{} --read-clusters --region {} -g {group}", ui.cmd("status"), t.region);
            let then = |x: Text| {
                x.plain(" Then check what the clusters say (")
                    .cmd(&check)
                    .plain("): the new key reaches them in 10-15 minutes, and NHC009 clears within about 30.")
            };
            match f.points_at {
                Some(Culprit::Key) if t.key.is_none() => then(
                    say("No key is visible here to enable: create one as a functional ID: ").cmd(&reset).plain("."),
                ),
                Some(Culprit::Key) => then(
                    say("Enable the key if it is disabled (")
                        .cmd(ui.in_account(format!("{cli} iam api-key-enable {key}")))
                        .plain("), or reset it as a functional ID: ")
                        .cmd(&reset)
                        .plain("."),
                ),
                Some(Culprit::ClassicCredentials)
                    if t.classic_credentials.as_ref().is_some_and(|c| c.set == Some(true)) =>
                {
                    say("Set the classic infrastructure credentials again as a functional ID's infrastructure user (")
                        .cmd(format!("{} -g {}", ui.target_cmd(), t.resource_group_name))
                        .plain(", then ")
                        .cmd(format!(
                            "{cli} ks credential set classic --infrastructure-username USERNAME --infrastructure-api-key KEY --region {}",
                            t.region
                        ))
                        .plain("), or give their user the classic infrastructure permissions IBM lists for the clusters.")
                }
                Some(Culprit::ClassicCredentials) => say(
                    "Whether classic infrastructure credentials are set here could not be read; check them (",
                )
                .cmd(ui.in_account(format!("{cli} ks credential get --region {}", t.region)))
                .plain(") and the key owner's classic infrastructure permissions, or reset as a functional ID that has them: ")
                .cmd(&reset)
                .plain("."),
                _ => then(
                    say("Reset the key as a functional ID that is active and has the clusters' permissions: ")
                        .cmd(&reset)
                        .plain("."),
                ),
            }
        }
        // `credential get/set/unset` act on the targeted resource group, hence the target first.
        Code::ClassicCredentialsSet => say("A reset does not change them. Make sure their owner is a functional ID: ")
            .cmd(format!("{} -g {}", ui.target_cmd(), t.resource_group_name))
            .plain(", then ")
            .cmd(format!("{cli} ks credential get --region {}", t.region))
            .plain("."),
        Code::ClassicCredentialsOwnerGone => say("Set them again as a functional ID's infrastructure user (")
            .cmd(format!("{} -g {}", ui.target_cmd(), t.resource_group_name))
            .plain(", then ")
            .cmd(format!(
                "{cli} ks credential set classic --infrastructure-username USERNAME --infrastructure-api-key KEY --region {}",
                t.region
            ))
            .plain("), or remove them so that the API key orders the infrastructure (")
            .cmd(format!("{cli} ks credential unset --region {}", t.region))
            .plain("; IBM warns that classic clusters ordered with them may be orphaned)."),
    }
}

/// The "Key age" cell: the age, and the expiry of a key that has one (`40d, expires
/// 2026-12-16`; `expired 2026-11-01`; `expiry unknown` when it could not be read).
fn key_age_text(k: &cluster_api_key_core::model::KeyInfo) -> String {
    let age = k.age_days.map_or_else(|| String::from("-"), |d| format!("{d}d"));
    let date = k.expires.as_deref().map(|e| e.get(..10).unwrap_or(e));
    match (date, &k.expiry_unknown_reason) {
        (Some(d), _) if k.expired => format!("{age}, expired {d}"),
        (Some(d), _) => format!("{age}, expires {d}"),
        (None, Some(_)) => format!("{age}, expiry unknown"),
        _ => age,
    }
}

/// The report with the actions, and how to end.
pub(super) struct Report {
    pub(super) status: StatusReport,
    fail_on: FailOn,
    /// What `--baseline` did.
    baseline: Option<BaselineDone>,
    /// Actions per target, per finding, in the report's order.
    pub(super) actions: Vec<Vec<Text>>,
    /// `--owner`: each identity asked about, and what depends on it.
    owners: Option<Vec<Offboarding>>,
    /// `--all`: every target in the text, however many.
    all: bool,
    /// The command that shows them all: this one with `--all`.
    all_command: Text,
    /// `--severity`: the least severity the text shows (`None`: all).
    shown_severity: Option<Severity>,
    /// `--control`: the controls the report is limited to (none: every finding).
    pub(super) controls: Vec<&'static cluster_api_key_core::controls::Control>,
}

/// Above this many targets the text is a summary (see [`Report::text`]) unless `--all`.
const LARGE: usize = 40;

/// The commands that make a removal safe, in order: reset each target with clusters whose
/// current key they own (as a functional ID), replace their classic credentials, then prune
/// what is left of their keys. Each printed prune removes their keys as printed: with
/// `--include-orphans` where the target has no clusters (prune leaves those keys otherwise), and
/// `--unlock` where one of them is locked (prune skips locked keys otherwise), as a single
/// reset's follow-up does.
fn removal_plan(ui: &Ui, dependents: &[Dependent]) -> Vec<String> {
    let cli = &ui.cli;
    let mut plan = Vec::new();
    let flags = |d: &Dependent| {
        format!("--region {} -g {}", d.region, crate::ui::group_arg(&d.resource_group_name, &d.resource_group_id))
    };
    // A target without clusters is not reset: no cluster would use the new key.
    for d in dependents.iter().filter(|d| d.clusters > 0 && d.owns_current_key()) {
        plan.push(format!("{} {}", ui.cmd("reset"), flags(d)));
    }
    for d in dependents {
        if d.depends.iter().any(|x| matches!(x, Dependency::ClassicCredentials { .. })) {
            plan.push(format!("{} -g {}", ui.target_cmd(), d.resource_group_name));
            plan.push(format!(
                "{cli} ks credential set classic --infrastructure-username USERNAME --infrastructure-api-key KEY --region {}",
                d.region
            ));
        }
    }
    // IBM's steps after an owner leaves: refresh each cluster's master and re-create the
    // add-on pods, once the new key (or credentials) reached the clusters; before the old key
    // goes, so that nothing still reads it when it is deleted.
    for d in dependents.iter().filter(|d| d.clusters > 0) {
        if d.owns_current_key() || d.depends.iter().any(|x| matches!(x, Dependency::ClassicCredentials { .. })) {
            plan.push(format!("{} {} --refresh-masters", ui.cmd("restart-addons"), flags(d)));
        }
    }
    for d in dependents {
        if d.depends.iter().any(|x| !matches!(x, Dependency::ClassicCredentials { .. })) {
            let mut c = format!("{} {}", ui.cmd("prune"), flags(d));
            if d.clusters == 0 {
                c.push_str(" --include-orphans");
            }
            if d.has_locked_key() {
                c.push_str(" --unlock");
            }
            plan.push(c);
        }
    }
    plan
}

/// Who an identity is, in the owner report's words.
fn leaver_text(l: &Leaver) -> String {
    match (l.kind, &l.name, &l.email) {
        (Some(IdentityKind::ServiceId), Some(n), _) => format!("the service ID {n} ({})", l.iam_id),
        (_, _, Some(e)) => format!("{e} ({})", l.iam_id),
        _ => l.iam_id.to_string(),
    }
}

/// One thing that depends on them, in words (`service`: they are a service ID).
fn dependency_text(x: &Dependency, clusters: usize, service: bool) -> String {
    let deleted = if service {
        "IAM deletes a service ID's API keys with it"
    } else {
        "IBM deletes a removed user's API keys at once"
    };
    match x {
        Dependency::CurrentKey { key_id, locked } => {
            let key = format!(
                "the current key{}{}",
                key_id.as_ref().map(|k| format!(" {k}")).unwrap_or_default(),
                if *locked { " (locked)" } else { "" }
            );
            match clusters {
                0 => format!("{key}, which no cluster uses (there are none here): deleted with them; nothing breaks"),
                1 => format!("{key} of 1 cluster: {deleted}, and the cluster loses it"),
                n => format!("{key} of {n} clusters: {deleted}, and the {n} clusters lose it"),
            }
        }
        Dependency::SupersededKey { key_id, locked } => format!(
            "the superseded key {key_id}{}: deleted with them; nothing breaks unless something still uses it",
            if *locked { " (locked)" } else { "" }
        ),
        Dependency::ClassicCredentials { username } => format!(
            "the classic infrastructure credentials{} order the classic clusters' infrastructure",
            username.as_ref().map(|u| format!(" ({u})")).unwrap_or_default()
        ),
    }
}

/// What could not be read, in words, with where (`region / group: `) when it is one target's.
fn unknown_text(u: &Unknown) -> String {
    let what = match &u.unread {
        Unread::Identity { reason } => format!("whether they are in the account could not be told: {reason}"),
        Unread::OtherOwnersKeys { reason } => {
            format!("only your own API keys could be listed ({reason}): keys they own are not seen")
        }
        Unread::KeyOwner { reason } => format!("who owns the key the clusters use could not be read: {reason}"),
        Unread::KeyInUse { key_ids, reason } => format!(
            "{}: {} of theirs may be the one in use",
            reason,
            match key_ids.as_slice() {
                [one] => format!("the key {one}"),
                many => format!("the keys {}", many.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
            }
        ),
        Unread::ClassicCredentials { reason } => {
            format!("the classic infrastructure credentials could not be read: {reason}")
        }
        Unread::ClassicUser { username, reason } => format!(
            "the classic infrastructure credentials{} cannot be matched to them: {reason}",
            username.as_ref().map(|u| format!(" ({u})")).unwrap_or_default()
        ),
    };
    match (&u.region, &u.resource_group_name) {
        (Some(r), Some(g)) => format!("{r} / {g}: {what}"),
        _ => what,
    }
}

/// `--owner`: what depends on each identity, what could not be read, and the plan.
fn owners_text(ui: &Ui, owners: &[Offboarding]) {
    for o in owners {
        let who = leaver_text(&o.owner);
        let service = o.owner.kind == Some(IdentityKind::ServiceId);
        let (goes, removing) = if service { ("is deleted", "deleting it") } else { ("leaves", "removing them") };
        ui.say("");
        match o.answer {
            Answer::Nothing => {
                ui.say(&format!("Nothing depends on {who}: {removing} breaks no cluster's key or credentials."));
                continue;
            }
            Answer::Unknown => ui.say(&format!(
                "Whether anything depends on {who} is unknown: nothing was found, but not everything could be read:"
            )),
            Answer::Depends => {
                ui.say(&format!("Before {who} {goes}:"));
                for d in &o.dependents {
                    for x in &d.depends {
                        ui.say(&format!(
                            "  {} / {}: {}",
                            d.region,
                            d.resource_group_name,
                            dependency_text(x, d.clusters, service)
                        ));
                    }
                }
                if !o.unknown.is_empty() {
                    ui.say("More may depend on them: not everything could be read:");
                }
            }
        }
        for u in &o.unknown {
            ui.say(&format!("  {}", unknown_text(u)));
        }
        let plan = removal_plan(ui, &o.dependents);
        if !plan.is_empty() {
            ui.say("To make the removal safe, as a functional ID, in this order:");
            for c in plan {
                ui.say(Text::from("  ").cmd(c));
            }
        }
    }
}

fn state_text(s: &OwnerState) -> String {
    match s {
        OwnerState::Member { state } => state.clone(),
        OwnerState::NotInAccount => String::from("NOT IN ACCOUNT"),
        OwnerState::ServiceId { locked: false } => String::from("service ID"),
        OwnerState::ServiceId { locked: true } => String::from("service ID (locked)"),
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

/// One CSV cell before quoting. A cell that a spreadsheet would read as a formula (it begins
/// with `=`, `+`, `-`, `@`, a tab or a carriage return: OWASP's list) gets a leading `'`, so that
/// a name chosen by someone else cannot run in the auditor's spreadsheet. The `csv` crate then
/// quotes it as RFC 4180 says (only a cell with a comma, a quote or a line break). A negative
/// whole number (`-4` days to an expiry) is a number, not a formula, and stays as it is.
fn formula_safe(s: &str) -> std::borrow::Cow<'_, str> {
    let negative_number = s.strip_prefix('-').is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
    if !negative_number && s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}").into() } else { s.into() }
}

/// The CSV columns, in their documented order.
pub(super) const CSV_HEADER: [&str; 24] = [
    "region",
    "resourceGroup",
    "resourceGroupId",
    "clusters",
    "ownerName",
    "ownerEmail",
    "ownerIamId",
    "ownerState",
    "keyId",
    "keyCreated",
    "keyAgeDays",
    "supersededKeys",
    "findings",
    "worstSeverity",
    "accepted",
    "classicCredentials",
    "classicCredentialsUser",
    "classicCredentialsOwnerState",
    "keyExpires",
    "keyExpiresInDays",
    "keyActionWhenLeaked",
    "clustersReportingCredentialFailures",
    "clustersUnread",
    "controls",
];

/// The controls a target's findings evidence, each once, in the table's order (the CSV cell).
fn target_controls(t: &TargetStatus) -> String {
    cluster_api_key_core::controls::CONTROLS
        .iter()
        .filter(|c| t.findings.iter().any(|f| c.codes.contains(&f.code)))
        .map(|c| c.id)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The controls a finding evidences, by ID (JSON `controls`).
fn finding_controls(code: Code) -> Vec<&'static str> {
    cluster_api_key_core::controls::of(code).map(|c| c.id).collect()
}

impl Report {
    /// Target `i` of the JSON document, with the action of each finding.
    pub(super) fn json_item(&self, i: usize) -> Result<serde_json::Value, CommandError> {
        let mut t = to_json(&self.status.targets[i])?;
        if let Some(findings) = t.get_mut("findings").and_then(serde_json::Value::as_array_mut) {
            for ((f, a), finding) in findings.iter_mut().zip(&self.actions[i]).zip(&self.status.targets[i].findings) {
                f["action"] = serde_json::Value::from(a.to_plain());
                f["controls"] = serde_json::Value::from(finding_controls(finding.code));
            }
        }
        Ok(t)
    }

    /// The JSON document without its targets (an empty list in their place).
    pub(super) fn json_head(&self, ui: &Ui) -> Result<serde_json::Value, CommandError> {
        // The report itself without its targets, so that every other member keeps its name,
        // place and serde rules (a member added to the report is a compile error here).
        let StatusReport { account, caller, targets: _, summary, notes, policy, unseen_targets } = &self.status;
        let mut v = to_json(&StatusReport {
            account: account.clone(),
            caller: caller.clone(),
            targets: Vec::new(),
            summary: summary.clone(),
            notes: notes.clone(),
            policy: policy.clone(),
            unseen_targets: unseen_targets.clone(),
        })?;
        if let Some(b) = &self.baseline {
            v["baseline"] = serde_json::json!({
                "path": b.path.display().to_string(),
                "written": b.written,
                "until": b.until.as_str(),
                "accepted": to_json(&b.added)?,
                "notAccepted": to_json(&b.left_open)?,
            });
        }
        if let Some(owners) = &self.owners {
            v["owners"] = owners
                .iter()
                .map(|o| {
                    let mut v = to_json(o)?;
                    v["plan"] = removal_plan(ui, &o.dependents).into();
                    Ok(v)
                })
                .collect::<Result<Vec<_>, CommandError>>()?
                .into();
        }
        Ok(v)
    }
}

impl Render for Report {
    fn json(&self, ui: &Ui) -> Result<serde_json::Value, CommandError> {
        let mut v = self.json_head(ui)?;
        v["targets"] = (0..self.status.targets.len()).map(|i| self.json_item(i)).collect::<Result<Vec<_>, _>>()?.into();
        Ok(v)
    }

    fn json_listing(&self, ui: &Ui) -> Option<Result<crate::commands::Listing<'_>, CommandError>> {
        Some(self.json_head(ui).map(|head| crate::commands::Listing {
            head,
            key: "targets",
            len: self.status.targets.len(),
            item: Box::new(move |i| self.json_item(i)),
        }))
    }

    fn text(&self, ui: &Ui) {
        ui.ok();
        self.body_text(ui);
    }

    fn csv(&self) -> Option<Result<String, CommandError>> {
        Some(self.csv_text())
    }

    fn sarif(&self, ui: &Ui) -> Option<Result<serde_json::Value, CommandError>> {
        Some(Ok(crate::sarif::document(&self.status, &self.actions, &ui.me)))
    }

    fn junit(&self) -> Option<Result<String, CommandError>> {
        let account = crate::junit::Account { id: self.status.account.as_str(), name: None };
        Some(crate::junit::document(&[(account, crate::junit::Read::Report(self.junit_part()))], self.fail_on))
    }

    fn markdown(&self) -> Option<String> {
        let account = crate::markdown::Account { id: self.status.account.as_str(), name: None };
        let read = crate::markdown::Read::Report(&self.status, &self.actions);
        Some(crate::markdown::document(&[(account, read)], self.fail_on, self.exit_status() == ExitStatus::Findings))
    }

    fn status(&self) -> ExitStatus {
        self.exit_status()
    }
}

impl Report {
    /// What `-o junit` makes of this account's report.
    pub(super) fn junit_part(&self) -> crate::junit::Judged<'_> {
        crate::junit::Judged { report: &self.status, actions: &self.actions, controls: &self.controls }
    }

    /// The text after the `OK` line: each account's section of a many-account report.
    pub(super) fn body_text(&self, ui: &Ui) {
        let r = &self.status;
        if let Some(owners) = &self.owners {
            owners_text(ui, owners);
            return;
        }
        // A large account: the summary first, what is found how often, then only the targets
        // with findings, worst first, and what to do for the critical ones.
        let large = r.targets.len() > LARGE && !self.all;
        if large {
            self.summary_text(ui);
            self.by_finding_text(ui);
            ui.say("");
        }
        let shown: Vec<(&TargetStatus, &Vec<Text>)> = if large {
            let mut with: Vec<_> = r.targets.iter().zip(&self.actions).filter(|(t, _)| t.worst().is_some()).collect();
            with.sort_by_key(|(t, _)| std::cmp::Reverse(t.worst()));
            with
        } else {
            r.targets.iter().zip(&self.actions).collect()
        };
        if r.targets.is_empty() {
            ui.say("No region and resource group has clusters or a containers-kubernetes-key key.");
        } else {
            let rows: Vec<Vec<Text>> = shown
                .iter()
                .map(|(t, _)| {
                    vec![
                        Text::from(&t.region),
                        Text::from(&t.resource_group_name),
                        Text::from(t.clusters.len().to_string()),
                        Text::from(owner_text(t)),
                        Text::from(t.owner.as_ref().map_or_else(|| String::from("-"), |o| state_text(&o.state))),
                        Text::from(t.key.as_ref().map_or_else(|| String::from("-"), key_age_text)),
                        findings_cell(t, self.shown_severity),
                    ]
                })
                .collect();
            ui.table(&["Region", "Resource group", "Clusters", "Owner", "State", "Key age", "Findings"], &rows);
        }
        if large {
            let hidden = r.targets.len() - shown.len();
            ui.say("");
            let all = self.all_command.clone();
            ui.say(match hidden {
                0 => Text::from("Every target has findings; ").then(all).plain(" shows what to do for each."),
                n => Text::from(format!(
                    "{n} target{} without findings to fix {} not shown: ",
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "is" } else { "are" },
                ))
                .then(all)
                .plain(" shows every target and what to do for each."),
            });
        } else {
            self.summary_text(ui);
        }
        let profiled: Vec<String> = r
            .targets
            .iter()
            .flat_map(|t| {
                t.clusters.iter().filter_map(move |c| {
                    c.trusted_profile_id
                        .as_ref()
                        .map(|p| format!("{} ({} / {}, {p})", c.name, t.region, t.resource_group_name))
                })
            })
            .collect();
        if !profiled.is_empty() {
            ui.say("");
            ui.say(&format!(
                "Their storage and autoscaler use a trusted profile, not the API key (restart-addons leaves them alone): {}.",
                profiled.join(", ")
            ));
        }
        for note in &r.notes {
            ui.warn(note);
        }
        if let Some(p) = &r.policy {
            for u in &p.unused {
                ui.warn(&format!(
                    "The policy's acceptance at {u} matches no finding: remove it, or correct its target, key or owner."
                ));
            }
            for u in &p.unchecked {
                ui.warn(&format!(
                    "The policy's acceptance at {} could not be checked: {}. It may still accept a finding you cannot see; keep it.",
                    u.acceptance, u.reason
                ));
            }
        }
        if let Some(b) = &self.baseline {
            ui.say("");
            ui.say(&b.text());
        }
        self.accepted_text(ui);
        // What to fix: the open findings `--severity` shows (only critical ones in a summary).
        let least = if large { Some(Severity::Critical) } else { self.shown_severity };
        let fix = |f: &Finding| !f.accepted && least.is_none_or(|l| f.severity >= l);
        let with_findings: Vec<(&TargetStatus, &Vec<Text>)> =
            shown.into_iter().filter(|(t, _)| t.findings.iter().any(fix)).collect();
        if with_findings.is_empty() {
            return;
        }
        ui.say("");
        ui.say(if large { "What to fix first (the targets with critical findings):" } else { "What to fix:" });
        for (t, actions) in with_findings {
            ui.say("");
            ui.say(Text::new().name(&t.region).plain(" / ").name(&t.resource_group_name));
            for (f, a) in t.findings.iter().zip(actions).filter(|(f, _)| fix(f)) {
                let controls = finding_controls(f.code);
                let tags = if controls.is_empty() { String::new() } else { format!(" [{}]", controls.join(", ")) };
                ui.say(
                    Text::from("  ")
                        .severe(f.severity, serde_plain(f.code))
                        .plain(tags)
                        .plain(" (")
                        .severity(f.severity)
                        .plain(format!("): {}.", f.detail)),
                );
                ui.say(Text::from("    ").then(a));
            }
        }
    }

    pub(super) fn csv_text(&self) -> Result<String, CommandError> {
        // Into memory: a write there fails only on a bug.
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(CSV_HEADER).map_err(CommandError::internal)?;
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
                t.findings
                    .iter()
                    .filter(|f| !f.accepted)
                    .map(|f| f.severity)
                    .max()
                    .map(serde_plain)
                    .unwrap_or_default(),
                t.findings.iter().filter(|f| f.accepted).map(|f| serde_plain(f.code)).collect::<Vec<_>>().join(" "),
                // Appended, so that the documented order of the columns before them holds:
                // set, not-set, unknown (could not be read), or empty without classic clusters.
                t.classic_credentials.as_ref().map_or_else(String::new, |c| {
                    String::from(match c.set {
                        Some(true) => "set",
                        Some(false) => "not-set",
                        None => "unknown",
                    })
                }),
                t.classic_credentials.as_ref().and_then(|c| c.username.clone()).unwrap_or_default(),
                t.classic_credentials.as_ref().and_then(|c| c.owner_state.as_ref()).map(state_text).unwrap_or_default(),
                // Appended likewise: empty when the key never expires or has no key; `unknown`
                // when it could not be read.
                k.map_or_else(String::new, |k| match (&k.expires, &k.expiry_unknown_reason) {
                    (Some(at), _) => at.clone(),
                    (None, Some(_)) => String::from("unknown"),
                    (None, None) => String::new(),
                }),
                k.and_then(|k| k.expires_in_days).map(|d| d.to_string()).unwrap_or_default(),
                k.map_or_else(String::new, |k| k.action_when_leaked.clone().unwrap_or_else(|| String::from("unknown"))),
                // Appended too: the clusters whose own reports point at a credential, and those
                // whose reports could not be read (unknown, not fine); names space-separated.
                t.clusters
                    .iter()
                    .filter(|c| c.reports.as_ref().is_some_and(reports_failure))
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                t.clusters
                    .iter()
                    .filter(|c| c.reports.as_ref().is_some_and(|r| !r.unread.is_empty()))
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                // Appended likewise: the controls its findings evidence (accepted ones too).
                target_controls(t),
            ];
            out.write_record(fields.iter().map(|f| formula_safe(f).into_owned())).map_err(CommandError::internal)?;
        }
        out.into_inner()
            .map_err(|e| CommandError::internal(e.into_error()))
            .and_then(|bytes| String::from_utf8(bytes).map_err(CommandError::internal))
    }

    pub(super) fn exit_status(&self) -> ExitStatus {
        // `--owner` gates an offboarding checklist: 0 only when everything was read and nothing
        // depends on them; 3 when something does, or when what was not read leaves it unknown.
        if let Some(owners) = &self.owners {
            return if owners.iter().all(|o| o.answer == Answer::Nothing) {
                ExitStatus::Success
            } else {
                ExitStatus::Findings
            };
        }
        match (self.fail_on.threshold(), self.status.worst()) {
            (Some(t), Some(w)) if w >= t => ExitStatus::Findings,
            _ => ExitStatus::Success,
        }
    }
}

/// Whether a cluster's own reports point at a credential.
fn reports_failure(r: &cluster_api_key_core::model::ClusterReports) -> bool {
    r.health_issues.iter().flatten().any(|i| i.points_at.is_some())
        || r.worker_credential_messages.as_ref().is_some_and(|w| !w.is_empty())
}

/// The table's Findings cell: the codes that count (each in its severity's colour; with
/// `--severity`, those at or above it), how many below it are not shown, and how many the
/// policy accepts.
fn findings_cell(t: &TargetStatus, least: Option<Severity>) -> Text {
    let open: Vec<&Finding> = t.findings.iter().filter(|f| !f.accepted).collect();
    let (shown, hidden): (Vec<&Finding>, Vec<&Finding>) =
        open.into_iter().partition(|f| least.is_none_or(|l| f.severity >= l));
    let accepted = t.findings.iter().filter(|f| f.accepted).count();
    let mut cell = Text::new();
    for (i, f) in shown.iter().enumerate() {
        let sep = if i + 1 < shown.len() { "," } else { "" };
        cell = cell.severe(f.severity, serde_plain(f.code)).plain(format!("{sep} "));
    }
    let mut more = Vec::new();
    if !hidden.is_empty() {
        more.push(format!("{} not shown", hidden.len()));
    }
    if accepted > 0 {
        more.push(format!("{accepted} accepted"));
    }
    match (shown.is_empty(), more.is_empty()) {
        (true, true) => Text::from("-"),
        (true, false) => Text::from(format!("({})", more.join(", "))),
        (false, true) => cell,
        (false, false) => cell.plain(format!("(+{})", more.join(", +"))),
    }
}

/// `status` with the same targets and `--all`, quoted, when every value can be typed as it is;
/// else the words to add it.
fn all_command(ui: &Ui, args: &StatusArgs) -> Text {
    // Flags that change the findings would have to be repeated as typed: say it in words then.
    let other = args.max_age.is_some() || !args.functional_id.is_empty() || args.policy.is_some();
    if other || !args.targets.region.iter().chain(&args.targets.resource_group).all(|v| crate::ui::typable(v, ",")) {
        return Text::from("the same command with --all");
    }
    let mut c = ui.cmd("status");
    if !args.targets.region.is_empty() {
        c.push_str(&format!(" -r {}", args.targets.region.join(",")));
    }
    if !args.targets.resource_group.is_empty() {
        c.push_str(&format!(" -g {}", args.targets.resource_group.join(",")));
    }
    if let Some(s) = args.severity {
        c.push_str(&format!(" --severity {}", crate::ui::severity_word(s.into())));
    }
    Text::new().cmd(format!("{c} --all"))
}

impl Report {
    /// The line that counts targets and findings.
    fn summary_text(&self, ui: &Ui) {
        let s = &self.status.summary;
        ui.say("");
        // A count in its severity's colour when there is something to count.
        let counted = |text: Text, n: usize, severity: Severity, words: String| {
            if n > 0 { text.severe(severity, words) } else { text.plain(words) }
        };
        let line = Text::from(format!("{} target{}: ", s.targets, if s.targets == 1 { "" } else { "s" }));
        let line = counted(line, s.critical, Severity::Critical, format!("{} critical", s.critical)).plain(", ");
        let line = counted(
            line,
            s.warnings,
            Severity::Warning,
            format!("{} warning{}", s.warnings, if s.warnings == 1 { "" } else { "s" }),
        )
        .plain(", ");
        let line = counted(line, s.info, Severity::Info, format!("{} info", s.info)).plain(".");
        let line = if s.accepted > 0 { line.plain(format!(" {} accepted by the policy.", s.accepted)) } else { line };
        ui.say(line);
        if let Some(least) = self.shown_severity {
            let below: Vec<String> = [(Severity::Warning, s.warnings, "warning"), (Severity::Info, s.info, "info")]
                .into_iter()
                .filter(|(sev, n, _)| *sev < least && *n > 0)
                .map(|(_, n, word)| if word == "info" { format!("{n} info") } else { crate::ui::count(n, word) })
                .collect();
            if !below.is_empty() {
                ui.say(format!(
                    "Findings below {} are not shown (--severity {}): {}.",
                    crate::ui::severity_word(least),
                    crate::ui::severity_word(least),
                    below.join(" and ")
                ));
            }
        }
    }

    /// Each finding, its severity and on how many targets, worst first.
    fn by_finding_text(&self, ui: &Ui) {
        let mut counts: Vec<(Code, Severity, usize)> = Vec::new();
        let least = self.shown_severity;
        for f in self.status.targets.iter().flat_map(|t| &t.findings).filter(|f| !f.accepted) {
            if least.is_some_and(|l| f.severity < l) {
                continue;
            }
            match counts.iter_mut().find(|(c, _, _)| *c == f.code) {
                Some((_, _, n)) => *n += 1,
                None => counts.push((f.code, f.severity, 1)),
            }
        }
        if counts.is_empty() {
            return;
        }
        counts.sort_by_key(|(c, sev, n)| (std::cmp::Reverse(*sev), std::cmp::Reverse(*n), serde_plain(*c)));
        let rows: Vec<Vec<Text>> = counts
            .iter()
            .map(|(c, sev, n)| vec![Text::from(serde_plain(*c)), Text::new().severity(*sev), Text::from(n.to_string())])
            .collect();
        ui.say("");
        ui.table(&["Finding", "Severity", "Targets"], &rows);
    }

    /// The findings the policy accepts: shown with their reason and date, apart from what to fix.
    fn accepted_text(&self, ui: &Ui) {
        let r = &self.status;
        let accepted: Vec<(&TargetStatus, &Finding)> =
            r.targets.iter().flat_map(|t| t.findings.iter().filter(|f| f.accepted).map(move |f| (t, f))).collect();
        if accepted.is_empty() {
            return;
        }
        ui.say("");
        match r.policy.as_ref().and_then(|p| p.path.as_deref()) {
            Some(path) => ui.say(Text::from("Accepted by the policy ('").id(path).plain("'):")),
            None => ui.say("Accepted by the policy:"),
        }
        for (t, f) in accepted {
            let Some(a) = &f.acceptance else { continue };
            let by = a.by.as_ref().map(|b| format!(", by {b}")).unwrap_or_default();
            ui.say(Text::from("  ").name(&t.region).plain(" / ").name(&t.resource_group_name).plain(format!(
                "  {}: {}.",
                serde_plain(f.code),
                f.detail
            )));
            ui.say(format!("    until {}{by}: {}", a.until, a.reason));
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
        Self(ui.progress_bar(
            Some(0),
            &[
                "{spinner} Checking {pos}/{len} targets {wide_bar} {per_sec}, about {eta} left",
                "{spinner} Checking {pos}/{len} targets {wide_bar}",
                "{spinner} {pos}/{len} {wide_bar}",
            ],
        ))
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
pub async fn run(here: &Here, ui: &Ui, settings: StatusSettings<'_>) -> Result<Box<dyn Render>, CommandError> {
    // The targets and the policy were resolved before any request (settings.rs); the
    // baseline's file and what it adds to are read and checked before any request too.
    let StatusSettings { args, policy, options: mut opts, whole_account, fail_on } = settings;
    // The policy's functional IDs of this account only (`{ id, account }`).
    if !policy.account_functional_ids.is_empty() {
        let account = here.session.caller().await?.account;
        opts.functional_ids.extend(policy.functional_ids_of(account.as_str()).cloned());
    }
    let base = match &args.baseline {
        // On another account than the targeted one, its entries name the account.
        Some(path) => Some(BaseFile::open(path, &policy, args.force, ui.account.is_some())?),
        None => None,
    };
    // `--owner`: the identities first, so that one the account does not know is refused before
    // the account is read (and never answered "nothing depends on it").
    let mut leavers = Vec::with_capacity(args.owner.len());
    if !args.owner.is_empty() {
        let caller = here.session.caller().await?;
        for query in &args.owner {
            leavers.push(offboard::resolve(&here.session, &caller, query).await.map_err(owner_refused)?);
        }
    }
    ui.progress("Reading the account's clusters, API keys and owners...");
    let bar = Bar::new(ui);
    let read = status::status_and_facts(&here.session, &opts, &bar).await;
    bar.0.finish_and_clear();
    Ok(Box::new(judge(ui, args, &policy, whole_account, fail_on, base, leavers, read?).await?))
}

/// The report of one account as read: the policy applied, the baseline added, what to do
/// about each finding.
#[allow(clippy::too_many_arguments, reason = "the parts of status's settings one account needs")]
pub(super) async fn judge(
    ui: &Ui,
    args: &StatusArgs,
    policy: &Policy,
    whole_account: bool,
    fail_on: FailOn,
    base: Option<BaseFile>,
    leavers: Vec<Leaver>,
    read: (StatusReport, Vec<cluster_api_key_core::ops::discovery::TargetFacts>),
) -> Result<Report, CommandError> {
    let (mut report, facts) = read;
    word_settings(&mut report);
    // The report as read, before any policy judged it: a baseline judges it again.
    let read = base.as_ref().map(|_| report.clone());
    if policy.path.is_some() {
        policy.apply(&mut report, &Date::today(), whole_account);
    }
    let mut baseline = None;
    if let (Some(base), Some(read)) = (base, read) {
        let (done, judged) = base.add(ui, read, args.baseline_critical, whole_account).await?;
        if let Some(judged) = judged {
            report = judged;
        }
        baseline = Some(done);
    }
    if !args.control.is_empty() {
        cluster_api_key_core::controls::limit(&mut report, &args.control);
    }
    let actions = report.targets.iter().map(|t| t.findings.iter().map(|f| action(f, t, ui)).collect()).collect();
    let owners = (!args.owner.is_empty())
        .then(|| leavers.into_iter().map(|l| offboard::offboarding(&report, &facts, l)).collect());
    let shown_severity = args.severity.map(Severity::from);
    let all_command = all_command(ui, args);
    Ok(Report {
        status: report,
        fail_on,
        baseline,
        actions,
        owners,
        all: args.all,
        all_command,
        shown_severity,
        controls: args.control.clone(),
    })
}

/// Words the part of each finding's detail that is about the user's settings, with the flags
/// that set them (the core names none): before anything prints, JSON and CSV alike.
fn word_settings(report: &mut StatusReport) {
    for f in report.targets.iter_mut().flat_map(|t| &mut t.findings) {
        if let Some(SettingsPart::NoFunctionalIdNames { who }) = &f.settings {
            f.detail = format!(
                "{who} is taken for a person: a user that neither --functional-id nor the policy's functional_ids names (by IAM ID, or by the email the account has on record)"
            );
        }
    }
}

/// An `--owner` that names no identity of the account (or several), with what `--owner` takes.
fn owner_refused(e: cluster_api_key_core::Error) -> CommandError {
    use cluster_api_key_core::Error as E;
    let (named, unknown_email) =
        (matches!(e, E::UnknownUser(_) | E::BadIdentity(_) | E::NotPlainEmail { .. }), matches!(e, E::UnknownUser(_)));
    let mut err = CommandError::from(e);
    if unknown_email {
        err = err.with_hint(
            "Someone already removed from the account is not found by email: 'status' shows what they left behind (owner-not-in-account, classic-credentials-owner-gone).",
        );
    }
    if named {
        err = err.with_hint(
            "--owner takes an email, a user's IAM ID (IBMid-..., in any case), a service ID (iam-ServiceId-... or ServiceId-...) or a service ID's name.",
        );
    }
    err
}

/// How long a baseline accepts today's findings.
const BASELINE_DAYS: u64 = 90;

/// What `--baseline` did: where, whether it wrote, and what it accepts.
struct BaselineDone {
    path: std::path::PathBuf,
    written: bool,
    /// The file existed before: added to, not created.
    existed: bool,
    until: Date,
    added: cluster_api_key_core::policy::Counts,
    left_open: cluster_api_key_core::policy::Counts,
}

impl BaselineDone {
    /// The line that says what was written and what it accepts, each severity counted.
    fn text(&self) -> String {
        let a = &self.added;
        let counts = format!("{} critical, {}, {} info", a.critical, crate::ui::count(a.warnings, "warning"), a.info);
        let path = self.path.display();
        let open = match self.left_open.critical {
            0 => String::new(),
            n => format!(
                " {} not accepted: fix {}, or accept {} too with --baseline-critical.",
                crate::ui::count(n, "critical finding"),
                if n == 1 { "it" } else { "them" },
                if n == 1 { "it" } else { "them" }
            ),
        };
        let what = if self.existed { "Added to the baseline" } else { "Wrote the baseline" };
        match (self.written, a.total()) {
            (false, 0) => format!("The baseline '{path}' already accepts every finding it may: nothing to add.{open}"),
            (false, n) => format!(
                "Did not write the baseline '{path}': nothing was changed ({} would have been accepted).",
                crate::ui::count(n, "more finding")
            ),
            (true, n) => format!(
                "{what} '{path}': it accepts {} until {} ({counts}).{open} Review it, then use it with --policy (or as policy.toml in the plugin's folder).",
                crate::ui::count(n, "more finding"),
                self.until
            ),
        }
    }
}

/// The file `--baseline` writes, and the policy text it adds to: the file itself when it exists
/// (a symbolic link is followed: its target is written), else the policy in force.
pub(super) struct BaseFile {
    /// As the user named it.
    path: std::path::PathBuf,
    /// What is written: the link's target, or `path`.
    real: std::path::PathBuf,
    /// The existing file's permissions, kept.
    permissions: Option<std::fs::Permissions>,
    /// The text added to.
    text: String,
    /// `text` as a policy: what is already accepted.
    policy: Policy,
    /// `-f`: add to an existing file without asking.
    force: bool,
    /// Each entry names the report's account (`account = "ID"`).
    scoped: bool,
}

impl BaseFile {
    pub(super) fn open(
        path: &std::path::Path,
        in_force: &Policy,
        force: bool,
        scoped: bool,
    ) -> Result<Self, CommandError> {
        use std::io::IsTerminal as _;
        let fail =
            |why: String| CommandError::failed(format!("Cannot write the baseline '{}': {why}.", path.display()));
        let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        let real = if link {
            std::fs::canonicalize(path)
                .map_err(|_| fail(String::from("it is a symbolic link to a file that does not exist")))?
        } else {
            path.to_owned()
        };
        let (text, permissions) = match std::fs::metadata(&real) {
            Ok(meta) => {
                let text = cluster_api_key_core::policy::read_text(&real)?;
                if !force && !std::io::stdin().is_terminal() {
                    return Err(CommandError::failed(format!(
                        "The baseline '{}' exists: adding to it needs a confirmation, and no terminal is attached to give it.",
                        path.display()
                    ))
                    .with_hint("Run the command again with -f to add to it without a prompt."));
                }
                (text, Some(meta.permissions()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match &in_force.path {
                Some(p) => (cluster_api_key_core::policy::read_text(p)?, None),
                None => (String::new(), None),
            },
            Err(e) => return Err(fail(e.to_string())),
        };
        let policy = Policy::parse(&text, Some(&real))?;
        Ok(Self { path: path.to_owned(), real, permissions, text, policy, force, scoped })
    }

    /// Adds the open findings of `read` (judged by this file's policy), asks before writing
    /// over an existing file, writes, and returns the report judged by what was written (what
    /// counts from now on, as the next run will see it); `None` when nothing was written.
    async fn add(
        self,
        ui: &Ui,
        read: StatusReport,
        critical: bool,
        whole_account: bool,
    ) -> Result<(BaselineDone, Option<StatusReport>), CommandError> {
        let today = Date::today();
        let mut judged = read.clone();
        self.policy.apply(&mut judged, &today, whole_account);
        let by = read.caller.display.clone();
        let b = cluster_api_key_core::policy::baseline(&self.text, &judged, BASELINE_DAYS, &by, critical, self.scoped);
        let existed = self.permissions.is_some();
        let mut done = BaselineDone {
            path: self.path.clone(),
            written: false,
            existed,
            until: b.until.clone(),
            added: b.added,
            left_open: b.left_open,
        };
        if existed && b.added.total() == 0 {
            // Nothing to write: the file as it is judges the report.
            return Ok((done, Some(judged)));
        }
        // What is written must read back: checked before anything is written.
        let written = Policy::parse(&b.text, Some(&self.real)).map_err(|e| {
            CommandError::failed(format!(
                "Cannot add to the policy '{}': the result would not read ({e}). Write its acceptances as [[accept]] tables, one per entry.",
                self.path.display()
            ))
        })?;
        if existed && !self.force {
            let a = &b.added;
            let question = format!(
                "Add {} ({} critical, {}, {} info) to the policy '{}', accepted until {}?",
                crate::ui::count(a.total(), "acceptance"),
                a.critical,
                crate::ui::count(a.warnings, "warning"),
                a.info,
                self.path.display(),
                b.until
            );
            if !ui.confirm(&question).await? {
                // `written: false` with what it would have accepted: "Did not write".
                return Ok((done, None));
            }
        }
        write_whole(&self.real, &b.text, self.permissions.as_ref())?;
        done.written = true;
        let mut report = read;
        written.apply(&mut report, &today, whole_account);
        Ok((done, Some(report)))
    }
}

/// Writes `text` whole or not at all: a hidden temporary file beside it, flushed to disk, then
/// renamed over it (the old file stays intact until the rename; the temporary file exists only
/// for that moment, and is removed on any error). `permissions`: the old file's, kept; a new
/// file gets the usual 0644 less the umask, not the temporary file's 0600.
fn write_whole(
    path: &std::path::Path,
    text: &str,
    permissions: Option<&std::fs::Permissions>,
) -> Result<(), CommandError> {
    use std::io::Write as _;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let fail = |e: &dyn std::fmt::Display| {
        CommandError::failed(format!("Could not write the baseline '{}': {e}", path.display()))
    };
    let name = path.file_name().map_or_else(|| String::from("baseline"), |n| n.to_string_lossy().into_owned());
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    let new_mode = {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::Permissions::from_mode(0o666)
    };
    #[cfg(unix)]
    if permissions.is_none() {
        // Applied at creation, so the umask applies as it does to any new file.
        builder.permissions(new_mode);
    }
    let mut tmp = builder.tempfile_in(dir).map_err(|e| fail(&e))?;
    if let Some(p) = permissions {
        tmp.as_file().set_permissions(p.clone()).map_err(|e| fail(&e))?;
    }
    tmp.write_all(text.as_bytes()).map_err(|e| fail(&e))?;
    tmp.as_file().sync_all().map_err(|e| fail(&e))?;
    tmp.persist(path).map_err(|e| fail(&e.error))?;
    Ok(())
}
