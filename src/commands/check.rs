//! `check`: the permission pre-flight, for the caller or another identity, and `--grant` to
//! create what is missing. Core evaluates ([`check::check`]); this module renders each
//! requirement with the exact `ibmcloud iam ...-policy-create` command that would satisfy it.

use cluster_api_key_core::ops::check::{self, CheckReport, Grant, PlannedGrant, State, Subject};
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

/// Prints the requirements, per target.
pub fn report_text(ui: &Ui, report: &CheckReport) {
    for t in &report.targets {
        ui.say("");
        ui.say(&format!("{} / {}", ui.entity(t.target.region.as_str()), ui.entity(&t.target.resource_group.name)));
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
            if state != "met" {
                ui.say(&format!("  {} ({state}): {}", r.code, ui.highlight(&detail)));
            }
        }
    }
}

fn with_commands(ui: &Ui, report: &CheckReport) -> Result<Value, CommandError> {
    let mut v = to_json(report)?;
    if let Some(targets) = v["targets"].as_array_mut() {
        for (t, tc) in targets.iter_mut().zip(&report.targets) {
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
        }
    }
    Ok(v)
}

struct Outcome {
    report: CheckReport,
    /// With --grant: the plan, what was created, and the check after.
    granted: Option<(Vec<PlannedGrant>, Vec<String>, bool)>,
}

impl Render for Outcome {
    fn json(&self, ui: &Ui) -> Result<Value, CommandError> {
        let mut v = with_commands(ui, &self.report)?;
        if let Some((plan, created, dry)) = &self.granted {
            v["grant"] = serde_json::json!({"dryRun": dry, "planned": to_json(plan)?, "createdPolicyIds": created});
        }
        Ok(v)
    }

    fn text(&self, ui: &Ui) {
        ui.ok();
        let who = &self.report.identity;
        // As owners are shown everywhere: how it is known, then the IAM ID; and when only the
        // IAM ID is known, why.
        let shown = match (&who.unverified, who.display == who.iam_id.as_str()) {
            (Some(why), true) => format!("{} (its name and email could not be read: {why})", who.iam_id),
            (_, true) => who.iam_id.to_string(),
            (_, false) => format!("{} ({})", who.display, who.iam_id),
        };
        ui.say(&format!("Identity: {shown}"));
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

    /// 3 when anything is missing or could not be checked: an unknown is not a pass.
    fn status(&self) -> ExitStatus {
        if self.report.missing() || !self.report.unknown().is_empty() {
            ExitStatus::Findings
        } else {
            ExitStatus::Success
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
    let report = check::check(&here.session, &subject, &targets.regions, &targets.groups).await?;
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
                ui.say(&format!(
                    "Would create: {}",
                    ui.command(&format!("'{}'", grant_command(ui, &report, &p.grant)))
                ));
            }
        }
        return Ok(Box::new(Outcome { report, granted: Some((plan, Vec::new(), true)) }));
    }
    if !ui.json {
        ui.say("");
        ui.say("The policies to create:");
        for p in &plan {
            ui.say(&format!("  {}", ui.command(&format!("'{}'", grant_command(ui, &report, &p.grant)))));
        }
        ui.say("");
    }
    if !args.force && !ui.confirm(&format!("Create {} policies for {}?", plan.len(), report.identity.display))? {
        return Ok(Box::new(Outcome { report, granted: Some((plan, Vec::new(), true)) }));
    }
    ui.progress("Creating the policies...");
    let created =
        check::grant(&here.session, &report.account, &report.identity.iam_id, &plan, here.audit.as_ref()).await?;
    ui.progress("Checking again...");
    let after = check::check(&here.session, &subject, &targets.regions, &targets.groups).await?;
    Ok(Box::new(Outcome { report: after, granted: Some((plan, created, false)) }))
}
