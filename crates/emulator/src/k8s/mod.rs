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
//!
//! This file wires one cluster endpoint's routes and checks its client certificate; the rest is
//! a concern a file:
//! - `state`: a cluster's pods and secret, made on first use, and how they move on in time;
//! - `shapes`: the objects' JSON (pods, the secret, namespaces) and Kubernetes' `Status` errors;
//! - `table`: the `Table` answers kubectl asks for, and lists or objects in the shape asked for;
//! - `selectors`: label and field selectors;
//! - `discovery`: what the server serves (`/version`, `/api`, `/apis`) and access reviews;
//! - `routes`: the namespace, pod and secret handlers;
//! - `watch`: streamed pod changes.

mod discovery;
mod routes;
mod selectors;
mod shapes;
mod state;
mod table;
mod watch;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

use crate::server::Shared;
use crate::tls::PeerCert;
use discovery::{access_review, api_groups, api_versions, authorization_resources, core_resources, version};
use routes::{
    delete_pod, get_namespace, get_pod, get_secret, list_all_pods, list_all_secrets, list_namespaces, list_pods,
    list_secrets,
};
use shapes::failure;
pub(crate) use state::{KubeCluster, key_changed};

/// The add-on names of the containers API and what runs for them in `kube-system`.
pub(crate) const VPC_BLOCK_CSI: &str = "vpc-block-csi-driver";
/// The cluster autoscaler add-on.
pub(crate) const AUTOSCALER: &str = "cluster-autoscaler";

/// The namespace of everything served (other namespaces are empty).
const NS: &str = "kube-system";
/// The secret from which IBM's storage and autoscaler components read the API key.
const SECRET: &str = "storage-secret-store";

/// The namespaces of an IKS cluster as created (IBM's own beside Kubernetes').
const NAMESPACES: [&str; 7] =
    ["default", "ibm-cert-store", "ibm-operators", "ibm-system", "kube-node-lease", "kube-public", "kube-system"];

/// How many pod changes a cluster keeps for watches.
const EVENTS_KEPT: usize = 1000;

/// One cluster endpoint's master: which cluster and endpoint kind its address serves.
#[derive(Debug)]
struct Master {
    shared: Arc<Shared>,
    cluster: String,
    endpoint: String,
}

type M = State<Arc<Master>>;

/// The routes of one cluster endpoint, at the root of its own address.
pub(crate) fn router(shared: Arc<Shared>, cluster: &str, endpoint: &str) -> Router {
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

/// The server a kubeconfig names for a cluster whose API cannot be reached: a closed port.
pub(crate) fn unreachable_server() -> &'static str {
    // Port 1 (tcpmux) is privileged and unused on any machine this runs on: connecting to it
    // on loopback is refused at once, which is what an unreachable master looks like.
    "https://127.0.0.1:1"
}
