//! `check`: the permission pre-flight, for the caller or another identity, and `--grant` to
//! create what is missing. Core evaluates ([`check::check`]); this module renders each
//! requirement with the exact `ibmcloud iam ...-policy-create` command that would satisfy it.

use cluster_api_key_core::Error as CoreError;
use cluster_api_key_core::ops::check::{
    self, CheckReport, Grant, InviteOutcome, InvitePlan, PlannedGrant, State, Subject,
};
use cluster_api_key_core::types::IdentityKind;
use serde_json::Value;

use super::{ExitStatus, Here, Render};
use crate::cli::CheckArgs;
use crate::error::{CommandError, to_json};
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
pub fn state_text(ui: &Ui, report: &CheckReport, s: &State) -> (&'static str, String) {
    match s {
        State::Met { by } => ("met", by.clone()),
        State::Missing { grant: Some(g), .. } => ("missing", format!("'{}'", grant_command(ui, report, g))),
        State::Missing { grant: None, detail } => ("missing", detail.clone()),
        State::Unknown { reason } => ("unknown", reason.clone()),
        State::NotCheckable { how } => ("not checkable", how.replace("{cli}", &ui.cli)),
    }
}

/// Core's "how to check it by hand", its commands styled whole: core marks each as a quote
/// followed by the `{cli}` placeholder (the template, before any server text is in it).
fn how_text(how: &str, cli: &str) -> crate::ui::Text {
    let mut text = crate::ui::Text::new();
    let mut rest = how;
    while let Some(start) = rest.find("'{cli} ") {
        let body = &rest[start + 1..];
        let Some(end) = body.find('\'') else { break };
        text = text.plain(&rest[..start]).cmd(body[..end].replace("{cli}", cli));
        rest = &body[end + 1..];
    }
    text.plain(rest.replace("{cli}", cli))
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
                let (state, _) = state_text(ui, report, &r.state);
                let purpose = match r.purpose {
                    check::Purpose::Reset => "to reset",
                    check::Purpose::Own => "to own the key",
                };
                vec![r.what.clone(), purpose.to_owned(), state.to_owned()]
            })
            .collect();
        ui.table_to(Stream::Out, 2, &["Requirement", "For", "State"], &rows);
        for r in &t.requirements {
            let (state, detail) = state_text(ui, report, &r.state);
            if state == "met" {
                continue;
            }
            let line = crate::ui::Text::from(format!("  {} ({state}): ", r.code));
            // The grant is a command to run: styled as one, whole.
            ui.say(match &r.state {
                State::Missing { grant: Some(g), .. } => line.cmd(grant_command(ui, report, g)),
                State::NotCheckable { how } => line.then(how_text(how, &ui.cli)),
                _ => line.plain(detail),
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
                State::NotCheckable { how } => r["how"] = Value::from(how.replace("{cli}", &ui.cli)),
                _ => {}
            }
        }
    }
    Ok(t)
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

/// A grant in words, for a policy that is part of an invitation (there is no command to show:
/// the invitation creates it).
fn grant_words(g: &Grant) -> String {
    let role = g.roles.first().map_or("", String::as_str);
    match (&g.resource_type, &g.service) {
        (Some(_), _) => format!("{role} on resource group {}", g.resource_group_name.as_deref().unwrap_or("(all)")),
        (None, Some(s)) => match (&g.region, &g.resource_group_name) {
            (Some(r), Some(n)) => format!("{role} on service {s} in {r}, resource group {n}"),
            _ => format!("{role} on service {s}, in every region and resource group"),
        },
        (None, None) => format!("{role} on every service"),
    }
}

/// `check --user EMAIL --grant --invite` for an email that is not in the account: the plan,
/// what the invitation did, and the check of the invited user after it.
struct Invitation {
    plan: InvitePlan,
    dry_run: bool,
    invited: Option<InviteOutcome>,
    /// The check after the invitation, or why it could not be made.
    after: Option<Result<CheckReport, String>>,
}

impl Render for Invitation {
    fn json(&self, ui: &Ui) -> Result<Value, CommandError> {
        let after = match &self.after {
            Some(Ok(r)) => with_commands(ui, r)?,
            Some(Err(why)) => serde_json::json!({"unknownReason": why}),
            None => Value::Null,
        };
        Ok(serde_json::json!({
            "account": self.plan.account,
            "invite": {
                "email": self.plan.email,
                "dryRun": self.dry_run,
                "planned": to_json(&self.plan.policies)?,
                "requirements": to_json(&self.plan.targets)?,
                "invited": to_json(&self.invited)?,
            },
            "after": after,
        }))
    }

    fn text(&self, ui: &Ui) {
        ui.ok();
        let n = self.plan.policies.len();
        let policies = format!("{n} {}", if n == 1 { "policy" } else { "policies" });
        match &self.invited {
            None => {
                if self.dry_run {
                    ui.say(&format!("{} is not a user of the account.", self.plan.email));
                    ui.say(&format!("Dry run: it would be invited with {policies}; nothing was changed:"));
                    invitation_policies(ui, &self.plan);
                } else {
                    // Declined: the plan was shown just before the question.
                    ui.say(&format!("{} was not invited; nothing was changed.", self.plan.email));
                }
            }
            Some(i) => {
                let id = i.iam_id.as_ref().map(|id| format!(" ({id})")).unwrap_or_default();
                ui.say(&format!("Invited {}{id} with {policies}; its state is {}.", i.email, i.state));
                ui.say(&format!(
                    "The invitation must be accepted (IBM emails it) before {} can log in and reset; until then its policies are in place but unused.",
                    i.email
                ));
            }
        }
        match &self.after {
            Some(Ok(after)) => {
                ui.say("");
                ui.say("The check after the invitation:");
                Outcome { report: after.clone(), granted: None }.text_body(ui);
            }
            Some(Err(why)) => ui.say(&format!("The invited user could not be checked after the invitation: {why}.")),
            None => {}
        }
    }

    /// 3: the user cannot reset yet, invited or not.
    fn status(&self) -> ExitStatus {
        ExitStatus::Findings
    }
}

/// The policies of an invitation, each with its target, and the requirements it cannot meet.
fn invitation_policies(ui: &Ui, plan: &InvitePlan) {
    for p in &plan.policies {
        ui.say(&format!("  {} ({})", grant_words(&p.grant), p.code));
    }
    for t in &plan.targets {
        for r in &t.requirements {
            let (state, detail) = match &r.state {
                State::Missing { grant: Some(_), .. } | State::Met { .. } => continue,
                State::Missing { grant: None, detail } => ("missing", detail.clone()),
                State::Unknown { reason } => ("unknown", reason.clone()),
                State::NotCheckable { how } => ("not checkable", how.replace("{cli}", &ui.cli)),
            };
            ui.say(&format!(
                "  Not covered by the invitation, {} / {}: {} ({state}): {detail}",
                t.target.region, t.target.resource_group.name, r.code
            ));
        }
    }
}

struct Outcome {
    report: CheckReport,
    /// With --grant: the plan, what was created, and the check after.
    granted: Option<(Vec<PlannedGrant>, Vec<String>, bool)>,
}

impl Outcome {
    fn head(&self) -> Result<Value, CommandError> {
        let mut v = report_head(&self.report)?;
        if let Some((plan, created, dry)) = &self.granted {
            v["grant"] = serde_json::json!({"dryRun": dry, "planned": to_json(plan)?, "createdPolicyIds": created});
        }
        Ok(v)
    }
}

impl Render for Outcome {
    fn json(&self, ui: &Ui) -> Result<Value, CommandError> {
        let mut v = self.head()?;
        v["targets"] = (0..self.report.targets.len())
            .map(|i| target_json(ui, &self.report, i))
            .collect::<Result<Vec<_>, _>>()?
            .into();
        Ok(v)
    }

    fn json_listing(&self, ui: &Ui) -> Option<Result<crate::commands::Listing<'_>, CommandError>> {
        let ui = ui.clone();
        Some(self.head().map(|head| crate::commands::Listing {
            head,
            key: "targets",
            len: self.report.targets.len(),
            item: Box::new(move |i| target_json(&ui, &self.report, i)),
        }))
    }

    fn text(&self, ui: &Ui) {
        ui.ok();
        self.text_body(ui);
    }

    /// 3 when anything is missing or could not be checked (an unknown is not a pass), or when
    /// the user cannot log in yet.
    fn status(&self) -> ExitStatus {
        if self.report.missing() || !self.report.unknown().is_empty() || self.report.identity.inactive_state.is_some() {
            ExitStatus::Findings
        } else {
            ExitStatus::Success
        }
    }
}

impl Outcome {
    /// Everything after `OK`.
    fn text_body(&self, ui: &Ui) {
        let who = &self.report.identity;
        // As owners are shown everywhere: how it is known, then the IAM ID; and when only the
        // IAM ID is known, why.
        let shown = match (&who.unverified, who.display == who.iam_id.as_str()) {
            (Some(why), true) => format!("{} (its name and email could not be read: {why})", who.iam_id),
            (_, true) => who.iam_id.to_string(),
            (_, false) => format!("{} ({})", who.display, who.iam_id),
        };
        ui.say(&format!("Identity: {shown}"));
        inactive_text(ui, &self.report);
        report_text(ui, &self.report);
        if let Some((plan, created, dry)) = &self.granted {
            ui.say("");
            if *dry {
                ui.say(&format!("Dry run: {} policies would be created; nothing was changed.", plan.len()));
            } else {
                ui.say(&format!(
                    "Created {} policies: {}. The check above is the one after.",
                    created.len(),
                    created.join(", ")
                ));
            }
        }
        ui.say("");
        let unknown = self.report.unknown();
        match (self.report.missing(), unknown.is_empty()) {
            (false, true) if who.inactive_state.is_some() => {
                ui.say("No policy is missing, but the user cannot reset until its state is ACTIVE.");
            }
            (false, true) => ui.say("Nothing is missing."),
            (true, true) => ui.say("Something is missing."),
            (missing, false) => ui.say(&format!(
                "{}{} requirement{} could not be checked, so {} not known to be met: {}.",
                if missing { "Something is missing, and " } else { "" },
                unknown.len(),
                if unknown.len() == 1 { "" } else { "s" },
                if unknown.len() == 1 { "it is" } else { "they are" },
                unknown.join(", ")
            )),
        }
    }
}

/// Runs `check`.
///
/// # Errors
/// Usage errors for unknown regions, groups and users; errors reading the account; a failed
/// policy creation.
pub async fn run(here: &Here, ui: &Ui, args: &CheckArgs) -> Result<Box<dyn Render>, CommandError> {
    let subject = match (&args.iam_id, &args.user, &args.service_id) {
        (Some(i), _, _) => Subject::IamId(i.clone()),
        (_, Some(u), _) => Subject::User(u.clone()),
        (_, _, Some(s)) => Subject::ServiceId(s.clone()),
        _ => Subject::Caller,
    };
    ui.progress("Reading the identity's policies, access groups and API key settings...");
    let targets = args.targets.resolve()?;
    let report = match check::check(&here.session, &subject, &targets.regions, &targets.groups).await {
        Err(CoreError::UnknownUser(email)) if args.invite => return invite(here, ui, args, &targets, &email).await,
        Err(e @ CoreError::UnknownUser(_)) => return Err(not_in_account(e, args)),
        r => r?,
    };
    if !args.grant {
        return Ok(Box::new(Outcome { report, granted: None }));
    }
    if let Some(why) = &report.identity.unverified {
        return Err(CommandError::failed(format!(
            "Cannot confirm that {} is in the account ({why}); nothing was granted.",
            report.identity.display
        ))
        .with_hint("Run the grant as a user with a User Management role, or name the user with --user EMAIL."));
    }
    let plan = check::grant_plan(&report);
    if plan.is_empty() || args.dry_run {
        if !ui.json {
            for p in &plan {
                ui.say(crate::ui::Text::from("Would create: ").cmd(grant_command(ui, &report, &p.grant)));
            }
        }
        return Ok(Box::new(Outcome { report, granted: Some((plan, Vec::new(), true)) }));
    }
    if !ui.json {
        ui.say("");
        ui.say("The policies to create:");
        for p in &plan {
            ui.say(crate::ui::Text::from("  ").cmd(grant_command(ui, &report, &p.grant)));
        }
        ui.say("");
    }
    if !args.force && !ui.confirm(&format!("Create {} policies for {}?", plan.len(), report.identity.display)).await? {
        return Ok(Box::new(Outcome { report, granted: Some((plan, Vec::new(), true)) }));
    }
    ui.progress("Creating the policies...");
    let created =
        check::grant(&here.session, &report.account, &report.identity.iam_id, &plan, here.audit.as_ref()).await?;
    ui.progress("Checking again...");
    let after = check::check(&here.session, &subject, &targets.regions, &targets.groups).await?;
    Ok(Box::new(Outcome { report: after, granted: Some((plan, created, false)) }))
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
    let invited = check::invite(&here.session, &plan, here.audit.as_ref()).await?;
    ui.progress("Checking the invited user...");
    let after = check::check(&here.session, &Subject::User(plan.email.clone()), &targets.regions, &targets.groups)
        .await
        .map_err(|e| e.to_string());
    Ok(Box::new(Invitation { plan, dry_run: false, invited: Some(invited), after: Some(after) }))
}
