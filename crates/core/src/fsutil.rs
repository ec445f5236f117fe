//! File-system helpers for the plugin's own files: folders only we can enter, files only we
//! can read. The plugin folder holds the audit log, the sandbox world and lock files; the
//! trace holds request details. None of it is for other users of the machine.

use std::path::Path;

use crate::error::{Error, Result};

/// Creates `dir` and its missing parents; folders this creates are 0700 on Unix. An existing
/// folder keeps its mode: it may be shared on purpose (`CLUSTER_API_KEY_HOME=/srv/...`).
///
/// # Errors
/// [`Error::Io`].
pub fn create_private_dir(dir: &Path) -> Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        b.mode(0o700);
    }
    b.create(dir).map_err(|source| Error::Io { path: dir.to_owned(), source })
}

/// Makes an existing file readable by its owner only (a no-op elsewhere than Unix).
///
/// # Errors
/// The OS error.
pub(crate) fn make_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = std::fs::metadata(path)?;
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn new_folders_are_0700_and_files_become_0600() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("a/b");
        create_private_dir(&d).unwrap();
        assert_eq!(std::fs::metadata(&d).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(std::fs::metadata(tmp.path().join("a")).unwrap().permissions().mode() & 0o777, 0o700);
        let f = d.join("f");
        std::fs::write(&f, "x").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        make_private(&f).unwrap();
        assert_eq!(std::fs::metadata(&f).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
