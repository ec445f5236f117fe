//! `info`: who owns the API key of a cluster's region and resource group.

use serde::Serialize;

use super::Session;
use crate::error::{Error, Result};
use crate::types::IamId;

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InfoReport {
    /// The cluster asked about, as given.
    pub cluster: String,
    /// Owner's name.
    pub name: String,
    /// Owner's email.
    pub email: String,
    /// Owner's IAM ID, when the API reports one.
    pub iam_id: Option<IamId>,
}

/// Looks up the key owner for a cluster (name or ID).
///
/// # Errors
/// [`Error::Api`] with `G0004` when the cluster is unknown in the targeted account and group.
pub async fn by_cluster(
    session: &Session,
    cluster: &str,
    region: Option<&str>,
    group: Option<&str>,
) -> Result<InfoReport> {
    let cluster = cluster.trim();
    if cluster.is_empty() || cluster.bytes().all(|b| b == b'.') || cluster.len() > 256 {
        return Err(Error::InvalidCluster(cluster.to_owned()));
    }
    let region = match region {
        Some(r) => Some(session.region(Some(r))?),
        None => session.ctx.region.clone().filter(|r| crate::types::Region::is_plausible(r.as_str())),
    };
    let group_id = match group {
        Some(g) => {
            let caller = session.caller().await?;
            Some(session.resource_group(&caller.account, Some(g)).await?.id)
        }
        None => session.ctx.resource_group.as_ref().map(|g| g.id.clone()),
    };
    let owner = session.containers(region.as_ref())?.key_owner(cluster, group_id.as_ref()).await?;
    Ok(InfoReport { cluster: cluster.to_owned(), name: owner.name, email: owner.email, iam_id: owner.iam_id })
}
