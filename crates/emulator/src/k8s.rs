//! A Kubernetes API for every emulated cluster: the part of it that restarting the IBM add-on
//! pods touches, and what `kubectl` needs around it, with the real API's paths, query strings,
//! object shapes, discovery, watches and `Table` answers, so that standard clients (kube-rs,
//! client-go, `kubectl` with an empty cache) work against it.
//!
//! Each cluster endpoint (`public`, `private`, `vpe`, `link`) of each cluster has an HTTPS
//! address of its own, `https://127.0.0.1:PORT` with nothing after it, as an IKS or ROKS master
//! has `https://cNNN.REGION.containers.cloud.ibm.com:PORT`. The port is bound the first time a
//! kubeconfig names that endpoint (a thousand-cluster world binds only what is used), and the
//! requests it serves are counted under `k8s {endpoint} {method} {pods|secrets|other}`, so a
//! test sees which endpoint a client used. TLS asks for a client certificate signed by the
//! emulator's CA, and the certificate must be one issued for that cluster, as in an admin
//! kubeconfig from `applyRBACAndGetKubeconfig`.
//!
//! What is served:
//! - discovery: `/version`, `/api`, `/api/v1`, `/apis` and `/apis/authorization.k8s.io/v1`, in
//!   the legacy (unaggregated) form, which every client falls back to;
//! - namespaces: IKS's own (`default`, `ibm-cert-store`, `ibm-operators`, `ibm-system`,
//!   `kube-node-lease`, `kube-public`, `kube-system`); another one is 404, as a real server's;
//! - pods, in `kube-system` (any other namespace is empty): the VPC Block Storage CSI controller
//!   (`StatefulSet` pod `ibm-vpc-block-csi-controller-0`) and node `DaemonSet` pods, both
//!   labelled `app: ibm-vpc-block-csi-driver` as IBM's manifest does; the cluster autoscaler
//!   (Deployment pod `ibm-iks-cluster-autoscaler-<rs>-<x>`); and unrelated system pods. List,
//!   get, delete and watch, with label and field selectors. A deleted pod is replaced by its
//!   controller after `kube.replace_ms` (a `StatefulSet` keeps the name, a `ReplicaSet` picks a
//!   new one), Pending until `kube.ready_ms` later, then Running and Ready (never Ready on a
//!   `never_ready` cluster);
//! - the secret `storage-secret-store`, whose `slclient.toml` carries an encrypted form of the
//!   target's current key. A reset reaches it `kube.secret_update_ms` after the reset, as IBM's
//!   `cluster_secret_update` job does (10-30 minutes in real life). On Satellite the secret is
//!   hand-made (`ca_iam_api_key`) and a reset never changes it;
//! - `SelfSubjectAccessReview`: the admin certificate is in `system:masters`, which may do
//!   anything, so every review is allowed (what `kubectl auth can-i` asks).
//!
//! An `Accept` asking for `as=Table` (kubectl's default for `get`) is answered with a
//! `meta.k8s.io/v1` `Table` whose columns are those a real server prints for the kind, rows
//! carrying the object's metadata (or the whole object, or nothing: `includeObject`).
//!
//! State is made the first time a cluster is looked at and moves on lazily, when it is read; a
//! watch reads it every 100 ms. Every pod change gets the next `resourceVersion` and is kept in a
//! log of the last [`EVENTS_KEPT`] changes, so that a watch from a list's `resourceVersion` sees
//! every change after it, and one from before the log answers 410 Gone, as etcd's compaction does.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
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

/// The namespaces of an IKS cluster as created (IBM's own beside Kubernetes').
const NAMESPACES: [&str; 7] =
    ["default", "ibm-cert-store", "ibm-operators", "ibm-system", "kube-node-lease", "kube-public", "kube-system"];

/// How many pod changes a cluster keeps for watches.
pub const EVENTS_KEPT: usize = 1000;

/// How often a watch looks for changes.
const WATCH_TICK: Duration = Duration::from_millis(100);

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
    ip: String,
    created: i64,
    born: Instant,
    /// When it becomes Ready; `None`: never.
    ready_at: Option<Instant>,
    /// Whether it has been seen Ready (a change of its own, with its own `resourceVersion`).
    ready: bool,
    /// Deletion time (emulator clock) and when the replacement takes its place.
    deleted: Option<(i64, Instant)>,
    restarts: u32,
}

/// One pod change, as a watch sends it.
#[derive(Debug, Clone)]
struct Event {
    rv: u64,
    kind: &'static str,
    pod: Pod,
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
    /// The last `resourceVersion` handed out (what a list answers with).
    rv: u64,
    /// The last pod changes, oldest first.
    events: VecDeque<Event>,
    /// The newest `resourceVersion` whose change is no longer in `events`: a watch from before
    /// it would miss changes.
    forgotten: u64,
    never_ready: bool,
    ready_ms: u64,
    /// When the cluster was created (emulator clock), for the namespaces' age.
    created: i64,
}

fn suffix(n: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..n).map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())])).collect()
}

fn uid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn pod_ip() -> String {
    format!("172.17.{}.{}", fastrand::u8(0..=63), fastrand::u8(2..=254))
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
                ip: pod_ip(),
                created: now - 86_400 * 30,
                born,
                ready_at: Some(born),
                ready: true,
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
            rv: rv + 1,
            events: VecDeque::new(),
            // Nothing from before the cluster's state was made can be watched from.
            forgotten: rv + 1,
            never_ready,
            ready_ms,
            created: humantime::parse_rfc3339_weak(&c.created)
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .and_then(|d| i64::try_from(d.as_secs()).ok())
                .unwrap_or(now - 86_400 * 30),
        }
    }

    /// The next `resourceVersion`.
    fn bump(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// Keeps a pod change for watches.
    fn record(&mut self, kind: &'static str, pod: &Pod) {
        self.events.push_back(Event { rv: pod.rv, kind, pod: pod.clone() });
        while self.events.len() > EVENTS_KEPT {
            if let Some(e) = self.events.pop_front() {
                self.forgotten = e.rv;
            }
        }
    }

    /// Moves time on: replacements take the place of deleted pods, pods become Ready, the
    /// secret gets its key. Each change gets its own `resourceVersion`.
    fn tick(&mut self, now: i64) {
        let at = Instant::now();
        if let Some((key, when)) = self.secret.pending.clone()
            && when <= at
        {
            self.secret.key_id = key;
            self.secret.pending = None;
            self.secret.rv = self.bump();
        }
        let due: Vec<usize> =
            (0..self.pods.len()).filter(|&i| self.pods[i].deleted.is_some_and(|(_, w)| w <= at)).collect();
        for i in due.into_iter().rev() {
            let mut old = self.pods.remove(i);
            old.rv = self.bump();
            self.record("DELETED", &old);
            let name = match old.owner.0 {
                // A StatefulSet keeps the pod's name; a ReplicaSet or DaemonSet picks a new one.
                "StatefulSet" => old.name.clone(),
                _ => format!("{}-{}", old.owner.1, suffix(5)),
            };
            let born = old.deleted.map_or(at, |(_, w)| w);
            let new = Pod {
                name,
                uid: uid(),
                rv: self.bump(),
                ip: pod_ip(),
                created: now - i64::try_from(at.saturating_duration_since(born).as_secs()).unwrap_or(0),
                born,
                ready_at: if self.never_ready { None } else { Some(born + Duration::from_millis(self.ready_ms)) },
                ready: false,
                deleted: None,
                restarts: 0,
                ..old
            };
            self.record("ADDED", &new);
            self.pods.push(new);
        }
        for i in 0..self.pods.len() {
            let p = &self.pods[i];
            if !p.ready && p.deleted.is_none() && p.ready_at.is_some_and(|r| r <= at) {
                let rv = self.bump();
                let p = &mut self.pods[i];
                p.ready = true;
                p.rv = rv;
                let p = p.clone();
                self.record("MODIFIED", &p);
            }
        }
    }

    /// The pod changes after `rv`, as `(type, pod)`; `None` when some of them are forgotten.
    fn events_after(&self, rv: u64) -> Option<Vec<(&'static str, Value)>> {
        if rv < self.forgotten {
            return None;
        }
        Some(self.events.iter().filter(|e| e.rv > rv).map(|e| (e.kind, pod_json(&e.pod))).collect())
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

/// When `i` happened in a pod's life, on the emulator's clock: its creation plus the time from
/// its birth (a pod of the cluster as first seen was created 30 days before, not when the
/// emulator first looked).
fn at(p: &Pod, i: Instant) -> i64 {
    p.created + i64::try_from(i.saturating_duration_since(p.born).as_secs()).unwrap_or(0)
}

/// Restarts of a container that never becomes Ready: one every ten seconds, as a back-off.
fn restarts(p: &Pod) -> u32 {
    if p.ready_at.is_none() {
        u32::try_from(Instant::now().saturating_duration_since(p.born).as_secs() / 10)
            .unwrap_or(u32::MAX)
            .saturating_add(1)
    } else {
        p.restarts
    }
}

fn pod_json(p: &Pod) -> Value {
    let ready = p.ready;
    let running = ready || p.ready_at.is_none();
    let since = |i: Instant| crate::util::rfc3339(at(p, i));
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
    let status = |b: bool| if b { "True" } else { "False" };
    // Readiness last changed when the pod became Ready, else when it was born.
    let changed = if ready { p.ready_at.unwrap_or(p.born) } else { p.born };
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
    let mut pod_status = json!({
        "phase": phase,
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": since(p.born)},
            {"type": "ContainersReady", "status": status(ready), "lastTransitionTime": since(changed)},
            {"type": "Ready", "status": status(ready), "lastTransitionTime": since(changed)},
        ],
        "hostIP": p.node,
        "startTime": since(p.born),
        "containerStatuses": [{
            "name": p.container,
            "image": p.image,
            "imageID": "",
            "ready": ready,
            "started": ready,
            "restartCount": restarts(p),
            "state": state,
        }],
    });
    if running {
        pod_status["podIP"] = json!(p.ip);
        pod_status["podIPs"] = json!([{"ip": p.ip}]);
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
        "status": pod_status,
    })
}

fn namespace_json(cluster: &str, name: &str, created: i64) -> Value {
    let d = Sha256::digest(format!("{cluster}/{name}").as_bytes());
    let uid = uuid::Builder::from_random_bytes(d[..16].try_into().unwrap_or_default()).into_uuid();
    json!({
        "kind": "Namespace",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "uid": uid.to_string(),
            "resourceVersion": "1",
            "creationTimestamp": crate::util::rfc3339(created),
            "labels": {"kubernetes.io/metadata.name": name},
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    })
}

/// A Kubernetes `Status` failure.
fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
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
    body
}

fn failure(code: u16, reason: &str, message: &str, details: Option<Value>) -> Response {
    crate::util::with_status(code, &status(code, reason, message, details))
}

fn not_found(kind: &str, name: &str) -> Response {
    failure(404, "NotFound", &format!("{kind} \"{name}\" not found"), Some(json!({"name": name, "kind": kind})))
}

/// A duration as kubectl prints an age (`HumanDuration` of apimachinery).
fn human(secs: i64) -> String {
    let s = secs.max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86_400);
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        let r = s % 60;
        if r == 0 { format!("{m}m") } else { format!("{m}m{r}s") }
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        let r = m % 60;
        if r == 0 { format!("{h}h") } else { format!("{h}h{r}m") }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 24 * 8 {
        let r = h % 24;
        if r == 0 { format!("{d}d") } else { format!("{d}d{r}h") }
    } else if h < 24 * 365 * 2 {
        format!("{d}d")
    } else {
        format!("{}y", d / 365)
    }
}

fn age(object: &Value, now: i64) -> String {
    object["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(|t| humantime::parse_rfc3339_weak(t).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok())
        .map_or_else(|| "<unknown>".to_owned(), |t| human(now - t))
}

/// A column of a `Table`: name, type, priority (1: only with `-o wide`), description.
type Column = (&'static str, &'static str, u8, &'static str);

const POD_COLUMNS: [Column; 9] = [
    ("Name", "string", 0, "Name must be unique within a namespace."),
    ("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."),
    ("Status", "string", 0, "The aggregate status of the containers in this pod."),
    ("Restarts", "string", 0, "The number of times the containers in this pod have been restarted."),
    ("Age", "string", 0, "CreationTimestamp is when this object was created."),
    ("IP", "string", 1, "The IP address assigned to the pod."),
    ("Node", "string", 1, "Name of the node this pod is on."),
    ("Nominated Node", "string", 1, "Name of the node this pod may be scheduled on."),
    ("Readiness Gates", "string", 1, "Pod readiness gates."),
];

const SECRET_COLUMNS: [Column; 4] = [
    ("Name", "string", 0, "Name must be unique within a namespace."),
    ("Type", "string", 0, "The type of the secret."),
    ("Data", "integer", 0, "The number of entries in the secret's data."),
    ("Age", "string", 0, "CreationTimestamp is when this object was created."),
];

const NAMESPACE_COLUMNS: [Column; 3] = [
    ("Name", "string", 0, "Name must be unique within a namespace."),
    ("Status", "string", 0, "The status of the namespace."),
    ("Age", "string", 0, "CreationTimestamp is when this object was created."),
];

/// The columns of a kind, and a row's cells for one object of it.
fn columns(kind: &str) -> &'static [Column] {
    match kind {
        "Pod" => &POD_COLUMNS,
        "Secret" => &SECRET_COLUMNS,
        _ => &NAMESPACE_COLUMNS,
    }
}

fn cells(o: &Value, now: i64) -> Vec<Value> {
    let name = json!(o["metadata"]["name"]);
    match o["kind"].as_str() {
        Some("Pod") => {
            let c = &o["status"]["containerStatuses"][0];
            let ready = u8::from(c["ready"].as_bool().unwrap_or(false));
            let status = if o["metadata"]["deletionTimestamp"].is_string() {
                "Terminating".to_owned()
            } else {
                c["state"]["waiting"]["reason"]
                    .as_str()
                    .or(o["status"]["phase"].as_str())
                    .unwrap_or("Unknown")
                    .to_owned()
            };
            let ip = o["status"]["podIP"].as_str().unwrap_or("<none>");
            vec![
                name,
                json!(format!("{ready}/1")),
                json!(status),
                json!(c["restartCount"].as_u64().unwrap_or(0).to_string()),
                json!(age(o, now)),
                json!(ip),
                json!(o["spec"]["nodeName"]),
                json!("<none>"),
                json!("<none>"),
            ]
        }
        Some("Secret") => vec![
            name,
            json!(o["type"]),
            json!(o["data"].as_object().map_or(0, serde_json::Map::len)),
            json!(age(o, now)),
        ],
        _ => vec![name, json!(o["status"]["phase"]), json!(age(o, now))],
    }
}

/// How a client asked to see objects: whole, or as a `Table` (`Accept: …;as=Table;…`) with
/// `includeObject` `None`, `Metadata` (the default) or `Object`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Object,
    Table(Include),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Include {
    None,
    Metadata,
    Object,
}

impl Shape {
    fn of(headers: &HeaderMap, q: &HashMap<String, String>) -> Self {
        let table = headers
            .get_all("accept")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|m| m.split(';').any(|p| p.trim() == "as=Table"));
        if !table {
            return Self::Object;
        }
        Self::Table(match q.get("includeObject").map(String::as_str) {
            Some("None") => Include::None,
            Some("Object") => Include::Object,
            _ => Include::Metadata,
        })
    }
}

/// A `Table` of objects of one kind; `with_columns: false` leaves the column definitions out,
/// as a watch does after its first event.
fn table(kind: &str, objects: &[Value], include: Include, rv: Option<u64>, with_columns: bool, now: i64) -> Value {
    let columns: Vec<Value> = if with_columns {
        columns(kind)
            .iter()
            .map(|(name, ty, priority, description)| {
                let mut c =
                    json!({"name": name, "type": ty, "format": "", "description": description, "priority": priority});
                if *name == "Name" {
                    c["format"] = json!("name");
                }
                c
            })
            .collect()
    } else {
        Vec::new()
    };
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut row = json!({"cells": cells(o, now)});
            match include {
                Include::None => {}
                Include::Metadata => {
                    row["object"] = json!({
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": o["metadata"],
                    });
                }
                Include::Object => row["object"] = o.clone(),
            }
            row
        })
        .collect();
    let mut metadata = json!({});
    if let Some(rv) = rv {
        metadata["resourceVersion"] = json!(rv.to_string());
    }
    let mut t = json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "rows": rows});
    if with_columns {
        t["columnDefinitions"] = json!(columns);
    }
    t
}

/// A list of objects in the shape asked for.
fn list(shape: Shape, kind: &str, objects: Vec<Value>, rv: u64, now: i64) -> Response {
    match shape {
        Shape::Table(include) => crate::util::ok(&table(kind, &objects, include, Some(rv), true, now)),
        Shape::Object => crate::util::ok(&json!({
            "kind": format!("{kind}List"),
            "apiVersion": "v1",
            "metadata": {"resourceVersion": rv.to_string()},
            "items": Value::Array(objects),
        })),
    }
}

/// One object in the shape asked for.
fn one(shape: Shape, object: &Value, now: i64) -> Response {
    match shape {
        Shape::Table(include) => {
            let kind = object["kind"].as_str().unwrap_or_default().to_owned();
            crate::util::ok(&table(&kind, std::slice::from_ref(object), include, None, true, now))
        }
        Shape::Object => crate::util::ok(object),
    }
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

/// Pod selectors of a list or watch, checked before anything is read.
#[derive(Debug, Clone, Default)]
struct Selectors {
    label: Option<String>,
    field: Option<String>,
}

impl Selectors {
    fn parse(q: &HashMap<String, String>) -> Result<Self, Response> {
        let label = q.get("labelSelector").filter(|s| !s.is_empty()).cloned();
        let field = q.get("fieldSelector").filter(|s| !s.is_empty()).cloned();
        if let Some(sel) = &label
            && label_matches(sel, &BTreeMap::new()).is_none()
        {
            return Err(failure(400, "BadRequest", &format!("unable to parse requirement: {sel}"), None));
        }
        if let Some(sel) = &field
            && field_matches(sel, &Value::Null).is_none()
        {
            return Err(failure(400, "BadRequest", &format!("field label not supported: {sel}"), None));
        }
        Ok(Self { label, field })
    }

    fn matches(&self, pod: &Value) -> bool {
        let labels: BTreeMap<String, String> = pod["metadata"]["labels"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
            .unwrap_or_default();
        self.label.as_deref().is_none_or(|s| label_matches(s, &labels) == Some(true))
            && self.field.as_deref().is_none_or(|s| field_matches(s, pod) == Some(true))
    }
}

/// One cluster endpoint's master: which cluster and endpoint kind its address serves.
#[derive(Debug)]
struct Master {
    shared: Arc<Shared>,
    cluster: String,
    endpoint: String,
}

type M = State<Arc<Master>>;

/// The routes of one cluster endpoint, at the root of its own address.
pub fn router(shared: Arc<Shared>, cluster: &str, endpoint: &str) -> Router {
    let master = Arc::new(Master { shared, cluster: cluster.to_owned(), endpoint: endpoint.to_owned() });
    Router::new()
        .route("/version", get(version))
        .route("/api", get(api_versions))
        .route("/api/v1", get(core_resources))
        .route("/apis", get(api_groups))
        .route("/apis/authorization.k8s.io/v1", get(authorization_resources))
        .route("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", post(access_review))
        .route("/api/v1/namespaces", get(list_namespaces))
        .route("/api/v1/pods", get(list_all_pods))
        .route("/api/v1/secrets", get(list_all_secrets))
        .route("/api/v1/namespaces/{ns}", get(get_namespace))
        .route("/api/v1/namespaces/{ns}/pods", get(list_pods))
        .route("/api/v1/namespaces/{ns}/pods/{name}", get(get_pod).delete(delete_pod))
        .route("/api/v1/namespaces/{ns}/secrets", get(list_secrets))
        .route("/api/v1/namespaces/{ns}/secrets/{name}", get(get_secret))
        .fallback(|| async { failure(404, "NotFound", "the server could not find the requested resource", None) })
        .method_not_allowed_fallback(|| async {
            failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", None)
        })
        .layer(middleware::from_fn_with_state(Arc::clone(&master), authenticate))
        .with_state(master)
}

/// The client certificate must be one issued for this cluster; counts the request by endpoint.
async fn authenticate(State(m): M, req: Request, next: Next) -> Response {
    let issued = req.extensions().get::<PeerCert>().and_then(|c| m.shared.client_cert_cluster(&c.0));
    if issued.as_deref() != Some(m.cluster.as_str()) {
        return failure(401, "Unauthorized", "Unauthorized", None);
    }
    let path = req.uri().path();
    let kind = if path.contains("/pods") {
        "pods"
    } else if path.contains("/secrets") {
        "secrets"
    } else {
        "other"
    };
    m.shared.count(&format!("k8s {} {} {kind}", m.endpoint, req.method()));
    // Only rules for Kubernetes paths (`/api/...`): a rule for an IBM route never matches here.
    let path = path.to_owned();
    let fault = m.shared.take_fault(true, req.method().as_str(), &path, None, None);
    match fault {
        None => next.run(req).await,
        Some(kind) => {
            m.shared.count("fault");
            match kind {
                // Kubernetes answers errors with a `Status` object.
                crate::knobs::FaultKind::Status { status } => failure(
                    status,
                    "InternalError",
                    "an error on the server has prevented the request from succeeding",
                    None,
                ),
                crate::knobs::FaultKind::AfterWork { status } => {
                    let _ = next.run(req).await;
                    failure(
                        status,
                        "InternalError",
                        "an error on the server has prevented the request from succeeding",
                        None,
                    )
                }
                other => crate::server::apply_fault(other, &path, req, next).await,
            }
        }
    }
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
        "major": "1", "minor": "31", "gitVersion": "v1.31.4+IKS", "gitCommit": "", "gitTreeState": "clean",
        "buildDate": "2024-12-11T00:00:00Z", "goVersion": "go1.22.10", "compiler": "gc", "platform": "linux/amd64",
    }))
}

/// `GET /api`: the legacy group's versions. Served unaggregated: a client asking for
/// `apidiscovery.k8s.io/v2` reads the `Content-Type` and falls back, as against servers before 1.27.
async fn api_versions(headers: HeaderMap) -> Response {
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1").to_owned();
    crate::util::ok(&json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}],
    }))
}

fn group_version(group: &str, version: &str) -> Value {
    json!({"groupVersion": format!("{group}/{version}"), "version": version})
}

/// `GET /apis`: the named groups served.
async fn api_groups() -> Response {
    crate::util::ok(&json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [{
            "name": "authorization.k8s.io",
            "versions": [group_version("authorization.k8s.io", "v1")],
            "preferredVersion": group_version("authorization.k8s.io", "v1"),
        }],
    }))
}

/// One resource of an `APIResourceList`; the verbs are those this emulator serves.
fn resource(name: &str, kind: &str, namespaced: bool, verbs: &[&str], short: &[&str]) -> Value {
    let mut r = json!({
        "name": name,
        "singularName": kind.to_lowercase(),
        "namespaced": namespaced,
        "kind": kind,
        "verbs": verbs,
    });
    if !short.is_empty() {
        r["shortNames"] = json!(short);
    }
    r
}

/// `GET /api/v1`.
async fn core_resources() -> Response {
    let mut pods = resource("pods", "Pod", true, &["delete", "get", "list", "watch"], &["po"]);
    pods["categories"] = json!(["all"]);
    crate::util::ok(&json!({
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            resource("namespaces", "Namespace", false, &["get", "list"], &["ns"]),
            pods,
            resource("secrets", "Secret", true, &["get", "list"], &[]),
        ],
    }))
}

/// `GET /apis/authorization.k8s.io/v1`.
async fn authorization_resources() -> Response {
    crate::util::ok(&json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": "authorization.k8s.io/v1",
        "resources": [resource("selfsubjectaccessreviews", "SelfSubjectAccessReview", false, &["create"], &[])],
    }))
}

/// `POST …/selfsubjectaccessreviews`: allowed, as for anyone in `system:masters` (what the
/// admin certificate's organization is). The review comes back with its status, 201.
async fn access_review(body: Bytes) -> Response {
    let Ok(mut review) = serde_json::from_slice::<Value>(&body) else {
        return failure(400, "BadRequest", "the body is not a SelfSubjectAccessReview", None);
    };
    if review["kind"] != "SelfSubjectAccessReview" || !review["spec"].is_object() {
        return failure(400, "BadRequest", "the body is not a SelfSubjectAccessReview", None);
    }
    review["metadata"] = json!({"creationTimestamp": null});
    review["status"] = json!({"allowed": true});
    crate::util::with_status(201, &review)
}

async fn list_namespaces(State(m): M, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    if watching(&q) {
        return no_watch("namespaces");
    }
    let Some((created, now)) = m.shared.with_kube(&m.cluster, |k, now| (k.created, now)) else {
        return not_found("clusters", &m.cluster);
    };
    let items = NAMESPACES.iter().map(|n| namespace_json(&m.cluster, n, created)).collect();
    list(Shape::of(&headers, &q), "Namespace", items, 1, now)
}

async fn get_namespace(
    State(m): M,
    headers: HeaderMap,
    Path(ns): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some((created, now)) = m.shared.with_kube(&m.cluster, |k, now| (k.created, now)) else {
        return not_found("clusters", &m.cluster);
    };
    if !NAMESPACES.contains(&ns.as_str()) {
        return not_found("namespaces", &ns);
    }
    one(Shape::of(&headers, &q), &namespace_json(&m.cluster, &ns, created), now)
}

fn watching(q: &HashMap<String, String>) -> bool {
    q.get("watch").is_some_and(|w| w == "true" || w == "1")
}

/// Whether a namespace asked for (`None`: all of them) holds what this emulator serves.
fn served_in(ns: Option<&str>) -> bool {
    ns.is_none_or(|n| n == NS)
}

/// A watch of a kind this emulator does not watch: refused as the verbs of discovery say.
fn no_watch(resource: &str) -> Response {
    failure(405, "MethodNotAllowed", &format!("the emulator does not serve watches of {resource}"), None)
}

async fn list_pods(
    State(m): M,
    headers: HeaderMap,
    Path(ns): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    pods(m, &headers, &q, Some(ns))
}

/// `GET /api/v1/pods` (`kubectl get pods -A`).
async fn list_all_pods(State(m): M, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    pods(m, &headers, &q, None)
}

/// Pods of a namespace (`None`: of all), listed or watched.
fn pods(m: Arc<Master>, headers: &HeaderMap, q: &HashMap<String, String>, ns: Option<String>) -> Response {
    let selectors = match Selectors::parse(q) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let shape = Shape::of(headers, q);
    if watching(q) {
        return watch(m, ns, q, selectors, shape);
    }
    let Some((pods, rv, now)) = m.shared.with_kube(&m.cluster, |k, now| {
        let pods: Vec<Value> =
            if served_in(ns.as_deref()) { k.pods.iter().map(pod_json).collect() } else { Vec::new() };
        (pods, k.rv, now)
    }) else {
        return not_found("clusters", &m.cluster);
    };
    list(shape, "Pod", pods.into_iter().filter(|p| selectors.matches(p)).collect(), rv, now)
}

async fn get_pod(
    State(m): M,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let pod = m
        .shared
        .with_kube(&m.cluster, |k, now| k.pods.iter().find(|p| p.name == name && ns == NS).map(|p| (pod_json(p), now)))
        .flatten();
    match pod {
        Some((p, now)) => one(Shape::of(&headers, &q), &p, now),
        None => not_found("pods", &name),
    }
}

async fn delete_pod(State(m): M, Path((ns, name)): Path<(String, String)>) -> Response {
    let replace = Duration::from_millis(m.shared.knobs().kube.replace_ms);
    let pod = m
        .shared
        .with_kube(&m.cluster, |k, now| {
            let i = k.pods.iter().position(|p| p.name == name && ns == NS)?;
            if k.pods[i].deleted.is_none() {
                let rv = k.bump();
                let p = &mut k.pods[i];
                p.deleted = Some((now, Instant::now() + replace));
                p.rv = rv;
                let p = p.clone();
                k.record("MODIFIED", &p);
            }
            Some(pod_json(&k.pods[i]))
        })
        .flatten();
    match pod {
        // The API answers 200 with the object, now carrying its deletionTimestamp.
        Some(p) => crate::util::ok(&p),
        None => not_found("pods", &name),
    }
}

/// The secret, when the cluster has it: a Satellite cluster's is made by hand, and only where
/// the autoscaler runs.
fn secret_of(k: &KubeCluster, now: i64) -> Option<Value> {
    let hand_made_missing =
        k.secret.hand_made && !k.pods.iter().any(|p| p.name.starts_with("ibm-iks-cluster-autoscaler"));
    (!hand_made_missing).then(|| k.secret_json(now))
}

async fn list_secrets(
    State(m): M,
    headers: HeaderMap,
    Path(ns): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    secrets(&m, &headers, &q, Some(&ns))
}

/// `GET /api/v1/secrets` (`kubectl get secrets -A`).
async fn list_all_secrets(State(m): M, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    secrets(&m, &headers, &q, None)
}

fn secrets(m: &Master, headers: &HeaderMap, q: &HashMap<String, String>, ns: Option<&str>) -> Response {
    if watching(q) {
        return no_watch("secrets");
    }
    let Some((items, rv, now)) = m.shared.with_kube(&m.cluster, |k, now| {
        let items: Vec<Value> = if served_in(ns) { secret_of(k, now).into_iter().collect() } else { Vec::new() };
        (items, k.rv, now)
    }) else {
        return not_found("clusters", &m.cluster);
    };
    list(Shape::of(headers, q), "Secret", items, rv, now)
}

async fn get_secret(
    State(m): M,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let secret = m
        .shared
        .with_kube(&m.cluster, |k, now| (name == SECRET && ns == NS).then(|| secret_of(k, now).map(|s| (s, now))))
        .flatten()
        .flatten();
    match secret {
        Some((s, now)) => one(Shape::of(&headers, &q), &s, now),
        None => not_found("secrets", &name),
    }
}

/// The body of a watch: events as the watch task sends them.
struct Events(tokio::sync::mpsc::Receiver<Bytes>);

impl futures_core::Stream for Events {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|b| b.map(Ok))
    }
}

/// `GET …/pods?watch=true`: a stream of `{"type", "object"}` events, one JSON document per line,
/// from the `resourceVersion` asked for (absent or 0: the current pods first, as `ADDED`), until
/// `timeoutSeconds` (default 30 minutes) or the client leaves. A `resourceVersion` older than
/// the kept changes gets one `ERROR` event with a 410 `Status`, as a real server sends.
fn watch(
    m: Arc<Master>,
    ns: Option<String>,
    q: &HashMap<String, String>,
    selectors: Selectors,
    shape: Shape,
) -> Response {
    let from = q.get("resourceVersion").and_then(|v| v.parse::<u64>().ok()).filter(|v| *v != 0);
    let timeout = q.get("timeoutSeconds").and_then(|v| v.parse::<u64>().ok()).unwrap_or(1800).min(3600);
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
        let mut columns = true;
        let mut last = match m.shared.with_kube(&m.cluster, |k, now| {
            let events = match from {
                None => Some(k.pods.iter().map(|p| ("ADDED", pod_json(p))).collect()),
                Some(rv) => k.events_after(rv),
            };
            (events, k.rv, now)
        }) {
            Some((Some(events), rv, now)) => {
                if !send(&tx, ns.as_deref(), events, &selectors, shape, &mut columns, now).await {
                    return;
                }
                rv
            }
            Some((None, _, _)) => {
                let _ = tx.send(expired()).await;
                return;
            }
            None => return,
        };
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => return,
                () = tx.closed() => return,
                () = tokio::time::sleep(WATCH_TICK) => {}
            }
            let Some((Some(events), rv, now)) =
                m.shared.with_kube(&m.cluster, |k, now| (k.events_after(last), k.rv, now))
            else {
                let _ = tx.send(expired()).await;
                return;
            };
            last = rv;
            if !send(&tx, ns.as_deref(), events, &selectors, shape, &mut columns, now).await {
                return;
            }
        }
    });
    (
        axum::http::StatusCode::OK,
        [("content-type", "application/json"), ("cache-control", "no-cache, private")],
        Body::from_stream(Events(rx)),
    )
        .into_response()
}

/// The one event a watch from a forgotten `resourceVersion` gets: an `ERROR` with 410 `Expired`.
fn expired() -> Bytes {
    line(&json!({"type": "ERROR", "object": status(410, "Expired", "too old resource version", None)}))
}

fn line(v: &Value) -> Bytes {
    let mut b = serde_json::to_vec(v).unwrap_or_default();
    b.push(b'\n');
    Bytes::from(b)
}

/// Sends the events that match, in the shape asked for (a `Table` carries its columns only in
/// the first event, as a real server's watch does). `false` when the client has left.
async fn send(
    tx: &tokio::sync::mpsc::Sender<Bytes>,
    ns: Option<&str>,
    events: Vec<(&'static str, Value)>,
    selectors: &Selectors,
    shape: Shape,
    columns: &mut bool,
    now: i64,
) -> bool {
    if !served_in(ns) {
        return !tx.is_closed();
    }
    for (kind, pod) in events.into_iter().filter(|(_, p)| selectors.matches(p)) {
        let object = match shape {
            Shape::Object => pod,
            Shape::Table(include) => table("Pod", std::slice::from_ref(&pod), include, None, *columns, now),
        };
        *columns = false;
        if tx.send(line(&json!({"type": kind, "object": object}))).await.is_err() {
            return false;
        }
    }
    true
}

/// The server a kubeconfig names for a cluster whose API cannot be reached: a closed port.
pub fn unreachable_server() -> &'static str {
    // Port 1 (tcpmux) is privileged and unused on any machine this runs on: connecting to it
    // on loopback is refused at once, which is what an unreachable master looks like.
    "https://127.0.0.1:1"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_kubectl_prints_them() {
        let cases = [
            (5, "5s"),
            (119, "119s"),
            (150, "2m30s"),
            (300, "5m"),
            (1200, "20m"),
            (3 * 3600 + 300, "3h5m"),
            (30 * 3600, "30h"),
            (3 * 86_400 + 2 * 3600, "3d2h"),
            (30 * 86_400, "30d"),
            (800 * 86_400, "2y"),
        ];
        for (secs, age) in cases {
            assert_eq!(human(secs), age, "{secs}");
        }
    }

    #[test]
    fn a_table_is_asked_for_by_the_accept_header_alone() {
        let q = HashMap::new();
        let mut h = HeaderMap::new();
        assert_eq!(Shape::of(&h, &q), Shape::Object);
        h.insert("accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json".parse().unwrap());
        assert_eq!(Shape::of(&h, &q), Shape::Table(Include::Metadata));
        let q = HashMap::from([("includeObject".to_owned(), "None".to_owned())]);
        assert_eq!(Shape::of(&h, &q), Shape::Table(Include::None));
        // `as=TableX` or a Table in a parameter's value is not a Table.
        h.insert("accept", "application/json;as=TableX".parse().unwrap());
        assert_eq!(Shape::of(&h, &q), Shape::Object);
    }
}
