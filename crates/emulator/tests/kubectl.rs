//! Real `kubectl` against the emulated clusters' Kubernetes APIs, with an admin kubeconfig
//! exactly as `applyRBACAndGetKubeconfig` hands it out and an empty discovery cache, as a new
//! user would run it. This is the check that the emulated API is one a standard client can
//! use: discovery, `Table` answers, watches, deletion, `wait`, access reviews, and a server
//! address per cluster endpoint.
//!
//! kubectl is looked up as `$KUBECTL`, else `kubectl` on `PATH` (`.ci/run` installs Debian's
//! `kubernetes-client` where there is none). Where it is missing, the test fails under `CI=true`
//! and elsewhere skips, saying so on stderr (`common`). It passes with Debian's kubectl 1.20 and
//! with 1.32.

mod common;

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use cluster_api_key_emulator::world::keys;
use cluster_api_key_emulator::{Emulator, World};
use serde_json::{Value, json};

fn kubectl() -> Option<PathBuf> {
    if let Some(k) = std::env::var_os("KUBECTL") {
        return Some(PathBuf::from(k));
    }
    common::outside_program("kubectl", ".ci/run installs Debian's kubernetes-client")
}

/// One admin kubeconfig, unpacked into a folder of its own, and kubectl pointed at it with a
/// home and a cache of its own (empty: discovery is read from the server).
struct Kube {
    bin: PathBuf,
    dir: tempfile::TempDir,
    config: PathBuf,
    server: String,
}

impl Kube {
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args)
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .arg("--request-timeout=20s")
            .env_clear()
            .env("HOME", self.dir.path())
            .env("KUBECONFIG", &self.config)
            // Loopback only, whatever the machine's proxy settings.
            .env("NO_PROXY", "127.0.0.1");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("kubectl runs")
    }

    /// Runs, expects success and an empty stderr (no discovery or decoding complaint), and
    /// returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "kubectl {args:?} failed: {stdout}\n{stderr}");
        assert!(stderr.trim().is_empty(), "kubectl {args:?} complained: {stderr}");
        stdout.into_owned()
    }
}

/// The emulator (in a runtime of its own), the owner's token and a client for the containers API.
struct Rig {
    rt: tokio::runtime::Runtime,
    emu: Emulator,
    token: String,
    http: reqwest::Client,
}

impl Rig {
    fn start() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let emu = rt.block_on(Emulator::start(World::default_world())).unwrap();
        let token = emu.handle.login(keys::OWNER).expect("the owner logs in").0;
        Self { rt, emu, token, http: reqwest::Client::new() }
    }

    /// An admin kubeconfig for `cluster` through `endpoint`, unpacked.
    fn kubeconfig(&self, bin: &Path, cluster: &str, endpoint: &str) -> Kube {
        let url = format!("{}/global/v2/applyRBACAndGetKubeconfig", self.emu.base_url);
        let body = json!({"cluster": cluster, "admin": true, "format": "zip", "endpointType": endpoint});
        let bytes = self.rt.block_on(async {
            let r = self.http.post(url).bearer_auth(&self.token).json(&body).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200, "{cluster} {endpoint}");
            r.bytes().await.unwrap()
        });
        let dir = tempfile::tempdir().unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut config = None;
        for i in 0..zip.len() {
            let mut f = zip.by_index(i).unwrap();
            let name = f.name().unwrap().into_owned();
            let mut text = String::new();
            f.read_to_string(&mut text).unwrap();
            let path = dir.path().join(&name);
            if Path::new(&name).extension().is_some_and(|e| e == "yaml") {
                config = Some(path.clone());
            }
            std::fs::write(path, text).unwrap();
        }
        let config = config.expect("the ZIP carries a kubeconfig");
        let server = std::fs::read_to_string(&config)
            .unwrap()
            .lines()
            .find_map(|l| l.trim().strip_prefix("server: ").map(str::to_owned))
            .expect("the kubeconfig names a server");
        Kube { bin: bin.to_owned(), dir, config, server }
    }
}

/// Lines of a child's stdout, as they come.
fn lines_of(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits (up to 20 s) for a line with every one of `words`; returns the lines seen.
fn until(rx: &mpsc::Receiver<String>, seen: &mut Vec<String>, words: &[&str]) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                let hit = words.iter().all(|w| line.split_whitespace().any(|x| x == *w));
                seen.push(line);
                if hit {
                    return true;
                }
            }
            Err(_) => return false,
        }
    }
    false
}

#[test]
fn kubectl_with_an_empty_cache_uses_every_endpoint() {
    let Some(bin) = kubectl() else { return };
    let w = Rig::start();

    // Each endpoint kind of each cluster has an address of its own, a plain https://host:port,
    // and /version answers there.
    let mut servers = Vec::new();
    for (cluster, endpoint) in
        [("shop-vpc", "public"), ("shop-vpc", "private"), ("shop-vpc", "vpe"), ("edge-tokyo", "link")]
    {
        let k = w.kubeconfig(&bin, cluster, endpoint);
        assert!(
            k.server.starts_with("https://127.0.0.1:") && k.server.matches('/').count() == 2,
            "a server is https://host:port: {}",
            k.server
        );
        let version: Value = serde_json::from_str(&k.ok(&["get", "--raw", "/version"])).unwrap();
        assert_eq!(version["gitVersion"], "v1.31.4+IKS", "{cluster} {endpoint}");
        assert!(w.emu.handle.stat(&format!("k8s {endpoint} GET other")) >= 1, "{cluster} {endpoint}");
        servers.push(k.server.clone());
    }
    servers.sort();
    servers.dedup();
    assert_eq!(servers.len(), 4, "one address per cluster endpoint: {servers:?}");

    // A client certificate of another cluster is refused by this one's address. (It is also the
    // control for the checks that stderr is empty: kubectl's complaints land there.)
    let edge = w.kubeconfig(&bin, "edge-tokyo", "public");
    let shop = w.kubeconfig(&bin, "shop-vpc", "public");
    let other = shop.run(&["get", "--raw", "/version", "--server", &edge.server]);
    assert!(!other.status.success());
    assert!(String::from_utf8_lossy(&other.stderr).contains("Unauthorized"), "{other:?}");

    let pods_in_shop = shop.ok(&["get", "pods", "-n", "kube-system", "-o", "name"]).lines().count();
    // The cases a round cannot show on every endpoint: wide columns, namespaces, a missing one.
    let wide = shop.ok(&["get", "pods", "-n", "kube-system", "-o", "wide", "-l", "app=ibm-vpc-block-csi-driver"]);
    assert!(wide.lines().next().unwrap_or_default().contains("NOMINATED NODE"), "{wide}");
    assert_eq!(wide.lines().count(), 1 + 4, "the CSI controller and three node pods: {wide}");
    let all = shop.ok(&["get", "pods", "--all-namespaces"]);
    assert!(all.starts_with("NAMESPACE ") && all.lines().skip(1).all(|l| l.starts_with("kube-system ")), "{all}");
    assert_eq!(all.lines().count(), pods_in_shop + 1, "{all}");
    let namespaces = shop.ok(&["get", "namespaces"]);
    assert!(namespaces.lines().any(|l| l.starts_with("kube-system ") && l.contains("Active")), "{namespaces}");
    let none = shop.run(&["get", "pods", "-n", "no-such-namespace"]);
    assert!(String::from_utf8_lossy(&none.stderr).contains("No resources found in no-such-namespace namespace"));
    let missing = shop.run(&["get", "namespace", "no-such-namespace"]);
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("namespaces \"no-such-namespace\" not found"),
        "{missing:?}"
    );

    // Every command of a user's round, through each endpoint kind with a cache of its own.
    for (cluster, endpoint, app, victim) in [
        ("shop-vpc", "public", "ibm-vpc-block-csi-driver", "ibm-vpc-block-csi-controller-0"),
        ("shop-vpc", "private", "ibm-vpc-block-csi-driver", "ibm-vpc-block-csi-controller-0"),
        ("shop-vpc", "vpe", "ibm-vpc-block-csi-driver", "ibm-vpc-block-csi-controller-0"),
        ("edge-tokyo", "link", "ibm-iks-cluster-autoscaler", "ibm-iks-cluster-autoscaler-"),
    ] {
        let k = w.kubeconfig(&bin, cluster, endpoint);
        round(&k, app, victim);
        assert_eq!(w.emu.handle.stat(&format!("k8s {endpoint} DELETE pods")), 1, "{endpoint}");
    }
}

/// Discovery, an access review, the pods as a table, the storage secret as YAML, then a pod
/// deleted while a watch runs, and its replacement awaited. `victim`: the pod's name, or the
/// prefix of a `ReplicaSet` pod's; `app`: its `app` label.
fn round(k: &Kube, app: &str, victim: &str) {
    let resources = k.ok(&["api-resources"]);
    for (name, short, kind) in [("pods", "po", "Pod"), ("namespaces", "ns", "Namespace"), ("secrets", "", "Secret")] {
        let row = resources.lines().find(|l| l.split_whitespace().next() == Some(name)).unwrap_or_default();
        assert!(row.ends_with(kind) && (short.is_empty() || row.contains(short)), "{name}: {resources}");
    }
    assert!(resources.contains("selfsubjectaccessreviews"), "{resources}");
    assert_eq!(k.ok(&["auth", "can-i", "delete", "pods", "-n", "kube-system"]).trim(), "yes");

    // Table output: the columns a real server sends for pods.
    let pods = k.ok(&["get", "pods", "-n", "kube-system"]);
    let header: Vec<&str> = pods.lines().next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(header, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"], "{pods}");
    let row = pods.lines().find(|l| l.starts_with(victim)).unwrap_or_default();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells.get(1..4), Some(&["1/1", "Running", "0"][..]), "{pods}");
    let victim = cells[0].to_owned();

    // The secret the storage add-on reads (Satellite's is made by hand, with the key alone).
    let secret = k.ok(&["get", "secret", "storage-secret-store", "-n", "kube-system", "-o", "yaml"]);
    assert!(secret.contains("kind: Secret"), "{secret}");
    assert!(secret.contains("slclient.toml:") || secret.contains("ca_iam_api_key:"), "{secret}");

    // A watch sees the deletion: the pod terminating, then gone.
    let mut watch = k
        .command(&["get", "pods", "-n", "kube-system", "-w", "--output-watch-events"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = lines_of(&mut watch);
    let mut seen = Vec::new();
    assert!(until(&rx, &mut seen, &["ADDED", &victim]), "{seen:?}");
    let deleted = k.ok(&["delete", "pod", "-n", "kube-system", &victim]);
    assert_eq!(deleted.trim(), format!("pod \"{victim}\" deleted"));
    let gone = until(&rx, &mut seen, &["DELETED", &victim]);
    let _ = watch.kill();
    let mut stderr = String::new();
    let _ = watch.stderr.take().unwrap().read_to_string(&mut stderr);
    let _ = watch.wait();
    assert!(gone, "the deletion is in the stream: {seen:?} {stderr}");
    assert!(
        seen.iter().any(|l| l.contains("MODIFIED") && l.contains(&victim) && l.contains("Terminating")),
        "{seen:?}"
    );
    assert!(stderr.trim().is_empty(), "{stderr}");

    // The replacement becomes Ready (a StatefulSet's keeps the name, a ReplicaSet's does not).
    // A StatefulSet's pod is awaited by its name, which the replacement keeps; a ReplicaSet's
    // replacement has a new one, so it is awaited by its label.
    let wait = ["wait", "--for=condition=Ready", "-n", "kube-system", "--timeout=30s"];
    if victim.ends_with("-0") {
        let ready = k.ok(&[&wait[..], &[&format!("pod/{victim}")]].concat());
        assert_eq!(ready.trim(), format!("pod/{victim} condition met"));
    } else {
        let label = format!("app={app}");
        let ready = k.ok(&[&wait[..], &["pod", "-l", &label]].concat());
        let line = ready.lines().find(|l| l.starts_with("pod/ibm-iks-cluster-autoscaler-")).unwrap_or_default();
        assert!(line.ends_with(" condition met") && !line.contains(&victim), "a new name: {ready}");
    }
}
