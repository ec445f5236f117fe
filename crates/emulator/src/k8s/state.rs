//! A cluster's Kubernetes state: its pods and the storage secret, made the first time the
//! cluster is looked at, and how they move on (a deleted pod's replacement, readiness, a reset's
//! key reaching the secret), each change with its `resourceVersion` and kept for watches.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::shapes::pod_json;
use super::{AUTOSCALER, EVENTS_KEPT, VPC_BLOCK_CSI};
use crate::server::Shared;
use crate::world::{Cluster, World};

/// One pod.
#[derive(Debug, Clone)]
pub(super) struct Pod {
    pub(super) name: String,
    pub(super) uid: String,
    pub(super) rv: u64,
    pub(super) labels: BTreeMap<String, String>,
    /// Owner kind (`StatefulSet`, `ReplicaSet`, `DaemonSet`) and name.
    pub(super) owner: (&'static str, String),
    pub(super) container: &'static str,
    pub(super) image: &'static str,
    pub(super) node: String,
    pub(super) ip: String,
    pub(super) created: i64,
    pub(super) born: Instant,
    /// When it becomes Ready; `None`: never.
    pub(super) ready_at: Option<Instant>,
    /// Whether it has been seen Ready (a change of its own, with its own `resourceVersion`).
    pub(super) ready: bool,
    /// Deletion time (emulator clock) and when the replacement takes its place.
    pub(super) deleted: Option<(i64, Instant)>,
    pub(super) restarts: u32,
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
pub(super) struct SecretState {
    /// The API key ID whose encrypted form the secret carries (empty: none).
    pub(super) key_id: String,
    /// A newer key on its way, and when it arrives.
    pending: Option<(String, Instant)>,
    pub(super) rv: u64,
    pub(super) uid: String,
    pub(super) hand_made: bool,
    pub(super) classic: bool,
}

/// One cluster's Kubernetes state.
#[derive(Debug, Clone)]
pub(crate) struct KubeCluster {
    pub(super) pods: Vec<Pod>,
    pub(super) secret: SecretState,
    /// The last `resourceVersion` handed out (what a list answers with).
    pub(super) rv: u64,
    /// The last pod changes, oldest first.
    events: VecDeque<Event>,
    /// The newest `resourceVersion` whose change is no longer in `events`: a watch from before
    /// it would miss changes.
    forgotten: u64,
    never_ready: bool,
    ready_ms: u64,
    /// When the cluster was created (emulator clock), for the namespaces' age.
    pub(super) created: i64,
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
    pub(super) fn tick(&mut self, now: i64) {
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

    /// Deletes the pod `name` of `kube-system`: it terminates, and its controller's replacement
    /// takes its place `replace` from now. Deleting a terminating pod changes nothing. The pod
    /// as it is now; `None` when there is no such pod.
    pub(super) fn delete(&mut self, name: &str, now: i64, replace: Duration) -> Option<&Pod> {
        let i = self.pods.iter().position(|p| p.name == name)?;
        if self.pods[i].deleted.is_none() {
            let rv = self.bump();
            let p = &mut self.pods[i];
            p.deleted = Some((now, Instant::now() + replace));
            p.rv = rv;
            let p = p.clone();
            self.record("MODIFIED", &p);
        }
        Some(&self.pods[i])
    }

    /// The pod changes after `rv`, as `(type, pod)`; `None` when some of them are forgotten.
    pub(super) fn events_after(&self, rv: u64) -> Option<Vec<(&'static str, Value)>> {
        if rv < self.forgotten {
            return None;
        }
        Some(self.events.iter().filter(|e| e.rv > rv).map(|e| (e.kind, pod_json(&e.pod))).collect())
    }
}

impl Shared {
    /// Runs `f` on a cluster's Kubernetes state, made on first use and moved on to now.
    pub(super) fn with_kube<T>(&self, cluster_id: &str, f: impl FnOnce(&mut KubeCluster, i64) -> T) -> Option<T> {
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
pub(crate) fn key_changed(
    shared: &Shared,
    account: &str,
    region: &str,
    group: &str,
    previous: Option<&str>,
    new: &str,
) {
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
