//! Label and field selectors of pod lists and watches: the equality forms the API accepts,
//! refused with the API's 400 when this emulator does not parse them.

use std::collections::{BTreeMap, HashMap};

use axum::response::Response;
use serde_json::Value;

use super::shapes::failure;

/// A label selector of the forms the API accepts for equality: `k=v`, `k==v`, `k!=v`, `k`,
/// `!k`, comma-separated (all must hold). `None` for a selector this emulator does not parse.
fn label_matches(selector: &str, labels: &BTreeMap<String, String>) -> Option<bool> {
    let mut all = true;
    for term in selector.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if term.contains(" in ") || term.contains(" notin ") || term.contains('(') {
            return None;
        }
        let ok = if let Some((k, v)) = term.split_once("!=") {
            labels.get(k.trim()).is_none_or(|x| x != v.trim())
        } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            labels.get(k.trim()).is_some_and(|x| x == v.trim())
        } else if let Some(k) = term.strip_prefix('!') {
            !labels.contains_key(k.trim())
        } else {
            labels.contains_key(term)
        };
        all &= ok;
    }
    Some(all)
}

/// `metadata.name=x`, `metadata.name!=x`, `metadata.namespace=x`, `status.phase=x`.
fn field_matches(selector: &str, p: &Value) -> Option<bool> {
    let mut all = true;
    for term in selector.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let (field, value, equal) = if let Some((f, v)) = term.split_once("!=") {
            (f, v, false)
        } else if let Some((f, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            (f, v, true)
        } else {
            return None;
        };
        let actual = match field.trim() {
            "metadata.name" => &p["metadata"]["name"],
            "metadata.namespace" => &p["metadata"]["namespace"],
            "status.phase" => &p["status"]["phase"],
            "spec.nodeName" => &p["spec"]["nodeName"],
            _ => return None,
        };
        all &= (actual.as_str() == Some(value.trim())) == equal;
    }
    Some(all)
}

/// Pod selectors of a list or watch, checked before anything is read.
#[derive(Debug, Clone, Default)]
pub(super) struct Selectors {
    label: Option<String>,
    field: Option<String>,
}

impl Selectors {
    pub(super) fn parse(q: &HashMap<String, String>) -> Result<Self, Response> {
        let label = q.get("labelSelector").filter(|s| !s.is_empty()).cloned();
        let field = q.get("fieldSelector").filter(|s| !s.is_empty()).cloned();
        if let Some(sel) = &label
            && label_matches(sel, &BTreeMap::new()).is_none()
        {
            return Err(failure(400, "BadRequest", &format!("unable to parse requirement: {sel}"), None));
        }
        if let Some(sel) = &field
            && field_matches(sel, &Value::Null).is_none()
        {
            return Err(failure(400, "BadRequest", &format!("field label not supported: {sel}"), None));
        }
        Ok(Self { label, field })
    }

    pub(super) fn matches(&self, pod: &Value) -> bool {
        let labels: BTreeMap<String, String> = pod["metadata"]["labels"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
            .unwrap_or_default();
        self.label.as_deref().is_none_or(|s| label_matches(s, &labels) == Some(true))
            && self.field.as_deref().is_none_or(|s| field_matches(s, pod) == Some(true))
    }
}
