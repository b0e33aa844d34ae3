//! Paths the user writes in pipeline.yaml (a source's `path`, a `sql_file`, the files a kind
//! reads) stay inside the project: not absolute, not climbing out with `..`, not resolving
//! through a symlink to somewhere else. And what canary reads is a regular file: a named pipe
//! would block a read forever, a device has no end.

use std::path::{Component, Path, PathBuf};

/// `rel` joined to the (canonical) project root, or why it leaves the project.
pub fn inside(root: &Path, rel: &str) -> Result<PathBuf, String> {
    let path = Path::new(rel);
    if path.is_absolute() {
        return Err("is an absolute path".into());
    }
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err("climbs out of the project with `..`".into());
                }
            }
            Component::Normal(p) => parts.push(p),
            Component::RootDir | Component::Prefix(_) => return Err("is an absolute path".into()),
        }
    }
    let mut full = root.to_path_buf();
    // Each existing prefix is resolved: a symlink anywhere on the way must land inside.
    for p in &parts {
        full.push(p);
        let Ok(meta) = std::fs::symlink_metadata(&full) else {
            break;
        };
        if !meta.file_type().is_symlink() {
            continue;
        }
        match std::fs::canonicalize(&full) {
            Ok(target) if target.starts_with(root) => {}
            Ok(target) => {
                return Err(format!(
                    "resolves through the symlink `{}` to `{}`, outside the project",
                    full.strip_prefix(root).unwrap_or(&full).display(),
                    target.display()
                ))
            }
            Err(_) => {
                // A dangling link: where it points, read lexically.
                let target = std::fs::read_link(&full).unwrap_or_default();
                let target = full.parent().unwrap_or(root).join(target);
                if !normalise(&target).starts_with(root) {
                    return Err(format!(
                        "is the symlink `{}` to `{}`, outside the project",
                        full.strip_prefix(root).unwrap_or(&full).display(),
                        target.display()
                    ));
                }
            }
        }
    }
    Ok(root.join(parts.iter().collect::<PathBuf>()))
}

fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_leave_the_project() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(root.join("raw")).unwrap();
        assert_eq!(inside(&root, "raw/a.csv").unwrap(), root.join("raw/a.csv"));
        assert_eq!(
            inside(&root, "./raw/../raw/a.csv").unwrap(),
            root.join("raw/a.csv")
        );
        assert!(inside(&root, "/etc/passwd")
            .unwrap_err()
            .contains("absolute"));
        assert!(inside(&root, "raw/../../x.csv")
            .unwrap_err()
            .contains("`..`"));
        std::os::unix::fs::symlink("/etc", root.join("raw/etc")).unwrap();
        assert!(inside(&root, "raw/etc/passwd")
            .unwrap_err()
            .contains("symlink `raw/etc`"));
        std::os::unix::fs::symlink("../../nowhere", root.join("raw/dangling")).unwrap();
        assert!(inside(&root, "raw/dangling")
            .unwrap_err()
            .contains("outside"));
        std::os::unix::fs::symlink("a.csv", root.join("raw/inner")).unwrap();
        assert!(inside(&root, "raw/inner").is_ok());
        assert_eq!(
            crate::fsio::not_regular(&root.join("raw")),
            Some("a directory")
        );
        assert_eq!(crate::fsio::not_regular(&root.join("raw/none")), None);
    }
}
