//! `cluster-api-key`: an `ibmcloud` plugin and a standalone CLI in one binary, thin over
//! `cluster-api-key-core`.
//!
//! argv → `SendMetadata`? print the metadata (no config, no network) → else parse with clap →
//! load the context → run the command → exit code from the outcome (product.md §2.3).

mod cli;
mod commands;
mod error;
mod metadata;
mod sandbox;
mod signals;
mod ui;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser as _;
use cluster_api_key_core::audit::AuditLog;
use cluster_api_key_core::context::Context;
use cluster_api_key_core::env::{self, Env};
use cluster_api_key_core::ops::Session;

use crate::cli::{Cli, Command};
use crate::error::CommandError;
use crate::ui::Ui;

fn main() -> ExitCode {
    let raw: Vec<OsString> = std::env::args_os().skip(1).collect();
    // The host's metadata request: exactly one argument, nothing but JSON on stdout.
    if raw.len() == 1 && raw[0] == "SendMetadata" {
        ui::print_text(&metadata::metadata_json());
        return ExitCode::SUCCESS;
    }
    let env = Env::from_process();
    let plain = Ui { color: ui::color_enabled(&env, None), quiet: false, json: false };
    let mut args = Vec::with_capacity(raw.len());
    for a in raw {
        match a.into_string() {
            Ok(s) => args.push(s),
            Err(_) => {
                plain.failed(&CommandError::usage("Incorrect Usage: an argument is not valid UTF-8.", None));
                return ExitCode::from(2);
            }
        }
    }
    let args = with_namespace(&env, args);
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            plain.failed(&CommandError::failed(format!("Could not start: {e}")));
            return ExitCode::FAILURE;
        }
    };
    ExitCode::from(rt.block_on(run(env, args)))
}

/// The host passes the command without the namespace words and sets
/// `IBMCLOUD_PLUGIN_NAMESPACE`; words of the namespace below our own would come back in front
/// of the arguments, as the SDK's public plugins do.
fn with_namespace(env: &Env, args: Vec<String>) -> Vec<String> {
    let ns = env.first(&[env::IBMCLOUD_PLUGIN_NAMESPACE, env::BLUEMIX_PLUGIN_NAMESPACE]).unwrap_or_default();
    let mut words: Vec<String> = ns.split_whitespace().skip(1).map(str::to_owned).collect();
    if words.is_empty() {
        return args;
    }
    words.extend(args);
    words
}

/// How commands are spelled in help: under the host, or standalone.
fn prefix(env: &Env) -> String {
    if env.first(&[env::IBMCLOUD_PLUGIN_NAMESPACE, env::BLUEMIX_PLUGIN_NAMESPACE]).is_some() {
        format!("{} {}", env.cli_name(), metadata::PLUGIN_NAME)
    } else {
        metadata::PLUGIN_NAME.to_owned()
    }
}

fn usage_failure(env: &Env, e: &CommandError) -> u8 {
    let mut text = String::new();
    text.push_str("FAILED\n");
    text.push_str(&e.message);
    text.push_str("\n\n");
    match e.help_for.as_deref().and_then(|c| metadata::command_help(c, &prefix(env))) {
        Some(h) => text.push_str(&h),
        None => text.push_str(&metadata::root_help(&prefix(env))),
    }
    ui::eprint_text(&text);
    2
}

async fn run(env: Env, args: Vec<String>) -> u8 {
    let plain = Ui { color: ui::color_enabled(&env, None), quiet: false, json: false };
    let cli = match Cli::try_parse_from(std::iter::once(metadata::PLUGIN_NAME.to_owned()).chain(args.iter().cloned())) {
        Ok(c) => c,
        Err(e) => {
            let cmd = args.iter().find(|a| !a.starts_with('-')).map(String::as_str);
            // `info --help` must show help even though --cluster is missing.
            if args.iter().any(|a| a == "-h" || a == "--help")
                && let Some(h) = cmd.and_then(|c| metadata::command_help(c, &prefix(&env)))
            {
                ui::print_text(&h);
                return 0;
            }
            let detail = e.to_string();
            let first = detail.lines().next().unwrap_or_default().trim_start_matches("error: ").trim();
            let msg =
                if first.is_empty() { String::from("Incorrect Usage.") } else { format!("Incorrect Usage: {first}") };
            return usage_failure(&env, &CommandError::usage(msg, cmd));
        }
    };
    if cli.version {
        ui::print_text(&format!("{} {}\n", metadata::PLUGIN_NAME, env!("CARGO_PKG_VERSION")));
        return 0;
    }
    let Some(command) = cli.command.as_ref().filter(|_| !cli.help) else {
        ui::print_text(&metadata::root_help(&prefix(&env)));
        return 0;
    };
    if let Command::Help { command: name } = command {
        return match name {
            None => {
                ui::print_text(&metadata::root_help(&prefix(&env)));
                0
            }
            Some(n) => match metadata::command_help(n, &prefix(&env)) {
                Some(h) => {
                    ui::print_text(&h);
                    0
                }
                None => {
                    usage_failure(&env, &CommandError::usage(format!("Incorrect Usage: '{n}' is not a command."), None))
                }
            },
        };
    }
    let common = command.common();
    if common.is_some_and(|c| c.help) {
        let name = match command {
            Command::Reset(_) => "reset",
            Command::Info(_) => "info",
            Command::Help { .. } => "help",
        };
        ui::print_text(&metadata::command_help(name, &prefix(&env)).unwrap_or_default());
        return 0;
    }
    let json = common.is_some_and(cli::Common::json);
    let quiet = common.is_some_and(|c| c.quiet);
    let early = Ui { color: plain.color, quiet, json };

    let (sandbox, env) = if cli.sandbox {
        match sandbox::Sandbox::start(&env).await {
            Ok((s, e)) => (Some(s), e),
            Err(e) => {
                early.failed(&e);
                return e.kind.code();
            }
        }
    } else {
        (None, env)
    };
    let code = execute(&env, command, quiet, json).await;
    if let Some(s) = sandbox
        && let Err(e) = s.save()
    {
        early.failed(&e);
        return 1;
    }
    code
}

async fn execute(env: &Env, command: &Command, quiet: bool, json: bool) -> u8 {
    let cli_name = env.cli_name();
    let fallback = Ui { color: ui::color_enabled(env, None), quiet, json };
    let ctx = match Context::load(env).await {
        Ok(c) => c,
        Err(e) => {
            let err = CommandError::from_core(&e, &cli_name);
            fallback.failed(&err);
            return err.kind.code();
        }
    };
    let ui = Ui { color: ui::color_enabled(env, ctx.config.as_ref().map(|c| c.color_enabled.as_str())), quiet, json };
    let plugin_dir = Context::plugin_dir(env, ctx.config_dir.as_deref());
    let audit = plugin_dir.as_deref().map(AuditLog::in_dir);
    let session = match Session::new(ctx) {
        Ok(s) => s,
        Err(e) => {
            let err = CommandError::from_core(&e, &cli_name);
            ui.failed(&err);
            return err.kind.code();
        }
    };
    for w in &session.warnings {
        ui.warn(w);
    }
    let notice_ui = ui.clone();
    session.on_notice(move |text| notice_ui.warn(text));
    let result = match command {
        Command::Reset(a) => commands::reset::run(&session, &ui, a, plugin_dir.as_deref(), audit.as_ref()).await,
        Command::Info(a) => commands::info::run(&session, &ui, a).await,
        Command::Help { .. } => Ok(()),
    };
    // Not chatter: whatever -q says, a change that the audit log misses must be known.
    for failure in audit.iter().flat_map(AuditLog::failures) {
        ui.alert(&failure);
    }
    match result {
        Ok(()) => 0,
        Err(e) => {
            ui.failed(&e);
            e.kind.code()
        }
    }
}
