//! IAM: the token endpoint and IAM Identity API keys.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::server::Shared;
use crate::util::{self, Api, Caller};
use crate::world::{ApiKey, IdentityKind, IssuedToken, RefreshToken, World};

/// A token response.
#[derive(Debug)]
pub(crate) struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expiration: i64,
    pub lifetime: i64,
    pub ims_user_id: Option<u64>,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn random_b64(n: usize) -> String {
    let bytes: Vec<u8> = (0..n).map(|_| fastrand::u8(..)).collect();
    b64(&bytes)
}

/// Mints an access token (a JWT with IAM's claim names) and a refresh token for `iam_id`, in
/// its home account (its first membership) or in `bss_account` when one is asked for. A person
/// who belongs to several accounts has one identity record per account, all with the same IAM
/// ID: membership is that record, active.
fn mint(shared: &Shared, world: &mut World, iam_id: &str, bss_account: Option<&str>) -> Option<Tokens> {
    let ident = world
        .identities
        .iter()
        .find(|i| i.iam_id == iam_id && i.active && bss_account.is_none_or(|b| i.account_id == b))?
        .clone();
    let account = world.accounts.iter().find(|a| a.id == ident.account_id)?.clone();
    let now = shared.now_secs(world);
    let exp = now + world.token_lifetime_secs;
    let (sub, sub_type) = match ident.kind {
        IdentityKind::User => (ident.email.clone(), "User"),
        IdentityKind::ServiceId => (ident.iam_id.trim_start_matches("iam-").to_owned(), "ServiceId"),
        IdentityKind::Profile => (ident.iam_id.trim_start_matches("iam-").to_owned(), "Profile"),
    };
    let mut claims = json!({
        "iam_id": ident.iam_id,
        "id": ident.iam_id,
        "realmid": if ident.kind == IdentityKind::User { "IBMid" } else { "iam" },
        "session_id": format!("C-{}", uuid::Uuid::new_v4()),
        "jti": uuid::Uuid::new_v4().to_string(),
        "identifier": ident.iam_id.trim_start_matches("IBMid-"),
        "name": ident.name,
        "sub": sub,
        "sub_type": sub_type,
        "authn": {"sub": sub, "iam_id": ident.iam_id, "name": ident.name},
        "account": {"valid": true, "bss": account.id, "ims": account.ims},
        "iat": now,
        "exp": exp,
        "iss": "https://iam.cloud.ibm.com/identity",
        "grant_type": "urn:ibm:params:oauth:grant-type:apikey",
        "scope": "ibm openid",
        "client_id": "default",
        "acr": 1,
        "amr": ["pwd"],
    });
    if ident.kind == IdentityKind::User {
        claims["email"] = Value::from(ident.email.clone());
    }
    let header = json!({"kid": "emulator-20261128", "alg": "RS256"});
    let signature = random_b64(64);
    let access_token =
        format!("{}.{}.{signature}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let refresh_token = format!("emulator-rt-{}", random_b64(48));
    // Forget long-expired tokens so a persisted sandbox does not grow without bound.
    world.issued_tokens.retain(|t| t.exp > now - 86_400);
    world.issued_tokens.push(IssuedToken {
        signature,
        iam_id: ident.iam_id.clone(),
        account_id: account.id.clone(),
        exp,
    });
    world.refresh_tokens.push(RefreshToken {
        token: refresh_token.clone(),
        iam_id: ident.iam_id.clone(),
        account_id: account.id,
        spent: false,
    });
    Some(Tokens {
        access_token,
        refresh_token,
        expiration: exp,
        lifetime: world.token_lifetime_secs,
        ims_user_id: (ident.kind == IdentityKind::User).then_some(13_579_246),
    })
}

/// Whether `iam_id` may have a token for `bss_account`: it is an active member there.
fn reaches(world: &World, iam_id: &str, bss_account: &str) -> bool {
    world.identities.iter().any(|i| i.iam_id == iam_id && i.active && i.account_id == bss_account)
}

/// The token endpoint's refusal of an account the identity does not belong to.
/// OPEN: IBM's exact status and code for `bss_account` naming an account the identity cannot
/// reach are not documented; the emulator answers 403 with an IAM token error body, and the
/// client treats any 400/401/403 here as "this account cannot be read".
fn not_a_member() -> Response {
    util::token_error(403, "BXNIM0513E", "You are not authorized to access the requested account.")
}

/// The API-key grant, shared by the route and [`crate::Handle::login`].
pub(crate) fn login_with_api_key(shared: &Shared, api_key: &str) -> Result<Tokens, Response> {
    login_with_api_key_in(shared, api_key, None)
}

fn login_with_api_key_in(shared: &Shared, api_key: &str, bss_account: Option<&str>) -> Result<Tokens, Response> {
    let not_found = || util::token_error(400, "BXNIM0415E", "Provided API key could not be found.");
    let mut world = shared.world();
    let now = shared.now_secs(&world);
    let Some(idx) = world.api_keys.iter().position(|k| k.apikey == api_key) else {
        return Err(not_found());
    };
    if world.api_keys[idx].disabled {
        return Err(util::token_error(400, "BXNIM0415E", "Provided API key could not be found."));
    }
    let iam_id = world.api_keys[idx].iam_id.clone();
    if let Some(b) = bss_account
        && !reaches(&world, &iam_id, b)
    {
        return Err(not_a_member());
    }
    let tokens = mint(shared, &mut world, &iam_id, bss_account).ok_or_else(not_found)?;
    let key = &mut world.api_keys[idx];
    key.last_authn = Some(util::rfc3339(now));
    key.authn_count += 1;
    Ok(tokens)
}

/// Tokens for an identity that logs in without an API key of its own (a trusted profile, as
/// `ibmcloud login --profile` gives one).
pub(crate) fn login_as(shared: &Shared, iam_id: &str) -> Option<Tokens> {
    let mut world = shared.world();
    mint(shared, &mut world, iam_id, None)
}

fn token_body(t: &Tokens) -> Value {
    let mut v = json!({
        "access_token": t.access_token,
        "refresh_token": t.refresh_token,
        "token_type": "Bearer",
        "expires_in": t.lifetime,
        "expiration": t.expiration,
        "scope": "ibm openid",
    });
    if let Some(ims) = t.ims_user_id {
        v["ims_user_id"] = Value::from(ims);
    }
    v
}

/// `POST /identity/token`.
pub(crate) async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let is_form =
        util::header(&headers, "content-type").is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return util::token_error(
            400,
            "BXNIM0109E",
            "Invalid content type, expected application/x-www-form-urlencoded.",
        );
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    // `bss_account` scopes the token to another account the identity belongs to (IBM's CLI
    // sends it with the refresh grant to switch accounts, `ims_account` beside it).
    let bss_account = form.get("bss_account").map(String::as_str).filter(|b| !b.is_empty());
    match form.get("grant_type").map(String::as_str) {
        Some("urn:ibm:params:oauth:grant-type:apikey") => {
            shared.count("grant apikey");
            let Some(key) = form.get("apikey") else {
                return util::token_error(400, "BXNIM0106E", "Property missing or empty. Property: apikey");
            };
            match login_with_api_key_in(&shared, key, bss_account) {
                Ok(t) => util::ok(&token_body(&t)),
                Err(resp) => resp,
            }
        }
        Some("refresh_token") => {
            shared.count("grant refresh_token");
            // The refresh grant needs the client credentials that obtained the token; the
            // ibmcloud CLI's are bx:bx.
            let basic_ok = util::header(&headers, "authorization").is_some_and(|v| {
                let mut it = v.splitn(2, ' ');
                let scheme = it.next().unwrap_or_default();
                let cred = it.next().unwrap_or_default().trim();
                scheme.eq_ignore_ascii_case("basic")
                    && base64::engine::general_purpose::STANDARD.decode(cred).ok().as_deref()
                        == Some(b"bx:bx".as_slice())
            });
            if !basic_ok {
                return util::token_error(
                    400,
                    "BXNIM0109E",
                    "Client authentication failed: the refresh_token grant needs the client credentials.",
                );
            }
            let Some(rt) = form.get("refresh_token") else {
                return util::token_error(400, "BXNIM0106E", "Property missing or empty. Property: refresh_token");
            };
            let mut world = shared.world();
            let Some(idx) = world.refresh_tokens.iter().position(|r| &r.token == rt && !r.spent) else {
                return util::token_error(
                    400,
                    "BXNIM0407E",
                    "Invalid token: the refresh token is unknown or was already used.",
                );
            };
            let iam_id = world.refresh_tokens[idx].iam_id.clone();
            if let Some(b) = bss_account
                && !reaches(&world, &iam_id, b)
            {
                return not_a_member();
            }
            world.refresh_tokens[idx].spent = true;
            match mint(&shared, &mut world, &iam_id, bss_account) {
                Some(t) => util::ok(&token_body(&t)),
                None => util::token_error(
                    400,
                    "BXNIM0408E",
                    "The refresh token has expired; the session is no longer valid.",
                ),
            }
        }
        Some(other) => util::token_error(400, "BXNIM0106E", &format!("Unsupported grant_type: {other}")),
        None => util::token_error(400, "BXNIM0106E", "Property missing or empty. Property: grant_type"),
    }
}

fn context(op: &str) -> Value {
    json!({
        "transaction_id": uuid::Uuid::new_v4().simple().to_string(),
        "operation": op,
        "instance_id": "iam-identity-emulator",
        "host": "iam-identity-emulator",
        "cluster_name": "emulator",
    })
}

/// The JSON of a key. The value is never shown, except in the create response.
fn key_json(k: &ApiKey, activity: bool, with_value: bool) -> Value {
    let mut v = json!({
        "id": k.id,
        "entity_tag": format!("{}-{}", k.entity_tag, k.id),
        "crn": format!("crn:v1:bluemix:public:iam-identity::a/{}::apikey:{}", k.account_id, k.id),
        "locked": k.locked,
        "disabled": k.disabled,
        "created_at": k.created_at,
        "created_by": k.created_by,
        "modified_at": if k.modified_at.is_empty() { &k.created_at } else { &k.modified_at },
        "name": k.name,
        "support_sessions": false,
        "action_when_leaked": k.action_when_leaked.clone().unwrap_or_else(|| Value::from("none")),
        "iam_id": k.iam_id,
        "account_id": k.account_id,
        "apikey": if with_value { k.apikey.as_str() } else { "" },
    });
    if let Some(d) = &k.description {
        v["description"] = Value::from(d.clone());
    }
    if let Some(e) = &k.expires_at {
        v["expires_at"] = e.clone();
    }
    if activity {
        v["activity"] = json!({"last_authn": k.last_authn, "authn_count": k.authn_count});
    }
    v
}

fn auth(shared: &Shared, headers: &HeaderMap) -> Result<Caller, Response> {
    util::bearer(shared, headers).ok_or_else(|| util::unauthorized(Api::Identity))
}

/// Whether `caller` may see and manage every key of the account.
fn is_key_admin(world: &World, caller: &Caller) -> bool {
    world.accounts.iter().any(|a| a.id == caller.account_id && a.owner_iam_id == caller.iam_id)
        || world.has_role(&caller.account_id, &caller.iam_id, "iam-identity", &["Administrator"], None, None)
}

fn forbidden() -> Response {
    util::identity_error(403, "forbidden", "BXNIM0513E", "You are not authorized to perform this action.")
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListParams {
    account_id: Option<String>,
    iam_id: Option<String>,
    scope: Option<String>,
    #[serde(rename = "type")]
    key_type: Option<String>,
    pagesize: Option<String>,
    pagetoken: Option<String>,
    sort: Option<String>,
    order: Option<String>,
    include_history: Option<String>,
}

/// `GET /v1/apikeys`.
pub(crate) async fn list_keys(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(p): Query<ListParams>,
) -> Response {
    let caller = match auth(&shared, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let world = shared.world();
    let account = p.account_id.clone().unwrap_or_else(|| caller.account_id.clone());
    if account != caller.account_id {
        return forbidden();
    }
    let pagesize: usize = match p.pagesize.as_deref().map(str::parse::<usize>) {
        None => 20,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => {
            return util::identity_error(400, "invalid_parameter", "BXNIM0502E", "pagesize must be between 1 and 100.");
        }
    };
    let offset: usize = match p.pagetoken.as_deref().map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return util::identity_error(400, "invalid_parameter", "BXNIM0502E", "Invalid pagetoken."),
    };
    let scope_account = match p.scope.as_deref() {
        None | Some("entity") => false,
        Some("account") => true,
        Some(_) => {
            return util::identity_error(
                400,
                "invalid_parameter",
                "BXNIM0502E",
                "scope must be 'entity' or 'account'.",
            );
        }
    };
    let admin = is_key_admin(&world, &caller);
    let subject = p.iam_id.clone().unwrap_or_else(|| caller.iam_id.clone());
    if scope_account && !admin {
        return forbidden();
    }
    if !scope_account && subject != caller.iam_id && !admin {
        return forbidden();
    }
    let mut keys: Vec<&ApiKey> = world
        .api_keys
        .iter()
        .filter(|k| k.account_id == account)
        .filter(|k| scope_account && p.iam_id.is_none() || k.iam_id == subject)
        .filter(|k| match p.key_type.as_deref() {
            Some("user") => k.iam_id.starts_with("IBMid-"),
            Some("serviceid") => k.iam_id.starts_with("iam-ServiceId-"),
            _ => true,
        })
        .collect();
    match p.sort.as_deref() {
        Some("name") => keys.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id))),
        Some("description") => keys.sort_by(|a, b| a.description.cmp(&b.description).then(a.id.cmp(&b.id))),
        Some("created_by") => keys.sort_by(|a, b| a.created_by.cmp(&b.created_by).then(a.id.cmp(&b.id))),
        _ => keys.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id))),
    }
    if p.order.as_deref() == Some("desc") {
        keys.reverse();
    }
    let history = p.include_history.as_deref() == Some("true");
    let page: Vec<Value> = keys
        .iter()
        .skip(offset)
        .take(pagesize)
        .map(|k| {
            let mut v = key_json(k, false, false);
            if history {
                v["history"] = json!([{"timestamp": k.created_at, "iam_id": k.created_by, "iam_id_account": k.account_id, "action": "create", "params": [], "message": "created"}]);
            }
            v
        })
        .collect();
    let host = util::header(&headers, "host").unwrap_or("127.0.0.1").to_owned();
    // `next` is a full URL on the host the client called; a Host header that is not one falls
    // back to loopback.
    let scheme = if shared.tls() { "https" } else { "http" };
    let Ok(mut base) = url::Url::parse(&format!("{scheme}://{host}/v1/apikeys"))
        .or_else(|_| url::Url::parse("http://127.0.0.1/v1/apikeys"))
    else {
        return util::error_for("/v1/apikeys", 500);
    };
    let mut body = json!({
        "context": context("list_apikeys"),
        "offset": offset,
        "limit": pagesize,
        "apikeys": page,
    });
    let with_token = |u: &mut url::Url, token: Option<usize>| {
        let mut q = u.query_pairs_mut();
        q.clear();
        q.append_pair("account_id", &account);
        if let Some(i) = &p.iam_id {
            q.append_pair("iam_id", i);
        }
        if let Some(s) = &p.scope {
            q.append_pair("scope", s);
        }
        if let Some(t) = &p.key_type {
            q.append_pair("type", t);
        }
        q.append_pair("pagesize", &pagesize.to_string());
        if let Some(s) = &p.sort {
            q.append_pair("sort", s);
        }
        if let Some(o) = &p.order {
            q.append_pair("order", o);
        }
        if let Some(t) = token {
            q.append_pair("pagetoken", &t.to_string());
        }
    };
    with_token(&mut base, None);
    body["first"] = Value::from(base.to_string());
    if offset > 0 {
        let mut prev = base.clone();
        with_token(&mut prev, Some(offset.saturating_sub(pagesize)));
        body["previous"] = Value::from(prev.to_string());
    }
    if offset + pagesize < keys.len() {
        let mut next = base.clone();
        with_token(&mut next, Some(offset + pagesize));
        body["next"] = Value::from(next.to_string());
    }
    util::ok(&body)
}

#[derive(Debug, Deserialize)]
pub(crate) struct GetParams {
    include_activity: Option<String>,
}

fn find_key<'a>(world: &'a World, caller: &Caller, id: &str) -> Result<&'a ApiKey, Response> {
    let key = world.api_keys.iter().find(|k| k.id == id && k.account_id == caller.account_id).ok_or_else(|| {
        util::identity_error(404, "not_found", "BXNIM0511E", &format!("API key with ID {id} not found."))
    })?;
    if key.iam_id != caller.iam_id && !is_key_admin(world, caller) {
        return Err(forbidden());
    }
    Ok(key)
}

/// `GET /v1/apikeys/{id}`.
pub(crate) async fn get_key(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(p): Query<GetParams>,
) -> Response {
    let caller = match auth(&shared, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let world = shared.world();
    match find_key(&world, &caller, &id) {
        Ok(k) if not_replicated(&shared, &world, k) => not_replicated_error(),
        Ok(k) => {
            let activity = p.include_activity.as_deref() == Some("true") && !world.no_activity_reporting;
            let mut v = key_json(k, activity, false);
            v["context"] = context("get_apikey");
            util::ok(&v)
        }
        Err(r) => r,
    }
}

/// `GET /v1/apikeys/details`: the key whose value is in the `IAM-ApiKey` header (any caller
/// with a valid token may ask about a key they hold; the value is never echoed).
pub(crate) async fn key_details(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(r) = auth(&shared, &headers) {
        return r;
    }
    let Some(value) = util::header(&headers, "iam-apikey") else {
        return util::identity_error(400, "bad_request", "BXNIM0502E", "The IAM-ApiKey header is missing.");
    };
    let world = shared.world();
    match world.api_keys.iter().find(|k| k.apikey == value) {
        Some(k) if not_replicated(&shared, &world, k) => not_replicated_error(),
        Some(k) => {
            let mut v = key_json(k, false, false);
            v["context"] = context("get_apikey_details");
            util::ok(&v)
        }
        None => util::identity_error(404, "not_found", "BXNIM0511E", "API key not found."),
    }
}

/// Whether `k` is younger than the `new_key_not_found_secs` knob: IAM has not replicated it
/// yet, and lookups of it answer 404 `E06f9`.
pub(crate) fn not_replicated(shared: &Shared, world: &World, k: &ApiKey) -> bool {
    let window = i64::try_from(shared.knobs().new_key_not_found_secs).unwrap_or(i64::MAX);
    if window == 0 {
        return false;
    }
    let Some(created) = util::parse_rfc3339(&k.created_at) else { return false };
    shared.now_secs(world) - created < window
}

/// IAM Identity's answer for a key it has not replicated yet. OPEN: IBM's sources quote the code
/// and message ("E06f9", "The specified API key could not be found.") but not the body; the
/// v1 Identity error shape carries it here.
fn not_replicated_error() -> Response {
    util::identity_error(404, "not_found", "E06f9", "The specified API key could not be found.")
}

#[derive(Debug, Deserialize)]
pub(crate) struct CreateBody {
    name: String,
    iam_id: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    expires_at: Option<Value>,
    #[serde(default)]
    action_when_leaked: Option<Value>,
}

/// `POST /v1/apikeys`.
pub(crate) async fn create_key(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let caller = match auth(&shared, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(b) = serde_json::from_slice::<CreateBody>(&body) else {
        return util::identity_error(400, "invalid_body", "BXNIM0502E", "The request body must hold name and iam_id.");
    };
    let mut world = shared.world();
    if b.iam_id != caller.iam_id && !is_key_admin(&world, &caller) {
        return forbidden();
    }
    let now = shared.now_secs(&world);
    let id = world.new_id("ApiKey-");
    let key = ApiKey {
        // An administrator may create a key for someone else.
        created_by: caller.iam_id.clone(),
        expires_at: b.expires_at.filter(|e| !e.is_null()),
        action_when_leaked: b.action_when_leaked.filter(|a| !a.is_null()),
        ..ApiKey::new(
            id,
            b.name,
            b.description,
            b.iam_id,
            b.account_id.unwrap_or(caller.account_id),
            format!("emulator-{}", random_b64(30)),
            util::rfc3339(now),
        )
    };
    let v = key_json(&key, false, true);
    world.api_keys.push(key);
    util::with_status(201, &v)
}

fn modify(
    shared: &Shared,
    headers: &HeaderMap,
    id: &str,
    f: impl FnOnce(&mut World, usize) -> Result<(), Response>,
) -> Response {
    let caller = match auth(shared, headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut world = shared.world();
    if let Err(r) = find_key(&world, &caller, id) {
        return r;
    }
    let Some(idx) = world.api_keys.iter().position(|k| k.id == id) else {
        return util::identity_error(404, "not_found", "BXNIM0511E", "API key not found.");
    };
    match f(&mut world, idx) {
        Ok(()) => util::no_content(),
        Err(r) => r,
    }
}

/// A change to a locked key. INFERRED: IBM documents neither the status nor the code; the 409
/// and the code are the emulator's own, distinct from a refusal's `BXNIM0513E` (403), so that a
/// client cannot mistake one for the other.
fn locked_error(id: &str) -> Response {
    util::identity_error(
        409,
        "entity_locked",
        "EMULATOR-LOCKED",
        &format!("API key {id} is locked and cannot be changed or deleted."),
    )
}

fn touch(world: &mut World, idx: usize, now: String) {
    let k = &mut world.api_keys[idx];
    k.entity_tag += 1;
    k.modified_at = now;
}

/// `DELETE /v1/apikeys/{id}`.
pub(crate) async fn delete_key(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    modify(&shared, &headers, &id, |w, i| {
        if w.api_keys[i].locked {
            return Err(locked_error(&id));
        }
        let removed = w.api_keys.remove(i);
        w.cluster_keys.retain(|ck| ck.api_key_id != removed.id);
        Ok(())
    })
}

fn set_flag(shared: &Shared, headers: &HeaderMap, id: &str, lock: Option<bool>, disable: Option<bool>) -> Response {
    let now = util::rfc3339(shared.now_secs(&shared.world()));
    modify(shared, headers, id, |w, i| {
        if disable.is_some() && w.api_keys[i].locked {
            return Err(locked_error(id));
        }
        if let Some(l) = lock {
            w.api_keys[i].locked = l;
        }
        if let Some(d) = disable {
            w.api_keys[i].disabled = d;
        }
        touch(w, i, now);
        Ok(())
    })
}

/// `POST /v1/apikeys/{id}/lock`.
pub(crate) async fn lock_key(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    set_flag(&shared, &headers, &id, Some(true), None)
}

/// `DELETE /v1/apikeys/{id}/lock`.
pub(crate) async fn unlock_key(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    set_flag(&shared, &headers, &id, Some(false), None)
}

/// `POST /v1/apikeys/{id}/disable`.
pub(crate) async fn disable_key(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    set_flag(&shared, &headers, &id, None, Some(true))
}

/// `DELETE /v1/apikeys/{id}/disable`.
pub(crate) async fn enable_key(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    set_flag(&shared, &headers, &id, None, Some(false))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ServiceIdParams {
    account_id: Option<String>,
    name: Option<String>,
}

/// A service ID as IBM's `ServiceId` model has it (every member it requires). The world does not
/// say when a service ID was made: its first API key's creation stands for it (an emulator
/// choice), else the Unix epoch.
fn service_id_json(world: &World, i: &crate::world::Identity) -> Value {
    let id = i.iam_id.trim_start_matches("iam-");
    let created = world
        .api_keys
        .iter()
        .filter(|k| k.iam_id == i.iam_id)
        .map(|k| k.created_at.as_str())
        .min()
        .unwrap_or("1970-01-01T00:00:00Z");
    json!({
        "id": id,
        "iam_id": i.iam_id,
        "entity_tag": format!("1-{id}"),
        "crn": format!("crn:v1:bluemix:public:iam-identity::a/{}::serviceid:{id}", i.account_id),
        // A locked service ID is an inactive identity of the world.
        "locked": !i.active,
        "account_id": i.account_id,
        "name": i.name,
        "description": "",
        "created_at": created,
        "modified_at": created,
    })
}

/// `GET /v1/serviceids/`: the account's service IDs, narrowed by `name`.
pub(crate) async fn list_service_ids(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(p): Query<ServiceIdParams>,
) -> Response {
    let caller = match auth(&shared, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if p.account_id.as_deref() != Some(caller.account_id.as_str()) {
        return forbidden();
    }
    let world = shared.world();
    let list: Vec<Value> = world
        .identities
        .iter()
        .filter(|i| i.kind == IdentityKind::ServiceId && i.account_id == caller.account_id)
        .filter(|i| p.name.as_deref().is_none_or(|n| i.name == n))
        .map(|i| service_id_json(&world, i))
        .collect();
    util::ok(&json!({"context": context("list_serviceids"), "offset": 0, "limit": 100, "serviceids": list}))
}

/// `GET /v1/serviceids/{id}`.
pub(crate) async fn get_service_id(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let caller = match auth(&shared, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let world = shared.world();
    let iam_id = format!("iam-{}", id.trim_start_matches("iam-"));
    match world
        .identities
        .iter()
        .find(|i| i.kind == IdentityKind::ServiceId && i.iam_id == iam_id && i.account_id == caller.account_id)
    {
        Some(i) => util::ok(&service_id_json(&world, i)),
        None => util::identity_error(404, "not_found", "BXNIM0102E", &format!("Service ID {id} not found.")),
    }
}
