//! The handlers of namespaces, pods and secrets: lists (or watches, for pods) and gets of each,
//! and the deletion of a pod. Everything they serve is in `kube-system`; another namespace of
//! IKS's is empty and an unknown one is 404.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;

use super::selectors::Selectors;
use super::shapes::{failure, namespace_json, not_found, pod_json};
use super::state::KubeCluster;
use super::table::{Shape, list, one};
use super::watch::watch;
use super::{M, Master, NAMESPACES, NS, SECRET};

pub(super) async fn list_namespaces(
    State(m): M,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if watching(&q) {
        return no_watch("namespaces");
    }
    let Some((created, now)) = m.shared.with_kube(&m.cluster, |k, now| (k.created, now)) else {
        return not_found("clusters", &m.cluster);
    };
    let items = NAMESPACES.iter().map(|n| namespace_json(&m.cluster, n, created)).collect();
    list(Shape::of(&headers, &q), "Namespace", items, 1, now)
}

pub(super) async fn get_namespace(
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
pub(super) fn served_in(ns: Option<&str>) -> bool {
    ns.is_none_or(|n| n == NS)
}

/// A watch of a kind this emulator does not watch: refused as the verbs of discovery say.
fn no_watch(resource: &str) -> Response {
    failure(405, "MethodNotAllowed", &format!("the emulator does not serve watches of {resource}"), None)
}

pub(super) async fn list_pods(
    State(m): M,
    headers: HeaderMap,
    Path(ns): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    pods(m, &headers, &q, Some(ns))
}

/// `GET /api/v1/pods` (`kubectl get pods -A`).
pub(super) async fn list_all_pods(
    State(m): M,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
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

pub(super) async fn get_pod(
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

pub(super) async fn delete_pod(State(m): M, Path((ns, name)): Path<(String, String)>) -> Response {
    let replace = Duration::from_millis(m.shared.knobs().kube.replace_ms);
    let pod = m
        .shared
        .with_kube(&m.cluster, |k, now| (ns == NS).then(|| k.delete(&name, now, replace).map(pod_json)).flatten())
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

pub(super) async fn list_secrets(
    State(m): M,
    headers: HeaderMap,
    Path(ns): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    secrets(&m, &headers, &q, Some(&ns))
}

/// `GET /api/v1/secrets` (`kubectl get secrets -A`).
pub(super) async fn list_all_secrets(
    State(m): M,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
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

pub(super) async fn get_secret(
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
