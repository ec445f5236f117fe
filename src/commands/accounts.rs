//! `status --account` / `--all-accounts`: several accounts of the same login in one report.
//! The accounts are named before any account is read (an `--account` the login cannot reach,
//! or a name two accounts share, is a usage error), then read at once, each with a session of
//! its own (its own token and rate budget); one that cannot be read is reported as unknown and
//! counted as a warning, never skipped.

use cluster_api_key_core::model::Severity;
use cluster_api_key_core::ops::accounts::{self, Account, Pick, Reach};
use cluster_api_key_core::ops::status;
use cluster_api_key_core::policy::FailOn;

use super::status::{BaseFile, CSV_HEADER, Report, judge};
use super::{ExitStatus, Here, Listing, Render};
use crate::cli::StatusArgs;
use crate::error::{CommandError, to_json};
use crate::settings::StatusSettings;
use crate::ui::{Text, Ui};

/// How many accounts are read at once. With the CLI session the run is bound by the chain of
/// token exchanges (one account's token per round trip), and 8 accounts read at once already
/// keep up with it: measured with 16 (README, Performance, many accounts), 20 accounts took
/// 1.49 s against 1.59 s and 200 small accounts 11.1 s against 11.25 s, while an API-key run
/// (parallel grants) peaked at 2.84x one account's memory against 2.10x. More at once
/// multiplies pools and memory, not speed. `cargo xtask bench` mirrors this constant.
const ACCOUNTS_IN_FLIGHT: usize = 8;

/// One account's part: its report, or why it could not be read.
struct Part {
    account: Account,
    /// How its printed commands name it (`None`: the targeted account).
    scope: Option<crate::ui::AccountScope>,
    read: Result<Report, String>,
}

/// The report over several accounts.
struct Accounts {
    parts: Vec<Part>,
    source: accounts::Source,
    fail_on: FailOn,
}

/// The one account `query` names (`--account` of `info`, `check`, `prune`, `reset`,
/// `restart-addons` and a one-account `status`), and the targeted account's ID; refused as
/// `status --account` refuses a name, before anything of the account is read.
///
/// # Errors
/// Usage errors of `command` for a name that names no readable account, or several; listing
/// errors.
pub async fn one_named(
    session: &cluster_api_key_core::ops::Session,
    ui: &Ui,
    query: &str,
    command: &str,
) -> Result<(Account, cluster_api_key_core::types::AccountId), CommandError> {
    let caller = session.caller().await?;
    ui.progress("Listing the accounts this login can read...");
    let reach = accounts::reach(session, &caller.account).await?;
    let picked = named(std::slice::from_ref(&query.to_owned()), &reach, command)?;
    let Some(a) = picked.into_iter().next() else { return Err(CommandError::internal("no account named")) };
    Ok((a, caller.account))
}

/// How printed commands and plans name `a` when it is not `home` (the targeted account).
#[must_use]
pub fn scope(a: &Account, home: &cluster_api_key_core::types::AccountId) -> Option<crate::ui::AccountScope> {
    (&a.id != home).then(|| crate::ui::AccountScope { id: a.id.to_string(), name: a.name.clone() })
}

/// The accounts the flags name, in the order named (`--all-accounts`: every one listed).
fn chosen(args: &StatusArgs, reach: &Reach) -> Result<Vec<Account>, CommandError> {
    if args.all_accounts {
        return Ok(reach.accounts.clone());
    }
    named(&args.account, reach, "status")
}

/// The accounts `queries` name, in order, each once; a query that names none the login can
/// read, or several, is a usage error of `command`.
fn named(queries: &[String], reach: &Reach, command: &str) -> Result<Vec<Account>, CommandError> {
    let mut out: Vec<Account> = Vec::new();
    for q in queries {
        let a = match accounts::pick(reach, q) {
            Pick::One(a) => a,
            Pick::Unknown => {
                let known: Vec<String> =
                    reach.accounts.iter().filter(|a| a.member).map(|a| format!("{} ({})", a.name, a.id)).collect();
                return Err(CommandError::usage(
                    format!(
                        "--account '{q}' names no account this login can read. It can read: {}.",
                        if known.is_empty() { String::from("none") } else { known.join(", ") }
                    ),
                    Some(command),
                ));
            }
            Pick::NoAccess(a) => {
                return Err(CommandError::usage(
                    format!(
                        "--account '{q}' is the account {} ({}), of which this login is no member: no token can be had for it.",
                        a.name, a.id
                    ),
                    Some(command),
                ));
            }
            Pick::Ambiguous(all) => {
                let ids: Vec<String> = all.iter().map(|a| a.id.to_string()).collect();
                return Err(CommandError::usage(
                    format!("--account '{q}' matches {} accounts; name one by its ID: {}.", all.len(), ids.join(", ")),
                    Some(command),
                ));
            }
        };
        if !out.iter().any(|o| o.id == a.id) {
            out.push(a);
        }
    }
    Ok(out)
}

/// Runs `status` over the accounts the flags name.
///
/// # Errors
/// Usage errors for accounts that cannot be named; errors listing the accounts.
pub async fn run(here: &Here, ui: &Ui, settings: StatusSettings<'_>) -> Result<Box<dyn Render>, CommandError> {
    let StatusSettings { args, policy, options, whole_account, fail_on } = settings;
    let (policy, opts) = (&policy, &options);
    // The baseline's file is checked before any request, as for one account; a file this run
    // creates is added to for each account after the first without asking again.
    let baseline = match &args.baseline {
        Some(path) => {
            let existed = std::fs::symlink_metadata(path).is_ok();
            drop(BaseFile::open(path, policy, args.force, true)?);
            Some((path, args.force || !existed))
        }
        None => None,
    };
    let caller = here.session.caller().await?;
    ui.progress("Listing the accounts this login can read...");
    let reach = accounts::reach(&here.session, &caller.account).await?;
    let picked = chosen(args, &reach)?;
    ui.progress(format!("Reading {} accounts at once...", picked.len()));
    let home = &caller.account;
    // The members' sessions; with the CLI session their first tokens come from one chain of
    // exchanges, run beside the reads (each account starts when its token arrives).
    let members: Vec<Account> = picked.iter().filter(|a| a.member).cloned().collect();
    let (sessions, chain) = here.session.for_accounts(&members)?;
    let mut sessions = sessions.into_iter();
    let reads = picked.iter().map(|a| {
        let session = if a.member { sessions.next() } else { None };
        async move {
            let Some(session) = session else {
                return Err(String::from("no access: this login is no member of the account"));
            };
            // The policy's functional IDs of this account only, with those of every account.
            let mut opts = opts.clone();
            opts.functional_ids.extend(policy.functional_ids_of(a.id.as_str()).cloned());
            status::status_and_facts(&session, &opts, &status::Silent)
                .await
                .map_err(|e| if accounts::is_no_access(&e) { format!("no access: {e}") } else { e.to_string() })
        }
    });
    // At most ACCOUNTS_IN_FLIGHT accounts at once, in the order named (the chain's order too):
    // each has its own rate budget and pool, so more at once would multiply sockets and
    // memory, not speed. The chain runs beside them, handing out tokens ahead of the reads.
    let reads = futures_util::StreamExt::collect::<Vec<_>>(futures_util::StreamExt::buffered(
        futures_util::stream::iter(reads),
        ACCOUNTS_IN_FLIGHT,
    ));
    let (results, ()) = futures_util::future::join(reads, chain).await;
    // Judged in the order named, one after the other: a baseline adds each account's entries
    // (each naming its account) to the file as the account before left it.
    let mut parts: Vec<Part> = Vec::with_capacity(picked.len());
    for (i, (account, read)) in picked.into_iter().zip(results).enumerate() {
        let scope = scope(&account, home);
        // Its commands carry `--account ID` (another account than the targeted one).
        let ui = ui.for_account(scope.clone());
        let read = match read {
            Ok(read) => {
                let base = match baseline {
                    Some((path, created)) => {
                        Some(BaseFile::open(path, policy, args.force || (created && i > 0), true)?)
                    }
                    None => None,
                };
                judge(&ui, args, policy, whole_account, fail_on, base, Vec::new(), read)
                    .await
                    .map_err(|e| e.to_string())
            }
            Err(why) => Err(why),
        };
        parts.push(Part { account, scope, read });
    }
    unused_everywhere(&mut parts, policy);
    Ok(Box::new(Accounts { parts, source: reach.source, fail_on }))
}

/// An acceptance of every account is unused only when it matched nothing in any account read,
/// and is said once, in the first account's section; one of a single account (`account =`) is
/// said in that account's section alone (no other account uses it or reports it).
fn unused_everywhere(parts: &mut [Part], policy: &cluster_api_key_core::policy::Policy) {
    let scoped: Vec<String> =
        policy.accept.iter().filter(|a| a.account.is_some()).map(|a| format!("line {}:", a.line)).collect();
    let of_one = |u: &String| scoped.iter().any(|l| u.starts_with(l.as_str()));
    let mut read = parts.iter_mut().filter_map(|p| p.read.as_mut().ok());
    let Some(first) = read.next() else { return };
    let mut rest: Vec<&mut Report> = read.collect();
    if let Some(notes) = first.status.policy.as_mut() {
        notes.unused.retain(|u| {
            of_one(u) || rest.iter().all(|r| r.status.policy.as_ref().is_none_or(|n| n.unused.contains(u)))
        });
    }
    for r in &mut rest {
        if let Some(n) = r.status.policy.as_mut() {
            n.unused.retain(|u| of_one(u));
        }
    }
}

fn account_json(a: &Account) -> serde_json::Value {
    serde_json::json!({"id": a.id, "name": a.name})
}

impl Accounts {
    fn unread(&self) -> usize {
        self.parts.iter().filter(|p| p.read.is_err()).count()
    }

    /// Each account's rows in the one-account columns, with the account's ID appended last.
    fn csv_all(&self) -> Result<String, CommandError> {
        let mut out = csv::Writer::from_writer(Vec::new());
        let header: Vec<&str> = CSV_HEADER.iter().copied().chain(["account"]).collect();
        out.write_record(&header).map_err(CommandError::internal)?;
        for p in &self.parts {
            let id = p.account.id.to_string();
            if let Ok(r) = &p.read {
                let text = r.csv_text()?;
                let mut rd = csv::Reader::from_reader(text.as_bytes());
                for rec in rd.records() {
                    let rec = rec.map_err(CommandError::internal)?;
                    let mut fields: Vec<String> = rec.iter().map(str::to_owned).collect();
                    fields.push(id.clone());
                    out.write_record(&fields).map_err(CommandError::internal)?;
                }
            } else {
                // An account that could not be read: a row of its own, its findings
                // `account-unread` and its worst severity a warning, never skipped.
                let mut fields = vec![String::new(); CSV_HEADER.len()];
                if let Some(i) = CSV_HEADER.iter().position(|h| *h == "findings") {
                    fields[i] = String::from("account-unread");
                }
                if let Some(i) = CSV_HEADER.iter().position(|h| *h == "worstSeverity") {
                    fields[i] = String::from("warning");
                }
                fields.push(id);
                out.write_record(&fields).map_err(CommandError::internal)?;
            }
        }
        out.into_inner()
            .map_err(|e| CommandError::internal(e.into_error()))
            .and_then(|bytes| String::from_utf8(bytes).map_err(CommandError::internal))
    }
}

impl Accounts {
    /// Account `p`'s part of the JSON document: its own document with its `account`, or why it
    /// could not be read.
    fn part_json(ui: &Ui, p: &Part) -> Result<serde_json::Value, CommandError> {
        Ok(match &p.read {
            Ok(r) => {
                let mut v = r.json(&ui.for_account(p.scope.clone()))?;
                v["account"] = account_json(&p.account);
                v
            }
            Err(why) => serde_json::json!({
                "account": account_json(&p.account),
                "unread": why,
            }),
        })
    }

    /// The document around the accounts' parts (`accounts` empty: see [`Render::json_listing`]).
    fn head_json(&self) -> Result<serde_json::Value, CommandError> {
        let (mut targets, mut critical, mut warnings, mut info, mut accepted) = (0, 0, 0, 0, 0);
        for s in self.parts.iter().filter_map(|p| p.read.as_ref().ok()).map(|r| &r.status.summary) {
            (targets, critical, warnings, info, accepted) = (
                targets + s.targets,
                critical + s.critical,
                warnings + s.warnings,
                info + s.info,
                accepted + s.accepted,
            );
        }
        Ok(serde_json::json!({
            "accounts": [],
            "source": to_json(&self.source)?,
            "summary": {
                "accounts": self.parts.len(),
                "unreadAccounts": self.unread(),
                "targets": targets,
                "critical": critical,
                "warnings": warnings + self.unread(),
                "info": info,
                "accepted": accepted,
            },
        }))
    }
}

impl Render for Accounts {
    fn json(&self, ui: &Ui) -> Result<serde_json::Value, CommandError> {
        let mut doc = self.head_json()?;
        let list = self.parts.iter().map(|p| Self::part_json(ui, p)).collect::<Result<Vec<_>, _>>()?;
        doc["accounts"] = serde_json::Value::Array(list);
        Ok(doc)
    }

    /// One account at a time: twenty accounts' document as one `Value` tripled the peak memory
    /// of a run (the benchmark in README, Performance).
    fn json_listing(&self, ui: &Ui) -> Option<Result<Listing<'_>, CommandError>> {
        let head = match self.head_json() {
            Ok(h) => h,
            Err(e) => return Some(Err(e)),
        };
        let ui = ui.clone();
        Some(Ok(Listing {
            head,
            key: "accounts",
            len: self.parts.len(),
            item: Box::new(move |i| Self::part_json(&ui, &self.parts[i])),
        }))
    }

    fn text(&self, ui: &Ui) {
        ui.ok();
        let rows: Vec<Vec<Text>> = self
            .parts
            .iter()
            .map(|p| {
                let name = Text::from(if p.account.name.is_empty() {
                    p.account.id.to_string()
                } else {
                    p.account.name.clone()
                });
                match &p.read {
                    Ok(r) => {
                        let s = &r.status.summary;
                        vec![
                            name,
                            Text::from(p.account.id.to_string()),
                            Text::from(s.targets.to_string()),
                            Text::from(s.critical.to_string()),
                            Text::from(s.warnings.to_string()),
                            Text::from(s.info.to_string()),
                            Text::from("read"),
                        ]
                    }
                    Err(why) => vec![
                        name,
                        Text::from(p.account.id.to_string()),
                        Text::from("-"),
                        Text::from("-"),
                        Text::from("-"),
                        Text::from("-"),
                        Text::new().severe(Severity::Warning, format!("unknown: {why}")),
                    ],
                }
            })
            .collect();
        ui.table(&["Account", "ID", "Targets", "Critical", "Warnings", "Info", "Read"], &rows);
        let unread = self.unread();
        ui.say("");
        ui.say(format!(
            "{} account{}{}; {}.",
            self.parts.len(),
            if self.parts.len() == 1 { "" } else { "s" },
            match self.source {
                accounts::Source::Enterprise => " of the enterprise",
                accounts::Source::Memberships => " this login is a member of",
            },
            match unread {
                0 => String::from("every one read"),
                n => format!("{n} could not be read (counted as a warning each)"),
            }
        ));
        for p in &self.parts {
            if let Ok(r) = &p.read {
                ui.say("");
                ui.say(Text::from("Account ").name(&p.account.name).plain(format!(" ({})", p.account.id)));
                r.body_text(&ui.for_account(p.scope.clone()));
            }
        }
    }

    fn csv(&self) -> Option<Result<String, CommandError>> {
        Some(self.csv_all())
    }

    /// SARIF over many accounts: one run per account, told apart by `automationDetails.id`
    /// (code scanning keeps a category per run); an account that could not be read is a run
    /// without results whose invocation failed, with the reason — never left out.
    fn sarif(&self, ui: &Ui) -> Option<Result<serde_json::Value, CommandError>> {
        let mut doc: Option<serde_json::Value> = None;
        let mut runs = Vec::with_capacity(self.parts.len());
        let mut unread = Vec::new();
        for p in &self.parts {
            let category = serde_json::json!({"id": format!("{}/{}/", crate::names::PLUGIN_NAME, p.account.id)});
            match &p.read {
                Ok(r) => {
                    let d = match r.sarif(&ui.for_account(p.scope.clone()))? {
                        Ok(d) => d,
                        Err(e) => return Some(Err(e)),
                    };
                    let mut run = d["runs"][0].clone();
                    run["automationDetails"] = category;
                    runs.push(run);
                    doc.get_or_insert(d);
                }
                Err(why) => unread.push((category, &p.account, why)),
            }
        }
        // The tool (with every rule) as the read runs name it; the rules alone when none was read.
        let mut doc = doc.unwrap_or_else(|| crate::sarif::with_results(&[], &ui.me));
        for (category, a, why) in unread {
            let mut run = doc["runs"][0].clone();
            run["results"] = serde_json::json!([]);
            run["automationDetails"] = category;
            run["invocations"] = serde_json::json!([{
                "executionSuccessful": false,
                "toolExecutionNotifications": [{
                    "level": "error",
                    "message": {"text": format!("Account {} ({}) could not be read: {why}", crate::ui::one_line(&a.name), a.id)},
                }],
            }]);
            runs.push(run);
        }
        doc["runs"] = serde_json::Value::Array(runs);
        Some(Ok(doc))
    }

    /// JUnit over many accounts: each account's suite (an unread one's is an error, with the
    /// reason) and its targets' suites, the account's ID first in every suite's name.
    fn junit(&self) -> Option<Result<String, CommandError>> {
        let parts: Vec<(crate::junit::Account, crate::junit::Read)> = self
            .parts
            .iter()
            .map(|p| {
                let account = crate::junit::Account { id: p.account.id.as_str(), name: Some(p.account.name.as_str()) };
                let read = match &p.read {
                    Ok(r) => crate::junit::Read::Report(r.junit_part()),
                    Err(why) => crate::junit::Read::Unread(why),
                };
                (account, read)
            })
            .collect();
        Some(crate::junit::document(&parts, self.fail_on))
    }

    /// Markdown over many accounts: a section each, an unread one said, never left out.
    fn markdown(&self) -> Option<String> {
        let parts: Vec<(crate::markdown::Account, crate::markdown::Read)> = self
            .parts
            .iter()
            .map(|p| {
                let account =
                    crate::markdown::Account { id: p.account.id.as_str(), name: Some(p.account.name.as_str()) };
                let read = match &p.read {
                    Ok(r) => crate::markdown::Read::Report(&r.status, &r.actions),
                    Err(why) => crate::markdown::Read::Unread(why),
                };
                (account, read)
            })
            .collect();
        Some(crate::markdown::document(&parts, self.fail_on, self.status() == ExitStatus::Findings))
    }

    fn status(&self) -> ExitStatus {
        let findings =
            self.parts.iter().any(|p| p.read.as_ref().is_ok_and(|r| r.exit_status() == ExitStatus::Findings));
        // An unread account is unknown, counted as a warning (as an owner that cannot be read).
        let unread = self.unread() > 0 && self.fail_on.threshold().is_some_and(|t| t <= Severity::Warning);
        if findings || unread { ExitStatus::Findings } else { ExitStatus::Success }
    }
}
