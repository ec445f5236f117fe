//! The containers API (Kubernetes Service and `OpenShift` share it): the cluster API key and the
//! cluster lists. Served both under `/global` (the public global host, where `X-Region` picks
//! the region) and without it (the private and VPE hosts).
//!
//! Error codes that IBM has not published for a case (a missing region, a refused reset) are
//! this emulator's own choice; they say so in their `type`-compatible bodies and in the README.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};

use crate::knobs::ReplicationMode;
use crate::server::Shared;
use crate::util::{self, Api, Caller};
use crate::world::{ApiKey, Cluster, ClusterKey, IdentityKind, Worker, World, cluster_key_description};

/// Regions the containers API accepts: IBM's `locations.md` (2026) multizone regions, plus the
/// legacy names classic locations still report.
const REGIONS: &[&str] = &[
    "au-syd",
    "in-che",
    "in-mum",
    "jp-osa",
    "jp-tok",
    "eu-de",
    "eu-es",
    "eu-gb",
    "ca-mon",
    "ca-tor",
    "us-south",
    "us-east",
    "br-sao",
    "ap-north",
    "ap-south",
    "eu-central",
    "uk-south",
];

const VIEW_ROLES: &[&str] = &["Viewer", "Operator", "Editor", "Administrator"];

fn auth(shared: &Shared, headers: &HeaderMap) -> Result<Caller, Response> {
    util::bearer(shared, headers).ok_or_else(|| util::unauthorized(Api::Containers))
}

fn not_found() -> Response {
    util::containers_error(
        404,
        "G0004",
        "The specified cluster could not be found. If applicable, make sure that you target the correct account and resource group.",
        "General",
        Some(
            "To list the clusters you have access to, run 'ibmcloud ks cluster ls'. To list the resource groups that you have access to, run 'ibmcloud resource groups'. To target the resource group, run 'ibmcloud target -g <resource_group>'.",
        ),
    )
}

fn default_group(world: &World, account: &str) -> Option<String> {
    world.resource_groups.iter().find(|g| g.account_id == account && g.default).map(|g| g.id.clone())
}

/// The region (`X-Region`, validated) and resource group (`X-Auth-Resource-Group`, else the
/// account's default) a target-scoped call names, or the error IBM answers.
fn target_of(world: &World, caller: &Caller, headers: &HeaderMap) -> Result<(String, String), Response> {
    let Some(region) = util::header(headers, "x-region").map(str::to_owned) else {
        return Err(util::containers_error(
            400,
            "E0009",
            "The region is missing. Specify a region in the X-Region header.",
            "General",
            Some("To list the available regions, run 'ibmcloud ks locations'."),
        ));
    };
    if !REGIONS.contains(&region.as_str()) {
        return Err(util::containers_error(
            400,
            "E0013",
            &format!("The region '{region}' is not valid."),
            "General",
            Some("To list the available regions, run 'ibmcloud ks locations'."),
        ));
    }
    let rg = match util::header(headers, "x-auth-resource-group") {
        Some(g) => g.to_owned(),
        None => match default_group(world, &caller.account_id) {
            Some(g) => g,
            None => {
                return Err(util::containers_error(
                    400,
                    "E0014",
                    "The account has no default resource group.",
                    "General",
                    None,
                ));
            }
        },
    };
    if !world.resource_groups.iter().any(|g| g.id == rg && g.account_id == caller.account_id) {
        return Err(util::containers_error(
            404,
            "E0014",
            &format!("The resource group '{rg}' could not be found."),
            "General",
            Some("To list the resource groups that you have access to, run 'ibmcloud resource groups'."),
        ));
    }
    Ok((region, rg))
}

/// The caller, the world, and the target a target-scoped call names.
fn authorized_target<'a>(
    shared: &'a Shared,
    headers: &HeaderMap,
) -> Result<(Caller, std::sync::MutexGuard<'a, World>, String, String), Response> {
    let caller = auth(shared, headers)?;
    let world = shared.world();
    let (region, rg) = target_of(&world, &caller, headers)?;
    Ok((caller, world, region, rg))
}

/// `POST /v1/keys`.
pub(crate) async fn reset_key(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let (caller, mut world, region, rg) = match authorized_target(&shared, &headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    if !world.has_role(
        &caller.account_id,
        &caller.iam_id,
        "containers-kubernetes",
        &["Administrator"],
        Some(&region),
        Some(&rg),
    ) {
        return util::containers_error(
            403,
            "A0009",
            "You do not have the required permissions to reset the API key. The Administrator platform access role for IBM Cloud Kubernetes Service in this region and resource group is required.",
            "Authorization",
            Some("Ask your account administrator for the Administrator platform access role."),
        );
    }
    let kind = world.identities.iter().find(|i| i.iam_id == caller.iam_id).map(|i| i.kind);
    if kind == Some(IdentityKind::ServiceId)
        && !world.has_role(
            &caller.account_id,
            &caller.iam_id,
            "iam-identity",
            &["Operator", "Administrator"],
            None,
            None,
        )
    {
        return util::containers_error(
            403,
            "A0656",
            "The service ID cannot create the API key: the Operator platform access role on the IAM Identity Service is required.",
            "Authorization",
            Some("Assign the service ID the Operator role on the IAM Identity Service."),
        );
    }
    // IAM's own rules for creating the key, as IBM reports a failure of that step: `A03e9b`.
    let owner = world.accounts.iter().any(|a| a.id == caller.account_id && a.owner_iam_id == caller.iam_id);
    let restricted = world.settings.restrict_create_platform_apikey == "RESTRICTED"
        && !owner
        && !world.has_role(&caller.account_id, &caller.iam_id, "iam-identity", &["UserApiKeyCreator"], None, None);
    let at_limit = world.apikeys_per_identity > 0
        && world.api_keys.iter().filter(|k| k.iam_id == caller.iam_id).count() as u64 >= world.apikeys_per_identity;
    if restricted || at_limit {
        return util::containers_error(
            400,
            "A03e9b",
            "Failed to create an API key with IAM. Revise your request and try again.",
            "Authentication",
            None,
        );
    }
    let now = shared.now_secs(&world);
    let id = world.new_id("ApiKey-");
    let value: String = (0..44).map(|_| fastrand::alphanumeric()).collect();
    world.api_keys.push(ApiKey::new(
        id.clone(),
        "containers-kubernetes-key".into(),
        Some(cluster_key_description(&region, &rg)),
        caller.iam_id.clone(),
        caller.account_id.clone(),
        value,
        util::rfc3339(now),
    ));
    let previous = world
        .cluster_keys
        .iter()
        .find(|ck| ck.account_id == caller.account_id && ck.region == region && ck.resource_group_id == rg)
        .map(|ck| ck.api_key_id.clone());
    world
        .cluster_keys
        .retain(|ck| !(ck.account_id == caller.account_id && ck.region == region && ck.resource_group_id == rg));
    world.cluster_keys.push(ClusterKey {
        account_id: caller.account_id.clone(),
        region: region.clone(),
        resource_group_id: rg.clone(),
        api_key_id: id.clone(),
    });
    let clear_after = shared.knobs().cluster_reports_clear_ms;
    if clear_after == 0 {
        key_reset_clears(&mut world, &caller.account_id, &region, &rg);
    } else {
        let (later, account, region, rg) = (Arc::clone(&shared), caller.account_id.clone(), region.clone(), rg.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(clear_after)).await;
            key_reset_clears(&mut later.world(), &account, &region, &rg);
        });
    }
    drop(world);
    crate::k8s::key_changed(&shared, &caller.account_id, &region, &rg, previous.as_deref(), &id);
    if let Some(prev) = previous {
        shared
            .replication
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert((caller.account_id, region, rg), (Instant::now(), prev));
    }
    util::no_content()
}

fn find_cluster<'a>(world: &'a World, account: &str, id_or_name: &str, rg: Option<&str>) -> Option<&'a Cluster> {
    world
        .clusters
        .iter()
        .filter(|c| c.account_id == account && rg.is_none_or(|g| c.resource_group_id == g))
        .find(|c| c.id == id_or_name)
        .or_else(|| {
            world
                .clusters
                .iter()
                .filter(|c| c.account_id == account && rg.is_none_or(|g| c.resource_group_id == g))
                .find(|c| c.name == id_or_name)
        })
}

fn may_view(world: &World, caller: &Caller, c: &Cluster) -> bool {
    world.has_role(
        &caller.account_id,
        &caller.iam_id,
        "containers-kubernetes",
        VIEW_ROLES,
        Some(&c.region),
        Some(&c.resource_group_id),
    )
}

/// `GET /v1/logging/{idOrName}/clusterkeyowner`.
pub(crate) async fn key_owner(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id_or_name): Path<String>,
) -> Response {
    let caller = match auth(&shared, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let world = shared.world();
    let rg = util::header(&headers, "x-auth-resource-group");
    let Some(cluster) = find_cluster(&world, &caller.account_id, &id_or_name, rg) else {
        return not_found();
    };
    if !may_view(&world, &caller, cluster) {
        return not_found();
    }
    let target = (caller.account_id.clone(), cluster.region.clone(), cluster.resource_group_id.clone());
    let mut key_id = world
        .cluster_keys
        .iter()
        .find(|ck| ck.account_id == target.0 && ck.region == target.1 && ck.resource_group_id == target.2)
        .map(|ck| ck.api_key_id.clone());
    let (delay, mode) = {
        let k = shared.knobs();
        (Duration::from_millis(k.replication_delay_ms), k.replication_mode)
    };
    let replicating: HashMap<_, _> =
        shared.replication.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    if let Some((at, prev)) = replicating.get(&target)
        && at.elapsed() < delay
    {
        match mode {
            ReplicationMode::Stale => key_id = Some(prev.clone()),
            ReplicationMode::NotFound => {
                return util::containers_error(
                    404,
                    "A0055",
                    "The API key for this region and resource group could not be found. It might still be replicating; try again in a few seconds.",
                    "Authentication",
                    None,
                );
            }
        }
    }
    let key = key_id.and_then(|id| world.api_keys.iter().find(|k| k.id == id));
    if key.is_some_and(|k| crate::iam::not_replicated(&shared, &world, k)) {
        // OPEN: the code and message are IBM's (terraform-provider-ibm #3561); which service
        // answers them for a new key and in which body is not published: the containers API's
        // shape here, as its codes are of this form.
        return util::containers_error(
            404,
            "E06f9",
            "The specified API key could not be found.",
            "Authentication",
            None,
        );
    }
    let owner = key.and_then(|k| world.identities.iter().find(|i| i.iam_id == k.iam_id));
    match owner {
        Some(o) => util::ok(&json!({"id": o.iam_id, "name": o.name, "email": o.email})),
        None => util::containers_error(404, "E0051", "The user credentials could not be found.", "General", None),
    }
}

fn cluster_json(c: &Cluster, world: &World) -> Value {
    let master_status = c.master_status.as_deref().unwrap_or("Ready");
    let rg_name =
        world.resource_groups.iter().find(|g| g.id == c.resource_group_id).map(|g| g.name.clone()).unwrap_or_default();
    json!({
        "id": c.id,
        "name": c.name,
        "region": c.region,
        "resourceGroup": c.resource_group_id,
        "resourceGroupName": rg_name,
        "state": c.state,
        "type": c.kind,
        "provider": c.provider,
        "crn": format!("crn:v1:bluemix:public:containers-kubernetes:{}:a/{}:{}::", c.region, c.account_id, c.id),
        "location": c.location,
        "dataCenter": if c.provider == "classic" { c.location.as_str() } else { "" },
        "masterKubeVersion": if c.kind == "openshift" { "4.17.10_openshift" } else { "1.31.4_1536" },
        "targetVersion": if c.kind == "openshift" { "4.17.10_openshift" } else { "1.31.4" },
        "createdDate": c.created,
        "workerCount": workers_of(c).len(),
        "workerZones": [c.location],
        "masterStatus": master_status,
        "masterHealth": "normal",
        "isPaid": true,
        "ingress": {"hostname": format!("{}.{}.containers.appdomain.cloud", c.name, c.region), "secretName": c.name},
        "serviceEndpoints": {"privateServiceEndpointEnabled": true, "publicServiceEndpointEnabled": c.provider != "satellite"},
        // INFERRED: the field IBM's cluster body names the trusted profile with (see the core's
        // `Cluster::trusted_profile_id`).
        "trustedProfileID": c.trusted_profile_id.clone().unwrap_or_default(),
        // The rest of bluemix-go's v2 `ClusterInfo`.
        "entitlement": "",
        "ownerEmail": "",
        "podSubnet": "172.17.0.0/18",
        "serviceSubnet": "172.21.0.0/16",
        "multiAzCapable": true,
        "apiUser": "",
        "masterURL": format!("https://c{}.{}.containers.cloud.ibm.com:30000", &c.id[c.id.len().saturating_sub(4)..], c.region),
        "serverURL": format!("https://c{}.{}.containers.cloud.ibm.com:30000", &c.id[c.id.len().saturating_sub(4)..], c.region),
        "disableAutoUpdate": false,
        "versionEOS": "",
        "vpcs": if c.provider.starts_with("vpc") { vec![format!("r006-{}", c.resource_group_id)] } else { Vec::new() },
        "lifecycle": {
            "modifiedDate": c.created,
            "masterStatus": master_status,
            "masterStatusModifiedDate": c.created,
            "masterHealth": "normal",
            "masterState": "deployed",
        },
        "features": {"keyProtectEnabled": false, "pullSecretApplied": true},
    })
}

/// A cluster in the flat v1 shape (bluemix-go `containerv1.ClusterInfo`): the ingress and the
/// service endpoints as top-level members, no v2 `lifecycle`, `features` or `vpcs`.
fn cluster_v1_json(c: &Cluster, world: &World) -> Value {
    let mut v = cluster_json(c, world);
    if let Some(o) = v.as_object_mut() {
        let ingress = o.remove("ingress").unwrap_or_default();
        let endpoints = o.remove("serviceEndpoints").unwrap_or_default();
        for gone in ["lifecycle", "features", "vpcs"] {
            o.remove(gone);
        }
        o.insert("ingressHostname".into(), ingress["hostname"].clone());
        o.insert("ingressSecretName".into(), ingress["secretName"].clone());
        o.insert("privateServiceEndpointEnabled".into(), endpoints["privateServiceEndpointEnabled"].clone());
        o.insert("publicServiceEndpointEnabled".into(), endpoints["publicServiceEndpointEnabled"].clone());
        o.insert("vlans".into(), Value::Array(Vec::new()));
    }
    v
}

/// The clusters of `providers` the caller may see; `v1`: the v1 API (`X-Region` filters, flat
/// shape).
fn list(shared: &Shared, headers: &HeaderMap, providers: &[&str], v1: bool) -> Response {
    let caller = match auth(shared, headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let world = shared.world();
    let rg = util::header(headers, "x-auth-resource-group");
    let region = if v1 { util::header(headers, "x-region") } else { None };
    let out: Vec<Value> = world
        .clusters
        .iter()
        .filter(|c| c.account_id == caller.account_id)
        .filter(|c| providers.contains(&c.provider.as_str()))
        .filter(|c| rg.is_none_or(|g| c.resource_group_id == g))
        .filter(|c| region.is_none_or(|r| c.region == r))
        .filter(|c| may_view(&world, &caller, c))
        .map(|c| if v1 { cluster_v1_json(c, &world) } else { cluster_json(c, &world) })
        .collect();
    util::ok(&Value::Array(out))
}

/// `GET /v1/clusters` (classic clusters of the `X-Region` region).
pub(crate) async fn clusters_v1(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    list(&shared, &headers, &["classic"], true)
}

/// `GET /v2/vpc/getClusters`.
pub(crate) async fn clusters_vpc(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match q.get("provider").map(String::as_str) {
        Some("vpc-classic") => list(&shared, &headers, &["vpc-classic"], false),
        Some("vpc-gen2") => list(&shared, &headers, &["vpc-gen2"], false),
        _ => list(&shared, &headers, &["vpc-gen2", "vpc-classic"], false),
    }
}

/// `GET /v2/classic/getClusters`.
pub(crate) async fn clusters_classic(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    list(&shared, &headers, &["classic"], false)
}

/// `GET /v2/satellite/getClusters`.
pub(crate) async fn clusters_satellite(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    list(&shared, &headers, &["satellite"], false)
}

/// The cluster a `?cluster=` query names, when the caller may see it.
fn queried_cluster(shared: &Shared, headers: &HeaderMap, q: &HashMap<String, String>) -> Result<Cluster, Response> {
    let caller = auth(shared, headers)?;
    let Some(name) = q.get("cluster") else {
        return Err(util::containers_error(400, "E0010", "The cluster query parameter is required.", "General", None));
    };
    visible(shared, &caller, headers, name)
}

/// The cluster `name` (or ID) names in the caller's account and the targeted group, when the
/// caller may see it; else IBM's 404.
fn visible(shared: &Shared, caller: &Caller, headers: &HeaderMap, name: &str) -> Result<Cluster, Response> {
    let world = shared.world();
    match find_cluster(&world, &caller.account_id, name, util::header(headers, "x-auth-resource-group")) {
        Some(c) if may_view(&world, caller, c) => Ok(c.clone()),
        _ => Err(not_found()),
    }
}

/// `GET /v2/getCluster?cluster=`.
pub(crate) async fn get_cluster(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match queried_cluster(&shared, &headers, &q) {
        Ok(c) => util::ok(&cluster_json(&c, &shared.world())),
        Err(r) => r,
    }
}

/// A cluster's workers: those of the world, else three normal ones.
fn workers_of(c: &Cluster) -> Vec<Worker> {
    if !c.workers.is_empty() {
        return c.workers.clone();
    }
    (1..=3)
        .map(|n| Worker { id: format!("kube-{}-default-{n:08}", c.id), state: "normal".into(), message: String::new() })
        .collect()
}

/// A worker in bluemix-go's `containerv1.Worker` shape (classic clusters): its message in
/// `errorMessage` and `status`, as IBM's CLI shows a worker's status.
fn worker_v1_json(c: &Cluster, w: &Worker) -> Value {
    json!({
        "billing": "hourly",
        "errorMessage": w.message,
        "id": w.id,
        "isolation": "public",
        "kubeVersion": "1.31.4_1536",
        "machineType": "b3c.4x16",
        "privateIP": "10.0.0.10",
        "privateVlan": "2918270",
        "publicIP": "169.0.0.10",
        "publicVlan": "2918268",
        "location": c.location,
        "poolid": format!("{}-default", c.id),
        "poolName": "default",
        "trustedStatus": "disabled",
        "reasonForDelete": "",
        "versionEOS": "",
        "masterVersionEOS": "",
        "state": w.state,
        "status": if w.message.is_empty() { "Ready" } else { w.message.as_str() },
        "targetVersion": "1.31.4_1536",
    })
}

/// A worker in bluemix-go's `containerv2.Worker` shape: its message in `health.message` and
/// `lifecycle.message`.
fn worker_v2_json(c: &Cluster, w: &Worker) -> Value {
    let health = if w.state == "normal" { "normal" } else { "warning" };
    json!({
        "billing": "hourly",
        "flavor": "bx2.4x16",
        "id": w.id,
        // bluemix-go's `KubeVersion` has no JSON tag: Go matches the member without regard to case.
        "kubeVersion": {"actual": "1.31.4_1536", "desired": "1.31.4_1536", "eos": "", "masterEos": "", "target": "1.31.4_1536"},
        "location": c.location,
        "poolid": format!("{}-default", c.id),
        "poolName": "default",
        "lifecycle": {
            "reasonForDelete": "",
            "actualState": if w.state == "normal" { "deployed" } else { w.state.as_str() },
            "desiredState": "deployed",
            "message": w.message,
            "messageDate": if w.message.is_empty() { "" } else { c.created.as_str() },
            "messageDetails": "",
            "messageDetailsDate": "",
            "pendingOperation": "",
        },
        "health": {"message": if w.message.is_empty() { "Ready" } else { w.message.as_str() }, "state": health},
        "networkInterfaces": [{"cidr": "10.240.0.0/24", "ipAddress": "10.240.0.10", "primary": true, "subnetID": format!("0717-{}", c.id)}],
    })
}

/// `GET /v1/clusters/{idOrName}/workers` (classic): a bare array of `containerv1.Worker`.
pub(crate) async fn workers_v1(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id_or_name): Path<String>,
) -> Response {
    let caller = match auth(&shared, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    match visible(&shared, &caller, &headers, &id_or_name) {
        Ok(c) => util::ok(&Value::Array(workers_of(&c).iter().map(|w| worker_v1_json(&c, w)).collect())),
        Err(r) => r,
    }
}

/// `GET /v2/vpc/getWorkers?cluster=` (and the provider-neutral `/v2/getWorkers`): a bare array
/// of `containerv2.Worker`.
pub(crate) async fn workers_v2(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match queried_cluster(&shared, &headers, &q) {
        Ok(c) => util::ok(&Value::Array(workers_of(&c).iter().map(|w| worker_v2_json(&c, w)).collect())),
        Err(r) => r,
    }
}

/// `GET /v2/getClusterHealthIssues?cluster=`: a bare array of `{id, component, severity,
/// description}`.
///
/// OPEN (as in the core): IBM's call and body behind `ibmcloud ks cluster health issues` are
/// not confirmed; this serves what the CLI prints, in the shape the core reads.
pub(crate) async fn health_issues(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match queried_cluster(&shared, &headers, &q) {
        Ok(c) => util::ok(&serde_json::to_value(&c.health_issues).unwrap_or_else(|_| json!([]))),
        Err(r) => r,
    }
}

/// What a reset of a target's key clears on its clusters: the health issues and worker
/// messages that the old key or its owner caused (NHC009, "Provided user not found or active",
/// "User account is currently `cancel_pending`."). A cluster left with nothing to report is
/// `normal` again.
fn key_reset_clears(world: &mut World, account: &str, region: &str, rg: &str) {
    let caused = |text: &str| {
        let t = text.to_lowercase();
        ["iam token exchange request failed", "provided user not found or active", "cancel_pending"]
            .iter()
            .any(|f| t.contains(f))
    };
    for c in
        world.clusters.iter_mut().filter(|c| c.account_id == account && c.region == region && c.resource_group_id == rg)
    {
        let before = (c.health_issues.len(), c.workers.iter().filter(|w| !w.message.is_empty()).count());
        c.health_issues.retain(|i| !i.id.eq_ignore_ascii_case("NHC009") && !caused(&i.description));
        for w in &mut c.workers {
            if caused(&w.message) {
                w.message.clear();
                w.state = "normal".into();
            }
        }
        let after = (c.health_issues.len(), c.workers.iter().filter(|w| !w.message.is_empty()).count());
        if after != before && after == (0, 0) {
            c.state = "normal".into();
        }
    }
}

/// The containers API's record of an add-on, as `GET /v1/clusters/{id}/addons` lists it
/// (bluemix-go `AddOn`).
fn addon_json(name: &str) -> Value {
    let version = match name {
        crate::k8s::VPC_BLOCK_CSI => "5.2",
        crate::k8s::AUTOSCALER => "1.2.3",
        _ => "1.0",
    };
    json!({
        "name": name,
        "version": version,
        "targetVersion": version,
        "healthState": "normal",
        "healthStatus": "Addon Ready. For more info: http://ibm.biz/addon-state (H1500)",
        "allowed_upgrade_versions": [],
        "deprecated": false,
        "vlan_spanning_required": false,
        // bluemix-go's `AddOn` has these too.
        "minKubeVersion": "1.29.0",
        "minOCPVersion": "4.14.0",
        "supportedKubeRange": ">=1.29.0 <1.33.0",
        "supportedOCPRange": ">=4.14.0 <4.19.0",
        "options": {},
    })
}

/// `GET /v1/clusters/{idOrName}/addons`: a bare JSON array.
pub(crate) async fn addons(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id_or_name): Path<String>,
) -> Response {
    let caller = match auth(&shared, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    match visible(&shared, &caller, &headers, &id_or_name) {
        Ok(c) => util::ok(&Value::Array(c.addons.iter().map(|a| addon_json(a)).collect())),
        Err(r) => r,
    }
}

/// The body of `POST /v2/applyRBACAndGetKubeconfig` (bluemix-go `GetClusterConfigDetail`).
#[derive(Debug, serde::Deserialize)]
struct KubeconfigRequest {
    cluster: String,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    admin: bool,
    #[serde(default, rename = "endpointType")]
    endpoint_type: Option<String>,
}

/// `POST /v2/applyRBACAndGetKubeconfig`: a flat ZIP with the kubeconfig (`.yaml`) and, for an
/// admin kubeconfig, `admin.pem`, `admin-key.pem` and the CA's PEM, referenced by relative name.
/// IBM checks `containers-kubernetes.cluster.create` (the Administrator role).
pub(crate) async fn kubeconfig(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let caller = match auth(&shared, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(req) = serde_json::from_slice::<KubeconfigRequest>(&body) else {
        return util::containers_error(400, "E0010", "The request body is not valid.", "General", None);
    };
    if req.format.as_deref().is_some_and(|f| f != "zip") {
        return util::containers_error(400, "E0010", "The format must be 'zip'.", "General", None);
    }
    let endpoint = req.endpoint_type.clone().unwrap_or_else(|| "public".into());
    let cluster = {
        let world = shared.world();
        match find_cluster(&world, &caller.account_id, &req.cluster, util::header(&headers, "x-auth-resource-group")) {
            Some(c) if may_view(&world, &caller, c) => {
                if !world.has_role(
                    &caller.account_id,
                    &caller.iam_id,
                    "containers-kubernetes",
                    &["Administrator"],
                    Some(&c.region),
                    Some(&c.resource_group_id),
                ) {
                    return util::containers_error(
                        403,
                        "A0006",
                        "You do not have the required permissions to get the cluster configuration. The Administrator platform access role for IBM Cloud Kubernetes Service is required.",
                        "Authorization",
                        Some("Ask your account administrator for the Administrator platform access role."),
                    );
                }
                c.clone()
            }
            _ => return not_found(),
        }
    };
    let valid = match endpoint.as_str() {
        "public" | "private" => true,
        "vpe" => cluster.provider.starts_with("vpc"),
        "link" => cluster.provider == "satellite",
        _ => false,
    };
    if !valid {
        return util::containers_error(
            400,
            "E0162",
            &format!("The endpoint type '{endpoint}' is not available for cluster '{}'.", cluster.name),
            "General",
            None,
        );
    }
    let unreachable = shared.knobs().kube.unreachable.iter().any(|n| *n == cluster.id || *n == cluster.name);
    let server = if unreachable {
        crate::k8s::unreachable_server().to_owned()
    } else {
        match shared.kube_server(&cluster.id, &endpoint) {
            Ok(url) => url,
            Err(e) => return util::with_status(500, &json!({"error": e.to_string()})),
        }
    };
    let ca_file = format!("ca-{}-{}.pem", cluster.location, cluster.name);
    let context = format!("{}/{}", cluster.name, cluster.id);
    let mut files: Vec<(String, String)> = Vec::new();
    let user = if req.admin {
        let cert = match shared.issue_client_cert(&cluster.id) {
            Ok(c) => c,
            Err(e) => return util::with_status(500, &json!({"error": e})),
        };
        files.push(("admin.pem".into(), cert.cert_pem));
        files.push(("admin-key.pem".into(), cert.key_pem));
        "- name: admin\n  user:\n    client-certificate: admin.pem\n    client-key: admin-key.pem\n".to_owned()
    } else {
        // Without `admin`, an OpenShift kubeconfig has no user until `oc login`, and an IKS
        // one carries an IAM ID token; neither is accepted by this emulator's masters.
        String::new()
    };
    files.push((ca_file.clone(), shared.ca_pem()));
    let users = if user.is_empty() { "users: null\n".to_owned() } else { format!("users:\n{user}") };
    let user_name = if req.admin { "admin" } else { "" };
    let yaml = format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority: {ca_file}\n    server: {server}\n  name: {context}\ncontexts:\n- context:\n    cluster: {context}\n    namespace: default\n    user: {user_name}\n  name: {context}/admin\ncurrent-context: {context}/admin\nkind: Config\npreferences: {{}}\n{users}"
    );
    files.insert(0, (format!("kube-config-{}-{}-admin.yaml", cluster.location, cluster.name), yaml));
    shared.rbac_requested(&cluster.id);
    match zip_files(&files) {
        Ok(bytes) => axum::response::IntoResponse::into_response((
            axum::http::StatusCode::OK,
            [("content-type", "application/zip")],
            bytes,
        )),
        Err(e) => util::with_status(500, &json!({"error": e.to_string()})),
    }
}

fn zip_files(files: &[(String, String)]) -> zip::result::ZipResult<Vec<u8>> {
    use std::io::Write as _;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content) in files {
        w.start_file(name.as_str(), zip::write::SimpleFileOptions::default())?;
        w.write_all(content.as_bytes())?;
    }
    Ok(w.finish()?.into_inner())
}

/// `GET /v2/getRBACStatus?cluster=`: `{"synchronized": bool, "error": bool}`.
pub(crate) async fn rbac_status(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match queried_cluster(&shared, &headers, &q) {
        Ok(c) => util::ok(&json!({"synchronized": shared.rbac_synchronized(&c.id), "error": false})),
        Err(r) => r,
    }
}

/// `GET`, `POST` and `DELETE /v1/credentials`: the classic infrastructure credentials set by hand
/// for the target (`ibmcloud ks credential get / set classic / unset`). `POST` takes them from
/// IBM's headers, `X-Auth-Softlayer-Username` and `X-Auth-Softlayer-APIKey`, with no body.
///
/// INFERRED: IBM does not document the body of `GET`; the CLI prints only the user name. This
/// answers `{"infrastructure_username", "region", "resource_group_id"}`, and `E0051` (404, as
/// the CLI shows "No credentials set ... (E0051)") when none are set.
pub(crate) async fn credentials(
    State(shared): State<Arc<Shared>>,
    method: axum::http::Method,
    headers: HeaderMap,
) -> Response {
    let (caller, mut world, region, rg) = match authorized_target(&shared, &headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let roles: &[&str] = if method == axum::http::Method::GET { VIEW_ROLES } else { &["Editor", "Administrator"] };
    if !world.has_role(&caller.account_id, &caller.iam_id, "containers-kubernetes", roles, Some(&region), Some(&rg)) {
        return util::containers_error(
            403,
            "A0009",
            "You do not have the required permissions for the infrastructure credentials of this region and resource group.",
            "Authorization",
            None,
        );
    }
    let here = |c: &crate::world::ClassicCredential| {
        c.account_id == caller.account_id && c.region == region && c.resource_group_id == rg
    };
    let group_name = world.resource_groups.iter().find(|g| g.id == rg).map(|g| g.name.clone()).unwrap_or_default();
    match method {
        axum::http::Method::GET => match world.classic_credentials.iter().find(|c| here(c)) {
            Some(c) => util::ok(&json!({
                "infrastructure_username": c.username,
                "region": c.region,
                "resource_group_id": c.resource_group_id,
            })),
            None => util::containers_error(
                404,
                "E0051",
                &format!(
                    "No credentials set for resource group {group_name}.: The user credentials could not be found."
                ),
                "General",
                None,
            ),
        },
        axum::http::Method::POST => {
            let (Some(user), Some(key)) = (
                util::header(&headers, "x-auth-softlayer-username"),
                util::header(&headers, "x-auth-softlayer-apikey"),
            ) else {
                return util::containers_error(
                    400,
                    "E0052",
                    "The infrastructure user name and API key are required.",
                    "General",
                    None,
                );
            };
            let credential = crate::world::ClassicCredential {
                account_id: caller.account_id.clone(),
                region: region.clone(),
                resource_group_id: rg.clone(),
                username: user.to_owned(),
                api_key_sha256: util::sha256_hex(key),
            };
            world.classic_credentials.retain(|c| !here(c));
            world.classic_credentials.push(credential);
            util::ok(&json!({}))
        }
        _ => {
            world.classic_credentials.retain(|c| !here(c));
            util::ok(&json!({}))
        }
    }
}

/// The body of `PUT /v1/clusters/{idOrName}/masters` (bluemix-go `MasterAPIServer`).
#[derive(Debug, serde::Deserialize)]
struct MasterAction {
    action: String,
}

/// `PUT /v1/clusters/{idOrName}/masters` with `{"action": "refresh"}` (bluemix-go
/// `RefreshAPIServers`): restarts the master's API servers so that they read what changed.
/// IBM lists `containers-kubernetes.cluster.operate` for it (the Operator role). Answers 204; the
/// refresh is counted (`master refresh <cluster ID>` in the stats), so that tests see how many ran.
pub(crate) async fn refresh_master(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id_or_name): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let caller = match auth(&shared, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    match serde_json::from_slice::<MasterAction>(&body) {
        Ok(a) if a.action == "refresh" => {}
        _ => return util::containers_error(400, "E0010", "The request body is not valid.", "General", None),
    }
    let c = match visible(&shared, &caller, &headers, &id_or_name) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !shared.world().has_role(
        &caller.account_id,
        &caller.iam_id,
        "containers-kubernetes",
        &["Operator", "Administrator"],
        Some(&c.region),
        Some(&c.resource_group_id),
    ) {
        return util::containers_error(
            403,
            "A0006",
            "You do not have the required permissions to refresh the cluster master. The Operator platform access role for IBM Cloud Kubernetes Service is required.",
            "Authorization",
            Some("Ask your account administrator for the Operator platform access role."),
        );
    }
    shared.count(&format!("master refresh {}", c.id));
    axum::response::IntoResponse::into_response(axum::http::StatusCode::NO_CONTENT)
}
