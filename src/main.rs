//! `cluster-api-key`: an `ibmcloud` plugin and a standalone CLI in one binary, thin over
//! `cluster-api-key-core`.
//!
//! argv → `SendMetadata`? print the metadata (no config, no network) → else parse with clap →
//! dispatch the command → exit code from its outcome ([`commands::exit_code`]).
//!
//! # Where things are (module → what it owns)
//!
//! Every module file of `src/` and `crates/core/src/` is named here, by its path without `.rs`
//! (`dir/*`: every file of a folder); "a leaf" uses no other module of its crate. The test at
//! the end of this file keeps both true.
//!
//! The binary (`src/`):
//! - `main` (this file): the host's requests (`SendMetadata`, `SendCompletion`), then parse,
//!   resolve the settings, dispatch on their [`settings::Action`], print an error.
//! - `settings`: every value a command runs on, resolved once before any request into one typed
//!   value per command: "which `--max-age` wins" (flag > environment > policy file > default)
//!   is answered there, in one table.
//! - `cli`: the command line's definition (args, help text, value parsers) and its parsing;
//!   knows no command module. `names` (a leaf): the plugin's name and which command prints
//!   which format, shared by `cli`, `help`, `metadata` and `completion`, so that they form no
//!   circle.
//! - `help`: the `ibmcloud`-style help; `metadata`: `SendMetadata`; `completion`: the shell
//!   scripts and `SendCompletion`; `hints`: the words of core's errors' hints.
//! - `commands` (`commands/mod.rs`): the command → module match (`run_command`),
//!   [`commands::ExitStatus`] and the one function that turns a run into an exit code ("which
//!   exit code does a partial batch give": there), the `Render` contract (text, JSON, CSV).
//! - `commands/status`, `commands/info`, `commands/check`, `commands/prune`, `commands/addons`
//!   (`restart-addons`): one module per command, turning core's reports into words.
//!   `commands/accounts`: `status --account` / `--all-accounts`, several accounts' status
//!   reports (made by `commands/status`) in one.
//! - `commands/reset`: one flow for one target or many; decides single versus batch and holds
//!   the steps they share, with their words (the trusted-profile refusal, the one pre-flight,
//!   the confirmation, the add-on plan). `commands/reset/single` and `commands/reset/batch`:
//!   what differs, with their own progress lines and warnings; `commands/reset/render`: the
//!   report of a run, as text and JSON; `commands/reset/leak`: `--leaked`, the deletion of the
//!   compromised key and what the leak still exposes.
//! - `sarif`: `status -o sarif`, the report as a SARIF 2.1.0 document (rules from the finding
//!   codes, controls as tags, the policy's acceptances as suppressions). `junit`: `status -o
//!   junit`, the report as JUnit XML (a suite per account and per target, a test case per check
//!   made there). `markdown`: `status -o markdown`, a summary for a pull request or a CI job
//!   (counts, the targets with findings, collapsed details; every text escaped by where it lands).
//! - `ui`: terminal output (colour, width, tables, prompts, progress); `error`: `FAILED` and
//!   hints; `signals`: Ctrl-C and SIGTERM; `sandbox`: the embedded emulator.
//! - Circles: `ui`, `error`, `hints` and `signals` (the output layer) still import one another;
//!   no other module of the binary is in a circle (a test checks it).
//!
//! The core (`crates/core/src/`):
//! - `lib`: the crate's root (its `Error` and `Result`).
//! - `context`, `config_file`, `env` (a leaf), `endpoints`: the CLI config, the environment
//!   and the endpoint table; `auth`: the token source and the authenticated `Client`; `jwt`:
//!   the caller's identity read from the token.
//! - `http`: the transport (retries, the rate limit, the run's budget); `ratelimit`: the rate
//!   budget shared by every process of the machine; `net`: proxies and extra certificates.
//! - `secret` (a leaf), `redact` (on `secret` alone), `trace`: what never reaches output;
//!   `error`: core's errors and IBM's error bodies; `fsutil`: files only we can read; `audit`:
//!   the local audit log.
//! - `types`: the identifiers kept apart (`Region`, `IamId`, `GroupSelector`, `Known`).
//! - `api/*`: one client per IBM Cloud API, with its JSON shapes.
//! - `model`: the account model every command shares (`Severity`, `Code`, `Finding`, `Owner`,
//!   `TargetStatus`, `StatusReport`); `controls`: the one table of compliance controls the
//!   finding codes evidence (`status --control`, every output's tags, the README's table).
//! - `ops` (`ops/mod.rs`): the `Session` the operations run on; `ops/discovery`: reading the
//!   account (groups, clusters, keys) and deciding which key the clusters use (`key_in_use`);
//!   `ops/status`: judging it ("where are findings computed": `judge_keys`, `judge_owner`,
//!   `judge_findings`); `ops/reset`, `ops/fleet`, `ops/prune`, `ops/check`, `ops/info`,
//!   `ops/offboard`, `ops/masters` (master refresh): the operations, plan then execute;
//!   `ops/clusters`: what the clusters say about their credentials (health issues, workers'
//!   messages: `cluster-credential-failure`, and `reset --wait-clusters`); `ops/lock`: one reset of a target at a
//!   time across processes; `ops/addons/*`: re-creating the add-on pods (`ops/addons/k8s`, the
//!   only user of kube-rs); `ops/accounts`: many accounts from one login (which accounts it
//!   reaches, a `Session` per account with its own token and rate budget); `policy`: the policy
//!   file.
//! - `import_graph`, `dead_pub`: tests over the core's own sources (no import circles, no `pub`
//!   item nothing uses).
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
mod junit;
mod markdown;
mod metadata;
mod names;
mod sandbox;
mod sarif;
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
        let mut doc = e.to_json(&ui.cli, &ui.me, commands::error_code(e));
        // On another account than the targeted one, its commands carry `--account ID`.
        if let Some(hint) = doc["error"]["hint"].as_str().map(|h| ui.scoped(h)) {
            doc["error"]["hint"] = serde_json::Value::from(hint);
        }
        ui.json_doc(&doc);
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
        Parsed::Run(cli) => *cli,
    };
    let global = GlobalSettings::resolve(&cli).inspect_err(|_| {
        // A refused format is said in plain text: the document asked for is the one thing
        // that cannot be given.
        ui.json = false;
    })?;
    ui.json = global.format != Format::Text;
    ui.csv = global.format == Format::Csv;
    ui.sarif = global.format == Format::Sarif;
    ui.junit = global.format == Format::Junit;
    ui.markdown = global.format == Format::Markdown;
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

#[cfg(test)]
mod map_tests {
    //! The module map at the top of this file, checked against the tree.

    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    /// The map's text for one crate: from `from` to `to` (or the end of the map).
    fn section(from: &str, to: Option<&str>) -> String {
        let doc: String =
            include_str!("main.rs").lines().filter_map(|l| l.strip_prefix("//!")).flat_map(|l| [l, "\n"]).collect();
        let start = doc.find(from).unwrap_or_else(|| panic!("the map has no '{from}'"));
        let rest = &doc[start..];
        to.and_then(|t| rest.find(t)).map_or(rest, |end| &rest[..end]).to_owned()
    }

    /// The names in backticks.
    fn quoted(text: &str) -> Vec<String> {
        text.split('`').skip(1).step_by(2).map(str::to_owned).collect()
    }

    /// Every `.rs` file under `dir`, as its module path (`ops/status`; `ops/addons` for
    /// `ops/addons/mod.rs`).
    fn modules(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                modules(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).unwrap().with_extension("");
                let rel = rel.to_string_lossy().replace('\\', "/");
                let name = rel.strip_suffix("/mod").unwrap_or(&rel).to_owned();
                out.push((name, path));
            }
        }
    }

    /// The modules of its crate that a file's code names (`crate::x`, `crate::{x, y}`,
    /// `super::`), outside comments and its tests.
    fn uses(path: &Path) -> Vec<String> {
        let text = std::fs::read_to_string(path).unwrap();
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .flat_map(|l| [l, "\n"])
            .collect();
        let mut found = Vec::new();
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            let names = match rest.strip_prefix('{') {
                Some(list) => list[..list.find('}').unwrap_or(list.len())]
                    .split(',')
                    .filter_map(|p| p.trim().split("::").next().map(str::to_owned))
                    .collect(),
                None => vec![rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()],
            };
            found.extend(names.into_iter().filter(|n: &String| !n.is_empty()));
        }
        if code.contains("super::") {
            found.push(String::from("super"));
        }
        found
    }

    fn check(root: &Path, map: &str) {
        let named = quoted(map);
        let mut files = Vec::new();
        modules(root, root, &mut files);
        assert!(files.len() > 10, "{}: only {} module files", root.display(), files.len());
        let covered = |m: &str| {
            named.iter().any(|n| {
                n == m || n.strip_suffix("/*").is_some_and(|dir| m == dir || m.starts_with(&format!("{dir}/")))
            })
        };
        let missing: Vec<&str> = files.iter().map(|(m, _)| m.as_str()).filter(|m| !covered(m)).collect();
        assert!(missing.is_empty(), "the module map of {} does not name {missing:?}", root.display());
        // "`x` (a leaf)": x's code names no other module of its crate.
        for (i, _) in map.match_indices("` (a leaf") {
            let leaf = map[..i].rsplit('`').next().unwrap_or_default();
            let (_, path) = files.iter().find(|(m, _)| m == leaf).unwrap_or_else(|| panic!("no module '{leaf}'"));
            let others: Vec<String> = uses(path).into_iter().filter(|u| u != leaf).collect();
            assert!(others.is_empty(), "the map calls '{leaf}' a leaf, but it uses {others:?}");
        }
    }

    #[test]
    fn the_module_map_names_every_module_and_its_leaves_are_leaves() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        check(&dir.join("src"), &section("The binary (`src/`)", Some("The core (")));
        check(&dir.join("crates/core/src"), &section("The core (`crates/core/src/`)", None));
    }

    /// The modules of the binary in a circle of imports, by top-level module (`commands/reset`
    /// counts as `commands`: a command module uses its parent's contract).
    fn circles(root: &Path) -> BTreeSet<String> {
        let mut files = Vec::new();
        modules(root, root, &mut files);
        let top = |m: &str| m.split('/').next().unwrap_or(m).to_owned();
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (m, path) in &files {
            let from = top(m);
            let to: Vec<String> = uses(path).into_iter().filter(|u| u != "super" && *u != from).collect();
            edges.entry(from).or_default().extend(to);
        }
        let reaches_itself = |start: &String| {
            let (mut seen, mut todo) = (BTreeSet::new(), vec![start.clone()]);
            while let Some(m) = todo.pop() {
                for next in edges.get(&m).into_iter().flatten() {
                    if seen.insert(next.clone()) {
                        todo.push(next.clone());
                    }
                }
            }
            seen.contains(start)
        };
        edges.keys().filter(|m| reaches_itself(m)).cloned().collect()
    }

    #[test]
    fn only_the_output_layer_imports_in_a_circle() {
        let found = circles(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
        // The check sees circles: the output layer's is one.
        assert!(found.contains("ui"), "{found:?}");
        let outside: Vec<&String> =
            found.iter().filter(|m| !["ui", "error", "hints", "signals"].contains(&m.as_str())).collect();
        assert!(outside.is_empty(), "in a circle of imports: {outside:?} (all: {found:?})");
    }

    #[test]
    fn the_check_sees_an_unnamed_module_and_a_false_leaf() {
        // The checks themselves can fail: a map without `cli` and a "leaf" that uses another.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let without_cli = section("The binary (`src/`)", Some("The core (")).replace("`cli`", "the parser");
        assert!(std::panic::catch_unwind(|| check(&dir, &without_cli)).is_err());
        let false_leaf = section("The binary (`src/`)", Some("The core (")) + "- `settings` (a leaf).\n";
        assert!(std::panic::catch_unwind(|| check(&dir, &false_leaf)).is_err());
        assert!(uses(&dir.join("settings.rs")).contains(&String::from("cli")));
    }
}
