//! `info --cluster C`: the official `api-key info`, plus the owner's IAM ID; `info --region R
//! [-g RG]` answers the same question for a region and resource group, without a cluster.

use cluster_api_key_core::ops::info::{self, InfoReport, TargetOwnerReport};
use cluster_api_key_core::ops::status::{ClassicStatus, OwnerState};

use super::{Here, Render};
use crate::cli::InfoArgs;
use crate::error::{CommandError, to_json};
use crate::ui::Ui;

fn owner_table(ui: &Ui, name: &str, email: &str, iam: Option<&cluster_api_key_core::types::IamId>) {
    let iam = iam.map_or_else(|| String::from("-"), ToString::to_string);
    let or_dash = |s: &str| if s.is_empty() { String::from("-") } else { s.to_owned() };
    ui.table(&["Name", "Email", "IAM ID"], &[vec![or_dash(name), or_dash(email), iam]]);
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
        if let Some(p) = &self.trusted_profile_id {
            ui.say("");
            ui.say(&format!("Trusted profile: {p} (this cluster's storage and autoscaler use it, not the API key)"));
        }
        classic_text(ui, self.classic_credentials.as_ref());
    }
}

impl Render for TargetOwnerReport {
    fn json(&self, _ui: &Ui) -> Result<serde_json::Value, CommandError> {
        to_json(self)
    }

    fn text(&self, ui: &Ui) {
        ui.ok();
        owner_table(ui, &self.name, &self.email, self.iam_id.as_ref());
        if let Some(id) = &self.key_id {
            ui.say("");
            ui.say(&format!("Key ID: {id}"));
        }
        classic_text(ui, self.classic_credentials.as_ref());
    }
}

/// Runs `info`.
///
/// # Errors
/// Any failure, ready to print.
pub async fn run(here: &Here, ui: &Ui, args: &InfoArgs) -> Result<Box<dyn Render>, CommandError> {
    let one = args.target.resolve()?;
    let group = one.group.as_deref();
    if let Some(cluster) = &args.cluster {
        ui.progress(
            crate::ui::Text::from("Getting information about the API key owner for cluster ")
                .name(cluster)
                .plain("..."),
        );
        Ok(Box::new(info::by_cluster(&here.session, cluster, None, group).await?))
    } else {
        ui.progress("Getting information about the API key owner for the region and resource group...");
        Ok(Box::new(info::by_target(&here.session, one.region.as_ref(), group).await?))
    }
}
