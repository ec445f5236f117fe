//! The network around the tool: HTTPS with a corporate CA (`SSL_CERT_FILE`, `SSL_CERT_DIR`),
//! and proxies (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`) through a small CONNECT proxy on
//! 127.0.0.1, for both the IBM Cloud APIs and the clusters' Kubernetes APIs.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use cluster_api_key_core::env as var;
use cluster_api_key_emulator::world::keys;

use crate::common::{TestEnv, read};

/// One tunnel: `CONNECT host:port` and the `Proxy-Authorization` it came with.
type Tunnel = (String, Option<String>);

/// What the proxy saw.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Tunnel>>>);

/// A CONNECT proxy on 127.0.0.1 (threads; it lives as long as the test process).
fn connect_proxy() -> (u16, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Seen::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let log = log.clone();
            std::thread::spawn(move || tunnel(client, &log));
        }
    });
    (port, seen)
}

fn tunnel(client: TcpStream, log: &Seen) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut auth = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("proxy-authorization")
        {
            auth = Some(v.trim().to_owned());
        }
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default().to_owned());
    log.0.lock().unwrap().push((format!("{method} {target}"), auth));
    let mut client = client;
    if method != "CONNECT" {
        let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n");
        return;
    }
    let Ok(upstream) = TcpStream::connect(&target) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
    // Whatever the reader buffered past the head belongs to the tunnel.
    let buffered = reader.buffer().to_vec();
    let (mut up_w, mut up_r) = (upstream.try_clone().unwrap(), upstream);
    let mut client_r = reader.into_inner();
    let _ = up_w.write_all(&buffered);
    let mut client_w = client;
    let a = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_r, &mut up_w);
        let _ = up_w.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut up_r, &mut client_w);
    let _ = client_w.shutdown(std::net::Shutdown::Write);
    let _ = a.join();
}

fn emulator_port(env: &TestEnv) -> u16 {
    env.emu.addr.port()
}

/// The port of a cluster's public Kubernetes API (each cluster endpoint has its own).
fn kube_port(env: &TestEnv, cluster: &str) -> u16 {
    let url = env.handle().kube_server(cluster, "public").expect("a kubeconfig named the endpoint");
    url.rsplit(':').next().unwrap().parse().unwrap()
}

#[test]
fn https_is_trusted_through_the_corporate_ca_only() {
    let mut env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    // With the CA (SSL_CERT_FILE, as every test): fine.
    env.run(&["info", "--cluster", "shop-vpc"]).success();
    // Without it, the emulator's certificate is not trusted: a clear failure, nothing sent.
    let ca = env.extra_env.remove(var::SSL_CERT_FILE).unwrap();
    let r = env.run(&["info", "--cluster", "shop-vpc"]);
    r.exits(1);
    assert!(r.stderr.to_lowercase().contains("certificate"), "{r:?}");
    // SSL_CERT_DIR: a folder of certificates (any file names), added to the system's store.
    let dir = env.home.path().join("certs");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&ca, dir.join("3f1a2b4c.0")).unwrap();
    env.extra_env.insert(var::SSL_CERT_DIR.into(), dir.to_string_lossy().into_owned());
    env.run(&["info", "--cluster", "shop-vpc"]).success();
    // A file that cannot be read is a warning, not a failure.
    env.extra_env.insert(var::SSL_CERT_FILE.into(), "/nonexistent/corporate.pem".into());
    crate::assert_run!(env, "network-cert-file-unreadable-warns", env.run(&["info", "--cluster", "shop-vpc"]));
}

#[test]
fn every_request_goes_through_the_proxy_and_the_trace_names_it_without_credentials() {
    let (port, seen) = connect_proxy();
    let mut env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env.handle().set_knobs(|k| {
        k.kube.replace_ms = 50;
        k.kube.ready_ms = 50;
    });
    let secret = "proxy-pass-7f3a9c";
    env.extra_env.insert(var::HTTPS_PROXY.into(), format!("http://alice:{secret}@127.0.0.1:{port}"));
    env.run(&["info", "--cluster", "shop-vpc"]).success();
    // kube-rs goes through it too, to the cluster's API.
    env.run(&["restart-addons", "--cluster", "payments", "-f"]).success();
    let seen = seen.0.lock().unwrap().clone();
    let api = format!("CONNECT 127.0.0.1:{}", emulator_port(&env));
    let kube = format!("CONNECT 127.0.0.1:{}", kube_port(&env, "payments"));
    assert!(seen.iter().any(|(t, _)| *t == api), "{seen:?}");
    assert!(seen.iter().any(|(t, _)| *t == kube), "{seen:?}");
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("alice:{secret}")));
    assert!(seen.iter().all(|(_, auth)| auth.as_deref() == Some(basic.as_str())), "{seen:?}");
    let trace = read(&env.trace_path());
    assert!(
        trace.contains(&format!("PROXY: http://[PRIVATE DATA HIDDEN]@127.0.0.1:{port} (from HTTPS_PROXY)")),
        "{trace}"
    );
    assert!(
        trace.contains(&format!(
            "PROXY: http://[PRIVATE DATA HIDDEN]@127.0.0.1:{port} (from HTTPS_PROXY)\nKUBERNETES: GET pods"
        )),
        "the Kubernetes calls name the proxy too: {trace}"
    );
    assert!(!trace.contains(secret), "the proxy's password is in the trace");
}

#[test]
fn no_proxy_goes_direct_and_http_proxy_covers_plain_http() {
    let (port, seen) = connect_proxy();
    let mut env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env.extra_env.insert(var::HTTPS_PROXY.into(), format!("127.0.0.1:{port}"));
    env.extra_env.insert(var::NO_PROXY.into(), "localhost,127.0.0.0/8".into());
    env.run(&["info", "--cluster", "shop-vpc"]).success();
    assert!(seen.0.lock().unwrap().is_empty(), "NO_PROXY: nothing through the proxy");
    // Plain HTTP: HTTP_PROXY is used (here a closed port, so the command fails to connect)...
    let mut plain = TestEnv::plain();
    plain.login(keys::FUNCTIONAL, Some("us-south"));
    plain.extra_env.insert(var::HTTP_PROXY_LOWER.into(), "http://127.0.0.1:1".into());
    let r = plain.run(&["info", "--cluster", "shop-vpc"]);
    r.exits(1);
    // ...unless NO_PROXY names the host.
    plain.extra_env.insert(var::NO_PROXY_LOWER.into(), "127.0.0.1".into());
    plain.run(&["info", "--cluster", "shop-vpc"]).success();
    // A proxy that is not http(s) is an incorrect setting, said before any request.
    plain.extra_env.insert(var::HTTP_PROXY_LOWER.into(), "socks5://u:pw-not-shown@127.0.0.1:1080".into());
    // The scheme it refuses is said, the credentials are not.
    crate::assert_run!(plain, "network-socks-proxy-refused", plain.run(&["info", "--cluster", "shop-vpc"]));
}
