//! The core's HTTP-level behaviour against the emulator on 127.0.0.1: one refresh however many
//! requests run at once, one refresh and one replay on 401 (never a loop), `Retry-After`,
//! pagination through `next`, resource group resolution, the key owner.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cluster_api_key_core::api::iam_identity::ListQuery;
use cluster_api_key_core::context::{CliConfig, Context, SessionSource};
use cluster_api_key_core::env::Env;
use cluster_api_key_core::ops::Session;
use cluster_api_key_core::types::{AccountId, IamId, Region};
use cluster_api_key_core::{Error, ops};
use cluster_api_key_emulator::world::{self, ApiKey, keys};
use cluster_api_key_emulator::{Fault, FaultKind};

mod common;
use common::{Fixture, fixture};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_requests_refresh_once() {
    let f = fixture(keys::VIEWER, true).await;
    let s = Arc::new(f.session().await);
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            s.containers(Some(&Region::new("us-south"))).unwrap().key_owner("shop-vpc", None).await.map(|o| o.name)
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), "Dave Departed");
    }
    assert_eq!(s.client.auth().refresh_count(), 1);
    assert_eq!(f.emu.handle.stat("grant refresh_token"), 1);
    let cfg: serde_json::Value = serde_json::from_slice(&std::fs::read(&f.config).unwrap()).unwrap();
    assert_eq!(cfg["Other"], "kept");
}

#[tokio::test]
async fn a_401_leads_to_one_refresh_and_one_replay_not_a_loop() {
    let f = fixture(keys::VIEWER, false).await;
    let s = f.session().await;
    f.emu.handle.set_knobs(|k| {
        k.faults.push(Fault::any("clusterkeyowner", FaultKind::Status { status: 401 }));
    });
    let e = s.containers(Some(&Region::new("us-south"))).unwrap().key_owner("shop-vpc", None).await.unwrap_err();
    assert!(matches!(&e, Error::Api(a) if a.status == 401), "{e:?}");
    assert_eq!(f.emu.handle.stat("GET /v1/logging/{id}/clusterkeyowner"), 2, "one replay");
    assert_eq!(f.emu.handle.stat("grant refresh_token"), 1, "one refresh");
}

#[tokio::test]
async fn retryable_statuses_on_reads_are_retried() {
    let f = fixture(keys::VIEWER, false).await;
    let s = f.session().await;
    f.emu.handle.set_knobs(|k| {
        k.faults.push(Fault::any("resource_groups", FaultKind::Status { status: 429 }).times(1));
        k.faults.push(Fault::any("resource_groups", FaultKind::Status { status: 502 }).times(1));
    });
    let groups = s.resource_manager().list(&AccountId::new(world::ACCOUNT_ID)).await.unwrap();
    assert_eq!(groups.len(), 3);
    assert_eq!(f.emu.handle.stat("GET /v2/resource_groups"), 3);
    // 501 is not retried.
    f.emu.handle.set_knobs(|k| {
        k.faults.push(Fault::any("resource_groups", FaultKind::Status { status: 501 }));
    });
    assert!(s.resource_manager().list(&AccountId::new(world::ACCOUNT_ID)).await.is_err());
    assert_eq!(f.emu.handle.stat("GET /v2/resource_groups"), 4);
}

#[tokio::test]
async fn retry_after_from_the_rate_limit_is_honoured() {
    let f = fixture(keys::VIEWER, false).await;
    let s = f.session().await;
    f.emu.handle.set_knobs(|k| {
        k.rate_limit = true;
        k.rate_limit_max = 2;
        k.rate_limit_window_ms = 1000;
    });
    let acc = AccountId::new(world::ACCOUNT_ID);
    let start = std::time::Instant::now();
    for _ in 0..3 {
        s.resource_manager().list(&acc).await.unwrap();
    }
    assert_eq!(f.emu.handle.stat("rate_limited"), 1);
    // The 429 said `Retry-After: 1`; the retry waited for it rather than the 1 ms backoff.
    assert!(start.elapsed() >= std::time::Duration::from_millis(900));
}

#[tokio::test]
async fn a_post_is_never_retried_by_the_transport() {
    let f = fixture(keys::FUNCTIONAL, false).await;
    let s = f.session().await;
    f.emu.handle.set_knobs(|k| {
        k.faults.push(Fault::on("POST", "/v1/keys", FaultKind::Status { status: 503 }).times(1));
    });
    let e = s.containers(Some(&Region::new("us-south"))).unwrap().reset_key(None).await.unwrap_err();
    // IBM's own error body says the request was processed and refused...
    assert!(!e.outcome_unknown());
    assert_eq!(f.emu.handle.stat("POST /v1/keys"), 1);
    // ...a gateway's page says nothing of the kind; neither is retried.
    f.emu.handle.set_knobs(|k| k.faults.push(post_fault(FaultKind::Html { status: 503 })));
    let e = s.containers(Some(&Region::new("us-south"))).unwrap().reset_key(None).await.unwrap_err();
    assert!(e.outcome_unknown());
    assert_eq!(f.emu.handle.stat("POST /v1/keys"), 2);
}

#[tokio::test]
async fn api_key_listing_follows_next_across_pages() {
    let f = fixture(keys::OWNER, false).await;
    {
        let mut w = f.emu.handle.world();
        for i in 0..230 {
            w.api_keys.push(ApiKey {
                id: format!("ApiKey-bulk-{i:04}"),
                name: "bulk".into(),
                description: None,
                iam_id: world::OWNER.into(),
                account_id: world::ACCOUNT_ID.into(),
                apikey: format!("bulk-value-{i:04}-xxxxxxxx"),
                created_at: "2026-01-01T00:00:00Z".into(),
                created_by: world::OWNER.into(),
                modified_at: String::new(),
                locked: false,
                disabled: false,
                last_authn: None,
                authn_count: 0,
                entity_tag: 1,
                expires_at: None,
                action_when_leaked: None,
            });
        }
    }
    let s = f.session().await;
    let q = ListQuery {
        account_id: Some(AccountId::new(world::ACCOUNT_ID)),
        iam_id: Some(IamId::new(world::OWNER)),
        ..Default::default()
    };
    let keys = s.iam_identity().list(&q).await.unwrap();
    let own = f.emu.handle.dump().api_keys.iter().filter(|k| k.iam_id == world::OWNER).count();
    assert_eq!(keys.len(), own);
    assert!(own > 200);
    assert_eq!(f.emu.handle.stat("GET /v1/apikeys"), 3, "pages of 100");
}

#[tokio::test]
async fn a_next_page_on_another_host_is_read_from_ours_and_never_cuts_the_list() {
    let f = fixture(keys::OWNER, false).await;
    // The first page's `next` names another host (a private endpoint answered with the public
    // name, or a hostile answer): the token must not go there, and the list must not stop.
    f.emu.handle.set_knobs(|k| {
        k.faults.push(
            Fault::on(
                "GET",
                "/v1/apikeys",
                FaultKind::Body {
                    status: 200,
                    body: r#"{"offset":0,"limit":1,"apikeys":[],"next":"https://elsewhere.invalid/v1/apikeys?pagetoken=0&pagesize=100&iam_id=IBMid-2700000OWN"}"#.into(),
                },
            )
            .times(1),
        );
    });
    let s = f.session().await;
    let q = ListQuery { iam_id: Some(IamId::new(world::OWNER)), ..Default::default() };
    let keys = s.iam_identity().list(&q).await.unwrap();
    let own = f.emu.handle.dump().api_keys.iter().filter(|k| k.iam_id == world::OWNER).count();
    assert_eq!(keys.len(), own, "the second page came from our host");
    assert_eq!(f.emu.handle.stat("GET /v1/apikeys"), 2);
}

#[tokio::test]
async fn resource_groups_resolve_by_id_name_and_default() {
    let f = fixture(keys::VIEWER, false).await;
    let s = f.session().await;
    let rm = s.resource_manager();
    let acc = AccountId::new(world::ACCOUNT_ID);
    assert_eq!(rm.resolve(&acc, world::RG_STAGING).await.unwrap().name, "staging");
    assert_eq!(rm.resolve(&acc, "production").await.unwrap().id.as_str(), world::RG_PRODUCTION);
    assert_eq!(rm.resolve(&acc, "PRODUCTION").await.unwrap().id.as_str(), world::RG_PRODUCTION);
    assert!(matches!(rm.resolve(&acc, "nope").await, Err(Error::UnknownGroups { .. })));
    assert!(rm.default_group(&acc).await.unwrap().default);
    assert_eq!(rm.get(world::RG_DEFAULT).await.unwrap().name, "Default");
}

#[tokio::test]
async fn reset_plan_and_execute() {
    let f = fixture(keys::FUNCTIONAL, false).await;
    let s = f.session().await;
    let plan = ops::reset::plan(&s, Some(&Region::new("us-south")), Some("Default")).await.unwrap();
    assert_eq!(plan.clusters().len(), 2);
    assert_eq!(plan.current_owner.known().unwrap().name, "Dave Departed");
    assert_eq!(plan.caller.iam_id.as_ref().unwrap().as_str(), world::FUNCTIONAL);
    let report = ops::reset::execute(&s, &plan, &quick(None), std::future::pending()).await.unwrap();
    assert!(report.new_key_id.is_some());
    assert!(!report.confirmed_after_error);
    let info = ops::info::by_cluster(&s, "shop-vpc", None, None).await.unwrap();
    assert_eq!(info.iam_id.unwrap().as_str(), world::FUNCTIONAL);
    // Dots-only cluster names cannot be expressed in a URL path: refused before any request.
    assert!(matches!(ops::info::by_cluster(&s, "..", None, None).await, Err(Error::InvalidCluster(_))));
}

#[tokio::test]
async fn refresh_tokens_never_go_over_plain_http_to_a_remote_host() {
    let f = fixture(keys::VIEWER, true).await;
    let env = Env::from_pairs([
        ("CLUSTER_API_KEY_IAM_ENDPOINT", "http://192.0.2.1:9"),
        ("CLUSTER_API_KEY_CONTAINERS_ENDPOINT", f.emu.base_url.as_str()),
    ]);
    let map = cluster_api_key_core::config_file::ConfigFile::new(&f.config).read().await.unwrap();
    let ctx =
        Context::from_parts(&env, None, Some(CliConfig::from_map(&map)), SessionSource::CliConfig(f.config.clone()))
            .unwrap();
    let s = Session::new(ctx).unwrap();
    let e = s.containers(Some(&Region::new("us-south"))).unwrap().key_owner("shop-vpc", None).await.unwrap_err();
    assert!(matches!(e, Error::InsecureEndpoint(_)), "{e:?}");
    assert_eq!(f.emu.handle.stat("grant refresh_token"), 0);
}

/// Execute options that keep tests short: a 2 s grace, 50 ms between looks.
fn quick(lock_dir: Option<PathBuf>) -> ops::reset::ExecuteOptions {
    ops::reset::ExecuteOptions {
        lock_dir,
        grace: Duration::from_secs(2),
        interrupted_grace: Duration::from_millis(300),
        interval: Duration::from_millis(50),
        ..Default::default()
    }
}

fn post_fault(kind: FaultKind) -> Fault {
    Fault::on("POST", "/v1/keys", kind).times(1)
}

fn functional_keys(f: &Fixture) -> usize {
    f.emu.handle.dump().api_keys.iter().filter(|k| k.name == ops::KEY_NAME && k.iam_id == world::FUNCTIONAL).count()
}

#[tokio::test]
async fn a_gateway_504_while_the_backend_mints_the_key_is_found_not_called_nothing() {
    let f = fixture(keys::FUNCTIONAL, false).await;
    let s = f.session().await;
    let plan = ops::reset::plan(&s, Some(&Region::new("us-south")), Some("Default")).await.unwrap();
    f.emu.handle.set_knobs(|k| {
        k.faults.push(post_fault(FaultKind::Gateway { status: 504, html: true, backend_delay_ms: 400 }));
    });
    let report = ops::reset::execute(&s, &plan, &quick(None), std::future::pending()).await.unwrap();
    assert!(report.confirmed_after_error, "{report:?}");
    let id = report.new_key_id.expect("the key minted after the 504");
    assert!(f.emu.handle.dump().api_keys.iter().any(|k| k.id == id.as_str()));
    assert!(report.warnings.iter().any(|w| w.contains("HTTP 504")), "{:?}", report.warnings);
}

#[tokio::test]
async fn a_gateway_error_with_no_key_afterwards_is_unknown_never_nothing_changed() {
    for kind in
        [FaultKind::Html { status: 502 }, FaultKind::Gateway { status: 503, html: false, backend_delay_ms: 60_000 }]
    {
        let f = fixture(keys::FUNCTIONAL, false).await;
        let s = f.session().await;
        let plan = ops::reset::plan(&s, Some(&Region::new("us-south")), Some("Default")).await.unwrap();
        f.emu.handle.set_knobs(|k| k.faults.push(post_fault(kind.clone())));
        let e = ops::reset::execute(&s, &plan, &quick(None), std::future::pending()).await.unwrap_err();
        assert!(matches!(e, Error::ResetOutcomeUnknown { .. }), "{kind:?}: {e}");
        assert!(e.to_string().contains("may still be processed"), "{e}");
    }
}

#[tokio::test]
async fn ibm_own_refusal_is_nothing_changed_at_once() {
    let f = fixture(keys::FUNCTIONAL, false).await;
    let s = f.session().await;
    let plan = ops::reset::plan(&s, Some(&Region::new("us-south")), Some("Default")).await.unwrap();
    f.emu.handle.set_knobs(|k| k.faults.push(post_fault(FaultKind::Status { status: 500 })));
    let start = std::time::Instant::now();
    let e = ops::reset::execute(&s, &plan, &quick(None), std::future::pending()).await.unwrap_err();
    assert!(matches!(&e, Error::Api(api) if api.is_ibm_refusal()), "{e:?}");
    // No grace period: IBM's own answer is final (the one look after a 5xx does not wait).
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_200_html_page_is_not_success() {
    let f = fixture(keys::FUNCTIONAL, false).await;
    let s = f.session().await;
    let plan = ops::reset::plan(&s, Some(&Region::new("us-south")), Some("Default")).await.unwrap();
    let before = functional_keys(&f);
    f.emu.handle.set_knobs(|k| k.faults.push(post_fault(FaultKind::Html { status: 200 })));
    let e = ops::reset::execute(&s, &plan, &quick(None), std::future::pending()).await.unwrap_err();
    assert!(matches!(e, Error::ResetOutcomeUnknown { .. }), "{e}");
    assert!(e.to_string().contains("not IBM's answer"), "{e}");
    assert_eq!(functional_keys(&f), before);
}

#[tokio::test]
async fn a_captive_200_while_the_backend_mints_the_key_is_found() {
    let f = fixture(keys::FUNCTIONAL, false).await;
    let s = f.session().await;
    let plan = ops::reset::plan(&s, Some(&Region::new("us-south")), Some("Default")).await.unwrap();
    f.emu.handle.set_knobs(|k| {
        k.faults.push(post_fault(FaultKind::Gateway { status: 200, html: true, backend_delay_ms: 300 }));
    });
    let report = ops::reset::execute(&s, &plan, &quick(None), std::future::pending()).await.unwrap();
    assert!(report.confirmed_after_error && report.new_key_id.is_some(), "{report:?}");
}

#[tokio::test]
async fn a_connection_never_made_is_nothing_changed() {
    let f = fixture(keys::FUNCTIONAL, false).await;
    let s = f.session().await;
    let plan = ops::reset::plan(&s, Some(&Region::new("us-south")), Some("Default")).await.unwrap();
    // A port that was just free: connecting is refused, nothing is sent. (A listening server
    // cannot refuse one route, so this fault needs no emulator knob.)
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let env = Env::from_pairs([
        ("CLUSTER_API_KEY_IAM_ENDPOINT", f.emu.base_url.as_str()),
        ("CLUSTER_API_KEY_RESOURCE_MANAGER_ENDPOINT", f.emu.base_url.as_str()),
        ("CLUSTER_API_KEY_CONTAINERS_ENDPOINT", &format!("http://{closed}")),
        ("CLUSTER_API_KEY_RETRY_BASE_MS", "1"),
    ]);
    let map = cluster_api_key_core::config_file::ConfigFile::new(&f.config).read().await.unwrap();
    let ctx =
        Context::from_parts(&env, None, Some(CliConfig::from_map(&map)), SessionSource::CliConfig(f.config.clone()))
            .unwrap();
    let dead = Session::new(ctx).unwrap();
    let e = ops::reset::execute(&dead, &plan, &quick(None), std::future::pending()).await.unwrap_err();
    assert!(matches!(e, Error::Transport { not_sent: true, .. }), "{e:?}");
    assert!(!e.outcome_unknown());
    // The message keeps the port, so the user can see which endpoint was refused.
    assert!(e.to_string().contains(&closed.port().to_string()), "{e}");
}

#[tokio::test]
async fn an_interruption_during_the_post_ends_in_unknown_after_a_short_look() {
    let f = fixture(keys::FUNCTIONAL, false).await;
    let s = f.session().await;
    let plan = ops::reset::plan(&s, Some(&Region::new("us-south")), Some("Default")).await.unwrap();
    f.emu.handle.set_knobs(|k| k.faults.push(post_fault(FaultKind::Delay { ms: 30_000 })));
    let emu = f.emu.handle.clone();
    // The interruption comes once the POST has reached the server.
    let interrupted = async move {
        while emu.stat("POST /v1/keys") == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let e = ops::reset::execute(&s, &plan, &quick(None), interrupted).await.unwrap_err();
    assert!(matches!(e, Error::ResetOutcomeUnknown { .. }), "{e}");
    assert!(e.to_string().contains("interrupted"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_resets_of_one_target_each_report_their_own_key() {
    let f = fixture(keys::FUNCTIONAL, false).await;
    let locks = tempfile::tempdir().unwrap();
    // Slow POSTs make the three overlap without the lock.
    f.emu.handle.set_knobs(|k| k.latency_ms = 30);
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let s = f.session().await;
        let opts = quick(Some(locks.path().to_owned()));
        tasks.push(tokio::spawn(async move {
            let plan = ops::reset::plan(&s, Some(&Region::new("us-south")), Some("Default")).await.unwrap();
            ops::reset::execute(&s, &plan, &opts, std::future::pending()).await.unwrap()
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap().new_key_id.expect("each finds its key").to_string());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "three resets, three different keys: {ids:?}");
}
