//! `IBMCLOUD_TRACE`: the SDK's `REQUEST:`/`RESPONSE:` trace, written through the redaction
//! rules of [`crate::redact`] (the SDK's and stricter ones), to stderr or to a private file.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::redact::{redact, traced_body};

/// Where trace output goes.
#[derive(Debug)]
enum Sink {
    Stderr,
    File(std::fs::File),
}

/// A trace writer, shared by every request of the process.
#[derive(Debug)]
pub(crate) struct Tracer {
    sink: Mutex<Sink>,
}

impl Tracer {
    /// From the `Trace` setting: `true` → stderr; a path → append to it (0600). When the file
    /// cannot be opened, the SDK's message is returned with a stderr tracer.
    #[must_use]
    pub(crate) fn from_setting(setting: &str) -> (Self, Option<String>) {
        if setting.eq_ignore_ascii_case("true") {
            return (Self { sink: Mutex::new(Sink::Stderr) }, None);
        }
        let mut opts = OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        match opts.open(setting) {
            Ok(f) => {
                // `mode` applies only to a file we create; an existing trace file (made by the
                // Go CLI with its umask, or by hand) is made private too: it holds request URLs
                // and account details, if never a secret.
                let _ = crate::fsutil::make_private(std::path::Path::new(setting));
                (Self { sink: Mutex::new(Sink::File(f)) }, None)
            }
            Err(e) => (
                Self { sink: Mutex::new(Sink::Stderr) },
                Some(format!("An error occurred when creating log file '{setting}':\n{e}\n\n")),
            ),
        }
    }

    /// Writes one block, redacted.
    pub(crate) fn write(&self, block: &str) {
        let text = redact(block);
        let mut sink = self.sink.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match &mut *sink {
            Sink::Stderr => {
                let _ = std::io::stderr().write_all(text.as_bytes());
            }
            Sink::File(f) => {
                let _ = f.write_all(text.as_bytes());
            }
        }
    }

    /// The `REQUEST:` block.
    pub(crate) fn request(&self, method: &str, url: &url::Url, headers: &[(String, String)], body: &str) {
        let mut path = url.path().to_owned();
        if let Some(q) = url.query() {
            path.push('?');
            path.push_str(q);
        }
        let mut block = format!("\nREQUEST: [{}]\n{method} {path} HTTP/1.1\r\nHost: {}\r\n", now(), host(url));
        for (k, v) in headers {
            block.push_str(&format!("{k}: {v}\r\n"));
        }
        block.push_str("\r\n");
        block.push_str(body);
        block.push('\n');
        self.write(&block);
    }

    /// The `RESPONSE:` block of a request to `url`.
    pub(crate) fn response(
        &self,
        url: &url::Url,
        status: u16,
        reason: &str,
        elapsed: Duration,
        headers: &[(String, String)],
        body: &[u8],
    ) {
        let mut block =
            format!("\nRESPONSE: [{}] Elapsed: {}ms\nHTTP/1.1 {status} {reason}\r\n", now(), elapsed.as_millis());
        for (k, v) in headers {
            block.push_str(&format!("{k}: {v}\r\n"));
        }
        block.push_str("\r\n");
        // A kubeconfig ZIP holds a client key: binary bodies (by type, by the ZIP signature, or
        // not UTF-8) are never written.
        let is_binary = headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && (v.contains("octet-stream") || v.contains("zip")))
            || body.starts_with(b"PK")
            || std::str::from_utf8(body).is_err();
        if is_binary {
            block.push_str("[SKIP BINARY OCTET-STREAM CONTENT]");
        } else {
            block.push_str(&traced_body(url.path(), &String::from_utf8_lossy(body)));
        }
        block.push('\n');
        self.write(&block);
    }

    /// A line about a request that got no response.
    pub(crate) fn failure(&self, elapsed: Duration, message: &str) {
        self.write(&format!("\nRESPONSE: [{}] Elapsed: {}ms\n{message}\n", now(), elapsed.as_millis()));
    }
}

fn host(url: &url::Url) -> String {
    match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    }
}

fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_file_is_private_and_appended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trace.log");
        let (t, warn) = Tracer::from_setting(path.to_str().unwrap());
        assert!(warn.is_none());
        let url = url::Url::parse("http://127.0.0.1:1/identity/token").unwrap();
        t.request("POST", &url, &[("Authorization".into(), "Basic Yng6Yng=".into())], "refresh_token=RRRRRR");
        t.response(&url, 200, "OK", Duration::from_millis(3), &[], br#"{"access_token":"eyJa.eyJb.c"}"#);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("REQUEST: [") && text.contains("POST /identity/token HTTP/1.1"));
        assert!(text.contains("RESPONSE: [") && text.contains("Elapsed: 3ms"));
        assert!(!text.contains("RRRRRR") && !text.contains("Yng6Yng="));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
