//! Resource Manager: resource groups.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::server::Shared;
use crate::util::{self, Api};
use crate::world::ResourceGroup;

fn group_json(g: &ResourceGroup) -> Value {
    json!({
        "id": g.id,
        "crn": format!("crn:v1:bluemix:public:resource-controller::a/{}::resource-group:{}", g.account_id, g.id),
        "account_id": g.account_id,
        "name": g.name,
        "state": "ACTIVE",
        "default": g.default,
        "quota_id": "a3d7b8d01e261c24677937c29ab33f3c",
        "quota_url": "/v2/quota_definitions/a3d7b8d01e261c24677937c29ab33f3c",
        "payment_methods_url": format!("/v2/resource_groups/{}/payment_methods", g.id),
        "resource_linkages": [],
        "teams_url": format!("/v2/resource_groups/{}/teams", g.id),
        "created_at": "2023-01-01T00:00:00.000Z",
        "updated_at": "2023-01-01T00:00:00.000Z",
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListParams {
    account_id: Option<String>,
    name: Option<String>,
    default: Option<String>,
}

/// `GET /v2/resource_groups`.
pub(crate) async fn list_groups(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(p): Query<ListParams>,
) -> Response {
    let Some(caller) = util::bearer(&shared, &headers) else {
        return util::unauthorized(Api::ResourceManager);
    };
    let account = p.account_id.unwrap_or_else(|| caller.account_id.clone());
    if account != caller.account_id {
        return util::rm_error(403, "RG-FORBIDDEN", "You are not authorized to list resource groups of this account.");
    }
    let want_default = match p.default.as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return util::rm_error(400, "RG-BAD-PARAM", "default must be true or false."),
    };
    let world = shared.world();
    let groups: Vec<Value> = world
        .resource_groups
        .iter()
        .filter(|g| g.account_id == account)
        .filter(|g| p.name.as_ref().is_none_or(|n| &g.name == n))
        .filter(|g| want_default.is_none_or(|d| g.default == d))
        .map(group_json)
        .collect();
    util::ok(&json!({"resources": groups}))
}

/// `GET /v2/resource_groups/{id}`.
pub(crate) async fn get_group(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(caller) = util::bearer(&shared, &headers) else {
        return util::unauthorized(Api::ResourceManager);
    };
    let world = shared.world();
    match world.resource_groups.iter().find(|g| g.id == id && g.account_id == caller.account_id) {
        Some(g) => util::ok(&group_json(g)),
        None => util::rm_error(404, "RG-NOT-FOUND", &format!("Resource group {id} was not found.")),
    }
}
