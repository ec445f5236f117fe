//! `prune`: plan, confirm, remove superseded keys in the pool, report every key.

use std::sync::atomic::Ordering;

use cluster_api_key_core::ops::prune::{self, Action, Candidate, Done, Plan, SkipKind, Why};
use serde_json::{Value, json};

use super::{ExitStatus, Here, Render};
use crate::error::{CommandError, to_json};
use crate::settings::PruneSettings;
use crate::signals::Interrupts;
use crate::ui::Ui;

struct Outcome {
    plan: Plan,
    done: Option<Vec<Done>>,
    dry_run: bool,
    disable_only: bool,
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

/// `1 key`, `2 keys`.
fn keys(n: usize) -> String {
    format!("{n} key{}", if n == 1 { "" } else { "s" })
}

/// Why a key is left alone, in words that name the flag that decides it.
fn skip_text(w: &Why) -> String {
    match w {
        Why::Unsure(reason) => reason.clone(),
        Why::Orphan => {
            String::from("no clusters: the key a cluster created here would use; pruned only with --include-orphans")
        }
        Why::YoungerThan { days, limit_days } => {
            format!("{days} days old, not older than {limit_days} (--older-than)")
        }
        Why::Locked => String::from("locked: pruned only with --unlock"),
        Why::AlreadyDisabled => String::from("already disabled"),
        Why::AlreadyGone => String::from("already gone"),
        Why::InUse { last_used, superseded_at } => format!(
            "still in use: it logged in at {last_used}, after it was superseded ({superseded_at}); re-create the add-on pods (restart-addons) first"
        ),
    }
}

/// The plan's "Why" cell: the skip reason, or why the key is obsolete and what its activity says.
fn why(c: &Candidate) -> String {
    let forced = if c.forced_in_use { "; removed anyway (--force-in-use)" } else { "" };
    match (&c.why, &c.evidence) {
        (Some(w), _) => skip_text(w),
        (None, Some(evidence)) => format!("{}; {evidence}{forced}", c.reason),
        (None, None) => c.reason.clone(),
    }
}

impl Outcome {
    fn counts(&self) -> (usize, usize, usize) {
        let done = self.done.as_deref().unwrap_or_default();
        let ok = done
            .iter()
            .filter(|d| matches!(d.outcome, prune::Outcome::Deleted | prune::Outcome::Disabled | prune::Outcome::Gone))
            .count();
        let failed = done.iter().filter(|d| d.outcome == prune::Outcome::Failed).count();
        let planned = self.plan.candidates.iter().filter(|c| c.action.is_some()).count();
        (planned, ok, failed)
    }

    /// Keys left alone: after a run, those whose outcome is "skipped" (the plan's, and any not
    /// started after Ctrl-C); before one (dry run, declined, nothing to do), those the plan
    /// skips. So the count agrees with each key's `action` and `outcome`.
    fn skipped(&self) -> usize {
        match &self.done {
            Some(done) => done.iter().filter(|d| d.outcome == prune::Outcome::Skipped).count(),
            None => self.plan.candidates.iter().filter(|c| c.action.is_none()).count(),
        }
    }

    /// The past tense of what was asked.
    fn verb(&self) -> &'static str {
        if self.disable_only { "disabled" } else { "deleted" }
    }
}

impl Render for Outcome {
    fn json(&self, _ui: &Ui) -> Result<Value, CommandError> {
        let mut keys = Vec::new();
        for (i, c) in self.plan.candidates.iter().enumerate() {
            let mut v = to_json(c)?;
            v["skip"] = c.why.as_ref().map_or(Value::Null, |w| Value::from(skip_text(w)));
            if c.forced_in_use
                && let Some(e) = &c.evidence
            {
                v["evidence"] = Value::from(format!("{e}; removed anyway (--force-in-use)"));
            }
            if let Some(d) = self.done.as_ref().and_then(|d| d.get(i)) {
                v["outcome"] = Value::from(d.outcome.as_str());
                v["detail"] = to_json(&d.detail.clone().or_else(|| c.why.as_ref().map(skip_text)))?;
                v["leftUnlocked"] = Value::from(d.left_unlocked);
            }
            keys.push(v);
        }
        let (planned, ok, failed) = self.counts();
        Ok(json!({
            "dryRun": self.dry_run,
            "keys": keys,
            "notes": self.plan.notes,
            "summary": {
                "planned": planned,
                "done": ok,
                "failed": failed,
                "skipped": self.skipped(),
                "needAttention": self.plan.needing_attention(),
            },
        }))
    }

    fn text(&self, ui: &Ui) {
        let (planned, ok, failed) = self.counts();
        let attention = self.plan.needing_attention();
        let skipped = self.skipped();
        let also_skipped = if skipped > 0 { format!(", {skipped} skipped") } else { String::new() };
        if self.dry_run {
            ui.say(&format!("Dry run: {} would be {}{also_skipped}; nothing was changed.", keys(planned), self.verb()));
        } else if let Some(done) = &self.done {
            if failed == 0 && attention == 0 && ok == planned {
                ui.ok();
            }
            let rows: Vec<Vec<String>> = self
                .plan
                .candidates
                .iter()
                .zip(done)
                .map(|(c, d)| {
                    vec![
                        c.key_id.to_string(),
                        format!("{} / {}", c.target.region, c.target.resource_group.name),
                        d.outcome.as_str().to_owned(),
                        d.detail.clone().or_else(|| c.why.as_ref().map(skip_text)).unwrap_or_default(),
                    ]
                })
                .collect();
            if !rows.is_empty() {
                ui.table(&["Key", "Target", "Outcome", "Detail"], &rows);
                ui.say("");
            }
            // A key someone else removed meanwhile is done, but not by this run: said apart.
            let gone = done.iter().filter(|d| d.outcome == prune::Outcome::Gone).count();
            let also = if gone > 0 { format!(", {gone} already gone") } else { String::new() };
            // Every key looked at is counted once: done, already gone, skipped or failed.
            ui.say(&format!(
                "{}: {} {}{also}, {skipped} skipped, {failed} failed.",
                keys(self.plan.candidates.len()),
                ok - gone,
                self.verb()
            ));
            for d in done.iter().filter(|d| d.left_unlocked) {
                ui.warn(&format!(
                    "Key {} is left unlocked: lock it again with 'ibmcloud iam api-key-lock {}'.",
                    d.key_id, d.key_id
                ));
            }
        } else if planned > 0 {
            ui.say(&format!("Nothing was {}.", self.verb()));
        } else if skipped > 0 {
            // Nothing to do: said, with how many keys were left alone (the Why column says why).
            ui.say(&format!("Nothing to be {}: {} skipped.", self.verb(), keys(skipped)));
        }
        self.attention_text(ui);
    }

    fn status(&self) -> ExitStatus {
        let (planned, ok, failed) = self.counts();
        match self.done {
            Some(_) if failed > 0 && ok == 0 && planned > 0 => ExitStatus::Failed,
            Some(_) if failed > 0 || ok < planned => ExitStatus::Partial,
            // Keys left for the user (unsure, or in use) are unfinished work, dry run or not.
            _ if self.plan.needing_attention() > 0 => ExitStatus::Partial,
            _ => ExitStatus::Success,
        }
    }
}

impl Outcome {
    /// What the user has to do about the keys prune would not touch.
    fn attention_text(&self, ui: &Ui) {
        let mut unsure: Vec<&Candidate> =
            self.plan.candidates.iter().filter(|c| c.skip_kind == Some(SkipKind::Unsure)).collect();
        if !unsure.is_empty() {
            ui.warn(&format!(
                "{} kept: it cannot be told which key the clusters use. See which owner the clusters report, then remove the right key by hand:",
                keys(unsure.len())
            ));
            unsure.dedup_by(|a, b| a.target == b.target);
            for c in unsure {
                ui.say(&format!("  {} {}", ui.cmd("info"), crate::ui::target_flags(&c.target)));
            }
        }
        let mut in_use: Vec<&Candidate> =
            self.plan.candidates.iter().filter(|c| c.skip_kind == Some(SkipKind::InUse)).collect();
        if !in_use.is_empty() {
            ui.warn(&format!(
                "{} kept: still in use after the reset that superseded {}. Re-create the add-on pods, then prune again (or pass --force-in-use):",
                keys(in_use.len()),
                if in_use.len() == 1 { "it" } else { "them" }
            ));
            in_use.dedup_by(|a, b| a.target == b.target);
            for c in in_use {
                ui.say(&format!("  {} {}", ui.cmd("restart-addons"), crate::ui::target_flags(&c.target)));
            }
        }
    }
}

/// Runs `prune`.
///
/// # Errors
/// Usage errors for unknown regions and groups; errors reading the account.
pub async fn run(here: &Here, ui: &Ui, settings: PruneSettings<'_>) -> Result<Box<dyn Render>, CommandError> {
    let PruneSettings { args, targets, read_concurrency: concurrency } = settings;
    let opts = prune::Options {
        regions: targets.regions,
        groups: targets.groups,
        older_than: args.older_than,
        include_orphans: args.include_orphans,
        disable_only: args.disable_only,
        unlock: args.unlock,
        force_in_use: args.force_in_use,
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
                        why(c),
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
    let disable_only = args.disable_only;
    if args.dry_run || planned == 0 {
        return Ok(Box::new(Outcome { plan, done: None, dry_run: args.dry_run, disable_only }));
    }
    let verb = if disable_only { "Disable" } else { "Delete" };
    if !args.force && !ui.confirm(&format!("{verb} {}?", keys(planned))).await? {
        return Ok(Box::new(Outcome { plan, done: None, dry_run: false, disable_only }));
    }
    ui.progress(&format!("{}ing {}...", verb.trim_end_matches('e'), keys(planned)));
    // Ctrl-C stops starting keys; those in flight finish.
    let interrupts = Interrupts::listen();
    let stopped = interrupts.stop_flag();
    let done =
        prune::execute(&here.session, &plan, concurrency, here.audit.as_ref(), &|| stopped.load(Ordering::SeqCst))
            .await;
    Ok(Box::new(Outcome { plan, done: Some(done), dry_run: false, disable_only }))
}
