//! The local audit log: one JSON line per mutating operation (reset, disable, delete), in the
//! plugin's own directory. It records who did what to which target and key IDs, never a value.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::Serialize;

use crate::error::{Error, Result};

/// The audit file name inside the plugin directory.
pub(crate) const FILE_NAME: &str = "audit.jsonl";

/// One audit record.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// RFC 3339 time.
    pub time: String,
    /// `reset`, `disable`, `delete`.
    pub action: String,
    /// `succeeded`, `failed`, `unknown`.
    pub outcome: String,
    /// Caller's IAM ID.
    pub actor: Option<String>,
    /// Account.
    pub account: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Resource group ID.
    pub resource_group_id: Option<String>,
    /// Keys created or changed.
    pub key_ids: Vec<String>,
    /// Free text: what changed, or the error.
    pub detail: String,
    /// Written as part of a leak response (`reset --leaked`): the previous key is compromised.
    /// Present (true) only then, so that every other record keeps its shape.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub leak_response: bool,
}

impl Record {
    /// A record stamped now.
    #[must_use]
    pub(crate) fn now(action: &str, outcome: &str) -> Self {
        Self {
            time: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            action: action.to_owned(),
            outcome: outcome.to_owned(),
            actor: None,
            account: None,
            region: None,
            resource_group_id: None,
            key_ids: Vec::new(),
            detail: String::new(),
            leak_response: false,
        }
    }
}

/// The audit log.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
    /// Why records could not be written. A failed audit write must not turn a done reset into a
    /// failure, but it must not be silent either: the binary shows these.
    failures: Arc<Mutex<Vec<String>>>,
    /// Every record written through this handle is marked as part of a leak response.
    leak_response: bool,
}

impl AuditLog {
    /// The log in `dir`.
    #[must_use]
    pub fn in_dir(dir: &Path) -> Self {
        Self { path: dir.join(FILE_NAME), failures: Arc::default(), leak_response: false }
    }

    /// The same log, for a leak response: every record written through the handle it returns
    /// (the reset, the deletion of the compromised key, the add-on pods) is marked
    /// `leakResponse`, so that an auditor finds the whole response, not only its reset. The
    /// failures stay shared with this handle.
    #[must_use]
    pub fn for_leak_response(&self) -> Self {
        Self { leak_response: true, ..self.clone() }
    }

    /// Appends `record`; on failure, remembers why (see [`AuditLog::failures`]) and returns
    /// the message, so that the operation's own outcome stays what it was.
    pub(crate) fn record(&self, record: &Record) -> Option<String> {
        let e = self.append(record).err()?;
        let msg = format!("The audit log could not be written ({e}); this {} is not recorded.", record.action);
        self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(msg.clone());
        Some(msg)
    }

    /// Every failed write so far, as messages to show.
    #[must_use]
    pub fn failures(&self) -> Vec<String> {
        self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Appends one line (creating the directory 0700 and the file 0600).
    ///
    /// # Errors
    /// I/O errors.
    pub(crate) fn append(&self, record: &Record) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            crate::fsutil::create_private_dir(dir)?;
        }
        let marked;
        let record = if self.leak_response && !record.leak_response {
            marked = Record { leak_response: true, ..record.clone() };
            &marked
        } else {
            record
        };
        let mut line = serde_json::to_string(record).unwrap_or_default();
        line = crate::redact::redact(&line);
        line.push('\n');
        let mut opts = OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let mut f = opts.open(&self.path).map_err(|source| Error::Io { path: self.path.clone(), source })?;
        // One write of one line: appends from concurrent processes do not interleave.
        f.write_all(line.as_bytes()).map_err(|source| Error::Io { path: self.path.clone(), source })
    }
}
