//! `ibmcloud`-style help (`NAME:` / `USAGE:` / `OPTIONS:`), rendered from the clap tree of
//! [`crate::cli`] and attached to it, so clap itself prints it for `-h` anywhere.

/// The description of a command: the first line of its about text.
#[must_use]
pub fn about(cmd: &clap::Command) -> String {
    first_line(&cmd.get_about().map(ToString::to_string).unwrap_or_default())
}

/// The first line of a text, trimmed.
#[must_use]
pub fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().trim().to_owned()
}

/// Whether an argument takes a value.
#[must_use]
pub fn takes_value(arg: &clap::Arg) -> bool {
    arg.get_num_args().is_some_and(|n| n.takes_values())
}

/// The visible, user-facing flags of a (built) command: its own, then the global ones, without
/// `--help`, hidden ones, and `--output` where there is no document to print (a completion
/// script).
#[must_use]
pub fn visible_args(cmd: &clap::Command) -> Vec<&clap::Arg> {
    let documents = !crate::names::SCRIPT_COMMANDS.contains(&cmd.get_name());
    let shown = |a: &&clap::Arg| {
        !a.is_hide_set()
            && a.get_long() != Some("help")
            && !a.is_positional()
            && (documents || a.get_long() != Some("output"))
    };
    let own = cmd.get_arguments().filter(|a| !a.is_global_set()).filter(shown);
    let global = cmd.get_arguments().filter(|a| a.is_global_set()).filter(shown);
    own.chain(global).collect()
}

/// The value name of an argument as `cmd` shows it: `--output` is `json` where that is the one
/// format, else `FORMAT` (its help line names them).
#[must_use]
pub fn value_name(cmd: &clap::Command, a: &clap::Arg) -> String {
    if a.get_long() == Some("output") && crate::names::CSV_COMMANDS.contains(&cmd.get_name()) {
        // Five formats do not fit a narrow terminal as one word: the help line names them.
        return String::from("FORMAT");
    }
    a.get_value_names().and_then(|v| v.first()).map(ToString::to_string).unwrap_or_default()
}

/// The one-line help of an argument as `cmd` shows it: `--output` names the formats `cmd`
/// takes, so that no command's help speaks of another's.
#[must_use]
pub fn arg_help(cmd: &clap::Command, a: &clap::Arg) -> String {
    if a.get_long() == Some("output") && crate::names::CSV_COMMANDS.contains(&cmd.get_name()) {
        return format!(
            "Prints the command output in FORMAT: {} (JSON, CSV, SARIF 2.1.0, JUnit XML, Markdown)",
            crate::names::or_list(crate::names::OUTPUT_FORMATS)
        );
    }
    first_line(&a.get_help().map(ToString::to_string).unwrap_or_default())
}

/// The visible subcommands of a command.
pub fn visible_subcommands(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands().filter(|c| !c.is_hide_set())
}

/// A visible subcommand of `root` by name; a path of words reaches nested ones.
#[must_use]
pub fn find<'a>(root: &'a clap::Command, name: &str) -> Option<&'a clap::Command> {
    name.split_whitespace()
        .try_fold(root, |cmd, word| visible_subcommands(cmd).find(|c| c.get_name() == word))
        .filter(|c| !std::ptr::eq(*c, root))
}

/// The help attached to a command of the tree [`crate::cli::command`] built.
#[must_use]
pub fn attached(cmd: &clap::Command) -> String {
    cmd.clone().render_help().to_string()
}

/// The usage line, with `prefix` as the command path (`${COMMAND_NAME} cluster-api-key`).
#[must_use]
pub fn usage(cmd: &clap::Command, prefix: &str) -> String {
    let mut s = format!("{prefix} {}", cmd.get_name());
    if cmd.has_subcommands() {
        s.push_str(" COMMAND [OPTIONS]");
        return s;
    }
    // Positional values first (`completion SHELL`), as they are typed.
    for p in cmd.get_positionals().filter(|p| !p.is_hide_set()) {
        let name =
            p.get_value_names().and_then(|v| v.first()).map_or_else(|| p.get_id().to_string(), ToString::to_string);
        if p.is_required_set() {
            s.push_str(&format!(" {name}"));
        } else {
            s.push_str(&format!(" [{name}]"));
        }
    }
    let part = |a: &clap::Arg| {
        let value = value_name(cmd, a);
        match (takes_value(a), a.get_long(), a.get_short()) {
            (true, Some(l), _) => Some(format!("--{l} {value}")),
            (true, None, Some(sh)) => Some(format!("-{sh} {value}")),
            (false, _, Some(sh)) => Some(format!("-{sh}")),
            (false, Some(l), None) => Some(format!("--{l}")),
            _ => None,
        }
    };
    // A required group of alternatives is one `(A | B)` part, where its first member stands.
    let required_group = cmd.get_groups().find(|g| g.is_required_set());
    let in_group = |a: &clap::Arg| required_group.is_some_and(|g| g.get_args().any(|id| id == a.get_id()));
    let mut group_done = false;
    for a in visible_args(cmd) {
        if in_group(a) {
            if !group_done {
                let alternatives: Vec<String> =
                    visible_args(cmd).into_iter().filter(|x| in_group(x)).filter_map(part).collect();
                s.push_str(&format!(" ({})", alternatives.join(" | ")));
                group_done = true;
            }
            continue;
        }
        let Some(p) = part(a) else { continue };
        if a.is_required_set() {
            s.push(' ');
            s.push_str(&p);
        } else {
            s.push_str(&format!(" [{p}]"));
        }
    }
    s
}

/// Whether help is for the standalone binary (not under the `ibmcloud` host).
fn standalone(prefix: &str) -> bool {
    prefix == crate::names::PLUGIN_NAME
}

fn commands_table(cmd: &clap::Command, prefix: &str) -> String {
    let rows: Vec<(String, String)> = visible_subcommands(cmd)
        .filter(|c| standalone(prefix) || !crate::names::STANDALONE_ONLY.contains(&c.get_name()))
        .map(|c| (c.get_name().to_owned(), about(c)))
        .collect();
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    rows.iter().fold(String::new(), |mut out, (n, d)| {
        out.push_str(&format!("  {n:width$}   {d}\n"));
        out
    })
}

/// Help for one (built) command.
#[must_use]
pub fn command_help(cmd: &clap::Command, prefix: &str) -> Option<String> {
    if cmd.is_hide_set() {
        return None;
    }
    let mut out = format!("NAME:\n  {} - {}\n\nUSAGE:\n  {}\n", cmd.get_name(), about(cmd), usage(cmd, prefix));
    if let Some(long) = cmd.get_long_about().map(ToString::to_string) {
        let rest = long.lines().skip(1).collect::<Vec<_>>().join("\n");
        if !rest.trim().is_empty() {
            out.push_str(&format!("\n  {}\n", rest.trim().replace('\n', "\n  ")));
        }
    }
    if cmd.has_subcommands() {
        out.push_str("\nCOMMANDS:\n");
        out.push_str(&commands_table(cmd, prefix));
        return Some(out);
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
            let value = if takes_value(a) { format!(" {}", value_name(cmd, a)) } else { String::new() };
            (format!("{names}{value}"), arg_help(cmd, a))
        })
        .collect();
    let mut rows = rows;
    if standalone(prefix) {
        rows.push((
            String::from("--sandbox[=IDENTITY]"),
            String::from("Run against the embedded emulated account instead of IBM Cloud"),
        ));
    }
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (n, d) in rows {
        out.push_str(&format!("  {n:width$}   {d}\n"));
    }
    Some(out)
}

/// Help for the whole plugin.
#[must_use]
pub fn root_help(root: &clap::Command, prefix: &str) -> String {
    format!(
        "NAME:\n  {} - {}\n\nUSAGE:\n  {prefix} COMMAND [OPTIONS]\n\nCOMMANDS:\n{}\nEnter '{prefix} help COMMAND' for more information about a command.\n",
        crate::names::PLUGIN_NAME,
        about(root),
        commands_table(root, prefix)
    ) + if standalone(prefix) {
        "\nTry it without an account: '--sandbox[=IDENTITY]' runs any command against an emulated account\n(IDENTITY: functional, owner, viewer, service-id, departed); '--sandbox --sandbox-reset' starts it over.\n"
    } else {
        ""
    }
}
