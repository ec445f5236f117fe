//! The whole command-line interface, in one place. Doc comments are the help text and the
//! `ibmcloud` metadata (descriptions, flags, usage) is generated from these definitions, so
//! the two cannot drift apart.
//!
//! [`parse`] builds the `clap::Command` once, with the `ibmcloud`-style help of every
//! (sub)command attached to it, and routes clap's outcomes by [`clap::error::ErrorKind`]: help
//! requests print that help, every other error is an incorrect usage naming the command.

use clap::error::{ContextKind, ErrorKind};
use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand, ValueEnum};

use crate::error::CommandError;

/// The plugin: its one description is the package's (`Cargo.toml`), which is also the
/// namespace description the host shows.
#[derive(Debug, Parser)]
#[command(
    name = "cluster-api-key",
    about = env!("CARGO_PKG_DESCRIPTION"),
    disable_help_flag = true,
    disable_help_subcommand = true,
    disable_version_flag = true,
    subcommand_required = false
)]
pub struct Cli {
    /// Options of every command.
    #[command(flatten)]
    pub global: GlobalArgs,

    /// Print the version.
    #[arg(short = 'v', long)]
    pub version: bool,

    /// The command.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every command accepts, wherever they appear on the line (uv's `GlobalArgs`).
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Prints the command output in JSON format.
    #[arg(short = 'o', long, value_name = "json", ignore_case = true, global = true)]
    pub output: Option<OutputFormat>,

    /// Do not show progress or OK lines.
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,

    /// Run against the embedded emulated account instead of IBM Cloud, as IDENTITY.
    #[arg(
        long,
        global = true,
        hide = true,
        value_name = "IDENTITY",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "functional",
        value_parser = ["functional", "owner", "viewer", "service-id", "departed"]
    )]
    pub sandbox: Option<String>,

    /// With --sandbox: start over from the default emulated account.
    #[arg(long, global = true, hide = true, requires = "sandbox")]
    pub sandbox_reset: bool,

    /// Show help for this command.
    #[arg(short = 'h', long, global = true, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

/// `-r`/`-g`, declared once for every command that takes many regions and resource groups.
#[derive(Debug, Clone, Default, Args)]
pub struct TargetArgs {
    /// Regions (repeatable, or a comma list; default: every region for status and prune, the targeted one for reset and check).
    #[arg(short = 'r', long, value_name = "REGION", value_parser = non_empty)]
    pub region: Vec<String>,

    /// Resource groups, by name or ID (repeatable, or a comma list; default: every group for status and prune, the targeted one for reset and check).
    #[arg(short = 'g', long = "resource-group", value_name = "RESOURCE_GROUP", value_parser = non_empty)]
    pub resource_group: Vec<String>,
}

/// `-r`/`-g` resolved once, before any request: regions split and validated into
/// [`Region`](cluster_api_key_core::types::Region)s, groups split into a selector that core
/// resolves against the account.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// The regions named (none: the command's default).
    pub regions: Vec<cluster_api_key_core::types::Region>,
    /// The groups named (none: the command's default).
    pub groups: cluster_api_key_core::types::GroupSelector,
}

/// `-r`/`-g` for the commands that take one region and one resource group (`info`,
/// `restart-addons`), declared once for both.
#[derive(Debug, Clone, Default, Args)]
pub struct OneTargetArgs {
    /// Instead of a cluster: one region (with -g for its resource group).
    #[arg(short = 'r', long, value_name = "REGION", value_parser = non_empty)]
    pub region: Option<String>,

    /// The resource group name or ID (default: the targeted group).
    #[arg(short = 'g', long = "resource-group", value_name = "RESOURCE_GROUP", value_parser = non_empty)]
    pub resource_group: Option<String>,
}

impl OneTargetArgs {
    /// Resolves them as [`TargetArgs::resolve`] resolves many.
    ///
    /// # Errors
    /// An unknown region, naming the valid ones; more than one region.
    pub fn resolve(&self) -> Result<OneTarget, cluster_api_key_core::Error> {
        OneTarget::resolve(self.region.as_ref(), self.resource_group.as_ref())
    }
}

/// [`OneTargetArgs`] resolved.
#[derive(Debug, Clone, Default)]
pub struct OneTarget {
    /// The region named, if any.
    pub region: Option<cluster_api_key_core::types::Region>,
    /// The group named (name or ID), if any.
    pub group: Option<String>,
}

impl OneTarget {
    /// From the flags' values.
    ///
    /// # Errors
    /// An unknown region, naming the valid ones.
    fn resolve(region: Option<&String>, group: Option<&String>) -> Result<Self, cluster_api_key_core::Error> {
        let given: Vec<String> = region.cloned().into_iter().collect();
        let mut regions = cluster_api_key_core::ops::discovery::regions(&given)?;
        if regions.len() > 1 {
            // One region only: a comma list is not one.
            return Err(cluster_api_key_core::Error::BadRegion(given.concat()));
        }
        Ok(Self { region: regions.pop(), group: group.map(|g| g.trim().to_owned()) })
    }
}

impl TargetArgs {
    /// Resolves argv's values into typed ones: the one place they are split and checked.
    ///
    /// # Errors
    /// An unknown region, naming the valid ones (an incorrect usage).
    pub fn resolve(&self) -> Result<Targets, cluster_api_key_core::Error> {
        Ok(Targets {
            regions: cluster_api_key_core::ops::discovery::regions(&self.region)?,
            groups: cluster_api_key_core::types::GroupSelector::new(&self.resource_group),
        })
    }
}

impl ResetArgs {
    /// Whether this is a batch: several targets, every target, or a filter for automation.
    #[must_use]
    pub fn is_fleet(&self, targets: &Targets) -> bool {
        targets.regions.len() > 1
            || targets.groups.names().len() > 1
            || self.all_regions
            || self.all_resource_groups
            || self.if_missing
            || self.if_older_than.is_some()
            || self.unless_owner.is_some()
    }
}

/// `--account` for the commands that act on one account (`reset`, `prune`, `check`,
/// `restart-addons`): one account per run, never several.
#[derive(Debug, Clone, Default, Args)]
pub struct OneAccountArgs {
    /// Another account of the same login, by ID or name: the command acts on that account alone, with a token of its own (one account per run).
    #[arg(long, value_name = "ID_OR_NAME", value_delimiter = ',', value_parser = non_empty)]
    pub account: Vec<String>,

    /// Refused: a command that changes an account acts on one account per run.
    #[arg(long, hide = true)]
    pub all_accounts: bool,
}

impl OneAccountArgs {
    /// The one account named, if any.
    ///
    /// # Errors
    /// A usage error of `command` for several accounts or `--all-accounts`: a command that can
    /// change an account acts on one per run, so that every plan and question is about one.
    pub fn one(&self, command: &str) -> Result<Option<&str>, CommandError> {
        let refuse = |what: String| {
            CommandError::usage(
                format!(
                    "Incorrect Usage: {command} acts on one account per run, and {what}: run it once for each account, with --account ID."
                ),
                Some(command),
            )
        };
        if self.all_accounts {
            return Err(refuse(String::from("--all-accounts names every account")));
        }
        match self.account.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.as_str())),
            many => Err(refuse(format!("--account names {} ({})", many.len(), many.join(", ")))),
        }
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show every region and resource group, its key, its owner, and what to fix.
    ///
    /// Without --region or -g, the whole account: every region and resource group that has
    /// clusters or a containers-kubernetes-key key. Exits 3 when a finding at or above --fail-on
    /// exists, so a CI job can gate on it.
    Status(StatusArgs),
    /// Replace the API key for all clusters in a region and resource group.
    ///
    /// The new key carries the credentials of the identity that runs the command. The region
    /// and resource group default to the current target; without a targeted resource group the
    /// default resource group is used.
    Reset(ResetArgs),
    /// View the API key owner of a cluster, or of a region and resource group.
    Info(InfoArgs),
    /// Remove superseded containers-kubernetes-key keys, never the current one.
    ///
    /// For each region and resource group, every key older than the current one. Locked keys
    /// only with --unlock; keys of targets without clusters only with --include-orphans.
    Prune(PruneArgs),
    /// Check that an identity may reset the key and own it for the clusters.
    ///
    /// For the caller (default) or another identity, and each region and resource group:
    /// every requirement is met, missing (with the command that grants it) or unknown. Exits 3
    /// when something is missing or unknown, or when the user cannot log in yet. --grant
    /// creates the missing policies (account administrators); with --invite, a --user who is not
    /// in the account is invited with them.
    Check(CheckArgs),
    /// Re-create the add-on pods that use the cluster API key, and wait for them.
    ///
    /// The VPC Block Storage CSI controller and the cluster autoscaler keep using the old key
    /// after a reset until their pods are re-created. For each cluster that runs them, an admin
    /// kubeconfig is fetched (kept in memory), their controller pods in kube-system are deleted
    /// and their replacements awaited. Run it once the new key has reached the clusters
    /// (10 to 30 minutes after a reset), or use 'reset --restart-addons', which waits for that.
    RestartAddons(RestartAddonsArgs),

    /// Print a shell completion script for the standalone binary.
    ///
    /// For example: cluster-api-key completion bash > ~/.local/share/bash-completion/completions/cluster-api-key
    Completion {
        /// bash, zsh, fish or powershell.
        #[arg(value_name = "SHELL", ignore_case = true, value_parser = completion_shell())]
        shell: clap_complete::Shell,
    },
    /// Show help for a command.
    #[command(hide = true)]
    Help {
        /// The command.
        command: Option<String>,
    },
}

impl Command {
    /// Its name on the command line.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Reset(_) => "reset",
            Self::Info(_) => "info",
            Self::Status(_) => "status",
            Self::Check(_) => "check",
            Self::Prune(_) => "prune",
            Self::RestartAddons(_) => "restart-addons",
            Self::Completion { .. } => "completion",
            Self::Help { .. } => "help",
        }
    }
}

/// `--output` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// JSON.
    Json,
    /// CSV (`status` only).
    Csv,
    /// SARIF 2.1.0 (`status` only), for code-scanning dashboards.
    Sarif,
    /// JUnit XML (`status` only), for CI test reports.
    Junit,
    /// GitHub-flavoured Markdown (`status` only), for a pull request or a CI job's summary.
    Markdown,
}

impl OutputFormat {
    /// As typed after `--output`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
            Self::Sarif => "sarif",
            Self::Junit => "junit",
            Self::Markdown => "markdown",
        }
    }
}

/// `status --fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Only critical findings fail.
    Critical,
    /// Warnings and critical findings fail.
    Warning,
    /// Never fail on findings.
    Never,
}

impl From<FailOn> for cluster_api_key_core::policy::FailOn {
    fn from(f: FailOn) -> Self {
        match f {
            FailOn::Critical => Self::Critical,
            FailOn::Warning => Self::Warning,
            FailOn::Never => Self::Never,
        }
    }
}

/// `status --severity`: the least severity the text report shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShownSeverity {
    /// Only critical findings.
    Critical,
    /// Warnings and critical findings.
    Warning,
    /// Every finding (the default).
    Info,
}

impl From<ShownSeverity> for cluster_api_key_core::model::Severity {
    fn from(s: ShownSeverity) -> Self {
        match s {
            ShownSeverity::Critical => Self::Critical,
            ShownSeverity::Warning => Self::Warning,
            ShownSeverity::Info => Self::Info,
        }
    }
}

/// `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub targets: TargetArgs,

    /// Flag keys older than this (for example 90d, 12w; default: the policy's, else 90d).
    #[arg(long, value_name = "DURATION", value_parser = key_age)]
    pub max_age: Option<std::time::Duration>,

    /// IAM ID or email of a functional ID that may own keys (repeatable; added to the policy's).
    #[arg(long = "functional-id", value_name = "IAM_ID", value_parser = non_empty)]
    pub functional_id: Vec<String>,

    /// Exit 3 when a finding of this severity or worse exists (critical, warning, never; default: the policy's, else warning).
    #[arg(long, value_name = "SEVERITY", ignore_case = true)]
    pub fail_on: Option<FailOn>,

    /// The policy file.
    #[arg(
        long,
        value_name = "FILE",
        help = "The policy file (default: CLUSTER_API_KEY_POLICY, else policy.toml in the plugin's folder)"
    )]
    pub policy: Option<std::path::PathBuf>,

    /// Add to a policy file an acceptance of every open finding but the critical ones, for 90 days (adopt the tool in CI today; fail only on what is new). An existing file is added to, never rewritten; writing over it asks first.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<std::path::PathBuf>,

    /// With --baseline: accept the critical findings too (a broken cluster then counts as 0 critical until the date).
    #[arg(long, requires = "baseline")]
    pub baseline_critical: bool,

    /// With --baseline: add to an existing file without asking.
    #[arg(short = 'f', long, requires = "baseline")]
    pub force: bool,

    /// Before someone leaves: what depends on this identity, and the plan that makes the removal safe (repeatable; exit 3 when anything does).
    #[arg(long, value_name = "EMAIL|IAM_ID", value_parser = non_empty)]
    pub owner: Vec<String>,

    /// In text, every target and what to do for each, however many (above 40 targets, the text shows a summary, the targets with findings and what to do for the critical ones; JSON and CSV are always complete).
    #[arg(long)]
    pub all: bool,

    /// In text, show only findings of this severity or worse (critical, warning, info; default: all); the counts, JSON, CSV and the exit code still cover every finding.
    #[arg(long, value_name = "SEVERITY", ignore_case = true)]
    pub severity: Option<ShownSeverity>,

    /// Read every cluster's health issues and workers (2 requests a cluster), not only those of the clusters whose list entry signals trouble.
    #[arg(long)]
    pub read_clusters: bool,

    /// Only the findings that evidence this compliance control (repeatable, or a comma list; CIS-1.3, CIS-1.5).
    #[arg(long, value_name = "CONTROL", value_delimiter = ',', value_parser = control)]
    pub control: Vec<&'static cluster_api_key_core::controls::Control>,

    /// Another account of the same login, by ID or name (repeatable, or a comma list); each is read with a token of its own, under its own rate budget.
    #[arg(long, value_name = "ID_OR_NAME", value_delimiter = ',', value_parser = non_empty, conflicts_with_all = ["owner"])]
    pub account: Vec<String>,

    /// Every account the login can see: the enterprise's (when the login may read it), else the accounts it is a member of.
    #[arg(long, conflicts_with_all = ["account", "owner"])]
    pub all_accounts: bool,
}

/// `reset`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("addons_after").multiple(true).args(["restart_addons", "leaked"])))]
pub struct ResetArgs {
    #[command(flatten)]
    pub targets: TargetArgs,

    #[command(flatten)]
    pub account: OneAccountArgs,

    /// Every region that has clusters or a key.
    #[arg(long)]
    pub all_regions: bool,

    /// Every resource group that has clusters or a key.
    #[arg(long)]
    pub all_resource_groups: bool,

    /// Also reset where there is no cluster (the new key is used only once one is created there).
    #[arg(long)]
    pub include_empty: bool,

    /// Only where the key is missing or its owner is not active.
    #[arg(long)]
    pub if_missing: bool,

    /// Only where the key is older than this (for example 90d).
    #[arg(long, value_name = "DURATION", value_parser = key_age)]
    pub if_older_than: Option<std::time::Duration>,

    /// Skip targets whose key is already owned by this identity (me, functional: any functional ID of the policy, or an IAM ID).
    #[arg(long, value_name = "me|functional|IAM_ID", value_parser = owner_arg)]
    pub unless_owner: Option<String>,

    /// The policy file, for `--unless-owner functional`.
    #[arg(
        long,
        value_name = "FILE",
        help = "The policy file, for --unless-owner functional (default: CLUSTER_API_KEY_POLICY, else policy.toml in the plugin's folder)"
    )]
    pub policy: Option<std::path::PathBuf>,

    /// Targets reset at once in a batch (default 8; the rate limiter keeps requests under IBM's limit).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,

    /// Force the command to run without user prompts.
    #[arg(short = 'f', long)]
    pub force: bool,

    /// Show what would change, without resetting anything.
    #[arg(long)]
    pub dry_run: bool,

    /// Do not wait for the new key owner to show after the reset.
    #[arg(long)]
    pub no_verify: bool,

    /// Do not check permissions first (for the day the check is wrong).
    #[arg(long)]
    pub skip_preflight: bool,

    /// Then re-create the add-on pods of the clusters, once the new key has reached them.
    #[arg(long)]
    pub restart_addons: bool,

    /// The current key has leaked: reset, verify, delete the previous key at once (unlocking it first), re-create the add-on pods, and say what the leak still exposes.
    #[arg(long, conflicts_with = "no_verify")]
    pub leaked: bool,

    /// With --restart-addons or --leaked: how long to wait for the new key to reach the clusters and the new add-on pods to be Ready (default 30m).
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = humantime::parse_duration, requires = "addons_after")]
    pub wait: std::time::Duration,

    /// With --restart-addons or --leaked: the cluster endpoint to use (public, private, vpe; default public).
    #[arg(long, value_name = "ENDPOINT", default_value = "public", ignore_case = true, requires = "addons_after")]
    pub endpoint: EndpointArg,

    /// After the reset (one target), wait up to this long (for example 45m) until the target's clusters stop reporting a credential failure (NHC009, a worker's message); exit 4 naming those that still do.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub wait_clusters: Option<std::time::Duration>,
}

impl ResetArgs {
    /// Whether the add-on pods are re-created after the reset: asked for, or part of a leak
    /// response.
    #[must_use]
    pub fn addons_after(&self) -> bool {
        self.restart_addons || self.leaked
    }
}

/// `--endpoint`: which cluster endpoint an admin kubeconfig points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EndpointArg {
    /// The public service endpoint.
    Public,
    /// The private service endpoint.
    Private,
    /// The virtual private endpoint (VPC clusters; others use their private endpoint).
    Vpe,
}

/// `--addon`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AddonArg {
    /// The VPC Block Storage CSI driver's controller.
    VpcBlockCsi,
    /// The cluster autoscaler.
    ClusterAutoscaler,
}

/// Add-on clusters handled at once: `restart-addons --concurrency`'s default, and the pace of
/// `reset --restart-addons` (which has no flag for it).
pub const ADDONS_CONCURRENCY: u16 = 4;

/// `restart-addons`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("where").required(true).args(["cluster", "region"])))]
pub struct RestartAddonsArgs {
    /// The name or ID of the cluster.
    #[arg(short = 'c', long, value_name = "CLUSTER", value_parser = non_empty)]
    pub cluster: Option<String>,

    #[command(flatten)]
    pub target: OneTargetArgs,

    #[command(flatten)]
    pub account: OneAccountArgs,

    /// Only this add-on (repeatable: vpc-block-csi, cluster-autoscaler; default: both).
    #[arg(long, value_name = "ADDON", ignore_case = true)]
    pub addon: Vec<AddonArg>,

    /// The cluster endpoint to use (public, private, vpe; default public).
    #[arg(long, value_name = "ENDPOINT", default_value = "public", ignore_case = true)]
    pub endpoint: EndpointArg,

    /// How long the new pods may take to be Ready (default 10m).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = humantime::parse_duration)]
    pub wait: std::time::Duration,

    /// Clusters handled at once (default 4).
    #[arg(long, value_name = "N", default_value_t = ADDONS_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub concurrency: u16,

    /// Delete the pods without asking.
    #[arg(short = 'f', long)]
    pub force: bool,

    /// Show which pods would be re-created, and touch nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Satellite clusters' hand-made storage-secret-store holds the new key: restart their autoscaler too (else asked, or skipped with -f).
    #[arg(long)]
    pub satellite_secret_updated: bool,

    /// First refresh the master of every selected cluster ('cluster master refresh'), as IBM's steps after a key owner leaves ask.
    #[arg(long)]
    pub refresh_masters: bool,
}

/// `prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub targets: TargetArgs,

    #[command(flatten)]
    pub account: OneAccountArgs,

    /// Only keys older than this (for example 30d).
    #[arg(long, value_name = "DURATION", value_parser = key_age)]
    pub older_than: Option<std::time::Duration>,

    /// Also remove the keys of regions and resource groups that have no clusters left.
    #[arg(long)]
    pub include_orphans: bool,

    /// Disable the keys instead of deleting them (a later prune deletes them).
    #[arg(long)]
    pub disable_only: bool,

    /// Unlock locked keys, then remove them.
    #[arg(long)]
    pub unlock: bool,

    /// Also remove keys that logged in after the reset that superseded them (IAM's activity
    /// says something still uses them).
    #[arg(long)]
    pub force_in_use: bool,

    /// Show what would be removed, and remove nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Remove without asking.
    #[arg(short = 'f', long)]
    pub force: bool,
}

/// `check`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("who").args(["iam_id", "user", "service_id"])))]
pub struct CheckArgs {
    #[command(flatten)]
    pub targets: TargetArgs,

    #[command(flatten)]
    pub account: OneAccountArgs,

    /// Check this IAM ID instead of yourself.
    #[arg(long, value_name = "IAM_ID", value_parser = non_empty)]
    pub iam_id: Option<String>,

    /// Check this user (by email) instead of yourself.
    #[arg(long, value_name = "EMAIL", value_parser = non_empty)]
    pub user: Option<String>,

    /// Check this service ID instead of yourself.
    #[arg(long, value_name = "SERVICE_ID", value_parser = non_empty)]
    pub service_id: Option<String>,

    /// Create the missing policies (needs the Administrator role on IAM Access Management).
    #[arg(long)]
    pub grant: bool,

    /// With --grant: create them without asking.
    #[arg(short = 'f', long, requires = "grant")]
    pub force: bool,

    /// With --grant: show the policies that would be created, and create nothing.
    #[arg(long, requires = "grant")]
    pub dry_run: bool,

    /// With --grant and --user: invite the email when it is not in the account, with the policies in the invitation (it must be accepted before the user can reset).
    #[arg(long, requires = "grant", requires = "user", conflicts_with_all = ["iam_id", "service_id"])]
    pub invite: bool,
}

/// `info`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["cluster", "region"])))]
pub struct InfoArgs {
    /// The name or ID of the cluster.
    #[arg(short = 'c', long, value_name = "CLUSTER", value_parser = non_empty, conflicts_with = "region")]
    pub cluster: Option<String>,

    #[command(flatten)]
    pub target: OneTargetArgs,

    /// Another account of the same login, by ID or name: read with a token of its own (reads only).
    #[arg(long, value_name = "ID_OR_NAME", value_parser = non_empty)]
    pub account: Option<String>,
}

/// A key's age (`90d`, `12w`, `2160h`): in days by habit, so a bare number asks for a unit that
/// makes sense for an age, not humantime's "90sec or 90ms".
fn key_age(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("a unit is needed: for example {t}d (days), {t}w (weeks) or {t}h (hours)"));
    }
    humantime::parse_duration(t).map_err(|e| format!("{e}; for example 90d, 12w or 2160h"))
}

/// The shells the README documents completion for (`clap_complete` also knows elvish, which is
/// neither documented nor tested).
/// The shells `completion` takes (the README's), as possible values so that the completion
/// scripts offer them too.
fn completion_shell() -> impl clap::builder::TypedValueParser<Value = clap_complete::Shell> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(["bash", "zsh", "fish", "powershell"]).map(|s| {
        match s.to_ascii_lowercase().as_str() {
            "zsh" => clap_complete::Shell::Zsh,
            "fish" => clap_complete::Shell::Fish,
            "powershell" => clap_complete::Shell::PowerShell,
            _ => clap_complete::Shell::Bash,
        }
    })
}

/// `--unless-owner`: `me`, `functional`, or an IAM ID that can own a key (a user's or a service
/// ID's); anything else would silently match no owner.
fn owner_arg(s: &str) -> Result<String, String> {
    use cluster_api_key_core::types::IdentityKind;
    let s = s.trim();
    if s.eq_ignore_ascii_case("me") || s.eq_ignore_ascii_case("functional") {
        return Ok(s.to_ascii_lowercase());
    }
    match IdentityKind::from_iam_id(s) {
        Some(IdentityKind::User | IdentityKind::ServiceId) => Ok(s.to_owned()),
        Some(IdentityKind::TrustedProfile) => Err(String::from("a trusted profile cannot own the cluster API key")),
        None => Err(format!("'{s}' is not me, functional or an IAM ID (IBMid-..., iam-ServiceId-...)")),
    }
}

/// A value that is not empty once trimmed (`-c ""` is a typing slip, said before any request).
/// `status --control`: a control some finding evidences (any case).
fn control(s: &str) -> Result<&'static cluster_api_key_core::controls::Control, String> {
    use cluster_api_key_core::controls;
    controls::find(s).ok_or_else(|| {
        let valid: Vec<&str> = controls::checkable().map(|c| c.id).collect();
        let unmapped: Vec<&str> = controls::CONTROLS.iter().filter(|c| c.codes.is_empty()).map(|c| c.id).collect();
        let mut why = format!("the controls are {}", valid.join(", "));
        if !unmapped.is_empty() {
            why.push_str(&format!(" ({} is evidenced by no finding of this tool)", unmapped.join(", ")));
        }
        why
    })
}

fn non_empty(s: &str) -> Result<String, String> {
    if s.trim().is_empty() { Err(String::from("a value is required, not an empty string")) } else { Ok(s.to_owned()) }
}

/// The host passes the command without the namespace words and sets
/// `IBMCLOUD_PLUGIN_NAMESPACE`; words of the namespace below our own would come back in front
/// of the arguments, as the SDK's public plugins do.
#[must_use]
pub fn with_namespace(env: &cluster_api_key_core::env::Env, args: Vec<String>) -> Vec<String> {
    let ns = env
        .first(&[
            cluster_api_key_core::env::IBMCLOUD_PLUGIN_NAMESPACE,
            cluster_api_key_core::env::BLUEMIX_PLUGIN_NAMESPACE,
        ])
        .unwrap_or_default();
    let mut words: Vec<String> = ns.split_whitespace().skip(1).map(str::to_owned).collect();
    if words.is_empty() {
        return args;
    }
    words.extend(args);
    words
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Parsed {
    /// A command (or none: then the root help).
    Run(Box<Cli>),
    /// Help text to print on stdout.
    Help(String),
}

/// The clap tree with the `ibmcloud`-style help of every command attached; `prefix` is how
/// commands are spelled in it (`ibmcloud cluster-api-key` under the host).
#[must_use]
pub fn command(prefix: &str) -> clap::Command {
    let mut built = Cli::command();
    // Argument settings such as value counts (and propagated globals) are only final after a
    // build; the help is rendered from that copy and attached to a fresh tree.
    built.build();
    let root = Cli::command().override_help(crate::help::root_help(&built, prefix));
    attach_help(root, &built, prefix)
}

/// Attaches the help of every subcommand of `built` to the same subcommand of `fresh`, at any
/// depth (a namespace's commands are spelled `prefix namespace command`).
fn attach_help(mut fresh: clap::Command, built: &clap::Command, prefix: &str) -> clap::Command {
    for sub in built.get_subcommands() {
        let Some(text) = crate::help::command_help(sub, prefix) else { continue };
        let inner = format!("{prefix} {}", sub.get_name());
        fresh = fresh.mut_subcommand(sub.get_name(), |c| attach_help(c.override_help(text), sub, &inner));
    }
    fresh
}

/// Parses `args` (without the program name).
///
/// # Errors
/// An incorrect-usage [`CommandError`] that names the command whose help to show.
pub fn parse(args: &[String], prefix: &str) -> Result<Parsed, CommandError> {
    let root = command(prefix);
    let argv = std::iter::once(crate::names::PLUGIN_NAME.to_owned()).chain(args.iter().cloned());
    match root.clone().try_get_matches_from(argv) {
        Ok(m) => {
            let cli = Cli::from_arg_matches(&m).map_err(|e| usage_error(&root, args, &e))?;
            if let Some(Command::Help { command }) = &cli.command {
                return match command {
                    // `help help`: how to get help is what the root help ends with.
                    None => Ok(Parsed::Help(crate::help::root_help(&root, prefix))),
                    Some(name) if name == "help" => Ok(Parsed::Help(crate::help::root_help(&root, prefix))),
                    Some(name) => {
                        crate::help::find(&root, name).map(crate::help::attached).map(Parsed::Help).ok_or_else(|| {
                            let tip = did_you_mean(&root, name).map(|t| format!(" {t}")).unwrap_or_default();
                            CommandError::usage(format!("Incorrect Usage: '{name}' is not a command.{tip}"), None)
                        })
                    }
                };
            }
            // `--sandbox --sandbox-reset` alone starts the sandbox over (the caller says so).
            if cli.command.is_none() && !cli.version && !cli.global.sandbox_reset {
                return Ok(Parsed::Help(crate::help::root_help(&root, prefix)));
            }
            Ok(Parsed::Run(Box::new(cli)))
        }
        // `-h` anywhere, even with a required flag missing: the help of the command it follows.
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand) => {
            Ok(Parsed::Help(e.render().to_string()))
        }
        Err(e) => Err(usage_error(&root, args, &e)),
    }
}

/// "Did you mean 'status'?" for a mistyped command: the commands within a few edits of it or
/// that it begins, fewest edits first (`rest`: `reset`, then `restart-addons`).
#[must_use]
pub fn did_you_mean(root: &clap::Command, word: &str) -> Option<String> {
    let word = word.to_ascii_lowercase();
    let names: Vec<&str> = crate::help::visible_subcommands(root).map(clap::Command::get_name).collect();
    let most = (word.len() / 3).max(2);
    let begun = |n: &str| n.starts_with(&word) || (word.len() > 3 && word.starts_with(n));
    let mut close: Vec<(usize, &str)> = names
        .iter()
        .map(|n| (cluster_api_key_core::error::edits(&word, n), *n))
        .filter(|(d, n)| *d <= most || begun(n))
        .collect();
    close.sort_unstable();
    let quoted: Vec<String> = close.iter().map(|(_, n)| format!("'{n}'")).collect();
    match quoted.as_slice() {
        [] => None,
        [one] => Some(format!("Did you mean {one}?")),
        [first, rest @ ..] => Some(format!("Did you mean {first} (or {})?", rest.join(", "))),
    }
}

/// `Incorrect Usage: <clap's own sentence>` for the command the line names, if any.
fn usage_error(root: &clap::Command, args: &[String], e: &clap::Error) -> CommandError {
    let detail = e.kind().as_str().map(str::to_owned).unwrap_or_default();
    let rendered = e.render().to_string();
    // clap's first line is its sentence for this error ("unexpected argument '--x' found"); a
    // sentence ending in ':' lists what it means on the lines after it (missing flags).
    let mut lines = rendered.lines().map(str::trim);
    let first = lines.next().unwrap_or_default().trim_start_matches("error: ");
    let named = args.iter().find_map(|a| crate::help::find(root, a)).map(|c| c.get_name().to_owned());
    // A format that does not exist (`--output yaml`) or none (`--output` last): which formats
    // exist and which this command prints, not clap's "'--output <json>'" (its value name).
    let invalid_arg = e.get(ContextKind::InvalidArg).map(ToString::to_string).unwrap_or_default();
    if e.kind() == ErrorKind::InvalidValue && invalid_arg.starts_with("--output") {
        let given = e.get(ContextKind::InvalidValue).map(ToString::to_string).unwrap_or_default();
        let head = if given.is_empty() {
            String::from("--output needs a format.")
        } else {
            format!("'{given}' is not an output format.")
        };
        let msg = format!("Incorrect Usage: {head} {}", crate::names::formats_sentence(named.as_deref()));
        return CommandError::usage(msg, named.as_deref());
    }
    let mut sentence = match first.strip_suffix(':') {
        Some(head) => {
            let items: Vec<&str> = lines.by_ref().take_while(|l| !l.is_empty()).collect();
            format!("{head}: {}", items.join(", "))
        }
        None if first.is_empty() => detail,
        None => first.to_owned(),
    };
    // A mistyped command: our own suggestion, the closest first (clap's puts `restart-addons`
    // before `status` for `stat`).
    let mistyped = if e.kind() == ErrorKind::InvalidSubcommand {
        args.iter().find(|a| !a.starts_with('-') && crate::help::find(root, a).is_none())
    } else {
        None
    };
    if let Some(word) = mistyped {
        sentence = format!("'{word}' is not a command.");
        if let Some(tip) = did_you_mean(root, word) {
            sentence.push_str(&format!(" {tip}"));
        }
    }
    // Keep what helps: the valid values, and clap's "did you mean" for a mistyped flag.
    for line in lines.filter(|_| mistyped.is_none()) {
        if let Some(values) = line.strip_prefix("[possible values: ") {
            sentence.push_str(&format!(" (possible values: {values}"));
            if sentence.ends_with(']') {
                sentence.pop();
                sentence.push(')');
            }
        } else if let Some(tip) = line.strip_prefix("tip: ") {
            sentence.push_str(&format!(". {}{}", tip[..1].to_uppercase(), &tip[1..]));
        }
    }
    let msg =
        if sentence.is_empty() { String::from("Incorrect Usage.") } else { format!("Incorrect Usage: {sentence}") };
    CommandError::usage(msg, named.as_deref())
}
