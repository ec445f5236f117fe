//! `cargo xtask bench`: measures the product against the emulator, side by side in one run, and
//! prints one table. Nothing here is a pass/fail test: machines are noisy, so the figures are
//! ratios and counts from the same run, reported, never asserted.
//!
//! `status` on a generated 12x10 world (`--world-scale 12x10`, 50 ms added to every request,
//! IBM's rate limit enforced): wall time (median of several runs) at the default concurrency
//! and at concurrency 1, requests and 429s per run (from the emulator's counters), peak RSS
//! (GNU time's `%M`, when `/usr/bin/time` exists).
//!
//! Then, unless `--skip-large`, every command that works across the account on a world of about
//! a thousand targets with clusters (`--world-scale 13x100`: IKS's 13 multizone regions, 100
//! resource groups), each against a fresh emulator enforcing IBM's limit: wall time, requests,
//! the floor IBM's limit sets for them and the ratio, 429s, and peak RSS against the 12x10 run.
//!
//! Every run gets a plugin folder of its own, so a fresh rate budget (`ratelimit.json`): runs of
//! separate processes back to back would otherwise pace each other, as they do for a user.

#![allow(clippy::cast_precision_loss, reason = "request counts and seconds are far below 2^52")]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The functional ID's API key in every emulated world (a test double's value).
const FUNCTIONAL_KEY: &str = "emulator-functional-apikey-000000000000000002";

/// One plain HTTP/1.1 request to the emulator on loopback; returns the body.
fn http(base: &str, method: &str, path: &str, form: Option<&str>) -> Result<Vec<u8>, String> {
    let host = base.trim_start_matches("http://").trim_end_matches('/');
    let mut s = TcpStream::connect(host).map_err(|e| format!("{host}: {e}"))?;
    let body = form.unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if form.is_some() {
        req.push_str(&format!("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no HTTP header end")?;
    Ok(raw[split + 4..].to_vec())
}

fn stats(base: &str) -> Result<(u64, u64), String> {
    let v: Value = serde_json::from_slice(&http(base, "GET", "/_emulator/stats", None)?).map_err(|e| e.to_string())?;
    let map = v.as_object().ok_or("stats are not an object")?;
    let limited = map.get("rate_limited").and_then(Value::as_u64).unwrap_or(0);
    let requests = map
        .iter()
        .filter(|(k, _)| k.starts_with(|c: char| c.is_ascii_uppercase()))
        .filter_map(|(_, v)| v.as_u64())
        .sum();
    Ok((requests, limited))
}

struct Emulator {
    child: Child,
    base: String,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_emulator(bin: &Path, args: &[&str]) -> Result<Emulator, String> {
    let mut child = Command::new(bin)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out).read_line(&mut line).map_err(|e| e.to_string())?;
    }
    let base = line.trim().strip_prefix("listening on ").ok_or_else(|| format!("unexpected first line '{line}'"))?;
    Ok(Emulator { child, base: base.to_owned() })
}

/// A CLI config logged in as the functional ID, as `ibmcloud login --apikey` leaves it.
/// Returns the access token (for the `curl` comparison).
fn login(base: &str, home: &Path) -> Result<String, String> {
    let form = format!("grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&apikey={FUNCTIONAL_KEY}");
    let v: Value =
        serde_json::from_slice(&http(base, "POST", "/identity/token", Some(&form))?).map_err(|e| e.to_string())?;
    let (at, rt) =
        (v["access_token"].as_str().ok_or("no access token")?, v["refresh_token"].as_str().unwrap_or_default());
    let cfg = serde_json::json!({
        "IAMToken": format!("Bearer {at}"),
        "IAMRefreshToken": rt,
        "Region": "us-south",
        "Account": {"GUID": "a1b2c3d4e5f60718293a4b5c6d7e8f90", "Name": "Example Corp"},
    });
    let dir = home.join(".bluemix");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("config.json"), cfg.to_string()).map_err(|e| e.to_string())?;
    Ok(at.to_owned())
}

/// The median wall time of `n` runs of a command.
fn median_wall(n: usize, mut make: impl FnMut() -> Command) -> Result<Duration, String> {
    let mut walls = Vec::with_capacity(n);
    for _ in 0..n {
        let mut cmd = make();
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        let start = Instant::now();
        let status = cmd.status().map_err(|e| e.to_string())?;
        walls.push(start.elapsed());
        if !status.success() {
            return Err(format!("{cmd:?} failed"));
        }
    }
    walls.sort();
    Ok(walls[n / 2])
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// One measured run.
struct Run {
    wall: Duration,
    requests: u64,
    limited: u64,
    rss_kib: Option<u64>,
    targets: usize,
}

fn run_status(bin: &Path, base: &str, home: &Path, concurrency: u32) -> Result<Run, String> {
    run_cli(bin, base, home, &["status", "--output", "json", "--fail-on", "never"], concurrency).map(|(r, _)| r)
}

/// Runs so far (each gets its own plugin folder).
static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Runs the binary with `args` against the emulator (`concurrency` 0: the default pool);
/// returns the measures and the JSON.
fn run_cli(bin: &Path, base: &str, home: &Path, args: &[&str], concurrency: u32) -> Result<(Run, Value), String> {
    run_cli_with(bin, base, home, args, concurrency, &[])
}

/// [`run_cli`] with more environment (`extra`).
fn run_cli_with(
    bin: &Path,
    base: &str,
    home: &Path,
    args: &[&str],
    concurrency: u32,
    extra: &[(&str, &str)],
) -> Result<(Run, Value), String> {
    let time = Path::new("/usr/bin/time");
    let rss_file = home.join("rss.txt");
    let _ = std::fs::remove_file(&rss_file);
    // A fresh rate budget per run: see the module's documentation.
    let plugin = home.join(format!("plugin-{}", RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)));
    let mut cmd = if time.exists() {
        let mut c = Command::new(time);
        c.arg("-f").arg("%M").arg("-o").arg(&rss_file).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("IBMCLOUD_HOME", home)
        .env("IAM_ENDPOINT", base)
        .env("IBMCLOUD_CS_API_ENDPOINT", format!("{base}/global"))
        .env("CLUSTER_API_KEY_RESOURCE_MANAGER_ENDPOINT", base)
        .env("CLUSTER_API_KEY_USER_MANAGEMENT_ENDPOINT", base)
        .env("CLUSTER_API_KEY_ACCOUNT_MANAGEMENT_ENDPOINT", base)
        .env("CLUSTER_API_KEY_ACCOUNTS_ENDPOINT", base)
        .env("CLUSTER_API_KEY_ENTERPRISE_ENDPOINT", base)
        .env("CLUSTER_API_KEY_HOME", &plugin);
    if concurrency > 0 {
        cmd.env("CLUSTER_API_KEY_CONCURRENCY", concurrency.to_string());
    }
    cmd.envs(extra.iter().copied());
    let (before, limited_before) = stats(base)?;
    let start = Instant::now();
    let out = cmd.output().map_err(|e| e.to_string())?;
    let wall = start.elapsed();
    let (after, limited_after) = stats(base)?;
    let v: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("{} did not print JSON ({e}): {}", args[0], String::from_utf8_lossy(&out.stderr)))?;
    if v.get("error").is_some() {
        return Err(format!("{} failed: {v}", args[0]));
    }
    let rss_kib = std::fs::read_to_string(&rss_file).ok().and_then(|t| t.trim().lines().last()?.trim().parse().ok());
    let run = Run {
        wall,
        requests: after - before,
        limited: limited_after - limited_before,
        rss_kib,
        targets: v["targets"].as_array().map_or(0, Vec::len),
    };
    Ok((run, v))
}

/// IBM's documented limit as a physical floor: a burst of 200, then 20 requests per second.
fn floor_secs(requests: u64) -> f64 {
    requests.saturating_sub(200) as f64 / 20.0
}

fn median(mut runs: Vec<Run>) -> Run {
    runs.sort_by_key(|r| r.wall);
    let mid = runs.len() / 2;
    runs.swap_remove(mid)
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| String::from("n/a"), |k| format!("{}.{} MiB", k / 1024, (k % 1024) * 10 / 1024))
}

/// Which parts of the benchmark run.
pub struct Parts {
    /// The 12x10 tables.
    small: bool,
    /// The worlds of a thousand targets (grid and uneven).
    large: bool,
    /// The enterprises (20 accounts of 50 targets, 200 accounts of 2).
    accounts: bool,
}

impl Parts {
    /// `--skip-large`, `--skip-accounts`, `--only large|accounts`.
    ///
    /// # Errors
    /// An unknown argument.
    pub fn from_args(args: &[String]) -> Result<Self, String> {
        let mut parts = Self { small: true, large: true, accounts: true };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match (a.as_str(), it.as_slice().first().map(String::as_str)) {
                ("--skip-large", _) => parts.large = false,
                ("--skip-accounts", _) => parts.accounts = false,
                ("--only", Some(which @ ("large" | "accounts"))) => {
                    it.next();
                    parts = Self { small: false, large: which == "large", accounts: which == "accounts" };
                }
                _ => return Err(format!("bench: unexpected argument '{a}'")),
            }
        }
        Ok(parts)
    }
}

/// Runs the benchmarks and prints the table.
///
/// # Errors
/// When building, starting the emulator or a run fails.
pub fn bench(root: &Path, parts: &Parts) -> Result<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| String::from("cargo"));
    let built = Command::new(&cargo)
        .current_dir(root)
        .args(["build", "--release", "-p", "cluster-api-key", "-p", "cluster-api-key-emulator"])
        .status()
        .map_err(|e| e.to_string())?;
    if !built.success() {
        return Err(String::from("cargo build --release failed"));
    }
    // The binary users download: built here too (a no-op when fresh), so its size is never that
    // of older sources.
    let dist_built = Command::new(&cargo)
        .current_dir(root)
        .args(["build", "--profile", "dist", "-p", "cluster-api-key"])
        .status()
        .map_err(|e| e.to_string())?;
    if !dist_built.success() {
        return Err(String::from("cargo build --profile dist failed"));
    }
    let release = root.join("target/release");
    let (bin, emu_bin) = (release.join("cluster-api-key"), release.join("cluster-api-key-emulator"));
    let world = ["--world-scale", "12x10", "--latency", "50"];
    let home = std::env::temp_dir().join(format!("cak-bench-{}", std::process::id()));
    let _cleanup = Cleanup(home.clone());
    if !parts.small {
        let mut out = String::new();
        if parts.large {
            out.push_str(&uneven(&bin, &emu_bin, &home)?);
        }
        if parts.accounts {
            out.push_str(&enterprises(&bin, &emu_bin, &home)?);
        }
        return Ok(out);
    }
    // Timing: IBM's limit is per source address and 10 s wide, so back-to-back runs of separate
    // processes would throttle each other; the timed runs go to an emulator without the limit,
    // and one run per column goes to a fresh emulator that enforces it, to count 429s.
    let emu = start_emulator(&emu_bin, &world)?;
    let token = login(&emu.base, &home)?;
    // A warm-up run, so that both columns start from the same state.
    let (_, warm) = run_cli(&bin, &emu.base, &home, &["status", "--output", "json", "--fail-on", "never"], 0)?;
    // Startup: the host's metadata request against a process that does nothing.
    let startup = median_wall(20, || {
        let mut c = Command::new(&bin);
        c.arg("SendMetadata");
        c
    })?;
    let true_cmd = median_wall(20, || Command::new("true"))?;
    // `info` against curl sending the same request (curl is not always installed).
    let (cluster, group) = warm["targets"]
        .as_array()
        .and_then(|t| t.iter().find(|t| !t["clusters"].as_array().is_none_or(Vec::is_empty)))
        .map(|t| {
            (
                t["clusters"][0]["name"].as_str().unwrap_or_default().to_owned(),
                t["resourceGroupId"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .ok_or("no cluster in the world")?;
    let info = median_wall(9, || {
        let mut c = Command::new(&bin);
        c.args(["info", "--cluster", &cluster, "-g", &group, "-q"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("IBMCLOUD_HOME", &home)
            .env("IAM_ENDPOINT", &emu.base)
            .env("IBMCLOUD_CS_API_ENDPOINT", format!("{}/global", emu.base))
            .env("CLUSTER_API_KEY_RESOURCE_MANAGER_ENDPOINT", &emu.base)
            // Every service `info` may ask (the owner's membership too): only the emulator,
            // never IBM's default endpoints.
            .env("CLUSTER_API_KEY_USER_MANAGEMENT_ENDPOINT", &emu.base)
            .env("CLUSTER_API_KEY_ACCOUNT_MANAGEMENT_ENDPOINT", &emu.base)
            .env("CLUSTER_API_KEY_ACCOUNTS_ENDPOINT", &emu.base)
            .env("CLUSTER_API_KEY_ENTERPRISE_ENDPOINT", &emu.base);
        c
    });
    let curl = median_wall(9, || {
        let mut c = Command::new("curl");
        c.args([
            "-sf",
            "-H",
            &format!("Authorization: Bearer {token}"),
            "-H",
            &format!("X-Auth-Resource-Group: {group}"),
        ])
        .arg(format!("{}/global/v1/logging/{cluster}/clusterkeyowner", emu.base));
        c
    });
    let fast = median((0..5).map(|_| run_status(&bin, &emu.base, &home, 0)).collect::<Result<_, _>>()?);
    let slow = median((0..3).map(|_| run_status(&bin, &emu.base, &home, 1)).collect::<Result<_, _>>()?);
    // The fixed pool of before (32), against the pool sized from the budget.
    let old_pool = median((0..5).map(|_| run_status(&bin, &emu.base, &home, 32)).collect::<Result<_, _>>()?);
    drop(emu);
    let limited = |concurrency| -> Result<Run, String> {
        let emu = start_emulator(&emu_bin, &[&world[..], &["--rate-limit"]].concat())?;
        login(&emu.base, &home)?;
        run_status(&bin, &emu.base, &home, concurrency)
    };
    let (fast_limited, slow_limited) = (limited(0)?, limited(1)?);
    let ratio = slow.wall.as_secs_f64() / fast.wall.as_secs_f64().max(1e-9);
    // The batch commands change the account: each run gets a fresh emulator that enforces
    // IBM's limit (a fresh window), on the same generated world.
    let batch = |args: &[&str], concurrency: u32| -> Result<(Run, Value), String> {
        let emu = start_emulator(&emu_bin, &[&world[..], &["--rate-limit"]].concat())?;
        login(&emu.base, &home)?;
        run_cli(&bin, &emu.base, &home, args, concurrency)
    };
    let fleet_args = ["reset", "--all-regions", "--all-resource-groups", "-f", "--no-verify", "--output", "json"];
    let (fleet_fast, fleet_v) = batch(&fleet_args, 0)?;
    let (fleet_slow, _) = batch(&[&fleet_args[..], &["--concurrency", "1"]].concat(), 1)?;
    let prune_args = ["prune", "-f", "--include-orphans", "--output", "json"];
    let (prune_fast, prune_v) = batch(&prune_args, 0)?;
    // `check` of every target, for the peak RSS the large run compares with.
    let (regions, groups) = regions_and_groups(&warm);
    let check_args = ["check", "-r", &regions, "-g", &groups, "--output", "json"];
    let (check_small, _) = batch(&check_args, 0)?;
    let (prune_slow, _) = batch(&prune_args, 1)?;
    let resets = fleet_v["summary"]["reset"].as_u64().unwrap_or(0);
    let pruned = prune_v["summary"]["done"].as_u64().unwrap_or(0);
    // Discovery and the pre-flight are the status run's requests plus a constant; the rest is
    // what each reset costs.
    let per_reset = (fleet_fast.requests.saturating_sub(fast.requests) as f64) / resets.max(1) as f64;
    let mut out = String::new();
    let dist = root.join("target/dist/cluster-api-key");
    let dist_bytes = std::fs::metadata(&dist).map(|m| m.len()).ok();
    let size = std::fs::metadata(&dist).map_or_else(
        |e| format!("unreadable ({e})"),
        |m| format!("{}.{} MiB", m.len() >> 20, ((m.len() & 0xF_FFFF) * 10) >> 20),
    );
    out.push_str("| measure | cluster-api-key | reference | ratio |\n|---|---|---|---|\n");
    out.push_str(&format!(
        "| startup (`SendMetadata`, median of 20) | {} | {} (`true`) | {:.1}x |\n",
        ms(startup),
        ms(true_cmd),
        startup.as_secs_f64() / true_cmd.as_secs_f64().max(1e-9)
    ));
    match (&info, &curl) {
        (Ok(i), Ok(c)) => out.push_str(&format!(
            "| `info --cluster` at 50 ms latency (median of 9) | {} | {} (`curl`, the key owner request alone) | {:.2}x |\n",
            ms(*i),
            ms(*c),
            i.as_secs_f64() / c.as_secs_f64().max(1e-9)
        )),
        (Ok(i), Err(e)) => out.push_str(&format!("| `info --cluster` at 50 ms latency | {} | curl: {e} | |\n", ms(*i))),
        (Err(e), _) => return Err(e.clone()),
    }
    out.push_str(&format!("| dist binary (stripped, fat LTO, sandbox inside) | {size} | | |\n\n"));
    out.push_str(&format!(
        "status, 12x10 world ({} targets), 50 ms per request; wall time: medians of 5 and 3 runs; 429s: one run against an emulator enforcing IBM's 200 requests / 10 s\n\n",
        fast.targets
    ));
    out.push_str("| measure | default pool (the budget's burst, 128) | concurrency 1 | ratio |\n|---|---|---|---|\n");
    out.push_str(&format!(
        "| wall time | {:.3} s | {:.3} s | {ratio:.1}x faster |\n",
        fast.wall.as_secs_f64(),
        slow.wall.as_secs_f64()
    ));
    out.push_str(&format!(
        "| wall time with the old fixed pool of 32 | {:.3} s | | {:.2}x the default's |\n",
        old_pool.wall.as_secs_f64(),
        old_pool.wall.as_secs_f64() / fast.wall.as_secs_f64().max(1e-9)
    ));
    out.push_str(&format!("| requests per run | {} | {} | |\n", fast.requests, slow.requests));
    // Below IBM's floor, round trips are the cost: the wall time in round trips of 50 ms, to set
    // against the dependent round trips the README counts.
    out.push_str(&format!(
        "| wall time in 50 ms round trips | {:.1} | {:.1} | |\n",
        fast.wall.as_secs_f64() / 0.05,
        slow.wall.as_secs_f64() / 0.05
    ));
    out.push_str(&format!(
        "| 429s (rate limit on) | {} of {} requests | {} of {} requests | |\n",
        fast_limited.limited, fast_limited.requests, slow_limited.limited, slow_limited.requests
    ));
    out.push_str(&format!("| peak RSS | {} | {} | |\n", mib(fast.rss_kib), mib(slow.rss_kib)));
    out.push_str(&format!(
        "\nbatch commands on the same world, 50 ms per request, IBM's rate limit enforced (one run each, fresh account): `reset --all-regions --all-resource-groups -f --no-verify` ({resets} targets reset) and `prune -f --include-orphans` ({pruned} keys removed)\n\n"
    ));
    out.push_str("| measure | reset, concurrency 8 (default) | reset, concurrency 1 | prune, default | prune, concurrency 1 |\n|---|---|---|---|---|\n");
    out.push_str(&format!(
        "| wall time | {:.2} s | {:.2} s | {:.2} s | {:.2} s |\n",
        fleet_fast.wall.as_secs_f64(),
        fleet_slow.wall.as_secs_f64(),
        prune_fast.wall.as_secs_f64(),
        prune_slow.wall.as_secs_f64()
    ));
    out.push_str(&format!(
        "| ratio to concurrency 1 | {:.1}x faster | | {:.1}x faster | |\n",
        fleet_slow.wall.as_secs_f64() / fleet_fast.wall.as_secs_f64().max(1e-9),
        prune_slow.wall.as_secs_f64() / prune_fast.wall.as_secs_f64().max(1e-9)
    ));
    out.push_str(&format!(
        "| requests | {} | {} | {} | {} |\n",
        fleet_fast.requests, fleet_slow.requests, prune_fast.requests, prune_slow.requests
    ));
    out.push_str(&format!(
        "| IBM's floor for those requests (200 burst, then 20/s) | {:.2} s | | {:.2} s | |\n",
        floor_secs(fleet_fast.requests),
        floor_secs(prune_fast.requests)
    ));
    out.push_str(&format!(
        "| 429s | {} | {} | {} | {} |\n",
        fleet_fast.limited, fleet_slow.limited, prune_fast.limited, prune_slow.limited
    ));
    out.push_str(&format!("| requests per reset target, besides discovery | {per_reset:.1} | | | |\n"));
    out.push_str(&format!(
        "| peak RSS | {} | {} | {} | {} |\n",
        mib(fleet_fast.rss_kib),
        mib(fleet_slow.rss_kib),
        mib(prune_fast.rss_kib),
        mib(prune_slow.rss_kib)
    ));
    if parts.large {
        let small =
            [("status", &fast_limited), ("check", &check_small), ("reset", &fleet_fast), ("prune", &prune_fast)];
        out.push_str(&thousand(&bin, &emu_bin, &home, &small)?);
        out.push_str(&uneven(&bin, &emu_bin, &home)?);
    }
    if parts.accounts {
        out.push_str(&enterprises(&bin, &emu_bin, &home)?);
    }
    // The guard: every `ibmcloud plugin install` downloads this binary. The table is printed
    // either way, so a failed guard still shows what was measured.
    if let Some(bytes) = dist_bytes.filter(|b| *b > DIST_GUARD_BYTES) {
        return Err(format!(
            "{out}\nthe dist binary is {bytes} bytes, over the {DIST_GUARD_BYTES}-byte (10 MiB) guard: see README.md, Performance, for where its bytes go"
        ));
    }
    Ok(out)
}

/// The most the dist binary may weigh (10 MiB); `cargo xtask bench` fails above it.
const DIST_GUARD_BYTES: u64 = 10 << 20;

/// The account-wide commands on a world of about a thousand targets with clusters, each on a
/// fresh emulator that enforces IBM's limit; `small` holds the 12x10 runs, for peak RSS.
fn thousand(bin: &Path, emu_bin: &Path, home: &Path, small: &[(&str, &Run)]) -> Result<String, String> {
    let world = ["--world-scale", "13x100", "--latency", "50", "--rate-limit"];
    let fresh = |args: &[&str]| -> Result<(Run, Value), String> {
        let emu = start_emulator(emu_bin, &world)?;
        login(&emu.base, home)?;
        run_cli(bin, &emu.base, home, args, 0)
    };
    let (status, v) = fresh(&["status", "--output", "json", "--fail-on", "never"])?;
    let with_clusters = v["targets"]
        .as_array()
        .map_or(0, |t| t.iter().filter(|t| t["clusters"].as_array().is_some_and(|c| !c.is_empty())).count());
    let (regions, groups) = regions_and_groups(&v);
    let check_args = ["check", "-r", &regions, "-g", &groups, "--output", "json"];
    let (check, _) = fresh(&check_args)?;
    let (reset, reset_v) =
        fresh(&["reset", "--all-regions", "--all-resource-groups", "-f", "--no-verify", "--output", "json"])?;
    let (prune, prune_v) = fresh(&["prune", "-f", "--include-orphans", "--output", "json"])?;
    let resets = reset_v["summary"]["reset"].as_u64().unwrap_or(0);
    let pruned = prune_v["summary"]["done"].as_u64().unwrap_or(0);
    let mut out = format!(
        "\nevery account-wide command on a 13x100 world ({} targets, {with_clusters} with clusters), 50 ms per request, IBM's limit enforced, default settings, one run each on a fresh account; `reset --all-regions --all-resource-groups -f --no-verify` reset {resets}, `prune -f --include-orphans` removed {pruned}\n\n",
        status.targets
    );
    out.push_str("| measure | status | check (every target) | batch reset | prune |\n|---|---|---|---|---|\n");
    let runs = [&status, &check, &reset, &prune];
    let row = |name: &str, f: &dyn Fn(&Run) -> String| {
        format!("| {name} | {} |\n", runs.iter().map(|r| f(r)).collect::<Vec<_>>().join(" | "))
    };
    out.push_str(&row("wall time", &|r| format!("{:.1} s", r.wall.as_secs_f64())));
    out.push_str(&row("requests", &|r| r.requests.to_string()));
    out.push_str(&row("requests per target with clusters", &|r| {
        format!("{:.2}", r.requests as f64 / with_clusters.max(1) as f64)
    }));
    out.push_str(&row("IBM's floor for those requests", &|r| format!("{:.1} s", floor_secs(r.requests))));
    out.push_str(&row("wall time / (floor + 1 s)", &|r| {
        format!("{:.2}", r.wall.as_secs_f64() / (floor_secs(r.requests) + 1.0))
    }));
    out.push_str(&row("429s", &|r| r.limited.to_string()));
    out.push_str(&row("peak RSS", &|r| mib(r.rss_kib)));
    let growth: Vec<String> = runs
        .iter()
        .zip(small)
        .map(|(big, (_, small))| match (big.rss_kib, small.rss_kib) {
            (Some(b), Some(s)) if s > 0 => format!("{:.2}x", b as f64 / s as f64),
            _ => String::from("n/a"),
        })
        .collect();
    out.push_str(&format!("| peak RSS, 13x100 / 12x10 | {} |\n", growth.join(" | ")));
    Ok(out)
}

/// `status` on an uneven world of about a thousand targets with clusters (`--world-scale 13x100
/// --uneven`: most groups with one or two clusters, a few with dozens, 60 owners with many keys
/// each), IBM's limit enforced: the shape where a chain of key pages once waited behind the
/// pool at every page.
fn uneven(bin: &Path, emu_bin: &Path, home: &Path) -> Result<String, String> {
    let emu = start_emulator(emu_bin, &["--world-scale", "13x100", "--uneven", "--latency", "50", "--rate-limit"])?;
    login(&emu.base, home)?;
    let (r, v) = run_cli(bin, &emu.base, home, &["status", "--output", "json", "--fail-on", "never"], 0)?;
    let targets = v["targets"].as_array().map_or(&[][..], Vec::as_slice);
    let with_clusters = targets.iter().filter(|t| t["clusters"].as_array().is_some_and(|c| !c.is_empty())).count();
    let clusters: usize = targets.iter().map(|t| t["clusters"].as_array().map_or(0, Vec::len)).sum();
    let floor = floor_secs(r.requests);
    Ok(format!(
        "\n`status` on an uneven 13x100 world ({} targets, {with_clusters} with clusters, {clusters} clusters, 60 key owners), 50 ms per request, IBM's limit enforced, one run\n\n| measure | status |\n|---|---|\n| wall time | {:.1} s |\n| requests | {} |\n| IBM's floor for those requests | {floor:.1} s |\n| wall time / floor | {:.3} |\n| wall time / (floor + 1 s) | {:.3} |\n| 429s | {} |\n| peak RSS | {} |\n",
        r.targets,
        r.wall.as_secs_f64(),
        r.requests,
        r.wall.as_secs_f64() / floor.max(1e-9),
        r.wall.as_secs_f64() / (floor + 1.0),
        r.limited,
        mib(r.rss_kib)
    ))
}

/// `status --all-accounts` on two enterprises, each on a fresh emulator that enforces IBM's
/// limit per account, 50 ms per request: 20 accounts of about 50 targets (`--world-scale 5x10`)
/// against `status` of one of them, and 200 accounts of 2 targets (`--world-scale 1x2`). The
/// goals (issue #31): the first within 1.3x the largest account's floor plus a second, with
/// peak RSS under twice the one-account run's; the second within 1.5x the requests divided by
/// what the accounts in flight may send (each 20 a second).
fn enterprises(bin: &Path, emu_bin: &Path, home: &Path) -> Result<String, String> {
    let all = ["status", "--all-accounts", "--output", "json", "--fail-on", "never"];
    let enterprise = |accounts: &str, scale: &str| -> Result<Emulator, String> {
        let emu = start_emulator(
            emu_bin,
            &["--world-scale", scale, "--accounts", accounts, "--latency", "50", "--rate-limit"],
        )?;
        login(&emu.base, home)?;
        Ok(emu)
    };
    // One account alone (the targeted one), then all twenty, on separate fresh emulators.
    let emu = enterprise("20", "5x10")?;
    let (one, _) = run_cli(bin, &emu.base, home, &["status", "--output", "json", "--fail-on", "never"], 0)?;
    drop(emu);
    let emu = enterprise("20", "5x10")?;
    let (twenty, v) = run_cli(bin, &emu.base, home, &all, 0)?;
    drop(emu);
    // The same with an API key (a CI job's login): each account's token is one request of its
    // own, where a CLI session exchanges its refresh token twice per account, one account at a
    // time (refresh tokens rotate, and the config must keep a working one).
    let emu = enterprise("20", "5x10")?;
    let (twenty_key, _) = run_cli_with(bin, &emu.base, home, &all, 0, &[("IBMCLOUD_API_KEY", FUNCTIONAL_KEY)])?;
    drop(emu);
    let read = |v: &Value| v["accounts"].as_array().map_or(0, |a| a.iter().filter(|a| a["targets"].is_array()).count());
    let targets = |v: &Value| -> usize {
        v["accounts"].as_array().map_or(0, |a| a.iter().map(|a| a["targets"].as_array().map_or(0, Vec::len)).sum())
    };
    let emu = enterprise("200", "1x2")?;
    let (small, sv) = run_cli(bin, &emu.base, home, &all, 0)?;
    drop(emu);
    // The largest account's floor: its requests are about one account's (the accounts are
    // generated alike), measured by the one-account run.
    let largest_floor = floor_secs(one.requests);
    let in_flight = ACCOUNTS_IN_FLIGHT as f64;
    let small_floor = small.requests as f64 / (in_flight * 20.0);
    let mut out = format!(
        "\n`status --all-accounts`, 50 ms per request, IBM's limit enforced per account, one run each on a fresh emulator; {ACCOUNTS_IN_FLIGHT} accounts read at once\n\n"
    );
    out.push_str("| measure | one account (5x10) | 20 accounts of 5x10 (CLI session) | 20 accounts of 5x10 (API key) | 200 accounts of 1x2 (CLI session) |\n|---|---|---|---|---|\n");
    out.push_str(&format!(
        "| accounts read / targets | 1 / {} | {} / {} | {} / {} | {} / {} |\n",
        one.targets,
        read(&v),
        targets(&v),
        read(&v),
        targets(&v),
        read(&sv),
        targets(&sv)
    ));
    out.push_str(&format!(
        "| wall time | {:.2} s | {:.2} s | {:.2} s | {:.2} s |\n",
        one.wall.as_secs_f64(),
        twenty.wall.as_secs_f64(),
        twenty_key.wall.as_secs_f64(),
        small.wall.as_secs_f64()
    ));
    out.push_str(&format!(
        "| requests | {} | {} | {} | {} |\n",
        one.requests, twenty.requests, twenty_key.requests, small.requests
    ));
    out.push_str(&format!(
        "| the goal's reference | | largest account's floor + 1 s: {:.2} s | the same | requests / ({ACCOUNTS_IN_FLIGHT} x 20/s): {small_floor:.2} s |\n",
        largest_floor + 1.0
    ));
    out.push_str(&format!(
        "| wall time / reference (goals: 1.3, 1.5) | | {:.2} | {:.2} | {:.2} |\n",
        twenty.wall.as_secs_f64() / (largest_floor + 1.0),
        twenty_key.wall.as_secs_f64() / (largest_floor + 1.0),
        small.wall.as_secs_f64() / small_floor.max(1e-9)
    ));
    out.push_str(&format!(
        "| 429s | {} | {} | {} | {} |\n",
        one.limited, twenty.limited, twenty_key.limited, small.limited
    ));
    out.push_str(&format!(
        "| peak RSS | {} | {} | {} | {} |\n",
        mib(one.rss_kib),
        mib(twenty.rss_kib),
        mib(twenty_key.rss_kib),
        mib(small.rss_kib)
    ));
    if let (Some(o), Some(t), Some(k)) = (one.rss_kib, twenty.rss_kib, twenty_key.rss_kib) {
        out.push_str(&format!(
            "| peak RSS / one account's (goal: < 2) | | {:.2} | {:.2} | |\n",
            t as f64 / o.max(1) as f64,
            k as f64 / o.max(1) as f64
        ));
    }
    Ok(out)
}

/// How many accounts `status --all-accounts` reads at once (the binary's `ACCOUNTS_IN_FLIGHT`,
/// src/commands/accounts.rs, where its comment says why 8; README, Performance, many accounts).
const ACCOUNTS_IN_FLIGHT: usize = 8;

/// Every region and every resource group of a `status` JSON document, as `-r` and `-g` lists:
/// `check` of them covers every target the status found.
fn regions_and_groups(status: &Value) -> (String, String) {
    let mut regions: Vec<&str> = Vec::new();
    let mut groups: Vec<&str> = Vec::new();
    for t in status["targets"].as_array().into_iter().flatten() {
        let (r, g) = (t["region"].as_str().unwrap_or_default(), t["resourceGroupName"].as_str().unwrap_or_default());
        if !r.is_empty() && !regions.contains(&r) {
            regions.push(r);
        }
        if !g.is_empty() && !groups.contains(&g) {
            groups.push(g);
        }
    }
    (regions.join(","), groups.join(","))
}

struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
