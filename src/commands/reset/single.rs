//! One target: its plan read for it alone and shown in detail; the reset, abandoned (after a
//! short look for the new key) when a signal comes while the POST is in flight; the
//! verification with a spinner; the add-ons.

use cluster_api_key_core::Error as CoreError;
use cluster_api_key_core::ops::fleet::Candidate;
use cluster_api_key_core::ops::reset;

use super::leak::{self, LeakResponse, PreviousKey};
use super::render::{Mode, Report, TargetOutcome, plan_text, spinner};
use crate::commands::{Here, Render};
use crate::error::CommandError;
use crate::settings::ResetSettings;
use crate::signals::Interrupts;
use crate::ui::Ui;

/// Resets one region and resource group.
///
/// # Errors
/// Any failure, ready to print.
pub async fn run(here: &Here, ui: &Ui, settings: &ResetSettings<'_>) -> Result<Box<dyn Render>, CommandError> {
    let (args, targets) = (settings.args, &settings.targets);
    let session = &here.session;
    ui.progress("Collecting the clusters and the current API key owner...");
    let plan =
        reset::plan(session, targets.regions.first(), targets.groups.names().first().map(String::as_str)).await?;
    refuse_empty(ui, &plan, args.include_empty)?;
    // The plan is what the user decides on: shown even with -q; in JSON mode on stderr when a
    // question follows (stdout carries only the document).
    if !ui.json {
        plan_text(ui, &plan, false);
    } else if !args.force && !args.dry_run {
        plan_text(ui, &plan, true);
    }
    super::preflight(here, ui, &[&plan], args.skip_preflight).await?;
    // Read as `status` reads them, for a target with classic clusters only.
    let classic = if plan.clusters().iter().any(|c| c.provider == "classic") {
        Some(cluster_api_key_core::ops::status::classic_credentials(&here.session, &plan.target).await)
    } else {
        None
    };
    super::classic_warnings(ui, &[(&plan.target, classic.as_ref())]);
    let addon_opts = settings.addons.options(super::audit(here, settings));
    let addon_plan = super::addon_plan(here, ui, args, &[&plan], &addon_opts).await;
    let report =
        |plan, outcome: Option<TargetOutcome>, addon_plan, addon_results, leak, clusters_wait| -> Box<dyn Render> {
            Box::new(Report {
                mode: Mode::Single,
                targets: vec![Candidate { plan, key_age_days: None, skip: None, classic_credentials: classic.clone() }],
                outcomes: outcome.map(|o| vec![o]),
                dry_run: args.dry_run,
                addon_plan,
                addon_results,
                leaked: args.leaked,
                leaks: vec![leak],
                clusters_wait,
            })
        };
    if args.leaked {
        super::leak_warning(ui, &[&plan]);
    }
    if args.dry_run || (!args.force && !super::confirm(ui, &[&plan], addon_plan.as_ref(), args.leaked).await?) {
        return Ok(report(plan, None, addon_plan, None, None, None));
    }
    // Before the reset: each affected cluster's storage-secret-store, to see the new key arrive.
    let prepared = crate::commands::addons::note_secrets(ui, session, addon_plan.as_ref(), &addon_opts).await;
    session.client.http().restart_budget();
    let t = &plan.target;
    ui.progress(
        crate::ui::Text::from("Resetting the API key for region ")
            .name(t.region.as_str())
            .plain(" and resource group ")
            .name(&t.resource_group.name)
            .plain("..."),
    );
    let opts = super::execute_options(here, settings, true);
    // From here on a signal must not end the process silently: the POST may be under way.
    let interrupts = Interrupts::listen();
    let mut done = match reset::execute(session, &plan, &opts, interrupts.first()).await {
        Ok(r) => r,
        Err(e @ CoreError::ResetOutcomeUnknown { .. }) => {
            return Ok(report(plan, Some(TargetOutcome::Unknown(e.into())), addon_plan, None, None, None));
        }
        // execute() returns other errors only for IBM's own refusal or a request never sent.
        Err(e) => return Err(CommandError::from(e).with_hint("Nothing was changed: the API key was not reset.")),
    };
    let verification = if let Some((timeout, interval)) = settings.verify
        && !plan.clusters().is_empty()
        && !interrupts.seen()
    {
        ui.progress("Waiting for the new owner to show (IAM replicates new keys)...");
        let bar = spinner(ui, "Waiting for the new owner (Ctrl-C stops waiting)");
        let v = tokio::select! {
            v = reset::verify(session, &plan, timeout, interval) => Some(v),
            () = interrupts.first() => None,
        };
        bar.finish_and_clear();
        v
    } else {
        None
    };
    if interrupts.seen() {
        done.warnings.push(String::from(
            "Interrupted: the reset happened, but the new owner was not verified. Press Ctrl-C again to exit at once.",
        ));
    }
    // The leak response: the compromised key goes now, before the add-on pods (they read the
    // new key either way), unless the user stopped the run.
    let leak = if !args.leaked {
        None
    } else if interrupts.seen() {
        Some(LeakResponse { previous_key: PreviousKey::NotTried(String::from("interrupted before the deletion")) })
    } else {
        ui.progress("Deleting the compromised key...");
        Some(leak::delete_previous(session, &plan, &done, super::audit(here, settings).as_ref()).await)
    };
    let addon_results = match prepared {
        Some(prepared) if !interrupts.seen() => Some(
            crate::commands::addons::restart_after_reset(ui, &interrupts, &prepared, &addon_opts, settings.addons_wait)
                .await,
        ),
        _ => None,
    };
    if addon_plan.as_ref().is_some_and(|p| p.affected() > 0) && addon_results.is_none() {
        done.warnings.push(format!(
            "Interrupted: no add-on pod was re-created. Once the new key has reached the clusters, run '{} {}'.",
            ui.cmd("restart-addons"),
            crate::ui::target_flags(&plan.target)
        ));
    }
    // `--wait-clusters`: until the clusters stop reporting a credential failure (polled at 15
    // times the verification interval: every 30 s by default).
    let clusters_wait = match args.wait_clusters {
        Some(timeout) if !plan.clusters().is_empty() && !interrupts.seen() => {
            ui.progress("Waiting for the clusters to stop reporting a credential failure...");
            let bar = spinner(ui, "Waiting for the clusters (Ctrl-C stops waiting)");
            let interval = settings.timings.interval.saturating_mul(15);
            let w = tokio::select! {
                w = cluster_api_key_core::ops::clusters::wait(session, plan.clusters(), timeout, interval) => Some(w),
                () = interrupts.first() => None,
            };
            bar.finish_and_clear();
            if w.is_none() {
                done.warnings.push(format!(
                    "Interrupted: the clusters were not waited for. Check them with '{} --read-clusters {}'.",
                    ui.cmd("status"),
                    crate::ui::target_flags(&plan.target)
                ));
            }
            w
        }
        _ => None,
    };
    Ok(report(
        plan,
        Some(TargetOutcome::Reset(Box::new(done), verification)),
        addon_plan,
        addon_results,
        leak,
        clusters_wait,
    ))
}

/// The one rule for a target without clusters, as a batch applies it (it skips such a target):
/// a new key there is used by nothing until a cluster is created, so it is made only when
/// asked for (`--include-empty`), dry run or not. Clusters that could not be listed are not
/// "none": the plan says so, and the reset goes on.
fn refuse_empty(ui: &Ui, plan: &reset::ResetPlan, include_empty: bool) -> Result<(), CommandError> {
    if include_empty || !plan.clusters.known().is_some_and(Vec::is_empty) {
        return Ok(());
    }
    let t = &plan.target;
    let flags = crate::ui::target_flags(t);
    let mut e = CommandError::failed(format!(
        "No cluster is in region {} and resource group {}: a new key would not be used until a cluster is created there, so it is not reset. Nothing was changed.",
        t.region,
        crate::ui::one_line(&t.resource_group.name)
    ))
    .with_hint(format!(
        "To set the key before the first cluster is created there, add --include-empty: '{} {flags} --include-empty'.",
        ui.cmd("reset")
    ));
    if let Some(k) = plan.current_key.known() {
        e = e.with_hint(format!(
            "To remove its key instead (no cluster uses it): '{} {flags} --include-orphans{}'.",
            ui.cmd("prune"),
            if k.locked { " --unlock" } else { "" }
        ));
    }
    Err(e)
}
