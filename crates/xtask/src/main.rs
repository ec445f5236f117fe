//! `cargo xtask ...`: release chores.
//!
//! - `plugin-repo --out DIR --base-url URL [--binary TRIPLE=PATH]... [--updated RFC3339]`
//!   writes a static `ibmcloud` plugin repository. Without `--binary`, it takes
//!   `target/<triple>/release/cluster-api-key` for every triple that has one, and
//!   `target/release/cluster-api-key` for the host.
//! - `golden-metadata [--check] [--binary PATH]` writes (or checks)
//!   `plugin-manifest/metadata.json` from the binary's `SendMetadata` output.
//! - `bench` builds the release binaries and prints the benchmark table (see `bench.rs`);
//!   `--skip-large` leaves out the slow runs on worlds of a thousand targets, `--skip-accounts`
//!   the many-account runs; `--only large|accounts` runs only those (after the build).

mod bench;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use xtask::{BINARY, Built, Manifest, host_triple, pretty_metadata, write_repository};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fail(msg: &str) -> ExitCode {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("FAILED\n{msg}");
    }
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("plugin-repo") => plugin_repo(&args[1..]),
        Some("golden-metadata") => golden(&args[1..]),
        Some("bench") => match bench::Parts::from_args(&args[1..]).and_then(|parts| bench::bench(&root(), &parts)) {
            Ok(table) => {
                #[allow(clippy::print_stdout)]
                {
                    println!("{table}");
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
        _ => fail(
            "usage: cargo xtask plugin-repo --out DIR --base-url URL [--binary TRIPLE=PATH]... | cargo xtask golden-metadata [--check] | cargo xtask bench [--skip-large] [--skip-accounts] [--only large|accounts]",
        ),
    }
}

fn plugin_repo(args: &[String]) -> ExitCode {
    let mut out = None;
    let mut base = None;
    let mut updated = None;
    let mut built = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (a.as_str(), it.next()) {
            ("--out", Some(v)) => out = Some(PathBuf::from(v)),
            ("--base-url", Some(v)) => base = Some(v.clone()),
            ("--updated", Some(v)) => updated = Some(v.clone()),
            ("--binary", Some(v)) => match v.split_once('=') {
                Some((t, p)) => built.push(Built { triple: t.to_owned(), path: PathBuf::from(p) }),
                None => return fail("--binary takes TRIPLE=PATH"),
            },
            (other, _) => return fail(&format!("unexpected argument '{other}'")),
        }
    }
    let (Some(out), Some(base)) = (out, base) else {
        return fail("--out and --base-url are required");
    };
    if built.is_empty() {
        let target = root().join("target");
        for t in [
            "x86_64-unknown-linux-gnu",
            "aarch64-unknown-linux-gnu",
            "x86_64-apple-darwin",
            "aarch64-apple-darwin",
            "x86_64-pc-windows-msvc",
        ] {
            let exe = if t.contains("windows") { format!("{BINARY}.exe") } else { BINARY.to_owned() };
            let p = target.join(t).join("release").join(&exe);
            if p.exists() {
                built.push(Built { triple: t.to_owned(), path: p });
            }
        }
        let host = target.join("release").join(BINARY);
        if let (Some(t), true) = (host_triple(), host.exists())
            && !built.iter().any(|b| b.triple == t)
        {
            built.push(Built { triple: t.to_owned(), path: host });
        }
    }
    if built.is_empty() {
        return fail("no built binaries found; run 'cargo build --release' first");
    }
    let manifest = match Manifest::load(&root().join("plugin-manifest/repository.json")) {
        Ok(m) => m,
        Err(e) => return fail(&e),
    };
    let updated =
        updated.unwrap_or_else(|| humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string());
    match write_repository(&manifest, env!("CARGO_PKG_VERSION"), &built, &out, &base, &updated) {
        Ok(_) => {
            #[allow(clippy::print_stdout)]
            {
                println!("wrote {}", out.join("bx/list").display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn golden(args: &[String]) -> ExitCode {
    let check = args.iter().any(|a| a == "--check");
    let binary = args
        .iter()
        .position(|a| a == "--binary")
        .and_then(|i| args.get(i + 1))
        .map_or_else(|| root().join("target/debug").join(BINARY), PathBuf::from);
    let out = match Command::new(&binary).arg("SendMetadata").output() {
        Ok(o) if o.status.success() => o,
        Ok(o) => return fail(&format!("{} SendMetadata exited with {}", binary.display(), o.status)),
        Err(e) => return fail(&format!("{}: {e} (build it first with 'cargo build')", binary.display())),
    };
    let pretty = match pretty_metadata(&String::from_utf8_lossy(&out.stdout)) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let path = root().join("plugin-manifest/metadata.json");
    if check {
        return if std::fs::read_to_string(&path).ok().as_deref() == Some(pretty.as_str()) {
            ExitCode::SUCCESS
        } else {
            fail(
                "plugin-manifest/metadata.json differs from SendMetadata; run 'cargo xtask golden-metadata' and review the diff",
            )
        };
    }
    match std::fs::write(&path, pretty) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("{}: {e}", path.display())),
    }
}
