//! The architecture as a test: the workspace's crates depend on each other one way only, the
//! leaf crates (numerics, parsers, harmonisation, YAML) link no DataFusion, and the modules of
//! the `canary` crate form no import cycle. The README's "Layout" section draws the same map.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common;

/// The workspace edges that may exist, `crate → what it may use`. Anything else (a cycle, a
/// parser reaching into the engine) fails the test.
const ALLOWED_CRATE_EDGES: &[(&str, &[&str])] = &[
    ("canary-stats", &[]),
    ("canary-yaml", &[]),
    ("canary-clean", &["canary-yaml"]),
    ("canary-harmonise", &["canary-clean", "canary-yaml"]),
    (
        "canary-engine",
        &["canary-yaml", "canary-stats", "canary-clean"],
    ),
    (
        "canary-kinds",
        &[
            "canary-engine",
            "canary-stats",
            "canary-yaml",
            "canary-clean",
            "canary-harmonise",
        ],
    ),
    (
        "canary",
        &[
            "canary-kinds",
            "canary-engine",
            "canary-stats",
            "canary-yaml",
            "canary-clean",
            "canary-harmonise",
        ],
    ),
];

/// What the leaf crates must never link, directly or through another crate: the query
/// engine and its runtime (so the R-parity and parser tests build in a minute, not twenty).
const HEAVY: &[&str] = &["datafusion", "arrow", "parquet", "tokio"];

/// The modules of `canary-engine`, `canary-kinds` and `canary` (a unit is a top-level module of any; each
/// stage kind is its own unit)
/// that a lower layer must not use, whatever a cycle check says: the pipeline's model knows
/// no kind and no engine; the kind contract knows neither the engine nor the kinds; the
/// engine runs kinds only through the contract.
const FORBIDDEN_MODULE_EDGES: &[(&str, &[&str])] = &[
    ("pipeline", &["stage", "engine", "kinds", "report", "cli"]),
    ("stage", &["engine", "kinds", "report", "cli"]),
    ("engine", &["kinds", "report", "cli", "verify"]),
    ("report", &["engine", "cli", "verify"]),
    ("session", &["stage", "pipeline", "engine", "kinds"]),
    ("table", &["stage", "pipeline", "engine", "kinds"]),
    ("lockfile", &["stage", "pipeline", "engine", "kinds"]),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The package names `cargo tree` prints for `args`, following normal dependencies only.
fn tree(args: &[&str]) -> Vec<String> {
    let mut all = vec!["-e", "normal", "-f", "{p}"];
    all.extend(args);
    common::cargo_tree(&all)
        .iter()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// `(package → the workspace packages it uses directly, package → every package its normal
/// dependencies pull in)` for each workspace member.
type Graph = (
    BTreeMap<String, BTreeSet<String>>,
    BTreeMap<String, BTreeSet<String>>,
);

fn crate_graph() -> Graph {
    let members: BTreeSet<String> = tree(&["--workspace", "--depth", "0"]).into_iter().collect();
    let mut direct = BTreeMap::new();
    let mut closure = BTreeMap::new();
    for m in &members {
        let deps: BTreeSet<String> = tree(&["-p", m, "--depth", "1"])
            .into_iter()
            .skip(1)
            .filter(|d| members.contains(d))
            .collect();
        let all: BTreeSet<String> = tree(&["-p", m]).into_iter().skip(1).collect();
        direct.insert(m.clone(), deps);
        closure.insert(m.clone(), all);
    }
    (direct, closure)
}

#[test]
fn crates_depend_one_way_and_leaves_link_no_datafusion() {
    let (direct, closure) = crate_graph();
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED_CRATE_EDGES.iter().copied().collect();
    for (krate, deps) in &direct {
        let Some(ok) = allowed.get(krate.as_str()) else {
            panic!("crate `{krate}` is not in tests/layout.rs's map: add it and its allowed edges (and to the README's Layout)");
        };
        for d in deps {
            assert!(
                ok.contains(&d.as_str()),
                "`{krate}` depends on `{d}`, which the layout does not allow (tests/layout.rs, README \"Layout\")"
            );
        }
    }
    for leaf in [
        "canary-stats",
        "canary-yaml",
        "canary-clean",
        "canary-harmonise",
    ] {
        let pulled = &closure[leaf];
        for heavy in HEAVY {
            let hits: Vec<&String> = pulled
                .iter()
                .filter(|p| *p == heavy || p.starts_with(&format!("{heavy}-")))
                .collect();
            assert!(
                hits.is_empty(),
                "`{leaf}` links {hits:?}: the leaf crates must build without the query engine"
            );
        }
    }
}

/// Every `.rs` file under `dir` that is not test code (a `#[cfg(test)] mod x;` file).
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    let test_only = test_modules(dir);
    for p in entries {
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        if test_only.contains(&stem) {
            continue;
        }
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The names of the modules declared `#[cfg(test)] mod name;` by the files of `dir` or by the
/// module file beside it (`dir.rs`).
fn test_modules(dir: &Path) -> BTreeSet<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.push(dir.with_extension("rs"));
    let mut out = BTreeSet::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        for w in lines.windows(2) {
            if w[0].trim() == "#[cfg(test)]" {
                if let Some(name) = w[1]
                    .trim()
                    .strip_prefix("mod ")
                    .and_then(|r| r.strip_suffix(';'))
                {
                    out.insert(name.to_string());
                }
            }
        }
    }
    out
}

/// The text without comments and without inline `#[cfg(test)] mod … { … }` blocks: what the
/// crate's non-test code says.
fn code(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]" {
            if let Some(next) = lines.peek() {
                if next.trim_start().starts_with("mod ") && next.trim_end().ends_with('{') {
                    let mut depth = 0i32;
                    for l in lines.by_ref() {
                        depth += l.matches('{').count() as i32 - l.matches('}').count() as i32;
                        if depth <= 0 {
                            break;
                        }
                    }
                    continue;
                }
            }
        }
        let line = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The unit a path inside `src/` belongs to: its top-level module, except that each stage kind
/// (`kinds/<kind>.rs`) is a unit of its own, so the report may read a sibling kind's params.
fn unit_of_file(rel: &Path) -> String {
    let parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    match parts.as_slice() {
        [kinds, kind, ..] if kinds == "kinds" && kind != "mod" => format!("kinds::{kind}"),
        [top, ..] => top.clone(),
        [] => String::new(),
    }
}

fn unit_of_path(path: &[&str]) -> String {
    match path {
        ["kinds", kind, ..] if kind.chars().next().is_some_and(char::is_lowercase) => {
            format!("kinds::{kind}")
        }
        [top, ..] => top.to_string(),
        [] => String::new(),
    }
}

/// Every `crate::a::b…` path the code names, including inside `use crate::{a, b::c}`.
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `$crate::`, `canary_clean::` …
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                out.push(path_words(item.trim()));
            }
        } else {
            out.push(path_words(rest));
        }
    }
    out
}

fn path_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = s;
    loop {
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        words.push(rest[..end].to_string());
        match rest[end..].strip_prefix("::") {
            Some(r) => rest = r,
            None => break,
        }
    }
    words
}

/// `unit → (unit it uses → the files that use it)`.
fn module_graph() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    // The binary names the engine's modules by re-export, under the same names.
    let mut files = Vec::new();
    for src in [
        root().join("crates/canary-engine/src"),
        root().join("crates/canary-kinds/src"),
        root().join("src"),
    ] {
        let mut found = Vec::new();
        sources(&src, &mut found);
        files.extend(found.into_iter().map(|f| (src.clone(), f)));
    }
    let tops: BTreeSet<String> = files
        .iter()
        .map(|(src, f)| unit_of_file(f.strip_prefix(src).unwrap()))
        .collect();
    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (src, f) in &files {
        let rel = f.strip_prefix(src).unwrap();
        let from = unit_of_file(rel);
        if from == "lib" || from == "main" {
            continue;
        }
        let text = code(&std::fs::read_to_string(f).unwrap());
        for path in crate_paths(&text) {
            let words: Vec<&str> = path.iter().map(String::as_str).collect();
            let to = unit_of_path(&words);
            if to != from && tops.contains(&to) {
                graph
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_default()
                    .insert(rel.display().to_string());
            }
        }
    }
    graph
}

/// A cycle through the graph, as the units along it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>) -> Option<Vec<String>> {
    fn visit(
        at: &str,
        graph: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == at) {
            let mut cycle = path[i..].to_vec();
            cycle.push(at.to_string());
            return Some(cycle);
        }
        if done.contains(at) {
            return None;
        }
        path.push(at.to_string());
        for next in graph.get(at).into_iter().flat_map(|m| m.keys()) {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(at.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for start in graph.keys() {
        if let Some(c) = visit(start, graph, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn modules_form_no_import_cycle() {
    let graph = module_graph();
    assert!(
        graph.contains_key("engine") && graph.contains_key("stage"),
        "the scan found the modules: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        let mut why = String::new();
        for w in cycle.windows(2) {
            let files = &graph[&w[0]][&w[1]];
            why.push_str(&format!(
                "\n  {} → {} (in {})",
                w[0],
                w[1],
                files.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        panic!(
            "the modules of src/ import each other in a cycle: {}{why}",
            cycle.join(" → ")
        );
    }
    for (from, banned) in FORBIDDEN_MODULE_EDGES {
        for to in *banned {
            if let Some(files) = graph.get(*from).and_then(|m| m.get(*to)) {
                panic!(
                    "`{from}` uses `{to}` (in {files:?}), against the layering in tests/layout.rs"
                );
            }
        }
    }
}

#[test]
fn the_scan_sees_a_cycle_when_there_is_one() {
    // The checker itself: a graph with a cycle is reported, one without is not.
    let mut g: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    let edge = |g: &mut BTreeMap<String, BTreeMap<String, BTreeSet<String>>>, a: &str, b: &str| {
        g.entry(a.into())
            .or_default()
            .entry(b.into())
            .or_default()
            .insert("x.rs".into());
    };
    edge(&mut g, "cli", "engine");
    edge(&mut g, "engine", "stage");
    assert_eq!(find_cycle(&g), None);
    edge(&mut g, "stage", "engine");
    assert_eq!(
        find_cycle(&g),
        Some(vec!["engine".into(), "stage".into(), "engine".into()])
    );
    let paths = crate_paths(
        "use crate::{error::Error, kinds::trend::CorrelateParams};\nlet x = crate::table::read(p);",
    );
    assert_eq!(
        paths,
        vec![
            vec!["error".to_string(), "Error".into()],
            vec!["kinds".into(), "trend".into(), "CorrelateParams".into()],
            vec!["table".into(), "read".into()]
        ]
    );
    assert_eq!(
        unit_of_path(&["kinds", "trend", "CorrelateParams"]),
        "kinds::trend"
    );
    assert_eq!(unit_of_path(&["kinds", "Registry"]), "kinds");
}
