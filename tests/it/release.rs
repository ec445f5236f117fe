//! Releases: the golden metadata, a plugin repository installed the way `ibmcloud plugin
//! install NAME -r REPO` does it, versions that agree everywhere, and the cargo-dist
//! configuration (checked without installing cargo-dist, which takes minutes).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use serde_json::Value;

use predicates::prelude::*;

use crate::common::{bin, cli};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn send_metadata(bin: &Path) -> Value {
    let out = assert_cmd::Command::new(bin).arg("SendMetadata").env_clear().assert().success().get_output().clone();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn golden_metadata_matches_the_binary() {
    let out = cli().arg("SendMetadata").assert().success().get_output().clone();
    let pretty = xtask::pretty_metadata(&String::from_utf8_lossy(&out.stdout)).unwrap();
    let golden = std::fs::read_to_string(root().join("plugin-manifest/metadata.json")).unwrap();
    assert!(
        pretty == golden,
        "the commands or flags changed: review the difference, then run 'cargo build && cargo xtask golden-metadata'\n--- binary\n{pretty}\n--- golden\n{golden}"
    );
}

/// A static file server on 127.0.0.1 for one directory, with a way to swap a file's bytes.
fn serve(dir: PathBuf, tamper: Option<(String, Vec<u8>)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let body = match &tamper {
                Some((p, bytes)) if *p == path => Some(bytes.clone()),
                _ => std::fs::read(dir.join(path.trim_start_matches('/'))).ok(),
            };
            let resp = match body {
                Some(b) => {
                    let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", b.len())
                        .into_bytes();
                    r.extend(b);
                    r
                }
                None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
            };
            let _ = stream.write_all(&resp);
        }
    });
    format!("http://{addr}")
}

/// What `ibmcloud plugin install NAME -r REPO` does: fetch the index, pick this platform's
/// binary, download it, verify its SHA-1, run `SendMetadata`, check name and version.
fn install(repo: &str, name: &str, into: &Path) -> Result<Value, String> {
    // The provider the binary uses (reqwest is built without one of its own).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let index: Value = reqwest::get(format!("{repo}/bx/list")).await.map_err(|e| e.to_string())?.json().await.map_err(|e| e.to_string())?;
        let plugin = index["plugins"].as_array().into_iter().flatten().find(|p| p["name"] == name).ok_or("plug-in not found in repository")?;
        let version = plugin["versions"].as_array().and_then(|v| v.last()).ok_or("no versions")?;
        let platform = xtask::platform(xtask::host_triple().ok_or("unknown host")?).ok_or("unknown platform")?;
        let binary = version["binaries"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|b| b["platform"] == platform)
            .ok_or(format!("Could not find compatible binary to install for plug-in {name}."))?;
        let bytes = reqwest::get(binary["url"].as_str().ok_or("no url")?).await.map_err(|e| e.to_string())?.bytes().await.map_err(|e| e.to_string())?;
        let path = into.join(name);
        std::fs::write(&path, &bytes).map_err(|e| e.to_string())?;
        if xtask::sha1_hex(&path).map_err(|e| e.to_string())? != binary["checksum"].as_str().unwrap_or_default() {
            return Err("The downloaded plug-in binary might be corrupt. The computed checksum doesn't match repo metadata. Try again.".into());
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())?;
        }
        let meta = send_metadata(&path);
        let v = &meta["Version"];
        let meta_version = format!("{}.{}.{}", v["Major"], v["Minor"], v["Build"]);
        if meta["Name"] != name || version["version"].as_str() != Some(meta_version.as_str()) {
            return Err(format!("metadata {} {meta_version} does not match the index", meta["Name"]));
        }
        Ok(meta)
    })
}

#[test]
fn a_generated_repository_installs_like_ibmcloud_plugin_install() {
    let Some(triple) = xtask::host_triple() else { return };
    let repo_dir = tempfile::tempdir().unwrap();
    let manifest = xtask::Manifest::load(&root().join("plugin-manifest/repository.json")).unwrap();
    // The server reads files when asked, so it can start before the repository is written.
    let served = serve(repo_dir.path().to_path_buf(), None);
    let built = [xtask::Built { triple: triple.into(), path: bin().to_path_buf() }];
    let index = xtask::write_repository(
        &manifest,
        env!("CARGO_PKG_VERSION"),
        &built,
        repo_dir.path(),
        &served,
        "2026-11-28T00:00:00Z",
    )
    .unwrap();
    let entry = &index["plugins"][0]["versions"][0]["binaries"][0];
    assert_eq!(entry["checksum"].as_str().unwrap(), xtask::sha1_hex(bin()).unwrap());
    assert!(entry["url"].as_str().unwrap().starts_with(&served));
    let into = tempfile::tempdir().unwrap();
    let meta = install(&served, "cluster-api-key", into.path()).unwrap();
    assert_eq!(meta["Name"], "cluster-api-key");

    // A tampered binary is refused.
    let rel = format!("/downloads/{}/{}/cluster-api-key", env!("CARGO_PKG_VERSION"), xtask::platform(triple).unwrap());
    let mut evil = std::fs::read(bin()).unwrap();
    evil[1000] ^= 0xff;
    let tampered = serve(repo_dir.path().to_path_buf(), Some((rel, evil)));
    let text = std::fs::read_to_string(repo_dir.path().join("bx/list")).unwrap().replace(&served, &tampered);
    std::fs::write(repo_dir.path().join("bx/list"), text).unwrap();
    let into = tempfile::tempdir().unwrap();
    let err = install(&tampered, "cluster-api-key", into.path()).unwrap_err();
    assert!(err.contains("checksum doesn't match"), "{err}");
}

#[test]
fn versions_agree_everywhere() {
    let cargo = env!("CARGO_PKG_VERSION");
    cli().arg("--version").assert().success().stdout(predicate::eq(format!("cluster-api-key {cargo}\n")));
    let meta = send_metadata(bin());
    let v = &meta["Version"];
    assert_eq!(format!("{}.{}.{}", v["Major"], v["Minor"], v["Build"]), cargo);
    let golden: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("plugin-manifest/metadata.json")).unwrap()).unwrap();
    assert_eq!(golden["Version"], meta["Version"]);
    let dir = tempfile::tempdir().unwrap();
    let manifest = xtask::Manifest::load(&root().join("plugin-manifest/repository.json")).unwrap();
    let index =
        xtask::write_repository(&manifest, cargo, &[], dir.path(), "http://127.0.0.1", "2026-11-28T00:00:00Z").unwrap();
    assert_eq!(index["plugins"][0]["versions"][0]["version"], cargo);
    assert_eq!(manifest.private_endpoint_supported, meta["PrivateEndpointSupported"].as_bool().unwrap());
    assert_eq!(manifest.name, meta["Name"].as_str().unwrap());
    // The newest released section of the changelog is this version.
    let changelog = std::fs::read_to_string(root().join("CHANGELOG.md")).unwrap();
    let newest = changelog.lines().find(|l| l.starts_with("## [") && !l.starts_with("## [Unreleased]")).unwrap();
    assert!(newest.starts_with(&format!("## [{cargo}] - ")), "{newest}");
}

#[test]
fn cargo_dist_configuration_is_complete() {
    let dist: toml::Table = std::fs::read_to_string(root().join("dist-workspace.toml")).unwrap().parse().unwrap();
    let d = dist["dist"].as_table().unwrap();
    let targets: Vec<&str> = d["targets"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    let mut expected = vec![
        "aarch64-apple-darwin",
        "aarch64-unknown-linux-gnu",
        "x86_64-apple-darwin",
        "x86_64-unknown-linux-gnu",
        "x86_64-pc-windows-msvc",
    ];
    let mut sorted = targets.clone();
    sorted.sort_unstable();
    expected.sort_unstable();
    assert_eq!(sorted, expected);
    for t in &targets {
        assert!(xtask::platform(t).is_some(), "{t} has no plugin repository platform name");
    }
    let installers: Vec<&str> = d["installers"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert_eq!(installers, ["shell", "powershell"]);
    assert_eq!(d["checksum"].as_str(), Some("sha256"));
    assert_eq!(dist["workspace"]["members"].as_array().unwrap()[0].as_str(), Some("cargo:."));
    let cargo: toml::Table = std::fs::read_to_string(root().join("Cargo.toml")).unwrap().parse().unwrap();
    assert_eq!(
        cargo["package"]["metadata"]["dist"]["dist"].as_bool(),
        Some(true),
        "the publish = false plugin must opt in"
    );
    assert_eq!(cargo["profile"]["dist"]["inherits"].as_str(), Some("release"));
    assert!(cargo["workspace"]["package"]["repository"].as_str().is_some(), "ci = github needs a repository URL");
    // `dist plan` refuses to run when the generated workflow is missing or stale.
    let workflow = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    assert!(workflow.contains("autogenerated by dist"));
    for member in ["crates/emulator", "crates/xtask"] {
        let m: toml::Table = std::fs::read_to_string(root().join(member).join("Cargo.toml")).unwrap().parse().unwrap();
        assert_eq!(m["package"]["metadata"]["dist"]["dist"].as_bool(), Some(false), "{member} is not released");
    }
}

#[test]
fn the_release_guide_exists() {
    let guide = std::fs::read_to_string(root().join("dist/README.md")).unwrap();
    for step in ["dist plan", "dist build", "cargo xtask plugin-repo", "cargo xtask golden-metadata", "CHANGELOG"] {
        assert!(guide.contains(step), "dist/README.md does not mention {step}");
    }
    let mut s = String::new();
    std::fs::File::open(root().join("README.md")).unwrap().read_to_string(&mut s).unwrap();
    assert!(s.contains("## Install") && s.contains("dist/README.md"));
}
