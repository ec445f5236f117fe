//! The accounts an identity can reach: Enterprise Management's account list
//! (`GET /v1/accounts?enterprise_id=...`) and the accounts service behind `ibmcloud account list`
//! (`GET /coe/v2/accounts`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};

use crate::server::Shared;
use crate::util::{self, Api};
use crate::world::{Account, World};

/// Enterprise Management's page size when `limit` is absent, and its largest.
/// OPEN: IBM documents `limit` (default 100) and paging through `next_url`, whose query carries
/// `next_docid`; the cap of 100 is inferred. IBM's SDKs (`EnterpriseManagementV1`, whose
/// `AccountsPager` passes the `next_docid` of `next_url` back) call 0 to 100 valid; what `limit=0`
/// answers is not documented, and the emulator refuses it.
const DEFAULT_LIMIT: usize = 100;

fn enterprise_json(a: &Account, enterprise: &str) -> Value {
    json!({
        "url": format!("/v1/accounts/{}", a.id),
        "id": a.id,
        "crn": format!("crn:v1:bluemix:public:enterprise::a/{}::account:{}", a.id, a.id),
        "parent": format!("crn:v1:bluemix:public:enterprise::a/{}::enterprise:{enterprise}", a.id),
        "enterprise_account_id": a.id,
        "enterprise_id": enterprise,
        "enterprise_path": format!("enterprise:{enterprise}/account:{}", a.id),
        "name": a.name,
        "state": "ACTIVE",
        "owner_iam_id": a.owner_iam_id,
        "paid": true,
        "owner_email": Value::Null,
        "is_enterprise_account": false,
        "created_at": "2025-01-06T09:00:00.000Z",
        "created_by": a.owner_iam_id,
        "updated_at": "2025-01-06T09:00:00.000Z",
        "updated_by": a.owner_iam_id,
    })
}

/// Whether the caller may read the enterprise's accounts: its token's account is in the
/// enterprise and it owns that account or holds a role on the `enterprise` service there.
fn may_read_enterprise(world: &World, iam_id: &str, account_id: &str, enterprise: &str) -> bool {
    world.accounts.iter().any(|a| {
        a.id == account_id
            && a.enterprise_id.as_deref() == Some(enterprise)
            && (a.owner_iam_id == iam_id
                || world.has_role(account_id, iam_id, "enterprise", &["Viewer", "Administrator"], None, None))
    })
}

/// `GET /v1/accounts?enterprise_id=...&limit=...&next_docid=...`.
pub(crate) async fn enterprise_accounts(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(caller) = util::bearer(&shared, &headers) else {
        return util::unauthorized(Api::Identity);
    };
    let Some(enterprise) = q.get("enterprise_id").filter(|e| !e.is_empty()) else {
        return util::identity_error(400, "bad_request", "BXNEM0400E", "enterprise_id is required.");
    };
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => DEFAULT_LIMIT,
        Some(Ok(l)) if (1..=DEFAULT_LIMIT).contains(&l) => l,
        Some(_) => return util::identity_error(400, "bad_request", "BXNEM0400E", "limit must be 1 to 100."),
    };
    let world = shared.world();
    if !may_read_enterprise(&world, &caller.iam_id, &caller.account_id, enterprise) {
        return util::identity_error(403, "forbidden", "BXNEM0403E", "You are not authorized to list the accounts.");
    }
    let all: Vec<&Account> =
        world.accounts.iter().filter(|a| a.enterprise_id.as_deref() == Some(enterprise.as_str())).collect();
    let start = q.get("next_docid").and_then(|d| all.iter().position(|a| &a.id == d)).unwrap_or(0);
    let page: Vec<Value> = all.iter().skip(start).take(limit).map(|a| enterprise_json(a, enterprise)).collect();
    // The query is encoded: a world's enterprise or account ID is text from a file.
    let next_url = all.get(start + limit).map(|next| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("enterprise_id", enterprise)
            .append_pair("limit", &limit.to_string())
            .append_pair("next_docid", &next.id)
            .finish();
        format!("/v1/accounts?{query}")
    });
    util::ok(&json!({"rows_count": page.len(), "next_url": next_url, "resources": page}))
}

/// `GET /coe/v2/accounts`: every account the caller is an active member of, as `ibmcloud
/// account list` shows them. OPEN: IBM's page size is undocumented; the emulator answers in
/// one page with `next_url: null`, and clients follow `next_url` when it is set.
pub(crate) async fn member_accounts(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let Some(caller) = util::bearer(&shared, &headers) else {
        return util::unauthorized(Api::Identity);
    };
    let world = shared.world();
    let resources: Vec<Value> = world
        .accounts
        .iter()
        .filter(|a| world.identities.iter().any(|i| i.iam_id == caller.iam_id && i.active && i.account_id == a.id))
        .map(|a| {
            json!({
                "metadata": {"guid": a.id, "url": format!("/coe/v2/accounts/{}", a.id),
                    "created_at": "2025-01-06T09:00:00.000Z", "updated_at": "2025-01-06T09:00:00.000Z"},
                "entity": {"name": a.name, "type": "PAYG", "state": "ACTIVE", "owner_iam_id": a.owner_iam_id,
                    "bluemix_subscriptions": [{"ims_account_id": a.ims}],
                    "enterprise_id": a.enterprise_id},
            })
        })
        .collect();
    util::ok(
        &json!({"total_results": resources.len(), "total_pages": 1, "prev_url": null, "next_url": null, "resources": resources}),
    )
}
