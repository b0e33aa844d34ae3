//! Where the tests' files are: the project's `raw/` and `stages/` two folders up, this
//! crate's own fixtures beside the tests.
use std::path::{Path, PathBuf};

/// The checkout's root, which holds `raw/` and `stages/`.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A small file of this crate's `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The project's own copy of the published files the study reads: `raw/` of the checkout.
pub fn raw_dir() -> PathBuf {
    project_root().join("raw")
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
