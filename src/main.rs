//! `cluster-api-key`: an `ibmcloud` plugin and a standalone CLI in one binary, thin over
//! `cluster-api-key-core`.
//!
//! argv → `SendMetadata`? print the metadata (no config, no network) → else parse with clap →
//! dispatch the command → exit code from its outcome ([`commands::exit_code`]).
//!
//! # Where things are (module → what it owns)
//!
//! The binary (`src/`):
//! - `cli`: the command line's definition (args, help, value parsers); knows no command module.
//! - `commands/mod.rs`: the command → module match (`run_command`), [`commands::ExitStatus`] and
//!   the one function that turns a run into an exit code ("which exit code does a partial batch
//!   give": there), the `Render` contract (text, JSON, CSV).
//! - `commands/<name>`: one module per command, turning core's reports into words;
//!   `commands/reset/` decides single versus batch in `mod.rs` and holds the one pre-flight and
//!   confirmation; `render.rs` holds every word a reset prints.
//! - `ui`: terminal output (colour, width, tables, prompts, progress); `error`: `FAILED` and
//!   hints; `signals`: Ctrl-C and SIGTERM; `sandbox`: the embedded emulator; `metadata`,
//!   `completion`, `help`, `hints`: what the `ibmcloud` host asks of a plugin.
//!
//! The core (`crates/core/src/`):
//! - `context`, `config_file`, `env`, `endpoints`: the CLI config, environment and endpoint
//!   table; `auth`: the token source and the authenticated `Client`; `http`: the transport
//!   (retries, rate limit, budget; a leaf); `secret`, `trace`: what never reaches output.
//! - `api/*`: one client per IBM Cloud API, with its JSON shapes.
//! - `ops/discovery`: reading the account (groups, clusters, keys) and deciding which key the
//!   clusters use (`key_in_use`); `ops/status`: judging it ("where are findings computed":
//!   `judge_keys`, `judge_owner`, `judge_findings`); `ops/reset`, `ops/fleet`, `ops/prune`,
//!   `ops/check`, `ops/addons`: the operations, plan then execute; `policy`: the policy file.
//! - "How a region reaches the request": `--region` (`cli`) → `discovery::regions` (validated
//!   once, into `types::Region`) → `Session::containers(Some(&region))` → the `X-Region` header
//!   (`api::containers`).

// `ui.say(&format!(..))`: the `Ui` takes any text (`&str`, `String`, `&String`, styled `Text`),
// and the many call sites that lend a `String` read as they did before styled text existed.
#![allow(clippy::needless_borrows_for_generic_args)]

mod cli;
mod commands;
mod completion;
mod error;
mod help;
mod hints;
mod metadata;
mod names;
mod sandbox;
mod settings;
mod signals;
mod ui;

use std::ffi::OsString;
use std::process::ExitCode;

use cluster_api_key_core::env::Env;

use crate::cli::Parsed;
use crate::commands::ExitStatus;
use crate::error::{CommandError, Kind};
use crate::settings::{Action, Format, GlobalSettings};
use crate::ui::Ui;

fn main() -> ExitCode {
    let raw: Vec<OsString> = std::env::args_os().skip(1).collect();
    // The host's metadata request: exactly one argument, nothing but JSON on stdout.
    if raw.len() == 1 && raw[0] == "SendMetadata" {
        ui::print_text(&metadata::metadata_json());
        return ExitCode::SUCCESS;
    }
    // The host's delegated completion: candidates, one per line.
    if raw.first().is_some_and(|a| a == "SendCompletion") {
        let words: Vec<String> = raw[1..].iter().map(|a| a.to_string_lossy().into_owned()).collect();
        ui::print_text(&completion::candidates(&words));
        return ExitCode::SUCCESS;
    }
    let env = Env::from_process();
    let mut ui = Ui::new(&env);
    let result = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt.block_on(run(&env, raw, &mut ui)),
        Err(e) => Err(CommandError::failed(format!("Could not start: {e}"))),
    };
    if let Err(e) = &result {
        report(&ui, e);
    }
    ExitCode::from(commands::exit_code(&result))
}

/// Prints an error: a usage error with the help of its command, anything else as `FAILED`;
/// in JSON mode also as a document on stdout, for scripts.
fn report(ui: &Ui, e: &CommandError) {
    if ui.json {
        ui.json_doc(&e.to_json(&ui.cli, &ui.me, commands::error_code(e)));
    }
    if e.kind != Kind::Usage || e.help_for.is_none() && e.core().is_some() {
        ui.failed(e);
        return;
    }
    let root = cli::command(&ui.me);
    let help = e
        .help_for
        .as_deref()
        .and_then(|name| help::find(&root, name))
        .map_or_else(|| help::root_help(&root, &ui.me), crate::help::attached);
    ui.usage_failed(e, &help);
}

async fn run(env: &Env, raw: Vec<OsString>, ui: &mut Ui) -> Result<ExitStatus, CommandError> {
    let args = raw
        .into_iter()
        .map(OsString::into_string)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| CommandError::usage("Incorrect Usage: an argument is not valid UTF-8.", None))?;
    // JSON mode is known before parsing, so that a usage error is a JSON document too.
    ui.json = settings::wants_json(&args);
    let cli = match cli::parse(&cli::with_namespace(env, args), &ui.me)? {
        Parsed::Help(text) => {
            ui::print_help(&text);
            return Ok(ExitStatus::Success);
        }
        Parsed::Run(cli) => cli,
    };
    let global = GlobalSettings::resolve(&cli).inspect_err(|_| {
        // A refused format is said in plain text: the document asked for is the one thing
        // that cannot be given.
        ui.json = false;
    })?;
    ui.json = global.format != Format::Text;
    ui.csv = global.format == Format::Csv;
    ui.quiet = global.quiet;
    match (global.action, global.sandbox) {
        (Action::Version, _) => {
            ui::print_text(&format!("{} {}\n", names::PLUGIN_NAME, env!("CARGO_PKG_VERSION")));
            Ok(ExitStatus::Success)
        }
        (Action::SandboxReset { identity }, _) => {
            let (sandbox, _) = sandbox::Sandbox::start(env, identity, true).await?;
            sandbox.save()?;
            ui.say(
                ui::Text::from(
                    "The sandbox starts over: the default emulated account, its policy, and new sessions. Try ",
                )
                .cmd(format!("{} --sandbox status", ui.me))
                .plain("."),
            );
            Ok(ExitStatus::Success)
        }
        (Action::Completion(shell), _) => {
            ui::print_text(&completion::script(shell));
            Ok(ExitStatus::Success)
        }
        (Action::Run(command), None) => Box::pin(commands::dispatch(env, command, ui)).await,
        (Action::Run(command), Some(settings::Sandbox { identity, reset })) => {
            let (sandbox, env) = sandbox::Sandbox::start(env, identity, reset).await?;
            // Every command the sandbox prints runs as printed: in the sandbox, as the same identity.
            ui.me = match identity {
                "functional" => format!("{} --sandbox", ui.me),
                other => format!("{} --sandbox={other}", ui.me),
            };
            let result = Box::pin(commands::dispatch(&env, command, ui)).await;
            // The emulated account is saved whatever the command did (a failed reset changes it too).
            sandbox.save()?;
            result
        }
    }
}
