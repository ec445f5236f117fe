//! The Kubernetes Service / `OpenShift` containers API: the cluster API key, cluster lists,
//! add-ons and admin kubeconfigs.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::auth::Client;
use crate::error::{Error, Result, Service};
use crate::http::Request;
use crate::types::{IamId, Region, ResourceGroupId};

/// The owner of a region/resource group's API key, as `clusterkeyowner` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyOwner {
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// The owner's IAM ID, when the `id` field holds one.
    pub iam_id: Option<IamId>,
    /// The raw `id` field when it does not look like an IAM ID (then probably an API key ID).
    pub id: Option<String>,
}

impl KeyOwner {
    /// Decodes the body of `GET /v1/logging/{idOrName}/clusterkeyowner`.
    ///
    /// OPEN QUESTION (to settle on a live account): no public fixture shows this body. bluemix-go
    /// decodes `{ID, Name, Email}` with Go's case-insensitive matching, so the real casing is
    /// unknown, and whether `id` is the owner's IAM ID or the API key's ID is unconfirmed. So
    /// keys are matched case-insensitively here, and `id` counts as an IAM ID only when it
    /// looks like one; this is the only place that makes that call.
    ///
    /// # Errors
    /// [`Error::BadResponse`] when the body is not a JSON object.
    pub(crate) fn decode(body: &[u8]) -> Result<Self> {
        let bad = |detail: &str| Error::BadResponse { service: Service::Containers, detail: detail.to_owned() };
        let Value::Object(map) = serde_json::from_slice::<Value>(body).map_err(|e| bad(&e.to_string()))? else {
            return Err(bad("expected a JSON object"));
        };
        let get = |name: &str| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.as_str())
                .map(str::to_owned)
                .filter(|s| !s.is_empty())
        };
        let raw_id = get("id").or_else(|| get("iamId")).or_else(|| get("iam_id"));
        let (iam_id, id) = match raw_id {
            Some(v) if crate::types::IdentityKind::from_iam_id(&v).is_some() => (Some(IamId::new(v)), None),
            Some(v) => (None, Some(v)),
            None => (None, None),
        };
        let (name, email) = (get("name"), get("email"));
        if name.is_none() && email.is_none() && iam_id.is_none() && id.is_none() {
            // `{}` is not "an owner with an empty name": it names nobody.
            return Err(bad("the answer names no owner"));
        }
        Ok(Self { name: name.unwrap_or_default(), email: email.unwrap_or_default(), iam_id, id })
    }
}

/// The classic infrastructure credentials set by hand for a region and resource group
/// (`ibmcloud ks credential get`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum ClassicCredentials {
    /// None are set: the API key orders the classic infrastructure (IBM's `E0051`, or a 404).
    None,
    /// Set: they order the classic clusters' infrastructure instead of the API key.
    Set {
        /// The infrastructure user name, when the answer names one.
        username: Option<String>,
    },
}

impl ClassicCredentials {
    /// Decodes the body of `GET /v1/credentials`.
    ///
    /// OPEN QUESTION (to settle on a live account): IBM documents only what the CLI prints
    /// ("Infrastructure credentials for user name <1234567_name@email.com> set for resource
    /// group ..."), not the body. This is the only place that reads it: a string member whose
    /// name (any case, any separator) is one of [`crate::redact::CLASSIC_USER_NAME_FIELDS`] is the user name,
    /// in that order of preference; every other member is ignored, and nothing that could be
    /// a key is kept.
    ///
    /// # Errors
    /// [`Error::BadResponse`] when the body is not a JSON object.
    pub(crate) fn decode(body: &[u8]) -> Result<Self> {
        let bad = |detail: &str| Error::BadResponse { service: Service::Containers, detail: detail.to_owned() };
        let Value::Object(map) = serde_json::from_slice::<Value>(body).map_err(|e| bad(&e.to_string()))? else {
            return Err(bad("expected a JSON object"));
        };
        let named = |wanted: &str| {
            map.iter()
                .find(|(k, _)| crate::redact::normalise_name(k) == wanted)
                .and_then(|(_, v)| v.as_str())
                .filter(|s| !s.trim().is_empty())
                .map(|s| s.trim().to_owned())
        };
        let username = crate::redact::CLASSIC_USER_NAME_FIELDS.iter().find_map(|w| named(w));
        Ok(Self::Set { username })
    }

    /// The email in a classic user name: linked accounts name their users
    /// `<account number>_<email>`; a name without an `@` has none.
    #[must_use]
    pub(crate) fn email_of(username: &str) -> Option<String> {
        let rest = match username.split_once('_') {
            Some((number, rest)) if !number.is_empty() && number.chars().all(|c| c.is_ascii_digit()) => rest,
            _ => username,
        };
        rest.contains('@').then(|| rest.to_ascii_lowercase())
    }
}

/// What a 2xx answer to `POST /v1/keys` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResetAnswer {
    /// IBM's answer: 204, or 200 with an empty or JSON body (IBM's API docs give 204, 200 has
    /// been seen in public scripts, and bluemix-go ignores the body).
    Accepted,
    /// A 2xx that is not IBM's (an HTML page from a proxy or captive portal, ...): it says
    /// nothing about whether the reset happened. The text says what came back.
    NotIbm(String),
}

impl ResetAnswer {
    /// Classifies a 2xx answer.
    #[must_use]
    pub(crate) fn from_success(status: u16, body: &[u8]) -> Self {
        let trimmed = body.iter().all(u8::is_ascii_whitespace);
        if status == 204 || (status == 200 && (trimmed || serde_json::from_slice::<Value>(body).is_ok())) {
            return Self::Accepted;
        }
        let what = crate::error::ApiError::parse(Service::Containers, status, body).description;
        Self::NotIbm(format!("HTTP {status} that is not IBM's answer: {what}"))
    }
}

/// A cluster, from any of the list calls (v1 and v2 share these keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cluster {
    /// Cluster ID.
    #[serde(default)]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Region.
    #[serde(default)]
    pub region: String,
    /// Resource group ID.
    #[serde(default)]
    pub resource_group: String,
    /// Resource group name.
    #[serde(default)]
    pub resource_group_name: String,
    /// `classic`, `vpc-gen2`, `satellite`, ...
    #[serde(default)]
    pub provider: String,
    /// `kubernetes` or `openshift`.
    #[serde(default, rename = "type")]
    pub kind: String,
    /// `normal`, `deploying`, ...
    #[serde(default)]
    pub state: String,
    /// The trusted profile that its storage and autoscaler components use instead of the API
    /// key, once one is set (IBM: it cannot be removed again).
    ///
    /// INFERRED: IBM documents that `cluster get` shows the trusted profile ID (CLI 1.0.715 and
    /// later), not the field of the cluster body. `trustedProfileID` is assumed, the other
    /// spellings below are accepted, and an empty value means none; this is the only place that
    /// names the field.
    /// The cluster's status line (`All Workers Normal`, or what is wrong), when the list
    /// carries one. Read tolerantly: a member of another JSON type counts as none.
    #[serde(default, deserialize_with = "lenient_string", skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// The master's status (`Ready`, ...), from `masterStatus` (or `lifecycle.masterStatus`).
    #[serde(
        default,
        rename = "masterStatus",
        deserialize_with = "lenient_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub master_status: String,
    /// The master's health (`normal`, `warning`, `critical`, ...), from `masterHealth`.
    #[serde(
        default,
        rename = "masterHealth",
        deserialize_with = "lenient_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub master_health: String,
    /// bluemix-go's v2 `lifecycle` (`masterStatus`, `masterHealth`), read where the top-level
    /// members are missing.
    #[serde(default, deserialize_with = "lenient_lifecycle", skip_serializing)]
    pub lifecycle: ClusterLifecycle,
    #[serde(
        default,
        rename = "trustedProfileId",
        alias = "trustedProfileID",
        alias = "trusted_profile_id",
        alias = "trustedProfile",
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub trusted_profile_id: Option<String>,
}

/// The master's state in bluemix-go's v2 `lifecycle` object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterLifecycle {
    /// `masterStatus`.
    pub master_status: String,
    /// `masterHealth`.
    pub master_health: String,
}

impl Cluster {
    /// The master's status, from the top-level member or else the v2 `lifecycle`.
    #[must_use]
    pub(crate) fn master_status(&self) -> &str {
        if self.master_status.is_empty() { &self.lifecycle.master_status } else { &self.master_status }
    }

    /// The master's health, from the top-level member or else the v2 `lifecycle`.
    #[must_use]
    pub(crate) fn master_health(&self) -> &str {
        if self.master_health.is_empty() { &self.lifecycle.master_health } else { &self.master_health }
    }
}

/// A string member read tolerantly: absent, `null`, or of another JSON type is empty.
fn lenient_string<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(v.as_str().map(|s| s.trim().to_owned()).unwrap_or_default())
}

/// The v2 `lifecycle` object read tolerantly (any other JSON type is empty).
fn lenient_lifecycle<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<ClusterLifecycle, D::Error> {
    let v = Value::deserialize(d)?;
    let get = |k: &str| v.get(k).and_then(Value::as_str).map(|s| s.trim().to_owned()).unwrap_or_default();
    Ok(ClusterLifecycle { master_status: get("masterStatus"), master_health: get("masterHealth") })
}

/// A worker node as the workers lists report it, read tolerantly from either shape: bluemix-go
/// `containerv1.Worker` (`id`, `state`, `status`, `errorMessage`) for classic clusters, and
/// `containerv2.Worker` (`id`, `health {state, message}`, `lifecycle {actualState, message,
/// messageDetails}`) for the others. Every text member IBM may put a message in is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Worker {
    /// Its ID.
    pub id: String,
    /// Its state (v1 `state`, v2 `lifecycle.actualState`, else `health.state`).
    pub state: String,
    /// The texts it reports, in the order above, none empty, none twice.
    pub messages: Vec<String>,
}

impl Worker {
    /// Decodes a workers list: a JSON array of worker objects (an entry that is not an object is
    /// skipped; a member of the wrong type is empty).
    ///
    /// OPEN: which of the members carries IBM's credential messages is not documented (IBM's
    /// troubleshooting pages quote the texts, not the member): every text member that may carry
    /// one is read, here and nowhere else.
    ///
    /// # Errors
    /// [`Error::BadResponse`] when the body is not a JSON array.
    pub(crate) fn decode_list(body: &[u8]) -> Result<Vec<Self>> {
        let bad = |detail: &str| Error::BadResponse { service: Service::Containers, detail: detail.to_owned() };
        let Value::Array(items) = serde_json::from_slice::<Value>(body).map_err(|e| bad(&e.to_string()))? else {
            return Err(bad("expected a JSON array of workers"));
        };
        let text = |v: &Value, path: &[&str]| {
            let mut at = v;
            for p in path {
                at = at.get(*p).unwrap_or(&Value::Null);
            }
            at.as_str().map(str::trim).unwrap_or_default().to_owned()
        };
        Ok(items
            .iter()
            .filter(|w| w.is_object())
            .map(|w| {
                let state =
                    [text(w, &["state"]), text(w, &["lifecycle", "actualState"]), text(w, &["health", "state"])]
                        .into_iter()
                        .find(|s| !s.is_empty())
                        .unwrap_or_default();
                let mut messages: Vec<String> = Vec::new();
                for m in [
                    text(w, &["errorMessage"]),
                    text(w, &["status"]),
                    text(w, &["health", "message"]),
                    text(w, &["lifecycle", "message"]),
                    text(w, &["lifecycle", "messageDetails"]),
                ] {
                    if !m.is_empty() && !messages.contains(&m) {
                        messages.push(m);
                    }
                }
                Self { id: text(w, &["id"]), state, messages }
            })
            .collect())
    }
}

/// OPEN: the call behind `ibmcloud ks cluster health issues --cluster C`. It is not in
/// bluemix-go, and IBM's published API definition was not read to confirm it: this is the one
/// place that names it, and [`HealthIssue::decode_list`] the one that reads its body.
pub(crate) const HEALTH_ISSUES_PATH: &str = "/v2/getClusterHealthIssues";

/// One health issue of a cluster (`ibmcloud ks cluster health issues`: an ID, a component, a
/// severity and a description).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthIssue {
    /// `NHC009`, ...
    pub id: String,
    /// `Network`, ...
    pub component: String,
    /// `Error`, `Warning`, ...
    pub severity: String,
    /// What IBM says.
    pub description: String,
}

impl HealthIssue {
    /// Decodes the body of [`HEALTH_ISSUES_PATH`].
    ///
    /// OPEN: the body is not documented. A bare array of issues and an object that wraps one
    /// (under any member, `issues` first) are both read; the members are matched without regard
    /// to case (`id`, `ID`, `issueId`; `description`, `message`, `detail`...), and one of the
    /// wrong type is empty. An entry that is not an object is skipped.
    ///
    /// # Errors
    /// [`Error::BadResponse`] when the body is neither an array nor an object holding one.
    pub(crate) fn decode_list(body: &[u8]) -> Result<Vec<Self>> {
        let bad = |detail: &str| Error::BadResponse { service: Service::Containers, detail: detail.to_owned() };
        let v = serde_json::from_slice::<Value>(body).map_err(|e| bad(&e.to_string()))?;
        let items = match &v {
            Value::Array(items) => items,
            Value::Object(map) => {
                let wrapped = map
                    .iter()
                    .find(|(k, v)| k.eq_ignore_ascii_case("issues") && v.is_array())
                    .or_else(|| map.iter().find(|(_, v)| v.is_array()));
                match wrapped {
                    Some((_, Value::Array(items))) => items,
                    // An object with no list in it reports no issue only when it is empty.
                    _ if map.is_empty() => return Ok(Vec::new()),
                    _ => return Err(bad("expected a list of health issues")),
                }
            }
            _ => return Err(bad("expected a list of health issues")),
        };
        let field = |o: &serde_json::Map<String, Value>, names: &[&str]| {
            names
                .iter()
                .find_map(|n| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).and_then(|(_, v)| v.as_str()))
                .map(str::trim)
                .unwrap_or_default()
                .to_owned()
        };
        Ok(items
            .iter()
            .filter_map(Value::as_object)
            .map(|o| Self {
                id: field(o, &["id", "issueId", "code"]),
                component: field(o, &["component", "type"]),
                severity: field(o, &["severity", "level"]),
                description: field(o, &["description", "message", "detail", "details"]),
            })
            .collect())
    }
}

/// A string member that may be absent, `null` or empty: all three mean none.
fn non_empty<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    let v = Option::<String>::deserialize(d)?;
    Ok(v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()))
}

/// A managed add-on, as `GET /v1/clusters/{idOrName}/addons` lists it (bluemix-go `AddOn`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Addon {
    /// `vpc-block-csi-driver`, `cluster-autoscaler`, ...
    #[serde(default)]
    pub name: String,
    /// Version.
    #[serde(default)]
    pub version: String,
    /// `normal`, `warning`, `critical`, ...
    #[serde(default)]
    pub health_state: String,
}

/// The ZIP that `applyRBACAndGetKubeconfig` answers with. It holds a client key: it is kept in
/// memory only, and its `Debug` shows its size, never its content.
pub(crate) struct KubeconfigZip(pub Vec<u8>);

impl std::fmt::Debug for KubeconfigZip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KubeconfigZip({} bytes)", self.0.len())
    }
}

/// The containers API for one region.
#[derive(Debug, Clone)]
pub struct Containers<'a> {
    client: &'a Client,
    base: Url,
    region: Option<Region>,
}

impl<'a> Containers<'a> {
    /// A client for `region` at `base` (from [`crate::endpoints::Endpoints::containers`]).
    /// Without a region, no `X-Region` is sent (a cluster ID is global).
    #[must_use]
    pub(crate) fn new(client: &'a Client, base: Url, region: Option<Region>) -> Self {
        Self { client, base, region }
    }

    fn request(&self, method: reqwest::Method, path: &str, group: Option<&ResourceGroupId>) -> Request {
        let mut req = Request::new(method, super::url(&self.base, path));
        if let Some(r) = &self.region {
            req = req.header("X-Region", r.as_str());
        }
        if let Some(g) = group {
            req = req.header("X-Auth-Resource-Group", g.as_str());
        }
        req
    }

    /// `POST /v1/keys`: replaces the API key of the region and resource group with one of the
    /// caller. Not idempotent: it is never retried here.
    ///
    /// # Errors
    /// API and transport errors; check [`Error::outcome_unknown`] before trying again.
    pub async fn reset_key(&self, group: Option<&ResourceGroupId>) -> Result<ResetAnswer> {
        let req = self.request(reqwest::Method::POST, "/v1/keys", group).idempotent(false);
        let resp = self.client.send(Service::Containers, req).await?;
        Ok(ResetAnswer::from_success(resp.status, &resp.body))
    }

    /// `PUT /v1/clusters/{idOrName}/masters` with `{"action": "refresh"}`: restarts the
    /// cluster master's API servers (bluemix-go `RefreshAPIServers`, the call behind `ibmcloud
    /// ks cluster master refresh`). Not retried here: a refresh whose answer was lost is
    /// reported as unknown rather than sent again.
    ///
    /// # Errors
    /// API and transport errors.
    pub async fn refresh_master(&self, cluster: &str, group: Option<&ResourceGroupId>) -> Result<()> {
        let path = format!("/v1/clusters/{}/masters", super::segment(cluster));
        let req = self
            .request(reqwest::Method::PUT, &path, group)
            .body(crate::http::Body::Json(serde_json::json!({"action": "refresh"})))
            .idempotent(false);
        self.client.send(Service::Containers, req).await.map(|_| ())
    }

    /// `GET /v1/credentials`: the classic infrastructure credentials set for the target.
    ///
    /// # Errors
    /// API and transport errors other than "none set" (`E0051`, or a 404), which is
    /// [`ClassicCredentials::None`].
    pub(crate) async fn classic_credentials(&self, group: Option<&ResourceGroupId>) -> Result<ClassicCredentials> {
        let req = self.request(reqwest::Method::GET, "/v1/credentials", group);
        match self.client.send(Service::Containers, req).await {
            Ok(resp) => ClassicCredentials::decode(&resp.body),
            Err(Error::Api(e)) if e.code.as_deref() == Some("E0051") || e.is_not_found() => {
                Ok(ClassicCredentials::None)
            }
            Err(e) => Err(e),
        }
    }

    /// `GET /v1/logging/{idOrName}/clusterkeyowner`.
    ///
    /// # Errors
    /// API errors (`G0004` for an unknown cluster), transport errors, an unreadable body.
    pub async fn key_owner(&self, cluster: &str, group: Option<&ResourceGroupId>) -> Result<KeyOwner> {
        let path = format!("/v1/logging/{}/clusterkeyowner", super::segment(cluster));
        let resp = self.client.send(Service::Containers, self.request(reqwest::Method::GET, &path, group)).await?;
        KeyOwner::decode(&resp.body)
    }

    /// Every cluster of the region visible in the resource group (or all groups when `None`),
    /// from the v2 lists of each provider. Classic clusters come from `/v2/classic/getClusters`
    /// and VPC from `/v2/vpc/getClusters`, Satellite from `/v2/satellite/getClusters`; results
    /// are merged by cluster ID.
    ///
    /// # Errors
    /// API and transport errors.
    pub(crate) async fn clusters(&self, group: Option<&ResourceGroupId>) -> Result<Vec<Cluster>> {
        let list = |path: &'static str| async move {
            let resp = self.client.send(Service::Containers, self.request(reqwest::Method::GET, path, group)).await?;
            resp.json::<Vec<Cluster>>(Service::Containers)
        };
        // The three lists are independent: ask for them together.
        let (classic, vpc, satellite) = tokio::join!(
            list("/v2/classic/getClusters"),
            list("/v2/vpc/getClusters"),
            list("/v2/satellite/getClusters")
        );
        let mut all: Vec<Cluster> = Vec::new();
        for list in [classic?, vpc?, satellite?] {
            for c in list {
                if !all.iter().any(|x| x.id == c.id) {
                    all.push(c);
                }
            }
        }
        // The v2 lists answer for the account; keep the region and group asked for.
        all.retain(|c| {
            (c.region.is_empty() || self.region.as_ref().is_none_or(|r| c.region == r.as_str()))
                && group.is_none_or(|g| c.resource_group.is_empty() || c.resource_group == g.as_str())
        });
        all.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(all)
    }

    /// `GET /v2/getCluster?cluster=`: one cluster by name or ID.
    ///
    /// # Errors
    /// API errors (`G0004` for an unknown cluster) and transport errors.
    pub(crate) async fn cluster(&self, id_or_name: &str, group: Option<&ResourceGroupId>) -> Result<Cluster> {
        let mut url = super::url(&self.base, "/v2/getCluster");
        url.query_pairs_mut().append_pair("cluster", id_or_name);
        let mut req = self.request(reqwest::Method::GET, "/v2/getCluster", group);
        req.url = url;
        let resp = self.client.send(Service::Containers, req).await?;
        resp.json(Service::Containers)
    }

    /// The cluster's workers: `GET /v1/clusters/{id}/workers?showDeleted=false` for a classic
    /// cluster (bluemix-go `containerv1`), `GET /v2/vpc/getWorkers?cluster=&showDeleted=false`
    /// for a VPC one (bluemix-go `containerv2`), and `GET /v2/getWorkers?cluster=` for any other
    /// (OPEN: Satellite's list is not in bluemix-go; IBM's API lists the provider-neutral call).
    ///
    /// # Errors
    /// API and transport errors, a body that is not a list.
    pub(crate) async fn workers(
        &self,
        cluster: &str,
        provider: &str,
        group: Option<&ResourceGroupId>,
    ) -> Result<Vec<Worker>> {
        let req = if provider == "classic" {
            let path = format!("/v1/clusters/{}/workers", super::segment(cluster));
            let mut req = self.request(reqwest::Method::GET, &path, group);
            req.url.query_pairs_mut().append_pair("showDeleted", "false");
            req
        } else {
            let path = if provider.starts_with("vpc") { "/v2/vpc/getWorkers" } else { "/v2/getWorkers" };
            let mut req = self.request(reqwest::Method::GET, path, group);
            req.url.query_pairs_mut().append_pair("cluster", cluster).append_pair("showDeleted", "false");
            req
        };
        let resp = self.client.send(Service::Containers, req).await?;
        Worker::decode_list(&resp.body)
    }

    /// The cluster's health issues ([`HEALTH_ISSUES_PATH`]`?cluster=`).
    ///
    /// # Errors
    /// API and transport errors, a body that is not a list.
    pub(crate) async fn health_issues(
        &self,
        cluster: &str,
        group: Option<&ResourceGroupId>,
    ) -> Result<Vec<HealthIssue>> {
        let mut req = self.request(reqwest::Method::GET, HEALTH_ISSUES_PATH, group);
        req.url.query_pairs_mut().append_pair("cluster", cluster);
        let resp = self.client.send(Service::Containers, req).await?;
        HealthIssue::decode_list(&resp.body)
    }

    /// `GET /v1/clusters/{idOrName}/addons`: the cluster's enabled add-ons.
    ///
    /// # Errors
    /// API and transport errors.
    pub(crate) async fn addons(&self, cluster: &str, group: Option<&ResourceGroupId>) -> Result<Vec<Addon>> {
        let path = format!("/v1/clusters/{}/addons", super::segment(cluster));
        let resp = self.client.send(Service::Containers, self.request(reqwest::Method::GET, &path, group)).await?;
        resp.json(Service::Containers)
    }

    /// `POST /v2/applyRBACAndGetKubeconfig` with `admin: true`: the admin kubeconfig as IBM's
    /// ZIP (the kubeconfig plus `admin.pem`, `admin-key.pem` and the CA). `endpoint` is the
    /// `endpointType` (`private`, `vpe`, `link`; `None` for the public endpoint). It only
    /// applies RBAC and reads, so a retry is safe.
    ///
    /// # Errors
    /// API errors (the Administrator role is needed) and transport errors.
    pub(crate) async fn admin_kubeconfig(
        &self,
        cluster: &str,
        endpoint: Option<&str>,
        group: Option<&ResourceGroupId>,
    ) -> Result<KubeconfigZip> {
        let mut body = serde_json::json!({"cluster": cluster, "format": "zip", "admin": true});
        if let Some(e) = endpoint {
            body["endpointType"] = Value::String(e.to_owned());
        }
        let req = self
            .request(reqwest::Method::POST, "/v2/applyRBACAndGetKubeconfig", group)
            .body(crate::http::Body::Json(body))
            .idempotent(true);
        let resp = self.client.send(Service::Containers, req).await?;
        Ok(KubeconfigZip(resp.body))
    }

    /// `GET /v2/getRBACStatus?cluster=`: whether the RBAC applied with a kubeconfig is in place.
    ///
    /// # Errors
    /// API and transport errors.
    pub(crate) async fn rbac_synchronized(&self, cluster: &str, group: Option<&ResourceGroupId>) -> Result<bool> {
        #[derive(Deserialize)]
        struct RbacStatus {
            #[serde(default)]
            synchronized: bool,
            #[serde(default)]
            error: bool,
        }
        let mut req = self.request(reqwest::Method::GET, "/v2/getRBACStatus", group);
        req.url.query_pairs_mut().append_pair("cluster", cluster);
        let resp = self.client.send(Service::Containers, req).await?;
        let s: RbacStatus = resp.json(Service::Containers)?;
        if s.error {
            return Err(Error::BadResponse {
                service: Service::Containers,
                detail: format!("applying RBAC to cluster '{cluster}' failed"),
            });
        }
        Ok(s.synchronized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_credentials_are_read_tolerantly_and_keep_no_key() {
        let set = |body: &str| ClassicCredentials::decode(body.as_bytes()).unwrap();
        let user = |u: &str| ClassicCredentials::Set { username: Some(u.to_owned()) };
        assert_eq!(set(r#"{"infrastructure_username": "2412345_a@b.c"}"#), user("2412345_a@b.c"));
        assert_eq!(set(r#"{"SoftLayerUserName": "x", "softlayer_api_key": "SECRET"}"#), user("x"));
        assert_eq!(set(r#"{"infraUser": "y", "apikey": "SECRET"}"#), user("y"));
        // A body that names no user still says that credentials are set.
        assert_eq!(set(r#"{"region": "us-south"}"#), ClassicCredentials::Set { username: None });
        assert!(!format!("{:?}", set(r#"{"username": "z", "userApiKey": "SECRET"}"#)).contains("SECRET"));
        assert!(ClassicCredentials::decode(b"[]").is_err());
        assert_eq!(ClassicCredentials::email_of("2412345_Dave@Example.com").as_deref(), Some("dave@example.com"));
        assert_eq!(ClassicCredentials::email_of("dave@example.com").as_deref(), Some("dave@example.com"));
        assert_eq!(ClassicCredentials::email_of("SL12345"), None);
        // Members whose names merely contain "user" are secrets, not user names.
        for name in
            ["user_token", "userSecret", "userpass", "userPw", "infrastructure_user_credential", "softlayerUserAuth"]
        {
            let body = format!(r#"{{"{name}": "tok-0123456789"}}"#);
            assert_eq!(set(&body), ClassicCredentials::Set { username: None }, "{name}");
            let body = format!(r#"{{"{name}": "tok-0123456789", "infrastructure_username": "u"}}"#);
            assert_eq!(set(&body), user("u"), "{name}");
        }
    }

    #[test]
    fn key_owner_is_decoded_case_insensitively() {
        for body in [
            r#"{"id":"IBMid-1","name":"A B","email":"a@b.c"}"#,
            r#"{"ID":"IBMid-1","Name":"A B","Email":"a@b.c","extra":1}"#,
            r#"{"Id":"IBMid-1","NAME":"A B","eMail":"a@b.c"}"#,
        ] {
            let o = KeyOwner::decode(body.as_bytes()).unwrap();
            assert_eq!(o.name, "A B");
            assert_eq!(o.email, "a@b.c");
            assert_eq!(o.iam_id, Some(IamId::new("IBMid-1")));
        }
        let o = KeyOwner::decode(br#"{"id":"ApiKey-123","name":"x","email":"y"}"#).unwrap();
        assert_eq!(o.iam_id, None);
        assert_eq!(o.id.as_deref(), Some("ApiKey-123"));
        assert!(KeyOwner::decode(b"[]").is_err());
        assert!(KeyOwner::decode(b"{}").is_err());
        assert!(KeyOwner::decode(br#"{"name":"","email":"","extra":1}"#).is_err());
        assert!(KeyOwner::decode(b"<html>").is_err());
    }

    #[test]
    fn only_ibm_shaped_success_answers_accept_a_reset() {
        assert_eq!(ResetAnswer::from_success(204, b""), ResetAnswer::Accepted);
        assert_eq!(ResetAnswer::from_success(200, b""), ResetAnswer::Accepted);
        assert_eq!(ResetAnswer::from_success(200, b" \n"), ResetAnswer::Accepted);
        assert_eq!(ResetAnswer::from_success(200, b"{}"), ResetAnswer::Accepted);
        let html = ResetAnswer::from_success(200, b"<html><body><h1>Sign in to the Wi-Fi</h1></body></html>");
        assert!(matches!(&html, ResetAnswer::NotIbm(t) if t.contains("Sign in to the Wi-Fi")), "{html:?}");
        assert!(matches!(ResetAnswer::from_success(202, b""), ResetAnswer::NotIbm(_)));
    }

    #[test]
    fn workers_are_read_from_either_shape_tolerantly() {
        let v1 = br#"[{"id":"w1","state":"failed","status":"x","errorMessage":"Provided user not found or active"},
                     {"id":"w2","state":"normal","status":"Ready","errorMessage":""}, 7, null]"#;
        let w = Worker::decode_list(v1).unwrap();
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].state, "failed");
        assert_eq!(w[0].messages, ["Provided user not found or active", "x"]);
        let v2 = br#"[{"id":"w3","health":{"state":"warning","message":"m"},"lifecycle":{"actualState":"deployed","message":"m","messageDetails":42}}]"#;
        let w = Worker::decode_list(v2).unwrap();
        assert_eq!(w[0].state, "deployed");
        assert_eq!(w[0].messages, ["m"], "the same text once; a number is no text");
        // Wrong types anywhere read as nothing said; a body that is not a list is an error.
        let odd = br#"[{"id":5,"state":[],"health":"ok","lifecycle":null}]"#;
        assert_eq!(
            Worker::decode_list(odd).unwrap()[0],
            Worker { id: String::new(), state: String::new(), messages: vec![] }
        );
        assert!(Worker::decode_list(b"{}").is_err());
        assert!(Worker::decode_list(b"<html>502 Bad Gateway</html>").is_err());
        assert!(Worker::decode_list(br#"[{"id":"w"#).is_err());
    }

    #[test]
    fn health_issues_are_read_bare_or_wrapped() {
        let bare = br#"[{"id":"NHC009","component":"Network","severity":"Error","description":"The IAM token exchange request failed."}]"#;
        let wrapped = br#"{"issues":[{"ID":"NHC009","Component":"Network","Severity":"Error","Message":"The IAM token exchange request failed."}],"total":1}"#;
        let other = br#"{"items":[{"issueId":"NHC009","description":"The IAM token exchange request failed."}]}"#;
        for body in [&bare[..], &wrapped[..], &other[..]] {
            let i = HealthIssue::decode_list(body).unwrap();
            assert_eq!(i[0].id, "NHC009");
            assert_eq!(i[0].description, "The IAM token exchange request failed.");
        }
        assert!(HealthIssue::decode_list(b"{}").unwrap().is_empty());
        assert!(HealthIssue::decode_list(br#"{"message":"x"}"#).is_err(), "an object with no list is no answer");
        assert!(HealthIssue::decode_list(b"\"x\"").is_err());
        assert!(HealthIssue::decode_list(b"<html>").is_err());
        assert_eq!(HealthIssue::decode_list(br#"[{"id":1,"description":{}}, "x"]"#).unwrap()[0].id, "");
    }

    #[test]
    fn clusters_ignore_unknown_fields() {
        let c: Vec<Cluster> = serde_json::from_str(
            r#"[{"id":"c1","name":"n","region":"us-south","resourceGroup":"g","resourceGroupName":"Default","provider":"vpc-gen2","type":"openshift","state":"normal","workerCount":3,"ingress":{"hostname":"x"}}]"#,
        )
        .unwrap();
        assert_eq!(c[0].kind, "openshift");
        assert_eq!(c[0].resource_group, "g");
    }
}
