//! A test that keeps the core's modules free of import circles.
//!
//! Two modules that import each other (`policy` ↔ `ops::status`, `context` ↔ `http`, `error` →
//! `trace` → `fsutil` → `error`, all once there) cannot be read, changed or tested one at a time:
//! each is half of the other. This reads the core's source files, takes every path a module
//! names (`use crate::...`, `crate::a::b` in code, `super::...`), resolves it to the file
//! module it lands in, and fails with the circle when one module reaches itself. A parent's
//! `mod child;` is containment, not an import, and is not counted; nor are the `tests` modules
//! (a test may reach anywhere).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module by its path under the crate root (`["ops", "status"]`; the root is `[]`).
type Module = Vec<String>;

/// One source file: its module (a `mod.rs` is its folder's module) and its text.
struct Source {
    module: Module,
    text: String,
}

/// Every `.rs` file under `dir`, as modules of the crate whose root is `root`.
fn sources(root: &Path, dir: &Path, out: &mut Vec<Source>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("readable source folder").flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::path);
    for e in entries {
        let path = e.path();
        if path.is_dir() {
            sources(root, &path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            let rel = path.strip_prefix(root).expect("under the root").with_extension("");
            let mut module: Module = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if module.last().is_some_and(|l| l == "mod" || l == "lib") {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).expect("readable source file");
            out.push(Source { module, text });
        }
    }
}

/// The code of a file that counts: without its `tests` module and without comment lines (doc
/// links name modules without importing them).
fn code(text: &str) -> String {
    let text = text.find("#[cfg(test)]\nmod tests").map_or(text, |i| &text[..i]);
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// The paths of a use tree that starts at `rest` (after `crate::` or `super::`): `a::b`,
/// `{a, b::{c, d}}`, `a::{self, b}`; each as its segments.
fn use_paths(rest: &str) -> Vec<Vec<String>> {
    fn tree(s: &mut std::iter::Peekable<std::str::Chars<'_>>, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let mut path = prefix.to_vec();
        loop {
            while s.peek().is_some_and(|c| c.is_whitespace()) {
                s.next();
            }
            if s.peek() == Some(&'{') {
                s.next();
                loop {
                    tree(s, &path, out);
                    while s.peek().is_some_and(|c| c.is_whitespace()) {
                        s.next();
                    }
                    match s.next() {
                        Some(',') if s.clone().find(|c| !c.is_whitespace()) == Some('}') => {
                            while s.next().is_some_and(|c| c != '}') {}
                            return;
                        }
                        Some(',') => {}
                        _ => return,
                    }
                }
            }
            let ident: String = std::iter::from_fn(|| s.next_if(|c| c.is_ascii_alphanumeric() || *c == '_')).collect();
            if ident.is_empty() {
                break;
            }
            if ident != "self" {
                path.push(ident);
            }
            if s.clone().take(2).collect::<String>() == "::" {
                s.next();
                s.next();
            } else {
                break;
            }
        }
        out.push(path);
    }
    let mut out = Vec::new();
    tree(&mut rest.chars().peekable(), &[], &mut out);
    out
}

/// Which modules each module imports, among `sources`.
fn graph(sources: &[Source]) -> BTreeMap<Module, BTreeSet<Module>> {
    let known: BTreeSet<&Module> = sources.iter().map(|s| &s.module).collect();
    // The longest known module that a path starts with (`ops::status::Options` lands in
    // `ops::status`; `types::Region` in `types`).
    let land = |path: &[String]| -> Option<Module> {
        (1..=path.len()).rev().map(|n| path[..n].to_vec()).find(|m| known.contains(m))
    };
    let mut edges = BTreeMap::new();
    for s in sources {
        let code = code(&s.text);
        let mut deps = BTreeSet::new();
        for (i, _) in code.match_indices("crate::") {
            if code[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                continue; // `foo_crate::` is another crate.
            }
            deps.extend(use_paths(&code[i + "crate::".len()..]).iter().filter_map(|p| land(p)));
        }
        let mut at = 0;
        while let Some(i) = code[at..].find("super::").map(|i| i + at) {
            let mut up = 0;
            let mut j = i;
            while code[j..].starts_with("super::") {
                up += 1;
                j += "super::".len();
            }
            at = j;
            if code[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let Some(base) = s.module.len().checked_sub(up).map(|n| s.module[..n].to_vec()) else { continue };
            for p in use_paths(&code[j..]) {
                let full: Vec<String> = base.iter().cloned().chain(p).collect();
                deps.extend(land(&full));
            }
        }
        deps.remove(&s.module);
        edges.insert(s.module.clone(), deps);
    }
    edges
}

/// A circle of imports, as the modules along it (the first again at the end), if there is one.
fn circle(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<String>> {
    fn walk(
        at: &Module,
        edges: &BTreeMap<Module, BTreeSet<Module>>,
        path: &mut Vec<Module>,
        done: &mut BTreeSet<Module>,
    ) -> Option<Vec<Module>> {
        if let Some(i) = path.iter().position(|m| m == at) {
            let mut c = path[i..].to_vec();
            c.push(at.clone());
            return Some(c);
        }
        if done.contains(at) {
            return None;
        }
        path.push(at.clone());
        for next in edges.get(at).into_iter().flatten() {
            if let Some(c) = walk(next, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(at.clone());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|m| walk(m, edges, &mut Vec::new(), &mut done))
        .map(|c| c.iter().map(|m| if m.is_empty() { String::from("crate") } else { m.join("::") }).collect())
}

fn source(module: &str, text: &str) -> Source {
    Source { module: module.split("::").filter(|p| !p.is_empty()).map(String::from).collect(), text: text.to_owned() }
}

#[test]
fn the_core_has_no_import_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    sources(&root, &root, &mut all);
    let edges = graph(&all);
    // The graph is read at all: the model is imported by the commands that share it.
    assert!(edges[&vec![String::from("policy")]].contains(&vec![String::from("model")]), "{edges:?}");
    assert!(
        edges[&vec![String::from("ops"), String::from("prune")]].contains(&vec![String::from("model")]),
        "{edges:?}"
    );
    if let Some(c) = circle(&edges) {
        panic!("modules of the core import each other in a circle: {}", c.join(" -> "));
    }
}

#[test]
fn a_circle_is_found_through_every_kind_of_path() {
    // The circle this test was written against, each edge spelt another way.
    let files = [
        source("error", "use crate::{jwt::JwtError, trace::{self, Tracer}};\n"),
        source("trace", "fn f() { let _ = crate::fsutil::make_private(p); }\n"),
        source("fsutil", "use crate::error::{Error, Result};\n"),
        source("jwt", "pub struct JwtError;\n"),
    ];
    let c = circle(&graph(&files)).expect("a circle");
    assert_eq!(c.len(), 4, "{c:?}");
    assert!(c.contains(&String::from("error")) && c.contains(&String::from("fsutil")), "{c:?}");
    // `super::` from a file and from a `mod.rs`, and a circle through a parent module.
    let files = [
        source("ops", "pub mod status;\nuse crate::policy::owner_is;\n"),
        source("ops::status", "use super::Session;\n"),
        source("policy", "use crate::ops::status::{Code, Owner};\n"),
    ];
    let c = circle(&graph(&files)).expect("a circle");
    assert_eq!(c.first(), c.last(), "{c:?}");
    assert!(c.contains(&String::from("ops::status")) && c.contains(&String::from("policy")), "{c:?}");
    // Without the edge back, no circle; comments, the tests module and other crates don't count.
    let files = [
        source("error", "//! see crate::trace\nuse crate::jwt::JwtError;\n"),
        source("trace", "use crate::fsutil;\nuse my_crate::error;\n"),
        source("fsutil", "use std::fs;\n#[cfg(test)]\nmod tests {\n    use crate::error::Error;\n}\n"),
        source("jwt", ""),
    ];
    assert_eq!(circle(&graph(&files)), None);
}
