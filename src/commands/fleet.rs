//! Fleet `reset`: one plan table, one confirmation, the resets in the pool, one report of every
//! target. Selected by `--region`/`-g` lists, `--all-regions`, `--all-resource-groups` and the
//! automation filters `--if-missing`, `--if-older-than`, `--unless-owner`.

use std::sync::atomic::Ordering;
use std::time::Duration;

use cluster_api_key_core::ops::addons::{self, ClusterResult};
use cluster_api_key_core::ops::check::{self, State};
use cluster_api_key_core::ops::fleet::{self, Candidate, Outcome, Selection};
use cluster_api_key_core::ops::reset::Verification;
use cluster_api_key_core::types::IamId;
use serde_json::{Value, json};

use super::reset::{document, owner_text};
use super::{ExitStatus, Here, Render};
use crate::cli::ResetArgs;
use crate::error::CommandError;
use crate::signals::Interrupts;
use crate::ui::Ui;

struct Report {
    /// The `-r`/`-g` flags of the run, for the prune command it suggests.
    scope: String,
    candidates: Vec<Candidate>,
    outcomes: Option<Vec<Outcome>>,
    dry_run: bool,
    /// With `--restart-addons`: each cluster of the targets that were reset.
    addons: Option<Vec<ClusterResult>>,
    /// With `--restart-addons`: the user stopped the command before any add-on was restarted.
    addons_not_started: bool,
}

impl Report {
    fn counts(&self) -> (usize, usize, usize, usize) {
        let selected = self.candidates.iter().filter(|c| c.skip.is_none()).count();
        let outcomes = self.outcomes.as_deref().unwrap_or_default();
        let reset = outcomes.iter().filter(|o| matches!(o, Outcome::Reset(..))).count();
        let failed = outcomes.iter().filter(|o| matches!(o, Outcome::Failed(_))).count();
        let unknown = outcomes.iter().filter(|o| matches!(o, Outcome::Unknown(_))).count();
        (selected, reset, failed, unknown)
    }
}

fn outcome_words(o: &Outcome) -> (&'static str, String) {
    match o {
        Outcome::Reset(r, v) => (
            "reset",
            match (&r.new_key_id, v) {
                (Some(id), Some(Verification::Verified)) => format!("{id}, verified"),
                (Some(id), _) => id.to_string(),
                (None, _) => String::from("new key not listed"),
            },
        ),
        Outcome::Failed(e) => ("failed", cluster_api_key_core::error::clause(&e.to_string()).to_owned()),
        Outcome::Unknown(e) => ("unknown", cluster_api_key_core::error::clause(&e.to_string()).to_owned()),
        Outcome::Skipped(why) => ("skipped", why.clone()),
    }
}

impl Render for Report {
    fn json(&self, ui: &Ui) -> Result<Value, CommandError> {
        let mut targets = Vec::new();
        for (i, c) in self.candidates.iter().enumerate() {
            let outcome = self.outcomes.as_ref().and_then(|o| o.get(i));
            let mut v = match outcome {
                Some(Outcome::Reset(r, v)) => document(&c.plan, Some((r, v.as_ref())), ui, None)?,
                _ => document(&c.plan, None, ui, None)?,
            };
            v["dryRun"] = Value::Bool(self.dry_run);
            v["selected"] = Value::Bool(c.skip.is_none());
            v["skipReason"] = c.skip.clone().map_or(Value::Null, Value::from);
            if let Some(o) = outcome {
                let (word, detail) = outcome_words(o);
                v["outcome"] = Value::from(word);
                v["detail"] = Value::from(detail);
            }
            targets.push(v);
        }
        let (selected, reset, failed, unknown) = self.counts();
        let mut v = json!({
            "targets": targets,
            "summary": {"targets": self.candidates.len(), "selected": selected, "reset": reset, "failed": failed, "unknown": unknown},
        });
        if let Some(r) = &self.addons {
            v["addons"] = super::addons::results_json(r)?;
        }
        Ok(v)
    }

    fn text(&self, ui: &Ui) {
        let (selected, reset, failed, unknown) = self.counts();
        if self.dry_run {
            ui.say(&format!(
                "Dry run: {selected} of {} targets would be reset; nothing was changed.",
                self.candidates.len()
            ));
            return;
        }
        let Some(outcomes) = &self.outcomes else {
            ui.say("Nothing was reset.");
            return;
        };
        ui.ok();
        let rows: Vec<Vec<String>> = self
            .candidates
            .iter()
            .zip(outcomes)
            .map(|(c, o)| {
                let (word, detail) = outcome_words(o);
                vec![
                    c.plan.target.region.to_string(),
                    c.plan.target.resource_group.name.clone(),
                    word.to_owned(),
                    detail,
                ]
            })
            .collect();
        ui.table(&["Region", "Resource group", "Outcome", "Detail"], &rows);
        ui.say("");
        ui.say(&format!("{reset} of {selected} selected targets reset, {failed} failed, {unknown} unknown."));
        if unknown > 0 {
            ui.warn("An unknown outcome may have happened: check those targets with 'info --region R -g G' before resetting them again.");
        }
        if let Some(r) = &self.addons {
            ui.say("");
            super::addons::results_text(ui, r);
        }
        if reset > 0 {
            ui.say("");
            ui.say("Next:");
            ui.say(&format!(
                "  Remove the superseded keys: {}",
                ui.command(&format!("'{} prune{}'", ui.me, self.scope))
            ));
            if self.addons.is_none() {
                ui.say(&format!(
                    "  Once the new keys have reached the clusters (10 to 30 minutes), re-create their add-on pods: '{} restart-addons --region R -g G' for each target reset (the JSON's followUps name each).",
                    ui.me
                ));
            }
        }
    }

    fn status(&self) -> ExitStatus {
        let (selected, reset, failed, unknown) = self.counts();
        let addons_failed = self.addons.as_deref().is_some_and(|r| super::addons::counts(r).3 > 0);
        match &self.outcomes {
            Some(_) if selected > 0 && reset == 0 => ExitStatus::Failed,
            Some(_) if failed + unknown > 0 || reset < selected || addons_failed || self.addons_not_started => {
                ExitStatus::Partial
            }
            _ => ExitStatus::Success,
        }
    }
}

/// Runs a fleet reset.
///
/// # Errors
/// Usage errors for unknown regions and groups; a pre-flight that fails for a selected target;
/// errors reading the account.
pub async fn run(here: &Here, ui: &Ui, args: &ResetArgs) -> Result<Box<dyn Render>, CommandError> {
    let session = &here.session;
    let concurrency = usize::from(args.concurrency);
    // `--unless-owner functional`: the policy's functional IDs (read before any request).
    let unless_functional = if args.unless_owner.as_deref().is_some_and(|u| u.eq_ignore_ascii_case("functional")) {
        let policy = here.policy(args.policy.as_deref())?;
        if policy.functional_ids.is_empty() {
            return Err(CommandError::usage(
                match &policy.path {
                    Some(p) => {
                        format!("--unless-owner functional: the policy '{}' names no functional_ids.", p.display())
                    }
                    None => String::from(
                        "--unless-owner functional needs a policy file with functional_ids (--policy FILE, CLUSTER_API_KEY_POLICY, or policy.toml in the plugin's folder).",
                    ),
                },
                None,
            ));
        }
        policy.functional_ids
    } else {
        Vec::new()
    };
    let sel = Selection {
        regions: args.regions(),
        groups: args.groups(),
        all_regions: args.all_regions,
        all_groups: args.all_resource_groups,
        if_missing: args.if_missing,
        if_older_than: args.if_older_than,
        unless_owner: args.unless_owner.as_deref().filter(|u| !u.eq_ignore_ascii_case("functional")).map(IamId::new),
        unless_functional,
    };
    ui.progress("Reading every selected region and resource group...");
    let candidates = fleet::plan(session, &sel, session.ctx.http.concurrency).await?;
    if !ui.json || !args.force {
        let rows: Vec<Vec<String>> = candidates
            .iter()
            .map(|c| {
                let t = &c.plan.target;
                vec![
                    t.region.to_string(),
                    t.resource_group.name.clone(),
                    c.plan.clusters().len().to_string(),
                    c.plan.current_owner.known().map_or_else(|| String::from("-"), owner_text),
                    c.key_age_days.map_or_else(|| String::from("-"), |d| format!("{d}d")),
                    c.skip.as_ref().map_or_else(|| String::from("reset"), |w| format!("skip: {w}")),
                ]
            })
            .collect();
        let lines =
            ui.table_lines(&["Region", "Resource group", "Clusters", "Current owner", "Key age", "Plan"], &rows);
        for l in lines {
            if ui.json { ui.note(&l) } else { ui.say(&l) }
        }
        if !ui.json {
            ui.say("");
        }
    }
    let selected: Vec<_> = candidates.iter().filter(|c| c.skip.is_none()).map(|c| c.plan.target.clone()).collect();
    if !args.skip_preflight && !selected.is_empty() {
        let pre = check::reset_preflight(session, &selected).await?;
        let mut missing = Vec::new();
        for (t, reqs) in &pre {
            for r in reqs {
                match &r.state {
                    State::Missing { .. } => {
                        missing.push(format!("{} / {}: {}", t.region, t.resource_group.name, r.what));
                    }
                    State::Unknown { reason } => ui.warn(&format!(
                        "{} / {}: could not check '{}': {reason}.",
                        t.region, t.resource_group.name, r.what
                    )),
                    _ => {}
                }
            }
        }
        if !missing.is_empty() {
            let mut e = CommandError::failed(format!(
                "You cannot reset every selected target: {} requirement{} missing. Nothing was changed.",
                missing.len(),
                if missing.len() == 1 { " is" } else { "s are" }
            ));
            for m in missing {
                e = e.with_hint(m);
            }
            return Err(e.with_hint(
                "See what grants them with '{me} check --region R -g G'; '--skip-preflight' skips this check.",
            ));
        }
    }
    let mut scope = String::new();
    if !args.all_regions {
        for r in args.regions() {
            scope.push_str(&format!(" -r {r}"));
        }
    }
    if !args.all_resource_groups {
        for g in args.groups() {
            scope.push_str(&format!(" -g {g}"));
        }
    }
    let report = |outcomes, dry_run, addons, addons_not_started| -> Box<dyn Render> {
        Box::new(Report {
            scope: scope.clone(),
            candidates: candidates.clone(),
            outcomes,
            dry_run,
            addons,
            addons_not_started,
        })
    };
    // With --restart-addons: the add-ons of every selected target's clusters (reads only).
    let addon_opts = super::addons::options(here, &[], args.endpoint, 4);
    let addon_plan = if args.restart_addons && !selected.is_empty() {
        ui.progress("Finding the add-ons of the clusters...");
        // One concurrent pass over every selected target's clusters (each knows its group).
        let clusters =
            candidates.iter().filter(|c| c.skip.is_none()).flat_map(|c| c.plan.clusters().to_vec()).collect();
        let all = addons::plan_clusters(session, clusters, None, &addon_opts).await;
        if !all.clusters.is_empty() && (!ui.json || !args.force) {
            super::addons::plan_text(ui, &all, ui.json);
        }
        Some(all)
    } else {
        None
    };
    if args.dry_run || selected.is_empty() {
        return Ok(report(None, args.dry_run, None, false));
    }
    let then = if addon_plan.as_ref().is_some_and(|p| p.affected() > 0) {
        ", then re-create the add-on pods of their clusters"
    } else {
        ""
    };
    if !args.force && !ui.confirm(&format!("Reset the API key of {} targets{then}?", selected.len()))? {
        return Ok(report(None, false, None, false));
    }
    // Before any reset: each affected cluster's storage-secret-store, to see its new key arrive.
    let prepared = super::addons::note_secrets(ui, session, addon_plan.as_ref(), &addon_opts).await;
    session.client.http().restart_budget();
    let ctx = &session.ctx;
    let opts = super::reset::execute_options(here, false);
    let verify = (!args.no_verify)
        .then(|| (Duration::from_secs(ctx.verify_timeout_secs), Duration::from_millis(ctx.verify_interval_ms)));
    // Ctrl-C stops starting targets; those in flight finish and are reported.
    let interrupts = Interrupts::listen();
    let stopped = interrupts.stop_flag();
    let bar =
        ui.progress_bar(Some(selected.len() as u64), "{spinner} Resetting {pos}/{len} targets {wide_bar} {elapsed}");
    let outcomes =
        fleet::execute(session, &candidates, &opts, verify, concurrency, &|| stopped.load(Ordering::SeqCst), &|_| {
            bar.inc(1);
        })
        .await;
    bar.finish_and_clear();
    // Only the clusters of targets that were reset: elsewhere no new key is coming.
    let reset: Vec<&Candidate> =
        candidates.iter().zip(&outcomes).filter(|(_, o)| matches!(o, Outcome::Reset(..))).map(|(c, _)| c).collect();
    let mut not_started = false;
    let addon_results = match prepared {
        Some(prepared) if !interrupts.seen() => {
            let prepared: Vec<addons::Prepared> = prepared
                .into_iter()
                .filter(|p| {
                    reset.iter().any(|c| {
                        c.plan.target.region.as_str() == p.cluster.region
                            && c.plan.target.resource_group.id.as_str() == p.cluster.resource_group_id
                    })
                })
                .collect();
            Some(super::addons::restart_after_reset(ui, &interrupts, &prepared, &addon_opts, args.wait).await)
        }
        Some(_) if !reset.is_empty() => {
            not_started = true;
            ui.warn("Interrupted: no add-on pod was re-created. Once the new keys have reached the clusters, run:");
            for c in &reset {
                let t = &c.plan.target;
                ui.say(&format!(
                    "  {} restart-addons --region {} -g {}",
                    ui.me,
                    t.region,
                    crate::ui::group_arg(&t.resource_group.name, t.resource_group.id.as_str())
                ));
            }
            None
        }
        _ => None,
    };
    Ok(report(Some(outcomes), false, addon_results, not_started))
}
