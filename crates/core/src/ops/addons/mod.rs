//! `restart-addons`: re-creating the add-on pods that read the cluster API key.
//!
//! After a reset, the VPC Block Storage CSI controller and the cluster autoscaler keep the old
//! key until their pods are re-created, and IBM's procedure says to delete them (deleting,
//! not patching: the add-on manager reconciles the objects and would undo a template edit).
//! The new key reaches a cluster's `storage-secret-store` secret 10 to 30 minutes after the
//! reset, so a restart with `reset` first waits for the secret to change.
//!
//! The flow per cluster: the containers API lists its add-ons; an admin kubeconfig comes from
//! `applyRBACAndGetKubeconfig` (a ZIP, read in memory); then the Kubernetes API (the [`k8s`]
//! module, the only user of kube-rs) deletes the controller pods and waits for Ready
//! replacements. Clusters run concurrently, and each gets its own outcome.

pub mod k8s;
pub mod kubeconfig;

use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use serde::Serialize;

use super::Session;
use crate::api::containers::Cluster;
use crate::error::{Error, Result};
use crate::types::{Region, ResourceGroupId};

/// An add-on whose pods read the cluster API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum AddonKind {
    /// The VPC Block Storage CSI driver: its controller (`ibm-vpc-block-csi-controller`).
    #[serde(rename = "vpc-block-csi")]
    VpcBlockCsi,
    /// The cluster autoscaler (`ibm-iks-cluster-autoscaler`).
    #[serde(rename = "cluster-autoscaler")]
    ClusterAutoscaler,
}

impl AddonKind {
    /// Both.
    pub(crate) const ALL: [Self; 2] = [Self::VpcBlockCsi, Self::ClusterAutoscaler];

    /// The name the containers API lists it under.
    #[must_use]
    pub(crate) fn api_name(self) -> &'static str {
        match self {
            Self::VpcBlockCsi => "vpc-block-csi-driver",
            Self::ClusterAutoscaler => "cluster-autoscaler",
        }
    }

    /// The name on the command line and in reports.
    #[must_use]
    pub fn cli_name(self) -> &'static str {
        match self {
            Self::VpcBlockCsi => "vpc-block-csi",
            Self::ClusterAutoscaler => "cluster-autoscaler",
        }
    }

    /// The name prefix of its controller pods in `kube-system` (IBM's troubleshooting pages).
    #[must_use]
    pub(crate) fn pod_prefix(self) -> &'static str {
        match self {
            Self::VpcBlockCsi => "ibm-vpc-block-csi-controller",
            Self::ClusterAutoscaler => "ibm-iks-cluster-autoscaler",
        }
    }

    /// From the containers API's name.
    #[must_use]
    pub(crate) fn from_api(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.api_name() == name)
    }
}

/// Which cluster endpoint the admin kubeconfig points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Endpoint {
    /// The public service endpoint.
    #[default]
    Public,
    /// The private service endpoint (from inside IBM Cloud's private network).
    Private,
    /// The VPC virtual private endpoint (VPC clusters).
    Vpe,
}

impl Endpoint {
    /// The `endpointType` to ask for. A Satellite cluster is always reached through its Link
    /// endpoint, as bluemix-go forces `link`. Only VPC clusters have a VPE: a classic cluster
    /// asked for with `vpe` is reached on its private endpoint, the closest there is.
    #[must_use]
    pub(crate) fn endpoint_type(self, provider: &str) -> Option<&'static str> {
        if provider == "satellite" {
            return Some("link");
        }
        match self {
            Self::Public => None,
            Self::Vpe if provider.starts_with("vpc") => Some("vpe"),
            Self::Private | Self::Vpe => Some("private"),
        }
    }
}

/// Which clusters.
#[derive(Debug, Clone)]
pub enum Selection {
    /// One cluster (name or ID), optionally narrowed by region and resource group.
    Cluster {
        /// Name or ID.
        name: String,
        /// Region (for a regional endpoint), else the target's.
        region: Option<String>,
        /// Resource group name or ID, else the target's.
        group: Option<String>,
    },
    /// Every cluster of a region and resource group (defaults: the target's).
    Target {
        /// Region.
        region: Option<Region>,
        /// Resource group name or ID.
        group: Option<String>,
    },
}

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Which add-ons (empty: all).
    pub addons: Vec<AddonKind>,
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// How long replacements may take to be Ready.
    pub ready_wait: Duration,
    /// Clusters handled at once.
    pub concurrency: usize,
    /// How often to look again (pods, the secret, RBAC).
    pub interval: Duration,
    /// Timeout of one Kubernetes request.
    pub request_timeout: Duration,
    /// Where pod deletions are recorded.
    pub audit: Option<crate::audit::AuditLog>,
    /// The user says the hand-made `storage-secret-store` of every Satellite cluster holds the
    /// new key: their autoscaler is restarted too (otherwise it is skipped, with the reason).
    pub satellite_secret_updated: bool,
    /// Turns true when the user asks to stop: no cluster is started after it, and the waits for
    /// Ready replacements end, each cluster reporting what it deleted.
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl Options {
    fn stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| s.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// Completes once [`Options::stop`] turns true (never without one).
    async fn until_stopped(&self) {
        if self.stop.is_none() {
            std::future::pending::<()>().await;
        }
        while !self.stopped() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            addons: Vec::new(),
            endpoint: Endpoint::Public,
            ready_wait: Duration::from_secs(600),
            concurrency: 4,
            interval: Duration::from_secs(2),
            request_timeout: Duration::from_secs(30),
            audit: None,
            satellite_secret_updated: false,
            stop: None,
        }
    }
}

/// A cluster and what would be restarted on it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedCluster {
    /// Name.
    pub name: String,
    /// ID.
    pub id: String,
    /// Region.
    pub region: String,
    /// Resource group ID.
    pub resource_group_id: String,
    /// `classic`, `vpc-gen2`, `satellite`.
    pub provider: String,
    /// `kubernetes` or `openshift`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The selected add-ons that the cluster runs.
    pub addons: Vec<AddonKind>,
    /// The pods that would be deleted, by name prefix, in `kube-system`.
    pub pods: Vec<String>,
    /// Why the add-on list could not be read.
    pub error: Option<String>,
    /// Things to know (Satellite's hand-made secret).
    pub warnings: Vec<String>,
    /// The trusted profile its storage and autoscaler use instead of the API key: then nothing
    /// of it reads the key, and it is left alone.
    pub trusted_profile_id: Option<String>,
}

impl PlannedCluster {
    /// Whether the autoscaler here reads a hand-made secret that no reset updates.
    #[must_use]
    pub fn hand_made_secret(&self) -> bool {
        self.provider == "satellite" && self.addons.contains(&AddonKind::ClusterAutoscaler)
    }
}

/// The plan: the clusters, in name order.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The clusters.
    pub clusters: Vec<PlannedCluster>,
}

impl Plan {
    /// Clusters with something to restart.
    #[must_use]
    pub fn affected(&self) -> usize {
        self.clusters.iter().filter(|c| !c.addons.is_empty() && c.trusted_profile_id.is_none()).count()
    }
}

/// What happened on a cluster, or to one add-on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Deleted and replaced by Ready pods.
    Restarted,
    /// The cluster does not run the add-on(s).
    NotNeeded,
    /// Left alone on purpose, for the reason given (Satellite's hand-made secret).
    Skipped,
    /// Something failed; the reason says what.
    Failed,
    /// Stopped by the user (Ctrl-C, SIGTERM): pods may be deleted and their replacements not
    /// Ready yet, or nothing was started; the reason says which.
    Interrupted,
}

/// One add-on on one cluster.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddonResult {
    /// Which.
    pub addon: AddonKind,
    /// What happened.
    pub outcome: Outcome,
    /// Pods deleted.
    pub deleted: Vec<String>,
    /// Replacements that are Ready.
    pub ready: Vec<String>,
    /// Why it failed.
    pub reason: Option<String>,
}

/// One cluster.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterResult {
    /// Name.
    pub cluster: String,
    /// ID.
    pub id: String,
    /// What happened, overall.
    pub outcome: Outcome,
    /// The endpoint used (`public`, `private`, `vpe`, `link`).
    pub endpoint: Option<String>,
    /// Per add-on.
    pub addons: Vec<AddonResult>,
    /// Why the cluster failed or was skipped as a whole.
    pub reason: Option<String>,
    /// Why it was skipped, when that is for the user to settle (the binary words it, as its
    /// `reason`).
    #[serde(skip)]
    pub skipped: Option<Skipped>,
    /// Whether the new key was seen in `storage-secret-store` first (with `reset`).
    pub secret_updated: Option<bool>,
    /// Things to know.
    pub warnings: Vec<String>,
}

impl ClusterResult {
    fn whole(c: &PlannedCluster, outcome: Outcome, reason: Option<String>) -> Self {
        Self {
            cluster: c.name.clone(),
            id: c.id.clone(),
            outcome,
            endpoint: None,
            addons: Vec::new(),
            reason,
            skipped: None,
            secret_updated: None,
            // The plan's warnings were shown with the plan: a result says them once more only
            // in JSON (`plan`), never twice in text.
            warnings: Vec::new(),
        }
    }
}

/// Progress, for a progress bar. Calls come from concurrent tasks.
pub trait Reporter: Sync {
    /// `n` clusters will be handled.
    fn clusters(&self, _n: usize) {}
    /// A cluster moved on to `step`.
    fn step(&self, _cluster: &str, _step: &str) {}
    /// A cluster is done.
    fn done(&self, _cluster: &str) {}
}

/// A reporter that says nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Reporter for Silent {}

/// Why a cluster was skipped that the user can let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    /// A Satellite autoscaler reads a `storage-secret-store` made by hand, which a reset does
    /// not update: it is restarted only once the user says the new key is there
    /// ([`Options::satellite_secret_updated`]).
    SatelliteSecretNotUpdated,
}

/// A Satellite autoscaler left alone, for [`Skipped::SatelliteSecretNotUpdated`].
fn satellite_skipped(c: &PlannedCluster) -> ClusterResult {
    ClusterResult {
        skipped: Some(Skipped::SatelliteSecretNotUpdated),
        ..ClusterResult::whole(c, Outcome::Skipped, None)
    }
}

const SATELLITE_WARNING: &str = "On Satellite the autoscaler reads a storage-secret-store secret made by hand (ca_iam_api_key): a reset does not update it. Put the new key there yourself before restarting the autoscaler.";

/// Finds the clusters and the add-ons they run. Reads only.
///
/// # Errors
/// When the cluster or the target cannot be resolved, or the cluster list cannot be read.
/// A cluster whose add-on list cannot be read is in the plan with its error.
pub async fn plan(session: &Session, selection: &Selection, opts: &Options) -> Result<Plan> {
    let (clusters, group) = match selection {
        Selection::Cluster { name, region, group } => {
            let name = name.trim();
            if name.is_empty() || name.len() > 256 || name.bytes().all(|b| b == b'.') {
                return Err(Error::InvalidCluster(name.to_owned()));
            }
            let region = match region {
                Some(r) => Some(session.region(Some(r))?),
                None => session.ctx.region.clone().filter(|r| Region::is_plausible(r.as_str())),
            };
            let group = match group {
                Some(g) => {
                    let caller = session.caller().await?;
                    Some(session.resource_group(&caller.account, Some(g)).await?.id)
                }
                None => None,
            };
            let c = session.containers(region.as_ref())?.cluster(name, group.as_ref()).await?;
            (vec![c], group)
        }
        Selection::Target { region, group } => {
            let caller = session.caller().await?;
            let target = session.target(&caller, region.as_ref().map(Region::as_str), group.as_deref()).await?;
            let list = session.containers(Some(&target.region))?.clusters(Some(&target.resource_group.id)).await?;
            (list, Some(target.resource_group.id))
        }
    };
    Ok(plan_clusters(session, clusters, group, opts).await)
}

/// The plan for clusters already listed (a reset's plan has them): their add-on lists.
pub async fn plan_clusters(
    session: &Session,
    clusters: Vec<Cluster>,
    group: Option<ResourceGroupId>,
    opts: &Options,
) -> Plan {
    let wanted: Vec<AddonKind> = if opts.addons.is_empty() { AddonKind::ALL.to_vec() } else { opts.addons.clone() };
    let planned = futures_util::stream::iter(clusters.into_iter().map(|c| {
        let wanted = &wanted;
        let group = group.clone();
        async move { plan_cluster(session, c, wanted, group).await }
    }))
    .buffered(opts.concurrency.max(1))
    .collect::<Vec<_>>()
    .await;
    Plan { clusters: planned }
}

async fn plan_cluster(
    session: &Session,
    c: Cluster,
    wanted: &[AddonKind],
    group: Option<ResourceGroupId>,
) -> PlannedCluster {
    let group = group.or_else(|| (!c.resource_group.is_empty()).then(|| ResourceGroupId::new(&c.resource_group)));
    let region = (!c.region.is_empty()).then(|| Region::new(&c.region));
    let listed = match session.containers(region.as_ref()) {
        Ok(api) => api.addons(&c.id, group.as_ref()).await,
        Err(e) => Err(e),
    };
    let (addons, error) = match listed {
        Ok(list) => {
            let mut on: Vec<AddonKind> =
                list.iter().filter_map(|a| AddonKind::from_api(&a.name)).filter(|a| wanted.contains(a)).collect();
            on.sort();
            on.dedup();
            (on, None)
        }
        Err(e) => (Vec::new(), Some(format!("cannot list the add-ons: {}", crate::error::clause(&e.to_string())))),
    };
    let mut warnings = Vec::new();
    if c.provider == "satellite" && addons.contains(&AddonKind::ClusterAutoscaler) {
        warnings.push(SATELLITE_WARNING.to_owned());
    }
    PlannedCluster {
        trusted_profile_id: c.trusted_profile_id,
        pods: addons.iter().map(|a| format!("{}-*", a.pod_prefix())).collect(),
        name: c.name,
        id: c.id,
        region: c.region,
        resource_group_id: group.map(|g| g.to_string()).unwrap_or_default(),
        provider: c.provider,
        kind: c.kind,
        addons,
        error,
        warnings,
    }
}

/// A cluster with its Kubernetes connection (or why there is none) and, for a reset, the
/// digest of its secret before the reset.
#[derive(Debug)]
pub struct Prepared {
    /// The cluster.
    pub cluster: PlannedCluster,
    /// `None` when there was nothing to connect for (see [`settled`], Satellite's secret).
    conn: Option<std::result::Result<k8s::Conn, String>>,
    before: Option<std::result::Result<Option<String>, String>>,
    endpoint: Option<String>,
    warnings: Vec<String>,
    /// Who deletes the pods (the caller's IAM ID) and in which account, for the audit log.
    actor: Option<String>,
    account: Option<String>,
}

/// The outcome of a cluster that needs no connection: its add-on list failed, or it runs none.
fn settled(c: &PlannedCluster) -> Option<ClusterResult> {
    if let Some(profile) = &c.trusted_profile_id {
        return Some(ClusterResult::whole(
            c,
            Outcome::Skipped,
            Some(format!(
                "not restarted: its storage and autoscaler use the trusted profile {profile}, not the API key"
            )),
        ));
    }
    match &c.error {
        Some(e) => Some(ClusterResult::whole(c, Outcome::Failed, Some(e.clone()))),
        None if c.addons.is_empty() => Some(ClusterResult::whole(c, Outcome::NotNeeded, None)),
        None => None,
    }
}

/// Connects to one cluster and, when `snapshot` is set (before a reset), notes its secret's
/// digest. A cluster with nothing to restart, or (before a reset) a Satellite cluster whose
/// secret no reset updates, is not asked for a kubeconfig at all.
async fn prepare_one(session: &Session, c: &PlannedCluster, opts: &Options, snapshot: bool) -> Prepared {
    if settled(c).is_some() || (snapshot && c.hand_made_secret()) {
        return Prepared {
            cluster: c.clone(),
            conn: None,
            before: None,
            endpoint: None,
            warnings: Vec::new(),
            actor: None,
            account: None,
        };
    }
    let (conn, endpoint, warnings) = connect(session, c, opts).await;
    let before = match (&conn, snapshot) {
        (Ok(k), true) => Some(k.secret_digest().await),
        _ => None,
    };
    // The caller comes from the token: no request. Unknown (null in the log) only when the
    // token cannot be read, which the kubeconfig request above would have failed on first.
    let caller = session.caller().await.ok();
    Prepared {
        cluster: c.clone(),
        conn: Some(conn),
        before,
        endpoint,
        warnings,
        actor: caller.as_ref().and_then(|c| c.iam_id.as_ref()).map(ToString::to_string),
        account: caller.map(|c| c.account.to_string()),
    }
}

/// Gets an admin kubeconfig and connects.
async fn connect(
    session: &Session,
    c: &PlannedCluster,
    opts: &Options,
) -> (std::result::Result<k8s::Conn, String>, Option<String>, Vec<String>) {
    let endpoint = opts.endpoint.endpoint_type(&c.provider);
    let shown = Some(endpoint.unwrap_or("public").to_owned());
    let region = (!c.region.is_empty()).then(|| Region::new(&c.region));
    let group = (!c.resource_group_id.is_empty()).then(|| ResourceGroupId::new(&c.resource_group_id));
    let api = match session.containers(region.as_ref()) {
        Ok(api) => api,
        Err(e) => return (Err(e.to_string()), shown, Vec::new()),
    };
    let zip = match api.admin_kubeconfig(&c.id, endpoint, group.as_ref()).await {
        Ok(z) => z,
        Err(e) => {
            return (
                Err(format!("cannot get an admin kubeconfig: {}", crate::error::clause(&e.to_string()))),
                shown,
                Vec::new(),
            );
        }
    };
    // bluemix-go polls the RBAC status after asking for a kubeconfig. An admin kubeconfig
    // authenticates with a client certificate, which RBAC sync does not gate, so a status
    // that stays unsynchronized is a warning, not a failure.
    let mut warnings = Vec::new();
    if opts.endpoint == Endpoint::Vpe && endpoint == Some("private") {
        warnings
            .push(format!("{} is a {} cluster, which has no VPE: its private endpoint was used.", c.name, c.provider));
    }
    let rbac_deadline = Instant::now() + Duration::from_secs(60).min(opts.ready_wait);
    let mut backoff = Duration::from_millis(250);
    loop {
        match api.rbac_synchronized(&c.id, group.as_ref()).await {
            Ok(true) => break,
            Ok(false) if Instant::now() < rbac_deadline => {}
            Ok(false) => {
                warnings.push("IBM still reports the cluster's RBAC as not synchronized.".to_owned());
                break;
            }
            Err(e) => {
                warnings.push(format!("The RBAC status could not be read: {}.", crate::error::clause(&e.to_string())));
                break;
            }
        }
        tokio::time::sleep(backoff.min(rbac_deadline.saturating_duration_since(Instant::now()))).await;
        backoff = (backoff * 2).min(Duration::from_secs(8));
    }
    let mut net = session.ctx.http.clone();
    net.timeout = opts.request_timeout;
    (k8s::Conn::from_zip(&zip.0, &net, std::sync::Arc::clone(session.client.http())), shown, warnings)
}

/// Before a reset: connects to every cluster that runs a selected add-on and notes the digest
/// of its `storage-secret-store`.
pub async fn prepare(session: &Session, plan: &Plan, opts: &Options) -> Vec<Prepared> {
    futures_util::stream::iter(plan.clusters.iter().map(|c| prepare_one(session, c, opts, true)))
        .buffered(opts.concurrency.max(1))
        .collect()
        .await
}

/// Restarts the add-on pods of every planned cluster.
pub async fn restart(session: &Session, plan: &Plan, opts: &Options, reporter: &dyn Reporter) -> Vec<ClusterResult> {
    reporter.clusters(plan.clusters.len());
    futures_util::stream::iter(plan.clusters.iter().map(|c| async move {
        let result = if let Some(r) = settled(c) {
            r
        } else if c.hand_made_secret() && !opts.satellite_secret_updated {
            satellite_skipped(c)
        } else if opts.stopped() {
            ClusterResult::whole(c, Outcome::Interrupted, Some(String::from("interrupted before it started")))
        } else {
            reporter.step(&c.name, "getting an admin kubeconfig");
            restart_prepared(&prepare_one(session, c, opts, false).await, opts, None, reporter).await
        };
        reporter.done(&c.name);
        result
    }))
    .buffered(opts.concurrency.max(1))
    .collect()
    .await
}

/// After a reset: waits (up to `secret_wait`) until each cluster's `storage-secret-store`
/// differs from its digest before the reset, then restarts its add-on pods, whose Ready
/// replacements are awaited within the same `secret_wait` (the one wait the user gave). A
/// cluster whose secret does not change in time is not restarted (it would pick up the old key
/// again).
pub async fn restart_after_reset(
    prepared: &[Prepared],
    opts: &Options,
    secret_wait: Duration,
    reporter: &dyn Reporter,
) -> Vec<ClusterResult> {
    reporter.clusters(prepared.len());
    let deadline = Instant::now() + secret_wait;
    futures_util::stream::iter(prepared.iter().map(|p| async move {
        let c = &p.cluster;
        let result = after_reset_one(p, opts, deadline, secret_wait, reporter).await;
        reporter.done(&c.name);
        result
    }))
    // Every cluster waits for its secret at once; the wait is mostly idle.
    .buffered(prepared.len().max(1))
    .collect()
    .await
}

async fn after_reset_one(
    p: &Prepared,
    opts: &Options,
    deadline: Instant,
    secret_wait: Duration,
    reporter: &dyn Reporter,
) -> ClusterResult {
    let c = &p.cluster;
    if let Some(r) = settled(c) {
        return r;
    }
    if c.hand_made_secret() {
        let mut r = satellite_skipped(c);
        r.secret_updated = Some(false);
        return r;
    }
    let conn = match connection(p) {
        Ok(k) => k,
        Err(e) => return with_endpoint(ClusterResult::whole(&p.cluster, Outcome::Failed, Some(e)), p),
    };
    let before = match &p.before {
        Some(Ok(Some(d))) => d.clone(),
        Some(Ok(None)) => {
            return with_endpoint(
                ClusterResult::whole(
                    c,
                    Outcome::Failed,
                    Some("kube-system has no storage-secret-store secret with a key, so the new key's arrival cannot be seen; not restarted".into()),
                ),
                p,
            );
        }
        Some(Err(e)) => {
            return with_endpoint(
                ClusterResult::whole(
                    c,
                    Outcome::Failed,
                    Some(format!("the secret could not be read before the reset: {e}")),
                ),
                p,
            );
        }
        None => {
            let why = "its storage-secret-store was not read before the reset; not restarted";
            return with_endpoint(ClusterResult::whole(c, Outcome::Failed, Some(why.into())), p);
        }
    };
    reporter.step(&c.name, "waiting for the new key");
    loop {
        if opts.stopped() {
            let mut r = ClusterResult::whole(
                c,
                Outcome::Interrupted,
                Some(String::from(
                    "interrupted while waiting for the new key to reach storage-secret-store: no pod was deleted; restart the add-ons once the key has arrived",
                )),
            );
            r.secret_updated = Some(false);
            return with_endpoint(r, p);
        }
        match conn.secret_digest().await {
            Ok(Some(now)) if now != before => break,
            _ if Instant::now() >= deadline => {
                let mut r = ClusterResult::whole(
                    c,
                    Outcome::Failed,
                    Some(format!(
                        "the new key had not reached storage-secret-store after {}; restarting the add-ons before it does is useless (they would read the old key), so restart them once it has",
                        humantime::format_duration(Duration::from_secs(secret_wait.as_secs())),
                    )),
                );
                r.secret_updated = Some(false);
                return with_endpoint(r, p);
            }
            _ => {}
        }
        tokio::select! {
            () = tokio::time::sleep(opts.interval.min(deadline.saturating_duration_since(Instant::now()))) => {}
            () = opts.until_stopped() => {}
        }
    }
    let mut r = restart_prepared(p, opts, Some(deadline), reporter).await;
    r.secret_updated = Some(true);
    r
}

/// The cluster's connection, or why there is none.
fn connection(p: &Prepared) -> std::result::Result<&k8s::Conn, String> {
    match &p.conn {
        Some(Ok(k)) => Ok(k),
        Some(Err(e)) => Err(e.clone()),
        None => Err(String::from("no connection was made")),
    }
}

fn with_endpoint(mut r: ClusterResult, p: &Prepared) -> ClusterResult {
    r.endpoint.clone_from(&p.endpoint);
    r.warnings.extend(p.warnings.iter().cloned());
    r
}

/// Deletes the controller pods of every add-on of a connected cluster, then waits for Ready
/// replacements until `ready_deadline` (else [`Options::ready_wait`] from the deletions).
///
/// The audit log gets a line before the first deletion (`started`, the pods about to be
/// deleted) and one with the outcome: a process killed in between still leaves the deletions it
/// may have made on record.
async fn restart_prepared(
    p: &Prepared,
    opts: &Options,
    ready_deadline: Option<Instant>,
    reporter: &dyn Reporter,
) -> ClusterResult {
    let c = &p.cluster;
    let conn = match connection(p) {
        Ok(k) => k,
        Err(e) => return with_endpoint(ClusterResult::whole(&p.cluster, Outcome::Failed, Some(e)), p),
    };
    reporter.step(&c.name, "deleting the add-on pods");
    let pods = match conn.list().await {
        Ok(p) => p,
        Err(e) => return with_endpoint(ClusterResult::whole(c, Outcome::Failed, Some(e)), p),
    };
    let audit = |outcome: &str, detail: String| {
        if let Some(log) = &opts.audit {
            let mut rec = crate::audit::Record::now("restart-addons", outcome);
            rec.actor.clone_from(&p.actor);
            rec.account.clone_from(&p.account);
            rec.region = Some(c.region.clone());
            rec.resource_group_id = Some(c.resource_group_id.clone());
            rec.detail = detail;
            log.record(&rec);
        }
    };
    // What is about to be deleted, on record before the first DELETE.
    let to_delete: Vec<String> = c
        .addons
        .iter()
        .filter_map(|&addon| {
            let names: Vec<&str> = k8s::controllers(&pods, addon)
                .into_iter()
                .filter(|p| !p.terminating)
                .map(|p| p.name.as_str())
                .collect();
            (!names.is_empty()).then(|| format!("{} on {}: deleting [{}]", addon.cli_name(), c.name, names.join(", ")))
        })
        .collect();
    if !to_delete.is_empty() && !opts.stopped() {
        audit("started", to_delete.join("; "));
    }
    // Delete for every add-on first, then wait for all of them: the waits overlap.
    let mut started: Vec<(AddonKind, Vec<String>, Vec<String>)> = Vec::new();
    let mut results: Vec<AddonResult> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    for &addon in &c.addons {
        let found = k8s::controllers(&pods, addon);
        if found.is_empty() {
            results.push(AddonResult {
                addon,
                outcome: Outcome::Failed,
                deleted: Vec::new(),
                ready: Vec::new(),
                reason: Some(format!(
                    "the add-on is enabled, but kube-system has no {}-* pod owned by a StatefulSet or ReplicaSet",
                    addon.pod_prefix()
                )),
            });
            continue;
        }
        let old: Vec<String> = found.iter().map(|p| p.uid.clone()).collect();
        let mut deleted = Vec::new();
        let mut error = None;
        if opts.stopped() {
            results.push(AddonResult {
                addon,
                outcome: Outcome::Interrupted,
                deleted: Vec::new(),
                ready: Vec::new(),
                reason: Some(String::from("interrupted before its pods were deleted")),
            });
            continue;
        }
        for pod in found.iter().filter(|p| !p.terminating) {
            match conn.delete(pod).await {
                Ok(note) => {
                    deleted.push(pod.name.clone());
                    notes.extend(note);
                }
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = error {
            results.push(AddonResult { addon, outcome: Outcome::Failed, deleted, ready: Vec::new(), reason: Some(e) });
        } else {
            started.push((addon, old, deleted));
        }
    }
    reporter.step(&c.name, "waiting for Ready pods");
    let deadline = ready_deadline.unwrap_or_else(|| Instant::now() + opts.ready_wait);
    let waits = started.into_iter().map(|(addon, old, deleted)| async move {
        let count = deleted.len().max(1);
        tokio::select! {
            r = conn.wait_ready(addon, &old, count, deadline, opts.interval) => match r {
                Ok(ready) => AddonResult { addon, outcome: Outcome::Restarted, deleted, ready, reason: None },
                Err(e) => AddonResult { addon, outcome: Outcome::Failed, deleted, ready: Vec::new(), reason: Some(e) },
            },
            // The user stopped the wait: what was deleted is reported (and audited below); the
            // controllers re-create the pods whether or not anyone waits.
            () = opts.until_stopped() => AddonResult {
                addon,
                outcome: Outcome::Interrupted,
                reason: Some(if deleted.is_empty() {
                    String::from("interrupted: no pod was deleted (its pods were already being replaced), and no replacement was seen Ready yet")
                } else {
                    format!("interrupted: {} deleted, replacements not seen Ready yet", deleted.join(", "))
                }),
                deleted,
                ready: Vec::new(),
            },
        }
    });
    results.extend(futures_util::future::join_all(waits).await);
    results.sort_by_key(|r| r.addon);
    let outcome = if results.iter().any(|r| r.outcome == Outcome::Failed) {
        Outcome::Failed
    } else if results.iter().any(|r| r.outcome == Outcome::Interrupted) {
        Outcome::Interrupted
    } else {
        Outcome::Restarted
    };
    // Deleting pods is a change: it goes to the audit log, with what came back.
    if !to_delete.is_empty() || results.iter().any(|r| !r.deleted.is_empty() || r.outcome == Outcome::Failed) {
        let detail = results
            .iter()
            .map(|r| {
                let mut t = format!("{} on {}: deleted [{}]", r.addon.cli_name(), c.name, r.deleted.join(", "));
                if !r.ready.is_empty() {
                    t.push_str(&format!(", Ready [{}]", r.ready.join(", ")));
                }
                if let Some(why) = &r.reason {
                    t.push_str(&format!(", {why}"));
                }
                t
            })
            .chain(notes.iter().cloned())
            .collect::<Vec<_>>()
            .join("; ");
        audit(
            match outcome {
                Outcome::Failed => "failed",
                Outcome::Interrupted => "interrupted",
                _ => "succeeded",
            },
            detail,
        );
    }
    let mut r = ClusterResult::whole(c, outcome, None);
    r.addons = results;
    let mut r = with_endpoint(r, p);
    r.warnings.extend(notes);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in AddonKind::ALL {
            assert_eq!(AddonKind::from_api(a.api_name()), Some(a));
            assert_eq!(serde_json::to_value(a).unwrap(), a.cli_name());
        }
        assert_eq!(AddonKind::from_api("istio"), None);
    }

    #[test]
    fn satellite_always_uses_its_link_endpoint() {
        assert_eq!(Endpoint::Public.endpoint_type("vpc-gen2"), None);
        assert_eq!(Endpoint::Vpe.endpoint_type("vpc-gen2"), Some("vpe"));
        assert_eq!(Endpoint::Private.endpoint_type("classic"), Some("private"));
        assert_eq!(Endpoint::Vpe.endpoint_type("classic"), Some("private"));
        assert_eq!(Endpoint::Public.endpoint_type("satellite"), Some("link"));
        assert_eq!(Endpoint::Vpe.endpoint_type("satellite"), Some("link"));
    }
}
