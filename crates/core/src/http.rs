//! HTTP transport: one reqwest client (rustls, no OpenSSL), tracing, retries, the rate limit
//! and the request budget. A leaf: it knows nothing of tokens ([`crate::auth::Client`] adds
//! them).
//!
//! [`Http`] sends a [`Request`] and retries only what is safe to retry: idempotent requests on
//! 429 and 5xx except 501, and on connection failures, honouring `Retry-After` (seconds or an
//! HTTP date) and otherwise backing off exponentially with jitter, within bounds. A request
//! marked non-idempotent (`POST /v1/keys` mints a key each time) is never retried here; its
//! caller decides after checking what happened.

use std::time::{Duration, Instant, SystemTime};

use reqwest::Method;
use serde_json::Value;
use url::Url;

use crate::context::HttpSettings;
use crate::error::{ApiError, Error, Result, Service};
use crate::trace::Tracer;

/// The `User-Agent` we send.
pub(crate) const USER_AGENT: &str = concat!("cluster-api-key/", env!("CARGO_PKG_VERSION"));

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    /// No body.
    None,
    /// `application/x-www-form-urlencoded` pairs.
    Form(Vec<(String, String)>),
    /// A JSON document.
    Json(Value),
}

/// How far ahead an independent request may take its slot of the rate budget (see
/// [`Http::send`]): a few slots at IBM's rate, so that the budget is never left unused while a
/// request is being prepared, and a lead never waits longer than this for its own.
const HORIZON: std::time::Duration = std::time::Duration::from_millis(250);

/// One request, described independently of reqwest so it can be traced and replayed.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Full URL.
    pub url: Url,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Body,
    /// Whether the transport may retry it.
    pub idempotent: bool,
    /// Its own deadline instead of the command's: the look for a new key after a reset's POST
    /// has time set aside for it, so a POST that used the command's budget cannot leave the
    /// key it minted unfound.
    pub until: Option<Instant>,
    /// A step of a chain the command waits on (a page of a list read to its end: each page
    /// waits for the one before): it goes ahead of independent requests (see [`Http::send`]).
    pub lead: bool,
}

impl Request {
    /// A GET (idempotent).
    #[must_use]
    pub(crate) fn get(url: Url) -> Self {
        Self {
            method: Method::GET,
            url,
            headers: Vec::new(),
            body: Body::None,
            idempotent: true,
            until: None,
            lead: false,
        }
    }

    /// A request with any method; idempotency follows HTTP semantics (POST is not).
    #[must_use]
    pub(crate) fn new(method: Method, url: Url) -> Self {
        let idempotent = method != Method::POST && method != Method::PATCH;
        Self { method, url, headers: Vec::new(), body: Body::None, idempotent, until: None, lead: false }
    }

    /// Adds a header.
    #[must_use]
    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Sets the body.
    #[must_use]
    pub(crate) fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    /// Marks the request as (not) idempotent.
    #[must_use]
    pub(crate) fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = yes;
        self
    }

    /// Marks the request as a step of a chain the command waits on (see [`Request::lead`]).
    #[must_use]
    pub(crate) fn lead(mut self, yes: bool) -> Self {
        self.lead = yes;
        self
    }

    /// Gives the request its own deadline (see [`Request::until`]).
    #[must_use]
    pub(crate) fn until(mut self, when: Option<Instant>) -> Self {
        self.until = when;
        self
    }
}

/// A response with its body read.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Response {
    /// Decodes the body as JSON.
    ///
    /// # Errors
    /// [`Error::BadResponse`] when it is not the expected JSON.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self, service: Service) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| Error::BadResponse { service, detail: e.to_string() })
    }
}

/// Retry bounds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff delay.
    pub base: Duration,
    /// Longest single delay, `Retry-After` included.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_retries: 3, base: Duration::from_millis(250), max_delay: Duration::from_secs(30) }
    }
}

/// What went wrong with one attempt, for the retry decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered with this status.
    Status(u16),
    /// No usable answer (connect failure, timeout, reset, truncated body).
    Transport,
}

impl RetryPolicy {
    /// How long to wait before retry number `retry` (0-based), or `None` for no retry.
    /// `jitter` is a number in `[0, 1)`.
    #[must_use]
    pub(crate) fn delay(
        &self,
        idempotent: bool,
        retry: u32,
        outcome: Outcome,
        retry_after: Option<&str>,
        jitter: f64,
    ) -> Option<Duration> {
        // A 429 is a refusal: nothing was done, so any request, a POST included, may be sent
        // again once the limit allows; it gets more tries than a failure does, within the
        // command's deadline (the caller's check).
        let rate_limited = outcome == Outcome::Status(429);
        let limit = if rate_limited { self.max_retries.max(RATE_LIMITED_RETRIES) } else { self.max_retries };
        if (!idempotent && !rate_limited) || retry >= limit {
            return None;
        }
        let retryable = match outcome {
            Outcome::Status(s) => s == 429 || (s >= 500 && s != 501 && s <= 599),
            Outcome::Transport => true,
        };
        if !retryable {
            return None;
        }
        if let Some(d) = retry_after.and_then(parse_retry_after) {
            return Some(d.min(self.max_delay));
        }
        let exp = self.base.saturating_mul(2u32.saturating_pow(retry));
        let capped = exp.min(self.max_delay);
        // "Equal jitter": half fixed, half random, so retries from many clients spread out
        // without ever collapsing to zero.
        Some(capped.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0)))
    }
}

/// How many times a request refused with 429 is sent again (the deadline usually ends it
/// first).
pub(crate) const RATE_LIMITED_RETRIES: u32 = 12;

/// `Retry-After` as delta-seconds or an HTTP date.
#[must_use]
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// What the transport tells the user (the core never prints itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// A long wait for the rate budget: a line for a person at a terminal, noise in a pipe, a
    /// log or a JSON run.
    Wait,
    /// Something about how the command runs or what a server answered: always said.
    Warning,
}

/// Where the transport tells the user.
type Notice = Box<dyn Fn(NoticeKind, &str) + Send + Sync>;

/// Waits at least this long are announced through the notice hook.
const ANNOUNCE_WAIT: Duration = Duration::from_secs(3);

/// The transport.
pub struct Http {
    client: reqwest::Client,
    tracer: Option<Tracer>,
    retry: RetryPolicy,
    timeout: Duration,
    /// When the command's request budget runs out.
    deadline: std::sync::Mutex<Instant>,
    budget: Duration,
    notice: std::sync::OnceLock<Notice>,
    limiter: crate::ratelimit::Budget,
    /// Whether a wait for other processes' requests was already said.
    said_shared_wait: std::sync::atomic::AtomicBool,
    /// Requests in flight at once, process-wide (the pool every command shares, and every
    /// account of a many-account run: see [`Http::sibling`]).
    pool: std::sync::Arc<tokio::sync::Semaphore>,
    /// Held by the one independent request that takes a slot more than [`HORIZON`] ahead,
    /// until its slot is that near (see [`Http::send`]).
    gate: tokio::sync::Mutex<()>,
    /// The proxies, for the trace.
    proxy: crate::net::ProxySettings,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http").field("retry", &self.retry).field("budget", &self.budget).finish_non_exhaustive()
    }
}

impl Http {
    /// Builds the transport from the context's settings. The second value holds warnings to show
    /// (the trace file could not be opened, an extra CA could not be read).
    ///
    /// # Errors
    /// [`Error::Transport`] when the TLS stack cannot be initialised.
    pub(crate) fn new(settings: &HttpSettings) -> Result<(Self, Vec<String>)> {
        // One crypto provider for the process, installed before any TLS client is built; a
        // second call (another Session in the same process) finds it installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let init_failed = |e: reqwest::Error| Error::Transport {
            message: format!("could not initialise HTTP: {e}"),
            timeout: false,
            not_sent: true,
        };
        // Proxies: our own decision per URL (`net::ProxySettings`), the one the trace reports,
        // instead of reqwest's reading of the environment.
        let proxies = settings.proxy.clone();
        let proxy = reqwest::Proxy::custom(move |url| proxies.proxy_for(url).map(|(p, _)| p.clone()));
        let mut extra = Vec::new();
        for der in &settings.extra_roots {
            extra.push(reqwest::Certificate::from_der(der).map_err(init_failed)?);
        }
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(30)))
            .tls_danger_accept_invalid_certs(settings.ssl_disabled)
            // SSL_CERT_FILE / SSL_CERT_DIR: added to the system's trust store, not instead of it.
            .tls_certs_merge(extra)
            .redirect(reqwest::redirect::Policy::none())
            .proxy(proxy)
            .build()
            .map_err(init_failed)?;
        Ok(Self::with_client(client, settings))
    }

    /// The transport for another account in the same run: this one's client (its connections,
    /// and its TLS configuration: building a client loads the system's trust store again, about
    /// a megabyte per account read at once) and its pool of requests in flight, with a rate
    /// budget (IBM's limit is per account) and a deadline of its own. One pool for all: with a
    /// pool each, 8 accounts read at once kept 400 connections open, and their buffers made the
    /// run's peak memory 2.1x one account's; the rate budgets, not the pool, set the pace.
    #[must_use]
    pub(crate) fn sibling(&self, settings: &HttpSettings) -> Self {
        let (mut http, _) = Self::with_client(self.client.clone(), settings);
        http.pool = std::sync::Arc::clone(&self.pool);
        http
    }

    fn with_client(client: reqwest::Client, settings: &HttpSettings) -> (Self, Vec<String>) {
        let (tracer, warning) = match &settings.trace {
            Some(t) => {
                let (tr, w) = Tracer::from_setting(t);
                (Some(tr), w)
            }
            None => (None, None),
        };
        let mut warnings: Vec<String> = settings.warnings.clone();
        warnings.extend(warning);
        let retry = RetryPolicy { base: settings.retry_base, ..RetryPolicy::default() };
        let http = Self {
            client,
            tracer,
            retry,
            timeout: settings.timeout,
            deadline: std::sync::Mutex::new(Instant::now() + settings.deadline),
            budget: settings.deadline,
            notice: std::sync::OnceLock::new(),
            limiter: crate::ratelimit::Budget::new(settings.rate_limit, settings.rate_state.clone()),
            said_shared_wait: std::sync::atomic::AtomicBool::new(false),
            pool: std::sync::Arc::new(tokio::sync::Semaphore::new(settings.concurrency.max(1))),
            gate: tokio::sync::Mutex::new(()),
            proxy: settings.proxy.clone(),
        };
        (http, warnings)
    }

    /// Sets where long waits and warnings are announced (the binary prints them on stderr).
    /// Only the first call takes effect.
    pub(crate) fn on_notice(&self, f: impl Fn(NoticeKind, &str) + Send + Sync + 'static) {
        let _ = self.notice.set(Box::new(f));
    }

    /// Writes a block to the trace, when tracing is on (redacted like every block): for calls
    /// made by other clients, such as the Kubernetes API's.
    pub(crate) fn trace(&self, block: &str) {
        if let Some(t) = &self.tracer {
            t.write(block);
        }
    }

    /// The proxy that `url` goes through, without credentials, and the variable it came from.
    #[must_use]
    pub(crate) fn proxy_shown(&self, url: &Url) -> Option<String> {
        self.proxy.proxy_for(url).map(|(p, var)| format!("{} (from {var})", crate::net::redacted(p)))
    }

    /// Starts the request budget again (after a prompt: time spent reading the user's answer
    /// is not time spent on requests).
    pub fn restart_budget(&self) {
        *self.deadline.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Instant::now() + self.budget;
    }

    fn deadline(&self) -> Instant {
        *self.deadline.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn out_of_time(&self) -> Error {
        Error::Transport {
            message: format!(
                "the command's time limit for requests ({} s, {}) was reached.",
                self.budget.as_secs(),
                crate::env::CAK_DEADLINE_SECS
            ),
            timeout: true,
            not_sent: true,
        }
    }

    /// Sends a request, retrying as the policy allows. Non-2xx answers become [`Error::Api`].
    ///
    /// # Errors
    /// [`Error::Api`] for error statuses, [`Error::Transport`] when no answer came.
    pub(crate) async fn send(&self, service: Service, req: &Request) -> Result<Response> {
        let mut retry = 0;
        loop {
            // A read gets what is left of the budget; a reset, once started, gets its full
            // timeout (cutting it short would only turn a result into an unknown), but none is
            // started after the budget is spent.
            let deadline = req.until.unwrap_or_else(|| self.deadline());
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.out_of_time());
            }
            let result = {
                // Once the burst is spent, every request waits for a slot of the rate budget,
                // and slots go in the order they are taken. A pool of independent requests
                // would take slots seconds ahead (a hundred at 20 a second: five seconds), and
                // a request that others wait on (the next page of the keys) would queue behind
                // all of them, at every page: on a large account, the chain of pages, not the
                // budget, set the pace. So independent requests take their slot at most
                // HORIZON ahead (one of them at a time holds the gate until its slot is that
                // near), and a lead takes the next one, outside the pool: it waits HORIZON at
                // most, and the budget is used as fully as before.
                // The semaphore is never closed, so acquiring cannot fail.
                let _slot = if req.lead { None } else { self.pool.acquire().await.ok() };
                let gate = if req.lead { None } else { Some(self.gate.lock().await) };
                let slot = self.limiter.reserve().await;
                if let Some(path) = &slot.fell_back
                    && let Some(notice) = self.notice.get()
                {
                    notice(
                        NoticeKind::Warning,
                        &format!(
                            "The rate budget this machine's cluster-api-key commands share is locked by another process ({} held for more than {} s): this command goes on with a budget of its own, a quarter of the limit.",
                            path.display(),
                            crate::ratelimit::LOCK_PATIENCE.as_secs()
                        ),
                    );
                }
                if slot.others >= crate::ratelimit::SHARED_WAIT
                    && !self.said_shared_wait.swap(true, std::sync::atomic::Ordering::Relaxed)
                    && let Some(notice) = self.notice.get()
                {
                    notice(
                        NoticeKind::Wait,
                        &format!(
                            "Other cluster-api-key commands are using the rate budget IBM allows this machine: waiting {} s...",
                            slot.wait.as_secs()
                        ),
                    );
                }
                // A slot past the deadline is not waited for: the request would be sent after
                // the command's time is up, which no request may be.
                if Instant::now() + slot.wait >= deadline {
                    return Err(Error::Transport {
                        message: format!(
                            "the rate budget this machine's commands share has no room for the next request before the command's time limit for requests ({} s, {}) ends.",
                            self.budget.as_secs(),
                            crate::env::CAK_DEADLINE_SECS
                        ),
                        timeout: true,
                        not_sent: true,
                    });
                }
                match gate {
                    Some(gate) if slot.wait > HORIZON => {
                        tokio::time::sleep(slot.wait.saturating_sub(HORIZON)).await;
                        drop(gate);
                        tokio::time::sleep(HORIZON).await;
                    }
                    gate => {
                        // Released before the request is sent, never held across it.
                        drop(gate);
                        tokio::time::sleep(slot.wait).await;
                    }
                }
                let left = deadline.saturating_duration_since(Instant::now());
                let timeout = if req.idempotent { self.timeout.min(left) } else { self.timeout };
                self.attempt(req, timeout).await
            };
            let (outcome, retry_after) = match &result {
                Ok(r) if (200..300).contains(&r.status) => return result,
                Ok(r) => (
                    Outcome::Status(r.status),
                    r.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("retry-after")).map(|(_, v)| v.clone()),
                ),
                Err(_) => (Outcome::Transport, None),
            };
            let wanted = self.retry.delay(req.idempotent, retry, outcome, retry_after.as_deref(), fastrand::f64());
            let delay = wanted.filter(|d| Instant::now() + *d < deadline);
            if wanted.is_some()
                && delay.is_none()
                && let Err(Error::Transport { message, timeout, not_sent }) = result
            {
                let limit = self.out_of_time();
                return Err(Error::Transport { message: format!("{message} And {limit}"), timeout, not_sent });
            }
            match delay {
                Some(d) => {
                    retry += 1;
                    if d >= ANNOUNCE_WAIT
                        && let Some(notice) = self.notice.get()
                    {
                        let why = match outcome {
                            Outcome::Status(s) => format!("HTTP {s}"),
                            Outcome::Transport => String::from("no answer"),
                        };
                        notice(
                            NoticeKind::Warning,
                            &format!("{service} asked to wait ({why}): trying again in {} s...", d.as_secs()),
                        );
                    }
                    tokio::time::sleep(d).await;
                }
                None => {
                    return match result {
                        Ok(r) => Err(Error::Api(ApiError::parse(service, r.status, &r.body))),
                        Err(e) => Err(e),
                    };
                }
            }
        }
    }

    async fn attempt(&self, req: &Request, timeout: Duration) -> Result<Response> {
        let mut builder = self.client.request(req.method.clone(), req.url.clone()).timeout(timeout);
        let mut traced_headers: Vec<(String, String)> = Vec::new();
        let mut has_accept = false;
        for (k, v) in &req.headers {
            has_accept |= k.eq_ignore_ascii_case("accept");
            builder = builder.header(k.as_str(), v.as_str());
            traced_headers.push((k.clone(), v.clone()));
        }
        if !has_accept {
            builder = builder.header("Accept", "application/json");
            traced_headers.push(("Accept".into(), "application/json".into()));
        }
        let body_text = match &req.body {
            Body::None => {
                if req.method == Method::POST {
                    // An explicit empty body makes the client send `Content-Length: 0`, which
                    // some proxies insist on for POST; it is what curl's `-d ''` sends.
                    builder = builder.body(Vec::<u8>::new());
                }
                String::new()
            }
            Body::Form(pairs) => {
                let text: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
                builder = builder.header("Content-Type", "application/x-www-form-urlencoded").body(text.clone());
                traced_headers.push(("Content-Type".into(), "application/x-www-form-urlencoded".into()));
                text
            }
            Body::Json(v) => {
                let text = v.to_string();
                builder = builder.header("Content-Type", "application/json").body(text.clone());
                traced_headers.push(("Content-Type".into(), "application/json".into()));
                text
            }
        };
        if let Some(t) = &self.tracer {
            if let Some(proxy) = self.proxy_shown(&req.url) {
                t.write(&format!("\nPROXY: {proxy}"));
            }
            t.request(req.method.as_str(), &req.url, &traced_headers, &body_text);
        }
        let start = Instant::now();
        let resp = match builder.send().await {
            Ok(r) => r,
            Err(e) => return Err(self.transport_error(&req.url, &e, start)),
        };
        let status = resp.status();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let body = self.read_capped(resp, &req.url, start).await?;
        if let Some(t) = &self.tracer {
            t.response(
                &req.url,
                status.as_u16(),
                status.canonical_reason().unwrap_or(""),
                start.elapsed(),
                &headers,
                &body,
            );
        }
        Ok(Response { status: status.as_u16(), headers, body })
    }

    /// Reads a body of at most [`MAX_BODY`] bytes: a 400 MB answer once took 827 MB of memory.
    async fn read_capped(&self, mut resp: reqwest::Response, url: &Url, start: Instant) -> Result<Vec<u8>> {
        // A body announced larger than the cap is refused from its header: reading it first
        // would only spend the command's time (minutes, on a slow link) to reach the same end.
        if let Some(len) = resp.content_length().filter(|n| *n > MAX_BODY as u64) {
            let message = format!(
                "{}: the response announced {} MiB, more than the {} MiB read at most, and was not read.",
                place(url),
                len >> 20,
                MAX_BODY >> 20
            );
            if let Some(t) = &self.tracer {
                t.failure(start.elapsed(), &message);
            }
            return Err(Error::Transport { message, timeout: false, not_sent: false });
        }
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > MAX_BODY {
                        let message = format!(
                            "{}: the response was larger than {} MiB and was not read.",
                            place(url),
                            MAX_BODY >> 20
                        );
                        if let Some(t) = &self.tracer {
                            t.failure(start.elapsed(), &message);
                        }
                        return Err(Error::Transport { message, timeout: false, not_sent: false });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(body),
                Err(e) => return Err(self.transport_error(url, &e, start)),
            }
        }
    }

    fn transport_error(&self, url: &Url, e: &reqwest::Error, start: Instant) -> Error {
        let timeout = e.is_timeout();
        let what = if timeout {
            "the request timed out"
        } else if e.is_connect() {
            "could not connect"
        } else if e.is_body() || e.is_decode() {
            "the response was cut off or unreadable"
        } else {
            "the request failed"
        };
        let place = place(url);
        let mut source = String::new();
        let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
        while let Some(s) = cur {
            source = s.to_string();
            cur = s.source();
        }
        let message = crate::redact::redact(&if source.is_empty() {
            format!("{place}: {what}.")
        } else {
            format!("{place}: {what} ({source}).")
        });
        if let Some(t) = &self.tracer {
            t.failure(start.elapsed(), &message);
        }
        // reqwest's `is_connect` covers DNS, refused connections, connect timeouts and TLS
        // handshakes: the request itself was never written, so even a POST did not happen.
        // A request that could not even be built (a header value with a line break) was not
        // sent either.
        Error::Transport { message, timeout, not_sent: e.is_connect() || e.is_builder() }
    }
}

/// The largest response body read (the biggest real answers, 100-key pages, are far smaller).
pub(crate) const MAX_BODY: usize = 32 << 20;

/// Where a request went, for messages: scheme, host, port and path only, since a query string
/// (or user info) could carry anything.
fn place(url: &Url) -> String {
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{}://{}{port}{}", url.scheme(), url.host_str().unwrap_or(""), url.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> RetryPolicy {
        RetryPolicy { max_retries: 3, base: Duration::from_millis(100), max_delay: Duration::from_secs(10) }
    }

    #[test]
    fn retries_only_idempotent_requests_on_429_and_5xx_except_501() {
        let p = p();
        for s in [429, 500, 502, 503, 504, 599] {
            assert!(p.delay(true, 0, Outcome::Status(s), None, 0.0).is_some(), "{s}");
        }
        for s in [500, 502, 503, 504, 599] {
            assert!(p.delay(false, 0, Outcome::Status(s), None, 0.0).is_none(), "{s} non-idempotent");
        }
        // A 429 is a refusal: even a POST is sent again, more often than after a failure.
        assert!(p.delay(false, 0, Outcome::Status(429), Some("1"), 0.0).is_some());
        assert!(p.delay(false, RATE_LIMITED_RETRIES - 1, Outcome::Status(429), None, 0.0).is_some());
        assert!(p.delay(false, RATE_LIMITED_RETRIES, Outcome::Status(429), None, 0.0).is_none());
        assert!(p.delay(true, 3, Outcome::Status(503), None, 0.0).is_none());
        for s in [400, 401, 403, 404, 409, 422, 501] {
            assert!(p.delay(true, 0, Outcome::Status(s), None, 0.0).is_none(), "{s}");
        }
        assert!(p.delay(true, 0, Outcome::Transport, None, 0.0).is_some());
        assert!(p.delay(false, 0, Outcome::Transport, None, 0.0).is_none());
    }

    #[test]
    fn backoff_is_exponential_jittered_and_bounded() {
        let p = p();
        assert_eq!(p.delay(true, 0, Outcome::Status(503), None, 0.0), Some(Duration::from_millis(50)));
        assert_eq!(p.delay(true, 0, Outcome::Status(503), None, 0.999_999).map(|d| d.as_millis()), Some(99));
        assert_eq!(p.delay(true, 2, Outcome::Status(503), None, 0.0), Some(Duration::from_millis(200)));
        assert_eq!(p.delay(true, 3, Outcome::Status(503), None, 0.0), None, "bounded count");
        let big = RetryPolicy { max_retries: 50, ..p };
        assert!(big.delay(true, 40, Outcome::Status(503), None, 1.0).unwrap() <= Duration::from_secs(10));
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let p = p();
        assert_eq!(p.delay(true, 0, Outcome::Status(429), Some("2"), 0.5), Some(Duration::from_secs(2)));
        assert_eq!(p.delay(true, 0, Outcome::Status(429), Some("3600"), 0.5), Some(Duration::from_secs(10)), "capped");
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(60));
        assert_eq!(p.delay(true, 0, Outcome::Status(503), Some(&past), 0.5), Some(Duration::ZERO));
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(5));
        let d = p.delay(true, 0, Outcome::Status(503), Some(&future), 0.5).unwrap();
        assert!(d <= Duration::from_secs(5) && d >= Duration::from_secs(3));
        // Garbage falls back to backoff.
        assert_eq!(p.delay(true, 0, Outcome::Status(503), Some("soon"), 0.0), Some(Duration::from_millis(50)));
    }
}
