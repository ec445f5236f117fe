//! `reset --leaked`: the leak response after a target's reset. The previous key is
//! compromised, so it is deleted at once (unlocked first when locked) rather than left for a
//! prune that waits for evidence that nothing uses it; then the run goes on to the add-on pods
//! as `--restart-addons` does. What the leak still exposes and the tool cannot rotate is said
//! with the command that does it, where one exists.
//!
//! Every step's outcome is reported exactly: a deletion that failed, or was never tried (the
//! reset's outcome unknown, an interruption, a previous key that could not be read), comes with
//! the one command that finishes it, which runs as printed.

use cluster_api_key_core::audit::AuditLog;
use cluster_api_key_core::model::ClassicStatus;
use cluster_api_key_core::ops::prune::{self, Outcome};
use cluster_api_key_core::ops::reset::{ResetPlan, ResetReport};
use serde_json::{Value, json};

use crate::ui::{Text, Ui};

/// What became of the compromised (previous) key.
pub enum PreviousKey {
    /// The deletion ran: deleted, already gone, or failed (and whether it is left unlocked).
    Removed(prune::Done),
    /// There was no previous key: nothing to delete.
    NoneBefore,
    /// The deletion was not tried, and why.
    NotTried(String),
}

/// A target's leak response, after its reset.
pub struct LeakResponse {
    /// The compromised key.
    pub previous_key: PreviousKey,
}

impl LeakResponse {
    /// Whether the compromised key is gone (or there was none).
    pub fn finished(&self) -> bool {
        match &self.previous_key {
            PreviousKey::Removed(d) => matches!(d.outcome, Outcome::Deleted | Outcome::Gone),
            PreviousKey::NoneBefore => true,
            PreviousKey::NotTried(_) => false,
        }
    }
}

/// Deletes the previous key of a target that was just reset. `report` is the reset's: its new
/// key is never the one deleted.
pub async fn delete_previous(
    session: &cluster_api_key_core::ops::Session,
    plan: &ResetPlan,
    report: &ResetReport,
    audit: Option<&AuditLog>,
) -> LeakResponse {
    let previous_key = if plan.no_key {
        PreviousKey::NoneBefore
    } else {
        match (plan.current_key.known(), plan.current_key.reason()) {
            // The plan read the key before the reset; a key list read after a lost answer could
            // name the new one: never delete what the reset made.
            (Some(k), _) if report.new_key_id.as_ref() == Some(&k.id) => {
                PreviousKey::NotTried(String::from("the previous key and the new key are the same key"))
            }
            (Some(k), _) => PreviousKey::Removed(
                prune::delete_leaked(session, &plan.target, k, report.new_key_id.as_ref(), audit).await,
            ),
            (None, why) => PreviousKey::NotTried(format!(
                "the previous key could not be read before the reset ({})",
                why.unwrap_or("no reason given")
            )),
        }
    };
    LeakResponse { previous_key }
}

/// The command that deletes what is left of a target's compromised keys: prune with the
/// in-use check off (a thief's logins are use) and unlocking allowed unless the key is known
/// to be unlocked.
pub fn finish_command(ui: &Ui, plan: &ResetPlan) -> String {
    let unlock = if plan.current_key.known().is_some_and(|k| !k.locked) { "" } else { " --unlock" };
    format!("{} {} --force-in-use{unlock}", ui.cmd("prune"), crate::ui::target_flags(&plan.target))
}

/// What the leak still exposes that a reset does not rotate: `(text, command)`.
pub fn still_exposed(ui: &Ui, plan: &ResetPlan, classic: Option<&ClassicStatus>) -> Vec<(String, Option<String>)> {
    let cli = &ui.cli;
    let t = &plan.target;
    let mut out = vec![(
        String::from(
            "IAM tokens already issued with the compromised key stay valid until they expire (IAM issues them for an hour); a reset cannot revoke them.",
        ),
        None,
    )];
    match classic {
        Some(c) if c.set == Some(true) => out.push((
            format!(
                "Classic infrastructure credentials{} are set for this region and resource group: a reset does not change them. If the leak exposed them, replace them with a new classic infrastructure API key ('{cli} ks credential set classic'); see what is set with:",
                c.username.as_ref().map(|u| format!(" of {}", crate::ui::one_line(u))).unwrap_or_default()
            ),
            Some(credential_get(ui, t)),
        )),
        Some(c) if c.set.is_none() => out.push((
            format!(
                "Whether classic infrastructure credentials are set could not be read ({}): if they are, a reset does not change them. See what is set with:",
                c.unknown_reason.as_deref().unwrap_or("no reason given")
            ),
            Some(credential_get(ui, t)),
        )),
        _ => {}
    }
    // OPEN: the API call behind `cluster pull-secret apply` (POST /v2/enablePullSecret) is
    // listed by IBM without its body, so the tool does not make it; it prints the command.
    for c in plan.clusters() {
        out.push((
            format!(
                "IBM's leak procedure also renews the image pull secret of {} (the API key of service ID cluster-{}); the tool does not do it:",
                crate::ui::one_line(&c.name),
                crate::ui::one_line(&c.id)
            ),
            Some(ui.in_account(format!("{cli} ks cluster pull-secret apply --cluster {}", c.id))),
        ));
    }
    out
}

/// The command that shows a target's classic credentials: `credential get` reads the targeted
/// resource group's, so the group is targeted first (as `status`'s hint does).
fn credential_get(ui: &Ui, t: &cluster_api_key_core::ops::Target) -> String {
    let cli = &ui.cli;
    format!(
        "{} -g {} && {cli} ks credential get --region {}",
        ui.target_cmd(),
        crate::ui::group_arg(&t.resource_group.name, t.resource_group.id.as_str()),
        t.region
    )
}

/// The previous key's line in the report.
pub fn previous_key_text(ui: &Ui, plan: &ResetPlan, r: &LeakResponse) -> Text {
    match &r.previous_key {
        PreviousKey::Removed(d) => match d.outcome {
            Outcome::Deleted => Text::from(format!("Deleted the compromised key {}.", d.key_id)),
            Outcome::Gone => Text::from(format!("The compromised key {} was already gone.", d.key_id)),
            _ => Text::from(format!(
                "The compromised key {} was NOT deleted: {}. Delete it with ",
                d.key_id,
                d.detail.as_deref().unwrap_or("no reason given")
            ))
            .cmd(finish_command(ui, plan))
            .plain("."),
        },
        PreviousKey::NoneBefore => Text::from("There was no previous key to delete."),
        PreviousKey::NotTried(why) => {
            Text::from(format!("The compromised key was NOT deleted: {why}. Delete it with "))
                .cmd(finish_command(ui, plan))
                .plain(".")
        }
    }
}

/// The target's `leakResponse` object in JSON. `response` is `None` when the deletion did not
/// run (a dry run, a declined confirmation, a reset that failed or whose outcome is unknown):
/// `why` says which.
pub fn json(
    ui: &Ui,
    plan: &ResetPlan,
    classic: Option<&ClassicStatus>,
    response: Result<&LeakResponse, &str>,
) -> Value {
    let exposed: Vec<Value> = still_exposed(ui, plan, classic)
        .into_iter()
        .map(|(text, command)| json!({"text": text, "command": command}))
        .collect();
    let previous = match response {
        Ok(r) => match &r.previous_key {
            PreviousKey::Removed(d) => json!({
                "id": d.key_id,
                "outcome": d.outcome.as_str(),
                "detail": d.detail,
                "leftUnlocked": d.left_unlocked,
                "command": (!r.finished()).then(|| finish_command(ui, plan)),
            }),
            PreviousKey::NoneBefore => json!({
                "id": null, "outcome": "none", "detail": "there was no previous key", "leftUnlocked": false, "command": null,
            }),
            PreviousKey::NotTried(why) => json!({
                "id": plan.current_key.known().map(|k| k.id.to_string()),
                "outcome": "not deleted", "detail": why, "leftUnlocked": false, "command": finish_command(ui, plan),
            }),
        },
        Err(why) => json!({
            "id": plan.current_key.known().map(|k| k.id.to_string()),
            "outcome": "not deleted", "detail": why, "leftUnlocked": false, "command": null,
        }),
    };
    json!({"previousKey": previous, "stillExposed": exposed})
}
