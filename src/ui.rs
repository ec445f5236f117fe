//! The only module that prints or prompts, following the `ibmcloud` terminal conventions:
//! progress lines ending in `...` and `OK` on stdout (both hidden by `-q`), `FAILED` and the
//! error on stderr, borderless tables with ≥3 spaces between columns, `[y/N]` prompts, colour
//! only when the settings and the terminal allow it. In JSON mode stdout carries exactly one
//! JSON document and nothing else.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use cluster_api_key_core::env::{self, Env};

use crate::error::CommandError;

/// Writes to stdout, ignoring errors: a closed pipe (`| head`) must not turn into a panic, and
/// there is nowhere left to report it anyway.
fn out(text: &str) {
    let _ = std::io::stdout().write_all(terminal_safe(text).as_bytes());
}

/// The styles this module paints with: the only escape sequences that may reach a terminal.
const PALETTE: [&str; 7] = [BOLD, RED_BOLD, GREEN_BOLD, YELLOW_BOLD, MAGENTA_BOLD, CYAN_BOLD, RESET];

/// Text made safe for a terminal. Owner names, emails, cluster names and IBM's error texts come
/// from servers and other users: an OSC title change or a screen clear hidden in a display name
/// reached the terminal once. Every escape sequence except this module's own colour
/// codes is removed, and so is every other control character but newline and tab. Our colour
/// codes are kept even if a server sent them: they can only colour text, in our palette.
#[must_use]
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\x1b' {
            if let Some(code) = PALETTE.iter().find(|p| rest.starts_with(**p)) {
                out.push_str(code);
                rest = &rest[code.len()..];
                continue;
            }
            rest = skip_escape(rest);
            continue;
        }
        if !unsafe_char(c) {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    std::borrow::Cow::Owned(out)
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

/// Server text made to stay on its line: escape sequences and every control character
/// removed ([`terminal_safe`]), and line breaks and tabs, which could forge a line of a table or
/// of a report, shown as `\u{fffd}`.
#[must_use]
pub fn one_line(text: &str) -> String {
    // `terminal_safe` leaves only newline, tab and this module's own colour codes.
    terminal_safe(text).chars().map(|c| if matches!(c, '\n' | '\t' | '\r') { '\u{fffd}' } else { c }).collect()
}

/// Skips one escape sequence at the start of `s` (which starts with ESC): CSI up to its final
/// byte, OSC/DCS/APC/PM/SOS up to BEL or ST, anything else up to its final character.
fn skip_escape(s: &str) -> &str {
    let body = &s[1..];
    let mut chars = body.char_indices();
    match chars.next() {
        Some((_, '[')) => {
            for (i, c) in chars {
                if ('\u{40}'..='\u{7e}').contains(&c) {
                    return &body[i + c.len_utf8()..];
                }
            }
            ""
        }
        Some((_, ']' | 'P' | '_' | '^' | 'X')) => {
            let mut prev_esc = false;
            for (i, c) in chars {
                if c == '\x07' || (prev_esc && c == '\\') {
                    return &body[i + c.len_utf8()..];
                }
                prev_esc = c == '\x1b';
            }
            ""
        }
        // Other sequences: intermediate bytes (0x20-0x2f, as in `ESC ( B`), then one final.
        Some((i, c)) => {
            let mut end = i + c.len_utf8();
            if (' '..='/').contains(&c) {
                for (j, d) in chars {
                    end = j + d.len_utf8();
                    if !(' '..='/').contains(&d) {
                        break;
                    }
                }
            }
            &body[end..]
        }
        None => "",
    }
}

const BOLD: &str = "\x1b[1m";
const RED_BOLD: &str = "\x1b[31;1m";
const GREEN_BOLD: &str = "\x1b[32;1m";
const YELLOW_BOLD: &str = "\x1b[33;1m";
const MAGENTA_BOLD: &str = "\x1b[35;1m";
const CYAN_BOLD: &str = "\x1b[36;1m";
const RESET: &str = "\x1b[0m";

/// Output settings for one run.
#[derive(Debug, Clone)]
pub struct Ui {
    /// Colour on.
    pub color: bool,
    /// `-q`.
    pub quiet: bool,
    /// `--output json` or `csv`: stdout carries only the document.
    pub json: bool,
    /// `--output csv`.
    pub csv: bool,
    /// The host's name for hints (`ibmcloud`).
    pub cli: String,
    /// How this tool's commands are spelled (`ibmcloud cluster-api-key` or `cluster-api-key`).
    pub me: String,
}

/// Whether to colour: `IBMCLOUD_COLOR` (or `BLUEMIX_COLOR`) wins, then `NO_COLOR`, then the
/// config's `ColorEnabled`, then whether stdout is a terminal (the SDK's rule plus `NO_COLOR`).
#[must_use]
pub fn color_enabled(env: &Env, config_setting: Option<&str>) -> bool {
    match env.first(&[env::IBMCLOUD_COLOR, env::BLUEMIX_COLOR]).map(str::to_ascii_lowercase).as_deref() {
        Some("true") => return true,
        Some("false") => return false,
        _ => {}
    }
    if env.get(env::NO_COLOR).is_some() {
        return false;
    }
    match config_setting.map(str::to_ascii_lowercase).as_deref() {
        Some("false") => false,
        Some("true") => true,
        _ => std::io::stdout().is_terminal(),
    }
}

impl Ui {
    /// The one `Ui` of a run: colour from the environment until the config is read.
    #[must_use]
    pub fn new(env: &Env) -> Self {
        let under_host = env.first(&[env::IBMCLOUD_PLUGIN_NAMESPACE, env::BLUEMIX_PLUGIN_NAMESPACE]).is_some();
        let cli = env.cli_name();
        let me = if under_host {
            format!("{cli} {}", crate::metadata::PLUGIN_NAME)
        } else {
            crate::metadata::PLUGIN_NAME.to_owned()
        };
        Self { color: color_enabled(env, None), quiet: false, json: false, csv: false, cli, me }
    }

    fn paint(&self, style: &str, text: &str) -> String {
        if self.color && !text.is_empty() { format!("{style}{text}{RESET}") } else { text.to_owned() }
    }

    /// Highlights a `'ibmcloud ...'` command as the SDK does (yellow bold).
    #[must_use]
    pub fn command(&self, text: &str) -> String {
        self.paint(YELLOW_BOLD, text)
    }

    /// An entity name (cyan bold), on one line: names come from servers and other users.
    #[must_use]
    pub fn entity(&self, text: &str) -> String {
        self.paint(CYAN_BOLD, &one_line(text))
    }

    /// A line on stdout (text mode only).
    pub fn say(&self, text: &str) {
        if !self.json {
            out(&format!("{}\n", wrap(text, Stream::Out)));
        }
    }

    /// A line of the plan or a note on stderr, whatever the mode (in JSON mode the plan goes
    /// there before a question, as stdout carries only the document).
    #[allow(clippy::unused_self, reason = "all output goes through the Ui")]
    pub fn note(&self, text: &str) {
        eprint_text(&format!("{text}\n"));
    }

    /// A progress line on stdout, hidden by `-q` and in JSON mode.
    pub fn progress(&self, text: &str) {
        if !self.quiet && !self.json {
            out(&format!("{}\n", wrap(text, Stream::Out)));
        }
    }

    /// `OK`, hidden by `-q` and in JSON mode.
    pub fn ok(&self) {
        if !self.quiet && !self.json {
            out(&format!("{}\n", self.paint(GREEN_BOLD, "OK")));
        }
    }

    /// A warning on stderr (magenta bold), hidden by `-q`.
    pub fn warn(&self, text: &str) {
        if !self.quiet {
            eprint_text(&format!("{}\n", self.paint(MAGENTA_BOLD, text)));
        }
    }

    /// A progress bar (with `len`) or a spinner (without) on stderr, drawn with `template`
    /// (indicatif's); hidden with `-q` and in JSON or CSV mode, and by indicatif itself when
    /// stderr is not a terminal.
    #[must_use]
    pub fn progress_bar(&self, len: Option<u64>, template: &str) -> indicatif::ProgressBar {
        let bar = if self.quiet || self.json || !std::io::stderr().is_terminal() {
            indicatif::ProgressBar::hidden()
        } else {
            indicatif::ProgressBar::with_draw_target(
                len,
                indicatif::ProgressDrawTarget::term_like_with_hz(Box::new(BarTerminal), 20),
            )
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar
    }

    /// A warning that `-q` does not hide (something the user must know, not chatter).
    pub fn alert(&self, text: &str) {
        eprint_text(&format!("{}\n", self.paint(MAGENTA_BOLD, text)));
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
    /// removes only progress and `OK` (README, Commands).
    pub fn failed(&self, e: &CommandError) {
        let mut out = String::new();
        out.push_str(&self.paint(RED_BOLD, "FAILED"));
        out.push('\n');
        out.push_str(&e.to_string());
        out.push('\n');
        for h in &e.hints(&self.cli, &self.me) {
            out.push('\n');
            out.push_str(&self.highlight_commands(h));
            out.push('\n');
        }
        if let Some(id) = e.incident_id() {
            out.push_str(&format!("\nIncident ID: {id}\n"));
        }
        out.push('\n');
        eprint_text(&cluster_api_key_core::trace::redact(&out));
    }

    /// `text` with its quoted commands in the command colour.
    #[must_use]
    pub fn highlight(&self, text: &str) -> String {
        self.highlight_commands(text)
    }

    /// An incorrect usage: `FAILED` in red, the message, then the command's help.
    pub fn usage_failed(&self, e: &CommandError, help: &str) {
        eprint_text(&format!("{}\n{e}\n\n{help}", self.paint(RED_BOLD, "FAILED")));
    }

    fn highlight_commands(&self, text: &str) -> String {
        if !self.color {
            return text.to_owned();
        }
        // Colour every '...' span that starts with a command word.
        let mut out = String::new();
        let mut parts = text.split('\'');
        if let Some(first) = parts.next() {
            out.push_str(first);
        }
        let rest: Vec<&str> = parts.collect();
        for (i, p) in rest.iter().enumerate() {
            if i % 2 == 0 && i + 1 < rest.len() {
                out.push('\'');
                out.push_str(&self.command(p));
                out.push('\'');
            } else {
                out.push_str(p);
            }
        }
        out
    }

    /// A borderless table on stdout (text mode only): header bold, first column cyan bold, ≥3
    /// spaces between columns, trailing spaces trimmed.
    pub fn table(&self, headers: &[&str], rows: &[Vec<String>]) {
        self.table_to(Stream::Out, 0, headers, rows);
    }

    /// A table on `stream` (stdout only in text mode; stderr whatever the mode, as a plan before
    /// a question), each line indented by `indent`. The terminal never wraps a table, and no
    /// row is broken across columns: when a table is wider than the terminal, its last column
    /// (findings, details, pods: the free text) is filled within its own column; when even
    /// the other columns leave it too little room, each row is shown as a record instead (one
    /// `Header: value` line per column, wrapped as text).
    pub fn table_to(&self, stream: Stream, indent: usize, headers: &[&str], rows: &[Vec<String>]) {
        if stream == Stream::Out && self.json {
            return;
        }
        let pad = " ".repeat(indent);
        let lines = match terminal_width(stream) {
            Some(width) => match self.fitted_lines(headers, rows, width.saturating_sub(indent)) {
                Some(lines) => lines,
                None => self.records(width.saturating_sub(indent), headers, rows),
            },
            None => self.table_lines(headers, rows),
        };
        let text = lines.iter().fold(String::new(), |mut text, l| {
            if !l.is_empty() {
                text.push_str(&pad);
            }
            text.push_str(l);
            text.push('\n');
            text
        });
        match stream {
            Stream::Out => out(&text),
            Stream::Err => raw_err(&text),
        }
    }

    /// The lines of a table too wide for the terminal: one record of `Header: value` lines
    /// per row, wrapped to `room`, a blank line between records.
    fn records(&self, room: usize, headers: &[&str], rows: &[Vec<String>]) -> Vec<String> {
        let label = headers.iter().map(|h| textwrap::core::display_width(h)).max().unwrap_or(0) + 1;
        let mut lines = Vec::new();
        for (n, r) in rows.iter().enumerate() {
            if n > 0 {
                lines.push(String::new());
            }
            for (i, (h, c)) in headers.iter().zip(r).enumerate() {
                let value = one_line(c);
                let value = if i == 0 { self.paint(CYAN_BOLD, &value) } else { value };
                let name = format!("{h}:");
                let line = format!("{}{:gap$}   {value}", self.paint(BOLD, &name), "", gap = label - name.len());
                lines.extend(wrap_line(line.trim_end(), room).split('\n').map(str::to_owned));
            }
        }
        lines
    }

    /// The lines of [`Ui::table`] within `room` columns, the last column filled within its
    /// own column; `None` when the other columns leave it fewer than [`LAST_COLUMN_MIN`].
    fn fitted_lines(&self, headers: &[&str], rows: &[Vec<String>], room: usize) -> Option<Vec<String>> {
        let (widths, cells) = columns(headers, rows);
        let whole = widths.iter().sum::<usize>() + 3 * widths.len().saturating_sub(1);
        if whole <= room {
            return Some(self.render(&widths, &cells, None));
        }
        let before = whole - widths.last().copied().unwrap_or(0);
        let last = room.checked_sub(before).filter(|l| *l >= LAST_COLUMN_MIN)?;
        Some(self.render(&widths, &cells, Some((before, last))))
    }

    /// The lines of [`Ui::table`], whole. Columns are aligned by display width, so that wide
    /// characters (`山田太郎`) and combining accents line up.
    #[must_use]
    pub fn table_lines(&self, headers: &[&str], rows: &[Vec<String>]) -> Vec<String> {
        let (widths, cells) = columns(headers, rows);
        self.render(&widths, &cells, None)
    }

    /// The table's lines (header bold, first column cyan bold); with `fill = (start, room)`,
    /// the last cell of a row is filled to `room` columns, continuing at column `start`.
    fn render(&self, widths: &[usize], cells: &[Vec<String>], fill: Option<(usize, usize)>) -> Vec<String> {
        use unicode_width::UnicodeWidthStr as _;
        let mut out = Vec::new();
        for (row, r) in cells.iter().enumerate() {
            let mut s = String::new();
            let mut continuation = Vec::new();
            for (i, text) in r.iter().enumerate() {
                let style = match (row, i) {
                    (0, _) => BOLD,
                    (_, 0) => CYAN_BOLD,
                    _ => "",
                };
                if i + 1 < r.len() {
                    s.push_str(&self.paint(style, text));
                    s.push_str(&" ".repeat(widths[i].saturating_sub(text.width()) + 3));
                    continue;
                }
                let parts: Vec<String> = match fill {
                    Some((_, room)) if text.width() > room => {
                        let opts = textwrap::Options::new(room)
                            .break_words(false)
                            .word_splitter(textwrap::WordSplitter::NoHyphenation);
                        textwrap::wrap(text, opts).into_iter().map(std::borrow::Cow::into_owned).collect()
                    }
                    _ => vec![text.clone()],
                };
                let mut parts = parts.into_iter();
                s.push_str(&self.paint(style, &parts.next().unwrap_or_default()));
                continuation.extend(parts);
            }
            out.push(s.trim_end().to_owned());
            let start = fill.map_or(0, |(start, _)| start);
            out.extend(continuation.iter().map(|c| format!("{}{c}", " ".repeat(start))));
        }
        out
    }

    /// Asks a yes/no question on the terminal; `[y/N]`, default no. Refuses to ask when stdin
    /// is not a terminal, so scripts never hang: they must pass `-f`.
    ///
    /// # Errors
    /// When stdin is not a terminal, or cannot be read.
    pub fn confirm(&self, question: &str) -> Result<bool, CommandError> {
        if !std::io::stdin().is_terminal() {
            return Err(CommandError::failed(
                "Confirmation is required, but no terminal is attached to read the answer.",
            )
            .with_hint("Run the command again with -f to confirm without a prompt."));
        }
        let stdin = std::io::stdin();
        loop {
            // In JSON mode stdout carries only the document, so the prompt goes to stderr.
            let stream = if self.json { Stream::Err } else { Stream::Out };
            let prompt = format!("{} ", wrap(&format!("{question} [y/N]{}", self.paint(CYAN_BOLD, ">")), stream));
            if self.json {
                raw_err(&prompt);
                let _ = std::io::stderr().flush();
            } else {
                out(&prompt);
                let _ = std::io::stdout().flush();
            }
            let mut line = String::new();
            match stdin.lock().read_line(&mut line) {
                // Ctrl-D: the same as an empty answer, on a fresh line.
                Ok(0) => {
                    if self.json {
                        eprint_text("\n");
                    } else {
                        out("\n");
                    }
                    return Ok(false);
                }
                Ok(_) => {}
                Err(e) => return Err(CommandError::failed(format!("Could not read from input: {e}"))),
            }
            match line.trim().to_ascii_lowercase().as_str() {
                "y" | "yes" => return Ok(true),
                "n" | "no" | "" => return Ok(false),
                _ => {
                    let msg = "Enter 'y', 'n', 'yes' or 'no'.";
                    if self.json {
                        eprint_text(&format!("{msg}\n"));
                    } else {
                        out(&format!("{msg}\n"));
                    }
                }
            }
        }
    }
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
            if column <= width / 2 {
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

/// Column widths and the cells (the header row first), each cell on one line: cells come
/// from servers and other users, and are sized as shown.
fn columns(headers: &[&str], rows: &[Vec<String>]) -> (Vec<usize>, Vec<Vec<String>>) {
    use unicode_width::UnicodeWidthStr as _;
    let cols = headers.len();
    let mut cells = vec![headers.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>()];
    cells.extend(rows.iter().map(|r| r.iter().take(cols).map(|c| one_line(c)).collect()));
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

/// Writes text to stdout as it is (metadata, completion scripts, the version).
pub fn print_text(text: &str) {
    out(text);
}

/// Writes help to stdout, wrapped to the terminal's width.
pub fn print_help(text: &str) {
    out(&wrap(text, Stream::Out));
}

/// Writes free text to stderr, wrapped to the terminal's width.
pub fn eprint_text(text: &str) {
    raw_err(&wrap(text, Stream::Err));
}

/// Stderr as the progress bar's terminal, [`BAR_MARGIN`] columns narrower than it is. indicatif
/// pads its line to the width it is given, leaving the cursor after the last column; the `^C`
/// a terminal echoes for Ctrl-C then wrapped onto a line of its own, and clearing the bar
/// cleared only that one, leaving the spinner's line on screen. With the margin, the echo stays
/// on the bar's line and goes with it. Text is made terminal-safe like all output; only the
/// cursor movements indicatif asks for are sent as they are.
#[derive(Debug)]
struct BarTerminal;

/// Columns kept free at the end of the progress bar's line (see [`BarTerminal`]).
pub const BAR_MARGIN: usize = 3;

/// The width the progress bar's text may take: the terminal's (the narrower of `COLUMNS` and
/// the real one), less [`BAR_MARGIN`].
#[must_use]
pub fn bar_width() -> usize {
    let real = terminal_size::terminal_size_of(std::io::stderr()).map(|(w, _)| usize::from(w.0)).filter(|w| *w > 0);
    let told = terminal_width(Stream::Err);
    let width = match (real, told) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(80),
    };
    width.saturating_sub(BAR_MARGIN).max(10)
}

impl indicatif::TermLike for BarTerminal {
    fn width(&self) -> u16 {
        u16::try_from(bar_width()).unwrap_or(u16::MAX)
    }

    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        if n > 0 { std::io::stderr().write_all(format!("\x1b[{n}A").as_bytes()) } else { Ok(()) }
    }

    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        if n > 0 { std::io::stderr().write_all(format!("\x1b[{n}B").as_bytes()) } else { Ok(()) }
    }

    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        if n > 0 { std::io::stderr().write_all(format!("\x1b[{n}C").as_bytes()) } else { Ok(()) }
    }

    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        if n > 0 { std::io::stderr().write_all(format!("\x1b[{n}D").as_bytes()) } else { Ok(()) }
    }

    fn write_line(&self, s: &str) -> std::io::Result<()> {
        std::io::stderr().write_all(format!("{}\n", terminal_safe(s)).as_bytes())
    }

    fn write_str(&self, s: &str) -> std::io::Result<()> {
        std::io::stderr().write_all(terminal_safe(s).as_bytes())
    }

    fn clear_line(&self) -> std::io::Result<()> {
        std::io::stderr().write_all(b"\r\x1b[2K")
    }

    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Writes to stderr as it is (tables are never wrapped).
fn raw_err(text: &str) {
    let _ = std::io::stderr().write_all(terminal_safe(text).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_naturally_and_tables_align_by_display_width() {
        let mut v = vec!["node-10", "node-2", "Node-1", "a"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["a", "Node-1", "node-2", "node-10"]);
        let ui = Ui { color: false, quiet: false, json: false, csv: false, cli: "ibmcloud".into(), me: "x".into() };
        let lines = ui.table_lines(
            &["Name", "Email"],
            &[vec!["山田太郎".into(), "t@x".into()], vec!["José".into(), "j@x".into()]],
        );
        assert_eq!(lines, ["Name       Email", "山田太郎   t@x", "José       j@x"]);
    }

    #[test]
    fn server_text_cannot_drive_the_terminal() {
        let evil = "Mallory\x1b]0;TITLE\x07\x1b[2J\x1b[1;1H\rOK\x08\u{9b}31m\x1b(B end";
        assert_eq!(terminal_safe(evil), "MalloryOK31m end");
        // Our own colours survive; a newline and a tab too.
        let ours = format!("{GREEN_BOLD}OK{RESET}\n\tnext");
        assert_eq!(terminal_safe(&ours), ours);
        // An unterminated sequence eats the rest rather than reaching the terminal.
        assert_eq!(terminal_safe("a\x1b]0;never ends"), "a");
        assert_eq!(terminal_safe("plain text"), "plain text");
    }
}
