//! `reset`: the official `api-key reset`, made safe: it shows what will change, confirms, never
//! retries blindly, says exactly what happened, records it in the audit log and lists the
//! follow-ups.

use std::time::Duration;

use cluster_api_key_core::Error as CoreError;
use cluster_api_key_core::api::containers::KeyOwner;
use cluster_api_key_core::ops::reset::{self, ResetPlan, ResetReport, Verification};
use serde_json::json;

use super::{ExitStatus, Here, Render};
use crate::cli::ResetArgs;
use crate::error::{CommandError, to_json};
use crate::signals::Interrupts;
use crate::ui::Ui;

fn owner_text(o: &KeyOwner) -> String {
    let mut s = format!("{} <{}>", o.name, o.email);
    if let Some(id) = &o.iam_id {
        s.push_str(&format!(" ({id})"));
    }
    s
}

/// How a reset run ended.
enum Outcome {
    /// `--dry-run`: the plan.
    DryRun(Box<ResetPlan>),
    /// The confirmation was declined.
    Cancelled,
    /// The reset happened.
    Done { plan: Box<ResetPlan>, report: Box<ResetReport>, verification: Option<Verification> },
    /// It may or may not have happened ([`CoreError::ResetOutcomeUnknown`]).
    Unknown(CommandError),
}

impl Render for Outcome {
    fn json(&self) -> Result<serde_json::Value, CommandError> {
        match self {
            Self::DryRun(plan) => {
                let mut v = to_json(plan)?;
                v["dryRun"] = serde_json::Value::Bool(true);
                Ok(v)
            }
            Self::Cancelled => Ok(json!({"cancelled": true})),
            Self::Done { report, .. } => to_json(report),
            Self::Unknown(e) => {
                let (region, group, detail) = match e.core() {
                    Some(CoreError::ResetOutcomeUnknown { region, group, detail }) => {
                        (region.as_str(), group.as_str(), detail.as_str())
                    }
                    _ => ("", "", ""),
                };
                Ok(json!({"outcome": "unknown", "region": region, "resourceGroupName": group, "detail": detail}))
            }
        }
    }

    fn text(&self, ui: &Ui) {
        match self {
            Self::DryRun(_) => ui.say("Dry run: nothing was changed."),
            Self::Cancelled => ui.say("The API key was not reset."),
            Self::Done { plan, report, verification } => done_text(ui, plan, report, verification.as_ref()),
            Self::Unknown(e) => ui.failed(e),
        }
    }

    fn status(&self) -> ExitStatus {
        match self {
            Self::Unknown(_) => ExitStatus::Unknown,
            _ => ExitStatus::Success,
        }
    }
}

fn plan_text(ui: &Ui, plan: &ResetPlan) {
    let t = &plan.target;
    let clusters = match plan.clusters.reason() {
        Some(why) => format!("unknown ({why})"),
        None if plan.clusters().is_empty() => String::from("none"),
        None => format!(
            "{} ({})",
            plan.clusters().len(),
            plan.clusters().iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
        ),
    };
    let current = match (plan.current_owner.known(), plan.current_owner.reason()) {
        (Some(o), _) => owner_text(o),
        (None, Some(why)) => format!("unknown ({why})"),
        (None, None) => String::from("unknown"),
    };
    let new_owner = match &plan.caller.iam_id {
        Some(id) => format!("{} ({id})", plan.caller.display),
        None => plan.caller.display.clone(),
    };
    ui.say("");
    ui.say(&format!("Region:           {}", ui.entity(t.region.as_str())));
    ui.say(&format!("Resource group:   {} ({})", ui.entity(&t.resource_group.name), t.resource_group.id));
    ui.say(&format!("Clusters:         {clusters}"));
    ui.say(&format!("Current owner:    {current}"));
    ui.say(&format!("New owner:        {new_owner}"));
    ui.say("");
}

fn done_text(ui: &Ui, plan: &ResetPlan, report: &ResetReport, verification: Option<&Verification>) {
    ui.ok();
    if let Some(Verification::TimedOut(seen)) = verification {
        let cluster = plan.clusters().first().map_or("CLUSTER", |c| c.name.as_str());
        ui.warn(&format!(
            "The reset was accepted, but the new owner does not show yet ({seen}). IAM can take a while to replicate a new key; check again with '{} info --cluster {cluster}'.",
            ui.me
        ));
    }
    for w in &report.warnings {
        ui.warn(w);
    }
    ui.say(&format!(
        "The API key for region {} and resource group {} now belongs to {}.",
        report.region, report.resource_group_name, report.new_owner.display
    ));
    if let Some(id) = &report.new_key_id {
        ui.say(&format!("New key ID: {id}"));
    }
    if report.verified == Some(true) {
        ui.say("Verified: the clusters now report the new owner.");
    }
    if ui.quiet {
        return;
    }
    let vpc: Vec<&str> =
        plan.clusters().iter().filter(|c| c.provider.starts_with("vpc")).map(|c| c.name.as_str()).collect();
    if !vpc.is_empty() {
        ui.say("");
        ui.say("Next: re-create the add-on pods that cache the old key, in each of these clusters:");
        for c in &vpc {
            ui.say(&format!("  {}", ui.entity(c)));
        }
        ui.say(&format!(
            "  Find them with {} and delete them with {}.",
            ui.command(
                "'kubectl get pods -n kube-system | grep -e ibm-vpc-block-csi-controller -e cluster-autoscaler'"
            ),
            ui.command("'kubectl delete pod -n kube-system POD'")
        ));
    }
    if let Some(prev) = &report.previous_owner {
        ui.say("");
        ui.say(&format!(
            "The previous key, owned by {}, is now obsolete. Delete it once nothing else uses it: {}",
            owner_text(prev),
            ui.command("'ibmcloud iam api-keys --all'")
        ));
    }
}

/// Runs `reset`.
///
/// # Errors
/// Any failure, ready to print.
pub async fn run(here: &Here, ui: &Ui, args: &ResetArgs) -> Result<Box<dyn Render>, CommandError> {
    let session = &here.session;
    ui.progress("Collecting the clusters and the current API key owner...");
    let plan = reset::plan(session, args.region.as_deref(), args.resource_group.as_deref()).await?;
    if !ui.json && !ui.quiet {
        plan_text(ui, &plan);
    }
    if args.dry_run {
        return Ok(Box::new(Outcome::DryRun(Box::new(plan))));
    }
    let t = &plan.target;
    if !args.force {
        let question = format!(
            "Reset the API key for every cluster in region {} and resource group {}?",
            t.region, t.resource_group.name
        );
        if !ui.confirm(&question)? {
            return Ok(Box::new(Outcome::Cancelled));
        }
    }
    session.client.http().restart_budget();
    ui.progress(&format!(
        "Resetting the API key for region {} and resource group {}...",
        ui.entity(t.region.as_str()),
        ui.entity(&t.resource_group.name)
    ));
    let ctx = &session.ctx;
    let opts = reset::ExecuteOptions {
        audit: here.audit.clone(),
        lock_dir: here.plugin_dir.as_ref().map(|d| d.join("locks")),
        lock_timeout: Duration::from_secs(ctx.lock_timeout_secs),
        grace: Duration::from_secs(ctx.reset_grace_secs),
        interval: Duration::from_millis(ctx.verify_interval_ms),
        ..reset::ExecuteOptions::default()
    };
    // From here on a signal must not end the process silently: the POST may be under way.
    let interrupts = Interrupts::listen();
    let mut report = match reset::execute(session, &plan, &opts, interrupts.first()).await {
        Ok(r) => r,
        Err(e @ CoreError::ResetOutcomeUnknown { .. }) => return Ok(Box::new(Outcome::Unknown(e.into()))),
        // execute() returns other errors only for IBM's own refusal or a request never sent.
        Err(e) => return Err(CommandError::from(e).with_hint("Nothing was changed: the API key was not reset.")),
    };
    let verification = if args.no_verify || plan.clusters().is_empty() || interrupts.seen() {
        None
    } else {
        ui.progress("Waiting for the new owner to show (IAM replicates new keys)...");
        let timeout = Duration::from_secs(ctx.verify_timeout_secs);
        let interval = Duration::from_millis(ctx.verify_interval_ms);
        tokio::select! {
            v = reset::verify(session, &plan, timeout, interval) => Some(v),
            () = interrupts.first() => None,
        }
    };
    if interrupts.seen() {
        report.warnings.push(String::from(
            "Interrupted: the reset happened, but the new owner was not verified. Press Ctrl-C again to exit at once.",
        ));
    }
    report.verified = match &verification {
        Some(Verification::Verified) => Some(true),
        Some(Verification::TimedOut(_)) => Some(false),
        Some(Verification::NoClusters) | None => None,
    };
    Ok(Box::new(Outcome::Done { plan: Box::new(plan), report: Box::new(report), verification }))
}
