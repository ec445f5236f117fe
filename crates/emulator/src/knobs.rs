//! Behaviour knobs: latency, IBM's rate limit, fault injection and IAM replication delay.

use serde::{Deserialize, Serialize};

/// What a fault does to a matching request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with this status and an IBM-shaped error body for the route's service.
    Status {
        /// HTTP status.
        status: u16,
    },
    /// Send the status line and headers, then drop the connection.
    Reset,
    /// Announce a longer body than is sent, then close.
    Truncate,
    /// Carry the request out, then drop the connection before any of the answer's body is
    /// sent: the client sees a reset after it sent the request, while the backend did the
    /// work (a write whose outcome the client cannot know).
    ResetAfter,
    /// Answer with an HTML error page, as a gateway in front of IBM Cloud does.
    Html {
        /// HTTP status.
        status: u16,
    },
    /// Hold the request this long before handling it normally.
    Delay {
        /// Milliseconds.
        ms: u64,
    },
    /// A gateway in front of the API gives up: the client gets this status at once (with an
    /// HTML page, or an empty body), while the request still reaches the backend after
    /// `backend_delay_ms` and is carried out there, as when a 504 comes back while the key is
    /// still being minted.
    Gateway {
        /// HTTP status the client gets (504, 502, 503, or 200 for a captive portal).
        status: u16,
        /// Whether the answer is an HTML page (else an empty body).
        #[serde(default)]
        html: bool,
        /// When the backend carries out the request, in milliseconds after the answer.
        #[serde(default)]
        backend_delay_ms: u64,
    },
    /// Answer with exactly this status and body (JSON content type), whatever the route.
    Body {
        /// HTTP status.
        status: u16,
        /// The body, verbatim.
        body: String,
    },
    /// Answer 200 with a JSON body of this many bytes (`[` and spaces, never closed): a
    /// runaway answer that a client must not read whole into memory.
    Oversize {
        /// Body size in bytes.
        bytes: u64,
    },
    /// Answer with an HTML error page that echoes the request's headers, `Authorization`
    /// included, as some proxies and gateways do.
    Echo {
        /// HTTP status.
        status: u16,
    },
    /// Answer 200 announcing a body of this many bytes (`Content-Length`), then send one byte
    /// and nothing more for ten minutes: a client must refuse it from the header alone.
    Announce {
        /// The announced size in bytes.
        bytes: u64,
    },
    /// Send the body slowly: a first chunk, then the rest after this long.
    SlowBody {
        /// Milliseconds.
        ms: u64,
    },
    /// Carry the request out, then answer with this status and an error body instead of its
    /// answer: a server that fails after the work is done (a pod deleted, then a 500).
    AfterWork {
        /// HTTP status.
        status: u16,
    },
}

/// A fault rule. A rule whose path starts with `/api/` is for the clusters' Kubernetes APIs
/// (no IBM route starts so), and applies there, to every cluster.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Fault {
    /// Only requests with this method (any when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// Only requests whose path contains this (any when absent).
    #[serde(default)]
    pub path: Option<String>,
    /// Only requests for this region (`X-Region`; any when absent), so that a batch can fail on
    /// some targets only.
    #[serde(default)]
    pub region: Option<String>,
    /// Only requests for this resource group ID (`X-Auth-Resource-Group`; any when absent).
    #[serde(default)]
    pub resource_group: Option<String>,
    /// What to do.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// How many requests it applies to (forever when absent).
    #[serde(default)]
    pub times: Option<u32>,
    /// How many matching requests to let through before it applies (none when absent): the
    /// second of several writes fails while the first succeeds.
    #[serde(default)]
    pub skip: Option<u32>,
}

impl Fault {
    /// A fault on every `method` request whose path contains `path`, for ever; narrow it with
    /// [`Fault::times`], [`Fault::region`] and [`Fault::group`]. The one way tests make faults.
    #[must_use]
    pub fn on(method: &str, path: &str, kind: FaultKind) -> Self {
        Self {
            method: Some(method.into()),
            path: Some(path.into()),
            region: None,
            resource_group: None,
            kind,
            times: None,
            skip: None,
        }
    }

    /// A fault on requests of any method whose path contains `path`.
    #[must_use]
    pub fn any(path: &str, kind: FaultKind) -> Self {
        Self { method: None, ..Self::on("", path, kind) }
    }

    /// Only the first `n` matching requests.
    #[must_use]
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Only after the first `n` matching requests went through untouched.
    #[must_use]
    pub fn after(mut self, n: u32) -> Self {
        self.skip = Some(n);
        self
    }

    /// Only requests for this region (`X-Region`).
    #[must_use]
    pub fn region(mut self, region: &str) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Only requests for this resource group ID (`X-Auth-Resource-Group`).
    #[must_use]
    pub fn group(mut self, group: &str) -> Self {
        self.resource_group = Some(group.into());
        self
    }
}

/// What the key owner looks like while IAM replicates a new key.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReplicationMode {
    /// The previous owner is still reported.
    #[default]
    Stale,
    /// `clusterkeyowner` answers 404.
    NotFound,
}

/// All knobs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Knobs {
    /// Added to every request, milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// Enforce IBM's documented limit (200 requests / 10 s per client: a burst of 200, then 20
    /// per second) with 429 + Retry-After.
    #[serde(default)]
    pub rate_limit: bool,
    /// Requests allowed per window.
    #[serde(default = "default_limit")]
    pub rate_limit_max: u32,
    /// Window, milliseconds.
    #[serde(default = "default_window")]
    pub rate_limit_window_ms: u64,
    /// Fault rules, first match wins.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// After a reset, for this long the key owner reads as before (or 404s).
    #[serde(default)]
    pub replication_delay_ms: u64,
    /// How the key owner behaves during replication.
    #[serde(default)]
    pub replication_mode: ReplicationMode,
    /// A key younger than this many seconds (emulator clock) is not replicated yet: IAM
    /// Identity's lookups of it (`GET /v1/apikeys/{id}`, `/v1/apikeys/details`) and the key
    /// owner of a target whose current key it is answer 404 `E06f9` ("The specified API key
    /// could not be found."). 0: never (the default). The key list is not affected.
    #[serde(default)]
    pub new_key_not_found_secs: u64,
    /// After a reset, the target's clusters stop reporting what the old key or its owner
    /// caused (NHC009, "Provided user not found or active") this much later (milliseconds; IBM
    /// says NHC009 clears within about 30 minutes). 0: at once.
    #[serde(default)]
    pub cluster_reports_clear_ms: u64,
    /// The clusters' Kubernetes APIs.
    #[serde(default)]
    pub kube: KubeKnobs,
}

/// Knobs of the emulated clusters' Kubernetes APIs (see the `k8s` module).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct KubeKnobs {
    /// After a pod is deleted, its replacement appears this much later (milliseconds).
    pub replace_ms: u64,
    /// A replacement is Pending this long, then Running and Ready (milliseconds).
    pub ready_ms: u64,
    /// After a reset, the clusters' `storage-secret-store` carries the new key this much later
    /// (milliseconds; IBM says 10 to 15 minutes, its runbooks up to 30).
    pub secret_update_ms: u64,
    /// After an admin kubeconfig is asked for, `getRBACStatus` reads `synchronized` this much
    /// later (milliseconds).
    pub rbac_sync_ms: u64,
    /// Clusters (name or ID) whose Kubernetes API cannot be reached: their kubeconfig names a
    /// closed port.
    pub unreachable: Vec<String>,
    /// Clusters (name or ID) where a replacement pod never becomes Ready (`CrashLoopBackOff`).
    pub never_ready: Vec<String>,
}

impl Default for KubeKnobs {
    fn default() -> Self {
        // Short, so that the sandbox shows the whole flow in seconds.
        Self {
            replace_ms: 800,
            ready_ms: 1200,
            secret_update_ms: 2500,
            rbac_sync_ms: 0,
            unreachable: Vec::new(),
            never_ready: Vec::new(),
        }
    }
}

fn default_limit() -> u32 {
    200
}

fn default_window() -> u64 {
    10_000
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            latency_ms: 0,
            rate_limit: false,
            rate_limit_max: default_limit(),
            rate_limit_window_ms: default_window(),
            faults: Vec::new(),
            replication_delay_ms: 0,
            replication_mode: ReplicationMode::Stale,
            new_key_not_found_secs: 0,
            cluster_reports_clear_ms: 0,
            kube: KubeKnobs::default(),
        }
    }
}
