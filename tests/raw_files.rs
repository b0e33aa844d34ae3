//! `raw/`, the published files the study reads: its README's files table and pipeline.yaml
//! name the same sources with the same paths and checksums, and the files on disk are those.

use crate::common::raw_dir;

use std::collections::BTreeMap;
use std::path::Path;

/// (path, sha256) by source name, from pipeline.yaml.
fn pipeline_sources() -> BTreeMap<String, (String, String)> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("pipeline.yaml"))
        .unwrap();
    let doc: canary_yaml::Value = canary_yaml::from_str(&text).unwrap();
    doc["sources"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let s = |f: &str| {
                v[f].as_str()
                    .unwrap_or_else(|| panic!("source {k:?} has no {f}"))
                    .to_string()
            };
            (k.as_str().unwrap().to_string(), (s("path"), s("sha256")))
        })
        .collect()
}

/// (path, sha256, bytes) by source name, from the `## Files` table of raw/README.md.
fn readme_table() -> BTreeMap<String, (String, String, u64)> {
    let text = std::fs::read_to_string(raw_dir().join("README.md")).unwrap();
    let section = text
        .split("\n## Files\n")
        .nth(1)
        .expect("raw/README.md has a `## Files` section");
    let mut lines = section.lines().skip_while(|l| !l.starts_with('|'));
    let header: Vec<String> = cells(lines.next().expect("a table"));
    assert_eq!(
        header,
        [
            "source",
            "path",
            "sha256",
            "bytes",
            "publisher",
            "licence",
            "url"
        ]
    );
    assert!(lines.next().unwrap().starts_with("| ---"));
    let mut out = BTreeMap::new();
    for l in lines.take_while(|l| l.starts_with('|')) {
        let c = cells(l);
        let bytes: u64 = c[3]
            .parse()
            .unwrap_or_else(|_| panic!("bytes `{}` in {l}", c[3]));
        let prev = out.insert(c[0].clone(), (c[1].clone(), c[2].clone(), bytes));
        assert!(prev.is_none(), "{} listed twice", c[0]);
    }
    out
}

fn cells(line: &str) -> Vec<String> {
    line.trim()
        .trim_matches('|')
        .split('|')
        .map(|c| c.trim().trim_matches('`').to_string())
        .collect()
}

fn files_under(dir: &Path, root: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_under(&p, root, out);
        } else {
            out.push(p.strip_prefix(root).unwrap().display().to_string());
        }
    }
}

#[test]
fn readme_lists_exactly_the_sources_of_pipeline_yaml() {
    let yaml = pipeline_sources();
    let table = readme_table();
    assert_eq!(yaml.len(), 33);
    let names = |m: Vec<&String>| m.into_iter().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(table.keys().collect()),
        names(yaml.keys().collect()),
        "sources in raw/README.md vs pipeline.yaml"
    );
    for (name, (path, sha)) in &yaml {
        let (tpath, tsha, _) = &table[name];
        assert_eq!(
            (tpath, tsha),
            (path, sha),
            "{name}: raw/README.md vs pipeline.yaml"
        );
        assert!(path.starts_with("raw/"), "{name}: {path} is not under raw/");
    }
}

#[test]
fn every_file_under_raw_is_listed_and_matches_its_checksum() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let table = readme_table();
    let mut on_disk = Vec::new();
    files_under(&raw_dir(), root, &mut on_disk);
    on_disk.sort();
    let mut listed: Vec<String> = table.values().map(|(p, _, _)| p.clone()).collect();
    listed.push("raw/README.md".into());
    listed.sort();
    assert_eq!(on_disk, listed, "files under raw/ vs raw/README.md's table");
    for (name, (path, sha, bytes)) in &table {
        let p = root.join(path);
        let len = std::fs::metadata(&p).unwrap().len();
        assert_eq!(
            len, *bytes,
            "{name}: {path} has {len} bytes, raw/README.md says {bytes}"
        );
        let actual = canary::hash::sha256_file(&p).unwrap();
        assert_eq!(
            &actual, sha,
            "{name}: {path} differs from its sha256 in raw/README.md"
        );
    }
}
