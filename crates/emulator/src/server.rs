//! The HTTP server: routing, the knob middleware, the admin API and the in-process handle.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::knobs::{FaultKind, Knobs};
use crate::util;
use crate::world::World;

/// (account, region, resource group ID).
pub(crate) type Target = (String, String, String);

/// Whose rate budget a request spends: the client address and the bearer token's account.
type RateKey = (IpAddr, Option<String>);

/// Request counters by route, for tests and benchmarks.
pub type Stats = BTreeMap<String, u64>;

/// State shared by all requests.
#[derive(Debug)]
pub(crate) struct Shared {
    world: Mutex<World>,
    knobs: Mutex<Knobs>,
    stats: Mutex<Stats>,
    /// Per client address and account (the bearer token's; none for the token endpoint): the
    /// tokens left and when they were counted. IBM's limit is per account.
    rate: Mutex<HashMap<RateKey, (f64, Instant)>>,
    /// When the last reset per target happened, and who owned the key before it.
    pub(crate) replication: Mutex<HashMap<Target, (Instant, String)>>,
    /// The CA behind the clusters' Kubernetes APIs and their admin kubeconfigs.
    pki: crate::tls::Pki,
    /// The address the clusters' Kubernetes APIs listen on, a port per cluster endpoint.
    kube_ip: IpAddr,
    /// Their TLS configuration (a client certificate required).
    kube_tls: rustls::ServerConfig,
    /// Per (cluster ID, endpoint kind), the URL of its Kubernetes API, once bound.
    kube_servers: Mutex<HashMap<(String, String), String>>,
    /// The tasks serving them, stopped with the emulator.
    kube_tasks: Mutex<Vec<tokio::task::AbortHandle>>,
    /// Per cluster ID, its Kubernetes state.
    kube: Mutex<HashMap<String, crate::k8s::KubeCluster>>,
    /// Client certificates issued (fingerprint to cluster ID).
    client_certs: Mutex<HashMap<String, String>>,
    /// The PEMs of every client certificate and key issued, for tests that check none leaks.
    issued: Mutex<Vec<String>>,
    /// When an admin kubeconfig was last asked for, per cluster ID.
    rbac: Mutex<HashMap<String, Instant>>,
    /// Whether the API is served over HTTPS (for the URLs it writes, such as `next`).
    tls: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// The world, locked. Never hold it across an `.await`.
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }

    /// The knobs.
    pub(crate) fn knobs(&self) -> MutexGuard<'_, Knobs> {
        lock(&self.knobs)
    }

    /// The emulator's clock (system time plus the world's offset), Unix seconds.
    #[allow(clippy::unused_self, reason = "the clock is the emulator's, whatever it is made of")]
    pub(crate) fn now_secs(&self, world: &World) -> i64 {
        let sys = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
        sys + world.clock_offset_secs
    }

    /// Counts a request under `key`.
    pub(crate) fn count(&self, key: &str) {
        *lock(&self.stats).entry(key.to_owned()).or_default() += 1;
    }

    /// Whether the API is served over HTTPS.
    pub(crate) fn tls(&self) -> bool {
        self.tls
    }

    /// The clusters' Kubernetes state.
    pub(crate) fn kube(&self) -> MutexGuard<'_, HashMap<String, crate::k8s::KubeCluster>> {
        lock(&self.kube)
    }

    /// The URL of a cluster endpoint's Kubernetes API (`https://127.0.0.1:PORT`, as a real
    /// master's `https://HOST:PORT`), bound on first use and served until the emulator stops.
    ///
    /// # Errors
    /// When no port can be bound.
    pub(crate) fn kube_server(self: &Arc<Self>, cluster_id: &str, endpoint: &str) -> std::io::Result<String> {
        let mut servers = lock(&self.kube_servers);
        let key = (cluster_id.to_owned(), endpoint.to_owned());
        if let Some(url) = servers.get(&key) {
            return Ok(url.clone());
        }
        let listener = std::net::TcpListener::bind(SocketAddr::new(self.kube_ip, 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let app = crate::k8s::router(Arc::clone(self), cluster_id, endpoint);
        let task = tokio::spawn(crate::tls::serve(listener, self.kube_tls.clone(), app));
        lock(&self.kube_tasks).push(task.abort_handle());
        // Bound on every address (`--listen 0.0.0.0:PORT`), a master is still named by loopback,
        // which its certificate covers.
        let host = if addr.ip().is_unspecified() { SocketAddr::new([127, 0, 0, 1].into(), addr.port()) } else { addr };
        let url = format!("https://{host}");
        servers.insert(key, url.clone());
        Ok(url)
    }

    fn stop_kube(&self) {
        for task in lock(&self.kube_tasks).drain(..) {
            task.abort();
        }
    }

    /// The CA's PEM.
    pub(crate) fn ca_pem(&self) -> String {
        self.pki.ca_pem()
    }

    /// Issues an admin client certificate for a cluster and remembers it.
    pub(crate) fn issue_client_cert(&self, cluster_id: &str) -> Result<crate::tls::ClientCert, String> {
        let cert = self.pki.issue_client("admin", "system:masters").map_err(|e| e.to_string())?;
        lock(&self.client_certs).insert(cert.fingerprint.clone(), cluster_id.to_owned());
        lock(&self.issued).extend([cert.cert_pem.clone(), cert.key_pem.clone()]);
        Ok(cert)
    }

    /// The cluster a client certificate was issued for.
    pub(crate) fn client_cert_cluster(&self, fingerprint: &str) -> Option<String> {
        lock(&self.client_certs).get(fingerprint).cloned()
    }

    /// Notes that an admin kubeconfig was asked for (RBAC is being applied).
    pub(crate) fn rbac_requested(&self, cluster_id: &str) {
        lock(&self.rbac).insert(cluster_id.to_owned(), Instant::now());
    }

    /// Whether RBAC has been applied for a cluster (`kube.rbac_sync_ms` after the request).
    pub(crate) fn rbac_synchronized(&self, cluster_id: &str) -> bool {
        let wait = Duration::from_millis(self.knobs().kube.rbac_sync_ms);
        lock(&self.rbac).get(cluster_id).is_none_or(|at| at.elapsed() >= wait)
    }
}

/// A handle on a running emulator's state and knobs.
#[derive(Debug, Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl Handle {
    /// The world, locked: read or change it directly. Do not hold it across an `.await`.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.shared.world()
    }

    /// A copy of the world (the state dump).
    #[must_use]
    pub fn dump(&self) -> World {
        self.shared.world().clone()
    }

    /// Changes the knobs.
    pub fn set_knobs(&self, f: impl FnOnce(&mut Knobs)) {
        f(&mut self.shared.knobs());
    }

    /// The knobs.
    #[must_use]
    pub fn knobs(&self) -> Knobs {
        self.shared.knobs().clone()
    }

    /// Request counters.
    #[must_use]
    pub fn stats(&self) -> Stats {
        lock(&self.shared.stats).clone()
    }

    /// One counter (0 when never hit).
    #[must_use]
    pub fn stat(&self, key: &str) -> u64 {
        lock(&self.shared.stats).get(key).copied().unwrap_or(0)
    }

    /// Logs in as `iam_id` without an API key (a trusted profile), returning
    /// `(access_token, refresh_token)`; `None` for an unknown or inactive identity.
    #[must_use]
    pub fn login_as(&self, iam_id: &str) -> Option<(String, String)> {
        crate::iam::login_as(&self.shared, iam_id).map(|t| (t.access_token, t.refresh_token))
    }

    /// The PEM of the CA that signs the emulator's server and client certificates.
    #[must_use]
    pub fn ca_pem(&self) -> String {
        self.shared.ca_pem()
    }

    /// The PEMs of every admin client certificate and key handed out in a kubeconfig.
    #[must_use]
    pub fn issued_credentials(&self) -> Vec<String> {
        lock(&self.shared.issued).clone()
    }

    /// The URL of a cluster endpoint's Kubernetes API (`endpoint`: `public`, `private`, `vpe`
    /// or `link`), when a kubeconfig has named it. `cluster`: its name or ID.
    #[must_use]
    pub fn kube_server(&self, cluster: &str, endpoint: &str) -> Option<String> {
        let id = {
            let w = self.shared.world();
            w.clusters.iter().find(|c| c.id == cluster || c.name == cluster)?.id.clone()
        };
        lock(&self.shared.kube_servers).get(&(id, endpoint.to_owned())).cloned()
    }

    /// Moves the emulator's clock.
    pub fn advance_clock(&self, secs: i64) {
        self.shared.world().clock_offset_secs += secs;
    }

    /// Logs in with an API key value as `ibmcloud login --apikey` would, returning
    /// `(access_token, refresh_token)`; `None` when the key does not log in.
    #[must_use]
    pub fn login(&self, api_key: &str) -> Option<(String, String)> {
        crate::iam::login_with_api_key(&self.shared, api_key).ok().map(|t| (t.access_token, t.refresh_token))
    }
}

/// A running emulator.
#[derive(Debug)]
pub struct Emulator {
    /// `http://127.0.0.1:PORT` (`https://` with TLS).
    pub base_url: String,
    /// The bound address.
    pub addr: SocketAddr,
    /// State and knobs.
    pub handle: Handle,
    task: tokio::task::JoinHandle<()>,
}

impl Emulator {
    /// Starts on `127.0.0.1:0` with `world`, in the current tokio runtime.
    ///
    /// # Errors
    /// When the socket cannot be bound.
    pub async fn start(world: World) -> std::io::Result<Self> {
        Self::start_with(SocketAddr::from(([127, 0, 0, 1], 0)), world, Knobs::default(), false).await
    }

    /// Starts on `127.0.0.1:0` serving HTTPS, with a certificate from the emulator's CA
    /// ([`Handle::ca_pem`]): a client must trust that CA (`SSL_CERT_FILE`).
    ///
    /// # Errors
    /// When the socket cannot be bound or the certificates cannot be made.
    pub async fn start_tls(world: World) -> std::io::Result<Self> {
        Self::start_with(SocketAddr::from(([127, 0, 0, 1], 0)), world, Knobs::default(), true).await
    }

    /// Starts on `addr` with `world` and `knobs`, over HTTPS when `tls` is set.
    ///
    /// # Errors
    /// When the socket cannot be bound or the certificates cannot be made.
    pub async fn start_with(addr: SocketAddr, world: World, knobs: Knobs, tls: bool) -> std::io::Result<Self> {
        let pki = crate::tls::Pki::new().map_err(std::io::Error::other)?;
        let kube_tls = pki.server_config(true).map_err(std::io::Error::other)?;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            knobs: Mutex::new(knobs),
            stats: Mutex::new(Stats::new()),
            rate: Mutex::new(HashMap::new()),
            replication: Mutex::new(HashMap::new()),
            pki,
            // The clusters' Kubernetes APIs listen on ports of their own, on the same address.
            kube_ip: addr.ip(),
            kube_tls,
            kube_servers: Mutex::new(HashMap::new()),
            kube_tasks: Mutex::new(Vec::new()),
            kube: Mutex::new(HashMap::new()),
            client_certs: Mutex::new(HashMap::new()),
            issued: Mutex::new(Vec::new()),
            rbac: Mutex::new(HashMap::new()),
            tls,
        });
        let app = router(Arc::clone(&shared));
        let api_tls = if tls { Some(shared.pki.server_config(false).map_err(std::io::Error::other)?) } else { None };
        let scheme = if tls { "https" } else { "http" };
        let task = tokio::spawn(async move {
            if let Some(config) = api_tls {
                crate::tls::serve(listener, config, app).await;
            } else {
                let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
            }
        });
        Ok(Self { base_url: format!("{scheme}://{addr}"), addr, handle: Handle { shared }, task })
    }

    /// Stops serving.
    pub fn stop(&self) {
        self.task.abort();
        self.handle.shared.stop_kube();
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.task.abort();
        self.handle.shared.stop_kube();
    }
}

fn containers_routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/keys", post(crate::containers::reset_key))
        .route(
            "/v1/credentials",
            get(crate::containers::credentials)
                .post(crate::containers::credentials)
                .delete(crate::containers::credentials),
        )
        .route("/v1/logging/{id_or_name}/clusterkeyowner", get(crate::containers::key_owner))
        .route("/v1/clusters", get(crate::containers::clusters_v1))
        .route("/v2/vpc/getClusters", get(crate::containers::clusters_vpc))
        .route("/v2/classic/getClusters", get(crate::containers::clusters_classic))
        .route("/v2/satellite/getClusters", get(crate::containers::clusters_satellite))
        .route("/v2/getCluster", get(crate::containers::get_cluster))
        .route("/v1/clusters/{id_or_name}/addons", get(crate::containers::addons))
        .route("/v1/clusters/{id_or_name}/workers", get(crate::containers::workers_v1))
        .route("/v2/vpc/getWorkers", get(crate::containers::workers_v2))
        .route("/v2/getWorkers", get(crate::containers::workers_v2))
        .route("/v2/getClusterHealthIssues", get(crate::containers::health_issues))
        .route("/v1/clusters/{id_or_name}/masters", axum::routing::put(crate::containers::refresh_master))
        .route("/v2/applyRBACAndGetKubeconfig", post(crate::containers::kubeconfig))
        .route("/v2/getRBACStatus", get(crate::containers::rbac_status))
}

fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/identity/token", post(crate::iam::token))
        .route("/v1/apikeys", get(crate::iam::list_keys).post(crate::iam::create_key))
        .route("/v1/apikeys/details", get(crate::iam::key_details))
        .route("/v1/apikeys/{id}", get(crate::iam::get_key).delete(crate::iam::delete_key))
        .route("/v1/apikeys/{id}/lock", post(crate::iam::lock_key).delete(crate::iam::unlock_key))
        .route("/v1/apikeys/{id}/disable", post(crate::iam::disable_key).delete(crate::iam::enable_key))
        .route("/v1/serviceids/", get(crate::iam::list_service_ids))
        .route("/v1/serviceids", get(crate::iam::list_service_ids))
        .route("/v1/serviceids/{id}", get(crate::iam::get_service_id))
        .route("/v2/resource_groups", get(crate::rm::list_groups))
        .route("/v2/resource_groups/{id}", get(crate::rm::get_group))
        .route("/v1/policies", get(crate::access::policies).post(crate::access::create_policy))
        .route("/v2/policies", get(crate::access::policies_v2).post(crate::access::create_policy_v2))
        .route("/v2/groups", get(crate::access::groups))
        .route("/v2/groups/{id}", get(crate::access::group))
        .route("/v2/groups/{id}/members", get(crate::access::members))
        .route("/v2/groups/{id}/members/{iam_id}", axum::routing::head(crate::access::is_member))
        .route("/v1/accounts", get(crate::accounts::enterprise_accounts))
        .route("/coe/v2/accounts", get(crate::accounts::member_accounts))
        .route("/v1/accounts/{account}/settings/identity", get(crate::access::settings))
        .route("/v1/accounts/{account}/limits/identity", get(crate::access::limits))
        .route("/v2/accounts/{account}/users", get(crate::users::list).post(crate::users::invite))
        .route("/v2/accounts/{account}/users/{iam_id}", get(crate::users::get))
        .route("/v4/accounts/{account}", get(crate::users::account))
        .merge(containers_routes())
        .nest("/global", containers_routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), knobs_layer));
    let admin = Router::new()
        .route("/_emulator/state", get(admin_state).put(admin_restore))
        .route("/_emulator/knobs", get(admin_knobs).put(admin_set_knobs))
        .route("/_emulator/clock", post(admin_clock))
        .route("/_emulator/stats", get(admin_stats))
        .route("/_emulator/ca.pem", get(admin_ca));
    admin.merge(api).with_state(shared)
}

async fn not_found(req: Request) -> Response {
    util::error_for(req.uri().path(), 404)
}

/// Latency, rate limit and faults, in that order, for every API route.
async fn knobs_layer(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let method = req.method().as_str().to_owned();
    let (region, group) = {
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        (header("x-region"), header("x-auth-resource-group"))
    };
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let knobs = shared.knobs().clone();
    let account = if knobs.rate_limit { util::bearer(&shared, req.headers()).map(|c| c.account_id) } else { None };
    shared.count(&format!("{method} {}", route_key(&path)));
    if knobs.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(knobs.latency_ms)).await;
    }
    if knobs.rate_limit {
        let ip = peer.unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let window = Duration::from_millis(knobs.rate_limit_window_ms.max(1));
        // IBM's limit as a token bucket: a burst of `rate_limit_max`, refilled at
        // `rate_limit_max` per window (200 per 10 s: a burst of 200, then 20 per second).
        let retry_after = {
            let mut rate = lock(&shared.rate);
            let now = Instant::now();
            let max = f64::from(knobs.rate_limit_max.max(1));
            let per_sec = max / window.as_secs_f64();
            let (tokens, last) = rate.entry((ip, account)).or_insert((max, now));
            *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * per_sec).min(max);
            *last = now;
            if *tokens >= 1.0 {
                *tokens -= 1.0;
                None
            } else {
                Some(Duration::from_secs_f64(((1.0 - *tokens) / per_sec).ceil().max(1.0)).as_secs())
            }
        };
        if let Some(secs) = retry_after {
            shared.count("rate_limited");
            let mut resp = util::error_for(&path, 429);
            if let Ok(v) = secs.to_string().parse() {
                resp.headers_mut().insert("retry-after", v);
            }
            return resp;
        }
    }
    let fault = shared.take_fault(false, &method, &path, region.as_deref(), group.as_deref());
    match fault {
        None => next.run(req).await,
        Some(kind) => {
            shared.count("fault");
            apply_fault(kind, &path, req, next).await
        }
    }
}

impl Shared {
    /// The first fault rule that matches a request, counted down (and removed when spent). For
    /// a cluster's Kubernetes API (`kubernetes`), only the rules for `/api/` paths.
    pub(crate) fn take_fault(
        &self,
        kubernetes: bool,
        method: &str,
        path: &str,
        region: Option<&str>,
        group: Option<&str>,
    ) -> Option<FaultKind> {
        let mut k = self.knobs();
        let idx = k.faults.iter().position(|f| {
            (!kubernetes || f.path.as_deref().is_some_and(|p| p.starts_with("/api/")))
                && f.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
                && f.path.as_deref().is_none_or(|p| path.contains(p))
                && f.region.as_deref().is_none_or(|r| region.is_some_and(|x| x.eq_ignore_ascii_case(r)))
                && f.resource_group.as_deref().is_none_or(|g| group == Some(g))
        })?;
        // A fault that lets some requests through first: this one goes through.
        if let Some(n) = k.faults[idx].skip.as_mut()
            && *n > 0
        {
            *n -= 1;
            return None;
        }
        let f = k.faults[idx].clone();
        if let Some(t) = k.faults[idx].times.as_mut() {
            *t = t.saturating_sub(1);
            if *t == 0 {
                k.faults.remove(idx);
            }
        }
        Some(f.kind)
    }
}

/// The HTML page a gateway (here: Cloudflare's wording) answers with.
fn gateway_page(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let reason = code.canonical_reason().unwrap_or("Error");
    let html = format!(
        "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"
    );
    (code, [("content-type", "text/html")], html).into_response()
}

pub(crate) async fn apply_fault(kind: FaultKind, path: &str, req: Request, next: Next) -> Response {
    match kind {
        FaultKind::Status { status } => util::error_for(path, status),
        FaultKind::AfterWork { status } => {
            let _ = next.run(req).await;
            util::error_for(path, status)
        }
        FaultKind::Html { status } => gateway_page(status),
        FaultKind::Echo { status } => {
            // A debugging gateway's page: every request header, in a table and as raw text.
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            let mut rows = String::new();
            let mut raw = String::new();
            for (k, v) in req.headers() {
                let v = String::from_utf8_lossy(v.as_bytes());
                rows.push_str(&format!("<tr><td>{k}</td><td>{v}</td></tr>\r\n"));
                raw.push_str(&format!("{k}: {v}\r\n"));
            }
            let html = format!(
                "<html><head><title>{status} Error</title></head><body><h1>Upstream error</h1><p>Your request: {} {path}</p><table>{rows}</table><pre>{raw}</pre></body></html>",
                req.method()
            );
            (code, [("content-type", "text/html")], html).into_response()
        }
        FaultKind::Gateway { status, html, backend_delay_ms } => {
            // The backend goes on without the client: it carries the request out later.
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(backend_delay_ms)).await;
                let _ = next.run(req).await;
            });
            if html {
                gateway_page(status)
            } else {
                StatusCode::from_u16(status).unwrap_or(StatusCode::GATEWAY_TIMEOUT).into_response()
            }
        }
        FaultKind::Body { status, body } => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            (code, [("content-type", "application/json")], body).into_response()
        }
        FaultKind::Announce { bytes } => {
            let chunks = vec![Ok(Bytes::from_static(b"[")), Ok(Bytes::from_static(b" "))];
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .header("content-length", bytes.to_string())
                .body(Body::from_stream(futures_lite_stream(chunks, 600_000)))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        FaultKind::Oversize { bytes } => {
            const CHUNK: usize = 1 << 20;
            let block = Bytes::from(vec![b' '; CHUNK]);
            let mut chunks = vec![Ok(Bytes::from_static(b"["))];
            let mut left = bytes.saturating_sub(1);
            while left > 0 {
                let n = usize::try_from(left).unwrap_or(CHUNK).min(CHUNK);
                chunks.push(Ok(block.slice(..n)));
                left -= n as u64;
            }
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(Body::from_stream(futures_lite_stream(chunks, 0)))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        FaultKind::Delay { ms } => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(req).await
        }
        FaultKind::Reset => {
            let stream =
                futures_lite_stream(vec![Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset"))], 0);
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .header("content-length", "64")
                .body(Body::from_stream(stream))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        FaultKind::ResetAfter => {
            let _ = next.run(req).await;
            let stream =
                futures_lite_stream(vec![Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset"))], 0);
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .header("content-length", "64")
                .body(Body::from_stream(stream))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        FaultKind::Truncate => {
            let resp = next.run(req).await;
            let (mut parts, body) = resp.into_parts();
            // A 204 cannot announce a body; answer 200 so the cut is visible to the client.
            if parts.status == StatusCode::NO_CONTENT {
                parts.status = StatusCode::OK;
            }
            let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
            let half = bytes.slice(..bytes.len() / 2);
            let stream = futures_lite_stream(
                vec![Ok(half), Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "truncated"))],
                0,
            );
            let mut resp = Response::from_parts(parts, Body::from_stream(stream));
            if let Ok(v) = (bytes.len() + 1).to_string().parse() {
                resp.headers_mut().insert("content-length", v);
            }
            resp
        }
        FaultKind::SlowBody { ms } => {
            let resp = next.run(req).await;
            let (parts, body) = resp.into_parts();
            let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
            let cut = bytes.len().min(1);
            let stream = futures_lite_stream(vec![Ok(bytes.slice(..cut)), Ok(bytes.slice(cut..))], ms);
            Response::from_parts(parts, Body::from_stream(stream))
        }
    }
}

/// A body stream from chunks, waiting `gap_ms` before each chunk after the first.
fn futures_lite_stream(
    chunks: Vec<Result<Bytes, std::io::Error>>,
    gap_ms: u64,
) -> impl futures_core_stream::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_core_stream::ChunkStream::new(chunks, gap_ms)
}

/// A tiny stream implementation (no extra dependency for one use).
mod futures_core_stream {
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::Duration;

    use axum::body::Bytes;
    pub(super) use futures_core::Stream;

    pub(super) struct ChunkStream {
        chunks: std::collections::VecDeque<Result<Bytes, std::io::Error>>,
        gap: Duration,
        first: bool,
        sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    }

    impl ChunkStream {
        pub(super) fn new(chunks: Vec<Result<Bytes, std::io::Error>>, gap_ms: u64) -> Self {
            Self { chunks: chunks.into(), gap: Duration::from_millis(gap_ms), first: true, sleep: None }
        }
    }

    impl Stream for ChunkStream {
        type Item = Result<Bytes, std::io::Error>;

        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            if !self.first && !self.gap.is_zero() {
                if self.sleep.is_none() {
                    let gap = self.gap;
                    self.sleep = Some(Box::pin(tokio::time::sleep(gap)));
                }
                if let Some(s) = self.sleep.as_mut()
                    && s.as_mut().poll(cx).is_pending()
                {
                    return Poll::Pending;
                }
                self.sleep = None;
            }
            self.first = false;
            Poll::Ready(self.chunks.pop_front())
        }
    }

    use std::future::Future as _;
}

/// A stable key for a path: IDs replaced, so counters group by route.
fn route_key(path: &str) -> String {
    let p = path.strip_prefix("/global").unwrap_or(path);
    let segs: Vec<&str> = p.split('/').collect();
    match segs.as_slice() {
        ["", "v1", "apikeys", _, rest @ ..] => rest.iter().fold(String::from("/v1/apikeys/{id}"), |mut acc, s| {
            acc.push('/');
            acc.push_str(s);
            acc
        }),
        ["", "v1", "logging", _, "clusterkeyowner"] => String::from("/v1/logging/{id}/clusterkeyowner"),
        ["", "v1", "clusters", _, "addons"] => String::from("/v1/clusters/{id}/addons"),
        ["", "v1", "clusters", _, "workers"] => String::from("/v1/clusters/{id}/workers"),
        ["", "v2", "resource_groups", _] => String::from("/v2/resource_groups/{id}"),
        ["", "v2", "accounts", _, "users"] => String::from("/v2/accounts/{id}/users"),
        ["", "v4", "accounts", _] => String::from("/v4/accounts/{id}"),
        ["", "v1", "accounts", _, "settings", "identity"] => String::from("/v1/accounts/{id}/settings/identity"),
        ["", "v1", "accounts", _, "limits", "identity"] => String::from("/v1/accounts/{id}/limits/identity"),
        ["", "v2", "groups", _, "members", ..] => String::from("/v2/groups/{id}/members"),
        ["", "v2", "groups", _] => String::from("/v2/groups/{id}"),
        ["", "v2", "accounts", _, "users", _] => String::from("/v2/accounts/{id}/users/{id}"),
        _ => p.to_owned(),
    }
}

#[derive(Debug, Serialize)]
struct StateDump<'a> {
    world: &'a World,
    knobs: &'a Knobs,
}

async fn admin_state(State(shared): State<Arc<Shared>>) -> Response {
    let world = shared.world().clone();
    let knobs = shared.knobs().clone();
    util::ok(&serde_json::to_value(StateDump { world: &world, knobs: &knobs }).unwrap_or(Value::Null))
}

async fn admin_restore(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<World>(&body) {
        Ok(w) => {
            *shared.world() = w;
            util::no_content()
        }
        Err(e) => util::with_status(400, &json!({"error": format!("not a world: {e}")})),
    }
}

async fn admin_knobs(State(shared): State<Arc<Shared>>) -> Response {
    util::ok(&serde_json::to_value(shared.knobs().clone()).unwrap_or(Value::Null))
}

async fn admin_set_knobs(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Knobs>(&body) {
        Ok(k) => {
            *shared.knobs() = k;
            util::no_content()
        }
        Err(e) => util::with_status(400, &json!({"error": format!("not knobs: {e}")})),
    }
}

#[derive(Debug, Deserialize)]
struct ClockBody {
    advance_secs: i64,
}

async fn admin_clock(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<ClockBody>(&body) {
        Ok(c) => {
            let mut w = shared.world();
            w.clock_offset_secs += c.advance_secs;
            let now = shared.now_secs(&w);
            util::ok(&json!({"clock_offset_secs": w.clock_offset_secs, "now": now}))
        }
        Err(e) => util::with_status(400, &json!({"error": format!("expected {{\"advance_secs\": N}}: {e}")})),
    }
}

async fn admin_stats(State(shared): State<Arc<Shared>>) -> Response {
    util::ok(&serde_json::to_value(lock(&shared.stats).clone()).unwrap_or(Value::Null))
}

/// The CA certificate (PEM) behind the emulator's HTTPS listeners.
async fn admin_ca(State(shared): State<Arc<Shared>>) -> Response {
    ([("content-type", "application/x-pem-file")], shared.ca_pem()).into_response()
}
