//! IAM access: policies and access groups, enough to answer "may this identity reset here?".

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::server::Shared;
use crate::util::{self, Api};
use crate::world::Policy;

fn role_crn(service: Option<&str>, role: &str) -> String {
    match role {
        "Administrator" | "Operator" | "Editor" | "Viewer" => format!("crn:v1:bluemix:public:iam::::role:{role}"),
        _ => format!("crn:v1:bluemix:public:{}::::serviceRole:{role}", service.unwrap_or("iam")),
    }
}

fn policy_json(p: &Policy) -> Value {
    let subject = match (&p.iam_id, &p.access_group_id) {
        (Some(i), _) => json!({"name": "iam_id", "value": i}),
        (None, Some(g)) => json!({"name": "access_group_id", "value": g}),
        (None, None) => json!({"name": "iam_id", "value": ""}),
    };
    let mut resource = vec![json!({"name": "accountId", "value": p.account_id, "operator": "stringEquals"})];
    if let Some(s) = &p.service {
        resource.push(json!({"name": "serviceName", "value": s, "operator": "stringEquals"}));
    }
    if let Some(r) = &p.region {
        resource.push(json!({"name": "region", "value": r, "operator": "stringEquals"}));
    }
    if let Some(g) = &p.resource_group_id {
        resource.push(json!({"name": "resourceGroupId", "value": g, "operator": "stringEquals"}));
    }
    json!({
        "id": p.id,
        "type": "access",
        "subjects": [{"attributes": [subject]}],
        "roles": p.roles.iter().map(|r| json!({"role_id": role_crn(p.service.as_deref(), r), "display_name": r})).collect::<Vec<_>>(),
        "resources": [{"attributes": resource}],
        "href": format!("/v1/policies/{}", p.id),
        "created_at": "2024-01-01T00:00:00.000Z",
        "state": "active",
    })
}

/// The account a listing asks about: it is required and must be the caller's own.
fn own_account(
    shared: &Shared,
    headers: &HeaderMap,
    account_id: Option<String>,
    what: &str,
) -> Result<String, Response> {
    let caller = util::bearer(shared, headers).ok_or_else(|| util::unauthorized(Api::Identity))?;
    let account = account_id
        .ok_or_else(|| util::identity_error(400, "invalid_parameter", "BXNIM0502E", "account_id is required."))?;
    if account != caller.account_id {
        return Err(util::identity_error(
            403,
            "forbidden",
            "BXNIM0513E",
            &format!("You are not authorized to list {what} of this account."),
        ));
    }
    Ok(account)
}

#[derive(Debug, Deserialize)]
#[allow(clippy::struct_field_names, reason = "IBM's query parameter names")]
pub struct PolicyParams {
    account_id: Option<String>,
    iam_id: Option<String>,
    access_group_id: Option<String>,
}

/// `GET /v1/policies`.
pub async fn policies(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(p): Query<PolicyParams>,
) -> Response {
    let account = match own_account(&shared, &headers, p.account_id.clone(), "policies") {
        Ok(a) => a,
        Err(r) => return r,
    };
    let world = shared.world();
    let list: Vec<Value> = world
        .policies
        .iter()
        .filter(|x| x.account_id == account)
        .filter(|x| p.iam_id.as_ref().is_none_or(|i| x.iam_id.as_ref() == Some(i)))
        .filter(|x| p.access_group_id.as_ref().is_none_or(|g| x.access_group_id.as_ref() == Some(g)))
        .map(policy_json)
        .collect();
    util::ok(&json!({"policies": list}))
}

#[derive(Debug, Deserialize)]
pub struct GroupParams {
    account_id: Option<String>,
    iam_id: Option<String>,
}

/// `GET /v2/groups`.
pub async fn groups(State(shared): State<Arc<Shared>>, headers: HeaderMap, Query(p): Query<GroupParams>) -> Response {
    let account = match own_account(&shared, &headers, p.account_id.clone(), "access groups") {
        Ok(a) => a,
        Err(r) => return r,
    };
    let world = shared.world();
    let list: Vec<Value> = world
        .access_groups
        .iter()
        .filter(|g| g.account_id == account)
        .filter(|g| p.iam_id.as_ref().is_none_or(|i| g.members.contains(i)))
        .map(|g| json!({"id": g.id, "name": g.name, "description": "", "is_federated": false, "href": format!("/v2/groups/{}", g.id)}))
        .collect();
    let total = list.len();
    util::ok(&json!({"limit": 50, "offset": 0, "total_count": total, "groups": list}))
}
