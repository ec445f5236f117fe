//! `check`: the permission pre-flight, for the caller or another identity, and `--grant` to
//! create what is missing. Core evaluates ([`check::check`]); this module renders each
//! requirement with the exact `ibmcloud iam ...-policy-create` command that would satisfy it.

use cluster_api_key_core::Error as CoreError;
use cluster_api_key_core::ops::check::{
    self, ByHand, CheckReport, Grant, GrantResult, InviteOutcome, InvitePlan, InviteResult, PlannedGrant, Remedy,
    State, Subject, Written,
};
use cluster_api_key_core::types::IdentityKind;
use serde_json::Value;

use super::{ExitStatus, Here, Render};
use crate::cli::CheckArgs;
use crate::error::{CommandError, to_json};
use crate::settings::CheckSettings;
use crate::ui::{Stream, Ui};

/// The `ibmcloud iam` command that grants `g` to the identity.
pub fn grant_command(ui: &Ui, report: &CheckReport, g: &Grant) -> String {
    let who = &report.identity;
    let (verb, name) = match who.kind {
        Some(IdentityKind::ServiceId) => {
            ("service-policy-create", who.iam_id.as_str().trim_start_matches("iam-").to_owned())
        }
        Some(IdentityKind::TrustedProfile) => ("trusted-profile-policy-create", who.iam_id.to_string()),
        _ => ("user-policy-create", who.display.clone()),
    };
    let mut c = format!("{} iam {verb} {name} --roles {}", ui.cli, g.roles.first().cloned().unwrap_or_default());
    if let Some(t) = &g.resource_type {
        c.push_str(&format!(" --resource-type {t}"));
        if let Some(id) = &g.resource_group_id {
            c.push_str(&format!(" --resource {id}"));
        }
    } else {
        if let Some(s) = &g.service {
            c.push_str(&format!(" --service-name {s}"));
        }
        if let Some(r) = &g.region {
            c.push_str(&format!(" --region {r}"));
        }
        if let Some(n) = &g.resource_group_name {
            c.push_str(&format!(" --resource-group-name {n}"));
        }
    }
    c
}

/// The state of a requirement in a few words, and its detail line.
/// `many`: the requirement is judged for several targets (a batch, or a check of many).
pub fn state_text(ui: &Ui, report: &CheckReport, s: &State, many: bool) -> (&'static str, String) {
    match s {
        State::Met { by } => ("met", by.clone()),
        State::Missing { grant: Some(g), .. } => ("missing", format!("'{}'", grant_command(ui, report, g))),
        State::Missing { grant: None, detail, remedy } => ("missing", missing_text(ui, detail, *remedy, many)),
        State::Unknown { reason } => ("unknown", reason.clone()),
        State::NotCheckable { how } => ("not checkable", how_line(how, ui)),
    }
}

/// Why a requirement no grant satisfies is missing, and what else would satisfy it, in words;
/// splitting across functional IDs is a way out only for several targets.
fn missing_text(ui: &Ui, detail: &str, remedy: Option<Remedy>, many: bool) -> String {
    match remedy {
        None => detail.to_owned(),
        Some(Remedy::MakeRoomForKeys) if many => format!(
            "{detail}. Remove obsolete keys first ('{}'), split the targets across functional IDs, or ask IBM for a higher API key limit",
            ui.cmd("prune")
        ),
        Some(Remedy::MakeRoomForKeys) => format!(
            "{detail}. Remove obsolete keys first ('{}'), reset as another functional ID, or ask IBM for a higher API key limit",
            ui.cmd("prune")
        ),
    }
}

/// How to check by hand what IAM cannot tell: the words before the command, and the command
/// (the host's, with the account targeted first on another account than the targeted one).
fn by_hand(how: &ByHand, ui: &Ui) -> (&'static str, String) {
    let cli = &ui.cli;
    match how {
        ByHand::ClassicInfraPermissions { region } => (
            "classic infrastructure permissions are not in IAM; check them with ",
            ui.in_account(format!("{cli} ks infra-permissions get --region {region}")),
        ),
    }
}

/// [`by_hand`] as one line, the command quoted.
fn how_line(how: &ByHand, ui: &Ui) -> String {
    let (words, command) = by_hand(how, ui);
    format!("{words}'{command}'")
}

/// [`by_hand`] for a terminal: the command styled whole, as a command.
fn how_text(how: &ByHand, ui: &Ui) -> crate::ui::Text {
    let (words, command) = by_hand(how, ui);
    crate::ui::Text::from(words).cmd(command)
}

/// Prints the requirements, per target.
pub fn report_text(ui: &Ui, report: &CheckReport) {
    for t in &report.targets {
        ui.say("");
        ui.say(crate::ui::Text::new().name(t.target.region.as_str()).plain(" / ").name(&t.target.resource_group.name));
        let rows: Vec<Vec<String>> = t
            .requirements
            .iter()
            .map(|r| {
                let (state, _) = state_text(ui, report, &r.state, report.targets.len() > 1);
                let purpose = match r.purpose {
                    check::Purpose::Reset => "to reset",
                    check::Purpose::Own => "to own the key",
                };
                vec![r.what.clone(), purpose.to_owned(), state.to_owned()]
            })
            .collect();
        ui.table_to(Stream::Out, 2, &["Requirement", "For", "State"], &rows);
        // Each requirement's detail: what meets it (the policy, through which access group),
        // or what would, or why it is not known.
        for r in &t.requirements {
            let (state, detail) = state_text(ui, report, &r.state, report.targets.len() > 1);
            let line = crate::ui::Text::from(format!("  {} ({state}): ", r.code));
            // The grant is a command to run: styled as one, whole.
            ui.say(match &r.state {
                State::Missing { grant: Some(g), .. } => line.cmd(grant_command(ui, report, g)),
                State::NotCheckable { how } => line.then(how_text(how, ui)),
                _ => line.plain(crate::ui::one_line(&detail)),
            });
        }
    }
}

fn with_commands(ui: &Ui, report: &CheckReport) -> Result<Value, CommandError> {
    let mut v = report_head(report)?;
    v["targets"] = (0..report.targets.len()).map(|i| target_json(ui, report, i)).collect::<Result<Vec<_>, _>>()?.into();
    Ok(v)
}

/// The report's document without its targets (an empty list in their place).
fn report_head(report: &CheckReport) -> Result<Value, CommandError> {
    // The report itself without its targets: every other member as serde writes it (a member
    // added to the report is a compile error here).
    let CheckReport { account, identity, targets: _ } = report;
    to_json(&CheckReport { account: account.clone(), identity: identity.clone(), targets: Vec::new() })
}

/// Target `i` of the report's document, each requirement with the command that grants it, or
/// how to check it.
fn target_json(ui: &Ui, report: &CheckReport, i: usize) -> Result<Value, CommandError> {
    let tc = &report.targets[i];
    let mut t = to_json(tc)?;
    if let Some(reqs) = t["requirements"].as_array_mut() {
        for (r, rc) in reqs.iter_mut().zip(&tc.requirements) {
            match &rc.state {
                State::Missing { grant: Some(g), .. } => {
                    r["command"] = Value::from(grant_command(ui, report, g));
                }
                State::NotCheckable { how } => r["how"] = Value::from(how_line(how, ui)),
                _ => {}
            }
        }
    }
    Ok(t)
}

/// The requirements of an invitation's targets, each one that cannot be checked through IAM
/// with how to check it, in words (as [`target_json`] gives them for a check).
fn requirements_json(ui: &Ui, targets: &[check::TargetCheck]) -> Result<Value, CommandError> {
    let mut v = to_json(&targets)?;
    for (t, tc) in v.as_array_mut().into_iter().flatten().zip(targets) {
        for (r, rc) in t["requirements"].as_array_mut().into_iter().flatten().zip(&tc.requirements) {
            if let State::NotCheckable { how } = &rc.state {
                r["how"] = Value::from(how_line(how, ui));
            }
        }
    }
    Ok(v)
}

/// The line under `Identity:` for a user who is in the account but cannot log in.
fn inactive_text(ui: &Ui, report: &CheckReport) {
    if let Some(state) = &report.identity.inactive_state {
        let why = if state == "PENDING" || state == "PROCESSING" {
            "invited, and the invitation is not accepted yet"
        } else {
            "not an active member of the account"
        };
        ui.say(&format!(
            "This user's state in the account is {state} ({why}): it cannot log in, so it cannot reset whatever its policies."
        ));
    }
}

/// A service as IBM's console names it, with the name a policy uses: "VPC Infrastructure
/// Services (is)", never a bare "is".
fn service_words(service: &str) -> String {
    let display = match service {
        "containers-kubernetes" => "Kubernetes Service",
        "is" => "VPC Infrastructure Services",
        "iam-identity" => "IAM Identity",
        "iam-access-management" => "IAM Access Management",
        "iam-groups" => "IAM Access Groups",
        "user-management" => "User Management",
        "billing" => "Billing",
        _ => return format!("service {service}"),
    };
    format!("{display} ({service})")
}

/// A grant in words, for a policy that is part of an invitation (there is no command to show:
/// the invitation creates it).
fn grant_words(g: &Grant) -> String {
    let role = g.roles.first().map_or("", String::as_str);
    match (&g.resource_type, &g.service) {
        (Some(_), _) => format!("{role} on resource group {}", g.resource_group_name.as_deref().unwrap_or("(all)")),
        (None, Some(s)) => match (&g.region, &g.resource_group_name) {
            (Some(r), Some(n)) => format!("{role} on {} in {r}, resource group {n}", service_words(s)),
            _ => format!("{role} on {}, in every region and resource group", service_words(s)),
        },
        (None, None) => format!("{role} on every service"),
    }
}

/// `1 policy`, `2 policies`.
fn policies(n: usize) -> String {
    if n == 1 { String::from("1 policy") } else { format!("{n} policies") }
}

/// How printed commands name the identity a report is about: `--user EMAIL` when it was named
/// so (the email then names exactly one user) and can be typed as it is, else `--iam-id`,
/// which always names exactly one. `None` when neither can be printed safely.
fn identity_flag(user: Option<&str>, report: &CheckReport) -> Option<String> {
    match user.map(str::trim) {
        Some(u) if crate::ui::typable(u, "@+") => Some(format!("--user {u}")),
        _ => {
            let id = report.identity.iam_id.as_str();
            crate::ui::typable(id, "").then(|| format!("--iam-id {id}"))
        }
    }
}

/// The `check` command, as an account administrator runs it, for the identity and targets of
/// `report` (`tail`: `--grant`, or nothing): it checks the same regions and groups, each
/// region with each group, as `check` takes them.
fn check_command(ui: &Ui, report: &CheckReport, flag: &str, tail: &str) -> String {
    let (mut regions, mut groups): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
    for t in &report.targets {
        let g = crate::ui::group_arg(&t.target.resource_group.name, t.target.resource_group.id.as_str());
        if !regions.contains(&t.target.region.as_str()) {
            regions.push(t.target.region.as_str());
        }
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    let admin = ui.admin_cmd("check");
    format!("{admin} --region {} -g {} {flag}{tail}", regions.join(","), groups.join(","))
}

/// `check --user EMAIL --grant --invite` for an email that is not in the account: the plan,
/// what the invitation did, and the check of the invited user after it.
struct Invitation {
    plan: InvitePlan,
    dry_run: bool,
    /// What the invitation came to; `None`: a dry run, or the question was declined.
    invited: Option<InviteOutcome>,
    /// The check after the invitation, or why it could not be made.
    after: Option<Result<CheckReport, String>>,
}

impl Invitation {
    /// The word for what happened, as JSON gives it.
    fn outcome_word(&self) -> &'static str {
        match &self.invited {
            None if self.dry_run => "dryRun",
            None => "declined",
            Some(i) => match i.result {
                InviteResult::Invited { .. } => "invited",
                InviteResult::Failed { .. } => "failed",
                InviteResult::Unknown { .. } => "unknown",
            },
        }
    }
}

impl Render for Invitation {
    fn json(&self, ui: &Ui) -> Result<Value, CommandError> {
        let after = match &self.after {
            Some(Ok(r)) => with_commands(ui, r)?,
            Some(Err(why)) => serde_json::json!({"unknownReason": why}),
            None => Value::Null,
        };
        let (invited, reason) = match &self.invited {
            Some(InviteOutcome { email, policies, result: InviteResult::Invited { iam_id, state, overruled } }) => (
                serde_json::json!({
                    "email": email, "iamId": iam_id, "state": state, "policies": policies,
                    "overruledAnswer": overruled,
                }),
                None,
            ),
            Some(InviteOutcome {
                result: InviteResult::Failed { reason } | InviteResult::Unknown { reason }, ..
            }) => (Value::Null, Some(reason.clone())),
            None => (Value::Null, None),
        };
        Ok(serde_json::json!({
            "account": self.plan.account,
            "invite": {
                "email": self.plan.email,
                "dryRun": self.dry_run,
                "outcome": self.outcome_word(),
                "reason": reason,
                "planned": to_json(&self.plan.policies)?,
                "requirements": requirements_json(ui, &self.plan.targets)?,
                "invited": invited,
            },
            "after": after,
        }))
    }

    fn text(&self, ui: &Ui) {
        let n = self.plan.policies.len();
        let email = crate::ui::one_line(&self.plan.email);
        let Some(outcome) = &self.invited else {
            if self.dry_run {
                ui.ok();
                ui.say(&format!("{email} is not a user of the account."));
                ui.say(&format!("Dry run: it would be invited with {}; nothing was changed:", policies(n)));
                invitation_policies(ui, &self.plan);
            } else {
                // Declined: no `OK` (nothing asked for was done); the plan was shown just
                // before the question.
                ui.say(&format!("{email} was not invited; nothing was changed."));
            }
            return;
        };
        let look = format!(
            "'{} --user {email} --region {} -g {}'",
            ui.admin_cmd("check"),
            self.plan.targets.iter().map(|t| t.target.region.as_str()).fold(Vec::new(), dedup).join(","),
            self.plan
                .targets
                .iter()
                .map(|t| crate::ui::group_arg(&t.target.resource_group.name, t.target.resource_group.id.as_str()))
                .fold(Vec::new(), dedup)
                .join(",")
        );
        match &outcome.result {
            InviteResult::Invited { iam_id, state, overruled } => {
                ui.ok();
                let id = iam_id.as_ref().map(|id| format!(" ({id})")).unwrap_or_default();
                ui.say(&format!("Invited {email}{id} with {}; its state is {state}.", policies(n)));
                if let Some(a) = overruled {
                    ui.say(&format!("(The answer was an error ({a}), but the user is in the account now.)"));
                }
                ui.say(&format!(
                    "The invitation must be accepted (IBM emails it) before {email} can log in and reset; until then its policies are in place but unused."
                ));
            }
            InviteResult::Failed { reason } => ui.failed(
                &CommandError::failed(format!("{email} was not invited: {reason}."))
                    .with_hint("Nothing was changed: no invitation and no policy."),
            ),
            InviteResult::Unknown { reason } => ui.failed(
                &CommandError::failed(format!("Whether {email} was invited is unknown: {reason}.")).with_hint(
                    if crate::ui::typable(&self.plan.email, "@+") {
                        format!(
                            "Look before inviting again (this tells whether the user is in the account now): {look}."
                        )
                    } else {
                        String::from("Look whether the user is in the account now before inviting again.")
                    },
                ),
            ),
        }
        match &self.after {
            Some(Ok(after)) => {
                ui.say("");
                ui.say("The check after the invitation:");
                Outcome { report: after.clone(), flag: Some(format!("--user {email}")), granting: None }.text_body(ui);
            }
            Some(Err(why)) => ui.say(&format!("The invited user could not be checked after the invitation: {why}.")),
            None => {}
        }
    }

    /// 3: the user cannot reset yet, invited or not; 1 when the invitation failed, 5 when
    /// whether it went out is unknown.
    fn status(&self) -> ExitStatus {
        match self.invited.as_ref().map(|i| &i.result) {
            Some(InviteResult::Failed { .. }) => ExitStatus::Failed,
            Some(InviteResult::Unknown { .. }) => ExitStatus::Unknown,
            _ => ExitStatus::Findings,
        }
    }
}

/// Appends `s` to `v` unless it is there already (a fold step).
fn dedup<'a>(mut v: Vec<&'a str>, s: &'a str) -> Vec<&'a str> {
    if !v.contains(&s) {
        v.push(s);
    }
    v
}

/// The policies of an invitation, each with its target, and the requirements it cannot meet.
fn invitation_policies(ui: &Ui, plan: &InvitePlan) {
    for p in &plan.policies {
        ui.say(&format!("  {} ({})", crate::ui::one_line(&grant_words(&p.grant)), p.code));
    }
    let many = plan.targets.len() > 1;
    for t in &plan.targets {
        for r in &t.requirements {
            let (state, detail) = match &r.state {
                State::Missing { grant: Some(_), .. } | State::Met { .. } => continue,
                State::Missing { grant: None, detail, remedy } => ("missing", missing_text(ui, detail, *remedy, many)),
                State::Unknown { reason } => ("unknown", reason.clone()),
                State::NotCheckable { how } => ("not checkable", how_line(how, ui)),
            };
            ui.say(&format!(
                "  Not covered by the invitation, {} / {}: {} ({state}): {detail}",
                t.target.region, t.target.resource_group.name, r.code
            ));
        }
    }
}

/// What `--grant` came to.
enum Stage {
    /// `--dry-run`: nothing was created.
    DryRun,
    /// Nothing missing is granted by a policy: nothing to create, nothing asked.
    Nothing,
    /// The question was answered no.
    Declined,
    /// The writes were made: each one's outcome, and the check after them (`None`: nothing
    /// can have changed, as every write failed or was not tried; `Err`: why it could not be
    /// made).
    Done { results: Vec<GrantResult>, after: Option<Result<CheckReport, String>> },
}

/// `--grant`: the plan and what came of it.
struct Granting {
    plan: Vec<PlannedGrant>,
    stage: Stage,
}

/// How many writes were created, failed, unknown and not attempted.
fn tally(results: &[GrantResult]) -> (usize, usize, usize, usize) {
    let n = |f: fn(&Written) -> bool| results.iter().filter(|r| f(&r.outcome)).count();
    (
        n(|w| matches!(w, Written::Created { .. })),
        n(|w| matches!(w, Written::Failed { .. })),
        n(|w| matches!(w, Written::Unknown { .. })),
        n(|w| matches!(w, Written::NotAttempted)),
    )
}

struct Outcome {
    /// The check (before the grant, when there was one).
    report: CheckReport,
    /// How printed commands name the identity ([`identity_flag`]).
    flag: Option<String>,
    /// With --grant: the plan and what came of it.
    granting: Option<Granting>,
}

impl Outcome {
    /// The report as things stand: the check after the grant when there is one, else the one
    /// before.
    fn current(&self) -> &CheckReport {
        match &self.granting {
            Some(Granting { stage: Stage::Done { after: Some(Ok(after)), .. }, .. }) => after,
            _ => &self.report,
        }
    }

    /// Whether everything asked for was done (`OK` is printed only then).
    fn complete(&self) -> bool {
        match &self.granting {
            Some(Granting { stage: Stage::Declined, .. }) => false,
            Some(Granting { stage: Stage::Done { results, .. }, .. }) => {
                results.iter().all(|r| matches!(r.outcome, Written::Created { .. }))
            }
            _ => true,
        }
    }

    fn head(&self, ui: &Ui) -> Result<Value, CommandError> {
        let current = self.current();
        let mut v = report_head(current)?;
        if let Some(cmd) = self.flag.as_deref().filter(|_| !check::grant_plan(current).is_empty()) {
            v["grantCommand"] = Value::from(check_command(ui, current, cmd, " --grant"));
        }
        if let Some(g) = &self.granting {
            let (results, after) = match &g.stage {
                Stage::Done { results, after } => (results.as_slice(), after.as_ref()),
                _ => (&[][..], None),
            };
            let (created, failed, unknown, not_attempted) = tally(results);
            let results: Vec<Value> = results
                .iter()
                .map(|r| {
                    let mut j = to_json(r)?;
                    j["command"] = Value::from(grant_command(ui, &self.report, &r.planned.grant));
                    Ok(j)
                })
                .collect::<Result<_, CommandError>>()?;
            let ids: Vec<&str> = match &g.stage {
                Stage::Done { results, .. } => results
                    .iter()
                    .filter_map(|r| match &r.outcome {
                        Written::Created { policy_id, .. } => Some(policy_id.as_str()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            v["grant"] = serde_json::json!({
                "dryRun": matches!(g.stage, Stage::DryRun),
                "declined": matches!(g.stage, Stage::Declined),
                "planned": to_json(&g.plan)?,
                "results": results,
                "created": created,
                "failed": failed,
                "unknown": unknown,
                "notAttempted": not_attempted,
                "createdPolicyIds": ids,
                "checkedAfter": matches!(after, Some(Ok(_))),
                "checkAfterUnknownReason": match after { Some(Err(why)) => Value::from(why.as_str()), _ => Value::Null },
            });
        }
        Ok(v)
    }
}

impl Render for Outcome {
    fn json(&self, ui: &Ui) -> Result<Value, CommandError> {
        let mut v = self.head(ui)?;
        let current = self.current();
        v["targets"] =
            (0..current.targets.len()).map(|i| target_json(ui, current, i)).collect::<Result<Vec<_>, _>>()?.into();
        Ok(v)
    }

    fn json_listing(&self, ui: &Ui) -> Option<Result<crate::commands::Listing<'_>, CommandError>> {
        let ui = ui.clone();
        let current = self.current();
        Some(self.head(&ui).map(|head| crate::commands::Listing {
            head,
            key: "targets",
            len: current.targets.len(),
            item: Box::new(move |i| target_json(&ui, current, i)),
        }))
    }

    fn text(&self, ui: &Ui) {
        if self.complete() {
            ui.ok();
        }
        self.text_body(ui);
        let Some(Granting { stage: Stage::Done { results, .. }, .. }) = &self.granting else { return };
        let (created, failed, unknown, not_attempted) = tally(results);
        if created == results.len() {
            return;
        }
        // The first write that did not succeed (the rest were not tried), and why.
        let first = results.iter().find_map(|r| match &r.outcome {
            Written::Failed { reason } => Some(format!("{} failed: {reason}", grant_words(&r.planned.grant))),
            Written::Unknown { reason } => {
                Some(format!("Whether {} was created is unknown: {reason}", grant_words(&r.planned.grant)))
            }
            _ => None,
        });
        let mut e = CommandError::failed(format!(
            "{created} of {} created; {failed} failed, {unknown} unknown, {not_attempted} not attempted. {}.",
            policies(results.len()),
            first.map_or_else(String::new, |f| cluster_api_key_core::error::clause(&f).to_owned())
        ));
        if unknown > 0 {
            if let Some(flag) = &self.flag {
                e = e.with_hint(format!(
                    "A policy whose outcome is unknown may exist, or appear: look before granting again: '{}'.",
                    check_command(ui, self.current(), flag, "")
                ));
            }
        } else if created > 0 {
            e = e.with_hint(if created == 1 {
                String::from("The policy created stays in place.")
            } else {
                String::from("The policies created stay in place.")
            });
        }
        ui.failed(&e);
    }

    /// 3 when anything is missing or could not be checked (an unknown is not a pass), or when
    /// the user cannot log in yet. With --grant: 5 when a write's outcome is unknown, 4 when
    /// some policies were created and one failed, 1 when none was.
    fn status(&self) -> ExitStatus {
        if let Some(Granting { stage: Stage::Done { results, after }, .. }) = &self.granting {
            let (created, failed, unknown, _) = tally(results);
            if unknown > 0 {
                return ExitStatus::Unknown;
            }
            if failed > 0 {
                return if created > 0 { ExitStatus::Partial } else { ExitStatus::Failed };
            }
            if matches!(after, Some(Err(_))) {
                return ExitStatus::Findings;
            }
        }
        let r = self.current();
        if r.missing() || !r.unknown().is_empty() || r.identity.inactive_state.is_some() {
            ExitStatus::Findings
        } else {
            ExitStatus::Success
        }
    }
}

impl Outcome {
    /// Everything after `OK`.
    fn text_body(&self, ui: &Ui) {
        let report = self.current();
        let who = &report.identity;
        // As owners are shown everywhere: how it is known, then the IAM ID; and when only the
        // IAM ID is known, why.
        let shown = match (&who.unverified, who.display == who.iam_id.as_str()) {
            (Some(why), true) => format!("{} (its name and email could not be read: {why})", who.iam_id),
            (_, true) => who.iam_id.to_string(),
            (_, false) => format!("{} ({})", who.display, who.iam_id),
        };
        ui.say(&format!("Identity: {shown}"));
        inactive_text(ui, report);
        report_text(ui, report);
        if let Some(g) = &self.granting {
            ui.say("");
            self.grant_text(ui, g);
        }
        ui.say("");
        self.summary(ui);
    }

    /// What `--grant` did, or would do.
    fn grant_text(&self, ui: &Ui, g: &Granting) {
        let n = g.plan.len();
        match &g.stage {
            Stage::DryRun if n == 0 => {
                ui.say("Dry run: no policy would be created (nothing missing is granted by one); nothing was changed.");
            }
            Stage::DryRun => {
                ui.say(&format!("Dry run: {} would be created; nothing was changed:", policies(n)));
                for p in &g.plan {
                    ui.say(crate::ui::Text::from("  Would create: ").cmd(grant_command(ui, &self.report, &p.grant)));
                }
            }
            Stage::Nothing if self.report.missing() => {
                ui.say("No policy was created: what is missing is not granted by a policy (see its line above).");
            }
            Stage::Nothing => ui.say("No policy was created: none is needed."),
            Stage::Declined => ui.say(&format!("No policy was created: the {} were not confirmed.", policies(n))),
            Stage::Done { results, after } => {
                let (created, failed, unknown, not_attempted) = tally(results);
                if created == results.len() {
                    ui.say(&format!("Created {}:", policies(created)));
                } else {
                    ui.say(&format!(
                        "Created {created} of {}; {failed} failed, {unknown} unknown, {not_attempted} not attempted:",
                        policies(results.len())
                    ));
                }
                for r in results {
                    // Group names and answers are server text: each kept on its line.
                    let what = crate::ui::one_line(&format!("{} ({})", grant_words(&r.planned.grant), r.planned.code));
                    ui.say(&match &r.outcome {
                        Written::Created { policy_id, overruled: None } => format!("  created: {what}: policy {policy_id}"),
                        Written::Created { policy_id, overruled: Some(a) } => format!(
                            "  created: {what}: policy {policy_id} (the answer was an error, {a}; a look-up found the policy)"
                        ),
                        Written::Failed { reason } => format!("  failed: {what}: {}", crate::ui::one_line(reason)),
                        Written::Unknown { reason } => format!("  unknown: {what}: {}", crate::ui::one_line(reason)),
                        Written::NotAttempted => format!("  not attempted: {what}"),
                    });
                }
                match after {
                    Some(Ok(_)) => ui.say("The check above is the one after."),
                    Some(Err(why)) => ui.say(&format!(
                        "The check after could not be made ({why}): the report above is the one before the grant."
                    )),
                    None => {}
                }
            }
        }
    }

    /// The last line: nothing missing; or how many requirements are missing and the command
    /// that grants them; and what could not be checked.
    fn summary(&self, ui: &Ui) {
        let report = self.current();
        let who = &report.identity;
        let unknown = report.unknown();
        let missing: Vec<&str> = report
            .targets
            .iter()
            .flat_map(|t| &t.requirements)
            .filter(|r| matches!(r.state, State::Missing { .. }))
            .map(|r| r.code)
            .collect();
        if missing.is_empty() && unknown.is_empty() {
            if who.inactive_state.is_some() {
                ui.say("No policy is missing, but the user cannot reset until its state is ACTIVE.");
            } else {
                ui.say("Nothing is missing.");
            }
            return;
        }
        let mut line = String::new();
        if !missing.is_empty() {
            line.push_str(&format!(
                "{} {} missing",
                crate::ui::count(missing.len(), "requirement"),
                if missing.len() == 1 { "is" } else { "are" }
            ));
        }
        if !unknown.is_empty() {
            line.push_str(&format!(
                "{}{} could not be checked, so {} not known to be met: {}",
                if missing.is_empty() { "" } else { ", and " },
                if missing.is_empty() {
                    crate::ui::count(unknown.len(), "requirement")
                } else {
                    unknown.len().to_string()
                },
                if unknown.len() == 1 { "it is" } else { "they are" },
                unknown.join(", ")
            ));
        }
        line.push('.');
        ui.say(&line);
        if missing.is_empty() {
            return;
        }
        let plan = check::grant_plan(report);
        let open = matches!(
            &self.granting,
            Some(Granting { stage: Stage::Done { results, .. }, .. }) if results.iter().any(|r| matches!(r.outcome, Written::Unknown { .. }))
        );
        let ungranted: Vec<&str> = report
            .targets
            .iter()
            .flat_map(|t| &t.requirements)
            .filter(|r| matches!(r.state, State::Missing { grant: None, .. }))
            .map(|r| r.code)
            .collect();
        match (&self.flag, plan.len()) {
            // Granting again before the unknown write is settled could create it twice.
            _ if open => ui.say("Grant the rest once the policy whose outcome is unknown is settled (see below)."),
            (_, 0) => {}
            (flag, k) => {
                let what = match (k, missing.len() - ungranted.len()) {
                    (1, 1) => String::from("the policy that grants it"),
                    (1, _) => String::from("the policy that grants them"),
                    (k, _) => format!("the {k} policies that grant them"),
                };
                let line = crate::ui::Text::from(format!("An account administrator can create {what} "));
                ui.say(match flag {
                    Some(flag) => line.plain("with ").cmd(check_command(ui, report, flag, " --grant")).plain("."),
                    None => line.plain("by running this check again with --grant."),
                });
            }
        }
        if !ungranted.is_empty() {
            ui.say(&format!(
                "No policy grants {}: see {} above.",
                ungranted.join(", "),
                if ungranted.len() == 1 { "its line" } else { "their lines" }
            ));
        }
    }
}

/// Runs `check`.
///
/// # Errors
/// Usage errors for unknown regions, groups and users; errors reading the account; a failed
/// policy creation.
pub async fn run(here: &Here, ui: &Ui, settings: CheckSettings<'_>) -> Result<Box<dyn Render>, CommandError> {
    let CheckSettings { args, subject, targets } = settings;
    ui.progress("Reading the identity's policies, access groups and API key settings...");
    let report = match check::check(&here.session, &subject, &targets.regions, &targets.groups).await {
        Err(CoreError::UnknownUser(email)) if args.invite => return invite(here, ui, args, &targets, &email).await,
        Err(e @ CoreError::UnknownUser(_)) => return Err(not_in_account(e, args)),
        r => r?,
    };
    let flag = identity_flag(args.user.as_deref(), &report);
    if !args.grant {
        return Ok(Box::new(Outcome { report, flag, granting: None }));
    }
    if let Some(why) = &report.identity.unverified {
        return Err(CommandError::failed(format!(
            "Cannot confirm that {} is in the account ({why}); nothing was granted.",
            report.identity.display
        ))
        .with_hint("Run the grant as a user with a User Management role, or name the user with --user EMAIL."));
    }
    let plan = check::grant_plan(&report);
    let stage = |stage| Some(Granting { plan: plan.clone(), stage });
    if args.dry_run {
        return Ok(Box::new(Outcome { granting: stage(Stage::DryRun), report, flag }));
    }
    if plan.is_empty() {
        return Ok(Box::new(Outcome { granting: stage(Stage::Nothing), report, flag }));
    }
    if !ui.json {
        ui.say("");
        ui.say("The policies to create:");
        for p in &plan {
            ui.say(crate::ui::Text::from("  ").cmd(grant_command(ui, &report, &p.grant)));
        }
        ui.say("");
    }
    if !args.force
        && !ui
            .confirm(&format!("Create {} for {}?", policies(plan.len()), crate::ui::one_line(&report.identity.display)))
            .await?
    {
        return Ok(Box::new(Outcome { granting: stage(Stage::Declined), report, flag }));
    }
    ui.progress("Creating the policies...");
    let results =
        check::grant(&here.session, &report.account, &report.identity.iam_id, &plan, here.audit.as_ref()).await;
    // A write that may have happened changes what the check finds: check again (a failure to
    // do so is reported, never taken for the writes' failure).
    let after = if results.iter().any(|r| matches!(r.outcome, Written::Created { .. } | Written::Unknown { .. })) {
        ui.progress("Checking again...");
        Some(
            check::check(&here.session, &subject, &targets.regions, &targets.groups)
                .await
                .map_err(|e| cluster_api_key_core::error::clause(&e.to_string()).to_owned()),
        )
    } else {
        None
    };
    Ok(Box::new(Outcome { granting: stage(Stage::Done { results, after }), report, flag }))
}

/// Refuses an email that is not in the account, naming `--invite`: with the command to run
/// when every argument can be typed as it is, else the flags to add.
fn not_in_account(e: CoreError, args: &CheckArgs) -> CommandError {
    let user = args.user.as_deref().unwrap_or_default().trim();
    let mut words = vec![String::from("check"), format!("--user {user}")];
    if !args.targets.region.is_empty() {
        words.push(format!("-r {}", args.targets.region.join(",")));
    }
    if !args.targets.resource_group.is_empty() {
        words.push(format!("-g {}", args.targets.resource_group.join(",")));
    }
    words.push(String::from("--grant --invite"));
    let typed = std::iter::once(user)
        .chain(args.targets.region.iter().map(String::as_str))
        .chain(args.targets.resource_group.iter().map(String::as_str))
        .all(|s| crate::ui::typable(s, "@+,"));
    let hint = if typed {
        crate::ui::Text::from("To invite it with the policies it needs: ")
            .cmd(format!("{{admin}} {}", words.join(" ")))
            .plain(".")
    } else {
        crate::ui::Text::from("To invite it with the policies it needs, run this command again with --grant --invite.")
    };
    CommandError::from(e).with_hint(hint)
}

/// `--invite` for an email that is not in the account: plan the invitation, show it, ask,
/// invite, and check the invited user.
async fn invite(
    here: &Here,
    ui: &Ui,
    args: &CheckArgs,
    targets: &crate::cli::Targets,
    email: &str,
) -> Result<Box<dyn Render>, CommandError> {
    ui.progress("Planning the invitation...");
    let plan = check::plan_invite(&here.session, email, &targets.regions, &targets.groups).await?;
    if args.dry_run {
        return Ok(Box::new(Invitation { plan, dry_run: true, invited: None, after: None }));
    }
    let n = plan.policies.len();
    if !ui.json {
        ui.say(&format!(
            "{} is not a user of the account. The invitation (one request to User Management) carries {n} {}:",
            plan.email,
            if n == 1 { "policy" } else { "policies" }
        ));
        invitation_policies(ui, &plan);
        ui.say("");
    }
    if !args.force
        && !ui
            .confirm(&format!(
                "Invite {} to the account with {n} {}?",
                plan.email,
                if n == 1 { "policy" } else { "policies" }
            ))
            .await?
    {
        return Ok(Box::new(Invitation { plan, dry_run: false, invited: None, after: None }));
    }
    ui.progress("Inviting...");
    let invited = check::invite(&here.session, &plan, here.audit.as_ref()).await;
    let after = if matches!(invited.result, InviteResult::Invited { .. }) {
        ui.progress("Checking the invited user...");
        Some(
            check::check(&here.session, &Subject::User(plan.email.clone()), &targets.regions, &targets.groups)
                .await
                .map_err(|e| e.to_string()),
        )
    } else {
        None
    };
    Ok(Box::new(Invitation { plan, dry_run: false, invited: Some(invited), after }))
}
