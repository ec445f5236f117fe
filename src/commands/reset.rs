//! `reset`: the official `api-key reset`, made safe: it shows what will change, confirms, never
//! retries blindly, says exactly what happened, records it in the audit log and lists the
//! follow-ups.
//!
//! The dry run and the real reset print one document shape (JSON) and one set of words (text):
//! the target, the new owner, the previous owner and key, the clusters, then what happened and
//! what to do next. A value that is not known comes with the reason.

use std::time::Duration;

use cluster_api_key_core::Error as CoreError;
use cluster_api_key_core::api::containers::KeyOwner;
use cluster_api_key_core::api::user_management::Membership;
use cluster_api_key_core::ops::addons::{self, ClusterResult, Outcome as AddonOutcome};
use cluster_api_key_core::ops::reset::{self, ResetPlan, ResetReport, Verification};
use serde_json::{Value, json};

use super::{ExitStatus, Here, Render};
use crate::cli::ResetArgs;
use crate::error::{CommandError, to_json};
use crate::signals::Interrupts;
use crate::ui::Ui;

/// An owner, the same way everywhere: name, email, IAM ID (a service ID by its name).
pub fn owner_text(o: &KeyOwner) -> String {
    let mut s = o.name.clone();
    if !o.email.is_empty() {
        s.push_str(&format!(" <{}>", o.email));
    }
    if let Some(id) = &o.iam_id {
        s.push_str(&format!(" ({id})"));
    }
    if s.is_empty() { o.id.clone().unwrap_or_else(|| String::from("unknown")) } else { s }
}

/// How a reset run ended.
enum Outcome {
    /// `--dry-run`: the plan.
    DryRun(Box<ResetPlan>),
    /// The confirmation was declined.
    Cancelled(Box<ResetPlan>),
    /// The reset happened.
    Done { plan: Box<ResetPlan>, report: Box<ResetReport>, verification: Option<Verification> },
    /// It may or may not have happened ([`CoreError::ResetOutcomeUnknown`]).
    Unknown(Box<ResetPlan>, CommandError),
}

/// Things to know before a reset, from the plan.
pub fn plan_warnings(plan: &ResetPlan) -> Vec<String> {
    let mut w = Vec::new();
    if plan.clusters.known().is_some_and(Vec::is_empty) {
        w.push(String::from(
            "No cluster is in this region and resource group: the new key is used only once a cluster is created here.",
        ));
    }
    if plan.replicating {
        w.push(String::from(
            "A previous reset of this target is still replicating in IAM (A0055); wait a minute and check the owner before resetting again.",
        ));
    }
    if let (Some(o), Some(m)) = (plan.current_owner.known(), plan.owner_state.known()) {
        match m {
            Membership::NotInAccount => w.push(format!(
                "The current owner, {}, is no longer in the account: IBM deletes a removed user's API keys.",
                o.name
            )),
            Membership::Member { state, .. } if state != "ACTIVE" => {
                w.push(format!("The current owner, {}, is {state} in the account.", o.name));
            }
            _ => {}
        }
    }
    w
}

/// The next steps after a reset, each a sentence and, where there is one, the command. With
/// `addons` (the reset ran `--restart-addons`), only the clusters that still need it.
pub fn follow_ups(ui: &Ui, plan: &ResetPlan, addons: Option<&[ClusterResult]>) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let t = &plan.target;
    match addons {
        None if !plan.clusters().is_empty() => out.push((
            String::from(
                "Once the new key has reached the clusters (IBM: 10 to 15 minutes, up to 30), re-create the add-on pods that still use the old one (VPC Block Storage CSI controller, cluster autoscaler):",
            ),
            Some(format!("{} restart-addons --region {} -g {}", ui.me, t.region, crate::ui::group_arg(&t.resource_group.name, t.resource_group.id.as_str()))),
        )),
        None => {}
        Some(results) => {
            for r in results.iter().filter(|r| matches!(r.outcome, AddonOutcome::Failed | AddonOutcome::Skipped)) {
                out.push((
                    format!("Re-create the add-on pods of {} once the new key has reached it:", r.cluster),
                    Some(format!("{} restart-addons --cluster {}", ui.me, r.cluster)),
                ));
            }
        }
    }
    for c in plan.clusters().iter().filter(|c| c.provider == "satellite") {
        out.push((
            format!(
                "{} is a Satellite cluster: its autoscaler reads a hand-made kube-system/storage-secret-store secret that a reset does not update; put the new key there.",
                c.name
            ),
            None,
        ));
    }
    match (plan.current_key.known(), plan.current_owner.known()) {
        (Some(k), owner) => {
            let by = owner.map(|o| format!(", owned by {},", owner_text(o))).unwrap_or_default();
            let unlock = if k.locked { " --unlock" } else { "" };
            out.push((
                format!(
                    "The previous key {}{by}{} is now superseded. Remove it (and any older one) once nothing else uses it:",
                    k.id,
                    if k.locked { " (locked)" } else { "" }
                ),
                Some(format!("{} prune --region {} -g {}{unlock}", ui.me, t.region, crate::ui::group_arg(&t.resource_group.name, t.resource_group.id.as_str()))),
            ));
        }
        (None, Some(o)) => out.push((
            format!(
                "The previous key, owned by {}, is now superseded. Remove it once nothing else uses it:",
                owner_text(o)
            ),
            Some(format!(
                "{} prune --region {} -g {}",
                ui.me,
                t.region,
                crate::ui::group_arg(&t.resource_group.name, t.resource_group.id.as_str())
            )),
        )),
        (None, None) => {}
    }
    out
}

/// The one document of a reset, dry run or not.
pub fn document(
    plan: &ResetPlan,
    done: Option<(&ResetReport, Option<&Verification>)>,
    ui: &Ui,
    addons: Option<&[ClusterResult]>,
) -> Result<Value, CommandError> {
    let t = &plan.target;
    let reason = |r: Option<&str>| r.map(str::to_owned);
    let mut v = json!({
        "dryRun": done.is_none(),
        "target": {"region": t.region, "resourceGroup": to_json(&t.resource_group)?},
        "newOwner": to_json(&plan.caller)?,
        "previousOwner": to_json(&plan.current_owner.known())?,
        "previousOwnerUnknownReason": reason(plan.current_owner.reason()),
        "previousKey": plan.current_key.known().map(|k| json!({"id": k.id, "created": k.created_at, "locked": k.locked, "iamId": k.iam_id})),
        "previousKeyUnknownReason": reason(plan.current_key.reason()),
        "clusters": to_json(&plan.clusters())?,
        "clustersUnknownReason": reason(plan.clusters.reason()),
        "warnings": plan_warnings(plan),
    });
    if let Some((r, verification)) = done {
        let (verified, how) = match verification {
            Some(Verification::Verified) => (Some(true), "the clusters report the new owner"),
            Some(Verification::AlreadyOwner) => {
                (None, "the owner was already you, so only the new key's existence in IAM was checked")
            }
            Some(Verification::TimedOut(_)) => (Some(false), "the new owner did not show in time"),
            Some(Verification::NoClusters) => (None, "there is no cluster to ask"),
            None => (None, "not checked (--no-verify, or interrupted)"),
        };
        v["newKeyId"] = to_json(&r.new_key_id)?;
        v["newKeyIdUnknownReason"] =
            if r.new_key_id.is_none() { Value::from("the key list could not be read") } else { Value::Null };
        v["confirmedAfterError"] = Value::Bool(r.confirmed_after_error);
        v["verified"] = to_json(&verified)?;
        v["verification"] = Value::from(how);
        if let Some(w) = v["warnings"].as_array_mut() {
            w.extend(r.warnings.iter().map(|x| Value::from(x.as_str())));
        }
        v["auditError"] = to_json(&r.audit_error)?;
        v["followUps"] = follow_ups(ui, plan, addons)
            .into_iter()
            .map(|(text, command)| json!({"text": text, "command": command}))
            .collect();
    }
    Ok(v)
}

/// Renders with the `Ui` the command ran with (hints name its CLI).
struct Rendered {
    outcome: Outcome,
    /// With `--restart-addons`: the clusters and their add-ons.
    addon_plan: Option<addons::Plan>,
    /// With `--restart-addons`, after the reset: each cluster; `None` when it did not get there.
    addon_results: Option<Vec<ClusterResult>>,
}

impl Rendered {
    fn results(&self) -> Option<&[ClusterResult]> {
        self.addon_results.as_deref()
    }
}

impl Render for Rendered {
    fn json(&self, ui: &Ui) -> Result<Value, CommandError> {
        let mut v = match &self.outcome {
            Self_::DryRun(plan) => document(plan, None, ui, None)?,
            Self_::Cancelled(plan) => {
                let mut v = document(plan, None, ui, None)?;
                v["dryRun"] = Value::Bool(false);
                v["cancelled"] = Value::Bool(true);
                v
            }
            Self_::Done { plan, report, verification } => {
                document(plan, Some((report, verification.as_ref())), ui, self.results())?
            }
            Self_::Unknown(plan, e) => {
                let detail = match e.core() {
                    Some(CoreError::ResetOutcomeUnknown { detail, .. }) => detail.as_str(),
                    _ => "",
                };
                let mut v = document(plan, None, ui, None)?;
                v["dryRun"] = Value::Bool(false);
                v["outcome"] = Value::from("unknown");
                v["detail"] = Value::from(detail);
                v["hint"] = Value::from(e.hints(&ui.cli, &ui.me).join(" "));
                v
            }
        };
        if let Some(p) = &self.addon_plan {
            v["addons"] = json!({"plan": to_json(&p.clusters)?});
            if let Some(r) = self.results() {
                let done = crate::commands::addons::results_json(r)?;
                v["addons"]["clusters"] = done["clusters"].clone();
                v["addons"]["summary"] = done["summary"].clone();
            }
        }
        Ok(v)
    }

    fn text(&self, ui: &Ui) {
        match &self.outcome {
            Self_::DryRun(_) => ui.say("Dry run: nothing was changed."),
            Self_::Cancelled(_) => ui.say("The API key was not reset."),
            Self_::Done { plan, report, verification } => {
                // `OK` only when all that was asked is done (the add-ons too, when asked for).
                let finished = self.status() == ExitStatus::Success;
                done_text(ui, plan, report, verification.as_ref(), self.results(), finished);
            }
            Self_::Unknown(_, e) => ui.failed(e),
        }
    }

    fn status(&self) -> ExitStatus {
        match self.outcome {
            Self_::Unknown(..) => ExitStatus::Unknown,
            // The reset happened; an add-on restart that did not, or was interrupted, or never
            // started because the user stopped the command, is unfinished work.
            _ if self.results().is_some_and(|r| {
                r.iter().any(|c| matches!(c.outcome, AddonOutcome::Failed | AddonOutcome::Interrupted))
            }) =>
            {
                ExitStatus::Partial
            }
            Self_::Done { .. }
                if self.addon_plan.as_ref().is_some_and(|p| p.affected() > 0) && self.results().is_none() =>
            {
                ExitStatus::Partial
            }
            _ => ExitStatus::Success,
        }
    }
}

use Outcome as Self_;

fn plan_text(ui: &Ui, plan: &ResetPlan, to_stderr: bool) {
    let line = |t: &str| if to_stderr { ui.note(t) } else { ui.say(t) };
    let t = &plan.target;
    let current = match (plan.current_owner.known(), plan.current_owner.reason()) {
        (Some(o), _) => {
            let state = match plan.owner_state.known() {
                Some(Membership::NotInAccount) => String::from(" - not in the account"),
                Some(Membership::Member { state, .. }) if state != "ACTIVE" => format!(" - {state}"),
                _ => String::new(),
            };
            format!("{}{state}", owner_text(o))
        }
        (None, Some(why)) => format!("unknown ({why})"),
        (None, None) => String::from("unknown"),
    };
    let new_owner = match &plan.caller.iam_id {
        Some(id) => format!("{} ({id})", plan.caller.display),
        None => plan.caller.display.clone(),
    };
    let key = match (plan.current_key.known(), plan.current_key.reason()) {
        (Some(k), _) => format!("{}{}", k.id, if k.locked { " (locked)" } else { "" }),
        (None, Some(why)) => format!("unknown ({why})"),
        (None, None) => String::from("unknown"),
    };
    line("");
    line(&format!("Region:           {}", ui.entity(t.region.as_str())));
    line(&format!("Resource group:   {} ({})", ui.entity(&t.resource_group.name), t.resource_group.id));
    line(&format!("Current owner:    {current}"));
    line(&format!("Current key:      {key}"));
    line(&format!("New owner:        {new_owner}"));
    match plan.clusters.reason() {
        Some(why) => line(&format!("Clusters:         unknown ({why})")),
        None if plan.clusters().is_empty() => line("Clusters:         none"),
        None => {
            line(&format!("Clusters:         {}", plan.clusters().len()));
            let mut clusters: Vec<_> = plan.clusters().iter().collect();
            clusters.sort_by(|a, b| crate::ui::natural_cmp(&a.name, &b.name));
            let rows: Vec<Vec<String>> = clusters
                .iter()
                .map(|c| vec![c.name.clone(), c.provider.clone(), c.kind.clone(), c.state.clone()])
                .collect();
            line("");
            for l in ui.table_lines(&["Name", "Provider", "Type", "State"], &rows) {
                line(&format!("  {l}"));
            }
        }
    }
    line("");
    for w in plan_warnings(plan) {
        ui.warn(&w);
    }
}

fn done_text(
    ui: &Ui,
    plan: &ResetPlan,
    report: &ResetReport,
    verification: Option<&Verification>,
    addons: Option<&[ClusterResult]>,
    finished: bool,
) {
    if finished {
        ui.ok();
    }
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
        report.region,
        crate::ui::one_line(&report.resource_group_name),
        crate::ui::one_line(&report.new_owner.display)
    ));
    if let Some(id) = &report.new_key_id {
        ui.say(&format!("New key ID: {id}"));
    }
    match verification {
        Some(Verification::Verified) => ui.say("Verified: the clusters now report the new owner."),
        Some(Verification::AlreadyOwner) => ui.say(&format!(
            "You already owned the key, so the owner cannot show the change; {}.",
            if report.new_key_id.is_some() {
                "the new key exists in IAM"
            } else {
                "the new key could not be found in IAM's list"
            }
        )),
        _ => {}
    }
    if let Some(results) = addons {
        ui.say("");
        crate::commands::addons::results_text(ui, results);
    }
    let steps = follow_ups(ui, plan, addons);
    if steps.is_empty() {
        return;
    }
    ui.say("");
    ui.say("Next:");
    for (text, command) in steps {
        ui.say(&format!("  {text}"));
        if let Some(c) = command {
            ui.say(&format!("    {}", ui.command(&format!("'{c}'"))));
        }
    }
}

/// A spinner with the elapsed time while the new owner is awaited.
fn spinner(ui: &Ui, text: &str) -> indicatif::ProgressBar {
    let bar = ui.progress_bar(None, "{spinner} {msg} {elapsed}");
    bar.set_message(text.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Before anything else: a trusted profile is refused, the region name is checked, and the
/// caller's permissions are checked (unless `--skip-preflight`): what is missing fails the
/// command with the fix; what cannot be read is a warning.
async fn preflight(
    session: &cluster_api_key_core::ops::Session,
    ui: &Ui,
    args: &ResetArgs,
) -> Result<(), CommandError> {
    use cluster_api_key_core::ops::check::{self, State, Subject};
    let caller = session.caller().await?;
    if caller.kind == cluster_api_key_core::types::IdentityKind::TrustedProfile {
        return Err(CommandError::failed(
            "A trusted profile cannot own the cluster API key: the key is an API key of the identity that resets it, and trusted profiles have none.",
        )
        .with_hint("Log in as a functional ID (a user) or with a service ID's API key ('{cli} login --apikey @KEY_FILE'), then reset again."));
    }
    let regions: Vec<String> = args.regions();
    cluster_api_key_core::ops::discovery::regions(&regions)?;
    if args.skip_preflight {
        return Ok(());
    }
    let groups: Vec<String> = args.groups();
    let report = check::check(session, &Subject::Caller, &regions, &groups).await?;
    let Some(t) = report.targets.first() else { return Ok(()) };
    let mut missing = Vec::new();
    for r in &t.requirements {
        match &r.state {
            State::Missing { .. } => {
                let (_, detail) = crate::commands::check::state_text(ui, &report, &r.state);
                missing.push(format!("{}: {detail}", r.what));
            }
            State::Unknown { reason } => ui.warn(&format!("Could not check '{}': {reason}.", r.what)),
            _ => {}
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let (region, group) = (
        t.target.region.as_str(),
        crate::ui::group_arg(&t.target.resource_group.name, t.target.resource_group.id.as_str()),
    );
    let who = if caller.display.contains('@') {
        format!("--user {}", caller.display)
    } else {
        format!("--iam-id {}", report.identity.iam_id)
    };
    let mut e = CommandError::failed(format!(
        "You cannot safely reset the API key of region {region} and resource group {group}: {} requirement{} missing. Nothing was changed.",
        missing.len(),
        if missing.len() == 1 { " is" } else { "s are" }
    ));
    for m in missing {
        e = e.with_hint(m);
    }
    Err(e.with_hint(format!(
        "An account administrator can create them with '{{me}} check --region {region} -g {group} {who} --grant'; '--skip-preflight' skips this check."
    )))
}

/// How resets run, from the context: the audit log, the lock folder, the timings.
pub fn execute_options(here: &Here, fresh_snapshot: bool) -> reset::ExecuteOptions {
    let ctx = &here.session.ctx;
    reset::ExecuteOptions {
        audit: here.audit.clone(),
        lock_dir: here.plugin_dir.as_ref().map(|d| d.join("locks")),
        lock_timeout: Duration::from_secs(ctx.lock_timeout_secs),
        grace: Duration::from_secs(ctx.reset_grace_secs),
        interval: Duration::from_millis(ctx.verify_interval_ms),
        fresh_snapshot,
        ..reset::ExecuteOptions::default()
    }
}

/// Runs `reset`.
///
/// # Errors
/// Any failure, ready to print.
pub async fn run(here: &Here, ui: &Ui, args: &ResetArgs) -> Result<Box<dyn Render>, CommandError> {
    let session = &here.session;
    if args.is_fleet() {
        return crate::commands::fleet::run(here, ui, args).await;
    }
    preflight(session, ui, args).await?;
    ui.progress("Collecting the clusters and the current API key owner...");
    let (regions, groups) = (args.regions(), args.groups());
    let plan = reset::plan(session, regions.first().map(String::as_str), groups.first().map(String::as_str)).await?;
    // The plan is what the user decides on: shown even with -q; in JSON mode on stderr when a
    // question follows (stdout carries only the document).
    if !ui.json {
        plan_text(ui, &plan, false);
    } else if !args.force && !args.dry_run {
        plan_text(ui, &plan, true);
    }
    // With --restart-addons: which clusters run the add-ons (their add-on lists; reads only).
    let addon_opts = crate::commands::addons::options(here, &[], args.endpoint, 4);
    let addon_plan = if args.restart_addons {
        ui.progress("Finding the add-ons of the clusters...");
        let group = Some(plan.target.resource_group.id.clone());
        let p = addons::plan_clusters(session, plan.clusters().to_vec(), group, &addon_opts).await;
        if !p.clusters.is_empty() {
            let to_stderr = ui.json && !args.force && !args.dry_run;
            if !ui.json || to_stderr {
                crate::commands::addons::plan_text(ui, &p, to_stderr);
            }
        }
        Some(p)
    } else {
        None
    };
    let rendered = |outcome, addon_plan, addon_results| -> Result<Box<dyn Render>, CommandError> {
        Ok(Box::new(Rendered { outcome, addon_plan, addon_results }))
    };
    if args.dry_run {
        return rendered(Outcome::DryRun(Box::new(plan)), addon_plan, None);
    }
    let t = &plan.target;
    if !args.force {
        let question = format!(
            "Reset the API key for every cluster in region {} and resource group {}{}?",
            t.region,
            crate::ui::one_line(&t.resource_group.name),
            if addon_plan.as_ref().is_some_and(|p| p.affected() > 0) { ", then re-create the add-on pods" } else { "" }
        );
        if !ui.confirm(&question)? {
            return rendered(Outcome::Cancelled(Box::new(plan)), addon_plan, None);
        }
    }
    // Before the reset: each affected cluster's storage-secret-store, to see the new key arrive.
    let prepared = crate::commands::addons::note_secrets(ui, session, addon_plan.as_ref(), &addon_opts).await;
    session.client.http().restart_budget();
    ui.progress(&format!(
        "Resetting the API key for region {} and resource group {}...",
        ui.entity(t.region.as_str()),
        ui.entity(&t.resource_group.name)
    ));
    let ctx = &session.ctx;
    let opts = execute_options(here, true);
    // From here on a signal must not end the process silently: the POST may be under way.
    let interrupts = Interrupts::listen();
    let mut report = match reset::execute(session, &plan, &opts, interrupts.first()).await {
        Ok(r) => r,
        Err(e @ CoreError::ResetOutcomeUnknown { .. }) => {
            return rendered(Outcome::Unknown(Box::new(plan), e.into()), addon_plan, None);
        }
        // execute() returns other errors only for IBM's own refusal or a request never sent.
        Err(e) => return Err(CommandError::from(e).with_hint("Nothing was changed: the API key was not reset.")),
    };
    let verification = if args.no_verify || plan.clusters().is_empty() || interrupts.seen() {
        None
    } else {
        ui.progress("Waiting for the new owner to show (IAM replicates new keys)...");
        let bar = spinner(ui, "Waiting for the new owner (Ctrl-C stops waiting)");
        let timeout = Duration::from_secs(ctx.verify_timeout_secs);
        let interval = Duration::from_millis(ctx.verify_interval_ms);
        let v = tokio::select! {
            v = reset::verify(session, &plan, timeout, interval) => Some(v),
            () = interrupts.first() => None,
        };
        bar.finish_and_clear();
        v
    };
    if interrupts.seen() {
        report.warnings.push(String::from(
            "Interrupted: the reset happened, but the new owner was not verified. Press Ctrl-C again to exit at once.",
        ));
    }
    let addon_results = match prepared {
        Some(prepared) if !interrupts.seen() => {
            Some(crate::commands::addons::restart_after_reset(ui, &interrupts, &prepared, &addon_opts, args.wait).await)
        }
        _ => None,
    };
    if addon_plan.as_ref().is_some_and(|p| p.affected() > 0) && addon_results.is_none() {
        report.warnings.push(format!(
            "Interrupted: no add-on pod was re-created. Once the new key has reached the clusters, run '{} restart-addons --region {} -g {}'.",
            ui.me,
            plan.target.region,
            crate::ui::group_arg(&plan.target.resource_group.name, plan.target.resource_group.id.as_str())
        ));
    }
    rendered(Outcome::Done { plan: Box::new(plan), report: Box::new(report), verification }, addon_plan, addon_results)
}
