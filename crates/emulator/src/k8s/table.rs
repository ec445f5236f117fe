//! The shape a client asked objects in: whole, or as a `meta.k8s.io/v1` `Table` (kubectl's
//! default for `get`), whose columns and cells are those a real server prints for the kind, ages
//! written as kubectl writes them.

use std::collections::HashMap;

use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};

/// A duration as kubectl prints an age (`HumanDuration` of apimachinery).
fn human(secs: i64) -> String {
    let s = secs.max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86_400);
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        let r = s % 60;
        if r == 0 { format!("{m}m") } else { format!("{m}m{r}s") }
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        let r = m % 60;
        if r == 0 { format!("{h}h") } else { format!("{h}h{r}m") }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 24 * 8 {
        let r = h % 24;
        if r == 0 { format!("{d}d") } else { format!("{d}d{r}h") }
    } else if h < 24 * 365 * 2 {
        format!("{d}d")
    } else {
        format!("{}y", d / 365)
    }
}

fn age(object: &Value, now: i64) -> String {
    object["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(|t| humantime::parse_rfc3339_weak(t).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok())
        .map_or_else(|| "<unknown>".to_owned(), |t| human(now - t))
}

/// A column of a `Table`: name, type, priority (1: only with `-o wide`), description.
type Column = (&'static str, &'static str, u8, &'static str);

const POD_COLUMNS: [Column; 9] = [
    ("Name", "string", 0, "Name must be unique within a namespace."),
    ("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."),
    ("Status", "string", 0, "The aggregate status of the containers in this pod."),
    ("Restarts", "string", 0, "The number of times the containers in this pod have been restarted."),
    ("Age", "string", 0, "CreationTimestamp is when this object was created."),
    ("IP", "string", 1, "The IP address assigned to the pod."),
    ("Node", "string", 1, "Name of the node this pod is on."),
    ("Nominated Node", "string", 1, "Name of the node this pod may be scheduled on."),
    ("Readiness Gates", "string", 1, "Pod readiness gates."),
];

const SECRET_COLUMNS: [Column; 4] = [
    ("Name", "string", 0, "Name must be unique within a namespace."),
    ("Type", "string", 0, "The type of the secret."),
    ("Data", "integer", 0, "The number of entries in the secret's data."),
    ("Age", "string", 0, "CreationTimestamp is when this object was created."),
];

const NAMESPACE_COLUMNS: [Column; 3] = [
    ("Name", "string", 0, "Name must be unique within a namespace."),
    ("Status", "string", 0, "The status of the namespace."),
    ("Age", "string", 0, "CreationTimestamp is when this object was created."),
];

/// The columns of a kind, and a row's cells for one object of it.
fn columns(kind: &str) -> &'static [Column] {
    match kind {
        "Pod" => &POD_COLUMNS,
        "Secret" => &SECRET_COLUMNS,
        _ => &NAMESPACE_COLUMNS,
    }
}

fn cells(o: &Value, now: i64) -> Vec<Value> {
    let name = json!(o["metadata"]["name"]);
    match o["kind"].as_str() {
        Some("Pod") => {
            let c = &o["status"]["containerStatuses"][0];
            let ready = u8::from(c["ready"].as_bool().unwrap_or(false));
            let status = if o["metadata"]["deletionTimestamp"].is_string() {
                "Terminating".to_owned()
            } else {
                c["state"]["waiting"]["reason"]
                    .as_str()
                    .or(o["status"]["phase"].as_str())
                    .unwrap_or("Unknown")
                    .to_owned()
            };
            let ip = o["status"]["podIP"].as_str().unwrap_or("<none>");
            vec![
                name,
                json!(format!("{ready}/1")),
                json!(status),
                json!(c["restartCount"].as_u64().unwrap_or(0).to_string()),
                json!(age(o, now)),
                json!(ip),
                json!(o["spec"]["nodeName"]),
                json!("<none>"),
                json!("<none>"),
            ]
        }
        Some("Secret") => vec![
            name,
            json!(o["type"]),
            json!(o["data"].as_object().map_or(0, serde_json::Map::len)),
            json!(age(o, now)),
        ],
        _ => vec![name, json!(o["status"]["phase"]), json!(age(o, now))],
    }
}

/// How a client asked to see objects: whole, or as a `Table` (`Accept: …;as=Table;…`) with
/// `includeObject` `None`, `Metadata` (the default) or `Object`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    Object,
    Table(Include),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Include {
    None,
    Metadata,
    Object,
}

impl Shape {
    pub(super) fn of(headers: &HeaderMap, q: &HashMap<String, String>) -> Self {
        let table = headers
            .get_all("accept")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|m| m.split(';').any(|p| p.trim() == "as=Table"));
        if !table {
            return Self::Object;
        }
        Self::Table(match q.get("includeObject").map(String::as_str) {
            Some("None") => Include::None,
            Some("Object") => Include::Object,
            _ => Include::Metadata,
        })
    }
}

/// A `Table` of objects of one kind; `with_columns: false` leaves the column definitions out,
/// as a watch does after its first event.
pub(super) fn table(
    kind: &str,
    objects: &[Value],
    include: Include,
    rv: Option<u64>,
    with_columns: bool,
    now: i64,
) -> Value {
    let columns: Vec<Value> = if with_columns {
        columns(kind)
            .iter()
            .map(|(name, ty, priority, description)| {
                let mut c =
                    json!({"name": name, "type": ty, "format": "", "description": description, "priority": priority});
                if *name == "Name" {
                    c["format"] = json!("name");
                }
                c
            })
            .collect()
    } else {
        Vec::new()
    };
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut row = json!({"cells": cells(o, now)});
            match include {
                Include::None => {}
                Include::Metadata => {
                    row["object"] = json!({
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": o["metadata"],
                    });
                }
                Include::Object => row["object"] = o.clone(),
            }
            row
        })
        .collect();
    let mut metadata = json!({});
    if let Some(rv) = rv {
        metadata["resourceVersion"] = json!(rv.to_string());
    }
    let mut t = json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "rows": rows});
    if with_columns {
        t["columnDefinitions"] = json!(columns);
    }
    t
}

/// A list of objects in the shape asked for.
pub(super) fn list(shape: Shape, kind: &str, objects: Vec<Value>, rv: u64, now: i64) -> Response {
    match shape {
        Shape::Table(include) => crate::util::ok(&table(kind, &objects, include, Some(rv), true, now)),
        Shape::Object => crate::util::ok(&json!({
            "kind": format!("{kind}List"),
            "apiVersion": "v1",
            "metadata": {"resourceVersion": rv.to_string()},
            "items": Value::Array(objects),
        })),
    }
}

/// One object in the shape asked for.
pub(super) fn one(shape: Shape, object: &Value, now: i64) -> Response {
    match shape {
        Shape::Table(include) => {
            let kind = object["kind"].as_str().unwrap_or_default().to_owned();
            crate::util::ok(&table(&kind, std::slice::from_ref(object), include, None, true, now))
        }
        Shape::Object => crate::util::ok(object),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_kubectl_prints_them() {
        let cases = [
            (5, "5s"),
            (119, "119s"),
            (150, "2m30s"),
            (300, "5m"),
            (1200, "20m"),
            (3 * 3600 + 300, "3h5m"),
            (30 * 3600, "30h"),
            (3 * 86_400 + 2 * 3600, "3d2h"),
            (30 * 86_400, "30d"),
            (800 * 86_400, "2y"),
        ];
        for (secs, age) in cases {
            assert_eq!(human(secs), age, "{secs}");
        }
    }

    #[test]
    fn a_table_is_asked_for_by_the_accept_header_alone() {
        let q = HashMap::new();
        let mut h = HeaderMap::new();
        assert_eq!(Shape::of(&h, &q), Shape::Object);
        h.insert("accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json".parse().unwrap());
        assert_eq!(Shape::of(&h, &q), Shape::Table(Include::Metadata));
        let q = HashMap::from([("includeObject".to_owned(), "None".to_owned())]);
        assert_eq!(Shape::of(&h, &q), Shape::Table(Include::None));
        // `as=TableX` or a Table in a parameter's value is not a Table.
        h.insert("accept", "application/json;as=TableX".parse().unwrap());
        assert_eq!(Shape::of(&h, &q), Shape::Object);
    }
}
