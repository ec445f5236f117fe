//! `prune`: plan, confirm, remove superseded keys in the pool, report every key.

use std::sync::atomic::Ordering;

use cluster_api_key_core::ops::prune::{self, Action, Done, Plan};
use serde_json::{Value, json};

use super::{ExitStatus, Here, Render};
use crate::cli::PruneArgs;
use crate::error::{CommandError, to_json};
use crate::signals::Interrupts;
use crate::ui::Ui;

struct Outcome {
    plan: Plan,
    done: Option<Vec<Done>>,
    dry_run: bool,
}

fn action_text(a: Option<Action>, unlock: bool) -> &'static str {
    match (a, unlock) {
        (Some(Action::Delete), false) => "delete",
        (Some(Action::Delete), true) => "unlock, delete",
        (Some(Action::Disable), false) => "disable",
        (Some(Action::Disable), true) => "unlock, disable",
        (None, _) => "skip",
    }
}

impl Outcome {
    fn counts(&self) -> (usize, usize, usize) {
        let done = self.done.as_deref().unwrap_or_default();
        let ok = done.iter().filter(|d| d.outcome == "deleted" || d.outcome == "disabled").count();
        let failed = done.iter().filter(|d| d.outcome == "failed").count();
        let planned = self.plan.candidates.iter().filter(|c| c.action.is_some()).count();
        (planned, ok, failed)
    }
}

impl Render for Outcome {
    fn json(&self) -> Result<Value, CommandError> {
        let mut keys = Vec::new();
        for (i, c) in self.plan.candidates.iter().enumerate() {
            let mut v = to_json(c)?;
            if let Some(d) = self.done.as_ref().and_then(|d| d.get(i)) {
                v["outcome"] = Value::from(d.outcome);
                v["detail"] = to_json(&d.detail)?;
            }
            keys.push(v);
        }
        let (planned, ok, failed) = self.counts();
        Ok(json!({
            "dryRun": self.dry_run,
            "keys": keys,
            "notes": self.plan.notes,
            "summary": {"planned": planned, "done": ok, "failed": failed, "skipped": self.plan.candidates.len() - ok - failed},
        }))
    }

    fn text(&self, ui: &Ui) {
        let (planned, ok, failed) = self.counts();
        if self.dry_run {
            ui.say(&format!("Dry run: {planned} key(s) would be removed; nothing was changed."));
            return;
        }
        let Some(done) = &self.done else {
            ui.say("Nothing was removed.");
            return;
        };
        ui.ok();
        let rows: Vec<Vec<String>> = self
            .plan
            .candidates
            .iter()
            .zip(done)
            .map(|(c, d)| {
                vec![
                    c.key_id.to_string(),
                    format!("{} / {}", c.target.region, c.target.resource_group.name),
                    d.outcome.to_owned(),
                    d.detail.clone().unwrap_or_default(),
                ]
            })
            .collect();
        if !rows.is_empty() {
            ui.table(&["Key", "Target", "Outcome", "Detail"], &rows);
            ui.say("");
        }
        ui.say(&format!("{ok} of {planned} key(s) removed, {failed} failed."));
    }

    fn status(&self) -> ExitStatus {
        let (planned, ok, failed) = self.counts();
        match self.done {
            Some(_) if failed > 0 && ok == 0 && planned > 0 => ExitStatus::Failed,
            Some(_) if failed > 0 || ok < planned => ExitStatus::Partial,
            _ => ExitStatus::Success,
        }
    }
}

/// Runs `prune`.
///
/// # Errors
/// Usage errors for unknown regions and groups; errors reading the account.
pub async fn run(here: &Here, ui: &Ui, args: &PruneArgs) -> Result<Box<dyn Render>, CommandError> {
    let concurrency = here.session.ctx.http.concurrency;
    let opts = prune::Options {
        regions: args.region.clone(),
        groups: args.resource_group.clone(),
        older_than: args.older_than,
        include_orphans: args.include_orphans,
        disable_only: args.disable_only,
        unlock: args.unlock,
        concurrency,
    };
    ui.progress("Finding superseded containers-kubernetes-key keys...");
    let plan = prune::plan(&here.session, &opts).await?;
    let planned = plan.candidates.iter().filter(|c| c.action.is_some()).count();
    if !ui.json {
        if plan.candidates.is_empty() {
            ui.say("No superseded key was found.");
        } else {
            let rows: Vec<Vec<String>> = plan
                .candidates
                .iter()
                .map(|c| {
                    vec![
                        c.key_id.to_string(),
                        format!("{} / {}", c.target.region, c.target.resource_group.name),
                        c.created.clone().unwrap_or_default(),
                        action_text(c.action, c.unlock_first).to_owned(),
                        c.skip.clone().unwrap_or_else(|| c.reason.clone()),
                    ]
                })
                .collect();
            ui.table(&["Key", "Target", "Created", "Action", "Why"], &rows);
            ui.say("");
        }
        for n in &plan.notes {
            ui.warn(n);
        }
    }
    if args.dry_run || planned == 0 {
        return Ok(Box::new(Outcome { plan, done: None, dry_run: args.dry_run }));
    }
    let verb = if args.disable_only { "Disable" } else { "Delete" };
    if !args.force && !ui.confirm(&format!("{verb} {planned} key(s)?"))? {
        return Ok(Box::new(Outcome { plan, done: None, dry_run: false }));
    }
    ui.progress(&format!("Removing {planned} key(s)..."));
    // Ctrl-C stops starting keys; those in flight finish.
    let interrupts = Interrupts::listen();
    let stopped = interrupts.stop_flag();
    let done =
        prune::execute(&here.session, &plan, concurrency, here.audit.as_ref(), &|| stopped.load(Ordering::SeqCst))
            .await;
    Ok(Box::new(Outcome { plan, done: Some(done), dry_run: false }))
}
