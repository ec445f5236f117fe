//! `SendMetadata` and help text, both generated from the clap definitions in [`crate::cli`].
//!
//! The metadata mirrors the Go SDK's `PluginMetadata` field for field (no `omitempty`, Go
//! field names as keys) and obeys the SDK's metadata validator rules (protocol doc §1.3).

use clap::CommandFactory as _;
use serde::Serialize;

use crate::cli::Cli;

/// Plugin and namespace name.
pub const PLUGIN_NAME: &str = "cluster-api-key";
/// The SDK release whose contract we follow.
pub const SDK_VERSION: Version = Version { major: 1, minor: 12, build: 1 };
/// Lowest ibmcloud CLI we support (the validator requires ≥ 2.0.0).
pub const MIN_CLI_VERSION: Version = Version { major: 2, minor: 0, build: 0 };
/// One-line description of the plugin.
pub const DESCRIPTION: &str = "Inspect, reset, verify and clean up the Kubernetes Service cluster API key.";

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

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().trim().to_owned()
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

fn takes_value(arg: &clap::Arg) -> bool {
    arg.get_num_args().is_some_and(|n| n.takes_values())
}

/// The visible, user-facing flags of a subcommand (not `--help`, not hidden ones).
fn visible_args(cmd: &clap::Command) -> Vec<&clap::Arg> {
    cmd.get_arguments().filter(|a| !a.is_hide_set() && a.get_long() != Some("help") && !a.is_positional()).collect()
}

/// The usage line, with `prefix` as the command path (`${COMMAND_NAME} cluster-api-key`).
#[must_use]
pub fn usage(cmd: &clap::Command, prefix: &str) -> String {
    let mut s = format!("{prefix} {}", cmd.get_name());
    for a in visible_args(cmd) {
        let value = a.get_value_names().and_then(|v| v.first()).map(ToString::to_string).unwrap_or_default();
        let part = match (takes_value(a), a.get_long(), a.get_short()) {
            (true, Some(l), _) => format!("--{l} {value}"),
            (true, None, Some(sh)) => format!("-{sh} {value}"),
            (false, _, Some(sh)) => format!("-{sh}"),
            (false, Some(l), None) => format!("--{l}"),
            _ => continue,
        };
        if a.is_required_set() {
            s.push(' ');
            s.push_str(&part);
        } else {
            s.push_str(&format!(" [{part}]"));
        }
    }
    s
}

/// The metadata the host asks for with `SendMetadata`.
#[must_use]
pub fn metadata() -> PluginMetadata {
    let mut root = Cli::command();
    // Argument settings such as value counts are only final after a build.
    root.build();
    let commands = root
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| Command {
            namespace: PLUGIN_NAME.to_owned(),
            name: c.get_name().to_owned(),
            alias: String::new(),
            aliases: None,
            description: first_line(&c.get_about().map(ToString::to_string).unwrap_or_default()),
            usage: usage(c, &format!("${{COMMAND_NAME}} {PLUGIN_NAME}")),
            flags: Some(
                visible_args(c)
                    .into_iter()
                    .filter_map(|a| {
                        Some(Flag {
                            name: flag_name(a)?,
                            description: first_line(&a.get_help().map(ToString::to_string).unwrap_or_default()),
                            has_value: takes_value(a),
                            hidden: false,
                        })
                    })
                    .collect(),
            ),
            hidden: false,
            stage: String::new(),
        })
        .collect();
    PluginMetadata {
        name: PLUGIN_NAME.to_owned(),
        aliases: None,
        version: Version::this(),
        min_cli_version: MIN_CLI_VERSION,
        namespaces: vec![Namespace {
            parent_name: String::new(),
            name: PLUGIN_NAME.to_owned(),
            aliases: None,
            description: DESCRIPTION.to_owned(),
            stage: String::new(),
        }],
        commands,
        sdk_version: SDK_VERSION,
        delegate_bash_completion: false,
        private_endpoint_supported: true,
        is_access_from_vpc: true,
        is_cobra_plugin: false,
    }
}

/// The compact JSON the host reads.
#[must_use]
pub fn metadata_json() -> String {
    serde_json::to_string(&metadata()).unwrap_or_default()
}

/// Help for one command, in ibmcloud's `NAME:` / `USAGE:` / `OPTIONS:` form.
#[must_use]
pub fn command_help(name: &str, prefix: &str) -> Option<String> {
    let mut root = Cli::command();
    // Argument settings such as value counts are only final after a build.
    root.build();
    let cmd = root.get_subcommands().find(|c| c.get_name() == name && !c.is_hide_set())?;
    let mut out = format!(
        "NAME:\n  {} - {}\n\nUSAGE:\n  {}\n",
        cmd.get_name(),
        first_line(&cmd.get_about().map(ToString::to_string).unwrap_or_default()),
        usage(cmd, prefix)
    );
    if let Some(long) = cmd.get_long_about().map(ToString::to_string) {
        let rest: Vec<&str> = long.lines().skip(1).collect();
        let rest = rest.join("\n");
        if !rest.trim().is_empty() {
            out.push_str(&format!("\n  {}\n", rest.trim().replace('\n', "\n  ")));
        }
    }
    out.push_str("\nOPTIONS:\n");
    let rows: Vec<(String, String)> = visible_args(cmd)
        .into_iter()
        .map(|a| {
            let names = match (a.get_short(), a.get_long()) {
                (Some(s), Some(l)) => format!("-{s}, --{l}"),
                (None, Some(l)) => format!("--{l}"),
                (Some(s), None) => format!("-{s}"),
                (None, None) => String::new(),
            };
            let value = if takes_value(a) {
                format!(" {}", a.get_value_names().and_then(|v| v.first()).map(ToString::to_string).unwrap_or_default())
            } else {
                String::new()
            };
            (format!("{names}{value}"), first_line(&a.get_help().map(ToString::to_string).unwrap_or_default()))
        })
        .collect();
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (n, d) in rows {
        out.push_str(&format!("  {n:width$}   {d}\n"));
    }
    Some(out)
}

/// Help for the whole plugin.
#[must_use]
pub fn root_help(prefix: &str) -> String {
    let mut root = Cli::command();
    // Argument settings such as value counts are only final after a build.
    root.build();
    let cmds: Vec<(String, String)> = root
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| (c.get_name().to_owned(), first_line(&c.get_about().map(ToString::to_string).unwrap_or_default())))
        .collect();
    let width = cmds.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut out =
        format!("NAME:\n  {PLUGIN_NAME} - {DESCRIPTION}\n\nUSAGE:\n  {prefix} COMMAND [OPTIONS]\n\nCOMMANDS:\n");
    for (n, d) in cmds {
        out.push_str(&format!("  {n:width$}   {d}\n"));
    }
    out.push_str(&format!("\nEnter '{prefix} help COMMAND' for more information about a command.\n"));
    out
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
            "${COMMAND_NAME} cluster-api-key reset [--region REGION] [--resource-group RESOURCE_GROUP] [-f] [--dry-run] [--no-verify] [--output json] [-q]"
        );
        let flags: Vec<&str> = reset["Flags"].as_array().unwrap().iter().map(|f| f["Name"].as_str().unwrap()).collect();
        assert_eq!(flags, ["r,region", "g,resource-group", "f,force", "dry-run", "no-verify", "output", "q,quiet"]);
        assert!(!metadata_json().contains("sandbox"));
    }
}
