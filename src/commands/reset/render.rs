//! What a reset says: the plan (one target in detail, many in a table), the one document of a
//! target (dry run or not), the follow-ups, and the one [`Report`] of a run, single or batch,
//! as text and JSON.
//!
//! The dry run and the real reset print one document shape (JSON) and one set of words (text):
//! the target, the new owner, the previous owner and key, the clusters, then what happened and
//! what to do next. A value that is not known comes with the reason.

use std::time::Duration;

use cluster_api_key_core::Error as CoreError;
use cluster_api_key_core::api::containers::KeyOwner;
use cluster_api_key_core::api::user_management::Membership;
use cluster_api_key_core::model::ClassicStatus;
use cluster_api_key_core::ops::addons::{self, ClusterResult, Outcome as AddonOutcome};
use cluster_api_key_core::ops::clusters::ClustersWait;
use cluster_api_key_core::ops::fleet::{Candidate, Skip};
use cluster_api_key_core::ops::reset::{ResetPlan, ResetReport, Verification};
use serde_json::{Value, json};

use super::leak::{self, LeakResponse, PreviousKey};
use crate::commands::{ExitStatus, Render};
use crate::error::{CommandError, to_json};
use crate::ui::{Stream, Text, Ui};
use cluster_api_key_core::ops::prune::Outcome as PruneOutcome;

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
                w.push(format!(
                    "The current owner, {}, is {state} in the account{}.",
                    o.name,
                    cluster_api_key_core::api::user_management::state_clause(state)
                ));
            }
            _ => {}
        }
    }
    w
}

/// The classic-credentials warning of a target, as the text shows it before the question and
/// as JSON's `warnings` carry it: `(alert, text)`, `alert` when they are set (they, not the key,
/// order the classic infrastructure), else a warning that they could not be read.
pub fn classic_warning(t: &cluster_api_key_core::ops::Target, c: &ClassicStatus) -> Option<(bool, String)> {
    let at = format!("{} / {}", t.region, crate::ui::one_line(&t.resource_group.name));
    match (c.set, &c.unknown_reason) {
        (Some(true), _) => Some((
            true,
            format!(
                "{at}: classic infrastructure credentials{} are set there. They, not the API key, order the classic clusters' infrastructure: this reset does not change them.",
                c.username.as_ref().map(|u| format!(" of {u}")).unwrap_or_default()
            ),
        )),
        (None, Some(why)) => {
            Some((false, format!("{at}: whether classic infrastructure credentials are set could not be read: {why}.")))
        }
        _ => None,
    }
}

/// Every warning of a target, as JSON's `warnings` lists them: the plan's and the classic
/// credentials' (the text shows the same ones, before the question).
fn all_warnings(plan: &ResetPlan, classic: Option<&ClassicStatus>) -> Vec<String> {
    let mut w = plan_warnings(plan);
    w.extend(classic.and_then(|c| classic_warning(&plan.target, c)).map(|(_, text)| text));
    w
}

/// The next steps after a reset, each a sentence and, where there is one, the command. With
/// `addons` (the reset ran `--restart-addons`), only the clusters that still need it. With
/// `leaked`, the previous key is not left for a prune: the leak response deleted it, or says
/// how to.
pub fn follow_ups(
    ui: &Ui,
    plan: &ResetPlan,
    addons: Option<&[ClusterResult]>,
    leaked: bool,
) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let t = &plan.target;
    // A cluster on a trusted profile reads no key: nothing of it is ever to re-create.
    let profiled = |name: &str| plan.clusters().iter().any(|c| c.name == name && c.trusted_profile_id.is_some());
    match addons {
        None if plan.clusters().iter().any(|c| c.trusted_profile_id.is_none()) => out.push((
            String::from(if plan.no_key {
                // There was no key: no pod uses an old one, but each reads the key as it starts.
                "Once the new key has reached the clusters (IBM: 10 to 15 minutes, up to 30), re-create the add-on pods, which read the key when they start (VPC Block Storage CSI controller, cluster autoscaler):"
            } else {
                "Once the new key has reached the clusters (IBM: 10 to 15 minutes, up to 30), re-create the add-on pods that still use the old one (VPC Block Storage CSI controller, cluster autoscaler):"
            }),
            Some(format!("{} {}", ui.cmd("restart-addons"), crate::ui::target_flags(t))),
        )),
        None => {}
        Some(results) => {
            for r in results
                .iter()
                .filter(|r| matches!(r.outcome, AddonOutcome::Failed | AddonOutcome::Skipped) && !profiled(&r.cluster))
            {
                out.push((
                    format!("Re-create the add-on pods of {} once the new key has reached it:", r.cluster),
                    Some(crate::commands::addons::restart_command(ui, r)),
                ));
            }
        }
    }
    if !plan.clusters().is_empty() {
        out.push((
            String::from(
                "The clusters get the new key in 10 to 15 minutes (their storage-secret-store secret), and a health issue NHC009 clears within about 30 (IBM); see what they report then:",
            ),
            Some(format!("{} --read-clusters {}", ui.cmd("status"), crate::ui::target_flags(t))),
        ));
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
        _ if leaked => {}
        (Some(k), owner) => {
            let by = owner.map(|o| format!(", owned by {},", owner_text(o))).unwrap_or_default();
            let unlock = if k.locked { " --unlock" } else { "" };
            out.push((
                format!(
                    "The previous key {}{}{by} is now superseded. Remove it (and any older one) once nothing else uses it{}:",
                    k.id,
                    if k.locked { " (locked)" } else { "" },
                    if k.locked { "; prune unlocks it first" } else { "" }
                ),
                Some(format!("{} {}{unlock}", ui.cmd("prune"), crate::ui::target_flags(t))),
            ));
        }
        (None, Some(o)) => out.push((
            format!(
                "The previous key, owned by {}, is now superseded. Remove it once nothing else uses it:",
                owner_text(o)
            ),
            Some(format!("{} {}", ui.cmd("prune"), crate::ui::target_flags(t))),
        )),
        (None, None) => {}
    }
    out
}

/// The one document of a reset, dry run or not.
pub fn document(
    plan: &ResetPlan,
    classic: Option<&ClassicStatus>,
    done: Result<(&ResetReport, Option<&Verification>), &str>,
    ui: &Ui,
    addons: Option<&[ClusterResult]>,
    leaked: bool,
) -> Result<Value, CommandError> {
    let t = &plan.target;
    let reason = |r: Option<&str>| r.map(str::to_owned);
    // No key yet: the reason for the missing previous owner and key is that, not the lookup's
    // error ("The user credentials could not be found.").
    let previous = |r: Option<&str>| if plan.no_key { Some(String::from(NO_KEY_YET)) } else { reason(r) };
    let mut v = json!({
        "dryRun": done.is_err(),
        "cancelled": false,
        "outcome": if done.is_ok() { "reset" } else { "dry-run" },
        "detail": null,
        "hint": null,
        "target": {"region": t.region, "resourceGroup": to_json(&t.resource_group)?},
        "newOwner": to_json(&plan.caller)?,
        "previousOwner": to_json(&plan.current_owner.known())?,
        "previousOwnerUnknownReason": previous(plan.current_owner.reason()),
        "previousKey": plan.current_key.known().map(|k| json!({"id": k.id, "created": k.created_at, "locked": k.locked, "iamId": k.iam_id})),
        "previousKeyUnknownReason": previous(plan.current_key.reason()),
        "clusters": to_json(&plan.clusters())?,
        "clustersUnknownReason": reason(plan.clusters.reason()),
        "warnings": all_warnings(plan, classic),
        "addons": null,
    });
    // One schema whatever happened: where nothing was reset, every field of a reset is there,
    // null (or false, or empty), with the reason.
    if let Err(why) = done {
        v["newKeyId"] = Value::Null;
        v["newKeyIdUnknownReason"] = Value::from(why);
        v["confirmedAfterError"] = Value::Bool(false);
        v["verified"] = Value::Null;
        v["verification"] = Value::from(why);
        v["auditError"] = Value::Null;
        v["followUps"] = json!([]);
    }
    if let Ok((r, verification)) = done {
        let (verified, how) = match verification {
            Some(Verification::Verified) => (Some(true), "the clusters report the new owner"),
            Some(Verification::AlreadyOwner) => {
                (None, "the owner was already you, so only the new key's existence in IAM was checked")
            }
            Some(Verification::TimedOut(_)) => (Some(false), "the new owner did not show in time"),
            Some(Verification::NoClusters) => (None, "there is no cluster to ask"),
            Some(Verification::NotReplicated(_)) => {
                (None, "unknown: IAM had not replicated the new key yet (404 E06f9) when the wait ended")
            }
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
        v["followUps"] = follow_ups(ui, plan, addons, leaked)
            .into_iter()
            .map(|(text, command)| json!({"text": text, "command": command}))
            .collect();
    }
    Ok(v)
}

/// Why a target's previous owner and key are not shown when it has none.
const NO_KEY_YET: &str = "there is no API key for this region and resource group yet";

/// One target's plan in detail (on stderr when `to_stderr`: JSON mode with a question to ask).
pub fn plan_text(ui: &Ui, plan: &ResetPlan, to_stderr: bool) {
    let line = |t: Text| if to_stderr { ui.note(t) } else { ui.say(t) };
    let t = &plan.target;
    let current = match (plan.current_owner.known(), plan.current_owner.reason()) {
        (Some(o), _) => {
            let state = match plan.owner_state.known() {
                Some(Membership::NotInAccount) => String::from(" - not in the account"),
                // What the state means is in the warning under the plan.
                Some(Membership::Member { state, .. }) if state != "ACTIVE" => format!(" - {state}"),
                _ => String::new(),
            };
            format!("{}{state}", owner_text(o))
        }
        _ if plan.no_key => format!("none ({NO_KEY_YET})"),
        (None, Some(why)) => format!("unknown ({why})"),
        (None, None) => String::from("unknown"),
    };
    let new_owner = match &plan.caller.iam_id {
        Some(id) => format!("{} ({id})", plan.caller.display),
        None => plan.caller.display.clone(),
    };
    let key = match (plan.current_key.known(), plan.current_key.reason()) {
        (Some(k), _) => format!("{}{}", k.id, if k.locked { " (locked)" } else { "" }),
        _ if plan.no_key => String::from("none: this reset creates the first one"),
        (None, Some(why)) => format!("unknown ({why})"),
        (None, None) => String::from("unknown"),
    };
    line(Text::new());
    line(Text::from("Region:           ").name(t.region.as_str()));
    line(
        Text::from("Resource group:   ")
            .name(&t.resource_group.name)
            .plain(" (")
            .id(t.resource_group.id.as_str())
            .plain(")"),
    );
    line(Text::from(format!("Current owner:    {current}")));
    line(Text::from(format!("Current key:      {key}")));
    line(Text::from(format!("New owner:        {new_owner}")));
    match plan.clusters.reason() {
        Some(why) => line(Text::from(format!("Clusters:         unknown ({why})"))),
        None if plan.clusters().is_empty() => line(Text::from("Clusters:         none")),
        None => {
            line(Text::from(format!("Clusters:         {}", plan.clusters().len())));
            let mut clusters: Vec<_> = plan.clusters().iter().collect();
            clusters.sort_by(|a, b| crate::ui::natural_cmp(&a.name, &b.name));
            let rows: Vec<Vec<String>> = clusters
                .iter()
                .map(|c| vec![c.name.clone(), c.provider.clone(), c.kind.clone(), c.state.clone()])
                .collect();
            line(Text::new());
            let stream = if to_stderr { Stream::Err } else { Stream::Out };
            ui.table_to(stream, 2, &["Name", "Provider", "Type", "State"], &rows);
        }
    }
    line(Text::new());
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
    leak: Option<(Option<&LeakResponse>, Option<&ClassicStatus>)>,
) {
    if finished {
        ui.ok();
    }
    if let Some(Verification::TimedOut(seen)) = verification {
        let cluster = plan.clusters().first().map_or("CLUSTER", |c| c.name.as_str());
        ui.warn(
            Text::from(format!(
                "The reset was accepted, but the new owner does not show yet ({seen}). IAM can take a while to replicate a new key; check again with "
            ))
            .cmd(format!("{} --cluster {cluster}", ui.cmd("info")))
            .plain("."),
        );
    }
    if let Some(Verification::NotReplicated(why)) = verification {
        let cluster = plan.clusters().first().map_or("CLUSTER", |c| c.name.as_str());
        ui.warn(
            Text::from(format!(
                "The reset was accepted; whether the clusters use the new key is unknown: {why}. IAM replicates a new key within moments as a rule; check again in a minute with "
            ))
            .cmd(format!("{} --cluster {cluster}", ui.cmd("info")))
            .plain("."),
        );
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
    if let Some((response, _)) = leak {
        match response {
            Some(r) if r.finished() => ui.say(leak::previous_key_text(ui, plan, r)),
            Some(r) => ui.alert(leak::previous_key_text(ui, plan, r)),
            None => {}
        }
    }
    if let Some(results) = addons {
        ui.say("");
        crate::commands::addons::results_text(ui, results);
    }
    let steps = follow_ups(ui, plan, addons, leak.is_some());
    if !steps.is_empty() {
        ui.say("");
        ui.say("Next:");
        for (text, command) in steps {
            ui.say(format!("  {text}"));
            if let Some(c) = command {
                ui.say(Text::from("    ").cmd(c));
            }
        }
    }
    if let Some((_, classic)) = leak {
        exposed_text(ui, &leak::still_exposed(ui, plan, classic));
    }
}

/// What a leak response leaves exposed, as a list with the commands.
fn exposed_text(ui: &Ui, items: &[(String, Option<String>)]) {
    if items.is_empty() {
        return;
    }
    ui.say("");
    ui.say("What the leak still exposes (not rotated by this reset):");
    for (text, command) in items {
        ui.say(format!("  {text}"));
        if let Some(c) = command {
            ui.say(Text::from("    ").cmd(c));
        }
    }
}

/// What happened to one target of a run.
pub enum TargetOutcome {
    /// Reset, with the verification when one ran.
    Reset(Box<ResetReport>, Option<Verification>),
    /// Not reset: IBM's refusal, or a request never sent (the error says which).
    Failed(CoreError),
    /// May or may not have been reset: do not retry blindly (the error carries the hints).
    Unknown(CommandError),
    /// Not selected, or not started (interrupted).
    Skipped(Skip),
}

/// Why a target is skipped, in words that name the flag that decided it.
#[must_use]
pub fn skip_text(s: &Skip) -> String {
    match s {
        Skip::NoClusters => String::from("no clusters: the key would not be used (--include-empty resets it)"),
        Skip::KeyPresent => String::from("a key exists and its owner is active (--if-missing)"),
        Skip::YoungEnough { days, limit_days } => {
            format!("the key is {days} days old, not older than {limit_days} (--if-older-than)")
        }
        Skip::OwnedByCaller => String::from("already yours (--unless-owner me)"),
        Skip::OwnedBy(id) => format!("already owned by {id} (--unless-owner)"),
        Skip::OwnedByFunctional(f) => format!("already owned by the functional ID {f} (--unless-owner functional)"),
        Skip::Interrupted => String::from("interrupted before it started"),
    }
}

impl TargetOutcome {
    /// From a batch's outcome.
    pub fn from_batch(o: cluster_api_key_core::ops::fleet::Outcome) -> Self {
        use cluster_api_key_core::ops::fleet::Outcome;
        match o {
            Outcome::Reset(r, v) => Self::Reset(r, v),
            Outcome::Failed(e) => Self::Failed(e),
            Outcome::Unknown(e) => Self::Unknown(e.into()),
            Outcome::Skipped(why) => Self::Skipped(why),
        }
    }

    /// The outcome in a word, and its detail.
    fn words(&self) -> (&'static str, String) {
        use cluster_api_key_core::error::clause;
        match self {
            Self::Reset(r, v) => (
                "reset",
                match (&r.new_key_id, v) {
                    (Some(id), Some(Verification::Verified)) => format!("{id}, verified"),
                    (Some(id), Some(Verification::NotReplicated(_))) => {
                        format!("{id}, verification unknown (IAM has not replicated it yet: 404 E06f9)")
                    }
                    (Some(id), _) => id.to_string(),
                    (None, _) => String::from("new key not listed"),
                },
            ),
            Self::Failed(e) => ("failed", clause(&e.to_string()).to_owned()),
            Self::Unknown(e) => ("unknown", clause(&e.to_string()).to_owned()),
            Self::Skipped(why) => ("skipped", skip_text(why)),
        }
    }
}

/// How the run was asked for: one target in detail, or many in a table.
pub enum Mode {
    /// One target (`reset -r R -g G`).
    Single,
    /// Many targets, or a filter; `scope`: the `-r`/`-g` flags of the run, for the prune
    /// command it suggests.
    Batch {
        /// The flags.
        scope: String,
    },
}

/// The one report of a reset run, single or batch: every target with its plan and outcome,
/// and the add-ons when `--restart-addons` was given.
pub struct Report {
    /// Single or batch.
    pub mode: Mode,
    /// Every target looked at, with why it is skipped when it is.
    pub targets: Vec<Candidate>,
    /// What happened to each target (same order); `None` for a dry run or a declined
    /// confirmation.
    pub outcomes: Option<Vec<TargetOutcome>>,
    /// `--dry-run`.
    pub dry_run: bool,
    /// With `--restart-addons`: the clusters and their add-ons.
    pub addon_plan: Option<addons::Plan>,
    /// With `--restart-addons`, after the resets: each cluster; `None` when it did not get there.
    pub addon_results: Option<Vec<ClusterResult>>,
    /// `--leaked`: a leak response.
    pub leaked: bool,
    /// With `--leaked`: each target's response (same order as `targets`; `None` where it did
    /// not run: not reset, or a dry run). May be empty when none ran.
    pub leaks: Vec<Option<LeakResponse>>,
    /// With `--wait-clusters`: what the clusters said at the last look.
    pub clusters_wait: Option<ClustersWait>,
}

impl Report {
    fn results(&self) -> Option<&[ClusterResult]> {
        self.addon_results.as_deref()
    }

    /// Target `i`'s leak response, when one ran.
    fn leak(&self, i: usize) -> Option<&LeakResponse> {
        self.leaks.get(i).and_then(Option::as_ref)
    }

    /// Whether a leak response left a compromised key in place where a target was reset.
    fn leaks_unfinished(&self) -> bool {
        if !self.leaked {
            return false;
        }
        let outcomes = self.outcomes.as_deref().unwrap_or_default();
        outcomes
            .iter()
            .enumerate()
            .any(|(i, o)| matches!(o, TargetOutcome::Reset(..)) && !self.leak(i).is_some_and(LeakResponse::finished))
    }

    /// The `leakResponse` of target `i` (with `--leaked`), why it did not run otherwise.
    fn leak_json(&self, i: usize, ui: &Ui, v: &mut Value) {
        if !self.leaked {
            return;
        }
        let c = &self.targets[i];
        let outcome = self.outcomes.as_ref().and_then(|o| o.get(i));
        let why = match outcome {
            _ if c.skip.is_some() => "the target was not selected",
            Some(TargetOutcome::Failed(_)) => "the reset failed: the previous key is still the key in use",
            Some(TargetOutcome::Unknown(_)) => {
                "the outcome of the reset is unknown: check the target before deleting anything"
            }
            Some(TargetOutcome::Skipped(_)) => "the target was not reset",
            _ if self.dry_run => "dry run: nothing was deleted",
            _ => "the target was not reset",
        };
        v["leakResponse"] = leak::json(ui, &c.plan, c.classic_credentials.as_ref(), self.leak(i).ok_or(why));
    }

    /// (selected, reset, failed, unknown).
    fn counts(&self) -> (usize, usize, usize, usize) {
        let selected = self.targets.iter().filter(|c| c.skip.is_none()).count();
        let outcomes = self.outcomes.as_deref().unwrap_or_default();
        let n = |f: fn(&TargetOutcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
        (
            selected,
            n(|o| matches!(o, TargetOutcome::Reset(..))),
            n(|o| matches!(o, TargetOutcome::Failed(_))),
            n(|o| matches!(o, TargetOutcome::Unknown(_))),
        )
    }

    /// Whether add-ons were to be restarted and some were not (failed, interrupted, or never
    /// started because the user stopped the command): unfinished work.
    fn addons_unfinished(&self) -> bool {
        match self.results() {
            Some(r) => r.iter().any(|c| matches!(c.outcome, AddonOutcome::Failed | AddonOutcome::Interrupted)),
            None => {
                self.outcomes.as_ref().is_some_and(|o| o.iter().any(|o| matches!(o, TargetOutcome::Reset(..))))
                    && self.addon_plan.as_ref().is_some_and(|p| p.affected() > 0)
            }
        }
    }

    fn addons_json(&self, v: &mut Value) -> Result<(), CommandError> {
        if let Some(p) = &self.addon_plan {
            v["addons"] = json!({"plan": to_json(&p.clusters)?});
            if let Some(r) = self.results() {
                let done = crate::commands::addons::results_json(r)?;
                v["addons"]["clusters"] = done["clusters"].clone();
                v["addons"]["summary"] = done["summary"].clone();
            }
        }
        Ok(())
    }

    fn single_json(&self, ui: &Ui) -> Result<Value, CommandError> {
        let first = self.targets.first().ok_or_else(|| CommandError::internal("a reset without a target"))?;
        let (plan, classic) = (&first.plan, first.classic_credentials.as_ref());
        let outcome = self.outcomes.as_ref().and_then(|o| o.first());
        let mut v = match outcome {
            Some(TargetOutcome::Reset(report, verification)) => {
                document(plan, classic, Ok((report, verification.as_ref())), ui, self.results(), self.leaked)?
            }
            Some(TargetOutcome::Unknown(e)) => {
                let detail = match e.core() {
                    Some(CoreError::ResetOutcomeUnknown { detail, .. }) => detail.as_str(),
                    _ => "",
                };
                let mut v = document(
                    plan,
                    classic,
                    Err("the outcome of the reset is unknown (see detail)"),
                    ui,
                    None,
                    self.leaked,
                )?;
                v["dryRun"] = Value::Bool(false);
                v["outcome"] = Value::from("unknown");
                v["detail"] = Value::from(detail);
                v["hint"] = Value::from(
                    ui.scoped(&e.hints(&ui.cli, &ui.me).iter().map(Text::to_plain).collect::<Vec<_>>().join(" ")),
                );
                v
            }
            _ if self.dry_run => document(plan, classic, Err("dry run: nothing was reset"), ui, None, self.leaked)?,
            _ => {
                let mut v = document(
                    plan,
                    classic,
                    Err("the confirmation was declined: nothing was reset"),
                    ui,
                    None,
                    self.leaked,
                )?;
                v["dryRun"] = Value::Bool(false);
                v["cancelled"] = Value::Bool(true);
                v["outcome"] = Value::from("cancelled");
                v
            }
        };
        self.addons_json(&mut v)?;
        self.leak_json(0, ui, &mut v);
        if let Some(w) = &self.clusters_wait {
            v["clustersWait"] = to_json(w)?;
        }
        Ok(v)
    }

    fn batch_json(&self, ui: &Ui) -> Result<Value, CommandError> {
        let mut v = self.batch_head()?;
        v["targets"] = (0..self.targets.len()).map(|i| self.batch_item(i, ui)).collect::<Result<Vec<_>, _>>()?.into();
        Ok(v)
    }

    /// The batch document without its targets (an empty list in their place).
    fn batch_head(&self) -> Result<Value, CommandError> {
        let (selected, reset, failed, unknown) = self.counts();
        let mut v = json!({
            "targets": [],
            "summary": {"targets": self.targets.len(), "selected": selected, "reset": reset, "failed": failed, "unknown": unknown},
        });
        if let Some(r) = self.results() {
            v["addons"] = crate::commands::addons::results_json(r)?;
        }
        Ok(v)
    }

    /// Target `i` of the batch document.
    fn batch_item(&self, i: usize, ui: &Ui) -> Result<Value, CommandError> {
        let c = &self.targets[i];
        let outcome = self.outcomes.as_ref().and_then(|o| o.get(i));
        let why = match (outcome, &c.skip) {
            (_, Some(_)) => "skipped: not selected (skipReason)",
            (Some(TargetOutcome::Failed(_)), _) => "the reset failed (see detail)",
            (Some(TargetOutcome::Unknown(_)), _) => "the outcome of the reset is unknown (see detail)",
            _ if self.dry_run => "dry run: nothing was reset",
            _ => "not reset: the confirmation was declined, or the run stopped before it",
        };
        let mut v = match outcome {
            Some(TargetOutcome::Reset(r, v)) => {
                document(&c.plan, c.classic_credentials.as_ref(), Ok((r, v.as_ref())), ui, None, self.leaked)?
            }
            _ => document(&c.plan, c.classic_credentials.as_ref(), Err(why), ui, None, self.leaked)?,
        };
        v["dryRun"] = Value::Bool(self.dry_run);
        v["selected"] = Value::Bool(c.skip.is_none());
        v["skipReason"] = c.skip.as_ref().map_or(Value::Null, |s| Value::from(skip_text(s)));
        if let Some(o) = outcome {
            let (word, detail) = o.words();
            v["outcome"] = Value::from(word);
            v["detail"] = Value::from(detail);
        } else if c.skip.is_some() {
            v["outcome"] = Value::from("skipped");
        } else if !self.dry_run {
            v["outcome"] = Value::from("cancelled");
            v["cancelled"] = Value::Bool(true);
        }
        self.leak_json(i, ui, &mut v);
        Ok(v)
    }

    fn single_text(&self, ui: &Ui) {
        let Some(plan) = self.targets.first().map(|c| &c.plan) else { return };
        match self.outcomes.as_ref().and_then(|o| o.first()) {
            Some(TargetOutcome::Reset(report, verification)) => {
                // `OK` only when all that was asked is done (the add-ons too, when asked for).
                let finished = self.status() == ExitStatus::Success;
                let classic = self.targets.first().and_then(|c| c.classic_credentials.as_ref());
                let leak = self.leaked.then(|| (self.leak(0), classic));
                done_text(ui, plan, report, verification.as_ref(), self.results(), finished, leak);
                if let Some(w) = &self.clusters_wait {
                    clusters_wait_text(ui, plan, w);
                }
            }
            Some(TargetOutcome::Unknown(e)) => ui.failed(e),
            _ if self.dry_run => ui.say("Dry run: nothing was changed."),
            _ => ui.say("The API key was not reset."),
        }
    }

    fn batch_text(&self, ui: &Ui, scope: &str) {
        let (selected, reset, failed, unknown) = self.counts();
        if self.dry_run {
            ui.say(&format!(
                "Dry run: {selected} of {} would be reset; nothing was changed.",
                crate::ui::count(self.targets.len(), "target")
            ));
            return;
        }
        let Some(outcomes) = &self.outcomes else {
            ui.say("Nothing was reset.");
            return;
        };
        if self.status() == ExitStatus::Success {
            ui.ok();
        }
        let rows: Vec<Vec<String>> = self
            .targets
            .iter()
            .zip(outcomes)
            .enumerate()
            .map(|(i, (c, o))| {
                let (word, mut detail) = o.words();
                if let Some(r) = self.leak(i) {
                    detail.push_str(match &r.previous_key {
                        PreviousKey::Removed(d) if d.outcome == PruneOutcome::Deleted => "; compromised key deleted",
                        PreviousKey::Removed(d) if d.outcome == PruneOutcome::Gone => "; compromised key already gone",
                        PreviousKey::NoneBefore => "; no previous key",
                        _ => "; compromised key NOT deleted",
                    });
                }
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
        ui.say(&format!(
            "{reset} of {} reset, {failed} failed, {unknown} unknown.",
            crate::ui::count(selected, "selected target")
        ));
        if unknown > 0 {
            ui.warn("An unknown outcome may have happened: check each of these targets before resetting it again:");
            for (c, _) in self.targets.iter().zip(outcomes).filter(|(_, o)| matches!(o, TargetOutcome::Unknown(_))) {
                ui.say(&format!("  {} {}", ui.cmd("info"), crate::ui::target_flags(&c.plan.target)));
            }
        }
        for (i, c) in self.targets.iter().enumerate() {
            if let Some(r) = self.leak(i).filter(|r| !r.finished()) {
                ui.alert(
                    Text::from(format!(
                        "{} / {}: ",
                        c.plan.target.region,
                        crate::ui::one_line(&c.plan.target.resource_group.name)
                    ))
                    .then(leak::previous_key_text(ui, &c.plan, r)),
                );
            }
        }
        if let Some(r) = self.results() {
            ui.say("");
            crate::commands::addons::results_text(ui, r);
        }
        if reset > 0 && self.leaked {
            // The tokens line is the same for every target: said once.
            let mut items: Vec<(String, Option<String>)> = Vec::new();
            for (c, _) in self.targets.iter().zip(outcomes).filter(|(_, o)| matches!(o, TargetOutcome::Reset(..))) {
                for item in leak::still_exposed(ui, &c.plan, c.classic_credentials.as_ref()) {
                    if !items.contains(&item) {
                        items.push(item);
                    }
                }
            }
            exposed_text(ui, &items);
        }
        if reset > 0 && !self.leaked {
            ui.say("");
            ui.say("Next:");
            // A locked previous key is removed only with --unlock (as a single reset says).
            let locked = self.targets.iter().zip(outcomes).any(|(c, o)| {
                matches!(o, TargetOutcome::Reset(..)) && c.plan.current_key.known().is_some_and(|k| k.locked)
            });
            let (unlock, why) =
                if locked { (" --unlock", " (some are locked: prune unlocks them first)") } else { ("", "") };
            ui.say(
                Text::from(format!("  Remove the superseded keys{why}: "))
                    .cmd(format!("{}{scope}{unlock}", ui.cmd("prune"))),
            );
            // Targets whose clusters all use a trusted profile read no key: nothing to re-create.
            let on_key: Vec<_> = self
                .targets
                .iter()
                .zip(outcomes)
                .filter(|(c, o)| {
                    matches!(o, TargetOutcome::Reset(..))
                        && c.plan.clusters().iter().any(|k| k.trusted_profile_id.is_none())
                })
                .collect();
            if self.addon_plan.is_none() && !on_key.is_empty() {
                ui.say(if on_key.len() == 1 {
                    "  Once the new key has reached the clusters (10 to 30 minutes), re-create their add-on pods:"
                } else {
                    "  Once the new keys have reached the clusters (10 to 30 minutes), re-create their add-on pods:"
                });
                for (c, _) in on_key {
                    let command = format!("{} {}", ui.cmd("restart-addons"), crate::ui::target_flags(&c.plan.target));
                    ui.say(Text::from("    ").cmd(command));
                }
            }
        }
    }
}

impl Render for Report {
    fn json(&self, ui: &Ui) -> Result<Value, CommandError> {
        match &self.mode {
            Mode::Single => self.single_json(ui),
            Mode::Batch { .. } => self.batch_json(ui),
        }
    }

    fn json_listing(&self, ui: &Ui) -> Option<Result<crate::commands::Listing<'_>, CommandError>> {
        let Mode::Batch { .. } = &self.mode else { return None };
        let ui = ui.clone();
        Some(self.batch_head().map(|head| crate::commands::Listing {
            head,
            key: "targets",
            len: self.targets.len(),
            item: Box::new(move |i| self.batch_item(i, &ui)),
        }))
    }

    fn text(&self, ui: &Ui) {
        match &self.mode {
            Mode::Single => self.single_text(ui),
            Mode::Batch { scope } => self.batch_text(ui, scope),
        }
    }

    fn status(&self) -> ExitStatus {
        let (selected, reset, failed, unknown) = self.counts();
        // A dry run, or a declined confirmation, changed nothing and failed at nothing.
        if self.outcomes.is_none() {
            return ExitStatus::Success;
        }
        match &self.mode {
            Mode::Single if unknown > 0 => ExitStatus::Unknown,
            Mode::Batch { .. } if selected > 0 && reset == 0 => ExitStatus::Failed,
            _ if failed + unknown > 0
                || reset < selected
                || self.addons_unfinished()
                || self.leaks_unfinished()
                || self.clusters_wait.as_ref().is_some_and(|w| !w.cleared) =>
            {
                ExitStatus::Partial
            }
            _ => ExitStatus::Success,
        }
    }
}

/// `--wait-clusters`: whether the clusters stopped reporting a credential failure, and which
/// still do (or could not be read) when the time ran out.
fn clusters_wait_text(ui: &Ui, plan: &ResetPlan, w: &ClustersWait) {
    ui.say("");
    if w.cleared {
        ui.say(&format!(
            "The clusters no longer report a credential failure (after {}).",
            humantime::format_duration(Duration::from_secs(w.waited_secs))
        ));
        return;
    }
    ui.say(&format!(
        "After {}, not every cluster is known to be clear of credential failures:",
        humantime::format_duration(Duration::from_secs(w.waited_secs))
    ));
    for f in &w.failing {
        ui.say(&format!("  {} still reports: {}", f.cluster, f.messages.join("; ")));
    }
    for f in &w.unread {
        ui.say(&format!("  {} could not be read: {}", f.cluster, f.messages.join("; ")));
    }
    ui.say(
        Text::from("IBM: NHC009 clears within about 30 minutes of the reset. Check again with ")
            .cmd(format!("{} --read-clusters {}", ui.cmd("status"), crate::ui::target_flags(&plan.target)))
            .plain("."),
    );
}

/// A spinner with the elapsed time while the new owner is awaited.
pub fn spinner(ui: &Ui, text: &str) -> indicatif::ProgressBar {
    let bar = ui.progress_bar(None, &["{spinner} {wide_msg} {elapsed}"]);
    bar.set_message(text.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}
