//! Files a stage writes beside its tables — a report's pages and figures, the scorecards, a
//! script's plot — handled like its tables: written first into a staging folder, moved into
//! place only when the stage succeeded, hashed, kept in the cache and recorded in the lock, so
//! a deleted or edited page is seen, a cache restore brings back the pages that match the
//! tables, and `verify` compares them.
//!
//! A kind names what it owns with `StageKind::side_outputs`: files, and folders (ending in
//! `/`) whose every file is the stage's. Files it leaves out of a run are removed from an owned
//! folder when the new ones move in, so the folder holds exactly what the record lists.

use std::path::Path;

use crate::error::{Error, Result};
use crate::fsio::walk;

/// What a stage owns outside `out/`, relative to the project root.
#[derive(Debug, Clone, PartialEq)]
pub struct Owned {
    pub files: Vec<String>,
    pub dirs: Vec<String>,
}

impl Owned {
    pub fn new(declared: &[String]) -> Owned {
        let (dirs, files): (Vec<&String>, Vec<&String>) =
            declared.iter().partition(|p| p.ends_with('/'));
        Owned {
            files: files.into_iter().cloned().collect(),
            dirs: dirs
                .into_iter()
                .map(|d| d.trim_end_matches('/').to_string())
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.dirs.is_empty()
    }

    /// Whether a project-relative path is the stage's.
    pub fn contains(&self, rel: &str) -> bool {
        self.files.iter().any(|f| f == rel)
            || self.dirs.iter().any(|d| {
                rel.strip_prefix(d.as_str())
                    .is_some_and(|r| r.starts_with('/'))
            })
    }

    /// Every file the project holds now under what the stage owns, relative, sorted.
    pub fn present(&self, root: &Path) -> Vec<String> {
        let mut out: Vec<String> = self
            .files
            .iter()
            .filter(|f| root.join(f).is_file())
            .cloned()
            .collect();
        for d in &self.dirs {
            for f in walk(&root.join(d)) {
                if let Ok(rel) = f.strip_prefix(root) {
                    out.push(rel.to_string_lossy().into_owned());
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// The files a stage wrote into its staging folder, relative to it (= their project paths),
/// each checked to be one the stage owns.
pub fn staged(stage: &str, staging: &Path, owned: &Owned) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for f in walk(staging) {
        let rel = f
            .strip_prefix(staging)
            .map(|r| r.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !owned.contains(&rel) {
            return Err(Error::stage(stage, format!("wrote `{rel}`, which is not among the files it declares as its own"))
                .with_hint("this is a bug in the stage's kind: its `side_outputs` must name every file it writes; nothing was moved into place"));
        }
        out.push(rel);
    }
    Ok(out)
}

/// Move the staged files into place (each by rename, after its folder exists) and remove the
/// files of owned folders that this run did not write.
pub fn commit(root: &Path, staging: &Path, files: &[String], owned: &Owned) -> Result<()> {
    for rel in owned.present(root) {
        if !files.contains(&rel) {
            let p = root.join(&rel);
            std::fs::remove_file(&p).map_err(|e| Error::io("remove the stale file", &p, e))?;
        }
    }
    for rel in files {
        let (from, to) = (staging.join(rel), root.join(rel));
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("create the folder", dir, e))?;
        }
        std::fs::rename(&from, &to).map_err(|e| Error::io("move the finished file to", &to, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_files_and_folders() {
        let o = Owned::new(&["reports/report.html".into(), "reports/figures/".into()]);
        assert!(o.contains("reports/report.html"));
        assert!(o.contains("reports/figures/a.svg"));
        assert!(!o.contains("reports/figures.svg"));
        assert!(!o.contains("reports/templates/report.html.tera"));
    }

    #[test]
    fn commit_moves_staged_files_and_removes_stale_ones() {
        let root = tempfile::tempdir().unwrap();
        let staging = tempfile::tempdir().unwrap();
        let o = Owned::new(&["r/index.html".into(), "r/pages/".into()]);
        std::fs::create_dir_all(root.path().join("r/pages")).unwrap();
        std::fs::write(root.path().join("r/pages/old.html"), "old").unwrap();
        std::fs::write(root.path().join("r/keep.txt"), "not the stage's").unwrap();
        std::fs::create_dir_all(staging.path().join("r/pages")).unwrap();
        std::fs::write(staging.path().join("r/pages/new.html"), "new").unwrap();
        std::fs::write(staging.path().join("r/index.html"), "index").unwrap();
        let files = staged("s", staging.path(), &o).unwrap();
        assert_eq!(files, ["r/index.html", "r/pages/new.html"]);
        commit(root.path(), staging.path(), &files, &o).unwrap();
        assert_eq!(o.present(root.path()), ["r/index.html", "r/pages/new.html"]);
        assert!(root.path().join("r/keep.txt").is_file());
        // A file the stage does not own is refused before anything moves.
        std::fs::write(staging.path().join("elsewhere.txt"), "x").unwrap();
        assert!(staged("s", staging.path(), &o)
            .unwrap_err()
            .to_string()
            .contains("`elsewhere.txt`"));
    }
}
