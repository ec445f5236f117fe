//! `reset`: the official `api-key reset`, made safe, for one target or many. It shows what
//! will change, checks the caller's permissions, confirms, never retries blindly, says exactly
//! what happened, records it in the audit log and lists the follow-ups.
//!
//! One flow for one target or many, decided here ([`run`]): the steps they share live here too
//! (the trusted-profile refusal, the one pre-flight and its one "requirements missing" error,
//! the one confirmation, the add-on plan); [`single`] and [`batch`] hold only what differs
//! (how targets are found and shown, how resets run); [`render`] holds the one report of a
//! run and every word a reset prints ([`render::Report`]).

mod batch;
mod leak;
mod render;
mod single;

use cluster_api_key_core::model::ClassicStatus;
use cluster_api_key_core::ops::Target;
use cluster_api_key_core::ops::addons;
use cluster_api_key_core::ops::check::{self, CheckReport, Identity, State};
use cluster_api_key_core::ops::reset::{self, ResetPlan};

use super::{Here, Render};
use crate::cli::ResetArgs;
use crate::error::CommandError;
use crate::settings::ResetSettings;
use crate::ui::Ui;

/// Runs `reset`: one target, or many (several `-r`/`-g`, `--all-*`, or a filter).
///
/// # Errors
/// Any failure, ready to print.
pub async fn run(here: &Here, ui: &Ui, settings: &ResetSettings<'_>) -> Result<Box<dyn Render>, CommandError> {
    // The targets and the policy were resolved before any request (settings.rs).
    refuse_trusted_profile(here).await?;
    if settings.batch { batch::run(here, ui, settings).await } else { single::run(here, ui, settings).await }
}

/// A trusted profile cannot own the key: refused before anything else.
async fn refuse_trusted_profile(here: &Here) -> Result<(), CommandError> {
    let caller = here.session.caller().await?;
    if caller.kind == cluster_api_key_core::types::IdentityKind::TrustedProfile {
        return Err(CommandError::failed(
            "A trusted profile cannot own the cluster API key: the key is an API key of the identity that resets it, and trusted profiles have none.",
        )
        .with_hint(
            crate::ui::Text::from("Log in as a functional ID (a user) or with a service ID's API key (")
                .cmd("{cli} login --apikey @KEY_FILE")
                .plain("), then reset again."),
        ));
    }
    Ok(())
}

/// The one pre-flight, for every target that will be reset (unless `--skip-preflight`): what
/// is missing fails the command with the fixes, before anything is sent; what cannot be read
/// is a warning.
///
/// # Errors
/// The one "requirements missing" error.
async fn preflight(here: &Here, ui: &Ui, plans: &[&ResetPlan], skip: bool) -> Result<(), CommandError> {
    if skip || plans.is_empty() {
        return Ok(());
    }
    let session = &here.session;
    let targets: Vec<(Target, cluster_api_key_core::types::Known<Vec<_>>)> =
        plans.iter().map(|p| (p.target.clone(), p.clusters.clone())).collect();
    let found = check::reset_preflight(session, &targets).await?;
    let caller = session.caller().await?;
    let iam_id = caller.iam_id.clone().ok_or(cluster_api_key_core::Error::NoAccount)?;
    // The caller as `check` shows an identity: for the grant commands in the hints.
    let who = CheckReport {
        account: caller.account.clone(),
        identity: Identity {
            kind: cluster_api_key_core::types::IdentityKind::from_iam_id(iam_id.as_str()),
            iam_id: iam_id.clone(),
            display: caller.display.clone(),
            is_caller: true,
            unverified: None,
            inactive_state: None,
        },
        targets: Vec::new(),
    };
    let many = plans.len() > 1;
    let mut missing = Vec::new();
    for (t, reqs) in &found {
        let at = if many { format!("{} / {}: ", t.region, t.resource_group.name) } else { String::new() };
        for r in reqs {
            match &r.state {
                State::Missing { .. } => {
                    let (_, detail) = crate::commands::check::state_text(ui, &who, &r.state, many);
                    missing.push(format!("{at}{}: {detail}", r.what));
                }
                State::Unknown { reason } => ui.warn(&format!("{at}Could not check '{}': {reason}.", r.what)),
                _ => {}
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let what = match plans {
        [one] => format!(
            "the API key of region {} and resource group {}",
            one.target.region,
            crate::ui::one_line(&one.target.resource_group.name)
        ),
        _ => format!("every selected target ({})", plans.len()),
    };
    // Only a missing policy has a grant: the key limit's way out is said in its own words.
    let grantable = found
        .iter()
        .flat_map(|(_, reqs)| reqs.iter())
        .any(|r| matches!(r.state, State::Missing { grant: Some(_), .. }));
    let mut e = CommandError::failed(format!(
        "You cannot safely reset {what}: {} requirement{} missing. Nothing was changed.",
        missing.len(),
        if missing.len() == 1 { " is" } else { "s are" }
    ));
    for m in missing {
        e = e.with_hint(m);
    }
    let flag =
        if caller.display.contains('@') { format!("--user {}", caller.display) } else { format!("--iam-id {iam_id}") };
    // The targets as `check` takes them (lists; it checks each region with each group).
    let (mut regions, mut groups): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
    for p in plans {
        let g = crate::ui::group_arg(&p.target.resource_group.name, p.target.resource_group.id.as_str());
        if !regions.contains(&p.target.region.as_str()) {
            regions.push(p.target.region.as_str());
        }
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    let scope = format!("--region {} -g {}", regions.join(","), groups.join(","));
    if !grantable {
        return Err(e.with_hint("'--skip-preflight' skips this check."));
    }
    Err(e.with_hint(
        crate::ui::Text::from("An account administrator can create them with ")
            .cmd(format!("{{admin}} check {scope} {flag} --grant"))
            .plain("; '--skip-preflight' skips this check."),
    ))
}

/// Before the question: the targets whose classic clusters order infrastructure with classic
/// credentials set by hand. A reset changes the API key, not those credentials, so the user
/// must know that it does not fix what they hold.
fn classic_warnings(ui: &Ui, found: &[(&Target, Option<&ClassicStatus>)]) {
    for (t, c) in found {
        match c.and_then(|c| render::classic_warning(t, c)) {
            Some((true, text)) => ui.alert(&text),
            Some((false, text)) => ui.warn(&text),
            None => {}
        }
    }
}

/// The one confirmation: what will be reset, and whether add-on pods follow; for a leak
/// response, all of it: the deletion of each previous key (unlocked first when locked), and
/// what the response cannot rotate (listed before the question).
///
/// # Errors
/// When no terminal can answer (without `-f`).
async fn confirm(
    ui: &Ui,
    plans: &[&ResetPlan],
    addon_plan: Option<&addons::Plan>,
    leaked: bool,
) -> Result<bool, CommandError> {
    let then = if addon_plan.is_some_and(|p| p.affected() > 0) {
        if plans.len() == 1 {
            ", then re-create the add-on pods"
        } else {
            ", then re-create the add-on pods of their clusters"
        }
    } else {
        ""
    };
    let question = match plans {
        [one] if leaked => format!(
            "Respond to a leak of the API key of region {} and resource group {}: reset it, {}{then}?",
            one.target.region,
            crate::ui::one_line(&one.target.resource_group.name),
            match (one.current_key.known(), one.no_key) {
                (_, true) => String::from("(there is no previous key to delete)"),
                (Some(k), _) if k.locked => format!("delete the previous key {} at once (unlocking it first)", k.id),
                (Some(k), _) => format!("delete the previous key {} at once", k.id),
                (None, _) =>
                    String::from("delete the previous key at once (it could not be read: the report will say how)"),
            }
        ),
        _ if leaked => format!(
            "Respond to a leak of the API keys of {} targets: reset each, delete each previous key at once (unlocking locked ones first){then}?",
            plans.len()
        ),
        [one] => format!(
            "Reset the API key for every cluster in region {} and resource group {}{then}?",
            one.target.region,
            crate::ui::one_line(&one.target.resource_group.name)
        ),
        _ => format!("Reset the API key of {} targets{then}?", plans.len()),
    };
    ui.confirm(&question).await
}

/// Before a leak response's question (and in its dry run): what it cannot rotate, so that the
/// answer is given knowing it. The report lists each with its command.
fn leak_warning(ui: &Ui, plans: &[&ResetPlan]) {
    let clusters: usize = plans.iter().map(|p| p.clusters().len()).sum();
    let mut what = vec![String::from("IAM tokens already issued with the old keys (valid for up to an hour)")];
    if plans.iter().any(|p| p.clusters().iter().any(|c| c.provider == "classic")) {
        what.push(String::from("classic infrastructure credentials (if set)"));
    }
    if clusters > 0 {
        what.push(format!("the image pull secrets of {}", crate::ui::count(clusters, "cluster")));
    }
    ui.warn(&format!("A leak response does not rotate: {}. The report says what to do for each.", what.join("; ")));
}

/// With `--restart-addons` or `--leaked`: which clusters of the targets to reset run the add-ons (reads
/// only), shown with the plan.
async fn addon_plan(
    here: &Here,
    ui: &Ui,
    args: &ResetArgs,
    plans: &[&ResetPlan],
    opts: &addons::Options,
) -> Option<addons::Plan> {
    if !args.addons_after() || plans.is_empty() {
        return None;
    }
    ui.progress("Finding the add-ons of the clusters...");
    // One concurrent pass over every target's clusters (each knows its group).
    let clusters = plans.iter().flat_map(|p| p.clusters().to_vec()).collect();
    let group = match plans {
        [one] => Some(one.target.resource_group.id.clone()),
        _ => None,
    };
    let p = addons::plan_clusters(&here.session, clusters, group, opts).await;
    if !p.clusters.is_empty() {
        let to_stderr = ui.json && !args.force && !args.dry_run;
        if !ui.json || to_stderr {
            crate::commands::addons::plan_text(ui, &p, to_stderr);
        }
    }
    Some(p)
}

/// The audit log of a run: with `--leaked`, every record it writes (reset, deletion, add-on
/// pods) is marked as part of a leak response.
fn audit(here: &Here, settings: &ResetSettings<'_>) -> Option<cluster_api_key_core::audit::AuditLog> {
    here.audit.as_ref().map(|a| if settings.args.leaked { a.for_leak_response() } else { a.clone() })
}

/// How resets run: the audit log, the lock folder, the timings.
fn execute_options(here: &Here, settings: &ResetSettings<'_>, fresh_snapshot: bool) -> reset::ExecuteOptions {
    let timings = &settings.timings;
    reset::ExecuteOptions {
        audit: audit(here, settings),
        lock_dir: here.sources.plugin_dir.as_ref().map(|d| d.join("locks")),
        lock_timeout: timings.lock_timeout,
        grace: timings.grace,
        interval: timings.interval,
        fresh_snapshot,
        ..reset::ExecuteOptions::default()
    }
}
