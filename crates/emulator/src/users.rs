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
pub(crate) struct ListParams {
    limit: Option<String>,
    #[serde(rename = "_start")]
    start: Option<String>,
}

/// `GET /v2/accounts/{account}/users`: paginated with `limit` and `_start` (from `next_url`).
pub(crate) async fn list(
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
pub(crate) async fn get(
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

/// `POST /v2/accounts/{account}/users`: invites users, with IAM policies and access groups in
/// the same request (IBM's `InviteUsers`: `users` of `{email, account_role}`, `iam_policy` of
/// `{type, roles, resources}`, `access_groups` of IDs). Only a user may invite (a service ID
/// may not, as IBM documents), with Editor or Administrator on User Management or as the account
/// owner; the policies need what creating a policy needs. Each invited user is created in
/// `PENDING` (IBM passes through `PROCESSING` to `PENDING` once the email is sent) and answered
/// 202 with `InvitedUserList`. An email that is already a member is refused with 409 (INFERRED:
/// IBM does not document this answer).
pub(crate) async fn invite(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(account): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let caller = match auth(&shared, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let bad = |m: &str| util::identity_error(400, "bad_request", "BSSUM0400E", m);
    let refused = |m: &str| util::identity_error(403, "forbidden", "BSSUM0403E", m);
    let Ok(v) = serde_json::from_slice::<Value>(&body) else { return bad("The body is not JSON.") };
    let mut world = shared.world();
    if account != caller.account_id {
        return forbidden();
    }
    if !caller.iam_id.starts_with("IBMid-") {
        return refused("Service IDs can't invite users to the account.");
    }
    let owner = world.accounts.iter().any(|a| a.id == account && a.owner_iam_id == caller.iam_id);
    if !owner && !world.has_role(&account, &caller.iam_id, "user-management", &["Editor", "Administrator"], None, None)
    {
        return refused("You are not authorized to invite users to this account.");
    }
    let emails: Vec<String> = match v["users"].as_array() {
        Some(list) if !list.is_empty() => {
            let emails: Option<Vec<String>> = list
                .iter()
                .map(|u| u["email"].as_str().map(str::trim).filter(|e| e.contains('@')).map(str::to_owned))
                .collect();
            match emails {
                Some(e) => e,
                None => return bad("Each user needs a valid email."),
            }
        }
        _ => return bad("users must list at least one user."),
    };
    let policies = v["iam_policy"].as_array().cloned().unwrap_or_default();
    for p in &policies {
        if p["type"].as_str().is_none() {
            return bad("Required property 'type' not present in InviteUserIamPolicy.");
        }
        if crate::access::role_names(&p["roles"]).is_empty() {
            return bad("Each IAM policy needs at least one role.");
        }
    }
    if !policies.is_empty() && !crate::access::may_create_policies(&world, &caller) {
        return refused("You are not authorized to assign these access policies.");
    }
    let groups: Vec<String> = v["access_groups"]
        .as_array()
        .map(|g| g.iter().filter_map(|g| g.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    if let Some(g) = groups.iter().find(|g| !world.access_groups.iter().any(|a| &a.id == *g && a.account_id == account))
    {
        return bad(&format!("The access group {g} was not found."));
    }
    if let Some(e) = emails.iter().find(|e| users_of(&world, &account).any(|u| u.email.eq_ignore_ascii_case(e))) {
        return util::identity_error(
            409,
            "conflict",
            "BSSUM0409E",
            &format!("The user {e} is already in the account."),
        );
    }
    let mut invited = Vec::new();
    for email in emails {
        let iam_id = format!("IBMid-{}", world.new_id("").to_ascii_uppercase());
        world.identities.push(Identity {
            iam_id: iam_id.clone(),
            kind: IdentityKind::User,
            name: String::new(),
            email: email.clone(),
            account_id: account.clone(),
            active: true,
            state: Some(String::from("PENDING")),
            member: true,
        });
        for p in &policies {
            let roles = crate::access::role_names(&p["roles"]);
            let policy = crate::access::new_policy(
                &mut world,
                account.clone(),
                Some(iam_id.clone()),
                None,
                &p["resources"][0]["attributes"],
                roles,
            );
            world.policies.push(policy);
        }
        for g in &groups {
            if let Some(group) = world.access_groups.iter_mut().find(|a| &a.id == g) {
                group.members.push(iam_id.clone());
            }
        }
        invited.push(json!({"email": email, "id": iam_id, "state": "PENDING"}));
    }
    util::with_status(202, &json!({"resources": invited}))
}

/// `GET /v4/accounts/{account}` (Account Management, IBM's `accountmanagementv4` `GetAccount`):
/// the account and its owner (`owner_iamid`). Which role IBM requires is not documented: here
/// any identity of the account may read it, and no one else.
pub(crate) async fn account(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(account): Path<String>,
) -> Response {
    let caller = match auth(&shared, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if account != caller.account_id {
        return util::identity_error(403, "forbidden", "BSSAM0403E", "You are not authorized to view this account.");
    }
    let world = shared.world();
    let Some(a) = world.accounts.iter().find(|a| a.id == account) else {
        return util::identity_error(404, "not_found", "BSSAM0404E", "The account was not found.");
    };
    let owner_email =
        world.identities.iter().find(|i| i.iam_id == a.owner_iam_id).map(|i| i.email.clone()).unwrap_or_default();
    util::ok(&json!({
        "name": a.name,
        "id": a.id,
        "owner": owner_email,
        "owner_userid": owner_email,
        "owner_iamid": a.owner_iam_id,
        "type": "PAYG",
        "status": "ACTIVE",
        "linked_softlayer_account": a.ims,
        "team_directory_enabled": false,
        "traits": {"eu_supported": false, "poc": false, "hippa": false},
    }))
}
