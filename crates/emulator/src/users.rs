//! User Management (`/v2/accounts/{account}/users`): who is in the account, in which state.
//!
//! Visibility as IBM documents it: a caller with a User Management role (Viewer, Editor,
//! Administrator), or the account owner, sees every user; anyone else sees only themself, so a
//! list that lacks a user does not prove the user is gone. A user removed from the account is
//! answered 404.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::server::Shared;
use crate::util::{self, Api, Caller};
use crate::world::{Identity, IdentityKind, World};

fn auth(shared: &Shared, headers: &HeaderMap) -> Result<Caller, Response> {
    util::bearer(shared, headers).ok_or_else(|| util::unauthorized(Api::Identity))
}

fn sees_everyone(world: &World, caller: &Caller) -> bool {
    world.accounts.iter().any(|a| a.id == caller.account_id && a.owner_iam_id == caller.iam_id)
        || world.has_role(
            &caller.account_id,
            &caller.iam_id,
            "user-management",
            &["Viewer", "Editor", "Administrator"],
            None,
            None,
        )
}

fn profile(u: &Identity) -> Value {
    let mut names = u.name.splitn(2, ' ');
    let first = names.next().unwrap_or_default();
    let last = names.next().unwrap_or_default();
    json!({
        "id": format!("user-{}", u.iam_id.trim_start_matches("IBMid-").to_ascii_lowercase()),
        "iam_id": u.iam_id,
        "realm": "IBMid",
        "user_id": u.email,
        "firstname": first,
        "lastname": last,
        "state": u.user_state(),
        "email": u.email,
        "phonenumber": "",
        "altphonenumber": "",
        "photo": "",
        "account_id": u.account_id,
        "added_on": "2024-01-01T00:00:00Z",
    })
}

fn users_of<'a>(world: &'a World, account: &'a str) -> impl Iterator<Item = &'a Identity> {
    world.identities.iter().filter(move |i| i.account_id == account && i.kind == IdentityKind::User && i.member)
}

fn not_found() -> Response {
    util::identity_error(404, "not_found", "BSSUM0404E", "The user was not found in the account.")
}

fn forbidden() -> Response {
    util::identity_error(403, "forbidden", "BSSUM0403E", "You are not authorized to view users of this account.")
}

/// Query of the list.
#[derive(Debug, Deserialize)]
pub struct ListParams {
    limit: Option<String>,
    #[serde(rename = "_start")]
    start: Option<String>,
}

/// `GET /v2/accounts/{account}/users`: paginated with `limit` and `_start` (from `next_url`).
pub async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(account): Path<String>,
    Query(p): Query<ListParams>,
) -> Response {
    let caller = match auth(&shared, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if account != caller.account_id {
        return forbidden();
    }
    let world = shared.world();
    let limit = match p.limit.as_deref().map(str::parse::<usize>) {
        None => 100,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return util::identity_error(400, "bad_request", "BSSUM0400E", "limit must be between 1 and 100."),
    };
    let start = match p.start.as_deref().map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return util::identity_error(400, "bad_request", "BSSUM0400E", "Invalid _start."),
    };
    let everyone = sees_everyone(&world, &caller);
    let visible: Vec<&Identity> =
        users_of(&world, &account).filter(|u| everyone || u.iam_id == caller.iam_id).collect();
    let page: Vec<Value> = visible.iter().skip(start).take(limit).map(|u| profile(u)).collect();
    let base = format!("/v2/accounts/{account}/users");
    let mut body = json!({
        "total_results": visible.len(),
        "limit": limit,
        "first_url": format!("{base}?limit={limit}"),
        "resources": page,
    });
    if start + limit < visible.len() {
        body["next_url"] = Value::from(format!("{base}?limit={limit}&_start={}", start + limit));
    }
    util::ok(&body)
}

/// `GET /v2/accounts/{account}/users/{iam_id}`.
pub async fn get(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((account, iam_id)): Path<(String, String)>,
) -> Response {
    let caller = match auth(&shared, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if account != caller.account_id {
        return forbidden();
    }
    let world = shared.world();
    if iam_id != caller.iam_id && !sees_everyone(&world, &caller) {
        return forbidden();
    }
    match users_of(&world, &account).find(|u| u.iam_id == iam_id) {
        Some(u) => util::ok(&profile(u)),
        None => not_found(),
    }
}
