//! IAM Policy Management and Access Groups: enough to tell whether an identity may reset the
//! cluster API key (`GET /v1/policies`, `GET /v2/groups`).

use serde::Deserialize;
use url::Url;

use crate::auth::Client;
use crate::error::{Result, Service};
use crate::http::Request;
use crate::types::{AccountId, IamId};

/// A policy's subject/resource attribute.
#[derive(Debug, Clone, Deserialize)]
pub struct Attribute {
    /// Name (`serviceName`, `region`, `resourceGroupId`, `iam_id`, `access_group_id`...).
    pub name: String,
    /// Value.
    #[serde(default)]
    pub value: serde_json::Value,
}

/// Attributes wrapper.
#[derive(Debug, Clone, Deserialize)]
pub struct Attributes {
    /// The attributes.
    #[serde(default)]
    pub attributes: Vec<Attribute>,
}

/// A role reference.
#[derive(Debug, Clone, Deserialize)]
pub struct Role {
    /// `crn:v1:bluemix:public:iam::::role:Administrator` and the like.
    pub role_id: String,
}

/// An access policy.
#[derive(Debug, Clone, Deserialize)]
pub struct Policy {
    /// ID.
    #[serde(default)]
    pub id: String,
    /// `access`.
    #[serde(default, rename = "type")]
    pub kind: String,
    /// Subjects.
    #[serde(default)]
    pub subjects: Vec<Attributes>,
    /// Roles.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Resources.
    #[serde(default)]
    pub resources: Vec<Attributes>,
}

/// A page link: `{"href": ..., "start": ...}` (`start` only on policy lists).
#[derive(Debug, Default, Deserialize)]
struct Link {
    #[serde(default)]
    href: Option<String>,
    #[serde(default)]
    start: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PolicyList {
    #[serde(default)]
    policies: Vec<Policy>,
    #[serde(default)]
    next: Option<Link>,
}

/// Largest page both lists serve.
const PAGE_SIZE: &str = "100";

/// An access group.
#[derive(Debug, Clone, Deserialize)]
pub struct AccessGroup {
    /// ID.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Deserialize)]
struct GroupList {
    #[serde(default)]
    groups: Vec<AccessGroup>,
    #[serde(default)]
    next: Option<Link>,
}

/// The next page's URL (see [`super::next_page`]): a policy list's `start` token is put on the
/// URL we called; otherwise the `href` is followed, on our own host. `None` at the end.
fn next_page(called: &Url, next: Option<Link>, pages: usize, what: &str) -> Result<Option<Url>> {
    let Some(next) = next else { return Ok(None) };
    let href = match next.start.filter(|s| !s.is_empty()) {
        Some(start) => {
            let kept: Vec<(String, String)> = called
                .query_pairs()
                .filter(|(k, _)| k != "start")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let mut ours = called.clone();
            ours.query_pairs_mut().clear().extend_pairs(kept).append_pair("start", &start);
            Some(ours.to_string())
        }
        None => next.href,
    };
    super::next_page(called, href.as_deref(), pages, Service::IamAccess, what)
}

/// The access client.
#[derive(Debug, Clone)]
pub(crate) struct IamAccess<'a> {
    client: &'a Client,
    base: Url,
}

impl<'a> IamAccess<'a> {
    /// A client at `base`.
    #[must_use]
    pub(crate) fn new(client: &'a Client, base: Url) -> Self {
        Self { client, base }
    }

    /// `GET /v1/policies?account_id=&iam_id=` or `&access_group_id=`.
    ///
    /// # Errors
    /// API and transport errors.
    pub(crate) async fn policies(
        &self,
        account: &AccountId,
        iam_id: Option<&IamId>,
        access_group_id: Option<&str>,
    ) -> Result<Vec<Policy>> {
        let mut url = super::url(&self.base, "/v1/policies");
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("account_id", account.as_str());
            if let Some(i) = iam_id {
                q.append_pair("iam_id", i.as_str());
            }
            if let Some(g) = access_group_id {
                q.append_pair("access_group_id", g);
            }
            q.append_pair("limit", PAGE_SIZE);
        }
        // Every page: a role on page two is as real as one on page one.
        let mut out = Vec::new();
        let mut next = Some(url);
        let mut pages = 0;
        while let Some(u) = next.take() {
            pages += 1;
            let list: PolicyList =
                self.client.send(Service::IamAccess, Request::get(u.clone())).await?.json(Service::IamAccess)?;
            out.extend(list.policies);
            next = next_page(&u, list.next, pages, "policy")?;
        }
        Ok(out)
    }

    /// `GET /v2/groups?account_id=&iam_id=`: the access groups an identity belongs to.
    ///
    /// # Errors
    /// API and transport errors.
    pub(crate) async fn groups_of(&self, account: &AccountId, iam_id: &IamId) -> Result<Vec<AccessGroup>> {
        let mut url = super::url(&self.base, "/v2/groups");
        url.query_pairs_mut()
            .append_pair("account_id", account.as_str())
            .append_pair("iam_id", iam_id.as_str())
            .append_pair("limit", PAGE_SIZE);
        let mut out = Vec::new();
        let mut next = Some(url);
        let mut pages = 0;
        while let Some(u) = next.take() {
            pages += 1;
            let list: GroupList =
                self.client.send(Service::IamAccess, Request::get(u.clone())).await?.json(Service::IamAccess)?;
            let empty = list.groups.is_empty();
            out.extend(list.groups);
            // An empty page ends the list whatever `next` says.
            next = if empty { None } else { next_page(&u, list.next, pages, "access group")? };
        }
        Ok(out)
    }

    /// `POST /v1/policies`: an access policy for `subject` (an IAM ID or an access group ID)
    /// with `roles` (role CRNs) on `resource` attributes (name, value). Returns its ID.
    ///
    /// # Errors
    /// API and transport errors. Not idempotent: never retried.
    pub(crate) async fn create_policy(
        &self,
        subject: (&str, &str),
        roles: &[String],
        resource: &[(String, String)],
    ) -> Result<String> {
        let body = serde_json::json!({
            "type": "access",
            "subjects": [{"attributes": [{"name": subject.0, "value": subject.1}]}],
            "roles": roles.iter().map(|r| serde_json::json!({"role_id": r})).collect::<Vec<_>>(),
            "resources": [{"attributes": resource.iter().map(|(n, v)| serde_json::json!({"name": n, "value": v, "operator": "stringEquals"})).collect::<Vec<_>>()}],
        });
        let req = Request::new(reqwest::Method::POST, super::url(&self.base, "/v1/policies"))
            .body(crate::http::Body::Json(body))
            .idempotent(false);
        let p: Policy = self.client.send(Service::IamAccess, req).await?.json(Service::IamAccess)?;
        Ok(p.id)
    }
}

impl Policy {
    /// The value of a resource attribute, when the policy has it.
    #[must_use]
    pub(crate) fn resource(&self, name: &str) -> Option<String> {
        self.resources.iter().flat_map(|r| &r.attributes).find(|a| a.name == name).and_then(|a| match &a.value {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        })
    }

    /// The role names it grants (the last part of each role CRN: `Administrator`, `Writer`).
    #[must_use]
    pub(crate) fn role_names(&self) -> Vec<&str> {
        self.roles.iter().filter_map(|r| r.role_id.rsplit(':').next()).collect()
    }
}
