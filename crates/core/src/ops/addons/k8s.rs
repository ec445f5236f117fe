//! The Kubernetes edge: the only module that uses kube-rs.
//!
//! It connects with an admin kubeconfig held in memory, finds an add-on's controller pods in
//! `kube-system`, deletes them, waits for their replacements, and reads the digest of the key
//! in `storage-secret-store`. Error messages name objects and servers, never credentials.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::ByteString;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::AddonKind;

const NS: &str = "kube-system";
const SECRET: &str = "storage-secret-store";

/// The part of a v1 Pod read here. k8s-openapi's whole `Pod` (spec, volumes, probes, ...)
/// would add its decoder to the binary for fields never looked at.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Pod {
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(default)]
    status: Option<PodStatus>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodStatus {
    #[serde(default)]
    phase: Option<String>,
    #[serde(default)]
    conditions: Option<Vec<PodCondition>>,
    #[serde(default)]
    container_statuses: Option<Vec<ContainerStatus>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct PodCondition {
    #[serde(rename = "type")]
    type_: String,
    status: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ContainerStatus {
    #[serde(default)]
    state: Option<ContainerState>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ContainerState {
    #[serde(default)]
    waiting: Option<Waiting>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Waiting {
    #[serde(default)]
    reason: Option<String>,
}

/// The part of a v1 Secret read here.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Secret {
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(default)]
    data: Option<BTreeMap<String, ByteString>>,
}

/// A core (`v1`), namespaced kind, for kube-rs's typed `Api`.
macro_rules! core_v1 {
    ($ty:ty, $kind:literal, $plural:literal) => {
        impl kube::Resource for $ty {
            type DynamicType = ();
            type Scope = k8s_openapi::NamespaceResourceScope;

            fn kind((): &()) -> Cow<'_, str> {
                Cow::Borrowed($kind)
            }

            fn group((): &()) -> Cow<'_, str> {
                Cow::Borrowed("")
            }

            fn version((): &()) -> Cow<'_, str> {
                Cow::Borrowed("v1")
            }

            fn plural((): &()) -> Cow<'_, str> {
                Cow::Borrowed($plural)
            }

            fn meta(&self) -> &ObjectMeta {
                &self.metadata
            }

            fn meta_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

core_v1!(Pod, "Pod", "pods");
core_v1!(Secret, "Secret", "secrets");

/// A connection to one cluster's Kubernetes API.
#[derive(Clone)]
pub(crate) struct Conn {
    client: kube::Client,
    /// The API server (scheme, host and port), for messages.
    pub server: String,
    /// Where each call is traced (the session's `IBMCLOUD_TRACE`), with the proxy it used.
    http: std::sync::Arc<crate::http::Http>,
    proxy: Option<String>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").field("server", &self.server).finish_non_exhaustive()
    }
}

/// A pod, as far as restarting it matters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodInfo {
    /// Name.
    pub name: String,
    /// UID: a `StatefulSet` replacement keeps the name, never the UID.
    pub uid: String,
    /// The kind of its controller (`StatefulSet`, `ReplicaSet`, `DaemonSet`, ...), if any.
    pub owner_kind: Option<String>,
    /// Whether it is being deleted.
    pub terminating: bool,
    /// Whether its `Ready` condition is `True`.
    pub ready: bool,
    /// Phase, plus the first container's waiting reason when there is one.
    pub state: String,
}

impl PodInfo {
    fn from_pod(p: &Pod) -> Self {
        let status = p.status.as_ref();
        let ready = status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        let phase = status.and_then(|s| s.phase.clone()).unwrap_or_else(|| "Unknown".into());
        let waiting = status
            .and_then(|s| s.container_statuses.as_ref())
            .and_then(|c| c.iter().find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone()));
        Self {
            name: p.metadata.name.clone().unwrap_or_default(),
            uid: p.metadata.uid.clone().unwrap_or_default(),
            owner_kind: p
                .metadata
                .owner_references
                .as_ref()
                .and_then(|o| o.iter().find(|o| o.controller == Some(true)).or_else(|| o.first()))
                .map(|o| o.kind.clone()),
            terminating: p.metadata.deletion_timestamp.is_some(),
            ready,
            state: match waiting {
                Some(w) => format!("{phase}, {w}"),
                None if phase == "Running" && !ready => "Running, not Ready".into(),
                None => phase,
            },
        }
    }
}

/// The add-on's controller pods among `pods`: the name starts with the add-on's prefix and a
/// dash (IBM's own `grep`; labels cannot tell controller from node pods, since kustomize gives
/// both `app: ibm-vpc-block-csi-driver`), and a `StatefulSet` or `ReplicaSet` owns it, so that
/// deleting it brings a new one. `DaemonSet` pods and pods without a controller never qualify.
#[must_use]
pub(crate) fn controllers(pods: &[PodInfo], addon: AddonKind) -> Vec<&PodInfo> {
    let prefix = format!("{}-", addon.pod_prefix());
    pods.iter()
        .filter(|p| p.name.starts_with(&prefix))
        .filter(|p| matches!(p.owner_kind.as_deref(), Some("StatefulSet" | "ReplicaSet")))
        .collect()
}

/// Why a Kubernetes call failed, in words (kube-rs errors name the server and the status).
fn describe(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("{} ({})", s.message, s.code),
        other => {
            // The source chain carries the useful part ("Connection refused", a TLS error).
            let mut text = other.to_string();
            let mut src = std::error::Error::source(other);
            while let Some(s) = src {
                let more = s.to_string();
                if !text.contains(&more) {
                    text.push_str(": ");
                    text.push_str(&more);
                }
                src = s.source();
            }
            text
        }
    }
}

impl Conn {
    /// Connects with a kubeconfig ZIP (read in memory; see `kubeconfig`).
    ///
    /// # Errors
    /// A message when the ZIP is not a usable kubeconfig or the client cannot be built.
    pub(crate) fn from_zip(
        zip: &[u8],
        net: &crate::context::HttpSettings,
        http: std::sync::Arc<crate::http::Http>,
    ) -> Result<Self, String> {
        let timeout = net.timeout;
        let kc = super::kubeconfig::from_zip(zip).map_err(|e| e.to_string())?;
        let mut config = kube::Config::try_from(kc).map_err(|e| format!("the kubeconfig is not usable: {e}"))?;
        config.connect_timeout = Some(timeout.min(Duration::from_secs(30)));
        config.read_timeout = Some(timeout);
        config.write_timeout = Some(timeout);
        // The same network rules as every other request: the proxy our settings pick for the
        // API server (kube-rs would read HTTPS_PROXY itself, without NO_PROXY for the server),
        // the extra CAs besides the cluster's own (TLS inspection), `SSLDisabled`.
        let server_url = url::Url::parse(&config.cluster_url.to_string()).ok();
        config.proxy_url = server_url
            .as_ref()
            .and_then(|u| net.proxy.proxy_for(u))
            .and_then(|(p, _)| p.as_str().parse::<http::Uri>().ok());
        if !net.extra_roots.is_empty() {
            config.root_cert.get_or_insert_with(Vec::new).extend(net.extra_roots.iter().cloned());
        }
        config.accept_invalid_certs |= net.ssl_disabled;
        let server = {
            let u = &config.cluster_url;
            format!("{}://{}", u.scheme_str().unwrap_or("https"), u.authority().map_or("", |a| a.as_str()))
        };
        let proxy = server_url.as_ref().and_then(|u| http.proxy_shown(u));
        let client =
            kube::Client::try_from(config).map_err(|e| format!("cannot talk to {server}: {}", describe(&e)))?;
        Ok(Self { client, server, http, proxy })
    }

    /// One line per Kubernetes call in the trace: what, where, how it ended, how long. Never
    /// headers or bodies (the client certificate authenticates; secrets' data stays out).
    fn traced<T>(&self, what: &str, start: Instant, result: &Result<T, kube::Error>) {
        let outcome = match result {
            Ok(_) => String::from("ok"),
            Err(kube::Error::Api(s)) => format!("HTTP {} {}", s.code, s.reason),
            Err(e) => describe(e),
        };
        let via = self.proxy.as_ref().map(|p| format!("\nPROXY: {p}")).unwrap_or_default();
        self.http.trace(&format!(
            "{via}\nKUBERNETES: {what} on {} (namespace {NS}): {outcome}, {}ms\n",
            self.server,
            start.elapsed().as_millis()
        ));
    }

    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), NS)
    }

    /// Every pod in `kube-system`.
    ///
    /// # Errors
    /// A message when the API cannot be reached or refuses.
    pub(crate) async fn list(&self) -> Result<Vec<PodInfo>, String> {
        let start = Instant::now();
        let result = self.pods().list(&ListParams::default()).await;
        self.traced("GET pods", start, &result);
        let list = result.map_err(|e| self.failed("list pods", &e))?;
        Ok(list.items.iter().map(PodInfo::from_pod).collect())
    }

    /// Deletes one pod; a pod already gone counts as deleted. `Ok(Some(note))` when the API
    /// answered with an error but the pod is gone or being deleted all the same (an answer lost
    /// after the work was done): the note says so.
    ///
    /// An error answer says nothing certain about what the server did, so the pod is looked up
    /// before anything is reported: gone, replaced (a `StatefulSet` keeps the name, never the
    /// UID) or terminating is deleted; there as before is not; a look-up that fails leaves it
    /// unknown, and the message says that, never "not deleted".
    ///
    /// # Errors
    /// A message when the pod was not deleted, or whether it was is unknown (the message says
    /// which).
    pub(crate) async fn delete(&self, pod: &PodInfo) -> Result<Option<String>, String> {
        let name = pod.name.as_str();
        let start = Instant::now();
        let result = self.pods().delete(name, &DeleteParams::default()).await;
        self.traced(&format!("DELETE pod {name}"), start, &result);
        let e = match result {
            Ok(_) => return Ok(None),
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(None),
            Err(e) => e,
        };
        let failed = self.failed(&format!("delete pod {name}"), &e);
        let start = Instant::now();
        let now = self.pods().get_opt(name).await;
        self.traced(&format!("GET pod {name}"), start, &now);
        match now {
            Ok(Some(p))
                if p.metadata.uid.as_deref() == Some(pod.uid.as_str()) && p.metadata.deletion_timestamp.is_none() =>
            {
                Err(format!("{failed}; the pod is still there, not deleted"))
            }
            Ok(_) => Ok(Some(format!("{failed}; but the pod was deleted all the same (looked up after the error)"))),
            Err(look) => Err(format!(
                "{failed}; whether the pod was deleted is unknown: looking it up failed too ({})",
                describe(&look)
            )),
        }
    }

    /// Waits until `count` controller pods of `addon` that are not among `old` are Ready, up to
    /// `deadline`, looking every `interval`. Returns their names.
    ///
    /// # Errors
    /// At the deadline, a message that says what the replacements look like.
    pub(crate) async fn wait_ready(
        &self,
        addon: AddonKind,
        old: &[String],
        count: usize,
        deadline: Instant,
        interval: Duration,
    ) -> Result<Vec<String>, String> {
        loop {
            // A failed look is not the end: the API server may be busy; the deadline decides.
            let seen = self.list().await;
            if let Ok(pods) = &seen {
                let new: Vec<&PodInfo> =
                    controllers(pods, addon).into_iter().filter(|p| !old.contains(&p.uid) && !p.terminating).collect();
                if new.iter().filter(|p| p.ready).count() >= count {
                    return Ok(new.iter().filter(|p| p.ready).map(|p| p.name.clone()).collect());
                }
                if Instant::now() >= deadline {
                    let what = if new.is_empty() {
                        "no replacement pod appeared".to_owned()
                    } else {
                        new.iter().map(|p| format!("{}: {}", p.name, p.state)).collect::<Vec<_>>().join("; ")
                    };
                    return Err(format!("not Ready in time ({what})"));
                }
            } else if Instant::now() >= deadline {
                return Err(seen.err().unwrap_or_default());
            }
            tokio::time::sleep(interval.min(deadline.saturating_duration_since(Instant::now()))).await;
        }
    }

    /// A digest of the key that `storage-secret-store` carries (the `iam_api_key` and
    /// `g2_api_key` lines of `slclient.toml`, or the hand-made `ca_iam_api_key` on Satellite),
    /// as IBM's own check compares an `md5sum` of that line. `None` when there is no such
    /// secret. The digest is compared, never shown.
    ///
    /// # Errors
    /// A message when the API cannot be reached or refuses.
    pub(crate) async fn secret_digest(&self) -> Result<Option<String>, String> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), NS);
        let start = Instant::now();
        let result = api.get_opt(SECRET).await;
        self.traced(&format!("GET secret {SECRET}"), start, &result);
        let secret = match result {
            Ok(Some(s)) => s,
            Ok(None) => return Ok(None),
            Err(e) => return Err(self.failed(&format!("read secret {SECRET}"), &e)),
        };
        let data = secret.data.unwrap_or_default();
        let mut h = Sha256::new();
        let mut any = false;
        if let Some(toml) = data.get("slclient.toml") {
            for line in String::from_utf8_lossy(&toml.0).lines() {
                let key = line.trim_start().split('=').next().unwrap_or_default().trim();
                if key == "iam_api_key" || key == "g2_api_key" {
                    h.update(line.trim().as_bytes());
                    h.update(b"\n");
                    any = true;
                }
            }
        }
        if let Some(v) = data.get("ca_iam_api_key") {
            h.update(&v.0);
            any = true;
        }
        Ok(any.then(|| {
            h.finalize().iter().fold(String::new(), |mut s, b| {
                s.push_str(&format!("{b:02x}"));
                s
            })
        }))
    }

    fn failed(&self, what: &str, e: &kube::Error) -> String {
        format!("{what} on {}: {}", self.server, describe(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, owner: Option<&str>) -> PodInfo {
        PodInfo {
            name: name.into(),
            uid: format!("uid-{name}"),
            owner_kind: owner.map(Into::into),
            terminating: false,
            ready: true,
            state: "Running".into(),
        }
    }

    #[test]
    fn only_controller_pods_with_a_controller_are_picked() {
        let pods = vec![
            pod("ibm-vpc-block-csi-controller-0", Some("StatefulSet")),
            pod("ibm-vpc-block-csi-controller-7d9f8-abcde", Some("ReplicaSet")),
            pod("ibm-vpc-block-csi-node-x2v4k", Some("DaemonSet")),
            pod("ibm-vpc-block-csi-controller-debug", None),
            pod("ibm-vpc-block-csi-controllerx-0", Some("StatefulSet")),
            pod("ibm-iks-cluster-autoscaler-857c4d9d54-gwvc6", Some("ReplicaSet")),
            pod("coredns-6d4f8-zz9rt", Some("ReplicaSet")),
        ];
        let names = |a| controllers(&pods, a).iter().map(|p| p.name.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(AddonKind::VpcBlockCsi),
            ["ibm-vpc-block-csi-controller-0", "ibm-vpc-block-csi-controller-7d9f8-abcde"]
        );
        assert_eq!(names(AddonKind::ClusterAutoscaler), ["ibm-iks-cluster-autoscaler-857c4d9d54-gwvc6"]);
    }

    #[test]
    fn a_pod_reads_as_the_api_describes_it() {
        let p: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "a-0", "uid": "u1", "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "a", "uid": "o", "controller": true}
            ]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [{"name": "c", "image": "i", "imageID": "", "ready": false, "restartCount": 3,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
        }))
        .unwrap();
        let info = PodInfo::from_pod(&p);
        assert_eq!(info.owner_kind.as_deref(), Some("StatefulSet"));
        assert!(!info.ready && !info.terminating);
        assert_eq!(info.state, "Running, CrashLoopBackOff");
    }
}
