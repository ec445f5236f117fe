//! Watches of pods: a stream of the changes after a `resourceVersion`, one JSON document a line,
//! read from the cluster's kept changes every [`WATCH_TICK`], filtered by the selectors and in
//! the shape asked for.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Master;
use super::routes::served_in;
use super::selectors::Selectors;
use super::shapes::{pod_json, status};
use super::table::{Shape, table};

/// How often a watch looks for changes.
const WATCH_TICK: Duration = Duration::from_millis(100);

/// The body of a watch: events as the watch task sends them.
struct Events(tokio::sync::mpsc::Receiver<Bytes>);

impl futures_core::Stream for Events {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|b| b.map(Ok))
    }
}

/// `GET …/pods?watch=true`: a stream of `{"type", "object"}` events, one JSON document per line,
/// from the `resourceVersion` asked for (absent or 0: the current pods first, as `ADDED`), until
/// `timeoutSeconds` (default 30 minutes) or the client leaves. A `resourceVersion` older than
/// the kept changes gets one `ERROR` event with a 410 `Status`, as a real server sends.
pub(super) fn watch(
    m: Arc<Master>,
    ns: Option<String>,
    q: &HashMap<String, String>,
    selectors: Selectors,
    shape: Shape,
) -> Response {
    let from = q.get("resourceVersion").and_then(|v| v.parse::<u64>().ok()).filter(|v| *v != 0);
    let timeout = q.get("timeoutSeconds").and_then(|v| v.parse::<u64>().ok()).unwrap_or(1800).min(3600);
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
        let mut columns = true;
        let mut last = match m.shared.with_kube(&m.cluster, |k, now| {
            let events = match from {
                None => Some(k.pods.iter().map(|p| ("ADDED", pod_json(p))).collect()),
                Some(rv) => k.events_after(rv),
            };
            (events, k.rv, now)
        }) {
            Some((Some(events), rv, now)) => {
                if !send(&tx, ns.as_deref(), events, &selectors, shape, &mut columns, now).await {
                    return;
                }
                rv
            }
            Some((None, _, _)) => {
                let _ = tx.send(expired()).await;
                return;
            }
            None => return,
        };
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => return,
                () = tx.closed() => return,
                () = tokio::time::sleep(WATCH_TICK) => {}
            }
            let Some((Some(events), rv, now)) =
                m.shared.with_kube(&m.cluster, |k, now| (k.events_after(last), k.rv, now))
            else {
                let _ = tx.send(expired()).await;
                return;
            };
            last = rv;
            if !send(&tx, ns.as_deref(), events, &selectors, shape, &mut columns, now).await {
                return;
            }
        }
    });
    (
        axum::http::StatusCode::OK,
        [("content-type", "application/json"), ("cache-control", "no-cache, private")],
        Body::from_stream(Events(rx)),
    )
        .into_response()
}

/// The one event a watch from a forgotten `resourceVersion` gets: an `ERROR` with 410 `Expired`.
fn expired() -> Bytes {
    line(&json!({"type": "ERROR", "object": status(410, "Expired", "too old resource version", None)}))
}

fn line(v: &Value) -> Bytes {
    let mut b = serde_json::to_vec(v).unwrap_or_default();
    b.push(b'\n');
    Bytes::from(b)
}

/// Sends the events that match, in the shape asked for (a `Table` carries its columns only in
/// the first event, as a real server's watch does). `false` when the client has left.
async fn send(
    tx: &tokio::sync::mpsc::Sender<Bytes>,
    ns: Option<&str>,
    events: Vec<(&'static str, Value)>,
    selectors: &Selectors,
    shape: Shape,
    columns: &mut bool,
    now: i64,
) -> bool {
    if !served_in(ns) {
        return !tx.is_closed();
    }
    for (kind, pod) in events.into_iter().filter(|(_, p)| selectors.matches(p)) {
        let object = match shape {
            Shape::Object => pod,
            Shape::Table(include) => table("Pod", std::slice::from_ref(&pod), include, None, *columns, now),
        };
        *columns = false;
        if tx.send(line(&json!({"type": kind, "object": object}))).await.is_err() {
            return false;
        }
    }
    true
}
