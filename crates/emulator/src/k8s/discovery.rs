//! What the server says about itself, in the legacy (unaggregated) form every client falls back
//! to: its version, the API groups and the resources and verbs served; and the access reviews
//! that `kubectl auth can-i` sends, all allowed for the admin certificate.

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};

use super::shapes::failure;

pub(super) async fn version() -> Response {
    crate::util::ok(&json!({
        "major": "1", "minor": "31", "gitVersion": "v1.31.4+IKS", "gitCommit": "", "gitTreeState": "clean",
        "buildDate": "2024-12-11T00:00:00Z", "goVersion": "go1.22.10", "compiler": "gc", "platform": "linux/amd64",
    }))
}

/// `GET /api`: the legacy group's versions. Served unaggregated: a client asking for
/// `apidiscovery.k8s.io/v2` reads the `Content-Type` and falls back, as against servers before 1.27.
pub(super) async fn api_versions(headers: HeaderMap) -> Response {
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
pub(super) async fn api_groups() -> Response {
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
pub(super) async fn core_resources() -> Response {
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
pub(super) async fn authorization_resources() -> Response {
    crate::util::ok(&json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": "authorization.k8s.io/v1",
        "resources": [resource("selfsubjectaccessreviews", "SelfSubjectAccessReview", false, &["create"], &[])],
    }))
}

/// `POST …/selfsubjectaccessreviews`: allowed, as for anyone in `system:masters` (what the
/// admin certificate's organization is). The review comes back with its status, 201.
pub(super) async fn access_review(body: Bytes) -> Response {
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
