//! `info --cluster C`: the official `api-key info`, plus the owner's IAM ID.

use cluster_api_key_core::ops::info::{self, InfoReport};

use super::{Here, Render};
use crate::cli::InfoArgs;
use crate::error::{CommandError, to_json};
use crate::ui::Ui;

impl Render for InfoReport {
    fn json(&self) -> Result<serde_json::Value, CommandError> {
        to_json(self)
    }

    fn text(&self, ui: &Ui) {
        ui.ok();
        let iam = self.iam_id.as_ref().map_or_else(|| String::from("-"), ToString::to_string);
        ui.table(&["Name", "Email", "IAM ID"], &[vec![self.name.clone(), self.email.clone(), iam]]);
    }
}

/// Runs `info`.
///
/// # Errors
/// Any failure, ready to print.
pub async fn run(here: &Here, ui: &Ui, args: &InfoArgs) -> Result<Box<dyn Render>, CommandError> {
    ui.progress(&format!("Getting information about the API key owner for cluster {}...", ui.entity(&args.cluster)));
    let report = info::by_cluster(&here.session, &args.cluster, None, args.resource_group.as_deref()).await?;
    Ok(Box::new(report))
}
