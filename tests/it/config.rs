//! The CLI config under concurrency and crashes: eight processes that all find an expired
//! token while a Go-style writer holds the lock, and a writer killed mid-write.

use cluster_api_key_core::env as var;
use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::time::Duration;

use cluster_api_key_emulator::world::keys;
use serde_json::Value;

use crate::common::TestEnv;

fn others(v: &Value) -> serde_json::Map<String, Value> {
    let mut m = v.as_object().unwrap().clone();
    for k in ["IAMToken", "IAMRefreshToken", "LastSessionUpdateTime"] {
        m.shift_remove(k);
    }
    m
}

#[test]
fn eight_processes_refresh_once_while_a_go_writer_holds_the_lock() {
    let env = TestEnv::new();
    env.handle().world().token_lifetime_secs = 5; // expired for the client at once
    env.login(keys::VIEWER, Some("us-south"));
    env.handle().world().token_lifetime_secs = 3600;
    let before = env.read_config();

    // A foreign writer, as the Go SDK writes: flock(LOCK_EX) on config.json itself, truncate
    // and rewrite in place, hold a moment, unlock.
    let path = env.config_path();
    let mut go = File::options().read(true).write(true).open(&path).unwrap();
    go.lock().unwrap();
    let children: Vec<_> = (0..8)
        .map(|_| {
            env.command(&["info", "--cluster", "shop-vpc", "-q"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut text = String::new();
    go.read_to_string(&mut text).unwrap();
    go.set_len(0).unwrap();
    go.seek(SeekFrom::Start(0)).unwrap();
    go.write_all(text.as_bytes()).unwrap();
    go.sync_all().unwrap();
    go.unlock().unwrap();

    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("Dave Departed"), "{stdout}");
    }
    assert_eq!(env.handle().stat("grant refresh_token"), 1, "one refresh for all eight");
    let after = env.read_config();
    assert_eq!(others(&after), others(&before), "every other key unchanged");
    assert_ne!(after["IAMToken"], before["IAMToken"]);
    // The stored token works: a ninth run needs no refresh.
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    r.exits(0);
    assert_eq!(env.handle().stat("grant refresh_token"), 1);
}

#[test]
fn a_writer_killed_mid_write_leaves_a_recoverable_session() {
    let env = TestEnv::new();
    env.handle().world().token_lifetime_secs = 5;
    env.login(keys::VIEWER, Some("us-south"));
    env.handle().world().token_lifetime_secs = 3600;
    let before = env.read_config();

    // The writer aborts after truncating config.json and writing half of it.
    let out = env
        .command(&["info", "--cluster", "shop-vpc"])
        .env(var::CAK_FAILPOINT, "config-partial-write")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let torn = std::fs::read_to_string(env.config_path()).unwrap();
    assert!(serde_json::from_str::<Value>(&torn).is_err(), "the file really is torn");
    assert_eq!(env.handle().stat("grant refresh_token"), 1, "the old refresh token is now spent");

    // The next run recovers the new session from the journal; without it, the spent refresh
    // token would force a new login.
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    r.exits(0);
    assert_eq!(env.handle().stat("grant refresh_token"), 1, "no second refresh was needed");
    let after = env.read_config();
    assert_eq!(others(&after), others(&before));
    assert_ne!(after["IAMRefreshToken"], before["IAMRefreshToken"]);
}

#[test]
fn a_read_only_config_folder_does_not_lose_the_session() {
    let env = TestEnv::new();
    env.handle().world().token_lifetime_secs = 5;
    env.login(keys::VIEWER, Some("us-south"));
    env.handle().world().token_lifetime_secs = 3600;
    let before = env.read_config();
    // The journal cannot be created beside config.json (a read-only folder; the failpoint
    // stands in for the permission, which root would ignore), the file itself is writable.
    let out =
        env.command(&["info", "--cluster", "shop-vpc"]).env(var::CAK_FAILPOINT, "journal-unwritable").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(env.handle().stat("grant refresh_token"), 1);
    let after = env.read_config();
    assert_ne!(after["IAMRefreshToken"], before["IAMRefreshToken"], "the new refresh token was saved");
    assert_eq!(others(&after), others(&before));
    // The next run uses the saved session: no "log in again", no second refresh.
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    r.exits(0);
    assert_eq!(env.handle().stat("grant refresh_token"), 1);
}
