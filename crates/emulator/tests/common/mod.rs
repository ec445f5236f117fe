//! What the emulator's test binaries share: the rule for a test that needs an outside program
//! (kubectl, Python, Node). Where the program is missing, the test cannot check anything: under
//! CI (`CI=true`, which `.ci/run` exports) that FAILS the test, naming the program and how
//! `.ci/run` installs it; elsewhere the test skips, and says so on stderr. The binary's tests
//! have the same rule in `tests/it/common.rs`.

use std::path::PathBuf;

/// Whether this is a CI run: `CI=true` (or `1`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// `name` on `PATH`; where it is missing, [`unavailable`] (the caller skips when it returns).
#[track_caller]
pub fn outside_program(name: &str, install: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file()));
    if found.is_none() {
        unavailable(&format!("{name} is not installed"), install);
    }
    found
}

/// A test cannot run here (`why`): fails under CI, else says on stderr that it skipped.
#[track_caller]
pub fn unavailable(why: &str, install: &str) {
    skip_or_fail(in_ci(), why, install);
}

#[track_caller]
#[allow(clippy::print_stderr, reason = "a skipped test says so")]
fn skip_or_fail(ci: bool, why: &str, install: &str) {
    assert!(!ci, "{why}, and under CI=true this test must run, not skip: {install}");
    eprintln!("{why}: skipped ({install}; under CI=true this fails)");
}

#[test]
fn a_missing_outside_program_fails_under_ci_and_is_skipped_aloud_elsewhere() {
    let failed = std::panic::catch_unwind(|| skip_or_fail(true, "kubectl is not installed", ".ci/run installs it"))
        .expect_err("under CI a missing program fails the test");
    let message = failed.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("kubectl is not installed") && message.contains(".ci/run installs it"), "{message}");
    skip_or_fail(false, "kubectl is not installed", ".ci/run installs it");
}
