//! A Kubernetes API for every emulated cluster: the part of it that restarting the IBM add-on
//! pods touches, with the real API's paths, query strings and object shapes so that standard
//! clients (kube-rs, client-go, kubectl) work against it.
//!
//! One HTTPS listener serves every cluster; a cluster's API lives under
//! `/{endpoint}/{cluster-id}` (the endpoint being `public`, `private`, `vpe` or `link`, so that
//! a test can see which one an admin kubeconfig pointed at). TLS asks for a client certificate
//! signed by the emulator's CA, and the certificate must be one issued for that cluster, as in
//! an admin kubeconfig from `applyRBACAndGetKubeconfig`.
//!
//! What is served, in `kube-system` (any other namespace is empty):
//! - pods: the VPC Block Storage CSI controller (`StatefulSet` pod `ibm-vpc-block-csi-controller-0`)
//!   and node `DaemonSet` pods, both labelled `app: ibm-vpc-block-csi-driver` as IBM's manifest
//!   does; the cluster autoscaler (Deployment pod `ibm-iks-cluster-autoscaler-<rs>-<x>`); and
//!   unrelated system pods. A deleted pod is replaced by its controller after
//!   `kube.replace_ms` (a `StatefulSet` keeps the name, a `ReplicaSet` picks a new one), Pending
//!   until `kube.ready_ms` later, then Running and Ready (never Ready on a `never_ready` cluster).
//! - the secret `storage-secret-store`, whose `slclient.toml` carries an encrypted form of the
//!   target's current key. A reset reaches it `kube.secret_update_ms` after the reset, as IBM's
//!   `cluster_secret_update` job does (10-30 minutes in real life). On Satellite the secret is
//!   hand-made (`ca_iam_api_key`) and a reset never changes it.
//!
//! State is made the first time a cluster is looked at and moves on lazily, when it is read.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::server::Shared;
use crate::tls::PeerCert;
use crate::world::{Cluster, World};

/// The add-on names of the containers API and what runs for them in `kube-system`.
pub const VPC_BLOCK_CSI: &str = "vpc-block-csi-driver";
/// The cluster autoscaler add-on.
pub const AUTOSCALER: &str = "cluster-autoscaler";

const NS: &str = "kube-system";
const SECRET: &str = "storage-secret-store";

/// One pod.
#[derive(Debug, Clone)]
struct Pod {
    name: String,
    uid: String,
    rv: u64,
    labels: BTreeMap<String, String>,
    /// Owner kind (`StatefulSet`, `ReplicaSet`, `DaemonSet`) and name.
    owner: (&'static str, String),
    container: &'static str,
    image: &'static str,
    node: String,
    created: i64,
    born: Instant,
    /// When it becomes Ready; `None`: never.
    ready_at: Option<Instant>,
    /// Deletion time (emulator clock) and when the replacement takes its place.
    deleted: Option<(i64, Instant)>,
    restarts: u32,
}

/// What the secret carries.
#[derive(Debug, Clone)]
struct SecretState {
    /// The API key ID whose encrypted form the secret carries (empty: none).
    key_id: String,
    /// A newer key on its way, and when it arrives.
    pending: Option<(String, Instant)>,
    rv: u64,
    uid: String,
    hand_made: bool,
    classic: bool,
}

/// One cluster's Kubernetes state.
#[derive(Debug, Clone)]
pub struct KubeCluster {
    pods: Vec<Pod>,
    secret: SecretState,
    next_rv: u64,
    never_ready: bool,
    ready_ms: u64,
}

fn suffix(n: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..n).map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())])).collect()
}

fn uid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// What IBM's secret holds for a key: an encrypted value, here a digest of the key's ID (never
/// the key itself), so that a change of key changes the secret.
fn encrypted(key_id: &str) -> String {
    if key_id.is_empty() {
        return String::new();
    }
    let d = Sha256::digest(format!("emulator-storage-secret:{key_id}").as_bytes());
    d.iter().take(24).fold(String::from("ENC:"), |mut s, b| {
        s.push_str(&format!("{b:02x}"));
        s
    })
}

/// The current key ID of a cluster's target.
fn current_key(world: &World, c: &Cluster) -> String {
    world
        .cluster_keys
        .iter()
        .find(|k| k.account_id == c.account_id && k.region == c.region && k.resource_group_id == c.resource_group_id)
        .map(|k| k.api_key_id.clone())
        .unwrap_or_default()
}

impl KubeCluster {
    fn new(c: &Cluster, key_id: String, now: i64, never_ready: bool, ready_ms: u64) -> Self {
        let born = Instant::now();
        let mut pods = Vec::new();
        let mut rv = 1000;
        let mut pod = |name: String, labels: &[(&str, &str)], owner: (&'static str, String), container, image, node| {
            rv += 1;
            pods.push(Pod {
                name,
                uid: uid(),
                rv,
                labels: labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
                owner,
                container,
                image,
                node,
                created: now - 86_400 * 30,
                born,
                ready_at: Some(born),
                deleted: None,
                restarts: 0,
            });
        };
        let nodes = ["10.240.0.4", "10.240.0.5", "10.240.64.4"];
        for node in nodes {
            pod(
                format!("calico-node-{}", suffix(5)),
                &[("k8s-app", "calico-node")],
                ("DaemonSet", "calico-node".into()),
                "calico-node",
                "icr.io/ext/calico/node:v3.29.1",
                node.to_owned(),
            );
        }
        let dns_rs = format!("coredns-{}", suffix(10));
        for node in &nodes[..2] {
            pod(
                format!("{dns_rs}-{}", suffix(5)),
                &[("k8s-app", "kube-dns")],
                ("ReplicaSet", dns_rs.clone()),
                "coredns",
                "icr.io/ext/coredns:1.11.4",
                (*node).to_owned(),
            );
        }
        if c.addons.iter().any(|a| a == VPC_BLOCK_CSI) {
            // IBM's manifest labels controller and node pods alike (kustomize `commonLabels`).
            let labels = [("app", "ibm-vpc-block-csi-driver"), ("addonmanager.kubernetes.io/mode", "Reconcile")];
            pod(
                "ibm-vpc-block-csi-controller-0".into(),
                &labels,
                ("StatefulSet", "ibm-vpc-block-csi-controller".into()),
                "iks-vpc-block-driver",
                "icr.io/ibm/ibm-vpc-block-csi-driver:v5.2.0",
                nodes[0].to_owned(),
            );
            for node in nodes {
                pod(
                    format!("ibm-vpc-block-csi-node-{}", suffix(5)),
                    &labels,
                    ("DaemonSet", "ibm-vpc-block-csi-node".into()),
                    "iks-vpc-block-node-driver",
                    "icr.io/ibm/ibm-vpc-block-csi-driver:v5.2.0",
                    node.to_owned(),
                );
            }
        }
        if c.addons.iter().any(|a| a == AUTOSCALER) {
            let rs = "ibm-iks-cluster-autoscaler-857c4d9d54".to_owned();
            pod(
                format!("{rs}-{}", suffix(5)),
                &[("app", "ibm-iks-cluster-autoscaler")],
                ("ReplicaSet", rs),
                "ibm-iks-cluster-autoscaler",
                "icr.io/iks-charts/ibm-iks-cluster-autoscaler:1.30.1",
                nodes[1].to_owned(),
            );
        }
        let satellite = c.provider == "satellite";
        Self {
            pods,
            secret: SecretState {
                key_id,
                pending: None,
                rv: rv + 1,
                uid: uid(),
                hand_made: satellite,
                classic: c.provider == "classic",
            },
            next_rv: rv + 2,
            never_ready,
            ready_ms,
        }
    }

    /// Moves time on: replacements take the place of deleted pods, the secret gets its key.
    fn tick(&mut self, now: i64) {
        let at = Instant::now();
        if let Some((key, when)) = self.secret.pending.clone()
            && when <= at
        {
            self.secret.key_id = key;
            self.secret.pending = None;
            self.secret.rv = self.next_rv;
            self.next_rv += 1;
        }
        let due: Vec<usize> =
            (0..self.pods.len()).filter(|&i| self.pods[i].deleted.is_some_and(|(_, w)| w <= at)).collect();
        for i in due.into_iter().rev() {
            let old = self.pods.remove(i);
            let name = match old.owner.0 {
                // A StatefulSet keeps the pod's name; a ReplicaSet or DaemonSet picks a new one.
                "StatefulSet" => old.name.clone(),
                _ => format!("{}-{}", old.owner.1, suffix(5)),
            };
            let born = old.deleted.map_or(at, |(_, w)| w);
            self.next_rv += 1;
            self.pods.push(Pod {
                name,
                uid: uid(),
                rv: self.next_rv,
                created: now - i64::try_from(at.saturating_duration_since(born).as_secs()).unwrap_or(0),
                born,
                ready_at: if self.never_ready { None } else { Some(born + Duration::from_millis(self.ready_ms)) },
                deleted: None,
                restarts: 0,
                ..old
            });
        }
    }

    fn secret_json(&self, now: i64) -> Value {
        let enc = encrypted(&self.secret.key_id);
        let data = if self.secret.hand_made {
            json!({
                "ca_iam_api_key": b64(&enc),
                "container_api_route": b64("https://containers.cloud.ibm.com"),
            })
        } else {
            let toml = if self.secret.classic {
                format!(
                    "[Bluemix]\n  iam_url = \"https://iam.cloud.ibm.com\"\n  iam_client_id = \"bx\"\n  iam_client_secret = \"bx\"\n  iam_api_key = \"{enc}\"\n  refresh_token = \"\"\n  pay_tier = \"paid\"\n  containers_api_route = \"https://us-south.containers.cloud.ibm.com\"\n  encryption = true\n\n[Softlayer]\n  softlayer_username = \"\"\n  softlayer_api_key = \"\"\n  softlayer_endpoint_url = \"https://api.service.softlayer.com/rest/v3\"\n"
                )
            } else {
                format!(
                    "[Bluemix]\n  iam_url = \"https://iam.cloud.ibm.com\"\n  iam_client_id = \"bx\"\n  iam_client_secret = \"bx\"\n  iam_api_key = \"{enc}\"\n  refresh_token = \"\"\n  pay_tier = \"paid\"\n  containers_api_route = \"https://us-south.containers.cloud.ibm.com\"\n  encryption = true\n\n[VPC]\n  g2_token_exchange_endpoint_url = \"https://iam.cloud.ibm.com\"\n  g2_riaas_endpoint_url = \"https://us-south.iaas.cloud.ibm.com\"\n  g2_resource_group_id = \"\"\n  g2_api_key = \"{enc}\"\n  provider_type = \"g2\"\n"
                )
            };
            json!({"slclient.toml": b64(&toml)})
        };
        json!({
            "kind": "Secret",
            "apiVersion": "v1",
            "metadata": {
                "name": SECRET,
                "namespace": NS,
                "uid": self.secret.uid,
                "resourceVersion": self.secret.rv.to_string(),
                "creationTimestamp": crate::util::rfc3339(now - 86_400 * 30),
            },
            "type": "Opaque",
            "data": data,
        })
    }
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn pod_json(p: &Pod, now: i64) -> Value {
    let at = Instant::now();
    let ready = p.ready_at.is_some_and(|r| r <= at);
    let running = ready || p.ready_at.is_none();
    let since =
        |i: Instant| crate::util::rfc3339(now - i64::try_from(at.saturating_duration_since(i).as_secs()).unwrap_or(0));
    let (phase, state) = if ready {
        ("Running", json!({"running": {"startedAt": since(p.ready_at.unwrap_or(p.born))}}))
    } else if running {
        (
            "Running",
            json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}}),
        )
    } else {
        ("Pending", json!({"waiting": {"reason": "ContainerCreating"}}))
    };
    let restarts = if p.ready_at.is_none() {
        u32::try_from(at.saturating_duration_since(p.born).as_secs() / 10).unwrap_or(u32::MAX).saturating_add(1)
    } else {
        p.restarts
    };
    let status = |b: bool| if b { "True" } else { "False" };
    let mut metadata = json!({
        "name": p.name,
        "namespace": NS,
        "uid": p.uid,
        "resourceVersion": p.rv.to_string(),
        "creationTimestamp": crate::util::rfc3339(p.created),
        "labels": p.labels,
        "ownerReferences": [{
            "apiVersion": "apps/v1",
            "kind": p.owner.0,
            "name": p.owner.1,
            "uid": format!("{:0>8}-0000-4000-8000-000000000000", p.owner.1.len()),
            "controller": true,
            "blockOwnerDeletion": true,
        }],
    });
    if p.owner.0 == "ReplicaSet" || p.owner.0 == "DaemonSet" {
        metadata["generateName"] = json!(format!("{}-", p.owner.1));
    }
    if let Some((ts, _)) = p.deleted {
        metadata["deletionTimestamp"] = json!(crate::util::rfc3339(ts + 30));
        metadata["deletionGracePeriodSeconds"] = json!(30);
    }
    json!({
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": metadata,
        "spec": {
            "containers": [{"name": p.container, "image": p.image}],
            "nodeName": p.node,
            "restartPolicy": "Always",
        },
        "status": {
            "phase": phase,
            "conditions": [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": since(p.born)},
                {"type": "ContainersReady", "status": status(ready), "lastTransitionTime": since(p.born)},
                {"type": "Ready", "status": status(ready), "lastTransitionTime": since(p.born)},
            ],
            "hostIP": p.node,
            "startTime": since(p.born),
            "containerStatuses": [{
                "name": p.container,
                "image": p.image,
                "imageID": "",
                "ready": ready,
                "started": ready,
                "restartCount": restarts,
                "state": state,
            }],
        },
    })
}

/// A Kubernetes `Status` failure.
fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Response {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let Some(d) = details {
        body["details"] = d;
    }
    crate::util::with_status(code, &body)
}

/// A label selector of the forms the API accepts for equality: `k=v`, `k==v`, `k!=v`, `k`,
/// `!k`, comma-separated (all must hold). `None` for a selector this emulator does not parse.
fn label_matches(selector: &str, labels: &BTreeMap<String, String>) -> Option<bool> {
    let mut all = true;
    for term in selector.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if term.contains(" in ") || term.contains(" notin ") || term.contains('(') {
            return None;
        }
        let ok = if let Some((k, v)) = term.split_once("!=") {
            labels.get(k.trim()).is_none_or(|x| x != v.trim())
        } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            labels.get(k.trim()).is_some_and(|x| x == v.trim())
        } else if let Some(k) = term.strip_prefix('!') {
            !labels.contains_key(k.trim())
        } else {
            labels.contains_key(term)
        };
        all &= ok;
    }
    Some(all)
}

/// `metadata.name=x`, `metadata.name!=x`, `metadata.namespace=x`, `status.phase=x`.
fn field_matches(selector: &str, p: &Value) -> Option<bool> {
    let mut all = true;
    for term in selector.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let (field, value, equal) = if let Some((f, v)) = term.split_once("!=") {
            (f, v, false)
        } else if let Some((f, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            (f, v, true)
        } else {
            return None;
        };
        let actual = match field.trim() {
            "metadata.name" => &p["metadata"]["name"],
            "metadata.namespace" => &p["metadata"]["namespace"],
            "status.phase" => &p["status"]["phase"],
            "spec.nodeName" => &p["spec"]["nodeName"],
            _ => return None,
        };
        all &= (actual.as_str() == Some(value.trim())) == equal;
    }
    Some(all)
}

/// Which cluster a request is for, after the certificate check.
#[derive(Debug, Clone)]
struct ClusterId(String);

/// The routes, under `/{endpoint}/{cluster}`.
pub fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/version", get(version))
        .route("/api/v1/namespaces/{ns}/pods", get(list_pods))
        .route("/api/v1/namespaces/{ns}/pods/{name}", get(get_pod).delete(delete_pod))
        .route("/api/v1/namespaces/{ns}/secrets/{name}", get(get_secret));
    Router::new()
        .nest("/{endpoint}/{cluster}", api)
        .fallback(|| async { status(404, "NotFound", "the server could not find the requested resource", None) })
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), authenticate))
        .with_state(shared)
}

/// The client certificate must be one issued for this cluster; counts the request by endpoint.
async fn authenticate(State(shared): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let mut segs = path.trim_start_matches('/').splitn(3, '/');
    let (endpoint, cluster) = (segs.next().unwrap_or_default().to_owned(), segs.next().unwrap_or_default().to_owned());
    let issued = req.extensions().get::<PeerCert>().and_then(|c| shared.client_cert_cluster(&c.0));
    if issued.as_deref() != Some(cluster.as_str()) {
        return status(401, "Unauthorized", "Unauthorized", None);
    }
    let rest = segs.next().unwrap_or_default();
    let kind = if rest.contains("/pods") {
        "pods"
    } else if rest.contains("/secrets") {
        "secrets"
    } else {
        "other"
    };
    shared.count(&format!("k8s {endpoint} {} {kind}", req.method()));
    req.extensions_mut().insert(ClusterId(cluster));
    next.run(req).await
}

impl Shared {
    /// Runs `f` on a cluster's Kubernetes state, made on first use and moved on to now.
    fn with_kube<T>(&self, cluster_id: &str, f: impl FnOnce(&mut KubeCluster, i64) -> T) -> Option<T> {
        let (cluster, key, now) = {
            let w = self.world();
            let c = w.clusters.iter().find(|c| c.id == cluster_id)?.clone();
            let key = current_key(&w, &c);
            let now = self.now_secs(&w);
            (c, key, now)
        };
        let (never_ready, ready_ms) = {
            let k = self.knobs();
            (k.kube.never_ready.iter().any(|n| *n == cluster.id || *n == cluster.name), k.kube.ready_ms)
        };
        let mut kube = self.kube();
        let state = kube
            .entry(cluster.id.clone())
            .or_insert_with(|| KubeCluster::new(&cluster, key, now, never_ready, ready_ms));
        state.never_ready = never_ready;
        state.ready_ms = ready_ms;
        state.tick(now);
        Some(f(state, now))
    }
}

/// A reset of a target: its clusters' secrets get the new key after `secret_update_ms`
/// (except on Satellite, where the secret is hand-made).
pub fn key_changed(shared: &Shared, account: &str, region: &str, group: &str, previous: Option<&str>, new: &str) {
    let (clusters, now) = {
        let w = shared.world();
        let clusters: Vec<Cluster> = w
            .clusters
            .iter()
            .filter(|c| c.account_id == account && c.region == region && c.resource_group_id == group)
            .cloned()
            .collect();
        (clusters, shared.now_secs(&w))
    };
    let (delay, ready_ms) = {
        let k = shared.knobs();
        (Duration::from_millis(k.kube.secret_update_ms), k.kube.ready_ms)
    };
    let mut kube = shared.kube();
    for c in clusters {
        let state = kube
            .entry(c.id.clone())
            .or_insert_with(|| KubeCluster::new(&c, previous.unwrap_or_default().to_owned(), now, false, ready_ms));
        if !state.secret.hand_made {
            state.secret.pending = Some((new.to_owned(), Instant::now() + delay));
        }
    }
}

async fn version() -> Response {
    crate::util::ok(&json!({
        "major": "1", "minor": "31", "gitVersion": "v1.31.4+IKS", "platform": "linux/amd64",
    }))
}

fn ns_ok(ns: &str) -> bool {
    ns == NS
}

async fn list_pods(
    State(shared): State<Arc<Shared>>,
    axum::Extension(ClusterId(cluster)): axum::Extension<ClusterId>,
    Path((_, _, ns)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let items = shared.with_kube(&cluster, |k, now| {
        if ns_ok(&ns) { k.pods.iter().map(|p| (p.labels.clone(), pod_json(p, now))).collect() } else { Vec::new() }
    });
    let Some(items) = items else {
        return status(404, "NotFound", "cluster not found", None);
    };
    let mut out = Vec::new();
    for (labels, pod) in items {
        if let Some(sel) = q.get("labelSelector") {
            match label_matches(sel, &labels) {
                Some(true) => {}
                Some(false) => continue,
                None => return status(400, "BadRequest", &format!("unable to parse requirement: {sel}"), None),
            }
        }
        if let Some(sel) = q.get("fieldSelector") {
            match field_matches(sel, &pod) {
                Some(true) => {}
                Some(false) => continue,
                None => {
                    return status(400, "BadRequest", &format!("field label not supported: {sel}"), None);
                }
            }
        }
        out.push(pod);
    }
    let rv = shared.with_kube(&cluster, |k, _| k.next_rv).unwrap_or_default();
    crate::util::ok(&json!({
        "kind": "PodList",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": rv.to_string()},
        "items": out,
    }))
}

fn pod_not_found(name: &str) -> Response {
    status(404, "NotFound", &format!("pods \"{name}\" not found"), Some(json!({"name": name, "kind": "pods"})))
}

async fn get_pod(
    State(shared): State<Arc<Shared>>,
    axum::Extension(ClusterId(cluster)): axum::Extension<ClusterId>,
    Path((_, _, ns, name)): Path<(String, String, String, String)>,
) -> Response {
    let pod = shared
        .with_kube(&cluster, |k, now| k.pods.iter().find(|p| p.name == name && ns_ok(&ns)).map(|p| pod_json(p, now)))
        .flatten();
    match pod {
        Some(p) => crate::util::ok(&p),
        None => pod_not_found(&name),
    }
}

async fn delete_pod(
    State(shared): State<Arc<Shared>>,
    axum::Extension(ClusterId(cluster)): axum::Extension<ClusterId>,
    Path((_, _, ns, name)): Path<(String, String, String, String)>,
) -> Response {
    let replace = Duration::from_millis(shared.knobs().kube.replace_ms);
    let pod = shared
        .with_kube(&cluster, |k, now| {
            let rv = k.next_rv;
            let p = k.pods.iter_mut().find(|p| p.name == name && ns_ok(&ns))?;
            if p.deleted.is_none() {
                p.deleted = Some((now, Instant::now() + replace));
                p.rv = rv;
                k.next_rv += 1;
            }
            let p = k.pods.iter().find(|p| p.name == name)?;
            Some(pod_json(p, now))
        })
        .flatten();
    match pod {
        // The API answers 200 with the object, now carrying its deletionTimestamp.
        Some(p) => crate::util::ok(&p),
        None => pod_not_found(&name),
    }
}

async fn get_secret(
    State(shared): State<Arc<Shared>>,
    axum::Extension(ClusterId(cluster)): axum::Extension<ClusterId>,
    Path((_, _, ns, name)): Path<(String, String, String, String)>,
) -> Response {
    let secret = shared
        .with_kube(&cluster, |k, now| {
            let hand_made_missing =
                k.secret.hand_made && !k.pods.iter().any(|p| p.name.starts_with("ibm-iks-cluster-autoscaler"));
            (name == SECRET && ns_ok(&ns) && !hand_made_missing).then(|| k.secret_json(now))
        })
        .flatten();
    match secret {
        Some(s) => crate::util::ok(&s),
        None => status(
            404,
            "NotFound",
            &format!("secrets \"{name}\" not found"),
            Some(json!({"name": name, "kind": "secrets"})),
        ),
    }
}

/// The server a kubeconfig names for a cluster whose API cannot be reached: a closed port.
pub fn unreachable_server() -> &'static str {
    // Port 1 (tcpmux) is privileged and unused on any machine this runs on: connecting to it
    // on loopback is refused at once, which is what an unreachable master looks like.
    "https://127.0.0.1:1"
}
