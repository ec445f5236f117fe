//! The JSON of the objects the emulated clusters serve, as a real API server writes them: pods
//! (their status derived from where they are in their life), the storage secret, namespaces,
//! and the `Status` document of an error.

use std::time::Instant;

use axum::response::Response;
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::state::{KubeCluster, Pod};
use super::{NS, SECRET};

impl KubeCluster {
    /// The secret `storage-secret-store` as it is now.
    pub(super) fn secret_json(&self, now: i64) -> Value {
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

pub(super) fn pod_json(p: &Pod) -> Value {
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

pub(super) fn namespace_json(cluster: &str, name: &str, created: i64) -> Value {
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
pub(super) fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
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

pub(super) fn failure(code: u16, reason: &str, message: &str, details: Option<Value>) -> Response {
    crate::util::with_status(code, &status(code, reason, message, details))
}

pub(super) fn not_found(kind: &str, name: &str) -> Response {
    failure(404, "NotFound", &format!("{kind} \"{name}\" not found"), Some(json!({"name": name, "kind": kind})))
}
