//! IAM access: policies and access groups, enough to answer "may this identity reset here?".

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse as _, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::server::Shared;
use crate::util::Caller;
use crate::util::{self, Api};
use crate::world::{ACCOUNT_MANAGEMENT, Policy, World};

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
    for (name, value) in [
        ("serviceInstance", &p.service_instance),
        ("serviceType", &p.service_type),
        ("resourceType", &p.resource_type),
        ("resource", &p.resource),
    ] {
        if let Some(v) = value {
            resource.push(json!({"name": name, "value": v, "operator": "stringEquals"}));
        }
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
pub(crate) struct PolicyParams {
    account_id: Option<String>,
    iam_id: Option<String>,
    access_group_id: Option<String>,
    #[serde(rename = "type")]
    policy_type: Option<String>,
    service_type: Option<String>,
    /// Page size (IBM: 1 to 100, default 50).
    limit: Option<usize>,
    /// Where the page starts: the token of the previous page's `next`.
    start: Option<String>,
}

/// IBM's page sizes: `limit` between 1 and 100, 50 when not given.
fn page_limit(limit: Option<usize>) -> usize {
    limit.unwrap_or(50).clamp(1, 100)
}

/// One page of `items` from `offset`, and where the next one starts (if anywhere).
fn page<T>(items: Vec<T>, offset: usize, limit: usize) -> (Vec<T>, Option<usize>) {
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
    let next = (offset + limit < total).then_some(offset + limit);
    (page, next)
}

/// The query of a policy list, for its page links (`first`, `next`).
fn policy_query(account: &str, p: &PolicyParams, limit: usize) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("account_id", account);
    for (k, v) in [
        ("iam_id", &p.iam_id),
        ("access_group_id", &p.access_group_id),
        ("type", &p.policy_type),
        ("service_type", &p.service_type),
    ] {
        if let Some(v) = v {
            q.append_pair(k, v);
        }
    }
    q.append_pair("limit", &limit.to_string());
    q.finish()
}

/// A policy list page as IBM documents it: `limit`, `first`, and `next` with its `start` token
/// when more follow. The token is opaque to clients; here it encodes the offset.
fn policy_page(path: &str, account: &str, p: &PolicyParams, list: Vec<Value>) -> Value {
    let limit = page_limit(p.limit);
    let offset = p.start.as_deref().and_then(|s| s.strip_prefix("emu-")).and_then(|s| s.parse().ok()).unwrap_or(0);
    let (items, next) = page(list, offset, limit);
    let q = policy_query(account, p, limit);
    let mut body =
        json!({"limit": limit, "first": {"href": format!("https://iam.cloud.ibm.com{path}?{q}")}, "policies": items});
    if let Some(n) = next {
        let start = format!("emu-{n}");
        body["next"] = json!({"href": format!("https://iam.cloud.ibm.com{path}?{q}&start={start}"), "start": start});
    }
    body
}

/// Whether `caller` may read and write every policy of the account (the account owner, or a
/// role on IAM Access Management); anyone else reads only the policies that apply to them.
fn policy_admin(world: &World, caller: &Caller, write: bool) -> bool {
    let roles: &[&str] = if write { &["Administrator"] } else { &["Viewer", "Operator", "Editor", "Administrator"] };
    world.accounts.iter().any(|a| a.id == caller.account_id && a.owner_iam_id == caller.iam_id)
        || world.has_role(&caller.account_id, &caller.iam_id, "iam-access-management", roles, None, None)
}

fn visible_policies<'a>(world: &'a World, caller: &Caller, account: &str, p: &PolicyParams) -> Vec<&'a Policy> {
    let admin = policy_admin(world, caller, false);
    let mine = world.subjects_of(&caller.iam_id);
    world
        .policies
        .iter()
        .filter(|x| x.account_id == account)
        // "Only policies that the caller has read access to are returned": an empty list is not
        // proof of anything.
        .filter(|x| {
            admin
                || x.iam_id.as_ref().is_some_and(|i| mine.contains(i))
                || x.access_group_id.as_ref().is_some_and(|g| mine.contains(g))
        })
        .filter(|x| p.iam_id.as_ref().is_none_or(|i| x.iam_id.as_ref() == Some(i)))
        .filter(|x| p.access_group_id.as_ref().is_none_or(|g| x.access_group_id.as_ref() == Some(g)))
        .filter(|_| p.policy_type.as_deref().is_none_or(|t| t == "access"))
        .filter(|x| match p.service_type.as_deref() {
            Some("service") => x.service.as_deref().is_none_or(|s| !ACCOUNT_MANAGEMENT.contains(&s)),
            Some("platform_service") => x.service.as_deref().is_some_and(|s| ACCOUNT_MANAGEMENT.contains(&s)),
            _ => true,
        })
        .collect()
}

/// `GET /v1/policies`.
pub(crate) async fn policies(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(p): Query<PolicyParams>,
) -> Response {
    let account = match own_account(&shared, &headers, p.account_id.clone(), "policies") {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(caller) = util::bearer(&shared, &headers) else { return util::unauthorized(Api::Identity) };
    let world = shared.world();
    let list: Vec<Value> = visible_policies(&world, &caller, &account, &p).into_iter().map(policy_json).collect();
    util::ok(&policy_page("/v1/policies", &account, &p, list))
}

/// A policy in IAM's v2 shape (`subject`, `resource`, `control`).
fn policy_v2_json(x: &Policy) -> Value {
    let v1 = policy_json(x);
    let attrs = |list: &Value| -> Vec<Value> {
        list.as_array()
            .map(|a| {
                a.iter()
                    .map(|at| json!({"key": at["name"], "operator": "stringEquals", "value": at["value"]}))
                    .collect()
            })
            .unwrap_or_default()
    };
    let roles: Vec<Value> = v1["roles"]
        .as_array()
        .map(|r| r.iter().map(|r| json!({"role_id": r["role_id"]})).collect())
        .unwrap_or_default();
    json!({
        "id": x.id,
        "type": "access",
        "subject": {"attributes": attrs(&v1["subjects"][0]["attributes"])},
        "resource": {"attributes": attrs(&v1["resources"][0]["attributes"])},
        "control": {"grant": {"roles": roles}},
        "href": format!("https://iam.cloud.ibm.com/v2/policies/{}", x.id),
        "created_at": "2024-01-01T00:00:00Z",
        "created_by_id": "IBMid-2700000OWN",
        "last_modified_at": "2024-01-01T00:00:00Z",
        "last_modified_by_id": "IBMid-2700000OWN",
        "state": "active",
    })
}

/// `GET /v2/policies`: the same policies in the v2 shape (`subject`, `resource`, `control`).
pub(crate) async fn policies_v2(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(p): Query<PolicyParams>,
) -> Response {
    let account = match own_account(&shared, &headers, p.account_id.clone(), "policies") {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(caller) = util::bearer(&shared, &headers) else { return util::unauthorized(Api::Identity) };
    let world = shared.world();
    let list: Vec<Value> = visible_policies(&world, &caller, &account, &p).into_iter().map(policy_v2_json).collect();
    util::ok(&policy_page("/v2/policies", &account, &p, list))
}

/// The role names of a policy body's `roles` (`[{"role_id": "crn:...:Administrator"}]`).
pub(crate) fn role_names(roles: &Value) -> Vec<String> {
    roles
        .as_array()
        .map(|r| r.iter().filter_map(|r| r["role_id"].as_str()?.rsplit(':').next().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// A policy with a new ID for a subject, on the resource `resources` names (a list of
/// `{"name", "value"}` attributes), as both policy creation and User Management's invitation
/// make them.
pub(crate) fn new_policy(
    world: &mut crate::world::World,
    account: String,
    iam_id: Option<String>,
    access_group_id: Option<String>,
    resources: &Value,
    roles: Vec<String>,
) -> Policy {
    let attr = |name: &str| -> Option<String> {
        resources.as_array()?.iter().find(|a| a["name"] == name).and_then(|a| a["value"].as_str()).map(str::to_owned)
    };
    Policy {
        id: world.new_id("policy-"),
        account_id: account,
        iam_id,
        access_group_id,
        service: attr("serviceName"),
        roles,
        region: attr("region"),
        resource_group_id: attr("resourceGroupId"),
        service_instance: attr("serviceInstance"),
        service_type: attr("serviceType"),
        resource_type: attr("resourceType"),
        resource: attr("resource"),
    }
}

/// Whether `caller` may create policies: the account owner or an Administrator on IAM Access
/// Management.
pub(crate) fn may_create_policies(world: &crate::world::World, caller: &Caller) -> bool {
    policy_admin(world, caller, true)
}

/// `POST /v1/policies`: creates an access policy (account owner or Administrator on IAM Access
/// Management only).
pub(crate) async fn create_policy(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(caller) = util::bearer(&shared, &headers) else { return util::unauthorized(Api::Identity) };
    let bad = |m: &str| util::identity_error(400, "invalid_body", "BXNIM0502E", m);
    let Ok(v) = serde_json::from_slice::<Value>(&body) else { return bad("The body is not JSON.") };
    create(
        &shared,
        &caller,
        &v["subjects"][0]["attributes"],
        &v["resources"][0]["attributes"],
        role_names(&v["roles"]),
        policy_json,
    )
}

/// Creates a policy from v1-shaped attribute lists (`{name, value}`), for either version of the
/// API, and answers it in that version's shape: one account's administrator only.
fn create(
    shared: &Shared,
    caller: &util::Caller,
    subjects: &Value,
    resources: &Value,
    roles: Vec<String>,
    shape: fn(&Policy) -> Value,
) -> Response {
    let bad = |m: &str| util::identity_error(400, "invalid_body", "BXNIM0502E", m);
    let attr = |list: &Value, name: &str| -> Option<String> {
        list.as_array()?.iter().find(|a| a["name"] == name).and_then(|a| a["value"].as_str()).map(str::to_owned)
    };
    if roles.is_empty() {
        return bad("At least one role is required.");
    }
    let Some(account) = attr(resources, "accountId") else { return bad("The resource needs accountId.") };
    let mut world = shared.world();
    if account != caller.account_id || !policy_admin(&world, caller, true) {
        return util::identity_error(403, "forbidden", "BXNIM0513E", "You are not authorized to create this policy.");
    }
    let policy =
        new_policy(&mut world, account, attr(subjects, "iam_id"), attr(subjects, "access_group_id"), resources, roles);
    if policy.iam_id.is_none() && policy.access_group_id.is_none() {
        return bad("The subject needs iam_id or access_group_id.");
    }
    let out = shape(&policy);
    world.policies.push(policy);
    util::with_status(201, &out)
}

/// `POST /v2/policies`: an access policy in the v2 shape (`subject.attributes` and
/// `resource.attributes` as `{key, operator, value}`, roles under `control.grant`); who may
/// create one is as for `POST /v1/policies`.
pub(crate) async fn create_policy_v2(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(caller) = util::bearer(&shared, &headers) else { return util::unauthorized(Api::Identity) };
    let bad = |m: &str| util::identity_error(400, "invalid_body", "BXNIM0502E", m);
    let Ok(v) = serde_json::from_slice::<Value>(&body) else { return bad("The body is not JSON.") };
    // The v2 attributes (`key`) as the v1 ones (`name`) that policies are made from.
    let as_v1 = |list: &Value| -> Value {
        list.as_array()
            .map(|a| a.iter().map(|at| json!({"name": at["key"], "value": at["value"]})).collect::<Vec<_>>())
            .unwrap_or_default()
            .into()
    };
    create(
        &shared,
        &caller,
        &as_v1(&v["subject"]["attributes"]),
        &as_v1(&v["resource"]["attributes"]),
        role_names(&v["control"]["grant"]["roles"]),
        policy_v2_json,
    )
}

/// The caller's account's access group `id`, or IAM Access Groups' 404.
fn own_group<'a>(
    world: &'a crate::world::World,
    caller: &util::Caller,
    id: &str,
) -> Result<&'a crate::world::AccessGroup, Response> {
    world
        .access_groups
        .iter()
        .find(|g| g.id == id && g.account_id == caller.account_id)
        .ok_or_else(|| util::identity_error(404, "not_found", "AGGRP0404E", "The access group was not found."))
}

/// `GET /v2/groups/{id}`: one access group (IAM Access Groups' `Group`).
pub(crate) async fn group(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let Some(caller) = util::bearer(&shared, &headers) else { return util::unauthorized(Api::Identity) };
    let world = shared.world();
    let g = match own_group(&world, &caller, &id) {
        Ok(g) => g,
        Err(r) => return r,
    };
    util::ok(&json!({
        "id": g.id,
        "name": g.name,
        "description": "",
        "account_id": g.account_id,
        "created_at": "2024-01-01T00:00:00Z",
        "created_by_id": "IBMid-2700000OWN",
        "last_modified_at": "2024-01-01T00:00:00Z",
        "last_modified_by_id": "IBMid-2700000OWN",
        "href": format!("https://iam.cloud.ibm.com/v2/groups/{}", g.id),
        "is_federated": false,
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct GroupParams {
    account_id: Option<String>,
    iam_id: Option<String>,
    /// Page size (IBM: 0 to 100, default 50).
    limit: Option<usize>,
    /// First item of the page.
    offset: Option<usize>,
}

/// `GET /v2/groups`.
pub(crate) async fn groups(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(p): Query<GroupParams>,
) -> Response {
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
    let limit = page_limit(p.limit);
    let offset = p.offset.unwrap_or(0);
    let (items, next) = page(list, offset, limit);
    let href = |offset: usize| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("account_id", &account);
        if let Some(i) = &p.iam_id {
            q.append_pair("iam_id", i);
        }
        q.append_pair("limit", &limit.to_string()).append_pair("offset", &offset.to_string());
        json!({"href": format!("https://iam.cloud.ibm.com/v2/groups?{}", q.finish())})
    };
    let mut body = json!({"limit": limit, "offset": offset, "total_count": total, "first": href(0), "groups": items});
    if let Some(n) = next {
        body["next"] = href(n);
    }
    util::ok(&body)
}

/// `GET /v2/groups/{id}/members`.
pub(crate) async fn members(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    axum::extract::Path(group): axum::extract::Path<String>,
) -> Response {
    let Some(caller) = util::bearer(&shared, &headers) else { return util::unauthorized(Api::Identity) };
    let world = shared.world();
    let g = match own_group(&world, &caller, &group) {
        Ok(g) => g,
        Err(r) => return r,
    };
    let members: Vec<Value> = g
        .members
        .iter()
        .map(|m| {
            let kind = if m.starts_with("iam-ServiceId-") { "service" } else if m.starts_with("iam-Profile-") { "profile" } else { "user" };
            let who = world.identities.iter().find(|i| &i.iam_id == m);
            json!({"iam_id": m, "type": kind, "membership_type": "static", "name": who.map(|i| i.name.clone()), "email": who.map(|i| i.email.clone())})
        })
        .collect();
    util::ok(&json!({"limit": 50, "offset": 0, "total_count": members.len(), "members": members}))
}

/// `HEAD /v2/groups/{id}/members/{iam_id}`: 204 when a member, 404 otherwise.
pub(crate) async fn is_member(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    axum::extract::Path((group, iam_id)): axum::extract::Path<(String, String)>,
) -> Response {
    let Some(caller) = util::bearer(&shared, &headers) else { return util::unauthorized(Api::Identity) };
    let world = shared.world();
    let member = world
        .access_groups
        .iter()
        .any(|g| g.id == group && g.account_id == caller.account_id && g.members.contains(&iam_id));
    if member { util::no_content() } else { axum::http::StatusCode::NOT_FOUND.into_response() }
}

/// `GET /v1/accounts/{account}/settings/identity`.
pub(crate) async fn settings(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    axum::extract::Path(account): axum::extract::Path<String>,
) -> Response {
    let Some(caller) = util::bearer(&shared, &headers) else { return util::unauthorized(Api::Identity) };
    if account != caller.account_id {
        return util::identity_error(403, "forbidden", "BXNIM0513E", "You are not authorized to read these settings.");
    }
    let world = shared.world();
    // Every member IBM's `AccountSettingsResponse` model requires (IBM's SDKs refuse an answer
    // without them), at IBM's defaults where the world does not say.
    util::ok(&json!({
        "account_id": account,
        "restrict_create_platform_apikey": world.settings.restrict_create_platform_apikey,
        "restrict_create_service_id": world.settings.restrict_create_service_id,
        "restrict_user_list_visibility": "NOT_RESTRICTED",
        "entity_tag": "1-settings",
        "allowed_ip_addresses": "",
        "mfa": "NONE",
        "user_mfa": [],
        "history": [],
        "session_expiration_in_seconds": "NOT_SET",
        "session_invalidation_in_seconds": "NOT_SET",
        "max_sessions_per_identity": "NOT_SET",
        "system_access_token_expiration_in_seconds": "NOT_SET",
        "system_refresh_token_expiration_in_seconds": "NOT_SET",
        // No domain restriction for users of the account (IBM's default).
        "restrict_user_domains": [],
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct LimitParams {
    apikeys_per_identity: Option<String>,
}

/// `GET /v1/accounts/{account}/limits/identity?apikeys_per_identity=IAM_ID[,IAM_ID...]`.
pub(crate) async fn limits(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    axum::extract::Path(account): axum::extract::Path<String>,
    Query(p): Query<LimitParams>,
) -> Response {
    let Some(caller) = util::bearer(&shared, &headers) else { return util::unauthorized(Api::Identity) };
    if account != caller.account_id {
        return util::identity_error(403, "forbidden", "BXNIM0513E", "You are not authorized to read these limits.");
    }
    let world = shared.world();
    let ids: Vec<Value> = p
        .apikeys_per_identity
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter(|i| !i.is_empty())
        .map(|i| json!({"iam_id": i, "count": world.api_keys.iter().filter(|k| k.iam_id == i && k.account_id == account).count()}))
        .collect();
    util::ok(&json!({"apikeys_per_identity": {"limit": world.apikeys_per_identity, "identities": ids}}))
}
