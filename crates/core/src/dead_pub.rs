//! A test that keeps the core from carrying `pub` items no code uses.
//!
//! The compiler's dead-code lint stops at `pub`: an item another crate could call is never
//! reported, so a predicate that lost its last caller (or only ever had a unit test) stays
//! forever. This reads the workspace's sources, takes the name of every `pub` function,
//! constant, static, type and trait the core declares, and fails on a name that appears
//! nowhere else: not in the core's own code, the binary, the emulator, xtask, or any crate's
//! tests. The core's unit-test modules do not count as users (a test of dead code keeps it
//! dead), and comments do not either.
//!
//! It goes by names, so it is a floor, not the whole rule: a dead method whose name is common
//! (`new`, `lock`) passes, and so does an item only the core uses, which should be `pub(crate)`
//! (the compiler checks that one each time a `pub` is narrowed).

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir` (none when it does not exist).
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file, without comment lines and, for the core's own files, without the unit
/// `tests` module.
fn code(path: &Path, strip_tests: bool) -> String {
    let text = std::fs::read_to_string(path).expect("readable source file");
    let text = if strip_tests { text.find("#[cfg(test)]\nmod tests").map_or(&*text, |i| &text[..i]) } else { &text };
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// The name a line declares as a `pub` item (`pub async fn x`, `pub const fn x`, `pub struct
/// X`, ...); `pub(crate)`, `pub mod` and fields declare none.
fn declared(line: &str) -> Option<&str> {
    let mut words = line.split_whitespace().peekable();
    if words.next()? != "pub" {
        return None;
    }
    while words.peek().is_some_and(|w| matches!(*w, "async" | "unsafe")) {
        words.next();
    }
    let mut keyword = words.next()?;
    if keyword == "const" && words.peek() == Some(&"fn") {
        keyword = words.next()?;
    }
    if !matches!(keyword, "fn" | "struct" | "enum" | "const" | "static" | "trait" | "type") {
        return None;
    }
    let name = words.next()?;
    let end = name.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(name.len());
    (end > 0).then(|| &name[..end])
}

/// How many times `name` occurs in `text` as a whole identifier.
fn occurrences(text: &str, name: &str) -> usize {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(name)
        .filter(|(i, _)| {
            !text[..*i].chars().next_back().is_some_and(ident)
                && !text[i + name.len()..].chars().next().is_some_and(ident)
        })
        .count()
}

#[test]
fn every_pub_item_of_the_core_has_a_user() {
    let core = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = core.join("../..");
    let mut own = Vec::new();
    rust_files(&core.join("src"), &mut own);
    let own: Vec<String> = own.iter().map(|p| code(p, true)).collect();
    assert!(own.len() > 20, "the core's sources were not found under {}", core.display());

    let mut others = Vec::new();
    for dir in ["src", "tests", "benches", "crates/emulator", "crates/xtask", "crates/core/tests"] {
        rust_files(&workspace.join(dir), &mut others);
    }
    assert!(!others.is_empty(), "the workspace's other sources were not found under {}", workspace.display());
    let all = own.iter().cloned().chain(others.iter().map(|p| code(p, false))).collect::<Vec<_>>().join("\n");

    let mut names: Vec<&str> = own.iter().flat_map(|text| text.lines().filter_map(declared)).collect();
    names.sort_unstable();
    names.dedup();
    // One occurrence is the declaration itself.
    let unused: Vec<&str> = names.into_iter().filter(|n| occurrences(&all, n) < 2).collect();
    assert!(
        unused.is_empty(),
        "`pub` items of the core that no code uses (delete them; a unit test is not a user): {unused:?}"
    );
}

#[test]
fn declarations_and_words_are_read_as_meant() {
    assert_eq!(declared("    pub async fn find_by_email("), Some("find_by_email"));
    assert_eq!(declared("pub const fn new() -> Self {"), Some("new"));
    assert_eq!(declared("pub const MAX_BODY: usize = 1;"), Some("MAX_BODY"));
    assert_eq!(declared("pub struct Slot<'a> {"), Some("Slot"));
    assert_eq!(declared("    pub(crate) fn scrub(text: &str)"), None);
    assert_eq!(declared("pub mod api;"), None);
    assert_eq!(declared("    pub wait: Duration,"), None);
    assert_eq!(occurrences("scrub(x); scrubbed; re_scrub; a.scrub()", "scrub"), 2);
}
