//! `reset`: the official `api-key reset`, made safe: it shows what will change, confirms, never
//! retries blindly, says exactly what happened, records it in the audit log and lists the
//! follow-ups.

use std::path::Path;
use std::time::Duration;

use cluster_api_key_core::audit::AuditLog;
use cluster_api_key_core::ops::{Session, reset};

use super::core_err;
use crate::cli::ResetArgs;
use crate::error::CommandError;
use crate::signals::Interrupts;
use crate::ui::Ui;

/// Verification timing from the environment the context was loaded with.
fn verify_timing(ctx: &cluster_api_key_core::context::Context) -> (std::time::Duration, std::time::Duration) {
    (std::time::Duration::from_secs(ctx.verify_timeout_secs), std::time::Duration::from_millis(ctx.verify_interval_ms))
}

fn owner_text(o: &cluster_api_key_core::api::containers::KeyOwner) -> String {
    let mut s = format!("{} <{}>", o.name, o.email);
    if let Some(id) = &o.iam_id {
        s.push_str(&format!(" ({id})"));
    }
    s
}

/// Runs `reset`.
///
/// # Errors
/// Any failure, ready to print.
pub async fn run(
    session: &Session,
    ui: &Ui,
    args: &ResetArgs,
    plugin_dir: Option<&Path>,
    audit: Option<&AuditLog>,
) -> Result<(), CommandError> {
    ui.progress("Collecting the clusters and the current API key owner...");
    let plan = reset::plan(session, args.region.as_deref(), args.resource_group.as_deref())
        .await
        .map_err(core_err(session))?;
    let t = &plan.target;
    if !ui.json && !ui.quiet {
        let clusters = if let Some(why) = &plan.clusters_unknown_reason {
            format!("unknown ({why})")
        } else if plan.clusters.is_empty() {
            String::from("none")
        } else {
            format!(
                "{} ({})",
                plan.clusters.len(),
                plan.clusters.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
            )
        };
        let current = match (&plan.current_owner, &plan.owner_unknown_reason) {
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
    if args.dry_run {
        if ui.json {
            let mut v = serde_json::to_value(&plan).unwrap_or_default();
            v["dryRun"] = serde_json::Value::Bool(true);
            ui.json_doc(&v);
        } else {
            ui.say("Dry run: nothing was changed.");
        }
        return Ok(());
    }
    if !args.force {
        let question = format!(
            "Reset the API key for every cluster in region {} and resource group {}?",
            t.region, t.resource_group.name
        );
        if !ui.confirm(&question)? {
            if ui.json {
                ui.json_doc(&serde_json::json!({"cancelled": true}));
            } else {
                ui.say("The API key was not reset.");
            }
            return Ok(());
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
        audit: audit.cloned(),
        lock_dir: plugin_dir.map(|d| d.join("locks")),
        lock_timeout: Duration::from_secs(ctx.lock_timeout_secs),
        grace: Duration::from_secs(ctx.reset_grace_secs),
        interval: Duration::from_millis(ctx.verify_interval_ms),
        ..reset::ExecuteOptions::default()
    };
    // From here on a signal must not end the process silently: the POST may be under way.
    let interrupts = Interrupts::listen();
    let mut report = reset::execute(session, &plan, &opts, interrupts.first()).await.map_err(|e| {
        let unknown = matches!(e, cluster_api_key_core::Error::ResetOutcomeUnknown { .. });
        let mut err = core_err(session)(e);
        if !unknown {
            // execute() returns other errors only for IBM's own refusal or a request never sent.
            err.hints.push(String::from("Nothing was changed: the API key was not reset."));
        }
        err
    })?;
    let verification = if args.no_verify || plan.clusters.is_empty() || interrupts.seen() {
        None
    } else {
        ui.progress("Waiting for the new owner to show (IAM replicates new keys)...");
        let (timeout, interval) = verify_timing(&session.ctx);
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
        Some(reset::Verification::Verified) => Some(true),
        Some(reset::Verification::TimedOut(_)) => Some(false),
        Some(reset::Verification::NoClusters) | None => None,
    };
    if ui.json {
        ui.json_doc(&serde_json::to_value(&report).unwrap_or_default());
        return Ok(());
    }
    ui.ok();
    if let Some(reset::Verification::TimedOut(seen)) = &verification {
        let cluster = plan.clusters.first().map_or("CLUSTER", |c| c.name.as_str());
        ui.warn(&format!(
            "The reset was accepted, but the new owner does not show yet ({seen}). IAM can take a while to replicate a new key; check again with '{} cluster-api-key info --cluster {cluster}'.",
            session.ctx.cli_name
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
    if !ui.quiet {
        let vpc: Vec<&str> =
            plan.clusters.iter().filter(|c| c.provider.starts_with("vpc")).map(|c| c.name.as_str()).collect();
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
    Ok(())
}
