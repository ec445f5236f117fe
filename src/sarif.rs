//! `status -o sarif`: the report as a SARIF 2.1.0 document, for code-scanning dashboards (GitHub
//! code scanning and others): one rule per finding code, with the controls it evidences as
//! tags; one result per finding, at a logical location (account / region / resource group); the
//! policy's acceptances as external suppressions with their reason, `until` and `by`.
//!
//! Everything a dashboard groups or links by is stable across runs: rule IDs are the finding
//! codes, the help URI points at the README's findings table, and each result carries a
//! fingerprint made of its code and target, so that a finding fixed or reopened is tracked as the
//! same one.

use cluster_api_key_core::controls;
use cluster_api_key_core::model::{Code, Finding, Severity, StatusReport, TargetStatus};
use serde_json::{Value, json};

use crate::ui::Text;

/// The schema the document names (OASIS's, errata 01: the one the tests validate against).
const SCHEMA: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The README's findings table, where every rule's help points.
fn help_uri() -> String {
    format!("{}#findings", env!("CARGO_PKG_REPOSITORY"))
}

/// What a finding code means and what fixes it, in general (each result says it for its own
/// target, with the exact command): the rule's full description and help.
fn describe(code: Code) -> (&'static str, &'static str) {
    match code {
        Code::NoKey => (
            "Clusters exist in the region and resource group, and no API key does (for example, its owner was removed from the account and IBM deleted the key with them).",
            "Create the key as a functional ID: cluster-api-key reset --region REGION -g GROUP.",
        ),
        Code::OwnerNotInAccount => (
            "The key's owner is no longer in the account: IBM deletes a removed user's API keys, which breaks every cluster of the target.",
            "Reset the key now, as a functional ID: cluster-api-key reset --region REGION -g GROUP.",
        ),
        Code::OwnerInactive => (
            "The key's owner is in the account but not ACTIVE.",
            "Reset the key now, as a functional ID: cluster-api-key reset --region REGION -g GROUP.",
        ),
        Code::OwnerLacksRoles => (
            "The key's owner lacks a role the clusters need from the key (Writer or Manager on Kubernetes Service, Viewer on the group, VPC Infrastructure for VPC clusters).",
            "Grant the roles (cluster-api-key check --iam-id OWNER --grant), or reset as an identity that has them.",
        ),
        Code::OwnerUnknown => (
            "The key's owner, or their state in the account, could not be read.",
            "Run status as a user with a User Management role (Viewer is enough), or check with cluster-api-key info.",
        ),
        Code::OwnerRolesUnknown => (
            "The owner's access policies could not be read, so whether they lack a role the clusters need is unknown.",
            "Run status as the account owner or with Viewer on IAM Access Management, or have an administrator run cluster-api-key check --iam-id OWNER.",
        ),
        Code::KeyTooOld => (
            "The key is older than the maximum age (--max-age, default 90 days).",
            "Rotate it: cluster-api-key reset --region REGION -g GROUP.",
        ),
        Code::PersonalOwner => (
            "A person owns the key, not a service ID or one of the functional IDs.",
            "Reset it as a functional ID or service ID, or name the user in the policy file's functional_ids.",
        ),
        Code::KeyLocked => (
            "The key is locked: it cannot be deleted after a reset until it is unlocked.",
            "After the reset, cluster-api-key prune --unlock unlocks and removes it.",
        ),
        Code::KeyDisabled => (
            "The key is disabled: the clusters cannot use it.",
            "Enable it (ibmcloud iam api-key-enable KEY_ID), or reset it.",
        ),
        Code::SupersededKeys => (
            "Older keys of the target are still there.",
            "Remove them with cluster-api-key prune (it keeps any key still in use).",
        ),
        Code::OrphanKey => (
            "A key for a region and resource group with no clusters.",
            "Remove it with cluster-api-key prune --include-orphans.",
        ),
        Code::AcceptanceExpired => (
            "An acceptance of the policy file is past its until date: it accepts nothing any more.",
            "Renew it (a new date, a reason that still holds), or fix the finding and remove the entry.",
        ),
        Code::ClassicCredentialsSet => (
            "Classic infrastructure credentials are set by hand for a target with classic clusters: they, not the API key, order those clusters' infrastructure, and a reset does not change them.",
            "Make sure their owner is a functional ID (ibmcloud ks credential get, with the group targeted).",
        ),
        Code::ClassicCredentialsOwnerGone => (
            "The user behind the classic infrastructure credentials is no longer in the account, or not ACTIVE.",
            "Set them again as a functional ID's infrastructure user (ibmcloud ks credential set classic), or remove them (ibmcloud ks credential unset).",
        ),
        Code::OwnerNearKeyLimit => (
            "The owner holds at least 80% of IAM's per-identity API key limit: at the limit, a reset or a cluster creation as that identity fails.",
            "Prune obsolete keys, spread the keys across functional IDs, or ask IBM for a higher limit.",
        ),
        Code::KeyExpiring => (
            "The key expires within 30 days: then the clusters stop working as with a disabled key.",
            "Reset it before the date: cluster-api-key reset --region REGION -g GROUP.",
        ),
        Code::KeyExpired => (
            "The key has expired: the clusters cannot use it (IBM's clusters raise health issue NHC009).",
            "Reset it now: cluster-api-key reset --region REGION -g GROUP.",
        ),
        Code::KeyLeakAction => (
            "IAM disables or deletes the key if it finds it leaked (action_when_leaked): a leak becomes an outage.",
            "If it leaks, reset at once: cluster-api-key reset --region REGION -g GROUP --leaked.",
        ),
        Code::ClusterCredentialFailure => (
            "The clusters themselves report a credential failure (a health issue such as NHC009, or a worker's message): it points at the key, its owner, or the classic infrastructure credentials.",
            "Fix what it points at (reset the key as a functional ID, or set the classic credentials again), then check what the clusters say: cluster-api-key status --read-clusters --region REGION -g GROUP.",
        ),
        Code::OwnerIsAccountOwner => (
            "The account owner owns the key; CIS IBM Cloud Foundations 1.5 asks that no API key be owned by the account owner.",
            "Reset it as a functional ID or service ID: cluster-api-key reset --region REGION -g GROUP.",
        ),
    }
}

/// The rule's name: the code in Pascal case (`OwnerNotInAccount`).
fn rule_name(code: Code) -> String {
    code.as_str()
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

/// SARIF's level for a severity.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// GitHub code scanning's `security-severity` (a CVSS-like score it shows as critical, high,
/// medium or low).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.0",
        Severity::Warning => "5.0",
        Severity::Info => "2.0",
    }
}

/// The controls a code evidences, by ID.
fn control_ids(code: Code) -> Vec<&'static str> {
    controls::of(code).map(|c| c.id).collect()
}

/// One rule per finding code, every code (a dashboard sees the same rules in every run); `me`
/// spells this tool's commands in the help (`ibmcloud cluster-api-key` under the host).
fn rules(me: &str) -> Vec<Value> {
    Code::ALL
        .iter()
        .map(|&code| {
            let (meaning, fix) = describe(code);
            let mut tags = vec![String::from("security")];
            tags.extend(control_ids(code).into_iter().map(String::from));
            let controls: Vec<Value> =
                controls::of(code).map(|c| json!({"id": c.id, "title": c.title, "source": c.source})).collect();
            json!({
                "id": code.as_str(),
                "name": rule_name(code),
                "shortDescription": {"text": first_sentence(meaning)},
                "fullDescription": {"text": meaning},
                "help": {"text": fix.replace("cluster-api-key ", &format!("{me} "))},
                "helpUri": help_uri(),
                "defaultConfiguration": {"level": level(code.severity())},
                "properties": {
                    "tags": tags,
                    "controls": controls,
                    "security-severity": security_severity(code.severity()),
                },
            })
        })
        .collect()
}

/// The first sentence of a description (up to its first `: ` or `. `).
fn first_sentence(s: &str) -> String {
    let end = [s.find(": "), s.find(". ")].into_iter().flatten().min().unwrap_or(s.len());
    let head = s[..end].trim_end_matches('.');
    format!("{head}.")
}

/// The result of one finding of target `t`, `action` what to do there.
fn result(report: &StatusReport, t: &TargetStatus, f: &Finding, action: &Text) -> Value {
    let rule_index = Code::ALL.iter().position(|c| *c == f.code).unwrap_or(0);
    let account = report.account.as_str();
    let name = format!("{account}/{}/{}", t.region, t.resource_group_name);
    let mut v = json!({
        "ruleId": f.code.as_str(),
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": {"text": format!("{} / {}: {}. {}", t.region, t.resource_group_name, f.detail, action.to_plain())},
        "locations": [{
            "logicalLocations": [{
                "name": t.resource_group_name,
                "fullyQualifiedName": name,
                "kind": "resource",
            }],
        }],
        "partialFingerprints": {
            "clusterApiKeyTarget/v1": format!("{}:{account}:{}:{}", f.code.as_str(), t.region, t.resource_group_id),
        },
        "properties": {
            "severity": f.severity,
            "controls": control_ids(f.code),
            "region": t.region,
            "resourceGroupId": t.resource_group_id,
            "resourceGroupName": t.resource_group_name,
            "clusters": t.clusters.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        },
    });
    if let Some(a) = &f.acceptance {
        let mut props = json!({"until": a.until});
        if let Some(by) = &a.by {
            props["by"] = json!(by);
        }
        v["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": a.reason,
            "properties": props,
        }]);
    }
    v
}

/// The document: one run of this tool, its rules, a result per finding (`actions`: what to do
/// about each, per target, in the report's order).
pub fn document(report: &StatusReport, actions: &[Vec<Text>], me: &str) -> Value {
    let results: Vec<Value> = report
        .targets
        .iter()
        .zip(actions)
        .flat_map(|(t, a)| t.findings.iter().zip(a).map(move |(f, a)| result(report, t, f, a)))
        .collect();
    with_results(&results, me)
}

/// A document of one run with these results (none: a run that found nothing, or an account
/// that could not be read, whose invocation the caller adds).
pub fn with_results(results: &[Value], me: &str) -> Value {
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": crate::names::PLUGIN_NAME,
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": rules(me),
                },
            },
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    })
}
