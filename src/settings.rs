//! Every setting a run depends on, resolved once, before any request, into one typed value per
//! command (uv's `settings.rs`): the commands run on these values and decide no precedence of
//! their own, and `main.rs` only dispatches on [`Action`].
//!
//! # Which value wins
//!
//! A flag beats the environment, which beats the policy file, which beats the default:
//!
//! | Setting | Flag | Environment | Policy file | Default |
//! |---|---|---|---|---|
//! | output format | `--output` (refused where the command does not print it) | - | - | text |
//! | the policy file | `--policy` | `CLUSTER_API_KEY_POLICY` | - | `policy.toml` in the plugin's folder, if it exists |
//! | `status --max-age` | `--max-age` | - | `max_age` | [`DEFAULT_MAX_AGE`] (90 days) |
//! | `status --fail-on` | `--fail-on` | - | `fail_on` | warning |
//! | `status` functional IDs | `--functional-id` (added to the policy's) | - | `functional_ids` | none |
//! | `reset --unless-owner functional` | - | - | `functional_ids` (required) | - |
//! | reads at once (status, prune, reset's plan) | - | `CLUSTER_API_KEY_CONCURRENCY` | - | from the rate limit (core's context) |
//! | resets at once | `reset --concurrency` | - | - | 8 |
//! | add-on clusters at once | `restart-addons --concurrency` | - | - | [`ADDONS_CONCURRENCY`] (4, in `cli`; also for `reset --restart-addons`) |
//! | verification of a reset | `--no-verify` (none) | `CLUSTER_API_KEY_VERIFY_TIMEOUT_SECS`, `..._INTERVAL_MS` | - | 60 s, every 2 s |
//! | the sandbox | `--sandbox[=IDENTITY]`, `--sandbox-reset` | - | - | IBM Cloud itself |
//!
//! The environment's numbers (concurrency, timings, the rate limit) are read and checked by
//! core's `Context` with the rest of the CLI's configuration; this module takes them from there.

use std::path::{Path, PathBuf};
use std::time::Duration;

use cluster_api_key_core::context::Context;
use cluster_api_key_core::ops::addons::{self, AddonKind};
use cluster_api_key_core::ops::{check, status};
use cluster_api_key_core::policy::{self, FailOn, Policy};
use cluster_api_key_core::types::IamId;

use crate::cli::{
    ADDONS_CONCURRENCY, AddonArg, CheckArgs, Cli, Command, EndpointArg, InfoArgs, OneTarget, OutputFormat, PruneArgs,
    ResetArgs, RestartAddonsArgs, StatusArgs, Targets,
};
use crate::error::CommandError;
use crate::names;

/// `status --max-age` when neither the flag nor the policy says.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(90 * 86_400);

/// How a run prints what it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Words for a person.
    Text,
    /// One JSON document on stdout.
    Json,
    /// A CSV table on stdout (`status`).
    Csv,
    /// A SARIF 2.1.0 document on stdout (`status`).
    Sarif,
    /// A JUnit XML document on stdout (`status`).
    Junit,
    /// A Markdown summary on stdout (`status`).
    Markdown,
}

/// What the command line asks of the binary, once parsed.
#[derive(Debug)]
pub enum Action<'a> {
    /// `-v`: the version.
    Version,
    /// `--sandbox --sandbox-reset` without a command: start the sandbox over.
    SandboxReset {
        /// The sandbox's identity.
        identity: &'a str,
    },
    /// `completion SHELL`: print the script.
    Completion(clap_complete::Shell),
    /// A command that reads the account.
    Run(&'a Command),
}

/// The settings of every run (uv's `GlobalSettings`).
#[derive(Debug)]
pub struct GlobalSettings<'a> {
    /// What to do.
    pub action: Action<'a>,
    /// The format the output is in.
    pub format: Format,
    /// `-q`: no progress or OK lines.
    pub quiet: bool,
    /// `--sandbox[=IDENTITY]` (and `--sandbox-reset`): run against the embedded emulator.
    pub sandbox: Option<Sandbox<'a>>,
}

/// `--sandbox`.
#[derive(Debug, Clone, Copy)]
pub struct Sandbox<'a> {
    /// The identity the sandbox runs as.
    pub identity: &'a str,
    /// Start from the default emulated account.
    pub reset: bool,
}

impl<'a> GlobalSettings<'a> {
    /// Resolves the parsed command line.
    ///
    /// # Errors
    /// A format the command does not print: an incorrect usage, to be printed as plain text
    /// (the document asked for is the one thing that cannot be given, and a JSON error would be
    /// a third format).
    pub fn resolve(cli: &'a Cli) -> Result<Self, CommandError> {
        let sandbox =
            cli.global.sandbox.as_deref().map(|identity| Sandbox { identity, reset: cli.global.sandbox_reset });
        let format = match cli.global.output {
            None => Format::Text,
            Some(OutputFormat::Json) => Format::Json,
            Some(OutputFormat::Csv) => Format::Csv,
            Some(OutputFormat::Sarif) => Format::Sarif,
            Some(OutputFormat::Junit) => Format::Junit,
            Some(OutputFormat::Markdown) => Format::Markdown,
        };
        let settings = |action| Self { action, format, quiet: cli.global.quiet, sandbox };
        if cli.version {
            return Ok(settings(Action::Version));
        }
        if let (Some(command), Some(format)) = (&cli.command, cli.global.output) {
            refuse_format(command.name(), format)?;
            // CSV is the table of targets; what depends on an owner is text or JSON. Refused
            // here, with the other formats a run cannot print: in plain text.
            if let (
                Command::Status(args),
                OutputFormat::Csv | OutputFormat::Sarif | OutputFormat::Junit | OutputFormat::Markdown,
            ) = (command, format)
                && !args.owner.is_empty()
            {
                return Err(CommandError::usage(
                    format!(
                        "Incorrect Usage: --owner prints text or JSON, not {}.",
                        names::format_name(format.as_str())
                    ),
                    Some("status"),
                ));
            }
        }
        let action = match (&cli.command, sandbox) {
            (Some(Command::Completion { shell }), _) => Action::Completion(*shell),
            (Some(command), _) => Action::Run(command),
            // `cli::parse` answers a line without a command with the help, but for this.
            (None, Some(Sandbox { identity, reset: true })) => Action::SandboxReset { identity },
            (None, _) => return Err(CommandError::internal("no command after parsing")),
        };
        Ok(settings(action))
    }
}

/// A format that `command` does not print, refused with the formats it does.
fn refuse_format(command: &str, format: OutputFormat) -> Result<(), CommandError> {
    if names::output_formats(Some(command)).contains(&format.as_str()) {
        return Ok(());
    }
    let msg = if names::SCRIPT_COMMANDS.contains(&command) {
        format!("Incorrect Usage: {}", names::formats_sentence(Some(command)))
    } else {
        let own = names::output_formats(Some(command));
        let flags: Vec<String> = own.iter().map(|f| format!("--output {f}")).collect();
        format!(
            "Incorrect Usage: {command} does not print {} (only {} does): it prints {} ({}).",
            names::format_name(format.as_str()),
            names::CSV_COMMANDS.join(", "),
            names::or_list(own),
            flags.join(", ")
        )
    };
    Err(CommandError::usage(msg, Some(command)))
}

/// Whether the command line asks for JSON, read before clap parses it (so that a usage error
/// is a JSON document too): `-o json`, `-ojson`, `--output json`, `--output=json`, any case.
#[must_use]
pub fn wants_json(args: &[String]) -> bool {
    let doc = |v: &str| v.eq_ignore_ascii_case("json");
    args.iter().enumerate().any(|(i, a)| {
        let next = args.get(i + 1).map(String::as_str);
        match a.as_str() {
            "-o" | "--output" => next.is_some_and(doc),
            other => other.strip_prefix("--output=").or_else(|| other.strip_prefix("-o")).is_some_and(doc),
        }
    })
}

/// What the commands' settings are resolved from besides their flags: the environment and the
/// CLI's configuration, as core's [`Context`] read them, and the plugin's folder.
#[derive(Debug, Clone)]
pub struct Sources {
    /// `CLUSTER_API_KEY_POLICY`, when set.
    pub policy_variable: Option<String>,
    /// The plugin's own folder, when there is a home.
    pub plugin_dir: Option<PathBuf>,
    /// Reads at once (`CLUSTER_API_KEY_CONCURRENCY`, else from the rate limit).
    pub read_concurrency: usize,
    /// How resets and add-on restarts are paced.
    pub timings: Timings,
    /// Timeout of one request (`IBMCLOUD_HTTP_TIMEOUT`).
    pub request_timeout: Duration,
    /// The account the run acts on, when the configuration or `--account` names it (for the
    /// policy's functional IDs of one account).
    pub account: Option<String>,
}

/// The waits of a reset and of add-on restarts, from the environment (read once).
#[derive(Debug, Clone, Copy)]
pub struct Timings {
    /// How long to wait for the new key's owner to show (`CLUSTER_API_KEY_VERIFY_TIMEOUT_SECS`).
    pub verify_timeout: Duration,
    /// How often to look again (`CLUSTER_API_KEY_VERIFY_INTERVAL_MS`): the verification, the
    /// reset's own checks and the add-on pods all keep this pace.
    pub interval: Duration,
    /// How long a reset waits for IAM before it looks (`CLUSTER_API_KEY_RESET_GRACE_SECS`).
    pub grace: Duration,
    /// How long a reset waits for another's lock (`CLUSTER_API_KEY_LOCK_TIMEOUT_SECS`).
    pub lock_timeout: Duration,
}

impl Sources {
    /// From the context and the environment's policy variable.
    #[must_use]
    pub fn new(ctx: &Context, policy_variable: Option<String>, plugin_dir: Option<PathBuf>) -> Self {
        Self {
            policy_variable,
            plugin_dir,
            read_concurrency: ctx.http.concurrency,
            timings: Timings {
                verify_timeout: Duration::from_secs(ctx.verify_timeout_secs),
                interval: Duration::from_millis(ctx.verify_interval_ms),
                grace: Duration::from_secs(ctx.reset_grace_secs),
                lock_timeout: Duration::from_secs(ctx.lock_timeout_secs),
            },
            request_timeout: ctx.http.timeout,
            account: ctx.account.as_ref().map(ToString::to_string),
        }
    }

    /// The policy file in force (`flag`, else `CLUSTER_API_KEY_POLICY`, else `policy.toml` in
    /// the plugin's folder), or the defaults when there is none.
    ///
    /// # Errors
    /// A usage error (exit 2) naming the file, line and column of what is wrong, or why the
    /// file cannot be read (never the top-level help).
    pub fn policy(&self, flag: Option<&Path>) -> Result<Policy, CommandError> {
        match policy_path(flag, self.policy_variable.as_deref(), self.plugin_dir.as_deref()) {
            Some(path) => Policy::load(&path).map_err(CommandError::from),
            None => Ok(Policy::default()),
        }
    }
}

/// Where the policy file is: the flag, else the variable (unless blank), else the plugin
/// folder's `policy.toml` if it exists.
#[must_use]
pub fn policy_path(flag: Option<&Path>, variable: Option<&str>, plugin_dir: Option<&Path>) -> Option<PathBuf> {
    policy::find(flag, variable, plugin_dir)
}

/// `status --max-age`: the flag, else the policy's, else 90 days.
#[must_use]
pub fn max_age(flag: Option<Duration>, policy: &Policy) -> Duration {
    flag.or(policy.max_age).unwrap_or(DEFAULT_MAX_AGE)
}

/// `status --fail-on`: the flag, else the policy's, else warning.
#[must_use]
pub fn fail_on(flag: Option<crate::cli::FailOn>, policy: &Policy) -> FailOn {
    flag.map(FailOn::from).or(policy.fail_on).unwrap_or(FailOn::Warning)
}

/// The functional IDs: those of the flags (trimmed), then the policy's.
#[must_use]
pub fn functional_ids(flags: &[String], policy: &Policy) -> Vec<String> {
    flags.iter().map(|i| i.trim().to_owned()).chain(policy.functional_ids.iter().cloned()).collect()
}

/// `status`'s settings.
pub struct StatusSettings<'a> {
    /// The flags as typed (`--all`, `--severity`, `--owner`, `--baseline`: no precedence).
    pub args: &'a StatusArgs,
    /// The policy in force.
    pub policy: Policy,
    /// What to read and judge it by: targets, `--max-age`, functional IDs, concurrency.
    pub options: status::Options,
    /// Neither `-r` nor `-g`: an acceptance of a target out of scope is not stale.
    pub whole_account: bool,
    /// `--fail-on`.
    pub fail_on: FailOn,
}

impl<'a> StatusSettings<'a> {
    /// Resolves `status`'s flags against the policy: the targets first, then the policy, so
    /// that a bad value or file is refused before any request.
    ///
    /// # Errors
    /// An unknown region; a policy file that cannot be read.
    pub fn resolve(args: &'a StatusArgs, sources: &Sources) -> Result<Self, CommandError> {
        let targets = args.targets.resolve()?;
        let policy = sources.policy(args.policy.as_deref())?;
        let whole_account = targets.regions.is_empty() && targets.groups.is_empty();
        let options = status::Options {
            regions: targets.regions,
            groups: targets.groups,
            max_age: max_age(args.max_age, &policy),
            functional_ids: functional_ids(&args.functional_id, &policy),
            concurrency: sources.read_concurrency,
            read_clusters: if args.read_clusters {
                status::ClusterReads::Every
            } else {
                status::ClusterReads::Troubled
            },
        };
        let fail_on = fail_on(args.fail_on, &policy);
        Ok(Self { args, policy, options, whole_account, fail_on })
    }
}

/// `reset`'s settings.
pub struct ResetSettings<'a> {
    /// The flags as typed (`-f`, `--dry-run`, `--all-*`, `--if-*`, `--skip-preflight`).
    pub args: &'a ResetArgs,
    /// `-r`/`-g`.
    pub targets: Targets,
    /// Several targets, every target, or a filter: the batch flow.
    pub batch: bool,
    /// `--unless-owner IAM_ID` (or `me`).
    pub unless_owner: Option<IamId>,
    /// `--unless-owner functional`: the policy's functional IDs.
    pub unless_functional: Vec<String>,
    /// Targets reset at once (`--concurrency`).
    pub concurrency: usize,
    /// Reads at once while planning.
    pub read_concurrency: usize,
    /// How to verify the new owner (none with `--no-verify`): timeout and interval.
    pub verify: Option<(Duration, Duration)>,
    /// The resets' pace.
    pub timings: Timings,
    /// How the add-ons are planned (every reset shows them) and, with `--restart-addons`,
    /// restarted.
    pub addons: AddonSettings,
    /// `--wait`: how long for the new key to reach the clusters and the pods to be Ready.
    pub addons_wait: Duration,
}

impl<'a> ResetSettings<'a> {
    /// Resolves `reset`'s flags; the policy is read only for `--unless-owner functional`.
    ///
    /// # Errors
    /// An unknown region; a policy that cannot be read or names no functional ID.
    pub fn resolve(args: &'a ResetArgs, sources: &Sources) -> Result<Self, CommandError> {
        let targets = args.targets.resolve()?;
        let functional = args.unless_owner.as_deref().is_some_and(|u| u.eq_ignore_ascii_case("functional"));
        let unless_functional = if functional {
            unless_functional(&sources.policy(args.policy.as_deref())?, sources.account.as_deref())?
        } else {
            Vec::new()
        };
        let batch = args.is_fleet(&targets);
        if batch && args.wait_clusters.is_some() {
            return Err(CommandError::usage(
                "Incorrect Usage: --wait-clusters waits for one target's clusters: name one region and resource group (-r REGION -g RESOURCE_GROUP).",
                Some("reset"),
            ));
        }
        Ok(Self {
            batch,
            targets,
            unless_owner: args.unless_owner.as_deref().filter(|_| !functional).map(IamId::new),
            unless_functional,
            concurrency: usize::from(args.concurrency),
            read_concurrency: sources.read_concurrency,
            verify: (!args.no_verify).then_some((sources.timings.verify_timeout, sources.timings.interval)),
            timings: sources.timings,
            // Both add-ons; the pods' own wait is core's default, `--wait` bounds the whole.
            addons: AddonSettings::new(&[], args.endpoint, ADDONS_CONCURRENCY, None, sources),
            addons_wait: args.wait,
            args,
        })
    }
}

/// `--unless-owner functional`: the policy's functional IDs, which must exist.
fn unless_functional(policy: &Policy, account: Option<&str>) -> Result<Vec<String>, CommandError> {
    let mut ids = policy.functional_ids.clone();
    if let Some(a) = account {
        ids.extend(policy.functional_ids_of(a).cloned());
    }
    if !ids.is_empty() {
        return Ok(ids);
    }
    Err(CommandError::usage(
        match &policy.path {
            Some(p) => format!(
                "Incorrect Usage: --unless-owner functional: the policy '{}' names no functional_ids.",
                p.display()
            ),
            None => String::from(
                "Incorrect Usage: --unless-owner functional needs a policy file with functional_ids (--policy FILE, CLUSTER_API_KEY_POLICY, or policy.toml in the plugin's folder).",
            ),
        },
        Some("reset"),
    ))
}

/// How add-on pods are re-created (`restart-addons`, `reset --restart-addons`).
pub struct AddonSettings {
    /// Which add-ons (none named: all).
    pub kinds: Vec<AddonKind>,
    /// `--endpoint`.
    pub endpoint: addons::Endpoint,
    /// Clusters at once.
    pub concurrency: usize,
    /// How long the new pods may take to be Ready.
    pub ready_wait: Duration,
    /// How often to look again: the reset's verification pace.
    pub interval: Duration,
    /// Timeout of one Kubernetes request.
    pub request_timeout: Duration,
}

impl AddonSettings {
    /// `ready_wait`: none for core's default.
    fn new(
        addons: &[AddonArg],
        endpoint: EndpointArg,
        concurrency: u16,
        ready_wait: Option<Duration>,
        sources: &Sources,
    ) -> Self {
        let mut kinds: Vec<AddonKind> = addons
            .iter()
            .map(|a| match a {
                AddonArg::VpcBlockCsi => AddonKind::VpcBlockCsi,
                AddonArg::ClusterAutoscaler => AddonKind::ClusterAutoscaler,
            })
            .collect();
        kinds.sort();
        kinds.dedup();
        Self {
            kinds,
            endpoint: match endpoint {
                EndpointArg::Public => addons::Endpoint::Public,
                EndpointArg::Private => addons::Endpoint::Private,
                EndpointArg::Vpe => addons::Endpoint::Vpe,
            },
            concurrency: usize::from(concurrency),
            ready_wait: ready_wait.unwrap_or(addons::Options::default().ready_wait),
            interval: sources.timings.interval,
            request_timeout: sources.request_timeout,
        }
    }

    /// Core's options, recording pod deletions in `audit`.
    #[must_use]
    pub fn options(&self, audit: Option<cluster_api_key_core::audit::AuditLog>) -> addons::Options {
        addons::Options {
            addons: self.kinds.clone(),
            endpoint: self.endpoint,
            concurrency: self.concurrency,
            ready_wait: self.ready_wait,
            interval: self.interval,
            request_timeout: self.request_timeout,
            audit,
            ..addons::Options::default()
        }
    }
}

/// `restart-addons`'s settings.
pub struct RestartAddonsSettings<'a> {
    /// The flags as typed (`-f`, `--dry-run`, `--satellite-secret-updated`).
    pub args: &'a RestartAddonsArgs,
    /// Which clusters.
    pub selection: addons::Selection,
    /// How.
    pub addons: AddonSettings,
}

impl<'a> RestartAddonsSettings<'a> {
    /// Resolves `restart-addons`'s flags.
    ///
    /// # Errors
    /// An unknown region, or more than one.
    pub fn resolve(args: &'a RestartAddonsArgs, sources: &Sources) -> Result<Self, CommandError> {
        let one = args.target.resolve()?;
        let selection = match &args.cluster {
            Some(c) => addons::Selection::Cluster { name: c.clone(), region: None, group: one.group },
            None => addons::Selection::Target { region: one.region, group: one.group },
        };
        let addons = AddonSettings::new(&args.addon, args.endpoint, args.concurrency, Some(args.wait), sources);
        Ok(Self { args, selection, addons })
    }
}

/// `prune`'s settings.
pub struct PruneSettings<'a> {
    /// The flags as typed.
    pub args: &'a PruneArgs,
    /// `-r`/`-g`.
    pub targets: Targets,
    /// Reads at once.
    pub read_concurrency: usize,
}

impl<'a> PruneSettings<'a> {
    /// Resolves `prune`'s flags.
    ///
    /// # Errors
    /// An unknown region.
    pub fn resolve(args: &'a PruneArgs, sources: &Sources) -> Result<Self, CommandError> {
        Ok(Self { args, targets: args.targets.resolve()?, read_concurrency: sources.read_concurrency })
    }
}

/// `check`'s settings.
pub struct CheckSettings<'a> {
    /// The flags as typed (`--grant`, `-f`, `--dry-run`, `--invite`).
    pub args: &'a CheckArgs,
    /// Whom to check: `--iam-id`, `--user`, `--service-id`, else the caller.
    pub subject: check::Subject,
    /// `-r`/`-g`.
    pub targets: Targets,
}

impl<'a> CheckSettings<'a> {
    /// Resolves `check`'s flags.
    ///
    /// # Errors
    /// An unknown region.
    pub fn resolve(args: &'a CheckArgs) -> Result<Self, CommandError> {
        let subject = match (&args.iam_id, &args.user, &args.service_id) {
            (Some(i), _, _) => check::Subject::IamId(i.clone()),
            (_, Some(u), _) => check::Subject::User(u.clone()),
            (_, _, Some(s)) => check::Subject::ServiceId(s.clone()),
            _ => check::Subject::Caller,
        };
        Ok(Self { args, subject, targets: args.targets.resolve()? })
    }
}

/// `info`'s settings.
pub struct InfoSettings<'a> {
    /// `--cluster`, as typed.
    pub cluster: Option<&'a str>,
    /// `-r`/`-g`.
    pub target: OneTarget,
}

impl<'a> InfoSettings<'a> {
    /// Resolves `info`'s flags.
    ///
    /// # Errors
    /// An unknown region, or more than one.
    pub fn resolve(args: &'a InfoArgs) -> Result<Self, CommandError> {
        Ok(Self { cluster: args.cluster.as_deref(), target: args.target.resolve()? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::FailOn as Flag;

    const DAY: Duration = Duration::from_secs(86_400);

    /// A policy-path case: the flag, the variable, whether the plugin's folder holds the file,
    /// and the path expected.
    type Case<'a> = (Option<&'a Path>, Option<&'a str>, bool, Option<PathBuf>);

    fn policy(max_age: Option<Duration>, fail_on: Option<FailOn>, functional_ids: &[&str]) -> Policy {
        Policy {
            max_age,
            fail_on,
            functional_ids: functional_ids.iter().map(|s| (*s).to_owned()).collect(),
            ..Policy::default()
        }
    }

    #[test]
    fn a_flag_beats_the_policy_which_beats_the_default() {
        // (flag, policy, expected)
        let max_ages = [
            (Some(7 * DAY), Some(30 * DAY), 7 * DAY),
            (Some(7 * DAY), None, 7 * DAY),
            (None, Some(30 * DAY), 30 * DAY),
            (None, None, DEFAULT_MAX_AGE),
        ];
        for (flag, from_policy, expected) in max_ages {
            assert_eq!(max_age(flag, &policy(from_policy, None, &[])), expected, "{flag:?} {from_policy:?}");
        }
        assert_eq!(DEFAULT_MAX_AGE, 90 * DAY);
        let fail_ons = [
            (Some(Flag::Never), Some(FailOn::Critical), FailOn::Never),
            (Some(Flag::Critical), None, FailOn::Critical),
            (None, Some(FailOn::Critical), FailOn::Critical),
            (None, None, FailOn::Warning),
        ];
        for (flag, from_policy, expected) in fail_ons {
            assert_eq!(fail_on(flag, &policy(None, from_policy, &[])), expected, "{flag:?} {from_policy:?}");
        }
    }

    #[test]
    fn functional_ids_of_the_flags_add_to_the_policys() {
        let flags = [String::from(" IBMid-1 ")];
        assert_eq!(functional_ids(&flags, &policy(None, None, &["IBMid-2"])), ["IBMid-1", "IBMid-2"]);
        assert_eq!(functional_ids(&[], &policy(None, None, &["IBMid-2"])), ["IBMid-2"]);
        assert!(functional_ids(&[], &Policy::default()).is_empty());
    }

    #[test]
    fn the_policy_file_is_the_flags_else_the_environments_else_the_plugin_folders() {
        let dir = tempfile::tempdir().unwrap();
        let (flag, variable) = (Path::new("flag.toml"), "variable.toml");
        // (flag, variable, the plugin folder holds policy.toml, expected)
        let cases: [Case; 6] = [
            (Some(flag), Some(variable), true, Some(flag.to_owned())),
            (None, Some(variable), true, Some(PathBuf::from(variable))),
            (None, Some("  "), true, Some(dir.path().join("policy.toml"))),
            (None, None, true, Some(dir.path().join("policy.toml"))),
            (None, None, false, None),
            (None, Some(""), false, None),
        ];
        for (flag, variable, in_folder, expected) in cases {
            let file = dir.path().join("policy.toml");
            if in_folder {
                std::fs::write(&file, "").unwrap();
            } else {
                let _ = std::fs::remove_file(&file);
            }
            assert_eq!(policy_path(flag, variable, Some(dir.path())), expected, "{flag:?} {variable:?} {in_folder}");
        }
    }

    #[test]
    fn unless_owner_functional_needs_functional_ids() {
        assert_eq!(unless_functional(&policy(None, None, &["IBMid-1"]), None).unwrap(), ["IBMid-1"]);
        let e = unless_functional(&Policy::default(), None).unwrap_err();
        assert!(e.to_string().contains("needs a policy file with functional_ids"), "{e}");
    }
}
