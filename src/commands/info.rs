//! `info --cluster C`: the official `api-key info`, plus the owner's IAM ID.

use cluster_api_key_core::ops::{Session, info};

use super::core_err;
use crate::cli::InfoArgs;
use crate::error::CommandError;
use crate::ui::Ui;

/// Runs `info`.
///
/// # Errors
/// Any failure, ready to print.
pub async fn run(session: &Session, ui: &Ui, args: &InfoArgs) -> Result<(), CommandError> {
    let cluster = args.cluster.as_deref().unwrap_or_default();
    ui.progress(&format!("Getting information about the API key owner for cluster {}...", ui.entity(cluster)));
    let report =
        info::by_cluster(session, cluster, None, args.resource_group.as_deref()).await.map_err(core_err(session))?;
    if ui.json {
        ui.json_doc(&serde_json::to_value(&report).unwrap_or_default());
        return Ok(());
    }
    ui.ok();
    let iam = report.iam_id.as_ref().map_or_else(|| String::from("-"), ToString::to_string);
    ui.table(&["Name", "Email", "IAM ID"], &[vec![report.name.clone(), report.email.clone(), iam]]);
    Ok(())
}
