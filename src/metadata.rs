//! `SendMetadata`, generated from the clap definitions in [`crate::cli`].
//!
//! The metadata mirrors the Go SDK's `PluginMetadata` field for field (no `omitempty`, Go
//! field names as keys) and obeys the rules of the SDK's metadata validator (`plugin/metadata_validator.go`:
//! lowercase names, descriptions starting with a capital and at most 15 words, balanced usage,
//! upper-case positionals, no command named like a global flag).

use clap::CommandFactory as _;
use serde::Serialize;

use crate::cli::Cli;
use crate::help;
use crate::names::{PLUGIN_NAME, STANDALONE_ONLY};

/// The SDK release whose contract we follow.
pub const SDK_VERSION: Version = Version { major: 1, minor: 12, build: 1 };
/// Lowest ibmcloud CLI we support (the validator requires ≥ 2.0.0).
pub const MIN_CLI_VERSION: Version = Version { major: 2, minor: 0, build: 0 };

/// `VersionType`.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Version {
    /// Major.
    pub major: u64,
    /// Minor.
    pub minor: u64,
    /// Build.
    pub build: u64,
}

impl Version {
    /// This build's version, from Cargo.
    #[must_use]
    pub fn this() -> Self {
        let mut parts = env!("CARGO_PKG_VERSION").split(['.', '-', '+']).map(|p| p.parse::<u64>().unwrap_or(0));
        Self { major: parts.next().unwrap_or(0), minor: parts.next().unwrap_or(0), build: parts.next().unwrap_or(0) }
    }
}

/// `Namespace`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Namespace {
    parent_name: String,
    name: String,
    aliases: Option<Vec<String>>,
    description: String,
    stage: String,
}

/// `Flag`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Flag {
    name: String,
    description: String,
    has_value: bool,
    hidden: bool,
}

/// `Command`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Command {
    namespace: String,
    name: String,
    alias: String,
    aliases: Option<Vec<String>>,
    description: String,
    usage: String,
    flags: Option<Vec<Flag>>,
    hidden: bool,
    stage: String,
}

/// `PluginMetadata`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PluginMetadata {
    name: String,
    aliases: Option<Vec<String>>,
    version: Version,
    min_cli_version: Version,
    namespaces: Vec<Namespace>,
    commands: Vec<Command>,
    #[serde(rename = "SDKVersion")]
    sdk_version: Version,
    delegate_bash_completion: bool,
    private_endpoint_supported: bool,
    #[serde(rename = "IsAccessFromVPC")]
    is_access_from_vpc: bool,
    is_cobra_plugin: bool,
}

/// The flag name in the SDK's form: `f,force`, `output`, `q`.
fn flag_name(arg: &clap::Arg) -> Option<String> {
    match (arg.get_short(), arg.get_long()) {
        (Some(s), Some(l)) => Some(format!("{s},{l}")),
        (None, Some(l)) => Some(l.to_owned()),
        (Some(s), None) => Some(s.to_string()),
        (None, None) => None,
    }
}

/// Every visible command under `cmd`, at any depth: a command with subcommands becomes a
/// namespace (`ParentName` + `Name`, as the host expects) and its commands name it.
fn walk(cmd: &clap::Command, namespace: &str, namespaces: &mut Vec<Namespace>, commands: &mut Vec<Command>) {
    for c in help::visible_subcommands(cmd).filter(|c| !STANDALONE_ONLY.contains(&c.get_name())) {
        if c.has_subcommands() {
            namespaces.push(Namespace {
                parent_name: namespace.to_owned(),
                name: c.get_name().to_owned(),
                aliases: None,
                description: help::about(c),
                stage: String::new(),
            });
            walk(c, &format!("{namespace} {}", c.get_name()), namespaces, commands);
            continue;
        }
        commands.push(Command {
            namespace: namespace.to_owned(),
            name: c.get_name().to_owned(),
            alias: String::new(),
            aliases: None,
            description: help::about(c),
            usage: help::usage(c, &format!("${{COMMAND_NAME}} {namespace}")),
            flags: Some(
                help::visible_args(c)
                    .into_iter()
                    .filter_map(|a| {
                        Some(Flag {
                            name: flag_name(a)?,
                            description: help::arg_help(c, a),
                            has_value: help::takes_value(a),
                            hidden: false,
                        })
                    })
                    .collect(),
            ),
            hidden: false,
            stage: String::new(),
        });
    }
}

/// The metadata the host asks for with `SendMetadata`.
#[must_use]
pub fn metadata() -> PluginMetadata {
    let mut root = Cli::command();
    // Argument settings such as value counts (and propagated globals) are only final after a
    // build.
    root.build();
    let mut namespaces = vec![Namespace {
        parent_name: String::new(),
        name: PLUGIN_NAME.to_owned(),
        aliases: None,
        description: help::about(&root),
        stage: String::new(),
    }];
    let mut commands = Vec::new();
    walk(&root, PLUGIN_NAME, &mut namespaces, &mut commands);
    PluginMetadata {
        name: PLUGIN_NAME.to_owned(),
        aliases: None,
        version: Version::this(),
        min_cli_version: MIN_CLI_VERSION,
        namespaces,
        commands,
        sdk_version: SDK_VERSION,
        delegate_bash_completion: true,
        private_endpoint_supported: true,
        is_access_from_vpc: true,
        is_cobra_plugin: false,
    }
}

/// The compact JSON the host reads.
#[must_use]
pub fn metadata_json() -> String {
    // A struct of strings, numbers and options always serializes.
    serde_json::to_string(&metadata()).unwrap_or_else(|_| String::from("{}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_has_the_sdk_shape() {
        let v: serde_json::Value = serde_json::from_str(&metadata_json()).unwrap();
        for key in [
            "Name",
            "Aliases",
            "Version",
            "MinCliVersion",
            "Namespaces",
            "Commands",
            "SDKVersion",
            "DelegateBashCompletion",
            "PrivateEndpointSupported",
            "IsAccessFromVPC",
            "IsCobraPlugin",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert_eq!(v["SDKVersion"], serde_json::json!({"Major": 1, "Minor": 12, "Build": 1}));
        let reset = v["Commands"].as_array().unwrap().iter().find(|c| c["Name"] == "reset").unwrap();
        assert_eq!(
            reset["Usage"],
            "${COMMAND_NAME} cluster-api-key reset [--region REGION] [--resource-group RESOURCE_GROUP] [--account ID_OR_NAME] [--all-regions] [--all-resource-groups] [--include-empty] [--if-missing] [--if-older-than DURATION] [--unless-owner me|functional|IAM_ID] [--policy FILE] [--concurrency N] [-f] [--dry-run] [--no-verify] [--skip-preflight] [--restart-addons] [--leaked] [--wait DURATION] [--endpoint ENDPOINT] [--wait-clusters DURATION] [--output json] [-q]"
        );
        let flags: Vec<&str> = reset["Flags"].as_array().unwrap().iter().map(|f| f["Name"].as_str().unwrap()).collect();
        assert_eq!(
            flags,
            [
                "r,region",
                "g,resource-group",
                "account",
                "all-regions",
                "all-resource-groups",
                "include-empty",
                "if-missing",
                "if-older-than",
                "unless-owner",
                "policy",
                "concurrency",
                "f,force",
                "dry-run",
                "no-verify",
                "skip-preflight",
                "restart-addons",
                "leaked",
                "wait",
                "endpoint",
                "wait-clusters",
                "o,output",
                "q,quiet"
            ]
        );
        assert!(!metadata_json().contains("sandbox"));
    }
}
