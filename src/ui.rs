//! The only module that prints or prompts, following the `ibmcloud` terminal conventions:
//! progress lines ending in `...` and `OK` on stdout (both hidden by `-q`), `FAILED` and the
//! error on stderr, borderless tables with ≥3 spaces between columns, `[y/N]` prompts, colour
//! only when the settings and the terminal allow it. In JSON mode stdout carries exactly one
//! JSON document and nothing else.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use anstream::ColorChoice;
use anstyle::{AnsiColor, Color, Style};
use cluster_api_key_core::env::{self, Env};
use cluster_api_key_core::model::Severity;

use crate::error::CommandError;

/// Writes styled text to stdout, ignoring errors: a closed pipe (`| head`) must not turn into a
/// panic, and there is nowhere left to report it anyway. `anstream` decides whether the styles
/// reach the stream (`choice`: the settings; `Auto`: `NO_COLOR`, `CLICOLOR`, `CLICOLOR_FORCE`,
/// `TERM=dumb`, and whether stdout is a terminal) and strips them otherwise.
fn out_styled(choice: ColorChoice, text: &str) {
    let mut stream = anstream::AutoStream::new(std::io::stdout().lock(), choice);
    let _ = stream.write_all(text.as_bytes());
    let _ = stream.flush();
}

/// [`out_styled`] for stderr, which is judged on its own (a pipe on stdout leaves it coloured).
fn err_styled(choice: ColorChoice, text: &str) {
    let mut stream = anstream::AutoStream::new(std::io::stderr().lock(), choice);
    let _ = stream.write_all(text.as_bytes());
    let _ = stream.flush();
}

/// Writes text that is ours alone to stdout as it is: JSON and CSV documents (exact: JSON
/// escapes control characters itself), help, completion scripts, the version.
fn out(text: &str) {
    let _ = std::io::stdout().write_all(text.as_bytes());
}

/// `1 cluster`, `2 clusters`: a count and its noun, singular or plural (the plural is the noun
/// with an `s`).
#[must_use]
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// The `-g` value of a printed command: the group's name when it can be typed as it is, else
/// its ID (which `-g` takes too), so that a name with spaces, quotes or a line break cannot
/// break the command or the line it is printed on.
#[must_use]
pub fn group_arg<'a>(name: &'a str, id: &'a str) -> &'a str {
    if typable(name, "") { name } else { id }
}

/// Whether `value` can be put in a printed command as it is: not empty, not taken for a flag,
/// and only letters, digits, `.`, `_`, `-` and the characters of `also` (no quoting needed, no
/// way to break the command or its line).
#[must_use]
pub fn typable(value: &str, also: &str) -> bool {
    !value.is_empty()
        && !value.starts_with('-')
        && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') || also.contains(c))
}

/// `--region R -g G` naming one target in a printed command (the group as [`group_arg`] says).
#[must_use]
pub fn target_flags(t: &cluster_api_key_core::ops::Target) -> String {
    format!("--region {} -g {}", t.region, group_arg(&t.resource_group.name, t.resource_group.id.as_str()))
}

/// Whether `c` may not reach a terminal as it is: Unicode's control (Cc: `\r`, `\n`, escape,
/// C1) and format (Cf: bidi overrides and isolates, zero-width characters, soft hyphen, tags)
/// categories, and the line and paragraph separators. Each could forge a line, hide or reorder
/// text, or drive the terminal.
#[must_use]
pub fn hidden_char(c: char) -> bool {
    c.is_control() || is_format(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Unicode's format (Cf) category, as of Unicode 16 (std has no category API; the list is short
/// and grows rarely, by a character or two a version).
fn is_format(c: char) -> bool {
    matches!(
        u32::from(c),
        0xAD | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x890..=0x891
            | 0x8E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

/// Text made safe for a terminal, visibly: every [`hidden_char`] is shown escaped (`\n`, `\r`,
/// `\t`, `\u{202e}`, `\u{1b}`), never dropped, so that the reader sees that it is there and a
/// name cannot pass for another.
#[must_use]
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(hidden_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Server text on one line, as every line of text output shows it ([`visible`]), for the rare
/// place that needs it as a `String` (an error message, a table key).
#[must_use]
pub fn one_line(text: &str) -> String {
    visible(text).into_owned()
}

const fn fg(c: AnsiColor) -> Style {
    Style::new().fg_color(Some(Color::Ansi(c)))
}

/// The styles of the `ibmcloud` terminal (the SDK's `terminal` package): table headers bold,
/// entity names cyan bold, commands yellow bold, `OK` green, `FAILED` red, warnings magenta.
const HEADER: Style = Style::new().bold();
const ENTITY: Style = fg(AnsiColor::Cyan).bold();
const COMMAND: Style = fg(AnsiColor::Yellow).bold();
const SUCCESS: Style = fg(AnsiColor::Green).bold();
const FAILURE: Style = fg(AnsiColor::Red).bold();
const WARNING: Style = fg(AnsiColor::Magenta).bold();

/// A severity's style: critical red, warning yellow, info dim.
#[must_use]
pub const fn severity_style(s: Severity) -> Style {
    match s {
        Severity::Critical => fg(AnsiColor::Red).bold(),
        Severity::Warning => fg(AnsiColor::Yellow),
        Severity::Info => Style::new().dimmed(),
    }
}

/// A severity's word (`critical`, `warning`, `info`), as JSON spells it.
#[must_use]
pub fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// What the text output is made of: spans of text, each with its style, and whether it is one
/// unit that wrapping must not break (a command, an ID). Every line this module writes is a
/// `Text`, and every span is made [`visible`] when it is written, whoever wrote it and wherever
/// its words came from: a `String` is a plain span, so that text built with `format!` from a
/// server's names is safe too, and cannot forge a line. Colour is given to whole spans here,
/// never found afterwards in finished text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text {
    spans: Vec<Span>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Span {
    style: Style,
    text: String,
    /// Kept on one line when wrapping (its spaces do not break).
    whole: bool,
}

impl Text {
    /// An empty text.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn push(mut self, style: Style, text: &str, whole: bool) -> Self {
        if !text.is_empty() {
            self.spans.push(Span { style, text: text.to_owned(), whole });
        }
        self
    }

    /// Words, unstyled.
    #[must_use]
    pub fn plain(self, text: impl AsRef<str>) -> Self {
        self.push(Style::new(), text.as_ref(), false)
    }

    /// A command to run, quoted as the SDK quotes them (`'ibmcloud login'`), in the command
    /// style, never broken across lines (copied whole).
    #[must_use]
    pub fn cmd(self, command: impl AsRef<str>) -> Self {
        self.push(Style::new(), "'", false).push(COMMAND, command.as_ref(), true).push(Style::new(), "'", false)
    }

    /// An entity's name (a cluster, a resource group, a region), cyan bold.
    #[must_use]
    pub fn name(self, text: impl AsRef<str>) -> Self {
        self.push(ENTITY, text.as_ref(), false)
    }

    /// A value a user copies (a key ID, a path), never broken across lines.
    #[must_use]
    pub fn id(self, text: impl AsRef<str>) -> Self {
        self.push(Style::new(), text.as_ref(), true)
    }

    /// `text` in a severity's colour.
    #[must_use]
    pub fn severe(self, severity: Severity, text: impl AsRef<str>) -> Self {
        self.push(severity_style(severity), text.as_ref(), false)
    }

    /// A severity's word in its colour.
    #[must_use]
    pub fn severity(self, severity: Severity) -> Self {
        self.severe(severity, severity_word(severity))
    }

    /// `other` after this.
    #[must_use]
    pub fn then(mut self, other: impl Into<Text>) -> Self {
        self.spans.extend(other.into().spans);
        self
    }

    /// The words as they were given, unstyled and unescaped: for JSON documents, which
    /// escape what they must themselves.
    #[must_use]
    pub fn to_plain(&self) -> String {
        self.spans.iter().map(|s| s.text.as_str()).collect()
    }

    /// The words as they were given, each part marked as a command (`true`) or not, without
    /// the quotes [`Text::cmd`] puts around a command: for formats that mark commands their
    /// own way (Markdown's code spans).
    #[must_use]
    pub fn commands_apart(&self) -> Vec<(bool, &str)> {
        let command = |i: usize| self.spans.get(i).is_some_and(|s: &Span| s.style == COMMAND && s.whole);
        self.spans
            .iter()
            .enumerate()
            .filter(|(i, s)| !(s.text == "'" && ((*i > 0 && command(i - 1)) || command(i + 1))))
            .map(|(i, s)| (command(i), s.text.as_str()))
            .collect()
    }

    /// Each span's text replaced by `f`'s (placeholders of hints).
    #[must_use]
    pub fn map(&self, f: impl Fn(&str) -> String) -> Self {
        Self { spans: self.spans.iter().map(|s| Span { text: f(&s.text), ..s.clone() }).collect() }
    }

    /// The text as shown, unstyled: what its width is measured on.
    fn shown(&self) -> String {
        self.spans.iter().map(|s| visible(&s.text)).collect()
    }

    fn width(&self) -> usize {
        use unicode_width::UnicodeWidthStr as _;
        self.shown().width()
    }

    /// The widest unit that wrapping cannot break (a word, or a whole span).
    fn widest_unit(&self) -> usize {
        self.render(None).split(' ').map(textwrap::core::display_width).max().unwrap_or(0)
    }

    /// The text, styled (the plain spans in `base`, when given; `None`: no style at all),
    /// each span made [`visible`], the spaces of whole spans as [`NBSP`] until wrapped.
    fn render(&self, base: Option<Style>) -> String {
        let mut out = String::new();
        for s in &self.spans {
            let text = visible(&s.text);
            let text = if s.whole { std::borrow::Cow::Owned(text.replace(' ', &NBSP.to_string())) } else { text };
            let style = match base {
                None => Style::new(),
                Some(b) if s.style == Style::new() => b,
                Some(_) => s.style,
            };
            if style == Style::new() {
                out.push_str(&text);
            } else {
                out.push_str(&format!("{style}{text}{style:#}"));
            }
        }
        out
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Self::new().plain(text)
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Self::new().plain(text)
    }
}

impl From<&String> for Text {
    fn from(text: &String) -> Self {
        Self::new().plain(text)
    }
}

impl From<&Text> for Text {
    fn from(text: &Text) -> Self {
        text.clone()
    }
}

/// Output settings for one run.
#[derive(Debug, Clone)]
pub struct Ui {
    /// Colour: `Always` or `Never` when a setting says, else `Auto` (decided for each stream).
    pub color: ColorChoice,
    /// `-q`.
    pub quiet: bool,
    /// `--output json`, `csv` or `sarif`: stdout carries only the document.
    pub json: bool,
    /// `--output csv`.
    pub csv: bool,
    /// `--output sarif`.
    pub sarif: bool,
    /// `--output junit`.
    pub junit: bool,
    /// `--output markdown`.
    pub markdown: bool,
    /// The host's name for hints (`ibmcloud`).
    pub cli: String,
    /// How this tool's commands are spelled (`ibmcloud cluster-api-key` or `cluster-api-key`).
    pub me: String,
    /// The account the run acts on when it is not the targeted one (`--account`): every
    /// command this tool prints carries `--account ID` ([`Ui::cmd`]), so that it runs as
    /// printed against the same account, and every question names it.
    pub account: Option<AccountScope>,
}

/// An account other than the targeted one, as printed commands and plans name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountScope {
    /// Its ID (what `--account` is given in printed commands).
    pub id: String,
    /// Its name ("" when unknown).
    pub name: String,
}

impl AccountScope {
    /// `Name (ID)`, on one line (a name is the server's text), or the ID alone.
    #[must_use]
    pub fn label(&self) -> String {
        if self.name.is_empty() { self.id.clone() } else { format!("{} ({})", one_line(&self.name), self.id) }
    }
}

/// The commands of this tool that take `--account` (every one that reads or changes an account).
const ACCOUNT_COMMANDS: [&str; 6] = ["status", "info", "reset", "prune", "check", "restart-addons"];

/// Whether to colour: `IBMCLOUD_COLOR` (or `BLUEMIX_COLOR`) wins, then `NO_COLOR`, then the
/// config's `ColorEnabled` (the SDK's rules); else `Auto`: `anstream` decides for each stream,
/// as clap does (`CLICOLOR_FORCE`, `NO_COLOR`, `CLICOLOR=0`, `TERM=dumb`, a terminal or not).
#[must_use]
pub fn color_enabled(env: &Env, config_setting: Option<&str>) -> ColorChoice {
    match env.first(&[env::IBMCLOUD_COLOR, env::BLUEMIX_COLOR]).map(str::to_ascii_lowercase).as_deref() {
        Some("true") => return ColorChoice::Always,
        Some("false") => return ColorChoice::Never,
        _ => {}
    }
    if env.get(env::NO_COLOR).is_some() {
        return ColorChoice::Never;
    }
    match config_setting.map(str::to_ascii_lowercase).as_deref() {
        Some("false") => ColorChoice::Never,
        Some("true") => ColorChoice::Always,
        _ => ColorChoice::Auto,
    }
}

impl Ui {
    /// The one `Ui` of a run: colour from the environment until the config is read.
    #[must_use]
    pub fn new(env: &Env) -> Self {
        let under_host = env.first(&[env::IBMCLOUD_PLUGIN_NAMESPACE, env::BLUEMIX_PLUGIN_NAMESPACE]).is_some();
        let cli = env.cli_name();
        let me = if under_host {
            format!("{cli} {}", crate::names::PLUGIN_NAME)
        } else {
            crate::names::PLUGIN_NAME.to_owned()
        };
        Self {
            color: color_enabled(env, None),
            quiet: false,
            json: false,
            csv: false,
            sarif: false,
            junit: false,
            markdown: false,
            cli,
            me,
            account: None,
        }
    }

    /// How this tool's command `sub` is spelled in a printed command: `{me} {sub}`, and
    /// `--account ID` after it when the run acts on an account other than the targeted one.
    #[must_use]
    pub fn cmd(&self, sub: &str) -> String {
        match &self.account {
            Some(a) if ACCOUNT_COMMANDS.contains(&sub) => format!("{} {sub} --account {}", self.me, a.id),
            _ => format!("{} {sub}", self.me),
        }
    }

    /// [`Ui::cmd`] as an account administrator runs it (the sandbox's owner identity).
    #[must_use]
    pub fn admin_cmd(&self, sub: &str) -> String {
        let me = crate::error::admin_path(&self.me);
        match &self.account {
            Some(a) => format!("{me} {sub} --account {}", a.id),
            None => format!("{me} {sub}"),
        }
    }

    /// `ibmcloud target`, with `-c ID` when the run acts on another account than the targeted
    /// one (the host's commands that follow act on the targeted account).
    #[must_use]
    pub fn target_cmd(&self) -> String {
        match &self.account {
            Some(a) => format!("{} target -c {}", self.cli, a.id),
            None => format!("{} target", self.cli),
        }
    }

    /// A host command that acts on the targeted account (`ibmcloud iam ...`, `ibmcloud ks ...`),
    /// with the account targeted first when the run acts on another one.
    #[must_use]
    pub fn in_account(&self, host_command: String) -> String {
        match &self.account {
            Some(_) => format!("{} && {host_command}", self.target_cmd()),
            None => host_command,
        }
    }

    /// This `Ui` for a run on `account` (`None`: the targeted one).
    #[must_use]
    pub fn for_account(&self, account: Option<AccountScope>) -> Self {
        Self { account, ..self.clone() }
    }

    /// `text` (a hint written with `{me} reset ...`, already expanded) with `--account ID`
    /// after each of this tool's commands, when the run acts on another account.
    #[must_use]
    pub fn scoped(&self, text: &str) -> String {
        let Some(a) = &self.account else { return text.to_owned() };
        let mut out = text.to_owned();
        let admin = crate::error::admin_path(&self.me);
        let prefixes = if admin == self.me { vec![self.me.clone()] } else { vec![self.me.clone(), admin] };
        for (me, sub) in prefixes.iter().flat_map(|me| ACCOUNT_COMMANDS.iter().map(move |sub| (me, sub))) {
            let plain = format!("{me} {sub}");
            let mut at = 0;
            while let Some(i) = out[at..].find(&plain).map(|i| i + at) {
                let end = i + plain.len();
                // Only the command word itself (`status`, not `statuses`), and only once.
                let next = out[end..].chars().next();
                if next.is_none_or(|c| c == ' ' || c == '\'' || c == '.' || c == ')')
                    && !out[end..].starts_with(" --account ")
                {
                    let flag = format!(" --account {}", a.id);
                    out.insert_str(end, &flag);
                    at = end + flag.len();
                } else {
                    at = end;
                }
            }
        }
        out
    }

    /// Writes `text` as one line (wrapped to the terminal) on `stream`, its plain spans in
    /// `base`. The one way text lines reach a stream: each span is made [`visible`] here.
    fn line(&self, stream: Stream, base: Style, text: &Text) {
        let shown = format!("{}\n", wrap(&text.render(Some(base)), stream).replace(NBSP, " "));
        match stream {
            Stream::Out => out_styled(self.color, &shown),
            Stream::Err => err_styled(self.color, &shown),
        }
    }

    /// A line on stdout (text mode only).
    pub fn say(&self, text: impl Into<Text>) {
        if !self.json {
            self.line(Stream::Out, Style::new(), &text.into());
        }
    }

    /// A line of the plan or a note on stderr, whatever the mode (in JSON mode the plan goes
    /// there before a question, as stdout carries only the document).
    pub fn note(&self, text: impl Into<Text>) {
        self.line(Stream::Err, Style::new(), &text.into());
    }

    /// A progress line on stdout, hidden by `-q` and in JSON mode.
    pub fn progress(&self, text: impl Into<Text>) {
        if !self.quiet && !self.json {
            self.line(Stream::Out, Style::new(), &text.into());
        }
    }

    /// `OK`, hidden by `-q` and in JSON mode.
    pub fn ok(&self) {
        if !self.quiet && !self.json {
            self.line(Stream::Out, Style::new(), &Text::new().push(SUCCESS, "OK", false));
        }
    }

    /// A warning on stderr (magenta bold), hidden by `-q`.
    pub fn warn(&self, text: impl Into<Text>) {
        if !self.quiet {
            self.line(Stream::Err, WARNING, &text.into());
        }
    }

    /// A progress bar (with `len`) or a spinner (without) on stderr, drawn with the first of
    /// `templates` (indicatif's, widest first) that fits the terminal; hidden with `-q`, in JSON
    /// or CSV mode, and off a terminal. No line it draws is wider than the terminal (see
    /// [`FittedTerm`]).
    #[must_use]
    pub fn progress_bar(&self, len: Option<u64>, templates: &[&str]) -> indicatif::ProgressBar {
        let width = bar_width_of_terminal();
        let bar = match width {
            Some(width) if !self.quiet && !self.json && std::io::stderr().is_terminal() => {
                let term = FittedTerm::new(u16::try_from(width).unwrap_or(u16::MAX));
                indicatif::ProgressBar::with_draw_target(len, indicatif::ProgressDrawTarget::term_like(Box::new(term)))
            }
            _ => indicatif::ProgressBar::hidden(),
        };
        let fits = |t: &&&str| width.is_none_or(|w| template_width(t) <= w);
        let template = templates.iter().find(fits).or(templates.last());
        if let Some(style) = template.and_then(|t| indicatif::ProgressStyle::with_template(t).ok()) {
            bar.set_style(style);
        }
        bar
    }

    /// A warning that `-q` does not hide (something the user must know, not chatter).
    pub fn alert(&self, text: impl Into<Text>) {
        self.line(Stream::Err, WARNING, &text.into());
    }

    /// A part of the one JSON document of JSON mode, written as it is made
    /// ([`crate::commands::Listing`]).
    #[allow(clippy::unused_self, reason = "all output goes through the Ui")]
    pub fn json_part(&self, text: &str) {
        out(text);
    }

    /// The one JSON document of JSON mode.
    #[allow(clippy::unused_self, reason = "all output goes through the Ui")]
    pub fn json_doc(&self, value: &serde_json::Value) {
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| String::from("null"));
        out(&format!("{text}\n"));
    }

    /// `FAILED`, the message, hints and incident ID, on stderr. `-q` hides none of it: it
    /// removes only progress and `OK` (README, Commands). Nothing of it may hold a secret: each
    /// part is redacted.
    pub fn failed(&self, e: &CommandError) {
        let redact = cluster_api_key_core::redact::redact;
        self.line(Stream::Err, Style::new(), &Text::new().push(FAILURE, "FAILED", false));
        self.line(Stream::Err, Style::new(), &Text::from(redact(&e.to_string())));
        for h in &e.hints(&self.cli, &self.me) {
            self.line(Stream::Err, Style::new(), &Text::new());
            self.line(Stream::Err, Style::new(), &h.map(|s| redact(&self.scoped(s))));
        }
        if let Some(id) = e.incident_id() {
            self.line(Stream::Err, Style::new(), &Text::new());
            self.line(Stream::Err, Style::new(), &Text::new().plain("Incident ID: ").id(id));
        }
        self.line(Stream::Err, Style::new(), &Text::new());
    }

    /// An incorrect usage: `FAILED` in red, the message, then the command's help.
    pub fn usage_failed(&self, e: &CommandError, help: &str) {
        self.line(Stream::Err, Style::new(), &Text::new().push(FAILURE, "FAILED", false));
        self.line(Stream::Err, Style::new(), &Text::from(e.to_string()));
        self.line(Stream::Err, Style::new(), &Text::new());
        err_styled(self.color, &wrap(help, Stream::Err));
    }

    /// A borderless table on stdout (text mode only): header bold, first column cyan bold, ≥3
    /// spaces between columns, trailing spaces trimmed.
    pub fn table<T: Clone + Into<Text>>(&self, headers: &[&str], rows: &[Vec<T>]) {
        self.table_to(Stream::Out, 0, headers, rows);
    }

    /// A table on `stream` (stdout only in text mode; stderr whatever the mode, as a plan before
    /// a question), each line indented by `indent`. The terminal never wraps a table, and no
    /// row is broken across columns: when a table is wider than the terminal, its last column
    /// (findings, details, pods: the free text) is filled within its own column, broken only
    /// at spaces; when the other columns leave it too little room, or a word of it (an ID, a
    /// pod name) does not fit, each row is shown as a record instead (one `Header: value` line
    /// per column, a value that does not fit beside its header on the lines under it).
    pub fn table_to<T: Clone + Into<Text>>(&self, stream: Stream, indent: usize, headers: &[&str], rows: &[Vec<T>]) {
        if stream == Stream::Out && self.json {
            return;
        }
        let rows: Vec<Vec<Text>> = rows.iter().map(|r| r.iter().cloned().map(Into::into).collect()).collect();
        let pad = " ".repeat(indent);
        let lines = match terminal_width(stream) {
            Some(width) => match fitted_lines(headers, &rows, width.saturating_sub(indent)) {
                Some(lines) => lines,
                None => records(width.saturating_sub(indent), headers, &rows),
            },
            None => table_lines(headers, &rows),
        };
        let text = lines.iter().fold(String::new(), |mut text, l| {
            if !l.is_empty() {
                text.push_str(&pad);
            }
            text.push_str(&l.replace(NBSP, " "));
            text.push('\n');
            text
        });
        match stream {
            Stream::Out => out_styled(self.color, &text),
            Stream::Err => err_styled(self.color, &text),
        }
    }

    /// Asks a yes/no question on the terminal; `[y/N]`, default no. Refuses to ask when stdin
    /// is not a terminal, so scripts never hang: they must pass `-f`. A question is only ever
    /// asked before a change: Ctrl-C (or SIGTERM) while it waits says that nothing was changed
    /// and ends the run with 130, as a shell expects of an interrupted command.
    ///
    /// # Errors
    /// When stdin is not a terminal, or cannot be read.
    pub async fn confirm(&self, question: impl Into<Text>) -> Result<bool, CommandError> {
        if !std::io::stdin().is_terminal() {
            return Err(CommandError::failed(
                "Confirmation is required, but no terminal is attached to read the answer.",
            )
            .with_hint("Run the command again with -f to confirm without a prompt."));
        }
        // Listening starts before the question is shown: a Ctrl-C at once is caught too.
        let mut interrupt = crate::signals::AtPrompt::new();
        // A change to another account than the targeted one says which, in the question itself.
        let question = match &self.account {
            Some(a) => Text::from(format!("In the account {}: ", a.label())).then(&question.into()),
            None => question.into(),
        };
        let question = question.plain(" [y/N]").name(">");
        // In JSON mode stdout carries only the document, so the prompt goes to stderr.
        let stream = if self.json { Stream::Err } else { Stream::Out };
        let write = |text: &str| match stream {
            Stream::Out => out_styled(self.color, text),
            Stream::Err => err_styled(self.color, text),
        };
        loop {
            write(&format!("{} ", wrap(&question.render(Some(Style::new())), stream).replace(NBSP, " ")));
            let answer = tokio::select! {
                answer = read_answer() => answer,
                () = interrupt.wait() => {
                    err_styled(self.color, "\n");
                    self.line(Stream::Err, WARNING, &Text::from("Interrupted at the question: nothing was changed."));
                    std::process::exit(130);
                }
            };
            let line = match answer {
                // Ctrl-D: the same as an empty answer, on a fresh line.
                Ok(None) => {
                    write("\n");
                    return Ok(false);
                }
                Ok(Some(line)) => line,
                Err(e) => return Err(CommandError::failed(format!("Could not read from input: {e}"))),
            };
            match line.trim().to_ascii_lowercase().as_str() {
                "y" | "yes" => return Ok(true),
                "n" | "no" | "" => return Ok(false),
                _ => self.line(stream, Style::new(), &Text::from("Enter 'y', 'n', 'yes' or 'no'.")),
            }
        }
    }
}

/// One line of the terminal, read on a thread of its own so that the run can still see a
/// Ctrl-C while it waits (`None`: end of input). The thread is left behind if the run ends
/// first; it ends with the process.
async fn read_answer() -> std::io::Result<Option<String>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = std::io::stdin().lock().read_line(&mut line).map(|n| (n > 0).then_some(line));
        let _ = tx.send(read);
    });
    rx.await.unwrap_or_else(|_| Err(std::io::Error::other("the terminal reader stopped")))
}

/// The least width a progress template's line takes: its words, and each placeholder at
/// the width it usually has (a wide bar at least 10).
fn template_width(template: &str) -> usize {
    let mut width = 0;
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        width += textwrap::core::display_width(&rest[..open]);
        let Some(close) = rest[open..].find('}').map(|c| open + c) else { break };
        let key = rest[open + 1..close].split(':').next().unwrap_or_default();
        width += match key {
            "spinner" => 1,
            "pos" | "len" | "eta" | "elapsed" => 4,
            "wide_bar" | "bar" => 10,
            "wide_msg" | "msg" => 12,
            // `per_sec` (`12.3/s`) and anything else.
            _ => 8,
        };
        rest = &rest[close + 1..];
    }
    width + textwrap::core::display_width(rest)
}

/// Stderr for indicatif, at the width the rest of the output is wrapped to (`COLUMNS`, else the
/// terminal's), and never writing past it: a line longer than that (a long message) is cut,
/// with `…`, so the terminal never wraps it and the redraw never leaves a line behind.
#[derive(Debug)]
struct FittedTerm {
    width: u16,
    /// The columns written on the current line (indicatif writes a line in several parts).
    column: std::sync::atomic::AtomicUsize,
}

impl FittedTerm {
    fn new(width: u16) -> Self {
        Self { width, column: std::sync::atomic::AtomicUsize::new(0) }
    }

    fn write(text: &str) -> std::io::Result<()> {
        let mut err = std::io::stderr().lock();
        err.write_all(text.as_bytes())?;
        err.flush()
    }

    fn at_line_start(&self) {
        self.column.store(0, std::sync::atomic::Ordering::SeqCst);
    }

    /// `text` cut to the room left on the line (with `…` when cut), the column moved on.
    fn cut(&self, text: &str) -> String {
        use std::sync::atomic::Ordering;
        let room = usize::from(self.width).saturating_sub(self.column.load(Ordering::SeqCst));
        let width = textwrap::core::display_width(text);
        if width <= room {
            self.column.fetch_add(width, Ordering::SeqCst);
            return text.to_owned();
        }
        let mut out = String::new();
        let mut used = 0;
        for c in text.chars() {
            let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
            if used + w + 1 > room {
                break;
            }
            used += w;
            out.push(c);
        }
        if room > 0 {
            out.push('…');
        }
        self.column.store(usize::from(self.width), Ordering::SeqCst);
        out
    }
}

impl indicatif::TermLike for FittedTerm {
    fn width(&self) -> u16 {
        self.width
    }

    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.at_line_start();
        if n == 0 { Ok(()) } else { Self::write(&format!("\x1b[{n}A")) }
    }

    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.at_line_start();
        if n == 0 { Ok(()) } else { Self::write(&format!("\x1b[{n}B")) }
    }

    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        if n == 0 { Ok(()) } else { Self::write(&format!("\x1b[{n}C")) }
    }

    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        if n == 0 { Ok(()) } else { Self::write(&format!("\x1b[{n}D")) }
    }

    fn write_line(&self, s: &str) -> std::io::Result<()> {
        let line = self.cut(&visible(s));
        self.at_line_start();
        Self::write(&format!("{line}\n"))
    }

    fn write_str(&self, s: &str) -> std::io::Result<()> {
        Self::write(&self.cut(&visible(s)))
    }

    fn clear_line(&self) -> std::io::Result<()> {
        self.at_line_start();
        Self::write("\r\x1b[2K")
    }

    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// The lines of a table within `room` columns, the last column filled within its own column;
/// `None` when the other columns leave it fewer than [`LAST_COLUMN_MIN`], or a word of it
/// would not fit its column (it would be broken, or stick out).
fn fitted_lines(headers: &[&str], rows: &[Vec<Text>], room: usize) -> Option<Vec<String>> {
    let (widths, cells) = columns(headers, rows);
    let whole = widths.iter().sum::<usize>() + 3 * widths.len().saturating_sub(1);
    if whole <= room {
        return Some(render_table(&widths, &cells, None));
    }
    let before = whole - widths.last().copied().unwrap_or(0);
    let last = room.checked_sub(before).filter(|l| *l >= LAST_COLUMN_MIN)?;
    let widest = cells.iter().filter_map(|r| r.last()).map(Text::widest_unit).max().unwrap_or(0);
    if widest > last {
        return None;
    }
    Some(render_table(&widths, &cells, Some((before, last))))
}

/// The lines of a table too wide for the terminal: one record of `Header:   value` lines per
/// row, a blank line between records. A value too long for the room beside its header is
/// filled beside it when each of its words fits there, else on the lines under the header
/// (indented two), so that an ID or a command is never broken.
fn records(room: usize, headers: &[&str], rows: &[Vec<Text>]) -> Vec<String> {
    let label = headers.iter().map(|h| textwrap::core::display_width(h)).max().unwrap_or(0) + 1;
    let column = label + 3;
    let mut lines = Vec::new();
    for (n, r) in rows.iter().enumerate() {
        if n > 0 {
            lines.push(String::new());
        }
        for (i, (h, c)) in headers.iter().zip(r).enumerate() {
            let value = c.render(Some(if i == 0 { ENTITY } else { Style::new() }));
            let name = format!("{h}:");
            let head = format!(
                "{}{}",
                Text::new().push(HEADER, &name, false).render(Some(Style::new())),
                " ".repeat(column - name.len())
            );
            let text = if column + c.width() <= room {
                format!("{head}{value}")
            } else if column + c.widest_unit() <= room {
                fill(&value, room, &head, column)
            } else {
                let under = fill(&value, room, "  ", 2);
                format!("{}\n{under}", head.trim_end())
            };
            lines.extend(text.split('\n').map(|l| l.trim_end().to_owned()));
        }
    }
    lines
}

/// The lines of a table, whole. Columns are aligned by display width, so that wide
/// characters (`山田太郎`) and combining accents line up.
#[must_use]
pub fn table_lines(headers: &[&str], rows: &[Vec<Text>]) -> Vec<String> {
    let (widths, cells) = columns(headers, rows);
    render_table(&widths, &cells, None)
}

/// The table's lines (header bold, first column cyan bold); with `fill = (start, room)`, the
/// last cell of a row is filled to `room` columns at its spaces, continuing at column `start`.
fn render_table(widths: &[usize], cells: &[Vec<Text>], fill: Option<(usize, usize)>) -> Vec<String> {
    let mut out = Vec::new();
    for (row, r) in cells.iter().enumerate() {
        let mut s = String::new();
        let mut continuation = Vec::new();
        for (i, cell) in r.iter().enumerate() {
            let base = match (row, i) {
                (0, _) => HEADER,
                (_, 0) => ENTITY,
                _ => Style::new(),
            };
            let text = cell.render(Some(base));
            if i + 1 < r.len() {
                s.push_str(&text);
                s.push_str(&" ".repeat(widths[i].saturating_sub(cell.width()) + 3));
                continue;
            }
            let parts: Vec<String> = match fill {
                Some((_, room)) if cell.width() > room => {
                    let opts = textwrap::Options::new(room)
                        .break_words(false)
                        .word_splitter(textwrap::WordSplitter::NoHyphenation);
                    textwrap::wrap(&text, opts).into_iter().map(std::borrow::Cow::into_owned).collect()
                }
                _ => vec![text],
            };
            let mut parts = parts.into_iter();
            s.push_str(&parts.next().unwrap_or_default());
            continuation.extend(parts);
        }
        out.push(s.trim_end().to_owned());
        let start = fill.map_or(0, |(start, _)| start);
        out.extend(continuation.iter().map(|c| format!("{}{}", " ".repeat(start), c.trim_end())));
    }
    out
}

/// The least room a table's last column is filled into before rows become records.
const LAST_COLUMN_MIN: usize = 16;

/// Where a piece of output goes; each stream is wrapped to its own terminal's width.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stream {
    Out,
    Err,
}

/// The width of the terminal `stream` writes to (`COLUMNS` wins, as in most tools; tests set
/// it); `None` off a terminal, where whole lines are kept for pipes and files.
fn terminal_width(stream: Stream) -> Option<usize> {
    if let Some(c) = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok()).filter(|c| *c >= 20) {
        return Some(c);
    }
    let size = match stream {
        Stream::Out if std::io::stdout().is_terminal() => terminal_size::terminal_size_of(std::io::stdout()),
        Stream::Err if std::io::stderr().is_terminal() => terminal_size::terminal_size_of(std::io::stderr()),
        _ => None,
    };
    size.map(|(w, _)| usize::from(w.0)).filter(|w| *w >= 20)
}

/// A no-break space stands in for the spaces of a `[--flag VALUE]` usage part while wrapping,
/// so that a flag and its value stay on one line.
const NBSP: char = '\u{a0}';

/// Wraps text to the width of `stream`'s terminal. Each line keeps its indentation; the
/// continuation lines of an unindented line, a `- ` item or a usage line (`[--flag]` parts)
/// are indented two more, those of an
/// indented paragraph stay at its indentation; a two-column line (help's options and commands:
/// a name, three spaces or more, a description) continues under its description, or, when
/// the name column takes more than half the width, puts the description under the name.
/// Names, emails, IDs and commands are never broken inside: only at spaces. Off a terminal,
/// text is left alone.
pub fn wrap(text: &str, stream: Stream) -> String {
    match terminal_width(stream) {
        Some(width) => wrap_to(text, width),
        None => text.to_owned(),
    }
}

fn wrap_to(text: &str, width: usize) -> String {
    text.split('\n').map(|line| wrap_line(line, width)).collect::<Vec<_>>().join("\n")
}

fn wrap_line(line: &str, width: usize) -> String {
    if textwrap::core::display_width(line) <= width {
        return line.to_owned();
    }
    let indent = line.len() - line.trim_start_matches(' ').len();
    let body = &line[indent..];
    // A two-column row: the description starts after the first gap of three spaces or more.
    if let Some(gap) = body.find("   ") {
        let name = &body[..gap];
        let description = body[gap..].trim_start();
        let column = indent + textwrap::core::display_width(name) + (body[gap..].len() - description.len());
        if !description.is_empty() {
            // A word (an ID, an email) that does not fit beside the name goes under it whole.
            let widest = description.split(' ').map(textwrap::core::display_width).max().unwrap_or(0);
            if column <= width / 2 && column + widest <= width {
                let first = format!("{}{}", &line[..indent + gap], &body[gap..body.len() - description.len()]);
                return fill(description, width, &first, column);
            }
            let under = fill(description, width, &" ".repeat(indent + 4), indent + 4);
            return format!("{}{name}\n{under}", " ".repeat(indent));
        }
    }
    // A paragraph continues at its own indentation; a list item, a usage line or a note
    // continues under its first word's text.
    let item = body.starts_with("- ") || body.starts_with("* ") || body.contains(" [-");
    let hang = if item || indent == 0 { indent + 2 } else { indent };
    fill(body, width, &" ".repeat(indent), hang)
}

/// `text` filled to `width`: the first line starts with `first` (its width counted), the
/// others with `hang` spaces. `[...]` parts are kept whole.
fn fill(text: &str, width: usize, first: &str, hang: usize) -> String {
    // A `[...]` part that fits the room of a continuation line is kept whole.
    let room = width.saturating_sub(hang);
    let mut joined = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']').map(|c| open + c + 1) else { break };
        joined.push_str(&rest[..open]);
        let part = &rest[open..close];
        if textwrap::core::display_width(part) <= room {
            joined.push_str(&part.replace(' ', &NBSP.to_string()));
        } else {
            joined.push_str(part);
        }
        rest = &rest[close..];
    }
    joined.push_str(rest);
    let rest = " ".repeat(hang);
    let opts = textwrap::Options::new(width)
        .initial_indent(first)
        .subsequent_indent(&rest)
        .break_words(false)
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    textwrap::fill(&joined, opts).replace(NBSP, " ")
}

/// Column widths and the cells (the header row first), sized as shown ([`visible`]).
fn columns(headers: &[&str], rows: &[Vec<Text>]) -> (Vec<usize>, Vec<Vec<Text>>) {
    let cols = headers.len();
    let mut cells = vec![headers.iter().map(|h| Text::from(*h)).collect::<Vec<_>>()];
    cells.extend(rows.iter().map(|r| r.iter().take(cols).cloned().collect()));
    let mut widths = vec![0usize; cols];
    for r in &cells {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.width());
        }
    }
    (widths, cells)
}

/// Orders names as people expect: `node-2` before `node-10`.
#[must_use]
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (x.peek().copied(), y.peek().copied()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let mut n = String::new();
                while let Some(c) = x.next_if(char::is_ascii_digit) {
                    n.push(c);
                }
                let mut m = String::new();
                while let Some(d) = y.next_if(char::is_ascii_digit) {
                    m.push(d);
                }
                let (n, m) = (n.trim_start_matches('0'), m.trim_start_matches('0'));
                let o = n.len().cmp(&m.len()).then_with(|| n.cmp(m));
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
            }
            (Some(c), Some(d)) => {
                let o = c.to_lowercase().cmp(d.to_lowercase());
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
                x.next();
                y.next();
            }
        }
    }
}

/// Writes a document to stdout (metadata, a CSV document, completion scripts, the version):
/// its line breaks and tabs as they are, every other [`hidden_char`] made [`visible`] (a CSV
/// cell holds names that other people chose).
pub fn print_text(text: &str) {
    let mut safe = String::with_capacity(text.len());
    for part in text.split_inclusive(['\n', '\r', '\t']) {
        let (body, end) = match part.char_indices().last() {
            Some((i, '\n' | '\r' | '\t')) => (&part[..i], &part[i..]),
            _ => (part, ""),
        };
        safe.push_str(&visible(body));
        safe.push_str(end);
    }
    out(&safe);
}

/// Writes help to stdout, wrapped to the terminal's width.
pub fn print_help(text: &str) {
    out(&wrap(text, Stream::Out));
}

/// Writes our own lines to stderr (`\n` ends a line), wrapped to the terminal's width.
pub fn eprint_text(text: &str) {
    let safe: Vec<String> = text.split('\n').map(|l| visible(l).into_owned()).collect();
    let _ = std::io::stderr().write_all(wrap(&safe.join("\n"), Stream::Err).as_bytes());
}

/// Columns kept free at the end of the progress bar's line. indicatif pads its line to the width
/// it is given, leaving the cursor after the last column; the `^C` a terminal echoes for Ctrl-C
/// then wrapped onto a line of its own, and clearing the bar cleared only that one, leaving the
/// spinner's line on screen. With the margin, the echo stays on the bar's line and goes with it.
pub const BAR_MARGIN: usize = 3;

/// The width the progress bar's text may take on a terminal: the terminal's (the narrower of
/// `COLUMNS` and the real one), less [`BAR_MARGIN`]; `None` off a terminal.
#[must_use]
pub fn bar_width_of_terminal() -> Option<usize> {
    let real = terminal_size::terminal_size_of(std::io::stderr()).map(|(w, _)| usize::from(w.0)).filter(|w| *w > 0);
    let told = terminal_width(Stream::Err);
    let width = match (real, told) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }?;
    Some(width.saturating_sub(BAR_MARGIN).max(10))
}

/// [`bar_width_of_terminal`], 80 columns less the margin where there is none.
#[must_use]
pub fn bar_width() -> usize {
    bar_width_of_terminal().unwrap_or(80 - BAR_MARGIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_on_another_account_carry_it() {
        let mut ui = Ui::new(&Env::default());
        ui.me = String::from("cluster-api-key --sandbox");
        assert_eq!(ui.cmd("reset"), "cluster-api-key --sandbox reset");
        assert_eq!(ui.scoped("run 'cluster-api-key --sandbox prune'."), "run 'cluster-api-key --sandbox prune'.");
        ui.account = Some(AccountScope { id: String::from("b7c8"), name: String::from("Staging\u{202e}") });
        assert_eq!(ui.cmd("reset"), "cluster-api-key --sandbox reset --account b7c8");
        assert_eq!(ui.admin_cmd("check"), "cluster-api-key --sandbox=owner check --account b7c8");
        assert_eq!(ui.target_cmd(), "ibmcloud target -c b7c8");
        assert_eq!(ui.in_account(String::from("ibmcloud ks x")), "ibmcloud target -c b7c8 && ibmcloud ks x");
        // Hints: after each command word, once; not inside another word; an account already
        // named is left alone.
        assert_eq!(
            ui.scoped("'cluster-api-key --sandbox status' or cluster-api-key --sandbox=owner check --grant; cluster-api-key --sandbox statusx"),
            "'cluster-api-key --sandbox status --account b7c8' or cluster-api-key --sandbox=owner check --account b7c8 --grant; cluster-api-key --sandbox statusx"
        );
        assert_eq!(
            ui.scoped("cluster-api-key --sandbox reset --account b7c8"),
            "cluster-api-key --sandbox reset --account b7c8"
        );
        // The name in a question is on one line, visibly.
        assert!(!ui.account.as_ref().unwrap().label().contains('\u{202e}'));
    }

    fn unstyled(lines: &[String]) -> Vec<String> {
        lines.iter().map(|l| anstream::adapter::strip_str(l).to_string()).collect()
    }

    #[test]
    fn names_sort_naturally_and_tables_align_by_display_width() {
        let mut v = vec!["node-10", "node-2", "Node-1", "a"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["a", "Node-1", "node-2", "node-10"]);
        let lines = table_lines(
            &["Name", "Email"],
            &[vec!["山田太郎".into(), "t@x".into()], vec!["José".into(), "j@x".into()]],
        );
        assert_eq!(unstyled(&lines), ["Name       Email", "山田太郎   t@x", "José       j@x"]);
    }

    #[test]
    fn server_text_cannot_drive_the_terminal_and_shows_what_it_hid() {
        let evil = "Mallory\x1b]0;TITLE\x07\r\nOK\u{202e}\u{2066}x\u{2069}\u{200b}\u{9b}";
        let shown = Text::from(evil).render(Some(Style::new()));
        assert_eq!(shown, r"Mallory\u{1b}]0;TITLE\u{7}\r\nOK\u{202e}\u{2066}x\u{2069}\u{200b}\u{9b}");
        // Styles are given to whole spans: a span's text cannot open or close one.
        let styled = Text::new().plain("Run ").cmd("x reset").plain(", the policy file's key.");
        assert_eq!(
            anstream::adapter::strip_str(&styled.render(Some(Style::new()))).to_string(),
            "Run 'x\u{a0}reset', the policy file's key."
        );
        assert_eq!(styled.to_plain(), "Run 'x reset', the policy file's key.");
        assert_eq!(visible("plain text"), "plain text");
    }
}
