//! `info --cluster C`: the official `api-key info`, plus the owner's IAM ID; `info --region R
//! [-g RG]` answers the same question for a region and resource group, without a cluster.

use cluster_api_key_core::ops::info::{self, InfoReport, TargetOwnerReport};

use super::{Here, Render};
use crate::cli::InfoArgs;
use crate::error::{CommandError, to_json};
use crate::ui::Ui;

fn owner_table(ui: &Ui, name: &str, email: &str, iam: Option<&cluster_api_key_core::types::IamId>) {
    let iam = iam.map_or_else(|| String::from("-"), ToString::to_string);
    let or_dash = |s: &str| if s.is_empty() { String::from("-") } else { s.to_owned() };
    ui.table(&["Name", "Email", "IAM ID"], &[vec![or_dash(name), or_dash(email), iam]]);
}

impl Render for InfoReport {
    fn json(&self, _ui: &Ui) -> Result<serde_json::Value, CommandError> {
        to_json(self)
    }

    fn text(&self, ui: &Ui) {
        ui.ok();
        owner_table(ui, &self.name, &self.email, self.iam_id.as_ref());
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
        ui.progress(&format!("Getting information about the API key owner for cluster {}...", ui.entity(cluster)));
        Ok(Box::new(info::by_cluster(&here.session, cluster, None, group).await?))
    } else {
        ui.progress("Getting information about the API key owner for the region and resource group...");
        Ok(Box::new(info::by_target(&here.session, one.region.as_ref(), group).await?))
    }
}
