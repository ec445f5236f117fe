//! The emulator's own tests: every route's success and error shapes, pagination, refresh-token
//! rotation, authorization of `POST /v1/keys`, each knob and the admin API. The requests are
//! written here from IBM's API descriptions with a plain HTTP client, not with the tool's core.

use std::time::{Duration, Instant};

use cluster_api_key_emulator::world::{self, keys};
use cluster_api_key_emulator::{Emulator, Fault, FaultKind, ReplicationMode, World};
use reqwest::Method as M;
use serde_json::{Value, json};

struct T {
    emu: Emulator,
    http: reqwest::Client,
}

async fn start() -> T {
    // The provider the binary uses (reqwest is built without one of its own).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emu = Emulator::start(World::default_world()).await.unwrap();
    T { emu, http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap() }
}

impl T {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.base_url)
    }

    async fn token_raw(&self, form: &[(&str, &str)], basic: bool) -> (u16, Value) {
        let mut req = self.http.post(self.url("/identity/token")).form(form);
        if basic {
            req = req.basic_auth("bx", Some("bx"));
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn login(&self, key: &str) -> (String, String) {
        let (s, v) =
            self.token_raw(&[("grant_type", "urn:ibm:params:oauth:grant-type:apikey"), ("apikey", key)], false).await;
        assert_eq!(s, 200, "{v}");
        (v["access_token"].as_str().unwrap().to_owned(), v["refresh_token"].as_str().unwrap().to_owned())
    }

    async fn get(&self, token: &str, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut req = self.http.get(self.url(path)).bearer_auth(token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn send(&self, method: reqwest::Method, token: &str, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut req = self.http.request(method, self.url(path)).bearer_auth(token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
    }
}

fn claims(jwt: &str) -> Value {
    use base64::Engine as _;
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn token_endpoint_api_key_grant_and_errors() {
    let t = start().await;
    let (s, v) =
        t.token_raw(&[("grant_type", "urn:ibm:params:oauth:grant-type:apikey"), ("apikey", keys::OWNER)], false).await;
    assert_eq!(s, 200);
    for k in ["access_token", "refresh_token", "token_type", "expires_in", "expiration", "scope"] {
        assert!(v.get(k).is_some(), "{k} missing: {v}");
    }
    assert_eq!(v["token_type"], "Bearer");
    let c = claims(v["access_token"].as_str().unwrap());
    assert_eq!(c["iam_id"], world::OWNER);
    assert_eq!(c["id"], world::OWNER);
    assert_eq!(c["email"], "olivia.owner@example.com");
    assert_eq!(c["sub_type"], "User");
    assert_eq!(c["account"]["bss"], world::ACCOUNT_ID);
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 3600);

    let (s, v) =
        t.token_raw(&[("grant_type", "urn:ibm:params:oauth:grant-type:apikey"), ("apikey", "nope")], false).await;
    assert_eq!(s, 400);
    assert_eq!(v["errorCode"], "BXNIM0415E");
    assert_eq!(v["errorMessage"], "Provided API key could not be found.");
    assert!(v["context"]["requestId"].is_string());
    // The departed user's key no longer logs in.
    let (s, _) = t
        .token_raw(&[("grant_type", "urn:ibm:params:oauth:grant-type:apikey"), ("apikey", keys::DEPARTED)], false)
        .await;
    assert_eq!(s, 400);
    let (s, v) = t.token_raw(&[("grant_type", "password")], false).await;
    assert_eq!((s, v["errorCode"].as_str()), (400, Some("BXNIM0106E")));
    // A service ID's token says so.
    let (at, _) = t.login(keys::SERVICE_ID).await;
    assert_eq!(claims(&at)["sub_type"], "ServiceId");
    // The key's last use is recorded.
    let w = t.emu.handle.dump();
    let k = w.api_keys.iter().find(|k| k.apikey == keys::OWNER).unwrap();
    assert_eq!(k.authn_count, 1);
    assert!(k.last_authn.is_some());
}

#[tokio::test]
async fn refresh_tokens_rotate_and_need_the_cli_client() {
    let t = start().await;
    let (_, rt) = t.login(keys::VIEWER).await;
    let (s, v) = t.token_raw(&[("grant_type", "refresh_token"), ("refresh_token", &rt)], false).await;
    assert_eq!(s, 400, "no bx:bx: {v}");
    let (s, v) = t
        .token_raw(&[("grant_type", "refresh_token"), ("refresh_token", &rt), ("response_type", "cloud_iam")], true)
        .await;
    assert_eq!(s, 200, "{v}");
    let rt2 = v["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rt2, rt);
    // The spent one is refused; the new one works once.
    let (s, v) = t.token_raw(&[("grant_type", "refresh_token"), ("refresh_token", &rt)], true).await;
    assert_eq!((s, v["errorCode"].as_str()), (400, Some("BXNIM0407E")));
    let (s, _) = t.token_raw(&[("grant_type", "refresh_token"), ("refresh_token", &rt2)], true).await;
    assert_eq!(s, 200);
    let (s, v) = t.token_raw(&[("grant_type", "refresh_token"), ("refresh_token", "unknown")], true).await;
    assert_eq!((s, v["errorCode"].as_str()), (400, Some("BXNIM0407E")));
}

#[tokio::test]
async fn every_endpoint_checks_the_bearer_token_in_its_own_shape() {
    let t = start().await;
    let (s, v) = t.get("garbage", "/global/v1/logging/shop-vpc/clusterkeyowner", &[]).await;
    assert_eq!((s, v["code"].as_str()), (401, Some("A0003")));
    assert!(v["incidentID"].is_string() && v["recoveryCLI"].is_string());
    let (s, v) = t.get("garbage", "/v1/apikeys", &[]).await;
    assert_eq!(s, 401);
    assert!(v["errors"][0]["code"].is_string() && v["status_code"] == 401 && v["trace"].is_string());
    let (s, v) = t.get("garbage", "/v2/resource_groups", &[]).await;
    assert_eq!(s, 401);
    assert!(v["message"].is_string());
    let (s, _) = t.get("garbage", "/v1/policies?account_id=x", &[]).await;
    assert_eq!(s, 401);
    // Expired tokens too: move the clock past the lifetime.
    let (at, _) = t.login(keys::OWNER).await;
    assert_eq!(t.get(&at, "/v2/resource_groups", &[]).await.0, 200);
    t.emu.handle.advance_clock(3601);
    assert_eq!(t.get(&at, "/v2/resource_groups", &[]).await.0, 401);
    // The scheme is case-insensitive.
    let (at, _) = t.login(keys::OWNER).await;
    let r =
        t.http.get(t.url("/v2/resource_groups")).header("Authorization", format!("bearer {at}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn api_keys_list_paginates_with_full_next_urls() {
    let t = start().await;
    let (at, _) = t.login(keys::OWNER).await;
    let mut url = format!("/v1/apikeys?account_id={}&scope=account&pagesize=4&sort=name", world::ACCOUNT_ID);
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let (s, v) = t.get(&at, &url, &[]).await;
        assert_eq!(s, 200, "{v}");
        pages += 1;
        assert!(v["context"]["transaction_id"].is_string());
        for k in v["apikeys"].as_array().unwrap() {
            assert_eq!(k["apikey"], "", "values are never listed");
            for f in [
                "id",
                "name",
                "iam_id",
                "account_id",
                "created_at",
                "created_by",
                "locked",
                "disabled",
                "crn",
                "entity_tag",
            ] {
                assert!(k.get(f).is_some(), "{f}");
            }
            seen.push(k["name"].as_str().unwrap().to_owned());
        }
        match v.get("next").and_then(Value::as_str) {
            Some(next) => {
                assert!(next.starts_with("http://127.0.0.1:"), "a full URL: {next}");
                url = next.trim_start_matches(&t.emu.base_url).to_owned();
            }
            None => break,
        }
    }
    let total = t.emu.handle.dump().api_keys.len();
    assert_eq!(seen.len(), total);
    assert_eq!(pages, total.div_ceil(4));
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "sort=name");
    // Bad page sizes and other people's keys.
    assert_eq!(t.get(&at, "/v1/apikeys?pagesize=500", &[]).await.0, 400);
    let (vt, _) = t.login(keys::VIEWER).await;
    assert_eq!(t.get(&vt, "/v1/apikeys?scope=account", &[]).await.0, 403);
    assert_eq!(t.get(&vt, &format!("/v1/apikeys?iam_id={}", world::OWNER), &[]).await.0, 403);
    let (s, v) = t.get(&vt, "/v1/apikeys", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(v["apikeys"].as_array().unwrap().len(), 1, "only the caller's own key");
    // type filter
    let (_, v) = t.get(&at, "/v1/apikeys?scope=account&type=serviceid", &[]).await;
    assert!(
        v["apikeys"].as_array().unwrap().iter().all(|k| k["iam_id"].as_str().unwrap().starts_with("iam-ServiceId-"))
    );
}

#[tokio::test]
async fn api_key_get_create_lock_disable_delete() {
    let t = start().await;
    let (at, _) = t.login(keys::OWNER).await;
    let (s, v) = t.get(&at, "/v1/apikeys/ApiKey-0000-owner-login?include_activity=true", &[]).await;
    assert_eq!(s, 200);
    assert!(v["activity"]["authn_count"].as_u64().unwrap() >= 1);
    let (s, v) = t.get(&at, "/v1/apikeys/ApiKey-nope", &[]).await;
    assert_eq!(s, 404);
    assert!(v["errors"][0]["message_code"].is_string());
    // Create returns the value once.
    let r = t
        .http
        .post(t.url("/v1/apikeys"))
        .bearer_auth(&at)
        .json(&json!({"name": "tmp", "iam_id": world::OWNER, "account_id": world::ACCOUNT_ID}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(!created["apikey"].as_str().unwrap().is_empty());
    // Lock → cannot delete or disable; unlock → disable → enable → delete.
    let p = |s: &str| format!("/v1/apikeys/{id}{s}");
    assert_eq!(t.send(M::POST, &at, &p("/lock"), &[]).await.0, 204);
    assert_eq!(t.send(M::DELETE, &at, &p(""), &[]).await.0, 409);
    assert_eq!(t.send(M::POST, &at, &p("/disable"), &[]).await.0, 409);
    assert_eq!(t.send(M::DELETE, &at, &p("/lock"), &[]).await.0, 204);
    assert_eq!(t.send(M::POST, &at, &p("/disable"), &[]).await.0, 204);
    assert!(t.emu.handle.dump().api_keys.iter().find(|k| k.id == id).unwrap().disabled);
    assert_eq!(t.send(M::DELETE, &at, &p("/disable"), &[]).await.0, 204);
    assert_eq!(t.send(M::DELETE, &at, &p(""), &[]).await.0, 204);
    assert_eq!(t.get(&at, &p(""), &[]).await.0, 404);
    // A disabled key cannot log in.
    let (vt, _) = t.login(keys::VIEWER).await;
    assert_eq!(t.send(M::POST, &vt, "/v1/apikeys/ApiKey-0000-viewer-login/disable", &[]).await.0, 204);
    let (s, _) =
        t.token_raw(&[("grant_type", "urn:ibm:params:oauth:grant-type:apikey"), ("apikey", keys::VIEWER)], false).await;
    assert_eq!(s, 400);
    // Someone else's key, without the Administrator role on IAM Identity: forbidden.
    assert_eq!(t.send(M::DELETE, &vt, "/v1/apikeys/ApiKey-0000-owner-login", &[]).await.0, 403);
}

#[tokio::test]
async fn resource_groups() {
    let t = start().await;
    let (at, _) = t.login(keys::VIEWER).await;
    let (s, v) = t.get(&at, &format!("/v2/resource_groups?account_id={}", world::ACCOUNT_ID), &[]).await;
    assert_eq!(s, 200);
    assert_eq!(v["resources"].as_array().unwrap().len(), 3);
    let (_, v) = t.get(&at, "/v2/resource_groups?default=true", &[]).await;
    assert_eq!(v["resources"][0]["name"], "Default");
    let (_, v) = t.get(&at, "/v2/resource_groups?name=production", &[]).await;
    assert_eq!(v["resources"][0]["id"], world::RG_PRODUCTION);
    let (_, v) = t.get(&at, "/v2/resource_groups?name=absent", &[]).await;
    assert_eq!(v, json!({"resources": []}));
    assert_eq!(t.get(&at, "/v2/resource_groups?account_id=other", &[]).await.0, 403);
    let (s, v) = t.get(&at, &format!("/v2/resource_groups/{}", world::RG_STAGING), &[]).await;
    assert_eq!((s, v["name"].as_str()), (200, Some("staging")));
    assert_eq!(t.get(&at, "/v2/resource_groups/nope", &[]).await.0, 404);
}

#[tokio::test]
async fn policies_and_access_groups() {
    let t = start().await;
    let (at, _) = t.login(keys::OWNER).await;
    let (s, v) =
        t.get(&at, &format!("/v1/policies?account_id={}&iam_id={}", world::ACCOUNT_ID, world::FUNCTIONAL), &[]).await;
    assert_eq!(s, 200);
    let roles: Vec<&str> = v["policies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["roles"].as_array().unwrap())
        .map(|r| r["role_id"].as_str().unwrap())
        .collect();
    assert!(roles.contains(&"crn:v1:bluemix:public:iam::::role:Administrator"));
    assert!(roles.contains(&"crn:v1:bluemix:public:iam-identity::::serviceRole:UserApiKeyCreator"));
    let (_, v) = t.get(&at, &format!("/v2/groups?account_id={}&iam_id={}", world::ACCOUNT_ID, world::OWNER), &[]).await;
    assert_eq!(v["groups"][0]["name"], "account-admins");
    let (_, v) = t
        .get(&at, &format!("/v1/policies?account_id={}&access_group_id=AccessGroupId-admins", world::ACCOUNT_ID), &[])
        .await;
    assert_eq!(v["policies"].as_array().unwrap().len(), 1);
    assert_eq!(t.get(&at, "/v1/policies", &[]).await.0, 400);
}

#[tokio::test]
async fn reset_is_authorized_like_ibm_and_mints_a_key() {
    let t = start().await;
    let count = |t: &T| t.emu.handle.dump().api_keys.iter().filter(|k| k.name == "containers-kubernetes-key").count();
    let n0 = count(&t);
    // Viewer: 403 in the containers shape; service ID without IAM Identity Operator: A0656.
    let (vt, _) = t.login(keys::VIEWER).await;
    let (s, v) = t.send(M::POST, &vt, "/global/v1/keys", &[("X-Region", "us-south")]).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("A0009")));
    assert!(v["incidentID"].is_string());
    let (st, _) = t.login(keys::SERVICE_ID).await;
    let (s, v) = t.send(M::POST, &st, "/global/v1/keys", &[("X-Region", "us-south")]).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("A0656")));
    assert_eq!(count(&t), n0);
    // Region required on the global host; unknown regions and groups refused.
    let (ft, _) = t.login(keys::FUNCTIONAL).await;
    assert_eq!(t.send(M::POST, &ft, "/global/v1/keys", &[]).await.0, 400);
    assert_eq!(t.send(M::POST, &ft, "/global/v1/keys", &[("X-Region", "")]).await.0, 400, "empty counts as absent");
    assert_eq!(t.send(M::POST, &ft, "/global/v1/keys", &[("X-Region", "mars-1")]).await.0, 400);
    assert_eq!(
        t.send(M::POST, &ft, "/global/v1/keys", &[("X-Region", "us-south"), ("X-Auth-Resource-Group", "nope")]).await.0,
        404
    );
    assert_eq!(count(&t), n0);
    // Success: 204, a new key for the caller in the default group; the old key stays.
    let (s, v) =
        t.send(M::POST, &ft, "/global/v1/keys", &[("X-Region", "us-south"), ("X-Auth-Resource-Group", "")]).await;
    assert_eq!((s, v), (204, Value::Null));
    assert_eq!(count(&t), n0 + 1);
    let w = t.emu.handle.dump();
    let new = w
        .api_keys
        .iter()
        .filter(|k| k.name == "containers-kubernetes-key")
        .max_by_key(|k| k.created_at.clone())
        .unwrap();
    assert_eq!(new.iam_id, world::FUNCTIONAL);
    assert!(new.description.as_deref().unwrap().contains("us-south"));
    assert!(new.description.as_deref().unwrap().contains(world::RG_DEFAULT));
    assert!(w.api_keys.iter().any(|k| k.id == "ApiKey-1111-us-default-cur"), "old key left in place");
    let (_, v) = t.get(&ft, "/global/v1/logging/shop-vpc/clusterkeyowner", &[]).await;
    assert_eq!(v["id"], world::FUNCTIONAL);
    // Without /global (private/VPE hosts) with a group header.
    let (s, _) = t
        .send(M::POST, &ft, "/v1/keys", &[("X-Region", "us-south"), ("X-Auth-Resource-Group", world::RG_PRODUCTION)])
        .await;
    assert_eq!(s, 204);
    // The account owner may too (access group policy).
    let (ot, _) = t.login(keys::OWNER).await;
    assert_eq!(t.send(M::POST, &ot, "/v1/keys", &[("X-Region", "eu-de")]).await.0, 204);
}

#[tokio::test]
async fn key_owner_and_cluster_lists() {
    let t = start().await;
    let (at, _) = t.login(keys::VIEWER).await;
    let (s, v) = t.get(&at, "/global/v1/logging/c0us1vpc00000000000a/clusterkeyowner", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(v, json!({"id": world::DEPARTED, "name": "Dave Departed", "email": "dave.departed@example.com"}));
    let (s, v) =
        t.get(&at, "/v1/logging/shop-vpc/clusterkeyowner", &[("X-Auth-Resource-Group", world::RG_PRODUCTION)]).await;
    assert_eq!((s, v["code"].as_str()), (404, Some("G0004")), "name lookup is per resource group");
    let (s, v) = t.get(&at, "/global/v1/logging/nope/clusterkeyowner", &[]).await;
    assert_eq!((s, v["code"].as_str()), (404, Some("G0004")));
    assert!(v["recoveryCLI"].as_str().unwrap().contains("ibmcloud ks cluster ls"));
    let (_, v) = t.get(&at, "/global/v2/vpc/getClusters", &[]).await;
    assert_eq!(v.as_array().unwrap().len(), 4);
    for f in ["id", "name", "region", "resourceGroup", "resourceGroupName", "state", "type", "provider", "crn"] {
        assert!(v[0].get(f).is_some(), "{f}");
    }
    let (_, v) = t.get(&at, "/global/v2/classic/getClusters", &[]).await;
    assert_eq!(v[0]["name"], "legacy-classic");
    let (_, v) = t.get(&at, "/global/v2/satellite/getClusters", &[]).await;
    assert_eq!(v[0]["name"], "edge-tokyo");
    let (_, v) = t.get(&at, "/global/v2/vpc/getClusters", &[("X-Auth-Resource-Group", world::RG_PRODUCTION)]).await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    let (_, v) = t.get(&at, "/global/v1/clusters", &[("X-Region", "eu-de")]).await;
    assert_eq!(v, json!([]));
    let (s, v) = t.get(&at, "/global/v2/getCluster?cluster=payments", &[]).await;
    assert_eq!((s, v["id"].as_str()), (200, Some("c0us3vpc00000000000c")));
    assert_eq!(t.get(&at, "/global/v2/getCluster?cluster=nope", &[]).await.0, 404);
    assert_eq!(t.get(&at, "/global/v2/getCluster", &[]).await.0, 400);
    // An unknown route answers in the containers shape.
    let (s, v) = t.get(&at, "/global/v9/nothing", &[]).await;
    assert_eq!(s, 404);
    assert!(v["incidentID"].is_string());
}

#[tokio::test]
async fn knob_latency() {
    let t = start().await;
    t.emu.handle.set_knobs(|k| k.latency_ms = 300);
    let start = Instant::now();
    let _ = t.token_raw(&[("grant_type", "x")], false).await;
    assert!(start.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn knob_rate_limit() {
    let t = start().await;
    t.emu.handle.set_knobs(|k| {
        k.rate_limit = true;
        k.rate_limit_max = 5;
        k.rate_limit_window_ms = 60_000;
    });
    // The token request has a budget of its own (no account yet); the account's is 5.
    let (at, _) = t.login(keys::VIEWER).await;
    for _ in 0..5 {
        assert_eq!(t.get(&at, "/v2/resource_groups", &[]).await.0, 200);
    }
    let r = t.http.get(t.url("/global/v1/clusters")).bearer_auth(&at).send().await.unwrap();
    assert_eq!(r.status(), 429);
    let retry_after: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    let v: Value = r.json().await.unwrap();
    assert!(v["incidentID"].is_string(), "the containers shape");
    // Off by default.
    assert!(!World::default_world().clusters.is_empty());
    assert!(!cluster_api_key_emulator::Knobs::default().rate_limit);
}

#[tokio::test]
async fn knob_faults() {
    let t = start().await;
    let (at, _) = t.login(keys::VIEWER).await;
    let f = |kind, times| {
        let f = Fault::on("GET", "/v2/resource_groups", kind);
        match times {
            Some(n) => f.times(n),
            None => f,
        }
    };
    t.emu.handle.set_knobs(|k| {
        k.faults = vec![
            f(FaultKind::Status { status: 503 }, Some(1)),
            f(FaultKind::Html { status: 502 }, Some(1)),
            f(FaultKind::Truncate, Some(1)),
            f(FaultKind::Reset, Some(1)),
            f(FaultKind::SlowBody { ms: 300 }, Some(1)),
            f(FaultKind::Delay { ms: 300 }, Some(1)),
        ];
    });
    let (s, v) = t.get(&at, "/v2/resource_groups", &[]).await;
    assert_eq!(s, 503);
    assert!(v["message"].is_string(), "the Resource Manager shape");
    let r = t.http.get(t.url("/v2/resource_groups")).bearer_auth(&at).send().await.unwrap();
    assert_eq!(r.status(), 502);
    assert!(r.text().await.unwrap().starts_with("<html>"));
    // A cut connection surfaces either when the headers are read or when the body is; a fresh
    // client each time keeps a broken pooled connection from spilling into the next check.
    let r = reqwest::Client::new().get(t.url("/v2/resource_groups")).bearer_auth(&at).send().await;
    assert!(r.is_err() || r.unwrap().bytes().await.is_err(), "truncated body");
    let r = reqwest::Client::new().get(t.url("/v2/resource_groups")).bearer_auth(&at).send().await;
    assert!(r.is_err() || r.unwrap().bytes().await.is_err(), "connection reset");
    let start = Instant::now();
    let r = reqwest::Client::new().get(t.url("/v2/resource_groups")).bearer_auth(&at).send().await.unwrap();
    let body = r.bytes().await.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(300) && body.starts_with(b"{"), "slow body");
    let start = Instant::now();
    let r = reqwest::Client::new().get(t.url("/v2/resource_groups")).bearer_auth(&at).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(start.elapsed() >= Duration::from_millis(300), "delay");
    // All used up.
    assert!(t.emu.handle.knobs().faults.is_empty());
    assert_eq!(t.get(&at, "/v2/resource_groups", &[]).await.0, 200);
}

#[tokio::test]
async fn knob_replication_delay() {
    let t = start().await;
    let (ft, _) = t.login(keys::FUNCTIONAL).await;
    t.emu.handle.set_knobs(|k| {
        k.replication_delay_ms = 60_000;
        k.replication_mode = ReplicationMode::NotFound;
    });
    assert_eq!(t.send(reqwest::Method::POST, &ft, "/v1/keys", &[("X-Region", "us-south")]).await.0, 204);
    let (s, v) = t.get(&ft, "/v1/logging/shop-vpc/clusterkeyowner", &[]).await;
    assert_eq!((s, v["code"].as_str()), (404, Some("A0055")));
    t.emu.handle.set_knobs(|k| k.replication_mode = ReplicationMode::Stale);
    let (_, v) = t.get(&ft, "/v1/logging/shop-vpc/clusterkeyowner", &[]).await;
    assert_eq!(v["id"], world::DEPARTED);
    t.emu.handle.set_knobs(|k| k.replication_delay_ms = 0);
    let (_, v) = t.get(&ft, "/v1/logging/shop-vpc/clusterkeyowner", &[]).await;
    assert_eq!(v["id"], world::FUNCTIONAL);
}

#[tokio::test]
async fn admin_api_dump_restore_knobs_clock_stats() {
    let t = start().await;
    let http = &t.http;
    let state: Value = http.get(t.url("/_emulator/state")).send().await.unwrap().json().await.unwrap();
    assert_eq!(state["world"]["accounts"][0]["id"], world::ACCOUNT_ID);
    assert!(
        state["world"]["api_keys"].as_array().unwrap().iter().any(|k| k["apikey"] == keys::OWNER),
        "values included"
    );
    assert_eq!(state["knobs"]["rate_limit"], false);
    // Restore an edited world: drop every cluster.
    let mut w = state["world"].clone();
    w["clusters"] = json!([]);
    assert_eq!(http.put(t.url("/_emulator/state")).json(&w).send().await.unwrap().status(), 204);
    assert!(t.emu.handle.dump().clusters.is_empty());
    assert_eq!(http.put(t.url("/_emulator/state")).body("nope").send().await.unwrap().status(), 400);
    // Knobs over HTTP.
    let r = http
        .put(t.url("/_emulator/knobs"))
        .json(&json!({"latency_ms": 5, "faults": [{"path": "/x", "kind": "status", "status": 500, "times": 2}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let k: Value = http.get(t.url("/_emulator/knobs")).send().await.unwrap().json().await.unwrap();
    assert_eq!(k["latency_ms"], 5);
    assert_eq!(k["faults"][0]["status"], 500);
    // Clock.
    let c: Value = http
        .post(t.url("/_emulator/clock"))
        .json(&json!({"advance_secs": 7200}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(c["clock_offset_secs"], 7200);
    // Stats count API requests by route.
    let _ = t.token_raw(&[("grant_type", "x")], false).await;
    let s: Value = http.get(t.url("/_emulator/stats")).send().await.unwrap().json().await.unwrap();
    assert_eq!(s["POST /identity/token"], 1);
}

#[tokio::test]
async fn the_binary_prints_its_address_first() {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cluster-api-key-emulator"))
        .args(["--listen", "127.0.0.1:0", "--latency", "1"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("listening on http://127.0.0.1:"), "{line}");
    let url = line.trim().trim_start_matches("listening on ").to_owned();
    let r = reqwest::get(format!("{url}/_emulator/knobs")).await.unwrap();
    assert_eq!(r.status(), 200);
    child.kill().unwrap();
    let _ = child.wait();
    // A seed file: the default world minus its clusters.
    let mut w = World::default_world();
    w.clusters.clear();
    let dir = std::env::temp_dir().join(format!("emu-world-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let seed = dir.join("world.json");
    std::fs::write(&seed, serde_json::to_vec(&w).unwrap()).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cluster-api-key-emulator"))
        .args(["--world", seed.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().trim_start_matches("listening on ").to_owned();
    let state: Value = reqwest::get(format!("{url}/_emulator/state")).await.unwrap().json().await.unwrap();
    assert_eq!(state["world"]["clusters"], json!([]));
    child.kill().unwrap();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    // Bad arguments: exit 2.
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_cluster-api-key-emulator")).arg("--bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn knob_gateway_answers_first_and_the_backend_acts_later_and_faults_scope_to_targets() {
    let t = start().await;
    let (ft, _) = t.login(keys::FUNCTIONAL).await;
    let count = |t: &T| t.emu.handle.dump().api_keys.iter().filter(|k| k.name == "containers-kubernetes-key").count();
    let n0 = count(&t);
    let post = |region: Option<&str>, group: Option<&str>, kind| {
        let f = Fault::on("POST", "/v1/keys", kind).times(1);
        let f = region.map_or(f.clone(), |r| f.clone().region(r));
        group.map_or(f.clone(), |g| f.group(g))
    };
    t.emu.handle.set_knobs(|k| {
        k.faults = vec![
            // Scoped to eu-de: a us-south reset passes untouched.
            post(Some("eu-de"), None, FaultKind::Status { status: 500 }),
            // Scoped to a group: only the production reset meets it.
            post(
                None,
                Some(world::RG_PRODUCTION),
                FaultKind::Gateway { status: 504, html: true, backend_delay_ms: 200 },
            ),
        ];
    });
    let (s, _) = t.send(M::POST, &ft, "/global/v1/keys", &[("X-Region", "us-south")]).await;
    assert_eq!(s, 204, "not in scope of either fault");
    assert_eq!(count(&t), n0 + 1);
    let r = t
        .http
        .post(t.url("/global/v1/keys"))
        .bearer_auth(&ft)
        .header("X-Region", "us-south")
        .header("X-Auth-Resource-Group", world::RG_PRODUCTION)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 504);
    assert!(r.text().await.unwrap().contains("504 Gateway Timeout"));
    assert_eq!(count(&t), n0 + 1, "the gateway answered before the backend acted");
    let deadline = Instant::now() + Duration::from_secs(10);
    while count(&t) == n0 + 1 {
        assert!(Instant::now() < deadline, "the backend never minted the key");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(count(&t), n0 + 2);
    let (s, v) = t.send(M::POST, &ft, "/global/v1/keys", &[("X-Region", "eu-de")]).await;
    assert_eq!(s, 500);
    assert!(v["incidentID"].is_string() && v["code"].is_string(), "IBM's own shape");
    assert!(t.emu.handle.knobs().faults.is_empty());
}

#[tokio::test]
async fn user_management_states_pages_and_visibility() {
    let t = start().await;
    let base = format!("/v2/accounts/{}/users", world::ACCOUNT_ID);
    let (ot, _) = t.login(keys::OWNER).await;
    // Every member, in pages; the removed user is not one.
    let (s, v) = t.get(&ot, &format!("{base}?limit=2"), &[]).await;
    assert_eq!(s, 200);
    assert_eq!(v["resources"].as_array().unwrap().len(), 2);
    let mut seen: Vec<String> = Vec::new();
    let mut next = Some(format!("{base}?limit=2"));
    while let Some(url) = next {
        let (_, v) = t.get(&ot, &url, &[]).await;
        seen.extend(v["resources"].as_array().unwrap().iter().map(|u| u["iam_id"].as_str().unwrap().to_owned()));
        next = v["next_url"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
    assert!(!seen.contains(&world::REMOVED.to_owned()));
    let (_, v) = t.get(&ot, &format!("{base}/{}", world::DEPARTED), &[]).await;
    assert_eq!(v["state"], "IAMID_INVALID");
    let (_, v) = t.get(&ot, &format!("{base}/{}", world::PENDING), &[]).await;
    assert_eq!(v["state"], "PENDING");
    let (s, v) = t.get(&ot, &format!("{base}/{}", world::REMOVED), &[]).await;
    assert_eq!(s, 404);
    assert!(v["errors"].is_array(), "the platform error shape");
    // Without a User Management role: only yourself.
    let (vt, _) = t.login(keys::VIEWER).await;
    let (_, v) = t.get(&vt, &base, &[]).await;
    let only: Vec<&str> = v["resources"].as_array().unwrap().iter().map(|u| u["iam_id"].as_str().unwrap()).collect();
    assert_eq!(only, [world::VIEWER]);
    assert_eq!(t.get(&vt, &format!("{base}/{}", world::DEPARTED), &[]).await.0, 403);
    assert_eq!(t.get(&vt, &format!("{base}/{}", world::VIEWER), &[]).await.0, 200);
}

#[test]
fn scaled_worlds_are_deterministic_and_uneven() {
    let a = World::scaled(12, 10, 7);
    let b = World::scaled(12, 10, 7);
    assert_eq!(a, b);
    assert_eq!(a.resource_groups.len(), 10);
    let targets_with_clusters: std::collections::BTreeSet<(String, String)> =
        a.clusters.iter().map(|c| (c.region.clone(), c.resource_group_id.clone())).collect();
    assert!(targets_with_clusters.len() > 60 && targets_with_clusters.len() < 120, "{}", targets_with_clusters.len());
    assert_eq!(a.cluster_keys.len(), targets_with_clusters.len(), "a current key per target with clusters");
    assert_ne!(World::scaled(12, 10, 8), a, "another seed, another world");
}

#[tokio::test]
async fn api_key_details_and_activity() {
    let t = start().await;
    let (ft, _) = t.login(keys::FUNCTIONAL).await;
    let (s, v) = t.get(&ft, "/v1/apikeys/details", &[("IAM-ApiKey", keys::FUNCTIONAL)]).await;
    assert_eq!(s, 200);
    assert_eq!(v["id"], "ApiKey-0000-func-login");
    assert_eq!(v["apikey"], "", "the value is never echoed");
    assert_eq!(t.get(&ft, "/v1/apikeys/details", &[("IAM-ApiKey", "nope")]).await.0, 404);
    assert_eq!(t.get(&ft, "/v1/apikeys/details", &[]).await.0, 400);
    // The login above used the key: its activity shows it.
    let (_, v) = t.get(&ft, "/v1/apikeys/ApiKey-0000-func-login?include_activity=true", &[]).await;
    assert!(v["activity"]["authn_count"].as_u64().unwrap() >= 1, "{v}");
    assert!(v["activity"]["last_authn"].is_string(), "{v}");
    let (_, v) = t.get(&ft, "/v1/apikeys/ApiKey-0000-func-login", &[]).await;
    assert!(v.get("activity").is_none(), "only when asked for");
}

#[tokio::test]
async fn classic_credentials_are_set_read_and_unset_as_ibm_takes_them() {
    let t = start().await;
    let (owner, _) = t.login(keys::OWNER).await;
    let (viewer, _) = t.login(keys::VIEWER).await;
    let at = |rg: &'static str| vec![("X-Region", "us-south"), ("X-Auth-Resource-Group", rg)];
    // The default world: Dave Departed's, on us-south / Default.
    let (s, v) = t.get(&owner, "/v1/credentials", &at(world::RG_DEFAULT)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["infrastructure_username"], "2412345_dave.departed@example.com");
    // None set: IBM's E0051, a 404.
    let (s, v) = t.get(&owner, "/v1/credentials", &at(world::RG_PRODUCTION)).await;
    assert_eq!((s, v["code"].as_str()), (404, Some("E0051")), "{v}");
    // Set as IBM's CLI sends them: in headers, no body; the key is never given back or kept.
    let mut set = at(world::RG_PRODUCTION);
    set.push(("X-Auth-Softlayer-Username", "2412345_k8s-functional@example.com"));
    set.push(("X-Auth-Softlayer-APIKey", "the-infrastructure-key-value"));
    assert_eq!(t.send(M::POST, &owner, "/v1/credentials", &set).await.0, 200);
    let (s, v) = t.get(&owner, "/v1/credentials", &at(world::RG_PRODUCTION)).await;
    assert_eq!((s, v["infrastructure_username"].as_str()), (200, Some("2412345_k8s-functional@example.com")));
    assert!(!v.to_string().contains("the-infrastructure-key-value"));
    assert!(!serde_json::to_string(&t.emu.handle.dump()).unwrap().contains("the-infrastructure-key-value"));
    // Without the headers: refused.
    assert_eq!(t.send(M::POST, &owner, "/v1/credentials", &at(world::RG_PRODUCTION)).await.0, 400);
    // A viewer may not change them.
    assert_eq!(t.send(M::DELETE, &viewer, "/v1/credentials", &at(world::RG_PRODUCTION)).await.0, 403);
    assert_eq!(t.send(M::DELETE, &owner, "/v1/credentials", &at(world::RG_PRODUCTION)).await.0, 200);
    assert_eq!(t.get(&owner, "/v1/credentials", &at(world::RG_PRODUCTION)).await.0, 404);
}

#[tokio::test]
async fn user_management_invites_with_policies_and_the_user_is_pending() {
    let t = start().await;
    let (owner, _) = t.login(keys::OWNER).await;
    let (viewer, _) = t.login(keys::VIEWER).await;
    let (robot, _) = t.login(keys::SERVICE_ID).await;
    let path = format!("/v2/accounts/{}/users", world::ACCOUNT_ID);
    let invite = |token: &str, body: Value| {
        let req = t.http.post(t.url(&path)).bearer_auth(token).json(&body);
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // The shape of IBM's InviteUsers: users, iam_policy (type, roles, resources), access_groups.
    let body = json!({
        "users": [{"email": "fid@example.com", "account_role": "Member"}],
        "iam_policy": [{
            "type": "access",
            "roles": [{"role_id": "crn:v1:bluemix:public:iam::::role:Administrator"}],
            "resources": [{"attributes": [
                {"name": "accountId", "value": world::ACCOUNT_ID},
                {"name": "serviceName", "value": "containers-kubernetes"},
                {"name": "region", "value": "us-south"},
            ]}],
        }],
    });
    // A service ID may not invite, nor may a user without an Editor role on User Management.
    assert_eq!(invite(&robot, body.clone()).await.0, 403);
    assert_eq!(invite(&viewer, body.clone()).await.0, 403);
    assert_eq!(invite(&owner, json!({"users": []})).await.0, 400);
    assert_eq!(
        invite(&owner, json!({"users": [{"email": "x@example.com"}], "iam_policy": [{"roles": []}]})).await.0,
        400
    );

    let (s, v) = invite(&owner, body.clone()).await;
    assert_eq!(s, 202, "{v}");
    let invited = &v["resources"][0];
    assert_eq!(invited["email"], "fid@example.com");
    assert_eq!(invited["state"], "PENDING");
    let iam_id = invited["id"].as_str().unwrap().to_owned();
    assert!(iam_id.starts_with("IBMid-"), "{iam_id}");
    // The user is listed, PENDING, and holds the policy the invitation carried.
    let (_, profile) = t.get(&owner, &format!("{path}/{iam_id}"), &[]).await;
    assert_eq!(profile["state"], "PENDING");
    assert_eq!(profile["email"], "fid@example.com");
    let (_, policies) =
        t.get(&owner, &format!("/v1/policies?account_id={}&iam_id={iam_id}", world::ACCOUNT_ID), &[]).await;
    let policies = policies["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 1, "{policies:?}");
    assert!(policies[0]["roles"][0]["role_id"].as_str().unwrap().ends_with(":Administrator"));
    // Invited twice: refused, and nothing is added.
    assert_eq!(invite(&owner, body).await.0, 409);
    assert_eq!(t.emu.handle.world().identities.iter().filter(|i| i.email == "fid@example.com").count(), 1);
}

#[tokio::test]
async fn sdk_models_account_settings_one_access_group_v2_policy_create_and_a_locked_key() {
    let t = start().await;
    let (owner, _) = t.login(keys::OWNER).await;
    let (viewer, _) = t.login(keys::VIEWER).await;
    // Account settings carry every member IBM's AccountSettingsResponse requires.
    let (s, v) = t.get(&owner, &format!("/v1/accounts/{}/settings/identity", world::ACCOUNT_ID), &[]).await;
    assert_eq!(s, 200);
    for member in [
        "account_id",
        "entity_tag",
        "restrict_create_service_id",
        "restrict_create_platform_apikey",
        "allowed_ip_addresses",
        "mfa",
        "user_mfa",
        "session_expiration_in_seconds",
        "session_invalidation_in_seconds",
        "max_sessions_per_identity",
        "system_access_token_expiration_in_seconds",
        "system_refresh_token_expiration_in_seconds",
        "restrict_user_list_visibility",
        "restrict_user_domains",
    ] {
        assert!(!v[member].is_null(), "{member}: {v}");
    }
    // One access group, and a 404 for another account's or none.
    let (_, groups) = t.get(&owner, &format!("/v2/groups?account_id={}", world::ACCOUNT_ID), &[]).await;
    let id = groups["groups"][0]["id"].as_str().unwrap().to_owned();
    let (s, g) = t.get(&owner, &format!("/v2/groups/{id}"), &[]).await;
    assert_eq!(s, 200, "{g}");
    assert_eq!(g["id"], id.as_str());
    assert_eq!(g["account_id"], world::ACCOUNT_ID);
    assert_eq!(t.get(&owner, "/v2/groups/AccessGroupId-nope", &[]).await.0, 404);
    // A v2 policy: created by an administrator, refused to a viewer, listed in both shapes.
    let body = json!({
        "type": "access",
        "subject": {"attributes": [{"key": "iam_id", "operator": "stringEquals", "value": world::VIEWER}]},
        "resource": {"attributes": [
            {"key": "accountId", "operator": "stringEquals", "value": world::ACCOUNT_ID},
            {"key": "serviceName", "operator": "stringEquals", "value": "containers-kubernetes"},
        ]},
        "control": {"grant": {"roles": [{"role_id": "crn:v1:bluemix:public:iam::::role:Operator"}]}},
    });
    let post = |token: &str| t.http.post(t.url("/v2/policies")).bearer_auth(token).json(&body).send();
    assert_eq!(post(&viewer).await.unwrap().status().as_u16(), 403);
    let r = post(&owner).await.unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["control"]["grant"]["roles"][0]["role_id"], "crn:v1:bluemix:public:iam::::role:Operator");
    assert_eq!(created["state"], "active");
    let (_, listed) =
        t.get(&owner, &format!("/v1/policies?account_id={}&iam_id={}", world::ACCOUNT_ID, world::VIEWER), &[]).await;
    assert!(listed["policies"].as_array().unwrap().iter().any(|p| p["id"] == created["id"]), "{listed}");
    // A locked key's delete: 409 with a code of its own, not a refusal's BXNIM0513E.
    let locked = t.emu.handle.world().api_keys.iter().find(|k| k.locked).map(|k| k.id.clone()).unwrap();
    let (s, e) = t.send(M::DELETE, &owner, &format!("/v1/apikeys/{locked}"), &[]).await;
    assert_eq!(s, 409, "{e}");
    assert_ne!(e["errors"][0]["message_code"], "BXNIM0513E", "{e}");
}

#[tokio::test]
async fn cluster_and_addon_bodies_carry_bluemix_go_models_fields_in_each_versions_shape() {
    let t = start().await;
    let (owner, _) = t.login(keys::OWNER).await;
    let (_, vpc) = t.get(&owner, "/v2/vpc/getClusters", &[]).await;
    let c = &vpc.as_array().unwrap()[0];
    for member in ["lifecycle", "features", "masterURL", "serverURL", "vpcs", "ingress", "serviceEndpoints"] {
        assert!(!c[member].is_null(), "v2 {member}: {c}");
    }
    assert_eq!(c["lifecycle"]["masterState"], "deployed");
    assert!(!c["vpcs"].as_array().unwrap().is_empty(), "a VPC cluster names its VPC");
    // v1 is flat.
    let (_, classic) = t.get(&owner, "/v1/clusters", &[("X-Region", "us-south")]).await;
    let c = &classic.as_array().unwrap()[0];
    for member in [
        "ingressHostname",
        "ingressSecretName",
        "privateServiceEndpointEnabled",
        "publicServiceEndpointEnabled",
        "masterURL",
        "serverURL",
    ] {
        assert!(!c[member].is_null(), "v1 {member}: {c}");
    }
    for nested in ["ingress", "serviceEndpoints", "lifecycle"] {
        assert!(c[nested].is_null(), "v1 has no {nested}: {c}");
    }
    let (_, addons) = t.get(&owner, &format!("/v1/clusters/{}/addons", c["id"].as_str().unwrap()), &[]).await;
    let a = &addons.as_array().unwrap()[0];
    for member in ["minKubeVersion", "supportedKubeRange", "options"] {
        assert!(!a[member].is_null(), "add-on {member}: {a}");
    }
}

#[tokio::test]
async fn worker_and_health_issue_bodies_carry_bluemix_go_models_fields_and_a_reset_clears_them() {
    let t = start().await;
    let (owner, _) = t.login(keys::OWNER).await;
    {
        let mut w = t.emu.handle.world();
        for c in w.clusters.iter_mut().filter(|c| c.name == "legacy-classic" || c.name == "shop-vpc") {
            c.state = "warning".into();
            c.health_issues = vec![cluster_api_key_emulator::world::HealthIssue {
                id: "NHC009".into(),
                component: "Network".into(),
                severity: "Error".into(),
                description: "The IAM token exchange request failed.".into(),
            }];
            c.workers = vec![cluster_api_key_emulator::world::Worker {
                id: format!("kube-{}-1", c.id),
                state: "warning".into(),
                message: "Provided user not found or active".into(),
            }];
        }
    }
    // v1 (classic): bluemix-go `containerv1.Worker`, every member with its JSON type.
    let (status, v1) = t.get(&owner, "/v1/clusters/legacy-classic/workers?showDeleted=false", &[]).await;
    assert_eq!(status, 200, "{v1}");
    let w = &v1.as_array().unwrap()[0];
    for member in [
        "errorMessage",
        "id",
        "isolation",
        "kubeVersion",
        "machineType",
        "privateIP",
        "privateVlan",
        "publicIP",
        "publicVlan",
        "location",
        "poolid",
        "poolName",
        "trustedStatus",
        "reasonForDelete",
        "versionEOS",
        "masterVersionEOS",
        "state",
        "status",
        "targetVersion",
    ] {
        assert!(w[member].is_string(), "v1 worker {member}: {w}");
    }
    assert_eq!(w["errorMessage"], "Provided user not found or active");
    // v2 (VPC): bluemix-go `containerv2.Worker`.
    let (status, v2) = t.get(&owner, "/v2/vpc/getWorkers?cluster=shop-vpc&showDeleted=false", &[]).await;
    assert_eq!(status, 200, "{v2}");
    let w = &v2.as_array().unwrap()[0];
    for member in ["flavor", "id", "location", "poolid", "poolName"] {
        assert!(w[member].is_string(), "v2 worker {member}: {w}");
    }
    for member in [
        "reasonForDelete",
        "actualState",
        "desiredState",
        "message",
        "messageDate",
        "messageDetails",
        "messageDetailsDate",
        "pendingOperation",
    ] {
        assert!(w["lifecycle"][member].is_string(), "v2 lifecycle {member}: {w}");
    }
    assert!(w["health"]["message"].is_string() && w["health"]["state"].is_string(), "{w}");
    assert!(w["networkInterfaces"][0]["primary"].is_boolean(), "{w}");
    assert_eq!(w["lifecycle"]["message"], "Provided user not found or active");
    // A cluster without workers in the world has three normal ones.
    let (_, other) = t.get(&owner, "/v2/vpc/getWorkers?cluster=payments", &[]).await;
    assert_eq!(other.as_array().unwrap().len(), 3, "{other}");
    // Health issues: a bare array of {id, component, severity, description}.
    let (status, issues) = t.get(&owner, "/v2/getClusterHealthIssues?cluster=shop-vpc", &[]).await;
    assert_eq!(status, 200, "{issues}");
    assert_eq!(issues[0]["id"], "NHC009", "{issues}");
    for member in ["component", "severity", "description"] {
        assert!(issues[0][member].is_string(), "{issues}");
    }
    let (status, _) = t.get(&owner, "/v2/getClusterHealthIssues?cluster=nope", &[]).await;
    assert_eq!(status, 404);
    // A reset of us-south / Default clears what the key and its owner caused, on both clusters.
    let (status, _) = t
        .send(
            reqwest::Method::POST,
            &owner,
            "/v1/keys",
            &[("X-Region", "us-south"), ("X-Auth-Resource-Group", world::RG_DEFAULT)],
        )
        .await;
    assert_eq!(status, 204);
    let w = t.emu.handle.dump();
    for c in w.clusters.iter().filter(|c| c.name == "legacy-classic" || c.name == "shop-vpc") {
        assert!(c.health_issues.is_empty() && c.workers.iter().all(|w| w.message.is_empty()), "{c:?}");
        assert_eq!(c.state, "normal");
    }
}

/// A cluster endpoint's Kubernetes API, with the admin certificate of its kubeconfig.
struct KubeApi {
    server: String,
    http: reqwest::Client,
}

impl KubeApi {
    async fn new(t: &T, cluster: &str) -> Self {
        use std::io::Read as _;
        let (token, _) = t.login(keys::OWNER).await;
        let body = json!({"cluster": cluster, "admin": true, "format": "zip"});
        let r = t.http.post(t.url("/v2/applyRBACAndGetKubeconfig")).bearer_auth(token).json(&body).send().await;
        let bytes = r.unwrap().bytes().await.unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let name =
            zip.file_names().filter_map(Result::ok).find(|n| n.ends_with(".yaml")).map(std::borrow::Cow::into_owned);
        let mut file = |name: &str| {
            let mut s = String::new();
            zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
            s
        };
        let identity = format!("{}{}", file("admin.pem"), file("admin-key.pem"));
        let yaml = file(&name.unwrap());
        let server = yaml.lines().find_map(|l| l.trim().strip_prefix("server: ")).unwrap().to_owned();
        let http = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(t.emu.handle.ca_pem().as_bytes()).unwrap()])
            .identity(reqwest::Identity::from_pem(identity.as_bytes()).unwrap())
            .build()
            .unwrap();
        Self { server, http }
    }

    async fn get(&self, path: &str, accept: &str) -> Value {
        let r = self.http.get(format!("{}{path}", self.server)).header("accept", accept).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        r.json().await.unwrap()
    }

    /// The events of a watch until `enough` says so (or 20 s pass).
    async fn watch(&self, path: &str, enough: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let mut r = self.http.get(format!("{}{path}", self.server)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let (mut events, mut buf) = (Vec::new(), Vec::new());
        let deadline = Instant::now() + Duration::from_secs(20);
        while !enough(&events) && Instant::now() < deadline {
            let Ok(Ok(Some(chunk))) = tokio::time::timeout(Duration::from_secs(20), r.chunk()).await else { break };
            buf.extend_from_slice(&chunk);
            while let Some(n) = buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buf.drain(..=n).collect();
                events.push(serde_json::from_slice(&line).unwrap());
            }
        }
        events
    }
}

const CONTROLLER: &str = "ibm-vpc-block-csi-controller-0";

#[tokio::test]
async fn kube_watch_from_a_list_sees_every_change_in_order_and_an_old_version_is_gone() {
    let t = start().await;
    let k = KubeApi::new(&t, "shop-vpc").await;
    let pods = "/api/v1/namespaces/kube-system/pods";
    let list = k.get(pods, "application/json").await;
    let rv: u64 = list["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
    let old = list["items"].as_array().unwrap().iter().find(|p| p["metadata"]["name"] == CONTROLLER).unwrap().clone();
    // A pod of the cluster as first seen started when it was created (30 days ago), not now.
    assert_eq!(old["status"]["startTime"], old["metadata"]["creationTimestamp"]);
    // From the list's version, only this pod: its deletion, removal, replacement and readiness.
    let from_list = format!("{pods}?watch=true&resourceVersion={rv}&fieldSelector=metadata.name%3D{CONTROLLER}");
    let watch = k.watch(&from_list, |e| e.len() >= 4);
    let delete = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let r = k.http.delete(format!("{}{pods}/{CONTROLLER}", k.server)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
    };
    let (events, ()) = tokio::join!(watch, delete);
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["MODIFIED", "DELETED", "ADDED", "MODIFIED"], "{events:#?}");
    let versions: Vec<u64> =
        events.iter().map(|e| e["object"]["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap()).collect();
    assert!(versions[0] > rv && versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
    assert!(events[0]["object"]["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(events[1]["object"]["metadata"]["uid"], old["metadata"]["uid"]);
    assert_ne!(events[2]["object"]["metadata"]["uid"], old["metadata"]["uid"], "a new pod, same name");
    assert_eq!(events[2]["object"]["status"]["phase"], "Pending");
    let ready = |e: &Value| {
        e["object"]["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    };
    assert!(!ready(&events[2]) && ready(&events[3]), "{events:#?}");

    // Without a version: the current pods, as ADDED, and nothing else (the control: ten pods).
    let all = k.watch(&format!("{pods}?watch=1&timeoutSeconds=1"), |_| false).await;
    assert_eq!(all.len(), 10, "{all:#?}");
    assert!(all.iter().all(|e| e["type"] == "ADDED"));
    // A version from before what the cluster keeps: one ERROR event, 410 Expired.
    let gone = k.watch(&format!("{pods}?watch=true&resourceVersion=5"), |e| !e.is_empty()).await;
    assert_eq!(gone.len(), 1, "{gone:#?}");
    assert_eq!(gone[0]["type"], "ERROR");
    assert_eq!(gone[0]["object"]["code"], 410);
    assert_eq!(gone[0]["object"]["reason"], "Expired");
}

#[tokio::test]
async fn kube_tables_namespaces_discovery_and_access_reviews() {
    let t = start().await;
    let k = KubeApi::new(&t, "shop-vpc").await;
    let table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    let pods = k.get("/api/v1/namespaces/kube-system/pods", table).await;
    assert_eq!(pods["kind"], "Table");
    assert_eq!(pods["apiVersion"], "meta.k8s.io/v1");
    let names: Vec<&str> =
        pods["columnDefinitions"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"]
    );
    let row = pods["rows"].as_array().unwrap().iter().find(|r| r["cells"][0] == CONTROLLER).unwrap();
    assert_eq!(row["cells"][1], "1/1");
    assert_eq!(row["object"]["kind"], "PartialObjectMetadata");
    assert!(row["object"].get("spec").is_none() && row["object"]["metadata"]["uid"].is_string());
    let whole = k.get("/api/v1/namespaces/kube-system/pods?includeObject=Object", table).await;
    assert_eq!(whole["rows"][0]["object"]["kind"], "Pod");
    let bare = k.get("/api/v1/namespaces/kube-system/pods?includeObject=None", table).await;
    assert!(bare["rows"][0].get("object").is_none());
    // The same list without a Table asked for: a PodList (the control for the Accept header).
    assert_eq!(k.get("/api/v1/namespaces/kube-system/pods", "application/json").await["kind"], "PodList");
    let secret = k.get("/api/v1/namespaces/kube-system/secrets/storage-secret-store", table).await;
    assert_eq!(secret["rows"][0]["cells"][1], "Opaque");
    assert_eq!(secret["rows"][0]["cells"][2], 1);

    // Every namespace's pods (`-A`); a watch of what discovery does not say is watched is refused.
    let all = k.get("/api/v1/pods", "application/json").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 10);
    let r = k.http.get(format!("{}/api/v1/namespaces/kube-system/secrets?watch=true", k.server)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
    let ns = k.get("/api/v1/namespaces/kube-system", "application/json").await;
    assert_eq!((ns["kind"].as_str(), ns["status"]["phase"].as_str()), (Some("Namespace"), Some("Active")));
    let r = k.http.get(format!("{}/api/v1/namespaces/nope", k.server)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["message"], "namespaces \"nope\" not found");

    let api = k.get("/api", "application/json").await;
    assert_eq!(api["versions"], json!(["v1"]));
    let core = k.get("/api/v1", "application/json").await;
    let pods = core["resources"].as_array().unwrap().iter().find(|r| r["name"] == "pods").unwrap();
    assert_eq!(pods["verbs"], json!(["delete", "get", "list", "watch"]));
    let groups = k.get("/apis", "application/json").await;
    assert_eq!(groups["groups"][0]["name"], "authorization.k8s.io");
    let review = json!({
        "kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
        "spec": {"resourceAttributes": {"namespace": "kube-system", "verb": "delete", "resource": "pods"}},
    });
    let path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    let r = k.http.post(format!("{}{path}", k.server)).json(&review).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["status"]["allowed"], true);
    assert_eq!(answer["spec"], review["spec"]);
}

#[tokio::test]
async fn knob_new_key_not_found_answers_e06f9_until_the_key_is_old_enough() {
    let t = start().await;
    let (ft, _) = t.login(keys::FUNCTIONAL).await;
    t.emu.handle.set_knobs(|k| k.new_key_not_found_secs = 30);
    // A reset mints a key: the key owner, and IAM Identity's lookups of the key, answer 404
    // E06f9 (IBM's code and message) while it is young.
    assert_eq!(t.send(M::POST, &ft, "/v1/keys", &[("X-Region", "us-south")]).await.0, 204);
    let (s, v) = t.get(&ft, "/v1/logging/shop-vpc/clusterkeyowner", &[]).await;
    assert_eq!((s, v["code"].as_str()), (404, Some("E06f9")), "{v}");
    assert_eq!(v["description"], "The specified API key could not be found.");
    let new = t.emu.handle.dump().api_keys.last().unwrap().id.clone();
    let (s, v) = t.get(&ft, &format!("/v1/apikeys/{new}"), &[]).await;
    assert_eq!((s, v["errors"][0]["message_code"].as_str()), (404, Some("E06f9")), "{v}");
    assert_eq!(v["status_code"], 404);
    // The list shows it (the knob is about lookups of the key).
    let (s, v) =
        t.get(&ft, &format!("/v1/apikeys?account_id={}&iam_id={}", world::ACCOUNT_ID, world::FUNCTIONAL), &[]).await;
    assert_eq!(s, 200);
    assert!(v["apikeys"].as_array().unwrap().iter().any(|k| k["id"] == new.as_str()));
    // Older keys are not affected.
    let (s, _) = t.get(&ft, "/v1/apikeys/ApiKey-0000-func-login", &[]).await;
    assert_ne!(s, 404);
    // Thirty seconds later (the emulator's clock), the key is found.
    let _ = t.http.post(t.url("/_emulator/clock")).json(&json!({"advance_secs": 31})).send().await.unwrap();
    let (_, v) = t.get(&ft, "/v1/logging/shop-vpc/clusterkeyowner", &[]).await;
    assert_eq!(v["id"], world::FUNCTIONAL);
    assert_eq!(t.get(&ft, &format!("/v1/apikeys/{new}"), &[]).await.0, 200);
}

#[tokio::test]
async fn keys_carry_expires_at_and_action_when_leaked_under_ibm_names() {
    let t = start().await;
    let (at, _) = t.login(keys::OWNER).await;
    let r = t
        .http
        .post(t.url("/v1/apikeys"))
        .bearer_auth(&at)
        .json(&json!({"name": "tmp", "iam_id": world::OWNER, "expires_at": "2030-01-02T03:04:05Z", "action_when_leaked": "delete"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(
        (created["expires_at"].as_str(), created["action_when_leaked"].as_str()),
        (Some("2030-01-02T03:04:05Z"), Some("delete"))
    );
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, v) = t.get(&at, &format!("/v1/apikeys/{id}"), &[]).await;
    assert_eq!(
        (v["expires_at"].as_str(), v["action_when_leaked"].as_str()),
        (Some("2030-01-02T03:04:05Z"), Some("delete"))
    );
    // The world keeps them under the same names, and a key without them serves `none` and no
    // expiry, as before.
    let state: Value = t.http.get(t.url("/_emulator/state")).send().await.unwrap().json().await.unwrap();
    let kept = state["world"]["api_keys"].as_array().unwrap().iter().find(|k| k["id"] == id.as_str()).unwrap().clone();
    assert_eq!(
        (kept["expires_at"].as_str(), kept["action_when_leaked"].as_str()),
        (Some("2030-01-02T03:04:05Z"), Some("delete"))
    );
    let (_, v) = t.get(&at, "/v1/apikeys/ApiKey-0000-owner-login", &[]).await;
    assert_eq!(v["action_when_leaked"], "none");
    assert!(v.get("expires_at").is_none(), "{v}");
    // Loaded back, they are served as loaded.
    let mut w = state["world"].clone();
    assert_eq!(t.http.put(t.url("/_emulator/state")).json(&w).send().await.unwrap().status(), 204);
    assert_eq!(
        t.emu.handle.dump().api_keys.iter().find(|k| k.id == id).unwrap().action_when_leaked,
        Some(json!("delete"))
    );
    // A field the world does not know is refused, by name, and nothing is loaded.
    w["api_keys"][0]["expires_soon"] = json!(true);
    let r = t.http.put(t.url("/_emulator/state")).json(&w).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("unknown field `expires_soon`"), "{body}");
    let mut w = state["world"].clone();
    w["clusterz"] = json!([]);
    let r = t.http.put(t.url("/_emulator/state")).json(&w).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("unknown field `clusterz`"), "{body}");
    assert!(t.emu.handle.dump().api_keys.iter().any(|k| k.id == id), "the world before stays");
}

#[tokio::test]
async fn the_account_names_its_owner_to_its_own_identities_only() {
    let t = start().await;
    let path = format!("/v4/accounts/{}", world::ACCOUNT_ID);
    // Any identity of the account, a viewer or a service ID too (IBM documents no role for it).
    for key in [keys::VIEWER, keys::SERVICE_ID] {
        let (tok, _) = t.login(key).await;
        let (s, v) = t.get(&tok, &path, &[]).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["owner_iamid"], world::OWNER);
        assert_eq!(v["id"], world::ACCOUNT_ID);
        assert_eq!(v["owner"], "olivia.owner@example.com");
    }
    let (tok, _) = t.login(keys::VIEWER).await;
    let (s, _) = t.get(&tok, "/v4/accounts/someone-elses", &[]).await;
    assert_eq!(s, 403);
    let (s, _) = t.get("not-a-token", &path, &[]).await;
    assert_eq!(s, 401);
}
