//! The binary's error: a kind that picks the exit code, a message and recovery hints, in the
//! jj style. Core errors convert into it with their hints and IBM incident IDs.

use cluster_api_key_core::Error as CoreError;

/// Exit codes (product.md §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 1: the operation failed.
    Failed,
    /// 2: incorrect usage.
    Usage,
    /// 5: the outcome of a reset is unknown: it may have happened; do not retry blindly.
    Unknown,
}

impl Kind {
    /// The process exit code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Self::Failed => 1,
            Self::Usage => 2,
            Self::Unknown => 5,
        }
    }
}

/// A failure to report.
#[derive(Debug)]
pub struct CommandError {
    /// Exit code.
    pub kind: Kind,
    /// The message (first line after `FAILED`).
    pub message: String,
    /// Recovery lines.
    pub hints: Vec<String>,
    /// IBM's incident ID, when there is one.
    pub incident_id: Option<String>,
    /// For usage errors: the command whose help to print.
    pub help_for: Option<String>,
}

impl CommandError {
    /// A plain failure.
    pub fn failed(message: impl Into<String>) -> Self {
        Self { kind: Kind::Failed, message: message.into(), hints: Vec::new(), incident_id: None, help_for: None }
    }

    /// A failure with a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// An incorrect-usage error; the help of `command` follows it.
    pub fn usage(detail: impl Into<String>, command: Option<&str>) -> Self {
        Self {
            kind: Kind::Usage,
            message: detail.into(),
            hints: Vec::new(),
            incident_id: None,
            help_for: command.map(str::to_owned),
        }
    }

    /// From a core error, with hints naming the host's CLI.
    pub fn from_core(e: &CoreError, cli: &str) -> Self {
        let kind = match e {
            CoreError::ResetOutcomeUnknown { .. } => Kind::Unknown,
            CoreError::BadSetting { .. } => Kind::Usage,
            _ => Kind::Failed,
        };
        Self {
            kind,
            message: e.to_string(),
            hints: e.hints(cli),
            incident_id: e.incident_id().map(str::to_owned),
            help_for: None,
        }
    }
}
