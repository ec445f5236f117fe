//! Several accounts: tokens per `bss_account`, the Enterprise Management and accounts-service
//! lists, and IBM's rate limit per account.

use cluster_api_key_emulator::world::{self, keys};
use cluster_api_key_emulator::{Emulator, World};
use serde_json::Value;

const APIKEY: &str = "urn:ibm:params:oauth:grant-type:apikey";

async fn start() -> (Emulator, reqwest::Client) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emu = Emulator::start(World::default_world().with_enterprise()).await.unwrap();
    (emu, reqwest::Client::new())
}

async fn token(emu: &Emulator, http: &reqwest::Client, form: &[(&str, &str)]) -> (u16, Value) {
    let r = http.post(format!("{}/identity/token", emu.base_url)).basic_auth("bx", Some("bx")).form(form).send();
    let r = r.await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn get(emu: &Emulator, http: &reqwest::Client, at: &str, path: &str) -> (u16, Value) {
    let r = http.get(format!("{}{path}", emu.base_url)).bearer_auth(at).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn bss(jwt: &str) -> String {
    use base64::Engine as _;
    let part = jwt.split('.').nth(1).unwrap();
    let v: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap();
    v["account"]["bss"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn tokens_per_account_with_both_grants() {
    let (emu, http) = start().await;
    // The API-key grant, home account by default, another one with bss_account.
    let (s, v) = token(&emu, &http, &[("grant_type", APIKEY), ("apikey", keys::OWNER)]).await;
    assert_eq!(s, 200);
    assert_eq!(bss(v["access_token"].as_str().unwrap()), world::ACCOUNT_ID);
    let rt = v["refresh_token"].as_str().unwrap().to_owned();
    let (s, v) =
        token(&emu, &http, &[("grant_type", APIKEY), ("apikey", keys::OWNER), ("bss_account", world::STAGING_ACCOUNT)])
            .await;
    assert_eq!(s, 200, "{v}");
    let staging = v["access_token"].as_str().unwrap().to_owned();
    assert_eq!(bss(&staging), world::STAGING_ACCOUNT);
    // The refresh grant, as `ibmcloud target -c` does it.
    let form =
        [("grant_type", "refresh_token"), ("refresh_token", rt.as_str()), ("bss_account", world::FINANCE_ACCOUNT)];
    let (s, v) = token(&emu, &http, &form).await;
    assert_eq!((s, v["errorCode"].as_str()), (403, Some("BXNIM0513E")), "not a member of finance");
    let form =
        [("grant_type", "refresh_token"), ("refresh_token", rt.as_str()), ("bss_account", world::STAGING_ACCOUNT)];
    let (s, v) = token(&emu, &http, &form).await;
    assert_eq!(s, 200, "a refused account does not spend the refresh token: {v}");
    assert_eq!(bss(v["access_token"].as_str().unwrap()), world::STAGING_ACCOUNT);
    // The staging token sees the staging account's resource groups only.
    let (s, v) =
        get(&emu, &http, &staging, &format!("/v2/resource_groups?account_id={}", world::STAGING_ACCOUNT)).await;
    assert_eq!(s, 200, "{v}");
    let groups = v["resources"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{v}");
    assert_eq!(groups[0]["account_id"], world::STAGING_ACCOUNT);
    // Someone who is not a member anywhere else.
    let (s, _) = token(
        &emu,
        &http,
        &[("grant_type", APIKEY), ("apikey", keys::VIEWER), ("bss_account", world::STAGING_ACCOUNT)],
    )
    .await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn enterprise_accounts_page_with_next_url_and_need_access() {
    let (emu, http) = start().await;
    let (_, v) = token(&emu, &http, &[("grant_type", APIKEY), ("apikey", keys::OWNER)]).await;
    let at = v["access_token"].as_str().unwrap().to_owned();
    let path = format!("/v1/accounts?enterprise_id={}&limit=2", world::ENTERPRISE_ID);
    let (s, v) = get(&emu, &http, &at, &path).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["rows_count"], 2);
    let next = v["next_url"].as_str().unwrap().to_owned();
    assert!(next.contains("next_docid="), "{next}");
    let (s, v2) = get(&emu, &http, &at, &next).await;
    assert_eq!(s, 200);
    assert!(v2["next_url"].is_null());
    let ids: Vec<&str> = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .chain(v2["resources"].as_array().unwrap())
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [world::ACCOUNT_ID, world::STAGING_ACCOUNT, world::FINANCE_ACCOUNT]);
    // The viewer cannot read the enterprise, but lists its own accounts.
    let (_, v) = token(&emu, &http, &[("grant_type", APIKEY), ("apikey", keys::VIEWER)]).await;
    let viewer = v["access_token"].as_str().unwrap().to_owned();
    assert_eq!(get(&emu, &http, &viewer, &path).await.0, 403);
    let (s, v) = get(&emu, &http, &viewer, "/coe/v2/accounts").await;
    assert_eq!((s, v["total_results"].as_u64()), (200, Some(1)));
    // The owner's memberships: two of the three.
    let (_, v) = get(&emu, &http, &at, "/coe/v2/accounts").await;
    let ids: Vec<&str> =
        v["resources"].as_array().unwrap().iter().map(|a| a["metadata"]["guid"].as_str().unwrap()).collect();
    assert_eq!(ids, [world::ACCOUNT_ID, world::STAGING_ACCOUNT]);
    assert_eq!(get(&emu, &http, "bogus", "/coe/v2/accounts").await.0, 401);
}

#[tokio::test]
async fn the_rate_limit_is_per_account() {
    let (emu, http) = start().await;
    emu.handle.set_knobs(|k| {
        k.rate_limit = true;
        k.rate_limit_max = 3;
        k.rate_limit_window_ms = 60_000;
    });
    let (_, v) = token(&emu, &http, &[("grant_type", APIKEY), ("apikey", keys::OWNER)]).await;
    let home = v["access_token"].as_str().unwrap().to_owned();
    let (_, v) =
        token(&emu, &http, &[("grant_type", APIKEY), ("apikey", keys::OWNER), ("bss_account", world::STAGING_ACCOUNT)])
            .await;
    let staging = v["access_token"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        assert_eq!(get(&emu, &http, &home, "/v2/resource_groups").await.0, 200);
        assert_eq!(get(&emu, &http, &staging, "/v2/resource_groups").await.0, 200);
    }
    assert_eq!(get(&emu, &http, &home, "/v2/resource_groups").await.0, 429);
    assert_eq!(get(&emu, &http, &staging, "/v2/resource_groups").await.0, 429);
}

#[tokio::test]
async fn the_next_url_of_the_enterprise_list_is_encoded() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // An enterprise ID from a world file with characters a query must encode.
    let mut w = World::default_world().with_enterprise();
    let odd = "ent&limit=99 x";
    for a in w.accounts.iter_mut().filter(|a| a.enterprise_id.is_some()) {
        a.enterprise_id = Some(odd.into());
    }
    let emu = Emulator::start(w).await.unwrap();
    let http = reqwest::Client::new();
    let (_, v) = token(&emu, &http, &[("grant_type", APIKEY), ("apikey", keys::OWNER)]).await;
    let at = v["access_token"].as_str().unwrap().to_owned();
    let (s, v) = get(&emu, &http, &at, "/v1/accounts?enterprise_id=ent%26limit%3D99+x&limit=1").await;
    assert_eq!(s, 200, "{v}");
    let next = v["next_url"].as_str().unwrap().to_owned();
    assert_eq!(
        next,
        format!("/v1/accounts?enterprise_id=ent%26limit%3D99+x&limit=1&next_docid={}", world::STAGING_ACCOUNT)
    );
    let (s, v) = get(&emu, &http, &at, &next).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["rows_count"], 1);
    assert_eq!(v["resources"][0]["id"], world::STAGING_ACCOUNT);
    assert_eq!(v["resources"][0]["enterprise_id"], odd);
}
