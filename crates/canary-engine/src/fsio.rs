//! Files on disk: written so that a reader never sees half of one (temp file, fsync,
//! rename), listed in a fixed order, and told apart from what is not a regular file. Below
//! everything else in the crate: it knows nothing of stages, tables or pipelines.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Temporary files are created owner-only; outputs are ordinary files others may read.
pub fn set_readable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644));
}

/// Move a temporary file into place and make the rename durable.
pub fn commit(temp: &Path, dest: &Path) -> Result<()> {
    std::fs::rename(temp, dest).map_err(|e| Error::io("move the finished output to", dest, e))?;
    if let Some(dir) = dest.parent() {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Write bytes atomically (temp file, fsync, rename): for the lock and cache entries.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<()> {
    write_via_temp(dest, bytes, true)
}

/// Write bytes atomically (temp file, rename) without waiting for the disk: for what the
/// engine checks by hash before it trusts it (cache objects and entries), where a file lost to
/// a power cut is found out and rebuilt, and an fsync per file would be most of a no-op stage's
/// cost.
pub fn write_replace(dest: &Path, bytes: &[u8]) -> Result<()> {
    write_via_temp(dest, bytes, false)
}

/// A temporary file beside `dest`, written (and flushed to disk when `durable`), then
/// renamed over it, so a reader sees the old file or the new one, never half of one.
fn write_via_temp(dest: &Path, bytes: &[u8], durable: bool) -> Result<()> {
    fill_via_temp(dest, durable, |file, path| {
        file.write_all(bytes)
            .map_err(|e| Error::io("write", path, e))
    })
}

/// A temporary file beside `dest`, filled by `fill` (given the file and its path, for its
/// errors) — so a large file is streamed, never held whole in memory — flushed to disk when
/// `durable`, then renamed over `dest`. When `fill` fails the temporary file is removed and
/// `dest` is untouched.
pub fn fill_via_temp(
    dest: &Path,
    durable: bool,
    fill: impl FnOnce(&mut File, &Path) -> Result<()>,
) -> Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create the folder", dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| {
            Error::io("create a temporary file in", dir, e)
                .with_hint("check that the folder is writable")
        })?;
    let path = tmp.path().to_path_buf();
    fill(tmp.as_file_mut(), &path)?;
    if durable {
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::io("flush", &path, e))?;
    }
    set_readable(&path);
    tmp.persist(dest)
        .map_err(|e| Error::io("replace", dest, e.error))?;
    Ok(())
}

/// Every regular file under a folder, sorted; nothing when it does not exist. Links are not
/// followed (nor listed): a link never leads a reader outside the folder.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    walk_where(dir, std::fs::FileType::is_file)
}

/// Every entry under a folder that is not a folder itself — regular files, links (not
/// followed), fifos — sorted: what a clean-up removes.
pub fn walk_entries(dir: &Path) -> Vec<PathBuf> {
    walk_where(dir, |_| true)
}

fn walk_where(dir: &Path, keep: fn(&std::fs::FileType) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let p = e.path();
        // `DirEntry::file_type` does not follow links: a link to a folder is an entry here.
        match e.file_type() {
            Ok(t) if t.is_dir() => out.extend(walk_where(&p, keep)),
            Ok(t) if keep(&t) => out.push(p),
            _ => {}
        }
    }
    out.sort();
    out
}

/// What the file at `path` is when it exists but is not a regular file (symlinks followed):
/// "a directory", "a named pipe (FIFO)", …; None for a regular file or a missing one.
pub fn not_regular(path: &Path) -> Option<&'static str> {
    let meta = std::fs::metadata(path).ok()?;
    let t = meta.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a named pipe (FIFO)")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_char_device() || t.is_block_device() {
        Some("a device")
    } else {
        Some("not a regular file")
    }
}
