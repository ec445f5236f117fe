//! The binary's error, in the jj style: a kind that picks the exit code, the cause (a core
//! error is kept whole, never flattened to a string) and extra recovery hints. Hints are
//! rendered when the error is printed, with the host's name, by [`crate::hints`].

use cluster_api_key_core::Error as CoreError;

use crate::ui::Text;

/// What kind of failure (the exit code is [`crate::commands::exit_code`]'s business).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The operation failed.
    Failed,
    /// Incorrect usage.
    Usage,
    /// Something that cannot happen did: a bug to report.
    Internal,
}

/// A failure to report.
#[derive(Debug)]
pub struct CommandError {
    /// The kind.
    pub kind: Kind,
    /// The message when there is no core cause (usage errors, the binary's own failures).
    message: String,
    /// The core error behind it.
    source: Option<Box<CoreError>>,
    /// Extra recovery lines; `{cli}` and `{me}` are replaced when printed.
    hints: Vec<Text>,
    /// For usage errors: the command whose help to print.
    pub help_for: Option<String>,
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.source {
            Some(e) => f.write_str(&core_message(e)),
            None => f.write_str(&self.message),
        }
    }
}

/// A core error's message, worded here where it names a flag: the core names none.
fn core_message(e: &CoreError) -> String {
    match e {
        CoreError::ResourceGroupAmbiguous(name) => {
            format!("Resource group name '{name}' is ambiguous; pass its ID with -g.")
        }
        CoreError::NotPlainEmail { why } => {
            format!("{why}. Type the address in plain ASCII, or name the user by IAM ID (--iam-id).")
        }
        e => e.to_string(),
    }
}

impl std::error::Error for CommandError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<CoreError> for CommandError {
    fn from(e: CoreError) -> Self {
        let kind = match e {
            // A setting out of range is the user's typing, like a bad flag.
            CoreError::BadSetting { .. }
            | CoreError::UnknownRegions { .. }
            | CoreError::UnknownGroups { .. }
            | CoreError::BadPolicy { .. }
            | CoreError::PolicyUnreadable { .. } => Kind::Usage,
            _ => Kind::Failed,
        };
        Self { kind, message: String::new(), source: Some(Box::new(e)), hints: Vec::new(), help_for: None }
    }
}

/// The command path an account administrator runs: the same as `me`, except in the sandbox,
/// where the administrator is the seeded `owner` identity (a printed `--grant` must run as
/// printed, and the viewer who was refused cannot grant).
#[must_use]
pub fn admin_path(me: &str) -> String {
    match me.split_once(" --sandbox") {
        Some((path, _)) => format!("{path} --sandbox=owner"),
        None => me.to_owned(),
    }
}

impl CommandError {
    /// A plain failure.
    pub fn failed(message: impl Into<String>) -> Self {
        Self { kind: Kind::Failed, message: message.into(), source: None, hints: Vec::new(), help_for: None }
    }

    /// A "cannot happen" path that happened.
    pub fn internal(what: impl std::fmt::Display) -> Self {
        Self::failed(format!("Internal error: {what}."))
            .with_hint("This is a bug in cluster-api-key; please report it with the command you ran.")
            .kind(Kind::Internal)
    }

    fn kind(mut self, kind: Kind) -> Self {
        self.kind = kind;
        self
    }

    /// Adds a recovery line (`{cli}` and `{me}` are replaced when printed).
    pub fn with_hint(mut self, hint: impl Into<Text>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// An incorrect-usage error; the help of `command` follows it.
    pub fn usage(detail: impl Into<String>, command: Option<&str>) -> Self {
        Self {
            kind: Kind::Usage,
            message: detail.into(),
            source: None,
            hints: Vec::new(),
            help_for: command.map(str::to_owned),
        }
    }

    /// The core error behind it, if any.
    pub fn core(&self) -> Option<&CoreError> {
        self.source.as_deref()
    }

    /// The recovery lines, with `cli` as the host's name, `me` as this tool's command path, and
    /// `admin` as the path an account administrator would run ([`admin_path`]).
    pub fn hints(&self, cli: &str, me: &str) -> Vec<Text> {
        let mut out = self.source.as_deref().map(|e| crate::hints::for_core(e, cli, me)).unwrap_or_default();
        let admin = admin_path(me);
        out.extend(
            self.hints
                .iter()
                .map(|h| h.map(|s| s.replace("{cli}", cli).replace("{me}", me).replace("{admin}", &admin))),
        );
        out
    }

    /// The error as the JSON document of JSON mode:
    /// `{"error": {"code", "message", "hint", "incidentId", "exitCode"}}`; `code` is IBM's when
    /// it gave one, else the kind of failure.
    pub fn to_json(&self, cli: &str, me: &str, exit_code: u8) -> serde_json::Value {
        let ibm = match self.core() {
            Some(CoreError::Api(api)) => api.code.clone(),
            _ => None,
        };
        let kind = match self.kind {
            Kind::Failed => "failed",
            Kind::Usage => "usage",
            Kind::Internal => "internal",
        };
        let hints: Vec<String> = self.hints(cli, me).iter().map(Text::to_plain).collect();
        serde_json::json!({"error": {
            "code": ibm.unwrap_or_else(|| kind.to_owned()),
            "message": cluster_api_key_core::redact::redact(&self.to_string()),
            "hint": if hints.is_empty() { serde_json::Value::Null } else { serde_json::Value::from(hints.join(" ")) },
            "incidentId": self.incident_id(),
            "exitCode": exit_code,
        }})
    }

    /// IBM's incident ID, when there is one.
    pub fn incident_id(&self) -> Option<&str> {
        self.source.as_deref().and_then(CoreError::incident_id)
    }
}

/// `serde_json::to_value` of a report: failing is a bug, never an empty document.
///
/// # Errors
/// [`Kind::Internal`].
pub fn to_json(value: &impl serde::Serialize) -> Result<serde_json::Value, CommandError> {
    serde_json::to_value(value).map_err(CommandError::internal)
}
