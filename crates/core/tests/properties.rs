//! Property tests for the parsers that read input from outside: none may panic, and the
//! redaction and config rules hold for any value, not just the examples in the unit tests.

use cluster_api_key_core::config_file::ConfigFile;
use cluster_api_key_core::error::{ApiError, Service};
use cluster_api_key_core::{jwt, redact};
use proptest::prelude::*;
use serde_json::{Map, Value};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn jwt_decode_never_panics(s in ".{0,200}") {
        let _ = jwt::decode(&s);
    }

    #[test]
    fn jwt_decode_of_three_base64_parts_never_panics(a in "[A-Za-z0-9_-]{0,40}", b in "[A-Za-z0-9_=-]{0,80}", c in "[A-Za-z0-9_.-]{0,40}") {
        let _ = jwt::decode(&format!("Bearer {a}.{b}.{c}"));
    }

    #[test]
    fn error_bodies_never_panic_and_stay_short(body in proptest::collection::vec(any::<u8>(), 0..2000), status in 100u16..600) {
        let e = ApiError::parse(Service::Containers, status, &body);
        prop_assert_eq!(e.status, status);
        if !e.structured {
            prop_assert!(e.description.chars().count() <= 203);
        }
    }

    #[test]
    fn secret_json_members_never_survive_redaction(key in "(access_token|refresh_token|apikey|IAMToken|password|passcode|client_secret)", value in "[A-Za-z0-9+/=._-]{8,60}") {
        let text = format!("{{\"{key}\": \"{value}\", \"name\": \"x\"}}");
        let out = redact::redact(&text);
        prop_assert!(!out.contains(&value), "{} -> {}", text, out);
    }

    #[test]
    fn secret_form_pairs_never_survive_redaction(key in "(refresh_token|apikey|password|passcode|access_token)", value in "[A-Za-z0-9%._-]{8,60}") {
        let text = format!("grant_type=x&{key}={value}&response_type=cloud_iam");
        prop_assert!(!redact::redact(&text).contains(&value));
    }
}

fn map_strategy() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec(("[A-Za-z][A-Za-z0-9_]{0,12}", ".{0,20}"), 1..12)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn config_round_trip_keeps_every_key_and_the_order(pairs in map_strategy(), token in "[A-Za-z0-9]{10,30}") {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("config.json");
            let mut original = Map::new();
            for (k, v) in &pairs {
                original.insert(k.clone(), Value::from(v.clone()));
            }
            std::fs::write(&path, serde_json::to_vec_pretty(&original).unwrap()).unwrap();
            let cfg = ConfigFile::new(&path);
            let mut locked = cfg.lock().await.unwrap();
            let mut map = locked.read().unwrap();
            map.set("IAMToken", &Value::from(format!("Bearer {token}")));
            locked.write(&map).unwrap();
            drop(locked);
            let back: Map<String, Value> = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let mut expected = original.clone();
            expected.insert("IAMToken".into(), Value::from(format!("Bearer {token}")));
            assert_eq!(back.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
            assert_eq!(back, expected);
        });
    }
}
