//! Issue #25: one rate budget for every process of the machine. IBM limits requests per source
//! address; two commands at once must stay under that limit together, and a broken state file
//! must never stop a command.

use std::path::Path;
use std::process::Output;

use cluster_api_key_core::env as var;
use cluster_api_key_emulator::world::keys;

use crate::common::TestEnv;

/// A logged-in owner, against an emulator that enforces a limit of 22 requests per 2 s (IBM's
/// shape, smaller so that one `status` of the default world spends more than its burst), and a
/// tool told 20 per 2 s. The emulator's bucket is 10% larger than the limit the tool is told:
/// on a loaded 2-core machine two requests sent on their slots may arrive closer together than
/// that (the other tests and builds run beside), and a 1-token margin met a 429 once in a
/// full run; what is tested is that one budget stays under the limit, not the scheduler.
fn limited() -> TestEnv {
    let mut env = TestEnv::new();
    env.login(keys::OWNER, Some("us-south"));
    env.extra_env.insert(var::CAK_RATE_LIMIT.into(), "20/2".into());
    env.handle().set_knobs(|k| {
        k.rate_limit = true;
        k.rate_limit_max = 22;
        k.rate_limit_window_ms = 2_000;
    });
    env
}

/// Runs `status` twice at once, each with `homes[i]` as its plugin folder.
fn two_at_once(env: &TestEnv, homes: [&Path; 2]) -> Vec<Output> {
    let children: Vec<_> = homes
        .iter()
        .map(|home| {
            let mut cmd = env.command(&["status", "--output", "json"]);
            cmd.env(var::CAK_HOME, home).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    children.into_iter().map(|c| c.wait_with_output().unwrap()).collect()
}

#[test]
fn two_processes_share_one_rate_budget_and_stay_under_the_limit_together() {
    let env = limited();
    let dir = tempfile::tempdir().unwrap();
    let (a, b, shared) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("shared"));
    // The control: each process with a budget of its own starts with a full burst, and together
    // they exceed the limit.
    for out in two_at_once(&env, [&a, &b]) {
        assert!(out.status.code() == Some(3), "{out:?}");
    }
    let refused = env.handle().stat("rate_limited");
    assert!(refused > 0, "two budgets meet 429s: {:?}", env.handle().stats());
    let sent = env.handle().stats().values().sum::<u64>();
    // Let the emulator's bucket fill again (2 s window), then the same two with one budget.
    std::thread::sleep(std::time::Duration::from_millis(2_500));
    for out in two_at_once(&env, [&shared, &shared]) {
        assert!(out.status.code() == Some(3), "{out:?}");
    }
    assert_eq!(env.handle().stat("rate_limited"), refused, "one budget: no 429 at all");
    assert!(env.handle().stats().values().sum::<u64>() - sent > 40, "more than the limit's burst was sent");
    assert!(shared.join("ratelimit.json").is_file());
}

/// Writes a budget state that owes `tokens` (negative: slots reserved ahead) as of now.
fn owe(env: &TestEnv, tokens: f64) {
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    std::fs::create_dir_all(env.plugin_dir()).unwrap();
    std::fs::write(env.plugin_dir().join("ratelimit.json"), format!("{{\"tokens\": {tokens}, \"at_ms\": {now_ms}}}"))
        .unwrap();
}

/// Requests the emulator has answered on IBM's routes (not its Kubernetes APIs).
fn ibm_requests(env: &TestEnv) -> u64 {
    env.handle()
        .stats()
        .iter()
        .filter(|(k, _)| !k.starts_with("k8s ") && *k != "rate_limited" && *k != "fault")
        .map(|(_, v)| v)
        .sum()
}

#[test]
fn a_corrupt_state_file_is_recovered_and_a_long_wait_is_said_at_a_terminal() {
    let env = limited();
    let state = env.plugin_dir().join("ratelimit.json");
    std::fs::create_dir_all(env.plugin_dir()).unwrap();
    std::fs::write(&state, b"\0\0not json").unwrap();
    env.run(&["info", "--cluster", "shop-vpc"]).success();
    let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert!(written["tokens"].is_number(), "rewritten: {written}");
    // Another process spent the budget 4 s ahead: this one waits, and at a terminal says why.
    owe(&env, -38.0);
    let mut p = rexpect::session::spawn_command(env.command(&["info", "--cluster", "shop-vpc"]), Some(60_000)).unwrap();
    p.exp_string("Other cluster-api-key commands are using the rate budget IBM allows this machine: waiting").unwrap();
    p.exp_eof().unwrap();
    // In a pipe the same wait is waited, and not said: the line is for a person watching.
    owe(&env, -38.0);
    let started = std::time::Instant::now();
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    r.success().stderr_lacks("rate budget");
    assert!(started.elapsed() >= std::time::Duration::from_secs(3), "it waited for its slot");
    assert_eq!(env.handle().stat("rate_limited"), 0);
}

#[test]
fn a_queue_of_minutes_is_waited_never_restarted_full() {
    let env = limited();
    // Other processes reserved two minutes ahead (20/2: 9.5 requests a second, so 1,140 slots),
    // more than the minute after which the budget once took its file for broken and started
    // again with a full burst, into IBM's 429s.
    owe(&env, -1_140.0);
    let before = ibm_requests(&env);
    let mut child = env
        .command(&["info", "--cluster", "shop-vpc"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Counted, not timed: in five seconds a restarted bucket sends its requests at once; a real
    // queue sends none, and the file owes more, not less.
    std::thread::sleep(std::time::Duration::from_secs(5));
    assert!(child.try_wait().unwrap().is_none(), "still waiting for its slot");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(ibm_requests(&env), before, "{:?}", env.handle().stats());
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.plugin_dir().join("ratelimit.json")).unwrap()).unwrap();
    assert!(state["tokens"].as_f64().unwrap() < -1_100.0, "the queue was kept: {state}");
    // The control: a debt of half a second is paid at once, and the same run goes through.
    owe(&env, -4.0);
    env.run(&["info", "--cluster", "shop-vpc"]).success();
    assert!(ibm_requests(&env) > before, "{:?}", env.handle().stats());
}

#[test]
fn many_processes_at_once_meet_no_429() {
    let mut env = TestEnv::new();
    env.login(keys::OWNER, Some("us-south"));
    env.extra_env.insert(var::CAK_RATE_LIMIT.into(), "40/4".into());
    // The emulator's bucket is 10% larger than the shared budget: a request counted by the
    // budget at one instant reaches the emulator a little later on a loaded machine, and a
    // burst that arrives late refills the bucket less before the next one (arrival jitter, not
    // pacing). Without one shared budget, eight runs would send six times the burst at once.
    env.handle().set_knobs(|k| {
        k.rate_limit = true;
        k.rate_limit_max = 44;
        k.rate_limit_window_ms = 4_000;
    });
    // Eight `status` runs of about 30 requests each, sharing the plugin folder: six times the
    // burst, paced by one budget.
    let children: Vec<_> = (0..8)
        .map(|_| {
            env.command(&["status", "--output", "json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for out in children.into_iter().map(|c| c.wait_with_output().unwrap()) {
        assert_eq!(out.status.code(), Some(3), "{out:?}");
    }
    assert!(ibm_requests(&env) > 200, "{:?}", env.handle().stats());
    assert_eq!(env.handle().stat("rate_limited"), 0, "{:?}", env.handle().stats());
}

#[test]
fn a_budget_file_locked_by_another_process_is_given_up_on_and_said() {
    let env = limited();
    std::fs::create_dir_all(env.plugin_dir()).unwrap();
    // The lock the budget takes (`flock`, exclusive), held by the test as a stopped process
    // would hold it.
    let held = std::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(env.plugin_dir().join("ratelimit.json"))
        .unwrap();
    held.lock().unwrap();
    let started = std::time::Instant::now();
    let r = env.run(&["info", "--cluster", "shop-vpc", "--output", "json"]);
    // Before, every request waited 2 s for the lock, one after the other: minutes, silently.
    // A bound no run meets by chance (the run takes the 3 s patience once, then a few seconds).
    assert!(started.elapsed() < std::time::Duration::from_secs(40), "{:?}", started.elapsed());
    r.success();
    r.stderr_has("ratelimit.json held for more than 3 s): this command goes on with a budget of its own, a quarter of the limit.");
    assert_eq!(r.stderr.matches("budget of its own").count(), 1, "said once: {r:?}");
    serde_json::from_str::<serde_json::Value>(&r.stdout).expect("stdout is still one JSON document");
    assert_eq!(env.handle().stat("rate_limited"), 0);
    // The control: the lock released, the shared budget is used again, and nothing is said.
    held.unlock().unwrap();
    crate::assert_run!(env, "scale-shared-budget-again-nothing-said", env.run(&["info", "--cluster", "shop-vpc"]));
}

#[test]
fn a_large_accounts_status_text_is_a_summary_then_the_targets_with_findings() {
    let mut world = cluster_api_key_emulator::World::scaled(5, 12, 7);
    // Recent keys, and a policy that names the functional ID: the targets whose key it owns
    // alone have no findings.
    for k in &mut world.api_keys {
        k.created_at = String::from("2026-11-01T09:00:00Z");
    }
    let env = TestEnv::with_world(world);
    env.login(keys::FUNCTIONAL, Some("us-south"));
    std::fs::create_dir_all(env.plugin_dir()).unwrap();
    std::fs::write(
        env.plugin_dir().join("policy.toml"),
        format!("functional_ids = [\"{}\"]\n", cluster_api_key_emulator::world::FUNCTIONAL),
    )
    .unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&env.run(&["status", "--output", "json", "--fail-on", "never"]).stdout).unwrap();
    let targets = v["targets"].as_array().unwrap();
    assert!(targets.len() > 40, "a large account: {}", targets.len());
    let clean: Vec<(String, String)> = targets
        .iter()
        .filter(|t| t["findings"].as_array().unwrap().is_empty())
        .map(|t| (t["region"].as_str().unwrap().to_owned(), t["resourceGroupName"].as_str().unwrap().to_owned()))
        .collect();
    // Whether a table row shows the target.
    let shows = |out: &str, (region, group): &(String, String)| {
        out.lines().any(|l| {
            let mut words = l.split_whitespace();
            words.next() == Some(region.as_str()) && words.next() == Some(group.as_str())
        })
    };
    assert!(!clean.is_empty(), "the world has targets without findings");
    let r = env.run(&["status", "--fail-on", "never"]);
    r.success();
    // The summary comes first, then what is found how often.
    let lines: Vec<&str> = r.stdout.lines().skip_while(|l| *l != "OK").filter(|l| !l.trim().is_empty()).collect();
    assert!(lines[1].starts_with(&format!("{} targets: ", targets.len())), "{}", r.stdout);
    assert!(
        lines[2].starts_with("Finding ") && lines[2].contains("Severity") && lines[2].contains("Targets"),
        "{}",
        r.stdout
    );
    r.stdout_has(&format!(
        "{} targets without findings to fix are not shown: 'cluster-api-key status --all'",
        clean.len()
    ));
    for c in &clean {
        assert!(!shows(&r.stdout, c), "{c:?} is hidden");
    }
    // The printed command shows them, and what to do for each target.
    let all = env.run(&["status", "--fail-on", "never", "--all"]);
    for c in &clean {
        assert!(shows(&all.stdout, c), "{c:?} is shown with --all");
    }
    all.stdout_has("What to fix:").stdout_lacks("not shown");
    // CSV is complete whatever the size.
    let csv = env.run(&["status", "--fail-on", "never", "-o", "csv"]);
    assert_eq!(csv.stdout.lines().count(), targets.len() + 1);
}

#[test]
fn long_json_documents_are_written_a_target_at_a_time_exactly_as_whole_ones() {
    let env = TestEnv::with_world(cluster_api_key_emulator::World::scaled(3, 5, 3));
    env.login(keys::FUNCTIONAL, Some("us-south"));
    for args in [
        &["status", "--output", "json", "--fail-on", "never"][..],
        &["check", "-r", "us-south,us-east,ca-tor", "-g", "Default,group-01,group-02", "--output", "json"][..],
        &["reset", "--all-regions", "--all-resource-groups", "--dry-run", "--output", "json"][..],
        &["reset", "--all-regions", "--all-resource-groups", "-f", "--no-verify", "--output", "json"][..],
    ] {
        let r = env.run(args);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {r:?}"));
        assert!(v["targets"].as_array().is_some_and(|t| t.len() > 5), "{args:?}");
        // The text is what serde_json writes for the whole document, byte for byte.
        assert_eq!(r.stdout, format!("{}\n", serde_json::to_string_pretty(&v).unwrap()), "{args:?}");
    }
    // An empty list keeps its place.
    let empty = TestEnv::with_world(cluster_api_key_emulator::World::scaled(1, 1, 3));
    empty.login(keys::FUNCTIONAL, Some("us-south"));
    empty.handle().world().clusters.clear();
    empty.handle().world().api_keys.retain(|k| k.name != "containers-kubernetes-key");
    let r = empty.run(&["status", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["targets"], serde_json::json!([]));
    assert_eq!(r.stdout, format!("{}\n", serde_json::to_string_pretty(&v).unwrap()));
}
