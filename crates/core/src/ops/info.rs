//! `info`: who owns the API key of a cluster's region and resource group.

use serde::Serialize;

use super::{Session, Target};
use crate::error::{Error, Result};
use crate::model::{ClassicStatus, OwnerState};
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
    /// For a classic cluster: the classic infrastructure credentials set for its region and
    /// resource group, which order its infrastructure instead of the key (`null` otherwise).
    pub classic_credentials: Option<ClassicStatus>,
    /// The trusted profile its storage and autoscaler use instead of the key, when set.
    pub trusted_profile_id: Option<String>,
    /// The owner's standing in the account (as `status` and `info --region` read it), so that
    /// an owner who cannot keep the key working is said; `null` when no IAM ID is reported.
    pub state: Option<OwnerState>,
    /// The cluster's region and resource group, when the cluster could be read (for the
    /// commands the text suggests).
    #[serde(skip)]
    pub target: Option<Target>,
}

/// The standing of a key owner, read as `status` reads it: a user from User Management, a
/// service ID from IAM Identity (deleted: not in the account). What cannot be read is unknown,
/// with the reason.
async fn owner_standing(session: &Session, iam_id: &IamId) -> OwnerState {
    use crate::api::user_management::Membership;
    use crate::types::IdentityKind;
    let unknown = |e: &Error| OwnerState::Unknown { reason: crate::error::clause(&e.to_string()).to_owned() };
    match IdentityKind::from_iam_id(iam_id.as_str()) {
        Some(IdentityKind::ServiceId) => {
            match session.iam_identity().service_id(iam_id.as_str().trim_start_matches("iam-")).await {
                Ok(Some(s)) => OwnerState::ServiceId { locked: s.locked },
                Ok(None) => OwnerState::NotInAccount,
                Err(e) => unknown(&e),
            }
        }
        Some(IdentityKind::User) => {
            let caller = match session.caller().await {
                Ok(c) => c,
                Err(e) => return unknown(&e),
            };
            match session.user_management().membership(&caller.account, iam_id).await {
                Ok(Membership::Member { state, .. }) => OwnerState::Member { state },
                Ok(Membership::NotInAccount) => OwnerState::NotInAccount,
                Ok(Membership::Hidden(why)) => OwnerState::Unknown { reason: why },
                Err(e) => unknown(&e),
            }
        }
        _ => OwnerState::Unknown { reason: String::from("not a user or service ID of the account") },
    }
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
        // A resource group ID goes to the API as it is (the API checks it): one round trip, as
        // the official CLI makes. A name needs Resource Manager to become an ID.
        Some(g) if g.len() == 32 && g.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(crate::types::ResourceGroupId::new(g.to_ascii_lowercase()))
        }
        Some(g) => {
            let caller = session.caller().await?;
            Some(session.resource_group(&caller.account, Some(g)).await?.id)
        }
        None => session.ctx.resource_group.as_ref().map(|g| g.id.clone()),
    };
    let api = session.containers(region.as_ref())?;
    // The cluster's provider, alongside the owner: only a classic cluster's infrastructure is
    // ordered by classic credentials.
    let (owner, found) =
        tokio::join!(api.key_owner(cluster, group_id.as_ref()), api.cluster(cluster, group_id.as_ref()));
    let owner = owner?;
    let target = found.as_ref().ok().map(|c| Target {
        region: crate::types::Region::new(c.region.clone()),
        resource_group: crate::types::ResourceGroup {
            id: crate::types::ResourceGroupId::new(c.resource_group.clone()),
            name: c.resource_group_name.clone(),
            default: false,
        },
    });
    let state = match &owner.iam_id {
        Some(id) => Some(owner_standing(session, id).await),
        None => None,
    };
    let (classic_credentials, trusted_profile_id) = match (found, &target) {
        (Ok(c), Some(target)) if c.provider == "classic" => {
            (Some(super::status::classic_credentials(session, target).await), c.trusted_profile_id)
        }
        (Ok(c), _) => (None, c.trusted_profile_id),
        (Err(_), _) => (None, None),
    };
    Ok(InfoReport {
        cluster: cluster.to_owned(),
        name: owner.name,
        email: owner.email,
        iam_id: owner.iam_id,
        classic_credentials,
        trusted_profile_id,
        state,
        target,
    })
}

/// The owner of a region and resource group's key, found without naming a cluster.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetOwnerReport {
    /// Region.
    pub region: String,
    /// Resource group ID.
    pub resource_group_id: String,
    /// Resource group name.
    pub resource_group_name: String,
    /// Owner's name (empty when unknown).
    pub name: String,
    /// Owner's email (empty when unknown).
    pub email: String,
    /// Owner's IAM ID.
    pub iam_id: Option<IamId>,
    /// The current key's ID, when visible.
    pub key_id: Option<crate::types::ApiKeyId>,
    /// When the current key expires (RFC 3339), when it does and that could be read.
    pub key_expires: Option<String>,
    /// Whole days until it expires (negative once expired).
    pub key_expires_in_days: Option<i64>,
    /// Whether it has expired.
    pub key_expired: bool,
    /// The owner's standing in the account.
    pub state: Option<OwnerState>,
    /// The classic infrastructure credentials, when the target has classic clusters.
    pub classic_credentials: Option<ClassicStatus>,
}

/// Looks up the key owner of a region and resource group (defaults: the target), with the
/// machinery of `status`: the owner the clusters report, else the newest key's owner.
///
/// # Errors
/// As `status`; [`Error::NoKeyForTarget`] when the target has neither clusters nor a key.
pub async fn by_target(
    session: &Session,
    region: Option<&crate::types::Region>,
    group: Option<&str>,
) -> Result<TargetOwnerReport> {
    let caller = session.caller().await?;
    let target = session.target(&caller, region.map(crate::types::Region::as_str), group).await?;
    let opts = super::status::Options {
        regions: vec![target.region.clone()],
        groups: crate::types::GroupSelector::new(&[target.resource_group.id.to_string()]),
        max_age: std::time::Duration::MAX,
        functional_ids: Vec::new(),
        concurrency: 1,
    };
    let report = super::status::status(session, &opts, &super::status::Silent).await?;
    let no_key =
        || Error::NoKeyForTarget { region: target.region.to_string(), group: target.resource_group.name.clone() };
    let t = report.targets.into_iter().next().ok_or_else(no_key)?;
    let owner = t.owner.ok_or_else(no_key)?;
    Ok(TargetOwnerReport {
        region: t.region,
        resource_group_id: t.resource_group_id,
        resource_group_name: t.resource_group_name,
        name: owner.name,
        email: owner.email,
        iam_id: owner.iam_id,
        key_expires: t.key.as_ref().and_then(|k| k.expires.clone()),
        key_expires_in_days: t.key.as_ref().and_then(|k| k.expires_in_days),
        key_expired: t.key.as_ref().is_some_and(|k| k.expired),
        key_id: t.key.map(|k| k.id),
        state: Some(owner.state),
        classic_credentials: t.classic_credentials,
    })
}
