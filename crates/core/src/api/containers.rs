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
    fn clusters_ignore_unknown_fields() {
        let c: Vec<Cluster> = serde_json::from_str(
            r#"[{"id":"c1","name":"n","region":"us-south","resourceGroup":"g","resourceGroupName":"Default","provider":"vpc-gen2","type":"openshift","state":"normal","workerCount":3,"ingress":{"hostname":"x"}}]"#,
        )
        .unwrap();
        assert_eq!(c[0].kind, "openshift");
        assert_eq!(c[0].resource_group, "g");
    }
}
