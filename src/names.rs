//! The plugin's names and what each command prints: the facts that the command line
//! ([`crate::cli`]), its help ([`crate::help`]), the host's metadata ([`crate::metadata`]) and
//! the completions share. A leaf (it imports no module of the binary), so that those four
//! depend on it and never on each other in a circle: `names` <- `help` <- `cli` <- `metadata`.

/// Plugin and namespace name.
pub const PLUGIN_NAME: &str = "cluster-api-key";

/// Commands of the standalone binary only: under the host, `ibmcloud` does completion itself
/// (it asks us through `SendCompletion`).
pub const STANDALONE_ONLY: [&str; 1] = ["completion"];

/// The commands that also print the report formats (`--output csv`, `sarif`, `junit`,
/// `markdown`).
pub const CSV_COMMANDS: &[&str] = &["status"];

/// The commands that print a script, not a document: `--output` does not apply to them.
pub const SCRIPT_COMMANDS: &[&str] = &["completion"];

/// Every `--output` format, as typed.
pub const OUTPUT_FORMATS: &[&str] = &["json", "csv", "sarif", "junit", "markdown"];

/// A format as prose names it (`JSON`, `SARIF`, `JUnit`).
#[must_use]
pub fn format_name(format: &str) -> String {
    match format {
        "junit" => String::from("JUnit"),
        "markdown" => String::from("Markdown"),
        other => other.to_uppercase(),
    }
}

/// The `--output` formats a command prints (none: it prints a script), as typed; without a
/// command, every format. One list for the usage errors and the shell completions.
#[must_use]
pub fn output_formats(command: Option<&str>) -> &'static [&'static str] {
    match command {
        None => OUTPUT_FORMATS,
        Some(c) if SCRIPT_COMMANDS.contains(&c) => &[],
        Some(c) if CSV_COMMANDS.contains(&c) => OUTPUT_FORMATS,
        Some(_) => &["json"],
    }
}

/// `a`, `a or b`, `a, b or c`.
#[must_use]
pub fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The sentence a refused `--output` ends with: which formats exist, and which `command`
/// prints ("reset prints json (--output json); csv is only for status.").
#[must_use]
pub fn formats_sentence(command: Option<&str>) -> String {
    let Some(name) = command else {
        return format!("The formats are {}.", OUTPUT_FORMATS.join(", "));
    };
    let own = output_formats(command);
    if own.is_empty() {
        return format!("{name} prints a shell script; --output does not apply to it.");
    }
    let flags: Vec<String> = own.iter().map(|f| format!("--output {f}")).collect();
    let mut s = format!("{name} prints {} ({})", or_list(own), flags.join(", "));
    let others: Vec<&str> = OUTPUT_FORMATS.iter().copied().filter(|f| !own.contains(f)).collect();
    if !others.is_empty() {
        // Only the report formats are another command's today; say whose.
        let are = if others.len() == 1 { "is" } else { "are" };
        let listed = match others.as_slice() {
            [init @ .., last] if !init.is_empty() => format!("{} and {last}", init.join(", ")),
            _ => others.join(""),
        };
        s.push_str(&format!("; {listed} {are} only for {}", CSV_COMMANDS.join(", ")));
    }
    s.push('.');
    s
}
