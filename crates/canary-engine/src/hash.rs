//! Content hashes (SHA-256, so a reviewer can check any of them with `sha256sum`) and the
//! stat snapshot that lets an unchanged file skip re-hashing.
//!
//! The snapshot keys on size, mtime, inode *and ctime*: a user can restore an mtime
//! (`touch -d`), but not a ctime — the kernel sets it on every content or metadata change. So a
//! content change with a restored mtime is still seen, while a file no one touched is not
//! re-read. A bare `touch` changes the snapshot, forces a re-hash, and the hash then shows the
//! content is the same: nothing re-runs.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The SHA-256 of a file's content. Only regular files are read: a named pipe would block
/// the read forever and a device never ends, so those are errors, found before opening.
pub fn sha256_file(path: &Path) -> Result<String> {
    if let Some(what) = crate::fsio::not_regular(path) {
        return Err(Error::data(path, format!("is {what}, not a regular file"))
            .with_hint("canary reads only regular files: replace it with the file itself"));
    }
    let mut f = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
    copy_hashed(&mut f, &mut std::io::sink()).map_err(|e| Error::io("read", path, e))
}

/// Copy everything `from` gives to `to`, returning the SHA-256 of what passed: one read of a
/// file both copies and checks it.
pub fn copy_hashed(from: &mut impl Read, to: &mut impl Write) -> std::io::Result<String> {
    let mut hashing = HashingWriter::new(to);
    std::io::copy(from, &mut hashing)?;
    Ok(hashing.finish().1)
}

/// A writer that hashes what passes through it, so a file's SHA-256 is known as it is written
/// instead of by reading it back.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The writer back, with the SHA-256 and the number of the bytes written through it.
    pub fn finish(self) -> (W, String, u64) {
        (self.inner, hex::encode(self.hasher.finalize()), self.bytes)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stat {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    ino: u64,
    dev: u64,
}

impl Stat {
    fn of(path: &Path) -> std::io::Result<Stat> {
        let m = std::fs::metadata(path)?;
        Ok(Stat {
            size: m.len(),
            mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
            ctime_ns: m.ctime() as i128 * 1_000_000_000 + m.ctime_nsec() as i128,
            ino: m.ino(),
            dev: m.dev(),
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    stat: Stat,
    sha256: String,
}

/// Bump when the file's layout or meaning changes: an older file is then ignored whole.
const FORMAT: u32 = 2;

/// `.canary/hashes.json` as written: the entries with the format and a checksum of them, so
/// a damaged or hand-edited file is noticed and ignored (every file is hashed again), never
/// trusted.
#[derive(Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    /// SHA-256 of the entries' JSON.
    checksum: String,
    entries: BTreeMap<PathBuf, Entry>,
}

fn entries_checksum(entries: &BTreeMap<PathBuf, Entry>) -> String {
    sha256_bytes(&serde_json::to_vec(entries).unwrap_or_default())
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Hashes of files seen before, kept in `.canary/hashes.json`. An entry is used only when the
/// file's stat matches it, its hash is a well-formed SHA-256 and the file's checksum holds.
pub struct HashCache {
    file: PathBuf,
    entries: Mutex<BTreeMap<PathBuf, Entry>>,
    dirty: Mutex<bool>,
}

impl HashCache {
    pub fn load(file: PathBuf) -> Self {
        let entries = std::fs::read(&file)
            .ok()
            .and_then(|b| serde_json::from_slice::<CacheFile>(&b).ok())
            .filter(|c| c.format == FORMAT && c.checksum == entries_checksum(&c.entries))
            .map(|c| {
                c.entries
                    .into_iter()
                    .filter(|(_, e)| is_sha256(&e.sha256))
                    .collect()
            })
            .unwrap_or_default();
        HashCache {
            file,
            entries: Mutex::new(entries),
            dirty: Mutex::new(false),
        }
    }

    /// The file's SHA-256, from the snapshot when its stat is unchanged. None if it is missing.
    pub fn hash(&self, path: &Path) -> Result<Option<String>> {
        let stat = match Stat::of(path) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read", path, e)),
        };
        if let Some(e) = self.lock().get(path) {
            if e.stat == stat {
                return Ok(Some(e.sha256.clone()));
            }
        }
        let sha = sha256_file(path)?;
        self.remember_stat(path, stat, &sha);
        Ok(Some(sha))
    }

    /// The file's SHA-256 read from the file itself, whatever the snapshot says (and the
    /// snapshot updated). Used before a mismatch is reported, so that a wrong snapshot can
    /// never blame an intact file.
    pub fn rehash(&self, path: &Path) -> Result<Option<String>> {
        let stat = match Stat::of(path) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read", path, e)),
        };
        let sha = sha256_file(path)?;
        self.remember_stat(path, stat, &sha);
        Ok(Some(sha))
    }

    /// The file's SHA-256 when it is `expected`; otherwise read again from the file before
    /// the caller reports a difference.
    pub fn hash_expecting(&self, path: &Path, expected: &str) -> Result<Option<String>> {
        match self.hash(path)? {
            Some(h) if h == expected => Ok(Some(h)),
            Some(_) => self.rehash(path),
            None => Ok(None),
        }
    }

    /// Record a hash computed elsewhere (e.g. while writing the file).
    pub fn remember(&self, path: &Path, sha256: &str) {
        if let Ok(stat) = Stat::of(path) {
            self.remember_stat(path, stat, sha256);
        }
    }

    fn remember_stat(&self, path: &Path, stat: Stat, sha: &str) {
        self.lock().insert(
            path.to_path_buf(),
            Entry {
                stat,
                sha256: sha.to_string(),
            },
        );
        *self.dirty.lock().unwrap_or_else(|p| p.into_inner()) = true;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<PathBuf, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn save(&self) -> Result<()> {
        if !*self.dirty.lock().unwrap_or_else(|p| p.into_inner()) {
            return Ok(());
        }
        let mut entries = self.lock().clone();
        entries.retain(|p, _| p.exists());
        let file = CacheFile {
            format: FORMAT,
            checksum: entries_checksum(&entries),
            entries,
        };
        let bytes = serde_json::to_vec(&file).unwrap_or_default();
        crate::fsio::write_atomic(&self.file, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[test]
    fn content_change_with_restored_mtime_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.csv");
        std::fs::write(&f, "x\n1\n").unwrap();
        let t = SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&f)
            .unwrap()
            .set_modified(t)
            .unwrap();
        let cache = HashCache::load(dir.path().join("h.json"));
        let before = cache.hash(&f).unwrap().unwrap();
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&f, "x\n2\n").unwrap(); // same size
        std::fs::File::options()
            .write(true)
            .open(&f)
            .unwrap()
            .set_modified(t)
            .unwrap();
        let after = cache.hash(&f).unwrap().unwrap();
        assert_ne!(before, after);
        assert_eq!(after, sha256_bytes(b"x\n2\n"));
    }
}
