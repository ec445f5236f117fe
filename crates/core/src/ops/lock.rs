//! A per-target lock that serialises resets of one (region, resource group) across processes.
//!
//! Without it, three concurrent `reset -f` of one target each took the key list, each sent a
//! `POST /v1/keys`, and each then saw three new keys: all reported the same "new" key and two
//! keys were never recorded. Held around snapshot → POST → find the new key, the lock
//! makes every process see exactly the key it minted. It is an advisory `flock` on a file in the
//! plugin's own folder, the same kind of lock the Go CLI takes on `config.json`; the file is
//! never deleted, because deleting a lock file races with the next process opening it.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Target;
use crate::error::{Error, Result};

/// How often a waiting process tries the lock again.
const RETRY: Duration = Duration::from_millis(100);

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub struct TargetLock {
    _file: File,
    /// Whether another process held the lock when we asked (we waited for it).
    pub waited: bool,
}

/// The lock file of a target: only characters that are safe in any file name.
#[must_use]
pub(crate) fn lock_path(dir: &Path, action: &str, target: &Target) -> PathBuf {
    let safe = |s: &str| -> String {
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
    };
    dir.join(format!("{action}-{}-{}.lock", safe(target.region.as_str()), safe(target.resource_group.id.as_str())))
}

impl TargetLock {
    /// Takes the lock of `target` for `action` in `dir` (created 0700), waiting up to `timeout`.
    ///
    /// # Errors
    /// [`Error::Io`] when the folder or file cannot be created; [`Error::LockTimeout`].
    pub(crate) async fn acquire(dir: &Path, action: &str, target: &Target, timeout: Duration) -> Result<Self> {
        crate::fsutil::create_private_dir(dir)?;
        let path = lock_path(dir, action, target);
        let mut opts = OpenOptions::new();
        opts.create(true).truncate(false).read(true).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let file = opts.open(&path).map_err(|source| Error::Io { path: path.clone(), source })?;
        let deadline = tokio::time::Instant::now() + timeout;
        let mut waited = false;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Self { _file: file, waited }),
                Err(TryLockError::WouldBlock) => {
                    if tokio::time::Instant::now() >= deadline {
                        return Err(Error::LockTimeout { path });
                    }
                    waited = true;
                    tokio::time::sleep(RETRY).await;
                }
                Err(TryLockError::Error(source)) => return Err(Error::Io { path, source }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Region, ResourceGroup, ResourceGroupId};

    fn target(rg: &str) -> Target {
        Target {
            region: Region::new("us-south"),
            resource_group: ResourceGroup { id: ResourceGroupId::new(rg), name: "x".into(), default: false },
        }
    }

    #[tokio::test]
    async fn a_second_holder_waits_and_times_out_while_the_first_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = TargetLock::acquire(dir.path(), "reset", &target("g1"), Duration::from_secs(1)).await.unwrap();
        assert!(!first.waited);
        let e = TargetLock::acquire(dir.path(), "reset", &target("g1"), Duration::from_millis(250)).await.unwrap_err();
        assert!(matches!(e, Error::LockTimeout { .. }), "{e}");
        // Another target is independent.
        TargetLock::acquire(dir.path(), "reset", &target("g2"), Duration::from_millis(250)).await.unwrap();
        drop(first);
        let again = TargetLock::acquire(dir.path(), "reset", &target("g1"), Duration::from_secs(1)).await.unwrap();
        assert!(!again.waited);
    }

    #[test]
    fn lock_names_cannot_escape_the_folder() {
        let p = lock_path(Path::new("/d"), "reset", &target("../../etc/passwd"));
        assert_eq!(p, Path::new("/d/reset-us-south-______etc_passwd.lock"));
    }
}
