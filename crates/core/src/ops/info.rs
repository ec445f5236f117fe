//! `info`: who owns the API key of a cluster's region and resource group.

use serde::Serialize;

use super::{Session, Target};
use crate::error::{Error, Result};
use crate::model::{ClassicStatus, ClusterReports, OwnerState};
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
    /// What the cluster says about itself: its state, its master's, its health issues and its
    /// workers' credential messages (`unread` says what could not be read).
    pub health: ClusterHealth,
    /// The cluster's region and resource group, when the cluster could be read (for the
    /// commands the text suggests).
    #[serde(skip)]
    pub target: Option<Target>,
}

/// A cluster's health as `info --cluster` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterHealth {
    /// Its state (`normal`, ...), when the cluster could be read.
    pub state: Option<String>,
    /// Its status line, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Its master's status (`Ready`, ...).
    pub master_status: Option<String>,
    /// Its master's health (`normal`, ...).
    pub master_health: Option<String>,
    /// Its health issues and workers' credential messages, or why they could not be read.
    #[serde(flatten)]
    pub reports: ClusterReports,
    /// The credential failures those point at, judged as `status` judges them.
    pub credential_failures: Vec<crate::model::Finding>,
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
    // The owner's standing, the classic credentials and the cluster's own reports (its
    // health issues and workers: one more round trip of two requests) together.
    let standing = async {
        match &owner.iam_id {
            Some(id) => Some(owner_standing(session, id).await),
            None => None,
        }
    };
    let classic = async {
        match (&found, &target) {
            (Ok(c), Some(target)) if c.provider == "classic" => {
                Some(super::status::classic_credentials(session, target).await)
            }
            _ => None,
        }
    };
    let reports = async {
        match &found {
            Ok(c) => super::clusters::read(session, c).await,
            Err(e) => ClusterReports {
                health_issues: None,
                worker_credential_messages: None,
                more_worker_messages: 0,
                unread: vec![format!("the cluster: {}", crate::error::clause(&e.to_string()))],
            },
        }
    };
    let (state, classic_credentials, reports) = tokio::join!(standing, classic, reports);
    let trusted_profile_id = found.as_ref().ok().and_then(|c| c.trusted_profile_id.clone());
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let mut health = ClusterHealth {
        state: found.as_ref().ok().map(|c| c.state.clone()),
        status: found.as_ref().ok().and_then(|c| some(&c.status)),
        master_status: found.as_ref().ok().and_then(|c| some(c.master_status())),
        master_health: found.as_ref().ok().and_then(|c| some(c.master_health())),
        reports,
        credential_failures: Vec::new(),
    };
    // Judged as `status` judges a target of this one cluster.
    let owner_model = crate::model::Owner {
        name: owner.name.clone(),
        email: owner.email.clone(),
        iam_id: owner.iam_id.clone(),
        kind: owner.iam_id.as_ref().and_then(|i| crate::types::IdentityKind::from_iam_id(i.as_str())),
        state: state.clone().unwrap_or(OwnerState::Unknown { reason: String::new() }),
        account_email: None,
    };
    health.credential_failures =
        super::clusters::judge_one(cluster, &health.reports, Some(&owner_model), classic_credentials.as_ref());
    Ok(InfoReport {
        cluster: cluster.to_owned(),
        name: owner.name,
        email: owner.email,
        iam_id: owner.iam_id,
        classic_credentials,
        trusted_profile_id,
        state,
        health,
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
        read_clusters: super::status::ClusterReads::Skip,
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
