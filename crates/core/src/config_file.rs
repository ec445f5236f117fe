//! Reading and writing the CLI's `config.json` safely alongside the Go CLI.
//!
//! The Go SDK takes an exclusive `flock` on `config.json` itself (retry every 100 ms, up to
//! 30 s) for reads and writes, and writes by truncating in place. We take the same lock (std
//! `File::lock` is `flock(2)` on Unix) and also write in place: renaming a new file over
//! `config.json` would swap the inode and break the lock for a Go process already waiting on it.
//!
//! Writing in place means a process killed between truncate and the end of the write would
//! leave a truncated file and lose the user's session. So before touching `config.json` we
//! store the complete new content in a journal beside it (written atomically with
//! tempfile + rename, which is fine for a file only we use), together with a hash of the content
//! it replaces. Whoever takes the lock next finishes or discards that journal:
//! - `config.json` unreadable, or still exactly the content the journal replaces: the write
//!   did not complete, so the journal's content is written;
//! - anything else: the write completed, or someone wrote after us; the journal is stale.
//!
//! We only ever change the keys we own; every other key and the key order stay as they were.

use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::value::RawValue;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::env::{self, Env};
use crate::error::{Error, Result};

/// How long to wait for the lock, as the Go SDK does.
pub(crate) const LOCK_TIMEOUT: Duration = Duration::from_secs(30);
/// How often to retry the lock, as the Go SDK does.
pub(crate) const LOCK_RETRY: Duration = Duration::from_millis(100);

/// The journal's suffix, beside `config.json`.
const JOURNAL_SUFFIX: &str = ".cluster-api-key-journal";

/// A `config.json` on disk.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    path: PathBuf,
}

/// `config.json` opened and exclusively locked. The lock is released on drop.
#[derive(Debug)]
pub struct LockedConfig {
    path: PathBuf,
    file: File,
    writable: bool,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.to_owned(), source }
}

/// The journal beside a config file.
fn journal_path(config: &Path) -> PathBuf {
    let mut p = config.as_os_str().to_owned();
    p.push(JOURNAL_SUFFIX);
    PathBuf::from(p)
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().fold(String::with_capacity(64), |mut s, b| {
        s.push_str(&format!("{b:02x}"));
        s
    })
}

/// The config as its top-level keys, in file order, with each value kept as the exact text it
/// had. Only the values we change are re-serialized: an integer beyond `u64`, a float's exact
/// spelling, or a value nested deeper than a JSON parser's recursion limit survive a write
/// unchanged, and never make a valid config "unreadable".
#[derive(Debug, Clone, Default)]
pub struct RawConfig {
    entries: Vec<(String, Box<RawValue>)>,
}

impl RawConfig {
    /// Parses a JSON object's top level (values are checked, not interpreted).
    ///
    /// # Errors
    /// Why it is not a JSON object.
    pub(crate) fn parse(bytes: &[u8]) -> std::result::Result<Self, String> {
        struct Entries(Vec<(String, Box<RawValue>)>);
        impl<'de> serde::Deserialize<'de> for Entries {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = Entries;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a JSON object")
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut m: A,
                    ) -> std::result::Result<Entries, A::Error> {
                        let mut out: Vec<(String, Box<RawValue>)> = Vec::new();
                        while let Some((k, v)) = m.next_entry::<String, Box<RawValue>>()? {
                            // A repeated key: the last one wins, as in Go and serde_json.
                            out.retain(|(x, _)| *x != k);
                            out.push((k, v));
                        }
                        Ok(Entries(out))
                    }
                }
                d.deserialize_map(V)
            }
        }
        serde_json::from_slice::<Entries>(bytes)
            .map(|e| Self { entries: e.0 })
            .map_err(|e| if e.is_data() { String::from("the file is not a JSON object") } else { e.to_string() })
    }

    /// The values as a map, for reading; a value too deep to interpret is left out (none of
    /// the keys the tool reads is ever nested).
    #[must_use]
    pub(crate) fn view(&self) -> Map<String, Value> {
        self.entries.iter().filter_map(|(k, v)| Some((k.clone(), serde_json::from_str(v.get()).ok()?))).collect()
    }

    /// Sets one key, in place if present, else at the end.
    pub fn set(&mut self, key: &str, value: &Value) {
        // Serializing a `Value` cannot fail, nor can its text fail to be a RawValue.
        let Ok(raw) = serde_json::value::to_raw_value(value) else { return };
        match self.entries.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = raw,
            None => self.entries.push((key.to_owned(), raw)),
        }
    }

    /// Serializes the way the SDK does (2-space indentation), every untouched value verbatim.
    #[must_use]
    pub(crate) fn render(&self) -> Vec<u8> {
        if self.entries.is_empty() {
            return b"{}".to_vec();
        }
        let mut out = String::from("{\n");
        for (i, (k, v)) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push_str(",\n");
            }
            out.push_str("  ");
            out.push_str(&Value::from(k.as_str()).to_string());
            out.push_str(": ");
            out.push_str(v.get());
        }
        out.push_str("\n}");
        out.into_bytes()
    }

    /// Whether both hold the same keys with the same values.
    fn same_as(&self, other: &Self) -> bool {
        self.entries.len() == other.entries.len()
            && self.entries.iter().zip(&other.entries).all(|((k1, v1), (k2, v2))| {
                k1 == k2
                    && (v1.get() == v2.get()
                        || serde_json::from_str::<Value>(v1.get())
                            .ok()
                            .is_some_and(|a| serde_json::from_str::<Value>(v2.get()).ok().is_some_and(|b| a == b)))
            })
    }
}

#[cfg(unix)]
fn set_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_private(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// The testing failpoint, if set to `name` (see [`env::CAK_FAILPOINT`]).
fn failpoint(name: &str) -> bool {
    Env::from_process().get(env::CAK_FAILPOINT) == Some(name)
}

impl ConfigFile {
    /// A config file at `path`.
    #[must_use]
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    fn journal_path(&self) -> PathBuf {
        journal_path(&self.path)
    }

    /// Opens and locks the file, waiting like the Go SDK, then finishes or discards a journal
    /// left by a writer that was killed.
    ///
    /// # Errors
    /// [`Error::NoConfig`] when the file does not exist, [`Error::LockTimeout`], I/O errors.
    pub async fn lock(&self) -> Result<LockedConfig> {
        let mut writable = true;
        let opened = match OpenOptions::new().read(true).write(true).open(&self.path) {
            // A read-only config can still be read (and locked: flock works on any descriptor),
            // as the Go SDK does with O_RDONLY; only a write would fail, with a clear error.
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                writable = false;
                OpenOptions::new().read(true).open(&self.path)
            }
            other => other,
        };
        let file = match opened {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A crash can leave only the journal if the file was deleted meanwhile; that
                // is the user's decision, so no resurrection: report no config.
                return Err(Error::NoConfig { path: self.path.clone() });
            }
            Err(e) => return Err(io_err(&self.path)(e)),
        };
        let deadline = Instant::now() + LOCK_TIMEOUT;
        // The Go SDK takes no lock on Windows, and a Windows lock is mandatory: holding one would
        // make the Go CLI's read fail, after which it rewrites the file from a zero-valued
        // config. So on Windows we do as Go does and rely on the journal alone.
        loop {
            if cfg!(windows) {
                break;
            }
            match file.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) => {
                    if Instant::now() >= deadline {
                        return Err(Error::LockTimeout { path: self.path.clone() });
                    }
                    tokio::time::sleep(LOCK_RETRY).await;
                }
                Err(fs::TryLockError::Error(e)) => return Err(io_err(&self.path)(e)),
            }
        }
        let mut locked = LockedConfig { path: self.path.clone(), file, writable };
        locked.recover(&self.journal_path())?;
        Ok(locked)
    }

    /// Reads the config under the lock (for callers that only read).
    ///
    /// # Errors
    /// As [`ConfigFile::lock`] and [`LockedConfig::read`].
    pub async fn read(&self) -> Result<Map<String, Value>> {
        Ok(self.lock().await?.read()?.view())
    }
}

impl LockedConfig {
    /// Whether the file could be opened for writing.
    #[must_use]
    pub(crate) fn writable(&self) -> bool {
        self.writable
    }

    /// Its path.
    #[must_use]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn read_bytes(&mut self) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        self.file.seek(SeekFrom::Start(0)).map_err(io_err(&self.path))?;
        self.file.read_to_end(&mut buf).map_err(io_err(&self.path))?;
        Ok(buf)
    }

    /// Parses the file as a JSON object.
    ///
    /// # Errors
    /// [`Error::MalformedConfig`] when it is not a JSON object.
    pub fn read(&mut self) -> Result<RawConfig> {
        let bytes = self.read_bytes()?;
        parse_object(&bytes).map_err(|detail| Error::MalformedConfig { path: self.path.clone(), detail })
    }

    fn recover(&mut self, journal: &Path) -> Result<()> {
        let raw = match fs::read(journal) {
            Ok(raw) => raw,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_err(journal)(e)),
        };
        let entry: Option<(String, String)> = serde_json::from_slice::<Value>(&raw).ok().and_then(|v| {
            Some((v.get("replaces_sha256")?.as_str()?.to_owned(), v.get("content")?.as_str()?.to_owned()))
        });
        if let Some((replaces, content)) = entry {
            let current = self.read_bytes()?;
            let unreadable = parse_object(&current).is_err();
            if (unreadable || sha256_hex(&current) == replaces) && parse_object(content.as_bytes()).is_ok() {
                self.write_bytes(content.as_bytes())?;
            }
        }
        fs::remove_file(journal).map_err(io_err(journal))?;
        Ok(())
    }

    fn write_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        let path = self.path.clone();
        self.file.set_len(0).map_err(io_err(&path))?;
        self.file.seek(SeekFrom::Start(0)).map_err(io_err(&path))?;
        if failpoint("config-partial-write") {
            // Simulates a kill in the worst place: the file truncated and half written.
            let _ = self.file.write_all(&bytes[..bytes.len() / 2]);
            let _ = self.file.sync_all();
            std::process::abort();
        }
        self.file.write_all(bytes).map_err(io_err(&path))?;
        self.file.sync_all().map_err(io_err(&path))?;
        set_private(&path).map_err(io_err(&path))?;
        Ok(())
    }

    /// Writes `config` in place if it differs from what is on disk, journaled so a kill at any
    /// point leaves a recoverable session. Returns whether anything was written.
    ///
    /// # Errors
    /// I/O errors; the journal then stays for the next reader to recover from.
    pub fn write(&mut self, config: &RawConfig) -> Result<bool> {
        let current = self.read_bytes()?;
        if parse_object(&current).is_ok_and(|c| c.same_as(config)) {
            return Ok(false);
        }
        let new = config.render();
        let journal = journal_path(&self.path);
        let dir = self.path.parent().unwrap_or_else(|| Path::new("."));
        let entry = serde_json::json!({
            "replaces_sha256": sha256_hex(&current),
            "content": String::from_utf8_lossy(&new),
        });
        let journaled = (|| -> std::io::Result<()> {
            if failpoint("journal-unwritable") {
                return Err(std::io::Error::new(std::io::ErrorKind::PermissionDenied, "failpoint"));
            }
            let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
            // NamedTempFile is created 0600 on Unix; the journal holds tokens, so keep it so.
            tmp.write_all(&serde_json::to_vec(&entry).unwrap_or_default())?;
            tmp.as_file().sync_all()?;
            tmp.persist(&journal).map_err(|e| e.error)?;
            Ok(())
        })()
        .is_ok();
        if !journaled {
            // The folder is read-only while the file is not: the refresh token is
            // already spent, so the new one must be saved or the session is lost. Write in
            // place, as the Go CLI always does, without the crash protection of the journal.
            self.write_bytes(&new)?;
            return Ok(true);
        }
        if failpoint("config-after-journal") {
            std::process::abort();
        }
        self.write_bytes(&new)?;
        fs::remove_file(&journal).map_err(io_err(&journal))?;
        Ok(true)
    }
}

fn parse_object(bytes: &[u8]) -> std::result::Result<RawConfig, String> {
    RawConfig::parse(bytes)
}

impl Drop for LockedConfig {
    fn drop(&mut self) {
        if !cfg!(windows) {
            let _ = self.file.unlock();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
  "APIEndpoint": "https://cloud.ibm.com",
  "ZNewerKey": {"nested": [1, 2]},
  "IAMToken": "Bearer old",
  "AOlderKey": true,
  "Region": "eu-de"
}"#;

    fn tmp_config(content: &str) -> (tempfile::TempDir, ConfigFile) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        fs::write(&path, content).unwrap();
        (dir, ConfigFile::new(path))
    }

    #[tokio::test]
    async fn round_trip_keeps_unknown_keys_and_order_and_is_private() {
        let (_d, cfg) = tmp_config(SAMPLE);
        let mut l = cfg.lock().await.unwrap();
        let mut map = l.read().unwrap();
        map.set("IAMToken", &Value::from("Bearer new"));
        assert!(l.write(&map).unwrap());
        drop(l);
        let text = fs::read_to_string(&cfg.path).unwrap();
        let keys: Vec<String> = parse_object(text.as_bytes()).unwrap().view().keys().cloned().collect();
        assert_eq!(keys, ["APIEndpoint", "ZNewerKey", "IAMToken", "AOlderKey", "Region"]);
        assert!(text.contains("\"IAMToken\": \"Bearer new\""));
        assert!(text.contains("\n  \"Region\""), "2-space indentation");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(fs::metadata(&cfg.path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert!(!cfg.journal_path().exists());
    }

    #[tokio::test]
    async fn huge_integers_and_deep_nesting_survive_a_write_verbatim() {
        let deep = format!("{}1{}", "[".repeat(1000), "]".repeat(1000));
        let content = format!(
            "{{\n  \"Big\": 18446744073709551616123,\n  \"Float\": 1.10,\n  \"Deep\": {deep},\n  \"IAMToken\": \"Bearer old\",\n  \"Region\": \"eu-de\"\n}}"
        );
        let (_d, cfg) = tmp_config(&content);
        // Readable, although a `Value` parser gives up at depth 128.
        assert_eq!(cfg.read().await.unwrap()["Region"], "eu-de");
        let mut l = cfg.lock().await.unwrap();
        let mut map = l.read().unwrap();
        map.set("IAMToken", &Value::from("Bearer new"));
        assert!(l.write(&map).unwrap());
        drop(l);
        let text = fs::read_to_string(&cfg.path).unwrap();
        assert_eq!(text, content.replace("Bearer old", "Bearer new"), "everything else byte for byte");
    }

    #[tokio::test]
    async fn no_write_when_nothing_changed() {
        let (_d, cfg) = tmp_config(SAMPLE);
        let mut l = cfg.lock().await.unwrap();
        let map = l.read().unwrap();
        assert!(!l.write(&map).unwrap());
        drop(l);
        // Byte for byte untouched, original formatting included.
        assert_eq!(fs::read_to_string(&cfg.path).unwrap(), SAMPLE);
    }

    #[tokio::test]
    async fn a_truncated_file_is_restored_from_the_journal() {
        let (_d, cfg) = tmp_config(SAMPLE);
        let new = SAMPLE.replace("Bearer old", "Bearer new");
        let entry = serde_json::json!({"replaces_sha256": sha256_hex(SAMPLE.as_bytes()), "content": new});
        fs::write(cfg.journal_path(), entry.to_string()).unwrap();
        fs::write(&cfg.path, &SAMPLE[..20]).unwrap();
        let map = cfg.read().await.unwrap();
        assert_eq!(map["IAMToken"], "Bearer new");
        assert!(!cfg.journal_path().exists());
    }

    #[tokio::test]
    async fn a_journal_whose_write_never_started_is_applied() {
        let (_d, cfg) = tmp_config(SAMPLE);
        let new = SAMPLE.replace("Bearer old", "Bearer new");
        let entry = serde_json::json!({"replaces_sha256": sha256_hex(SAMPLE.as_bytes()), "content": new});
        fs::write(cfg.journal_path(), entry.to_string()).unwrap();
        assert_eq!(cfg.read().await.unwrap()["IAMToken"], "Bearer new");
    }

    #[tokio::test]
    async fn a_stale_journal_never_overwrites_a_newer_write() {
        let (_d, cfg) = tmp_config(SAMPLE);
        let entry =
            serde_json::json!({"replaces_sha256": "0000", "content": SAMPLE.replace("Bearer old", "Bearer journal")});
        fs::write(cfg.journal_path(), entry.to_string()).unwrap();
        assert_eq!(cfg.read().await.unwrap()["IAMToken"], "Bearer old");
        assert!(!cfg.journal_path().exists());
        // A corrupt journal is dropped, not trusted.
        fs::write(cfg.journal_path(), "{not json").unwrap();
        assert_eq!(cfg.read().await.unwrap()["IAMToken"], "Bearer old");
    }

    #[tokio::test]
    async fn missing_and_malformed_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = ConfigFile::new(dir.path().join("config.json"));
        assert!(matches!(cfg.read().await, Err(Error::NoConfig { .. })));
        let (_d, cfg) = tmp_config("[1,2]");
        assert!(matches!(cfg.read().await, Err(Error::MalformedConfig { .. })));
        let (_d, cfg) = tmp_config("");
        assert!(matches!(cfg.read().await, Err(Error::MalformedConfig { .. })));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_read_only_config_can_be_read() {
        use std::os::unix::fs::PermissionsExt as _;
        let (_d, cfg) = tmp_config(SAMPLE);
        fs::set_permissions(&cfg.path, fs::Permissions::from_mode(0o400)).unwrap();
        // Root ignores file modes; the check is only meaningful for other users.
        let mut l = cfg.lock().await.unwrap();
        let mut map = l.read().unwrap();
        assert_eq!(map.view()["Region"], "eu-de");
        map.set("IAMToken", &Value::from("Bearer new"));
        let is_root = fs::OpenOptions::new().write(true).open(&cfg.path).is_ok();
        if !is_root {
            assert!(matches!(l.write(&map), Err(Error::Io { .. })));
        }
    }

    #[tokio::test]
    async fn the_lock_excludes_a_go_style_holder() {
        let (_d, cfg) = tmp_config(SAMPLE);
        // A foreign holder, as gofrs/flock takes it: flock(LOCK_EX) on the file itself.
        let holder = File::open(&cfg.path).unwrap();
        holder.lock().unwrap();
        let cfg2 = cfg.clone();
        let waiter = tokio::spawn(async move { cfg2.read().await.map(|m| m.len()) });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!waiter.is_finished(), "must wait while the foreign lock is held");
        holder.unlock().unwrap();
        assert_eq!(waiter.await.unwrap().unwrap(), 5);
    }
}
