//! One module per command, and what they share: the outcome of a run ([`ExitStatus`]), the one
//! function that turns a run into an exit code, and the [`Render`] contract that lets the
//! dispatcher decide once between JSON and text (uv's `ExitStatus` and printer).
//!
//! A command returns a report that can render itself; the dispatcher prints it as one JSON
//! document or as text and takes the exit status from it. Adding a command means its args in
//! [`crate::cli`], a module here, and an `ops` module in core.

pub mod accounts;
pub mod addons;
pub mod check;
pub mod info;
pub mod prune;
pub mod reset;
pub mod status;

use cluster_api_key_core::audit::AuditLog;
use cluster_api_key_core::context::Context;
use cluster_api_key_core::env::Env;
use cluster_api_key_core::ops::Session;

use crate::cli::Command;
use crate::error::{CommandError, Kind};
use crate::settings::{
    CheckSettings, InfoSettings, PruneSettings, ResetSettings, RestartAddonsSettings, Sources, StatusSettings,
};
use crate::ui::{self, Ui};

/// How a command that ran ended: exit codes 0, 3, 4 and 5 (errors are 1 and 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything asked for was done, or nothing needed doing.
    Success,
    /// The command worked and found problems (`status`, `check`).
    Findings,
    /// A batch partly failed; each target is reported.
    Partial,
    /// A reset may or may not have happened: do not retry blindly.
    Unknown,
    /// A batch in which nothing succeeded (each target is reported).
    Failed,
}

/// The process exit code of a run: the only place that knows the numbers.
#[must_use]
pub fn exit_code(result: &Result<ExitStatus, CommandError>) -> u8 {
    match result {
        Ok(ExitStatus::Success) => 0,
        Ok(ExitStatus::Findings) => 3,
        Ok(ExitStatus::Partial) => 4,
        Ok(ExitStatus::Unknown) => 5,
        Ok(ExitStatus::Failed) => 1,
        Err(e) => error_code(e),
    }
}

/// The exit code of an error.
#[must_use]
pub fn error_code(e: &CommandError) -> u8 {
    match e.kind {
        Kind::Failed | Kind::Internal => 1,
        Kind::Usage => 2,
    }
}

/// A command's result, printable as JSON or text.
pub trait Render {
    /// The JSON document (`ui`: the host's names, for the commands it carries).
    ///
    /// # Errors
    /// Only a bug ([`Kind::Internal`]).
    fn json(&self, ui: &Ui) -> Result<serde_json::Value, CommandError>;
    /// The text form.
    fn text(&self, ui: &Ui);
    /// The CSV form, for commands that have one.
    ///
    /// # Errors
    /// Only a bug ([`Kind::Internal`]).
    fn csv(&self) -> Option<Result<String, CommandError>> {
        None
    }
    /// The SARIF 2.1.0 document, for commands that have one.
    ///
    /// # Errors
    /// Only a bug ([`Kind::Internal`]).
    fn sarif(&self, _ui: &Ui) -> Option<Result<serde_json::Value, CommandError>> {
        None
    }
    /// The JUnit XML document, for commands that have one.
    ///
    /// # Errors
    /// Only a bug ([`Kind::Internal`]).
    fn junit(&self) -> Option<Result<String, CommandError>> {
        None
    }
    /// The Markdown summary, for commands that have one.
    fn markdown(&self) -> Option<String> {
        None
    }
    /// The exit status it stands for.
    fn status(&self) -> ExitStatus {
        ExitStatus::Success
    }
    /// The JSON document as a head and a long list written one item at a time, for reports of
    /// many targets: the document is the same as [`Render::json`]'s, but never whole in memory
    /// (a thousand targets' document is tens of MiB as a `Value`). `None`: use `json`.
    fn json_listing(&self, _ui: &Ui) -> Option<Result<Listing<'_>, CommandError>> {
        None
    }
}

/// A JSON document whose member `key`, a list, is made one item at a time.
pub struct Listing<'a> {
    /// The document, with `key` holding an empty list (its place among the members).
    pub head: serde_json::Value,
    /// The list's member name.
    pub key: &'static str,
    /// How many items.
    pub len: usize,
    /// Item `i`.
    pub item: Box<dyn Fn(usize) -> Result<serde_json::Value, CommandError> + 'a>,
}

impl Listing<'_> {
    /// Writes the document as `serde_json::to_string_pretty` would write it whole: the head's
    /// text up to the list, each item pretty-printed and indented to its depth (JSON strings
    /// hold no raw line breaks, so indenting line by line is exact), then the rest.
    ///
    /// # Errors
    /// An item that cannot be made (a bug), or a head without the list at the top level.
    pub fn write(&self, ui: &Ui) -> Result<(), CommandError> {
        let head = serde_json::to_string_pretty(&self.head).map_err(CommandError::internal)?;
        let marker = format!("\n  \"{}\": []", self.key);
        let Some((before, after)) = head.split_once(&marker) else {
            return Err(CommandError::internal(format!("no '{}' list at the top of the document", self.key)));
        };
        if self.len == 0 {
            ui.json_part(&format!("{head}\n"));
            return Ok(());
        }
        ui.json_part(&format!("{before}\n  \"{}\": [", self.key));
        for i in 0..self.len {
            let item = serde_json::to_string_pretty(&(self.item)(i)?).map_err(CommandError::internal)?;
            let mut text = String::with_capacity(item.len() + item.len() / 8 + 8);
            text.push_str(if i == 0 { "\n" } else { ",\n" });
            for (n, line) in item.lines().enumerate() {
                if n > 0 {
                    text.push('\n');
                }
                text.push_str("    ");
                text.push_str(line);
            }
            ui.json_part(&text);
        }
        ui.json_part(&format!("\n  ]{after}\n"));
        Ok(())
    }
}

/// What every command gets: the session, the audit log, and what its settings come from.
pub struct Here {
    /// The authenticated session.
    pub session: Session,
    /// The audit log in the plugin's folder, when there is a home.
    pub audit: Option<AuditLog>,
    /// The environment and the configuration, read once ([`crate::settings`]).
    pub sources: Sources,
}

/// Runs a command: the one place that maps a command to its module (jj's `run_command`); the
/// command line's definition ([`crate::cli`]) knows nothing of the modules.
///
/// # Errors
/// The command's error.
async fn run_command(command: &Command, here: &Here, ui: &Ui) -> Result<Box<dyn Render>, CommandError> {
    // Each command's settings resolved first (settings.rs), before any request.
    let sources = &here.sources;
    match command {
        // Boxed: a reset's future (plan, prompt, reset, verification, add-ons) is large.
        Command::Reset(a) => Box::pin(reset::run(here, ui, &ResetSettings::resolve(a, sources)?)).await,
        Command::Info(a) => info::run(here, ui, InfoSettings::resolve(a)?).await,
        Command::Status(a) if a.account.len() > 1 || a.all_accounts => {
            accounts::run(here, ui, StatusSettings::resolve(a, sources)?).await
        }
        Command::Status(a) => status::run(here, ui, StatusSettings::resolve(a, sources)?).await,
        Command::Check(a) => check::run(here, ui, CheckSettings::resolve(a)?).await,
        Command::Prune(a) => prune::run(here, ui, PruneSettings::resolve(a, sources)?).await,
        Command::RestartAddons(a) => {
            Box::pin(addons::run(here, ui, &RestartAddonsSettings::resolve(a, sources)?)).await
        }
        // `parse` answers `help` and the binary's shell answers `completion` itself.
        Command::Help { .. } | Command::Completion { .. } => {
            Err(CommandError::internal("a local command reached the dispatcher"))
        }
    }
}

/// The one account `--account` names for `command`, if any (several, or `--all-accounts`, on a
/// command that acts on one account: a usage error).
///
/// # Errors
/// That usage error.
fn account_named(command: &Command) -> Result<Option<&str>, CommandError> {
    match command {
        Command::Reset(a) => a.account.one("reset"),
        Command::Prune(a) => a.account.one("prune"),
        Command::Check(a) => a.account.one("check"),
        Command::RestartAddons(a) => a.account.one("restart-addons"),
        Command::Info(a) => Ok(a.account.as_deref()),
        Command::Status(a) if a.account.len() == 1 && !a.all_accounts => Ok(a.account.first().map(String::as_str)),
        _ => Ok(None),
    }
}

/// Resolves `command`'s settings (flags, policy file) and drops them: what is wrong with them
/// is refused before any request.
///
/// # Errors
/// The settings' usage errors.
fn resolve_only(command: &Command, sources: &Sources) -> Result<(), CommandError> {
    match command {
        Command::Reset(a) => ResetSettings::resolve(a, sources).map(drop),
        Command::Info(a) => InfoSettings::resolve(a).map(drop),
        Command::Status(a) => StatusSettings::resolve(a, sources).map(drop),
        Command::Check(a) => CheckSettings::resolve(a).map(drop),
        Command::Prune(a) => PruneSettings::resolve(a, sources).map(drop),
        Command::RestartAddons(a) => RestartAddonsSettings::resolve(a, sources).map(drop),
        Command::Help { .. } | Command::Completion { .. } => Ok(()),
    }
}

/// A command's JSON document on another account than the targeted one: the account's ID
/// (`account`, as `status` and `check` have it) and name (`accountName`) at its top.
fn with_account(mut doc: serde_json::Value, ui: &Ui) -> serde_json::Value {
    if let (Some(a), Some(map)) = (&ui.account, doc.as_object_mut()) {
        map.entry("account").or_insert_with(|| serde_json::Value::from(a.id.clone()));
        map.insert(String::from("accountName"), serde_json::Value::from(a.name.clone()));
    }
    doc
}

/// Loads the context, runs `command` and prints its report once, as JSON or text.
///
/// # Errors
/// The command's error, ready to print.
pub async fn dispatch(env: &Env, command: &Command, ui: &mut Ui) -> Result<ExitStatus, CommandError> {
    // One account per command that acts on one: refused before anything is read.
    let account = account_named(command)?;
    let ctx = Context::load(env).await?;
    ui.color = ui::color_enabled(env, ctx.config.as_ref().map(|c| c.color_enabled.as_str()));
    let plugin_dir = Context::plugin_dir(env, ctx.config_dir.as_deref());
    let audit = plugin_dir.as_deref().map(AuditLog::in_dir);
    let session = Session::new(ctx)?;
    for w in &session.warnings {
        ui.warn(w);
    }
    let notice_ui = ui.clone();
    // A wait for the rate budget is for a person watching a terminal; in a pipe, a log or a JSON
    // run it is noise (the command just takes longer). Warnings are always said.
    let waits_shown = !ui.json && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let notices = move |kind, text: &str| {
        if kind == cluster_api_key_core::http::NoticeKind::Warning || waits_shown {
            notice_ui.warn(text);
        }
    };
    session.on_notice(notices.clone());
    let policy_variable = env.get(cluster_api_key_core::env::CAK_POLICY).map(str::to_owned);
    let sources = Sources::new(&session.ctx, policy_variable, plugin_dir);
    let mut here = Here { session, audit, sources };
    // `--account`: the command runs on that account's session (its own token, in memory, and
    // its own rate budget); its printed commands carry `--account ID` and its plans and
    // questions name the account.
    if let Some(query) = account {
        // The flags and the policy file are refused before the accounts are listed, as they
        // are before any request without `--account` (resolved again below, for the account).
        resolve_only(command, &here.sources)?;
        let (a, home) = accounts::one_named(&here.session, ui, query, command.name()).await?;
        if let Some(scope) = accounts::scope(&a, &home) {
            here.session = here.session.for_account(&a)?;
            here.sources.account = Some(a.id.to_string());
            here.session.on_notice(notices);
            ui.say(format!("Account: {}, not the targeted account: everything below is about it.", scope.label()));
            ui.account = Some(scope);
        }
    }
    let ui: &Ui = ui;
    let result = run_command(command, &here, ui).await;
    // Not chatter: whatever -q says, a change that the audit log misses must be known.
    for failure in here.audit.iter().flat_map(AuditLog::failures) {
        ui.alert(&failure);
    }
    let report = result?;
    if ui.csv {
        let text = report.csv().ok_or_else(|| CommandError::internal("a command without CSV was asked for CSV"))??;
        ui::print_text(&text);
    } else if ui.sarif {
        let doc =
            report.sarif(ui).ok_or_else(|| CommandError::internal("a command without SARIF was asked for SARIF"))??;
        ui.json_doc(&doc);
    } else if ui.junit {
        let text =
            report.junit().ok_or_else(|| CommandError::internal("a command without JUnit was asked for JUnit"))??;
        ui::print_text(&text);
    } else if ui.markdown {
        let text = report
            .markdown()
            .ok_or_else(|| CommandError::internal("a command without Markdown was asked for Markdown"))?;
        ui::print_text(&text);
    } else if ui.json {
        match report.json_listing(ui) {
            Some(listing) => {
                let mut listing = listing?;
                listing.head = with_account(listing.head, ui);
                listing.write(ui)?;
            }
            None => ui.json_doc(&with_account(report.json(ui)?, ui)),
        }
    } else {
        report.text(ui);
    }
    Ok(report.status())
}
