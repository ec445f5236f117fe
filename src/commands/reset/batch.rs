//! Many targets: found by one discovery (`--region`/`-g` lists, `--all-regions`,
//! `--all-resource-groups`) and the automation filters (`--if-missing`, `--if-older-than`,
//! `--unless-owner`), shown in one table, reset in the pool with the single-target rules for
//! each; Ctrl-C stops starting targets, and those in flight finish.

use std::sync::atomic::Ordering;

use cluster_api_key_core::ops::addons;
use cluster_api_key_core::ops::fleet::{self, Candidate, Outcome, Selection};
use cluster_api_key_core::types::IamId;

use futures_util::stream::{self, StreamExt as _};

use super::leak::{self, LeakResponse, PreviousKey};
use super::render::{Mode, Report, TargetOutcome, owner_text, skip_text};
use crate::commands::{Here, Render};
use crate::error::CommandError;
use crate::settings::ResetSettings;
use crate::signals::Interrupts;
use crate::ui::{Stream, Ui};

/// Resets the selected targets.
///
/// # Errors
/// Usage errors for unknown regions and groups; a pre-flight that fails for a selected target;
/// errors reading the account.
pub async fn run(here: &Here, ui: &Ui, settings: &ResetSettings<'_>) -> Result<Box<dyn Render>, CommandError> {
    let (args, targets) = (settings.args, &settings.targets);
    let session = &here.session;
    let sel = Selection {
        regions: targets.regions.clone(),
        groups: targets.groups.clone(),
        all_regions: args.all_regions,
        all_groups: args.all_resource_groups,
        include_empty: args.include_empty,
        if_missing: args.if_missing,
        if_older_than: args.if_older_than,
        unless_owner: settings.unless_owner.clone(),
        unless_functional: settings.unless_functional.clone(),
    };
    if let Some(id) = &sel.unless_owner
        && let Some(why) = unknown_identity(session, id).await
    {
        ui.warn(&format!("--unless-owner {id}: {why}, so no key is skipped for it."));
    }
    ui.progress("Reading every selected region and resource group...");
    let candidates = fleet::plan(session, &sel, settings.read_concurrency).await?;
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
                    c.skip.as_ref().map_or_else(|| String::from("reset"), |w| format!("skip: {}", skip_text(w))),
                ]
            })
            .collect();
        let stream = if ui.json { Stream::Err } else { Stream::Out };
        ui.table_to(stream, 0, &["Region", "Resource group", "Clusters", "Current owner", "Key age", "Plan"], &rows);
        if !ui.json {
            ui.say("");
        }
    }
    let selected: Vec<_> = candidates.iter().filter(|c| c.skip.is_none()).map(|c| &c.plan).collect();
    super::preflight(here, ui, &selected, args.skip_preflight).await?;
    // What status read while planning: no second read.
    let classic: Vec<_> = candidates
        .iter()
        .filter(|c| c.skip.is_none())
        .map(|c| (&c.plan.target, c.classic_credentials.as_ref()))
        .collect();
    super::classic_warnings(ui, &classic);
    let mut scope = String::new();
    if !args.all_regions {
        for r in &targets.regions {
            scope.push_str(&format!(" -r {r}"));
        }
    }
    if !args.all_resource_groups {
        for g in targets.groups.names() {
            scope.push_str(&format!(" -g {g}"));
        }
    }
    let report = |outcomes: Option<Vec<Outcome>>, addon_plan, addon_results, leaks| -> Box<dyn Render> {
        Box::new(Report {
            mode: Mode::Batch { scope: scope.clone() },
            targets: candidates.clone(),
            outcomes: outcomes.map(|o| o.into_iter().map(TargetOutcome::from_batch).collect()),
            dry_run: args.dry_run,
            addon_plan,
            addon_results,
            clusters_wait: None,
            leaked: args.leaked,
            leaks,
        })
    };
    // With --restart-addons or --leaked: the add-ons of every selected target's clusters
    // (reads only).
    let addon_opts = settings.addons.options(super::audit(here, settings));
    let addon_plan = super::addon_plan(here, ui, args, &selected, &addon_opts).await;
    if args.leaked && !selected.is_empty() {
        super::leak_warning(ui, &selected);
    }
    if args.dry_run
        || selected.is_empty()
        || (!args.force && !super::confirm(ui, &selected, addon_plan.as_ref(), args.leaked).await?)
    {
        return Ok(report(None, addon_plan, None, Vec::new()));
    }
    // Before any reset: each affected cluster's storage-secret-store, to see its new key arrive.
    let prepared = crate::commands::addons::note_secrets(ui, session, addon_plan.as_ref(), &addon_opts).await;
    session.client.http().restart_budget();
    let opts = super::execute_options(here, settings, false);
    // Ctrl-C stops starting targets; those in flight finish and are reported.
    let interrupts = Interrupts::listen();
    let stopped = interrupts.stop_flag();
    let bar = ui.progress_bar(
        Some(selected.len() as u64),
        &[
            "{spinner} Resetting {pos}/{len} targets {wide_bar} {per_sec}, about {eta} left",
            "{spinner} Resetting {pos}/{len} targets {wide_bar}",
            "{spinner} {pos}/{len} {wide_bar}",
        ],
    );
    let outcomes = fleet::execute(
        session,
        &candidates,
        &opts,
        settings.verify,
        settings.concurrency,
        &|| stopped.load(Ordering::SeqCst),
        &|_| {
            bar.inc(1);
        },
    )
    .await;
    bar.finish_and_clear();
    // The leak response: each reset target's compromised key goes now, before the add-on
    // pods; not after an interruption (the report gives the command for each).
    let leaks: Vec<Option<LeakResponse>> = if args.leaked {
        let audit = super::audit(here, settings);
        let stopped_now = interrupts.seen();
        if !stopped_now {
            ui.progress("Deleting the compromised keys...");
        }
        stream::iter(candidates.iter().zip(&outcomes))
            .map(|(c, o)| {
                let audit = audit.as_ref();
                async move {
                    let Outcome::Reset(done, _) = o else { return None };
                    Some(if stopped_now {
                        LeakResponse {
                            previous_key: PreviousKey::NotTried(String::from("interrupted before the deletion")),
                        }
                    } else {
                        leak::delete_previous(session, &c.plan, done, audit).await
                    })
                }
            })
            .buffered(settings.concurrency.max(1))
            .collect()
            .await
    } else {
        Vec::new()
    };

    // Only the clusters of targets that were reset: elsewhere no new key is coming.
    let reset: Vec<&Candidate> =
        candidates.iter().zip(&outcomes).filter(|(_, o)| matches!(o, Outcome::Reset(..))).map(|(c, _)| c).collect();
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
            Some(
                crate::commands::addons::restart_after_reset(
                    ui,
                    &interrupts,
                    &prepared,
                    &addon_opts,
                    settings.addons_wait,
                )
                .await,
            )
        }
        Some(_) if !reset.is_empty() => {
            ui.warn(if reset.len() == 1 {
                "Interrupted: no add-on pod was re-created. Once the new key has reached the clusters, run:"
            } else {
                "Interrupted: no add-on pod was re-created. Once the new keys have reached the clusters, run:"
            });
            for c in &reset {
                ui.say(&format!("  {} {}", ui.cmd("restart-addons"), crate::ui::target_flags(&c.plan.target)));
            }
            None
        }
        _ => None,
    };
    Ok(report(Some(outcomes), addon_plan, addon_results, leaks))
}

/// Why an `--unless-owner` IAM ID cannot own any key here, when the account says so: a user
/// not in it, a service ID that does not exist. `None` when it exists, is `me`, or cannot be
/// told (a caller who may not see other users is not warned falsely).
async fn unknown_identity(session: &cluster_api_key_core::ops::Session, id: &IamId) -> Option<String> {
    use cluster_api_key_core::api::user_management::Membership;
    use cluster_api_key_core::types::IdentityKind;
    if id.as_str() == "me" {
        return None;
    }
    match IdentityKind::from_iam_id(id.as_str())? {
        IdentityKind::ServiceId => {
            let found = session.iam_identity().service_id(id.as_str().trim_start_matches("iam-")).await.ok()?;
            found.is_none().then(|| String::from("no such service ID exists in the account"))
        }
        IdentityKind::User => {
            let caller = session.caller().await.ok()?;
            match session.user_management().membership(&caller.account, id).await.ok()? {
                Membership::NotInAccount => Some(String::from("no such user is in the account")),
                _ => None,
            }
        }
        IdentityKind::TrustedProfile => None,
    }
}
