//! A small builder for end-to-end tests: a copy of a fixture project in a temp dir, and the
//! real `canary` binary run inside it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Project {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "exit {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn fails(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

impl Project {
    pub fn from_fixture(name: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&fixture(name), dir.path());
        Project { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_canary"));
        c.args(args)
            .current_dir(self.dir.path())
            .env_remove("CANARY_MIRROR");
        c
    }

    pub fn canary(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().unwrap())
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    pub fn bytes(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(p, text).unwrap();
    }

    /// Replace text in a file, failing loudly if the text is not there.
    pub fn edit(&self, rel: &str, from: &str, to: &str) {
        let s = self.read(rel);
        assert!(s.contains(from), "`{from}` not in {rel}:\n{s}");
        self.write(rel, &s.replacen(from, to, 1));
    }

    /// Every file under a folder with its bytes, sorted by path (for byte-identical checks).
    pub fn tree(&self, rel: &str) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        walk(&self.path(rel), &self.path(rel), &mut out);
        out.sort();
        out
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            out.push((
                p.strip_prefix(root).unwrap().display().to_string(),
                std::fs::read(&p).unwrap(),
            ));
        }
    }
}

/// The project's own copy of the published files the study reads: `raw/` of the checkout.
pub fn raw_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("raw")
}

/// A file of `raw/` by its path under `raw/`, with its path as a label for messages.
pub fn raw(rel: &str) -> (String, Vec<u8>) {
    let p = raw_dir().join(rel);
    let b = std::fs::read(&p)
        .unwrap_or_else(|e| panic!("{}: {e} (raw/ is part of the checkout)", p.display()));
    (p.display().to_string(), b)
}

/// An excerpt of a published file the study does not read, by the original's path in the
/// mirror (`tests/fixtures/published/`, made by `make_excerpts.py` there).
pub fn excerpt(rel: &str) -> (String, Vec<u8>) {
    let p = fixture("published").join(rel);
    let b = std::fs::read(&p).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; regenerate with `python3 tests/fixtures/published/make_excerpts.py`",
            p.display()
        )
    });
    (p.display().to_string(), b)
}

/// The lines `cargo tree --offline --locked --prefix none` prints for `args`, run at the
/// workspace root: the dependency graph as `Cargo.lock` fixes it, without the network.
pub fn cargo_tree(args: &[&str]) -> Vec<String> {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--offline", "--locked", "--prefix", "none"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_end_matches(" (*)").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}
