//! The whole command-line interface, in one place. Doc comments are the help text and the
//! `ibmcloud` metadata (descriptions, flags, usage) is generated from these definitions, so
//! the two cannot drift apart.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Inspect, reset and verify the IBM Cloud Kubernetes Service cluster API key.
#[derive(Debug, Parser)]
#[command(
    name = "cluster-api-key",
    disable_help_flag = true,
    disable_help_subcommand = true,
    disable_version_flag = true,
    subcommand_required = false
)]
pub struct Cli {
    /// Run against the embedded emulator instead of IBM Cloud.
    #[arg(long, global = true, hide = true)]
    pub sandbox: bool,

    /// Print the version.
    #[arg(short = 'v', long)]
    pub version: bool,

    /// Show help.
    #[arg(short = 'h', long)]
    pub help: bool,

    /// The command.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Replace the API key for all clusters in a region and resource group.
    ///
    /// The new key carries the credentials of the identity that runs the command. The region
    /// and resource group default to the current target; without a targeted resource group the
    /// default resource group is used.
    Reset(ResetArgs),
    /// View the owner of the API key that a cluster uses.
    Info(InfoArgs),
    /// Show help for a command.
    #[command(hide = true)]
    Help {
        /// The command.
        command: Option<String>,
    },
}

impl Command {
    /// The options shared by every command.
    #[must_use]
    pub fn common(&self) -> Option<&Common> {
        match self {
            Self::Reset(a) => Some(&a.common),
            Self::Info(a) => Some(&a.common),
            Self::Help { .. } => None,
        }
    }
}

/// `--output`'s only format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// JSON.
    Json,
}

/// Options every command accepts.
#[derive(Debug, Args)]
pub struct Common {
    /// Prints the command output in JSON format.
    #[arg(long, value_name = "json", ignore_case = true)]
    pub output: Option<OutputFormat>,

    /// Do not show the message of the day, progress or OK lines.
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Show help for this command.
    #[arg(short = 'h', long)]
    pub help: bool,
}

impl Common {
    /// Whether JSON output was asked for.
    #[must_use]
    pub fn json(&self) -> bool {
        self.output == Some(OutputFormat::Json)
    }
}

/// `reset`.
#[derive(Debug, Args)]
pub struct ResetArgs {
    /// The region whose API key to reset (default: the targeted region).
    #[arg(short = 'r', long, value_name = "REGION")]
    pub region: Option<String>,

    /// The resource group name or ID (default: the targeted group, else the default group).
    #[arg(short = 'g', long = "resource-group", value_name = "RESOURCE_GROUP")]
    pub resource_group: Option<String>,

    /// Force the command to run without user prompts.
    #[arg(short = 'f', long)]
    pub force: bool,

    /// Show what would change, without resetting anything.
    #[arg(long)]
    pub dry_run: bool,

    /// Do not wait for the new key owner to show after the reset.
    #[arg(long)]
    pub no_verify: bool,

    /// Shared options.
    #[command(flatten)]
    pub common: Common,
}

/// `info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The name or ID of the cluster.
    #[arg(short = 'c', long, value_name = "CLUSTER", required = true)]
    pub cluster: Option<String>,

    /// The resource group name or ID to look the cluster up in (default: the targeted group).
    #[arg(short = 'g', long = "resource-group", value_name = "RESOURCE_GROUP")]
    pub resource_group: Option<String>,

    /// Shared options.
    #[command(flatten)]
    pub common: Common,
}
