//! `restart-addons`: find the clusters that run the add-ons, confirm, delete their controller
//! pods through the Kubernetes API, wait for Ready replacements, report every cluster.
//!
//! `reset --restart-addons` uses the same rendering for its clusters ([`results_text`],
//! [`results_json`]), so one cluster reads the same in both.

use std::time::Duration;

use cluster_api_key_core::ops::addons::{self, ClusterResult, Outcome, Plan, Skipped};
use cluster_api_key_core::ops::masters::{self, MasterResult, MasterTarget, Outcome as MasterOutcome};
use serde_json::{Value, json};

use super::{ExitStatus, Here, Render};
use crate::error::{CommandError, to_json};
use crate::settings::RestartAddonsSettings;
use crate::ui::{Stream, Ui};

/// The plan as table rows: cluster, provider, add-ons, pods.
fn plan_rows(plan: &Plan) -> Vec<Vec<String>> {
    let mut clusters: Vec<_> = plan.clusters.iter().collect();
    clusters.sort_by(|a, b| crate::ui::natural_cmp(&a.name, &b.name));
    clusters
        .iter()
        .map(|c| {
            let what = match (&c.error, &c.trusted_profile_id) {
                (_, Some(profile)) => format!("none: uses the trusted profile {profile}"),
                (Some(e), None) => format!("unknown ({e})"),
                (None, None) if c.addons.is_empty() => String::from("none"),
                (None, None) => c.addons.iter().map(|a| a.cli_name()).collect::<Vec<_>>().join(", "),
            };
            let pods = if c.trusted_profile_id.is_some() { String::new() } else { c.pods.join(", ") };
            vec![c.name.clone(), c.provider.clone(), what, pods]
        })
        .collect()
}

/// Shows the plan (on stderr when `to_stderr`: JSON mode with a question to ask).
pub fn plan_text(ui: &Ui, plan: &Plan, to_stderr: bool) {
    let line = |t: &str| if to_stderr { ui.note(t) } else { ui.say(t) };
    if plan.clusters.is_empty() {
        line("No cluster was found.");
        return;
    }
    let stream = if to_stderr { Stream::Err } else { Stream::Out };
    ui.table_to(stream, 0, &["Cluster", "Provider", "Add-ons", "Pods in kube-system"], &plan_rows(plan));
    line("");
    for c in &plan.clusters {
        for w in &c.warnings {
            ui.warn(&format!("{}: {w}", c.name));
        }
    }
}

fn outcome_text(o: Outcome) -> &'static str {
    match o {
        Outcome::Restarted => "restarted",
        Outcome::NotNeeded => "not needed",
        Outcome::Skipped => "skipped",
        Outcome::Failed => "failed",
        Outcome::Interrupted => "interrupted",
    }
}

/// One row per add-on of each cluster (one row for a cluster handled as a whole).
#[must_use]
pub fn result_rows(results: &[ClusterResult]) -> Vec<Vec<String>> {
    let mut sorted: Vec<_> = results.iter().collect();
    sorted.sort_by(|a, b| crate::ui::natural_cmp(&a.cluster, &b.cluster));
    let mut rows = Vec::new();
    for r in sorted {
        if r.addons.is_empty() {
            let detail = match (r.outcome, reason(r)) {
                (_, Some(why)) => why,
                (Outcome::NotNeeded, None) => String::from("runs neither add-on"),
                _ => String::new(),
            };
            rows.push(vec![r.cluster.clone(), String::from("-"), outcome_text(r.outcome).to_owned(), detail]);
            continue;
        }
        for a in &r.addons {
            let detail = match (&a.reason, a.outcome) {
                (Some(why), _) => why.clone(),
                (None, Outcome::Restarted) => format!("Ready: {}", a.ready.join(", ")),
                _ => String::new(),
            };
            rows.push(vec![
                r.cluster.clone(),
                a.addon.cli_name().to_owned(),
                outcome_text(a.outcome).to_owned(),
                detail,
            ]);
        }
    }
    rows
}

/// Counts by outcome: (restarted, not needed, skipped, failed or interrupted).
#[must_use]
pub fn counts(results: &[ClusterResult]) -> (usize, usize, usize, usize) {
    let n = |o| results.iter().filter(|r| r.outcome == o).count();
    (n(Outcome::Restarted), n(Outcome::NotNeeded), n(Outcome::Skipped), n(Outcome::Failed) + n(Outcome::Interrupted))
}

/// The command that restarts one cluster's add-ons, as printed: the cluster by name when it
/// can be typed as it is, else by ID ([`crate::ui::typable`], the rule of every printed
/// command), so that a name with spaces or quotes cannot break it.
#[must_use]
pub fn restart_command(ui: &Ui, r: &ClusterResult) -> String {
    let cluster = if crate::ui::typable(&r.cluster, "") { r.cluster.as_str() } else { r.id.as_str() };
    format!("{} --cluster {cluster}", ui.cmd("restart-addons"))
}

/// The clusters a user stopped: what was deleted, and what to run to finish the job, one
/// command each, quoted and highlighted as every suggested command is.
fn interrupted_text(ui: &Ui, results: &[ClusterResult]) {
    let stopped: Vec<&ClusterResult> = results.iter().filter(|r| r.outcome == Outcome::Interrupted).collect();
    if stopped.is_empty() {
        return;
    }
    let deleted: Vec<String> =
        stopped.iter().flat_map(|r| r.addons.iter().flat_map(|a| a.deleted.iter().cloned())).collect();
    let what = match deleted.len() {
        0 => String::from("Interrupted before any pod was deleted."),
        1 => format!("Interrupted: 1 pod was deleted ({}); its replacement was not seen Ready yet.", deleted[0]),
        n => format!(
            "Interrupted: {n} pods were deleted ({}); their replacements were not seen Ready yet.",
            deleted.join(", ")
        ),
    };
    // A cluster stopped while its secret had not changed must wait for the new key first.
    let key_first = stopped.iter().any(|r| r.secret_updated == Some(false));
    ui.warn(&format!(
        "{what} To finish{} (this deletes the add-on pods and waits for Ready replacements):",
        if key_first { ", once the new key has reached the cluster" } else { "" }
    ));
    for r in stopped {
        ui.say(crate::ui::Text::from("  ").cmd(restart_command(ui, r)));
    }
}

/// The results as text: the table, the warnings, the count.
pub fn results_text(ui: &Ui, results: &[ClusterResult]) {
    if results.is_empty() {
        return;
    }
    ui.table(&["Cluster", "Add-on", "Outcome", "Detail"], &result_rows(results));
    for r in results {
        for w in &r.warnings {
            ui.warn(&format!("{}: {w}", r.cluster));
        }
    }
    let (restarted, not_needed, skipped, failed) = counts(results);
    let interrupted = results.iter().filter(|r| r.outcome == Outcome::Interrupted).count();
    ui.say("");
    let interrupted_note = if interrupted > 0 { format!(", {interrupted} interrupted") } else { String::new() };
    ui.say(&format!(
        "{} restarted, {} failed{interrupted_note}, {skipped} skipped, {not_needed} without the add-ons.",
        crate::ui::count(restarted, "cluster"),
        failed - interrupted
    ));
    interrupted_text(ui, results);
}

/// Why a cluster was failed or skipped as a whole, in words.
fn reason(r: &ClusterResult) -> Option<String> {
    match r.skipped {
        Some(Skipped::SatelliteSecretNotUpdated) => Some(String::from(
            "not restarted: on Satellite a reset does not update the hand-made storage-secret-store; put the new key in its ca_iam_api_key first, then restart the add-ons and say so (at the prompt, or --satellite-secret-updated)",
        )),
        None => r.reason.clone(),
    }
}

/// The results as JSON: the clusters and a summary.
///
/// # Errors
/// Only a bug.
pub fn results_json(results: &[ClusterResult]) -> Result<Value, CommandError> {
    let (restarted, not_needed, skipped, failed) = counts(results);
    let interrupted = results.iter().filter(|r| r.outcome == Outcome::Interrupted).count();
    let mut clusters = to_json(&results)?;
    for (c, r) in clusters.as_array_mut().into_iter().flatten().zip(results) {
        c["reason"] = Value::from(reason(r));
    }
    Ok(json!({
        "clusters": clusters,
        "summary": {"restarted": restarted, "notNeeded": not_needed, "skipped": skipped, "failed": failed - interrupted, "interrupted": interrupted},
    }))
}

/// The exit status of a set of results: some failed → 4, all failed → 1.
#[must_use]
pub fn results_status(results: &[ClusterResult]) -> ExitStatus {
    let (restarted, not_needed, skipped, failed) = counts(results);
    if failed == 0 {
        ExitStatus::Success
    } else if restarted + not_needed + skipped == 0 {
        ExitStatus::Failed
    } else {
        ExitStatus::Partial
    }
}

/// A spinner over clusters, with the step the latest one is at. Its line is made to fit the
/// terminal from whole phrases (fewer of them when narrow), never cut inside one.
pub struct Progress {
    bar: indicatif::ProgressBar,
    state: std::sync::Mutex<Counts>,
}

/// What the spinner shows: (clusters, clusters done, the latest cluster and its step).
type Counts = (usize, usize, Option<(String, String)>);

/// What the spinner says last, when there is room.
const STOP_HINT: &str = "(Ctrl-C stops waiting)";

impl Progress {
    /// A spinner on stderr (hidden in JSON and quiet modes, and when stderr is not a terminal).
    #[must_use]
    pub fn new(ui: &Ui) -> Self {
        let bar = ui.progress_bar(None, &["{spinner} {msg} {elapsed}"]);
        bar.enable_steady_tick(Duration::from_millis(120));
        let p = Self { bar, state: std::sync::Mutex::new((0, 0, None)) };
        p.show();
        p
    }

    /// Removes the spinner.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// Sets the line: the longest form that fits beside the spinner and the elapsed time.
    fn show(&self) {
        let (total, done, latest) = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        // The spinner and a space, a space and the elapsed time ("59s", "12m").
        let room = crate::ui::bar_width().saturating_sub(2 + 4);
        let count = format!("{done}/{total}");
        let mut forms = Vec::new();
        if total == 0 {
            forms.push(format!("Add-ons {STOP_HINT}"));
        } else if let Some((cluster, step)) = &latest {
            forms.push(format!("Add-ons {count} clusters, {cluster}: {step} {STOP_HINT}"));
            forms.push(format!("{count} clusters, {cluster}: {step} {STOP_HINT}"));
            forms.push(format!("{count} clusters, {cluster}: {step}"));
            forms.push(format!("{count}, {cluster}: {step}"));
            forms.push(format!("{count}: {step}"));
        }
        forms.push(format!("{count} clusters {STOP_HINT}"));
        forms.push(format!("{count} clusters"));
        let fits = |t: &String| unicode_width::UnicodeWidthStr::width(t.as_str()) <= room;
        let line =
            forms.iter().find(|t| fits(t)).cloned().unwrap_or(if total == 0 { String::from("Add-ons") } else { count });
        self.bar.set_message(line);
    }
}

impl addons::Reporter for Progress {
    fn clusters(&self, n: usize) {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).0 = n;
        self.show();
    }

    fn step(&self, cluster: &str, step: &str) {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).2 =
            Some((crate::ui::one_line(cluster), step.to_owned()));
        self.show();
    }

    fn done(&self, _cluster: &str) {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).1 += 1;
        self.show();
    }
}

/// `--restart-addons`, before a reset: each affected cluster's `storage-secret-store` noted, so
/// the new key's arrival can be seen (`None` when no cluster runs the add-ons).
pub async fn note_secrets(
    ui: &Ui,
    session: &cluster_api_key_core::ops::Session,
    plan: Option<&Plan>,
    opts: &addons::Options,
) -> Option<Vec<addons::Prepared>> {
    let plan = plan.filter(|p| p.affected() > 0)?;
    ui.progress("Noting the key in each cluster's storage-secret-store before the reset...");
    Some(addons::prepare(session, plan, opts).await)
}

/// `--restart-addons`, after a reset: waits (with progress) for the new key to reach each
/// cluster, then restarts the add-on pods. Ctrl-C stops the waits; each cluster then reports
/// what it did.
pub async fn restart_after_reset(
    ui: &Ui,
    interrupts: &crate::signals::Interrupts,
    prepared: &[addons::Prepared],
    opts: &addons::Options,
    wait: Duration,
) -> Vec<ClusterResult> {
    ui.progress(&format!(
        "Waiting up to {} for the new key to reach each cluster's storage-secret-store, then for the re-created add-on pods to be Ready...",
        humantime::format_duration(wait)
    ));
    let progress = Progress::new(ui);
    // The first signal stops the waits through the stop flag: each cluster then says what it
    // did (pods deleted, or none), instead of the report being dropped.
    let mut opts = opts.clone();
    opts.stop = Some(interrupts.stop_flag());
    let results = addons::restart_after_reset(prepared, &opts, wait, &progress).await;
    progress.finish();
    results
}

struct Report {
    plan: Plan,
    results: Option<Vec<ClusterResult>>,
    dry_run: bool,
    /// `--refresh-masters` was given.
    refresh_masters: bool,
    /// The refreshes, when they ran (not in a dry run, nor after a declined question).
    masters: Option<Vec<MasterResult>>,
}

impl Report {
    /// Whether any master refresh did not end in a refresh.
    fn masters_unfinished(&self) -> Option<ExitStatus> {
        let results = self.masters.as_ref()?;
        if results.iter().any(|m| m.outcome == MasterOutcome::Unknown) {
            Some(ExitStatus::Unknown)
        } else if results.iter().any(|m| m.outcome != MasterOutcome::Refreshed) {
            Some(ExitStatus::Partial)
        } else {
            None
        }
    }
}

/// The clusters whose masters `--refresh-masters` refreshes: every selected one (a master
/// refresh concerns the master, whatever add-ons the cluster runs).
fn master_targets(plan: &Plan) -> Vec<MasterTarget> {
    plan.clusters
        .iter()
        .map(|c| MasterTarget {
            name: c.name.clone(),
            id: c.id.clone(),
            region: c.region.clone(),
            resource_group_id: c.resource_group_id.clone(),
        })
        .collect()
}

/// The masters' table and counts.
fn masters_text(ui: &Ui, results: &[MasterResult]) {
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|m| vec![m.cluster.clone(), m.outcome.as_str().to_owned(), m.detail.clone().unwrap_or_default()])
        .collect();
    ui.table(&["Cluster", "Master", "Detail"], &rows);
    let n = |o: MasterOutcome| results.iter().filter(|m| m.outcome == o).count();
    ui.say(&format!(
        "{} refreshed, {} failed, {} unknown, {} skipped.",
        crate::ui::count(n(MasterOutcome::Refreshed), "master"),
        n(MasterOutcome::Failed),
        n(MasterOutcome::Unknown),
        n(MasterOutcome::Skipped)
    ));
    ui.say("");
}

impl Render for Report {
    fn json(&self, _ui: &Ui) -> Result<Value, CommandError> {
        let mut v = match &self.results {
            Some(r) => results_json(r)?,
            None => json!({"clusters": Value::Array(Vec::new())}),
        };
        v["dryRun"] = Value::Bool(self.dry_run);
        v["plan"] = to_json(&self.plan.clusters)?;
        if self.refresh_masters {
            v["masters"] = to_json(&self.masters)?;
        }
        if self.results.is_none() && !self.dry_run {
            v["cancelled"] = Value::Bool(self.plan.affected() > 0);
        }
        Ok(v)
    }

    fn text(&self, ui: &Ui) {
        let masters = self.masters.as_deref();
        // `OK` only when all that was asked is done, before what was done.
        if (masters.is_some() || self.results.is_some()) && self.status() == ExitStatus::Success {
            ui.ok();
        }
        if let Some(m) = masters {
            masters_text(ui, m);
        }
        match &self.results {
            Some(r) => results_text(ui, r),
            None if self.dry_run && self.refresh_masters => ui.say(&format!(
                "Dry run: the masters of {} would be refreshed and the add-on pods of {} re-created; nothing was changed.",
                crate::ui::count(self.plan.clusters.len(), "cluster"),
                crate::ui::count(self.plan.affected(), "cluster")
            )),
            None if masters.is_some() => {}
            None if self.dry_run => ui.say(&format!(
                "Dry run: the add-on pods of {} would be re-created; nothing was changed.",
                crate::ui::count(self.plan.affected(), "cluster")
            )),
            // An empty list was said with the plan ("No cluster was found.").
            None if self.plan.clusters.is_empty() => {}
            None if self.plan.affected() == 0 => {
                if self.plan.clusters.iter().any(|c| c.trusted_profile_id.is_some() && !c.addons.is_empty()) {
                    ui.say(
                        "No add-on here reads the API key (a trusted profile stands in for it): nothing to restart.",
                    );
                } else {
                    ui.say("No cluster runs the add-ons: nothing to restart.");
                }
            }
            None => ui.say("Nothing was restarted."),
        }
    }

    fn status(&self) -> ExitStatus {
        let pods = self.results.as_deref().map_or(ExitStatus::Success, results_status);
        match (pods, self.masters_unfinished()) {
            (ExitStatus::Success, Some(m)) => m,
            (ExitStatus::Failed, Some(_)) => ExitStatus::Failed,
            (_, Some(ExitStatus::Unknown)) => ExitStatus::Unknown,
            (p, _) => p,
        }
    }
}

/// Runs `restart-addons`.
///
/// # Errors
/// When the cluster or the target cannot be resolved or listed.
pub async fn run(here: &Here, ui: &Ui, settings: &RestartAddonsSettings<'_>) -> Result<Box<dyn Render>, CommandError> {
    let session = &here.session;
    let (args, selection) = (settings.args, &settings.selection);
    let mut opts = settings.addons.options(here.audit.clone());
    ui.progress("Finding the clusters and their add-ons...");
    let plan = addons::plan(session, selection, &opts).await?;
    if !ui.json {
        plan_text(ui, &plan, false);
    } else if !args.force && !args.dry_run && plan.affected() > 0 {
        plan_text(ui, &plan, true);
    }
    let affected = plan.affected();
    let listing_failed = plan.clusters.iter().any(|c| c.error.is_some());
    // A cluster on a trusted profile is reported as skipped, with the reason, like any other.
    let profiled = plan.clusters.iter().any(|c| c.trusted_profile_id.is_some() && !c.addons.is_empty());
    let refresh = args.refresh_masters && !plan.clusters.is_empty();
    let report = |plan, results, dry_run, masters: Option<Vec<MasterResult>>| -> Box<dyn Render> {
        Box::new(Report { plan, results, dry_run, refresh_masters: args.refresh_masters, masters })
    };
    if args.dry_run || (affected == 0 && !listing_failed && !profiled && !refresh) {
        return Ok(report(plan, None, args.dry_run, None));
    }
    // A Satellite autoscaler reads a secret made by hand: restarting it is worth it only once
    // the user has put the new key there. Asked at the prompt; with -f, only the flag says so.
    opts.satellite_secret_updated = args.satellite_secret_updated;
    let satellite: Vec<&str> = plan.clusters.iter().filter(|c| c.hand_made_secret()).map(|c| c.name.as_str()).collect();
    if !satellite.is_empty() && !opts.satellite_secret_updated && !args.force {
        let question = format!(
            "Does the storage-secret-store of {} (Satellite) hold the new key? If not, {} skipped",
            satellite.join(", "),
            if satellite.len() == 1 { "its autoscaler is" } else { "their autoscalers are" }
        );
        opts.satellite_secret_updated = ui.confirm(&question).await?;
    }
    let skipped = if opts.satellite_secret_updated { 0 } else { satellite.len() };
    let to_restart = affected - skipped;
    if (to_restart > 0 || refresh) && !args.force {
        let pods = format!(
            "delete the add-on controller pods of {}, to be re-created",
            crate::ui::count(to_restart, "cluster")
        );
        let question = match (refresh, to_restart > 0) {
            (true, true) => {
                format!("Refresh the masters of {}, then {pods}?", crate::ui::count(plan.clusters.len(), "cluster"))
            }
            (true, false) => format!("Refresh the masters of {}?", crate::ui::count(plan.clusters.len(), "cluster")),
            _ => {
                let mut q = pods;
                q[..1].make_ascii_uppercase();
                format!("{q}?")
            }
        };
        if !ui.confirm(&question).await? {
            return Ok(report(plan, None, false, None));
        }
    }
    session.client.http().restart_budget();
    // From here on pods get deleted: the first signal stops starting clusters and waiting, and
    // the report says what was deleted; a second one exits at once.
    let interrupts = crate::signals::Interrupts::listen();
    opts.stop = Some(interrupts.stop_flag());
    // The masters first, as IBM's steps order them; each refresh is one PUT, never repeated.
    let master_results = if refresh {
        ui.progress(format!("Refreshing the masters of {}...", crate::ui::count(plan.clusters.len(), "cluster")));
        let stop = interrupts.stop_flag();
        Some(
            masters::refresh(
                session,
                &master_targets(&plan),
                usize::from(args.concurrency),
                opts.audit.as_ref(),
                &|| stop.load(std::sync::atomic::Ordering::SeqCst),
            )
            .await,
        )
    } else {
        None
    };
    if affected == 0 && !listing_failed && !profiled {
        return Ok(report(plan, None, false, master_results));
    }
    let progress = Progress::new(ui);
    let results = addons::restart(session, &plan, &opts, &progress).await;
    progress.finish();
    Ok(report(plan, Some(results), false, master_results))
}
