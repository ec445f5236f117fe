//! `info --cluster C`: the official `api-key info`, plus the owner's IAM ID; `info --region R
//! [-g RG]` answers the same question for a region and resource group, without a cluster.

use cluster_api_key_core::api::user_management::state_clause;
use cluster_api_key_core::model::{ClassicStatus, OwnerState};
use cluster_api_key_core::ops::Target;
use cluster_api_key_core::ops::info::{self, ClusterHealth, InfoReport, TargetOwnerReport};
use cluster_api_key_core::types::{IamId, IdentityKind};

use super::{Here, Render};
use crate::error::{CommandError, to_json};
use crate::settings::InfoSettings;
use crate::ui::{Text, Ui};

fn owner_table(ui: &Ui, name: &str, email: &str, iam: Option<&cluster_api_key_core::types::IamId>) {
    let iam = iam.map_or_else(|| String::from("-"), ToString::to_string);
    let or_dash = |s: &str| if s.is_empty() { String::from("-") } else { s.to_owned() };
    ui.table(&["Name", "Email", "IAM ID"], &[vec![or_dash(name), or_dash(email), iam]]);
}

/// The owner's standing in the account, in words (a state other than `ACTIVE` explained), and,
/// when the owner cannot keep the key working, what to do: the reset `status` gives for
/// `owner-inactive` and `owner-not-in-account`.
fn state_text(ui: &Ui, state: Option<&OwnerState>, iam_id: Option<&IamId>, target: Option<&Target>) {
    let Some(state) = state else { return };
    let service_id = iam_id.and_then(|i| IdentityKind::from_iam_id(i.as_str())) == Some(IdentityKind::ServiceId);
    let (line, broken) = match state {
        OwnerState::Member { state } => (format!("{state} in the account{}", state_clause(state)), state != "ACTIVE"),
        OwnerState::NotInAccount if service_id => {
            (String::from("the service ID no longer exists: IAM deleted its API keys with it"), true)
        }
        OwnerState::NotInAccount => {
            (String::from("no longer in the account: IBM deletes a removed user's API keys"), true)
        }
        OwnerState::ServiceId { locked } => {
            (format!("a service ID of the account{}", if *locked { ", locked" } else { "" }), false)
        }
        OwnerState::Unknown { reason } => (format!("unknown ({reason})"), false),
    };
    ui.say("");
    ui.say(&format!("Owner state: {line}"));
    if broken {
        let reset = match target {
            Some(t) => format!("{} {}", ui.cmd("reset"), crate::ui::target_flags(t)),
            None => format!("{} --region REGION -g RESOURCE_GROUP", ui.cmd("reset")),
        };
        ui.alert(
            Text::new()
                .plain("The key's owner cannot keep it working: reset the key now, as a functional ID, before the clusters break: ")
                .cmd(reset)
                .plain("."),
        );
    }
}

/// The classic credentials line, and a warning when they, not the key, order the classic
/// infrastructure.
pub fn classic_text(ui: &Ui, c: Option<&ClassicStatus>) {
    let Some(c) = c else { return };
    ui.say("");
    let line = match (c.set, &c.unknown_reason) {
        (Some(false), _) => String::from("none set: the API key orders the classic infrastructure"),
        (Some(true), _) => {
            let who = c.username.as_deref().unwrap_or("an unnamed infrastructure user");
            let state = match &c.owner_state {
                // What a state other than ACTIVE means is in the finding printed under it.
                Some(OwnerState::Member { state }) => format!(" ({state} in the account)"),
                Some(OwnerState::NotInAccount) => String::from(" (no longer in the account)"),
                Some(OwnerState::Unknown { reason }) => format!(" (their state is unknown: {reason})"),
                _ => String::new(),
            };
            format!("set, by {who}{state}")
        }
        (None, Some(why)) => format!("unknown ({why})"),
        (None, None) => String::from("unknown"),
    };
    ui.say(&format!("Classic infrastructure credentials: {line}"));
    for f in c.findings() {
        ui.warn(&format!("{}: {}.", f.code.as_str(), f.detail));
    }
}

impl Render for InfoReport {
    fn json(&self, _ui: &Ui) -> Result<serde_json::Value, CommandError> {
        to_json(self)
    }

    fn text(&self, ui: &Ui) {
        ui.ok();
        owner_table(ui, &self.name, &self.email, self.iam_id.as_ref());
        state_text(ui, self.state.as_ref(), self.iam_id.as_ref(), self.target.as_ref());
        if let Some(p) = &self.trusted_profile_id {
            ui.say("");
            ui.say(&format!("Trusted profile: {p} (this cluster's storage and autoscaler use it, not the API key)"));
        }
        classic_text(ui, self.classic_credentials.as_ref());
        health_text(ui, &self.health);
    }
}

/// What the cluster says about itself: its state and its master's, its health issues, its
/// workers' credential messages (what could not be read is said as unknown, never as none), and
/// the credential failures they point at.
fn health_text(ui: &Ui, h: &ClusterHealth) {
    let r = &h.reports;
    let unread = |what: &str| {
        r.unread
            .iter()
            .find_map(|u| u.strip_prefix(what).map(|why| why.trim_start_matches(": ").to_owned()))
            .or_else(|| r.unread.first().cloned())
            .unwrap_or_default()
    };
    ui.say("");
    if let Some(state) = &h.state {
        let or = |s: &Option<String>| s.clone().unwrap_or_else(|| String::from("not reported"));
        let mut line = format!("Cluster: {state}; master {} (health {})", or(&h.master_status), or(&h.master_health));
        if let Some(s) = &h.status {
            line.push_str(&format!("; status: {s}"));
        }
        ui.say(&line);
    }
    match &r.health_issues {
        None => ui.warn(&format!("Health issues: unknown ({})", unread("health issues"))),
        Some(list) if list.is_empty() => ui.say("Health issues: none"),
        Some(list) => {
            ui.say("Health issues:");
            for i in list {
                let sev = if i.severity.is_empty() { String::new() } else { format!(" ({})", i.severity) };
                ui.say(&format!("  {}{sev}: {}", i.id, i.description));
            }
        }
    }
    match &r.worker_credential_messages {
        None => ui.warn(&format!("Workers' credential messages: unknown ({})", unread("workers"))),
        Some(list) if list.is_empty() => ui.say("Workers' credential messages: none"),
        Some(list) => {
            ui.say("Workers' credential messages:");
            for w in list {
                let state = if w.state.is_empty() { String::new() } else { format!(" ({})", w.state) };
                ui.say(&format!("  {}{state}: \"{}\"", w.worker, w.message));
            }
        }
    }
    for f in &h.credential_failures {
        ui.alert(Text::from(format!("{}: {}.", f.code.as_str(), f.detail)));
    }
}

impl Render for TargetOwnerReport {
    fn json(&self, _ui: &Ui) -> Result<serde_json::Value, CommandError> {
        to_json(self)
    }

    fn text(&self, ui: &Ui) {
        ui.ok();
        // The target by name, as JSON has it (`resourceGroupName`), not only by the flags given.
        ui.say(crate::ui::Text::from("Region:          ").name(&self.region));
        ui.say(
            crate::ui::Text::from("Resource group:  ")
                .name(&self.resource_group_name)
                .plain(" (")
                .id(&self.resource_group_id)
                .plain(")"),
        );
        ui.say("");
        owner_table(ui, &self.name, &self.email, self.iam_id.as_ref());
        let target = Target {
            region: cluster_api_key_core::types::Region::new(self.region.clone()),
            resource_group: cluster_api_key_core::types::ResourceGroup {
                id: cluster_api_key_core::types::ResourceGroupId::new(self.resource_group_id.clone()),
                name: self.resource_group_name.clone(),
                default: false,
            },
        };
        state_text(ui, self.state.as_ref(), self.iam_id.as_ref(), Some(&target));
        if let Some(id) = &self.key_id {
            ui.say("");
            let life = match (self.key_expires.as_deref(), self.key_expires_in_days) {
                (Some(at), Some(_)) if self.key_expired => {
                    format!(" (expired {}: the clusters cannot use it)", at.get(..10).unwrap_or(at))
                }
                (Some(at), Some(days)) => format!(
                    " (expires {}, in {days} day{})",
                    at.get(..10).unwrap_or(at),
                    if days == 1 { "" } else { "s" }
                ),
                _ => String::new(),
            };
            ui.say(&format!("Key ID: {id}{life}"));
        }
        classic_text(ui, self.classic_credentials.as_ref());
    }
}

/// Runs `info`.
///
/// # Errors
/// Any failure, ready to print.
pub async fn run(here: &Here, ui: &Ui, settings: InfoSettings<'_>) -> Result<Box<dyn Render>, CommandError> {
    // `--account`: the dispatcher made the session that account's.
    let InfoSettings { cluster, target: one } = settings;
    let group = one.group.as_deref();
    let session = &here.session;
    if let Some(cluster) = cluster {
        ui.progress(
            crate::ui::Text::from("Getting information about the API key owner for cluster ")
                .name(cluster)
                .plain("..."),
        );
        Ok(Box::new(info::by_cluster(session, cluster, None, group).await?))
    } else {
        ui.progress("Getting information about the API key owner for the region and resource group...");
        Ok(Box::new(info::by_target(session, one.region.as_ref(), group).await?))
    }
}
