//! The seeded worlds, byte for byte: the default world (which the sandbox and every test start
//! from) and the generated worlds the tests and benchmarks use, each read back through the state
//! dump (`GET /_emulator/state`) and compared with a golden file under `tests/golden/`.
//!
//! The seed code is split by concern (people, groups, clusters, keys, access); these goldens are
//! what keeps a change of its structure from changing the world. A deliberate change of the world
//! rewrites them with `EMULATOR_GOLDEN=overwrite cargo test -p cluster-api-key-emulator --test
//! seed`, and the diff of the golden files is then reviewed with the change.

use std::path::PathBuf;

use cluster_api_key_emulator::{Emulator, World};
use serde_json::Value;

/// The world part of the running emulator's state dump, as pretty JSON (one field a line, so a
/// difference reads as a line diff).
async fn dumped(world: World) -> String {
    // The provider the binary uses (reqwest is built without one of its own).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emu = Emulator::start(world).await.expect("the emulator starts");
    let state: Value = reqwest::get(format!("{}/_emulator/state", emu.base_url))
        .await
        .expect("the state dump answers")
        .json()
        .await
        .expect("the state dump is JSON");
    emu.stop();
    let mut text = serde_json::to_string_pretty(&state["world"]).expect("JSON prints");
    text.push('\n');
    text
}

/// Compares `actual` with the golden file `name`, or rewrites it when asked to.
fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var("EMULATOR_GOLDEN").as_deref() == Ok("overwrite") {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("the golden directory");
        std::fs::write(&path, actual).expect("the golden file is written");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if expected != actual {
        let (line, (want, got)) = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map_or((expected.lines().count().min(actual.lines().count()), ("<end>", "<end>")), |(i, p)| (i, p));
        panic!(
            "the seeded world differs from {} at line {}:\n  golden: {want}\n  now:    {got}\n\
             (a deliberate change: EMULATOR_GOLDEN=overwrite, then review the diff)",
            path.display(),
            line + 1
        );
    }
}

#[tokio::test]
async fn the_default_world_is_unchanged() {
    golden("default_world.json", &dumped(World::default_world()).await);
}

/// The generated worlds the integration tests use (`tests/it/scale.rs`, `status.rs`'s large one
/// is the same code at a larger size), including the one-target edge.
#[tokio::test]
async fn the_generated_worlds_are_unchanged() {
    for (regions, groups, seed) in [(5, 12, 7), (3, 5, 3), (1, 1, 3)] {
        golden(
            &format!("scaled_{regions}x{groups}_seed{seed}.json"),
            &dumped(World::scaled(regions, groups, seed)).await,
        );
    }
}

/// Every world file here loads again, strictly (the world refuses fields it does not know), and
/// is the same world once loaded: nothing in them is dropped on the way in. The sandbox's world
/// is the default one plus the key's life, under IBM's names, and loads back likewise.
#[test]
fn every_world_file_loads_back_strictly_and_whole() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&dir).expect("the golden directory").flatten().map(|e| e.path()).collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    for path in files.iter().filter(|p| p.extension().is_some_and(|x| x == "json")) {
        let text = std::fs::read_to_string(path).expect("a golden file");
        let world: World = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let again: Value = serde_json::to_value(&world).expect("JSON");
        assert_eq!(again, serde_json::from_str::<Value>(&text).unwrap(), "{} loses nothing", path.display());
    }
    let sandbox = World::sandbox_world(1_800_000_000);
    let text = serde_json::to_string(&sandbox).unwrap();
    assert!(
        text.contains(r#""expires_at":"2027-01-25T20:00:00Z""#) && text.contains(r#""action_when_leaked":"delete""#),
        "{text}"
    );
    assert_eq!(serde_json::from_str::<World>(&text).unwrap(), sandbox);
    let mut unknown: Value = serde_json::from_str(&text).unwrap();
    unknown["api_keys"][0]["expires"] = Value::from("2030-01-01T00:00:00Z");
    let e = serde_json::from_value::<World>(unknown).unwrap_err().to_string();
    assert!(e.contains("unknown field `expires`"), "{e}");
}
